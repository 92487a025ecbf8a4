/* test_grammar.c — the grammar matcher (src/runtime/grammar*.c).
 * 1. Every document of tests/fixtures/grammar/schema_cases.json (labelled by
 *    python jsonschema, scripts/gen_grammar_fixtures.py) gets the same
 *    verdict from the matcher.
 * 2. Random paths through the allowed-byte sets end in documents that parse
 *    (jansson) and validate (validate() below: an independent recursive
 *    checker of the supported keywords, not the matcher).
 * 3. The Gemma tool-call grammar: accepted/rejected spans, tool_choice modes,
 *    and random calls round-tripped through the output parser.
 * 4. Token masks equal brute force (every token tried on a copy), on a small
 *    vocab and on the 262k Gemma 3 vocab (tokenizer.json, when present; a
 *    synthetic 262k vocab otherwise). G4_GRAMMAR_BENCH=1 prints mask times. */
#include "runtime/grammar.h"
#include "test.h"
#include "tokenizer/outparse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- an independent validator for the supported subset --------------------- */

static size_t utf8_len(const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
    return k;
}

static const json_t *ref_target(const json_t *root, const char *ref) {
    const json_t *cur = root;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", ref + 1);
    for (char *tok = strtok(buf, "/"); tok && cur; tok = strtok(NULL, "/")) cur = json_object_get(cur, tok);
    return cur;
}

/* json_equal, but numbers compare by value (samples are parsed with
 * JSON_DECODE_INT_AS_REAL so that big integers load). */
static bool jeq(const json_t *a, const json_t *b) {
    if (json_is_number(a) && json_is_number(b)) return json_number_value(a) == json_number_value(b);
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b)) return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!jeq(json_array_get(a, i), json_array_get(b, i))) return false;
        return true;
    }
    if (json_is_object(a) && json_is_object(b)) {
        if (json_object_size(a) != json_object_size(b)) return false;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)a, k, x) {
            const json_t *y = json_object_get(b, k);
            if (!y || !jeq(x, y)) return false;
        }
        return true;
    }
    return json_equal(a, b);
}

static bool validate(const json_t *root, const json_t *s, const json_t *v) {
    if (json_is_true(s)) return true;
    if (json_is_false(s)) return false;
    const json_t *x;
    if ((x = json_object_get(s, "$ref"))) return validate(root, ref_target(root, json_string_value(x)), v);
    if ((x = json_object_get(s, "anyOf")) || (x = json_object_get(s, "oneOf"))) {
        for (size_t i = 0; i < json_array_size(x); i++)
            if (validate(root, json_array_get(x, i), v)) return true;
        return false;
    }
    if ((x = json_object_get(s, "type"))) {
        bool ok = false;
        size_t nt = json_is_array(x) ? json_array_size(x) : 1;
        for (size_t i = 0; i < nt; i++) {
            const char *t = json_string_value(json_is_array(x) ? json_array_get(x, i) : x);
            ok |= (!strcmp(t, "object") && json_is_object(v)) || (!strcmp(t, "array") && json_is_array(v)) ||
                  (!strcmp(t, "string") && json_is_string(v)) || (!strcmp(t, "number") && json_is_number(v)) ||
                  (!strcmp(t, "integer") && json_is_number(v) && floor(json_number_value(v)) == json_number_value(v)) || (!strcmp(t, "boolean") && json_is_boolean(v)) ||
                  (!strcmp(t, "null") && json_is_null(v));
        }
        if (!ok) return false;
    }
    if ((x = json_object_get(s, "const")) && !jeq(x, v)) return false;
    if ((x = json_object_get(s, "enum"))) {
        bool ok = false;
        for (size_t i = 0; i < json_array_size(x); i++) ok |= jeq(json_array_get(x, i), v);
        if (!ok) return false;
    }
    if (json_is_object(v)) {
        const json_t *props = json_object_get(s, "properties"), *addl = json_object_get(s, "additionalProperties");
        const char *k;
        json_t *val;
        json_object_foreach((json_t *)v, k, val) {
            const json_t *ps = json_object_get(props, k);
            if (ps ? !validate(root, ps, val) : (addl && !validate(root, addl, val))) return false;
        }
        x = json_object_get(s, "required");
        for (size_t i = 0; i < json_array_size(x); i++)
            if (!json_object_get(v, json_string_value(json_array_get(x, i)))) return false;
    }
    if (json_is_array(v)) {
        if ((x = json_object_get(s, "minItems")) && json_array_size(v) < (size_t)json_integer_value(x)) return false;
        if ((x = json_object_get(s, "maxItems")) && json_array_size(v) > (size_t)json_integer_value(x)) return false;
        if ((x = json_object_get(s, "items")))
            for (size_t i = 0; i < json_array_size(v); i++)
                if (!validate(root, x, json_array_get(v, i))) return false;
    }
    if (json_is_string(v)) {
        size_t n = utf8_len(json_string_value(v), json_string_length(v));
        if ((x = json_object_get(s, "minLength")) && n < (size_t)json_integer_value(x)) return false;
        if ((x = json_object_get(s, "maxLength")) && n > (size_t)json_integer_value(x)) return false;
    }
    if (json_is_number(v)) {
        double d = json_number_value(v);
        if ((x = json_object_get(s, "minimum")) && d < json_number_value(x)) return false;
        if ((x = json_object_get(s, "maximum")) && d > json_number_value(x)) return false;
        if ((x = json_object_get(s, "exclusiveMinimum")) && d <= json_number_value(x)) return false;
        if ((x = json_object_get(s, "exclusiveMaximum")) && d >= json_number_value(x)) return false;
    }
    return true;
}

/* ---- helpers ------------------------------------------------------------------ */

static bool accepts(const struct g4_grammar *g, const char *text, size_t n) {
    struct g4_grammar_state *s = NULL;
    if (g4_grammar_state_new(g, &s, NULL) != G4_OK) return false;
    bool ok = g4_grammar_accept_bytes(s, text, n) && g4_grammar_is_complete(s);
    g4_grammar_state_free(s);
    return ok;
}

static bool accepts_text(const struct g4_grammar *g, const char *text) {
    size_t n = strlen(text);
    char *sym = malloc(n + 1);
    size_t m = g4_grammar_text_to_symbols(text, n, sym);
    bool ok = accepts(g, sym, m);
    free(sym);
    return ok;
}

