/* generate.c — POST /v1/chat/completions and /v1/completions.
 * On the HTTP thread: parse and validate (openai_req), check the model id,
 * render and tokenize (prompt.c), check the context, build a g4_gen_req and
 * queue it (503 + Retry-After when full), then consume its channel:
 * generated text goes through the Gemma output parser (chat) into
 * reasoning / content / tool-call events, which become either stream chunks
 * or one final message. Streams send the role chunk at once (headers go out
 * before the prefill), ": ping" comments while nothing else is sent, the
 * finish chunk, the usage chunk when asked, then [DONE]; an error after the
 * stream started is `data: {"error":...}` then [DONE]. A client that goes
 * away is noticed within a second (socket peek on every wait) and its
 * sequence cancelled. */
#include "server/server.h"

#include "api/model_impl.h"
#include "core/log.h"
#include "server/openai_req.h"
#include "server/openai_resp.h"

#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define WAIT_MS 1000 /* channel wait between disconnect checks */

struct gen {
    struct g4_server *srv;
    struct MHD_Connection *conn;
    struct g4_gen_req *req;
    enum g4_oai_kind kind;
    bool stream, include_usage, parallel_tools, cut;
    char id[64];
    struct g4_oai_head head;
    struct g4_outparse *parser;
    json_t *tools;
    struct g4_chat_acc acc;       /* non-stream chat */
    char *text;                   /* non-stream completion text */
    size_t text_len;
    char *reasoning;              /* reasoning text (for reasoning_tokens) */
    size_t reasoning_len;
    char *out;                    /* stream bytes not yet handed to MHD */
    size_t out_len, out_pos, out_cap;
    const char *finish_reason;
    bool finished, oom;
    bool logprobs;
    json_t *lp_pending;           /* logprobs.content entries not yet sent (stream) or all (non-stream) */
    double last_send;
    size_t n_prompt;
};

static void out_append(struct gen *g, const char *s, size_t n) {
    if (g->out_len + n + 1 > g->out_cap) {
        size_t cap = (g->out_len + n + 1) * 2;
        char *b = realloc(g->out, cap);
        if (!b) {
            g->oom = true;
            return;
        }
        g->out = b;
        g->out_cap = cap;
    }
    memcpy(g->out + g->out_len, s, n);
    g->out_len += n;
}

static void out_json(struct gen *g, json_t *j) {
    size_t n = 0;
    char *s = j ? g4_sse_data(j, &n) : NULL;
    json_decref(j);
    if (!s) {
        g->oom = true;
        return;
    }
    out_append(g, s, n);
    free(s);
}

static void buf_append(struct gen *g, char **b, size_t *len, const char *s, size_t n) {
    char *nb = realloc(*b, *len + n + 1);
    if (!nb) {
        g->oom = true;
        return;
    }
    memcpy(nb + *len, s, n);
    *len += n;
    nb[*len] = 0;
    *b = nb;
}

/* One token as OpenAI's logprobs entries show it: text, exact bytes. */
static json_t *token_entry(const struct gen *g, int32_t id, float lp) {
    const g4_model *m = g->srv->model;
    char buf[8];
    char *text = NULL;
    size_t len = 0, pl = 0;
    const char *p = g4_tokenizer_piece(m->tok, id, &pl);
    const char *b = NULL;
    const int hx = p ? g4_tokenizer_byte_piece(p, pl) : -1;
    if (hx >= 0) {
        buf[0] = (char)hx;
        b = buf;
        len = 1;
    } else {
        g4_error err;
        if (g4_detokenize(m, &id, 1, 0, &text, &len, &err) != G4_OK) len = 0;
        b = text;
    }
    json_t *bytes = json_array();
    for (size_t i = 0; bytes && i < len; i++) json_array_append_new(bytes, json_integer((unsigned char)b[i]));
    double v = isfinite(lp) ? (double)lp : -9999.0; /* OpenAI's stand-in for -inf */
    json_t *e = json_pack("{s:o, s:f, s:o}", "token", g4_json_text(b, len), "logprob", v, "bytes", bytes);
    free(text);
    return e;
}

