#!/usr/bin/env bash
# make demo: migrate, seed the demo company once, then run web, push and both workers until Ctrl-C.
# Every command reads DATABASE_URL (default: SQLite under var/). Knobs, all optional:
#   OKNO_HOST / OKNO_PORT        where the web server listens (127.0.0.1:8000)
#   OKNO_WEB_WORKERS             granian worker processes (1: one machine, SQLite)
#   OKNO_WEB_BACKPRESSURE        requests one web process runs at once (32)
#   OKNO_PUSH_PORT               the push process's port (OKNO_PORT + 1): screen pops' streams
#   OKNO_DEMO_CONTACTS           how many demo cards to seed (20000)
#   OKNO_VAR_DIR                 database, static files and logs (var/)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${OKNO_HOST:-127.0.0.1}
PORT=${OKNO_PORT:-8000}
VAR_DIR=$(realpath -m "${OKNO_VAR_DIR:-var}")
LOG_DIR=$VAR_DIR/log
export OKNO_VAR_DIR=$VAR_DIR
PUSH_PORT=${OKNO_PUSH_PORT:-$((PORT + 1))}
export SITE_URL=${SITE_URL:-http://$HOST:$PORT}
# Pages open their live stream (screen pops) on the push process; a proxy in production routes
# /push/ there on the same origin instead (docs/architecture.md, "Live pushes").
export OKNO_PUSH_URL=${OKNO_PUSH_URL:-http://$HOST:$PUSH_PORT/push/stream}
mkdir -p "$LOG_DIR"

if ! [ -x $BIN/python ]; then
  echo "No $BIN: run 'make install' (or 'make demo') first." >&2
  exit 1
fi
for port in "$PORT" "$PUSH_PORT"; do
  if $BIN/python -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(('$HOST',$port))!=0)"; then
    echo "Something already listens on $HOST:$port; stop it or set OKNO_PORT / OKNO_PUSH_PORT." >&2
    exit 1
  fi
done

echo "== migrate (${DATABASE_URL:-SQLite in $VAR_DIR})"
$BIN/python manage.py migrate --noinput -v0
echo "== demo data (seeded once; later runs keep what is there)"
SEED_OUT=$($BIN/python manage.py seed_demo --contacts "${OKNO_DEMO_CONTACTS:-20000}")
echo "$SEED_OUT" | head -n 1
# DEBUG stays off, as in production: granian serves the collected files under /static/.
$BIN/python manage.py collectstatic --noinput -v0

# The children get SIGTERM when this script dies, even by SIGKILL, so none outlives it
# (Linux; elsewhere the trap below is all there is).
ORPHAN_GUARD=()
if command -v setpriv >/dev/null && setpriv --pdeathsig TERM true 2>/dev/null; then
  ORPHAN_GUARD=(setpriv --pdeathsig TERM --)
fi
PIDS=()
RUNNING_FILE=$VAR_DIR/demo.json
stop_all() {
  trap - INT TERM EXIT
  # Only our own announcement: another demo on this var directory would have refused to start.
  if [ -f "$RUNNING_FILE" ] && grep -q "\"pid\": $$}" "$RUNNING_FILE"; then rm -f "$RUNNING_FILE"; fi
  if [ ${#PIDS[@]} -gt 0 ]; then
    echo
    echo "== stopping web and workers"
    # Their children too (granian's worker processes): on a Ctrl-C the whole process group gets
    # SIGINT, and a worker whose main process is killed before it stopped the worker serves on,
    # orphaned (seen on a loaded machine).
    local kids=()
    for pid in "${PIDS[@]}"; do
      kids+=($(pgrep -P "$pid" 2>/dev/null || true))
    done
    kill -TERM "${PIDS[@]}" "${kids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "${PIDS[@]}" "${kids[@]}" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "${PIDS[@]}" "${kids[@]}" 2>/dev/null || true
    for _ in $(seq 10); do  # the killed ones' children are reaped by init: give it a moment
      kill -0 "${PIDS[@]}" "${kids[@]}" 2>/dev/null || break
      sleep 0.2
    done
    wait 2>/dev/null || true
  fi
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

# Backpressure bounds the requests one worker runs at once (granian's default allows 512
# threads per process; on SQLite and two cores more than a few dozen only queue on locks).
"${ORPHAN_GUARD[@]}" $BIN/granian --interface wsgi --host "$HOST" --port "$PORT" --workers "${OKNO_WEB_WORKERS:-1}" \
  --backpressure "${OKNO_WEB_BACKPRESSURE:-32}" --no-ws \
  --static-path-route /static --static-path-mount "$VAR_DIR/static" \
  okno.wsgi:application >>"$LOG_DIR/web.log" 2>&1 &
PIDS+=($!)
# Live pushes (screen pops): every open tab keeps a stream here, a coroutine each, so one
# process holds hundreds; its backpressure is how many streams it takes at once.
"${ORPHAN_GUARD[@]}" $BIN/granian --interface asgi --host "$HOST" --port "$PUSH_PORT" --workers 1 \
  --backlog 4096 --backpressure 4096 --no-ws okno.push.asgi:application >>"$LOG_DIR/push.log" 2>&1 &
PIDS+=($!)
# The drain loops (inbound events, duplicate scan) and django-tasks' follow-ups (imports).
"${ORPHAN_GUARD[@]}" $BIN/python manage.py run_worker >>"$LOG_DIR/worker.log" 2>&1 &
PIDS+=($!)
"${ORPHAN_GUARD[@]}" $BIN/python manage.py db_worker --queue-name '*' >>"$LOG_DIR/tasks.log" 2>&1 &
PIDS+=($!)

URL="http://$HOST:$PORT"
ready=no
for _ in $(seq 150); do
  if $BIN/python -c "import urllib.request; urllib.request.urlopen('$URL/login/', timeout=2)" 2>/dev/null; then
    ready=yes
    break
  fi
  for pid in "${PIDS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "A process died while starting; the end of its logs:" >&2
      tail -n 20 "$LOG_DIR"/*.log >&2
      exit 1
    fi
  done
  sleep 0.2
done
if [ $ready = no ]; then
  echo "$URL/login/ did not answer within 30 s; the end of the web log:" >&2
  tail -n 20 "$LOG_DIR/web.log" >&2
  exit 1
fi

# Where the running site is, for manage.py demo_call (and anything else on this var directory):
# it reads this file, so a demo on any OKNO_PORT is found. Removed when the demo stops.
printf '{"site_url": "%s", "push_url": "%s", "pid": %s}\n' "$URL" "$OKNO_PUSH_URL" "$$" >"$RUNNING_FILE.tmp"
mv "$RUNNING_FILE.tmp" "$RUNNING_FILE"
# demo_call must open the same database and var directory as this demo: say so when they are not
# the defaults (another shell does not have this one's environment).
CALL_ENV=""
if [ "$VAR_DIR" != "$(realpath -m var)" ]; then CALL_ENV+="OKNO_VAR_DIR=$(printf %q "$VAR_DIR") "; fi
if [ -n "${DATABASE_URL:-}" ]; then CALL_ENV+="DATABASE_URL=$(printf %q "$DATABASE_URL") "; fi

cat <<EOF

Okno is ready at $URL (logs: $LOG_DIR/{web,push,worker,tasks}.log; Ctrl-C stops everything)
$(echo "$SEED_OUT" | tail -n +2)
A pretend customer calls you (screen pop): ${CALL_ENV}$BIN/python manage.py demo_call admin
EOF

# Run until Ctrl-C, or until one of them exits (then stop the others and say so).
set +e
wait -n "${PIDS[@]}"
status=$?
echo "A process exited (status $status); see $LOG_DIR. Stopping the rest." >&2
exit 1
