/* openai_req.c — validation of OpenAI request bodies (see openai_req.h).
 * Each field has one small reader that checks its JSON type and range and
 * reports the field name as `param`. Structured output (response_format,
 * tool_choice required / named) is validated here and compiled to a grammar
 * by generate.c. Nested fields are named with dots and
 * indices the way OpenAI does ("stream_options.include_usage",
 * "tools[2].function.name", "stop[1]"). */
#include "server/openai_req.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A field, or NULL when absent or null. */
static json_t *field(const json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_null(v) ? NULL : v;
}

static int get_bool(const json_t *o, const char *k, bool *out, struct g4_api_error *e) {
    json_t *v = field(o, k);
    if (!v) return 0;
    if (!json_is_boolean(v)) return g4_api_bad(e, k, "'%s' must be a boolean", k);
    *out = json_is_true(v);
    return 0;
}

static int get_num(const json_t *o, const char *k, double lo, double hi, double *out, struct g4_api_error *e) {
    json_t *v = field(o, k);
    if (!v) return 0;
    if (!json_is_number(v)) return g4_api_bad(e, k, "'%s' must be a number", k);
    double x = json_number_value(v);
    if (!isfinite(x) || x < lo || x > hi) return g4_api_bad(e, k, "'%s' must be between %g and %g, got %g", k, lo, hi, x);
    *out = x;
    return 0;
}

static int get_int(const json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *out, bool *given,
                   struct g4_api_error *e) {
    json_t *v = field(o, k);
    if (!v) return 0;
    if (!json_is_integer(v)) {
        /* 16.0 is an integer to JavaScript clients */
        double d = json_is_real(v) ? json_real_value(v) : NAN;
        if (!(isfinite(d) && d == floor(d) && fabs(d) < 9e15)) return g4_api_bad(e, k, "'%s' must be an integer", k);
        v = NULL;
        *out = (int64_t)d;
    } else {
        *out = json_integer_value(v);
    }
    if (*out < lo || *out > hi)
        return g4_api_bad(e, k, "'%s' must be between %lld and %lld, got %lld", k, (long long)lo, (long long)hi,
                          (long long)*out);
    if (given) *given = true;
    return 0;
}

static int get_str(const json_t *o, const char *k, char **out, struct g4_api_error *e) {
    json_t *v = field(o, k);
    if (!v) return 0;
    if (!json_is_string(v)) return g4_api_bad(e, k, "'%s' must be a string", k);
    *out = strdup(json_string_value(v));
    if (!*out) return g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
    return 0;
}

static int parse_stop(struct g4_oai_req *r, const json_t *body, struct g4_api_error *e) {
    json_t *v = field(body, "stop");
    if (!v) return 0;
    size_t n = json_is_string(v) ? 1 : json_is_array(v) ? json_array_size(v) : 0;
    if (!json_is_string(v) && !json_is_array(v)) return g4_api_bad(e, "stop", "'stop' must be a string or an array of strings");
    if (n > G4_OAI_MAX_STOP) return g4_api_bad(e, "stop", "'stop' has %zu entries; at most %d are allowed", n, G4_OAI_MAX_STOP);
    r->stop = calloc(n ? n : 1, sizeof *r->stop);
    if (!r->stop) return g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_is_string(v) ? v : json_array_get(v, i);
        char name[32];
        snprintf(name, sizeof name, json_is_string(v) ? "stop" : "stop[%zu]", i);
        if (!json_is_string(s)) return g4_api_bad(e, name, "'%s' must be a string", name);
        size_t len = json_string_length(s);
        if (len > G4_OAI_MAX_STOP_LEN) return g4_api_bad(e, name, "'%s' is longer than %d bytes", name, G4_OAI_MAX_STOP_LEN);
        if (len == 0 || memchr(json_string_value(s), 0, len)) continue; /* empty strings never match */
        if (!(r->stop[r->n_stop] = strdup(json_string_value(s))))
            return g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
        r->n_stop++;
    }
    return 0;
}

