/* engine.c — one sequence's evaluation loop (see engine.h).
 * Chunking: rows go to the decoder n_batch at a time; a chunk boundary that
 * would cut a bidirectional block moves back to the block's start (a block
 * longer than n_batch is refused). Input is validated before any KV row is
 * written, so a failed call leaves the cache as it was. */
#include "runtime/engine.h"

#include "core/threadpool.h"

#include <stdlib.h>
#include <string.h>

g4_status g4_engine_init(struct g4_engine *e, const struct g4_dec *dec, int64_t n_ctx, int n_batch,
                         struct g4_pool *pool, g4_error *err) {
    memset(e, 0, sizeof *e);
    if (n_batch <= 0 || n_batch > (1 << 16))
        return g4_fail(err, G4_ERR_INVALID_ARG, "engine: n_batch %d out of range [1, 65536]", n_batch);
    g4_status st = g4_kvcache_init(&e->kv, dec, n_ctx, n_batch, err);
    if (st != G4_OK) return st;
    e->dec = dec;
    e->pool = pool;
    e->n_batch = n_batch;
    e->scratch_bytes = g4_dec_scratch_bytes(dec, n_batch, g4_kvcache_max_cap(&e->kv), g4_pool_size(pool));
    e->scratch = aligned_alloc(64, (e->scratch_bytes + 63) & ~(size_t)63);
    if (!e->scratch) {
        g4_kvcache_free(&e->kv);
        return g4_fail(err, G4_ERR_NOMEM, "engine: cannot allocate %zu bytes of scratch", e->scratch_bytes);
    }
    return G4_OK;
}

void g4_engine_free(struct g4_engine *e) {
    if (!e) return;
    g4_kvcache_free(&e->kv);
    free(e->scratch);
    memset(e, 0, sizeof *e);
}

g4_status g4_engine_eval(struct g4_engine *e, const struct g4_engine_input *in, int64_t logits_from, float *logits,
                         float *hidden, g4_error *err) {
    const struct g4_dec *dec = e->dec;
    int64_t n = in->n;
    if (!in->tokens || n <= 0) return g4_fail(err, G4_ERR_INVALID_ARG, "engine: no input rows");
    if (logits_from < 0 || logits_from > n)
        return g4_fail(err, G4_ERR_INVALID_ARG, "engine: logits_from %lld outside [0, %lld]", (long long)logits_from,
                       (long long)n);
    if (logits_from < n && !logits && !hidden)
        return g4_fail(err, G4_ERR_INVALID_ARG, "engine: logits requested without a buffer");
    if (n > e->kv.n_ctx - e->kv.n_past)
        return g4_fail(err, G4_ERR_RANGE, "engine: %lld rows do not fit: %lld of %lld positions used", (long long)n,
                       (long long)e->kv.n_past, (long long)e->kv.n_ctx);
    if (in->embd && !in->embd_mask) return g4_fail(err, G4_ERR_INVALID_ARG, "engine: embd without embd_mask");
    for (int64_t i = 0; i < n; i++)
        if (in->tokens[i] < 0 || in->tokens[i] >= dec->n_vocab)
            return g4_fail(err, G4_ERR_INVALID_ARG, "engine: token %lld is id %d, outside [0, %d)", (long long)i,
                           in->tokens[i], dec->n_vocab);

    /* plan the chunks first (validation), then run them */
    int64_t start = 0;
    while (start < n) {
        int64_t end = G4_MIN(n, start + e->n_batch);
        if (end < n && in->block && in->block[end] >= 0 && in->block[end] == in->block[end - 1]) {
            int64_t b = end - 1;
            while (b > start && in->block[b - 1] == in->block[end]) b--;
            if (b == start)
                return g4_fail(err, G4_ERR_RANGE, "engine: a bidirectional block at row %lld is longer than n_batch %d",
                               (long long)start, e->n_batch);
            end = b;
        }
        start = end;
    }
    start = 0;
    while (start < n) {
        int64_t end = G4_MIN(n, start + e->n_batch);
        if (end < n && in->block && in->block[end] >= 0 && in->block[end] == in->block[end - 1]) {
            int64_t b = end - 1;
            while (b > start && in->block[b - 1] == in->block[end]) b--;
            end = b;
        }
        struct g4_dec_batch b = {0};
        b.n = (int)(end - start);
        b.pos0 = e->kv.n_past;
        b.tokens = in->tokens + start;
        if (in->embd) {
            b.embd = in->embd + (size_t)start * dec->n_embd;
            b.embd_mask = in->embd_mask + start;
        }
        b.block = in->block ? in->block + start : NULL;
        int64_t first = G4_MAX(logits_from, start);
        b.out_first = (int)(G4_MIN(first, end) - start);
        if (first < end) {
            if (logits) b.logits = logits + (size_t)(first - logits_from) * dec->n_vocab;
            if (hidden) b.hidden = hidden + (size_t)(first - logits_from) * dec->n_embd;
        }
        g4_status st = g4_dec_forward(dec, &b, e->kv.views, e->scratch, e->scratch_bytes, e->pool, err);
        if (st != G4_OK) return st;
        e->kv.n_past += b.n;
        start = end;
    }
    return G4_OK;
}

g4_status g4_engine_prefill(struct g4_engine *e, const int32_t *tokens, int64_t n, float *logits, g4_error *err) {
    struct g4_engine_input in = {.tokens = tokens, .n = n};
    return g4_engine_eval(e, &in, logits ? n - 1 : n, logits, NULL, err);
}

g4_status g4_engine_decode(struct g4_engine *e, int32_t token, float *logits, g4_error *err) {
    struct g4_engine_input in = {.tokens = &token, .n = 1};
    return g4_engine_eval(e, &in, logits ? 0 : 1, logits, NULL, err);
}

g4_status g4_engine_verify(struct g4_engine *e, const int32_t *tokens, int64_t n, float *logits, g4_error *err) {
    if (n > e->n_batch)
        return g4_fail(err, G4_ERR_RANGE, "engine: verifying %lld tokens exceeds n_batch %d", (long long)n,
                       e->n_batch);
    struct g4_engine_input in = {.tokens = tokens, .n = n};
    return g4_engine_eval(e, &in, 0, logits, NULL, err);
}

g4_status g4_engine_truncate(struct g4_engine *e, int64_t n, g4_error *err) {
    return g4_kvcache_truncate(&e->kv, n, err);
}
