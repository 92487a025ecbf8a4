/* weights.c — binds a model's tensors to the decoder (struct g4_dec).
 * Every tensor the config implies is looked up through the name table
 * (model/names.h: HF or llama.cpp GGUF spelling), checked against the
 * shape the config implies and against the types the matmul can read, and
 * referenced in place (weights stay mmap'd). A missing or mis-shaped tensor
 * is a G4_ERR_NOT_FOUND / G4_ERR_FORMAT naming it. Small vectors (norm
 * scales, layer scalars, router scales) are copied to f32; Gemma 3 HF norms
 * get their +1 folded in here (llama.cpp's converter already stored w+1 in
 * Gemma 3 GGUFs, so cfg->norm_plus_one is false for those). */
#include "model/weights.h"

#include "model/names.h"

#include "core/fp16.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"
#include "tensor/types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct binder {
    const struct g4_config *cfg;
    const struct g4_tensordir *td;
    int gguf;                 /* names follow llama.cpp */
    const char *prefix;       /* HF prefix, e.g. "model.language_model." */
    float *pool;              /* owned f32 arrays */
    size_t pool_used, pool_cap;
    g4_error *err;
};

/* The tensor bound to (w, il) under any spelling; `name` gets a readable
 * name for messages (the GGUF or HF spelling, layer filled in). */
static const struct g4_tensor *lookup(struct binder *bd, enum g4_weight w, int il, char *name, size_t cap) {
    const struct g4_weight_name *wn = g4_names_get(w);
    const char *fmt = bd->gguf ? wn->gguf : wn->hf_text ? wn->hf_text : wn->hf_full[0];
    char full[200];
    snprintf(full, sizeof full, "%s%s", !bd->gguf && wn->hf_text ? bd->prefix : "", fmt ? fmt : wn->field);
    snprintf(name, cap, full, il);
    return g4_names_find(bd->td, w, il);
}

static g4_status missing(struct binder *bd, const char *name) {
    return g4_fail(bd->err, G4_ERR_NOT_FOUND, "model: tensor %s is missing", name);
}

/* A matrix [rows][cols] (per expert when n_mat > 1: [n_mat][rows][cols]). */
static g4_status bind_mat(struct binder *bd, struct g4_mat *m, size_t *stride, enum g4_weight wt, int il,
                          int64_t rows, int64_t cols, int64_t n_mat, bool optional) {
    char name[200];
    const struct g4_tensor *t = lookup(bd, wt, il, name, sizeof name);
    memset(m, 0, sizeof *m);
    if (!t) return optional ? G4_OK : missing(bd, name);
    int64_t want[3] = {cols, rows, n_mat};
    int nd = n_mat > 1 ? 3 : 2;
    for (int i = 0; i < 4; i++) {
        int64_t w = i < nd ? want[i] : 1;
        if (t->ne[i] != w)
            return g4_fail(bd->err, G4_ERR_FORMAT,
                           "model: tensor %s has shape [%lld, %lld, %lld], expected [%lld, %lld, %lld] (ne order)", name,
                           (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)want[0],
                           (long long)want[1], (long long)(nd > 2 ? want[2] : 1));
    }
    const struct g4_type_traits *tr = g4_type_traits(t->type);
    uint64_t rb = 0, total = 0;
    if (!tr || !tr->supported || !g4_row_bytes(t->type, (uint64_t)cols, &rb))
        return g4_fail(bd->err, G4_ERR_UNSUPPORTED, "model: tensor %s: type %s with %lld columns is not supported",
                       name, g4_type_name(t->type), (long long)cols);
    if (!g4_mul_ok(rb, (uint64_t)rows * (uint64_t)n_mat, &total) || total > t->nbytes)
        return g4_fail(bd->err, G4_ERR_FORMAT, "model: tensor %s holds %llu bytes, needs %llu", name,
                       (unsigned long long)t->nbytes, (unsigned long long)total);
    /* the kernel table must be able to multiply it (type, block sizes) */
    struct g4_matmul_args a = {.type = t->type, .w = t->data, .w_row_bytes = (size_t)rb, .N = rows, .K = cols, .M = 1,
                               .x = (const float *)t->data, .x_stride = cols, .y = (float *)bd, .y_stride = rows,
                               .wdata = bd};
    g4_error e2;
    if (g4_matmul_check(g4_kernels(), &a, g4_matmul_wsize(g4_kernels(), t->type, 1, cols, false), &e2) != G4_OK)
        return g4_fail(bd->err, G4_ERR_UNSUPPORTED, "model: tensor %s: %s", name, e2.message);
    m->type = t->type;
    m->rows = rows;
    m->cols = cols;
    m->row_bytes = (size_t)rb;
    m->data = t->data;
    if (stride) *stride = (size_t)rb * (size_t)rows;
    return G4_OK;
}

