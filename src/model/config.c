/* config.c — the parts of the model config shared by both sources:
 * resolving per-layer values (g4_config_finalize), the variant label,
 * validation, and KV-cache sizing. Readers live in config_hf.c (config.json)
 * and config_gguf.c (GGUF metadata). */
#include "model/config.h"

#include "model/config_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *g4_model_kind_name(enum g4_model_kind k) {
    switch (k) {
    case G4_KIND_GEMMA3_TEXT: return "gemma3_text";
    case G4_KIND_GEMMA3: return "gemma3";
    case G4_KIND_GEMMA4_TEXT: return "gemma4_text";
    case G4_KIND_GEMMA4: return "gemma4";
    case G4_KIND_GEMMA4_UNIFIED: return "gemma4_unified";
    case G4_KIND_GEMMA4_ASSISTANT: return "gemma4_assistant";
    case G4_KIND_GEMMA4_UNIFIED_ASSISTANT: return "gemma4_unified_assistant";
    }
    return "unknown";
}

void g4_config_defaults(struct g4_config *c) {
    memset(c, 0, sizeof *c);
    c->bos_id = c->pad_id = -1;
    c->boi_id = c->eoi_id = c->image_id = c->video_id = c->boa_id = c->eoa_id = c->audio_id = -1;
    c->rope_scale_global = 1.0f;
    c->partial_rotary_global = 1.0f;
    c->temperature = 1.0f;
    c->top_k = 64;     /* Gemma 3 and Gemma 4 IT generation_config.json defaults */
    c->top_p = 0.95f;
    c->do_sample = true;
}

void g4_config_add_eos(struct g4_config *c, int64_t id) {
    if (id < 0 || id > INT32_MAX) return;
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_ids[i] == id) return;
    if (c->n_eos < G4_MAX_EOS) c->eos_ids[c->n_eos++] = (int32_t)id;
}

/* Known sizes, by (layers, hidden). */
static const char *size_label(const struct g4_config *c) {
    static const struct {
        enum g4_arch arch;
        int n_layer, n_embd;
        const char *label;
    } sizes[] = {
        {G4_ARCH_GEMMA3, 18, 640, "270M"},  {G4_ARCH_GEMMA3, 26, 1152, "1B"},
        {G4_ARCH_GEMMA3, 34, 2560, "4B"},   {G4_ARCH_GEMMA3, 48, 3840, "12B"},
        {G4_ARCH_GEMMA3, 62, 5376, "27B"},  {G4_ARCH_GEMMA4, 35, 1536, "E2B"},
        {G4_ARCH_GEMMA4, 42, 2560, "E4B"},  {G4_ARCH_GEMMA4, 48, 3840, "12B unified"},
        {G4_ARCH_GEMMA4, 30, 2816, "26B-A4B MoE"}, {G4_ARCH_GEMMA4, 60, 5376, "31B"},
    };
    for (size_t i = 0; i < G4_ARRAY_LEN(sizes); i++)
        if (sizes[i].arch == c->arch && sizes[i].n_layer == c->n_layer && sizes[i].n_embd == c->n_embd)
            return sizes[i].label;
    return NULL;
}

static const char *target_label(int backbone) {
    switch (backbone) {
    case 1536: return "E2B";
    case 2560: return "E4B";
    case 3840: return "12B";
    case 2816: return "26B-A4B";
    case 5376: return "31B";
    }
    return NULL;
}

static void set_variant(struct g4_config *c) {
    const char *arch = c->arch == G4_ARCH_GEMMA3 ? "gemma3" : "gemma4";
    if (c->is_assistant) {
        const char *t = target_label(c->backbone_hidden);
        if (t)
            snprintf(c->variant, sizeof c->variant, "gemma4 %s assistant (MTP drafter)", t);
        else
            snprintf(c->variant, sizeof c->variant, "gemma4 assistant (MTP drafter, target d=%d)", c->backbone_hidden);
        return;
    }
    const char *s = size_label(c);
    if (s)
        snprintf(c->variant, sizeof c->variant, "%s %s", arch, s);
    else
        snprintf(c->variant, sizeof c->variant, "%s custom (%d layers, d=%d%s)", arch, c->n_layer, c->n_embd,
                 c->n_expert ? ", MoE" : "");
}

