/* dot_avx2.c — AVX2+FMA+F16C dot kernels: float32 / f16 / bf16 weights
 * against float32 activations, and Q4_0, Q8_0 (against Q8_0), Q4_K, Q6_K
 * (against Q8_K). Integer products are exact (maddubs pairs stay below
 * 2^15: |u8 * s8| <= 128*127), so these differ from the references only in
 * the float accumulation order across blocks. Each has a scalar tail where
 * the element count allows one. Compiled with -mavx2 -mfma -mf16c; only
 * called when cpuid reports those (kernels.c). */
#include "kernels/kernels_impl.h"

#include "core/fp16.h"

#include <immintrin.h>

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
    for (; i < n; i++) r += g4_f16_to_f32(w[i]) * x[i];
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

void g4_vec_dot_q8_0_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q8_0 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; b++) {
        const __m256 d = _mm256_set1_ps(g4_f16_to_f32(w[b].d) * g4_f16_to_f32(x[b].d));
        const __m256i qw = _mm256_loadu_si256((const __m256i *)w[b].qs);
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        acc = _mm256_fmadd_ps(d, mul_sum_i8_pairs_float(qw, qx), acc);
    }
    *s = hsum8(acc);
}

void g4_vec_dot_q4_0_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q4_0 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; b++) {
        const __m256 d = _mm256_set1_ps(g4_f16_to_f32(w[b].d) * g4_f16_to_f32(x[b].d));
        const __m256i qw = _mm256_sub_epi8(nibbles_32(w[b].qs), _mm256_set1_epi8(8));
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        acc = _mm256_fmadd_ps(d, mul_sum_i8_pairs_float(qw, qx), acc);
    }
    *s = hsum8(acc);
}

/* ---- k-quants against Q8_K ---- */

void g4_vec_dot_q4_K_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q4_K *w = vw;
    const struct g4_block_q8_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc = _mm256_setzero_ps();
    float acc_m = 0.0f;
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        uint8_t sc[8], mn[8];
        for (int j = 0; j < 8; j++) g4k_scale_min_k4(j, w[b].scales, &sc[j], &mn[j]);
        int sum_m = 0;
        for (int j = 0; j < 8; j++) sum_m += mn[j] * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i q4 = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * c));
            const __m256i lo = _mm256_and_si256(q4, m4);
            const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
            const __m256i ylo = _mm256_loadu_si256((const __m256i *)(x[b].qs + 64 * c));
            const __m256i yhi = _mm256_loadu_si256((const __m256i *)(x[b].qs + 64 * c + 32));
            const __m256i plo = _mm256_maddubs_epi16(lo, ylo); /* |15*127*2| < 2^15 */
            const __m256i phi = _mm256_maddubs_epi16(hi, yhi);
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(plo, _mm256_set1_epi16(sc[2 * c])));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(phi, _mm256_set1_epi16(sc[2 * c + 1])));
        }
        const float dy = x[b].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(g4_f16_to_f32(w[b].d) * dy), _mm256_cvtepi32_ps(sumi), acc);
        acc_m += g4_f16_to_f32(w[b].dmin) * dy * (float)sum_m;
    }
    *s = hsum8(acc) - acc_m;
}

void g4_vec_dot_q6_K_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q6_K *w = vw;
    const struct g4_block_q8_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3), k32 = _mm256_set1_epi8(32);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        __m256i sumi = _mm256_setzero_si256();
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
            for (int j = 0; j < 4; j++) {
                const __m256i y = _mm256_loadu_si256((const __m256i *)(x[b].qs + 128 * h + 32 * j));
                /* (q - 32) . y as q.y - 32.y: both maddubs stay below 2^15 */
                const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(q[j], y), _mm256_maddubs_epi16(k32, y));
                const __m256i scv = _mm256_set_m128i(_mm_set1_epi16(sc[2 * j + 1]), _mm_set1_epi16(sc[2 * j]));
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, scv));
            }
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(g4_f16_to_f32(w[b].d) * x[b].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = hsum8(acc);
}