/* OpenAI's rule for function names: ^[a-zA-Z0-9_-]{1,64}$ (it also keeps
 * names free of the Gemma 4 call syntax's delimiters). */
static bool tool_name_ok(const char *s, size_t n) {
    if (n < 1 || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    }
    return true;
}

static int parse_logit_bias(struct g4_oai_req *r, const json_t *body, int32_t n_vocab, struct g4_api_error *e) {
    json_t *v = field(body, "logit_bias");
    if (!v) return 0;
    if (!json_is_object(v)) return g4_api_bad(e, "logit_bias", "'logit_bias' must be an object mapping token ids to numbers");
    size_t n = json_object_size(v);
    if (n > G4_OAI_MAX_LOGIT_BIAS)
        return g4_api_bad(e, "logit_bias", "'logit_bias' has %zu entries; at most %d are allowed", n, G4_OAI_MAX_LOGIT_BIAS);
    r->logit_bias = calloc(n ? n : 1, sizeof *r->logit_bias);
    if (!r->logit_bias) return g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        char *end;
        long long id = strtoll(key, &end, 10);
        if (!*key || *end || id < 0 || id > INT32_MAX || (n_vocab > 0 && id >= n_vocab))
            return g4_api_bad(e, "logit_bias", "'logit_bias' key '%.32s' is not a token id of this model", key);
        if (!json_is_number(val) || !isfinite(json_number_value(val)) || fabs(json_number_value(val)) > 100)
            return g4_api_bad(e, "logit_bias", "'logit_bias' value for token %lld must be a number in [-100, 100]", id);
        r->logit_bias[r->n_logit_bias++] = (struct g4_oai_bias){(int32_t)id, (float)json_number_value(val)};
    }
    return 0;
}

static int parse_tools(struct g4_oai_req *r, const json_t *body, struct g4_api_error *e) {
    json_t *v = field(body, "tools");
    if (v) {
        if (!json_is_array(v)) return g4_api_bad(e, "tools", "'tools' must be an array");
        if (json_array_size(v) > G4_OAI_MAX_TOOLS) return g4_api_bad(e, "tools", "'tools' has more than %d entries", G4_OAI_MAX_TOOLS);
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *t = json_array_get(v, i), *f = json_object_get(t, "function");
            char name[64];
            snprintf(name, sizeof name, "tools[%zu]", i);
            if (!json_is_object(t)) return g4_api_bad(e, name, "'%s' must be an object", name);
            json_t *type = json_object_get(t, "type");
            if (!json_is_string(type) || strcmp(json_string_value(type), "function")) {
                snprintf(name, sizeof name, "tools[%zu].type", i);
                return g4_api_bad(e, name, "'%s' must be \"function\"", name);
            }
            snprintf(name, sizeof name, "tools[%zu].function", i);
            if (!json_is_object(f)) return g4_api_bad(e, name, "'%s' must be an object", name);
            json_t *fn = json_object_get(f, "name");
            snprintf(name, sizeof name, "tools[%zu].function.name", i);
            if (!json_is_string(fn) || !json_string_length(fn)) return g4_api_bad(e, name, "'%s' must be a non-empty string", name);
            if (!tool_name_ok(json_string_value(fn), json_string_length(fn)))
                return g4_api_bad(e, name, "'%s' must be 1-64 characters of a-z, A-Z, 0-9, '_' and '-' (as OpenAI requires)", name);
            json_t *d = field(f, "description"), *p = field(f, "parameters");
            snprintf(name, sizeof name, "tools[%zu].function.description", i);
            if (d && !json_is_string(d)) return g4_api_bad(e, name, "'%s' must be a string", name);
            snprintf(name, sizeof name, "tools[%zu].function.parameters", i);
            if (p && !json_is_object(p)) return g4_api_bad(e, name, "'%s' must be an object (a JSON Schema)", name);
        }
        if (json_array_size(v)) r->tools = json_incref(v);
    }
    json_t *tc = field(body, "tool_choice");
    if (tc) {
        if (json_is_string(tc)) {
            const char *s = json_string_value(tc);
            if (!strcmp(s, "auto")) r->tool_choice = G4_TOOL_AUTO;
            else if (!strcmp(s, "none")) r->tool_choice = G4_TOOL_NONE;
            else if (!strcmp(s, "required")) r->tool_choice = G4_TOOL_REQUIRED;
            else return g4_api_bad(e, "tool_choice", "'tool_choice' must be \"none\", \"auto\", \"required\" or a named function");
        } else if (json_is_object(tc)) {
            json_t *f = json_object_get(tc, "function"), *n = json_object_get(f, "name");
            if (!json_is_string(n)) return g4_api_bad(e, "tool_choice", "'tool_choice' object must be {\"type\":\"function\",\"function\":{\"name\":...}}");
            r->tool_choice = G4_TOOL_NAMED;
            bool found = false;
            for (size_t i = 0; r->tools && i < json_array_size(r->tools); i++)
                found |= json_equal(json_object_get(json_object_get(json_array_get(r->tools, i), "function"), "name"), n);
            if (!found) return g4_api_bad(e, "tool_choice", "'tool_choice' names a function that is not in 'tools'");
            if (!(r->tool_choice_name = strdup(json_string_value(n))))
                return g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
        } else {
            return g4_api_bad(e, "tool_choice", "'tool_choice' must be a string or an object");
        }
        if ((r->tool_choice == G4_TOOL_REQUIRED) && !r->tools)
            return g4_api_bad(e, "tool_choice", "'tool_choice' is \"required\" but no 'tools' were given");
    }
    r->parallel_tool_calls = true;
    return get_bool(body, "parallel_tool_calls", &r->parallel_tool_calls, e);
}

