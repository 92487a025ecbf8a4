/* tokenizer.c — encode and decode with HF `tokenizers` semantics.
 * Encode: (1) find the added tokens in the raw text (leftmost-longest, with
 * lstrip/rstrip/single_word), (2) normalize each stretch between them,
 * (3) find normalized added tokens, (4) pre-tokenize, (5) BPE each piece.
 * Untrusted mode (no G4_TOK_PARSE_SPECIAL) is HF's encode_special_tokens=True:
 * a special added token found in step 1/3 is not taken; its text stays plain
 * text (the matcher still moves past it, as HF's does) and goes through the
 * model, which has no merge producing a special token in Gemma's vocabularies
 * (tests check that <start_of_turn>/<|turn> never give 105/106). Non-special
 * added tokens ("\n", "<unused0>", "<table>"...) are matched in both modes.
 * Decode: id -> piece, optional skip of special tokens, then the decoder
 * chain (Replace, ByteFallback, Fuse, Strip) as HF's decode. */
#include "tokenizer/tok_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- encode ------------------------------------------------------------- */

struct enc {
    const struct g4_tokenizer *t;
    int32_t *out;
    size_t cap, n;
    bool untrusted;
    struct tok_bpe_scratch *bpe;
    g4_error *err;
};

static g4_status emit_id(void *user, int32_t id) {
    struct enc *e = user;
    if (e->n < e->cap) e->out[e->n] = id;
    e->n++;
    return G4_OK;
}

typedef g4_status (*text_fn)(struct enc *e, const char *s, size_t len);

/* Longest added token starting at s[0], or -1. */
static int32_t trie_match(const struct tok_trie *tr, const unsigned char *s, size_t len, size_t *mlen) {
    if (tr->n == 0) return -1;
    int32_t node = tr->root_child[s[0]], best = -1;
    size_t k = 0;
    while (node >= 0) {
        k++;
        if (tr->nodes[node].added >= 0) {
            best = tr->nodes[node].added;
            *mlen = k;
        }
        if (k >= len) break;
        int32_t c = tr->nodes[node].child;
        while (c >= 0 && tr->nodes[c].byte != s[k]) c = tr->nodes[c].sibling;
        node = c;
    }
    return best;
}

/* Rust regex \w at a char boundary, approximated: ASCII alnum and '_', and
 * every non-ASCII character that is not white space (only single_word tokens
 * use this; Gemma has none). */
static bool word_char_at(const unsigned char *s, size_t avail) {
    if (s[0] < 0x80) return (s[0] >= '0' && s[0] <= '9') || ((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z') || s[0] == '_';
    return tok_space_len(s, avail) == 0;
}

static bool ends_with_word(const unsigned char *s, size_t len) {
    if (!len) return false;
    size_t i = len - 1;
    while (i > 0 && (s[i] & 0xC0) == 0x80) i--;
    return word_char_at(s + i, len - i);
}

/* HF AddedVocabulary::find_matches + split: calls on_text for the stretches
 * between added tokens and emits the tokens' ids. */
static g4_status split_added(struct enc *e, const struct tok_trie *tr, const char *text, size_t len, text_fn on_text) {
    const struct g4_tokenizer *t = e->t;
    const unsigned char *u = (const unsigned char *)text;
    size_t start_offset = 0, pos = 0;
    g4_status st;
    while (pos < len && tr->n) {
        size_t mlen = 0;
        int32_t ai = tr->root_child[u[pos]] >= 0 ? trie_match(tr, u + pos, len - pos, &mlen) : -1;
        if (ai < 0) {
            pos++;
            continue;
        }
        const struct tok_added *a = &t->added[ai];
        size_t start = pos, stop = pos + mlen;
        pos = stop;
        if (e->untrusted && a->special) continue;
        if (a->single_word) {
            bool start_space = start == 0 || !ends_with_word(u, start);
            bool stop_space = stop == len || !word_char_at(u + stop, len - stop);
            if (!start_space || !stop_space) continue;
        }
        if (a->lstrip) {
            size_t ns = start;
            while (ns > 0) { /* step back over white space characters */
                size_t b = ns - 1;
                while (b > 0 && (u[b] & 0xC0) == 0x80 && ns - b < 4) b--;
                size_t sl = tok_space_len(u + b, len - b);
                if (!sl || b + sl != ns) break;
                ns = b;
            }
            start = G4_MAX(ns, start_offset);
        }
        if (a->rstrip) {
            size_t sl;
            while (stop < len && (sl = tok_space_len(u + stop, len - stop))) stop += sl;
            pos = stop; /* deviation: HF could match again inside the stripped spaces */
        }
        if (start_offset < start && (st = on_text(e, text + start_offset, start - start_offset)) != G4_OK) return st;
        if ((st = emit_id(e, a->id)) != G4_OK) return st;
        start_offset = stop;
    }
    if (start_offset < len) return on_text(e, text + start_offset, len - start_offset);
    return G4_OK;
}

struct range {
    size_t a, b;
    bool match;
};
struct ranges {
    struct range *r;
    size_t n, cap;
};

static bool ranges_push(struct ranges *v, size_t a, size_t b, bool match) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        struct range *n = realloc(v->r, cap * sizeof *n);
        if (!n) return false;
        v->r = n;
        v->cap = cap;
    }
    v->r[v->n++] = (struct range){a, b, match};
    return true;
}