static float *pool_take(struct binder *bd, size_t n) {
    if (bd->pool_used + n > bd->pool_cap) return NULL;
    float *p = bd->pool + bd->pool_used;
    bd->pool_used += (n + 15) & ~(size_t)15;
    return p;
}

/* A vector of n elements copied to f32; plus_one adds 1 (Gemma 3 HF norms). */
static g4_status bind_vec(struct binder *bd, const float **out, enum g4_weight wt, int il, int64_t n,
                          bool plus_one, bool optional) {
    char name[200];
    const struct g4_tensor *t = lookup(bd, wt, il, name, sizeof name);
    *out = NULL;
    if (!t) return optional ? G4_OK : missing(bd, name);
    if (g4_tensor_nelem(t) != n)
        return g4_fail(bd->err, G4_ERR_FORMAT, "model: tensor %s has %lld elements, expected %lld", name,
                       (long long)g4_tensor_nelem(t), (long long)n);
    uint64_t rb = 0;
    if (!g4_row_bytes(t->type, (uint64_t)n, &rb) || rb > t->nbytes)
        return g4_fail(bd->err, G4_ERR_FORMAT, "model: tensor %s: bad type %s or size", name, g4_type_name(t->type));
    float *v = pool_take(bd, (size_t)n);
    if (!v) return g4_fail(bd->err, G4_ERR_INTERNAL, "model: weight pool exhausted at %s", name);
    if (!g4_dequantize(t->type, t->data, v, n))
        return g4_fail(bd->err, G4_ERR_UNSUPPORTED, "model: tensor %s: type %s not supported", name,
                       g4_type_name(t->type));
    if (plus_one)
        for (int64_t i = 0; i < n; i++) v[i] += 1.0f;
    *out = v;
    return G4_OK;
}

/* sqrt(n) as the reference multiplies it: HF casts the f32 scalar to the
 * table's dtype (Gemma*ScaledWordEmbedding: embed_scale.to(weight.dtype);
 * bf16 gives 62.0 for 3840); llama.cpp (every GGUF) uses sqrtf(n). */
static float embed_scale(int64_t n, uint32_t type, bool gguf) {
    float s = (float)sqrt((double)n);
    if (gguf) return s;
    if (type == G4_TYPE_BF16) return g4_round_bf16(s);
    if (type == G4_TYPE_F16) return g4_f16_to_f32(g4_f32_to_f16(s));
    return s;
}

#define TRY(x)                                                                                                   \
    do {                                                                                                         \
        g4_status st_ = (x);                                                                                     \
        if (st_ != G4_OK) return st_;                                                                            \
    } while (0)