static uint64_t rnd(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Samples one sentence by random allowed bytes; returns its length, or -1 if
 * it did not complete within cap. Whitespace is rarely picked and closing
 * bytes are favoured, so sentences end. */
static int sample(const struct g4_grammar *g, uint64_t *rng, char *out, int cap) {
    struct g4_grammar_state *s = NULL, *tmp = NULL;
    g4_grammar_state_new(g, &s, NULL);
    g4_grammar_state_new(g, &tmp, NULL);
    int len = 0, result = -1;
    while (len < cap) {
        if (g4_grammar_is_complete(s) && (rnd(rng) % 3 == 0 || len > cap / 3)) {
            result = len;
            break;
        }
        uint8_t allowed[256], closers[256];
        int na = 0, nc = 0;
        for (int b = 0; b < 256; b++) {
            g4_grammar_state_copy(tmp, s);
            if (!g4_grammar_accept_bytes(tmp, &(uint8_t){(uint8_t)b}, 1)) continue;
            if ((b == ' ' || b == '\n' || b == '\t' || b == '\r') && rnd(rng) % 8) continue;
            allowed[na++] = (uint8_t)b;
            if (strchr("}]\",", b) || b == G4_SYM_QUOTE || b == G4_SYM_CALL_CLOSE || b == G4_SYM_CHAN_CLOSE)
                closers[nc++] = (uint8_t)b;
        }
        if (!na) {
            if (g4_grammar_is_complete(s)) result = len;
            else CHECKF(0, "dead end: no byte allowed after '%.*s'", len, out);
            break;
        }
        uint8_t b = (nc && (len > cap / 4 || rnd(rng) % 3 == 0)) ? closers[rnd(rng) % nc] : allowed[rnd(rng) % na];
        CHECK(g4_grammar_accept_bytes(s, &b, 1));
        out[len++] = (char)b;
    }
    g4_grammar_state_free(s);
    g4_grammar_state_free(tmp);
    return result;
}

/* ---- 1 + 2: schema fixtures --------------------------------------------------- */

static void test_schema_fixtures(void) {
    json_error_t je;
    json_t *cases = json_load_file("tests/fixtures/grammar/schema_cases.json", 0, &je);
    CHECKF(cases != NULL, "fixture: %s", je.text);
    if (!cases) return;
    int n_docs = 0, n_bad = 0, n_samples = 0;
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < json_array_size(cases); i++) {
        const json_t *c = json_array_get(cases, i);
        const json_t *schema = json_object_get(c, "schema");
        struct g4_grammar *g = NULL;
        char unsup[256];
        g4_error e;
        g4_status st = g4_grammar_compile_json(schema, NULL, &g, unsup, sizeof unsup, &e);
        CHECKF(st == G4_OK && !unsup[0], "schema %zu: %s / %s", i, e.message, unsup);
        if (st != G4_OK) continue;
        const json_t *docs = json_object_get(c, "docs");
        for (size_t j = 0; j < json_array_size(docs); j++) {
            const json_t *d = json_array_get(docs, j);
            const char *text = json_string_value(json_object_get(d, "text"));
            bool want = json_is_true(json_object_get(d, "valid"));
            bool got = accepts(g, text, strlen(text));
            n_docs++;
            if (got != want && ++n_bad <= 20)
                CHECKF(0, "schema %zu doc '%s': matcher %s, jsonschema %s", i, text, got ? "accepts" : "rejects",
                       want ? "valid" : "invalid");
        }
        for (int k = 0; k < 30; k++) {
            char buf[512];
            int n = sample(g, &rng, buf, 200);
            if (n < 0) continue;
            n_samples++;
            json_t *v = json_loadb(buf, (size_t)n, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &je);
            CHECKF(v != NULL, "schema %zu: sample '%.*s' is not JSON: %s", i, n, buf, je.text);
            CHECKF(!v || validate(schema, schema, v), "schema %zu: sample '%.*s' does not validate", i, n, buf);
            json_decref(v);
        }
        g4_grammar_free(g);
    }
    CHECKF(n_docs > 1000, "only %d documents", n_docs);
    CHECKF(n_samples > 40, "only %d random samples completed", n_samples);
    json_decref(cases);
}

static void test_json_object_mode(void) {
    struct g4_grammar *g = NULL;
    CHECK(g4_grammar_compile_json(NULL, NULL, &g, NULL, 0, NULL) == G4_OK);
    CHECK(accepts(g, "{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\"}", 33));
    CHECK(accepts(g, "{}", 2));
    CHECK(!accepts(g, "[1]", 3));
    CHECK(!accepts(g, "\"x\"", 3));
    CHECK(!accepts(g, "{\"a\":None}", 10)); /* None is Gemma syntax only */
    CHECK(!accepts(g, "{\"a\":1", 6)); /* incomplete */
    /* surrogate escapes must pair (jansson and strict parsers reject lone ones) */
    CHECK(accepts(g, "{\"a\":\"\\ud83d\\ude00\"}", 20));
    CHECK(!accepts(g, "{\"a\":\"\\ud83d\"}", 14));
    CHECK(!accepts(g, "{\"a\":\"\\ude00\"}", 14));
    CHECK(!accepts(g, "{\"a\":\"\\ud83d\\n\"}", 16));
    /* whitespace runs are limited (20 by default) */
    char buf[64];
    int n = snprintf(buf, sizeof buf, "{%20s\"a\":1}", "");
    CHECK(accepts(g, buf, (size_t)n));
    n = snprintf(buf, sizeof buf, "{%21s\"a\":1}", "");
    CHECK(!accepts(g, buf, (size_t)n));
    /* a state dies on rejection and stays dead */
    struct g4_grammar_state *s = NULL;
    CHECK(g4_grammar_state_new(g, &s, NULL) == G4_OK);
    CHECK(!g4_grammar_accept_bytes(s, "x", 1));
    CHECK(g4_grammar_is_dead(s) && !g4_grammar_accept_bytes(s, "{", 1));
    g4_grammar_state_reset(s);
    CHECK(g4_grammar_accept_bytes(s, "{", 1) && !g4_grammar_is_complete(s));
    g4_grammar_state_free(s);
    g4_grammar_free(g);
}

