/* dot_neon.c — aarch64 NEON dots: F32/F16/BF16 weights against float32
 * activations, Q8_0/Q4_0 against Q8_0 and Q4_K/Q6_K against Q8_K, and the
 * "neon" table patch. Built only on aarch64 (Makefile), where Advanced SIMD
 * is always present. Int8 products use SDOT when the compiler targets
 * +dotprod (__ARM_FEATURE_DOTPROD), else vmull_s8 + vmlal_s8 + pairwise
 * accumulate: a pair sum stays below 2^15 because activations are in
 * [-127, 127] (|w*x| <= 128*127, two of them 32512). Integer block products
 * are exact, so these differ from the references only in float
 * accumulation order (test_kernels tolerance). */
#include "kernels/kernels_impl.h"

#if defined(__aarch64__)

#include "core/fp16.h"

#include <arm_neon.h>

/* acc + 4 partial sums of a[i]*b[i] over 16 int8 lanes */
static inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(acc, a, b);
#else
    int16x8_t p = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    p = vmlal_s8(p, vget_high_s8(a), vget_high_s8(b));
    return vpadalq_s16(acc, p);
#endif
}

/* ---- float weights ---- */

static float dot_f32_neon(int64_t n, const float *a, const float *b) {
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
        s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void vec_dot_f32_neon(int64_t n, float *s, const void *w, const void *x) { *s = dot_f32_neon(n, w, x); }

static inline float32x4_t load_f16x4(const uint16_t *p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
static inline float32x4_t load_bf16x4(const uint16_t *p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}

static void vec_dot_f16_neon(int64_t n, float *s, const void *vw, const void *vx) {
    const uint16_t *w = vw;
    const float *x = vx;
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = vfmaq_f32(s0, load_f16x4(w + i), vld1q_f32(x + i));
        s1 = vfmaq_f32(s1, load_f16x4(w + i + 4), vld1q_f32(x + i + 4));
    }
    float r = vaddvq_f32(vaddq_f32(s0, s1));
    for (; i < n; i++) r += g4_f16_to_f32(w[i]) * x[i];
    *s = r;
}

static void vec_dot_bf16_neon(int64_t n, float *s, const void *vw, const void *vx) {
    const uint16_t *w = vw;
    const float *x = vx;
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = vfmaq_f32(s0, load_bf16x4(w + i), vld1q_f32(x + i));
        s1 = vfmaq_f32(s1, load_bf16x4(w + i + 4), vld1q_f32(x + i + 4));
    }
    float r = vaddvq_f32(vaddq_f32(s0, s1));
    for (; i < n; i++) r += g4_bf16_to_f32(w[i]) * x[i];
    *s = r;
}

/* ---- 32-element blocks against Q8_0 ---- */

static void vec_dot_q8_0_neon(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q8_0 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t b = 0; b < n / 32; b++) {
        int32x4_t p = dot16(vdupq_n_s32(0), vld1q_s8(w[b].qs), vld1q_s8(x[b].qs));
        p = dot16(p, vld1q_s8(w[b].qs + 16), vld1q_s8(x[b].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), g4_f16_to_f32(w[b].d) * g4_f16_to_f32(x[b].d));
    }
    *s = vaddvq_f32(acc);
}

static void vec_dot_q4_0_neon(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q4_0 *w = vw;
    const struct g4_block_q8_0 *x = vx;
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t k8 = vdupq_n_s8(8);
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8x16_t v = vld1q_u8(w[b].qs);
        const int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(v, m4)), k8);  /* elements 0..15 */
        const int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), k8); /* 16..31 */
        int32x4_t p = dot16(vdupq_n_s32(0), lo, vld1q_s8(x[b].qs));
        p = dot16(p, hi, vld1q_s8(x[b].qs + 16));
        acc = vmlaq_n_f32(acc, vcvtq_f32_s32(p), g4_f16_to_f32(w[b].d) * g4_f16_to_f32(x[b].d));
    }
    *s = vaddvq_f32(acc);
}

/* ---- k-quants against Q8_K ---- */

