/* kernels.h — the compute kernel table: matmul for every weight type plus the
 * float32 ops of a Gemma decoder (norm, rope, softmax, gelu, attention ...).
 *
 * One `struct g4_kernels` per instruction set. "ref" holds the scalar
 * references (src/kernels/ref/); an ISA table is a copy of a lesser one with
 * some entries replaced: ref -> "avx2" -> "avx512" -> "avx512_vnni"
 * (src/kernels/x86/), ref -> "neon" -> "neon_dotprod" (src/kernels/arm/).
 * g4_kernels() returns the best table the CPU supports, chosen once at first
 * use (cpuid on x86, HWCAP on aarch64); environment variable G4_KERNELS=ref
 * (or any table name above) forces a table. Tables are immutable after that
 * and safe to use from any thread.
 *
 * Conventions: activations are float32 and contiguous; weights are rows of K
 * elements of any g4_type (ne[0] = K innermost), as stored in GGUF. A weight
 * matrix W is [N][K]; matmul computes y[m][n] = sum_k W[n][k] * x[m][k]
 * (y = x W^T, HF's Linear). Element-wise ops allow y == x (in place) but no
 * other overlap. No op allocates, and no op fails: the caller validates
 * shapes and types once (g4_matmul_check) when it loads the model.
 *
 * Threads: every op is a pure function of its arguments, so callers split
 * work (rows of y, heads, tokens) across (ith, nth) slices of a g4_pool.
 * g4_matmul() does that itself.
 *
 * Usage (a decoder layer's q projection, then norm + rope per head):
 *
 *     const struct g4_kernels *kt = g4_kernels();          // once
 *     struct g4_matmul_args mm = {
 *         .type = w->type, .w = w->data, .w_row_bytes = w->row_bytes,
 *         .N = n_head * head_dim, .K = n_embd, .M = n_tokens,
 *         .x = h, .x_stride = n_embd, .y = q, .y_stride = n_head * head_dim,
 *         .wdata = scratch,                                 // g4_matmul_wsize() bytes
 *     };
 *     // at load/plan time: g4_matmul_check(kt, &mm, scratch_size, err)
 *     g4_matmul(pool, kt, &mm);                             // q = h W^T
 *     for (t, head) kt->rmsnorm(qh, qh, q_norm_w, head_dim, 1e-6f, G4_NORM_W);
 *     for (t) kt->rope(q + t*q_stride, n_head, head_dim, head_dim, pos[t], inv_freq);
 *
 * Precision: for quantized weights, matmul quantizes activations to
 * Q8_0/Q8_K once per op, like llama.cpp (fast; each activation moves by at
 * most half a step, amax/254 of its block). Set f32_act to keep them in
 * float32 instead (weights dequantized exactly, dotted in float32): slower,
 * and the better match to a float reference. F32/F16/BF16 weights always
 * use float32 activations. RoPE frequencies from g4_rope_inv_freq are
 * within an ulp of HF's float32 computation. */
#ifndef G4_KERNELS_KERNELS_H
#define G4_KERNELS_KERNELS_H

#include "core/threadpool.h"
#include "tensor/blocks.h"
#include "tensor/types.h"

/* ==== Activation blocks (the "vec_dot_type" of a weight type) ==== */

/* Quantized activations, made once per op from float32 rows (like ggml's
 * vec_dot_type): struct g4_block_q8_0 (32 elements, f16 scale) for the
 * 32-block weight types, struct g4_block_q8_K (256 elements, float scale and
 * 16 partial sums) for k-quants and IQ4_XS; layouts in tensor/blocks.h. */

/* ==== Function types ==== */

/* s = dot(w, x) over n elements: w in the weight type, x in its
 * vec_dot_type (n is a multiple of both block sizes). */
typedef void (*g4_vec_dot_fn)(int64_t n, float *s, const void *w, const void *x);
/* Converts n floats (a multiple of the block size) to an activation type. */
typedef void (*g4_quantize_row_fn)(const float *x, void *y, int64_t n);

struct g4_matmul_args;
/* Optional fast matmul tile: computes y[m][n] for all m < M and n in
 * [n0, n1), reading activations already converted to the vec_dot_type at
 * xq (row m at xq + m * xq_row_bytes; for F32 rows of x, xq == x and
 * xq_row_bytes == x_stride * 4). Returns false, having written nothing, when
 * it does not handle the shape; the caller then uses vec_dot. */
typedef bool (*g4_matmul_fn)(const struct g4_matmul_args *a, const void *xq, size_t xq_row_bytes,
                             int64_t n0, int64_t n1);

enum g4_norm_mode {
    G4_NORM_PLAIN = 0,   /* y = x / rms(x)                 (Gemma 4 v_norm)  */
    G4_NORM_W = 1,       /* y = x / rms(x) * w             (Gemma 4 norms)   */
    G4_NORM_1PW = 2,     /* y = x / rms(x) * (1 + w)       (Gemma 3 norms)   */
};

