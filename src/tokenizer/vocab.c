/* vocab.c — the tokenizer's tables: pieces in one arena, the piece -> id hash
 * map, the (left, right) -> (rank, merged) merge map, the byte tries used to
 * find added tokens, and the normalizer. Both loaders (tok_json.c, tok_gguf.c)
 * fill a g4_tokenizer through these functions and finish with tok_finish().
 * Every size comes from a file, so every allocation is checked and bounded. */
#include "tokenizer/tok_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- hashing ------------------------------------------------------------ */

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_bytes(const char *s, size_t len) {
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = mix64(h ^ w);
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, len);
    return mix64(h ^ w ^ ((uint64_t)len << 56));
}

static uint64_t pow2_at_least(uint64_t n) {
    uint64_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

/* ---- construction ------------------------------------------------------- */

struct g4_tokenizer *tok_alloc(int32_t n_vocab, g4_error *err) {
    if (n_vocab <= 0 || n_vocab > TOK_MAX_VOCAB) {
        g4_fail(err, G4_ERR_FORMAT, "tokenizer: vocabulary size %d out of range", (int)n_vocab);
        return NULL;
    }
    struct g4_tokenizer *t = calloc(1, sizeof *t);
    if (!t) goto oom;
    t->n_vocab = n_vocab;
    t->piece_off = calloc((size_t)n_vocab, sizeof *t->piece_off);
    t->piece_len = calloc((size_t)n_vocab, sizeof *t->piece_len);
    t->flags = calloc((size_t)n_vocab, 1);
    t->unk_id = t->bos = t->eos = -1;
    t->fuse_unk = false;
    if (!t->piece_off || !t->piece_len || !t->flags) goto oom;
    return t;
oom:
    g4_tokenizer_free(t);
    g4_fail(err, G4_ERR_NOMEM, "tokenizer: out of memory");
    return NULL;
}

uint32_t tok_arena_add(struct g4_tokenizer *t, const char *s, size_t len) {
    if (len > UINT32_MAX - 1 || t->arena_len + len + 1 > UINT32_MAX) return UINT32_MAX;
    if (t->arena_len + len + 1 > t->arena_cap) {
        size_t cap = t->arena_cap ? t->arena_cap : 1 << 16;
        while (cap < t->arena_len + len + 1) cap *= 2;
        char *a = realloc(t->arena, cap);
        if (!a) return UINT32_MAX;
        t->arena = a;
        t->arena_cap = cap;
    }
    uint32_t off = (uint32_t)t->arena_len;
    if (len) memcpy(t->arena + off, s, len);
    t->arena[off + len] = 0; /* pieces are also C strings (g4_tokenizer_piece) */
    t->arena_len += len + 1;
    return off;
}

g4_status tok_set_piece(struct g4_tokenizer *t, int32_t id, const char *s, size_t len, uint8_t flags,
                        bool overwrite, const char *name, g4_error *err) {
    if (id < 0 || id >= t->n_vocab) return g4_fail(err, G4_ERR_FORMAT, "%s: token id %d out of range", name, (int)id);
    if (len > TOK_MAX_PIECE) return g4_fail(err, G4_ERR_FORMAT, "%s: token %d is longer than %d bytes", name, (int)id, TOK_MAX_PIECE);
    if ((t->flags[id] & TOK_F_PRESENT) && !overwrite)
        return g4_fail(err, G4_ERR_FORMAT, "%s: token id %d is used twice", name, (int)id);
    uint32_t off = tok_arena_add(t, s, len);
    if (off == UINT32_MAX) return g4_fail(err, G4_ERR_NOMEM, "%s: out of memory for the vocabulary", name);
    t->piece_off[id] = off;
    t->piece_len[id] = (uint32_t)len;
    t->flags[id] |= (uint8_t)(flags | TOK_F_PRESENT);
    return G4_OK;
}

static inline uint64_t slot_make(uint64_t h, int32_t id) { return (h & 0xffffffff00000000ULL) | ((uint64_t)id + 1); }

g4_status tok_build_map(struct g4_tokenizer *t, const char *name, g4_error *err) {
    uint64_t cap = pow2_at_least((uint64_t)t->n_vocab * 2);
    free(t->map.slots);
    t->map.slots = calloc(cap, sizeof *t->map.slots);
    if (!t->map.slots) return g4_fail(err, G4_ERR_NOMEM, "%s: out of memory", name);
    t->map.mask = cap - 1;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (!(t->flags[id] & TOK_F_PRESENT)) continue;
        const char *s = t->arena + t->piece_off[id];
        size_t len = t->piece_len[id];
        uint64_t h = hash_bytes(s, len), i = h & t->map.mask;
        for (;;) {
            uint64_t v = t->map.slots[i];
            if (!v) {
                t->map.slots[i] = slot_make(h, id);
                break;
            }
            uint32_t o = (uint32_t)v - 1;
            if ((v >> 32) == (h >> 32) && t->piece_len[o] == len && !memcmp(t->arena + t->piece_off[o], s, len)) {
                /* A duplicate piece (GGUF only; the JSON loader refuses them):
                 * the later id wins, like a Python dict built in id order. */
                t->map.slots[i] = slot_make(h, id);
                break;
            }
            i = (i + 1) & t->map.mask;
        }
    }
    return G4_OK;
}

