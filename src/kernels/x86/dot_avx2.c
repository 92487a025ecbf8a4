/* dot_avx2.c — AVX2+FMA+F16C dot kernels: float32 / f16 / bf16 weights
 * against float32 activations, and Q4_0, Q8_0 (against Q8_0), Q4_K, Q6_K
 * (against Q8_K). Integer products are exact (maddubs pairs stay below
 * 2^15: |u8 * s8| <= 128*127), so these differ from the references only in
 * the float accumulation order across blocks. Each has a scalar tail where
 * the element count allows one. Compiled with -mavx2 -mfma -mf16c; only
 * called when cpuid reports those (kernels.c). */
#include "kernels/kernels_impl.h"

#include "core/fp16.h"

#include "kernels/x86/avx2_common.h"

#include <immintrin.h>
#include <string.h>

/* f16 -> f32 with F16C (exact, like g4_f16_to_f32, without its branches) */
static inline float f16f(uint16_t h) { return _cvtsh_ss(h); }

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* ---- float weights ---- */

float g4_dot_f32_avx2(int64_t n, const float *a, const float *b) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

void g4_vec_dot_f32_avx2(int64_t n, float *s, const void *w, const void *x) { *s = g4_dot_f32_avx2(n, w, x); }

static inline __m256 load_f16x8(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
static inline __m256 load_bf16x8(const uint16_t *p) {
    __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

void g4_vec_dot_f16_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const uint16_t *w = vw;
    const float *x = vx;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(load_f16x8(w + i), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(load_f16x8(w + i + 8), _mm256_loadu_ps(x + i + 8), s1);
        s2 = _mm256_fmadd_ps(load_f16x8(w + i + 16), _mm256_loadu_ps(x + i + 16), s2);
        s3 = _mm256_fmadd_ps(load_f16x8(w + i + 24), _mm256_loadu_ps(x + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(load_f16x8(w + i), _mm256_loadu_ps(x + i), s0);
    float r = hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) r += f16f(w[i]) * x[i];
    *s = r;
}

void g4_vec_dot_bf16_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const uint16_t *w = vw;
    const float *x = vx;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(load_bf16x8(w + i), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(load_bf16x8(w + i + 8), _mm256_loadu_ps(x + i + 8), s1);
        s2 = _mm256_fmadd_ps(load_bf16x8(w + i + 16), _mm256_loadu_ps(x + i + 16), s2);
        s3 = _mm256_fmadd_ps(load_bf16x8(w + i + 24), _mm256_loadu_ps(x + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(load_bf16x8(w + i), _mm256_loadu_ps(x + i), s0);
    float r = hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) r += g4_bf16_to_f32(w[i]) * x[i];
    *s = r;
}

/* ---- integer helpers ---- */

/* 8 int32 sums of products of signed bytes x*y, in float */
static inline __m256 mul_sum_i8_pairs_float(__m256i x, __m256i y) {
    const __m256i ax = _mm256_sign_epi8(x, x);   /* |x| as u8 (|-128| = 128) */
    const __m256i sy = _mm256_sign_epi8(y, x);   /* y carrying x's sign */
    const __m256i dot = _mm256_maddubs_epi16(ax, sy);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(dot, _mm256_set1_epi16(1)));
}

/* 16 packed nibbles -> 32 bytes: low nibbles first (elements 0..15), then high */
static inline __m256i nibbles_32(const uint8_t *p) {
    const __m128i t = _mm_loadu_si128((const __m128i *)p);
    const __m256i b = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);
    return _mm256_and_si256(b, _mm256_set1_epi8(0x0F));
}

/* Q8_0 and Q4_0: two blocks per iteration into two accumulators (two
 * independent FMA chains), scales through F16C. As llama.cpp, the signed
 * product uses maddubs(|w|, sign(x, w)). */
void g4_vec_dot_q8_0_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q8_0 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const int64_t nb = n / 32;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)w[b].qs);
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)w[b + 1].qs);
        const __m256 p0 = mul_sum_i8_pairs_float(w0, _mm256_loadu_si256((const __m256i *)x[b].qs));
        const __m256 p1 = mul_sum_i8_pairs_float(w1, _mm256_loadu_si256((const __m256i *)x[b + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b].d) * f16f(x[b].d)), p0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b + 1].d) * f16f(x[b + 1].d)), p1, acc1);
    }
    for (; b < nb; b++) {
        const __m256i qw = _mm256_loadu_si256((const __m256i *)w[b].qs);
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b].d) * f16f(x[b].d)), mul_sum_i8_pairs_float(qw, qx), acc0);
    }
    *s = hsum8(_mm256_add_ps(acc0, acc1));
}