static void test_unsupported(void) {
    static const struct {
        const char *schema, *keyword;
    } cases[] = {
        {"{\"type\":\"string\",\"pattern\":\"^a\"}", "pattern at /"},
        {"{\"type\":\"object\",\"properties\":{\"x\":{\"not\":{}}}}", "not at /properties/x"},
        {"{\"allOf\":[{\"type\":\"string\"},{\"minLength\":1}]}", "allOf at /"},
        {"{\"type\":\"array\",\"prefixItems\":[{}]}", "prefixItems at /"},
        {"{\"type\":\"object\",\"minProperties\":1}", "minProperties at /"},
        {"{\"type\":\"number\",\"multipleOf\":2}", "multipleOf at /"},
        {"{\"$ref\":\"http://example.com/s.json\"}", "$ref to a non-local document at /"},
    };
    for (size_t i = 0; i < G4_ARRAY_LEN(cases); i++) {
        json_t *s = json_loads(cases[i].schema, 0, NULL);
        struct g4_grammar *g = NULL;
        char unsup[256];
        g4_error e = {0};
        CHECKF(g4_grammar_compile_json(s, NULL, &g, unsup, sizeof unsup, &e) == G4_ERR_UNSUPPORTED,
               "%s should be unsupported", cases[i].schema);
        CHECKF(strstr(e.message, cases[i].keyword) != NULL, "message '%s' lacks '%s'", e.message, cases[i].keyword);
        CHECK(g == NULL);
        struct g4_grammar_opts o = {.ignore_unsupported = true};
        CHECKF(g4_grammar_compile_json(s, &o, &g, unsup, sizeof unsup, &e) == G4_OK, "%s ignored: %s",
               cases[i].schema, e.message);
        CHECKF(strstr(unsup, cases[i].keyword) != NULL, "list '%s' lacks '%s'", unsup, cases[i].keyword);
        g4_grammar_free(g);
        json_decref(s);
    }
    /* malformed schemas are errors, not crashes */
    const char *bad[] = {"{\"type\":\"strin\"}", "{\"$ref\":\"#/$defs/missing\"}", "{\"minItems\":-1}",
                         "{\"anyOf\":[]}", "[1]", "{\"properties\":3}"};
    for (size_t i = 0; i < G4_ARRAY_LEN(bad); i++) {
        json_t *s = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        struct g4_grammar *g = NULL;
        CHECKF(g4_grammar_compile_json(s, NULL, &g, NULL, 0, NULL) != G4_OK, "%s should fail", bad[i]);
        json_decref(s);
    }
}

/* Every scalar is bounded (grammar.h): digits of numbers, string length
 * (max_string unless maxLength is tighter), free keys; bounds never leave a
 * dead end. */
static void test_caps(void) {
    struct g4_grammar *g = NULL;
    json_t *s = json_loads("{\"type\":\"array\",\"items\":{\"type\":[\"number\",\"string\"]}}", 0, NULL);
    struct g4_grammar_opts o = {.max_string = 5};
    CHECK(g4_grammar_compile_json(s, &o, &g, NULL, 0, NULL) == G4_OK);
    json_decref(s);
    static const struct {
        const char *doc;
        bool ok;
    } cases[] = {
        {"[1234567890123456]", true},     {"[12345678901234567]", false}, /* 16 integer digits */
        {"[-1234567890123456]", true},    {"[-12345678901234567]", false},
        {"[0.1234567890123456]", true},   {"[0.12345678901234567]", false}, /* 16 fraction digits */
        {"[1e123]", true},                {"[1e0123]", false}, /* 3 exponent digits, leading zeros count */
        {"[1E-999]", true},               {"[1e-0001]", false},
        {"[1e300]", true},                {"[1e301]", false}, {"[10e300]", false}, /* at most 1e300 */
        {"[\"abcde\"]", true},            {"[\"abcdef\"]", false}, /* max_string 5 */
        {"[\"\u00e9\u00e9\u00e9\u00e9\u00e9\"]", true}, {"[\"a\\u00e9cdef\"]", false}, /* code points */
    };
    for (size_t i = 0; i < G4_ARRAY_LEN(cases); i++)
        CHECKF(accepts(g, cases[i].doc, strlen(cases[i].doc)) == cases[i].ok, "%s should be %s", cases[i].doc,
               cases[i].ok ? "accepted" : "rejected");
    /* random walks end: every scalar closes within its cap */
    uint64_t rng = 77;
    int done = 0;
    for (int k = 0; k < 40; k++) {
        char buf[4096];
        int n = sample(g, &rng, buf, 4000);
        done += n >= 0;
    }
    CHECKF(done == 40, "only %d of 40 random walks completed", done);
    g4_grammar_free(g);
    /* maxLength tighter than the cap wins; a minLength above the cap wins over it */
    s = json_loads("{\"type\":\"array\",\"items\":{\"anyOf\":[{\"type\":\"string\",\"maxLength\":2},"
                   "{\"type\":\"string\",\"minLength\":8}]}}", 0, NULL);
    CHECK(g4_grammar_compile_json(s, &o, &g, NULL, 0, NULL) == G4_OK);
    json_decref(s);
    CHECK(accepts(g, "[\"ab\"]", 6));
    CHECK(!accepts(g, "[\"abc\"]", 7));
    CHECK(accepts(g, "[\"abcdefgh\"]", 12));
    CHECK(!accepts(g, "[\"abcdefghi\"]", 13));
    g4_grammar_free(g);
    /* the default cap is G4_GRAMMAR_MAX_STRING code points */
    CHECK(g4_grammar_compile_json(NULL, NULL, &g, NULL, 0, NULL) == G4_OK);
    size_t big = G4_GRAMMAR_MAX_STRING + 16;
    char *doc = malloc(big + 16);
    struct g4_grammar_state *st = NULL;
    CHECK(doc && g4_grammar_state_new(g, &st, NULL) == G4_OK);
    if (doc && st) {
        memset(doc, 'x', big);
        CHECK(g4_grammar_accept_bytes(st, "{\"k\":\"", 6));
        CHECK(g4_grammar_accept_bytes(st, doc, G4_GRAMMAR_MAX_STRING));
        CHECK(!g4_grammar_accept_bytes(st, "x", 1));
        /* an undeclared key: G4_GRAMMAR_MAX_KEY_BYTES bytes, not one more */
        g4_grammar_state_reset(st);
        CHECK(g4_grammar_accept_bytes(st, "{\"", 2));
        CHECK(g4_grammar_accept_bytes(st, doc, G4_GRAMMAR_MAX_KEY_BYTES));
        struct g4_grammar_state *st2 = NULL;
        CHECK(g4_grammar_state_new(g, &st2, NULL) == G4_OK);
        g4_grammar_state_copy(st2, st);
        CHECK(g4_grammar_accept_bytes(st2, "\":1}", 4) && g4_grammar_is_complete(st2));
        CHECK(!g4_grammar_accept_bytes(st, "x", 1));
        g4_grammar_state_free(st2);
    }
    g4_grammar_state_free(st);
    free(doc);
    g4_grammar_free(g);
    /* bounds: integers reachable in 16 digits; bounds beyond that are refused by name */
    s = json_loads("{\"type\":\"integer\",\"minimum\":1000000000000000}", 0, NULL);
    CHECK(g4_grammar_compile_json(s, NULL, &g, NULL, 0, NULL) == G4_OK);
    CHECK(accepts(g, "9999999999999999", 16));
    CHECK(!accepts(g, "99999999999999999", 17));
    CHECK(!accepts(g, "999999999999999", 15));
    rng = 5;
    for (int k = 0; k < 10; k++) {
        char buf[64];
        CHECK(sample(g, &rng, buf, 60) >= 0);
    }
    g4_grammar_free(g);
    json_decref(s);
    s = json_loads("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"number\",\"minimum\":1e17}}}", 0, NULL);
    g4_error e = {0};
    CHECK(g4_grammar_compile_json(s, NULL, &g, NULL, 0, &e) == G4_ERR_UNSUPPORTED);
    CHECKF(strstr(e.message, "beyond 16 integer digits at /properties/n") != NULL, "%s", e.message);
    json_decref(s);
    /* tool mode: Gemma strings are capped the same way */
    json_t *tools = json_loads("[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{"
                               "\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\"},"
                               "\"n\":{\"type\":\"number\"}}}}}]", 0, NULL);
    struct g4_grammar_tool_opts to = {.max_string = 3};
    CHECK(g4_grammar_compile_tools(tools, &to, &g, NULL, 0, NULL) == G4_OK);
    CHECK(accepts_text(g, "<|tool_call>call:f{s:<|\"|>abc<|\"|>}<tool_call|>"));
    CHECK(!accepts_text(g, "<|tool_call>call:f{s:<|\"|>abcd<|\"|>}<tool_call|>"));
    CHECK(accepts_text(g, "<|tool_call>call:f{n:0.1234567890123456}<tool_call|>"));
    CHECK(!accepts_text(g, "<|tool_call>call:f{n:0.12345678901234567}<tool_call|>"));
    g4_grammar_free(g);
    json_decref(tools);
}

