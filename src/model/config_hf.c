/* config_hf.c — struct g4_config from a Hugging Face config.json (+
 * generation_config.json), following transformers' configuration classes
 * (Gemma3Config/Gemma3TextConfig, Gemma4*Config, Gemma4Unified*Config,
 * Gemma4*AssistantConfig): a missing optional field takes that class's
 * default; hidden_size, num_hidden_layers and intermediate_size are required.
 * Every number is type- and range-checked before it is stored. */
#include "model/config.h"

#include "model/config_internal.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rd {
    const char *name; /* file name for messages */
    g4_error *err;
};

static bool present(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return v && !json_is_null(v);
}

/* Integer field in [lo, hi]; absent or null keeps *out unless required. */
static g4_status get_int(struct rd *r, const json_t *o, const char *key, int64_t lo, int64_t hi, bool required,
                         int64_t *out) {
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required) return g4_fail(r->err, G4_ERR_NOT_FOUND, "%s: missing required field '%s'", r->name, key);
        return G4_OK;
    }
    if (!json_is_integer(v)) return g4_fail(r->err, G4_ERR_FORMAT, "%s: '%s' is not an integer", r->name, key);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return g4_fail(r->err, G4_ERR_RANGE, "%s: '%s' = %lld out of range %lld..%lld", r->name, key, (long long)x,
                       (long long)lo, (long long)hi);
    *out = x;
    return G4_OK;
}

static g4_status get_i32(struct rd *r, const json_t *o, const char *key, int64_t lo, int64_t hi, bool required,
                         int *out) {
    int64_t x = *out;
    g4_status s = get_int(r, o, key, lo, hi, required, &x);
    if (!s) *out = (int)x;
    return s;
}

static g4_status get_num(struct rd *r, const json_t *o, const char *key, float *out) {
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return G4_OK;
    if (!json_is_number(v)) return g4_fail(r->err, G4_ERR_FORMAT, "%s: '%s' is not a number", r->name, key);
    double d = json_number_value(v);
    if (!isfinite(d) || fabs(d) > 3e38) return g4_fail(r->err, G4_ERR_RANGE, "%s: '%s' is out of range", r->name, key);
    *out = (float)d;
    return G4_OK;
}

static g4_status get_bool(struct rd *r, const json_t *o, const char *key, bool *out) {
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return G4_OK;
    if (!json_is_boolean(v)) return g4_fail(r->err, G4_ERR_FORMAT, "%s: '%s' is not a boolean", r->name, key);
    *out = json_is_true(v);
    return G4_OK;
}

#define TRY(x)                                                                                               \
    do {                                                                                                     \
        g4_status s_ = (x);                                                                                  \
        if (s_) return s_;                                                                                   \
    } while (0)

/* One RoPE parameter dict: rope_type default|linear|proportional. */
static g4_status parse_rope(struct rd *r, const json_t *p, float *theta, float *scale, float *partial,
                            const char *which) {
    if (!p || json_is_null(p)) return G4_OK;
    if (!json_is_object(p)) return g4_fail(r->err, G4_ERR_FORMAT, "%s: rope parameters (%s) not an object", r->name, which);
    const json_t *t = json_object_get(p, "rope_type");
    if (!t) t = json_object_get(p, "type");
    const char *type = json_is_string(t) ? json_string_value(t) : "default";
    TRY(get_num(r, p, "rope_theta", theta));
    if (!strcmp(type, "linear")) {
        float f = 1.0f;
        TRY(get_num(r, p, "factor", &f));
        if (!(f > 0 && f < 1e6f)) return g4_fail(r->err, G4_ERR_RANGE, "%s: rope factor %g out of range", r->name, f);
        *scale = f;
    } else if (!strcmp(type, "proportional")) {
        TRY(get_num(r, p, "partial_rotary_factor", partial));
    } else if (strcmp(type, "default") != 0) {
        return g4_fail(r->err, G4_ERR_UNSUPPORTED, "%s: rope_type '%.32s' (%s layers) is not supported", r->name, type,
                       which);
    }
    return G4_OK;
}