static g4_status bind_layer(struct binder *bd, struct g4_dec *dec, int il) {
    const struct g4_config *c = bd->cfg;
    const struct g4_layer_config *lc = &c->layers[il];
    struct g4_dec_layer *L = &dec->layers[il];
    int64_t d = c->n_embd, H = lc->head_dim, K = lc->n_head_kv, qd = (int64_t)lc->n_head * H;
    bool p1 = c->norm_plus_one;
    L->sliding = lc->type == G4_LAYER_SLIDING;
    L->head_dim = (int)H;
    L->n_kv_head = (int)K;
    L->k_eq_v = lc->k_eq_v;
    L->kv_src = lc->kv_shared ? lc->kv_source : il;
    L->n_ff = lc->n_ff;
    if (lc->n_head != c->n_head)
        return g4_fail(bd->err, G4_ERR_UNSUPPORTED, "model: layer %d has %d query heads, the model %d", il, lc->n_head,
                       c->n_head);
    if (L->kv_src < 0 || L->kv_src > il)
        return g4_fail(bd->err, G4_ERR_FORMAT, "model: layer %d reads the KV of layer %d", il, L->kv_src);
    if (L->kv_src != il) {
        const struct g4_layer_config *src = &c->layers[L->kv_src];
        if (src->head_dim != lc->head_dim || src->n_head_kv != lc->n_head_kv || src->type != lc->type)
            return g4_fail(bd->err, G4_ERR_FORMAT, "model: layer %d shares KV with layer %d of another shape", il,
                           L->kv_src);
    }

    /* RoPE inverse frequencies (HF default / proportional / linear) */
    float *inv = pool_take(bd, (size_t)(H / 2));
    if (!inv) return g4_fail(bd->err, G4_ERR_INTERNAL, "model: weight pool exhausted");
    int64_t pairs = lc->rope_proportional ? lc->n_rot / 2 : G4_MIN((int64_t)lc->n_rot, H) / 2;
    float scale = lc->rope_freq_scale > 0 ? lc->rope_freq_scale : 1.0f;
    for (int64_t i = 0; i < H / 2; i++) {
        /* HF: 1 / base ** (arange(0, dim, 2).float() / dim), in f32 */
        float ex = (float)(2 * i) / (float)H;
        inv[i] = i < pairs ? (1.0f / powf(lc->rope_theta, ex)) * scale : 0.0f;
        /* HF's bf16 model holds inv_freq in a bf16 buffer (model.to(bf16) casts buffers) */
        if (dec->bf16_act) inv[i] = g4_round_bf16(inv[i]);
    }
    L->inv_freq = inv;

    TRY(bind_mat(bd, &L->wq, NULL, G4_W_ATTN_Q, il, qd, d, 1, false));
    TRY(bind_mat(bd, &L->wo, NULL, G4_W_ATTN_OUT, il, d, qd, 1,
                 false));
    TRY(bind_vec(bd, &L->q_norm, G4_W_ATTN_Q_NORM, il, H, p1, false));
    if (!lc->kv_shared) {
        TRY(bind_mat(bd, &L->wk, NULL, G4_W_ATTN_K, il, K * H, d, 1,
                     false));
        if (!lc->k_eq_v)
            TRY(bind_mat(bd, &L->wv, NULL, G4_W_ATTN_V, il, K * H, d,
                         1, false));
        TRY(bind_vec(bd, &L->k_norm, G4_W_ATTN_K_NORM, il, H, p1,
                     false));
    }
    TRY(bind_vec(bd, &L->attn_norm, G4_W_ATTN_NORM, il, d, p1, false));
    TRY(bind_vec(bd, &L->post_attn_norm, G4_W_ATTN_POST_NORM, il, d, p1, false));
    TRY(bind_vec(bd, &L->ffn_norm, G4_W_FFN_NORM, il, d, p1,
                 false));
    TRY(bind_vec(bd, &L->post_ffn_norm, G4_W_FFN_POST_NORM,
                 il, d, p1, false));
    if (L->n_ff) {
        TRY(bind_mat(bd, &L->w_gate, NULL, G4_W_FFN_GATE, il, L->n_ff, d,
                     1, false));
        TRY(bind_mat(bd, &L->w_up, NULL, G4_W_FFN_UP, il, L->n_ff, d, 1,
                     false));
        TRY(bind_mat(bd, &L->w_down, NULL, G4_W_FFN_DOWN, il, d, L->n_ff,
                     1, false));
    }
    L->layer_scalar = 1.0f;
    if (c->layer_scalar) {
        const float *ls = NULL;
        TRY(bind_vec(bd, &ls, G4_W_LAYER_SCALAR, il, 1, false, false));
        L->layer_scalar = ls[0];
    }
    if (lc->moe) {
        int64_t E = c->n_expert, F = c->n_ff_expert;
        L->n_expert = (int)E;
        L->n_expert_used = c->n_expert_used;
        L->n_ff_exp = (int)F;
        if (E <= 0 || c->n_expert_used <= 0 || c->n_expert_used > E || F <= 0)
            return g4_fail(bd->err, G4_ERR_FORMAT, "model: layer %d: bad MoE sizes", il);
        TRY(bind_mat(bd, &L->router, NULL, G4_W_MOE_ROUTER, il, E, d, 1,
                     false));
        TRY(bind_vec(bd, &L->router_scale, G4_W_MOE_ROUTER_SCALE, il, d, false,
                     false));
        TRY(bind_vec(bd, &L->expert_scale, G4_W_MOE_EXPERT_SCALE, il, E,
                     false, false));
        TRY(bind_vec(bd, &L->post_ffn_norm_1, G4_W_FFN_POST_NORM_1, il, d, p1, false));
        TRY(bind_vec(bd, &L->pre_ffn_norm_2, G4_W_FFN_PRE_NORM_2, il, d, p1, false));
        TRY(bind_vec(bd, &L->post_ffn_norm_2, G4_W_FFN_POST_NORM_2, il, d, p1, false));
        TRY(bind_mat(bd, &L->exp_gate_up, &L->exp_gate_up_stride, G4_W_MOE_GATE_UP_EXPS, il, 2 * F, d, E, true));
        if (!L->exp_gate_up.data) {
            TRY(bind_mat(bd, &L->exp_gate, &L->exp_gate_stride, G4_W_MOE_GATE_EXPS, il, F, d, E, false));
            TRY(bind_mat(bd, &L->exp_up, &L->exp_up_stride, G4_W_MOE_UP_EXPS,
                         il, F, d, E, false));
        }
        TRY(bind_mat(bd, &L->exp_down, &L->exp_down_stride, G4_W_MOE_DOWN_EXPS, il, d, F, E, false));
    }
    if (c->n_embd_per_layer) {
        int64_t P = c->n_embd_per_layer;
        TRY(bind_mat(bd, &L->ple_gate, NULL, G4_W_PLE_INP_GATE, il, P,
                     d, 1, false));
        TRY(bind_mat(bd, &L->ple_proj, NULL, G4_W_PLE_PROJ, il, d, P,
                     1, false));
        TRY(bind_vec(bd, &L->ple_post_norm, G4_W_PLE_POST_NORM,
                     il, d, p1, false));
    }
    return G4_OK;
}

