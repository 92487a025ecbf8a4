/* batch.h — one forward pass over rows of several sequences (continuous
 * batching). Each sequence is a g4_engine (its own KV cache; the decoder
 * must be the same one for all); a step takes rows tagged with their engine,
 * appends each row's token at that engine's next position and returns the
 * logits of the rows that ask for them. Matmuls run once with M = number of
 * rows (weights read once per step for every sequence); attention runs per
 * row over its own sequence's cache. The runner owns one scratch sized at
 * init for max_rows rows; a step allocates nothing. Rows of one engine take
 * consecutive positions in row order (a prefill chunk may share a step with
 * other sequences' decode rows), at most that engine's n_batch of them.
 * Logits come for the rows [out_first, n): put rows that need logits last.
 * On error no engine's position changes. */
#ifndef G4_RUNTIME_BATCH_H
#define G4_RUNTIME_BATCH_H

#include "runtime/engine.h"

struct g4_batch_row {
    struct g4_engine *e;
    int32_t token;
};

struct g4_batch {
    const struct g4_dec *dec;
    struct g4_pool *pool;    /* not owned; NULL = single-threaded */
    int max_rows;
    int64_t max_cap;         /* largest KV ring the scratch plans for */
    int32_t *tokens;         /* [max_rows] */
    int64_t *pos;            /* [max_rows] */
    struct g4_kv_view **row_kv; /* [max_rows] */
    int *count;              /* [max_rows] rows per engine (validation) */
    void *scratch;
    size_t scratch_bytes;
};

/* Sizes the runner for steps of up to max_rows rows over engines whose
 * largest KV ring is at most max_cap (g4_kvcache_max_cap). */
g4_status g4_batch_init(struct g4_batch *b, const struct g4_dec *dec, int max_rows, int64_t max_cap,
                        struct g4_pool *pool, g4_error *err);
void g4_batch_free(struct g4_batch *b);

/* Runs rows[0..n) as one forward pass; logits of row i >= out_first go to
 * logits[(i - out_first) * n_vocab] (out_first == n: none). */
g4_status g4_batch_step(struct g4_batch *b, const struct g4_batch_row *rows, int n, int out_first, float *logits,
                        g4_error *err);

#endif
