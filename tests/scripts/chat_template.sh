#!/bin/sh
# `g4 template` end to end: renders small requests with --format and checks
# the exact bytes (expected outputs from jinja2, see tests/fixtures/chat) and
# the exit status on bad input. One PASS/FAIL line per check.
G4=${G4_BIN:-build/g4}
check() { # name, format, request, expected output (printf format)
  got=$(printf '%s' "$3" | "$G4" template --format "$2"; echo x); want=$(printf "$4"; echo x)
  if [ "$got" = "$want" ]; then echo "PASS template:$1"; else echo "FAIL template:$1"; echo "got:  $got"; echo "want: $want"; fi
}
check gemma3 gemma3 '{"messages":[{"role":"system","content":"S"},{"role":"user","content":" hi "}]}' \
  '<bos><start_of_turn>user\nS\n\nhi<end_of_turn>\n<start_of_turn>model\n'
check gemma4_tools gemma4 '{"messages":[{"role":"user","content":"w?"}],"add_generation_prompt":true,"enable_thinking":true,"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"c":{"type":"string"}},"required":["c"]}}}]}' \
  '<bos><|turn>system\n<|think|>\n<|tool>declaration:f{description:<|"|>d<|"|>,parameters:{properties:{c:{type:<|"|>STRING<|"|>}},required:[<|"|>c<|"|>],type:<|"|>OBJECT<|"|>}}<tool|><turn|>\n<|turn>user\nw?<turn|>\n<|turn>model\n'
check gemma4_no_gen gemma4 '{"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}],"add_generation_prompt":false}' \
  '<bos><|turn>user\na<turn|>\n<|turn>model\nb<turn|>\n'
for bad in '[1]' '{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}' '{"messages":5}' 'not json'; do
  if printf '%s' "$bad" | "$G4" template --format gemma3 >/dev/null 2>&1; then
    echo "FAIL template:reject $bad"; else echo "PASS template:reject"; fi
done
if "$G4" template --format nope </dev/null >/dev/null 2>&1; then echo "FAIL template:bad-format"; else echo "PASS template:bad-format"; fi
if "$G4" template </dev/null >/dev/null 2>&1; then echo "FAIL template:no-format"; else echo "PASS template:no-format"; fi
if "$G4" template --format gemma3 -m x.gguf </dev/null >/dev/null 2>&1; then echo "FAIL template:format-and-model"; else echo "PASS template:format-and-model"; fi
if echo '{"messages":[{"role":"user","content":"a"}]}' | "$G4" template -m /nonexistent.gguf >/dev/null 2>&1; then
  echo "FAIL template:missing-model"; else echo "PASS template:missing-model"; fi