/* Visibility of key position k_pos to the query at q_pos (attention mask). */
typedef bool (*g4_attn_mask_fn)(void *ctx, int32_t q_pos, int32_t k_pos);

/* One query token against one KV head: the n_q query heads that share the
 * KV head (a GQA group). KV slots are vectors of head_dim elements at
 * k + i*kv_stride and v + i*kv_stride (elements, not bytes) for slot i in
 * [0, n_kv). That covers a contiguous cache [pos][n_kv_head][head_dim]
 * (point k at head h, kv_stride = n_kv_head*head_dim) and a ring buffer for
 * sliding layers: slots hold any positions, given in kv_pos (e.g. position p
 * lives in slot p % n_slots, kv_pos[slot] = p, -1 while empty). A ring used
 * for prefill chunks of T tokens needs window + T - 1 slots, so that a chunk
 * does not overwrite keys its own earlier queries still see. Slot order does
 * not matter: the result depends only on the set of visible (pos, k, v).
 * Cost is linear in n_kv whatever the mask, so for a contiguous causal
 * cache pass only the slots that can be visible: n_kv = q_pos + 1 - start,
 * kv_pos0 = start, start = max(0, q_pos - window + 1) for sliding layers. */
struct g4_attn_args {
    int64_t head_dim;       /* D */
    int64_t n_q;            /* query heads in the group (>= 1) */
    const float *q;         /* [n_q][q_head_stride], first D used */
    int64_t q_head_stride;
    float *out;             /* [n_q][out_head_stride]: softmax(q.k*scale) . v */
    int64_t out_head_stride;
    uint32_t kv_type;       /* G4_TYPE_F32, G4_TYPE_F16 or G4_TYPE_BF16 */
    const void *k;          /* slot i key at k + i*kv_stride elements */
    const void *v;          /* slot i value at v + i*kv_stride elements */
    int64_t kv_stride;
    int64_t n_kv;           /* slots 0..n_kv-1 are looked at */
    const int32_t *kv_pos;  /* position held by slot i, < 0 = empty; NULL: slot i holds kv_pos0 + i */
    int32_t kv_pos0;        /* with kv_pos NULL: position of slot 0 (lets a caller skip a prefix
                               of a contiguous cache: k, v at the first slot, kv_pos0 its position) */
    int32_t q_pos;          /* the query's position */
    bool causal;            /* mask keys with k_pos > q_pos */
    int32_t window;         /* > 0: also mask k_pos <= q_pos - window (sliding: t-W+1..t visible) */
    g4_attn_mask_fn mask;   /* optional: if set it alone decides visibility (causal/window unused) */
    void *mask_ctx;
    float scale;            /* scores are (q.k) * scale (Gemma 4: 1.0; Gemma 3: query_pre_attn_scalar^-1/2) */
    float softcap;          /* > 0: score = softcap * tanh(score / softcap); 0: none */
};
/* A head whose every key is masked gets an all-zero output. */

/* ==== The table ==== */

/* Load-time repacking (optional per type and table): groups of pack_rows
 * weight rows re-laid out once so a kernel reads all rows of a group with
 * one load per block; see g4_matmul_repack(). */
typedef void (*g4_repack_fn)(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst);
/* The inverse for one row: the plain blocks of row `lane` of a packed group. */
typedef void (*g4_unpack_fn)(const void *group, int64_t K, int lane, void *dst);

struct g4_type_kernels {
    uint32_t vec_dot_type;   /* G4_TYPE_F32, G4_TYPE_Q8_0 or G4_TYPE_Q8_K */
    g4_vec_dot_fn vec_dot;   /* NULL: the type has no direct dot; matmul dequantizes
                                blocks and dots in float32 (g4_dequantize must support it) */
    g4_matmul_fn matmul;     /* optional tile kernel, may decline */
    int pack_rows;           /* > 0: rows per repacked group (repack, matmul_packed set) */
    size_t pack_group_bytes_per_block; /* bytes of one group per weight block */
    g4_repack_fn repack;     /* plain rows -> packed groups */
    g4_matmul_fn matmul_packed; /* reads a->w_packed for rows in [n0, n1), whole groups
                                   (n0, n1 multiples of pack_rows); never declines */
    g4_unpack_fn unpack;        /* optional: one plain row back from a packed group */
};

struct g4_kernels {
    const char *name;                                  /* "ref", "avx2" */
    struct g4_type_kernels type[G4_TYPE_COUNT];        /* by weight type */
    g4_quantize_row_fn quantize_row[G4_TYPE_COUNT];    /* by activation type (Q8_0, Q8_K) */

