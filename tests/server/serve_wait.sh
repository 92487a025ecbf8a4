# serve_wait.sh — sourced by tests/scripts/server*.sh after they start
# `g4 serve ... --port-file "$dir/port" &` (with $pid, $dir, $PY and $tag
# set): installs the cleanup trap, waits for the port file and for /health to
# answer 200, and prints "PASS $tag:health-ready" (or FAIL and exits).
cleanup() {
  if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null; fi
  i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
i=0
while [ ! -s "$dir/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
port=$(cat "$dir/port" 2>/dev/null)
if [ -z "$port" ]; then echo "FAIL $tag:start"; cat "$dir/log"; exit 1; fi
i=0
until [ "$("$PY" -c "import urllib.request,sys
try: print(urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=2).status)
except Exception as e: print(getattr(e, 'code', 0))" 2>/dev/null)" = 200 ] || [ $i -ge 120 ]; do sleep 0.5; i=$((i + 1)); done
if [ $i -ge 120 ]; then echo "FAIL $tag:health-ready (no 200 from /health within 60 s)"; tail -20 "$dir/log"; exit 1; fi
echo "PASS $tag:health-ready"