void tok_map_insert(struct g4_tokenizer *t, int32_t id) {
    uint64_t h = hash_bytes(t->arena + t->piece_off[id], t->piece_len[id]), i = h & t->map.mask;
    while (t->map.slots[i]) i = (i + 1) & t->map.mask;
    t->map.slots[i] = slot_make(h, id);
}

int32_t tok_map_find(const struct g4_tokenizer *t, const char *s, size_t len) {
    if (!t->map.slots) return -1;
    uint64_t h = hash_bytes(s, len), i = h & t->map.mask;
    for (;;) {
        uint64_t v = t->map.slots[i];
        if (!v) return -1;
        uint32_t o = (uint32_t)v - 1;
        if ((v >> 32) == (h >> 32) && t->piece_len[o] == len && !memcmp(t->arena + t->piece_off[o], s, len))
            return (int32_t)o;
        i = (i + 1) & t->map.mask;
    }
}

/* ---- merges ------------------------------------------------------------- */

g4_status tok_merges_init(struct g4_tokenizer *t, uint64_t n, g4_error *err) {
    if (n > TOK_MAX_MERGES) return g4_fail(err, G4_ERR_FORMAT, "tokenizer: %llu merges is too many", (unsigned long long)n);
    uint64_t cap = pow2_at_least(n * 2 + 2);
    free(t->merges.slots);
    t->merges.slots = malloc(cap * sizeof *t->merges.slots);
    if (!t->merges.slots) return g4_fail(err, G4_ERR_NOMEM, "tokenizer: out of memory for %llu merges", (unsigned long long)n);
    for (uint64_t i = 0; i < cap; i++) t->merges.slots[i].rank = UINT32_MAX;
    t->merges.mask = cap - 1;
    t->merges.n = 0;
    return G4_OK;
}

static inline uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t)(uint32_t)a << 32 | (uint32_t)b; }

void tok_merges_put(struct g4_tokenizer *t, int32_t a, int32_t b, uint32_t rank, int32_t new_id) {
    uint64_t key = pair_key(a, b);
    uint64_t i = mix64(key) & t->merges.mask;
    for (;;) {
        struct tok_merge_slot *s = &t->merges.slots[i];
        if (s->rank == UINT32_MAX || s->key == key) {
            if (s->rank == UINT32_MAX) t->merges.n++;
            s->key = key;
            s->rank = rank;
            s->new_id = new_id;
            return;
        }
        i = (i + 1) & t->merges.mask;
    }
}

bool tok_merges_get(const struct g4_tokenizer *t, int32_t a, int32_t b, uint32_t *rank, int32_t *new_id) {
    if (!t->merges.slots) return false;
    uint64_t key = pair_key(a, b);
    uint64_t i = mix64(key) & t->merges.mask;
    for (;;) {
        const struct tok_merge_slot *s = &t->merges.slots[i];
        if (s->rank == UINT32_MAX) return false;
        if (s->key == key) {
            *rank = s->rank;
            *new_id = s->new_id;
            return true;
        }
        i = (i + 1) & t->merges.mask;
    }
}

static int32_t model_find(const struct g4_tokenizer *t, const char *s, size_t len) {
    int32_t id = tok_map_find(t, s, len);
    return id >= 0 && (t->flags[id] & TOK_F_MODEL) ? id : -1;
}

g4_status tok_merge_add_pieces(struct g4_tokenizer *t, const char *a, size_t alen, const char *b, size_t blen,
                               uint32_t rank, const char *name, g4_error *err) {
    /* HF BpeBuilder: both sides and their concatenation must be in the vocab. */
    int32_t ia = model_find(t, a, alen), ib = model_find(t, b, blen);
    if (ia < 0 || ib < 0)
        return g4_fail(err, G4_ERR_FORMAT, "%s: merge %u refers to a token missing from the vocabulary", name, rank);
    if (alen + blen > TOK_MAX_PIECE) return g4_fail(err, G4_ERR_FORMAT, "%s: merge %u is too long", name, rank);
    char buf[TOK_MAX_PIECE];
    memcpy(buf, a, alen);
    memcpy(buf + alen, b, blen);
    int32_t in = model_find(t, buf, alen + blen);
    if (in < 0)
        return g4_fail(err, G4_ERR_FORMAT, "%s: merge %u produces a token missing from the vocabulary", name, rank);
    tok_merges_put(t, ia, ib, rank, in);
    return G4_OK;
}

