/* chat_gemma4.c — native renderer of the official Gemma 4 chat template
 * (google/gemma-4-31B-it chat_template.jinja, which the 12B also uses; copy
 * at ggml-org/llama.cpp models/templates/google-gemma-4-31B-it-interleaved.jinja
 * @3240d8f9). Each function below mirrors one macro or block of the template,
 * in the same order, including its quirks (the leading comma of nested
 * `,properties:{`, the `parameters` brace only closed when a type is given,
 * Python str() of system content given as parts, ...). The output must stay
 * byte-identical to jinja2; tests/fixtures/chat/gemma4.json checks it.
 * Gemma 4 tool syntax: strings are wrapped in <|"|>, keys sorted by dictsort. */
#include "tokenizer/chat_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Q "<|\"|>"

enum prev_type { PREV_NONE, PREV_THINK, PREV_TOOL, PREV_TOOL_CALL, PREV_TOOL_RESPONSE, PREV_MEDIA };

static g4_status too_deep(g4_error *err) {
    return g4_fail(err, G4_ERR_INVALID_ARG, "chat: JSON nested deeper than %d levels", G4_CHAT_MAX_DEPTH);
}

/* format_argument(argument, escape_keys) */
static g4_status fmt_argument(struct g4_strbuf *b, const json_t *v, bool escape_keys, int depth, g4_error *err) {
    if (depth > G4_CHAT_MAX_DEPTH) return too_deep(err);
    if (json_is_string(v)) {
        g4_strbuf_puts(b, Q);
        g4_py_str(b, v);
        g4_strbuf_puts(b, Q);
    } else if (json_is_boolean(v)) {
        g4_strbuf_puts(b, json_is_true(v) ? "true" : "false");
    } else if (json_is_object(v)) {
        const char **keys;
        size_t n;
        g4_status st = g4_py_dictsort(v, &keys, &n, err);
        if (st) return st;
        g4_strbuf_puts(b, "{");
        for (size_t i = 0; i < n && !st; i++) {
            if (i) g4_strbuf_puts(b, ",");
            if (escape_keys) g4_strbuf_puts(b, Q);
            g4_strbuf_puts(b, keys[i]);
            if (escape_keys) g4_strbuf_puts(b, Q);
            g4_strbuf_puts(b, ":");
            st = fmt_argument(b, json_object_get(v, keys[i]), escape_keys, depth + 1, err);
        }
        free(keys);
        if (st) return st;
        g4_strbuf_puts(b, "}");
    } else if (!v || json_is_array(v)) { /* Undefined is a jinja2 sequence too: "[]" */
        g4_strbuf_puts(b, "[");
        for (size_t i = 0; v && i < json_array_size(v); i++) {
            if (i) g4_strbuf_puts(b, ",");
            g4_status st = fmt_argument(b, json_array_get(v, i), escape_keys, depth + 1, err);
            if (st) return st;
        }
        g4_strbuf_puts(b, "]");
    } else {
        g4_py_str(b, v); /* numbers and None via Python str() */
    }
    return G4_OK;
}

/* `for item in v` printing <|"|>item<|"|> joined by commas */
static g4_status quoted_list(struct g4_strbuf *b, const json_t *v, const char *what, g4_error *err) {
    json_t *items;
    g4_status st = g4_py_iter_items(v, what, &items, err);
    if (st) return st;
    for (size_t i = 0; i < json_array_size(items); i++) {
        if (i) g4_strbuf_puts(b, ",");
        g4_strbuf_puts(b, Q);
        g4_py_str(b, json_array_get(items, i));
        g4_strbuf_puts(b, Q);
    }
    json_decref(items);
    return G4_OK;
}

/* str(v).upper() == s */
static g4_status upper_is(const json_t *v, const char *s, bool *eq, g4_error *err) {
    struct g4_strbuf t = {0};
    g4_status st = g4_py_str_upper(&t, v, err);
    if (!st && t.oom) st = g4_fail(err, G4_ERR_NOMEM, "chat: out of memory");
    *eq = !st && t.n == strlen(s) && !memcmp(t.p, s, t.n);
    g4_strbuf_free(&t);
    return st;
}