/* HF NormalizedString::split with a String pattern, on s[a, b); appends the
 * resulting non-empty pieces to `out`. */
static bool split_string(const char *s, size_t a, size_t b, const struct tok_step *st, struct ranges *out,
                         struct ranges *tmp) {
    tmp->n = 0;
    size_t prev = a;
    if (st->pat_len) {
        for (size_t i = a; i + st->pat_len <= b;) {
            if (!memcmp(s + i, st->pat, st->pat_len)) {
                if (prev != i && !ranges_push(tmp, prev, i, st->invert)) return false;
                if (!ranges_push(tmp, i, i + st->pat_len, !st->invert)) return false;
                i += st->pat_len;
                prev = i;
            } else {
                i++;
            }
        }
    }
    if (prev != b && !ranges_push(tmp, prev, b, st->invert)) return false;
    struct range *m = tmp->r;
    size_t n = tmp->n, base = out->n;
    switch (st->behavior) {
    case TOK_SPLIT_REMOVED:
        for (size_t i = 0; i < n; i++)
            if (!m[i].match && !ranges_push(out, m[i].a, m[i].b, false)) return false;
        break;
    case TOK_SPLIT_ISOLATED:
        for (size_t i = 0; i < n; i++)
            if (!ranges_push(out, m[i].a, m[i].b, false)) return false;
        break;
    case TOK_SPLIT_CONTIGUOUS:
        for (size_t i = 0; i < n; i++) {
            if (m[i].match && out->n > base && out->r[out->n - 1].match) out->r[out->n - 1].b = m[i].b;
            else if (!ranges_push(out, m[i].a, m[i].b, m[i].match)) return false;
        }
        break;
    case TOK_SPLIT_MERGED_PREV: {
        bool prev_match = false;
        for (size_t i = 0; i < n; i++) {
            if (m[i].match && !prev_match && out->n > base) out->r[out->n - 1].b = m[i].b;
            else if (!ranges_push(out, m[i].a, m[i].b, false)) return false;
            prev_match = m[i].match;
        }
        break;
    }
    case TOK_SPLIT_MERGED_NEXT: {
        /* built right to left, then reversed */
        bool prev_match = false;
        for (size_t k = n; k-- > 0;) {
            if (m[k].match && !prev_match && out->n > base) out->r[out->n - 1].a = m[k].a;
            else if (!ranges_push(out, m[k].a, m[k].b, false)) return false;
            prev_match = m[k].match;
        }
        for (size_t i = base, j = out->n; i + 1 < j; i++, j--) {
            struct range x = out->r[i];
            out->r[i] = out->r[j - 1];
            out->r[j - 1] = x;
        }
        break;
    }
    }
    for (size_t i = base; i < out->n; i++) out->r[i].match = false;
    return true;
}

