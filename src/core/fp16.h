/* fp16.h — IEEE half and bfloat16 <-> float conversion (scalar, exact).
 * f16 -> f32 is exact; f32 -> f16 rounds to nearest even like numpy's
 * astype(float16); f32 -> bf16 rounds to nearest even like torch. */
#ifndef G4_CORE_FP16_H
#define G4_CORE_FP16_H

#include <stdint.h>
#include <string.h>

static inline float g4_u32_as_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t g4_f32_as_u32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static inline float g4_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0) {
        if (man == 0) return g4_u32_as_f32(sign);
        /* subnormal: value = man * 2^-24 */
        float v = (float)man * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    if (exp == 31) return g4_u32_as_f32(sign | 0x7f800000u | (man << 13));
    return g4_u32_as_f32(sign | ((exp + 112) << 23) | (man << 13));
}

static inline uint16_t g4_f32_to_f16(float f) {
    uint32_t x = g4_f32_as_u32(f);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* rounds to inf */
    if (ax < 0x38800000u) { /* subnormal or zero in f16 */
        if (ax < 0x33000000u) return (uint16_t)sign;
        uint32_t e = ax >> 23, m = (ax & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e; /* 14..24 */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((ax >> 13) - (112 << 10));
    uint32_t rem = ax & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return (uint16_t)(sign | r);
}

static inline float g4_bf16_to_f32(uint16_t h) { return g4_u32_as_f32((uint32_t)h << 16); }

static inline uint16_t g4_f32_to_bf16(float f) {
    uint32_t x = g4_f32_as_u32(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

/* Rounds a float through bf16 (used where the reference computes in bf16). */
static inline float g4_round_bf16(float f) { return g4_bf16_to_f32(g4_f32_to_bf16(f)); }

#endif
