#!/bin/sh
# cross_arm.sh — builds test_kernels for aarch64 (static, with the NEON
# kernels of src/kernels/arm/) and runs it under qemu-aarch64. Sources are
# compiled for base armv8-a, except *_dotprod_neon.c for armv8.2-a+dotprod
# (as the Makefile does natively), so the binary picks its tables at run
# time from HWCAP:
#   -cpu max, G4_KERNELS=neon: both "neon" (vmull path) and "neon_dotprod"
#        (SDOT) are built, listed and tested; the variable selects "neon";
#   -cpu cortex-a57 (ARMv8.0, no dotprod): "neon_dotprod" must be absent
#        (test_dispatch checks it and prints "skipped: no dotprod") and
#        "neon" is the default.
# Needs aarch64-linux-gnu-gcc and qemu-aarch64 (Debian: gcc-aarch64-linux-gnu,
# qemu-user); prints a "skipped" line without them, else a "PASS ..." or
# "FAIL ..." line per run (the tests/run.sh convention). From run.sh it
# runs once, in the plain build's test run (not again for SAN/clang builds).
# Measured here (2 shared cores): about 60 s wall.
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
mkdir -p "$OUT/obj"
# test_kernels needs the kernels, core, tensor and the GGUF reader (no jansson)
SRC="$(ls src/core/*.c src/tensor/*.c src/kernels/*.c src/kernels/ref/*.c src/kernels/arm/*.c) \
     src/io/gguf.c src/io/mapfile.c tests/unit/test.c tests/unit/test_kernels.c"
FLAGS="-std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -pthread -Iinclude -Isrc"
bin="$OUT/test_kernels"
objs=""
for f in $SRC; do
    case "$f" in *_dotprod_neon.c) march=armv8.2-a+dotprod ;; *) march=armv8-a ;; esac
    o="$OUT/obj/$(echo "$f" | tr '/' '_').o"
    objs="$objs $o"
    if [ ! -f "$o" ] || [ "$f" -nt "$o" ] || [ -n "$(find src tests/unit -name '*.h' -newer "$o" -o -name '*.inc' -newer "$o" | head -1)" ]; then
        if ! $CC $FLAGS -march="$march" -c "$f" -o "$o"; then
            echo "FAIL cross_arm (build $f)"
            exit 1
        fi
    fi
done
if ! $CC -static $objs -o "$bin" -lm -pthread; then
    echo "FAIL cross_arm (link)"
    exit 1
fi
rc=0
run() { # name, cpu, G4_KERNELS value, a line the log must hold (or "")
    log="$OUT/test_kernels_$1.log"
    if G4_KERNELS="$3" "$QEMU" -cpu "$2" "$bin" >"$log" 2>&1 && { [ -z "$4" ] || grep -q "$4" "$log"; }; then
        echo "PASS cross_arm $1 ($(grep -c '^PASS' "$log") tests)"
    else
        echo "FAIL cross_arm $1"
        cat "$log"
        rc=1
    fi
}
run max_dotprod max neon ""
run a57_no_dotprod cortex-a57 "" "neon_dotprod table skipped: no dotprod"
# the max run must not have skipped the dotprod table
if grep -q "neon_dotprod table skipped" "$OUT/test_kernels_max_dotprod.log"; then
    echo "FAIL cross_arm: qemu -cpu max reported no dotprod"
    rc=1
fi
exit $rc
