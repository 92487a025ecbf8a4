#!/bin/sh
# aider (https://aider.chat) against `g4 serve`: starts $G4_BIN serve with
# the default Gemma 3 270M model under the alias g4, waits for /health, and
# runs one non-interactive `aider --message` exchange in a temp dir (no git);
# PASS when aider exits 0 with an answer and reports no API error. The
# exchange (question, answer, time) is printed as '# aider:' lines.
# aider comes from $AIDER, else the venv that `scripts/setup.sh --test`
# makes ($XDG_CACHE_HOME or ~/.cache)/g4/aider-venv, else `aider` on PATH;
# missing, it is a FAIL that says how to install it. Nothing can hang: the
# server start, the health wait and aider itself run under time limits
# (aider: 400 s, then killed), and the server is always stopped.
# G4_AIDER_KEEP=FILE keeps aider's whole output.
G4=${G4_BIN:-build/g4}
MODEL=${G4_GEMMA3_GGUF:-$HOME/.cache/g4/gemma-3-270m-q4_k_m.gguf}
PY=${PYTHON:-python3}
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/g4/aider-venv
AIDER=${AIDER:-$VENV/bin/aider}
[ -x "$AIDER" ] || AIDER=$(command -v aider || echo "")
if [ -z "$AIDER" ] || [ ! -x "$AIDER" ]; then
  echo "FAIL aider:installed (no aider in $VENV or on PATH: run scripts/setup.sh --test)"; exit 1
fi
if [ ! -s "$MODEL" ]; then echo "FAIL aider:model missing ($MODEL): run scripts/setup.sh"; exit 1; fi
echo "# aider: $("$AIDER" --version 2>/dev/null | head -1) at $AIDER"
dir=$(mktemp -d)
"$G4" serve -m "$MODEL" --host 127.0.0.1 --port 0 --port-file "$dir/port" --alias g4 --ctx 8192 > "$dir/log" 2>&1 &
pid=$!
tag=aider
. tests/server/serve_wait.sh
mkdir "$dir/work"
printf 'def add(a, b):\n    return a + b\n' > "$dir/work/calc.py"
# the 270M model may ramble until the context ends: cap the answer
printf -- '- name: openai/g4\n  extra_params:\n    max_tokens: 256\n' > "$dir/settings.yml"
printf '{"openai/g4": {"max_input_tokens": 8192, "max_output_tokens": 256, "max_tokens": 8192, "input_cost_per_token": 0, "output_cost_per_token": 0, "litellm_provider": "openai", "mode": "chat"}}\n' > "$dir/meta.json"
question="Explain in one sentence what calc.py does."
echo "# aider: asking: $question"
start=$(date +%s)
(cd "$dir/work" && OPENAI_API_BASE="http://127.0.0.1:$port/v1" OPENAI_API_KEY=x timeout -k 10 400 "$AIDER" \
  --model openai/g4 --message "$question" --yes --no-git --no-auto-commits \
  --no-check-update --no-show-model-warnings --no-analytics --no-pretty --no-stream --edit-format whole \
  --map-tokens 0 --max-chat-history-tokens 1024 --model-settings-file "$dir/settings.yml" \
  --model-metadata-file "$dir/meta.json" calc.py < /dev/null) > "$dir/aider.out" 2>&1
rc=$?
[ -n "$G4_AIDER_KEEP" ] && cp "$dir/aider.out" "$G4_AIDER_KEEP"
end=$(date +%s)
answer=$(sed -n '/Added calc.py to the chat/,$p' "$dir/aider.out" | sed 1d | grep '[[:alnum:]]' | grep -v -e '^Tokens:' -e 'aider.chat/HISTORY')
# aider exits 0 even when the API call failed: look for its error reports too
if [ $rc -eq 0 ] && [ -n "$answer" ] \
   && ! grep -q -E 'APIError|APIConnectionError|BadRequestError|NotFoundError|InternalServerError|Traceback' "$dir/aider.out"; then
  echo "PASS aider:message-exchange ($((end - start)) s)"
  echo "$answer" | head -8 | sed 's/^/# aider: answer: /'
else
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "# aider: timed out after 400 s"
  echo "FAIL aider:message-exchange (exit $rc, $((end - start)) s)"; tail -30 "$dir/aider.out"; tail -10 "$dir/log"; exit 1
fi
