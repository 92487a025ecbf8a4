/* attention_ref.c — scalar reference attention for one query token and one
 * GQA group: scores q.k * scale (optional softcap), mask, softmax, weighted
 * sum of V, in a single pass with an online (running max) softmax. The KV
 * slots are read once for all heads of the group. Scores and weights are
 * float32; the normaliser is double. Fully masked heads output zeros. */
#include "kernels/kernels_impl.h"

#include "core/fp16.h"

#include <math.h>

enum { GROUP = 64 }; /* heads processed per pass over the slots */

static inline float kv_get(uint32_t type, const void *p, int64_t i) {
    switch (type) {
    case G4_TYPE_F16: return g4_f16_to_f32(((const uint16_t *)p)[i]);
    case G4_TYPE_BF16: return g4_bf16_to_f32(((const uint16_t *)p)[i]);
    default: return ((const float *)p)[i];
    }
}

static inline const void *kv_row(uint32_t type, const void *base, int64_t off) {
    return type == G4_TYPE_F32 ? (const void *)((const float *)base + off) : (const void *)((const uint16_t *)base + off);
}

static bool visible(const struct g4_attn_args *a, int32_t kp) {
    if (kp < 0) return false;
    if (a->mask) return a->mask(a->mask_ctx, a->q_pos, kp);
    if (a->causal && kp > a->q_pos) return false;
    if (a->window > 0 && (int64_t)kp <= (int64_t)a->q_pos - a->window) return false;
    return true;
}

void g4_attention_ref(const struct g4_attn_args *a) {
    const int64_t D = a->head_dim;
    for (int64_t h0 = 0; h0 < a->n_q; h0 += GROUP) {
        const int64_t nh = G4_MIN((int64_t)GROUP, a->n_q - h0);
        float m[GROUP];
        double l[GROUP];
        for (int64_t h = 0; h < nh; h++) {
            m[h] = -INFINITY;
            l[h] = 0.0;
            float *o = a->out + (h0 + h) * a->out_head_stride;
            for (int64_t d = 0; d < D; d++) o[d] = 0.0f;
        }
        for (int64_t i = 0; i < a->n_kv; i++) {
            const int32_t kp = a->kv_pos ? a->kv_pos[i] : a->kv_pos0 + (int32_t)i;
            if (!visible(a, kp)) continue;
            const void *k = kv_row(a->kv_type, a->k, i * a->kv_stride);
            const void *v = kv_row(a->kv_type, a->v, i * a->kv_stride);
            for (int64_t h = 0; h < nh; h++) {
                const float *q = a->q + (h0 + h) * a->q_head_stride;
                float *o = a->out + (h0 + h) * a->out_head_stride;
                double dot = 0.0;
                for (int64_t d = 0; d < D; d++) dot += (double)q[d] * kv_get(a->kv_type, k, d);
                float s = (float)dot * a->scale;
                if (a->softcap > 0.0f) s = a->softcap * tanhf(s / a->softcap);
                if (s > m[h]) { /* new running max: rescale what we have */
                    const float c = m[h] == -INFINITY ? 0.0f : expf(m[h] - s);
                    for (int64_t d = 0; d < D; d++) o[d] *= c;
                    l[h] *= c;
                    m[h] = s;
                }
                const float p = expf(s - m[h]);
                l[h] += p;
                for (int64_t d = 0; d < D; d++) o[d] += p * kv_get(a->kv_type, v, d);
            }
        }
        for (int64_t h = 0; h < nh; h++) {
            if (l[h] == 0.0) continue; /* fully masked: zeros */
            float *o = a->out + (h0 + h) * a->out_head_stride;
            const float inv = (float)(1.0 / l[h]);
            for (int64_t d = 0; d < D; d++) o[d] *= inv;
        }
    }
}
