/* test_outparse.c — the Gemma 4 output parser (src/tokenizer/outparse.c).
 * A table of outputs, including every failure shape of serving-anchors
 * §4.1/§4.2, with the expected content / reasoning / tool calls / finish
 * reason. Every case is also fed split at every byte position and one byte
 * at a time; the merged event sequence must equal the one-shot one. Tool-call
 * arguments must be valid JSON equal to the expected JSON. */
#include "test.h"
#include "tokenizer/outparse.h"

#include <stdlib.h>
#include <string.h>

/* ---- event recorder: adjacent deltas of one kind are merged ------------- */

struct rec {
    char *s;   /* serialized merged events */
    size_t n, cap;
    int last;  /* type of the last event, for merging */
    int last_index;
    int n_err;
};

static void rec_add(struct rec *r, const char *s, size_t n) {
    if (r->n + n + 1 > r->cap) {
        r->cap = (r->n + n + 1) * 2;
        r->s = realloc(r->s, r->cap);
    }
    memcpy(r->s + r->n, s, n);
    r->n += n;
    r->s[r->n] = 0;
}

static void rec_cb(void *user, const struct g4_outparse_event *ev) {
    struct rec *r = user;
    char tmp[256] = "";
    bool delta = ev->type == G4_OUT_CONTENT || ev->type == G4_OUT_REASONING || ev->type == G4_OUT_TOOL_ARGS;
    if (delta && ev->len == 0) CHECKF(0, "empty delta event");
    if (delta && r->last == (int)ev->type && r->last_index == ev->index) {
        rec_add(r, ev->text, ev->len);
        return;
    }
    switch (ev->type) {
    case G4_OUT_CONTENT: snprintf(tmp, sizeof tmp, "\n[C]"); break;
    case G4_OUT_REASONING: snprintf(tmp, sizeof tmp, "\n[R]"); break;
    case G4_OUT_TOOL_ARGS: snprintf(tmp, sizeof tmp, "\n[A%d]", ev->index); break;
    case G4_OUT_TOOL_START: snprintf(tmp, sizeof tmp, "\n[S%d %s %s]", ev->index, ev->id, ev->name); break;
    case G4_OUT_TOOL_END: snprintf(tmp, sizeof tmp, "\n[E%d]", ev->index); break;
    case G4_OUT_ERROR: snprintf(tmp, sizeof tmp, "\n[ERR]"); r->n_err++; break;
    case G4_OUT_FINISH: snprintf(tmp, sizeof tmp, "\n[F %s]", ev->finish_reason); break;
    }
    rec_add(r, tmp, strlen(tmp));
    if (delta) rec_add(r, ev->text, ev->len);
    r->last = (int)ev->type;
    r->last_index = ev->index;
}

/* Feeds `text` split at the given cut points (sorted, ncut of them). */
static char *run_split(const struct g4_outparse_opts *o, const char *text, const size_t *cuts, int ncut, int *n_err) {
    struct rec r = {0};
    r.last = -1;
    struct g4_outparse *p = NULL;
    g4_error e;
    CHECK(g4_outparse_init(&p, o, rec_cb, &r, &e) == G4_OK);
    size_t n = strlen(text), at = 0;
    for (int i = 0; i <= ncut; i++) {
        size_t end = i < ncut ? cuts[i] : n;
        CHECK(g4_outparse_feed(p, text + at, end - at, &e) == G4_OK);
        at = end;
    }
    CHECK(g4_outparse_finish(p, false, &e) == G4_OK);
    g4_outparse_free(p);
    if (n_err) *n_err = r.n_err;
    return r.s;
}

/* ---- the table ------------------------------------------------------------ */