g4_status g4_config_finalize(struct g4_config *c, const char *name, g4_error *err) {
    if (c->n_layer <= 0 || c->n_layer > G4_MAX_LAYERS)
        return g4_fail(err, G4_ERR_RANGE, "%s: num_hidden_layers/block_count %d out of range 1..%d", name, c->n_layer,
                       G4_MAX_LAYERS);
    if (c->n_kv_shared_layers < 0 || c->n_kv_shared_layers > c->n_layer)
        return g4_fail(err, G4_ERR_RANGE, "%s: num_kv_shared_layers %d out of range 0..%d", name,
                       c->n_kv_shared_layers, c->n_layer);
    if (!(c->partial_rotary_global > 0 && c->partial_rotary_global <= 1))
        return g4_fail(err, G4_ERR_RANGE, "%s: partial_rotary_factor %g out of range (0, 1]", name,
                       (double)c->partial_rotary_global);
    if (!(c->rope_scale_global > 0 && c->rope_scale_global < 1e6f))
        return g4_fail(err, G4_ERR_RANGE, "%s: RoPE scaling factor %g out of range", name, (double)c->rope_scale_global);
    bool g4 = c->arch == G4_ARCH_GEMMA4;
    c->v_norm = g4;
    c->layer_scalar = g4;
    c->attn_scale = g4 ? 1.0f : (c->query_pre_attn_scalar > 0 ? 1.0f / sqrtf(c->query_pre_attn_scalar) : 0.0f);
    c->embed_scale = c->n_embd > 0 ? sqrtf((float)c->n_embd) : 0.0f;
    int first_shared = c->n_layer - c->n_kv_shared_layers;
    for (int i = 0; i < c->n_layer; i++) {
        struct g4_layer_config *L = &c->layers[i];
        bool glob = L->type == G4_LAYER_GLOBAL;
        L->n_head = c->n_head;
        if (!L->head_dim) L->head_dim = glob ? c->head_dim_global : c->head_dim_swa;
        if (!L->n_head_kv) L->n_head_kv = glob ? c->n_head_kv_global : c->n_head_kv_swa;
        bool ff_given = L->n_ff != 0; /* per-layer width from the file (GGUF array, per_layer_config) */
        if (!ff_given) L->n_ff = c->n_ff;
        L->k_eq_v = glob && c->k_eq_v;
        L->moe = c->n_expert > 0;
        L->rope_theta = glob ? c->rope_theta_global : c->rope_theta_swa;
        L->rope_freq_scale = glob ? 1.0f / c->rope_scale_global : 1.0f;
        L->rope_proportional = glob && g4 && c->partial_rotary_global < 1.0f;
        L->n_rot = glob ? (int)lroundf((float)L->head_dim * c->partial_rotary_global) : L->head_dim;
        L->kv_shared = i >= first_shared;
        L->kv_source = i;
        if (L->kv_shared) {
            L->kv_source = -1;
            for (int j = first_shared - 1; j >= 0; j--)
                if (c->layers[j].type == L->type) {
                    L->kv_source = j;
                    break;
                }
            if (L->kv_source < 0 && first_shared > 0)
                return g4_fail(err, G4_ERR_FORMAT, "%s: KV-shared layer %d has no earlier %s layer to share with",
                               name, i, glob ? "global" : "sliding");
            if (L->kv_source >= 0) {
                L->n_head_kv = c->layers[L->kv_source].n_head_kv;
                L->k_eq_v = c->layers[L->kv_source].k_eq_v;
            }
            if (c->double_wide_mlp && !ff_given) L->n_ff = 2 * c->n_ff;
        }
    }
    set_variant(c);
    return g4_config_validate(c, err);
}

#define CHECK_RANGE(v, lo, hi, what)                                                                         \
    do {                                                                                                     \
        if (!((v) >= (lo) && (v) <= (hi)))                                                                   \
            return g4_fail(err, G4_ERR_RANGE, "config: %s = %lld out of range %lld..%lld", what,             \
                           (long long)(v), (long long)(lo), (long long)(hi));                                \
    } while (0)
#define CHECK_F(v, ok, what)                                                                                 \
    do {                                                                                                     \
        if (!(isfinite(v) && (ok))) return g4_fail(err, G4_ERR_RANGE, "config: %s = %g is not valid", what, (double)(v)); \
    } while (0)

