"""Parts of bench_ingest: server/worker processes, the HTTP load, the raw baseline, the scenarios."""