/* ---- 3: tool calls ---------------------------------------------------------------- */

static const char *TOOLS =
    "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\","
    "\"properties\":{\"city\":{\"type\":\"string\"},\"days\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7},"
    "\"units\":{\"enum\":[\"c\",\"f\"]}},\"required\":[\"city\"],\"additionalProperties\":false}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"edit\",\"parameters\":{\"type\":\"object\",\"properties\":{"
    "\"path\":{\"type\":\"string\"},\"edits\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"old\":{\"type\":\"string\"},\"new\":{\"type\":\"string\"}},\"required\":[\"old\",\"new\"],"
    "\"additionalProperties\":false},\"minItems\":1},\"dry\":{\"type\":\"boolean\"}},"
    "\"required\":[\"path\",\"edits\"],\"additionalProperties\":false}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"now\"}}]";

static void test_tool_grammar(void) {
    json_t *tools = json_loads(TOOLS, 0, NULL);
    struct g4_grammar *g = NULL;
    g4_error e;
    CHECKF(g4_grammar_compile_tools(tools, NULL, &g, NULL, 0, &e) == G4_OK, "%s", e.message);
    CHECK(accepts_text(g, "<|tool_call>call:get_weather{city:<|\"|>Paris, \"FR\"<|\"|>,days:3}<tool_call|>"));
    CHECK(accepts_text(g, "<|tool_call>call:get_weather{units:<|\"|>f<|\"|>,city:<|\"|><|\"|>}<tool_call|>"));
    CHECK(accepts_text(g, "<|tool_call>call:edit{path:<|\"|>a.c<|\"|>,edits:[{old:<|\"|>x{<|\"|>,new:<|\"|>y"
                          "\n<|\"|>}],dry:true}<tool_call|>"));
    CHECK(accepts_text(g, "<|tool_call>call:now{}<tool_call|>"));
    CHECK(accepts_text(g, "<|tool_call>call:now{anything:[1,{x:null}]}<tool_call|>"));
    CHECK(accepts_text(g, "<|tool_call>call:now{x:None,y:[null,None]}<tool_call|>")); /* the template's None */
    CHECK(!accepts_text(g, "<|tool_call>call:get_weather{days:3}<tool_call|>"));           /* required */
    CHECK(!accepts_text(g, "<|tool_call>call:get_weather{city:<|\"|>P<|\"|>,days:8}<tool_call|>")); /* max */
    CHECK(!accepts_text(g, "<|tool_call>call:get_weather{city:<|\"|>P<|\"|>,x:1}<tool_call|>"));    /* addl */
    CHECK(!accepts_text(g, "<|tool_call>call:get_weather{city:\"P\"}<tool_call|>"));    /* JSON quotes */
    CHECK(!accepts_text(g, "<|tool_call>call:get_weather{city:<|\"|>P<|\"|>,city:<|\"|>Q<|\"|>}<tool_call|>"));
    CHECK(!accepts_text(g, "<|tool_call>call:get_weathe{city:<|\"|>P<|\"|>}<tool_call|>")); /* unknown */
    CHECK(!accepts_text(g, "<|tool_call>call:edit{path:<|\"|>a<|\"|>,edits:[]}<tool_call|>")); /* minItems */
    CHECK(!accepts_text(g, "Sure!<|tool_call>call:now{}<tool_call|>"));    /* required: call first */
    CHECK(!accepts_text(g, "<|tool_call>call:now{}<tool_call|><|tool_call>call:now{}<tool_call|>")); /* 1 call */
    CHECK(!accepts_text(g, "<|tool_call>call:now{}"));                          /* not complete */
    CHECK(!accepts_text(g, "<|channel>thought\nhm<channel|><|tool_call>call:now{}<tool_call|>"));
    g4_grammar_free(g);

    struct g4_grammar_tool_opts o = {.parallel = true, .allow_thought = true};
    CHECK(g4_grammar_compile_tools(tools, &o, &g, NULL, 0, &e) == G4_OK);
    CHECK(accepts_text(g, "<|channel>thought\nLet me \xe2\x82\xac check.<channel|>\n<|tool_call>call:now{}"
                          "<tool_call|><|tool_call>call:get_weather{city:<|\"|>X<|\"|>}<tool_call|>"));
    CHECK(!accepts_text(g, "<|channel>a<channel|><|channel>b<channel|><|tool_call>call:now{}<tool_call|>"));
    g4_grammar_free(g);

    struct g4_grammar_tool_opts named = {.only = "now"};
    CHECK(g4_grammar_compile_tools(tools, &named, &g, NULL, 0, &e) == G4_OK);
    CHECK(accepts_text(g, "<|tool_call>call:now{}<tool_call|>"));
    CHECK(!accepts_text(g, "<|tool_call>call:get_weather{city:<|\"|>X<|\"|>}<tool_call|>"));
    g4_grammar_free(g);
    named.only = "missing";
    CHECK(g4_grammar_compile_tools(tools, &named, &g, NULL, 0, &e) == G4_ERR_INVALID_ARG);
    /* closed objects: `now` (no parameters) takes only {} */
    struct g4_grammar_tool_opts closed = {.closed_objects = true};
    CHECK(g4_grammar_compile_tools(tools, &closed, &g, NULL, 0, &e) == G4_OK);
    CHECK(accepts_text(g, "<|tool_call>call:now{}<tool_call|>"));
    CHECK(!accepts_text(g, "<|tool_call>call:now{x:1}<tool_call|>"));
    g4_grammar_free(g);
    /* unsupported keywords inside parameters are named with their path */
    json_t *bad = json_loads("[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":"
                             "\"object\",\"properties\":{\"x\":{\"type\":\"string\",\"pattern\":\"a+\"}}}}}]",
                             0, NULL);
    CHECK(g4_grammar_compile_tools(bad, NULL, &g, NULL, 0, &e) == G4_ERR_UNSUPPORTED);
    CHECKF(strstr(e.message, "pattern at tools[0].parameters/properties/x") != NULL, "%s", e.message);
    json_decref(bad);
    named.only = "missing";
    CHECK(g4_grammar_compile_tools(tools, &named, &g, NULL, 0, &e) == G4_ERR_INVALID_ARG);
    json_decref(tools);
}