g4_status g4_config_validate(const struct g4_config *c, g4_error *err) {
    if (c->arch != G4_ARCH_GEMMA3 && c->arch != G4_ARCH_GEMMA4)
        return g4_fail(err, G4_ERR_UNSUPPORTED, "config: unknown architecture");
    CHECK_RANGE(c->n_layer, 1, G4_MAX_LAYERS, "num_hidden_layers");
    CHECK_RANGE(c->n_embd, 1, 65536, "hidden_size");
    CHECK_RANGE(c->n_vocab, 1, 1 << 24, "vocab_size");
    CHECK_RANGE(c->n_head, 1, 1024, "num_attention_heads");
    CHECK_RANGE(c->n_ff, 1, 1 << 20, "intermediate_size");
    CHECK_RANGE(c->context_length, 1, (int64_t)1 << 24, "max_position_embeddings");
    CHECK_F(c->rms_eps, c->rms_eps > 0 && c->rms_eps < 1, "rms_norm_eps");
    CHECK_F(c->final_softcap, c->final_softcap >= 0 && c->final_softcap < 1e6f, "final_logit_softcapping");
    CHECK_F(c->rope_theta_swa, c->rope_theta_swa > 0, "rope_theta (sliding)");
    CHECK_F(c->rope_theta_global, c->rope_theta_global > 0, "rope_theta (global)");
    CHECK_F(c->rope_scale_global, c->rope_scale_global > 0 && c->rope_scale_global < 1e6f, "rope scaling factor");
    CHECK_F(c->partial_rotary_global, c->partial_rotary_global > 0 && c->partial_rotary_global <= 1,
            "partial_rotary_factor");
    if (c->arch == G4_ARCH_GEMMA3)
        CHECK_F(c->query_pre_attn_scalar, c->query_pre_attn_scalar > 0 && c->query_pre_attn_scalar < 1e9f,
                "query_pre_attn_scalar");
    CHECK_RANGE(c->n_embd_per_layer, 0, 65536, "hidden_size_per_layer_input");
    CHECK_RANGE(c->n_vocab_per_layer, 0, 1 << 24, "vocab_size_per_layer_input");
    if (c->n_embd_per_layer > 0 && c->n_vocab_per_layer == 0)
        return g4_fail(err, G4_ERR_RANGE, "config: per-layer embeddings with vocab_size_per_layer_input 0");
    CHECK_RANGE(c->n_expert, 0, 1024, "num_experts");
    if (c->n_expert) {
        CHECK_RANGE(c->n_expert_used, 1, c->n_expert, "top_k_experts");
        CHECK_RANGE(c->n_ff_expert, 1, 1 << 20, "moe_intermediate_size");
    }
    int n_sliding = 0;
    for (int i = 0; i < c->n_layer; i++) {
        const struct g4_layer_config *L = &c->layers[i];
        char what[64];
        if (L->type != G4_LAYER_SLIDING && L->type != G4_LAYER_GLOBAL)
            return g4_fail(err, G4_ERR_FORMAT, "config: layer %d has an unknown attention type", i);
        n_sliding += L->type == G4_LAYER_SLIDING;
        snprintf(what, sizeof what, "layer %d head_dim", i);
        CHECK_RANGE(L->head_dim, 2, 4096, what);
        if (L->head_dim % 2) return g4_fail(err, G4_ERR_RANGE, "config: layer %d head_dim %d is odd (RoPE needs pairs)", i, L->head_dim);
        snprintf(what, sizeof what, "layer %d num_key_value_heads", i);
        CHECK_RANGE(L->n_head_kv, 1, L->n_head, what);
        if (L->n_head % L->n_head_kv)
            return g4_fail(err, G4_ERR_RANGE, "config: layer %d: %d query heads not a multiple of %d KV heads", i,
                           L->n_head, L->n_head_kv);
        if ((int64_t)L->n_head * L->head_dim > 1 << 20)
            return g4_fail(err, G4_ERR_RANGE, "config: layer %d: heads x head_dim too large", i);
        snprintf(what, sizeof what, "layer %d intermediate_size", i);
        CHECK_RANGE(L->n_ff, 1, 1 << 21, what);
        snprintf(what, sizeof what, "layer %d rotary dims", i);
        CHECK_RANGE(L->n_rot, 2, L->head_dim, what);
        if (L->kv_shared && L->kv_source >= 0 &&
            (L->kv_source >= i || c->layers[L->kv_source].kv_shared || c->layers[L->kv_source].type != L->type))
            return g4_fail(err, G4_ERR_INTERNAL, "config: layer %d shares K/V with bad layer %d", i, L->kv_source);
    }
    if (n_sliding) CHECK_RANGE(c->sliding_window, 1, (int64_t)1 << 24, "sliding_window");
    if (c->is_assistant) CHECK_RANGE(c->backbone_hidden, 1, 65536, "backbone_hidden_size");
    for (int i = 0; i < c->n_eos; i++) CHECK_RANGE(c->eos_ids[i], 0, c->n_vocab - 1, "eos_token_id");
    for (int i = 0; i < c->n_suppress; i++) CHECK_RANGE(c->suppress_ids[i], 0, c->n_vocab - 1, "suppress_tokens");
    if (c->bos_id >= c->n_vocab || c->pad_id >= c->n_vocab)
        return g4_fail(err, G4_ERR_RANGE, "config: bos/pad token id outside the vocabulary (%lld)", (long long)c->n_vocab);
    CHECK_F(c->temperature, c->temperature >= 0 && c->temperature < 1e6f, "temperature");
    CHECK_F(c->top_p, c->top_p >= 0 && c->top_p <= 1, "top_p");
    CHECK_RANGE(c->top_k, 0, 1 << 24, "top_k");
    return G4_OK;
}

uint64_t g4_config_kv_bytes(const struct g4_config *c, int64_t n_ctx, int elem_bytes) {
    uint64_t total = 0;
    if (n_ctx < 0 || elem_bytes <= 0) return 0;
    for (int i = 0; i < c->n_layer; i++) {
        const struct g4_layer_config *L = &c->layers[i];
        if (L->kv_shared) continue;
        uint64_t pos = (uint64_t)n_ctx;
        if (L->type == G4_LAYER_SLIDING && (uint64_t)c->sliding_window < pos) pos = (uint64_t)c->sliding_window;
        uint64_t b;
        /* K and V are cached separately even when K=V: V is unrotated with a scale-free norm (spec 2.4) */
        if (!g4_mul_ok(pos, 2ull * (uint64_t)L->n_head_kv * (uint64_t)L->head_dim, &b) ||
            !g4_mul_ok(b, (uint64_t)elem_bytes, &b) || !g4_add_ok(total, b, &total))
            return UINT64_MAX;
    }
    return total;
}
