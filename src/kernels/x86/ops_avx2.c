/* ops_avx2.c — AVX2+FMA+F16C versions of the cheap float32 row ops:
 * rmsnorm (float accumulation of the squares, 4 x 8 lanes), rope_cs, add, mul, scale
 * (bit-identical to the references: one rounding each), and the f32 -> f16
 * (vcvtps2ph, nearest even) / bf16 (integer nearest even) row conversion,
 * bit-identical to core/fp16.h (NaN payloads aside: f16 keeps the top ones). */
#include "kernels/kernels_impl.h"

#include "core/fp16.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

void g4_rmsnorm_avx2(float *y, const float *x, const float *w, int64_t n, float eps, enum g4_norm_mode mode) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        __m256 c = _mm256_loadu_ps(x + i + 16), d = _mm256_loadu_ps(x + i + 24);
        s0 = _mm256_fmadd_ps(a, a, s0);
        s1 = _mm256_fmadd_ps(b, b, s1);
        s2 = _mm256_fmadd_ps(c, c, s2);
        s3 = _mm256_fmadd_ps(d, d, s3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_loadu_ps(x + i);
        s0 = _mm256_fmadd_ps(a, a, s0);
    }
    float ss = hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) ss += x[i] * x[i];
    const float mean = ss / (float)n;
    const float r = (float)(1.0 / sqrt((double)(mean + eps)));
    const __m256 vr = _mm256_set1_ps(r), one = _mm256_set1_ps(1.0f);
    i = 0;
    if (mode == G4_NORM_W) {
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vr), _mm256_loadu_ps(w + i)));
        for (; i < n; i++) y[i] = (x[i] * r) * w[i];
    } else if (mode == G4_NORM_1PW) {
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vr),
                                                  _mm256_add_ps(one, _mm256_loadu_ps(w + i))));
        for (; i < n; i++) y[i] = (x[i] * r) * (1.0f + w[i]);
    } else {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vr));
        for (; i < n; i++) y[i] = x[i] * r;
    }
}

/* 8 pairs at a time; pairs with cos 1 / sin 0 come out unchanged (FMA of
 * x*1 - y*0 is exact), so the identity dims of partial rope stay bit-exact. */
void g4_rope_cs_avx2(float *x, int64_t n_head, int64_t head_dim, int64_t head_stride, const float *cs) {
    const int64_t half = head_dim / 2;
    for (int64_t h = 0; h < n_head; h++) {
        float *lo = x + h * head_stride, *hi = lo + half;
        int64_t i = 0;
        for (; i + 8 <= half; i += 8) {
            const __m256 c = _mm256_loadu_ps(cs + i), s = _mm256_loadu_ps(cs + half + i);
            const __m256 a = _mm256_loadu_ps(lo + i), b = _mm256_loadu_ps(hi + i);
            _mm256_storeu_ps(lo + i, _mm256_fmsub_ps(a, c, _mm256_mul_ps(b, s)));
            _mm256_storeu_ps(hi + i, _mm256_fmadd_ps(b, c, _mm256_mul_ps(a, s)));
        }
        for (; i < half; i++) {
            const float c = cs[i], s = cs[half + i];
            if (c == 1.0f && s == 0.0f) continue;
            const float a = lo[i], b = hi[i];
            lo[i] = a * c - b * s;
            hi[i] = b * c + a * s;
        }
    }
}

void g4_add_avx2(float *y, const float *a, const float *b, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; i++) y[i] = a[i] + b[i];
}

void g4_mul_avx2(float *y, const float *a, const float *b, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; i++) y[i] = a[i] * b[i];
}

void g4_scale_avx2(float *y, const float *x, float s, int64_t n) {
    const __m256 vs = _mm256_set1_ps(s);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
    for (; i < n; i++) y[i] = x[i] * s;
}

void g4_cvt_row_avx2(void *dst, uint32_t dst_type, const float *src, int64_t n) {
    uint16_t *d = dst;
    int64_t i = 0;
    if (dst_type == G4_TYPE_F16) {
        for (; i + 8 <= n; i += 8)
            _mm_storeu_si128((__m128i *)(d + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
        for (; i < n; i++) d[i] = g4_f32_to_f16(src[i]);
    } else if (dst_type == G4_TYPE_BF16) {
        const __m256i lsb = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff);
        const __m256i absmask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
        const __m256i quiet = _mm256_set1_epi32(0x00400000);
        for (; i + 8 <= n; i += 8) {
            const __m256i x = _mm256_castps_si256(_mm256_loadu_ps(src + i));
            /* nearest even: x + 0x7fff + ((x >> 16) & 1), then the high half */
            __m256i r = _mm256_add_epi32(_mm256_add_epi32(x, bias), _mm256_and_si256(_mm256_srli_epi32(x, 16), lsb));
            /* NaN: keep the payload's top bits and set the quiet bit instead */
            const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(x, absmask), inf);
            r = _mm256_blendv_epi8(r, _mm256_or_si256(x, quiet), nan);
            r = _mm256_srli_epi32(r, 16);
            /* pack 8 x u32 (< 2^16) to 8 x u16 */
            const __m128i lo = _mm256_castsi256_si128(r), hi = _mm256_extracti128_si256(r, 1);
            _mm_storeu_si128((__m128i *)(d + i), _mm_packus_epi32(lo, hi));
        }
        for (; i < n; i++) d[i] = g4_f32_to_bf16(src[i]);
    } else if (dst_type == G4_TYPE_F32) {
        memmove(dst, src, sizeof(float) * (size_t)n);
    }
}