static void take_logprobs(struct gen *g) {
    struct g4_tok_lp *recs = NULL;
    size_t n = g4_gen_req_take_lp(g->req, &recs);
    for (size_t i = 0; i < n; i++) {
        json_t *e = token_entry(g, recs[i].id, recs[i].lp), *tops = json_array();
        for (int k = 0; tops && k < recs[i].n_top; k++)
            json_array_append_new(tops, token_entry(g, recs[i].top_id[k], recs[i].top_lp[k]));
        if (!e || !tops || json_object_set_new(e, "top_logprobs", tops) || json_array_append_new(g->lp_pending, e))
            g->oom = true;
    }
    free(recs);
}

/* Moves the pending logprobs into a chunk's choice. */
static json_t *with_logprobs(struct gen *g, json_t *chunk) {
    if (!g->logprobs || !chunk || !json_array_size(g->lp_pending)) return chunk;
    json_t *choice = json_array_get(json_object_get(chunk, "choices"), 0);
    json_object_set_new(choice, "logprobs", json_pack("{s:o}", "content", g->lp_pending));
    g->lp_pending = json_array();
    if (!g->lp_pending) g->oom = true;
    return chunk;
}

static void on_event(void *user, const struct g4_outparse_event *ev) {
    struct gen *g = user;
    if (ev->type == G4_OUT_FINISH) {
        g->finish_reason = ev->finish_reason;
        return;
    }
    if (ev->type == G4_OUT_ERROR) {
        g4_log(G4_LOG_WARN, "serve: %s: %.*s", g->id, (int)G4_MIN(ev->len, 300), ev->text);
        return;
    }
    if (g->cut) return;
    if (ev->type == G4_OUT_TOOL_START && ev->index >= 1 && !g->parallel_tools) {
        /* parallel_tool_calls=false: keep only the first call, stop generating */
        g->cut = true;
        atomic_store(&g->req->cancel, true);
        return;
    }
    if (ev->type == G4_OUT_REASONING) buf_append(g, &g->reasoning, &g->reasoning_len, ev->text, ev->len);
    if (!g->stream) {
        g4_chat_acc_event(&g->acc, ev);
        return;
    }
    json_t *d = g4_oai_event_delta(ev);
    if (d) out_json(g, with_logprobs(g, g4_oai_chat_chunk(&g->head, d, NULL, g->include_usage)));
}

static void feed(struct gen *g, const char *t, size_t n) {
    if (g->kind == G4_OAI_CHAT) {
        g4_error err;
        if (g4_outparse_feed(g->parser, t, n, &err) != G4_OK) g->oom = true;
    } else if (g->stream) {
        out_json(g, g4_oai_completion_chunk(&g->head, t, n, NULL, g->include_usage));
    } else {
        buf_append(g, &g->text, &g->text_len, t, n);
    }
}

static void usage_of(struct gen *g, struct g4_oai_usage *u) {
    pthread_mutex_lock(&g->req->mu);
    u->prompt_tokens = (int64_t)g->n_prompt;
    u->completion_tokens = g->req->n_generated;
    u->cached_tokens = g->req->n_cached;
    pthread_mutex_unlock(&g->req->mu);
    u->reasoning_tokens = 0;
    if (g->reasoning_len) { /* tokens of the reasoning text as the model's tokenizer counts them */
        int32_t *ids;
        size_t n;
        struct g4_api_error e;
        if (!g4_prompt_tokenize(g->srv->model, g->reasoning, g->reasoning_len, 0, &ids, &n, &e)) {
            u->reasoning_tokens = (int64_t)G4_MIN((int64_t)n, u->completion_tokens);
            free(ids);
        }
    }
}

