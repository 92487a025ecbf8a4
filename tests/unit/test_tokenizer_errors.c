/* test_tokenizer_errors.c — hostile and unsupported tokenizer.json and GGUF
 * tokenizer metadata give an error (the right code, a message), never a
 * crash; plus small hand-made tokenizers that pin HF semantics the corpus
 * does not reach (pre-tokenizer Split behaviours, lstrip/rstrip, fuse_unk,
 * unk without byte fallback, ignore_merges, decoders without Fuse). The
 * expected ids and texts of those are what HF tokenizers 0.23 gives for the
 * same JSON (checked with Tokenizer.from_str when this file was written). */
#include "test.h"
#include "io/gguf.h"
#include "tokenizer/tokenizer.h"

#include <stdlib.h>
#include <string.h>

static g4_status load(const char *json, struct g4_tokenizer **t, g4_error *err) {
    *t = NULL;
    return g4_tokenizer_from_json(t, json, strlen(json), NULL, 0, "test.json", err);
}

#define V "\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"<unk>\":3,\"c\":4,\"\\u2581\":5}"
#define M "\"merges\":[\"a b\"]"

static void test_bad_json(void) {
    static const struct {
        const char *json;
        g4_status want;
    } cases[] = {
        {"", G4_ERR_FORMAT},
        {"{", G4_ERR_FORMAT},
        {"[]", G4_ERR_FORMAT},
        {"{}", G4_ERR_FORMAT},
        {"{\"model\":5}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\"}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"Unigram\"," V "," M "}}", G4_ERR_UNSUPPORTED},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{}," M "}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":\"0\"},\"merges\":[]}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":2147483647},\"merges\":[]}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":1.5},\"merges\":[]}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":0},\"merges\":[]}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"a\":1},\"merges\":[]}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\"," V ",\"merges\":[\"a c\"]}}", G4_ERR_FORMAT},   /* "ac" not in vocab */
        {"{\"model\":{\"type\":\"BPE\"," V ",\"merges\":[\"a x\"]}}", G4_ERR_FORMAT},   /* x not in vocab */
        {"{\"model\":{\"type\":\"BPE\"," V ",\"merges\":[\"ab\"]}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\"," V ",\"merges\":[\" ab\"]}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\"," V ",\"merges\":[[\"a\"]]}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\"," V ",\"merges\":[[\"a\",1]]}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\"," V ",\"merges\":[5]}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\"," V "," M ",\"unk_token\":\"<nope>\"}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\"," V "," M ",\"unk_token\":7}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\"," V "," M ",\"byte_fallback\":\"yes\"}}", G4_ERR_FORMAT},
        {"{\"model\":{\"type\":\"BPE\"," V "," M ",\"dropout\":0.1}}", G4_ERR_UNSUPPORTED},
        {"{\"model\":{\"type\":\"BPE\"," V "," M ",\"continuing_subword_prefix\":\"##\"}}", G4_ERR_UNSUPPORTED},
        {"{\"added_tokens\":5,\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_FORMAT},
        {"{\"added_tokens\":[{\"id\":9}],\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_FORMAT},
        {"{\"added_tokens\":[{\"id\":-3,\"content\":\"x\"}],\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_FORMAT},
        /* a sparse vocab: HF would give the new token id 2, which "b" has */
        {"{\"added_tokens\":[{\"id\":7,\"content\":\"<x>\"}],\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":2},\"merges\":[]}}", G4_ERR_FORMAT},
        {"{\"added_tokens\":[{\"id\":6,\"content\":\"<x>\"},{\"id\":6,\"content\":\"<x>\"}],\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_FORMAT},
        {"{\"added_tokens\":[{\"id\":6,\"content\":\"<x>\",\"special\":1}],\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_FORMAT},
        {"{\"normalizer\":{\"type\":\"NFKC\"},\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_UNSUPPORTED},
        {"{\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"Regex\":\" +\"},\"content\":\"x\"},\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_UNSUPPORTED},
        {"{\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"}},\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_FORMAT},
        {"{\"normalizer\":{\"type\":\"Replace\",\"pattern\":\" \",\"content\":\"x\"},\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_FORMAT},
        {"{\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":5},\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_FORMAT},
        {"{\"normalizer\":[],\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_FORMAT},
        {"{\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_UNSUPPORTED},
        {"{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"String\":\" \"},\"behavior\":\"Sideways\"},\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_FORMAT},
        {"{\"decoder\":{\"type\":\"Metaspace\"},\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_UNSUPPORTED},
        {"{\"decoder\":{\"type\":\"Strip\",\"content\":\" \",\"start\":-1,\"stop\":0},\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_FORMAT},
        {"{\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Sequence\",\"decoders\":[]}]}]}]}]}]},\"model\":{\"type\":\"BPE\"," V "," M "}}", G4_ERR_FORMAT},
    };
    for (size_t i = 0; i < G4_ARRAY_LEN(cases); i++) {
        struct g4_tokenizer *t;
        g4_error err = {0};
        g4_status st = load(cases[i].json, &t, &err);
        CHECKF(st == cases[i].want, "case %zu: got %d (%s), want %d", i, st, err.message, cases[i].want);
        CHECKF(st == G4_OK || (t == NULL && err.message[0]), "case %zu: no message or a tokenizer on error", i);
        g4_tokenizer_free(t);
    }
    /* Truncations of a valid file. */
    const char *good = "{\"added_tokens\":[{\"id\":6,\"content\":\"<x>\",\"special\":true}],"
                       "\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\\u2581\"},"
                       "\"model\":{\"type\":\"BPE\",\"byte_fallback\":false," V "," M "}}";
    struct g4_tokenizer *t;
    g4_error err;
    CHECK(load(good, &t, &err) == G4_OK);
    g4_tokenizer_free(t);
    for (size_t n = 0; n < strlen(good); n++) {
        CHECKF(g4_tokenizer_from_json(&t, good, n, NULL, 0, "cut", &err) != G4_OK && !t, "truncated at %zu loaded", n);
        g4_tokenizer_free(t);
    }
    CHECK(g4_tokenizer_from_json(&t, good, strlen(good), "[", 1, "cfg", &err) == G4_ERR_FORMAT && !t);
}

static void enc(const struct g4_tokenizer *t, const char *s, int flags, const int32_t *want, size_t n_want, const char *what) {
    int32_t ids[64];
    size_t n = 0;
    g4_error err;
    g4_status st = g4_tokenizer_encode(t, s, strlen(s), flags, ids, 64, &n, &err);
    bool ok = st == G4_OK && n == n_want && !memcmp(ids, want, n * sizeof *ids);
    CHECKF(ok, "%s: \"%s\": %zu ids (first %d), want %zu", what, s, n, n ? ids[0] : -1, n_want);
}

static void dec(const struct g4_tokenizer *t, const int32_t *ids, size_t n, const char *want, const char *what) {
    char *out = NULL;
    size_t len;
    g4_error err;
    g4_status st = g4_tokenizer_decode(t, ids, n, 0, &out, &len, &err);
    CHECKF(st == G4_OK && out && !strcmp(out, want), "%s: decoded \"%s\", want \"%s\"", what, out ? out : "", want);
    free(out);
}

/* Expected ids from HF tokenizers 0.23 on the same JSON (Tokenizer.from_str). */
static void test_semantics(void) {
    struct g4_tokenizer *t;
    g4_error err;
    /* fuse_unk without byte fallback: "xxa" -> [unk(xx), a]; Split " " Isolated. */
    const char *j1 = "{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"String\":\" \"},\"behavior\":\"Isolated\"},"
                     "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,"
                     "\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,\"<unk>\":3,\" \":4},\"merges\":[[\"a\",\"b\"]]}}";
    CHECK(load(j1, &t, &err) == G4_OK);
    if (t) {
        enc(t, "xxab", 0, (int32_t[]){3, 2}, 2, "fuse_unk");
        enc(t, "ab ab", 0, (int32_t[]){2, 4, 2}, 3, "isolated");
        enc(t, "a b", 0, (int32_t[]){0, 4, 1}, 3, "isolated 2");
        dec(t, (int32_t[]){2, 4, 0}, 3, "ab   a", "no decoder joins with spaces");
    }
    g4_tokenizer_free(t);
    /* not fused: one unk per character */
    const char *j2 = "{\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":false,"
                     "\"vocab\":{\"a\":0,\"<unk>\":1},\"merges\":[]}}";
    CHECK(load(j2, &t, &err) == G4_OK);
    if (t) enc(t, "xya", 0, (int32_t[]){1, 1, 0}, 3, "unfused unk");
    g4_tokenizer_free(t);
    /* MergedWithPrevious / MergedWithNext / Removed / Contiguous on "-" */
    static const struct {
        const char *behavior;
        int32_t ids[8];
        size_t n;
    } sp[] = {
        {"MergedWithPrevious", {0, 2, 0, 2, 2, 1}, 6}, /* "a-", "a-", "-", "b" -> ids via single chars */
        {"MergedWithNext", {0, 2, 0, 2, 2, 1}, 6},
        {"Removed", {0, 0, 1}, 3},
        {"Contiguous", {0, 2, 0, 2, 2, 1}, 6},
    };
    for (size_t i = 0; i < G4_ARRAY_LEN(sp); i++) {
        char j[512];
        snprintf(j, sizeof j,
                 "{\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"String\":\"-\"},"
                 "\"behavior\":\"%s\",\"invert\":false}]},"
                 "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"-\":2,\"a-\":3,\"--\":4,\"-b\":5},\"merges\":[]}}",
                 sp[i].behavior);
        CHECK(load(j, &t, &err) == G4_OK);
        if (t) enc(t, "a-a--b", 0, sp[i].ids, sp[i].n, sp[i].behavior);
        g4_tokenizer_free(t);
    }
    /* With merges the split boundaries show: "a-" merges only if a and - share a piece. */
    const char *j3 = "{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"String\":\"-\"},\"behavior\":\"MergedWithPrevious\"},"
                     "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"-\":2,\"a-\":3,\"--\":4,\"-b\":5},"
                     "\"merges\":[\"a -\",\"- -\",\"- b\"]}}";
    CHECK(load(j3, &t, &err) == G4_OK);
    if (t) enc(t, "a-a--b", 0, (int32_t[]){3, 3, 2, 1}, 4, "merged prev with merges"); /* [a-][a-][-][b] */
    g4_tokenizer_free(t);
    const char *j4 = "{\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"String\":\"-\"},\"behavior\":\"MergedWithNext\"},"
                     "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"-\":2,\"a-\":3,\"--\":4,\"-b\":5},"
                     "\"merges\":[\"a -\",\"- -\",\"- b\"]}}";
    CHECK(load(j4, &t, &err) == G4_OK);
    if (t) enc(t, "a-a--b", 0, (int32_t[]){0, 2, 0, 2, 5}, 5, "merged next with merges"); /* [a][-a][-][-b] */
    g4_tokenizer_free(t);
    /* HF ignores the "id" of an added token: "ab" is 2 (its vocab id), "<x>" the next id, 6 */
    const char *j9 = "{\"added_tokens\":[{\"id\":1,\"content\":\"ab\",\"special\":true},"
                     "{\"id\":9000000,\"content\":\"<x>\",\"special\":true}],\"model\":{\"type\":\"BPE\"," V "," M "}}";
    g4_log_set(NULL, NULL, G4_LOG_ERROR); /* the "gets id" warnings are expected */
    CHECK(load(j9, &t, &err) == G4_OK);
    g4_log_set(NULL, NULL, G4_LOG_INFO);
    if (t) {
        CHECK(g4_tokenizer_find(t, "ab", 2) == 2 && g4_tokenizer_is_special(t, 2) && !g4_tokenizer_is_special(t, 1));
        CHECK(g4_tokenizer_find(t, "<x>", 3) == 6 && g4_tokenizer_n_vocab(t) == 7);
        enc(t, "a<x>ab", G4_TOK_PARSE_SPECIAL, (int32_t[]){0, 6, 2}, 3, "added ids as HF");
    }
    g4_tokenizer_free(t);
    /* ignore_merges: a whole word in the vocab wins over merges */
    const char *j5 = "{\"model\":{\"type\":\"BPE\",\"ignore_merges\":true,"
                     "\"vocab\":{\"a\":0,\"b\":1,\"c\":2,\"bc\":3,\"abc\":4,\"ab\":5},\"merges\":[\"b c\",\"a b\"]}}";
    CHECK(load(j5, &t, &err) == G4_OK);
    if (t) {
        enc(t, "abc", 0, (int32_t[]){4}, 1, "ignore_merges");
        enc(t, "abcabc", 0, (int32_t[]){0, 3, 0, 3}, 4, "merge order by rank");
    }
    g4_tokenizer_free(t);
    /* lstrip/rstrip added token, special; untrusted leaves the spaces and text alone */
    const char *j6 = "{\"added_tokens\":[{\"id\":5,\"content\":\"<x>\",\"lstrip\":true,\"rstrip\":true,\"special\":true,\"normalized\":false}],"
                     "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\" \":1,\"<\":2,\">\":3,\"x\":4},\"merges\":[]}}";
    CHECK(load(j6, &t, &err) == G4_OK);
    if (t) {
        enc(t, "a  <x>  a", G4_TOK_PARSE_SPECIAL, (int32_t[]){0, 5, 0}, 3, "lstrip/rstrip");
        enc(t, "a <x> a", 0, (int32_t[]){0, 1, 2, 4, 3, 1, 0}, 7, "untrusted lstrip/rstrip");
    }
    g4_tokenizer_free(t);
    /* leftmost-longest among added tokens; a normalized added token matches the normalized text */
    const char *j7 = "{\"added_tokens\":[{\"id\":3,\"content\":\"<a>\",\"special\":false,\"normalized\":false},"
                     "{\"id\":4,\"content\":\"<a><b>\",\"special\":false,\"normalized\":false},"
                     "{\"id\":5,\"content\":\"Q Q\",\"special\":false,\"normalized\":true}],"
                     "\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"_\"},"
                     "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"_\":1,\"Q\":2,\"<a>\":3,\"<a><b>\":4},\"merges\":[]}}";
    CHECK(load(j7, &t, &err) == G4_OK);
    if (t) {
        enc(t, "<a><b><a>", 0, (int32_t[]){4, 3}, 2, "longest");
        enc(t, "a Q Q", 0, (int32_t[]){0, 1, 5}, 3, "normalized added");
        dec(t, (int32_t[]){0, 1, 5}, 3, "a _ Q_Q", "no decoder: spaces; normalized added content");
    }
    g4_tokenizer_free(t);
    /* ByteFallback decoder: a bad run gives one U+FFFD per byte, "<0x+A>" is byte 10 (Rust from_str_radix) */
    const char *j8 = "{\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"ByteFallback\"},{\"type\":\"Strip\",\"content\":\"x\",\"start\":1,\"stop\":2}]},"
                     "\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,"
                     "\"vocab\":{\"<0xE2>\":0,\"<0x82>\":1,\"<0xAC>\":2,\"<0x41>\":3,\"xxaxx\":4,\"<0x+A>\":5,\"<0xzz>\":6},\"merges\":[]}}";
    CHECK(load(j8, &t, &err) == G4_OK);
    if (t) {
        dec(t, (int32_t[]){0, 1, 2, 3}, 4, "\xe2\x82\xac" "A", "bytes to UTF-8");
        dec(t, (int32_t[]){0, 1, 3}, 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "bad run");
        dec(t, (int32_t[]){4}, 1, "xa", "strip");
        dec(t, (int32_t[]){5, 6}, 2, "\n<0xzz>", "from_str_radix");
        enc(t, "A\xe2\x82\xac", 0, (int32_t[]){3, 0, 1, 2}, 4, "byte fallback");
    }
    g4_tokenizer_free(t);
}

/* ---- GGUF images built in memory --------------------------------------- */

struct gbuf {
    uint8_t b[8192];
    size_t n;
    uint64_t n_kv;
};

static void put(struct gbuf *g, const void *p, size_t n) {
    if (g->n + n <= sizeof g->b) memcpy(g->b + g->n, p, n);
    g->n += n;
}
static void put_u32(struct gbuf *g, uint32_t v) { put(g, &v, 4); }
static void put_u64(struct gbuf *g, uint64_t v) { put(g, &v, 8); }
static void put_s(struct gbuf *g, const char *s) {
    put_u64(g, strlen(s));
    put(g, s, strlen(s));
}
static void kv_str(struct gbuf *g, const char *k, const char *v) {
    put_s(g, k);
    put_u32(g, 8);
    put_s(g, v);
    g->n_kv++;
}
static void kv_strs(struct gbuf *g, const char *k, const char *const *v, size_t n) {
    put_s(g, k);
    put_u32(g, 9);
    put_u32(g, 8);
    put_u64(g, n);
    for (size_t i = 0; i < n; i++) put_s(g, v[i]);
    g->n_kv++;
}
static void kv_arr(struct gbuf *g, const char *k, uint32_t type, const void *v, size_t n) { /* 4-byte elements */
    put_s(g, k);
    put_u32(g, 9);
    put_u32(g, type);
    put_u64(g, n);
    put(g, v, n * 4);
    g->n_kv++;
}

static g4_status gguf_tok(struct gbuf *kvs, struct g4_tokenizer **t, g4_error *err) {
    static struct gbuf img;
    img.n = 0;
    put(&img, "GGUF", 4);
    put_u32(&img, 3);
    put_u64(&img, 0);
    put_u64(&img, kvs->n_kv);
    put(&img, kvs->b, kvs->n);
    struct gguf_file g;
    *t = NULL;
    g4_status st = gguf_parse(&g, img.b, img.n, "mem.gguf", err);
    CHECKF(st == G4_OK, "gguf image: %s", err->message);
    if (st != G4_OK) return st;
    st = g4_tokenizer_from_gguf(t, &g, err);
    gguf_close(&g);
    return st;
}

static void test_bad_gguf(void) {
    static const char *const toks[] = {"<pad>", "<eos>", "<bos>", "<unk>", "a", "b", "ab", "\xe2\x96\x81", "<start_of_turn>", "  "};
    const int32_t types[] = {3, 3, 3, 2, 1, 1, 1, 1, 3, 4};
    const int32_t short_types[] = {1, 1};
    const float scores[] = {0, 0, 0, 0, -1, -2, -0.5f, -3, 0, -1000};
    float nan_scores[10];
    memcpy(nan_scores, scores, sizeof scores);
    nan_scores[6] = 0.0f / 0.0f;
    static const char *const merges[] = {"a b"};
    static const char *const bad_merges[] = {"a c"};
    static const char *const bad_merges2[] = {"ab"};
    struct g4_tokenizer *t;
    g4_error err;
    struct gbuf k;
    struct {
        int what;
        g4_status want;
    } cases[] = {
        {0, G4_ERR_UNSUPPORTED}, /* no tokenizer.ggml.model: no tokenizer (the loader tolerates it) */
        {1, G4_ERR_UNSUPPORTED}, /* model "bert" */
        {2, G4_ERR_FORMAT},      /* no tokens */
        {3, G4_ERR_FORMAT},      /* token_type length mismatch */
        {4, G4_ERR_FORMAT},      /* gemma4 without merges */
        {5, G4_OK},              /* merge to a missing token: skipped, as llama.cpp loads it */
        {6, G4_ERR_FORMAT},      /* merge without a space */
        {7, G4_ERR_FORMAT},      /* llama without scores */
        {8, G4_ERR_FORMAT},      /* NaN score */
        {9, G4_ERR_FORMAT},      /* tokens are not strings */
        {10, G4_OK},             /* gemma4 */
        {11, G4_OK},             /* llama */
    };
    for (size_t i = 0; i < G4_ARRAY_LEN(cases); i++) {
        memset(&k, 0, sizeof k);
        int w = cases[i].what;
        if (w != 0) kv_str(&k, "tokenizer.ggml.model", w == 1 ? "bert" : (w >= 7 && w != 10 && w != 9) ? "llama" : "gemma4");
        if (w == 9) kv_arr(&k, "tokenizer.ggml.tokens", 5, types, 10);
        else if (w != 2) kv_strs(&k, "tokenizer.ggml.tokens", toks, 10);
        kv_arr(&k, "tokenizer.ggml.token_type", 5, w == 3 ? short_types : types, w == 3 ? 2 : 10);
        if (w != 7) kv_arr(&k, "tokenizer.ggml.scores", 6, w == 8 ? nan_scores : scores, 10);
        if (w != 4) kv_strs(&k, "tokenizer.ggml.merges", w == 5 ? bad_merges : w == 6 ? bad_merges2 : merges, 1);
        uint32_t bos = 2;
        put_s(&k, "tokenizer.ggml.bos_token_id");
        put_u32(&k, 4);
        put_u32(&k, bos);
        k.n_kv++;
        g4_status st = gguf_tok(&k, &t, &err);
        CHECKF(st == cases[i].want, "gguf case %d: got %d (%s), want %d", w, st, st ? err.message : "", cases[i].want);
        if (st == G4_OK && t && w == 5) {
            /* the skipped merge leaves "ab" unreachable: a, b, ▁, a, b */
            enc(t, "ab ab", 0, (int32_t[]){4, 5, 7, 4, 5}, 5, "gguf without its merge");
        } else if (st == G4_OK && t) {
            int32_t ids[16];
            size_t n;
            /* "ab ab" -> ab ▁ ab; the user-defined "  " is "▁▁"; <start_of_turn> is special */
            enc(t, "ab ab", 0, (int32_t[]){6, 7, 6}, 3, "tiny gguf");
            CHECK(g4_tokenizer_find(t, "\xe2\x96\x81\xe2\x96\x81", 6) == 9);
            CHECK(g4_tokenizer_is_special(t, 8) && !g4_tokenizer_is_special(t, 9) && g4_tokenizer_bos(t) == 2);
            CHECK(g4_tokenizer_encode(t, "<start_of_turn>", 15, G4_TOK_PARSE_SPECIAL, ids, 16, &n, &err) == G4_OK && n == 1 && ids[0] == 8);
            dec(t, (int32_t[]){6, 9, 7, 6}, 4, "ab   ab", "tiny gguf");
        }
        g4_tokenizer_free(t);
    }
}

/* Newline runs typed NORMAL are not added tokens: BPE runs over the
 * newlines like HF's does when "\n" is no added token (llama.cpp's GEMMA4
 * pre-split would give a | \n\n | b here); typed USER_DEFINED they split. */
static void test_gguf_gemma4_newlines(void) {
    static const char *const toks[] = {"<pad>", "<eos>", "<bos>", "<unk>", "a", "\n", "a\n", "\n\n", "b"};
    int32_t types[] = {3, 3, 3, 2, 1, 1, 1, 1, 1};
    static const char *const merges[] = {"a \n", "\n \n"};
    for (int user = 0; user < 2; user++) {
        if (user) types[5] = types[7] = 4;
        struct gbuf k;
        memset(&k, 0, sizeof k);
        kv_str(&k, "tokenizer.ggml.model", "gemma4");
        kv_strs(&k, "tokenizer.ggml.tokens", toks, 9);
        kv_arr(&k, "tokenizer.ggml.token_type", 5, types, 9);
        kv_strs(&k, "tokenizer.ggml.merges", merges, 2);
        struct g4_tokenizer *t;
        g4_error err;
        CHECK(gguf_tok(&k, &t, &err) == G4_OK);
        if (t && !user) enc(t, "a\n\nb", 0, (int32_t[]){6, 5, 8}, 3, "gemma4 newlines as normal pieces");
        if (t && user) {
            enc(t, "a\n\nb", 0, (int32_t[]){4, 7, 8}, 3, "gemma4 newlines as added tokens");
            enc(t, "a\n\n\nb", 0, (int32_t[]){4, 7, 5, 8}, 4, "added tokens: leftmost-longest");
        }
        g4_tokenizer_free(t);
    }
}

int main(void) {
    RUN(test_bad_json);
    RUN(test_bad_gguf);
    RUN(test_gguf_gemma4_newlines);
    RUN(test_semantics);
    return test_done();
}
