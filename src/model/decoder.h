/* decoder.h — the config-driven Gemma text decoder (forward pass).
 * One decoder serves Gemma 3 text, Gemma 4 (E2B/E4B with per-layer
 * embeddings and KV sharing, 26B-A4B MoE, 31B) and Gemma 4 Unified (12B).
 * A g4_dec is read-only after g4_dec_bind() (weights.c): per-layer descriptors
 * resolved from the config, views into the mmap'd weights, and a few small
 * owned f32 copies (norm scales with Gemma 3's 1+w folded in, layer scalars,
 * router scales, RoPE inverse frequencies), plus, after the optional
 * g4_dec_pack() (weights_pack.c), load-time repacked copies of the matrices
 * for the kernel table's fast matmul. Per-sequence state (KV cache) and
 * scratch are passed in by the caller; g4_dec_forward() allocates nothing.
 * Matrices follow HF: W is [rows = out][cols = in] and y = W x. */
#ifndef G4_MODEL_DECODER_H
#define G4_MODEL_DECODER_H

#include "core/status.h"

struct g4_pool; /* core/threadpool.h */

/* A 2-D weight view: `rows` rows of `cols` elements of `type`, each row
 * `row_bytes` long, contiguous. Points into a read-only mapping. */
struct g4_mat {
    uint32_t type;      /* enum g4_type */
    int64_t rows, cols; /* out, in */
    size_t row_bytes;
    const void *data;   /* NULL = absent */
    const void *packed; /* optional repacked copy of the whole groups of rows for the
                           g4_kernels() table (g4_matmul_repack), owned by the decoder
                           (g4_dec_pack); NULL = plain rows only. For per-expert views
                           it points at expert 0 (packed stride from g4_matmul_repack_size) */
};

enum { G4_DEC_MAX_LAYERS = 256 };

/* One decoder layer: hyperparameters and weights. */
struct g4_dec_layer {
    int sliding;         /* 1 = sliding-window layer, 0 = global */
    int head_dim;        /* H */
    int n_kv_head;       /* K */
    int k_eq_v;          /* V is the raw k_proj output (global layers of Gemma 4 12B/26B/31B) */
    int kv_src;          /* layer whose KV cache this layer reads (== own index unless KV-shared) */
    int n_ff;            /* dense MLP width (0 = no dense MLP) */
    const float *inv_freq;   /* [H/2] RoPE inverse frequencies (0 = not rotated) */

    struct g4_mat wq;    /* [n_head*H][d] */
    struct g4_mat wk;    /* [K*H][d], absent for KV-shared layers */
    struct g4_mat wv;    /* [K*H][d], absent for K=V and KV-shared layers */
    struct g4_mat wo;    /* [d][n_head*H] */
    const float *q_norm; /* [H] */
    const float *k_norm; /* [H] (NULL for KV-shared layers) */
    const float *attn_norm, *post_attn_norm;   /* [d] */
    const float *ffn_norm, *post_ffn_norm;     /* [d] */
    struct g4_mat w_gate, w_up; /* [n_ff][d] */
    struct g4_mat w_down;       /* [d][n_ff] */
    float layer_scalar;         /* Gemma 4: multiplies the whole stream (1 for Gemma 3) */

    /* Gemma 4 26B-A4B MoE block (n_expert == 0: none) */
    int n_expert, n_expert_used, n_ff_exp;
    struct g4_mat router;       /* [n_expert][d] */
    const float *router_scale;  /* [d] */
    const float *expert_scale;  /* [n_expert] per-expert output scale */
    const float *post_ffn_norm_1, *pre_ffn_norm_2, *post_ffn_norm_2; /* [d] */
    /* Experts: either a fused gate_up [E][2*F][d] (first F rows gate) or
     * separate gate/up [E][F][d]; down [E][d][F]. exp_stride = bytes per expert. */
    struct g4_mat exp_gate_up;  /* rows = 2F per expert, data = expert 0 */
    struct g4_mat exp_gate, exp_up, exp_down;
    size_t exp_gate_up_stride, exp_gate_stride, exp_up_stride, exp_down_stride;

    /* Gemma 4 E2B/E4B per-layer input (PLE) */
    struct g4_mat ple_gate;     /* [P][d] */
    struct g4_mat ple_proj;     /* [d][P] */
    const float *ple_post_norm; /* [d] */
};

