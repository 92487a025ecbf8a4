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
  --ctx 2048 --parallel 4 --ping 1 --cors-origin http://allowed.test > "$dir/log" 2>&1 &
pid=$!
tag=server
. tests/server/serve_wait.sh
G4_URL="http://127.0.0.1:$port" G4_KEY="$key" G4_MODEL=g4-test G4_PARALLEL=4 "$PY" tests/server/test_openai.py
rc=$?
kill -TERM "$pid"
i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$pid" 2>/dev/null; then echo "FAIL server:sigterm-exit"; rc=1
else wait "$pid"; st=$?; if [ "$st" -eq 0 ]; then echo "PASS server:sigterm-exit"; else echo "FAIL server:sigterm-exit (status $st)"; cat "$dir/log"; rc=1; fi
fi
exit $rc
