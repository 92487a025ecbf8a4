#!/bin/sh
# Builds every libFuzzer target (clang) and runs each briefly
# (FUZZ_SECONDS, default 10). One PASS/FAIL line per target.
secs=${FUZZ_SECONDS:-10}
command -v clang >/dev/null || { echo "FAIL fuzz:clang-missing"; exit 1; }
ls tests/fuzz/fuzz_*.c >/dev/null 2>&1 || exit 0
if ! make -s CC=clang BUILD=build-fuzz SAN=0 OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link" build-fuzz/libg4.a >/tmp/g4-fuzz-build.log 2>&1; then
  tail -30 /tmp/g4-fuzz-build.log; echo "FAIL fuzz:build"; exit 1
fi
flags="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc $(pkg-config --cflags jansson 2>/dev/null)"
libs="$(pkg-config --libs jansson 2>/dev/null || echo -ljansson) -lm -pthread"
rc=0
for f in tests/fuzz/fuzz_*.c; do
  n=$(basename "$f" .c)
  if ! clang $flags "$f" build-fuzz/libg4.a -o "build-fuzz/$n" $libs >"build-fuzz/$n.build.log" 2>&1; then
    tail -20 "build-fuzz/$n.build.log"; echo "FAIL fuzz:$n (build)"; rc=1; continue
  fi
  mkdir -p "build-fuzz/corpus-$n"
  seeds="tests/fuzz/seeds/$n"; [ -d "$seeds" ] || seeds=""
  if timeout $((secs + 120)) "./build-fuzz/$n" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
       "build-fuzz/corpus-$n" $seeds >"build-fuzz/$n.log" 2>&1; then
    echo "PASS fuzz:$n ($(grep -o 'stat::number_of_executed_runs: *[0-9]*' "build-fuzz/$n.log" | grep -o '[0-9]*$' || tail -1 "build-fuzz/$n.log" | cut -c1-60) runs)"
  else
    tail -40 "build-fuzz/$n.log"; echo "FAIL fuzz:$n"; rc=1
  fi
done
exit $rc
