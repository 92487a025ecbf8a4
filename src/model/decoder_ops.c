/* decoder_ops.c — numeric steps of the decoder (see decoder_ops.h).
 * The matmul unpacks each weight row once into a per-thread f32 buffer and
 * reuses it for every token of the batch (matrix-matrix for prefill). Plain
 * f32 rows are used in place. Accumulation is in f32, like the reference's
 * f32 matmul; norms accumulate in double. */
#include "model/decoder_ops.h"

#include "core/threadpool.h"
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

size_t g4_dec_ops_tmp_floats(int64_t max_cols) { return (size_t)((max_cols + 15) & ~(int64_t)15); }

void g4_dec_mat_row(const struct g4_mat *w, int64_t r, float *out) {
    const uint8_t *row = (const uint8_t *)w->data + (size_t)r * w->row_bytes;
    if (w->type == G4_TYPE_F32) {
        memcpy(out, row, (size_t)w->cols * sizeof(float));
        return;
    }
    g4_dequantize(w->type, row, out, w->cols);
}

struct mm_job {
    const struct g4_mat *w;
    const float *x;
    int n;
    int64_t ldx, ldy;
    float *y, *tmp;
    size_t tmp_stride;
};

static float dot_f32(const float *a, const float *b, int64_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

static void mm_range(void *ctx, int ith, int64_t r0, int64_t r1) {
    struct mm_job *j = ctx;
    const struct g4_mat *w = j->w;
    float *buf = j->tmp + (size_t)ith * j->tmp_stride;
    for (int64_t r = r0; r < r1; r++) {
        const float *wr;
        if (w->type == G4_TYPE_F32) {
            wr = (const float *)((const uint8_t *)w->data + (size_t)r * w->row_bytes);
        } else {
            g4_dec_mat_row(w, r, buf);
            wr = buf;
        }
        for (int t = 0; t < j->n; t++) j->y[(size_t)t * j->ldy + r] = dot_f32(wr, j->x + (size_t)t * j->ldx, w->cols);
    }
}

void g4_dec_matmul(struct g4_pool *tp, const struct g4_mat *w, const float *x, int n, int64_t ldx,
                   float *y, int64_t ldy, float *tmp) {
    struct mm_job j = {w, x, n, ldx, ldy, y, tmp, g4_dec_ops_tmp_floats(w->cols)};
    g4_dec_par_for(tp, w->rows, 16, mm_range, &j);
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