/* ---- added tokens and tries --------------------------------------------- */

g4_status tok_added_push(struct g4_tokenizer *t, const struct tok_added *a, const char *content, size_t len,
                         g4_error *err) {
    if (len == 0) return G4_OK; /* HF ignores empty added tokens */
    if (len > TOK_MAX_PIECE) return g4_fail(err, G4_ERR_FORMAT, "tokenizer: added token %d is too long", (int)a->id);
    struct tok_added *n = realloc(t->added, (t->n_added + 1) * sizeof *n);
    if (!n) return g4_fail(err, G4_ERR_NOMEM, "tokenizer: out of memory");
    t->added = n;
    struct tok_added e = *a;
    if (e.normalized) {
        char *norm = NULL;
        size_t nlen = 0;
        g4_status st = tok_normalize(t, content, len, &norm, &nlen, err);
        if (st != G4_OK) return st;
        e.off = tok_arena_add(t, norm, nlen);
        e.len = (uint32_t)nlen;
        free(norm);
    } else {
        e.off = tok_arena_add(t, content, len);
        e.len = (uint32_t)len;
    }
    if (e.off == UINT32_MAX) return g4_fail(err, G4_ERR_NOMEM, "tokenizer: out of memory");
    t->added[t->n_added++] = e;
    return G4_OK;
}

static int32_t trie_new_node(struct tok_trie *tr, uint8_t byte) {
    if (tr->n == tr->cap) {
        size_t cap = tr->cap ? tr->cap * 2 : 256;
        struct tok_trie_node *n = realloc(tr->nodes, cap * sizeof *n);
        if (!n) return -1;
        tr->nodes = n;
        tr->cap = cap;
    }
    struct tok_trie_node *nd = &tr->nodes[tr->n];
    nd->child = nd->sibling = nd->added = -1;
    nd->byte = byte;
    return (int32_t)tr->n++;
}

static bool trie_insert(struct tok_trie *tr, const uint8_t *s, size_t len, int32_t added) {
    if (tr->n == 0) {
        for (int i = 0; i < 256; i++) tr->root_child[i] = -1;
        if (trie_new_node(tr, 0) < 0) return false;
    }
    int32_t node = -1;
    for (size_t k = 0; k < len; k++) {
        int32_t c;
        if (k == 0) {
            c = tr->root_child[s[0]];
            if (c < 0) {
                c = trie_new_node(tr, s[0]);
                if (c < 0) return false;
                tr->root_child[s[0]] = c;
            }
        } else {
            c = tr->nodes[node].child;
            while (c >= 0 && tr->nodes[c].byte != s[k]) c = tr->nodes[c].sibling;
            if (c < 0) {
                c = trie_new_node(tr, s[k]);
                if (c < 0) return false;
                tr->nodes[c].sibling = tr->nodes[node].child;
                tr->nodes[node].child = c;
            }
        }
        node = c;
    }
    if (node >= 0 && tr->nodes[node].added < 0) tr->nodes[node].added = added; /* first wins */
    return true;
}

