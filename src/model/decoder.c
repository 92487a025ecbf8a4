/* decoder.c — the layer loop of the Gemma text decoder (see decoder.h).
 * Per layer (Gemma 3 and 4 alike; HF Gemma{3,4}TextDecoderLayer.forward):
 *   x += post_attn_norm(attn(attn_norm(x)))
 *   f  = mlp(ffn_norm(x)); MoE: f = post_ffn_norm_1(f) + moe(x)
 *   x += post_ffn_norm(f)
 *   PLE: x += ple_post_norm(ple_proj(gelu(ple_gate(x)) * ple_l))
 *   x *= layer_scalar
 * then logits = softcap(output . out_norm(x)) for the requested rows. */
#include "model/decoder_impl.h"

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "tensor/types.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static size_t carve(uint8_t **p, size_t *used, size_t bytes, uint8_t *base) {
    size_t off = (*used + 63) & ~(size_t)63;
    *used = off + bytes;
    if (base) *p = base + off;
    return off;
}

#define CARVE_F(field, count)                                                                 \
    do {                                                                                      \
        uint8_t *p_ = NULL;                                                                   \
        carve(&p_, &used, (size_t)(count) * sizeof(float), base);                             \
        if (base) s->field = (void *)p_;                                                      \
    } while (0)

/* Largest matmul activation scratch over every weight matrix for n rows. */
static size_t max_wsize(const struct g4_dec *dec, int n) {
    bool f = dec->f32_act;
    size_t m = G4_MAX(g4_dec_matmul_wsize(&dec->output, n, f), g4_dec_matmul_wsize(&dec->ple_model_proj, n, f));
    for (int il = 0; il < dec->n_layer; il++) {
        const struct g4_dec_layer *L = &dec->layers[il];
        const struct g4_mat *ms[] = {&L->wq,      &L->wk,       &L->wv,       &L->wo,       &L->w_gate,
                                     &L->w_up,    &L->w_down,   &L->router,   &L->exp_gate_up, &L->exp_gate,
                                     &L->exp_up,  &L->exp_down, &L->ple_gate, &L->ple_proj};
        for (size_t i = 0; i < G4_ARRAY_LEN(ms); i++) m = G4_MAX(m, g4_dec_matmul_wsize(ms[i], n, f));
    }
    return m;
}

size_t g4_dec_carve(const struct g4_dec *dec, int n_batch, int64_t n_kv, int n_threads, void *base_v,
                    struct g4_dec_scratch *s) {
    uint8_t *base = base_v;
    size_t used = 0;
    size_t nb = (size_t)(n_batch > 0 ? n_batch : 1);
    size_t d = (size_t)dec->n_embd;
    int max_exp = 0, max_used = 0, max_ffe = 0;
    for (int i = 0; i < dec->n_layer; i++) {
        max_exp = G4_MAX(max_exp, dec->layers[i].n_expert);
        max_used = G4_MAX(max_used, dec->layers[i].n_expert_used);
        max_ffe = G4_MAX(max_ffe, dec->layers[i].n_ff_exp);
    }
    size_t ff = (size_t)G4_MAX(G4_MAX(dec->max_ff, max_ffe), dec->n_ple);
    size_t nple = (size_t)dec->n_layer * (size_t)dec->n_ple;
    size_t wsize = max_wsize(dec, (int)nb);
    if (base) {
        memset(s, 0, sizeof *s);
        s->n_threads = n_threads;
        s->n_kv = n_kv;
    }
    CARVE_F(x, nb * d);
    CARVE_F(h, nb * d);
    CARVE_F(o, nb * d);
    CARVE_F(o2, nb * d);
    CARVE_F(q, nb * (size_t)dec->max_q_dim);
    CARVE_F(k, nb * (size_t)dec->max_kv_dim);
    CARVE_F(v, nb * (size_t)dec->max_kv_dim);
    CARVE_F(att, nb * (size_t)dec->max_q_dim);
    CARVE_F(rope, nb * (size_t)dec->max_head_dim);
    CARVE_F(ff, nb * 2 * ff);
    if (nple) {
        CARVE_F(ple, nb * nple);
        CARVE_F(ple_tmp, nb * nple);
    }
    if (max_exp) {
        CARVE_F(router, nb * (size_t)max_exp);
        CARVE_F(top_idx, nb * (size_t)max_used);
        CARVE_F(top_w, nb * (size_t)max_used);
        CARVE_F(rows, nb);
        CARVE_F(xe, nb * d);
        CARVE_F(ye, nb * d);
    }
    CARVE_F(scores, (size_t)n_threads * (size_t)(n_kv > 0 ? n_kv : 1));
    CARVE_F(tmp, (wsize + 3) / 4);
    size_t wsize_d = 0; /* matrices read together by g4_dec_mm_multi: q/k/v, gate/up */
    for (int il = 0; il < dec->n_layer; il++) {
        const struct g4_dec_layer *L = &dec->layers[il];
        const struct g4_mat *ms[] = {&L->wq, &L->wk, &L->wv, &L->w_gate, &L->w_up};
        for (size_t i = 0; i < G4_ARRAY_LEN(ms); i++)
            wsize_d = G4_MAX(wsize_d, g4_dec_matmul_wsize(ms[i], (int)nb, dec->f32_act));
    }
    CARVE_F(tmp2[0], (wsize_d + 3) / 4);
    CARVE_F(tmp2[1], (wsize_d + 3) / 4);
    return used + 64;
}

