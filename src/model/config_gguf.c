/* config_gguf.c — struct g4_config from GGUF metadata, with llama.cpp's key
 * names ({arch}.block_count, {arch}.attention.head_count_kv (scalar or
 * per-layer array), {arch}.attention.sliding_window_pattern (per-layer bool
 * array), key_length/_swa, rope.freq_base/_swa, shared_kv_layers,
 * embedding_length_per_layer_input, expert_*, embedding_length_out, ...) as
 * written by convert_hf_to_gguf.py's Gemma3Model/Gemma4Model. Where llama.cpp
 * hard-codes a Gemma 3 value (SWA pattern 6, sliding RoPE base 1e4, 27B query
 * scale n_embd/n_head) we do the same. GGUF norm weights already hold 1+w, so
 * norm_plus_one is false for every GGUF. */
#include "model/config.h"

#include "io/gguf.h"
#include "model/config_internal.h"
#include "tensor/types.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct gk {
    const struct gguf_file *g;
    const char *arch;
    const char *name;
    g4_error *err;
};

static const char *key(char *buf, size_t n, const char *arch, const char *suffix) {
    snprintf(buf, n, "%s.%s", arch, suffix);
    return buf;
}

/* Scalar u32 in [lo, hi]. */
static g4_status get_u32(struct gk *k, const char *suffix, uint32_t lo, uint32_t hi, bool required, int *out) {
    char b[160];
    uint32_t v;
    key(b, sizeof b, k->arch, suffix);
    if (!gguf_find(k->g, b)) {
        if (required) return g4_fail(k->err, G4_ERR_NOT_FOUND, "%s: missing metadata key %s", k->name, b);
        return G4_OK;
    }
    if (!gguf_get_u32(k->g, b, &v) || v < lo || v > hi)
        return g4_fail(k->err, G4_ERR_RANGE, "%s: %s is not an integer in %u..%u", k->name, b, lo, hi);
    *out = (int)v;
    return G4_OK;
}

static g4_status get_f32(struct gk *k, const char *suffix, float *out) {
    char b[160];
    key(b, sizeof b, k->arch, suffix);
    if (!gguf_find(k->g, b)) return G4_OK;
    float v;
    if (!gguf_get_f32(k->g, b, &v) || !isfinite(v)) return g4_fail(k->err, G4_ERR_FORMAT, "%s: %s is not a number", k->name, b);
    *out = v;
    return G4_OK;
}

/* A per-layer integer: scalar for all layers, or an array of n_layer values.
 * Writes into layers[i] at byte offset `off` (an int field). */
static g4_status get_per_layer(struct gk *k, struct g4_config *c, const char *suffix, uint32_t lo, uint32_t hi,
                               bool required, int *scalar, size_t off) {
    char b[160];
    key(b, sizeof b, k->arch, suffix);
    const struct gguf_kv *kv = gguf_find(k->g, b);
    if (!kv) {
        if (required) return g4_fail(k->err, G4_ERR_NOT_FOUND, "%s: missing metadata key %s", k->name, b);
        return G4_OK;
    }
    if (kv->type != GGUF_T_ARRAY) return get_u32(k, suffix, lo, hi, required, scalar);
    if (kv->n != (uint64_t)c->n_layer)
        return g4_fail(k->err, G4_ERR_FORMAT, "%s: %s has %llu entries for %d layers", k->name, b,
                       (unsigned long long)kv->n, c->n_layer);
    for (int i = 0; i < c->n_layer; i++) {
        int64_t v;
        if (!gguf_arr_i64(kv, (uint64_t)i, &v) || v < lo || v > hi)
            return g4_fail(k->err, G4_ERR_RANGE, "%s: %s[%d] is not an integer in %u..%u", k->name, b, i, lo, hi);
        *(int *)((char *)&c->layers[i] + off) = (int)v;
        if (i == 0 || *scalar == 0) *scalar = (int)v;
    }
    return G4_OK;
}