static int parse_messages(struct g4_oai_req *r, const json_t *body, struct g4_api_error *e) {
    json_t *m = json_object_get(body, "messages");
    if (!m) return g4_api_bad(e, "messages", "'messages' is required");
    if (!json_is_array(m) || !json_array_size(m)) return g4_api_bad(e, "messages", "'messages' must be a non-empty array");
    if (json_array_size(m) > G4_OAI_MAX_MESSAGES) return g4_api_bad(e, "messages", "'messages' has too many entries");
    for (size_t i = 0; i < json_array_size(m); i++) {
        json_t *msg = json_array_get(m, i), *role = json_object_get(msg, "role");
        char name[80];
        snprintf(name, sizeof name, "messages[%zu]", i);
        if (!json_is_object(msg)) return g4_api_bad(e, name, "'%s' must be an object", name);
        snprintf(name, sizeof name, "messages[%zu].role", i);
        if (!json_is_string(role)) return g4_api_bad(e, name, "'%s' must be a string", name);
        const char *rs = json_string_value(role);
        if (strcmp(rs, "system") && strcmp(rs, "developer") && strcmp(rs, "user") && strcmp(rs, "assistant") &&
            strcmp(rs, "tool"))
            return g4_api_bad(e, name, "'%s' must be one of system, developer, user, assistant, tool", name);
        json_t *c = field(msg, "content");
        snprintf(name, sizeof name, "messages[%zu].content", i);
        if (c && !json_is_string(c) && !json_is_array(c))
            return g4_api_bad(e, name, "'%s' must be a string, an array of content parts or null", name);
        for (size_t j = 0; c && json_is_array(c) && j < json_array_size(c); j++) {
            json_t *part = json_array_get(c, j), *type = json_object_get(part, "type");
            snprintf(name, sizeof name, "messages[%zu].content[%zu]", i, j);
            if (!json_is_object(part) || !json_is_string(type))
                return g4_api_bad(e, name, "'%s' must be an object with a string 'type'", name);
            const char *ts = json_string_value(type);
            if (!strcmp(ts, "text")) {
                if (!json_is_string(json_object_get(part, "text")))
                    return g4_api_bad(e, name, "'%s' of type text needs a string 'text'", name);
            } else if (!strcmp(ts, "image_url") || !strcmp(ts, "input_audio") || !strcmp(ts, "video_url") ||
                       !strcmp(ts, "file")) {
                return g4_api_bad(e, name, "'%s': %s input is not supported by this server yet", name, ts);
            } else {
                return g4_api_bad(e, name, "'%s' has unknown type '%.32s'", name, ts);
            }
        }
    }
    r->messages = json_incref(m);
    return 0;
}

