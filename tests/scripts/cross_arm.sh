#!/bin/sh
# cross_arm.sh — builds test_kernels for aarch64 (static, with the NEON
# kernels of src/kernels/arm/) and runs it under qemu-aarch64, twice: baseline
# armv8-a (vmull/vpadal int8 path) and armv8.2-a+dotprod (SDOT path).
# Needs aarch64-linux-gnu-gcc and qemu-aarch64 (Debian: gcc-aarch64-linux-gnu,
# qemu-user); prints a "skipped" line without them, else a "PASS ..." or
# "FAIL ..." line per variant (the tests/run.sh convention). From run.sh it
# runs once, in the plain build's test run (not again for SAN/clang builds).
# Measured here (2 shared cores, load ~11): 53 s wall, 12 s CPU.
# Usage: tests/scripts/cross_arm.sh   (from the repository root)
set -u
case "${BUILD:-build}" in
    build) ;;
    *) echo "cross_arm: skipped (runs from the plain build's test run)"; exit 0 ;;
esac
CC=${CROSS_CC:-aarch64-linux-gnu-gcc}
QEMU=${QEMU:-qemu-aarch64}
if ! command -v "$CC" >/dev/null 2>&1 || ! command -v "$QEMU" >/dev/null 2>&1; then
    echo "cross_arm: skipped (no $CC or $QEMU)"
    exit 0
fi
OUT=${OUT_DIR:-build-arm}
mkdir -p "$OUT"
# test_kernels needs the kernels, core, tensor and the GGUF reader (no jansson)
SRC="$(ls src/core/*.c src/tensor/*.c src/kernels/*.c src/kernels/ref/*.c src/kernels/arm/*.c) \
     src/io/gguf.c src/io/mapfile.c tests/unit/test.c tests/unit/test_kernels.c"
rc=0
for march in armv8-a armv8.2-a+dotprod; do
    bin="$OUT/test_kernels_$(echo "$march" | tr '.+' '__')"
    if ! $CC -std=c11 -D_GNU_SOURCE -O2 -march="$march" -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
        -pthread -Iinclude -Isrc -static $SRC -o "$bin" -lm; then
        echo "FAIL cross_arm $march (build)"
        rc=1
        continue
    fi
    if "$QEMU" "$bin" >"$bin.log" 2>&1; then
        echo "PASS cross_arm $march ($(grep -c '^PASS' "$bin.log") tests)"
    else
        echo "FAIL cross_arm $march"
        cat "$bin.log"
        rc=1
    fi
done
exit $rc
