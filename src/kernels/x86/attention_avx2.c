/* attention_avx2.c — AVX2+FMA+F16C attention for one query token and one
 * GQA group (contract in kernels.h). Each visible slot's K and V rows are
 * converted to float32 once into stack buffers and shared by every head of
 * the group; dots and the weighted V sum are 8-wide FMA with scalar tails;
 * softmax is online (running max) with scalar expf. Head dims above
 * MAX_D fall back to the reference. */
#include "kernels/kernels_impl.h"

#include "core/fp16.h"

#include <immintrin.h>

/* f16 -> f32 with F16C (exact, like g4_f16_to_f32, without its branches) */
static inline float f16f(uint16_t h) { return _cvtsh_ss(h); }
#include <math.h>

enum { MAX_D = 1024, GROUP = 64 };

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* row of D elements of `type` at p -> float32 dst (dst is used only for f16/bf16) */
static const float *row_f32(uint32_t type, const void *p, int64_t D, float *dst) {
    if (type == G4_TYPE_F32) return p;
    const uint16_t *h = p;
    int64_t d = 0;
    if (type == G4_TYPE_F16) {
        for (; d + 8 <= D; d += 8) _mm256_storeu_ps(dst + d, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + d))));
        for (; d < D; d++) dst[d] = f16f(h[d]);
    } else {
        for (; d + 8 <= D; d += 8) {
            __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(h + d)));
            _mm256_storeu_ps(dst + d, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
        }
        for (; d < D; d++) dst[d] = g4_bf16_to_f32(h[d]);
    }
    return dst;
}

static inline float dot(const float *a, const float *b, int64_t D) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int64_t d = 0;
    for (; d + 16 <= D; d += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d), _mm256_loadu_ps(b + d), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d + 8), _mm256_loadu_ps(b + d + 8), s1);
    }
    for (; d + 8 <= D; d += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + d), _mm256_loadu_ps(b + d), s0);
    float s = hsum8(_mm256_add_ps(s0, s1));
    for (; d < D; d++) s += a[d] * b[d];
    return s;
}

/* o = o * c + p * v */
static inline void scale_axpy(float *o, float c, float p, const float *v, int64_t D) {
    const __m256 vc = _mm256_set1_ps(c), vp = _mm256_set1_ps(p);
    int64_t d = 0;
    for (; d + 8 <= D; d += 8)
        _mm256_storeu_ps(o + d, _mm256_fmadd_ps(vp, _mm256_loadu_ps(v + d), _mm256_mul_ps(vc, _mm256_loadu_ps(o + d))));
    for (; d < D; d++) o[d] = o[d] * c + p * v[d];
}

static bool visible(const struct g4_attn_args *a, int32_t kp) {
    if (kp < 0) return false;
    if (a->mask) return a->mask(a->mask_ctx, a->q_pos, kp);
    if (a->causal && kp > a->q_pos) return false;
    if (a->window > 0 && (int64_t)kp <= (int64_t)a->q_pos - a->window) return false;
    return true;
}

void g4_attention_avx2(const struct g4_attn_args *a) {
    const int64_t D = a->head_dim;
    if (D > MAX_D) {
        g4_attention_ref(a);
        return;
    }
    const size_t es = a->kv_type == G4_TYPE_F32 ? 4 : 2;
    float kbuf[MAX_D], vbuf[MAX_D];
    for (int64_t h0 = 0; h0 < a->n_q; h0 += GROUP) {
        const int64_t nh = G4_MIN((int64_t)GROUP, a->n_q - h0);
        float m[GROUP], l[GROUP];
        for (int64_t h = 0; h < nh; h++) {
            m[h] = -INFINITY;
            l[h] = 0.0f;
            float *o = a->out + (h0 + h) * a->out_head_stride;
            for (int64_t d = 0; d < D; d++) o[d] = 0.0f;
        }
        for (int64_t i = 0; i < a->n_kv; i++) {
            const int32_t kp = a->kv_pos ? a->kv_pos[i] : a->kv_pos0 + (int32_t)i;
            if (!visible(a, kp)) continue;
            const float *k = row_f32(a->kv_type, (const char *)a->k + (size_t)(i * a->kv_stride) * es, D, kbuf);
            const float *v = row_f32(a->kv_type, (const char *)a->v + (size_t)(i * a->kv_stride) * es, D, vbuf);
            for (int64_t h = 0; h < nh; h++) {
                float s = dot(a->q + (h0 + h) * a->q_head_stride, k, D) * a->scale;
                if (a->softcap > 0.0f) s = a->softcap * tanhf(s / a->softcap);
                float c = 1.0f;
                if (s > m[h]) {
                    c = m[h] == -INFINITY ? 0.0f : expf(m[h] - s);
                    m[h] = s;
                }
                const float p = expf(s - m[h]);
                l[h] = l[h] * c + p;
                scale_axpy(a->out + (h0 + h) * a->out_head_stride, c, p, v, D);
            }
        }
        for (int64_t h = 0; h < nh; h++) {
            if (l[h] == 0.0f) continue;
            float *o = a->out + (h0 + h) * a->out_head_stride;
            const float inv = 1.0f / l[h];
            for (int64_t d = 0; d < D; d++) o[d] *= inv;
        }
    }
}
