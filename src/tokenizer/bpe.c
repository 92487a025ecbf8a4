/* bpe.c — HF `tokenizers` BPE merge_word over one pre-token, O(n log n).
 * The word starts as one symbol per UTF-8 character (its model id), or its
 * <0xHH> byte tokens (byte_fallback), or <unk> (fused when fuse_unk); an
 * invalid UTF-8 byte is a character that is never in the vocabulary. Then a
 * min-heap of candidate merges ordered by (rank, position) is popped; stale
 * entries are skipped as HF's Word::merge_all does (see heap_push), so the
 * ids equal HF's in every case.
 * Symbols form a doubly linked list; a merged-away symbol gets len 0. */
#include "tokenizer/tok_internal.h"

#include <stdlib.h>
#include <string.h>

struct sym {
    int32_t id;
    int32_t prev, next;
    uint32_t len; /* bytes; 0 = merged into its left neighbour */
};
struct tok_bpe_scratch {
    struct sym *syms;
    size_t n_syms, cap_syms;
    uint64_t *heap; /* 4-ary min-heap of rank << 32 | position */
    size_t n_heap, cap_heap;
};

struct tok_bpe_scratch *tok_bpe_scratch_new(void) { return calloc(1, sizeof(struct tok_bpe_scratch)); }

void tok_bpe_scratch_free(struct tok_bpe_scratch *s) {
    if (!s) return;
    free(s->syms);
    free(s->heap);
    free(s);
}

static bool sym_push(struct tok_bpe_scratch *s, int32_t id, uint32_t len) {
    if (s->n_syms == s->cap_syms) {
        size_t cap = s->cap_syms ? s->cap_syms * 2 : 64;
        struct sym *n = realloc(s->syms, cap * sizeof *n);
        if (!n) return false;
        s->syms = n;
        s->cap_syms = cap;
    }
    struct sym *y = &s->syms[s->n_syms];
    y->id = id;
    y->len = len;
    y->prev = (int32_t)s->n_syms - 1;
    y->next = -1; /* fixed up once the word is complete */
    s->n_syms++;
    return true;
}

/* A candidate merge is rank << 32 | position: one integer compare orders by
 * rank, then leftmost position, as HF's Merge ordering does. Its merged id is
 * looked up again when popped: an entry is stale iff the pair at its
 * position changed (a changed pair always spells a longer string), which is
 * exactly when HF's new_id check fails. */
