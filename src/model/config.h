/* config.h — the model configuration that the forward pass of every Gemma 3 /
 * Gemma 4 variant needs, read either from a Hugging Face config.json (+
 * generation_config.json) or from GGUF metadata (llama.cpp key names).
 * Per-layer values are resolved once here (layer type, heads, head dim, FFN
 * width, RoPE, KV sharing) so the decoder never re-derives them.
 * Invariant after a successful g4_config_from_*: g4_config_validate() passed,
 * so every count is in range, n_layer <= G4_MAX_LAYERS, and every layer's
 * kv_source is either itself, an earlier non-shared layer of the same type,
 * or -1 (assistant layers that read the target model's K/V). */
#ifndef G4_MODEL_CONFIG_H
#define G4_MODEL_CONFIG_H

#include "core/status.h"

struct gguf_file;

#define G4_MAX_LAYERS 1024
#define G4_MAX_EOS 8
#define G4_MAX_SUPPRESS 16

enum g4_arch {
    G4_ARCH_GEMMA3 = 1,
    G4_ARCH_GEMMA4 = 2,
};

/* The HF model_type the config came from (GGUF files map onto these too). */
enum g4_model_kind {
    G4_KIND_GEMMA3_TEXT = 1,            /* gemma3_text: Gemma3ForCausalLM (270M, 1B) */
    G4_KIND_GEMMA3,                     /* gemma3: text + SigLIP vision (4B, 12B, 27B) */
    G4_KIND_GEMMA4_TEXT,                /* gemma4_text: text-only Gemma 4 */
    G4_KIND_GEMMA4,                     /* gemma4: E2B/E4B/26B-A4B/31B with ViT vision (+ conformer audio) */
    G4_KIND_GEMMA4_UNIFIED,             /* gemma4_unified (or _text): the 12B, encoder-free vision/audio */
    G4_KIND_GEMMA4_ASSISTANT,           /* gemma4_assistant: MTP drafter for E2B/E4B/26B/31B */
    G4_KIND_GEMMA4_UNIFIED_ASSISTANT,   /* gemma4_unified_assistant: MTP drafter for the 12B */
};

enum g4_layer_type {
    G4_LAYER_SLIDING = 0, /* local attention over the last sliding_window positions */
    G4_LAYER_GLOBAL = 1,  /* full causal attention */
};

enum g4_source {
    G4_SRC_HF = 1,   /* config.json + safetensors */
    G4_SRC_GGUF = 2, /* GGUF metadata */
};

enum g4_vision_kind {
    G4_VISION_NONE = 0,
    G4_VISION_SIGLIP,   /* Gemma 3 SigLIP tower (4B+) */
    G4_VISION_VIT,      /* Gemma 4 ViT tower (E2B/E4B/26B/31B) */
    G4_VISION_UNIFIED,  /* 12B encoder-free embedder: 48x48 patches -> LN -> dense -> LN (spec 3.2) */
};

enum g4_audio_kind {
    G4_AUDIO_NONE = 0,
    G4_AUDIO_CONFORMER, /* Gemma 4 E2B/E4B conformer over log-mel */
    G4_AUDIO_FRAMES,    /* 12B: raw 640-sample frames -> RMSNorm -> linear (spec 4) */
};

/* Everything that can differ from one decoder layer to the next. */
struct g4_layer_config {
    uint8_t type;        /* enum g4_layer_type */
    bool k_eq_v;         /* no v_proj: V is the raw k_proj output (Gemma 4 global layers) */
    bool kv_shared;      /* no k/v weights: attends with the K/V of layer kv_source */
    bool moe;            /* has the router + experts block besides the dense MLP */
    int kv_source;       /* layer whose K/V cache this layer uses: itself, an earlier layer, or -1 (target model) */
    int n_head;          /* query heads */
    int n_head_kv;       /* key/value heads (of kv_source when shared) */
    int head_dim;        /* per-head dim of q, k and v */
    int n_ff;            /* dense MLP width (doubled in E2B KV-shared layers) */
    int n_rot;           /* rotated dims (head_dim, or head_dim*partial_rotary for proportional RoPE) */
    float rope_theta;    /* RoPE base frequency */
    float rope_freq_scale; /* positions are multiplied by this (1/linear factor; 1.0 = none) */
    bool rope_proportional; /* Gemma 4 "proportional": inv_freq exponent over head_dim, rest identity (spec 2.5) */
};

struct g4_config {
    /* ---- identity ---- */
    enum g4_arch arch;
    enum g4_model_kind kind;
    enum g4_source source;
    char model_type[40];     /* as written in the file, e.g. "gemma4_unified" or GGUF "gemma4" */
    char variant[64];        /* human label, e.g. "gemma3 270M", "gemma4 12B unified", "gemma4 26B-A4B MoE" */