size_t g4_dec_scratch_bytes(const struct g4_dec *dec, int n_batch, int64_t n_kv, int n_threads) {
    return g4_dec_carve(dec, n_batch, n_kv, n_threads, NULL, NULL);
}

/* Input embeddings: token rows scaled by embd_scale (HF multiplies in the
 * weight dtype: with bf16_act embd_scale is bf16-rounded and so is the
 * product), or caller rows taken as they are. */
static void embed(const struct g4_dec *dec, const struct g4_dec_batch *b, float *x) {
    int d = dec->n_embd;
    int bf16 = dec->bf16_act; /* HF multiplies in bf16: the product is rounded */
    for (int i = 0; i < b->n; i++) {
        float *row = x + (size_t)i * d;
        if (b->embd && b->embd_mask && b->embd_mask[i]) {
            memcpy(row, b->embd + (size_t)i * d, (size_t)d * sizeof(float));
            continue;
        }
        g4_dec_mat_row(&dec->tok_embd, b->tokens[i], row);
        for (int c = 0; c < d; c++) {
            float v = row[c] * dec->embd_scale;
            row[c] = bf16 ? g4_round_bf16(v) : v;
        }
    }
}

static void add_rows(const struct g4_dec *dec, float *x, const float *y, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] += y[i];
    g4_dec_round(dec, x, n);
}

struct softcap_job {
    const struct g4_kernels *kt;
    float *x;
    float cap;
};

static void softcap_range(void *ctx, int ith, int64_t i0, int64_t i1) {
    (void)ith;
    struct softcap_job *j = ctx;
    j->kt->softcap(j->x + i0, j->x + i0, j->cap, i1 - i0);
}

/* x = cap * tanh(x / cap) with the table's softcap (AVX2: a few ulp of tanhf), on the pool */
static void softcap_par(struct g4_pool *tp, float *x, int64_t n, float cap) {
    struct softcap_job j = {g4_kernels(), x, cap};
    g4_dec_par_for(tp, n, 16384, softcap_range, &j);
}