/* Random tool calls sampled from the grammar, rendered back to text, parsed
 * by the output parser: every call has a declared name and arguments that
 * validate against that function's schema. */
static void test_tool_roundtrip(void) {
    json_t *tools = json_loads(TOOLS, 0, NULL);
    struct g4_grammar_tool_opts o = {.parallel = true, .allow_thought = true};
    struct g4_grammar *g = NULL;
    CHECK(g4_grammar_compile_tools(tools, &o, &g, NULL, 0, NULL) == G4_OK);
    uint64_t rng = 77;
    int done = 0;
    for (int it = 0; it < 30; it++) {
        char buf[400], text[4000];
        int n = sample(g, &rng, buf, 300);
        if (n < 0) continue;
        size_t m = 0;
        for (int i = 0; i < n; i++) {
            uint8_t b = (uint8_t)buf[i];
            const char *rep = b == G4_SYM_QUOTE ? "<|\"|>" : b == G4_SYM_CALL_OPEN ? "<|tool_call>"
                              : b == G4_SYM_CALL_CLOSE ? "<tool_call|>" : b == G4_SYM_CHAN_OPEN ? "<|channel>"
                              : b == G4_SYM_CHAN_CLOSE ? "<channel|>" : NULL;
            if (rep) {
                memcpy(text + m, rep, strlen(rep));
                m += strlen(rep);
            } else {
                text[m++] = (char)b;
            }
        }
        /* text that happens to spell markup inside a string would be
         * ambiguous at the text level; the server hands token ids, so skip */
        bool spelled = false;
        for (int i = 0; i < n; i++) spelled |= buf[i] == '<';
        if (spelled) continue;
        struct g4_outparse_opts po = {.tools_enabled = true};
        json_t *msg = NULL;
        CHECK(g4_outparse_parse(&po, text, m, false, &msg, NULL, NULL) == G4_OK);
        const json_t *calls = json_object_get(msg, "tool_calls");
        CHECKF(json_array_size(calls) >= 1, "no call parsed from %.*s", (int)m, text);
        for (size_t i = 0; i < json_array_size(calls); i++) {
            const json_t *fn = json_object_get(json_array_get(calls, i), "function");
            const char *name = json_string_value(json_object_get(fn, "name"));
            const char *args = json_string_value(json_object_get(fn, "arguments"));
            const json_t *schema = NULL;
            for (size_t k = 0; k < json_array_size(tools); k++) {
                const json_t *f = json_object_get(json_array_get(tools, k), "function");
                if (!strcmp(json_string_value(json_object_get(f, "name")), name))
                    schema = json_object_get(f, "parameters");
            }
            json_t *a = json_loads(args, JSON_DECODE_INT_AS_REAL, NULL);
            CHECKF(a && json_is_object(a), "arguments %s not JSON (from %.*s)", args, (int)m, text);
            if (schema) CHECKF(a && validate(schema, schema, a), "arguments %s do not validate", args);
            json_decref(a);
        }
        json_decref(msg);
        done++;
    }
    CHECKF(done >= 10, "only %d tool-call samples", done);
    g4_grammar_free(g);
    json_decref(tools);
}

/* ---- 4: token masks ---------------------------------------------------------------- */

