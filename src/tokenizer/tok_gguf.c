/* tok_gguf.c — builds a g4_tokenizer from GGUF metadata (tokenizer.ggml.*)
 * so that its ids equal HF `tokenizers` on the tokenizer.json of the same
 * vocabulary:
 *  - "gemma4": BPE with tokenizer.ggml.merges ("left right", rank = index);
 *  - "llama" (Gemma 3 GGUFs carry no merges): the merges are rebuilt from the
 *    pieces and scores exactly as transformers' SentencePiece converter made
 *    Gemma 3's tokenizer.json: every split of a piece into two pieces of the
 *    vocab, ordered by (score of the piece desc, left length desc, right
 *    length desc) then piece id, left id, right id. llama.cpp writes -1000 as
 *    the score of control/user-defined tokens where SentencePiece had 0, so
 *    those count as 0. Checked: this gives the 514,906 merges of Gemma 3's
 *    tokenizer.json in the same order.
 * llama.cpp writes user-defined pieces with spaces where tokenizer.json has
 * "▁" (e.g. id 138 "  " vs "▁▁"): those are mapped back. Added tokens are the
 * CONTROL, USER_DEFINED and UNKNOWN tokens; special ones (plain text in
 * untrusted mode) are CONTROL and UNKNOWN, as in llama.cpp. Newline runs are
 * split out only when they are such added tokens (Gemma 3): llama.cpp's
 * GEMMA4 pre-split at newlines ([^\n]+|[\n]+) is not HF's behaviour when
 * the newline tokens are normal pieces (BPE runs over the newlines, as
 * fastokens found on gemma-4-31B-it); it gives the same ids only while no
 * piece mixes "\n" with other characters (true of Gemma 3's vocabulary).
 * The pipeline is Gemma's: normalizer Replace(" " -> "▁") (+ Prepend "▁"
 * with add_space_prefix), BPE with byte fallback, decoder ▁ -> " ", bytes,
 * fuse. */
#include "core/log.h"
#include "tokenizer/tok_internal.h"
#include "io/gguf.h"

#include <stdlib.h>
#include <string.h>

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5, TT_BYTE = 6 };

static const char SPM_SPACE[] = "\xe2\x96\x81"; /* U+2581 */

struct cand {
    float score;
    uint32_t llen, rlen; /* in code points */
    int32_t piece, l, r;
};

static int cand_cmp(const void *pa, const void *pb) {
    const struct cand *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->llen != b->llen) return a->llen > b->llen ? -1 : 1;
    if (a->rlen != b->rlen) return a->rlen > b->rlen ? -1 : 1;
    if (a->piece != b->piece) return a->piece < b->piece ? -1 : 1;
    if (a->l != b->l) return a->l < b->l ? -1 : 1;
    return a->r < b->r ? -1 : a->r > b->r;
}

static size_t n_chars(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static g4_status merges_from_scores(struct g4_tokenizer *t, const float *score, const char *name, g4_error *err) {
    size_t n = 0, cap = 1 << 16;
    struct cand *c = malloc(cap * sizeof *c);
    if (!c) return g4_fail(err, G4_ERR_NOMEM, "%s: out of memory", name);
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (!(t->flags[id] & TOK_F_PRESENT)) continue;
        const char *p = t->arena + t->piece_off[id];
        size_t len = t->piece_len[id];
        if (tok_map_find(t, p, len) != id) continue; /* a duplicate piece: its last id stands for it */
        uint32_t lchars = 0, total = (uint32_t)n_chars(p, len);
        for (size_t k = 1; k < len; k++) {
            if (((unsigned char)p[k - 1] & 0xC0) != 0x80) lchars++;
            if (((unsigned char)p[k] & 0xC0) == 0x80) continue; /* split at code points only */
            int32_t l = tok_map_find(t, p, k);
            if (l < 0) continue;
            int32_t r = tok_map_find(t, p + k, len - k);
            if (r < 0) continue;
            if (n == cap) {
                if (cap >= TOK_MAX_MERGES) {
                    free(c);
                    return g4_fail(err, G4_ERR_FORMAT, "%s: too many implied merges", name);
                }
                struct cand *nc = realloc(c, cap * 2 * sizeof *nc);
                if (!nc) {
                    free(c);
                    return g4_fail(err, G4_ERR_NOMEM, "%s: out of memory", name);
                }
                c = nc;
                cap *= 2;
            }
            c[n++] = (struct cand){score[id], lchars, total - lchars, id, l, r};
        }
    }
    qsort(c, n, sizeof *c, cand_cmp);
    g4_status st = tok_merges_init(t, n, err);
    for (size_t i = 0; st == G4_OK && i < n; i++) tok_merges_put(t, c[i].l, c[i].r, (uint32_t)i, c[i].piece);
    free(c);
    return st;
}

