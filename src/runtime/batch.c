/* batch.c — multi-sequence forward step (see batch.h).
 * Validation runs before any KV row is written: every engine shares the
 * runner's decoder, its rows are contiguous in the step, fit in its n_batch
 * and in its context, and every token is in the vocabulary. Then one
 * g4_dec_forward with per-row positions and KV views, and each engine's
 * n_past advances by its row count. */
#include "runtime/batch.h"

#include "core/threadpool.h"

#include <stdlib.h>
#include <string.h>

g4_status g4_batch_init(struct g4_batch *b, const struct g4_dec *dec, int max_rows, int64_t max_cap,
                        struct g4_pool *pool, g4_error *err) {
    memset(b, 0, sizeof *b);
    if (max_rows <= 0 || max_rows > (1 << 16) || max_cap <= 0)
        return g4_fail(err, G4_ERR_INVALID_ARG, "batch: max_rows %d or max_cap %lld out of range", max_rows,
                       (long long)max_cap);
    b->dec = dec;
    b->pool = pool;
    b->max_rows = max_rows;
    b->max_cap = max_cap;
    b->tokens = malloc((size_t)max_rows * sizeof *b->tokens);
    b->pos = malloc((size_t)max_rows * sizeof *b->pos);
    b->row_kv = malloc((size_t)max_rows * sizeof *b->row_kv);
    b->count = malloc((size_t)max_rows * sizeof *b->count);
    b->scratch_bytes = g4_dec_scratch_bytes(dec, max_rows, max_cap, g4_pool_size(pool));
    b->scratch = aligned_alloc(64, (b->scratch_bytes + 63) & ~(size_t)63);
    if (!b->tokens || !b->pos || !b->row_kv || !b->count || !b->scratch) {
        g4_batch_free(b);
        return g4_fail(err, G4_ERR_NOMEM, "batch: out of memory");
    }
    return G4_OK;
}

void g4_batch_free(struct g4_batch *b) {
    if (!b) return;
    free(b->tokens);
    free(b->pos);
    free(b->row_kv);
    free(b->count);
    free(b->scratch);
    memset(b, 0, sizeof *b);
}

g4_status g4_batch_step(struct g4_batch *b, const struct g4_batch_row *rows, int n, int out_first, float *logits,
                        g4_error *err) {
    if (n <= 0 || n > b->max_rows || !rows)
        return g4_fail(err, G4_ERR_INVALID_ARG, "batch: %d rows outside [1, %d]", n, b->max_rows);
    if (out_first < 0 || out_first > n || (out_first < n && !logits))
        return g4_fail(err, G4_ERR_INVALID_ARG, "batch: bad logits request");
    for (int i = 0; i < n; i++) {
        struct g4_engine *e = rows[i].e;
        if (!e || e->dec != b->dec)
            return g4_fail(err, G4_ERR_INVALID_ARG, "batch: row %d has no engine of this decoder", i);
        if (rows[i].token < 0 || rows[i].token >= b->dec->n_vocab)
            return g4_fail(err, G4_ERR_INVALID_ARG, "batch: row %d token %d outside [0, %d)", i, rows[i].token,
                           b->dec->n_vocab);
        if (g4_kvcache_max_cap(&e->kv) > b->max_cap)
            return g4_fail(err, G4_ERR_INVALID_ARG, "batch: row %d: KV ring larger than planned", i);
        /* the engine's first row in the step: count its run, refuse a second run */
        int first = i;
        while (first > 0 && rows[first - 1].e == e) first--;
        if (first == i) {
            for (int k = 0; k < i; k++)
                if (rows[k].e == e)
                    return g4_fail(err, G4_ERR_INVALID_ARG, "batch: rows of one sequence are not contiguous");
            int c = 0;
            while (i + c < n && rows[i + c].e == e) c++;
            if (c > e->n_batch)
                return g4_fail(err, G4_ERR_RANGE, "batch: %d rows of one sequence exceed its n_batch %d", c,
                               e->n_batch);
            if (c > e->kv.n_ctx - e->kv.n_past)
                return g4_fail(err, G4_ERR_RANGE, "batch: %d rows do not fit: %lld of %lld positions used", c,
                               (long long)e->kv.n_past, (long long)e->kv.n_ctx);
            for (int k = 0; k < c; k++) b->pos[i + k] = e->kv.n_past + k;
        }
        b->tokens[i] = rows[i].token;
        b->row_kv[i] = e->kv.views;
    }
    struct g4_dec_batch db = {0};
    db.n = n;
    db.pos0 = b->pos[0];
    db.tokens = b->tokens;
    db.pos = b->pos;
    db.row_kv = b->row_kv;
    db.out_first = out_first;
    db.logits = out_first < n ? logits : NULL;
    g4_status st = g4_dec_forward(b->dec, &db, NULL, b->scratch, b->scratch_bytes, b->pool, err);
    if (st != G4_OK) return st;
    for (int i = 0; i < n; i++) rows[i].e->kv.n_past++;
    return G4_OK;
}