struct g4_dec {
    int gemma4;              /* 0 = Gemma 3 rules, 1 = Gemma 4 rules */
    int n_layer, n_embd, n_head, n_vocab;
    int window;              /* sliding window W: key u visible from t iff u > t - W */
    float eps;               /* RMSNorm epsilon */
    float attn_scale;        /* 1.0 (Gemma 4) or query_pre_attn_scalar^-0.5 (Gemma 3) */
    float attn_softcap;      /* 0 = none */
    float final_softcap;     /* 0 = none */
    float embd_scale;        /* sqrt(d) rounded to the embedding's dtype */
    int v_norm;              /* Gemma 4: scale-free RMSNorm on V */
    int blocks_sliding;      /* bidirectional blocks apply in sliding layers (Gemma 3; Gemma 4
                                with use_bidirectional_attention "vision") */
    int blocks_global;       /* ... and in global layers (Gemma 3 only) */
    int f32_act;             /* keep activations f32 in quantized matmuls (exact w.r.t. the
                                dequantized weights) instead of quantizing them like llama.cpp */
    int bf16_act;            /* BF16 checkpoint: round activations to bf16 where HF's bf16
                                compute rounds them (matmul/norm outputs, residual adds,
                                RoPE products, attention probabilities, softcap steps) */
    int max_head_dim, max_kv_dim, max_q_dim, max_ff;

    struct g4_mat tok_embd;  /* [n_vocab][d] */
    struct g4_mat output;    /* [n_vocab][d]: tok_embd when tied */
    const float *out_norm;   /* [d] */

    /* PLE (n_ple == 0: none) */
    int n_ple, n_vocab_ple;  /* per-layer dim P, rows of the PLE table */
    float ple_embd_scale;    /* sqrt(P) rounded to the table's dtype */
    struct g4_mat ple_embd;  /* [n_vocab_ple][n_layer*P] */
    struct g4_mat ple_model_proj; /* [n_layer*P][d] */
    const float *ple_proj_norm;   /* [P] */

    struct g4_dec_layer *layers; /* [n_layer] owned */
    float *owned;                /* one allocation for every owned f32 array */
    void *packed_mem;            /* one mapping holding every g4_mat.packed (g4_dec_pack) */
    size_t packed_bytes;
};

/* What the decoder needs from the KV cache of one layer: a ring of `cap`
 * slots (slot of position p = p % cap), each `row` floats of K and of V.
 * Global layers have cap >= n_ctx, so the ring never wraps. */
struct g4_kv_view {
    float *k, *v;  /* [cap][row] */
    int64_t cap;
    int row;       /* n_kv_head * head_dim */
};

/* Input rows of one forward call: n tokens at positions pos0 .. pos0+n-1.
 * tokens[i] is always given (for embedding rows it is the placeholder id;
 * PLE then uses id 0). If embd is not NULL, row i with embd_mask[i] != 0
 * takes embd[i*d .. i*d+d) as its (already scaled) input embedding.
 * block (may be NULL): per-row bidirectional block id, -1 = none; rows of
 * the same block >= 0 see each other in the layers blocks_sliding /
 * blocks_global name (a block must lie wholly inside one call). */
struct g4_dec_batch {
    int n;
    int64_t pos0;
    const int32_t *tokens;
    const float *embd;
    const uint8_t *embd_mask;
    const int32_t *block;
    /* Output: logits for rows [out_first, n) into logits[(i-out_first)*n_vocab].
     * out_first == n: no logits. */
    int out_first;
    float *logits;
    float *hidden;  /* optional [n - out_first][d]: final-normed hidden states */
    /* Multi-sequence batch (continuous batching), both optional: row i sits
     * at position pos[i] (NULL: pos0 + i) and reads/writes the KV views
     * row_kv[i][0..n_layer) of its own sequence (NULL: the `kv` argument).
     * Rows of one sequence appear in position order; block must be NULL. */
    const int64_t *pos;
    struct g4_kv_view *const *row_kv;
};

/* Scratch plan: the bytes g4_dec_forward needs for batches of up to n_batch
 * rows and a KV span (largest ring capacity) of up to n_kv keys. */
size_t g4_dec_scratch_bytes(const struct g4_dec *dec, int n_batch, int64_t n_kv, int n_threads);

/* Runs the batch through every layer, writing each non-shared layer's K/V
 * for the batch positions into kv[layer], and writes the requested logits.
 * kv[] has n_layer entries (entries of KV-shared layers are unused). The
 * caller guarantees the cache holds positions needed by the windows.
 * `scratch` has g4_dec_scratch_bytes(dec, >= n, >= max cap, threads) bytes,
 * 64-byte aligned. */
g4_status g4_dec_forward(const struct g4_dec *dec, const struct g4_dec_batch *b, struct g4_kv_view *kv,
                         void *scratch, size_t scratch_bytes, struct g4_pool *tp, g4_error *err);

void g4_dec_free(struct g4_dec *dec);

#endif
