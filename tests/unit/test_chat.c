/* test_chat.c — the native chat renderers against jinja2.
 * tests/fixtures/chat/{gemma3,gemma4}.json hold conversations rendered by
 * transformers' apply_chat_template with the official templates
 * (scripts/gen_chat_fixtures.py); every "ok" case must match byte for byte
 * and every "error" case must fail with G4_ERR_INVALID_ARG. Also checks
 * malformed input, the public API, and Python's float repr. */
#include "test.h"

#include "api/model_impl.h"
#include "tokenizer/chat.h"
#include "tokenizer/chat_json.h"

#include <stdlib.h>
#include <string.h>

static size_t first_diff(const char *a, const char *b) {
    size_t i = 0;
    while (a[i] && a[i] == b[i]) i++;
    return i;
}

/* Runs every case of one fixture file; returns the number of ok cases. */
static int run_fixture(const char *path, enum g4_chat_format fmt) {
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    CHECKF(doc, "%s: %s", path, je.text);
    if (!doc) return 0;
    json_t *cases = json_object_get(doc, "cases");
    CHECK(json_is_array(cases));
    int n_ok = 0, n_err = 0;
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *expect = json_string_value(json_object_get(c, "expect"));
        struct g4_chat_opts o = {
            .add_generation_prompt = json_is_true(json_object_get(c, "add_generation_prompt")),
            .enable_thinking = json_is_true(json_object_get(c, "enable_thinking")),
            .bos = "<bos>",
        };
        char *out = NULL;
        g4_error err = {0};
        g4_status st = g4_chat_render_json(fmt, json_object_get(c, "messages"), json_object_get(c, "tools"), &o,
                                           &out, &err);
        if (expect && !strcmp(expect, "ok")) {
            const char *want = json_string_value(json_object_get(c, "output"));
            CHECKF(st == G4_OK, "%s %s: status %d: %s", path, name, st, err.message);
            if (st == G4_OK && want) {
                bool same = !strcmp(out, want);
                size_t d = same ? 0 : first_diff(out, want);
                CHECKF(same, "%s %s: differs at byte %zu:\n  got  ...%.80s\n  want ...%.80s", path, name, d,
                       out + (d > 20 ? d - 20 : 0), want + (d > 20 ? d - 20 : 0));
            }
            n_ok++;
        } else {
            CHECKF(st == G4_ERR_INVALID_ARG, "%s %s: expected an error (%s), got status %d", path, name,
                   json_string_value(json_object_get(c, "error")), st);
            CHECKF(st == G4_OK || err.message[0], "%s %s: empty error message", path, name);
            CHECK(out == NULL);
            n_err++;
        }
        free(out);
    }
    CHECKF(n_err > 0, "%s: no error cases", path);
    json_decref(doc);
    return n_ok;
}

static void test_fixtures_gemma3(void) {
    int n = run_fixture("tests/fixtures/chat/gemma3.json", G4_CHAT_GEMMA3);
    CHECKF(n >= 40, "gemma3: only %d ok cases", n);
}

static void test_fixtures_gemma4(void) {
    int n = run_fixture("tests/fixtures/chat/gemma4.json", G4_CHAT_GEMMA4);
    CHECKF(n >= 40, "gemma4: only %d ok cases", n);
}

static g4_status render_str(enum g4_chat_format fmt, const char *msgs, const char *tools, char **out,
                            g4_error *err) {
    json_error_t je;
    json_t *m = json_loads(msgs, JSON_DECODE_ANY, &je), *t = tools ? json_loads(tools, JSON_DECODE_ANY, &je) : NULL;
    struct g4_chat_opts o = {.add_generation_prompt = true, .bos = "<bos>"};
    g4_status st = g4_chat_render_json(fmt, m, t, &o, out, err);
    json_decref(m);
    json_decref(t);
    return st;
}