static g4_status merges_from_list(struct g4_tokenizer *t, const struct gguf_kv *kv, const char *name, g4_error *err) {
    if (kv->type != GGUF_T_ARRAY || kv->arr_type != GGUF_T_STRING)
        return g4_fail(err, G4_ERR_FORMAT, "%s: tokenizer.ggml.merges is not an array of strings", name);
    g4_status st = tok_merges_init(t, kv->n, err);
    uint64_t n_skipped = 0;
    for (uint64_t i = 0; st == G4_OK && i < kv->n; i++) {
        struct gguf_str m;
        if (!gguf_arr_str(kv, i, &m)) return g4_fail(err, G4_ERR_FORMAT, "%s: bad merge %llu", name, (unsigned long long)i);
        const char *sp = m.len ? memchr(m.s, ' ', m.len) : NULL;
        if (!sp || sp == m.s || (uint64_t)(sp - m.s) + 1 >= m.len)
            return g4_fail(err, G4_ERR_FORMAT, "%s: merge %llu is not \"left right\"", name, (unsigned long long)i);
        size_t alen = (size_t)(sp - m.s);
        g4_error e;
        st = tok_merge_add_pieces(t, m.s, alen, sp + 1, m.len - alen - 1, (uint32_t)i, name, &e);
        if (st == G4_ERR_FORMAT && strstr(e.message, "missing from the vocabulary")) {
            /* llama.cpp keeps loading when a merge names or produces a piece
             * outside the vocabulary (such a merge can never yield a token id);
             * HF's tokenizer.json loader refuses it. GGUF files follow llama.cpp. */
            n_skipped++;
            st = G4_OK;
        } else if (st != G4_OK && err) {
            *err = e;
        }
    }
    if (n_skipped) G4_LOGW("%s: skipped %llu merges outside the vocabulary", name, (unsigned long long)n_skipped);
    return st;
}

