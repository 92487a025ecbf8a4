/* dot_avx512.c — the "avx512" table (AVX512F/BW/VL, Skylake-X / Zen 4 and
 * later): a copy of the avx2 table whose dots are replaced by 512-bit ones.
 * Float weights (F32, F16, BF16) against float32 activations, four 16-lane
 * FMA chains and a masked tail (no scalar loop); the integer dots come from
 * dot_avx512.inc without VNNI (vpmaddubsw + vpmaddwd). Matmul tiles,
 * repacked layouts, quantizers and float ops stay the avx2 ones. Compiled
 * with the Makefile's ISA_AVX512 flags; runs only after cpuid reported
 * AVX512F, BW and VL (kernels.c). Differences from the references: float
 * accumulation order only (test_kernels tolerance).
 *
 * Measured (bench/kernels/bench_matvec.c, N=1024 K=3840, M=1, 1 thread,
 * CPU time best of 7, AMD EPYC Zen 4 class, 2 shared vCPUs at load ~5),
 * ms per matvec, avx2 -> avx512 -> avx512_vnni dot:
 *   q4_K 0.166 0.149 0.136   q5_K 0.201 0.182 0.163   q6_K 0.214 0.176 0.137
 *   iq4_xs 0.271 0.384 0.241 q8_0 0.176 0.185 0.171   q4_0 0.227 0.238 0.226
 *   bf16 0.211 0.178 0.183   f16 0.196 0.187 0.187
 * (Zen 4 double-pumps zmm, so the 32-element types gain nothing; the
 * super-block types gain up to 1.55x with VNNI. Without VNNI, IQ4_XS pays
 * for the masked sign trick on zmm: Intel Skylake-X, the one CPU family that
 * gets this table as its best, was not available to measure.) */
#define G4X_VNNI 0
#include "kernels/x86/dot_avx512.inc"

/* ---- float weights ---- */

static inline __mmask16 tail_mask(int64_t left) { return (__mmask16)((1u << left) - 1u); }

/* 16 weights as floats from p (F32, F16 or BF16 bits), the first `m` lanes */
static inline __m512 load_w16(const void *p, uint32_t type, __mmask16 m) {
    if (type == G4_TYPE_F32) return _mm512_maskz_loadu_ps(m, p);
    const __m256i h = _mm256_maskz_loadu_epi16(m, p);
    if (type == G4_TYPE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); /* BF16: the top half of a float */
}

/* dot of n weights of `type` with n floats; type is a constant after
 * inlining, so each caller gets its own loop */
static inline __attribute__((always_inline)) float dot_w16(int64_t n, const void *vw, const float *x, uint32_t type) {
    const size_t es = type == G4_TYPE_F32 ? 4 : 2;
    const char *w = vw;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(load_w16(w + i * es, type, 0xFFFF), _mm512_loadu_ps(x + i), s0);
        s1 = _mm512_fmadd_ps(load_w16(w + (i + 16) * es, type, 0xFFFF), _mm512_loadu_ps(x + i + 16), s1);
        s2 = _mm512_fmadd_ps(load_w16(w + (i + 32) * es, type, 0xFFFF), _mm512_loadu_ps(x + i + 32), s2);
        s3 = _mm512_fmadd_ps(load_w16(w + (i + 48) * es, type, 0xFFFF), _mm512_loadu_ps(x + i + 48), s3);
    }
    for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(load_w16(w + i * es, type, 0xFFFF), _mm512_loadu_ps(x + i), s0);
    if (i < n) { /* masked loads do not touch memory past the last element */
        const __mmask16 m = tail_mask(n - i);
        s1 = _mm512_fmadd_ps(load_w16(w + i * es, type, m), _mm512_maskz_loadu_ps(m, x + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

static float dot_f32(int64_t n, const float *a, const float *b) { return dot_w16(n, a, b, G4_TYPE_F32); }
static void vec_dot_f32(int64_t n, float *s, const void *w, const void *x) { *s = dot_w16(n, w, x, G4_TYPE_F32); }
static void vec_dot_f16(int64_t n, float *s, const void *w, const void *x) { *s = dot_w16(n, w, x, G4_TYPE_F16); }
static void vec_dot_bf16(int64_t n, float *s, const void *w, const void *x) { *s = dot_w16(n, w, x, G4_TYPE_BF16); }

void g4_kernels_patch_avx512(struct g4_kernels *k) {
    k->dot_f32 = dot_f32;
    k->type[G4_TYPE_F32].vec_dot = vec_dot_f32;
    k->type[G4_TYPE_F16].vec_dot = vec_dot_f16;
    k->type[G4_TYPE_BF16].vec_dot = vec_dot_bf16;
    patch_int8_dots(k);
}