/* eos_token_id as an integer or a list of integers. */
static g4_status get_eos(struct rd *r, struct g4_config *c, const json_t *o, bool replace) {
    const json_t *v = json_object_get(o, "eos_token_id");
    if (!v || json_is_null(v)) return G4_OK;
    if (replace) c->n_eos = 0;
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0 || json_integer_value(v) >= (1 << 24))
            return g4_fail(r->err, G4_ERR_RANGE, "%s: eos_token_id out of range", r->name);
        g4_config_add_eos(c, json_integer_value(v));
        return G4_OK;
    }
    if (!json_is_array(v) || json_array_size(v) > G4_MAX_EOS)
        return g4_fail(r->err, G4_ERR_FORMAT, "%s: eos_token_id must be an integer or a list of at most %d", r->name,
                       G4_MAX_EOS);
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) >= (1 << 24))
            return g4_fail(r->err, G4_ERR_FORMAT, "%s: eos_token_id[%zu] is not a token id", r->name, i);
        g4_config_add_eos(c, json_integer_value(e));
    }
    return G4_OK;
}

static g4_status parse_layer_types(struct rd *r, struct g4_config *c, const json_t *text, bool gemma4) {
    const json_t *lt = json_object_get(text, "layer_types");
    if (lt && !json_is_null(lt)) {
        if (!json_is_array(lt) || json_array_size(lt) != (size_t)c->n_layer)
            return g4_fail(r->err, G4_ERR_FORMAT, "%s: layer_types must list %d layer types", r->name, c->n_layer);
        for (int i = 0; i < c->n_layer; i++) {
            const char *s = json_string_value(json_array_get(lt, (size_t)i));
            if (s && !strcmp(s, "sliding_attention"))
                c->layers[i].type = G4_LAYER_SLIDING;
            else if (s && !strcmp(s, "full_attention"))
                c->layers[i].type = G4_LAYER_GLOBAL;
            else
                return g4_fail(r->err, G4_ERR_FORMAT, "%s: layer_types[%d] is not sliding_attention/full_attention",
                               r->name, i);
        }
    } else {
        int pattern = 6; /* both families default to 5 sliding : 1 global */
        if (!gemma4) TRY(get_i32(r, text, "sliding_window_pattern", 1, 1 << 20, false, &pattern));
        for (int i = 0; i < c->n_layer; i++)
            c->layers[i].type = (i + 1) % pattern ? G4_LAYER_SLIDING : G4_LAYER_GLOBAL;
    }
    /* Gemma4TextConfig.__post_init__ forces the last layer to full attention */
    if (gemma4) c->layers[c->n_layer - 1].type = G4_LAYER_GLOBAL;
    return G4_OK;
}

static g4_status parse_per_layer(struct rd *r, struct g4_config *c, const json_t *plc) {
    if (!plc || json_is_null(plc)) return G4_OK;
    if (!json_is_object(plc)) return g4_fail(r->err, G4_ERR_FORMAT, "%s: per_layer_config is not an object", r->name);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)plc, key, v) {
        char *end;
        long idx = strtol(key, &end, 10);
        if (!*key || *end || idx < 0 || idx >= c->n_layer)
            return g4_fail(r->err, G4_ERR_FORMAT, "%s: per_layer_config key '%.16s' is not a layer index", r->name, key);
        if (!json_is_object(v))
            return g4_fail(r->err, G4_ERR_FORMAT, "%s: per_layer_config[%ld] is not an object", r->name, idx);
        struct g4_layer_config *L = &c->layers[idx];
        TRY(get_i32(r, v, "head_dim", 1, 4096, false, &L->head_dim));
        TRY(get_i32(r, v, "num_key_value_heads", 1, 1024, false, &L->n_head_kv));
        TRY(get_i32(r, v, "intermediate_size", 1, 1 << 21, false, &L->n_ff));
    }
    return G4_OK;
}

