/* quantize.c — reference quantizers for the legacy block types.
 * Each function follows gguf.quants (Python) step by step in float32: the
 * scale is computed and rounded to f16 only for storage (the codes use the
 * unrounded float32 scale, as the reference does), codes are truncated after
 * adding 0.5 (+ the zero offset) or rounded half away from zero (Q8_0), and
 * ties for the largest magnitude pick the first element. Contraction (FMA)
 * is off so every product and sum rounds like numpy's. */
#include "tensor/quantize.h"
#include "tensor/blocks.h"
#include "tensor/types.h"
#include "core/fp16.h"

#include <math.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Clamps a truncated code into 0..hi without undefined float->int casts. */
static uint8_t code(float t, int hi) {
    if (!(t > 0)) return 0; /* also NaN */
    if (t >= (float)hi) return (uint8_t)hi;
    return (uint8_t)t;
}

/* Signed value with the largest magnitude (first one on ties). */
static float signed_absmax(const float *x, int n) {
    float amax = 0, max = 0;
    for (int j = 0; j < n; j++)
        if (fabsf(x[j]) > amax) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    return max;
}

static void min_max(const float *x, int n, float *mn, float *mx) {
    *mn = *mx = x[0];
    for (int j = 1; j < n; j++) {
        if (x[j] < *mn) *mn = x[j];
        if (x[j] > *mx) *mx = x[j];
    }
}

static void quant_q4_0(const float *x, uint8_t *dst, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += G4_QK4_0) {
        struct g4_block_q4_0 b;
        const float d = signed_absmax(x, G4_QK4_0) / -8.0f;
        const float id = d == 0 ? 0.0f : 1.0f / d;
        for (int j = 0; j < G4_QK4_0 / 2; j++) {
            const float v0 = x[j] * id, v1 = x[j + G4_QK4_0 / 2] * id;
            b.qs[j] = (uint8_t)(code(truncf(v0 + 8.5f), 15) | code(truncf(v1 + 8.5f), 15) << 4);
        }
        b.d = g4_f32_to_f16(d);
        memcpy(dst + i * (int64_t)sizeof b, &b, sizeof b);
    }
}

static void quant_q4_1(const float *x, uint8_t *dst, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += G4_QK4_1) {
        struct g4_block_q4_1 b;
        float mn, mx;
        min_max(x, G4_QK4_1, &mn, &mx);
        const float d = (mx - mn) / 15.0f;
        const float id = d == 0 ? 0.0f : 1.0f / d;
        for (int j = 0; j < G4_QK4_1 / 2; j++) {
            const float v0 = (x[j] - mn) * id, v1 = (x[j + G4_QK4_1 / 2] - mn) * id;
            b.qs[j] = (uint8_t)(code(truncf(v0 + 0.5f), 15) | code(truncf(v1 + 0.5f), 15) << 4);
        }
        b.d = g4_f32_to_f16(d);
        b.m = g4_f32_to_f16(mn);
        memcpy(dst + i * (int64_t)sizeof b, &b, sizeof b);
    }
}

/* Packs 32 five-bit codes: low nibbles as q4_0, bit 4 of code j into bit j of qh. */
static void pack5(const uint8_t q[32], uint8_t qh[4], uint8_t qs[16]) {
    uint32_t h = 0;
    for (int j = 0; j < 16; j++) qs[j] = (uint8_t)((q[j] & 0x0F) | (q[j + 16] & 0x0F) << 4);
    for (int j = 0; j < 32; j++) h |= (uint32_t)(q[j] >> 4) << j;
    for (int k = 0; k < 4; k++) qh[k] = (uint8_t)(h >> (8 * k));
}

static void quant_q5_0(const float *x, uint8_t *dst, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += G4_QK5_0) {
        struct g4_block_q5_0 b;
        const float d = signed_absmax(x, G4_QK5_0) / -16.0f;
        const float id = d == 0 ? 0.0f : 1.0f / d;
        uint8_t q[32];
        for (int j = 0; j < 32; j++) {
            const float v = x[j] * id;
            q[j] = code(truncf(v + 16.5f), 31);
        }
        pack5(q, b.qh, b.qs);
        b.d = g4_f32_to_f16(d);
        memcpy(dst + i * (int64_t)sizeof b, &b, sizeof b);
    }
}

static void quant_q5_1(const float *x, uint8_t *dst, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += G4_QK5_1) {
        struct g4_block_q5_1 b;
        float mn, mx;
        min_max(x, G4_QK5_1, &mn, &mx);
        const float d = (mx - mn) / 31.0f;
        const float id = d == 0 ? 0.0f : 1.0f / d;
        uint8_t q[32];
        for (int j = 0; j < 32; j++) {
            const float v = (x[j] - mn) * id;
            q[j] = code(truncf(v + 0.5f), 31);
        }
        pack5(q, b.qh, b.qs);
        b.d = g4_f32_to_f16(d);
        b.m = g4_f32_to_f16(mn);
        memcpy(dst + i * (int64_t)sizeof b, &b, sizeof b);
    }
}

/* Round half away from zero, computed as the reference does:
 * floor(a) + floor(2 * (a - floor(a))) with the sign of v. */
static float round_away(float v) {
    const float a = fabsf(v), fl = floorf(a);
    const float r = fl + floorf(2.0f * (a - fl));
    return v < 0 ? -r : v > 0 ? r : 0.0f;
}

static void quant_q8_0(const float *x, uint8_t *dst, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += G4_QK8_0) {
        struct g4_block_q8_0 b;
        float amax = 0;
        for (int j = 0; j < G4_QK8_0; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = d == 0 ? 0.0f : 1.0f / d;
        for (int j = 0; j < G4_QK8_0; j++) {
            const float r = round_away(x[j] * id);
            b.qs[j] = (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r == r ? r : 0);
        }
        b.d = g4_f32_to_f16(d);
        memcpy(dst + i * (int64_t)sizeof b, &b, sizeof b);
    }
}

bool g4_quantize(uint32_t type, const float *src, void *dst, int64_t n) {
    const struct g4_type_traits *t = g4_type_traits(type);
    if (!t || n < 0 || n % t->blck) return false;
    const int64_t nb = n / t->blck;
    switch (type) {
    case G4_TYPE_Q4_0: quant_q4_0(src, dst, nb); return true;
    case G4_TYPE_Q4_1: quant_q4_1(src, dst, nb); return true;
    case G4_TYPE_Q5_0: quant_q5_0(src, dst, nb); return true;
    case G4_TYPE_Q5_1: quant_q5_1(src, dst, nb); return true;
    case G4_TYPE_Q8_0: quant_q8_0(src, dst, nb); return true;
    default: return false;
    }
}
