/* names.c — the weight name table (see names.h) and lookups over it.
 * GGUF names follow llama.cpp (gguf-py constants.py MODEL_ARCH.GEMMA4 /
 * GEMMA3 tensor lists and tensor_mapping.py); HF names follow transformers'
 * Gemma3/Gemma4/Gemma4Unified module trees and the 12B converter. */
#include "model/names.h"

#include "model/config.h"
#include "tensor/types.h"

#include <stdio.h>
#include <string.h>

#define L true
#define M false
static const struct g4_weight_name table[G4_W_COUNT] = {
    {G4_W_TOKEN_EMBD, M, "token_embd.weight", "embed_tokens.weight", {NULL, NULL}, "token_embd"},
    {G4_W_OUTPUT_NORM, M, "output_norm.weight", "norm.weight", {NULL, NULL}, "output_norm"},
    {G4_W_OUTPUT, M, "output.weight", NULL, {"lm_head.weight", NULL}, "output"},
    {G4_W_ROPE_FREQS, M, "rope_freqs.weight", NULL, {NULL, NULL}, "rope_freqs"},
    {G4_W_PLE_TOKEN_EMBD, M, "per_layer_token_embd.weight", "embed_tokens_per_layer.weight", {NULL, NULL}, "ple_token_embd"},
    {G4_W_PLE_MODEL_PROJ, M, "per_layer_model_proj.weight", "per_layer_model_projection.weight", {NULL, NULL}, "ple_model_proj"},
    {G4_W_PLE_PROJ_NORM, M, "per_layer_proj_norm.weight", "per_layer_projection_norm.weight", {NULL, NULL}, "ple_proj_norm"},
    {G4_W_ATTN_NORM, L, "blk.%d.attn_norm.weight", "layers.%d.input_layernorm.weight", {NULL, NULL}, "attn_norm"},
    {G4_W_ATTN_Q, L, "blk.%d.attn_q.weight", "layers.%d.self_attn.q_proj.weight", {NULL, NULL}, "attn_q"},
    {G4_W_ATTN_K, L, "blk.%d.attn_k.weight", "layers.%d.self_attn.k_proj.weight", {NULL, NULL}, "attn_k"},
    {G4_W_ATTN_V, L, "blk.%d.attn_v.weight", "layers.%d.self_attn.v_proj.weight", {NULL, NULL}, "attn_v"},
    {G4_W_ATTN_OUT, L, "blk.%d.attn_output.weight", "layers.%d.self_attn.o_proj.weight", {NULL, NULL}, "attn_output"},
    {G4_W_ATTN_Q_NORM, L, "blk.%d.attn_q_norm.weight", "layers.%d.self_attn.q_norm.weight", {NULL, NULL}, "attn_q_norm"},
    {G4_W_ATTN_K_NORM, L, "blk.%d.attn_k_norm.weight", "layers.%d.self_attn.k_norm.weight", {NULL, NULL}, "attn_k_norm"},
    {G4_W_ATTN_POST_NORM, L, "blk.%d.post_attention_norm.weight", "layers.%d.post_attention_layernorm.weight", {NULL, NULL}, "post_attention_norm"},
    {G4_W_FFN_NORM, L, "blk.%d.ffn_norm.weight", "layers.%d.pre_feedforward_layernorm.weight", {NULL, NULL}, "ffn_norm"},
    {G4_W_FFN_GATE, L, "blk.%d.ffn_gate.weight", "layers.%d.mlp.gate_proj.weight", {NULL, NULL}, "ffn_gate"},
    {G4_W_FFN_UP, L, "blk.%d.ffn_up.weight", "layers.%d.mlp.up_proj.weight", {NULL, NULL}, "ffn_up"},
    {G4_W_FFN_DOWN, L, "blk.%d.ffn_down.weight", "layers.%d.mlp.down_proj.weight", {NULL, NULL}, "ffn_down"},
    {G4_W_FFN_POST_NORM, L, "blk.%d.post_ffw_norm.weight", "layers.%d.post_feedforward_layernorm.weight", {NULL, NULL}, "post_ffw_norm"},
    {G4_W_LAYER_SCALAR, L, "blk.%d.layer_output_scale.weight", "layers.%d.layer_scalar", {NULL, NULL}, "layer_output_scale"},
    {G4_W_PLE_INP_GATE, L, "blk.%d.inp_gate.weight", "layers.%d.per_layer_input_gate.weight", {NULL, NULL}, "ple_inp_gate"},
    {G4_W_PLE_PROJ, L, "blk.%d.proj.weight", "layers.%d.per_layer_projection.weight", {NULL, NULL}, "ple_proj"},
    {G4_W_PLE_POST_NORM, L, "blk.%d.post_norm.weight", "layers.%d.post_per_layer_input_norm.weight", {NULL, NULL}, "ple_post_norm"},
    {G4_W_MOE_ROUTER, L, "blk.%d.ffn_gate_inp.weight", "layers.%d.router.proj.weight", {NULL, NULL}, "ffn_gate_inp"},
    {G4_W_MOE_ROUTER_SCALE, L, "blk.%d.ffn_gate_inp.scale", "layers.%d.router.scale", {NULL, NULL}, "ffn_gate_inp_scale"},
    {G4_W_MOE_GATE_UP_EXPS, L, "blk.%d.ffn_gate_up_exps.weight", "layers.%d.experts.gate_up_proj", {NULL, NULL}, "ffn_gate_up_exps"},
    {G4_W_MOE_GATE_EXPS, L, "blk.%d.ffn_gate_exps.weight", NULL, {NULL, NULL}, "ffn_gate_exps"},
    {G4_W_MOE_UP_EXPS, L, "blk.%d.ffn_up_exps.weight", NULL, {NULL, NULL}, "ffn_up_exps"},
    {G4_W_MOE_DOWN_EXPS, L, "blk.%d.ffn_down_exps.weight", "layers.%d.experts.down_proj", {NULL, NULL}, "ffn_down_exps"},
    {G4_W_MOE_EXPERT_SCALE, L, "blk.%d.ffn_down_exps.scale", "layers.%d.router.per_expert_scale", {NULL, NULL}, "ffn_down_exps_scale"},
    {G4_W_FFN_PRE_NORM_2, L, "blk.%d.pre_ffw_norm_2.weight", "layers.%d.pre_feedforward_layernorm_2.weight", {NULL, NULL}, "pre_ffw_norm_2"},
    {G4_W_FFN_POST_NORM_1, L, "blk.%d.post_ffw_norm_1.weight", "layers.%d.post_feedforward_layernorm_1.weight", {NULL, NULL}, "post_ffw_norm_1"},
    {G4_W_FFN_POST_NORM_2, L, "blk.%d.post_ffw_norm_2.weight", "layers.%d.post_feedforward_layernorm_2.weight", {NULL, NULL}, "post_ffw_norm_2"},
    {G4_W_VIS_PATCH_LN1_W, M, NULL, NULL, {"model.vision_embedder.patch_ln1.weight", "model.embed_vision.patch_ln1.weight"}, "vis_patch_ln1.weight"},
    {G4_W_VIS_PATCH_LN1_B, M, NULL, NULL, {"model.vision_embedder.patch_ln1.bias", "model.embed_vision.patch_ln1.bias"}, "vis_patch_ln1.bias"},
    {G4_W_VIS_PATCH_DENSE_W, M, NULL, NULL, {"model.vision_embedder.patch_dense.weight", "model.embed_vision.patch_dense.weight"}, "vis_patch_dense.weight"},
    {G4_W_VIS_PATCH_DENSE_B, M, NULL, NULL, {"model.vision_embedder.patch_dense.bias", "model.embed_vision.patch_dense.bias"}, "vis_patch_dense.bias"},
    {G4_W_VIS_PATCH_LN2_W, M, NULL, NULL, {"model.vision_embedder.patch_ln2.weight", "model.embed_vision.patch_ln2.weight"}, "vis_patch_ln2.weight"},
    {G4_W_VIS_PATCH_LN2_B, M, NULL, NULL, {"model.vision_embedder.patch_ln2.bias", "model.embed_vision.patch_ln2.bias"}, "vis_patch_ln2.bias"},
    {G4_W_VIS_POS_EMBD, M, NULL, NULL, {"model.vision_embedder.pos_embedding", "model.embed_vision.pos_embedding"}, "vis_pos_embedding"},
    {G4_W_VIS_POS_NORM_W, M, NULL, NULL, {"model.vision_embedder.pos_norm.weight", "model.embed_vision.pos_norm.weight"}, "vis_pos_norm.weight"},
    {G4_W_VIS_POS_NORM_B, M, NULL, NULL, {"model.vision_embedder.pos_norm.bias", "model.embed_vision.pos_norm.bias"}, "vis_pos_norm.bias"},
    {G4_W_VIS_PROJ, M, NULL, NULL, {"model.embed_vision.embedding_projection.weight", "model.embed_vision.multimodal_embedder.embedding_projection.weight"}, "vis_projection"},
    {G4_W_AUDIO_PROJ, M, NULL, NULL, {"model.embed_audio.embedding_projection.weight", "model.embed_audio.multimodal_embedder.embedding_projection.weight"}, "audio_projection"},
    {G4_W_ASST_PRE_PROJ, M, "nextn.pre_projection.weight", NULL, {"pre_projection.weight", NULL}, "pre_projection"},
    {G4_W_ASST_POST_PROJ, M, "nextn.post_projection.weight", NULL, {"post_projection.weight", NULL}, "post_projection"},
    {G4_W_ASST_CENTROIDS, M, NULL, NULL, {"masked_embedding.centroids.weight", NULL}, "centroids"},
    {G4_W_ASST_TOKEN_ORDERING, M, NULL, NULL, {"masked_embedding.token_ordering", NULL}, "token_ordering"},
};
#undef L
#undef M

