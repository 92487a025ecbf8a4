/* decoder_ops.c — numeric steps of the decoder (see decoder_ops.h).
 * Matmuls go to the kernel table (kernels/kernels.h: every weight type,
 * activations quantized to the type's vec_dot_type as llama.cpp does, f32
 * for float weights). Norms accumulate in double. */
#include "model/decoder_ops.h"

#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "tensor/types.h"

#include <math.h>
#include <string.h>

int g4_dec_threads(struct g4_pool *tp) { return g4_pool_size(tp); }

struct par_job {
    g4_dec_range_fn fn;
    void *ctx;
    int64_t n, chunk;
};

static void par_task(void *ctx, int64_t task, int ith) {
    struct par_job *j = ctx;
    int64_t i0 = task * j->chunk, i1 = G4_MIN(j->n, i0 + j->chunk);
    j->fn(j->ctx, ith, i0, i1);
}

void g4_dec_par_for(struct g4_pool *tp, int64_t n, int64_t grain, g4_dec_range_fn fn, void *ctx) {
    if (n <= 0) return;
    int nth = g4_pool_size(tp);
    if (nth <= 1 || n <= grain) {
        fn(ctx, 0, 0, n);
        return;
    }
    /* about 4 chunks per thread, none smaller than grain */
    int64_t chunk = G4_MAX(grain, (n + 4 * (int64_t)nth - 1) / (4 * (int64_t)nth));
    struct par_job j = {fn, ctx, n, chunk};
    g4_pool_for(tp, (n + chunk - 1) / chunk, par_task, &j);
}

void g4_dec_mat_row(const struct g4_mat *w, int64_t r, float *out) {
    /* a packed table (the tied embedding) is read from its packed copy: the
       plain pages were released after repacking and stay untouched */
    uint8_t buf[32768];
    if (w->packed && w->row_bytes <= sizeof buf &&
        g4_matmul_unpack_row(g4_kernels(), w->type, w->packed, w->rows, w->cols, r, buf)) {
        g4_dequantize(w->type, buf, out, w->cols);
        return;
    }
    const uint8_t *row = (const uint8_t *)w->data + (size_t)r * w->row_bytes;
    if (w->type == G4_TYPE_F32) {
        memcpy(out, row, (size_t)w->cols * sizeof(float));
        return;
    }
    g4_dequantize(w->type, row, out, w->cols);
}

void g4_dec_matmul(struct g4_pool *tp, const struct g4_mat *w, const float *x, int n, int64_t ldx, float *y,
                   int64_t ldy, void *wdata, bool f32_act) {
    struct g4_matmul_args a = {
        .type = w->type, .w = w->data, .w_row_bytes = w->row_bytes, .N = w->rows, .K = w->cols, .M = n,
        .x = x, .x_stride = ldx, .y = y, .y_stride = ldy, .f32_act = f32_act, .wdata = wdata,
        .w_packed = w->packed,
    };
    g4_matmul(tp, g4_kernels(), &a);
}

size_t g4_dec_matmul_wsize(const struct g4_mat *w, int n, bool f32_act) {
    if (!w->data) return 0;
    return g4_matmul_wsize(g4_kernels(), w->type, n, w->cols, f32_act);
}

struct norm_job {
    const float *x;
    float *y;
    int dim;
    const float *w;
    float eps;
};

static void norm_range(void *ctx, int ith, int64_t i0, int64_t i1) {
    (void)ith;
    struct norm_job *j = ctx;
    for (int64_t i = i0; i < i1; i++) {
        const float *x = j->x + (size_t)i * j->dim;
        float *y = j->y + (size_t)i * j->dim;
        double ss = 0;
        for (int c = 0; c < j->dim; c++) ss += (double)x[c] * x[c];
        /* HF: x * pow(mean(x^2) + eps, -0.5) in f32 */
        float ms = (float)(ss / j->dim) + j->eps;
        float inv = 1.0f / sqrtf(ms);
        if (j->w)
            for (int c = 0; c < j->dim; c++) y[c] = (x[c] * inv) * j->w[c];
        else
            for (int c = 0; c < j->dim; c++) y[c] = x[c] * inv;
    }
}

void g4_dec_rmsnorm(struct g4_pool *tp, const float *x, float *y, int64_t n_rows, int dim,
                    const float *w, float eps) {
    struct norm_job j = {x, y, dim, w, eps};
    g4_dec_par_for(tp, n_rows, 8, norm_range, &j);
}

void g4_dec_mm(const struct g4_dec *dec, struct g4_pool *tp, const struct g4_mat *w, const float *x, int n,
               int64_t ldx, float *y, int64_t ldy, void *wdata) {
    g4_dec_matmul(tp, w, x, n, ldx, y, ldy, wdata, dec->f32_act);
    if (dec->bf16_act)
        for (int t = 0; t < n; t++) g4_dec_round(dec, y + (size_t)t * ldy, (size_t)w->rows);
}

void g4_dec_mm_multi(const struct g4_dec *dec, struct g4_pool *tp, int nm, const struct g4_mat *const *w,
                     const float *x, int n, int64_t ldx, float *const *y, const int64_t *ldy, void *const *wdata) {
    struct g4_matmul_args a[4];
    if (nm > 4) nm = 4;
    for (int i = 0; i < nm; i++)
        a[i] = (struct g4_matmul_args){
            .type = w[i]->type, .w = w[i]->data, .w_row_bytes = w[i]->row_bytes, .N = w[i]->rows,
            .K = w[i]->cols, .M = n, .x = x, .x_stride = ldx, .y = y[i], .y_stride = ldy[i],
            .f32_act = dec->f32_act, .wdata = wdata[i], .w_packed = w[i]->packed,
        };
    g4_matmul_multi(tp, g4_kernels(), a, nm);
    if (dec->bf16_act)
        for (int i = 0; i < nm; i++)
            for (int t = 0; t < n; t++) g4_dec_round(dec, y[i] + (size_t)t * ldy[i], (size_t)w[i]->rows);
}

void g4_dec_norm(const struct g4_dec *dec, struct g4_pool *tp, const float *x, float *y, int64_t n_rows, int dim,
                 const float *w, float eps) {
    g4_dec_rmsnorm(tp, x, y, n_rows, dim, w, eps);
    g4_dec_round(dec, y, (size_t)n_rows * (size_t)dim);
}