#define TOOLS_JSON                                                                                  \
    "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":"      \
    "\"object\",\"properties\":{\"city\":{\"type\":\"string\"},\"days\":{\"type\":\"integer\"}}}}}," \
    "{\"type\":\"function\",\"function\":{\"name\":\"run_terminal_command\",\"parameters\":{"      \
    "\"type\":\"object\",\"properties\":{\"command\":{\"type\":\"string\"}}}}},"                      \
    "{\"type\":\"function\",\"function\":{\"name\":\"create_new_file\",\"parameters\":{\"type\":"  \
    "\"object\",\"properties\":{\"filepath\":{\"type\":\"string\"},\"contents\":{\"type\":"         \
    "\"string\"}}}}}]"

struct tcase {
    const char *name;
    int flags;               /* 1 tools enabled, 2 start in reasoning, 4 pass the tools array */
    const char *in;
    const char *content;     /* NULL: expect JSON null */
    const char *reasoning;   /* NULL: absent */
    const char *calls[4][2]; /* name, arguments JSON */
    const char *finish;
    int errors;
};

#define TOOLS 1
#define INREASON 2
#define DECL 4

static const struct tcase CASES[] = {
    {"plain", 0, "Hello, world!<turn|>", "Hello, world!", NULL, {{0}}, "stop", 0},
    {"thinking", TOOLS, "<|channel>thought\nLet me think.<channel|>The answer is 4.<turn|>", "The answer is 4.",
     "Let me think.", {{0}}, "stop", 0},
    {"thinking disabled: empty thought channel", TOOLS, "<|channel>thought\n<channel|>Hi there", "Hi there", NULL,
     {{0}}, "stop", 0},
    {"start in reasoning", INREASON, "pondering<channel|>done", "done", "pondering", {{0}}, "stop", 0},
    {"unclosed thought channel", 0, "<|channel>thought\nstill thinking", "", "still thinking", {{0}}, "stop", 0},
    {"single call", TOOLS,
     "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:3}<tool_call|><|tool_response>", NULL, NULL,
     {{"get_weather", "{\"city\":\"Paris\",\"days\":3}"}}, "tool_calls", 0},
    {"nested values", TOOLS,
     "<|tool_call>call:f{a:{b:[1,2.5e3,-0.5],c:<|\"|>x \"q\" \\ \n<|\"|>},d:true,e:false,f:null,g:[]}<tool_call|>",
     NULL, NULL, {{"f", "{\"a\":{\"b\":[1,2.5e3,-0.5],\"c\":\"x \\\"q\\\" \\\\ \\n\"},\"d\":true,\"e\":false,"
                       "\"f\":null,\"g\":[]}"}}, "tool_calls", 0},
    {"string with braces and markup-like text", TOOLS,
     "<|tool_call>call:f{code:<|\"|>if (a) { b[0] = c:d, } <|\"|>}<tool_call|>", NULL, NULL,
     {{"f", "{\"code\":\"if (a) { b[0] = c:d, } \"}"}}, "tool_calls", 0},
    {"empty args", TOOLS, "<|tool_call>call:list_files{}<tool_call|>", NULL, NULL, {{"list_files", "{}"}},
     "tool_calls", 0},
    {"reasoning then call (llama.cpp #21418)", TOOLS,
     "<|channel>thought\nI need the weather.<channel|><|tool_call>call:get_weather{city:<|\"|>Oslo<|\"|>}"
     "<tool_call|>",
     NULL, "I need the weather.", {{"get_weather", "{\"city\":\"Oslo\"}"}}, "tool_calls", 0},
    {"call: straight after <channel|> (vLLM #54256)", TOOLS,
     "<|channel>thought\nweather<channel|>call:get_weather{city:<|\"|>Rome<|\"|>}<turn|>", NULL, "weather",
     {{"get_weather", "{\"city\":\"Rome\"}"}}, "tool_calls", 0},
    {"bare call: at output start", TOOLS, "\ncall:get_weather{city:<|\"|>Rome<|\"|>}", NULL, NULL,
     {{"get_weather", "{\"city\":\"Rome\"}"}}, "tool_calls", 0},
    {"bare call: undeclared name stays text", TOOLS | DECL, "call:me{maybe}", "call:me{maybe}", NULL, {{0}},
     "stop", 0},
    {"call: in prose is text", TOOLS, "Please call: 555-1234", "Please call: 555-1234", NULL, {{0}}, "stop", 0},
    {"BEGIN_ARG variant (ollama #18275)", TOOLS | DECL,
     "call:run_terminal_command:\nBEGIN_ARG:\n<|channel>thought\n<channel|>ls\nEND_ARG\n<|channel>thought\n"
     "<channel|><|tool_call>call:create_new_file:\nBEGIN_ARG:\nparser.py\nEND_ARG\nBEGIN_ARG:\nimport re\n\nx = "
     "\"a\"\nEND_ARG\n<tool_call|>",
     NULL, NULL,
     {{"run_terminal_command", "{\"command\":\"ls\"}"},
      {"create_new_file", "{\"filepath\":\"parser.py\",\"contents\":\"import re\\n\\nx = \\\"a\\\"\"}"}},
     "tool_calls", 0},
    {"BEGIN_ARG typed and unknown tool", TOOLS | DECL,
     "<|tool_call>call:get_weather:\nBEGIN_ARG:\nBerlin\nEND_ARG\nBEGIN_ARG:\n5\nEND_ARG<tool_call|>"
     "<|tool_call>call:other:\nBEGIN_ARG:\nv\nEND_ARG<tool_call|>",
     NULL, NULL, {{"get_weather", "{\"city\":\"Berlin\",\"days\":5}"}, {"other", "{\"arg0\":\"v\"}"}},
     "tool_calls", 0},
    {"missing <tool_call|> at end of stream", TOOLS, "<|tool_call>call:get_weather{city:<|\"|>Par", NULL, NULL,
     {{"get_weather", "{\"city\":\"Par\"}"}}, "tool_calls", 0},
    {"stream ends after key", TOOLS, "<|tool_call>call:f{a:1,b:", NULL, NULL, {{"f", "{\"a\":1,\"b\":null}"}},
     "tool_calls", 0},
    {"stream ends in nested array", TOOLS, "<|tool_call>call:f{a:[1,{b:[tru", NULL, NULL,
     {{"f", "{\"a\":[1,{\"b\":[\"tru\"]}]}"}}, "tool_calls", 0},
    {"missing close then end token", TOOLS, "<|tool_call>call:f{a:1<turn|>ignored", NULL, NULL,
     {{"f", "{\"a\":1}"}}, "tool_calls", 0},
    {"no <tool_call|> then text", TOOLS, "<|tool_call>call:f{a:1} Done.", "Done.", NULL, {{"f", "{\"a\":1}"}},
     "tool_calls", 0},
    {"literal <|tool_call> without tools", 0, "Use <|tool_call>call:f{a:<|\"|>x<|\"|>}<tool_call|> like this.",
     "Use <|tool_call>call:f{a:<|\"|>x<|\"|>}<tool_call|> like this.", NULL, {{0}}, "stop", 0},
    {"parallel calls", TOOLS,
     "<|tool_call>call:get_weather{city:<|\"|>A<|\"|>}<tool_call|><|tool_call>call:get_weather{city:<|\"|>B<|\"|>}"
     "<tool_call|>",
     NULL, NULL, {{"get_weather", "{\"city\":\"A\"}"}, {"get_weather", "{\"city\":\"B\"}"}}, "tool_calls", 0},
    {"two calls in one frame", TOOLS, "<|tool_call>call:a{}call:b{x:1}<tool_call|>", NULL, NULL,
     {{"a", "{}"}, {"b", "{\"x\":1}"}}, "tool_calls", 0},
    {"calls separated by newlines", TOOLS, "<|tool_call>call:a{}<tool_call|>\n<|tool_call>call:b{}<tool_call|>\n",
     NULL, NULL, {{"a", "{}"}, {"b", "{}"}}, "tool_calls", 0},
    {"text before and after the call", TOOLS,
     "Checking.<|tool_call>call:get_weather{city:<|\"|>X<|\"|>}<tool_call|>Anything else?<turn|>",
     "Checking.Anything else?", NULL, {{"get_weather", "{\"city\":\"X\"}"}}, "tool_calls", 0},
    {"quoted keys and JSON strings", TOOLS, "<|tool_call>call:f{<|\"|>my key<|\"|>:\"v\\\"w\\u00e9\",\"k2\":'s'}",
     NULL, NULL, {{"f", "{\"my key\":\"v\\\"w\\\\u00e9\",\"k2\":\"s\"}"}}, "tool_calls", 0},
    {"unquoted string values and python literals", TOOLS, "<|tool_call>call:f{city:San Francisco , ok:True,n:None}",
     NULL, NULL, {{"f", "{\"city\":\"San Francisco\",\"ok\":true,\"n\":null}"}}, "tool_calls", 0},
    {"huge numbers stay parseable", TOOLS, "<|tool_call>call:f{a:1e999,b:123456789012345678901234567890,c:-2.5e-400}",
     NULL, NULL, {{"f", "{\"a\":\"1e999\",\"b\":123456789012345678901234567890,\"c\":-2.5e-400}"}},
     "tool_calls", 0},
    {"trailing commas and holes", TOOLS, "<|tool_call>call:f{a:[1,,2,],b:,}<tool_call|>", NULL, NULL,
     {{"f", "{\"a\":[1,2],\"b\":null}"}}, "tool_calls", 0},
    {"malformed head is an error", TOOLS, "<|tool_call>oops not a call<tool_call|>After", "After", NULL, {{0}},
     "stop", 1},
    {"malformed args: closed, error, rest skipped", TOOLS, "<|tool_call>call:f{a:1]junk<tool_call|>ok", "ok", NULL,
     {{"f", "{\"a\":1}"}}, "tool_calls", 1},
    {"unicode in strings and content", TOOLS,
     "h\xc3\xa9llo \xe2\x82\xac<|tool_call>call:f{s:<|\"|>\xf0\x9f\x98\x80\t<|\"|>}", "h\xc3\xa9llo \xe2\x82\xac",
     NULL, {{"f", "{\"s\":\"\xf0\x9f\x98\x80\\t\"}"}}, "tool_calls", 0},
    {"invalid UTF-8 replaced", 0, "a\xff" "b\xc3", "a\xef\xbf\xbd" "b\xef\xbf\xbd", NULL, {{0}}, "stop", 0},
    {"near-miss markup is text", TOOLS, "a <|chan b <tool x<|tool_cal", "a <|chan b <tool x<|tool_cal", NULL,
     {{0}}, "stop", 0},
    {"stray markup never leaks", TOOLS, "<bos>A<channel|>B<|\"|>C<tool_call|>D<|image|>E", "ABCDE", NULL, {{0}},
     "stop", 0},
    {"second thought after tool response", TOOLS, "<|channel>thought\nmore<channel|>Final.", "Final.", "more",
     {{0}}, "stop", 0},
    {"gemma 3 end of turn", 0, "Hi<end_of_turn>\n", "Hi", NULL, {{0}}, "stop", 0},
    {"whitespace-only content dropped before call", TOOLS,
     "<|channel>thought\nx<channel|>\n\n<|tool_call>call:a{}<tool_call|>", NULL, "x", {{"a", "{}"}}, "tool_calls", 0},
    {"stray markup at content start keeps call detection", TOOLS, "<channel|><bos>\ncall:a{}", NULL, NULL,
     {{"a", "{}"}}, "tool_calls", 0},
    {"call inside an unclosed thought", TOOLS, "<|channel>thought\nplan<|tool_call>call:a{}<tool_call|>", NULL,
     "plan", {{"a", "{}"}}, "tool_calls", 0},
    {"channel without newline", TOOLS, "<|channel>thought<channel|>Yes", "Yes", NULL, {{0}}, "stop", 0},
};