void g4_vec_dot_q4_0_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q4_0 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    const __m256i k8 = _mm256_set1_epi8(8);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const int64_t nb = n / 32;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        const __m256i w0 = _mm256_sub_epi8(nibbles_32(w[b].qs), k8);
        const __m256i w1 = _mm256_sub_epi8(nibbles_32(w[b + 1].qs), k8);
        const __m256 p0 = mul_sum_i8_pairs_float(w0, _mm256_loadu_si256((const __m256i *)x[b].qs));
        const __m256 p1 = mul_sum_i8_pairs_float(w1, _mm256_loadu_si256((const __m256i *)x[b + 1].qs));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b].d) * f16f(x[b].d)), p0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b + 1].d) * f16f(x[b + 1].d)), p1, acc1);
    }
    for (; b < nb; b++) {
        const __m256i qw = _mm256_sub_epi8(nibbles_32(w[b].qs), k8);
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b].d) * f16f(x[b].d)), mul_sum_i8_pairs_float(qw, qx), acc0);
    }
    *s = hsum8(_mm256_add_ps(acc0, acc1));
}

/* ---- k-quants against Q8_K ---- */

/* Q4_K: the min term sum_j m_j * (bsums[2j] + bsums[2j+1]) is one madd of
 * the 16 group sums with the mins each repeated twice. */
void g4_vec_dot_q4_K_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q4_K *w = vw;
    const struct g4_block_q8_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        __m128i sc8, mn8;
        g4x_scales_mins_k4(w[b].scales, &sc8, &mn8);
        const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mn8, mn8));
        const __m256i sc2 = _mm256_broadcastsi128_si256(sc8);
        __m256i s0 = _mm256_setzero_si256(), s1 = s0;
        for (int c = 0; c < 4; c++) {
            const __m256i q4 = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * c));
            const __m256i lo = _mm256_and_si256(q4, m4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
            const __m256i ylo = _mm256_loadu_si256((const __m256i *)(x[b].qs + 64 * c));
            const __m256i yhi = _mm256_loadu_si256((const __m256i *)(x[b].qs + 64 * c + 32));
            const __m256i plo = _mm256_maddubs_epi16(lo, ylo); /* |15*127*2| < 2^15 */
            const __m256i phi = _mm256_maddubs_epi16(hi, yhi);
            s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(plo, g4x_bcast_u8_epi16(sc2, 2 * c)));
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(phi, g4x_bcast_u8_epi16(sc2, 2 * c + 1)));
        }
        const __m256i sm = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)x[b].bsums), mins16);
        const __m256 dy = _mm256_set1_ps(x[b].d);
        acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(f16f(w[b].d)), dy), _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)),
                              acc);
        acc = _mm256_fnmadd_ps(_mm256_mul_ps(_mm256_set1_ps(f16f(w[b].dmin)), dy), _mm256_cvtepi32_ps(sm), acc);
    }
    *s = hsum8(acc);
}

/* Q6_K: (q - 32).y = q.y - 32 * (group sums of y . scales), so one maddubs
 * per 32 quants (q unsigned 6-bit: 63*127*2 < 2^15); per block |sum| <=
 * 128*63*127*256 < 2^31. */
void g4_vec_dot_q6_K_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q6_K *w = vw;
    const struct g4_block_q8_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        __m256i s0 = _mm256_setzero_si256(), s1 = s0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[b].ql + 64 * h, *qh = w[b].qh + 32 * h;
            const int8_t *sc = w[b].scales + 8 * h;
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i hb = _mm256_loadu_si256((const __m256i *)qh);
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
            for (int j = 0; j < 4; j += 2) {
                const __m256i y0 = _mm256_loadu_si256((const __m256i *)(x[b].qs + 128 * h + 32 * j));
                const __m256i y1 = _mm256_loadu_si256((const __m256i *)(x[b].qs + 128 * h + 32 * j + 32));
                const __m256i sc0 = _mm256_set_m128i(_mm_set1_epi16(sc[2 * j + 1]), _mm_set1_epi16(sc[2 * j]));
                const __m256i sc1 = _mm256_set_m128i(_mm_set1_epi16(sc[2 * j + 3]), _mm_set1_epi16(sc[2 * j + 2]));
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_maddubs_epi16(q[j], y0), sc0));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_maddubs_epi16(q[j + 1], y1), sc1));
            }
        }
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w[b].scales));
        const __m256i corr = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)x[b].bsums), sc16);
        const __m256i si = _mm256_sub_epi32(_mm256_add_epi32(s0, s1), _mm256_slli_epi32(corr, 5));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b].d) * x[b].d), _mm256_cvtepi32_ps(si), acc);
    }
    *s = hsum8(acc);
}
