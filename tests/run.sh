#!/bin/sh
# Runs every test: each unit test binary in $BUILD/tests/, then each script in
# tests/scripts/*.sh (which print PASS/FAIL lines the same way). A binary that
# exits non-zero without printing FAIL counts as one failure (a crash).
# Ends with the line "N passed, N failed".
BUILD=${BUILD:-build}
export G4_BIN="$PWD/$BUILD/g4"
pass=0; fail=0
log=$(mktemp); trap 'rm -f "$log"' EXIT
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  timeout 900 "$t" > "$log" 2>&1; rc=$?
  p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "FAIL $name (exit $rc)"; fi
  [ "$f" -ne 0 ] && { cat "$log"; }
  echo "$name: $p passed, $f failed"
  pass=$((pass + p)); fail=$((fail + f))
done
for s in tests/scripts/*.sh; do
  [ -f "$s" ] || continue
  name=$(basename "$s")
  # the sanitizer and fuzz passes run once, from the plain build's test run
  case "$name" in sanitizers.sh|fuzz.sh) [ "$BUILD" = build ] || continue ;; esac
  timeout 900 sh "$s" > "$log" 2>&1; rc=$?
  p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "FAIL $name (exit $rc)"; fi
  [ "$f" -ne 0 ] && { cat "$log"; }
  echo "$name: $p passed, $f failed"
  pass=$((pass + p)); fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