    /* dot of two float32 vectors */
    float (*dot_f32)(int64_t n, const float *a, const float *b);
    /* RMSNorm of one row: y = x * (mean(x^2) + eps)^-1/2 [* w or * (1 + w)]; w may be NULL for PLAIN */
    void (*rmsnorm)(float *y, const float *x, const float *w, int64_t n, float eps, enum g4_norm_mode mode);
    /* RoPE, half-split (NeoX / HF rotate_half) in place on n_head heads of head_dim at x + h*head_stride:
       for i < head_dim/2, theta = pos * inv_freq[i] (float32 product, like HF);
       (x[i], x[i+half]) <- (x[i] cos - x[i+half] sin, x[i+half] cos + x[i] sin).
       inv_freq has head_dim/2 entries; inv_freq[i] == 0 leaves the pair unchanged (partial rope). */
    void (*rope)(float *x, int64_t n_head, int64_t head_dim, int64_t head_stride, int32_t pos, const float *inv_freq);
    /* The same rotation with precomputed cs = [cos theta_i][sin theta_i] (2 * head_dim/2
       floats, from g4_rope_cos_sin): compute cs once per position and reuse it for q, k
       and every layer with the same frequencies. Pairs with cos == 1, sin == 0 are left
       unchanged. */
    void (*rope_cs)(float *x, int64_t n_head, int64_t head_dim, int64_t head_stride, const float *cs);
    /* softmax in place over n values (max-subtracted; -inf entries get 0) */
    void (*softmax)(float *x, int64_t n);
    /* y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (HF gelu_pytorch_tanh, spec 2.6) */
    void (*gelu_tanh)(float *y, const float *x, int64_t n);
    /* y = gelu_tanh(gate) * up  (GeGLU); y may alias gate or up */
    void (*geglu)(float *y, const float *gate, const float *up, int64_t n);
    void (*add)(float *y, const float *a, const float *b, int64_t n);   /* y = a + b */
    void (*mul)(float *y, const float *a, const float *b, int64_t n);   /* y = a * b */
    void (*scale)(float *y, const float *x, float s, int64_t n);        /* y = x * s */
    void (*softcap)(float *y, const float *x, float cap, int64_t n);    /* y = cap * tanh(x / cap) */
    /* float32 row -> F32 / F16 / BF16 (round to nearest even, like numpy /
       torch casts), e.g. to store K and V in the cache; other types: no-op */
    void (*cvt_row)(void *dst, uint32_t dst_type, const float *src, int64_t n);
    /* attention for one query token and one GQA group, online softmax */
    void (*attention)(const struct g4_attn_args *a);
};

/* The table for this CPU (best variant, or the one named by G4_KERNELS).
 * Chosen on first call; never NULL. Thread-safe. */
const struct g4_kernels *g4_kernels(void);
/* The table named `name` ("ref", "avx2", ...) if built in and supported by this
 * CPU, else NULL. Thread-safe. */
const struct g4_kernels *g4_kernels_get(const char *name);
/* Fills out[] with every table this CPU supports, "ref" first; returns the
 * count (at most cap). For tests and benchmarks. */
int g4_kernels_list(const struct g4_kernels **out, int cap);

/* ==== Matmul driver ==== */

struct g4_matmul_args {
    uint32_t type;          /* weight type */
    const void *w;          /* [N] rows of K elements; 2-byte aligned (F32: 4), as GGUF data is */
    size_t w_row_bytes;     /* bytes from one weight row to the next (>= row size, same alignment) */
    int64_t N, K, M;
    const float *x;         /* [M][x_stride] activations */
    int64_t x_stride;       /* floats */
    float *y;               /* [M][y_stride] output; y[m][n] = W[n] . x[m] */
    int64_t y_stride;       /* floats */
    bool f32_act;           /* true: never quantize activations: weights are dequantized
                               block by block and dotted with float32 x (slower, closer to HF) */
    void *wdata;            /* scratch of g4_matmul_wsize() bytes, 4-byte aligned (quantized activations) */
    const void *w_packed;   /* optional: g4_matmul_repack() of w for THIS table (kt), or NULL.
                               Rows in whole groups are read from it, the remaining rows
                               (N % pack_rows) from w, so w must stay valid too. */
};

/* Scratch bytes needed by a matmul (0 when activations stay float32). */
size_t g4_matmul_wsize(const struct g4_kernels *kt, uint32_t type, int64_t M, int64_t K, bool f32_act);
/* Validates a matmul once (at load or plan time): type computable by kt,
 * K a multiple of the block sizes, positive sizes, strides, scratch size.
 * Fills err and returns non-OK when the matmul would be wrong. */
g4_status g4_matmul_check(const struct g4_kernels *kt, const struct g4_matmul_args *a, size_t wsize, g4_error *err);

