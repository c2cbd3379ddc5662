-- bench_ingest's load through wrk: one prepared body per request, read from the file the bench
-- wrote (the same Tilda-like forms its Python client sends), in order, each once. The summary
-- goes out as one JSON line that bench/ingest/wrk.py reads.
-- Arguments after "--": the bodies file, the channel's webhook path.
local bodies, path, n
local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["User-Agent"] = "Tilda.cc"}

function init(args)
  bodies, path, n = {}, args[2], 0
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
end

function request()
  n = n + 1
  -- Past the end a body would repeat (a duplicate, acknowledged but not stored): the bench
  -- writes more bodies than the server can take and checks stored against acknowledged.
  return wrk.format("POST", path, headers, bodies[(n - 1) % #bodies + 1])
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "non2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, "us": %d}\n',
    summary.requests, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, summary.duration))
end
