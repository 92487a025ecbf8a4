/* openai_resp.c — OpenAI response and stream-chunk builders (see
 * openai_resp.h). Field order follows OpenAI's own responses. */
#include "server/openai_resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

json_t *g4_json_text(const char *s, size_t len) {
    json_t *j = json_stringn(s ? s : "", s ? len : 0);
    if (j) return j;
    /* invalid UTF-8: replace each bad byte with U+FFFD */
    char *o = malloc(len * 3 + 1);
    if (!o) return NULL;
    size_t k = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned c = p[i];
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 && c >= 0xC2 ? 2 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 && c <= 0xF4 ? 4 : 0;
        bool ok = n && i + n <= len;
        for (size_t t = 1; ok && t < n; t++) ok = (p[i + t] & 0xC0) == 0x80;
        if (ok && n == 3) ok = !(c == 0xE0 && p[i + 1] < 0xA0) && !(c == 0xED && p[i + 1] >= 0xA0);
        if (ok && n == 4) ok = !(c == 0xF0 && p[i + 1] < 0x90) && !(c == 0xF4 && p[i + 1] >= 0x90);
        if (!ok) {
            memcpy(o + k, "\xEF\xBF\xBD", 3);
            k += 3;
            i++;
            continue;
        }
        memcpy(o + k, p + i, n);
        k += n;
        i += n;
    }
    j = json_stringn(o, k);
    free(o);
    return j;
}

void g4_oai_new_id(const char *prefix, char *out, size_t cap) {
    static const char an[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char rnd[24];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        uint64_t x = (uint64_t)(uintptr_t)out ^ 0x9E3779B97F4A7C15ull;
        for (size_t i = 0; i < sizeof rnd; i++) x = x * 6364136223846793005ull + 1442695040888963407ull, rnd[i] = (unsigned char)(x >> 56);
    }
    size_t p = (size_t)snprintf(out, cap, "%s", prefix);
    for (size_t i = 0; i < sizeof rnd && p + 1 < cap; i++) out[p++] = an[rnd[i] % 62];
    if (p < cap) out[p] = 0;
}

json_t *g4_oai_usage_json(const struct g4_oai_usage *u) {
    return json_pack("{s:I, s:I, s:I, s:{s:I}, s:{s:I}}", "prompt_tokens", (json_int_t)u->prompt_tokens,
                     "completion_tokens", (json_int_t)u->completion_tokens, "total_tokens",
                     (json_int_t)(u->prompt_tokens + u->completion_tokens), "prompt_tokens_details", "cached_tokens",
                     (json_int_t)u->cached_tokens, "completion_tokens_details", "reasoning_tokens",
                     (json_int_t)u->reasoning_tokens);
}

static json_t *head(const struct g4_oai_head *h, const char *object) {
    return json_pack("{s:s, s:s, s:I, s:s, s:s}", "id", h->id, "object", object, "created", (json_int_t)h->created,
                     "model", h->model, "system_fingerprint", h->fingerprint);
}

static json_t *reason(const char *f) { return f ? json_string(f) : json_null(); }