/* The text decoder config (flat file or text_config). */
static g4_status parse_text(struct rd *r, struct g4_config *c, const json_t *t, const char *text_type) {
    bool g4 = c->arch == G4_ARCH_GEMMA4;
    bool unified = text_type && strstr(text_type, "unified");
    /* class defaults */
    c->n_vocab = g4 ? 262144 : 262208;
    c->n_head = 8;
    c->n_head_kv_swa = 4;
    c->head_dim_swa = 256;
    c->context_length = unified ? 262144 : 131072;
    c->rms_eps = 1e-6f;
    c->query_pre_attn_scalar = g4 ? 0 : 256;
    c->sliding_window = g4 ? (unified ? 1024 : 512) : 4096;
    c->rope_theta_global = 1e6f;
    c->rope_theta_swa = 1e4f;
    c->bos_id = 2;
    c->pad_id = 0;
    c->n_eos = 0;
    g4_config_add_eos(c, 1);
    if (g4 && !unified && !c->is_assistant) {
        c->n_embd_per_layer = 256;
        c->n_vocab_per_layer = 262144;
    }
    c->bidirectional_vision = unified;

    int64_t x;
    TRY(get_int(r, t, "vocab_size", 1, 1 << 24, false, &c->n_vocab));
    TRY(get_i32(r, t, "hidden_size", 1, 65536, true, &c->n_embd));
    TRY(get_i32(r, t, "intermediate_size", 1, 1 << 20, true, &c->n_ff));
    TRY(get_i32(r, t, "num_hidden_layers", 1, G4_MAX_LAYERS, true, &c->n_layer));
    TRY(get_i32(r, t, "num_attention_heads", 1, 1024, false, &c->n_head));
    TRY(get_i32(r, t, "num_key_value_heads", 1, 1024, false, &c->n_head_kv_swa));
    TRY(get_i32(r, t, "head_dim", 1, 4096, false, &c->head_dim_swa));
    TRY(get_int(r, t, "max_position_embeddings", 1, (int64_t)1 << 24, false, &c->context_length));
    TRY(get_num(r, t, "rms_norm_eps", &c->rms_eps));
    TRY(get_i32(r, t, "sliding_window", 1, 1 << 24, false, &c->sliding_window));
    TRY(get_num(r, t, "final_logit_softcapping", &c->final_softcap));
    x = c->bos_id;
    TRY(get_int(r, t, "bos_token_id", 0, (1 << 24) - 1, false, &x));
    c->bos_id = (int32_t)x;
    x = c->pad_id;
    TRY(get_int(r, t, "pad_token_id", 0, (1 << 24) - 1, false, &x));
    c->pad_id = (int32_t)x;
    TRY(get_eos(r, c, t, true));
    if (present(t, "attn_logit_softcapping"))
        return g4_fail(r->err, G4_ERR_UNSUPPORTED, "%s: attn_logit_softcapping is not supported", r->name);
    const json_t *hact = json_object_get(t, "hidden_activation");
    if (json_is_string(hact) && strcmp(json_string_value(hact), "gelu_pytorch_tanh") != 0)
        return g4_fail(r->err, G4_ERR_UNSUPPORTED, "%s: hidden_activation '%.32s' is not supported", r->name,
                       json_string_value(hact));
    c->head_dim_global = c->head_dim_swa;
    c->n_head_kv_global = c->n_head_kv_swa;

    /* RoPE: transformers 5 writes rope_parameters {sliding_attention, full_attention};
     * older Gemma 3 files use rope_theta / rope_local_base_freq / rope_scaling. */
    const json_t *rp = json_object_get(t, "rope_parameters");
    if (g4) c->partial_rotary_global = 0.25f; /* class default: proportional, factor 0.25 */
    if (json_is_object(rp) && (json_object_get(rp, "full_attention") || json_object_get(rp, "sliding_attention"))) {
        float unused = 1.0f, unused_p = 1.0f;
        if (g4 && json_object_get(rp, "full_attention")) c->partial_rotary_global = 1.0f;
        TRY(parse_rope(r, json_object_get(rp, "full_attention"), &c->rope_theta_global, &c->rope_scale_global,
                       &c->partial_rotary_global, "full_attention"));
        TRY(parse_rope(r, json_object_get(rp, "sliding_attention"), &c->rope_theta_swa, &unused, &unused_p,
                       "sliding_attention"));
        if (unused != 1.0f || unused_p != 1.0f)
            return g4_fail(r->err, G4_ERR_UNSUPPORTED, "%s: scaled RoPE on sliding layers is not supported", r->name);
    } else {
        TRY(get_num(r, t, "rope_theta", &c->rope_theta_global));
        TRY(get_num(r, t, "rope_local_base_freq", &c->rope_theta_swa));
        float unused_p = 1.0f;
        TRY(parse_rope(r, rp, &c->rope_theta_global, &c->rope_scale_global, g4 ? &c->partial_rotary_global : &unused_p,
                       "full_attention"));
    }
    {
        /* Gemma3TextConfig.convert_rope_params_to_dict: a rope_scaling dict updates the global layers' parameters */
        float unused_p = 1.0f;
        TRY(parse_rope(r, json_object_get(t, "rope_scaling"), &c->rope_theta_global, &c->rope_scale_global,
                       g4 ? &c->partial_rotary_global : &unused_p, "full_attention"));
    }

    if (!g4) {
        TRY(get_num(r, t, "query_pre_attn_scalar", &c->query_pre_attn_scalar));
        bool bidir = false;
        TRY(get_bool(r, t, "use_bidirectional_attention", &bidir));
        if (bidir) return g4_fail(r->err, G4_ERR_UNSUPPORTED, "%s: bidirectional Gemma 3 (embedding) models are not supported", r->name);
        c->norm_plus_one = true; /* Gemma3RMSNorm: x * (1 + w) */
        TRY(parse_layer_types(r, c, t, false));
        return G4_OK;
    }

    /* Gemma 4 */
    bool k_eq_v = false;
    int global_head_dim = 512, n_global_kv = -1;
    TRY(get_bool(r, t, "attention_k_eq_v", &k_eq_v));
    c->k_eq_v = k_eq_v;
    TRY(get_i32(r, t, "global_head_dim", 1, 4096, false, &global_head_dim));
    TRY(get_i32(r, t, "num_global_key_value_heads", 1, 1024, false, &n_global_kv));
    TRY(get_i32(r, t, "num_kv_shared_layers", 0, G4_MAX_LAYERS, false, &c->n_kv_shared_layers));
    TRY(get_i32(r, t, "hidden_size_per_layer_input", 0, 65536, false, &c->n_embd_per_layer));
    TRY(get_int(r, t, "vocab_size_per_layer_input", 0, 1 << 24, false, &c->n_vocab_per_layer));
    if (c->n_embd_per_layer == 0) c->n_vocab_per_layer = 0;
    TRY(get_bool(r, t, "use_double_wide_mlp", &c->double_wide_mlp));
    bool moe = false;
    TRY(get_bool(r, t, "enable_moe_block", &moe));
    if (moe) {
        TRY(get_i32(r, t, "num_experts", 1, 1024, true, &c->n_expert));
        TRY(get_i32(r, t, "top_k_experts", 1, 1024, true, &c->n_expert_used));
        TRY(get_i32(r, t, "moe_intermediate_size", 1, 1 << 20, true, &c->n_ff_expert));
    }
    const json_t *bd = json_object_get(t, "use_bidirectional_attention");
    if (bd && !json_is_null(bd)) {
        if (!json_is_string(bd))
            return g4_fail(r->err, G4_ERR_FORMAT, "%s: use_bidirectional_attention is not a string", r->name);
        const char *s = json_string_value(bd);
        if (!strcmp(s, "vision"))
            c->bidirectional_vision = true;
        else
            return g4_fail(r->err, G4_ERR_UNSUPPORTED, "%s: use_bidirectional_attention '%.16s' is not supported",
                           r->name, s);
    } else {
        c->bidirectional_vision = false;
    }
    TRY(parse_layer_types(r, c, t, true));
    if (present(t, "per_layer_config")) {
        /* transformers 5 form: global dims come only from the per-layer overrides */
        TRY(parse_per_layer(r, c, json_object_get(t, "per_layer_config")));
    } else {
        c->head_dim_global = global_head_dim;
        /* HF: num_global_key_value_heads applies only when attention_k_eq_v */
        if (k_eq_v && n_global_kv > 0) c->n_head_kv_global = n_global_kv;
    }
    return G4_OK;
}

