/* kvcache.c — per-sequence KV rings (see kvcache.h). */
#include "runtime/kvcache.h"

#include <stdlib.h>
#include <string.h>

g4_status g4_kvcache_init(struct g4_kvcache *kv, const struct g4_dec *dec, int64_t n_ctx, int n_batch, g4_error *err) {
    memset(kv, 0, sizeof *kv);
    if (n_ctx <= 0 || n_batch <= 0)
        return g4_fail(err, G4_ERR_INVALID_ARG, "kv cache: n_ctx %lld and n_batch %d must be positive",
                       (long long)n_ctx, n_batch);
    kv->n_layer = dec->n_layer;
    kv->n_ctx = n_ctx;
    kv->window = dec->window;
    kv->n_batch = n_batch;
    kv->views = calloc((size_t)dec->n_layer, sizeof *kv->views);
    if (!kv->views) return g4_fail(err, G4_ERR_NOMEM, "kv cache: out of memory");
    uint64_t total = 0;
    for (int il = 0; il < dec->n_layer; il++) {
        const struct g4_dec_layer *L = &dec->layers[il];
        if (L->kv_src != il) continue;
        int64_t cap = n_ctx;
        if (L->sliding && dec->window > 0) cap = G4_MIN(n_ctx, (int64_t)dec->window + n_batch);
        uint64_t fl;
        kv->views[il].cap = cap;
        kv->views[il].row = L->n_kv_head * L->head_dim;
        if (!g4_mul_ok((uint64_t)cap, (uint64_t)kv->views[il].row * 2, &fl) || !g4_add_ok(total, fl, &total)) {
            g4_kvcache_free(kv);
            return g4_fail(err, G4_ERR_NOMEM, "kv cache: size overflows");
        }
    }
    uint64_t bytes;
    if (!g4_mul_ok(total, sizeof(float), &bytes) || bytes > SIZE_MAX) {
        g4_kvcache_free(kv);
        return g4_fail(err, G4_ERR_NOMEM, "kv cache: size overflows");
    }
    kv->buf = malloc(bytes ? (size_t)bytes : 1);
    if (!kv->buf) {
        g4_kvcache_free(kv);
        return g4_fail(err, G4_ERR_NOMEM, "kv cache: cannot allocate %llu bytes", (unsigned long long)bytes);
    }
    kv->bytes = (size_t)bytes;
    float *p = kv->buf;
    for (int il = 0; il < dec->n_layer; il++) {
        struct g4_kv_view *v = &kv->views[il];
        if (!v->cap) continue;
        size_t n = (size_t)v->cap * (size_t)v->row;
        v->k = p;
        v->v = p + n;
        p += 2 * n;
    }
    return G4_OK;
}

void g4_kvcache_free(struct g4_kvcache *kv) {
    if (!kv) return;
    free(kv->views);
    free(kv->buf);
    memset(kv, 0, sizeof *kv);
}

int64_t g4_kvcache_max_cap(const struct g4_kvcache *kv) {
    int64_t m = 0;
    for (int il = 0; il < kv->n_layer; il++) m = G4_MAX(m, kv->views[il].cap);
    return m;
}

int64_t g4_kvcache_min_keep(const struct g4_kvcache *kv) {
    /* After writing up to n_past-1 a ring of cap slots holds positions
     * [n_past - cap, n_past). Keeping n positions needs keys n-W+1 .. n-1. */
    int64_t keep = 0;
    for (int il = 0; il < kv->n_layer; il++) {
        const struct g4_kv_view *v = &kv->views[il];
        if (!v->cap || v->cap >= kv->n_ctx || kv->n_past <= v->cap) continue;
        keep = G4_MAX(keep, kv->n_past - v->cap + kv->window - 1);
    }
    return G4_MAX(keep, kv->floor);
}

g4_status g4_kvcache_truncate(struct g4_kvcache *kv, int64_t n, g4_error *err) {
    if (n < 0 || n > kv->n_past)
        return g4_fail(err, G4_ERR_RANGE, "kv cache: cannot truncate to %lld of %lld positions", (long long)n,
                       (long long)kv->n_past);
    int64_t keep = g4_kvcache_min_keep(kv);
    if (n < keep && n != 0)
        return g4_fail(err, G4_ERR_RANGE,
                       "kv cache: truncating to %lld needs sliding-window keys already overwritten (minimum %lld)",
                       (long long)n, (long long)keep);
    kv->n_past = n;
    if (n == 0) kv->floor = 0;
    return G4_OK;
}

/* rings that wrap, i.e. lose positions the window may need after a rollback */
static int wraps(const struct g4_kvcache *kv, const struct g4_kv_view *v) { return v->cap && v->cap < kv->n_ctx; }

static int64_t snap_rows(const struct g4_kvcache *kv) { return kv->window > 1 ? kv->window - 1 : 0; }

size_t g4_kvcache_snap_floats(const struct g4_kvcache *kv) {
    size_t n = 0;
    for (int il = 0; il < kv->n_layer; il++)
        if (wraps(kv, &kv->views[il])) n += (size_t)snap_rows(kv) * (size_t)kv->views[il].row * 2;
    return n;
}

/* Rows [pos - W + 1, pos) of each wrapping ring, in position order; rows
 * before 0 are left as they are. */
static void snap_copy(const struct g4_kvcache *kv, int64_t pos, float *buf, int out) {
    int64_t nr = snap_rows(kv);
    for (int il = 0; il < kv->n_layer; il++) {
        const struct g4_kv_view *v = &kv->views[il];
        if (!wraps(kv, v)) continue;
        size_t row = (size_t)v->row;
        for (int64_t r = 0; r < nr; r++, buf += 2 * row) {
            int64_t p = pos - nr + r;
            if (p < 0) continue;
            float *k = v->k + (size_t)(p % v->cap) * row, *vv = v->v + (size_t)(p % v->cap) * row;
            if (out) {
                memcpy(buf, k, row * sizeof(float));
                memcpy(buf + row, vv, row * sizeof(float));
            } else {
                memcpy(k, buf, row * sizeof(float));
                memcpy(vv, buf + row, row * sizeof(float));
            }
        }
    }
}

void g4_kvcache_snapshot(const struct g4_kvcache *kv, float *buf) {
    snap_copy(kv, kv->n_past, buf, 1);
}

g4_status g4_kvcache_restore(struct g4_kvcache *kv, int64_t pos, const float *buf, g4_error *err) {
    if (pos < 0 || pos > kv->n_past)
        return g4_fail(err, G4_ERR_RANGE, "kv cache: cannot restore %lld of %lld positions", (long long)pos,
                       (long long)kv->n_past);
    snap_copy(kv, pos, (float *)buf, 0);
    kv->n_past = pos;
    kv->floor = pos;
    return G4_OK;
}