static void comma(struct g4_strbuf *b, bool *add_comma) {
    if (*add_comma) g4_strbuf_puts(b, ",");
    else *add_comma = true;
}

static g4_status fmt_parameters(struct g4_strbuf *b, const json_t *properties, int depth, g4_error *err);

/* The `items` block of an ARRAY-typed property. */
static g4_status fmt_items(struct g4_strbuf *b, const json_t *items, int depth, g4_error *err) {
    const char **keys;
    size_t n;
    g4_status st = g4_py_dictsort(items, &keys, &n, err);
    if (st) return st;
    g4_strbuf_puts(b, ",items:{");
    bool found_first = false;
    for (size_t i = 0; i < n && !st; i++) {
        const char *k = keys[i];
        const json_t *iv = json_object_get(items, k);
        if (json_is_null(iv)) continue;
        if (found_first) g4_strbuf_puts(b, ",");
        found_first = true;
        if (!strcmp(k, "properties")) {
            g4_strbuf_puts(b, "properties:{");
            if (json_is_object(iv)) st = fmt_parameters(b, iv, depth + 1, err);
            g4_strbuf_puts(b, "}");
        } else if (!strcmp(k, "required")) {
            g4_strbuf_puts(b, "required:[");
            st = quoted_list(b, iv, "items.required", err);
            g4_strbuf_puts(b, "]");
        } else if (!strcmp(k, "type")) {
            g4_strbuf_puts(b, "type:");
            if (json_is_string(iv)) {
                g4_strbuf_puts(b, Q);
                st = g4_py_str_upper(b, iv, err);
                g4_strbuf_puts(b, Q);
            } else { /* item_value | map('upper') | list */
                json_t *list;
                st = g4_py_iter_items(iv, "items.type", &list, err);
                g4_strbuf_puts(b, "[");
                for (size_t j = 0; !st && j < json_array_size(list); j++) {
                    if (j) g4_strbuf_puts(b, ",");
                    g4_strbuf_puts(b, Q);
                    st = g4_py_str_upper(b, json_array_get(list, j), err);
                    g4_strbuf_puts(b, Q);
                }
                g4_strbuf_puts(b, "]");
                json_decref(list);
            }
        } else {
            g4_strbuf_puts(b, k);
            g4_strbuf_puts(b, ":");
            st = fmt_argument(b, iv, true, depth + 1, err);
        }
    }
    free(keys);
    if (!st) g4_strbuf_puts(b, "}");
    return st;
}

/* One property `key:{...}` of format_parameters. */
static g4_status fmt_property(struct g4_strbuf *b, const char *key, const json_t *value, int depth, g4_error *err) {
    g4_status st = G4_OK;
    bool add_comma = false;
    g4_strbuf_puts(b, key);
    g4_strbuf_puts(b, ":{");
    const json_t *desc = g4_py_getitem(value, "description");
    if (g4_py_truthy(desc)) {
        g4_strbuf_puts(b, "description:" Q);
        g4_py_str(b, desc);
        g4_strbuf_puts(b, Q);
        add_comma = true;
    }
    if (g4_py_truthy(g4_py_getitem(value, "nullable"))) {
        comma(b, &add_comma);
        g4_strbuf_puts(b, "nullable:true");
    }
    const json_t *type = g4_py_getitem(value, "type");
    bool is_string, is_object = false, is_array = false;
    if ((st = upper_is(type, "STRING", &is_string, err))) return st;
    if (!is_string && (st = upper_is(type, "OBJECT", &is_object, err))) return st;
    if (!is_string && !is_object && (st = upper_is(type, "ARRAY", &is_array, err))) return st;
    if (is_string) {
        const json_t *en = g4_py_getitem(value, "enum");
        if (g4_py_truthy(en)) {
            comma(b, &add_comma);
            g4_strbuf_puts(b, "enum:");
            if ((st = fmt_argument(b, en, true, depth + 1, err))) return st;
        }
    } else if (is_object) {
        g4_strbuf_puts(b, ",properties:{");
        const json_t *props = g4_py_getitem(value, "properties");
        if (json_is_object(props)) st = fmt_parameters(b, props, depth + 1, err);
        else if (json_is_object(value)) st = fmt_parameters(b, value, depth + 1, err);
        if (st) return st;
        g4_strbuf_puts(b, "}");
        const json_t *req = g4_py_getitem(value, "required");
        if (g4_py_truthy(req)) {
            g4_strbuf_puts(b, ",required:[");
            if ((st = quoted_list(b, req, "required", err))) return st;
            g4_strbuf_puts(b, "]");
        }
    } else if (is_array) {
        /* value['items'] on a dict without the key is the bound dict.items
         * method in jinja2: not a mapping, so skipped the same way. */
        const json_t *items = g4_py_getitem(value, "items");
        if (json_is_object(items) && json_object_size(items) > 0 && (st = fmt_items(b, items, depth, err)))
            return st;
    }
    comma(b, &add_comma);
    g4_strbuf_puts(b, "type:" Q);
    if ((st = g4_py_str_upper(b, type, err))) return st;
    g4_strbuf_puts(b, Q "}");
    return G4_OK;
}