static int32_t tok_id(const struct gguf_file *g, const char *k, int32_t dflt) {
    uint32_t v;
    return gguf_get_u32(g, k, &v) && v < (1u << 24) ? (int32_t)v : dflt;
}

/* Fraction of rotated dims from llama.cpp's rope_freqs tensor: factor 1 for
 * rotated pairs, 1e30 for the identity pairs of proportional RoPE. */
static void partial_from_rope_freqs(struct g4_config *c, const struct gguf_file *g) {
    const struct gguf_tensor_info *t = gguf_find_tensor(g, "rope_freqs.weight");
    if (!t || t->type != G4_TYPE_F32 || t->ne[0] != c->head_dim_global / 2 || t->nbytes < (uint64_t)t->ne[0] * 4)
        return;
    int64_t rot = 0;
    for (int64_t i = 0; i < t->ne[0]; i++) {
        float f;
        memcpy(&f, t->data + 4 * i, 4);
        if (f < 1e20f) rot++;
    }
    if (rot > 0) c->partial_rotary_global = (float)(2 * rot) / (float)c->head_dim_global;
}

g4_status g4_config_from_gguf(struct g4_config *c, const struct gguf_file *g, g4_error *err) {
    g4_config_defaults(c);
    struct gguf_str as;
    const char *name = g->name ? g->name : "gguf";
    if (!gguf_get_str(g, "general.architecture", &as))
        return g4_fail(err, G4_ERR_NOT_FOUND, "%s: missing general.architecture", name);
    char arch[40];
    if (as.len >= sizeof arch) return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: architecture name too long", name);
    memcpy(arch, as.s, as.len);
    arch[as.len] = 0;
    snprintf(c->model_type, sizeof c->model_type, "%s", arch);
    c->source = G4_SRC_GGUF;
    if (!strcmp(arch, "gemma3")) {
        c->arch = G4_ARCH_GEMMA3, c->kind = G4_KIND_GEMMA3_TEXT;
    } else if (!strcmp(arch, "gemma4")) {
        c->arch = G4_ARCH_GEMMA4, c->kind = G4_KIND_GEMMA4_TEXT;
    } else if (!strcmp(arch, "gemma4-assistant")) {
        c->arch = G4_ARCH_GEMMA4, c->kind = G4_KIND_GEMMA4_ASSISTANT, c->is_assistant = true;
    } else if (!strcmp(arch, "clip")) {
        return g4_fail(err, G4_ERR_INVALID_ARG, "%s: this is a multimodal projector (mmproj); give the model GGUF first",
                       name);
    } else {
        return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: architecture '%s' is not supported (g4 runs gemma3 and gemma4)",
                       name, arch);
    }
    bool g4 = c->arch == G4_ARCH_GEMMA4;
    struct gk k = {g, arch, name, err};
    g4_status s;
