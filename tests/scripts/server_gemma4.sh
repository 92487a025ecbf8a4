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
tag=gemma4
. tests/server/serve_wait.sh
G4_URL="http://127.0.0.1:$port" G4_KEY="$key" G4_MODEL=g4-gemma4 "$PY" tests/server/test_gemma4.py
rc=$?
kill -TERM "$pid"
i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$pid" 2>/dev/null; then echo "FAIL gemma4:sigterm-exit"; rc=1
else wait "$pid"; st=$?; if [ "$st" -eq 0 ]; then echo "PASS gemma4:sigterm-exit"; else echo "FAIL gemma4:sigterm-exit (status $st)"; tail -20 "$dir/log"; rc=1; fi
fi
[ $rc -ne 0 ] && tail -30 "$dir/log"
exit $rc