/* format_parameters(properties, required): `required` is unused by the macro. */
static g4_status fmt_parameters(struct g4_strbuf *b, const json_t *properties, int depth, g4_error *err) {
    static const char *const standard_keys[] = {"description", "type", "properties", "required", "nullable"};
    if (depth > G4_CHAT_MAX_DEPTH) return too_deep(err);
    const char **keys;
    size_t n;
    g4_status st = g4_py_dictsort(properties, &keys, &n, err);
    if (st) {
        g4_error_prefix(err, "tool parameters 'properties'");
        return st;
    }
    bool found_first = false;
    for (size_t i = 0; i < n && !st; i++) {
        bool standard = false;
        for (size_t j = 0; j < G4_ARRAY_LEN(standard_keys); j++) standard |= !strcmp(keys[i], standard_keys[j]);
        if (standard) continue;
        if (found_first) g4_strbuf_puts(b, ",");
        found_first = true;
        st = fmt_property(b, keys[i], json_object_get(properties, keys[i]), depth, err);
    }
    free(keys);
    return st;
}

/* format_function_declaration(tool_data) */
static g4_status fmt_declaration(struct g4_strbuf *b, const json_t *tool, g4_error *err) {
    const json_t *fn = g4_py_getitem(tool, "function");
    g4_status st;
    g4_strbuf_puts(b, "declaration:");
    g4_py_str(b, g4_py_getitem(fn, "name"));
    g4_strbuf_puts(b, "{description:" Q);
    g4_py_str(b, g4_py_getitem(fn, "description"));
    g4_strbuf_puts(b, Q);
    const json_t *params = g4_py_getitem(fn, "parameters");
    if (g4_py_truthy(params)) {
        g4_strbuf_puts(b, ",parameters:{");
        const json_t *props = g4_py_getitem(params, "properties");
        if (g4_py_truthy(props)) {
            g4_strbuf_puts(b, "properties:{");
            if ((st = fmt_parameters(b, props, 0, err))) return st;
            g4_strbuf_puts(b, "},");
        }
        const json_t *req = g4_py_getitem(params, "required");
        if (g4_py_truthy(req)) {
            g4_strbuf_puts(b, "required:[");
            if ((st = quoted_list(b, req, "parameters.required", err))) return st;
            g4_strbuf_puts(b, "],");
        }
        const json_t *type = g4_py_getitem(params, "type");
        if (g4_py_truthy(type)) {
            g4_strbuf_puts(b, "type:" Q);
            if ((st = g4_py_str_upper(b, type, err))) return st;
            g4_strbuf_puts(b, Q "}");
        }
    }
    if (json_is_object(fn) && json_object_get(fn, "response")) { /* 'response' in tool_data['function'] */
        const json_t *rd = json_object_get(fn, "response");
        g4_strbuf_puts(b, ",response:{");
        const json_t *desc = g4_py_getitem(rd, "description");
        if (g4_py_truthy(desc)) {
            g4_strbuf_puts(b, "description:" Q);
            g4_py_str(b, desc);
            g4_strbuf_puts(b, Q ",");
        }
        bool is_object;
        if ((st = upper_is(g4_py_getitem(rd, "type"), "OBJECT", &is_object, err))) return st;
        if (is_object) g4_strbuf_puts(b, "type:" Q "OBJECT" Q "}");
    }
    g4_strbuf_puts(b, "}");
    return G4_OK;
}

