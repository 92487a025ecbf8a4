/* kernels_avx2.c — the AVX2+FMA+F16C table: patches a copy of the reference
 * table with the kernels in this directory. Entries not replaced here stay
 * the scalar references. Compiled with -mavx2 -mfma -mf16c, but this
 * function itself runs only after cpuid confirmed those (kernels.c). */
#include "kernels/kernels_impl.h"

float g4_dot_f32_avx2(int64_t n, const float *a, const float *b);
void g4_vec_dot_f32_avx2(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_f16_avx2(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_bf16_avx2(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q8_0_avx2(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q4_0_avx2(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q4_K_avx2(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q6_K_avx2(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q4_1_avx2(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q5_0_avx2(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q5_1_avx2(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_iq4_nl_avx2(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_iq4_xs_avx2(int64_t n, float *s, const void *w, const void *x);
void g4_vec_dot_q5_K_avx2(int64_t n, float *s, const void *w, const void *x);

bool g4_matmul_q4_0_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);
bool g4_matmul_q8_0_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);
bool g4_matmul_q4_K_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);
bool g4_matmul_q5_K_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);
bool g4_matmul_q6_K_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);
bool g4_matmul_f32_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);
bool g4_matmul_f16_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);
bool g4_matmul_bf16_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);

void g4_quantize_row_q8_0_avx2(const float *x, void *y, int64_t n);
void g4_quantize_row_q8_K_avx2(const float *x, void *y, int64_t n);

void g4_repack_q4_0x8(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst);
bool g4_matmul_q4_0x8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);
void g4_repack_q5_0x8(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst);
void g4_unpack_q4_0x8(const void *group, int64_t K, int lane, void *dst);
void g4_unpack_q5_0x8(const void *group, int64_t K, int lane, void *dst);
void g4_unpack_q8_0x8(const void *group, int64_t K, int lane, void *dst);
void g4_unpack_q6_Kx8(const void *group, int64_t K, int lane, void *dst);
bool g4_matmul_q5_0x8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);

void g4_repack_q4_Kx8(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst);
bool g4_matmul_q4_Kx8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);

void g4_repack_q6_Kx8(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst);
bool g4_matmul_q6_Kx8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);

void g4_repack_q8_0x8(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst);
bool g4_matmul_q8_0x8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);

void g4_repack_q5_Kx8(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst);
bool g4_matmul_q5_Kx8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1);

void g4_attention_avx2(const struct g4_attn_args *a);
void g4_rmsnorm_avx2(float *y, const float *x, const float *w, int64_t n, float eps, enum g4_norm_mode mode);
void g4_add_avx2(float *y, const float *a, const float *b, int64_t n);
void g4_rope_cs_avx2(float *x, int64_t n_head, int64_t head_dim, int64_t head_stride, const float *cs);
void g4_mul_avx2(float *y, const float *a, const float *b, int64_t n);
void g4_scale_avx2(float *y, const float *x, float s, int64_t n);
void g4_cvt_row_avx2(void *dst, uint32_t dst_type, const float *src, int64_t n);

void g4_gelu_tanh_avx2(float *y, const float *x, int64_t n);
void g4_geglu_avx2(float *y, const float *gate, const float *up, int64_t n);
void g4_softcap_avx2(float *y, const float *x, float cap, int64_t n);
void g4_softmax_avx2(float *x, int64_t n);