static bool mask_matches_brute(struct g4_grammar_vocab *v, const struct g4_grammar *g, const struct g4_grammar_state *s, int n,
                               const char *const *bytes, const uint32_t *lens, const uint8_t *kinds,
                               double *ms) {
    size_t words = (size_t)(n + 63) / 64;
    uint64_t *mask = calloc(words, 8);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK(g4_grammar_fill_mask(v, s, mask, NULL) == G4_OK);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (ms) *ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    struct g4_grammar_state *t = NULL;
    g4_grammar_state_new(g, &t, NULL);
    bool ok = true;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        bool want;
        int kind = kinds ? kinds[i] : 0;
        if (kind == G4_VOCAB_END) {
            want = g4_grammar_is_complete(s);
        } else if (kind == G4_VOCAB_SPECIAL) {
            char sym[32];
            size_t m = lens[i] < sizeof sym ? g4_grammar_text_to_symbols(bytes[i], lens[i], sym) : 0;
            g4_grammar_state_copy(t, s);
            want = m == 1 && (uint8_t)sym[0] >= 0xF8 && g4_grammar_accept_bytes(t, sym, 1);
        } else {
            bool clean = lens[i] > 0;
            for (uint32_t k = 0; k < lens[i]; k++) clean &= (uint8_t)bytes[i][k] < 0xF8;
            g4_grammar_state_copy(t, s);
            want = clean && g4_grammar_accept_bytes(t, bytes[i], lens[i]);
        }
        bool got = (mask[i >> 6] >> (i & 63)) & 1;
        g4_grammar_state_copy(t, s);
        if (g4_grammar_accept_token(v, t, i) != got && ++bad <= 5) {
            ok = false;
            CHECKF(0, "token %d: accept_token disagrees with the mask (%d)", i, got);
        }
        if (got != want) {
            ok = false;
            if (++bad <= 5) CHECKF(0, "token %d ('%.*s'): mask %d, brute force %d", i, (int)lens[i], bytes[i], got, want);
        }
    }
    g4_grammar_state_free(t);
    free(mask);
    return ok;
}

static void test_mask_small(void) {
    const char *toks[] = {"{", "}", "\"", "\"a", "\":", "1", "12", "true", "tr", "ue", " ", "  ", "a\"", "<eos>",
                          "<|\"|>", "<|tool_call>", "call:", "now", "{}", "<tool_call|>", "\xf8", "", "é\"", ",\""};
    uint8_t kinds[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0};
    int n = (int)G4_ARRAY_LEN(toks);
    uint32_t lens[32];
    for (int i = 0; i < n; i++) lens[i] = (uint32_t)strlen(toks[i]);
    struct g4_grammar_vocab *v = NULL;
    CHECK(g4_grammar_vocab_new(n, toks, lens, kinds, &v, NULL) == G4_OK);
    struct g4_grammar *g = NULL;
    CHECK(g4_grammar_compile_json(NULL, NULL, &g, NULL, 0, NULL) == G4_OK);
    struct g4_grammar_state *s = NULL;
    CHECK(g4_grammar_state_new(g, &s, NULL) == G4_OK);
    const char *steps[] = {"", "{", "{\"a", "{\"a\":", "{\"a\":1", "{\"a\":1}"};
    for (size_t i = 0; i < G4_ARRAY_LEN(steps); i++) {
        g4_grammar_state_reset(s);
        CHECK(g4_grammar_accept_bytes(s, steps[i], strlen(steps[i])));
        CHECKF(mask_matches_brute(v, g, s, n, toks, lens, kinds, NULL), "json state after '%s'", steps[i]);
    }
    g4_grammar_state_free(s);
    g4_grammar_free(g);
    /* near the caps: a string 1 code point from max_string, a free key
     * close to G4_GRAMMAR_MAX_KEY_BYTES */
    struct g4_grammar_opts capo = {.max_string = 2};
    CHECK(g4_grammar_compile_json(NULL, &capo, &g, NULL, 0, NULL) == G4_OK);
    CHECK(g4_grammar_state_new(g, &s, NULL) == G4_OK);
    CHECK(g4_grammar_accept_bytes(s, "{\"a\":\"x", 6));
    CHECKF(mask_matches_brute(v, g, s, n, toks, lens, kinds, NULL), "string at max_string - 1");
    CHECK(g4_grammar_accept_bytes(s, "y", 1));
    CHECKF(mask_matches_brute(v, g, s, n, toks, lens, kinds, NULL), "string at max_string");
    g4_grammar_state_reset(s);
    char key[G4_GRAMMAR_MAX_KEY_BYTES + 2] = "{\"";
    memset(key + 2, 'k', G4_GRAMMAR_MAX_KEY_BYTES - 1);
    CHECK(g4_grammar_accept_bytes(s, key, G4_GRAMMAR_MAX_KEY_BYTES + 1));
    CHECKF(mask_matches_brute(v, g, s, n, toks, lens, kinds, NULL), "free key at the cap - 1");
    g4_grammar_state_free(s);
    g4_grammar_free(g);
    /* no dead ends: once every declared key of a closed object is used, ','
     * is not offered */
    json_t *closed = json_loads("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},"
                                "\"additionalProperties\":false}", 0, NULL);
    CHECK(g4_grammar_compile_json(closed, NULL, &g, NULL, 0, NULL) == G4_OK);
    CHECK(g4_grammar_state_new(g, &s, NULL) == G4_OK);
    CHECK(g4_grammar_accept_bytes(s, "{\"a\":1", 6));
    CHECK(!g4_grammar_accept_bytes(s, ",", 1));
    g4_grammar_state_reset(s);
    CHECK(g4_grammar_accept_bytes(s, "{\"a\":1}", 7) && g4_grammar_is_complete(s));
    g4_grammar_state_free(s);
    g4_grammar_free(g);
    json_decref(closed);
    json_t *tools = json_loads(TOOLS, 0, NULL);
    CHECK(g4_grammar_compile_tools(tools, NULL, &g, NULL, 0, NULL) == G4_OK);
    CHECK(g4_grammar_state_new(g, &s, NULL) == G4_OK);
    const char *tsteps[] = {"", "<|tool_call>", "<|tool_call>call:now", "<|tool_call>call:now{}",
                            "<|tool_call>call:now{}<tool_call|>"};
    for (size_t i = 0; i < G4_ARRAY_LEN(tsteps); i++) {
        char sym[64];
        size_t m = g4_grammar_text_to_symbols(tsteps[i], strlen(tsteps[i]), sym);
        g4_grammar_state_reset(s);
        CHECK(g4_grammar_accept_bytes(s, sym, m));
        CHECKF(mask_matches_brute(v, g, s, n, toks, lens, kinds, NULL), "tool state after '%s'", tsteps[i]);
    }
    g4_grammar_state_free(s);
    g4_grammar_free(g);
    json_decref(tools);
    g4_grammar_vocab_free(v);
}