/* Prefixes of the HF text stack: multimodal (transformers 5 / converter),
 * text-only and assistant, transformers 4 multimodal. */
static const char *const text_prefix[] = {"model.language_model.", "model.", "language_model.model."};

const struct g4_weight_name *g4_names_get(enum g4_weight w) {
    if ((unsigned)w >= G4_W_COUNT) return NULL;
    return &table[w];
}

static const struct g4_tensor *try_name(const struct g4_tensordir *d, const char *prefix, const char *fmt, bool per_layer,
                                        int layer) {
    char buf[256];
    int n = snprintf(buf, sizeof buf, "%s", prefix);
    if (per_layer)
        snprintf(buf + n, sizeof buf - (size_t)n, fmt, layer);
    else
        snprintf(buf + n, sizeof buf - (size_t)n, "%s", fmt);
    return g4_tensordir_find(d, buf);
}

const struct g4_tensor *g4_names_find(const struct g4_tensordir *d, enum g4_weight w, int layer) {
    const struct g4_weight_name *e = g4_names_get(w);
    if (!e || (e->per_layer && layer < 0)) return NULL;
    const struct g4_tensor *t;
    if (e->gguf && (t = try_name(d, "", e->gguf, e->per_layer, layer))) return t;
    if (e->hf_text)
        for (size_t i = 0; i < G4_ARRAY_LEN(text_prefix); i++)
            if ((t = try_name(d, text_prefix[i], e->hf_text, e->per_layer, layer))) return t;
    for (int i = 0; i < 2; i++)
        if (e->hf_full[i] && (t = try_name(d, "", e->hf_full[i], false, 0))) return t;
    return NULL;
}

