/* decoder_ffn.c — the feed-forward parts of a decoder layer.
 * Dense MLP (HF Gemma*TextMLP): down(gelu_tanh(gate h) * up h).
 * MoE (HF Gemma4TextRouter / Gemma4TextExperts): on the residual r,
 *   z = rmsnorm_noscale(r) * router_scale * d^-1/2, p = softmax(W_r z) in f32,
 *   top-k by p, weights renormalised to sum 1, times per_expert_scale[e];
 *   h2 = post_ffn_norm_2(sum_k w_k expert_k(pre_ffn_norm_2(r))).
 * Experts run matrix-matrix over the rows routed to them.
 * PLE (HF Gemma4TextModel.get_per_layer_inputs / project_per_layer_inputs and
 * the decoder layer): ple = (norm(W_p x_emb * d^-1/2) + E_ple[id] * sqrt(P))
 * * 2^-1/2; layer i adds post_norm(W_proj(gelu(W_gate x) * ple[i])). */
#include "model/decoder_impl.h"

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "tensor/types.h"

#include <math.h>
#include <string.h>

struct geglu_job {
    const struct g4_dec *dec;
    const struct g4_kernels *kt;
    float *ff, *out;
    int64_t f, ld, ldo, n_chunks; /* chunks of GEGLU_CHUNK columns per row */
};

enum { GEGLU_CHUNK = 1024 };

/* items are (row, column chunk) pairs */
static void geglu_range(void *ctx, int ith, int64_t i0, int64_t i1) {
    (void)ith;
    struct geglu_job *j = ctx;
    for (int64_t it = i0; it < i1; it++) {
        const int64_t i = it / j->n_chunks, c0 = it % j->n_chunks * GEGLU_CHUNK, c1 = G4_MIN(c0 + GEGLU_CHUNK, j->f);
        const float *g = j->ff + (size_t)i * j->ld, *u = g + j->f;
        float *o = j->out + (size_t)i * j->ldo;
        if (j->dec->bf16_act)
            for (int64_t c = c0; c < c1; c++) o[c] = g4_round_bf16(g4_round_bf16(g4_dec_gelu_tanh(g[c])) * u[c]);
        else /* the table's GeGLU (AVX2: tanh within a few ulp of tanhf) */
            j->kt->geglu(o + c0, g + c0, u + c0, c1 - c0);
    }
}

/* ff rows hold gate[0..f) then up[f..2f); out[i][c] = gelu(gate) * up (may alias gate) */
static void geglu(const struct g4_dec *dec, struct g4_pool *tp, float *ff, int n, int64_t f, int64_t ld, float *out,
                  int64_t ldo) {
    struct geglu_job j = {dec, g4_kernels(), ff, out, f, ld, ldo, (f + GEGLU_CHUNK - 1) / GEGLU_CHUNK};
    g4_dec_par_for(tp, (int64_t)n * j.n_chunks, 1, geglu_range, &j);
}

void g4_dec_mlp(const struct g4_dec *dec, int il, int n, struct g4_dec_scratch *s, struct g4_pool *tp) {
    const struct g4_dec_layer *L = &dec->layers[il];
    int64_t f = L->n_ff, ld = 2 * f, d = dec->n_embd;
    if (!f) {
        memset(s->o, 0, (size_t)n * d * sizeof(float));
        return;
    }
    const struct g4_mat *ws[2] = {&L->w_gate, &L->w_up};
    float *ys[2] = {s->ff, s->ff + f};
    const int64_t lds[2] = {ld, ld};
    void *wd[2] = {s->tmp, s->tmp2[0]};
    g4_dec_mm_multi(dec, tp, 2, ws, s->h, n, d, ys, lds, wd);
    geglu(dec, tp, s->ff, n, f, ld, s->ff, ld); /* in place: row i's first f floats */
    g4_dec_mm(dec, tp, &L->w_down, s->ff, n, ld, s->o, d, s->tmp);
}