static void check_case(const struct tcase *tc) {
    struct g4_outparse_opts o = {.tools_enabled = tc->flags & TOOLS, .start_in_reasoning = tc->flags & INREASON,
                                 .id_seed = 42};
    json_t *tools = NULL;
    if (tc->flags & DECL) {
        tools = json_loads(TOOLS_JSON, 0, NULL);
        CHECK(tools != NULL);
        o.tools = tools;
    }
    json_t *msg = NULL;
    const char *finish = NULL;
    g4_error e;
    size_t n = strlen(tc->in);
    CHECKF(g4_outparse_parse(&o, tc->in, n, false, &msg, &finish, &e) == G4_OK, "%s: parse failed", tc->name);
    if (!msg) goto out;
    const json_t *content = json_object_get(msg, "content");
    if (tc->content) CHECKF(json_is_string(content) && strcmp(json_string_value(content), tc->content) == 0,
                            "%s: content '%s'", tc->name, json_string_value(content));
    else CHECKF(json_is_null(content), "%s: content should be null, got '%s'", tc->name, json_string_value(content));
    const char *rc = json_string_value(json_object_get(msg, "reasoning_content"));
    if (tc->reasoning) CHECKF(rc && strcmp(rc, tc->reasoning) == 0, "%s: reasoning '%s'", tc->name, rc);
    else CHECKF(!rc, "%s: unexpected reasoning '%s'", tc->name, rc);
    const json_t *calls = json_object_get(msg, "tool_calls");
    size_t ncalls = 0;
    while (ncalls < 4 && tc->calls[ncalls][0]) ncalls++;
    CHECKF(json_array_size(calls) == ncalls, "%s: %zu calls, expected %zu", tc->name, json_array_size(calls), ncalls);
    for (size_t i = 0; i < ncalls && i < json_array_size(calls); i++) {
        const json_t *c = json_array_get(calls, i);
        const json_t *fn = json_object_get(c, "function");
        const char *id = json_string_value(json_object_get(c, "id"));
        CHECKF(id && strncmp(id, "call_", 5) == 0 && strlen(id) == 29, "%s: id %s", tc->name, id);
        CHECKF(strcmp(json_string_value(json_object_get(fn, "name")), tc->calls[i][0]) == 0, "%s: name %s",
               tc->name, json_string_value(json_object_get(fn, "name")));
        const char *args = json_string_value(json_object_get(fn, "arguments"));
        json_t *got = json_loads(args, JSON_DECODE_INT_AS_REAL, NULL), *want = json_loads(tc->calls[i][1], JSON_DECODE_INT_AS_REAL, NULL);
        CHECKF(want != NULL, "%s: bad expected JSON", tc->name);
        CHECKF(got && json_is_object(got) && json_equal(got, want), "%s: call %zu arguments %s, expected %s",
               tc->name, i, args, tc->calls[i][1]);
        json_decref(got);
        json_decref(want);
    }
    CHECKF(finish && strcmp(finish, tc->finish) == 0, "%s: finish %s", tc->name, finish);

    /* streaming at every split point, byte by byte, must equal one-shot */
    int nerr = 0;
    char *whole = run_split(&o, tc->in, NULL, 0, &nerr);
    CHECKF(nerr == tc->errors, "%s: %d errors, expected %d", tc->name, nerr, tc->errors);
    for (size_t i = 1; i < n; i++) {
        char *s = run_split(&o, tc->in, &i, 1, NULL);
        CHECKF(strcmp(s, whole) == 0, "%s: split at %zu differs:\n%s\n--- vs one-shot:\n%s", tc->name, i, s, whole);
        free(s);
    }
    size_t *cuts = malloc(n * sizeof *cuts);
    for (size_t i = 0; i + 1 < n; i++) cuts[i] = i + 1;
    char *s = run_split(&o, tc->in, cuts, n > 0 ? (int)n - 1 : 0, NULL);
    CHECKF(strcmp(s, whole) == 0, "%s: byte-by-byte differs:\n%s\n--- vs one-shot:\n%s", tc->name, s, whole);
    free(s);
    free(cuts);
    free(whole);
out:
    json_decref(msg);
    json_decref(tools);
}

