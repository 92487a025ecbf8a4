/* fuzz_openai_req.c — libFuzzer target: arbitrary bytes as a chat or
 * completion request body through the JSON parser and g4_oai_req_parse,
 * plus the UTF-8-repairing string builder used for every response text.
 * Invariant: never crashes or leaks; a rejection is always a 400 or 500
 * with a non-empty message. */
#include "server/openai_req.h"
#include "server/openai_resp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *t = g4_json_text((const char *)data, size);
    json_decref(t);
    json_t *b = json_loadb((const char *)data, size, 0, NULL);
    if (!b) return 0;
    for (int k = 1; k <= 2; k++) {
        struct g4_oai_req r;
        struct g4_api_error e;
        int st = g4_oai_req_parse(&r, (enum g4_oai_kind)k, b, 1000, &e);
        if (st == 0) g4_oai_req_free(&r);
        else if ((st != 400 && st != 500) || !e.message[0]) abort();
        else {
            char *s = g4_api_error_dump(&e);
            if (!s) abort();
            free(s);
        }
    }
    json_decref(b);
    return 0;
}
