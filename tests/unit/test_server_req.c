/* test_server_req.c — OpenAI request validation: defaults, every field's
 * accepted forms, and every wrong type or range giving a 400 whose param
 * names the field. */
#include "server/openai_req.h"
#include "test.h"

#include <string.h>

/* Parses `extra` merged into a minimal valid chat body; returns the status. */
static int parse_chat(const char *extra, struct g4_oai_req *r, struct g4_api_error *e) {
    char buf[4096];
    snprintf(buf, sizeof buf, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]%s%s}",
             extra[0] ? "," : "", extra);
    json_error_t je;
    json_t *b = json_loads(buf, 0, &je);
    if (!b) {
        test_report(__FILE__, __LINE__, "bad test JSON: %s", buf);
        return -1;
    }
    int st = g4_oai_req_parse(r, G4_OAI_CHAT, b, 1000, e);
    json_decref(b);
    return st;
}

static void expect_bad(const char *extra, const char *param) {
    struct g4_oai_req r;
    struct g4_api_error e = {0};
    int st = parse_chat(extra, &r, &e);
    CHECKF(st == 400, "%s: status %d", extra, st);
    CHECKF(st != 400 || !strcmp(e.param, param), "%s: param '%s', want '%s'", extra, e.param, param);
    CHECKF(st != 400 || !strcmp(e.type, "invalid_request_error"), "%s: type %s", extra, e.type);
    if (!st) g4_oai_req_free(&r);
}

static void expect_ok(const char *extra) {
    struct g4_oai_req r;
    struct g4_api_error e = {0};
    int st = parse_chat(extra, &r, &e);
    CHECKF(st == 0, "%s: status %d (%s)", extra, st, e.message);
    if (!st) g4_oai_req_free(&r);
}

static void test_defaults(void) {
    struct g4_oai_req r;
    struct g4_api_error e;
    CHECK(parse_chat("", &r, &e) == 0);
    CHECK(r.kind == G4_OAI_CHAT && !strcmp(r.model, "m") && json_array_size(r.messages) == 1);
    CHECK(r.max_tokens == -1 && r.temperature == 1 && r.top_p == 1 && r.top_k == 0 && r.min_p == 0);
    CHECK(!r.has_seed && r.n_stop == 0 && !r.stream && !r.include_usage && !r.tools);
    CHECK(r.tool_choice == G4_TOOL_AUTO && r.parallel_tool_calls && r.thinking == -1);
    g4_oai_req_free(&r);
}

static void test_values(void) {
    struct g4_oai_req r;
    struct g4_api_error e;
    CHECK(parse_chat("\"max_tokens\":5,\"max_completion_tokens\":7,\"temperature\":0,\"top_p\":0.5,\"top_k\":40,"
                     "\"min_p\":0.1,\"seed\":-3,\"stop\":[\"a\",\"\",\"bc\"],\"presence_penalty\":1.5,"
                     "\"frequency_penalty\":-2,\"logit_bias\":{\"5\":-100,\"999\":3.5},\"stream\":true,"
                     "\"stream_options\":{\"include_usage\":true},\"reasoning_effort\":\"high\",\"user\":\"u\","
                     "\"n\":1,\"logprobs\":false,\"top_logprobs\":0,\"response_format\":{\"type\":\"text\"},"
                     "\"parallel_tool_calls\":false,\"tool_choice\":\"none\",\"unknown_field\":[1,2]",
                     &r, &e) == 0);
    CHECK(r.max_tokens == 7 && r.temperature == 0 && r.top_p == 0.5 && r.top_k == 40);
    CHECK(r.has_seed && r.seed == (uint64_t)-3);
    CHECK(r.n_stop == 2 && !strcmp(r.stop[0], "a") && !strcmp(r.stop[1], "bc"));
    CHECK(r.presence_penalty == 1.5 && r.frequency_penalty == -2);
    CHECK(r.n_logit_bias == 2 && r.logit_bias[0].token == 5 && r.logit_bias[0].bias == -100);
    CHECK(r.stream && r.include_usage && r.thinking == 1 && !strcmp(r.user, "u"));
    CHECK(!r.parallel_tool_calls && r.tool_choice == G4_TOOL_NONE);
    g4_oai_req_free(&r);
    CHECK(parse_chat("\"stop\":\"END\",\"max_tokens\":16.0,\"temperature\":null", &r, &e) == 0);
    CHECK(r.n_stop == 1 && !strcmp(r.stop[0], "END") && r.max_tokens == 16 && r.temperature == 1);
    g4_oai_req_free(&r);
    expect_ok("\"reasoning_effort\":\"none\"");
    struct g4_oai_req r2;
    struct g4_api_error e2;
    CHECK(parse_chat("\"response_format\":{\"type\":\"json_object\"}", &r2, &e2) == 0 &&
          r2.response_format == G4_FMT_JSON_OBJECT);
    g4_oai_req_free(&r2);
    CHECK(parse_chat("\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"strict\":true,"
                     "\"schema\":{\"type\":\"object\"}}}", &r2, &e2) == 0 &&
          r2.response_format == G4_FMT_JSON_SCHEMA && r2.schema_strict && json_is_object(r2.json_schema));
    g4_oai_req_free(&r2);
    CHECK(parse_chat("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":"
                     "{\"type\":\"function\",\"function\":{\"name\":\"f\"}}", &r2, &e2) == 0 &&
          r2.tool_choice == G4_TOOL_NAMED && !strcmp(r2.tool_choice_name, "f"));
    g4_oai_req_free(&r2);
    expect_ok("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":\"required\"");
    expect_ok("\"chat_template_kwargs\":{\"enable_thinking\":false}");
    expect_ok("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\"}}}],"
              "\"tool_choice\":\"auto\"");
    expect_ok("\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"developer\",\"content\":null},"
              "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]},{\"role\":\"assistant\","
              "\"content\":\"a\"},{\"role\":\"tool\",\"content\":\"r\"}]");
}

