/* tok_json.c — builds a g4_tokenizer from HF tokenizer.json (+ the optional
 * tokenizer_config.json for bos/eos). Supported, as HF `tokenizers` runs them:
 * model BPE (vocab, merges as "a b" strings or [a, b] pairs, unk_token,
 * byte_fallback, fuse_unk, ignore_merges); added_tokens (special, lstrip,
 * rstrip, single_word, normalized); normalizers Replace(String), Prepend,
 * Sequence; pre-tokenizers Split(String, all behaviours, invert), Sequence;
 * decoders Replace(String), ByteFallback, Fuse, Strip, Sequence. Anything else
 * is G4_ERR_UNSUPPORTED; anything malformed is G4_ERR_FORMAT. Nothing in the
 * file is trusted: every id, length and type is checked before use. */
#include "tokenizer/tok_internal.h"
#include "core/log.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct jctx {
    const char *name;
    g4_error *err;
};

static g4_status jfail(struct jctx *c, g4_status code, const char *what) {
    return g4_fail(c->err, code, "%s: %s", c->name, what);
}

/* A JSON string as (ptr, len), or NULL when `v` is not a string. */
static const char *jstr(const json_t *v, size_t *len) {
    if (!json_is_string(v)) return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

static bool jbool(const json_t *obj, const char *key, bool dflt, bool *ok) {
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return dflt;
    if (!json_is_boolean(v)) {
        *ok = false;
        return dflt;
    }
    return json_is_true(v);
}

static char *dup_bytes(const char *s, size_t len) {
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = 0;
    }
    return d;
}

/* pattern: {"String": "..."}; {"Regex": ...} is unsupported. */
static g4_status parse_pattern(struct jctx *c, const json_t *p, char **out, size_t *len) {
    if (!json_is_object(p)) return jfail(c, G4_ERR_FORMAT, "pattern is not an object");
    if (json_object_get(p, "Regex")) return jfail(c, G4_ERR_UNSUPPORTED, "regex patterns are not supported");
    const char *s = jstr(json_object_get(p, "String"), len);
    if (!s) return jfail(c, G4_ERR_FORMAT, "pattern has no \"String\"");
    *out = dup_bytes(s, *len);
    return *out ? G4_OK : jfail(c, G4_ERR_NOMEM, "out of memory");
}

static const char *jtype(const json_t *o) {
    size_t n;
    const char *s = jstr(json_object_get(o, "type"), &n);
    return s && strlen(s) == n ? s : "";
}

static g4_status push_step(struct jctx *c, struct tok_step *steps, int *n, struct tok_step st) {
    if (*n >= TOK_MAX_STEPS) {
        free(st.pat);
        free(st.content);
        return jfail(c, G4_ERR_UNSUPPORTED, "too many normalizer/pre-tokenizer/decoder steps");
    }
    steps[(*n)++] = st;
    return G4_OK;
}

static g4_status parse_normalizer(struct jctx *c, struct g4_tokenizer *t, const json_t *v, int depth) {
    if (!v || json_is_null(v)) return G4_OK;
    if (!json_is_object(v) || depth > 4) return jfail(c, G4_ERR_FORMAT, "bad normalizer");
    const char *type = jtype(v);
    if (!strcmp(type, "Sequence")) {
        const json_t *arr = json_object_get(v, "normalizers");
        if (!json_is_array(arr)) return jfail(c, G4_ERR_FORMAT, "normalizer Sequence without \"normalizers\"");
        for (size_t i = 0; i < json_array_size(arr); i++) {
            g4_status st = parse_normalizer(c, t, json_array_get(arr, i), depth + 1);
            if (st != G4_OK) return st;
        }
        return G4_OK;
    }
    struct tok_step st = {0};
    size_t n;
    if (!strcmp(type, "Replace")) {
        st.kind = TOK_NORM_REPLACE;
        g4_status r = parse_pattern(c, json_object_get(v, "pattern"), &st.pat, &st.pat_len);
        if (r != G4_OK) return r;
        const char *s = jstr(json_object_get(v, "content"), &n);
        if (!s) {
            free(st.pat);
            return jfail(c, G4_ERR_FORMAT, "Replace normalizer without \"content\"");
        }
        st.content = dup_bytes(s, n);
        st.content_len = n;
    } else if (!strcmp(type, "Prepend")) {
        st.kind = TOK_NORM_PREPEND;
        const char *s = jstr(json_object_get(v, "prepend"), &n);
        if (!s) return jfail(c, G4_ERR_FORMAT, "Prepend normalizer without \"prepend\"");
        st.content = dup_bytes(s, n);
        st.content_len = n;
    } else {
        return g4_fail(c->err, G4_ERR_UNSUPPORTED, "%s: normalizer \"%s\" is not supported", c->name, type);
    }
    if (!st.content) {
        free(st.pat);
        return jfail(c, G4_ERR_NOMEM, "out of memory");
    }
    return push_step(c, t->norm, &t->n_norm, st);
}