/* strip_thinking(text): drops <|channel>...<channel|> spans, then trims. */
static void strip_thinking(struct g4_strbuf *b, const char *s, size_t n) {
    static const char open[] = "<|channel>", close[] = "<channel|>";
    struct g4_strbuf r = {0};
    size_t i = 0;
    for (;;) { /* text.split('<channel|>') */
        const char *end = memmem(s + i, n - i, close, sizeof close - 1);
        size_t part_n = end ? (size_t)(end - (s + i)) : n - i;
        const char *o = memmem(s + i, part_n, open, sizeof open - 1);
        g4_strbuf_put(&r, s + i, o ? (size_t)(o - (s + i)) : part_n);
        if (!end) break;
        i += part_n + sizeof close - 1;
    }
    if (r.oom) b->oom = true;
    else if (r.n) {
        size_t a, z;
        g4_py_strip(r.p, r.n, &a, &z);
        g4_strbuf_put(b, r.p + a, z - a);
    }
    g4_strbuf_free(&r);
}

static g4_status render_tool_calls(struct g4_strbuf *b, const json_t *calls, g4_error *err) {
    for (size_t i = 0; i < json_array_size(calls); i++) {
        const json_t *fn = g4_py_getitem(json_array_get(calls, i), "function");
        g4_strbuf_puts(b, "<|tool_call>call:");
        g4_py_str(b, g4_py_getitem(fn, "name"));
        g4_strbuf_puts(b, "{");
        const json_t *args = g4_py_getitem(fn, "arguments");
        if (json_is_object(args)) {
            const char **keys;
            size_t n;
            g4_status st = g4_py_dictsort(args, &keys, &n, err);
            for (size_t k = 0; k < n && !st; k++) {
                if (k) g4_strbuf_puts(b, ",");
                g4_strbuf_puts(b, keys[k]);
                g4_strbuf_puts(b, ":");
                st = fmt_argument(b, json_object_get(args, keys[k]), false, 1, err);
            }
            free(keys);
            if (st) return st;
        } else if (json_is_string(args)) {
            g4_py_str(b, args);
        }
        g4_strbuf_puts(b, "}<tool_call|>");
    }
    return G4_OK;
}

static g4_status render_tool_responses(struct g4_strbuf *b, const json_t *resps, g4_error *err) {
    for (size_t i = 0; i < json_array_size(resps); i++) {
        const json_t *tr = json_array_get(resps, i);
        const json_t *resp = g4_py_getitem(tr, "response"), *name = g4_py_getitem(tr, "name");
        g4_status st = G4_OK;
        g4_strbuf_puts(b, "<|tool_response>response:");
        if (name) g4_py_str(b, name);
        else g4_strbuf_puts(b, "unknown");
        if (json_is_object(resp)) {
            const char **keys;
            size_t n;
            st = g4_py_dictsort(resp, &keys, &n, err);
            g4_strbuf_puts(b, "{");
            for (size_t k = 0; k < n && !st; k++) {
                g4_strbuf_puts(b, keys[k]);
                g4_strbuf_puts(b, ":");
                st = fmt_argument(b, json_object_get(resp, keys[k]), false, 1, err);
                if (k + 1 < n) g4_strbuf_puts(b, ",");
            }
            free(keys);
            g4_strbuf_puts(b, "}");
        } else {
            g4_strbuf_puts(b, "{value:");
            st = fmt_argument(b, resp, false, 1, err);
            g4_strbuf_puts(b, "}");
        }
        if (st) return st;
        g4_strbuf_puts(b, "<tool_response|>");
    }
    return G4_OK;
}

