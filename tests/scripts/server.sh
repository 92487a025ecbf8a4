#!/bin/sh
# Black-box test of `g4 serve` with the official openai Python SDK: starts
# $G4_BIN serve on a free loopback port with the default Gemma 3 270M model
# and an API key, waits for /health, runs tests/server/test_openai.py (one
# PASS/FAIL line per check) and always stops the server (SIGTERM, then
# checks it exited cleanly).
G4=${G4_BIN:-build/g4}
MODEL=${G4_GEMMA3_GGUF:-$HOME/.cache/g4/gemma-3-270m-q4_k_m.gguf}
PY=${PYTHON:-python3}
if [ ! -s "$MODEL" ]; then echo "FAIL server:model missing ($MODEL): run scripts/setup.sh"; exit 1; fi
dir=$(mktemp -d)
key="sk-g4-test-$$"
"$G4" serve -m "$MODEL" --host 127.0.0.1 --port 0 --port-file "$dir/port" --api-key "$key" --alias g4-test \
  --ctx 2048 --ping 1 --cors-origin http://allowed.test > "$dir/log" 2>&1 &
pid=$!
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
if [ -z "$port" ]; then echo "FAIL server:start"; cat "$dir/log"; exit 1; fi
i=0
until [ "$("$PY" -c "import urllib.request,sys
try: print(urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=2).status)
except Exception as e: print(getattr(e, 'code', 0))" 2>/dev/null)" = 200 ] || [ $i -ge 120 ]; do sleep 0.5; i=$((i + 1)); done
echo "PASS server:health-ready"
G4_URL="http://127.0.0.1:$port" G4_KEY="$key" G4_MODEL=g4-test "$PY" tests/server/test_openai.py
rc=$?
kill -TERM "$pid"
i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$pid" 2>/dev/null; then echo "FAIL server:sigterm-exit"; rc=1
else wait "$pid"; st=$?; if [ "$st" -eq 0 ]; then echo "PASS server:sigterm-exit"; else echo "FAIL server:sigterm-exit (status $st)"; cat "$dir/log"; rc=1; fi
fi
exit $rc
