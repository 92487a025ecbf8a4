/* kernels_impl.h — private to src/kernels: the weight block layouts the dot
 * kernels read (identical to ggml-common.h, sizes checked below), the scalar
 * reference entry points, and the hook an ISA file uses to patch a table.
 * All f16 fields are IEEE half bits, converted with core/fp16.h. */
#ifndef G4_KERNELS_IMPL_H
#define G4_KERNELS_IMPL_H

#include "kernels/kernels.h"

/* ---- weight blocks (ggml layouts) ---- */
struct kq4_0 { uint16_t d; uint8_t qs[16]; };
struct kq4_1 { uint16_t d, m; uint8_t qs[16]; };
struct kq5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };
struct kq5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; };
struct kq8_0 { uint16_t d; int8_t qs[32]; };
struct kiq4_nl { uint16_t d; uint8_t qs[16]; };
struct kq4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; };
struct kq5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; };
struct kq6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };
struct kiq4_xs { uint16_t d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128]; };
_Static_assert(sizeof(struct kq4_0) == 18, "q4_0");
_Static_assert(sizeof(struct kq4_1) == 20, "q4_1");
_Static_assert(sizeof(struct kq5_0) == 22, "q5_0");
_Static_assert(sizeof(struct kq5_1) == 24, "q5_1");
_Static_assert(sizeof(struct kq8_0) == 34, "q8_0");
_Static_assert(sizeof(struct kiq4_nl) == 18, "iq4_nl");
_Static_assert(sizeof(struct kq4_K) == 144, "q4_K");
_Static_assert(sizeof(struct kq5_K) == 176, "q5_K");
_Static_assert(sizeof(struct kq6_K) == 210, "q6_K");
_Static_assert(sizeof(struct kiq4_xs) == 136, "iq4_xs");

/* IQ4_NL / IQ4_XS non-linear 4-bit code book (ggml kvalues_iq4nl). */
extern const int8_t g4k_iq4nl_values[16];

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
void g4_vec_dot_iq4_xs_ref(int64_t n, float *s, const void *w, const void *x);

float g4_dot_f32_ref(int64_t n, const float *a, const float *b);
void g4_rmsnorm_ref(float *y, const float *x, const float *w, int64_t n, float eps, enum g4_norm_mode mode);
void g4_rope_ref(float *x, int64_t n_head, int64_t head_dim, int64_t head_stride, int32_t pos, const float *inv_freq);
void g4_softmax_ref(float *x, int64_t n);
void g4_gelu_tanh_ref(float *y, const float *x, int64_t n);
void g4_geglu_ref(float *y, const float *gate, const float *up, int64_t n);
void g4_add_ref(float *y, const float *a, const float *b, int64_t n);
void g4_mul_ref(float *y, const float *a, const float *b, int64_t n);
void g4_scale_ref(float *y, const float *x, float s, int64_t n);
void g4_softcap_ref(float *y, const float *x, float cap, int64_t n);
void g4_attention_ref(const struct g4_attn_args *a);

/* Fills `k` with the reference table. */
void g4_kernels_fill_ref(struct g4_kernels *k);
#if defined(__x86_64__) || defined(__i386__)
/* Replaces entries of `k` (a copy of ref) with AVX2+FMA+F16C versions. */
void g4_kernels_patch_avx2(struct g4_kernels *k);
#endif

#endif