static void render_content(struct g4_strbuf *b, const json_t *content, bool model, enum prev_type *prev) {
    if (json_is_string(content)) {
        if (model) strip_thinking(b, json_string_value(content), json_string_length(content));
        else g4_py_str_trim(b, content);
        return;
    }
    for (size_t i = 0; i < json_array_size(content); i++) { /* NULL (Undefined): nothing */
        const json_t *item = json_array_get(content, i);
        const json_t *type = g4_py_getitem(item, "type");
        if (g4_py_streq(type, "text")) {
            const json_t *text = g4_py_getitem(item, "text");
            if (model && json_is_string(text)) strip_thinking(b, json_string_value(text), json_string_length(text));
            else g4_py_str_trim(b, text);
        } else if (g4_py_streq(type, "image")) {
            g4_strbuf_puts(b, "\n\n<|image|>\n\n");
            *prev = PREV_MEDIA;
        } else if (g4_py_streq(type, "audio")) {
            g4_strbuf_puts(b, "<|audio|>");
            *prev = PREV_MEDIA;
        } else if (g4_py_streq(type, "video")) {
            g4_strbuf_puts(b, "\n\n<|video|>\n\n");
            *prev = PREV_MEDIA;
        }
    }
}

g4_status g4_chat_render_gemma4(const struct g4_chat_conv *c, struct g4_strbuf *b, g4_error *err) {
    enum prev_type prev = PREV_NONE;
    size_t start = 0;
    g4_status st;
    g4_strbuf_puts(b, c->bos);

    const struct g4_chat_msg *m0 = &c->msgs[0];
    bool sys_first = !strcmp(m0->role, "system") || !strcmp(m0->role, "developer");
    if (c->enable_thinking || g4_py_truthy(c->tools) || sys_first) {
        g4_strbuf_puts(b, "<|turn>system\n");
        if (c->enable_thinking) {
            g4_strbuf_puts(b, "<|think|>\n");
            prev = PREV_THINK;
        }
        if (sys_first) {
            g4_py_str_trim(b, m0->content); /* str() of a parts list, as the template does */
            start = 1;
        }
        if (g4_py_truthy(c->tools)) {
            for (size_t i = 0; i < json_array_size(c->tools); i++) {
                g4_strbuf_puts(b, "<|tool>");
                if ((st = fmt_declaration(b, json_array_get(c->tools, i), err))) {
                    char where[48];
                    snprintf(where, sizeof where, "tools[%zu]", i);
                    g4_error_prefix(err, where);
                    return st;
                }
                g4_strbuf_puts(b, "<tool|>");
            }
            prev = PREV_TOOL;
        }
        g4_strbuf_puts(b, "<turn|>\n");
    }

    long last_user = -1; /* index within loop_messages */
    for (size_t i = start; i < c->n; i++)
        if (!strcmp(c->msgs[i].role, "user")) last_user = (long)(i - start);

    for (size_t i = start; i < c->n; i++) {
        const struct g4_chat_msg *m = &c->msgs[i];
        bool model = !strcmp(m->role, "assistant");
        bool has_calls = g4_py_truthy(m->tool_calls), has_resps = g4_py_truthy(m->tool_responses);
        if (!(prev == PREV_TOOL_RESPONSE && has_calls)) {
            g4_strbuf_puts(b, "<|turn>");
            g4_strbuf_puts(b, model ? "model" : m->role);
            g4_strbuf_puts(b, "\n");
        }
        prev = PREV_NONE;
        if (has_calls) {
            if (g4_py_truthy(m->reasoning) && (long)(i - start) > last_user) {
                g4_strbuf_puts(b, "<|channel>thought\n");
                g4_py_str(b, m->reasoning);
                g4_strbuf_puts(b, "<channel|>");
            }
            if ((st = render_tool_calls(b, m->tool_calls, err))) goto msg_fail;
            prev = PREV_TOOL_CALL;
        }
        if (has_resps) {
            if ((st = render_tool_responses(b, m->tool_responses, err))) goto msg_fail;
            prev = PREV_TOOL_RESPONSE;
        }
        render_content(b, m->content, model, &prev);
        if (!(has_resps && !g4_py_truthy(m->content))) g4_strbuf_puts(b, "<turn|>\n");
        continue;
    msg_fail:;
        char where[48];
        snprintf(where, sizeof where, "messages[%zu]", i);
        g4_error_prefix(err, where);
        return st;
    }

    if (c->add_generation_prompt) {
        if (prev != PREV_TOOL_RESPONSE) g4_strbuf_puts(b, "<|turn>model\n");
        if (!c->enable_thinking) g4_strbuf_puts(b, "<|channel>thought\n<channel|>");
    }
    return G4_OK;
}