static g4_status bind_all(struct binder *bd, struct g4_dec *dec) {
    const struct g4_config *c = bd->cfg;
    int64_t d = c->n_embd;
    dec->gemma4 = c->arch == G4_ARCH_GEMMA4;
    dec->n_layer = c->n_layer;
    dec->n_embd = c->n_embd;
    dec->n_head = c->n_head;
    dec->n_vocab = (int)c->n_vocab;
    dec->window = c->sliding_window;
    dec->eps = c->rms_eps;
    dec->attn_scale = c->attn_scale;
    dec->final_softcap = c->final_softcap;
    dec->attn_softcap = 0;
    dec->v_norm = c->v_norm;
    /* HF create_masks_for_vision_model: Gemma 3 ORs the image blocks into
     * both layer types, Gemma 4 into sliding layers only, and only when the
     * config asks for it (not E2B/E4B) */
    dec->blocks_sliding = !dec->gemma4 || c->bidirectional_vision;
    dec->blocks_global = !dec->gemma4;
    TRY(bind_mat(bd, &dec->tok_embd, NULL, G4_W_TOKEN_EMBD, 0, c->n_vocab, d, 1, false));
    dec->embd_scale = embed_scale(d, dec->tok_embd.type, bd->gguf);
    /* HF runs a BF16 checkpoint in bf16: mirror its roundings (llama.cpp
     * computes GGUF models in f32, so GGUF files never set this) */
    dec->bf16_act = !bd->gguf && dec->tok_embd.type == G4_TYPE_BF16;
    TRY(bind_vec(bd, &dec->out_norm, G4_W_OUTPUT_NORM, 0, d, c->norm_plus_one, false));
    /* tied unless a separate head is stored */
    TRY(bind_mat(bd, &dec->output, NULL, G4_W_OUTPUT, 0, c->n_vocab, d, 1, true));
    if (!dec->output.data) dec->output = dec->tok_embd;
    if (c->n_embd_per_layer) {
        int64_t P = c->n_embd_per_layer, tot = P * c->n_layer;
        dec->n_ple = (int)P;
        dec->n_vocab_ple = (int)c->n_vocab_per_layer;
        TRY(bind_mat(bd, &dec->ple_embd, NULL, G4_W_PLE_TOKEN_EMBD, 0,
                     c->n_vocab_per_layer, tot, 1, false));
        dec->ple_embd_scale = embed_scale(P, dec->ple_embd.type, bd->gguf);
        TRY(bind_mat(bd, &dec->ple_model_proj, NULL, G4_W_PLE_MODEL_PROJ, 0, tot, d, 1, false));
        TRY(bind_vec(bd, &dec->ple_proj_norm, G4_W_PLE_PROJ_NORM, 0, P,
                     c->norm_plus_one, false));
    }
    for (int il = 0; il < c->n_layer; il++) {
        TRY(bind_layer(bd, dec, il));
        const struct g4_dec_layer *L = &dec->layers[il];
        dec->max_head_dim = G4_MAX(dec->max_head_dim, L->head_dim);
        dec->max_kv_dim = G4_MAX(dec->max_kv_dim, L->head_dim * L->n_kv_head);
        dec->max_q_dim = G4_MAX(dec->max_q_dim, L->head_dim * dec->n_head);
        dec->max_ff = G4_MAX(dec->max_ff, L->n_ff);
    }
    return G4_OK;
}

