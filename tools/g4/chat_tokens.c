/* chat_tokens.c — trusted-markup / untrusted-content tokenization of a
 * rendered conversation (see chat_tokens.h for the method and why). */
#include "chat_tokens.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

g4_status tokens_append(const g4_model *m, const char *text, size_t len, int flags, int32_t **ids, size_t *n,
                        size_t *cap, g4_error *err) {
    size_t need = 0;
    g4_status st = g4_tokenize(m, text, len, flags, *ids ? *ids + *n : NULL, *ids ? *cap - *n : 0, &need, err);
    if (st == G4_OK) {
        *n += need;
        return G4_OK;
    }
    if (st != G4_ERR_RANGE) return st;
    size_t nc = *cap ? *cap : 256;
    while (nc - *n < need) {
        if (nc > SIZE_MAX / 2 / sizeof **ids) {
            err->code = G4_ERR_NOMEM;
            snprintf(err->message, sizeof err->message, "too many tokens");
            return G4_ERR_NOMEM;
        }
        nc *= 2;
    }
    int32_t *p = realloc(*ids, nc * sizeof *p);
    if (!p) {
        err->code = G4_ERR_NOMEM;
        snprintf(err->message, sizeof err->message, "out of memory for %zu tokens", nc);
        return G4_ERR_NOMEM;
    }
    *ids = p;
    *cap = nc;
    st = g4_tokenize(m, text, len, flags, *ids + *n, *cap - *n, &need, err);
    if (st == G4_OK) *n += need;
    return st;
}

static char *render(const g4_model *m, const struct chat_msg *msgs, size_t n, bool think, bool sentinel,
                    g4_error *err) {
    json_t *arr = json_array();
    char tag[32];
    for (size_t i = 0; arr && i < n; i++) {
        snprintf(tag, sizeof tag, "\x01G4C%zu\x01", i);
        json_t *o = json_pack("{s:s, s:s}", "role", msgs[i].role, "content", sentinel ? tag : msgs[i].content);
        if (!o || json_array_append_new(arr, o)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    char *js = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    if (!js) {
        err->code = G4_ERR_INVALID_ARG;
        snprintf(err->message, sizeof err->message, "chat: cannot encode the messages as JSON (invalid UTF-8?)");
        return NULL;
    }
    char *out = NULL;
    const char *opts = think ? "{\"add_generation_prompt\":true,\"enable_thinking\":true}"
                             : "{\"add_generation_prompt\":true}";
    g4_status st = g4_chat_render(m, js, NULL, opts, &out, err);
    free(js);
    return st ? NULL : out;
}

g4_status chat_tokens(const g4_model *m, const struct chat_msg *msgs, size_t n, bool think, int32_t **ids,
                      size_t *n_ids, g4_error *err) {
    *ids = NULL;
    *n_ids = 0;
    char *real = render(m, msgs, n, think, false, err);
    if (!real) return err->code;
    char *sent = render(m, msgs, n, think, true, err);
    if (!sent) {
        free(real);
        return err->code;
    }
    size_t cap = 0;
    g4_status st = G4_OK;
    const char *p = sent, *r = real;
    size_t real_len = strlen(real);
    while (st == G4_OK) {
        /* the earliest sentinel after p */
        const char *best = NULL;
        size_t which = 0, tag_len = 0;
        char tag[32];
        for (size_t i = 0; i < n; i++) {
            int tl = snprintf(tag, sizeof tag, "\x01G4C%zu\x01", i);
            const char *q = strstr(p, tag);
            if (q && (!best || q < best)) best = q, which = i, tag_len = (size_t)tl;
        }
        size_t seg = best ? (size_t)(best - p) : strlen(p);
        /* template text: must match the real rendering, trusted */
        if ((size_t)(real + real_len - r) < seg || memcmp(p, r, seg)) break;
        if (seg) st = tokens_append(m, p, seg, G4_TOK_PARSE_SPECIAL, ids, n_ids, &cap, err);
        p += seg;
        r += seg;
        if (!best) break;
        const char *c = msgs[which].content;
        size_t cl = strlen(c);
        if ((size_t)(real + real_len - r) < cl || memcmp(c, r, cl)) break;
        if (st == G4_OK && cl) st = tokens_append(m, c, cl, 0, ids, n_ids, &cap, err);
        p += tag_len;
        r += cl;
    }
    if (st == G4_OK && (*p || *r)) {
        err->code = st = G4_ERR_INVALID_ARG;
        snprintf(err->message, sizeof err->message,
                 "chat: the template changed a message's text (leading/trailing spaces?); cannot tokenize it safely");
    }
    if (st) {
        free(*ids);
        *ids = NULL;
        *n_ids = 0;
    }
    free(real);
    free(sent);
    return st;
}