static void test_table(void) {
    for (size_t i = 0; i < G4_ARRAY_LEN(CASES); i++) check_case(&CASES[i]);
}

/* Ids are stable per seed and differ across seeds and indices. */
static void test_ids(void) {
    const char *in = "<|tool_call>call:a{}<tool_call|><|tool_call>call:b{}<tool_call|>";
    struct g4_outparse_opts o = {.tools_enabled = true, .id_seed = 1};
    json_t *m1 = NULL, *m2 = NULL, *m3 = NULL;
    CHECK(g4_outparse_parse(&o, in, strlen(in), false, &m1, NULL, NULL) == G4_OK);
    CHECK(g4_outparse_parse(&o, in, strlen(in), false, &m2, NULL, NULL) == G4_OK);
    o.id_seed = 2;
    CHECK(g4_outparse_parse(&o, in, strlen(in), false, &m3, NULL, NULL) == G4_OK);
#define ID(m, i) json_string_value(json_object_get(json_array_get(json_object_get(m, "tool_calls"), i), "id"))
    CHECK(ID(m1, 0) && ID(m1, 1) && ID(m3, 0));
    if (ID(m1, 0) && ID(m1, 1) && ID(m3, 0)) {
        CHECK(strcmp(ID(m1, 0), ID(m2, 0)) == 0);
        CHECK(strcmp(ID(m1, 0), ID(m1, 1)) != 0);
        CHECK(strcmp(ID(m1, 0), ID(m3, 0)) != 0);
    }
#undef ID
    json_decref(m1);
    json_decref(m2);
    json_decref(m3);
}