static g4_status parse_mm(struct rd *r, struct g4_config *c, const json_t *root) {
    const json_t *v = json_object_get(root, "vision_config"), *a = json_object_get(root, "audio_config");
    int64_t x;
    if (v && !json_is_null(v)) {
        if (!json_is_object(v)) return g4_fail(r->err, G4_ERR_FORMAT, "%s: vision_config is not an object", r->name);
        if (c->kind == G4_KIND_GEMMA3) {
            c->vision = G4_VISION_SIGLIP;
            c->vision_hidden = 1152, c->vision_layers = 27, c->vision_heads = 16, c->vision_patch = 14;
            c->vision_tokens = 256;
            TRY(get_i32(r, root, "mm_tokens_per_image", 1, 1 << 20, false, &c->vision_tokens));
        } else if (c->kind == G4_KIND_GEMMA4) {
            c->vision = G4_VISION_VIT;
            c->vision_hidden = 768, c->vision_layers = 16, c->vision_heads = 12, c->vision_patch = 16;
            c->vision_pool = 3, c->vision_posemb = 10240, c->vision_tokens = 280;
            TRY(get_i32(r, v, "pooling_kernel_size", 1, 64, false, &c->vision_pool));
            TRY(get_i32(r, v, "position_embedding_size", 1, 1 << 20, false, &c->vision_posemb));
        } else {
            c->vision = G4_VISION_UNIFIED;
            c->vision_hidden = 3840, c->vision_patch = 16, c->vision_pool = 3, c->vision_posemb = 1120;
            c->vision_tokens = 280;
            TRY(get_i32(r, v, "mm_embed_dim", 1, 65536, false, &c->vision_hidden));
            TRY(get_i32(r, v, "pooling_kernel_size", 1, 64, false, &c->vision_pool));
            TRY(get_i32(r, v, "mm_posemb_size", 1, 1 << 20, false, &c->vision_posemb));
            /* the projection's input width is output_proj_dims; the embedder produces mm_embed_dim */
            int proj = 3840;
            TRY(get_i32(r, v, "output_proj_dims", 1, 65536, false, &proj));
            if (proj != c->vision_hidden)
                return g4_fail(r->err, G4_ERR_FORMAT, "%s: vision_config output_proj_dims %d != mm_embed_dim %d",
                               r->name, proj, c->vision_hidden);
        }
        if (c->vision != G4_VISION_UNIFIED) {
            TRY(get_i32(r, v, "hidden_size", 1, 65536, false, &c->vision_hidden));
            TRY(get_i32(r, v, "num_hidden_layers", 0, 1024, false, &c->vision_layers));
            TRY(get_i32(r, v, "num_attention_heads", 1, 1024, false, &c->vision_heads));
        }
        TRY(get_i32(r, v, "patch_size", 1, 1024, false, &c->vision_patch));
    }
    if (a && !json_is_null(a)) {
        if (!json_is_object(a)) return g4_fail(r->err, G4_ERR_FORMAT, "%s: audio_config is not an object", r->name);
        if (c->kind == G4_KIND_GEMMA4_UNIFIED) {
            c->audio = G4_AUDIO_FRAMES;
            c->audio_hidden = 640;
            TRY(get_i32(r, a, "audio_embed_dim", 1, 1 << 20, false, &c->audio_hidden));
        } else if (c->kind == G4_KIND_GEMMA4) {
            c->audio = G4_AUDIO_CONFORMER;
            c->audio_hidden = 1024, c->audio_layers = 12;
            TRY(get_i32(r, a, "hidden_size", 1, 65536, false, &c->audio_hidden));
            TRY(get_i32(r, a, "num_hidden_layers", 0, 1024, false, &c->audio_layers));
        }
    }
    /* multimodal special tokens (Gemma4Config / Gemma3Config defaults) */
    static const struct {
        const char *key, *alt;
        int g3, g4;
        size_t off;
    } ids[] = {
        {"boi_token_id", "boi_token_index", 255999, 255999, offsetof(struct g4_config, boi_id)},
        {"eoi_token_id", "eoi_token_index", 256000, 258882, offsetof(struct g4_config, eoi_id)},
        {"image_token_id", "image_token_index", 262144, 258880, offsetof(struct g4_config, image_id)},
        {"video_token_id", NULL, -1, 258884, offsetof(struct g4_config, video_id)},
        {"boa_token_id", NULL, -1, 256000, offsetof(struct g4_config, boa_id)},
        {"eoa_token_id", "eoa_token_index", -1, 258883, offsetof(struct g4_config, eoa_id)},
        {"audio_token_id", NULL, -1, 258881, offsetof(struct g4_config, audio_id)},
    };
    if (c->kind == G4_KIND_GEMMA3 || c->kind == G4_KIND_GEMMA4 || c->kind == G4_KIND_GEMMA4_UNIFIED) {
        for (size_t i = 0; i < G4_ARRAY_LEN(ids); i++) {
            x = c->arch == G4_ARCH_GEMMA3 ? ids[i].g3 : ids[i].g4;
            TRY(get_int(r, root, ids[i].key, 0, (1 << 24) - 1, false, &x));
            if (ids[i].alt) TRY(get_int(r, root, ids[i].alt, 0, (1 << 24) - 1, false, &x));
            int32_t *dst = (int32_t *)((char *)c + ids[i].off);
            *dst = (x >= 0 && x < c->n_vocab) ? (int32_t)x : -1;
        }
    }
    return G4_OK;
}