/* Malformed conversations: a clear G4_ERR_INVALID_ARG, never a crash. */
static void test_malformed(void) {
    static const struct {
        const char *msgs, *tools, *needle;
    } bad[] = {
        {"{\"role\":\"user\"}", NULL, "array"},
        {"\"hello\"", NULL, "array"},
        {"[]", NULL, "empty"},
        {"[1]", NULL, "object"},
        {"[{\"content\":\"x\"}]", NULL, "role"},
        {"[{\"role\":null,\"content\":\"x\"}]", NULL, "role"},
        {"[{\"role\":7,\"content\":\"x\"}]", NULL, "role"},
        {"[{\"role\":\"wizard\",\"content\":\"x\"}]", NULL, "unknown role"},
        {"[{\"role\":\"user\",\"content\":5}]", NULL, "content"},
        {"[{\"role\":\"user\",\"content\":{\"type\":\"text\"}}]", NULL, "content"},
        {"[{\"role\":\"user\",\"content\":[\"x\"]}]", NULL, "content[0]"},
        {"[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]", NULL, "type"},
        {"[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":3}]}]", NULL, "text"},
        {"[{\"role\":\"assistant\",\"tool_calls\":{}}]", NULL, "tool_calls"},
        {"[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{}}]}]", NULL, "name"},
        {"[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":[1]}}]}]", NULL,
         "arguments"},
        {"[{\"role\":\"user\",\"tool_responses\":[{\"name\":1}]}]", NULL, "tool_responses"},
        {"[{\"role\":\"assistant\",\"content\":\"x\",\"reasoning_content\":{}}]", NULL, "reasoning"},
        {"[{\"role\":\"user\",\"content\":\"x\"}]", "{}", "tools"},
        {"[{\"role\":\"user\",\"content\":\"x\"}]", "[{\"function\":{}}]", "tools[0]"},
        {"[{\"role\":\"user\",\"content\":\"x\"}]", "[{\"function\":{\"name\":\"f\",\"parameters\":3}}]",
         "parameters"},
    };
    for (int fmt = G4_CHAT_GEMMA3; fmt <= G4_CHAT_GEMMA4; fmt++) {
        for (size_t i = 0; i < G4_ARRAY_LEN(bad); i++) {
            char *out = (char *)1;
            g4_error err = {0};
            g4_status st = render_str((enum g4_chat_format)fmt, bad[i].msgs, bad[i].tools, &out, &err);
            CHECKF(st == G4_ERR_INVALID_ARG, "fmt %d case %zu: status %d", fmt, i, st);
            CHECKF(out == NULL, "fmt %d case %zu: out not cleared", fmt, i);
            CHECKF(strstr(err.message, bad[i].needle), "fmt %d case %zu: message '%s' lacks '%s'", fmt, i,
                   err.message, bad[i].needle);
        }
    }
    char *out = NULL;
    g4_error err = {0};
    CHECK(g4_chat_render_json(G4_CHAT_GEMMA4, NULL, NULL, NULL, &out, &err) == G4_ERR_INVALID_ARG);
    json_t *empty = json_array();
    CHECK(g4_chat_render_json((enum g4_chat_format)9, empty, NULL, NULL, &out, &err) == G4_ERR_INVALID_ARG);
    json_decref(empty);
    /* the template's own rejection names the rule */
    CHECK(render_str(G4_CHAT_GEMMA3, "[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"b\"}]",
                     NULL, &out, &err) == G4_ERR_INVALID_ARG);
    CHECKF(strstr(err.message, "alternate") && strstr(err.message, "messages[1]"), "message: %s", err.message);
}

/* The caller's JSON is not modified by the OpenAI normalisation. */
static void test_input_unchanged(void) {
    const char *src = "[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"u\"}}]},"
                      "{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":"
                      "\"{\\\"a\\\": 1}\"}}]}]";
    json_t *m = json_loads(src, 0, NULL);
    char *before = json_dumps(m, JSON_COMPACT), *out = NULL;
    g4_error err = {0};
    CHECK(g4_chat_render_json(G4_CHAT_GEMMA4, m, NULL, NULL, &out, &err) == G4_OK);
    char *after = json_dumps(m, JSON_COMPACT);
    CHECK(before && after && !strcmp(before, after));
    CHECKF(out && strstr(out, "<|image|>") && strstr(out, "call:f{a:1}"), "got %s", out ? out : "(null)");
    free(before);
    free(after);
    free(out);
    json_decref(m);
}

