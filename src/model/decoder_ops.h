/* decoder_ops.h — the numeric steps the decoder is built from (private).
 * Each op works on row-major f32 activations [n][ld] and is split across the
 * thread pool by rows (matmul: by output rows; the rest: by tokens). Every
 * op reads its weights through struct g4_mat, so any weight type the loader
 * reads works. Ops allocate nothing: per-thread temporaries come from the
 * caller's scratch (`tmp`, g4_dec_ops_tmp_floats() floats per thread). */
#ifndef G4_MODEL_DECODER_OPS_H
#define G4_MODEL_DECODER_OPS_H

#include "model/decoder.h"

#include "core/fp16.h"

#include <math.h>

/* Work split: fn(ctx, ith, i0, i1) handles items [i0, i1) on thread ith. */
typedef void (*g4_dec_range_fn)(void *ctx, int ith, int64_t i0, int64_t i1);
int g4_dec_threads(struct g4_pool *tp);
void g4_dec_par_for(struct g4_pool *tp, int64_t n, int64_t grain, g4_dec_range_fn fn, void *ctx);

/* y[t][r] = sum_c W[r][c] * x[t][c] for t < n, r < W->rows.
 * x has row stride ldx >= W->cols, y has row stride ldy >= W->rows.
 * wdata: g4_dec_matmul_wsize(w, >= n) bytes for the quantized activations. */
void g4_dec_matmul(struct g4_pool *tp, const struct g4_mat *w, const float *x, int n, int64_t ldx,
                   float *y, int64_t ldy, void *wdata, bool f32_act);
size_t g4_dec_matmul_wsize(const struct g4_mat *w, int n, bool f32_act);

/* y = rmsnorm(x) * w over groups of `dim` (n_rows rows), w NULL = no scale.
 * x and y may alias. */
void g4_dec_rmsnorm(struct g4_pool *tp, const float *x, float *y, int64_t n_rows, int dim,
                    const float *w, float eps);

/* Rounds n values to bf16 when the decoder emulates HF's bf16 compute
 * (dec->bf16_act), else does nothing. */
static inline void g4_dec_round(const struct g4_dec *dec, float *x, size_t n) {
    if (dec->bf16_act)
        for (size_t i = 0; i < n; i++) x[i] = g4_round_bf16(x[i]);
}
/* g4_dec_matmul / g4_dec_rmsnorm followed by the bf16 rounding of the
 * reference's outputs (see g4_dec_round). */
void g4_dec_mm(const struct g4_dec *dec, struct g4_pool *tp, const struct g4_mat *w, const float *x, int n,
               int64_t ldx, float *y, int64_t ldy, void *wdata);
/* Up to 3 matmuls of the same input x as one pool job: y[i] = x W[i]^T
 * (row stride ldy[i]); wdata[i] is the activation scratch of matrix i
 * (g4_dec_matmul_wsize(w[i], n)); entries may share a conversion. Then the
 * bf16 rounding like g4_dec_mm. */
void g4_dec_mm_multi(const struct g4_dec *dec, struct g4_pool *tp, int nm, const struct g4_mat *const *w,
                     const float *x, int n, int64_t ldx, float *const *y, const int64_t *ldy, void *const *wdata);
void g4_dec_norm(const struct g4_dec *dec, struct g4_pool *tp, const float *x, float *y, int64_t n_rows, int dim,
                 const float *w, float eps);

/* Dequantizes row `r` of w into out[w->cols] (from w->packed when the
 * table can unpack it). */
void g4_dec_mat_row(const struct g4_mat *w, int64_t r, float *out);

static inline float g4_dec_gelu_tanh(float x) {
    /* HF gelu_pytorch_tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    const float k = 0.7978845608028654f;
    return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

#endif
