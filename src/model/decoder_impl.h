/* decoder_impl.h — private glue between decoder.c and its parts
 * (decoder_attn.c, decoder_ffn.c, decoder_ple.c): the scratch layout shared
 * by one forward call. The scratch is carved from one caller buffer by
 * g4_dec_carve(); the same function computes the size (base == NULL). */
#ifndef G4_MODEL_DECODER_IMPL_H
#define G4_MODEL_DECODER_IMPL_H

#include "model/decoder_ops.h"

struct g4_dec_scratch {
    int n_threads;
    int64_t n_kv;        /* score buffer length per thread */
    float *x;            /* [nb][d] residual stream */
    float *h;            /* [nb][d] normed input of a block */
    float *o;            /* [nb][d] block output */
    float *o2;           /* [nb][d] second block output (MoE, PLE) */
    float *q;            /* [nb][max_q] */
    float *k, *v;        /* [nb][max_kv] */
    float *att;          /* [nb][max_q] attention output */
    float *rope;         /* [nb][max_head_dim] cos (first half) and sin (second half) */
    float *ff;           /* [nb][2*max_ff] gate|up */
    float *ple;          /* [nb][n_layer*P] per-layer inputs */
    float *ple_tmp;      /* [nb][n_layer*P] */
    float *router;       /* [nb][n_expert] */
    int32_t *top_idx;    /* [nb][n_expert_used] */
    float *top_w;        /* [nb][n_expert_used] */
    int32_t *rows;       /* [nb] rows routed to one expert */
    float *xe, *ye;      /* [nb][d] gathered expert input / output */
    float *scores;       /* [n_threads][n_kv] */
    void *tmp;           /* matmul activation scratch (quantized rows) */
    void *tmp2[2];       /* two more for the other inputs of a g4_dec_mm_multi (cols = d) */
};

/* Position and KV views of batch row i (see g4_dec_batch.pos / row_kv). */
static inline int64_t g4_dec_row_pos(const struct g4_dec_batch *b, int i) { return b->pos ? b->pos[i] : b->pos0 + i; }
static inline struct g4_kv_view *g4_dec_row_kv(const struct g4_dec_batch *b, struct g4_kv_view *kv, int i) {
    return b->row_kv ? b->row_kv[i] : kv;
}

/* Carves the scratch for batches of n_batch rows; returns the bytes used.
 * With base == NULL only the size is computed. */
size_t g4_dec_carve(const struct g4_dec *dec, int n_batch, int64_t n_kv, int n_threads, void *base,
                    struct g4_dec_scratch *s);

/* Attention block of layer il: reads s->h, writes s->o. */
void g4_dec_attn(const struct g4_dec *dec, int il, const struct g4_dec_batch *b, struct g4_kv_view *kv,
                 struct g4_dec_scratch *s, struct g4_pool *tp);
/* Dense GeGLU MLP of layer il: reads s->h, writes s->o. */
void g4_dec_mlp(const struct g4_dec *dec, int il, int n, struct g4_dec_scratch *s, struct g4_pool *tp);
/* MoE block of layer il: reads the residual s->x, writes s->o2 (already
 * post-normed with post_ffn_norm_2). */
void g4_dec_moe(const struct g4_dec *dec, int il, int n, struct g4_dec_scratch *s, struct g4_pool *tp);
/* Per-layer inputs (PLE): fills s->ple from the batch tokens and s->x
 * (the scaled input embeddings). */
void g4_dec_ple_inputs(const struct g4_dec *dec, const struct g4_dec_batch *b, struct g4_dec_scratch *s,
                       struct g4_pool *tp);
/* PLE residual of layer il: s->x += post_norm(proj(gelu(gate(x)) * ple_l)). */
void g4_dec_ple_layer(const struct g4_dec *dec, int il, int n, struct g4_dec_scratch *s, struct g4_pool *tp);

#endif