/* Loads the Gemma 3 vocabulary: pieces decoded to bytes ("▁" -> space,
 * <0xHH> -> byte); added special tokens flagged; <eos>/<end_of_turn> are ends. */
static int load_gemma3_vocab(char ***bytes_out, uint32_t **lens_out, uint8_t **kinds_out) {
    const char *path = getenv("G4_TOKENIZER_JSON");
    if (!path) path = "/work/shared/data/gemma3-tokenizer/tokenizer.json";
    json_t *root = json_load_file(path, 0, NULL);
    if (!root) return 0;
    const json_t *vocab = json_object_get(json_object_get(root, "model"), "vocab");
    int n = (int)json_object_size(vocab);
    char **bytes = calloc((size_t)n, sizeof *bytes);
    uint32_t *lens = calloc((size_t)n, sizeof *lens);
    uint8_t *kinds = calloc((size_t)n, 1);
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)vocab, k, val) {
        json_int_t id = json_integer_value(val);
        if (id < 0 || id >= n) continue;
        size_t kl = strlen(k);
        char *b = malloc(kl + 1);
        size_t m = 0;
        unsigned hx;
        if (kl == 6 && sscanf(k, "<0x%2X>", &hx) == 1) {
            b[m++] = (char)hx;
        } else {
            for (size_t i = 0; i < kl;) {
                if (i + 3 <= kl && memcmp(k + i, "\xe2\x96\x81", 3) == 0) b[m++] = ' ', i += 3;
                else b[m++] = k[i++];
            }
        }
        bytes[id] = b;
        lens[id] = (uint32_t)m;
    }
    const json_t *added = json_object_get(root, "added_tokens");
    for (size_t i = 0; i < json_array_size(added); i++) {
        const json_t *t = json_array_get(added, i);
        json_int_t id = json_integer_value(json_object_get(t, "id"));
        const char *c = json_string_value(json_object_get(t, "content"));
        if (id < 0 || id >= n || !json_is_true(json_object_get(t, "special"))) continue;
        kinds[id] = (!strcmp(c, "<eos>") || !strcmp(c, "<end_of_turn>")) ? G4_VOCAB_END : G4_VOCAB_SPECIAL;
    }
    json_decref(root);
    *bytes_out = bytes;
    *lens_out = lens;
    *kinds_out = kinds;
    return n;
}

/* A synthetic 262,144-token vocabulary (printable ASCII pieces, JSON
 * punctuation, UTF-8 pieces, whitespace runs) for machines without
 * tokenizer.json. */
static int synthetic_vocab(char ***bytes_out, uint32_t **lens_out, uint8_t **kinds_out) {
    int n = 262144;
    char **bytes = calloc((size_t)n, sizeof *bytes);
    uint32_t *lens = calloc((size_t)n, sizeof *lens);
    uint8_t *kinds = calloc((size_t)n, 1);
    uint64_t x = 99;
    static const char *pieces[] = {"{", "}", "[", "]", "\"", ":", ",", " ", "\n", "\\", "true", "null", "é", "日",
                                   "0", "1", "-", ".", "e", "name", "age", "\":", "\",\"", "\":\""};
    for (int i = 0; i < n; i++) {
        char buf[40];
        int len = 1 + (int)(rnd(&x) % 12), m = 0;
        while (m < len) {
            if (rnd(&x) % 4 == 0) {
                const char *p = pieces[rnd(&x) % G4_ARRAY_LEN(pieces)];
                size_t pl = strlen(p);
                if (m + (int)pl > 36) break;
                memcpy(buf + m, p, pl);
                m += (int)pl;
            } else {
                buf[m++] = (char)('a' + rnd(&x) % 26);
            }
        }
        bytes[i] = malloc((size_t)m + 1);
        memcpy(bytes[i], buf, (size_t)m);
        lens[i] = (uint32_t)m;
    }
    kinds[1] = G4_VOCAB_END;
    *bytes_out = bytes;
    *lens_out = lens;
    *kinds_out = kinds;
    return n;
}