static g4_status parse_generation(struct rd *r, struct g4_config *c, const json_t *g) {
    if (!json_is_object(g)) return g4_fail(r->err, G4_ERR_FORMAT, "%s: not a JSON object", r->name);
    TRY(get_eos(r, c, g, true));
    int64_t x = c->bos_id;
    TRY(get_int(r, g, "bos_token_id", 0, (1 << 24) - 1, false, &x));
    c->bos_id = (int32_t)x;
    x = c->pad_id;
    TRY(get_int(r, g, "pad_token_id", 0, (1 << 24) - 1, false, &x));
    c->pad_id = (int32_t)x;
    TRY(get_num(r, g, "temperature", &c->temperature));
    TRY(get_num(r, g, "top_p", &c->top_p));
    TRY(get_i32(r, g, "top_k", 0, 1 << 24, false, &c->top_k));
    TRY(get_bool(r, g, "do_sample", &c->do_sample));
    const json_t *sup = json_object_get(g, "suppress_tokens");
    if (sup && !json_is_null(sup)) {
        if (!json_is_array(sup) || json_array_size(sup) > G4_MAX_SUPPRESS)
            return g4_fail(r->err, G4_ERR_FORMAT, "%s: suppress_tokens must be a list of at most %d ids", r->name,
                           G4_MAX_SUPPRESS);
        c->n_suppress = 0;
        for (size_t i = 0; i < json_array_size(sup); i++) {
            const json_t *e = json_array_get(sup, i);
            if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) >= (1 << 24))
                return g4_fail(r->err, G4_ERR_FORMAT, "%s: suppress_tokens[%zu] is not a token id", r->name, i);
            c->suppress_ids[c->n_suppress++] = (int32_t)json_integer_value(e);
        }
    }
    return G4_OK;
}