static struct g4_mat expert_view(const struct g4_mat *m, size_t stride, int e) {
    struct g4_mat v = *m;
    v.data = (const uint8_t *)m->data + (size_t)e * stride;
    /* experts are packed as one stacked matrix (weights_pack.c) */
    if (m->packed)
        v.packed = (const uint8_t *)m->packed + (size_t)e * g4_matmul_repack_size(g4_kernels(), m->type, m->rows, m->cols);
    return v;
}

void g4_dec_moe(const struct g4_dec *dec, int il, int n, struct g4_dec_scratch *s, struct g4_pool *tp) {
    const struct g4_dec_layer *L = &dec->layers[il];
    int d = dec->n_embd, ne = L->n_expert, k = L->n_expert_used;
    int64_t f = L->n_ff_exp, ld = 2 * f;

    /* router on the residual stream */
    g4_dec_norm(dec, tp, s->x, s->h, n, d, NULL, dec->eps);
    float root = (float)pow((double)d, -0.5);
    for (int i = 0; i < n; i++) {
        float *h = s->h + (size_t)i * d;
        for (int c = 0; c < d; c++) h[c] = h[c] * L->router_scale[c] * root;
        g4_dec_round(dec, h, (size_t)d);
    }
    g4_dec_mm(dec, tp, &L->router, s->h, n, d, s->router, ne, s->tmp);
    for (int i = 0; i < n; i++) {
        float *z = s->router + (size_t)i * ne;
        float mx = -INFINITY;
        for (int e = 0; e < ne; e++) mx = z[e] > mx ? z[e] : mx;
        double sum = 0;
        for (int e = 0; e < ne; e++) {
            z[e] = expf(z[e] - mx);
            sum += z[e];
        }
        for (int e = 0; e < ne; e++) z[e] = (float)(z[e] / sum);
        int32_t *idx = s->top_idx + (size_t)i * k;
        float *w = s->top_w + (size_t)i * k;
        float tot = 0;
        for (int j = 0; j < k; j++) { /* top-k, ties to the lower index like torch.topk */
            int best = -1;
            for (int e = 0; e < ne; e++) {
                int taken = 0;
                for (int q = 0; q < j; q++) taken |= idx[q] == e;
                if (!taken && (best < 0 || z[e] > z[best])) best = e;
            }
            idx[j] = best;
            w[j] = z[best];
            tot += z[best];
        }
        for (int j = 0; j < k; j++) w[j] = w[j] / tot * L->expert_scale[idx[j]];
    }

    /* experts on pre_ffn_norm_2(r), grouped by expert */
    g4_dec_norm(dec, tp, s->x, s->h, n, d, L->pre_ffn_norm_2, dec->eps);
    memset(s->o2, 0, (size_t)n * d * sizeof(float));
    for (int e = 0; e < ne; e++) {
        int m = 0; /* rows routed to expert e */
        for (int i = 0; i < n; i++)
            for (int j = 0; j < k; j++)
                if (s->top_idx[(size_t)i * k + j] == e) {
                    s->rows[m] = i * k + j; /* row and slot */
                    memcpy(s->xe + (size_t)m * d, s->h + (size_t)i * d, (size_t)d * sizeof(float));
                    m++;
                }
        if (!m) continue;
        if (L->exp_gate_up.data) {
            struct g4_mat gu = expert_view(&L->exp_gate_up, L->exp_gate_up_stride, e);
            g4_dec_mm(dec, tp, &gu, s->xe, m, d, s->ff, ld, s->tmp);
        } else {
            struct g4_mat g = expert_view(&L->exp_gate, L->exp_gate_stride, e);
            struct g4_mat u = expert_view(&L->exp_up, L->exp_up_stride, e);
            g4_dec_mm(dec, tp, &g, s->xe, m, d, s->ff, ld, s->tmp);
            g4_dec_mm(dec, tp, &u, s->xe, m, d, s->ff + f, ld, s->tmp);
        }
        geglu(dec, tp, s->ff, m, f, ld, s->ff, ld);
        struct g4_mat dn = expert_view(&L->exp_down, L->exp_down_stride, e);
        g4_dec_mm(dec, tp, &dn, s->ff, m, ld, s->ye, d, s->tmp);
        for (int r = 0; r < m; r++) {
            int i = s->rows[r] / k;
            float w = s->top_w[s->rows[r]];
            float *o = s->o2 + (size_t)i * d;
            const float *y = s->ye + (size_t)r * d;
            for (int c = 0; c < d; c++) o[c] += y[c] * w;
        }
        g4_dec_round(dec, s->o2, (size_t)n * d);
    }
    g4_dec_norm(dec, tp, s->o2, s->o2, n, d, L->post_ffn_norm_2, dec->eps);
}

