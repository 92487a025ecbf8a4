/* outparse_message.c — one-shot parsing of a complete Gemma 4 output into an
 * OpenAI assistant message (g4_outparse_parse), built on the streaming parser
 * so that both paths agree by construction: the events are collected into
 * content / reasoning_content / tool_calls. Errors of malformed calls are
 * dropped (the streaming API reports them as G4_OUT_ERROR events). */
#include "tokenizer/outparse.h"

#include "core/strbuf.h"

#include <stdlib.h>
#include <string.h>


struct collect {
    struct g4_strbuf content, reasoning, args;
    json_t *calls; /* array of tool_call objects */
    const char *finish;
    g4_status st;
};

static void col_add(struct collect *c, struct g4_strbuf *b, const char *s, size_t n) {
    if (c->st != G4_OK) return;
    g4_strbuf_put(b, s, n);
    if (b->oom) c->st = G4_ERR_NOMEM;
}

static void col_cb(void *user, const struct g4_outparse_event *ev) {
    struct collect *c = user;
    switch (ev->type) {
    case G4_OUT_CONTENT: col_add(c, &c->content, ev->text, ev->len); break;
    case G4_OUT_REASONING: col_add(c, &c->reasoning, ev->text, ev->len); break;
    case G4_OUT_TOOL_START: {
        json_t *call = json_pack("{s:s,s:s,s:{s:s,s:s}}", "id", ev->id, "type", "function", "function",
                                 "name", ev->name, "arguments", "");
        if (!call || json_array_append_new(c->calls, call) != 0) c->st = G4_ERR_NOMEM;
        c->args.n = 0;
        break;
    }
    case G4_OUT_TOOL_ARGS: col_add(c, &c->args, ev->text, ev->len); break;
    case G4_OUT_TOOL_END: {
        json_t *fn = json_object_get(json_array_get(c->calls, (size_t)ev->index), "function");
        if (fn && json_object_set_new(fn, "arguments", json_stringn(c->args.p ? c->args.p : "", c->args.n)) != 0)
            c->st = G4_ERR_NOMEM;
        break;
    }
    case G4_OUT_ERROR: break;
    case G4_OUT_FINISH: c->finish = ev->finish_reason; break;
    }
}

g4_status g4_outparse_parse(const struct g4_outparse_opts *opts, const char *text, size_t n,
                            bool length_cap, json_t **message, const char **finish_reason,
                            g4_error *err) {
    if (!message || (!text && n)) return g4_fail(err, G4_ERR_INVALID_ARG, "outparse: NULL argument");
    *message = NULL;
    struct collect c = {.calls = json_array(), .st = G4_OK};
    struct g4_outparse *p = NULL;
    g4_status st = c.calls ? G4_OK : g4_fail(err, G4_ERR_NOMEM, "outparse: out of memory");
    if (st == G4_OK) st = g4_outparse_init(&p, opts, col_cb, &c, err);
    if (st == G4_OK) st = g4_outparse_feed(p, text, n, err);
    if (st == G4_OK) st = g4_outparse_finish(p, length_cap, err);
    if (st == G4_OK && c.st != G4_OK) st = g4_fail(err, c.st, "outparse: out of memory");
    json_t *msg = NULL;
    if (st == G4_OK) {
        size_t ncalls = json_array_size(c.calls);
        msg = json_pack("{s:s}", "role", "assistant");
        json_t *content = (c.content.n || !ncalls) ? json_stringn(c.content.p ? c.content.p : "", c.content.n)
                                                    : json_null();
        if (!msg || json_object_set_new(msg, "content", content) != 0) st = G4_ERR_NOMEM;
        if (st == G4_OK && c.reasoning.n &&
            json_object_set_new(msg, "reasoning_content", json_stringn(c.reasoning.p, c.reasoning.n)) != 0)
            st = G4_ERR_NOMEM;
        if (st == G4_OK && ncalls && json_object_set(msg, "tool_calls", c.calls) != 0) st = G4_ERR_NOMEM;
        if (st != G4_OK) {
            json_decref(msg);
            msg = NULL;
            g4_fail(err, st, "outparse: out of memory");
        }
    }
    *message = msg;
    if (finish_reason) *finish_reason = c.finish;
    g4_outparse_free(p);
    json_decref(c.calls);
    free(c.content.p);
    free(c.reasoning.p);
    free(c.args.p);
    return st;
}