/* Pre-tokenizes a normalized stretch and runs BPE on each piece. */
static g4_status model_text(struct enc *e, const char *s, size_t len) {
    const struct g4_tokenizer *t = e->t;
    if (t->n_pre == 0) return tok_bpe_word(t, e->bpe, s, len, emit_id, e, e->err);
    struct ranges cur = {0}, next = {0}, tmp = {0};
    g4_status st = G4_OK;
    if (!ranges_push(&cur, 0, len, false)) goto oom;
    for (int k = 0; k < t->n_pre; k++) {
        next.n = 0;
        for (size_t i = 0; i < cur.n; i++)
            if (!split_string(s, cur.r[i].a, cur.r[i].b, &t->pre[k], &next, &tmp)) goto oom;
        struct ranges x = cur;
        cur = next;
        next = x;
    }
    for (size_t i = 0; i < cur.n && st == G4_OK; i++)
        if (cur.r[i].b > cur.r[i].a) st = tok_bpe_word(t, e->bpe, s + cur.r[i].a, cur.r[i].b - cur.r[i].a, emit_id, e, e->err);
    free(cur.r);
    free(next.r);
    free(tmp.r);
    return st;
oom:
    free(cur.r);
    free(next.r);
    free(tmp.r);
    return g4_fail(e->err, G4_ERR_NOMEM, "tokenizer: out of memory");
}

/* A stretch of raw text between added tokens: normalize, then normalized
 * added tokens, then the model. */
static g4_status plain_text(struct enc *e, const char *s, size_t len) {
    char *norm = NULL;
    size_t nlen = 0;
    g4_status st = tok_normalize(e->t, s, len, &norm, &nlen, e->err);
    if (st != G4_OK) return st;
    st = split_added(e, &e->t->trie_norm, norm, nlen, model_text);
    free(norm);
    return st;
}

g4_status g4_tokenizer_encode(const struct g4_tokenizer *t, const char *text, size_t len, int flags, int32_t *out,
                              size_t cap, size_t *n_out, g4_error *err) {
    if (n_out) *n_out = 0;
    if (!t || (!text && len) || (!out && cap) || !n_out)
        return g4_fail(err, G4_ERR_INVALID_ARG, "g4_tokenize: bad arguments");
    struct enc e = {t, out, cap, 0, !(flags & G4_TOK_PARSE_SPECIAL), NULL, err};
    if (flags & G4_TOK_ADD_BOS) {
        if (t->bos < 0) return g4_fail(err, G4_ERR_UNSUPPORTED, "g4_tokenize: the vocabulary has no <bos>");
        emit_id(&e, t->bos);
    }
    g4_status st = G4_OK;
    if (len) {
        e.bpe = tok_bpe_scratch_new();
        if (!e.bpe) return g4_fail(err, G4_ERR_NOMEM, "tokenizer: out of memory");
        st = split_added(&e, &t->trie_raw, text, len, plain_text);
        tok_bpe_scratch_free(e.bpe);
    }
    if (st != G4_OK) return st;
    *n_out = e.n;
    if (e.n > cap)
        return g4_fail(err, G4_ERR_RANGE, "g4_tokenize: %zu tokens do not fit in %zu", e.n, cap);
    return G4_OK;
}

/* ---- decode ------------------------------------------------------------- */

/* A list of strings in one growing buffer. */
struct slist {
    char *buf;
    size_t len, cap;
    size_t *off, *slen;
    size_t n, ncap;
};

static bool sl_reserve(struct slist *l, size_t extra) {
    if (l->len + extra + 1 <= l->cap) return true;
    size_t cap = l->cap ? l->cap : 256;
    while (cap < l->len + extra + 1) cap *= 2;
    char *b = realloc(l->buf, cap);
    if (!b) return false;
    l->buf = b;
    l->cap = cap;
    return true;
}

