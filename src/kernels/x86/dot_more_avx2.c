/* dot_more_avx2.c — AVX2 dots for the remaining common weight types:
 * Q4_1, Q5_0, Q5_1, IQ4_NL (against Q8_0) and Q5_K, IQ4_XS (against Q8_K).
 * Same contract as dot_avx2.c: exact integer products inside a block
 * (every maddubs pair sum stays below 2^15), float accumulation across
 * blocks. IQ4 code-book lookups use pshufb on the 16-entry table. */
#include "kernels/kernels_impl.h"

#include "core/fp16.h"

#include "kernels/x86/avx2_common.h"

#include <immintrin.h>

/* f16 -> f32 with F16C (exact, like g4_f16_to_f32, without its branches) */
static inline float f16f(uint16_t h) { return _cvtsh_ss(h); }
#include <string.h>

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __m256i nibbles_32(const uint8_t *p) {
    const __m128i t = _mm_loadu_si128((const __m128i *)p);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0F));
}

/* 32 bits -> 32 bytes, byte j = 0xFF if bit j is set */
static inline __m256i bits_32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32((int)v), shuf);
    const __m256i mask = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, mask), mask);
}

/* int32x8 partial sums of signed x * signed y */
static inline __m256i mul_sum_i8_pairs(__m256i x, __m256i y) {
    const __m256i dot = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    return _mm256_madd_epi16(dot, _mm256_set1_epi16(1));
}
/* int32x8 partial sums of unsigned x * signed y */
static inline __m256i mul_sum_u8_i8(__m256i x, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1));
}

void g4_vec_dot_q4_1_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q4_1 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    const __m256i ones = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; b++) {
        const float dx = f16f(x[b].d);
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        const __m256i qw = nibbles_32(w[b].qs);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b].d) * dx), _mm256_cvtepi32_ps(mul_sum_u8_i8(qw, qx)), acc);
        accm = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b].m) * dx), _mm256_cvtepi32_ps(mul_sum_u8_i8(ones, qx)), accm);
    }
    *s = hsum8(_mm256_add_ps(acc, accm));
}

void g4_vec_dot_q5_0_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q5_0 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; b++) {
        const __m256i hi = _mm256_and_si256(bits_32(w[b].qh), _mm256_set1_epi8(0x10));
        const __m256i qw = _mm256_sub_epi8(_mm256_or_si256(nibbles_32(w[b].qs), hi), _mm256_set1_epi8(16));
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b].d) * f16f(x[b].d)),
                              _mm256_cvtepi32_ps(mul_sum_i8_pairs(qw, qx)), acc);
    }
    *s = hsum8(acc);
}

void g4_vec_dot_q5_1_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q5_1 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    const __m256i ones = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; b++) {
        const float dx = f16f(x[b].d);
        const __m256i hi = _mm256_and_si256(bits_32(w[b].qh), _mm256_set1_epi8(0x10));
        const __m256i qw = _mm256_or_si256(nibbles_32(w[b].qs), hi);
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b].d) * dx), _mm256_cvtepi32_ps(mul_sum_u8_i8(qw, qx)), acc);
        accm = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b].m) * dx), _mm256_cvtepi32_ps(mul_sum_u8_i8(ones, qx)), accm);
    }
    *s = hsum8(_mm256_add_ps(acc, accm));
}

static inline __m256i iq4_table(void) {
    const __m128i t = _mm_loadu_si128((const __m128i *)g4_kvalues_iq4nl);
    return _mm256_set_m128i(t, t);
}

void g4_vec_dot_iq4_nl_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_iq4_nl *w = vw;
    const struct g4_block_q8_0 *x = vx;
    const __m256i tab = iq4_table();
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; b++) {
        const __m256i qw = _mm256_shuffle_epi8(tab, nibbles_32(w[b].qs));
        const __m256i qx = _mm256_loadu_si256((const __m256i *)x[b].qs);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b].d) * f16f(x[b].d)),
                              _mm256_cvtepi32_ps(mul_sum_i8_pairs(qw, qx)), acc);
    }
    *s = hsum8(acc);
}

void g4_vec_dot_iq4_xs_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_iq4_xs *w = vw;
    const struct g4_block_q8_K *x = vx;
    const __m256i tab = iq4_table();
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        __m256i sumi = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++) {
            const int ls = ((w[b].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((w[b].scales_h >> (2 * ib)) & 3) << 4);
            const __m256i qw = _mm256_shuffle_epi8(tab, nibbles_32(w[b].qs + 16 * ib));
            const __m256i qx = _mm256_loadu_si256((const __m256i *)(x[b].qs + 32 * ib));
            /* |v| <= 127 and |y| <= 127: pair sums <= 32258 < 2^15 */
            const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, _mm256_set1_epi16((short)(ls - 32))));
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(f16f(w[b].d) * x[b].d), _mm256_cvtepi32_ps(sumi), acc);
    }
    *s = hsum8(acc);
}

void g4_vec_dot_q5_K_avx2(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q5_K *w = vw;
    const struct g4_block_q8_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        __m128i sc8, mn8;
        g4x_scales_mins_k4(w[b].scales, &sc8, &mn8);
        const __m256i sc2 = _mm256_broadcastsi128_si256(sc8);
        const __m256i sm = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)x[b].bsums),
                                             _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mn8, mn8)));
        __m256i hb = _mm256_loadu_si256((const __m256i *)w[b].qh);
        __m256i sumi = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i q4 = _mm256_loadu_si256((const __m256i *)(w[b].qs + 32 * c));
            const __m256i hlo = _mm256_slli_epi16(_mm256_and_si256(hb, one), 4);
            const __m256i hhi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 1), one), 4);
            hb = _mm256_srli_epi16(hb, 2);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(q4, m4), hlo);
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4, 4), m4), hhi);
            const __m256i ylo = _mm256_loadu_si256((const __m256i *)(x[b].qs + 64 * c));
            const __m256i yhi = _mm256_loadu_si256((const __m256i *)(x[b].qs + 64 * c + 32));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(lo, ylo), g4x_bcast_u8_epi16(sc2, 2 * c)));
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(hi, yhi), g4x_bcast_u8_epi16(sc2, 2 * c + 1)));
        }
        const __m256 dy = _mm256_set1_ps(x[b].d);
        acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(f16f(w[b].d)), dy), _mm256_cvtepi32_ps(sumi), acc);
        acc = _mm256_fnmadd_ps(_mm256_mul_ps(_mm256_set1_ps(f16f(w[b].dmin)), dy), _mm256_cvtepi32_ps(sm), acc);
    }
    *s = hsum8(acc);
}
