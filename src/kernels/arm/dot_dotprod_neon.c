/* dot_dotprod_neon.c — the "neon_dotprod" table's integer dots (Q8_0,
 * Q4_0, Q4_K, Q5_K, Q6_K, IQ4_XS): dot_neon.inc with SDOT (vdotq_s32).
 * Compiled with -march=armv8.2-a+dotprod (Makefile *_dotprod_neon.c rule;
 * tests/scripts/cross_arm.sh does the same), so it must only run when
 * getauxval(AT_HWCAP) has HWCAP_ASIMDDP: kernels.c checks that (core/cpu.c)
 * before patching a copy of the neon table with it. */
#if defined(__aarch64__)

#define G4N_DOTPROD 1
#include "kernels/arm/dot_neon.inc"

void g4_kernels_patch_neon_dotprod(struct g4_kernels *k) { patch_int8_dots(k); }

#endif