static bool sl_append(struct slist *l, const char *s, size_t len) { /* to the last string */
    if (!sl_reserve(l, len)) return false;
    if (len) memcpy(l->buf + l->len, s, len);
    l->len += len;
    l->slen[l->n - 1] += len;
    return true;
}

static bool sl_new(struct slist *l) {
    if (l->n == l->ncap) {
        size_t cap = l->ncap ? l->ncap * 2 : 16;
        size_t *o = realloc(l->off, cap * sizeof *o);
        if (!o) return false;
        l->off = o;
        size_t *s = realloc(l->slen, cap * sizeof *s);
        if (!s) return false;
        l->slen = s;
        l->ncap = cap;
    }
    l->off[l->n] = l->len;
    l->slen[l->n] = 0;
    l->n++;
    return true;
}

static void sl_free(struct slist *l) {
    free(l->buf);
    free(l->off);
    free(l->slen);
    memset(l, 0, sizeof *l);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 32) >= 'a' && (c | 32) <= 'f') return (c | 32) - 'a' + 10;
    return -1;
}

int g4_tokenizer_byte_piece(const char *s, size_t len) {
    if (len != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return -1;
    if (s[3] == '+') return hexval(s[4]);
    int h = hexval(s[3]), l = hexval(s[4]);
    return h < 0 || l < 0 ? -1 : h * 16 + l;
}

static bool valid_utf8(const unsigned char *s, size_t len) {
    for (size_t i = 0; i < len;) {
        size_t n = tok_utf8_len(s + i, len - i);
        if (!n) return false;
        i += n;
    }
    return true;
}

static bool dec_step(const struct tok_step *st, const struct slist *in, struct slist *out) {
    static const char FFFD[] = "\xef\xbf\xbd";
    if (st->kind == TOK_DEC_FUSE) {
        if (!sl_new(out)) return false;
        for (size_t i = 0; i < in->n; i++)
            if (!sl_append(out, in->buf + in->off[i], in->slen[i])) return false;
        return true;
    }
    if (st->kind == TOK_DEC_BYTE_FALLBACK) {
        size_t run_start = 0, run = 0; /* pending byte tokens: their bytes sit in `out` as one string */
        for (size_t i = 0; i <= in->n; i++) {
            int b = i < in->n ? g4_tokenizer_byte_piece(in->buf + in->off[i], in->slen[i]) : -1;
            if (b >= 0) {
                if (run == 0) {
                    if (!sl_new(out)) return false;
                    run_start = out->n - 1;
                }
                char c = (char)b;
                if (!sl_append(out, &c, 1)) return false;
                run++;
                continue;
            }
            if (run) {
                size_t o = out->off[run_start];
                if (!valid_utf8((unsigned char *)out->buf + o, out->slen[run_start])) {
                    /* each byte becomes U+FFFD (HF) */
                    out->len = o;
                    out->slen[run_start] = 0;
                    for (size_t k = 0; k < run; k++)
                        if (!sl_append(out, FFFD, 3)) return false;
                }
                run = 0;
            }
            if (i < in->n && (!sl_new(out) || !sl_append(out, in->buf + in->off[i], in->slen[i]))) return false;
        }
        return true;
    }
    for (size_t i = 0; i < in->n; i++) {
        const char *s = in->buf + in->off[i];
        size_t len = in->slen[i];
        if (!sl_new(out)) return false;
        if (st->kind == TOK_DEC_REPLACE) {
            for (size_t j = 0; j < len;) {
                if (st->pat_len && j + st->pat_len <= len && !memcmp(s + j, st->pat, st->pat_len)) {
                    if (!sl_append(out, st->content, st->content_len)) return false;
                    j += st->pat_len;
                } else {
                    if (!sl_append(out, s + j, 1)) return false;
                    j++;
                }
            }
        } else { /* TOK_DEC_STRIP: up to `start` leading / `stop` trailing copies of one character */
            size_t a = 0, b = len, c = st->pat_len;
            for (int k = 0; k < st->start && a + c <= b && !memcmp(s + a, st->pat, c); k++) a += c;
            for (int k = 0; k < st->stop && b >= a + c && !memcmp(s + b - c, st->pat, c); k++) b -= c;
            if (!sl_append(out, s + a, b - a)) return false;
        }
    }
    return true;
}

g4_status g4_tokenizer_decode(const struct g4_tokenizer *t, const int32_t *ids, size_t n, int skip_special, char **out,
                              size_t *out_len, g4_error *err) {
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!t || (!ids && n) || !out) return g4_fail(err, G4_ERR_INVALID_ARG, "g4_detokenize: bad arguments");
    struct slist a = {0}, b = {0};
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->n_vocab || !(t->flags[id] & TOK_F_PRESENT)) {
            sl_free(&a);
            return g4_fail(err, G4_ERR_INVALID_ARG, "g4_detokenize: unknown token id %d at %zu", (int)id, i);
        }
        if (skip_special && (t->flags[id] & TOK_F_SPECIAL)) continue;
        if (!sl_new(&a) || !sl_append(&a, t->arena + t->piece_off[id], t->piece_len[id])) goto oom;
    }
    if (!t->has_decoder) { /* HF joins the tokens with spaces */
        if (!sl_new(&b)) goto oom;
        for (size_t i = 0; i < a.n; i++)
            if ((i && !sl_append(&b, " ", 1)) || !sl_append(&b, a.buf + a.off[i], a.slen[i])) goto oom;
        sl_free(&a);
        a = b;
        memset(&b, 0, sizeof b);
    }
    for (int k = 0; k < t->n_dec; k++) {
        if (!dec_step(&t->dec[k], &a, &b)) goto oom;
        sl_free(&a);
        a = b;
        memset(&b, 0, sizeof b);
    }
    /* The strings are contiguous in order in the buffer only after Fuse;
     * concatenate explicitly. */
    size_t total = 0;
    for (size_t i = 0; i < a.n; i++) total += a.slen[i];
    char *r = malloc(total + 1);
    if (!r) goto oom;
    size_t k = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (a.slen[i]) memcpy(r + k, a.buf + a.off[i], a.slen[i]);
        k += a.slen[i];
    }
    r[k] = 0;
    sl_free(&a);
    *out = r;
    if (out_len) *out_len = k;
    return G4_OK;