/* Finds the HF prefix under which the text decoder's tensors live. */
static const char *hf_prefix(const struct g4_tensordir *td) {
    static const char *const pre[] = {"model.language_model.", "model.", "language_model.model.", ""};
    char name[128];
    for (size_t i = 0; i < G4_ARRAY_LEN(pre); i++) {
        snprintf(name, sizeof name, "%sembed_tokens.weight", pre[i]);
        if (g4_tensordir_find(td, name)) return pre[i];
    }
    return NULL;
}

g4_status g4_dec_bind(struct g4_dec *dec, const struct g4_config *cfg, const struct g4_tensordir *td, g4_error *err) {
    return g4_dec_bind_ex(dec, cfg, td, NULL, err);
}

g4_status g4_dec_bind_ex(struct g4_dec *dec, const struct g4_config *cfg, const struct g4_tensordir *td,
                         struct g4_pool *pool, g4_error *err) {
    memset(dec, 0, sizeof *dec);
    if (cfg->n_layer <= 0 || cfg->n_layer > G4_MAX_LAYERS || cfg->n_embd <= 0 || cfg->n_head <= 0 ||
        cfg->n_vocab <= 0 || cfg->n_vocab > INT32_MAX)
        return g4_fail(err, G4_ERR_FORMAT, "model: bad decoder sizes in the config");
    if (cfg->is_assistant)
        return g4_fail(err, G4_ERR_UNSUPPORTED, "model: an assistant (drafter) is not a standalone decoder");
    struct binder bd = {.cfg = cfg, .td = td, .err = err};
    bd.gguf = cfg->source == G4_SRC_GGUF;
    if (!bd.gguf) {
        bd.prefix = hf_prefix(td);
        if (!bd.prefix) return g4_fail(err, G4_ERR_NOT_FOUND, "model: tensor embed_tokens.weight is missing");
    }
    int64_t d = cfg->n_embd, hmax = G4_MAX(cfg->head_dim_swa, cfg->head_dim_global);
    size_t per_layer = (size_t)(3 * hmax + 12 * d + cfg->n_expert + 64);
    bd.pool_cap = (size_t)cfg->n_layer * per_layer + (size_t)(2 * d + cfg->n_embd_per_layer + 64);
    bd.pool = calloc(bd.pool_cap, sizeof(float));
    dec->layers = calloc((size_t)cfg->n_layer, sizeof *dec->layers);
    if (!bd.pool || !dec->layers) {
        free(bd.pool);
        free(dec->layers);
        dec->layers = NULL;
        return g4_fail(err, G4_ERR_NOMEM, "model: out of memory binding weights");
    }
    dec->owned = bd.pool;
    g4_status st = bind_all(&bd, dec);
    if (st == G4_OK) { /* repack on the caller's pool, or on one made for it */
        struct g4_pool *own = NULL;
        if (!pool && g4_pool_init(&own, 0, err) != G4_OK) own = NULL; /* then on this thread */
        st = g4_dec_pack(dec, pool ? pool : own, true, err);
        g4_pool_free(own);
    }
    if (st != G4_OK) g4_dec_free(dec);
    return st;
}