/* The length cap: finish_reason "length" when cut inside a call or without
 * calls; a completed call keeps "tool_calls". */
static void test_length(void) {
    struct g4_outparse_opts o = {.tools_enabled = true};
    const char *fin = NULL;
    json_t *m = NULL;
    CHECK(g4_outparse_parse(&o, "<|tool_call>call:f{a:<|\"|>x", 26, true, &m, &fin, NULL) == G4_OK);
    CHECK(fin && strcmp(fin, "length") == 0);
    json_decref(m);
    CHECK(g4_outparse_parse(&o, "text", 4, true, &m, &fin, NULL) == G4_OK);
    CHECK(fin && strcmp(fin, "length") == 0);
    json_decref(m);
    const char *done = "<|tool_call>call:f{}<tool_call|>more";
    CHECK(g4_outparse_parse(&o, done, strlen(done), true, &m, &fin, NULL) == G4_OK);
    CHECK(fin && strcmp(fin, "tool_calls") == 0);
    json_decref(m);
}

/* Held-back prefix: a chunk ending in "<|tool" produces no content event
 * until the next chunk decides. */
static void test_holdback(void) {
    struct rec r = {0};
    r.last = -1;
    struct g4_outparse_opts o = {.tools_enabled = true};
    struct g4_outparse *p = NULL;
    CHECK(g4_outparse_init(&p, &o, rec_cb, &r, NULL) == G4_OK);
    CHECK(g4_outparse_feed(p, "Hi <|tool", 9, NULL) == G4_OK);
    CHECK(r.s && strcmp(r.s, "\n[C]Hi ") == 0);
    CHECK(g4_outparse_feed(p, "_call>call:f{}", 14, NULL) == G4_OK);
    CHECK(r.s && strstr(r.s, "<|tool") == NULL && strstr(r.s, "[S0") != NULL);
    CHECK(g4_outparse_feed(p, "call:g{a:<|\"|>hel", 17, NULL) == G4_OK); /* arguments stream before the end */
    CHECK(r.s && strstr(r.s, "[A1]{\"a\":\"hel") != NULL);
    CHECK(g4_outparse_feed(p, "lo<|\"|>}", 9, NULL) == G4_OK);
    CHECK(r.s && strstr(r.s, "[A1]{\"a\":\"hello\"}\n[E1]") != NULL);
    CHECK(g4_outparse_feed(p, "\xe2\x82", 2, NULL) == G4_OK); /* half a euro sign */
    CHECK(g4_outparse_finish(p, false, NULL) == G4_OK);
    CHECK(g4_outparse_feed(p, "x", 1, NULL) == G4_ERR_INVALID_ARG);
    g4_outparse_free(p);
    free(r.s);
}

