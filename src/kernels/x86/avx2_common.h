/* avx2_common.h — small inline helpers shared by the AVX2 kernel files
 * (include only from *_avx2.c, which are compiled with -mavx2 -mfma -mf16c):
 * horizontal sum, F16C scale conversion, and the vectorised unpacking of the
 * Q4_K/Q5_K 6-bit scales and mins (same values as g4k_scale_min_k4). */
#ifndef G4_KERNELS_X86_AVX2_COMMON_H
#define G4_KERNELS_X86_AVX2_COMMON_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

static inline float g4x_hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* f16 -> f32 with F16C (exact, like g4_f16_to_f32, without its branches) */
static inline float g4x_f16(uint16_t h) { return _cvtsh_ss(h); }

/* The 8 scales and 8 mins of a Q4_K/Q5_K block (12 packed bytes q) as
 * bytes 0..7 of *sc and *mn, by 32-bit word masks:
 *   j < 4:  sc = q[j] & 63,                       mn = q[j+4] & 63
 *   j >= 4: sc = (q[j+4] & 15) | (q[j-4] >> 6) << 4, mn = (q[j+4] >> 4) | (q[j] >> 6) << 4 */
static inline void g4x_scales_mins_k4(const uint8_t *q, __m128i *sc, __m128i *mn) {
    uint32_t u[3];
    memcpy(u, q, 12);
    const uint32_t k6 = 0x3f3f3f3f, k4 = 0x0f0f0f0f, k2 = 0x03030303;
    const uint32_t sc_lo = u[0] & k6, mn_lo = u[1] & k6;
    const uint32_t sc_hi = (u[2] & k4) | (((u[0] >> 6) & k2) << 4);
    const uint32_t mn_hi = ((u[2] >> 4) & k4) | (((u[1] >> 6) & k2) << 4);
    *sc = _mm_set_epi32(0, 0, (int)sc_hi, (int)sc_lo);
    *mn = _mm_set_epi32(0, 0, (int)mn_hi, (int)mn_lo);
}

/* 16 int16 lanes all equal to byte j (0..15) of both halves of s2 (pshufb;
 * index byte 0x80 yields zero for the high byte) */
static inline __m256i g4x_bcast_u8_epi16(__m256i s2, int j) {
    return _mm256_shuffle_epi8(s2, _mm256_set1_epi16((short)(0x8000 | j)));
}

#endif
