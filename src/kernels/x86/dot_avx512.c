/* dot_avx512.c — the "avx512" table (AVX512F/BW/VL, Skylake-X / Zen 4 and
 * later): a copy of the avx2 table whose integer dots are replaced by the
 * 512-bit ones of dot_avx512.inc without VNNI (vpmaddubsw + vpmaddwd), plus
 * a 512-bit float32 dot. The prefill tiles of the replaced types are dropped
 * (see patch_int8_dots); repacked layouts, quantizers and float ops stay the
 * avx2 ones. Compiled with the Makefile's ISA_AVX512 flags; runs only after
 * cpuid reported AVX512F, BW and VL (kernels.c). Differences from the references: float
 * accumulation order only (test_kernels tolerance).
 *
 * Measured (bench/kernels/bench_matvec.c, N=1024 K=3840, M=1, 1 thread,
 * CPU time best of 7, AMD EPYC Zen 4 class, 2 shared vCPUs at load ~5),
 * ms per matvec, avx2 -> avx512 -> avx512_vnni dot:
 *   q4_K 0.166 0.149 0.136   q5_K 0.201 0.182 0.163   q6_K 0.214 0.176 0.137
 *   q8_0 0.176 0.185 0.171   q4_0 0.227 0.238 0.226
 *   q5_0 (N=640 K=2048) 0.082 0.084 0.079
 *   (float weights, since dropped: bf16 0.211 0.178, f16 0.196 0.187)
 * (Zen 4 double-pumps zmm, so the 32-element types gain nothing; the
 * super-block types gain up to 1.55x with VNNI. Intel Skylake-X, the one
 * CPU family that gets the non-VNNI table as its best, was not available to
 * measure.) */
#define G4X_VNNI 0
#include "kernels/x86/dot_avx512.inc"

/* ---- float32 dot (attention scores, dequantize path) ----
 * F32/F16/BF16 weights keep the avx2 vec_dot: their avx2 prefill tiles sum
 * in its order (see patch_int8_dots), and a 512-bit version measured at
 * most 1.15x at M = 1 (bf16; f16 equal), not worth losing the tiles. */

/* four 16-lane FMA chains and a masked tail (masked loads touch nothing
 * past the last element) */
static float dot_f32(int64_t n, const float *a, const float *b) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

void g4_kernels_patch_avx512(struct g4_kernels *k) {
    k->dot_f32 = dot_f32;
    patch_int8_dots(k);
}
