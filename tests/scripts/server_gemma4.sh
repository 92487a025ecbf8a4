#!/bin/sh
# Black-box Gemma 4 server test: starts $G4_BIN serve on a free loopback port
# with the tiny random Gemma 4 fixture (tests/fixtures/server/gemma4:
# Gemma 4 test tokenizer, Gemma 4 chat format), waits for /health, runs
# tests/server/test_gemma4.py with the openai SDK (tool calls, structured
# output, reasoning, errors; one PASS/FAIL line per check) and always stops
# the server, checking that SIGTERM makes it exit cleanly.
G4=${G4_BIN:-build/g4}
MODEL=${G4_GEMMA4_FIXTURE:-tests/fixtures/server/gemma4}
PY=${PYTHON:-python3}
dir=$(mktemp -d)
key="sk-g4-test-$$"
"$G4" serve -m "$MODEL" --host 127.0.0.1 --port 0 --port-file "$dir/port" --api-key "$key" --alias g4-gemma4 \
  --ctx 4096 > "$dir/log" 2>&1 &
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
if [ -z "$port" ]; then echo "FAIL gemma4:start"; cat "$dir/log"; exit 1; fi
i=0
until [ "$("$PY" -c "import urllib.request,sys
try: print(urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=2).status)
except Exception as e: print(getattr(e, 'code', 0))" 2>/dev/null)" = 200 ] || [ $i -ge 120 ]; do sleep 0.5; i=$((i + 1)); done
echo "PASS gemma4:health-ready"
G4_URL="http://127.0.0.1:$port" G4_KEY="$key" G4_MODEL=g4-gemma4 "$PY" tests/server/test_gemma4.py
rc=$?
kill -TERM "$pid"
i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$pid" 2>/dev/null; then echo "FAIL gemma4:sigterm-exit"; rc=1
else wait "$pid"; st=$?; if [ "$st" -eq 0 ]; then echo "PASS gemma4:sigterm-exit"; else echo "FAIL gemma4:sigterm-exit (status $st)"; tail -20 "$dir/log"; rc=1; fi
fi
[ $rc -ne 0 ] && tail -30 "$dir/log"
exit $rc
