/* dot_avx512vnni.c — the "avx512_vnni" table's integer dots: dot_avx512.inc
 * compiled with AVX512-VNNI (vpdpbusd does the u8 x s8 products and their
 * 4-lane sums in one exact instruction). Built with -mavx512vnni on top of
 * the AVX512F/BW/VL flags (Makefile *_avx512vnni.c rule); the patch runs
 * only after cpuid reported all of them (kernels.c). The patch also swaps in
 * the VNNI matmuls over repacked weights (repack_avx512vnni.c). */
#define G4X_VNNI 1
#include "kernels/x86/dot_avx512.inc"

/* repack_avx512vnni.c: the packed (load-time repacked) matmuls */
void g4_kernels_patch_avx512_vnni_packed(struct g4_kernels *k);

void g4_kernels_patch_avx512_vnni(struct g4_kernels *k) {
    patch_int8_dots(k);
    g4_kernels_patch_avx512_vnni_packed(k);
}