static void test_mask_262k(void) {
    char **bytes = NULL;
    uint32_t *lens = NULL;
    uint8_t *kinds = NULL;
    int n = load_gemma3_vocab(&bytes, &lens, &kinds);
    bool real = n > 0;
    if (!real) n = synthetic_vocab(&bytes, &lens, &kinds);
    CHECK(n >= 262144);
    struct g4_grammar_vocab *v = NULL;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK(g4_grammar_vocab_new(n, (const char *const *)bytes, lens, kinds, &v, NULL) == G4_OK);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double build_ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    json_t *schema = json_loads("{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":"
                                "{\"type\":\"integer\"},\"tags\":{\"type\":\"array\",\"items\":{\"enum\":"
                                "[\"x\",\"y\"]}}},\"required\":[\"name\"],\"additionalProperties\":false}",
                                0, NULL);
    struct g4_grammar *g = NULL;
    CHECK(g4_grammar_compile_json(schema, NULL, &g, NULL, 0, NULL) == G4_OK);
    struct g4_grammar_state *s = NULL;
    CHECK(g4_grammar_state_new(g, &s, NULL) == G4_OK);
    const char *steps[] = {"", "{\"", "{\"name\":\"Bo", "{\"name\":\"Bob\",\"age\":4", "{\"name\":\"Bob\",\"tags\":[",
                           "{\"name\":\"Bob\"}"};
    for (size_t i = 0; i < G4_ARRAY_LEN(steps); i++) {
        g4_grammar_state_reset(s);
        CHECK(g4_grammar_accept_bytes(s, steps[i], strlen(steps[i])));
        double ms = 0;
        CHECKF(mask_matches_brute(v, g, s, n, (const char *const *)bytes, lens, kinds, &ms), "state after '%s'",
               steps[i]);
        if (getenv("G4_GRAMMAR_BENCH"))
            fprintf(stderr, "mask %s vocab (%d tokens, trie built in %.0f ms): %.2f ms after '%s'\n",
                    real ? "gemma3" : "synthetic", n, build_ms, ms, steps[i]);
    }
    g4_grammar_state_free(s);
    g4_grammar_free(g);
    /* json_object mode inside a free key, and the tool-call grammar inside a
     * Gemma string and at a bare key */
    static const char *ONEOF = "{\"anyOf\":[{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"a\"},"
                               "\"x\":{\"type\":\"number\"}},\"additionalProperties\":false},{\"type\":\"object\","
                               "\"properties\":{\"kind\":{\"type\":\"string\",\"maxLength\":3},\"y\":{\"type\":"
                               "\"string\"}},\"additionalProperties\":false}]}";
    struct {
        const char *tools, *schema, *text;
    } more[] = {{NULL, NULL, "{\"ke"}, {NULL, NULL, "{\"a\":[1,2,{\"b\":"},
                {NULL, ONEOF, "{\"kind\":\""}, {NULL, ONEOF, "{\"kind\":\"a"},
                {TOOLS, NULL, "<|tool_call>call:get_weather{city:<|\"|>Pa"},
                {TOOLS, NULL, "<|tool_call>call:edit{path:<|\"|>a<|\"|>,"}, {TOOLS, NULL, ""},
                {TOOLS, NULL, "<|channel>thought\nI"}};
    for (size_t i = 0; i < G4_ARRAY_LEN(more); i++) {
        json_t *tools = more[i].tools ? json_loads(more[i].tools, 0, NULL) : NULL;
        struct g4_grammar_tool_opts to = {.allow_thought = true};
        json_t *sch = more[i].schema ? json_loads(more[i].schema, 0, NULL) : NULL;
        CHECK((tools ? g4_grammar_compile_tools(tools, &to, &g, NULL, 0, NULL)
                     : g4_grammar_compile_json(sch, NULL, &g, NULL, 0, NULL)) == G4_OK);
        json_decref(sch);
        CHECK(g4_grammar_state_new(g, &s, NULL) == G4_OK);
        char sym[128];
        size_t m = g4_grammar_text_to_symbols(more[i].text, strlen(more[i].text), sym);
        CHECK(g4_grammar_accept_bytes(s, sym, m));
        double ms = 0;
        CHECKF(mask_matches_brute(v, g, s, n, (const char *const *)bytes, lens, kinds, &ms), "state after '%s'",
               more[i].text);
        if (getenv("G4_GRAMMAR_BENCH"))
            fprintf(stderr, "mask %s vocab: %.2f ms after '%s' (%s)\n", real ? "gemma3" : "synthetic", ms,
                    more[i].text, tools ? "tool calls" : sch ? "anyOf schema" : "json_object");
        g4_grammar_state_free(s);
        g4_grammar_free(g);
        json_decref(tools);
    }
    /* token-level generation: random allowed tokens (closing ones favoured)
     * until an end token is picked; the text must parse and validate */
    CHECK(g4_grammar_compile_json(schema, NULL, &g, NULL, 0, NULL) == G4_OK);
    CHECK(g4_grammar_state_new(g, &s, NULL) == G4_OK);
    size_t words = (size_t)(n + 63) / 64;
    uint64_t *mask = malloc(words * 8);
    int *allowed = malloc((size_t)n * sizeof *allowed), *closing = malloc((size_t)n * sizeof *closing);
    uint64_t rng = 4242;
    int generated = 0;
    for (int doc = 0; doc < 8; doc++) {
        char text[2048];
        size_t tl = 0;
        bool ended = false;
        g4_grammar_state_reset(s);
        for (int step = 0; step < 200 && !ended; step++) {
            CHECK(g4_grammar_fill_mask(v, s, mask, NULL) == G4_OK);
            int na = 0, nc = 0, end = -1;
            for (size_t w = 0; w < words; w++)
                for (uint64_t m = mask[w]; m; m &= m - 1) {
                    int id = (int)(w * 64) + __builtin_ctzll(m);
                    if (kinds[id] == G4_VOCAB_END) end = id;
                    allowed[na++] = id;
                    if (memchr(bytes[id], '"', lens[id]) || memchr(bytes[id], '}', lens[id]) ||
                        memchr(bytes[id], ']', lens[id]) || memchr(bytes[id], ',', lens[id]))
                        closing[nc++] = id;
                }
            CHECKF(na > 0, "no allowed token after '%.*s'", (int)tl, text);
            if (!na) break;
            int id = end >= 0 ? end : (nc && rnd(&rng) % 2) ? closing[rnd(&rng) % nc] : allowed[rnd(&rng) % na];
            CHECK(g4_grammar_accept_token(v, s, id));
            if (kinds[id] == G4_VOCAB_END) {
                ended = true;
            } else if (tl + lens[id] < sizeof text) {
                memcpy(text + tl, bytes[id], lens[id]);
                tl += lens[id];
            } else {
                break;
            }
        }
        if (!ended) continue;
        generated++;
        if (getenv("G4_GRAMMAR_BENCH")) fprintf(stderr, "generated: %.*s\n", (int)tl, text);
        json_error_t je;
        json_t *val = json_loadb(text, tl, JSON_DECODE_INT_AS_REAL, &je);
        CHECKF(val != NULL, "generated '%.*s' is not JSON: %s", (int)tl, text, je.text);
        CHECKF(!val || validate(schema, schema, val), "generated '%.*s' does not validate", (int)tl, text);
        json_decref(val);
    }
    CHECKF(generated >= 4, "only %d token-level documents completed", generated);
    free(mask);
    free(allowed);
    free(closing);
    g4_grammar_state_free(s);
    g4_grammar_free(g);
    json_decref(schema);
    g4_grammar_vocab_free(v);
    for (int i = 0; i < n; i++) free(bytes[i]);
    free(bytes);
    free(lens);
    free(kinds);
}

int main(void) {
    RUN(test_schema_fixtures);
    RUN(test_json_object_mode);
    RUN(test_unsupported);
    RUN(test_caps);
    RUN(test_tool_grammar);
    RUN(test_tool_roundtrip);
    RUN(test_mask_small);
    RUN(test_mask_262k);
    return test_done();
}