    /* ---- text decoder ---- */
    int64_t n_vocab;         /* rows of the token embedding */
    int n_embd;              /* hidden size d */
    int n_layer;             /* decoder layers */
    int n_head;              /* query heads (all Gemma layers share one count) */
    int n_head_kv_swa;       /* KV heads of sliding layers */
    int n_head_kv_global;    /* KV heads of global layers */
    int head_dim_swa;        /* head dim of sliding layers */
    int head_dim_global;     /* head dim of global layers (Gemma 4: global_head_dim 512) */
    bool k_eq_v;             /* global layers have no v_proj (attention_k_eq_v) */
    int n_ff;                /* base MLP width (per-layer values in layers[].n_ff) */
    bool double_wide_mlp;    /* KV-shared layers use 2*n_ff (E2B) */
    int sliding_window;      /* keys visible to a sliding layer, including itself */
    float rope_theta_swa;    /* RoPE base of sliding layers (10000) */
    float rope_theta_global; /* RoPE base of global layers (1e6) */
    float rope_scale_global; /* linear RoPE factor of global layers (Gemma 3 4B+: 8; 1 = none) */
    float partial_rotary_global; /* fraction of global head dims rotated (Gemma 4: 0.25 proportional; 1 = all) */
    float rms_eps;           /* RMSNorm epsilon */
    float final_softcap;     /* logits = c*tanh(logits/c); 0 = none (Gemma 4: 30) */
    float query_pre_attn_scalar; /* Gemma 3: q is scaled by scalar^-1/2; 0 for Gemma 4 */
    float attn_scale;        /* the factor applied to q.k: Gemma 3 = query_pre_attn_scalar^-0.5, Gemma 4 = 1.0 */
    bool norm_plus_one;      /* RMSNorm multiplies by (1+w): Gemma 3 HF weights only (GGUF stores w+1 already) */
    bool v_norm;             /* scale-free RMSNorm on V (Gemma 4) */
    bool layer_scalar;       /* per-layer learned scalar multiplies the residual stream (Gemma 4) */
    float embed_scale;       /* token embeddings are multiplied by sqrt(n_embd) (rounded to the weight dtype by the caller) */
    int n_kv_shared_layers;  /* the last N layers reuse earlier K/V (E2B: 20, E4B: 18; assistants: all) */
    int n_embd_per_layer;    /* per-layer-embedding (PLE) dim, 0 = none (E2B/E4B: 256) */
    int64_t n_vocab_per_layer; /* rows of the PLE table (0 = none) */
    int n_expert;            /* MoE experts per MoE layer, 0 = dense */
    int n_expert_used;       /* experts chosen per token (top-k) */
    int n_ff_expert;         /* width of each expert's GeGLU */
    bool bidirectional_vision; /* image runs attend bidirectionally in sliding layers (use_bidirectional_attention "vision") */
    int64_t context_length;  /* max_position_embeddings / GGUF context_length */
    struct g4_layer_config layers[G4_MAX_LAYERS]; /* [n_layer] */

    /* ---- special tokens and generation defaults ---- */
    int32_t bos_id, pad_id;  /* -1 when unknown */
    int32_t eos_ids[G4_MAX_EOS]; /* generation stops at any of these */
    int n_eos;
    int32_t suppress_ids[G4_MAX_SUPPRESS]; /* never sampled (12B: EOI/EOA rows) */
    int n_suppress;
    float temperature;       /* generation_config defaults */
    int top_k;
    float top_p;
    bool do_sample;
    int32_t boi_id, eoi_id, image_id, video_id, boa_id, eoa_id, audio_id; /* multimodal ids, -1 = none */

    /* ---- vision ---- */
    enum g4_vision_kind vision;
    int vision_hidden;       /* ViT/SigLIP hidden, or unified mm_embed_dim */
    int vision_layers;       /* ViT layers (0 for the unified embedder) */
    int vision_heads;
    int vision_patch;        /* pixel patch side (unified: 16*pooling = 48 model patch uses patch*pool) */
    int vision_pool;         /* pooling kernel (3) */
    int vision_posemb;       /* position table size (unified: 1120) */
    int vision_tokens;       /* default soft tokens per image (Gemma 3: 256, Gemma 4: 280) */

    /* ---- audio ---- */
    enum g4_audio_kind audio;
    int audio_hidden;        /* conformer hidden, or 640 samples per frame for the 12B */
    int audio_layers;

    /* ---- assistant (MTP drafter) ---- */
    bool is_assistant;
    int backbone_hidden;     /* the target model's n_embd (pre_projection input is 2x this) */
    bool ordered_embeddings; /* sparse centroid head (E2B/E4B drafters) */
    int n_centroids;
    int centroid_top_k;
};

/* From the text of config.json and (optionally, NULL) generation_config.json.
 * `name` is used in messages. */
g4_status g4_config_from_hf_json(struct g4_config *c, const char *json, size_t len, const char *gen_json,
                                 size_t gen_len, const char *name, g4_error *err);
/* From a model or assistant GGUF (general.architecture gemma3, gemma4,
 * gemma4-assistant). */
g4_status g4_config_from_gguf(struct g4_config *c, const struct gguf_file *g, g4_error *err);
/* Adds vision/audio facts from an mmproj GGUF (architecture "clip"). Accepts
 * projector types gemma4uv/gemma4ua; recognised others give UNSUPPORTED. */
g4_status g4_config_add_mmproj(struct g4_config *c, const struct gguf_file *g, g4_error *err);
/* Range and consistency checks with messages naming the field. */
g4_status g4_config_validate(const struct g4_config *c, g4_error *err);

/* Bytes of KV cache for `n_ctx` positions with `elem_bytes` per element:
 * sliding layers keep min(n_ctx, sliding_window) positions, KV-shared layers
 * keep none. Returns UINT64_MAX on overflow. */
uint64_t g4_config_kv_bytes(const struct g4_config *c, int64_t n_ctx, int elem_bytes);

const char *g4_model_kind_name(enum g4_model_kind k);

#endif
