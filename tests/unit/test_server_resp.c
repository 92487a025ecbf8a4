/* test_server_resp.c — exact OpenAI response shapes (chat.completion,
 * chunks, usage chunk, text_completion, models), SSE framing, parser-event
 * deltas and the non-stream accumulator, ids, invalid UTF-8 handling. */
#include "server/openai_resp.h"
#include "test.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const struct g4_oai_head H = {"chatcmpl-X", 1700000000, "gemma", "fp_g4"};

static void expect_json(json_t *j, const char *want, int line) {
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!s || strcmp(s, want)) test_report(__FILE__, line, "got  %s\nwant %s", s ? s : "(null)", want);
    free(s);
    json_decref(j);
}
#define EXPECT(j, want) expect_json(j, want, __LINE__)

static void test_chat_response(void) {
    struct g4_oai_usage u = {10, 5, 4, 2};
    json_t *msg = json_pack("{s:s, s:s}", "role", "assistant", "content", "Hi");
    EXPECT(g4_oai_chat_response(&H, msg, "stop", &u),
           "{\"id\":\"chatcmpl-X\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"gemma\","
           "\"system_fingerprint\":\"fp_g4\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
           "\"content\":\"Hi\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,"
           "\"completion_tokens\":5,\"total_tokens\":15,\"prompt_tokens_details\":{\"cached_tokens\":4},"
           "\"completion_tokens_details\":{\"reasoning_tokens\":2}}}");
}

static void test_chunks(void) {
    EXPECT(g4_oai_chat_chunk(&H, json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL, false),
           "{\"id\":\"chatcmpl-X\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gemma\","
           "\"system_fingerprint\":\"fp_g4\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
           "\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}");
    EXPECT(g4_oai_chat_chunk(&H, NULL, "length", true),
           "{\"id\":\"chatcmpl-X\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gemma\","
           "\"system_fingerprint\":\"fp_g4\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
           "\"finish_reason\":\"length\"}],\"usage\":null}");
    struct g4_oai_usage u = {3, 2, 0, 0};
    EXPECT(g4_oai_usage_chunk(&H, "chat.completion.chunk", &u),
           "{\"id\":\"chatcmpl-X\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gemma\","
           "\"system_fingerprint\":\"fp_g4\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,"
           "\"total_tokens\":5,\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":"
           "{\"reasoning_tokens\":0}}}");
}

static void test_completion(void) {
    struct g4_oai_head h = {"cmpl-Y", 1, "gemma", "fp"};
    struct g4_oai_usage u = {1, 1, 0, 0};
    EXPECT(g4_oai_completion_response(&h, "ab", 2, "length", &u),
           "{\"id\":\"cmpl-Y\",\"object\":\"text_completion\",\"created\":1,\"model\":\"gemma\",\"system_fingerprint\":"
           "\"fp\",\"choices\":[{\"text\":\"ab\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"length\"}],"
           "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2,\"prompt_tokens_details\":"
           "{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}");
    EXPECT(g4_oai_completion_chunk(&h, "c", 1, NULL, false),
           "{\"id\":\"cmpl-Y\",\"object\":\"text_completion\",\"created\":1,\"model\":\"gemma\",\"system_fingerprint\":"
           "\"fp\",\"choices\":[{\"text\":\"c\",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]}");
}

static void test_models(void) {
    const char *mods[] = {"text", "image"};
    EXPECT(g4_oai_models_json(g4_oai_model_json("gemma", 5, 4096, mods, 2)),
           "{\"object\":\"list\",\"data\":[{\"id\":\"gemma\",\"object\":\"model\",\"created\":5,\"owned_by\":\"g4\","
           "\"context_length\":4096,\"architecture\":{\"input_modalities\":[\"text\",\"image\"],"
           "\"output_modalities\":[\"text\"]}}]}");
}

static void test_sse(void) {
    json_t *j = json_pack("{s:i}", "a", 1);
    size_t n = 0;
    char *s = g4_sse_data(j, &n);
    CHECK(s && n == strlen(s) && !strcmp(s, "data: {\"a\":1}\n\n"));
    free(s);
    json_decref(j);
}