static void test_public_api(void) {
    const char *msgs = "[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":\"hi\"}]";
    char *out = NULL;
    g4_error err = {0};
    CHECK(g4_chat_render_format("gemma3", msgs, NULL, NULL, &out, &err) == G4_OK);
    CHECKF(out && !strcmp(out, "<bos><start_of_turn>user\nS\n\nhi<end_of_turn>\n<start_of_turn>model\n"), "got %s",
           out ? out : "(null)");
    free(out);
    CHECK(g4_chat_render_format("gemma4", msgs, "null", "{\"add_generation_prompt\":false}", &out, &err) == G4_OK);
    CHECKF(out && !strcmp(out, "<bos><|turn>system\nS<turn|>\n<|turn>user\nhi<turn|>\n"), "got %s",
           out ? out : "(null)");
    free(out);
    CHECK(g4_chat_render_format("gemma4", msgs, NULL, "{\"enable_thinking\":true}", &out, &err) == G4_OK);
    CHECKF(out && !strcmp(out, "<bos><|turn>system\n<|think|>\nS<turn|>\n<|turn>user\nhi<turn|>\n<|turn>model\n"),
           "got %s", out ? out : "(null)");
    free(out);
    CHECK(g4_chat_render_format("llama", msgs, NULL, NULL, &out, &err) == G4_ERR_INVALID_ARG && !out);
    CHECK(g4_chat_render_format("gemma4", "[{", NULL, NULL, &out, &err) == G4_ERR_INVALID_ARG && !out);
    CHECK(strstr(err.message, "invalid JSON") != NULL);
    CHECK(g4_chat_render_format("gemma4", msgs, NULL, "{\"enable_thinking\":1}", &out, &err) == G4_ERR_INVALID_ARG);
    CHECK(g4_chat_render_format("gemma4", msgs, NULL, "[]", &out, &err) == G4_ERR_INVALID_ARG);

    struct g4_model m;
    memset(&m, 0, sizeof m);
    CHECK(g4_chat_render(&m, msgs, NULL, NULL, &out, &err) == G4_ERR_UNSUPPORTED && !out);
    m.chat_format = G4_CHAT_GEMMA3;
    CHECK(g4_chat_render(&m, msgs, NULL, NULL, &out, &err) == G4_OK);
    CHECK(out && !strncmp(out, "<bos><start_of_turn>user\nS\n\nhi", 30));
    free(out);
    CHECK(g4_chat_render(NULL, msgs, NULL, NULL, &out, &err) == G4_ERR_INVALID_ARG);
}

/* Python's repr(float), which the Gemma 4 template prints for numbers. */
static void test_float_repr(void) {
    static const struct {
        double d;
        const char *s;
    } cases[] = {
        {0.0, "0.0"}, {-0.0, "-0.0"}, {1.0, "1.0"}, {0.1, "0.1"}, {0.1 + 0.2, "0.30000000000000004"},
        {1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {123456789012345680.0, "1.2345678901234568e+17"},
        {0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.5e-7, "1.5e-07"}, {2.5e-300, "2.5e-300"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}, {5e-324, "5e-324"}, {-3.25, "-3.25"},
        {1234.5, "1234.5"}, {9999999999999998.0, "9999999999999998.0"}, {1e22, "1e+22"},
    };
    for (size_t i = 0; i < G4_ARRAY_LEN(cases); i++) {
        struct g4_strbuf b = {0};
        g4_py_float(&b, cases[i].d);
        CHECKF(b.p && !strcmp(b.p, cases[i].s), "%.17g: got %s want %s", cases[i].d, b.p ? b.p : "", cases[i].s);
        g4_strbuf_free(&b);
    }
}

int main(void) {
    RUN(test_fixtures_gemma3);
    RUN(test_fixtures_gemma4);
    RUN(test_malformed);
    RUN(test_input_unchanged);
    RUN(test_public_api);
    RUN(test_float_repr);
    return test_done();
}
