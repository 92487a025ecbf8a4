/* chat.c — entry point of the native chat-format renderers: validates an
 * OpenAI-style conversation, normalises it and hands it to the Gemma 3 or
 * Gemma 4 renderer.
 *
 * Pipeline (each step mirrored by scripts/gen_chat_fixtures.py):
 *  1. Validation: messages is a non-empty array of objects with a known
 *     role; content is a string, an array of part objects or null; tool
 *     calls, tool responses, reasoning and tools have the documented shapes.
 *     Anything else is G4_ERR_INVALID_ARG naming the field, never a crash.
 *  2. OpenAI normalisation (a deep copy; the input is not modified):
 *     content parts image_url / input_audio / video_url become image /
 *     audio / video; tool-call arguments given as a JSON string that parses
 *     to an object become that object (as vLLM and llama.cpp do).
 *  3. Hugging Face apply_chat_template preprocessing: null-valued message
 *     keys count as absent, reasoning_content is aliased from
 *     reasoning_content / thinking / reasoning (first non-null). */
#include "tokenizer/chat_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const roles[] = {"system", "developer", "user", "assistant", "tool"};

/* A message key as the template sees it: null counts as absent (NULL). */
static json_t *msg_get(const json_t *m, const char *key) {
    json_t *v = json_object_get(m, key);
    return json_is_null(v) ? NULL : v;
}

static g4_status bad(g4_error *err, size_t i, const char *fmt, ...) G4_PRINTF(3, 4);
static g4_status bad(g4_error *err, size_t i, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return g4_fail(err, G4_ERR_INVALID_ARG, "chat: messages[%zu]: %s", i, msg);
}

static g4_status check_content(size_t i, json_t *content, g4_error *err) {
    if (!content || json_is_string(content)) return G4_OK;
    if (!json_is_array(content))
        return bad(err, i, "'content' must be a string, an array of content parts or null");
    for (size_t j = 0; j < json_array_size(content); j++) {
        json_t *part = json_array_get(content, j);
        json_t *type = json_object_get(part, "type");
        if (!json_is_object(part) || !json_is_string(type)) {
            return bad(err, i, "content[%zu] must be an object with a string 'type'", j);
        }
        const char *t = json_string_value(type);
        if (!strcmp(t, "text") && !json_is_string(json_object_get(part, "text"))) {
            return bad(err, i, "content[%zu] of type text needs a string 'text'", j);
        }
        /* OpenAI part types -> the template's */
        const char *alias = !strcmp(t, "image_url") ? "image" : !strcmp(t, "input_audio") ? "audio"
                          : !strcmp(t, "video_url") ? "video" : NULL;
        if (alias && json_object_set_new(part, "type", json_string(alias)))
            return g4_fail(err, G4_ERR_NOMEM, "chat: out of memory");
    }
    return G4_OK;
}

static g4_status check_tool_calls(size_t i, json_t *calls, g4_error *err) {
    if (!calls) return G4_OK;
    if (!json_is_array(calls)) return bad(err, i, "'tool_calls' must be an array");
    for (size_t j = 0; j < json_array_size(calls); j++) {
        json_t *fn = json_object_get(json_array_get(calls, j), "function");
        if (!json_is_object(fn) || !json_is_string(json_object_get(fn, "name"))) {
            return bad(err, i, "tool_calls[%zu] needs a 'function' object with a string 'name'", j);
        }
        json_t *args = json_object_get(fn, "arguments");
        if (json_is_string(args)) {
            json_t *parsed = json_loads(json_string_value(args), 0, NULL);
            if (json_is_object(parsed)) {
                if (json_object_set_new(fn, "arguments", parsed))
                    return g4_fail(err, G4_ERR_NOMEM, "chat: out of memory");
            } else {
                json_decref(parsed); /* not a JSON object: the template prints the string as is */
            }
        } else if (args && !json_is_null(args) && !json_is_object(args)) {
            return bad(err, i, "tool_calls[%zu].function.arguments must be an object or a JSON string", j);
        }
    }
    return G4_OK;
}

static g4_status check_tool_responses(size_t i, json_t *resps, g4_error *err) {
    if (!resps) return G4_OK;
    if (!json_is_array(resps)) return bad(err, i, "'tool_responses' must be an array");
    for (size_t j = 0; j < json_array_size(resps); j++) {
        json_t *r = json_array_get(resps, j), *name = json_object_get(r, "name");
        if (!json_is_object(r) || (name && !json_is_string(name))) {
            return bad(err, i, "tool_responses[%zu] must be an object whose 'name', if given, is a string", j);
        }
    }
    return G4_OK;
}