g4_status tok_finish(struct g4_tokenizer *t, const char *name, g4_error *err) {
    /* HF builds its matchers from the special tokens first, then the others. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < t->n_added; i++) {
            const struct tok_added *a = &t->added[i];
            if (a->special != (pass == 0)) continue;
            struct tok_trie *tr = a->normalized ? &t->trie_norm : &t->trie_raw;
            if (a->len == 0) continue;
            if (!trie_insert(tr, (const uint8_t *)t->arena + a->off, a->len, (int32_t)i))
                return g4_fail(err, G4_ERR_NOMEM, "%s: out of memory", name);
        }
    }
    for (int b = 0; b < 256; b++) {
        char hex[8];
        static const char dig[] = "0123456789ABCDEF";
        hex[0] = '<', hex[1] = '0', hex[2] = 'x', hex[3] = dig[b >> 4], hex[4] = dig[b & 15], hex[5] = '>';
        t->byte_id[b] = model_find(t, hex, 6);
    }
    for (int c = 0; c < 128; c++) {
        char ch = (char)c;
        t->ascii_id[c] = model_find(t, &ch, 1);
    }
    free(t->bmp_id);
    t->bmp_id = malloc(65536 * sizeof *t->bmp_id);
    if (!t->bmp_id) return g4_fail(err, G4_ERR_NOMEM, "%s: out of memory", name);
    for (uint32_t cp = 0; cp < 65536; cp++) {
        char u[3];
        size_t n;
        if (cp < 0x80) {
            t->bmp_id[cp] = t->ascii_id[cp];
            continue;
        } else if (cp < 0x800) {
            u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
        } else {
            u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
        }
        t->bmp_id[cp] = cp >= 0xD800 && cp < 0xE000 ? -1 : model_find(t, u, n);
    }
    return G4_OK;
}

/* ---- normalizer ---------------------------------------------------------- */

static g4_status replace_all(const char *s, size_t len, const char *pat, size_t plen, const char *rep, size_t rlen,
                             char **out, size_t *out_len, g4_error *err) {
    size_t count = 0;
    if (plen) {
        for (size_t i = 0; i + plen <= len;) {
            if (!memcmp(s + i, pat, plen)) {
                count++;
                i += plen;
            } else {
                i++;
            }
        }
    }
    uint64_t n = len, extra;
    if (rlen > plen) {
        if (!g4_mul_ok(count, rlen - plen, &extra) || !g4_add_ok(n, extra, &n))
            return g4_fail(err, G4_ERR_NOMEM, "tokenizer: text too long");
    } else {
        n -= count * (plen - rlen);
    }
    char *o = malloc(n + 1);
    if (!o) return g4_fail(err, G4_ERR_NOMEM, "tokenizer: out of memory");
    size_t j = 0;
    for (size_t i = 0; i < len;) {
        if (plen && i + plen <= len && !memcmp(s + i, pat, plen)) {
            memcpy(o + j, rep, rlen);
            j += rlen;
            i += plen;
        } else {
            o[j++] = s[i++];
        }
    }
    o[j] = 0;
    *out = o;
    *out_len = j;
    return G4_OK;
}

g4_status tok_normalize(const struct g4_tokenizer *t, const char *s, size_t len, char **out, size_t *out_len,
                        g4_error *err) {
    char *cur = malloc(len + 1);
    if (!cur) return g4_fail(err, G4_ERR_NOMEM, "tokenizer: out of memory");
    memcpy(cur, s, len);
    cur[len] = 0;
    size_t cur_len = len;
    for (int k = 0; k < t->n_norm; k++) {
        const struct tok_step *st = &t->norm[k];
        char *next = NULL;
        size_t next_len = 0;
        if (st->kind == TOK_NORM_REPLACE) {
            g4_status r = replace_all(cur, cur_len, st->pat, st->pat_len, st->content, st->content_len, &next, &next_len, err);
            if (r != G4_OK) {
                free(cur);
                return r;
            }
        } else { /* TOK_NORM_PREPEND: only non-empty strings get the prefix */
            if (cur_len == 0) continue;
            next_len = cur_len + st->content_len;
            next = malloc(next_len + 1);
            if (!next) {
                free(cur);
                return g4_fail(err, G4_ERR_NOMEM, "tokenizer: out of memory");
            }
            memcpy(next, st->content, st->content_len);
            memcpy(next + st->content_len, cur, cur_len);
            next[next_len] = 0;
        }
        free(cur);
        cur = next;
        cur_len = next_len;
    }
    *out = cur;
    *out_len = cur_len;
    return G4_OK;
}

void tok_steps_free(struct tok_step *steps, int n) {
    for (int i = 0; i < n; i++) {
        free(steps[i].pat);
        free(steps[i].content);
        steps[i].pat = steps[i].content = NULL;
    }
}

/* ---- UTF-8 --------------------------------------------------------------- */

size_t tok_utf8_len(const unsigned char *s, size_t avail) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return avail >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
        if (c == 0xED && s[1] >= 0xA0) return 0; /* surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;
        if (c == 0xF4 && s[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

size_t tok_space_len(const unsigned char *s, size_t avail) {
    unsigned c = s[0];
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return 1;
    size_t n = tok_utf8_len(s, avail);
    if (n == 2) {
        unsigned cp = (c & 0x1F) << 6 | (s[1] & 0x3F);
        return cp == 0x85 || cp == 0xA0 ? 2 : 0;
    }
    if (n == 3) {
        unsigned cp = (c & 0x0F) << 12 | (s[1] & 0x3Fu) << 6 | (s[2] & 0x3F);
        if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
            cp == 0x205F || cp == 0x3000)
            return 3;
    }
    return 0;
}
