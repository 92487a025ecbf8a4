/* prefix.c — prefix cache with sliding-window checkpoints (see prefix.h). */
#include "runtime/prefix.h"

#include <stdlib.h>
#include <string.h>

g4_status g4_prefix_init(struct g4_prefix *p, const struct g4_engine *e, int64_t every, int max_ckpt, g4_error *err) {
    memset(p, 0, sizeof *p);
    if (every <= 0 || max_ckpt < 0 || max_ckpt > 1024)
        return g4_fail(err, G4_ERR_INVALID_ARG, "prefix cache: every %lld / max_ckpt %d out of range",
                       (long long)every, max_ckpt);
    p->every = every;
    p->snap_floats = g4_kvcache_snap_floats(&e->kv);
    p->max_ckpt = p->snap_floats ? max_ckpt : 0;
    p->tokens = malloc((size_t)e->kv.n_ctx * sizeof *p->tokens);
    p->ck = calloc((size_t)(p->max_ckpt ? p->max_ckpt : 1), sizeof *p->ck);
    uint64_t fl = 0;
    if (!g4_mul_ok((uint64_t)p->snap_floats, (uint64_t)p->max_ckpt, &fl) || fl > SIZE_MAX / sizeof(float)) {
        g4_prefix_free(p);
        return g4_fail(err, G4_ERR_NOMEM, "prefix cache: checkpoint size overflows");
    }
    p->mem = malloc(fl ? (size_t)fl * sizeof(float) : 1);
    if (!p->tokens || !p->ck || !p->mem) {
        g4_prefix_free(p);
        return g4_fail(err, G4_ERR_NOMEM, "prefix cache: out of memory");
    }
    for (int i = 0; i < p->max_ckpt; i++) {
        p->ck[i].pos = -1;
        p->ck[i].buf = p->mem + (size_t)i * p->snap_floats;
    }
    return G4_OK;
}

void g4_prefix_free(struct g4_prefix *p) {
    if (!p) return;
    free(p->tokens);
    free(p->ck);
    free(p->mem);
    memset(p, 0, sizeof *p);
}

int64_t g4_prefix_match(const struct g4_prefix *p, const struct g4_engine *e, const int32_t *ids, int64_t n) {
    int64_t k = 0, have = g4_engine_pos(e);
    while (k < have && k < n && p->tokens[k] == ids[k]) k++;
    return k;
}

/* Forgets checkpoints above length n (positions below them get rewritten). */
static void drop_above(struct g4_prefix *p, int64_t n) {
    for (int i = 0; i < p->max_ckpt; i++)
        if (p->ck[i].pos > n) p->ck[i].pos = -1;
}

int64_t g4_prefix_seek(struct g4_prefix *p, struct g4_engine *e, const int32_t *ids, int64_t n, g4_error *err) {
    int64_t k = g4_prefix_match(p, e, ids, n);
    if (k >= n) k = n - 1;
    if (k < 0) k = 0;
    if (k == g4_engine_pos(e)) return k;
    if (g4_engine_truncate(e, k, NULL) == G4_OK) {
        drop_above(p, k);
        return k;
    }
    /* too deep for the rings: the nearest checkpoint at or below k */
    int best = -1;
    for (int i = 0; i < p->max_ckpt; i++)
        if (p->ck[i].pos >= 0 && p->ck[i].pos <= k && (best < 0 || p->ck[i].pos > p->ck[best].pos)) best = i;
    if (best >= 0 && p->ck[best].pos > 0 &&
        g4_kvcache_restore(&e->kv, p->ck[best].pos, p->ck[best].buf, NULL) == G4_OK) {
        k = p->ck[best].pos;
        p->restores++;
        drop_above(p, k);
        return k;
    }
    if (g4_engine_truncate(e, 0, err) != G4_OK) return -1;
    drop_above(p, 0);
    return 0;
}

void g4_prefix_checkpoint(struct g4_prefix *p, const struct g4_engine *e) {
    int64_t pos = g4_engine_pos(e);
    if (!p->max_ckpt || pos <= 0) return;
    int slot = -1;
    for (int i = 0; i < p->max_ckpt; i++) {
        if (p->ck[i].pos == pos) return;
        if (p->ck[i].pos < 0) {
            if (slot < 0 || p->ck[slot].pos >= 0) slot = i;
        } else if (slot < 0 || (p->ck[slot].pos >= 0 && p->ck[i].pos < p->ck[slot].pos)) {
            slot = i;
        }
    }
    g4_kvcache_snapshot(&e->kv, p->ck[slot].buf);
    p->ck[slot].pos = pos;
}

void g4_prefix_note(struct g4_prefix *p, struct g4_engine *e, int32_t token) {
    int64_t pos = g4_engine_pos(e);
    if (pos <= 0) return;
    p->tokens[pos - 1] = token;
    if (pos % p->every == 0) g4_prefix_checkpoint(p, e);
}

void g4_prefix_record(struct g4_prefix *p, struct g4_engine *e, const int32_t *ids, int64_t n) {
    int64_t pos = g4_engine_pos(e);
    if (n <= 0 || n > pos) return;
    memcpy(p->tokens + pos - n, ids, (size_t)n * sizeof *ids);
    if (pos % p->every == 0) g4_prefix_checkpoint(p, e);
}

g4_status g4_prefix_eval(struct g4_prefix *p, struct g4_engine *e, const int32_t *ids, int64_t n, int want_logits,
                         float *logits, g4_error *err) {
    while (n > 0) {
        int64_t pos = g4_engine_pos(e);
        int64_t m = G4_MIN(n, (pos / p->every + 1) * p->every - pos);
        struct g4_engine_input in = {.tokens = ids, .n = m};
        int last = m == n && want_logits;
        g4_status st = g4_engine_eval(e, &in, last ? m - 1 : m, last ? logits : NULL, NULL, err);
        if (st != G4_OK) return st;
        memcpy(p->tokens + pos, ids, (size_t)m * sizeof *ids);
        if ((pos + m) % p->every == 0) g4_prefix_checkpoint(p, e);
        ids += m;
        n -= m;
    }
    return G4_OK;
}