static int parse_prompt(struct g4_oai_req *r, const json_t *body, int32_t n_vocab, struct g4_api_error *e) {
    json_t *p = json_object_get(body, "prompt");
    if (!p) return g4_api_bad(e, "prompt", "'prompt' is required");
    if (json_is_array(p) && json_array_size(p) == 1 && json_is_string(json_array_get(p, 0))) p = json_array_get(p, 0);
    if (json_is_string(p)) {
        r->prompt = strndup(json_string_value(p), json_string_length(p));
        if (!r->prompt) return g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
        return 0;
    }
    if (!json_is_array(p) || !json_array_size(p))
        return g4_api_bad(e, "prompt", "'prompt' must be a string, an array of one string or an array of token ids");
    size_t n = json_array_size(p);
    r->prompt_ids = malloc(n * sizeof *r->prompt_ids);
    if (!r->prompt_ids) return g4_api_fail(e, 500, "server_error", NULL, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(p, i);
        if (json_is_string(t) || json_is_array(t))
            return g4_api_bad(e, "prompt", "'prompt' with several prompts is not supported (n prompts > 1)");
        json_int_t id = json_is_integer(t) ? json_integer_value(t) : -1;
        if (id < 0 || id > INT32_MAX || (n_vocab > 0 && id >= n_vocab))
            return g4_api_bad(e, "prompt", "'prompt[%zu]' is not a token id of this model", i);
        r->prompt_ids[i] = (int32_t)id;
    }
    r->n_prompt_ids = n;
    return 0;
}

static int parse_response_format(struct g4_oai_req *r, const json_t *body, struct g4_api_error *e) {
    json_t *v = field(body, "response_format");
    if (!v) return 0;
    json_t *t = json_object_get(v, "type");
    if (!json_is_object(v) || !json_is_string(t))
        return g4_api_bad(e, "response_format", "'response_format' must be an object with a string 'type'");
    const char *ts = json_string_value(t);
    if (!strcmp(ts, "text")) return 0;
    if (!strcmp(ts, "json_object")) {
        r->response_format = G4_FMT_JSON_OBJECT;
        return 0;
    }
    if (strcmp(ts, "json_schema"))
        return g4_api_bad(e, "response_format", "'response_format.type' must be text, json_object or json_schema");
    json_t *js = json_object_get(v, "json_schema"), *sc = json_object_get(js, "schema"), *st = field(js, "strict");
    if (!json_is_object(js)) return g4_api_bad(e, "response_format.json_schema", "'response_format.json_schema' must be an object");
    if (!json_is_object(sc) && !json_is_boolean(sc))
        return g4_api_bad(e, "response_format.json_schema.schema", "'response_format.json_schema.schema' must be a JSON Schema object");
    if (st && !json_is_boolean(st))
        return g4_api_bad(e, "response_format.json_schema.strict", "'response_format.json_schema.strict' must be a boolean");
    r->response_format = G4_FMT_JSON_SCHEMA;
    r->json_schema = json_incref(sc);
    r->schema_strict = json_is_true(st);
    return 0;
}

