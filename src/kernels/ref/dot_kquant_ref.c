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

/* Q2_K: element e = 128c + 32j + l (c < 2, j < 4, l < 32) is bits 2j..2j+1
 * of qs[32c + l]; 16-element group g = e / 16 has scale scales[g] & 15 and
 * min scales[g] >> 4. */
void g4_vec_dot_q2_K_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q2_K *w = vw;
    const struct g4_block_q8_K *x = vx;
    double acc = 0.0;
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        int sum_q = 0, sum_m = 0;
        for (int c = 0; c < 2; c++)
            for (int j = 0; j < 4; j++)
                for (int half = 0; half < 2; half++) {
                    const int g = 8 * c + 2 * j + half;
                    int sg = 0;
                    for (int l = 16 * half; l < 16 * half + 16; l++)
                        sg += ((w[b].qs[32 * c + l] >> (2 * j)) & 3) * x[b].qs[128 * c + 32 * j + l];
                    sum_q += (w[b].scales[g] & 0xF) * sg;
                    sum_m += (w[b].scales[g] >> 4) * x[b].bsums[g];
                }
        acc += (double)(h2f(w[b].d) * x[b].d) * sum_q - (double)(h2f(w[b].dmin) * x[b].d) * sum_m;
    }
    *s = (float)acc;
}

/* Q3_K: 16 6-bit scales packed in 12 bytes (low nibbles in bytes 0..7, high
 * 2 bits in bytes 8..11); element e = 128c + 32j + l is bits 2j..2j+1 of
 * qs[32c + l] minus 4 unless bit 4c + j of hmask[l] is set; group g = e / 16
 * has scale scales[g] - 32. */
void g4_vec_dot_q3_K_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q3_K *w = vw;
    const struct g4_block_q8_K *x = vx;
    double acc = 0.0;
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        int sc[16];
        for (int g = 0; g < 16; g++) {
            const int lo = g < 8 ? w[b].scales[g] & 0xF : w[b].scales[g - 8] >> 4;
            const int hi = (w[b].scales[8 + g % 4] >> (2 * (g / 4))) & 3;
            sc[g] = (lo | hi << 4) - 32;
        }
        int sum = 0;
        for (int c = 0; c < 2; c++)
            for (int j = 0; j < 4; j++)
                for (int half = 0; half < 2; half++) {
                    int sg = 0;
                    for (int l = 16 * half; l < 16 * half + 16; l++) {
                        const int q = ((w[b].qs[32 * c + l] >> (2 * j)) & 3) - ((w[b].hmask[l] >> (4 * c + j)) & 1 ? 0 : 4);
                        sg += q * x[b].qs[128 * c + 32 * j + l];
                    }
                    sum += sc[8 * c + 2 * j + half] * sg;
                }
        acc += (double)(h2f(w[b].d) * x[b].d) * sum;
    }
    *s = (float)acc;
}