static void test_wrong_types(void) {
    static const struct {
        const char *extra, *param;
    } cases[] = {
        {"\"model\":5", "model"},
        {"\"messages\":\"hi\"", "messages"},
        {"\"messages\":[]", "messages"},
        {"\"messages\":[5]", "messages[0]"},
        {"\"messages\":[{\"content\":\"x\"}]", "messages[0].role"},
        {"\"messages\":[{\"role\":\"bot\",\"content\":\"x\"}]", "messages[0].role"},
        {"\"messages\":[{\"role\":\"user\",\"content\":5}]", "messages[0].content"},
        {"\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\"}]}]", "messages[0].content[0]"},
        {"\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]}]",
         "messages[0].content[0]"},
        {"\"max_tokens\":\"5\"", "max_tokens"},
        {"\"max_tokens\":0", "max_tokens"},
        {"\"max_tokens\":1.5", "max_tokens"},
        {"\"max_completion_tokens\":-4", "max_completion_tokens"},
        {"\"temperature\":\"1\"", "temperature"},
        {"\"temperature\":2.5", "temperature"},
        {"\"top_p\":-0.1", "top_p"},
        {"\"top_p\":true", "top_p"},
        {"\"top_k\":1.5", "top_k"},
        {"\"top_k\":-2", "top_k"},
        {"\"min_p\":3", "min_p"},
        {"\"seed\":\"x\"", "seed"},
        {"\"stop\":5", "stop"},
        {"\"stop\":[\"a\",3]", "stop[1]"},
        {"\"presence_penalty\":3", "presence_penalty"},
        {"\"frequency_penalty\":\"0\"", "frequency_penalty"},
        {"\"logit_bias\":[1]", "logit_bias"},
        {"\"logit_bias\":{\"x\":1}", "logit_bias"},
        {"\"logit_bias\":{\"1000\":1}", "logit_bias"},
        {"\"logit_bias\":{\"1\":101}", "logit_bias"},
        {"\"logit_bias\":{\"1\":\"a\"}", "logit_bias"},
        {"\"n\":2", "n"},
        {"\"n\":\"1\"", "n"},
        {"\"logprobs\":1", "logprobs"},
        {"\"top_logprobs\":3", "top_logprobs"},
        {"\"logprobs\":true,\"top_logprobs\":21", "top_logprobs"},
        {"\"top_logprobs\":30", "top_logprobs"},
        {"\"stream\":1", "stream"},
        {"\"stream_options\":true", "stream_options"},
        {"\"stream_options\":{\"include_usage\":\"yes\"}", "stream_options.include_usage"},
        {"\"tools\":{}", "tools"},
        {"\"tools\":[5]", "tools[0]"},
        {"\"tools\":[{\"type\":\"retrieval\"}]", "tools[0].type"},
        {"\"tools\":[{\"type\":\"function\"}]", "tools[0].function"},
        {"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"\"}}]", "tools[0].function.name"},
        {"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"bad name\"}}]", "tools[0].function.name"},
        {"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"a{b\"}}]", "tools[0].function.name"},
        {"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"x12345678901234567890123456789012345678901234567890123456789012345\"}}]", "tools[0].function.name"},
        {"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"description\":1}}]",
         "tools[0].function.description"},
        {"\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":[]}}]",
         "tools[0].function.parameters"},
        {"\"tool_choice\":\"sometimes\"", "tool_choice"},
        {"\"tool_choice\":5", "tool_choice"},
        {"\"tool_choice\":\"required\"", "tool_choice"},
        {"\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}", "tool_choice"},
        {"\"parallel_tool_calls\":\"no\"", "parallel_tool_calls"},
        {"\"response_format\":\"json\"", "response_format"},
        {"\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{}}", "response_format.json_schema.schema"},
        {"\"response_format\":{\"type\":\"json_schema\"}", "response_format.json_schema"},
        {"\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{},\"strict\":1}}",
         "response_format.json_schema.strict"},
        {"\"response_format\":{\"type\":\"yaml\"}", "response_format"},
        {"\"reasoning_effort\":\"max\"", "reasoning_effort"},
        {"\"reasoning_effort\":1", "reasoning_effort"},
        {"\"chat_template_kwargs\":{\"enable_thinking\":1}", "chat_template_kwargs.enable_thinking"},
        {"\"user\":7", "user"},
        {"\"functions\":[]", "functions"},
        {"\"best_of\":3", "best_of"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) expect_bad(cases[i].extra, cases[i].param);
}