static g4_status parse_pre(struct jctx *c, struct g4_tokenizer *t, const json_t *v, int depth) {
    if (!v || json_is_null(v)) return G4_OK;
    if (!json_is_object(v) || depth > 4) return jfail(c, G4_ERR_FORMAT, "bad pre_tokenizer");
    const char *type = jtype(v);
    if (!strcmp(type, "Sequence")) {
        const json_t *arr = json_object_get(v, "pretokenizers");
        if (!json_is_array(arr)) return jfail(c, G4_ERR_FORMAT, "pre_tokenizer Sequence without \"pretokenizers\"");
        for (size_t i = 0; i < json_array_size(arr); i++) {
            g4_status st = parse_pre(c, t, json_array_get(arr, i), depth + 1);
            if (st != G4_OK) return st;
        }
        return G4_OK;
    }
    if (strcmp(type, "Split"))
        return g4_fail(c->err, G4_ERR_UNSUPPORTED, "%s: pre_tokenizer \"%s\" is not supported", c->name, type);
    struct tok_step st = {0};
    st.kind = TOK_PRE_SPLIT;
    size_t n;
    const char *b = jstr(json_object_get(v, "behavior"), &n);
    static const char *const names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
    st.behavior = -1;
    for (int i = 0; b && i < 5; i++)
        if (!strcmp(b, names[i])) st.behavior = i;
    if (st.behavior < 0) return jfail(c, G4_ERR_FORMAT, "Split pre_tokenizer with an unknown \"behavior\"");
    bool ok = true;
    st.invert = jbool(v, "invert", false, &ok);
    if (!ok) return jfail(c, G4_ERR_FORMAT, "Split \"invert\" is not a boolean");
    g4_status r = parse_pattern(c, json_object_get(v, "pattern"), &st.pat, &st.pat_len);
    if (r != G4_OK) return r;
    return push_step(c, t->pre, &t->n_pre, st);
}

static g4_status parse_decoder(struct jctx *c, struct g4_tokenizer *t, const json_t *v, int depth) {
    if (!v || json_is_null(v)) return G4_OK;
    if (!json_is_object(v) || depth > 4) return jfail(c, G4_ERR_FORMAT, "bad decoder");
    t->has_decoder = true;
    const char *type = jtype(v);
    if (!strcmp(type, "Sequence")) {
        const json_t *arr = json_object_get(v, "decoders");
        if (!json_is_array(arr)) return jfail(c, G4_ERR_FORMAT, "decoder Sequence without \"decoders\"");
        for (size_t i = 0; i < json_array_size(arr); i++) {
            g4_status st = parse_decoder(c, t, json_array_get(arr, i), depth + 1);
            if (st != G4_OK) return st;
        }
        return G4_OK;
    }
    struct tok_step st = {0};
    size_t n;
    if (!strcmp(type, "Replace")) {
        st.kind = TOK_DEC_REPLACE;
        g4_status r = parse_pattern(c, json_object_get(v, "pattern"), &st.pat, &st.pat_len);
        if (r != G4_OK) return r;
        const char *s = jstr(json_object_get(v, "content"), &n);
        if (!s || !(st.content = dup_bytes(s, n))) {
            free(st.pat);
            return jfail(c, G4_ERR_FORMAT, "Replace decoder without \"content\"");
        }
        st.content_len = n;
    } else if (!strcmp(type, "ByteFallback")) {
        st.kind = TOK_DEC_BYTE_FALLBACK;
    } else if (!strcmp(type, "Fuse")) {
        st.kind = TOK_DEC_FUSE;
    } else if (!strcmp(type, "Strip")) {
        st.kind = TOK_DEC_STRIP;
        const char *s = jstr(json_object_get(v, "content"), &n);
        const json_t *a = json_object_get(v, "start"), *b = json_object_get(v, "stop");
        if (!s || n == 0 || tok_utf8_len((const unsigned char *)s, n) != n || !json_is_integer(a) ||
            !json_is_integer(b) || json_integer_value(a) < 0 || json_integer_value(b) < 0 ||
            json_integer_value(a) > 1 << 20 || json_integer_value(b) > 1 << 20)
            return jfail(c, G4_ERR_FORMAT, "bad Strip decoder");
        st.pat = dup_bytes(s, n);
        st.pat_len = n;
        st.start = (int)json_integer_value(a);
        st.stop = (int)json_integer_value(b);
        if (!st.pat) return jfail(c, G4_ERR_NOMEM, "out of memory");
    } else {
        return g4_fail(c->err, G4_ERR_UNSUPPORTED, "%s: decoder \"%s\" is not supported", c->name, type);
    }
    return push_step(c, t->dec, &t->n_dec, st);
}

