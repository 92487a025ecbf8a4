/* fuzz_grammar.c — libFuzzer target for the grammar compiler and matcher.
 * Byte 0 picks the mode: 0 json_object, 1 a schema taken from the input up
 * to the first NUL (the rest is the document), 2 the Gemma tool-call grammar
 * for fixed tools. Oracles: a complete JSON document must parse with jansson;
 * a complete tool-call span, rendered back to text, must give the output
 * parser at least one call whose arguments are a JSON object. The token-mask
 * walk runs on a tiny vocabulary at the final state. */
#include "runtime/grammar.h"
#include "tokenizer/outparse.h"

#include <stdlib.h>
#include <string.h>

static const char *TOOLS =
    "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"properties\":"
    "{\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"}},\"c\":{\"enum\":"
    "[1,\"x\",{\"k\":null}]},\"d\":{\"anyOf\":[{\"type\":\"number\"},{\"type\":\"object\"}]}},\"required\":"
    "[\"a\"]}}},{\"type\":\"function\",\"function\":{\"name\":\"g\"}}]";

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 1) return 0;
    int mode = data[0] % 3;
    const char *doc = (const char *)data + 1;
    size_t n = size - 1;
    json_t *schema = NULL, *tools = NULL;
    struct g4_grammar *g = NULL;
    char unsup[128];
    if (mode == 1) {
        const char *z = memchr(doc, 0, n);
        if (!z) return 0;
        schema = json_loadb(doc, (size_t)(z - doc), JSON_DECODE_ANY, NULL);
        n -= (size_t)(z - doc) + 1;
        doc = z + 1;
        if (!schema) return 0;
        struct g4_grammar_opts o = {.ignore_unsupported = (data[0] & 8) != 0};
        if (g4_grammar_compile_json(schema, &o, &g, unsup, sizeof unsup, NULL) != G4_OK) {
            json_decref(schema);
            return 0;
        }
    } else if (mode == 2) {
        tools = json_loads(TOOLS, 0, NULL);
        struct g4_grammar_tool_opts o = {.parallel = (data[0] & 8) != 0, .allow_thought = (data[0] & 16) != 0};
        if (g4_grammar_compile_tools(tools, &o, &g, NULL, 0, NULL) != G4_OK) abort();
    } else if (g4_grammar_compile_json(NULL, NULL, &g, NULL, 0, NULL) != G4_OK) {
        abort();
    }
    struct g4_grammar_state *s = NULL;
    if (g4_grammar_state_new(g, &s, NULL) != G4_OK) abort();
    bool ok = g4_grammar_accept_bytes(s, doc, n);
    if (ok && g4_grammar_is_complete(s)) {
        if (mode != 2) {
            json_t *v = json_loadb(doc, n, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
            if (!v) abort();
            json_decref(v);
        } else if (!memchr(doc, '<', n)) {
            char *text = malloc(n * 12 + 1);
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                unsigned char b = (unsigned char)doc[i];
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
            struct g4_outparse_opts po = {.tools_enabled = true};
            json_t *msg = NULL;
            if (g4_outparse_parse(&po, text, m, false, &msg, NULL, NULL) != G4_OK) abort();
            const json_t *calls = json_object_get(msg, "tool_calls");
            if (json_array_size(calls) < 1) abort();
            for (size_t i = 0; i < json_array_size(calls); i++) {
                const char *a = json_string_value(
                    json_object_get(json_object_get(json_array_get(calls, i), "function"), "arguments"));
                json_t *v = json_loads(a, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
                if (!v || !json_is_object(v)) abort();
                json_decref(v);
            }
            json_decref(msg);
            free(text);
        }
    }
    static const char *toks[] = {"{", "}", "\"", "\"a", "1", "true", " ", "<|\"|>", "call:f", "<eos>", "x\"", "é"};
    uint32_t lens[12];
    uint8_t kinds[12] = {0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0};
    for (int i = 0; i < 12; i++) lens[i] = (uint32_t)strlen(toks[i]);
    struct g4_grammar_vocab *v = NULL;
    if (g4_grammar_vocab_new(12, toks, lens, kinds, &v, NULL) != G4_OK) abort();
    uint64_t mask[1];
    if (g4_grammar_fill_mask(v, s, mask, NULL) != G4_OK) abort();
    g4_grammar_vocab_free(v);
    g4_grammar_state_free(s);
    g4_grammar_free(g);
    json_decref(schema);
    json_decref(tools);
    return 0;
}
