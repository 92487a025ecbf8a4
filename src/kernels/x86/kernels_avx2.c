/* kernels_avx2.c — the AVX2+FMA+F16C table patch (placeholder until the
 * SIMD kernels land): entries not replaced here stay the references. */
#include "kernels/kernels_impl.h"

void g4_kernels_patch_avx2(struct g4_kernels *k) { (void)k; }