/* Splits a legacy "a b" merge at its first space. */
static bool split_merge(const char *s, size_t len, size_t *alen) {
    const char *sp = memchr(s, ' ', len);
    if (!sp || sp == s || (size_t)(sp - s) + 1 >= len) return false;
    *alen = (size_t)(sp - s);
    return true;
}

/* HF's id for an added token missing from the vocab. */
static int64_t next_added_id(int64_t max_added, uint64_t vocab_size) {
    if (max_added < 0) return (int64_t)vocab_size;
    return max_added >= (int64_t)vocab_size ? max_added + 1 : (int64_t)vocab_size;
}

/* `norm` holds the parsed normalizer; it moves into the tokenizer (freed by
 * the caller when no tokenizer was made). */
static g4_status parse_model(struct jctx *c, struct g4_tokenizer **out, const json_t *model, const json_t *added,
                             struct g4_tokenizer *norm) {
    if (!json_is_object(model)) return jfail(c, G4_ERR_FORMAT, "no \"model\" object");
    const char *type = jtype(model);
    if (*type && strcmp(type, "BPE"))
        return g4_fail(c->err, G4_ERR_UNSUPPORTED, "%s: model \"%s\" is not supported (BPE only)", c->name, type);
    const json_t *vocab = json_object_get(model, "vocab"), *merges = json_object_get(model, "merges");
    if (!json_is_object(vocab)) return jfail(c, G4_ERR_FORMAT, "model has no \"vocab\" object");
    if (!json_is_array(merges)) return jfail(c, G4_ERR_FORMAT, "model has no \"merges\" array");
    const json_t *drop = json_object_get(model, "dropout");
    if (drop && !json_is_null(drop) && !(json_is_number(drop) && json_number_value(drop) == 0.0))
        return jfail(c, G4_ERR_UNSUPPORTED, "BPE dropout is not supported");
    const char *keys[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        const json_t *v = json_object_get(model, keys[i]);
        if (v && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0))
            return g4_fail(c->err, G4_ERR_UNSUPPORTED, "%s: BPE %s is not supported", c->name, keys[i]);
    }
    /* Size: the largest id among the vocab and the added tokens. */
    int64_t max_id = -1;
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)vocab, key, val) {
        if (!json_is_integer(val) || json_integer_value(val) < 0 || json_integer_value(val) >= TOK_MAX_VOCAB)
            return jfail(c, G4_ERR_FORMAT, "vocab id is not an integer in range");
        if (json_integer_value(val) > max_id) max_id = json_integer_value(val);
    }
    uint64_t vocab_size = json_object_size(vocab);
    if (added && !json_is_null(added) && !json_is_array(added)) return jfail(c, G4_ERR_FORMAT, "\"added_tokens\" is not an array");
    /* The ids HF gives the added tokens (see below) bound the size. */
    int64_t max_added = -1;
    for (size_t i = 0; json_is_array(added) && i < json_array_size(added); i++) {
        const json_t *a = json_array_get(added, i), *id = json_object_get(a, "id");
        if (!json_is_object(a) || !json_is_integer(id) || json_integer_value(id) < 0 ||
            json_integer_value(id) >= TOK_MAX_VOCAB)
            return jfail(c, G4_ERR_FORMAT, "added token without a valid \"id\"");
        const json_t *content = json_object_get(a, "content");
        if (!json_is_string(content)) return jfail(c, G4_ERR_FORMAT, "added token without a valid \"content\"");
        const json_t *in_vocab = json_object_get(vocab, json_string_value(content));
        int64_t hf = in_vocab ? json_integer_value(in_vocab) : next_added_id(max_added, vocab_size);
        if (hf > max_added) max_added = hf;
        if (hf > max_id) max_id = hf;
    }
    if (max_id >= TOK_MAX_VOCAB) return jfail(c, G4_ERR_FORMAT, "too many tokens");
    if (max_id < 0) return jfail(c, G4_ERR_FORMAT, "empty vocabulary");
    struct g4_tokenizer *t = tok_alloc((int32_t)max_id + 1, c->err);
    if (!t) return c->err ? c->err->code : G4_ERR_NOMEM;
    *out = t;
    memcpy(t->norm, norm->norm, sizeof norm->norm);
    t->n_norm = norm->n_norm;
    norm->n_norm = 0;
    g4_status st;
    json_object_foreach((json_t *)vocab, key, val) {
        /* jansson keys are NUL-terminated: a key holding U+0000 is cut short
         * (and then usually collides); no real vocabulary has one. */
        st = tok_set_piece(t, (int32_t)json_integer_value(val), key, strlen(key), TOK_F_MODEL, false, c->name, c->err);
        if (st != G4_OK) return st;
    }
    if ((st = tok_build_map(t, c->name, c->err)) != G4_OK) return st;
    for (int32_t id = 0; id < t->n_vocab; id++)
        if ((t->flags[id] & TOK_F_PRESENT) && tok_map_find(t, t->arena + t->piece_off[id], t->piece_len[id]) != id)
            return jfail(c, G4_ERR_FORMAT, "vocab has a duplicate token");

    bool ok = true;
    t->byte_fallback = jbool(model, "byte_fallback", false, &ok);
    t->fuse_unk = jbool(model, "fuse_unk", false, &ok);
    t->ignore_merges = jbool(model, "ignore_merges", false, &ok);
    if (!ok) return jfail(c, G4_ERR_FORMAT, "a BPE flag is not a boolean");
    const json_t *unk = json_object_get(model, "unk_token");
    if (unk && !json_is_null(unk)) {
        size_t n;
        const char *s = jstr(unk, &n);
        if (!s) return jfail(c, G4_ERR_FORMAT, "\"unk_token\" is not a string");
        t->unk_id = tok_map_find(t, s, n);
        if (t->unk_id < 0) return jfail(c, G4_ERR_FORMAT, "\"unk_token\" is not in the vocabulary");
    }

    size_t n_merges = json_array_size(merges);
    if ((st = tok_merges_init(t, n_merges, c->err)) != G4_OK) return st;
    for (size_t i = 0; i < n_merges; i++) {
        const json_t *m = json_array_get(merges, i);
        const char *a, *b;
        size_t alen, blen;
        if (json_is_string(m)) {
            const char *s = jstr(m, &blen);
            if (!split_merge(s, blen, &alen)) return jfail(c, G4_ERR_FORMAT, "merge is not \"left right\"");
            a = s;
            b = s + alen + 1;
            blen -= alen + 1;
        } else if (json_is_array(m) && json_array_size(m) == 2 && (a = jstr(json_array_get(m, 0), &alen)) &&
                   (b = jstr(json_array_get(m, 1), &blen))) {
        } else {
            return jfail(c, G4_ERR_FORMAT, "merge is neither a string nor a pair of strings");
        }
        if ((st = tok_merge_add_pieces(t, a, alen, b, blen, (uint32_t)i, c->name, c->err)) != G4_OK) return st;
    }

    /* Added tokens, in file order, with the ids HF gives them: the model id
     * when the content is in the vocab, else the next id after the vocab and
     * the added tokens so far (AddedVocabulary::add_tokens). HF ignores the
     * file's "id" there (it only warns), and so do we. */
    max_added = -1;
    for (size_t i = 0; json_is_array(added) && i < json_array_size(added); i++) {
        const json_t *a = json_array_get(added, i);
        size_t n;
        const char *content = jstr(json_object_get(a, "content"), &n);
        if (!content || n > TOK_MAX_PIECE) return jfail(c, G4_ERR_FORMAT, "added token without a valid \"content\"");
        int32_t id = (int32_t)json_integer_value(json_object_get(a, "id"));
        struct tok_added e = {0};
        e.id = id;
        e.special = jbool(a, "special", false, &ok);
        e.lstrip = jbool(a, "lstrip", false, &ok);
        e.rstrip = jbool(a, "rstrip", false, &ok);
        e.single_word = jbool(a, "single_word", false, &ok);
        e.normalized = jbool(a, "normalized", !e.special, &ok);
        if (!ok) return jfail(c, G4_ERR_FORMAT, "added token flag is not a boolean");
        if (n == 0) continue;
        int32_t have = tok_map_find(t, content, n);
        if (have >= 0 && (t->flags[have] & TOK_F_ADDED))
            return jfail(c, G4_ERR_FORMAT, "added token listed twice");
        int64_t want = have >= 0 ? have : next_added_id(max_added, vocab_size);
        if (want != id) G4_LOGW("%s: added token %d gets id %lld (as in tokenizers)", c->name, (int)id, (long long)want);
        if (want >= t->n_vocab || (have < 0 && (t->flags[want] & TOK_F_PRESENT)))
            return g4_fail(c->err, G4_ERR_FORMAT, "%s: added token %d would take id %lld of another token", c->name,
                           (int)id, (long long)want);
        id = (int32_t)want;
        e.id = id;
        if (have < 0) {
            /* tokenizers 0.23 decodes a new normalized token to its
             * normalized content (checked: "Q Q" with " " -> "_" gives "Q_Q") */
            char *nc = NULL;
            size_t nlen = n;
            if (e.normalized && (st = tok_normalize(t, content, n, &nc, &nlen, c->err)) != G4_OK) return st;
            st = tok_set_piece(t, id, nc ? nc : content, nlen, 0, false, c->name, c->err);
            free(nc);
            if (st != G4_OK) return st;
            tok_map_insert(t, id);
        }
        if (id > max_added) max_added = id;
        t->flags[id] |= (uint8_t)(TOK_F_ADDED | (e.special ? TOK_F_SPECIAL : 0));
        if ((st = tok_added_push(t, &e, content, n, c->err)) != G4_OK) return st;
    }
    return G4_OK;
}