static g4_status parse_root(struct rd *r, struct g4_config *c, const json_t *root) {
    if (!json_is_object(root)) return g4_fail(r->err, G4_ERR_FORMAT, "%s: not a JSON object", r->name);
    const json_t *mt = json_object_get(root, "model_type");
    if (!json_is_string(mt)) return g4_fail(r->err, G4_ERR_NOT_FOUND, "%s: missing string 'model_type'", r->name);
    const char *type = json_string_value(mt);
    snprintf(c->model_type, sizeof c->model_type, "%s", type);
    static const struct {
        const char *type;
        enum g4_model_kind kind;
        enum g4_arch arch;
        bool nested;
    } kinds[] = {
        {"gemma3_text", G4_KIND_GEMMA3_TEXT, G4_ARCH_GEMMA3, false},
        {"gemma3", G4_KIND_GEMMA3, G4_ARCH_GEMMA3, true},
        {"gemma4_text", G4_KIND_GEMMA4_TEXT, G4_ARCH_GEMMA4, false},
        {"gemma4", G4_KIND_GEMMA4, G4_ARCH_GEMMA4, true},
        {"gemma4_unified_text", G4_KIND_GEMMA4_UNIFIED, G4_ARCH_GEMMA4, false},
        {"gemma4_unified", G4_KIND_GEMMA4_UNIFIED, G4_ARCH_GEMMA4, true},
        {"gemma4_assistant", G4_KIND_GEMMA4_ASSISTANT, G4_ARCH_GEMMA4, true},
        {"gemma4_unified_assistant", G4_KIND_GEMMA4_UNIFIED_ASSISTANT, G4_ARCH_GEMMA4, true},
    };
    size_t k = 0;
    while (k < G4_ARRAY_LEN(kinds) && strcmp(kinds[k].type, type) != 0) k++;
    if (k == G4_ARRAY_LEN(kinds))
        return g4_fail(r->err, G4_ERR_UNSUPPORTED, "%s: model_type '%.32s' is not supported (g4 runs gemma3 and gemma4)",
                       r->name, type);
    c->kind = kinds[k].kind;
    c->arch = kinds[k].arch;
    c->source = G4_SRC_HF;
    c->is_assistant = c->kind == G4_KIND_GEMMA4_ASSISTANT || c->kind == G4_KIND_GEMMA4_UNIFIED_ASSISTANT;
    const json_t *text = root;
    const char *text_type = type;
    if (kinds[k].nested) {
        text = json_object_get(root, "text_config");
        if (!json_is_object(text))
            return g4_fail(r->err, G4_ERR_NOT_FOUND, "%s: model_type %s needs a 'text_config' object", r->name, type);
        const json_t *tt = json_object_get(text, "model_type");
        text_type = json_is_string(tt) ? json_string_value(tt)
                    : c->kind == G4_KIND_GEMMA4_UNIFIED || c->kind == G4_KIND_GEMMA4_UNIFIED_ASSISTANT
                        ? "gemma4_unified_text"
                        : type;
    }
    TRY(parse_text(r, c, text, text_type));
    if (c->is_assistant) {
        c->backbone_hidden = c->kind == G4_KIND_GEMMA4_UNIFIED_ASSISTANT ? 3840 : 1536;
        c->n_centroids = 2048;
        c->centroid_top_k = 32;
        TRY(get_i32(r, root, "backbone_hidden_size", 1, 65536, false, &c->backbone_hidden));
        TRY(get_bool(r, root, "use_ordered_embeddings", &c->ordered_embeddings));
        TRY(get_i32(r, root, "num_centroids", 1, 1 << 20, false, &c->n_centroids));
        TRY(get_i32(r, root, "centroid_intermediate_top_k", 1, 1 << 20, false, &c->centroid_top_k));
        /* Gemma4AssistantConfig.__post_init__: every layer reads the target's K/V */
        if (c->n_kv_shared_layers == 0) c->n_kv_shared_layers = c->n_layer;
        if (c->n_kv_shared_layers != c->n_layer)
            return g4_fail(r->err, G4_ERR_FORMAT, "%s: every assistant layer must be KV-shared (%d of %d)", r->name,
                           c->n_kv_shared_layers, c->n_layer);
        c->n_embd_per_layer = 0;
        c->n_vocab_per_layer = 0;
    }
    TRY(parse_mm(r, c, root));
    return G4_OK;
}