g4_status g4_dec_forward(const struct g4_dec *dec, const struct g4_dec_batch *b, struct g4_kv_view *kv,
                         void *scratch, size_t scratch_bytes, struct g4_pool *tp, g4_error *err) {
    if (!b || b->n <= 0 || !b->tokens || b->out_first < 0 || b->out_first > b->n)
        return g4_fail(err, G4_ERR_INVALID_ARG, "decoder: bad batch");
    if (b->out_first < b->n && !b->logits && !b->hidden)
        return g4_fail(err, G4_ERR_INVALID_ARG, "decoder: logits requested without a buffer");
    for (int i = 0; i < b->n; i++)
        if (b->tokens[i] < 0 || b->tokens[i] >= dec->n_vocab)
            return g4_fail(err, G4_ERR_INVALID_ARG, "decoder: token id %d out of range [0, %d)", b->tokens[i],
                           dec->n_vocab);
    if (b->row_kv && b->block) return g4_fail(err, G4_ERR_INVALID_ARG, "decoder: blocks in a multi-sequence batch");
    if (!b->row_kv && !kv) return g4_fail(err, G4_ERR_INVALID_ARG, "decoder: no KV cache");
    int64_t max_cap = 0;
    for (int i = 0; i < (b->row_kv ? b->n : 1); i++) {
        const struct g4_kv_view *rk = g4_dec_row_kv(b, kv, i);
        for (int il = 0; il < dec->n_layer; il++)
            if (dec->layers[il].kv_src == il) max_cap = G4_MAX(max_cap, rk[il].cap);
    }
    int nt = g4_dec_threads(tp);
    size_t need = g4_dec_scratch_bytes(dec, b->n, max_cap, nt);
    if (!scratch || scratch_bytes < need)
        return g4_fail(err, G4_ERR_INTERNAL, "decoder: scratch of %zu bytes, need %zu", scratch_bytes, need);
    struct g4_dec_scratch s;
    uintptr_t a = ((uintptr_t)scratch + 63) & ~(uintptr_t)63;
    g4_dec_carve(dec, b->n, max_cap, nt, (void *)a, &s);

    int n = b->n, d = dec->n_embd;
    size_t nd = (size_t)n * d;
    embed(dec, b, s.x);
    if (dec->n_ple) g4_dec_ple_inputs(dec, b, &s, tp);

    for (int il = 0; il < dec->n_layer; il++) {
        const struct g4_dec_layer *L = &dec->layers[il];
        g4_dec_norm(dec, tp, s.x, s.h, n, d, L->attn_norm, dec->eps);
        g4_dec_attn(dec, il, b, kv, &s, tp);
        g4_dec_norm(dec, tp, s.o, s.o, n, d, L->post_attn_norm, dec->eps);
        add_rows(dec, s.x, s.o, nd);

        g4_dec_norm(dec, tp, s.x, s.h, n, d, L->ffn_norm, dec->eps);
        g4_dec_mlp(dec, il, n, &s, tp);
        if (L->n_expert) {
            g4_dec_norm(dec, tp, s.o, s.o, n, d, L->post_ffn_norm_1, dec->eps);
            g4_dec_moe(dec, il, n, &s, tp);
            add_rows(dec, s.o, s.o2, nd);
        }
        g4_dec_norm(dec, tp, s.o, s.o, n, d, L->post_ffn_norm, dec->eps);
        add_rows(dec, s.x, s.o, nd);
        if (dec->n_ple) g4_dec_ple_layer(dec, il, n, &s, tp);
        if (L->layer_scalar != 1.0f) {
            for (size_t i = 0; i < nd; i++) s.x[i] *= L->layer_scalar;
            g4_dec_round(dec, s.x, nd);
        }
    }

    int n_out = n - b->out_first;
    if (n_out > 0) {
        const float *xs = s.x + (size_t)b->out_first * d;
        float *hn = b->hidden ? b->hidden : s.h;
        g4_dec_norm(dec, tp, xs, hn, n_out, d, dec->out_norm, dec->eps);
        if (b->logits) {
            g4_dec_mm(dec, tp, &dec->output, hn, n_out, d, b->logits, dec->n_vocab, s.tmp);
            if (dec->final_softcap > 0) {
                float c = dec->final_softcap;
                size_t nl = (size_t)n_out * (size_t)dec->n_vocab;
                if (dec->bf16_act) /* HF: three bf16 ops, each rounded */
                    for (size_t i = 0; i < nl; i++)
                        b->logits[i] = g4_round_bf16(g4_round_bf16(tanhf(g4_round_bf16(b->logits[i] / c))) * c);
                else
                    softcap_par(tp, b->logits, (int64_t)nl, c);
            }
        }
    }
    return G4_OK;
}

void g4_dec_free(struct g4_dec *dec) {
    if (!dec) return;
    free(dec->layers);
    free(dec->owned);
    if (dec->packed_mem) munmap(dec->packed_mem, dec->packed_bytes);
    memset(dec, 0, sizeof *dec);
}