static int32_t config_token(const struct g4_tokenizer *t, const json_t *cfg, const char *key, const char *dflt) {
    const json_t *v = cfg ? json_object_get(cfg, key) : NULL;
    if (json_is_object(v)) v = json_object_get(v, "content");
    size_t n;
    const char *s = jstr(v, &n);
    if (s) return tok_map_find(t, s, n);
    return tok_map_find(t, dflt, strlen(dflt));
}

g4_status g4_tokenizer_from_json(struct g4_tokenizer **out, const char *json, size_t len, const char *config_json,
                                 size_t config_len, const char *name, g4_error *err) {
    *out = NULL;
    struct jctx c = {name ? name : "tokenizer.json", err};
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!root)
        return g4_fail_at(err, G4_ERR_FORMAT, je.position, "%s: line %d: %s", c.name, je.line, je.text);
    json_t *cfg = NULL;
    if (config_json) {
        cfg = json_loadb(config_json, config_len, 0, &je);
        if (!cfg || !json_is_object(cfg)) {
            json_decref(root);
            json_decref(cfg);
            return g4_fail(err, G4_ERR_FORMAT, "%s: tokenizer_config.json: %s", c.name, cfg ? "not an object" : je.text);
        }
    }
    struct g4_tokenizer *t = NULL;
    g4_status st;
    if (!json_is_object(root)) {
        st = jfail(&c, G4_ERR_FORMAT, "not a JSON object");
        goto done;
    }
    /* The normalizer comes first: normalized added tokens go through it. */
    struct g4_tokenizer tmp = {0};
    st = parse_normalizer(&c, &tmp, json_object_get(root, "normalizer"), 0);
    if (st == G4_OK)
        st = parse_model(&c, &t, json_object_get(root, "model"), json_object_get(root, "added_tokens"), &tmp);
    tok_steps_free(tmp.norm, tmp.n_norm);
    if (st == G4_OK) st = parse_pre(&c, t, json_object_get(root, "pre_tokenizer"), 0);
    if (st == G4_OK) st = parse_decoder(&c, t, json_object_get(root, "decoder"), 0);
    if (st == G4_OK) st = tok_finish(t, c.name, err);
    if (st == G4_OK) {
        t->bos = config_token(t, cfg, "bos_token", "<bos>");
        t->eos = config_token(t, cfg, "eos_token", "<eos>");
    }
done:
    json_decref(root);
    json_decref(cfg);
    if (st != G4_OK) {
        g4_tokenizer_free(t);
        return st;
    }
    *out = t;
    return G4_OK;
}