#define TRY(x)                                                                                               \
    do {                                                                                                     \
        if ((s = (x)) != G4_OK) return s;                                                                    \
    } while (0)
    int ctx = 0;
    TRY(get_u32(&k, "context_length", 1, 1u << 24, !c->is_assistant, &ctx));
    c->context_length = ctx ? ctx : 131072;
    TRY(get_u32(&k, "embedding_length", 1, 65536, true, &c->n_embd));
    TRY(get_u32(&k, "block_count", 1, G4_MAX_LAYERS, true, &c->n_layer));
    TRY(get_per_layer(&k, c, "feed_forward_length", 1, 1u << 21, true, &c->n_ff, offsetof(struct g4_layer_config, n_ff)));
    int n_head_unused = 0;
    TRY(get_per_layer(&k, c, "attention.head_count", 1, 1024, true, &n_head_unused, offsetof(struct g4_layer_config, n_head)));
    c->n_head = n_head_unused;
    for (int i = 0; i < c->n_layer; i++)
        if (c->layers[i].n_head && c->layers[i].n_head != c->n_head)
            return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: per-layer query head counts are not supported", name);
    c->n_head_kv_swa = c->n_head;
    TRY(get_per_layer(&k, c, "attention.head_count_kv", 1, 1024, false, &c->n_head_kv_swa,
                      offsetof(struct g4_layer_config, n_head_kv)));
    int kl = 0, vl = 0;
    TRY(get_u32(&k, "attention.key_length", 1, 4096, false, &kl));
    TRY(get_u32(&k, "attention.value_length", 1, 4096, false, &vl));
    if (!kl) kl = c->n_embd / c->n_head;
    if (vl && vl != kl) return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: key_length %d != value_length %d", name, kl, vl);
    c->head_dim_swa = c->head_dim_global = kl;
    if (g4) {
        int ks = 0, vs = 0;
        TRY(get_u32(&k, "attention.key_length_swa", 1, 4096, false, &ks));
        TRY(get_u32(&k, "attention.value_length_swa", 1, 4096, false, &vs));
        if (ks) c->head_dim_swa = ks;
        if (vs && vs != c->head_dim_swa)
            return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: key_length_swa != value_length_swa", name);
    }
    float eps = 1e-6f;
    TRY(get_f32(&k, "attention.layer_norm_rms_epsilon", &eps));
    c->rms_eps = eps;
    TRY(get_u32(&k, "attention.sliding_window", 1, 1u << 24, false, &c->sliding_window));
    TRY(get_f32(&k, "final_logit_softcapping", &c->final_softcap));
    c->rope_theta_global = g4 ? 1e6f : 1e6f;
    c->rope_theta_swa = 1e4f; /* llama.cpp: Gemma 3 sliding layers always use 10000 */
    TRY(get_f32(&k, "rope.freq_base", &c->rope_theta_global));
    if (g4) TRY(get_f32(&k, "rope.freq_base_swa", &c->rope_theta_swa));
    char b[160];
    struct gguf_str st;
    if (gguf_get_str(g, key(b, sizeof b, arch, "rope.scaling.type"), &st) && !gguf_str_eq(st, "none")) {
        if (!gguf_str_eq(st, "linear"))
            return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: rope scaling '%.*s' is not supported", name,
                           (int)G4_MIN(st.len, 32), st.s);
        TRY(get_f32(&k, "rope.scaling.factor", &c->rope_scale_global));
    }

    /* layer types */
    const struct gguf_kv *pat = gguf_find(g, key(b, sizeof b, arch, "attention.sliding_window_pattern"));
    if (pat && pat->type == GGUF_T_ARRAY) {
        if (pat->n < (uint64_t)c->n_layer)
            return g4_fail(err, G4_ERR_FORMAT, "%s: sliding_window_pattern has %llu entries for %d layers", name,
                           (unsigned long long)pat->n, c->n_layer);
        for (int i = 0; i < c->n_layer; i++) {
            int64_t v;
            if (!gguf_arr_i64(pat, (uint64_t)i, &v))
                return g4_fail(err, G4_ERR_FORMAT, "%s: sliding_window_pattern[%d] is not a boolean", name, i);
            c->layers[i].type = v ? G4_LAYER_SLIDING : G4_LAYER_GLOBAL;
        }
    } else {
        int p = 6;
        if (pat) TRY(get_u32(&k, "attention.sliding_window_pattern", 1, 1u << 20, false, &p));
        for (int i = 0; i < c->n_layer; i++) c->layers[i].type = (i + 1) % p ? G4_LAYER_SLIDING : G4_LAYER_GLOBAL;
    }
    /* head dims / kv heads: per layer by type */
    int kv_g = 0, kv_s = 0;
    for (int i = 0; i < c->n_layer; i++) {
        struct g4_layer_config *L = &c->layers[i];
        bool glob = L->type == G4_LAYER_GLOBAL;
        L->head_dim = glob ? c->head_dim_global : c->head_dim_swa;
        if (L->n_head_kv) {
            if (glob && !kv_g) kv_g = L->n_head_kv;
            if (!glob && !kv_s) kv_s = L->n_head_kv;
        }
        L->n_head = 0;
    }
    if (kv_s) c->n_head_kv_swa = kv_s;
    c->n_head_kv_global = kv_g ? kv_g : c->n_head_kv_swa;

    if (g4) {
        c->query_pre_attn_scalar = 0;
        TRY(get_u32(&k, "attention.shared_kv_layers", 0, G4_MAX_LAYERS, false, &c->n_kv_shared_layers));
        TRY(get_u32(&k, "embedding_length_per_layer_input", 0, 65536, false, &c->n_embd_per_layer));
        TRY(get_u32(&k, "expert_count", 0, 1024, false, &c->n_expert));
        TRY(get_u32(&k, "expert_used_count", 0, 1024, false, &c->n_expert_used));
        TRY(get_u32(&k, "expert_feed_forward_length", 0, 1u << 20, false, &c->n_ff_expert));
        /* K=V: the converter writes no v_proj for global layers of such models */
        for (int i = 0; i < c->n_layer; i++) {
            if (c->layers[i].type != G4_LAYER_GLOBAL) continue;
            char tn[64];
            snprintf(tn, sizeof tn, "blk.%d.attn_k.weight", i);
            bool has_k = gguf_find_tensor(g, tn) != NULL;
            snprintf(tn, sizeof tn, "blk.%d.attn_v.weight", i);
            c->k_eq_v = has_k && !gguf_find_tensor(g, tn);
            break;
        }
        /* double-wide MLP shows up as a per-layer feed_forward_length */
        for (int i = 0; i < c->n_layer; i++)
            if (c->layers[i].n_ff && c->layers[i].n_ff != c->n_ff) c->double_wide_mlp = true;
        c->partial_rotary_global = 0.25f; /* Gemma 4 default if the rope_freqs tensor is absent */
        partial_from_rope_freqs(c, g);
        c->bidirectional_vision = c->n_embd_per_layer == 0 && !c->is_assistant;
        if (c->is_assistant) {
            TRY(get_u32(&k, "embedding_length_out", 1, 65536, true, &c->backbone_hidden));
            if (c->n_kv_shared_layers == 0) c->n_kv_shared_layers = c->n_layer;
            if (c->backbone_hidden == 3840) c->kind = G4_KIND_GEMMA4_UNIFIED_ASSISTANT;
        } else if (c->n_layer == 48 && c->n_embd == 3840) {
            c->kind = G4_KIND_GEMMA4_UNIFIED;
        }
    } else {
        /* llama.cpp: the 27B scales queries by (n_embd/n_head)^-1/2, the others by head_dim^-1/2 */
        c->query_pre_attn_scalar = c->n_layer == 62 ? (float)(c->n_embd / c->n_head) : (float)c->head_dim_swa;
    }

    /* vocabulary */
    const struct gguf_kv *toks = gguf_find(g, "tokenizer.ggml.tokens");
    const struct gguf_tensor_info *emb = gguf_find_tensor(g, "token_embd.weight");
    if (toks && toks->type == GGUF_T_ARRAY)
        c->n_vocab = (int64_t)toks->n;
    else if (emb)
        c->n_vocab = emb->ne[1];
    else {
        int nv = 0;
        TRY(get_u32(&k, "vocab_size", 1, 1u << 24, true, &nv));
        c->n_vocab = nv;
    }
    if (g4 && c->n_embd_per_layer) {
        const struct gguf_tensor_info *ple = gguf_find_tensor(g, "per_layer_token_embd.weight");
        c->n_vocab_per_layer = ple ? ple->ne[1] : c->n_vocab;
    }
    c->bos_id = tok_id(g, "tokenizer.ggml.bos_token_id", 2);
    c->pad_id = tok_id(g, "tokenizer.ggml.padding_token_id", 0);
    c->n_eos = 0;
    g4_config_add_eos(c, tok_id(g, "tokenizer.ggml.eos_token_id", 1));
    g4_config_add_eos(c, tok_id(g, "tokenizer.ggml.eot_token_id", -1));
    g4_config_add_eos(c, tok_id(g, "tokenizer.ggml.eom_token_id", -1));
    uint32_t tk;
    float f;
    if (gguf_get_u32(g, "general.sampling.top_k", &tk) && tk < (1u << 24)) c->top_k = (int)tk;
    if (gguf_get_f32(g, "general.sampling.top_p", &f)) c->top_p = f;
    if (gguf_get_f32(g, "general.sampling.temp", &f)) c->temperature = f;
    if (g4 && !c->is_assistant) {
        /* Gemma4Config multimodal ids; only meaningful with an mmproj */
        c->boi_id = 255999, c->eoi_id = 258882, c->image_id = 258880, c->video_id = 258884;
        c->boa_id = 256000, c->eoa_id = 258883, c->audio_id = 258881;
        if (c->n_vocab <= 258884) c->boi_id = c->eoi_id = c->image_id = c->video_id = c->boa_id = c->eoa_id = c->audio_id = -1;
    }