/* Reasoning attribution per token, for reasoning_tokens. */
static void test_in_reasoning(void) {
    static const char *toks[] = {"<|channel>", "thought", "\n", "Let", " me", "<channel|>", "Hi", "<turn|>"};
    static const bool want[] = {true, true, true, true, true, false, false, false};
    struct rec r = {0};
    r.last = -1;
    struct g4_outparse *p = NULL;
    CHECK(g4_outparse_init(&p, NULL, rec_cb, &r, NULL) == G4_OK);
    CHECK(!g4_outparse_in_reasoning(p));
    for (size_t i = 0; i < G4_ARRAY_LEN(toks); i++) {
        CHECK(g4_outparse_feed(p, toks[i], strlen(toks[i]), NULL) == G4_OK);
        CHECKF(g4_outparse_in_reasoning(p) == want[i], "after token %zu", i);
    }
    g4_outparse_free(p);
    free(r.s);
}

/* Random garbage made of markup fragments: never crashes, arguments are
 * always valid JSON objects, split feeding equals one-shot. */
static void test_random_markup(void) {
    static const char *frag[] = {"<|tool_call>", "<tool_call|>", "<|\"|>", "call:", "f", "{", "}", "[", "]", ",",
                                 ":", "a", "1", " ", "\n", "<|channel>", "<channel|>", "thought\n", "\"", "\\",
                                 "BEGIN_ARG:", "END_ARG", "<turn|>", "<|", "\xc3\xa9", "true", "-", "."};
    uint64_t x = 12345;
    for (int it = 0; it < 300; it++) {
        char in[512];
        size_t n = 0;
        int k = 1 + (int)(x % 40);
        for (int j = 0; j < k; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            const char *f = frag[(x >> 33) % G4_ARRAY_LEN(frag)];
            size_t fl = strlen(f);
            if (n + fl >= sizeof in) break;
            memcpy(in + n, f, fl);
            n += fl;
        }
        in[n] = 0;
        struct g4_outparse_opts o = {.tools_enabled = (it & 1) == 0};
        json_t *m = NULL;
        CHECK(g4_outparse_parse(&o, in, n, false, &m, NULL, NULL) == G4_OK);
        const json_t *calls = json_object_get(m, "tool_calls");
        for (size_t i = 0; i < json_array_size(calls); i++) {
            const char *a = json_string_value(json_object_get(json_object_get(json_array_get(calls, i), "function"),
                                                              "arguments"));
            json_t *j = json_loads(a, JSON_DECODE_INT_AS_REAL, NULL);
            CHECKF(j && json_is_object(j), "invalid arguments %s from input %s", a, in);
            json_decref(j);
        }
        json_decref(m);
        char *whole = run_split(&o, in, NULL, 0, NULL);
        size_t cut = n / 2;
        char *s = run_split(&o, in, &cut, 1, NULL);
        CHECKF(strcmp(s, whole) == 0, "split differs for %s", in);
        free(s);
        free(whole);
    }
}

int main(void) {
    RUN(test_table);
    RUN(test_ids);
    RUN(test_length);
    RUN(test_holdback);
    RUN(test_in_reasoning);
    RUN(test_random_markup);
    return test_done();
}