/* Phase 1: converts rows of x to the vec_dot_type in wdata; thread ith of
 * nth converts rows ith, ith+nth, ... A no-op for float32 activations. */
void g4_matmul_quantize(const struct g4_kernels *kt, const struct g4_matmul_args *a, int ith, int nth);
/* Phase 2: y[m][n] for all m and n in [n0, n1) (after phase 1 completed on
 * all rows). Disjoint [n0, n1) ranges may run on different threads. */
void g4_matmul_rows(const struct g4_kernels *kt, const struct g4_matmul_args *a, int64_t n0, int64_t n1);
/* Both phases on a pool (NULL: on the caller), chunks of N handed out by an
 * atomic counter. Call g4_matmul_check first. */
void g4_matmul(struct g4_pool *pool, const struct g4_kernels *kt, const struct g4_matmul_args *a);
/* n independent matmuls as one pool job (one hand-off and one barrier instead
 * of n; e.g. q/k/v or gate/up). Entries with the same x (pointer, stride, M,
 * K) and activation type convert it once, into the first such entry's
 * wdata. Outputs must not overlap inputs or each other. */
void g4_matmul_multi(struct g4_pool *pool, const struct g4_kernels *kt, const struct g4_matmul_args *a, int n);

/* ==== Load-time repacking ==== */

/* Bytes of the repacked form of an [N][K] weight matrix of `type` for table
 * kt (only whole groups of pack_rows rows are repacked), or 0 when kt has no
 * repacked layout for the type or N < pack_rows. Count it as weight memory.
 * Usage at load time (the decoder owns the buffer):
 *     size_t nb = g4_matmul_repack_size(kt, w->type, N, K);
 *     if (nb) { void *p = aligned_alloc(64, round_up(nb, 64));
 *               if (p && g4_matmul_repack(kt, w->type, w->data, w->row_bytes, N, K, p))
 *                   mm.w_packed = p; }      // keep w->data mapped: tail rows come from it
 * The result depends only on the weights, so repack once and reuse it for
 * every matmul (decode and prefill) with that table (and only that table:
 * G4_KERNELS=ref has no layout, size 0, and matmul then reads w). Layouts
 * (avx2): Q4_0, Q5_0, Q8_0, Q6_K no extra bytes; Q4_K +2.8%, Q5_K +2.3%. With
 * N % 8 == 0 (every Gemma matrix) the plain rows are never read again, so
 * their mmapped pages can be dropped by the OS (or the decoder can
 * madvise(MADV_DONTNEED) them). Measured 1.2-2.1x over the plain tiles and
 * dots, decode and prefill (repack_avx2.c). */
size_t g4_matmul_repack_size(const struct g4_kernels *kt, uint32_t type, int64_t N, int64_t K);
/* Fills dst with g4_matmul_repack_size() bytes. False (nothing written) when
 * the table has no repacked layout for the type, or K is not a multiple of
 * the block size. */
bool g4_matmul_repack(const struct g4_kernels *kt, uint32_t type, const void *w, size_t w_row_bytes, int64_t N,
                      int64_t K, void *dst);

/* Row `row` of an [N][K] matrix repacked by g4_matmul_repack for kt, as
 * plain blocks into dst (the row's plain bytes): lets a caller that dropped
 * the plain pages (a tied embedding) still look rows up. False when kt
 * cannot unpack the type or the row is not in a whole group. */
bool g4_matmul_unpack_row(const struct g4_kernels *kt, uint32_t type, const void *w_packed, int64_t N, int64_t K,
                          int64_t row, void *dst);

/* ==== Helpers built on the table or the dequantizer ==== */

/* out[0..dim) = row `row` of an embedding table ([n_rows][dim] of `type`,
 * row_bytes apart) times `scale`. False for an unsupported type or dim not
 * a multiple of the block size. */
bool g4_embed_row(uint32_t type, const void *table, size_t row_bytes, int64_t row, int64_t dim, float scale, float *out);

/* RoPE frequencies like HF's default rope init, in float32:
 * inv_freq[i] = 1 / (base ^ (2i / head_dim)) / factor for i < n_rot_pairs,
 * 0 (identity) for n_rot_pairs <= i < head_dim/2. Gemma 4 full layers
 * ("proportional", factor 0.25, head_dim 512): n_rot_pairs = 64. Linear
 * scaling (Gemma 3 global layers) divides by factor; pass 1 for none. */
void g4_rope_inv_freq(float *inv_freq, int64_t head_dim, int64_t n_rot_pairs, float base, float factor);
/* cs[i] = cos(pos * inv_freq[i]), cs[half + i] = sin(...), i < half, with the
 * angle formed in float32 as HF does (then cos/sin rounded once). */
void g4_rope_cos_sin(float *cs, int32_t pos, const float *inv_freq, int64_t half);

#endif