/* After finalize: the summary global dims are those of the first global layer. */
static void sync_global_dims(struct g4_config *c) {
    for (int i = 0; i < c->n_layer; i++)
        if (c->layers[i].type == G4_LAYER_GLOBAL) {
            c->head_dim_global = c->layers[i].head_dim;
            c->n_head_kv_global = c->layers[i].n_head_kv;
            break;
        }
}

g4_status g4_config_from_hf_json(struct g4_config *c, const char *json, size_t len, const char *gen_json,
                                 size_t gen_len, const char *name, g4_error *err) {
    g4_config_defaults(c);
    struct rd r = {name ? name : "config.json", err};
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return g4_fail_at(err, G4_ERR_FORMAT, je.position, "%s: not valid JSON: %s (line %d)", r.name, je.text, je.line);
    g4_status s = parse_root(&r, c, root);
    json_decref(root);
    if (s) return s;
    if (gen_json) {
        struct rd rg = {"generation_config.json", err};
        json_t *g = json_loadb(gen_json, gen_len, JSON_REJECT_DUPLICATES, &je);
        if (!g) return g4_fail_at(err, G4_ERR_FORMAT, je.position, "%s: not valid JSON: %s", rg.name, je.text);
        s = parse_generation(&rg, c, g);
        json_decref(g);
        if (s) return s;
    }
    s = g4_config_finalize(c, r.name, err);
    if (s) return s;
    sync_global_dims(c);
    return G4_OK;
}
