/* dot_neon.c — the "neon" table (aarch64 base ISA, Advanced SIMD always
 * present): F32/F16/BF16 weights against float32 activations here, and the
 * integer dots of dot_neon.inc on the base-ISA path (vmull_s8 + vmlal_s8;
 * the SDOT path is the "neon_dotprod" table, dot_dotprod_neon.c). Built
 * only on aarch64 (Makefile). These differ from the references only in
 * float accumulation order (test_kernels tolerance). */
#if defined(__aarch64__)

#define G4N_DOTPROD 0
#include "kernels/arm/dot_neon.inc"

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

void g4_kernels_patch_neon(struct g4_kernels *k) {
    k->dot_f32 = dot_f32_neon;
    k->type[G4_TYPE_F32].vec_dot = vec_dot_f32_neon;
    k->type[G4_TYPE_F16].vec_dot = vec_dot_f16_neon;
    k->type[G4_TYPE_BF16].vec_dot = vec_dot_bf16_neon;
    patch_int8_dots(k);
}

#endif