static int parse_reasoning(struct g4_oai_req *r, const json_t *body, struct g4_api_error *e) {
    r->thinking = -1;
    json_t *v = field(body, "reasoning_effort");
    if (v) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        if (!strcmp(s, "none") || !strcmp(s, "minimal")) r->thinking = 0;
        else if (!strcmp(s, "low") || !strcmp(s, "medium") || !strcmp(s, "high")) r->thinking = 1;
        else return g4_api_bad(e, "reasoning_effort", "'reasoning_effort' must be one of none, minimal, low, medium, high");
    }
    /* llama.cpp / vLLM extension: chat_template_kwargs.enable_thinking */
    json_t *k = field(body, "chat_template_kwargs");
    if (k && !json_is_object(k)) return g4_api_bad(e, "chat_template_kwargs", "'chat_template_kwargs' must be an object");
    json_t *t = k ? field(k, "enable_thinking") : NULL;
    if (t) {
        if (!json_is_boolean(t))
            return g4_api_bad(e, "chat_template_kwargs.enable_thinking", "'chat_template_kwargs.enable_thinking' must be a boolean");
        r->thinking = json_is_true(t);
    }
    return 0;
}

/* Fields that change the output and that we cannot honour yet. */
static int refuse_unsupported(const json_t *body, enum g4_oai_kind kind, struct g4_api_error *e) {
    json_t *v;
    if ((v = field(body, "n")) && !(json_is_integer(v) && json_integer_value(v) == 1))
        return g4_api_bad(e, "n", json_is_integer(v) ? "'n' other than 1 is not supported" : "'n' must be an integer");
    if ((v = field(body, "best_of")) && !(json_is_integer(v) && json_integer_value(v) == 1))
        return g4_api_bad(e, "best_of", "'best_of' other than 1 is not supported");
    v = field(body, "logprobs");
    if (v && !(kind == G4_OAI_CHAT ? json_is_boolean(v) : json_is_integer(v)))
        return g4_api_bad(e, "logprobs", kind == G4_OAI_CHAT ? "'logprobs' must be a boolean" : "'logprobs' must be an integer");
    if (kind == G4_OAI_COMPLETION && v && json_integer_value(v) != 0)
        return g4_api_bad(e, "logprobs", "'logprobs' on /v1/completions is not supported yet (use chat completions)");
    bool lp = json_is_true(v);
    if ((v = field(body, "top_logprobs"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 20)
            return g4_api_bad(e, "top_logprobs", "'top_logprobs' must be an integer between 0 and 20");
        if (json_integer_value(v) > 0 && !lp) return g4_api_bad(e, "top_logprobs", "'top_logprobs' requires 'logprobs' to be true");
    }
    if ((v = field(body, "functions")) || (v = field(body, "function_call")))
        return g4_api_bad(e, field(body, "functions") ? "functions" : "function_call",
                          "the deprecated 'functions'/'function_call' fields are not supported; use 'tools'");
    if (kind == G4_OAI_COMPLETION) {
        if ((v = field(body, "echo")) && (!json_is_boolean(v) || json_is_true(v)))
            return g4_api_bad(e, "echo", json_is_boolean(v) ? "'echo' is not supported yet" : "'echo' must be a boolean");
        if ((v = field(body, "suffix")) && (!json_is_string(v) || json_string_length(v)))
            return g4_api_bad(e, "suffix", json_is_string(v) ? "'suffix' (fill-in-the-middle) is not supported by Gemma" : "'suffix' must be a string");
    }
    return 0;
}

int g4_oai_req_parse(struct g4_oai_req *r, enum g4_oai_kind kind, const json_t *body, int32_t n_vocab,
                     struct g4_api_error *e) {
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->max_tokens = -1;
    r->temperature = 1;
    r->top_p = 1;
    r->repetition_penalty = 1;
    r->parallel_tool_calls = true;
    r->thinking = -1;
    int st = 0;
    int64_t i64 = 0;
    bool given = false;
    if (!json_is_object(body)) {
        st = g4_api_bad(e, NULL, "the request body must be a JSON object");
        goto out;
    }
    if ((st = get_str(body, "model", &r->model, e))) goto out;
    if ((st = kind == G4_OAI_CHAT ? parse_messages(r, body, e) : parse_prompt(r, body, n_vocab, e))) goto out;
    if ((st = refuse_unsupported(body, kind, e))) goto out;
    /* max_completion_tokens wins over the deprecated max_tokens when both are given */
    if ((st = get_int(body, "max_tokens", 1, INT32_MAX, &i64, &given, e))) goto out;
    if (given) r->max_tokens = i64;
    given = false;
    if ((st = get_int(body, "max_completion_tokens", 1, INT32_MAX, &i64, &given, e))) goto out;
    if (given) r->max_tokens = i64;
    if ((st = get_num(body, "temperature", 0, 2, &r->temperature, e))) goto out;
    r->set_temperature = field(body, "temperature") != NULL;
    r->set_top_p = field(body, "top_p") != NULL;
    r->set_top_k = field(body, "top_k") != NULL;
    if ((st = get_num(body, "top_p", 0, 1, &r->top_p, e))) goto out;
    if ((st = get_num(body, "min_p", 0, 1, &r->min_p, e))) goto out;
    if ((st = get_num(body, "repetition_penalty", 0.01, 10, &r->repetition_penalty, e))) goto out;
    given = false;
    if ((st = get_int(body, "top_k", -1, INT32_MAX, &i64, &given, e))) goto out;
    if (given) r->top_k = i64 < 0 ? 0 : (int32_t)i64;
    given = false;
    if ((st = get_int(body, "seed", INT64_MIN, INT64_MAX, &i64, &given, e))) goto out;
    if (given) r->has_seed = true, r->seed = (uint64_t)i64;
    if ((st = get_num(body, "presence_penalty", -2, 2, &r->presence_penalty, e))) goto out;
    if ((st = get_num(body, "frequency_penalty", -2, 2, &r->frequency_penalty, e))) goto out;
    if ((st = parse_stop(r, body, e))) goto out;
    if ((st = parse_logit_bias(r, body, n_vocab, e))) goto out;
    if ((st = get_bool(body, "stream", &r->stream, e))) goto out;
    if (kind == G4_OAI_CHAT && json_is_true(field(body, "logprobs"))) {
        r->logprobs = true;
        json_t *tl = field(body, "top_logprobs");
        r->top_logprobs = tl ? (int)json_integer_value(tl) : 0;
    }
    json_t *so = field(body, "stream_options");
    if (so && !json_is_object(so)) {
        st = g4_api_bad(e, "stream_options", "'stream_options' must be an object");
        goto out;
    }
    if (so && field(so, "include_usage") && !json_is_boolean(field(so, "include_usage"))) {
        st = g4_api_bad(e, "stream_options.include_usage", "'stream_options.include_usage' must be a boolean");
        goto out;
    }
    if (so) r->include_usage = json_is_true(field(so, "include_usage"));
    if ((st = parse_response_format(r, body, e))) goto out;
    if (kind == G4_OAI_CHAT) {
        if ((st = parse_tools(r, body, e))) goto out;
        if ((st = parse_reasoning(r, body, e))) goto out;
    }
    if ((st = get_str(body, "user", &r->user, e))) goto out;
out:
    if (st) g4_oai_req_free(r);
    return st;
}

void g4_oai_req_free(struct g4_oai_req *r) {
    if (!r) return;
    free(r->model);
    json_decref(r->messages);
    free(r->prompt);
    free(r->prompt_ids);
    for (int i = 0; i < r->n_stop; i++) free(r->stop[i]);
    free(r->stop);
    free(r->logit_bias);
    json_decref(r->tools);
    free(r->tool_choice_name);
    json_decref(r->json_schema);
    free(r->user);
    memset(r, 0, sizeof *r);
}
