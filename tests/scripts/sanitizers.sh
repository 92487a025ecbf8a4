#!/bin/sh
# Builds the unit tests with ASan+UBSan (build-san/) and runs them; each test
# prints PASS/FAIL lines prefixed with "san:". Skipped (one FAIL) if the
# sanitizer build cannot be made.
if ! make -s SAN=1 BUILD=build-san tests >/tmp/g4-san-build.log 2>&1; then
  tail -30 /tmp/g4-san-build.log
  echo "FAIL san:build"
  exit 1
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export G4_BIN="$PWD/build-san/g4"
rc=0
for t in build-san/tests/test_*; do
  [ -x "$t" ] || continue
  out=$(G4_SAN=1 timeout 900 "$t" 2>&1); r=$?
  echo "$out" | sed -n 's/^\(PASS\|FAIL\) /\1 san:/p'
  if [ $r -ne 0 ]; then
    echo "$out" | grep -q '^FAIL ' || echo "FAIL san:$(basename "$t") (exit $r)"
    echo "$out" | grep -vE '^(PASS|FAIL) ' | tail -30
    rc=1
  fi
done
exit $rc
