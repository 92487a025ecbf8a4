/* tensordir.c — the unified tensor directory: a growable array of entries
 * plus an open-addressing hash (FNV-1a, linear probing) over their names.
 * Invariants: n_slots is a power of two and at least 2*n, so probing always
 * finds an empty slot; names are owned and unique. */
#include "io/tensordir.h"

#include <stdlib.h>
#include <string.h>

static uint32_t name_hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 16777619u;
    }
    return h;
}

void g4_tensordir_init(struct g4_tensordir *d) { memset(d, 0, sizeof *d); }

void g4_tensordir_free(struct g4_tensordir *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) free(d->t[i].name);
    free(d->t);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

static bool rehash(struct g4_tensordir *d, int n_slots) {
    int *s = malloc((size_t)n_slots * sizeof *s);
    if (!s) return false;
    for (int i = 0; i < n_slots; i++) s[i] = -1;
    for (int i = 0; i < d->n; i++) {
        uint32_t h = name_hash(d->t[i].name) & (uint32_t)(n_slots - 1);
        while (s[h] >= 0) h = (h + 1) & (uint32_t)(n_slots - 1);
        s[h] = i;
    }
    free(d->slots);
    d->slots = s;
    d->n_slots = n_slots;
    return true;
}

const struct g4_tensor *g4_tensordir_find(const struct g4_tensordir *d, const char *name) {
    if (!d || !name || d->n_slots == 0) return NULL;
    uint32_t mask = (uint32_t)(d->n_slots - 1);
    for (uint32_t h = name_hash(name) & mask;; h = (h + 1) & mask) {
        int i = d->slots[h];
        if (i < 0) return NULL;
        if (strcmp(d->t[i].name, name) == 0) return &d->t[i];
    }
}

g4_status g4_tensordir_add(struct g4_tensordir *d, const struct g4_tensor *t, g4_error *err) {
    if (!t->name) return g4_fail(err, G4_ERR_INVALID_ARG, "tensor without a name");
    if (g4_tensordir_find(d, t->name))
        return g4_fail(err, G4_ERR_FORMAT, "duplicate tensor name '%s'", t->name);
    if (d->n >= (1 << 24)) return g4_fail(err, G4_ERR_RANGE, "too many tensors (limit %d)", 1 << 24);
    if (d->n == d->cap) {
        int cap = d->cap ? d->cap * 2 : 64;
        struct g4_tensor *nt = realloc(d->t, (size_t)cap * sizeof *nt);
        if (!nt) return g4_fail(err, G4_ERR_NOMEM, "out of memory growing the tensor directory");
        d->t = nt;
        d->cap = cap;
    }
    if ((d->n + 1) * 2 > d->n_slots) {
        int ns = d->n_slots ? d->n_slots * 2 : 128;
        while ((d->n + 1) * 2 > ns) ns *= 2;
        if (!rehash(d, ns)) return g4_fail(err, G4_ERR_NOMEM, "out of memory growing the tensor directory");
    }
    struct g4_tensor *e = &d->t[d->n];
    *e = *t;
    e->name = strdup(t->name);
    if (!e->name) return g4_fail(err, G4_ERR_NOMEM, "out of memory");
    uint32_t mask = (uint32_t)(d->n_slots - 1);
    uint32_t h = name_hash(e->name) & mask;
    while (d->slots[h] >= 0) h = (h + 1) & mask;
    d->slots[h] = d->n;
    d->n++;
    return G4_OK;
}

int64_t g4_tensor_nelem(const struct g4_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < 4; i++) n *= t->ne[i];
    return n;
}