/* The generation ended: flush the parser and, for streams, write the tail. */
static void finalize(struct gen *g) {
    enum g4_gen_finish f = g->req->finish;
    if (f == G4_FINISH_CANCELLED && !g->cut) {
        f = G4_FINISH_ERROR;
        g4_api_fail(&g->req->error, 503, "unavailable_error", "server_shutting_down", NULL,
                    "the request was cancelled because the server is shutting down");
    }
    if (f == G4_FINISH_ERROR) {
        if (g->stream) {
            out_json(g, g4_api_error_json(&g->req->error));
            out_append(g, "data: [DONE]\n\n", 14);
        }
        g->finished = true;
        return;
    }
    bool length = f == G4_FINISH_LENGTH;
    if (g->kind == G4_OAI_CHAT) {
        g4_error err;
        if (g4_outparse_finish(g->parser, length && !g->cut, &err) != G4_OK) g->oom = true;
    } else {
        g->finish_reason = length ? "length" : "stop";
    }
    if (!g->finish_reason) g->finish_reason = length ? "length" : "stop";
    if (g->stream) {
        struct g4_oai_usage u;
        usage_of(g, &u);
        if (g->kind == G4_OAI_CHAT)
            out_json(g, with_logprobs(g, g4_oai_chat_chunk(&g->head, NULL, g->finish_reason, g->include_usage)));
        else out_json(g, g4_oai_completion_chunk(&g->head, "", 0, g->finish_reason, g->include_usage));
        if (g->include_usage)
            out_json(g, g4_oai_usage_chunk(&g->head, g->kind == G4_OAI_CHAT ? "chat.completion.chunk" : "text_completion", &u));
        out_append(g, "data: [DONE]\n\n", 14);
    }
    g->finished = true;
}

/* Waits for the next piece; returns true once finalized. */
static bool pump(struct gen *g, int timeout_ms) {
    char *t = NULL;
    size_t n = 0;
    bool done = g4_gen_req_wait(g->req, timeout_ms, &t, &n);
    if (g->logprobs) take_logprobs(g); /* before the text, so its chunk carries them */
    if (t) feed(g, t, n);
    free(t);
    if (done) finalize(g);
    return done;
}

