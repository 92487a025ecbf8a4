/* names.h — the one table that maps model weights to their names in every
 * file format: Hugging Face safetensors names, llama.cpp GGUF names, and the
 * field (enum g4_weight) the forward pass binds. Gemma 3 and Gemma 4 text
 * stacks, PLE, MoE, the 12B unified vision/audio embedders and the MTP
 * assistant are covered.
 *
 * Spellings: the tensor directory keeps names exactly as the files spell
 * them (no renaming). g4_names_find() tries, in order, the GGUF name, the HF
 * text-stack name under each known prefix ("model.language_model.",
 * "model.", "language_model.model."), then every full HF spelling. So both
 * spellings of the 12B multimodal tensors (spec 7.1 / gotcha 21: shipped
 * "model.vision_embedder.*" + "model.embed_vision.embedding_projection.*", and
 * HF-module "model.embed_vision.{patch_*,pos_*}" +
 * "model.embed_vision.multimodal_embedder.embedding_projection.*") resolve to
 * the same field.
 *
 * Binding a layer's weights in the forward pass:
 *     const struct g4_tensor *wq = g4_names_find(&m->tensors, G4_W_ATTN_Q, il);
 *     // wq->ne = {n_embd, n_head*head_dim}; NULL when the model has none
 * Layouts agree across formats (HF [out, in] and GGUF both give ne = {in, out});
 * norm weights differ: see g4_config.norm_plus_one. */
#ifndef G4_MODEL_NAMES_H
#define G4_MODEL_NAMES_H

#include "io/tensordir.h"

struct g4_config;