json_t *g4_oai_chat_response(const struct g4_oai_head *h, json_t *message, const char *finish_reason,
                             const struct g4_oai_usage *u) {
    json_t *r = head(h, "chat.completion");
    if (!r || !message) {
        json_decref(r);
        json_decref(message);
        return NULL;
    }
    json_t *choice = json_pack("{s:i, s:o, s:n, s:o}", "index", 0, "message", message, "logprobs", "finish_reason",
                               reason(finish_reason));
    if (!choice || json_object_set_new(r, "choices", json_pack("[o]", choice)) ||
        json_object_set_new(r, "usage", g4_oai_usage_json(u))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *g4_oai_chat_chunk(const struct g4_oai_head *h, json_t *delta, const char *finish_reason, bool usage_null) {
    json_t *r = head(h, "chat.completion.chunk");
    if (!delta) delta = json_object();
    if (!r || !delta) {
        json_decref(r);
        json_decref(delta);
        return NULL;
    }
    json_t *choice = json_pack("{s:i, s:o, s:n, s:o}", "index", 0, "delta", delta, "logprobs", "finish_reason",
                               reason(finish_reason));
    if (!choice || json_object_set_new(r, "choices", json_pack("[o]", choice)) ||
        (usage_null && json_object_set_new(r, "usage", json_null()))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *g4_oai_usage_chunk(const struct g4_oai_head *h, const char *object, const struct g4_oai_usage *u) {
    json_t *r = head(h, object);
    if (!r || json_object_set_new(r, "choices", json_array()) || json_object_set_new(r, "usage", g4_oai_usage_json(u))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *g4_oai_completion_response(const struct g4_oai_head *h, const char *text, size_t len, const char *finish_reason,
                                   const struct g4_oai_usage *u) {
    json_t *r = head(h, "text_completion");
    json_t *choice = json_pack("{s:o, s:i, s:n, s:o}", "text", g4_json_text(text, len), "index", 0, "logprobs",
                               "finish_reason", reason(finish_reason));
    if (!r || !choice || json_object_set_new(r, "choices", json_pack("[o]", choice)) ||
        json_object_set_new(r, "usage", g4_oai_usage_json(u))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *g4_oai_completion_chunk(const struct g4_oai_head *h, const char *text, size_t len, const char *finish_reason,
                                bool usage_null) {
    json_t *r = head(h, "text_completion");
    json_t *choice = json_pack("{s:o, s:i, s:n, s:o}", "text", g4_json_text(text, len), "index", 0, "logprobs",
                               "finish_reason", reason(finish_reason));
    if (!r || !choice || json_object_set_new(r, "choices", json_pack("[o]", choice)) ||
        (usage_null && json_object_set_new(r, "usage", json_null()))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *g4_oai_model_json(const char *id, int64_t created, int64_t n_ctx, const char *const *modalities, int n_mod) {
    json_t *mods = json_array();
    for (int i = 0; mods && i < n_mod; i++) json_array_append_new(mods, json_string(modalities[i]));
    /* llama-server's shape for context and modalities, plus OpenAI's fields */
    return json_pack("{s:s, s:s, s:I, s:s, s:I, s:{s:o, s:[s]}}", "id", id, "object", "model", "created",
                     (json_int_t)created, "owned_by", "g4", "context_length", (json_int_t)n_ctx, "architecture",
                     "input_modalities", mods, "output_modalities", "text");
}

json_t *g4_oai_models_json(json_t *model) { return json_pack("{s:s, s:[o]}", "object", "list", "data", model); }

char *g4_sse_data(const json_t *j, size_t *len) {
    char *s = json_dumps(j, JSON_COMPACT);
    if (!s) return NULL;
    size_t n = strlen(s);
    char *o = malloc(n + 9);
    if (o) {
        memcpy(o, "data: ", 6);
        memcpy(o + 6, s, n);
        memcpy(o + 6 + n, "\n\n", 3);
        *len = n + 8;
    }
    free(s);
    return o;
}

json_t *g4_oai_event_delta(const struct g4_outparse_event *ev) {
    switch (ev->type) {
    case G4_OUT_REASONING: return json_pack("{s:o}", "reasoning_content", g4_json_text(ev->text, ev->len));
    case G4_OUT_CONTENT: return json_pack("{s:o}", "content", g4_json_text(ev->text, ev->len));
    case G4_OUT_TOOL_START:
        return json_pack("{s:[{s:i, s:s, s:s, s:{s:s, s:s}}]}", "tool_calls", "index", ev->index, "id", ev->id, "type",
                         "function", "function", "name", ev->name, "arguments", "");
    case G4_OUT_TOOL_ARGS:
        return json_pack("{s:[{s:i, s:{s:o}}]}", "tool_calls", "index", ev->index, "function", "arguments",
                         g4_json_text(ev->text, ev->len));
    default: return NULL;
    }
}

static void append(struct g4_chat_acc *a, char **buf, size_t *len, const char *t, size_t n) {
    char *b = realloc(*buf, *len + n + 1);
    if (!b) {
        a->oom = true;
        return;
    }
    memcpy(b + *len, t, n);
    *len += n;
    b[*len] = 0;
    *buf = b;
}

static void close_call(struct g4_chat_acc *a) {
    size_t n = json_array_size(a->tool_calls);
    if (!n || !a->args) return;
    json_t *fn = json_object_get(json_array_get(a->tool_calls, n - 1), "function");
    json_object_set_new(fn, "arguments", g4_json_text(a->args, a->args_len));
    free(a->args);
    a->args = NULL;
    a->args_len = 0;
}

void g4_chat_acc_event(struct g4_chat_acc *a, const struct g4_outparse_event *ev) {
    switch (ev->type) {
    case G4_OUT_REASONING: append(a, &a->reasoning, &a->reasoning_len, ev->text, ev->len); break;
    case G4_OUT_CONTENT: append(a, &a->content, &a->content_len, ev->text, ev->len); break;
    case G4_OUT_TOOL_START:
        close_call(a);
        if (!a->tool_calls && !(a->tool_calls = json_array())) {
            a->oom = true;
            break;
        }
        if (json_array_append_new(a->tool_calls, json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", ev->id, "type", "function",
                                                           "function", "name", ev->name, "arguments", "")))
            a->oom = true;
        append(a, &a->args, &a->args_len, "", 0);
        break;
    case G4_OUT_TOOL_ARGS: append(a, &a->args, &a->args_len, ev->text, ev->len); break;
    case G4_OUT_TOOL_END:
        close_call(a);
        a->n_tool_ends++;
        break;
    default: break;
    }
}

json_t *g4_chat_acc_message(struct g4_chat_acc *a) {
    close_call(a);
    json_t *m = json_pack("{s:s, s:o}", "role", "assistant", "content",
                          a->content ? g4_json_text(a->content, a->content_len) : json_null());
    if (m && a->reasoning) json_object_set_new(m, "reasoning_content", g4_json_text(a->reasoning, a->reasoning_len));
    if (m && a->tool_calls) json_object_set(m, "tool_calls", a->tool_calls);
    return m;
}

void g4_chat_acc_free(struct g4_chat_acc *a) {
    free(a->content);
    free(a->reasoning);
    free(a->args);
    json_decref(a->tool_calls);
    memset(a, 0, sizeof *a);
}