oom:
    sl_free(&a);
    sl_free(&b);
    return g4_fail(err, G4_ERR_NOMEM, "g4_detokenize: out of memory");
}

/* ---- accessors ------------------------------------------------------------ */

void g4_tokenizer_free(struct g4_tokenizer *t) {
    if (!t) return;
    free(t->arena);
    free(t->piece_off);
    free(t->piece_len);
    free(t->flags);
    free(t->bmp_id);
    free(t->map.slots);
    free(t->merges.slots);
    free(t->added);
    free(t->trie_raw.nodes);
    free(t->trie_norm.nodes);
    tok_steps_free(t->norm, t->n_norm);
    tok_steps_free(t->pre, t->n_pre);
    tok_steps_free(t->dec, t->n_dec);
    free(t);
}

int32_t g4_tokenizer_n_vocab(const struct g4_tokenizer *t) { return t ? t->n_vocab : 0; }

int32_t g4_tokenizer_find(const struct g4_tokenizer *t, const char *piece, size_t len) {
    return t && piece ? tok_map_find(t, piece, len) : -1;
}

const char *g4_tokenizer_piece(const struct g4_tokenizer *t, int32_t id, size_t *len) {
    if (!t || id < 0 || id >= t->n_vocab || !(t->flags[id] & TOK_F_PRESENT)) return NULL;
    if (len) *len = t->piece_len[id];
    return t->arena + t->piece_off[id];
}

bool g4_tokenizer_is_special(const struct g4_tokenizer *t, int32_t id) {
    return t && id >= 0 && id < t->n_vocab && (t->flags[id] & TOK_F_SPECIAL);
}

int32_t g4_tokenizer_bos(const struct g4_tokenizer *t) { return t ? t->bos : -1; }
int32_t g4_tokenizer_eos(const struct g4_tokenizer *t) { return t ? t->eos : -1; }
