#!/bin/sh
# kernels_isa.sh — every x86 kernel table forced through G4_KERNELS: runs
# test_kernels once per table name (its test_dispatch checks that the named
# table was chosen, and every table is compared with the references in each
# run), and test_decoder under G4_KERNELS=avx2 when a better table is this
# CPU's default, so the avx2 table still gets an end-to-end model run. A
# table the CPU lacks prints "kernels_isa: <name> skipped: no <isa>" (not
# a silent pass). aarch64 tables are covered by cross_arm.sh under qemu
# (qemu-x86_64 7.2 cannot emulate AVX-512: it stops with SIGILL, so AVX-512
# is tested only on a CPU that has it). Prints PASS/FAIL lines (tests/run.sh).
# Measured here (2 shared cores): about 25 s, most of it test_decoder.
set -u
B=${BUILD:-build}
case "$(uname -m)" in
    x86_64|i?86) ;;
    *) echo "kernels_isa: skipped (not x86; see cross_arm.sh)"; exit 0 ;;
esac
T="$B/tests/test_kernels"
[ -x "$T" ] || { echo "FAIL kernels_isa (no $T)"; exit 1; }
log=$(mktemp); trap 'rm -f "$log"' EXIT
rc=0
best_is_avx2=1
for name in ref avx2 avx512 avx512_vnni; do
    G4_KERNELS=$name "$T" >"$log" 2>&1; r=$?
    if grep -q "^test_kernels: $name table skipped" "$log"; then
        echo "kernels_isa: $name skipped: $(grep "^test_kernels: $name table skipped" "$log" | sed 's/.*skipped: //')"
        continue
    fi
    case "$name" in avx512*) best_is_avx2=0 ;; esac
    if [ $r -eq 0 ] && ! grep -q '^FAIL' "$log"; then
        echo "PASS kernels_isa G4_KERNELS=$name"
    else
        echo "FAIL kernels_isa G4_KERNELS=$name"
        cat "$log"
        rc=1
    fi
done
if [ $best_is_avx2 -eq 0 ] && [ -x "$B/tests/test_decoder" ]; then
    if G4_KERNELS=avx2 "$B/tests/test_decoder" >"$log" 2>&1 && ! grep -q '^FAIL' "$log"; then
        echo "PASS kernels_isa test_decoder G4_KERNELS=avx2"
    else
        echo "FAIL kernels_isa test_decoder G4_KERNELS=avx2"
        cat "$log"
        rc=1
    fi
fi
exit $rc