/* Matches `name` against `prefix` + `pat` where pat may contain one "%d". */
static bool match(const char *prefix, const char *pat, const char *name, int *layer) {
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) != 0) return false;
    name += pl;
    *layer = -1;
    while (*pat) {
        if (pat[0] == '%' && pat[1] == 'd') {
            if (*name < '0' || *name > '9') return false;
            long v = 0;
            while (*name >= '0' && *name <= '9') {
                v = v * 10 + (*name++ - '0');
                if (v > G4_MAX_LAYERS) return false;
            }
            *layer = (int)v;
            pat += 2;
        } else if (*pat++ != *name++) {
            return false;
        }
    }
    return *name == 0;
}

bool g4_names_classify(const char *name, enum g4_weight *w, int *layer) {
    for (int i = 0; i < G4_W_COUNT; i++) {
        const struct g4_weight_name *e = &table[i];
        bool ok = (e->gguf && match("", e->gguf, name, layer));
        for (size_t p = 0; !ok && e->hf_text && p < G4_ARRAY_LEN(text_prefix); p++)
            ok = match(text_prefix[p], e->hf_text, name, layer);
        for (int k = 0; !ok && k < 2; k++) ok = e->hf_full[k] && match("", e->hf_full[k], name, layer);
        if (ok) {
            *w = e->w;
            return true;
        }
    }
    return false;
}

static g4_status need(const struct g4_tensordir *d, enum g4_weight w, int layer, int64_t ne0, int64_t ne1,
                      g4_error *err) {
    const struct g4_tensor *t = g4_names_find(d, w, layer);
    const char *f = table[w].field;
    if (!t) {
        if (layer >= 0) return g4_fail(err, G4_ERR_NOT_FOUND, "missing tensor %s of layer %d", f, layer);
        return g4_fail(err, G4_ERR_NOT_FOUND, "missing tensor %s", f);
    }
    int64_t n1 = 1;
    for (int i = 1; i < 4; i++) n1 *= t->ne[i];
    if (t->ne[0] != ne0 || n1 != ne1)
        return g4_fail(err, G4_ERR_FORMAT, "tensor %s has shape ne=[%lld, %lld], expected [%lld, %lld]", t->name,
                       (long long)t->ne[0], (long long)n1, (long long)ne0, (long long)ne1);
    return G4_OK;
}

