/* fuzz_chat.c — libFuzzer target for the chat renderers.
 * The input is JSON: either a request object {"messages", "tools",
 * "add_generation_prompt", "enable_thinking"} or a bare messages value.
 * Both formats render it; any status is fine, crashes, leaks and UB are not.
 * Also feeds the raw bytes to the public string API as messages JSON. */
#include "g4.h"
#include "tokenizer/chat.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *req = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (req) {
        const json_t *msgs = json_is_object(req) ? json_object_get(req, "messages") : req;
        const json_t *tools = json_is_object(req) ? json_object_get(req, "tools") : NULL;
        struct g4_chat_opts o = {
            .add_generation_prompt = !json_is_false(json_object_get(req, "add_generation_prompt")),
            .enable_thinking = json_is_true(json_object_get(req, "enable_thinking")),
            .bos = "<bos>",
        };
        for (int fmt = G4_CHAT_GEMMA3; fmt <= G4_CHAT_GEMMA4; fmt++) {
            char *out = NULL;
            g4_error err;
            if (g4_chat_render_json((enum g4_chat_format)fmt, msgs, tools, &o, &out, &err) == G4_OK && !out) abort();
            free(out);
        }
        json_decref(req);
    }
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    char *out = NULL;
    g4_error err;
    if (g4_chat_render_format("gemma4", s, NULL, NULL, &out, &err) == G4_OK && !out) abort();
    free(out);
    free(s);
    return 0;
}
