/* chat.c (api) — g4_chat_render() and g4_chat_render_format(): the public
 * entry to the chat formats.
 * Parses the caller's JSON strings with jansson (object key order is kept,
 * which the templates' output depends on only through dictsort ties), reads
 * the options and renders with the model's chat format (m->chat_format,
 * set by the model loader). Thread-safe: touches only the read-only model. */
#include "api/model_impl.h"

#include <string.h>

static g4_status parse(const char *what, const char *text, json_t **out, g4_error *err) {
    json_error_t je;
    *out = json_loads(text, JSON_DECODE_ANY, &je);
    if (!*out)
        return g4_fail_at(err, G4_ERR_INVALID_ARG, je.position, "chat: %s: invalid JSON at line %d column %d: %s",
                          what, je.line, je.column, je.text);
    return G4_OK;
}

static g4_status read_bool(const json_t *opts, const char *key, bool *v, g4_error *err) {
    const json_t *x = json_object_get(opts, key);
    if (!x || json_is_null(x)) return G4_OK;
    if (!json_is_boolean(x)) return g4_fail(err, G4_ERR_INVALID_ARG, "chat: options.%s must be true or false", key);
    *v = json_is_true(x);
    return G4_OK;
}

static g4_status render(enum g4_chat_format fmt, const char *messages_json, const char *tools_json,
                        const char *options_json, char **out, g4_error *err) {
    json_t *messages = NULL, *tools = NULL, *opts = NULL;
    struct g4_chat_opts o = {.add_generation_prompt = true, .enable_thinking = false, .bos = "<bos>"};
    g4_status st = parse("messages", messages_json, &messages, err);
    if (!st && tools_json) st = parse("tools", tools_json, &tools, err);
    if (!st && options_json) {
        st = parse("options", options_json, &opts, err);
        if (!st && !json_is_object(opts) && !json_is_null(opts))
            st = g4_fail(err, G4_ERR_INVALID_ARG, "chat: options must be a JSON object");
        if (!st) st = read_bool(opts, "add_generation_prompt", &o.add_generation_prompt, err);
        if (!st) st = read_bool(opts, "enable_thinking", &o.enable_thinking, err);
    }
    if (!st) st = g4_chat_render_json(fmt, messages, tools, &o, out, err);
    json_decref(messages);
    json_decref(tools);
    json_decref(opts);
    return st;
}

g4_status g4_chat_render(const g4_model *m, const char *messages_json, const char *tools_json,
                         const char *options_json, char **out, g4_error *err) {
    if (out) *out = NULL;
    if (!m || !messages_json || !out)
        return g4_fail(err, G4_ERR_INVALID_ARG, "chat: model, messages and out must not be NULL");
    if (m->chat_format != G4_CHAT_GEMMA3 && m->chat_format != G4_CHAT_GEMMA4)
        return g4_fail(err, G4_ERR_UNSUPPORTED, "chat: the model has no known chat format");
    return render(m->chat_format, messages_json, tools_json, options_json, out, err);
}

g4_status g4_chat_render_format(const char *format, const char *messages_json, const char *tools_json,
                                const char *options_json, char **out, g4_error *err) {
    if (out) *out = NULL;
    if (!format || !messages_json || !out)
        return g4_fail(err, G4_ERR_INVALID_ARG, "chat: format, messages and out must not be NULL");
    enum g4_chat_format fmt;
    if (!strcmp(format, "gemma3")) fmt = G4_CHAT_GEMMA3;
    else if (!strcmp(format, "gemma4")) fmt = G4_CHAT_GEMMA4;
    else return g4_fail(err, G4_ERR_INVALID_ARG, "chat: unknown chat format '%.64s' (gemma3 or gemma4)", format);
    return render(fmt, messages_json, tools_json, options_json, out, err);
}