void g4_kernels_patch_avx2(struct g4_kernels *k) {
    k->dot_f32 = g4_dot_f32_avx2;
    k->type[G4_TYPE_F32].vec_dot = g4_vec_dot_f32_avx2;
    k->type[G4_TYPE_F16].vec_dot = g4_vec_dot_f16_avx2;
    k->type[G4_TYPE_BF16].vec_dot = g4_vec_dot_bf16_avx2;
    k->type[G4_TYPE_Q8_0].vec_dot = g4_vec_dot_q8_0_avx2;
    k->type[G4_TYPE_Q4_0].vec_dot = g4_vec_dot_q4_0_avx2;
    k->type[G4_TYPE_Q4_K].vec_dot = g4_vec_dot_q4_K_avx2;
    k->type[G4_TYPE_Q6_K].vec_dot = g4_vec_dot_q6_K_avx2;
    k->type[G4_TYPE_Q4_1].vec_dot = g4_vec_dot_q4_1_avx2;
    k->type[G4_TYPE_Q5_0].vec_dot = g4_vec_dot_q5_0_avx2;
    k->type[G4_TYPE_Q5_1].vec_dot = g4_vec_dot_q5_1_avx2;
    k->type[G4_TYPE_IQ4_NL].vec_dot = g4_vec_dot_iq4_nl_avx2;
    k->type[G4_TYPE_IQ4_XS].vec_dot = g4_vec_dot_iq4_xs_avx2;
    k->type[G4_TYPE_Q5_K].vec_dot = g4_vec_dot_q5_K_avx2;
    /* prefill tiles (gemm_avx2.c): M > 1 */
    k->type[G4_TYPE_Q4_0].matmul = g4_matmul_q4_0_avx2;
    k->type[G4_TYPE_Q8_0].matmul = g4_matmul_q8_0_avx2;
    k->type[G4_TYPE_Q4_K].matmul = g4_matmul_q4_K_avx2;
    k->type[G4_TYPE_Q5_K].matmul = g4_matmul_q5_K_avx2;
    k->type[G4_TYPE_Q6_K].matmul = g4_matmul_q6_K_avx2;
    k->type[G4_TYPE_F32].matmul = g4_matmul_f32_avx2;
    k->type[G4_TYPE_F16].matmul = g4_matmul_f16_avx2;
    k->type[G4_TYPE_BF16].matmul = g4_matmul_bf16_avx2;
    k->quantize_row[G4_TYPE_Q8_0] = g4_quantize_row_q8_0_avx2;
    k->quantize_row[G4_TYPE_Q8_K] = g4_quantize_row_q8_K_avx2;
    /* load-time repacked Q4_0 (repack_avx2.c) */
    k->type[G4_TYPE_Q4_0].pack_rows = 8;
    k->type[G4_TYPE_Q4_0].pack_group_bytes_per_block = 8 * sizeof(struct g4_block_q4_0);
    k->type[G4_TYPE_Q4_0].repack = g4_repack_q4_0x8;
    k->type[G4_TYPE_Q4_0].matmul_packed = g4_matmul_q4_0x8_avx2;
    k->type[G4_TYPE_Q4_K].pack_rows = 8;
    k->type[G4_TYPE_Q4_K].pack_group_bytes_per_block = 1184; /* repack_avx2.c q4_Kx8 */
    k->type[G4_TYPE_Q4_K].repack = g4_repack_q4_Kx8;
    k->type[G4_TYPE_Q4_K].matmul_packed = g4_matmul_q4_Kx8_avx2;
    k->type[G4_TYPE_Q6_K].pack_rows = 8;
    k->type[G4_TYPE_Q6_K].pack_group_bytes_per_block = 8 * sizeof(struct g4_block_q6_K); /* q6_Kx8 */
    k->type[G4_TYPE_Q6_K].repack = g4_repack_q6_Kx8;
    k->type[G4_TYPE_Q6_K].matmul_packed = g4_matmul_q6_Kx8_avx2;
    k->type[G4_TYPE_Q8_0].pack_rows = 8;
    k->type[G4_TYPE_Q8_0].pack_group_bytes_per_block = 8 * sizeof(struct g4_block_q8_0); /* q8_0x8 */
    k->type[G4_TYPE_Q8_0].repack = g4_repack_q8_0x8;
    k->type[G4_TYPE_Q8_0].matmul_packed = g4_matmul_q8_0x8_avx2;
    k->type[G4_TYPE_Q5_0].pack_rows = 8;
    k->type[G4_TYPE_Q5_0].pack_group_bytes_per_block = 8 * sizeof(struct g4_block_q5_0); /* q5_0x8 */
    k->type[G4_TYPE_Q5_0].repack = g4_repack_q5_0x8;
    k->type[G4_TYPE_Q5_0].matmul_packed = g4_matmul_q5_0x8_avx2;
    k->type[G4_TYPE_Q4_0].unpack = g4_unpack_q4_0x8;
    k->type[G4_TYPE_Q5_0].unpack = g4_unpack_q5_0x8;
    k->type[G4_TYPE_Q8_0].unpack = g4_unpack_q8_0x8;
    k->type[G4_TYPE_Q6_K].unpack = g4_unpack_q6_Kx8;
    k->type[G4_TYPE_Q5_K].pack_rows = 8;
    k->type[G4_TYPE_Q5_K].pack_group_bytes_per_block = 1440; /* q5_Kx8 */
    k->type[G4_TYPE_Q5_K].repack = g4_repack_q5_Kx8;
    k->type[G4_TYPE_Q5_K].matmul_packed = g4_matmul_q5_Kx8_avx2;
    k->attention = g4_attention_avx2;
    k->rmsnorm = g4_rmsnorm_avx2;
    k->add = g4_add_avx2;
    k->rope_cs = g4_rope_cs_avx2;
    k->gelu_tanh = g4_gelu_tanh_avx2;
    k->geglu = g4_geglu_avx2;
    k->softcap = g4_softcap_avx2;
    k->softmax = g4_softmax_avx2;
    k->mul = g4_mul_avx2;
    k->scale = g4_scale_avx2;
    k->cvt_row = g4_cvt_row_avx2;
}