g4_status g4_names_check(const struct g4_tensordir *d, const struct g4_config *c, g4_error *err) {
    g4_status s;
#define NEED(w, l, a, b)                                                                                     \
    do {                                                                                                     \
        if ((s = need(d, w, l, a, b, err)) != G4_OK) return s;                                               \
    } while (0)
    NEED(G4_W_TOKEN_EMBD, -1, c->n_embd, c->n_vocab);
    NEED(G4_W_OUTPUT_NORM, -1, c->n_embd, 1);
    if (c->n_embd_per_layer) {
        NEED(G4_W_PLE_TOKEN_EMBD, -1, (int64_t)c->n_layer * c->n_embd_per_layer, c->n_vocab_per_layer);
        NEED(G4_W_PLE_MODEL_PROJ, -1, c->n_embd, (int64_t)c->n_layer * c->n_embd_per_layer);
        NEED(G4_W_PLE_PROJ_NORM, -1, c->n_embd_per_layer, 1);
    }
    if (c->is_assistant) NEED(G4_W_ASST_PRE_PROJ, -1, 2 * (int64_t)c->backbone_hidden, c->n_embd);
    for (int i = 0; i < c->n_layer; i++) {
        const struct g4_layer_config *ly = &c->layers[i];
        int64_t q = (int64_t)ly->n_head * ly->head_dim, kv = (int64_t)ly->n_head_kv * ly->head_dim;
        NEED(G4_W_ATTN_NORM, i, c->n_embd, 1);
        NEED(G4_W_ATTN_Q, i, c->n_embd, q);
        NEED(G4_W_ATTN_OUT, i, q, c->n_embd);
        NEED(G4_W_ATTN_Q_NORM, i, ly->head_dim, 1);
        NEED(G4_W_ATTN_POST_NORM, i, c->n_embd, 1);
        if (!ly->kv_shared) {
            NEED(G4_W_ATTN_K, i, c->n_embd, kv);
            NEED(G4_W_ATTN_K_NORM, i, ly->head_dim, 1);
            if (!ly->k_eq_v) NEED(G4_W_ATTN_V, i, c->n_embd, kv);
        }
        NEED(G4_W_FFN_NORM, i, c->n_embd, 1);
        NEED(G4_W_FFN_GATE, i, c->n_embd, ly->n_ff);
        NEED(G4_W_FFN_UP, i, c->n_embd, ly->n_ff);
        NEED(G4_W_FFN_DOWN, i, ly->n_ff, c->n_embd);
        NEED(G4_W_FFN_POST_NORM, i, c->n_embd, 1);
        if (ly->moe) {
            NEED(G4_W_MOE_ROUTER, i, c->n_embd, c->n_expert);
            NEED(G4_W_MOE_DOWN_EXPS, i, c->n_ff_expert, (int64_t)c->n_embd * c->n_expert);
        }
        if (c->n_embd_per_layer) {
            NEED(G4_W_PLE_INP_GATE, i, c->n_embd, c->n_embd_per_layer);
            NEED(G4_W_PLE_PROJ, i, c->n_embd_per_layer, c->n_embd);
        }
    }
    /* 12B unified embedders (spec 3.2 / 4): patch dim = (patch * pool)^2 * 3 */
    if (c->vision == G4_VISION_UNIFIED && c->source == G4_SRC_HF) {
        int64_t side = (int64_t)c->vision_patch * (c->vision_pool ? c->vision_pool : 1), pd = side * side * 3;
        NEED(G4_W_VIS_PATCH_LN1_W, -1, pd, 1);
        NEED(G4_W_VIS_PATCH_DENSE_W, -1, pd, c->vision_hidden);
        NEED(G4_W_VIS_PATCH_DENSE_B, -1, c->vision_hidden, 1);
        NEED(G4_W_VIS_POS_EMBD, -1, c->vision_hidden, 2 * (int64_t)c->vision_posemb);
        NEED(G4_W_VIS_PROJ, -1, c->vision_hidden, c->n_embd);
    }
    if (c->audio == G4_AUDIO_FRAMES && c->source == G4_SRC_HF) NEED(G4_W_AUDIO_PROJ, -1, c->audio_hidden, c->n_embd);
#undef NEED
    return G4_OK;
}
