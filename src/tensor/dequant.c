/* dequant.c — reference (scalar) dequantizers: blocks -> float32.
 * Each function mirrors the arithmetic of the gguf Python package's
 * gguf.quants.dequantize (0.19.0) operation by operation, in float32, so the
 * output is bit-identical to it (tests/unit/test_dequant.c checks this against
 * committed fixtures). In particular a product and a following add/subtract
 * are separate roundings there, so they are separate statements here and
 * floating-point contraction (FMA) is off. Blocks are copied into a local
 * struct before use, so `src` needs no alignment. Simple over fast: the SIMD
 * kernels are tested against this file. */
#include "tensor/blocks.h"
#include "tensor/types.h"
#include "core/fp16.h"

#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

const int8_t g4_kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
const int8_t g4_kvalues_mxfp4[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

static float f16(uint16_t h) { return g4_f16_to_f32(h); }

static uint16_t load_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* ---- Plain types --------------------------------------------------------- */

static void dequant_f32(const uint8_t *src, float *y, int64_t n) { memcpy(y, src, (size_t)n * sizeof(float)); }

static void dequant_f16(const uint8_t *src, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = g4_f16_to_f32(load_u16(src + 2 * i));
}

static void dequant_bf16(const uint8_t *src, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = g4_bf16_to_f32(load_u16(src + 2 * i));
}

/* ---- Legacy 32-element blocks -------------------------------------------- */

static void dequant_q4_0(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK4_0) {
        struct g4_block_q4_0 b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d);
        for (int j = 0; j < G4_QK4_0 / 2; j++) {
            y[j] = d * (float)((b.qs[j] & 0x0F) - 8);
            y[j + G4_QK4_0 / 2] = d * (float)((b.qs[j] >> 4) - 8);
        }
    }
}

static void dequant_q4_1(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK4_1) {
        struct g4_block_q4_1 b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d), m = f16(b.m);
        for (int j = 0; j < G4_QK4_1 / 2; j++) {
            const float lo = d * (float)(b.qs[j] & 0x0F);
            const float hi = d * (float)(b.qs[j] >> 4);
            y[j] = lo + m;
            y[j + G4_QK4_1 / 2] = hi + m;
        }
    }
}

static void dequant_q5_0(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK5_0) {
        struct g4_block_q5_0 b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d);
        const uint32_t qh = (uint32_t)b.qh[0] | (uint32_t)b.qh[1] << 8 | (uint32_t)b.qh[2] << 16 | (uint32_t)b.qh[3] << 24;
        for (int j = 0; j < G4_QK5_0 / 2; j++) {
            const int lo = (b.qs[j] & 0x0F) | (int)((qh >> j) & 1) << 4;
            const int hi = (b.qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = d * (float)(lo - 16);
            y[j + G4_QK5_0 / 2] = d * (float)(hi - 16);
        }
    }
}

static void dequant_q5_1(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK5_1) {
        struct g4_block_q5_1 b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d), m = f16(b.m);
        const uint32_t qh = (uint32_t)b.qh[0] | (uint32_t)b.qh[1] << 8 | (uint32_t)b.qh[2] << 16 | (uint32_t)b.qh[3] << 24;
        for (int j = 0; j < G4_QK5_1 / 2; j++) {
            const int lo = (b.qs[j] & 0x0F) | (int)((qh >> j) & 1) << 4;
            const int hi = (b.qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            const float a = d * (float)lo, c = d * (float)hi;
            y[j] = a + m;
            y[j + G4_QK5_1 / 2] = c + m;
        }
    }
}

static void dequant_q8_0(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK8_0) {
        struct g4_block_q8_0 b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d);
        for (int j = 0; j < G4_QK8_0; j++) y[j] = (float)b.qs[j] * d;
    }
}

/* ---- k-quants ------------------------------------------------------------ */

/* Element e (0..255) of a q2_K/q3_K super-block takes its 2 low bits from
 * qs[32*(e/128) + e%32] at shift 2*((e/32)%4). */
static void dequant_q2_K(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK_K) {
        struct g4_block_q2_K b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d), dmin = f16(b.dmin);
        for (int e = 0; e < G4_QK_K; e++) {
            const int s = b.scales[e / 16];
            const float dl = d * (float)(s & 0x0F), ml = dmin * (float)(s >> 4);
            const int q = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
            const float t = dl * (float)q;
            y[e] = t - ml;
        }
    }
}