static bool heap_push(struct tok_bpe_scratch *s, uint32_t rank, uint32_t pos) {
    if (s->n_heap == s->cap_heap) {
        size_t cap = s->cap_heap ? s->cap_heap * 2 : 64;
        uint64_t *n = realloc(s->heap, cap * sizeof *n);
        if (!n) return false;
        s->heap = n;
        s->cap_heap = cap;
    }
    uint64_t it = (uint64_t)rank << 32 | pos;
    size_t i = s->n_heap++;
    while (i > 0) {
        size_t p = (i - 1) / 4;
        if (s->heap[p] <= it) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = it;
    return true;
}

static uint64_t heap_pop(struct tok_bpe_scratch *s) {
    uint64_t top = s->heap[0], last = s->heap[--s->n_heap];
    size_t n = s->n_heap, i = 0;
    for (;;) {
        size_t c = 4 * i + 1;
        if (c >= n) break;
        size_t best = c, end = c + 4 < n ? c + 4 : n;
        for (size_t k = c + 1; k < end; k++)
            if (s->heap[k] < s->heap[best]) best = k;
        if (s->heap[best] >= last) break;
        s->heap[i] = s->heap[best];
        i = best;
    }
    if (n) s->heap[i] = last;
    return top;
}

static int32_t char_id(const struct g4_tokenizer *t, const unsigned char *c, size_t clen, bool valid) {
    if (!valid) return -1;
    if (clen == 1) return t->ascii_id[c[0]];
    if (clen == 2) return t->bmp_id[(c[0] & 0x1Fu) << 6 | (c[1] & 0x3Fu)];
    if (clen == 3) return t->bmp_id[(c[0] & 0x0Fu) << 12 | (c[1] & 0x3Fu) << 6 | (c[2] & 0x3Fu)];
    int32_t id = tok_map_find(t, (const char *)c, clen);
    return id >= 0 && (t->flags[id] & TOK_F_MODEL) ? id : -1;
}

g4_status tok_bpe_word(const struct g4_tokenizer *t, struct tok_bpe_scratch *s, const char *w, size_t len,
                       tok_emit_fn emit, void *user, g4_error *err) {
    if (len == 0) return G4_OK;
    if (len > INT32_MAX - 1) return g4_fail(err, G4_ERR_RANGE, "tokenizer: text too long");
    if (t->ignore_merges) {
        int32_t id = tok_map_find(t, w, len);
        if (id >= 0 && (t->flags[id] & TOK_F_MODEL)) return emit(user, id);
    }
    s->n_syms = 0;
    s->n_heap = 0;
    const unsigned char *u = (const unsigned char *)w;
    int32_t unk_pending = -1; /* pending <unk> symbol length, -1 if none */
    for (size_t i = 0; i < len;) {
        size_t clen = tok_utf8_len(u + i, len - i);
        bool valid = clen != 0;
        if (!valid) clen = 1;
        int32_t id = char_id(t, u + i, clen, valid);
        if (id >= 0) {
            if (unk_pending >= 0) {
                if (!sym_push(s, t->unk_id, (uint32_t)unk_pending)) goto oom;
                unk_pending = -1;
            }
            if (!sym_push(s, id, (uint32_t)clen)) goto oom;
        } else {
            bool done = false;
            if (t->byte_fallback) {
                bool all = true;
                for (size_t k = 0; k < clen; k++) all = all && t->byte_id[u[i + k]] >= 0;
                if (all) { /* HF leaves a pending <unk> pending here */
                    for (size_t k = 0; k < clen; k++)
                        if (!sym_push(s, t->byte_id[u[i + k]], 1)) goto oom;
                    done = true;
                }
            }
            if (!done && t->unk_id >= 0) {
                if (unk_pending >= 0 && t->fuse_unk) {
                    unk_pending += (int32_t)clen;
                } else {
                    if (unk_pending >= 0 && !sym_push(s, t->unk_id, (uint32_t)unk_pending)) goto oom;
                    unk_pending = (int32_t)clen;
                }
            }
            /* no byte token and no <unk>: HF drops the character */
        }
        i += clen;
    }
    if (unk_pending >= 0 && !sym_push(s, t->unk_id, (uint32_t)unk_pending)) goto oom;
    size_t n = s->n_syms;
    for (size_t i = 0; i + 1 < n; i++) s->syms[i].next = (int32_t)i + 1;

    uint32_t rank;
    int32_t nid;
    for (size_t i = 0; i + 1 < n; i++)
        if (tok_merges_get(t, s->syms[i].id, s->syms[i + 1].id, &rank, &nid) && !heap_push(s, rank, (uint32_t)i))
            goto oom;
    while (s->n_heap) {
        uint64_t top = heap_pop(s);
        uint32_t pos = (uint32_t)top;
        struct sym *a = &s->syms[pos];
        if (a->len == 0 || a->next < 0) continue;
        int32_t next = a->next;
        struct sym right = s->syms[next];
        if (!tok_merges_get(t, a->id, right.id, &rank, &nid) || rank != (uint32_t)(top >> 32)) continue; /* stale */
        a->id = nid;
        a->len += right.len;
        a->next = right.next;
        s->syms[next].len = 0;
        if (right.next >= 0) s->syms[right.next].prev = (int32_t)pos;
        if (a->prev >= 0 && tok_merges_get(t, s->syms[a->prev].id, a->id, &rank, &nid) &&
            !heap_push(s, rank, (uint32_t)a->prev))
            goto oom;
        if (a->next >= 0 && tok_merges_get(t, a->id, s->syms[a->next].id, &rank, &nid) && !heap_push(s, rank, pos))
            goto oom;
    }
    for (size_t i = 0; i < n; i++) {
        if (s->syms[i].len == 0) continue;
        g4_status st = emit(user, s->syms[i].id);
        if (st != G4_OK) return st;
    }
    return G4_OK;
oom:
    return g4_fail(err, G4_ERR_NOMEM, "tokenizer: out of memory");
}