void g4_dec_ple_inputs(const struct g4_dec *dec, const struct g4_dec_batch *b, struct g4_dec_scratch *s,
                       struct g4_pool *tp) {
    int n = b->n, P = dec->n_ple, d = dec->n_embd;
    int64_t tot = (int64_t)dec->n_layer * P;
    int bf16 = dec->bf16_act;
    g4_dec_mm(dec, tp, &dec->ple_model_proj, s->x, n, d, s->ple, tot, s->tmp);
    float pscale = (float)pow((double)d, -0.5);
    for (size_t i = 0; i < (size_t)n * tot; i++) s->ple[i] *= pscale;
    g4_dec_round(dec, s->ple, (size_t)n * tot);
    g4_dec_norm(dec, tp, s->ple, s->ple, (int64_t)n * dec->n_layer, P, dec->ple_proj_norm, dec->eps);
    const float isq2 = (float)pow(2.0, -0.5);
    for (int i = 0; i < n; i++) {
        int id = b->tokens[i];
        if ((b->embd && b->embd_mask && b->embd_mask[i]) || id >= dec->n_vocab_ple) id = 0;
        float *raw = s->ple_tmp + (size_t)i * tot;
        g4_dec_mat_row(&dec->ple_embd, id, raw);
        float *pl = s->ple + (size_t)i * tot;
        for (int64_t c = 0; c < tot; c++) {
            float r = raw[c] * dec->ple_embd_scale;
            if (bf16) r = g4_round_bf16(r);
            pl[c] = (pl[c] + r) * isq2;
            if (bf16) pl[c] = g4_round_bf16(pl[c]);
        }
    }
}

void g4_dec_ple_layer(const struct g4_dec *dec, int il, int n, struct g4_dec_scratch *s, struct g4_pool *tp) {
    const struct g4_dec_layer *L = &dec->layers[il];
    int P = dec->n_ple, d = dec->n_embd;
    int64_t tot = (int64_t)dec->n_layer * P;
    g4_dec_mm(dec, tp, &L->ple_gate, s->x, n, d, s->ff, P, s->tmp);
    for (int i = 0; i < n; i++) {
        float *g = s->ff + (size_t)i * P;
        const float *pl = s->ple + (size_t)i * tot + (size_t)il * P;
        for (int c = 0; c < P; c++) g[c] = g4_dec_gelu_tanh(g[c]);
        g4_dec_round(dec, g, (size_t)P);
        for (int c = 0; c < P; c++) g[c] *= pl[c];
        g4_dec_round(dec, g, (size_t)P);
    }
    g4_dec_mm(dec, tp, &L->ple_proj, s->ff, n, P, s->o2, d, s->tmp);
    g4_dec_norm(dec, tp, s->o2, s->o2, n, d, L->ple_post_norm, dec->eps);
    for (size_t i = 0; i < (size_t)n * d; i++) s->x[i] += s->o2[i];
    g4_dec_round(dec, s->x, (size_t)n * d);
}
