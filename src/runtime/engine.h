/* engine.h — evaluation of one sequence: prefill, decode, verify, rollback.
 * An engine owns the sequence's KV cache and the decoder scratch, both sized
 * once at init for (n_ctx, n_batch); evaluation allocates nothing. Input
 * longer than n_batch is split into chunks that run matrix-matrix, never
 * splitting a bidirectional block. The decoder is shared and read-only; an
 * engine is used by one thread at a time. */
#ifndef G4_RUNTIME_ENGINE_H
#define G4_RUNTIME_ENGINE_H

#include "runtime/kvcache.h"

struct g4_engine {
    const struct g4_dec *dec;
    struct g4_pool *pool;   /* not owned; NULL = single-threaded */
    struct g4_kvcache kv;
    int n_batch;
    void *scratch;
    size_t scratch_bytes;
};

/* Rows to evaluate. tokens[n] is required; embd/embd_mask/block are optional
 * (see struct g4_dec_batch). */
struct g4_engine_input {
    const int32_t *tokens;
    const float *embd;       /* [n][n_embd] */
    const uint8_t *embd_mask;
    const int32_t *block;
    int64_t n;
};

g4_status g4_engine_init(struct g4_engine *e, const struct g4_dec *dec, int64_t n_ctx, int n_batch,
                         struct g4_pool *pool, g4_error *err);
void g4_engine_free(struct g4_engine *e);

/* Appends in->n rows at positions n_past.. and writes logits of rows
 * [logits_from, n) to logits[(i - logits_from) * n_vocab] (logits_from == n:
 * none; n-1: the last row, as a generation step wants; 0: every row, as
 * verification and perplexity want). hidden (optional) gets the final-normed
 * hidden state of the same rows. On error nothing is appended. */
g4_status g4_engine_eval(struct g4_engine *e, const struct g4_engine_input *in, int64_t logits_from, float *logits,
                         float *hidden, g4_error *err);

/* Prefill helper: tokens only, logits of the last row (logits may be NULL). */
g4_status g4_engine_prefill(struct g4_engine *e, const int32_t *tokens, int64_t n, float *logits, g4_error *err);
/* One generation step: one token, its logits. */
g4_status g4_engine_decode(struct g4_engine *e, int32_t token, float *logits, g4_error *err);
/* Speculative verification: evaluates n = k+1 tokens (the last accepted
 * token and k drafts) and returns logits for all of them; afterwards the
 * caller keeps the accepted prefix with g4_engine_truncate(). n <= n_batch
 * guarantees the rollback is possible. */
g4_status g4_engine_verify(struct g4_engine *e, const int32_t *tokens, int64_t n, float *logits, g4_error *err);
/* Keeps the first n positions (see g4_kvcache_truncate). */
g4_status g4_engine_truncate(struct g4_engine *e, int64_t n, g4_error *err);

static inline int64_t g4_engine_pos(const struct g4_engine *e) { return e->kv.n_past; }

#endif
