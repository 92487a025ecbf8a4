#!/bin/sh
# aider (https://aider.chat) against `g4 serve`: when aider is installed
# ($AIDER, else `aider` on PATH, else /tmp/aidervenv/bin/aider), starts
# $G4_BIN serve with the default Gemma 3 270M model under the alias g4 and
# runs one non-interactive `aider --message` exchange in a temp dir (no git);
# PASS when aider exits 0 with an answer and reports no API error.
# Without aider it prints a note and passes (CI does not install it: see
# docs/server.md for the manual command and its last result).
G4=${G4_BIN:-build/g4}
MODEL=${G4_GEMMA3_GGUF:-$HOME/.cache/g4/gemma-3-270m-q4_k_m.gguf}
AIDER=${AIDER:-$(command -v aider || echo /tmp/aidervenv/bin/aider)}
if [ ! -x "$AIDER" ]; then echo "# aider: not installed (pip install aider-chat), not run"; exit 0; fi
if [ ! -s "$MODEL" ]; then echo "FAIL aider:model missing ($MODEL): run scripts/setup.sh"; exit 1; fi
dir=$(mktemp -d)
"$G4" serve -m "$MODEL" --host 127.0.0.1 --port 0 --port-file "$dir/port" --alias g4 --ctx 8192 > "$dir/log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null
  i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
i=0
while [ ! -s "$dir/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
port=$(cat "$dir/port" 2>/dev/null)
if [ -z "$port" ]; then echo "FAIL aider:server-start"; cat "$dir/log"; exit 1; fi
mkdir "$dir/work"
printf 'def add(a, b):\n    return a + b\n' > "$dir/work/calc.py"
# the 270M model may ramble until the context ends: cap the answer
printf -- '- name: openai/g4\n  extra_params:\n    max_tokens: 256\n' > "$dir/settings.yml"
printf '{"openai/g4": {"max_input_tokens": 8192, "max_output_tokens": 256, "max_tokens": 8192, "input_cost_per_token": 0, "output_cost_per_token": 0, "litellm_provider": "openai", "mode": "chat"}}\n' > "$dir/meta.json"
start=$(date +%s)
(cd "$dir/work" && OPENAI_API_BASE="http://127.0.0.1:$port/v1" OPENAI_API_KEY=x timeout 400 "$AIDER" \
  --model openai/g4 --message "Explain in one sentence what calc.py does." --yes --no-git --no-auto-commits \
  --no-check-update --no-show-model-warnings --no-analytics --no-pretty --no-stream --edit-format whole \
  --map-tokens 0 --max-chat-history-tokens 1024 --model-settings-file "$dir/settings.yml" --model-metadata-file "$dir/meta.json" calc.py) > "$dir/aider.out" 2>&1
rc=$?
end=$(date +%s)
# aider exits 0 even when the API call failed: look for its error reports too
if [ $rc -eq 0 ] && sed -n '/Added calc.py to the chat/,$p' "$dir/aider.out" | grep -q '[[:alnum:]]' \
   && ! grep -q -E 'APIError|APIConnectionError|BadRequestError|NotFoundError|InternalServerError|Traceback' "$dir/aider.out"; then
  echo "PASS aider:message-exchange ($((end - start)) s)"
  sed -n '/Added calc.py to the chat/,$p' "$dir/aider.out" | grep '[[:alnum:]]' | sed -n '2,6s/^/# aider: /p' 
else
  echo "FAIL aider:message-exchange (exit $rc)"; tail -30 "$dir/aider.out"; tail -10 "$dir/log"; exit 1
fi
