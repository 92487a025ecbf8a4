/* kernels_impl.h — private to src/kernels: the scalar reference entry
 * points, a k-quant scale unpacking helper, and the hook an ISA file uses to
 * patch a table. Block layouts come from tensor/blocks.h; kernels read
 * block fields directly, so weights must be 2-byte aligned (4 for F32) and
 * Q8_K scratch 4-byte aligned (g4_matmul_check enforces it). */
#ifndef G4_KERNELS_IMPL_H
#define G4_KERNELS_IMPL_H

#include "kernels/kernels.h"

/* Unpacks the 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block
 * (ggml get_scale_min_k4). */
static inline void g4k_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

/* ---- reference kernels (src/kernels/ref) ---- */
void g4_quantize_row_q8_0_ref(const float *x, void *y, int64_t n);
void g4_quantize_row_q8_K_ref(const float *x, void *y, int64_t n);

void g4_vec_dot_f32_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_f16_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_bf16_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q4_0_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q4_1_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q5_0_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q5_1_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q8_0_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_iq4_nl_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q4_K_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q5_K_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q6_K_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q2_K_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q3_K_ref(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_iq4_xs_ref(int64_t n, float *s, const void *w, const void *x);

float g4_dot_f32_ref(int64_t n, const float *a, const float *b);
void g4_rmsnorm_ref(float *y, const float *x, const float *w, int64_t n, float eps, enum g4_norm_mode mode);
void g4_rope_ref(float *x, int64_t n_head, int64_t head_dim, int64_t head_stride, int32_t pos, const float *inv_freq);
void g4_rope_cs_ref(float *x, int64_t n_head, int64_t head_dim, int64_t head_stride, const float *cs);
void g4_softmax_ref(float *x, int64_t n);
void g4_gelu_tanh_ref(float *y, const float *x, int64_t n);
void g4_geglu_ref(float *y, const float *gate, const float *up, int64_t n);
void g4_add_ref(float *y, const float *a, const float *b, int64_t n);
void g4_mul_ref(float *y, const float *a, const float *b, int64_t n);
void g4_scale_ref(float *y, const float *x, float s, int64_t n);
void g4_softcap_ref(float *y, const float *x, float cap, int64_t n);
void g4_attention_ref(const struct g4_attn_args *a);
void g4_cvt_row_ref(void *dst, uint32_t dst_type, const float *src, int64_t n);

/* Fills `k` with the reference table. */
void g4_kernels_fill_ref(struct g4_kernels *k);
#if defined(__x86_64__) || defined(__i386__)
/* Replaces entries of `k` (a copy of ref) with AVX2+FMA+F16C versions. */
void g4_kernels_patch_avx2(struct g4_kernels *k);
/* Replaces the dots of `k` (a copy of avx2) with AVX512F/BW/VL versions
 * (x86/dot_avx512.c). */
void g4_kernels_patch_avx512(struct g4_kernels *k);
/* Replaces the integer dots of `k` (a copy of avx512) with AVX512-VNNI
 * versions (x86/dot_avx512vnni.c). */
void g4_kernels_patch_avx512_vnni(struct g4_kernels *k);
#endif
#if defined(__aarch64__)
/* Replaces entries of `k` (a copy of ref) with NEON versions (arm/dot_neon.c). */
void g4_kernels_patch_neon(struct g4_kernels *k);
/* Replaces the integer dots of `k` (a copy of neon) with SDOT versions
 * (arm/dot_dotprod_neon.c, ARMv8.2 dotprod). */
void g4_kernels_patch_neon_dotprod(struct g4_kernels *k);
#endif

#endif