static void dequant_q3_K(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK_K) {
        struct g4_block_q3_K b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d);
        /* 16 scales of 6 bits: low 4 bits are nibbles of scales[0..7] (all low
         * nibbles first), high 2 bits are 2-bit fields of scales[8..11]. */
        float dl[16];
        for (int s = 0; s < 16; s++) {
            const int lo = (b.scales[s % 8] >> (4 * (s / 8))) & 0x0F;
            const int hi = (b.scales[8 + s % 4] >> (2 * (s / 4))) & 3;
            dl[s] = d * (float)((lo | hi << 4) - 32);
        }
        for (int e = 0; e < G4_QK_K; e++) {
            const int lo = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
            const int hbit = (b.hmask[e % 32] >> (e / 32)) & 1;
            y[e] = dl[e / 16] * (float)(lo - (hbit ? 0 : 4));
        }
    }
}

/* The 8 scales and 8 mins of q4_K/q5_K, 6 bits each, packed in 12 bytes:
 * j<4: scales[j] & 63 and scales[j+4] & 63; j>=4: the low nibble / high
 * nibble of scales[j+4] with the top two bits of scales[j-4] / scales[j]. */
static void scale_min_k4(const uint8_t *q, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

static void dequant_q4_K(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK_K) {
        struct g4_block_q4_K b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d), dmin = f16(b.dmin);
        for (int sb = 0; sb < 8; sb++) { /* sub-block of 32: nibble sb%2 of qs[32*(sb/2) ..] */
            int sc, m;
            scale_min_k4(b.scales, sb, &sc, &m);
            const float dl = d * (float)sc, ml = dmin * (float)m;
            for (int l = 0; l < 32; l++) {
                const int q = (b.qs[32 * (sb / 2) + l] >> (4 * (sb % 2))) & 0x0F;
                const float t = dl * (float)q;
                y[32 * sb + l] = t - ml;
            }
        }
    }
}

static void dequant_q5_K(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK_K) {
        struct g4_block_q5_K b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d), dmin = f16(b.dmin);
        for (int sb = 0; sb < 8; sb++) { /* the fifth bit of sub-block sb is bit sb of qh[l] */
            int sc, m;
            scale_min_k4(b.scales, sb, &sc, &m);
            const float dl = d * (float)sc, ml = dmin * (float)m;
            for (int l = 0; l < 32; l++) {
                const int q = ((b.qs[32 * (sb / 2) + l] >> (4 * (sb % 2))) & 0x0F) | ((b.qh[l] >> sb) & 1) << 4;
                const float t = dl * (float)q;
                y[32 * sb + l] = t - ml;
            }
        }
    }
}

/* Element e = 128*c + 32*j + l (j 0..3) takes its low 4 bits from nibble j/2
 * of ql[64*c + 32*(j%2) + l] and its high 2 bits from qh[32*c + l] >> 2*j. */
static void dequant_q6_K(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK_K) {
        struct g4_block_q6_K b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d);
        for (int e = 0; e < G4_QK_K; e++) {
            const int c = e / 128, j = (e / 32) % 4, l = e % 32;
            const int lo = (b.ql[64 * c + 32 * (j % 2) + l] >> (4 * (j / 2))) & 0x0F;
            const int hi = (b.qh[32 * c + l] >> (2 * j)) & 3;
            const float dl = d * (float)b.scales[e / 16];
            y[e] = dl * (float)((lo | hi << 4) - 32);
        }
    }
}

/* ---- Non-linear and ternary types ---------------------------------------- */

static void dequant_iq4_nl(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK4_NL) {
        struct g4_block_iq4_nl b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d);
        for (int j = 0; j < G4_QK4_NL / 2; j++) {
            y[j] = d * (float)g4_kvalues_iq4nl[b.qs[j] & 0x0F];
            y[j + G4_QK4_NL / 2] = d * (float)g4_kvalues_iq4nl[b.qs[j] >> 4];
        }
    }
}

static void dequant_iq4_xs(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK_K) {
        struct g4_block_iq4_xs b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d);
        for (int sb = 0; sb < 8; sb++) {
            const int lo = (b.scales_l[sb / 2] >> (4 * (sb % 2))) & 0x0F;
            const int hi = (b.scales_h >> (2 * sb)) & 3;
            const float dl = d * (float)((lo | hi << 4) - 32);
            for (int l = 0; l < 16; l++) {
                const uint8_t q = b.qs[16 * sb + l];
                y[32 * sb + l] = dl * (float)g4_kvalues_iq4nl[q & 0x0F];
                y[32 * sb + l + 16] = dl * (float)g4_kvalues_iq4nl[q >> 4];
            }
        }
    }
}