static void test_limits(void) {
    /* 65 stop strings, a 2000-byte stop string */
    char buf[4096] = "\"stop\":[";
    for (int i = 0; i < 65; i++) strcat(buf, i ? ",\"s\"" : "\"s\"");
    strcat(buf, "]");
    expect_bad(buf, "stop");
    char *big = malloc(2100);
    strcpy(big, "\"stop\":\"");
    memset(big + 8, 'a', 2000);
    strcpy(big + 2008, "\"");
    char *body = malloc(2300);
    snprintf(body, 2300, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],%s}", big);
    json_t *b = json_loads(body, 0, NULL);
    struct g4_oai_req r;
    struct g4_api_error e;
    CHECK(b && g4_oai_req_parse(&r, G4_OAI_CHAT, b, 0, &e) == 400 && !strcmp(e.param, "stop"));
    json_decref(b);
    free(big);
    free(body);
    /* not an object */
    b = json_loads("[1]", 0, NULL);
    CHECK(g4_oai_req_parse(&r, G4_OAI_CHAT, b, 0, &e) == 400 && e.param[0] == 0);
    json_decref(b);
}

static void test_completion(void) {
    struct g4_oai_req r;
    struct g4_api_error e;
    json_t *b = json_loads("{\"prompt\":\"Once\",\"max_tokens\":3}", 0, NULL);
    CHECK(g4_oai_req_parse(&r, G4_OAI_COMPLETION, b, 100, &e) == 0 && !strcmp(r.prompt, "Once") && r.max_tokens == 3);
    g4_oai_req_free(&r);
    json_decref(b);
    b = json_loads("{\"prompt\":[\"One\"]}", 0, NULL);
    CHECK(g4_oai_req_parse(&r, G4_OAI_COMPLETION, b, 100, &e) == 0 && !strcmp(r.prompt, "One"));
    g4_oai_req_free(&r);
    json_decref(b);
    b = json_loads("{\"prompt\":[2, 5, 99]}", 0, NULL);
    CHECK(g4_oai_req_parse(&r, G4_OAI_COMPLETION, b, 100, &e) == 0 && r.n_prompt_ids == 3 && r.prompt_ids[2] == 99);
    g4_oai_req_free(&r);
    json_decref(b);
    const char *bad[][2] = {{"{}", "prompt"},
                            {"{\"prompt\":5}", "prompt"},
                            {"{\"prompt\":[100]}", "prompt"},
                            {"{\"prompt\":[\"a\",\"b\"]}", "prompt"},
                            {"{\"prompt\":\"a\",\"echo\":true}", "echo"},
                            {"{\"prompt\":\"a\",\"suffix\":\"b\"}", "suffix"},
                            {"{\"prompt\":\"a\",\"logprobs\":2}", "logprobs"},
                            {"{\"prompt\":\"a\",\"best_of\":2}", "best_of"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = json_loads(bad[i][0], 0, NULL);
        int st = g4_oai_req_parse(&r, G4_OAI_COMPLETION, b, 100, &e);
        CHECKF(st == 400 && !strcmp(e.param, bad[i][1]), "%s: %d %s", bad[i][0], st, st ? e.param : "");
        if (!st) g4_oai_req_free(&r);
        json_decref(b);
    }
}

static void test_error_json(void) {
    struct g4_api_error e;
    g4_api_bad(&e, "temperature", "bad \xff value");
    char *s = g4_api_error_dump(&e);
    CHECKF(s && !strcmp(s, "{\"error\":{\"message\":\"bad ? value\",\"type\":\"invalid_request_error\","
                           "\"param\":\"temperature\",\"code\":null}}"), "%s", s);
    free(s);
    g4_api_fail(&e, 400, "invalid_request_error", "context_length_exceeded", NULL, "m");
    s = g4_api_error_dump(&e);
    CHECKF(s && strstr(s, "\"param\":null") && strstr(s, "\"code\":\"context_length_exceeded\""), "%s", s);
    free(s);
}

int main(void) {
    RUN(test_defaults);
    RUN(test_values);
    RUN(test_wrong_types);
    RUN(test_limits);
    RUN(test_completion);
    RUN(test_error_json);
    return test_done();
}
