/* dot_kquant_ref.c — scalar reference dots of the 256-element super-block
 * types (Q4_K, Q5_K, Q6_K, IQ4_XS) against Q8_K activations. Each block is
 * first unpacked into plain integer quants q[256] and integer sub-block
 * scales, then dotted in int (exact) and scaled in float; blocks are summed
 * in double. The unpacking follows ggml's dequantize_row_* bit layout. */
#include "kernels/kernels_impl.h"

#include "core/fp16.h"

static inline float h2f(uint16_t h) { return g4_f16_to_f32(h); }

/* Exact integer dot of 32 quants with 32 activation quants. */
static inline int dot32(const int8_t *q, const int8_t *x) {
    int s = 0;
    for (int l = 0; l < 32; l++) s += q[l] * x[l];
    return s;
}

void g4_vec_dot_q4_K_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q4_K *w = vw;
    const struct g4_block_q8_K *x = vx;
    double acc = 0.0;
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        int8_t q[256];
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                q[64 * c + l] = (int8_t)(w[b].qs[32 * c + l] & 0xF);
                q[64 * c + 32 + l] = (int8_t)(w[b].qs[32 * c + l] >> 4);
            }
        int sum_q = 0, sum_m = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            g4k_scale_min_k4(j, w[b].scales, &sc, &m);
            sum_q += sc * dot32(q + 32 * j, x[b].qs + 32 * j);
            sum_m += m * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        }
        acc += (double)(h2f(w[b].d) * x[b].d) * sum_q - (double)(h2f(w[b].dmin) * x[b].d) * sum_m;
    }
    *s = (float)acc;
}

void g4_vec_dot_q5_K_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q5_K *w = vw;
    const struct g4_block_q8_K *x = vx;
    double acc = 0.0;
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        int8_t q[256];
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                const uint8_t h = w[b].qh[l];
                q[64 * c + l] = (int8_t)((w[b].qs[32 * c + l] & 0xF) + (((h >> (2 * c)) & 1) << 4));
                q[64 * c + 32 + l] = (int8_t)((w[b].qs[32 * c + l] >> 4) + (((h >> (2 * c + 1)) & 1) << 4));
            }
        int sum_q = 0, sum_m = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            g4k_scale_min_k4(j, w[b].scales, &sc, &m);
            sum_q += sc * dot32(q + 32 * j, x[b].qs + 32 * j);
            sum_m += m * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        }
        acc += (double)(h2f(w[b].d) * x[b].d) * sum_q - (double)(h2f(w[b].dmin) * x[b].d) * sum_m;
    }
    *s = (float)acc;
}

void g4_vec_dot_q6_K_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q6_K *w = vw;
    const struct g4_block_q8_K *x = vx;
    double acc = 0.0;
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        int8_t q[256];
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[b].ql + 64 * h, *qh = w[b].qh + 32 * h;
            int8_t *o = q + 128 * h;
            for (int l = 0; l < 32; l++) {
                o[l] = (int8_t)(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                o[l + 32] = (int8_t)(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                o[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                o[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        int sum = 0; /* 16 groups of 16 elements, one int8 scale each */
        for (int g = 0; g < 16; g++) {
            int sg = 0;
            for (int l = 0; l < 16; l++) sg += q[16 * g + l] * x[b].qs[16 * g + l];
            sum += w[b].scales[g] * sg;
        }
        acc += (double)(h2f(w[b].d) * x[b].d) * sum;
    }
    *s = (float)acc;
}

void g4_vec_dot_iq4_xs_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_iq4_xs *w = vw;
    const struct g4_block_q8_K *x = vx;
    double acc = 0.0;
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        int sum = 0;
        for (int ib = 0; ib < 8; ib++) {
            const int ls = ((w[b].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((w[b].scales_h >> (2 * ib)) & 3) << 4);
            const uint8_t *qs = w[b].qs + 16 * ib;
            const int8_t *xq = x[b].qs + 32 * ib;
            int sb = 0;
            for (int j = 0; j < 16; j++) {
                sb += g4_kvalues_iq4nl[qs[j] & 0xF] * xq[j];
                sb += g4_kvalues_iq4nl[qs[j] >> 4] * xq[j + 16];
            }
            sum += (ls - 32) * sb;
        }
        acc += (double)(h2f(w[b].d) * x[b].d) * sum;
    }
    *s = (float)acc;
}