static void test_text_and_ids(void) {
    EXPECT(g4_json_text("a\xff" "b\xe2\x82", 5), "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\"");
    EXPECT(g4_json_text("\xc3\xa9", 2), "\"\xc3\xa9\"");
    char id[64], id2[64];
    g4_oai_new_id("chatcmpl-", id, sizeof id);
    g4_oai_new_id("chatcmpl-", id2, sizeof id2);
    CHECK(strlen(id) == 9 + 24 && !strncmp(id, "chatcmpl-", 9) && strcmp(id, id2));
    for (size_t i = 9; i < strlen(id); i++) CHECK(isalnum((unsigned char)id[i]));
}

static void test_event_deltas(void) {
    struct g4_outparse_event ev = {.type = G4_OUT_CONTENT, .text = "Hel", .len = 2};
    EXPECT(g4_oai_event_delta(&ev), "{\"content\":\"He\"}");
    ev = (struct g4_outparse_event){.type = G4_OUT_REASONING, .text = "think", .len = 5};
    EXPECT(g4_oai_event_delta(&ev), "{\"reasoning_content\":\"think\"}");
    ev = (struct g4_outparse_event){.type = G4_OUT_TOOL_START, .index = 1, .id = "call_1", .name = "get"};
    EXPECT(g4_oai_event_delta(&ev), "{\"tool_calls\":[{\"index\":1,\"id\":\"call_1\",\"type\":\"function\","
                                    "\"function\":{\"name\":\"get\",\"arguments\":\"\"}}]}");
    ev = (struct g4_outparse_event){.type = G4_OUT_TOOL_ARGS, .index = 1, .text = "{\"a\":", .len = 5};
    EXPECT(g4_oai_event_delta(&ev), "{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"{\\\"a\\\":\"}}]}");
    ev = (struct g4_outparse_event){.type = G4_OUT_TOOL_END, .index = 1};
    CHECK(g4_oai_event_delta(&ev) == NULL);
}

static void test_accumulator(void) {
    struct g4_chat_acc a = {0};
    struct g4_outparse_event evs[] = {
        {.type = G4_OUT_REASONING, .text = "hm", .len = 2},
        {.type = G4_OUT_CONTENT, .text = "ok", .len = 2},
        {.type = G4_OUT_TOOL_START, .index = 0, .id = "call_a", .name = "f"},
        {.type = G4_OUT_TOOL_ARGS, .index = 0, .text = "{\"x\":", .len = 5},
        {.type = G4_OUT_TOOL_ARGS, .index = 0, .text = "1}", .len = 2},
        {.type = G4_OUT_TOOL_END, .index = 0},
        {.type = G4_OUT_TOOL_START, .index = 1, .id = "call_b", .name = "g"},
        {.type = G4_OUT_TOOL_ARGS, .index = 1, .text = "{}", .len = 2},
        {.type = G4_OUT_TOOL_END, .index = 1},
    };
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) g4_chat_acc_event(&a, &evs[i]);
    EXPECT(g4_chat_acc_message(&a),
           "{\"role\":\"assistant\",\"content\":\"ok\",\"reasoning_content\":\"hm\",\"tool_calls\":[{\"id\":\"call_a\","
           "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":1}\"}},{\"id\":\"call_b\","
           "\"type\":\"function\",\"function\":{\"name\":\"g\",\"arguments\":\"{}\"}}]}");
    g4_chat_acc_free(&a);
    struct g4_chat_acc b = {0};
    EXPECT(g4_chat_acc_message(&b), "{\"role\":\"assistant\",\"content\":null}");
    g4_chat_acc_free(&b);
}

int main(void) {
    RUN(test_chat_response);
    RUN(test_chunks);
    RUN(test_completion);
    RUN(test_models);
    RUN(test_sse);
    RUN(test_text_and_ids);
    RUN(test_event_deltas);
    RUN(test_accumulator);
    return test_done();
}