static void gen_free(struct gen *g) {
    if (!g) return;
    if (g->srv) atomic_fetch_sub(&g->srv->active, 1);
    if (g->req) {
        atomic_store(&g->req->cancel, true);
        g4_gen_req_release(g->req);
    }
    g4_outparse_free(g->parser);
    json_decref(g->tools);
    json_decref(g->lp_pending);
    g4_chat_acc_free(&g->acc);
    free(g->text);
    free(g->reasoning);
    free(g->out);
    free(g);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    struct gen *g = cls;
    for (;;) {
        if (g->out_pos < g->out_len) {
            size_t n = G4_MIN(max, g->out_len - g->out_pos);
            memcpy(buf, g->out + g->out_pos, n);
            g->out_pos += n;
            g->last_send = g4_now();
            return (ssize_t)n;
        }
        g->out_len = g->out_pos = 0;
        if (g->finished) return MHD_CONTENT_READER_END_OF_STREAM;
        if (g->oom) return MHD_CONTENT_READER_END_WITH_ERROR;
        if (g4_http_peer_gone(g->conn)) {
            atomic_store(&g->req->cancel, true);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        bool done = pump(g, WAIT_MS);
        if (!done && !g->out_len && g4_now() - g->last_send >= g->srv->cfg->ping_interval) out_append(g, ": ping\n\n", 8);
    }
}

static void stream_free(void *cls) { gen_free(cls); }

/* Sampling parameters and stop strings of the request into the generation. */
static int setup_req(struct g4_gen_req *q, struct g4_oai_req *r, const g4_model *m, int64_t n_ctx,
                     struct g4_api_error *e) {
    struct g4_sampler_params *sp = &q->sp;
    /* fields the client left out come from the model's generation_config
     * (Gemma: temperature 1, top_k 64, top_p 0.95), else OpenAI's defaults */
    const struct g4_config *c = &m->cfg;
    sp->temperature = (float)r->temperature;
    sp->top_k = r->top_k;
    sp->top_p = (float)r->top_p;
    if (!r->set_temperature && c->temperature > 0) sp->temperature = c->temperature;
    if (!r->set_top_k && c->top_k > 0) sp->top_k = c->top_k;
    if (!r->set_top_p && c->top_p > 0 && c->top_p <= 1) sp->top_p = c->top_p;
    sp->min_p = (float)r->min_p;
    sp->repeat_penalty = (float)r->repetition_penalty;
    sp->presence_penalty = (float)r->presence_penalty;
    sp->frequency_penalty = (float)r->frequency_penalty;
    int64_t budget = n_ctx - (int64_t)q->n_prompt;
    q->max_tokens = r->max_tokens > 0 ? G4_MIN(r->max_tokens, budget) : budget;
    /* OpenAI penalties count the tokens generated so far: window = the whole completion */
    bool pen = r->presence_penalty != 0 || r->frequency_penalty != 0 || r->repetition_penalty != 1;
    sp->penalty_last_n = pen ? (int32_t)G4_MIN(q->max_tokens, (int64_t)1 << 24) : 0;
    if (r->has_seed) sp->seed = r->seed;
    else if (getrandom(&sp->seed, sizeof sp->seed, 0) != (ssize_t)sizeof sp->seed) sp->seed = (uint64_t)time(NULL);
    if (r->n_logit_bias) {
        q->bias = malloc((size_t)r->n_logit_bias * sizeof *q->bias);
        if (!q->bias) return g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
        for (int i = 0; i < r->n_logit_bias; i++) q->bias[i] = (struct g4_logit_bias){r->logit_bias[i].token, r->logit_bias[i].bias};
        sp->logit_bias = q->bias;
        sp->n_logit_bias = r->n_logit_bias;
    }
    q->stop = r->stop;
    q->n_stop = r->n_stop;
    r->stop = NULL;
    r->n_stop = 0;
    return 0;
}

/* tool_choice "none" (or no tools) on a Gemma 4 chat: the model must not
 * call, so the tokens that frame a call are banned at sampling time (the
 * sampler's suppress list: -inf before bias, penalties and sampling), not
 * merely left unparsed. An unframed `call:` after <channel|> stays content,
 * since the parser only recognizes it while tools are enabled. */
static void ban_tool_calls(struct g4_gen_req *q, const g4_model *m, int32_t n_vocab) {
    static const char *const marks[] = {"<|tool_call>", "<tool_call|>"};
    int n = 0;
    for (size_t i = 0; i < G4_ARRAY_LEN(marks); i++) {
        int32_t id = g4_tokenizer_find(m->tok, marks[i], strlen(marks[i]));
        if (id >= 0 && id < n_vocab) q->ban[n++] = id;
    }
    q->sp.suppress_tokens = q->ban;
    q->sp.n_suppress = n;
}

/* tool_choice auto on a Gemma 4 model: the tool-call grammar starts when
 * the model samples <|tool_call> (the text before it is free), so a call
 * the model decides to make names a declared function and has valid
 * arguments. Schema keywords the grammar does not support are ignored here
 * (the grammar then accepts more than the schema): auto requests never
 * failed on them before, and still do not. */
static int compile_auto_grammar(struct g4_gen_req *q, const struct g4_oai_req *r, const g4_model *m,
                                struct g4_api_error *e) {
    int32_t trig = g4_tokenizer_find(m->tok, "<|tool_call>", 12);
    if (trig < 0) return 0;
    struct g4_grammar_tool_opts to = {.parallel = r->parallel_tool_calls, .ignore_unsupported = true};
    g4_error err = {0};
    g4_status st = g4_grammar_compile_tools(r->tools, &to, &q->grammar, NULL, 0, &err);
    if (st == G4_ERR_NOMEM) return g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
    if (st != G4_OK) return g4_api_bad(e, "tools", "%s", err.message);
    q->grammar_trigger = trig;
    return 0;
}

/* Structured output: response_format json_object / json_schema, or
 * tool_choice required / named (Gemma 4 tool-call grammar). */
static int compile_grammar(struct g4_gen_req *q, const struct g4_oai_req *r, struct g4_api_error *e) {
    bool forced = r->tools && (r->tool_choice == G4_TOOL_REQUIRED || r->tool_choice == G4_TOOL_NAMED);
    if (!forced && r->response_format == G4_FMT_TEXT) return 0;
    if (forced && r->response_format != G4_FMT_TEXT)
        return g4_api_bad(e, "response_format", "'response_format' cannot be combined with a forced 'tool_choice'");
    char unsup[256] = "";
    g4_error err = {0};
    g4_status st;
    if (forced) {
        struct g4_grammar_tool_opts to = {.only = r->tool_choice == G4_TOOL_NAMED ? r->tool_choice_name : NULL,
                                          .allow_thought = r->thinking == 1,
                                          .parallel = r->parallel_tool_calls};
        st = g4_grammar_compile_tools(r->tools, &to, &q->grammar, unsup, sizeof unsup, &err);
    } else {
        struct g4_grammar_opts go = {.closed_objects = r->schema_strict};
        st = g4_grammar_compile_json(r->response_format == G4_FMT_JSON_SCHEMA ? r->json_schema : NULL, &go, &q->grammar,
                                     unsup, sizeof unsup, &err);
    }
    if (st == G4_ERR_NOMEM) return g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
    if (st != G4_OK)
        return g4_api_bad(e, forced ? "tools" : "response_format.json_schema.schema", "%s", err.message);
    return 0;
}

static struct MHD_Response *handle(struct g4_http_req *hr, enum g4_oai_kind kind, int *status) {
    struct g4_server *s = hr->srv;
    struct MHD_Response *resp = NULL;
    struct g4_api_error e;
    struct g4_oai_req r;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    struct gen *g = NULL;
    json_t *body = g4_parse_body(hr, &resp, status);
    if (!body) return resp;
    int st = g4_oai_req_parse(&r, kind, body, s->n_vocab, &e);
    json_decref(body);
    if (st) return g4_http_error(&e, status);
    if (r.model && strcmp(r.model, s->model_id)) {
        g4_api_fail(&e, 404, "invalid_request_error", "model_not_found", "model",
                    "The model '%.200s' does not exist (this server serves '%s')", r.model, s->model_id);
        goto fail;
    }
    bool gemma4 = s->model->chat_format == G4_CHAT_GEMMA4;
    bool tools_on = r.tools && r.tool_choice != G4_TOOL_NONE;
    if (kind == G4_OAI_CHAT) {
        if (tools_on && !gemma4) {
            g4_api_bad(&e, "tools", "this model's chat format (Gemma 3) has no tool calling; send tool_choice \"none\" or no tools");
            goto fail;
        }
        if (r.thinking == 1 && !gemma4) {
            g4_api_bad(&e, "reasoning_effort", "this model (Gemma 3) has no thinking mode; use reasoning_effort \"none\"");
            goto fail;
        }
        if ((st = g4_prompt_chat(s->model, s->specials, &r, r.thinking == 1, false, &ids, &n_ids, &e))) goto fail;
    } else if (r.prompt) {
        if ((st = g4_prompt_tokenize(s->model, r.prompt, strlen(r.prompt), G4_TOK_PARSE_SPECIAL | G4_TOK_ADD_BOS, &ids,
                                     &n_ids, &e)))
            goto fail;
    } else {
        ids = r.prompt_ids;
        n_ids = r.n_prompt_ids;
        r.prompt_ids = NULL;
    }
    if ((int64_t)n_ids >= s->n_ctx || !n_ids) {
        g4_api_fail(&e, 400, "invalid_request_error", "context_length_exceeded", kind == G4_OAI_CHAT ? "messages" : "prompt",
                    "This model's maximum context length is %lld tokens. However, your %s resulted in %zu tokens. "
                    "Please reduce the length of the %s.",
                    (long long)s->n_ctx, kind == G4_OAI_CHAT ? "messages" : "prompt", n_ids,
                    kind == G4_OAI_CHAT ? "messages" : "prompt");
        if (!n_ids) g4_api_bad(&e, "prompt", "the prompt is empty");
        goto fail;
    }
    g = calloc(1, sizeof *g);
    struct g4_gen_req *q = g ? g4_gen_req_new(ids, n_ids) : NULL;
    if (!q) {
        g4_api_fail(&e, 500, "server_error", NULL, NULL, "out of memory");
        goto fail;
    }
    ids = NULL;
    g->req = q;
    g->srv = s;
    atomic_fetch_add(&s->active, 1);
    g->conn = hr->conn;
    g->kind = kind;
    g->stream = r.stream;
    g->include_usage = r.stream && r.include_usage;
    g->parallel_tools = r.parallel_tool_calls;
    g->n_prompt = n_ids;
    g->last_send = g4_now();
    g4_oai_new_id(kind == G4_OAI_CHAT ? "chatcmpl-" : "cmpl-", g->id, sizeof g->id);
    g->head = (struct g4_oai_head){g->id, (int64_t)time(NULL), s->model_id, s->fingerprint};
    q->keep_special = kind == G4_OAI_CHAT;
    q->logprobs = r.logprobs ? r.top_logprobs : -1;
    g->logprobs = r.logprobs;
    if (g->logprobs && (!(g->lp_pending = json_array()) || !g4_gen_req_reserve_lp(q, 256))) {
        g4_api_fail(&e, 500, "server_error", NULL, NULL, "out of memory");
        goto fail_engine_ref;
    }
    if ((st = setup_req(q, &r, s->model, s->n_ctx, &e))) goto fail_engine_ref;
    if ((st = compile_grammar(q, &r, &e))) goto fail_engine_ref;
    if (kind == G4_OAI_CHAT && gemma4 && !tools_on) ban_tool_calls(q, s->model, s->n_vocab);
    if (kind == G4_OAI_CHAT && gemma4 && tools_on && r.tool_choice == G4_TOOL_AUTO && !q->grammar &&
        (st = compile_auto_grammar(q, &r, s->model, &e)))
        goto fail_engine_ref;
    if (kind == G4_OAI_CHAT) {
        struct g4_outparse_opts po = {.tools_enabled = tools_on && gemma4};
        if (getrandom(&po.id_seed, sizeof po.id_seed, 0) != (ssize_t)sizeof po.id_seed) po.id_seed = (uint64_t)time(NULL);
        if (po.tools_enabled) g->tools = json_incref(r.tools), po.tools = g->tools;
        g4_error err;
        if (g4_outparse_init(&g->parser, &po, on_event, g, &err) != G4_OK) {
            g4_api_fail(&e, 500, "server_error", NULL, NULL, "%s", err.message);
            goto fail_engine_ref;
        }
    }
    if (!g4_gen_queue_push(&s->q, q)) {
        g4_api_fail(&e, 503, "unavailable_error", "server_busy", NULL,
                    "the server is busy (%d requests waiting); retry later", s->cfg->queue_cap);
        goto fail_engine_ref;
    }
    g4_oai_req_free(&r);
    if (g->stream) {
        if (kind == G4_OAI_CHAT)
            out_json(g, g4_oai_chat_chunk(&g->head, json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL,
                                          g->include_usage));
        else
            out_append(g, ": g4\n\n", 6); /* lets the headers out before the prefill */
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_reader, g, stream_free);
        if (!resp) {
            gen_free(g);
            return NULL;
        }
        MHD_add_response_header(resp, "Content-Type", "text/event-stream");
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
        MHD_add_response_header(resp, "X-Accel-Buffering", "no");
        *status = 200;
        return resp;
    }
    while (!pump(g, WAIT_MS)) {
        if (g4_http_peer_gone(hr->conn)) {
            atomic_store(&q->cancel, true);
            gen_free(g);
            g4_api_fail(&e, 400, "invalid_request_error", "client_closed", NULL, "the client closed the connection");
            return g4_http_error(&e, status);
        }
    }
    if (q->finish == G4_FINISH_ERROR || (q->finish == G4_FINISH_CANCELLED && !g->cut)) {
        e = q->error;
        if (q->finish == G4_FINISH_CANCELLED)
            g4_api_fail(&e, 503, "unavailable_error", "server_shutting_down", NULL, "the server is shutting down");
        gen_free(g);
        return g4_http_error(&e, status);
    }
    struct g4_oai_usage u;
    usage_of(g, &u);
    json_t *j = kind == G4_OAI_CHAT ? g4_oai_chat_response(&g->head, g4_chat_acc_message(&g->acc), g->finish_reason, &u)
                                    : g4_oai_completion_response(&g->head, g->text, g->text_len, g->finish_reason, &u);
    if (j && g->logprobs)
        json_object_set_new(json_array_get(json_object_get(j, "choices"), 0), "logprobs",
                            json_pack("{s:O}", "content", g->lp_pending));
    bool oom = g->oom || g->acc.oom;
    gen_free(g);
    if (oom) {
        json_decref(j);
        return NULL;
    }
    *status = 200;
    return g4_http_json(j);

fail_engine_ref:
    /* the request never reached the engine: drop the engine's reference too */
    g4_gen_req_release(g->req);
fail:
    gen_free(g);
    free(ids);
    g4_oai_req_free(&r);
    return g4_http_error(&e, status);
}

struct MHD_Response *g4_handle_chat(struct g4_http_req *r, int *status) { return handle(r, G4_OAI_CHAT, status); }
struct MHD_Response *g4_handle_completion(struct g4_http_req *r, int *status) {
    return handle(r, G4_OAI_COMPLETION, status);
}
