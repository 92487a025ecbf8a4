#!/bin/sh
# bench_cli.sh — quick functional check of `g4 bench` ($G4_BIN) on the real
# Gemma 3 270M GGUF: a tiny run (-p 8 -n 4 -r 2) ends with one JSON line
# holding every required key with sane values, and bad arguments exit 2.
# This checks the tool works, never its speed (benchmarks are not timed tests).
# Prints one PASS/FAIL line per check. Runs from the repository root.
G4=${G4_BIN:-build/g4}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
GGUF=${G4_GEMMA3_GGUF:-${XDG_CACHE_HOME:-$HOME/.cache}/g4/gemma-3-270m-q4_k_m.gguf}

ok() { echo "PASS bench_cli:$1"; }
bad() { echo "FAIL bench_cli:$1"; [ -n "$2" ] && head -c 600 "$2" | sed 's/^/  /'; }

[ -x "$G4" ] || { echo "FAIL bench_cli:no-binary ($G4)"; exit 1; }
[ -f "$GGUF" ] || { echo "FAIL bench_cli:no-model ($GGUF; run scripts/setup.sh)"; exit 1; }

# 1. --json: the last stdout line is one object with the required keys
if "$G4" bench -m "$GGUF" -p 8 -n 4 -r 2 --threads 2 --json > "$T/out" 2> "$T/err"; then
  tail -n 1 "$T/out" > "$T/json"
  missing=""
  for k in prefill_tok_s prefill_tok_s_std decode_tok_s decode_tok_s_std ttft_ms ttft_ms_std peak_rss_mb \
           decode_gbps mem_read_gbps n_threads model_size_bytes tensor_bytes; do
    grep -q "\"$k\":" "$T/json" || missing="$missing $k"
  done
  if [ -z "$missing" ] && head -c 1 "$T/json" | grep -q '{' && tail -c 2 "$T/json" | grep -q '}'; then
    ok json-keys
  else
    bad "json-keys (missing:$missing)" "$T/json"
  fi
  # values: positive speeds, RSS, bandwidths; 2 threads; 2 per-repetition values
  num() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p" "$T/json"; }
  if awk -v p="$(num prefill_tok_s)" -v d="$(num decode_tok_s)" -v t="$(num ttft_ms)" -v r="$(num peak_rss_mb)" \
         -v g="$(num decode_gbps)" -v m="$(num mem_read_gbps)" -v s="$(num model_size_bytes)" \
         'BEGIN { exit !(p > 0 && d > 0 && t > 0 && r > 100 && g > 0 && m > 0 && s > 2e8) }' &&
     grep -q '"n_threads":2,' "$T/json" && grep -q '"decode_runs":\[[-0-9.e+]*,[-0-9.e+]*\]' "$T/json"; then
    ok json-values
  else
    bad json-values "$T/json"
  fi
  grep -q '^prefill ' "$T/out" && grep -q '^decode ' "$T/out" && ok text-summary || bad text-summary "$T/out"
else
  bad run "$T/err"
fi

# 2. argument errors exit 2 without running
for args in "-r 0" "-p 0" "--threads x" "--bogus" "-p 8 -n 8 --ctx 4"; do
  # shellcheck disable=SC2086
  "$G4" bench -m "$GGUF" $args > /dev/null 2> "$T/err"; rc=$?
  [ "$rc" -eq 2 ] && ok "bad-args ($args)" || bad "bad-args ($args) rc=$rc" "$T/err"
done

# 3. a missing model file is an error, not a crash
"$G4" bench -m "$T/none.gguf" -p 4 -n 1 > /dev/null 2> "$T/err"; rc=$?
[ "$rc" -eq 1 ] && ok missing-model || bad "missing-model rc=$rc" "$T/err"
