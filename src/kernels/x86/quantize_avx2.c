/* quantize_avx2.c — float32 activations -> Q8_0 / Q8_K with AVX2,
 * BIT-IDENTICAL to the references in ref/quantize_ref.c (test_kernels
 * compares bytes): the scale is computed by the same scalar expression, the
 * per-element products are the same IEEE multiplies, and the roundings are
 * reproduced exactly:
 *   Q8_0 uses roundf (half away from zero): t = trunc(v); if |v - t| >= 0.5
 *        then t += sign(v) (v - t is exact in float);
 *   Q8_K uses lrintf (nearest, ties to even) = cvtps2dq under the default
 *        MXCSR mode, then clamps at 127 like the reference.
 * Max-abs is order independent, so the vector reduction gives the same amax.
 * Matters for decode: at M = 1 quantizing x is serial (K elements) while the
 * matvec is split over threads. */
#include "kernels/kernels_impl.h"

#include "core/fp16.h"
#include "kernels/x86/avx2_common.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* 32 int32 (4 vectors, elements in order) -> 32 int8 at dst (values fit) */
static inline void store_i8x32(int8_t *dst, __m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d); /* lane-interleaved */
    __m256i r = _mm256_packs_epi16(ab, cd);
    r = _mm256_permutevar8x32_epi32(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)dst, r);
}

static inline __m256 round_half_away(__m256 v) {
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 sign = _mm256_and_ps(v, _mm256_set1_ps(-0.0f));
    const __m256 absf = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), _mm256_sub_ps(v, t));
    const __m256 up = _mm256_cmp_ps(absf, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    return _mm256_add_ps(t, _mm256_and_ps(up, _mm256_or_ps(sign, _mm256_set1_ps(1.0f))));
}

void g4_quantize_row_q8_0_avx2(const float *x, void *vy, int64_t n) {
    struct g4_block_q8_0 *y = vy;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int64_t b = 0; b < n / G4_QK8_0; b++, x += G4_QK8_0) {
        __m256 v[4];
        for (int i = 0; i < 4; i++) v[i] = _mm256_loadu_ps(x + 8 * i);
        const __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], absmask), _mm256_and_ps(v[1], absmask)),
                                       _mm256_max_ps(_mm256_and_ps(v[2], absmask), _mm256_and_ps(v[3], absmask)));
        const float amax = hmax8(m);
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = g4_f32_to_f16(d);
        const __m256 idv = _mm256_set1_ps(id);
        __m256i q[4];
        for (int i = 0; i < 4; i++) q[i] = _mm256_cvttps_epi32(round_half_away(_mm256_mul_ps(v[i], idv)));
        store_i8x32(y[b].qs, q[0], q[1], q[2], q[3]);
    }
}

void g4_quantize_row_q8_K_avx2(const float *x, void *vy, int64_t n) {
    struct g4_block_q8_K *y = vy;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int64_t b = 0; b < n / G4_QK_K; b++, x += G4_QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < G4_QK_K; j += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + j), absmask));
        const float amax = hmax8(m);
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof(y[b]));
            continue;
        }
        int jm = 0; /* the reference keeps the FIRST element of largest magnitude (bounded for NaN input) */
        while (jm < G4_QK_K - 1 && fabsf(x[jm]) != amax) jm++;
        const float iscale = -127.0f / x[jm];
        const __m256 is = _mm256_set1_ps(iscale);
        const __m256i k127 = _mm256_set1_epi32(127);
        for (int g = 0; g < G4_QK_K; g += 32) {
            __m256i q[4];
            for (int i = 0; i < 4; i++)
                q[i] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(is, _mm256_loadu_ps(x + g + 8 * i))), k127);
            store_i8x32(y[b].qs + g, q[0], q[1], q[2], q[3]);
            for (int h = 0; h < 2; h++) { /* two groups of 16 */
                const __m256i s = _mm256_add_epi32(q[2 * h], q[2 * h + 1]);
                __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
                t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4E));
                t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1));
                y[b].bsums[g / 16 + h] = (int16_t)_mm_cvtsi128_si32(t);
            }
        }
        y[b].d = 1.0f / iscale;
    }
}
