/* dot_q32_ref.c — scalar reference dots of the 32-element block types
 * (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) against Q8_0 activations.
 * Within a block the products are summed exactly in int; blocks are
 * combined in double. Element j < 16 of a 4-bit block is the low nibble of
 * qs[j], element j + 16 the high nibble (ggml order). */
#include "kernels/kernels_impl.h"

#include "core/fp16.h"

#include <string.h>

static inline float h2f(uint16_t h) { return g4_f16_to_f32(h); }

static inline int q8_sum(const int8_t *q) {
    int s = 0;
    for (int j = 0; j < 32; j++) s += q[j];
    return s;
}

void g4_vec_dot_q4_0_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q4_0 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    double acc = 0.0;
    for (int64_t b = 0; b < n / 32; b++) {
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += ((w[b].qs[j] & 0xF) - 8) * x[b].qs[j];
            sumi += ((w[b].qs[j] >> 4) - 8) * x[b].qs[j + 16];
        }
        acc += (double)sumi * (h2f(w[b].d) * h2f(x[b].d));
    }
    *s = (float)acc;
}

void g4_vec_dot_q4_1_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q4_1 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    double acc = 0.0;
    for (int64_t b = 0; b < n / 32; b++) {
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += (w[b].qs[j] & 0xF) * x[b].qs[j];
            sumi += (w[b].qs[j] >> 4) * x[b].qs[j + 16];
        }
        const float dx = h2f(x[b].d);
        acc += (double)sumi * (h2f(w[b].d) * dx) + (double)q8_sum(x[b].qs) * (h2f(w[b].m) * dx);
    }
    *s = (float)acc;
}

static inline uint32_t qh_bits(const uint8_t qh[4]) {
    uint32_t v;
    memcpy(&v, qh, 4); /* little-endian, as stored */
    return v;
}

void g4_vec_dot_q5_0_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q5_0 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    double acc = 0.0;
    for (int64_t b = 0; b < n / 32; b++) {
        const uint32_t qh = qh_bits(w[b].qh);
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            int h0 = (int)((qh >> j) & 1) << 4, h1 = (int)((qh >> (j + 16)) & 1) << 4;
            sumi += (((w[b].qs[j] & 0xF) | h0) - 16) * x[b].qs[j];
            sumi += (((w[b].qs[j] >> 4) | h1) - 16) * x[b].qs[j + 16];
        }
        acc += (double)sumi * (h2f(w[b].d) * h2f(x[b].d));
    }
    *s = (float)acc;
}

void g4_vec_dot_q5_1_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q5_1 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    double acc = 0.0;
    for (int64_t b = 0; b < n / 32; b++) {
        const uint32_t qh = qh_bits(w[b].qh);
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            int h0 = (int)((qh >> j) & 1) << 4, h1 = (int)((qh >> (j + 16)) & 1) << 4;
            sumi += ((w[b].qs[j] & 0xF) | h0) * x[b].qs[j];
            sumi += ((w[b].qs[j] >> 4) | h1) * x[b].qs[j + 16];
        }
        const float dx = h2f(x[b].d);
        acc += (double)sumi * (h2f(w[b].d) * dx) + (double)q8_sum(x[b].qs) * (h2f(w[b].m) * dx);
    }
    *s = (float)acc;
}

void g4_vec_dot_q8_0_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q8_0 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    double acc = 0.0;
    for (int64_t b = 0; b < n / 32; b++) {
        int sumi = 0;
        for (int j = 0; j < 32; j++) sumi += w[b].qs[j] * x[b].qs[j];
        acc += (double)sumi * (h2f(w[b].d) * h2f(x[b].d));
    }
    *s = (float)acc;
}

void g4_vec_dot_iq4_nl_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_iq4_nl *w = vw;
    const struct g4_block_q8_0 *x = vx;
    double acc = 0.0;
    for (int64_t b = 0; b < n / 32; b++) {
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += g4_kvalues_iq4nl[w[b].qs[j] & 0xF] * x[b].qs[j];
            sumi += g4_kvalues_iq4nl[w[b].qs[j] >> 4] * x[b].qs[j + 16];
        }
        acc += (double)sumi * (h2f(w[b].d) * h2f(x[b].d));
    }
    *s = (float)acc;
}