/* A byte holds base-3 digits as a fixed-point fraction: digit k of byte q is
 * ((uint8_t)(q * 3^k) * 3) >> 8. qs[0..31] give 5 digits each (elements
 * 32*k + l), qs[32..47] 5 digits (160 + 16*k + l), qh 4 digits (240 + 4*k + l). */
static void dequant_tq1_0(const uint8_t *src, float *y, int64_t nb) {
    static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
    for (int64_t i = 0; i < nb; i++, y += G4_QK_K) {
        struct g4_block_tq1_0 b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d);
        int8_t q[G4_QK_K];
        for (int k = 0; k < 5; k++) {
            for (int l = 0; l < 32; l++) q[32 * k + l] = (int8_t)((((uint8_t)(b.qs[l] * pow3[k])) * 3) >> 8);
            for (int l = 0; l < 16; l++) q[160 + 16 * k + l] = (int8_t)((((uint8_t)(b.qs[32 + l] * pow3[k])) * 3) >> 8);
        }
        for (int k = 0; k < 4; k++)
            for (int l = 0; l < 4; l++) q[240 + 4 * k + l] = (int8_t)((((uint8_t)(b.qh[l] * pow3[k])) * 3) >> 8);
        for (int e = 0; e < G4_QK_K; e++) y[e] = d * (float)(q[e] - 1);
    }
}

static void dequant_tq2_0(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK_K) {
        struct g4_block_tq2_0 b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = f16(b.d);
        for (int e = 0; e < G4_QK_K; e++) {
            const int q = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
            y[e] = d * (float)(q - 1);
        }
    }
}

/* e8m0 exponent to float, halved (the kvalues are doubled e2m1 values). */
static float e8m0_to_f32_half(uint8_t x) {
    const uint32_t bits = x < 2 ? 0x00200000u << x : (uint32_t)(x - 1) << 23;
    return g4_u32_as_f32(bits);
}

static void dequant_mxfp4(const uint8_t *src, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += G4_QK_MXFP4) {
        struct g4_block_mxfp4 b;
        memcpy(&b, src + i * (int64_t)sizeof b, sizeof b);
        const float d = e8m0_to_f32_half(b.e);
        for (int j = 0; j < G4_QK_MXFP4 / 2; j++) {
            y[j] = d * (float)g4_kvalues_mxfp4[b.qs[j] & 0x0F];
            y[j + G4_QK_MXFP4 / 2] = d * (float)g4_kvalues_mxfp4[b.qs[j] >> 4];
        }
    }
}

/* ---- Dispatch ------------------------------------------------------------ */

bool g4_dequantize(uint32_t type, const void *src, float *dst, int64_t n) {
    const struct g4_type_traits *t = g4_type_traits(type);
    if (!t || !t->supported || n < 0 || n % t->blck) return false;
    if (n == 0) return true;
    const uint8_t *s = src;
    const int64_t nb = n / t->blck;
    switch (type) {
    case G4_TYPE_F32: dequant_f32(s, dst, n); return true;
    case G4_TYPE_F16: dequant_f16(s, dst, n); return true;
    case G4_TYPE_BF16: dequant_bf16(s, dst, n); return true;
    case G4_TYPE_Q4_0: dequant_q4_0(s, dst, nb); return true;
    case G4_TYPE_Q4_1: dequant_q4_1(s, dst, nb); return true;
    case G4_TYPE_Q5_0: dequant_q5_0(s, dst, nb); return true;
    case G4_TYPE_Q5_1: dequant_q5_1(s, dst, nb); return true;
    case G4_TYPE_Q8_0: dequant_q8_0(s, dst, nb); return true;
    case G4_TYPE_Q2_K: dequant_q2_K(s, dst, nb); return true;
    case G4_TYPE_Q3_K: dequant_q3_K(s, dst, nb); return true;
    case G4_TYPE_Q4_K: dequant_q4_K(s, dst, nb); return true;
    case G4_TYPE_Q5_K: dequant_q5_K(s, dst, nb); return true;
    case G4_TYPE_Q6_K: dequant_q6_K(s, dst, nb); return true;
    case G4_TYPE_IQ4_NL: dequant_iq4_nl(s, dst, nb); return true;
    case G4_TYPE_IQ4_XS: dequant_iq4_xs(s, dst, nb); return true;
    case G4_TYPE_TQ1_0: dequant_tq1_0(s, dst, nb); return true;
    case G4_TYPE_TQ2_0: dequant_tq2_0(s, dst, nb); return true;
    case G4_TYPE_MXFP4: dequant_mxfp4(s, dst, nb); return true;
    default: return false;
    }
}