static g4_status check_tools(const json_t *tools, g4_error *err) {
    if (!tools) return G4_OK;
    if (!json_is_array(tools)) return g4_fail(err, G4_ERR_INVALID_ARG, "chat: tools must be an array");
    for (size_t j = 0; j < json_array_size(tools); j++) {
        const json_t *fn = json_object_get(json_array_get(tools, j), "function");
        const json_t *params = json_object_get(fn, "parameters");
        if (!json_is_object(fn) || !json_is_string(json_object_get(fn, "name")))
            return g4_fail(err, G4_ERR_INVALID_ARG,
                           "chat: tools[%zu] needs a 'function' object with a string 'name'", j);
        if (params && !json_is_null(params) && !json_is_object(params))
            return g4_fail(err, G4_ERR_INVALID_ARG, "chat: tools[%zu].function.parameters must be an object", j);
    }
    return G4_OK;
}

/* Validates and normalises message i of the copy into *m. */
static g4_status check_message(size_t i, json_t *obj, struct g4_chat_msg *m, g4_error *err) {
    if (!json_is_object(obj)) return bad(err, i, "a message must be a JSON object");
    json_t *role = msg_get(obj, "role");
    if (!json_is_string(role)) return bad(err, i, "'role' must be a string");
    m->role = NULL;
    for (size_t r = 0; r < G4_ARRAY_LEN(roles); r++)
        if (!strcmp(json_string_value(role), roles[r])) m->role = roles[r];
    if (!m->role)
        return bad(err, i, "unknown role '%.64s' (expected system, developer, user, assistant or tool)",
                   json_string_value(role));
    g4_status st;
    json_t *content = msg_get(obj, "content");
    if ((st = check_content(i, content, err))) return st;
    m->content = content;
    json_t *calls = msg_get(obj, "tool_calls");
    if ((st = check_tool_calls(i, calls, err))) return st;
    m->tool_calls = calls;
    json_t *resps = msg_get(obj, "tool_responses");
    if ((st = check_tool_responses(i, resps, err))) return st;
    m->tool_responses = resps;
    static const char *const reasoning_keys[] = {"reasoning_content", "thinking", "reasoning"};
    m->reasoning = NULL;
    for (size_t r = 0; r < G4_ARRAY_LEN(reasoning_keys) && !m->reasoning; r++) m->reasoning = msg_get(obj, reasoning_keys[r]);
    if (m->reasoning && !json_is_string(m->reasoning))
        return bad(err, i, "reasoning (reasoning_content / thinking / reasoning) must be a string");
    return G4_OK;
}

g4_status g4_chat_render_json(enum g4_chat_format fmt, const json_t *messages, const json_t *tools,
                              const struct g4_chat_opts *opts, char **out, g4_error *err) {
    if (!out) return g4_fail(err, G4_ERR_INVALID_ARG, "chat: out is NULL");
    *out = NULL;
    if (fmt != G4_CHAT_GEMMA3 && fmt != G4_CHAT_GEMMA4)
        return g4_fail(err, G4_ERR_INVALID_ARG, "chat: unknown chat format %d", (int)fmt);
    if (!json_is_array(messages)) return g4_fail(err, G4_ERR_INVALID_ARG, "chat: messages must be a JSON array");
    size_t n = json_array_size(messages);
    if (n == 0) return g4_fail(err, G4_ERR_INVALID_ARG, "chat: messages is empty (nothing to render)");
    if (json_is_null(tools)) tools = NULL;
    g4_status st = check_tools(tools, err);
    if (st) return st;

    json_t *copy = json_deep_copy(messages);
    struct g4_chat_msg *msgs = calloc(n, sizeof *msgs);
    struct g4_strbuf b = {0};
    if (!copy || !msgs) {
        st = g4_fail(err, G4_ERR_NOMEM, "chat: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        if ((st = check_message(i, json_array_get(copy, i), &msgs[i], err))) goto done;

    struct g4_chat_conv conv = {
        .msgs = msgs,
        .n = n,
        .tools = tools,
        .add_generation_prompt = opts ? opts->add_generation_prompt : true,
        .enable_thinking = opts ? opts->enable_thinking : false,
        .bos = opts && opts->bos ? opts->bos : "<bos>",
    };
    st = fmt == G4_CHAT_GEMMA3 ? g4_chat_render_gemma3(&conv, &b, err) : g4_chat_render_gemma4(&conv, &b, err);
    if (!st && b.oom) st = g4_fail(err, G4_ERR_NOMEM, "chat: out of memory");
    if (!st && !b.p) g4_strbuf_put(&b, "", 0);
    if (!st && b.oom) st = g4_fail(err, G4_ERR_NOMEM, "chat: out of memory");
    if (!st) {
        *out = b.p;
        b.p = NULL;
    }
done:
    g4_strbuf_free(&b);
    free(msgs);
    json_decref(copy);
    return st;
}