static g4_status add_step(struct tok_step *steps, int *n, enum tok_step_kind kind, const char *pat, const char *content,
                          g4_error *err) {
    struct tok_step *s = &steps[(*n)++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    if (pat) {
        s->pat_len = strlen(pat);
        if (!(s->pat = strdup(pat))) return g4_fail(err, G4_ERR_NOMEM, "tokenizer: out of memory");
    }
    if (content) {
        s->content_len = strlen(content);
        if (!(s->content = strdup(content))) return g4_fail(err, G4_ERR_NOMEM, "tokenizer: out of memory");
    }
    return G4_OK;
}

static int32_t get_id(const struct gguf_file *g, const char *key, int32_t n_vocab) {
    uint32_t v;
    return gguf_get_u32(g, key, &v) && v < (uint32_t)n_vocab ? (int32_t)v : -1;
}

g4_status g4_tokenizer_from_gguf(struct g4_tokenizer **out, const struct gguf_file *g, g4_error *err) {
    *out = NULL;
    const char *name = g->name ? g->name : "gguf";
    struct gguf_str model;
    /* UNSUPPORTED (not NOT_FOUND): g4_model_load tolerates a model without a
     * usable tokenizer only for that code (api/model.c). */
    if (!gguf_get_str(g, "tokenizer.ggml.model", &model))
        return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: no tokenizer in this GGUF (no tokenizer.ggml.model)", name);
    bool is_llama = gguf_str_eq(model, "llama"), is_gemma4 = gguf_str_eq(model, "gemma4");
    if (!is_llama && !is_gemma4)
        return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: tokenizer model \"%.*s\" is not supported", name,
                       (int)G4_MIN(model.len, 64), model.s);
    const struct gguf_kv *tokens = gguf_find(g, "tokenizer.ggml.tokens");
    if (!tokens || tokens->type != GGUF_T_ARRAY || tokens->arr_type != GGUF_T_STRING)
        return g4_fail(err, G4_ERR_FORMAT, "%s: tokenizer.ggml.tokens is missing or not an array of strings", name);
    if (tokens->n == 0 || tokens->n > TOK_MAX_VOCAB)
        return g4_fail(err, G4_ERR_FORMAT, "%s: %llu tokens is out of range", name, (unsigned long long)tokens->n);
    int32_t n = (int32_t)tokens->n;
    const struct gguf_kv *types = gguf_find(g, "tokenizer.ggml.token_type");
    const struct gguf_kv *scores = gguf_find(g, "tokenizer.ggml.scores");
    if (types && (types->type != GGUF_T_ARRAY || types->n != tokens->n))
        return g4_fail(err, G4_ERR_FORMAT, "%s: tokenizer.ggml.token_type does not match the tokens", name);
    if (scores && (scores->type != GGUF_T_ARRAY || scores->n != tokens->n))
        return g4_fail(err, G4_ERR_FORMAT, "%s: tokenizer.ggml.scores does not match the tokens", name);
    const struct gguf_kv *merges = gguf_find(g, "tokenizer.ggml.merges");
    if (is_gemma4 && !merges) return g4_fail(err, G4_ERR_FORMAT, "%s: gemma4 tokenizer without merges", name);
    if (is_llama && !scores) return g4_fail(err, G4_ERR_FORMAT, "%s: llama tokenizer without scores", name);

    struct g4_tokenizer *t = tok_alloc(n, err);
    if (!t) return err ? err->code : G4_ERR_NOMEM;
    g4_status st = G4_OK;
    float *score = NULL;
    int64_t *type = malloc((size_t)n * sizeof *type);
    if (is_llama) score = malloc((size_t)n * sizeof *score);
    if (!type || (is_llama && !score)) {
        st = g4_fail(err, G4_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    char buf[TOK_MAX_PIECE * 3];
    for (int32_t i = 0; i < n && st == G4_OK; i++) {
        struct gguf_str s;
        type[i] = TT_NORMAL;
        if (!gguf_arr_str(tokens, (uint64_t)i, &s) || (types && !gguf_arr_i64(types, (uint64_t)i, &type[i]))) {
            st = g4_fail(err, G4_ERR_FORMAT, "%s: bad token %d", name, (int)i);
            break;
        }
        if (s.len > TOK_MAX_PIECE) {
            st = g4_fail(err, G4_ERR_FORMAT, "%s: token %d is too long", name, (int)i);
            break;
        }
        const char *p = s.s;
        size_t len = (size_t)s.len;
        if (type[i] == TT_USER && memchr(p, ' ', len)) { /* llama.cpp's "  " is tokenizer.json's "▁▁" */
            size_t k = 0;
            for (size_t j = 0; j < len; j++) {
                if (p[j] == ' ') {
                    memcpy(buf + k, SPM_SPACE, 3);
                    k += 3;
                } else {
                    buf[k++] = p[j];
                }
            }
            p = buf;
            len = k;
        }
        uint8_t fl = TOK_F_MODEL;
        if (type[i] == TT_CONTROL || type[i] == TT_UNKNOWN) fl |= TOK_F_ADDED | TOK_F_SPECIAL;
        if (type[i] == TT_USER) fl |= TOK_F_ADDED;
        st = tok_set_piece(t, i, p, len, fl, false, name, err);
        if (st == G4_OK && is_llama) {
            if (!gguf_arr_f32(scores, (uint64_t)i, &score[i]) || score[i] != score[i]) { /* NaN would break the sort */
                st = g4_fail(err, G4_ERR_FORMAT, "%s: bad score %d", name, (int)i);
                break;
            }
            /* SentencePiece gives control/user-defined/unknown pieces score 0. */
            if (type[i] == TT_CONTROL || type[i] == TT_USER || type[i] == TT_UNKNOWN) score[i] = 0.0f;
        }
    }
    if (st == G4_OK) st = tok_build_map(t, name, err);
    if (st == G4_OK) st = is_llama ? merges_from_scores(t, score, name, err) : merges_from_list(t, merges, name, err);
    /* Added tokens in id order, none normalized. */
    for (int32_t i = 0; i < n && st == G4_OK; i++) {
        if (!(t->flags[i] & TOK_F_ADDED) || tok_map_find(t, t->arena + t->piece_off[i], t->piece_len[i]) != i) continue;
        struct tok_added a = {0};
        a.id = i;
        a.special = (t->flags[i] & TOK_F_SPECIAL) != 0;
        st = tok_added_push(t, &a, t->arena + t->piece_off[i], t->piece_len[i], err);
    }
    if (st != G4_OK) goto done;
    bool prefix = false;
    gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &prefix);
    if ((st = add_step(t->norm, &t->n_norm, TOK_NORM_REPLACE, " ", SPM_SPACE, err)) != G4_OK) goto done;
    if (prefix && (st = add_step(t->norm, &t->n_norm, TOK_NORM_PREPEND, NULL, SPM_SPACE, err)) != G4_OK) goto done;
    t->has_decoder = true;
    if ((st = add_step(t->dec, &t->n_dec, TOK_DEC_REPLACE, SPM_SPACE, " ", err)) != G4_OK) goto done;
    if ((st = add_step(t->dec, &t->n_dec, TOK_DEC_BYTE_FALLBACK, NULL, NULL, err)) != G4_OK) goto done;
    if ((st = add_step(t->dec, &t->n_dec, TOK_DEC_FUSE, NULL, NULL, err)) != G4_OK) goto done;
    if (prefix) {
        if ((st = add_step(t->dec, &t->n_dec, TOK_DEC_STRIP, " ", NULL, err)) != G4_OK) goto done;
        t->dec[t->n_dec - 1].start = 1;
    }
    t->byte_fallback = true; /* SentencePiece: <0xHH> pieces, where present, stand for bytes */
    t->fuse_unk = true;
    t->unk_id = get_id(g, "tokenizer.ggml.unknown_token_id", n);
    if (t->unk_id < 0) t->unk_id = tok_map_find(t, "<unk>", 5);
    t->bos = get_id(g, "tokenizer.ggml.bos_token_id", n);
    t->eos = get_id(g, "tokenizer.ggml.eos_token_id", n);
    st = tok_finish(t, name, err);
done:
    free(type);
    free(score);
    if (st != G4_OK) {
        g4_tokenizer_free(t);
        return st;
    }
    *out = t;
    return G4_OK;
}
