/* openai_resp.h — OpenAI response shapes: chat.completion, the
 * chat.completion.chunk stream (role delta, content / reasoning_content /
 * tool_calls deltas, finish chunk, usage chunk with "choices": []),
 * text_completion, model lists, usage, SSE framing. Pure formatting: no I/O,
 * no model. Builders return new references (NULL only on allocation
 * failure); json_t arguments documented "stolen" are consumed even on
 * failure. Text is copied; invalid UTF-8 becomes U+FFFD so every payload is
 * valid JSON. */
#ifndef G4_SERVER_OPENAI_RESP_H
#define G4_SERVER_OPENAI_RESP_H

#include "tokenizer/outparse.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct g4_oai_usage {
    int64_t prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens;
};

/* What every response object carries. */
struct g4_oai_head {
    const char *id;            /* "chatcmpl-..." / "cmpl-..." */
    int64_t created;           /* unix seconds */
    const char *model;
    const char *fingerprint;   /* system_fingerprint */
};

/* A JSON string from bytes (invalid UTF-8 replaced). */
json_t *g4_json_text(const char *s, size_t len);
/* Writes prefix + 24 random alphanumerics + NUL into out (cap >= strlen(prefix) + 25). */
void g4_oai_new_id(const char *prefix, char *out, size_t cap);

json_t *g4_oai_usage_json(const struct g4_oai_usage *u);

/* Non-stream chat completion; message stolen. */
json_t *g4_oai_chat_response(const struct g4_oai_head *h, json_t *message, const char *finish_reason,
                             const struct g4_oai_usage *u);
/* One stream chunk with one choice; delta stolen (NULL = {}); finish_reason
 * NULL = null; usage_null adds "usage": null (include_usage streams). */
json_t *g4_oai_chat_chunk(const struct g4_oai_head *h, json_t *delta, const char *finish_reason, bool usage_null);
/* The final usage chunk ("choices": []). */
json_t *g4_oai_usage_chunk(const struct g4_oai_head *h, const char *object, const struct g4_oai_usage *u);

/* Legacy completions. */
json_t *g4_oai_completion_response(const struct g4_oai_head *h, const char *text, size_t len, const char *finish_reason,
                                   const struct g4_oai_usage *u);
json_t *g4_oai_completion_chunk(const struct g4_oai_head *h, const char *text, size_t len, const char *finish_reason,
                                bool usage_null);

/* Model object and list (one served model). */
json_t *g4_oai_model_json(const char *id, int64_t created, int64_t n_ctx, const char *const *modalities, int n_mod);
json_t *g4_oai_models_json(json_t *model);

/* "data: <compact json>\n\n" (malloc'd; NULL on failure). */
char *g4_sse_data(const json_t *j, size_t *len);

/* Stream delta of one output-parser event (REASONING, CONTENT, TOOL_START,
 * TOOL_ARGS); NULL for events without a delta. */
json_t *g4_oai_event_delta(const struct g4_outparse_event *ev);

/* Collects parser events into a non-stream assistant message. */
struct g4_chat_acc {
    char *content, *reasoning;
    size_t content_len, reasoning_len;
    json_t *tool_calls;        /* array of {id,type,function:{name,arguments}} */
    char *args;                /* arguments of the call being built */
    size_t args_len;
    int n_tool_ends;
    bool oom;
};
void g4_chat_acc_event(struct g4_chat_acc *a, const struct g4_outparse_event *ev);
/* {"role":"assistant","content":...,["reasoning_content"],["tool_calls"]} */
json_t *g4_chat_acc_message(struct g4_chat_acc *a);
void g4_chat_acc_free(struct g4_chat_acc *a);

#endif
