#!/bin/sh
# test_info.sh — `g4 info` end to end: text and --json output on fixture
# directories, --ctx, and a non-zero exit with the error on bad input.
# Prints PASS/FAIL lines (tests/run.sh counts them).
G4=${G4_BIN:-build/g4}
F=tests/fixtures/hf
ok() { echo "PASS $1"; }
bad() { echo "FAIL $1"; }

out=$("$G4" info "$F/gemma4_unified" 2>/dev/null) && echo "$out" | grep -q "model_type gemma4_unified" &&
  echo "$out" | grep -q "modalities:     text, vision, audio" && echo "$out" | grep -q "suppressed 58, 61" &&
  ok info_text || bad info_text
out=$("$G4" info --json --ctx 100 "$F/gemma3_text" 2>/dev/null) && echo "$out" | grep -q '"context": 100' &&
  echo "$out" | grep -q '"variant": "gemma3 custom' && ok info_json || bad info_json
"$G4" info "$F/gemma4_unified" "$F/gemma4_unified_assistant" 2>/dev/null | grep -q "^assistant:" &&
  ok info_assistant || bad info_assistant
err=$("$G4" info "$F/st" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "no model.safetensors" && ok info_bad_dir || bad info_bad_dir
"$G4" info "$F/st/basic.safetensors" >/dev/null 2>&1; [ $? -eq 1 ] && ok info_bad_file || bad info_bad_file
"$G4" info >/dev/null 2>&1; [ $? -eq 2 ] && ok info_usage || bad info_usage
"$G4" info --ctx x "$F/gemma3" >/dev/null 2>&1; [ $? -eq 2 ] && ok info_bad_ctx || bad info_bad_ctx