#undef TRY
    return g4_config_finalize(c, name, err);
}

g4_status g4_config_add_mmproj(struct g4_config *c, const struct gguf_file *g, g4_error *err) {
    const char *name = g->name ? g->name : "mmproj";
    struct gguf_str s;
    if (!gguf_get_str(g, "general.architecture", &s) || !gguf_str_eq(s, "clip"))
        return g4_fail(err, G4_ERR_FORMAT, "%s: not an mmproj file (general.architecture is not \"clip\")", name);
    static const char *const keys[] = {"clip.projector_type", "clip.vision.projector_type", "clip.audio.projector_type"};
    bool any = false;
    for (size_t i = 0; i < G4_ARRAY_LEN(keys); i++) {
        if (!gguf_get_str(g, keys[i], &s)) continue;
        any = true;
        if (gguf_str_eq(s, "gemma4uv")) {
            c->vision = G4_VISION_UNIFIED;
            uint32_t v;
            c->vision_hidden = c->n_embd, c->vision_patch = 16, c->vision_pool = 3, c->vision_posemb = 1120;
            c->vision_tokens = 280;
            if (gguf_get_u32(g, "clip.vision.patch_size", &v) && v > 0 && v <= 1024) c->vision_patch = (int)v;
            if (gguf_get_u32(g, "clip.vision.embedding_length", &v) && v > 0 && v <= 65536) c->vision_hidden = (int)v;
        } else if (gguf_str_eq(s, "gemma4ua")) {
            c->audio = G4_AUDIO_FRAMES;
            uint32_t v;
            c->audio_hidden = 640;
            if (gguf_get_u32(g, "clip.audio.embedding_length", &v) && v > 0 && v <= (1u << 20)) c->audio_hidden = (int)v;
        } else {
            static const char *const known[] = {"gemma3", "gemma4v", "gemma4a", "gemma3nv", "gemma3na", "idefics3",
                                                "llama4", "qwen2vl_merger", "qwen25vl", "pixtral", "ultravox"};
            bool k = false;
            for (size_t j = 0; j < G4_ARRAY_LEN(known); j++) k = k || gguf_str_eq(s, known[j]);
            return g4_fail(err, G4_ERR_UNSUPPORTED,
                           "%s: %s projector type '%.*s' is not supported by g4 (only gemma4uv and gemma4ua, the Gemma 4 "
                           "12B unified embedders)",
                           name, k ? "recognised" : "unknown", (int)G4_MIN(s.len, 32), s.s);
        }
    }
    if (!any) return g4_fail(err, G4_ERR_FORMAT, "%s: mmproj without a clip.projector_type", name);
    return G4_OK;
}