static void vec_dot_q4_K_neon(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q4_K *w = vw;
    const struct g4_block_q8_K *x = vx;
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    float acc = 0.0f;
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        uint8_t sc[8], mn[8];
        for (int j = 0; j < 8; j++) g4k_scale_min_k4(j, w[b].scales, &sc[j], &mn[j]);
        int32_t sum_m = 0, sum_q = 0;
        for (int j = 0; j < 8; j++) sum_m += mn[j] * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
        for (int c = 0; c < 4; c++) { /* 32 bytes: low nibbles = sub-block 2c, high = 2c+1 */
            const uint8x16_t v0 = vld1q_u8(w[b].qs + 32 * c), v1 = vld1q_u8(w[b].qs + 32 * c + 16);
            const int8_t *y = x[b].qs + 64 * c;
            int32x4_t plo = dot16(vdupq_n_s32(0), vreinterpretq_s8_u8(vandq_u8(v0, m4)), vld1q_s8(y));
            plo = dot16(plo, vreinterpretq_s8_u8(vandq_u8(v1, m4)), vld1q_s8(y + 16));
            int32x4_t phi = dot16(vdupq_n_s32(0), vreinterpretq_s8_u8(vshrq_n_u8(v0, 4)), vld1q_s8(y + 32));
            phi = dot16(phi, vreinterpretq_s8_u8(vshrq_n_u8(v1, 4)), vld1q_s8(y + 48));
            sum_q += sc[2 * c] * vaddvq_s32(plo) + sc[2 * c + 1] * vaddvq_s32(phi);
        }
        acc += g4_f16_to_f32(w[b].d) * x[b].d * (float)sum_q - g4_f16_to_f32(w[b].dmin) * x[b].d * (float)sum_m;
    }
    *s = acc;
}

static void vec_dot_q6_K_neon(int64_t n, float *s, const void *vw, const void *vx) {
    const struct g4_block_q6_K *w = vw;
    const struct g4_block_q8_K *x = vx;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(3);
    const int8x16_t k32 = vdupq_n_s8(32);
    float acc = 0.0f;
    for (int64_t b = 0; b < n / G4_QK_K; b++) {
        int32_t sum = 0;
        for (int h = 0; h < 2; h++)
            for (int l0 = 0; l0 < 32; l0 += 16) {
                const uint8x16_t qa = vld1q_u8(w[b].ql + 64 * h + l0), qb = vld1q_u8(w[b].ql + 64 * h + 32 + l0);
                const uint8x16_t hb = vld1q_u8(w[b].qh + 32 * h + l0);
                uint8x16_t q[4];
                q[0] = vorrq_u8(vandq_u8(qa, m4), vshlq_n_u8(vandq_u8(hb, m3), 4));
                q[1] = vorrq_u8(vandq_u8(qb, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m3), 4));
                q[2] = vorrq_u8(vshrq_n_u8(qa, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m3), 4));
                q[3] = vorrq_u8(vshrq_n_u8(qb, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4));
                for (int k = 0; k < 4; k++) { /* elements 128h + 32k + l0 .. +16: group 8h + 2k + l0/16 */
                    const int off = 128 * h + 32 * k + l0;
                    const int32x4_t p =
                        dot16(vdupq_n_s32(0), vsubq_s8(vreinterpretq_s8_u8(q[k]), k32), vld1q_s8(x[b].qs + off));
                    sum += w[b].scales[off / 16] * vaddvq_s32(p);
                }
            }
        acc += g4_f16_to_f32(w[b].d) * x[b].d * (float)sum;
    }
    *s = acc;
}

void g4_kernels_patch_neon(struct g4_kernels *k) {
    k->dot_f32 = dot_f32_neon;
    k->type[G4_TYPE_F32].vec_dot = vec_dot_f32_neon;
    k->type[G4_TYPE_F16].vec_dot = vec_dot_f16_neon;
    k->type[G4_TYPE_BF16].vec_dot = vec_dot_bf16_neon;
    k->type[G4_TYPE_Q8_0].vec_dot = vec_dot_q8_0_neon;
    k->type[G4_TYPE_Q4_0].vec_dot = vec_dot_q4_0_neon;
    k->type[G4_TYPE_Q4_K].vec_dot = vec_dot_q4_K_neon;
    k->type[G4_TYPE_Q6_K].vec_dot = vec_dot_q6_K_neon;
}

#endif