enum g4_weight {
    /* model-wide text weights */
    G4_W_TOKEN_EMBD,      /* [n_vocab][n_embd] token embedding (tied output head) */
    G4_W_OUTPUT_NORM,     /* [n_embd] final RMSNorm */
    G4_W_OUTPUT,          /* [n_vocab][n_embd] untied output head, usually absent */
    G4_W_ROPE_FREQS,      /* [head_dim_global/2] GGUF proportional-RoPE factors (1 or 1e30) */
    G4_W_PLE_TOKEN_EMBD,  /* [n_vocab_per_layer][n_layer*n_embd_per_layer] per-layer embeddings */
    G4_W_PLE_MODEL_PROJ,  /* [n_layer*n_embd_per_layer][n_embd] */
    G4_W_PLE_PROJ_NORM,   /* [n_embd_per_layer] */
    /* per layer */
    G4_W_ATTN_NORM,       /* [n_embd] input_layernorm */
    G4_W_ATTN_Q,          /* [n_head*head_dim][n_embd] */
    G4_W_ATTN_K,          /* [n_head_kv*head_dim][n_embd] (absent in KV-shared layers) */
    G4_W_ATTN_V,          /* [n_head_kv*head_dim][n_embd] (absent when K=V or KV-shared) */
    G4_W_ATTN_OUT,        /* [n_embd][n_head*head_dim] o_proj */
    G4_W_ATTN_Q_NORM,     /* [head_dim] */
    G4_W_ATTN_K_NORM,     /* [head_dim] */
    G4_W_ATTN_POST_NORM,  /* [n_embd] post_attention_layernorm */
    G4_W_FFN_NORM,        /* [n_embd] pre_feedforward_layernorm */
    G4_W_FFN_GATE,        /* [n_ff][n_embd] */
    G4_W_FFN_UP,          /* [n_ff][n_embd] */
    G4_W_FFN_DOWN,        /* [n_embd][n_ff] */
    G4_W_FFN_POST_NORM,   /* [n_embd] post_feedforward_layernorm */
    G4_W_LAYER_SCALAR,    /* [1] Gemma 4 layer_scalar */
    G4_W_PLE_INP_GATE,    /* [n_embd_per_layer][n_embd] per_layer_input_gate */
    G4_W_PLE_PROJ,        /* [n_embd][n_embd_per_layer] per_layer_projection */
    G4_W_PLE_POST_NORM,   /* [n_embd] post_per_layer_input_norm */
    G4_W_MOE_ROUTER,      /* [n_expert][n_embd] router.proj */
    G4_W_MOE_ROUTER_SCALE,/* [n_embd] router.scale */
    G4_W_MOE_GATE_UP_EXPS,/* [n_expert][2*n_ff_expert][n_embd] fused gate|up */
    G4_W_MOE_GATE_EXPS,   /* [n_expert][n_ff_expert][n_embd] (GGUF, unfused) */
    G4_W_MOE_UP_EXPS,     /* [n_expert][n_ff_expert][n_embd] (GGUF, unfused) */
    G4_W_MOE_DOWN_EXPS,   /* [n_expert][n_embd][n_ff_expert] */
    G4_W_MOE_EXPERT_SCALE,/* [n_expert] router.per_expert_scale */
    G4_W_FFN_PRE_NORM_2,  /* [n_embd] pre_feedforward_layernorm_2 (MoE branch input) */
    G4_W_FFN_POST_NORM_1, /* [n_embd] post_feedforward_layernorm_1 (dense branch) */
    G4_W_FFN_POST_NORM_2, /* [n_embd] post_feedforward_layernorm_2 (MoE branch) */
    /* 12B unified vision / audio embedders (HF names only) */
    G4_W_VIS_PATCH_LN1_W, /* [6912] */
    G4_W_VIS_PATCH_LN1_B, /* [6912] */
    G4_W_VIS_PATCH_DENSE_W, /* [mm_embed][6912] */
    G4_W_VIS_PATCH_DENSE_B, /* [mm_embed] */
    G4_W_VIS_PATCH_LN2_W, /* [mm_embed] */
    G4_W_VIS_PATCH_LN2_B, /* [mm_embed] */
    G4_W_VIS_POS_EMBD,    /* [posemb][2][mm_embed] */
    G4_W_VIS_POS_NORM_W,  /* [mm_embed] */
    G4_W_VIS_POS_NORM_B,  /* [mm_embed] */
    G4_W_VIS_PROJ,        /* [n_embd][mm_embed] embed_vision.embedding_projection */
    G4_W_AUDIO_PROJ,      /* [n_embd][640] embed_audio.embedding_projection */
    /* MTP assistant */
    G4_W_ASST_PRE_PROJ,   /* [n_embd][2*backbone_hidden] */
    G4_W_ASST_POST_PROJ,  /* [backbone_hidden][n_embd] */
    G4_W_ASST_CENTROIDS,  /* [n_centroids][n_embd] (ordered embeddings only) */
    G4_W_ASST_TOKEN_ORDERING, /* [n_vocab] int64 */
    G4_W_COUNT
};

struct g4_weight_name {
    enum g4_weight w;
    bool per_layer;        /* names contain "%d" for the layer index */
    const char *gguf;      /* llama.cpp name, or NULL */
    const char *hf_text;   /* HF text-stack name after the text prefix, or NULL */
    const char *hf_full[2];/* complete HF names (both spellings), or NULL */
    const char *field;     /* short field name for messages, e.g. "attn_q" */
};

/* Entry for w (never NULL for w < G4_W_COUNT). */
const struct g4_weight_name *g4_names_get(enum g4_weight w);
/* The tensor bound to (w, layer) under any known spelling, or NULL when the
 * model has none. `layer` is ignored for model-wide weights. */
const struct g4_tensor *g4_names_find(const struct g4_tensordir *d, enum g4_weight w, int layer);
/* Reverse lookup: the field a tensor name binds to (and its layer, -1 for
 * model-wide); false for names in no table entry. */
bool g4_names_classify(const char *name, enum g4_weight *w, int *layer);
/* Checks that the text decoder's required tensors exist with the shapes the
 * config implies (every layer); errors name the tensor and both shapes. */
g4_status g4_names_check(const struct g4_tensordir *d, const struct g4_config *c, g4_error *err);

#endif
