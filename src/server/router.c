/* router.c — routes and the small endpoints: /health, /metrics,
 * /v1/models[/{id}], /tokenize, /detokenize. Unknown routes are 404 and
 * known routes with the wrong method 405, both as OpenAI error JSON. While
 * the model loads, every route answers 503 (Retry-After) with
 * "Loading model". */
#include "server/server.h"

#include "server/openai_resp.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

static const char *const text_modalities[] = {"text"};

static json_t *model_obj(const struct g4_server *s) {
    return g4_oai_model_json(s->model_id, s->created, s->n_ctx, text_modalities, 1);
}

static struct MHD_Response *bad(int *status, const char *param, const char *msg) {
    struct g4_api_error e;
    g4_api_bad(&e, param, "%s", msg);
    return g4_http_error(&e, status);
}

json_t *g4_parse_body(struct g4_http_req *r, struct MHD_Response **resp, int *status) {
    json_error_t je;
    json_t *j = json_loadb(r->body, r->body_len, 0, &je);
    if (!j) {
        struct g4_api_error e;
        g4_api_bad(&e, NULL, "We could not parse the JSON body of your request: %s (line %d, column %d)", je.text,
                   je.line, je.column);
        *resp = g4_http_error(&e, status);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        *resp = bad(status, NULL, "the request body must be a JSON object");
        return NULL;
    }
    return j;
}

static struct MHD_Response *tokenize(struct g4_http_req *r, int *status) {
    struct MHD_Response *resp = NULL;
    json_t *b = g4_parse_body(r, &resp, status);
    if (!b) return resp;
    json_t *c = json_object_get(b, "content"), *as = json_object_get(b, "add_special"),
           *ps = json_object_get(b, "parse_special");
    if (!json_is_string(c)) resp = bad(status, "content", "'content' must be a string");
    else if (as && !json_is_boolean(as)) resp = bad(status, "add_special", "'add_special' must be a boolean");
    else if (ps && !json_is_boolean(ps)) resp = bad(status, "parse_special", "'parse_special' must be a boolean");
    else {
        int flags = (json_is_true(as) ? G4_TOK_ADD_BOS : 0) | (json_is_true(ps) ? G4_TOK_PARSE_SPECIAL : 0);
        int32_t *ids;
        size_t n;
        struct g4_api_error e;
        if (g4_prompt_tokenize(r->srv->model, json_string_value(c), json_string_length(c), flags, &ids, &n, &e)) {
            resp = g4_http_error(&e, status);
        } else {
            json_t *a = json_array();
            for (size_t i = 0; a && i < n; i++) json_array_append_new(a, json_integer(ids[i]));
            free(ids);
            *status = 200;
            resp = g4_http_json(json_pack("{s:o}", "tokens", a));
        }
    }
    json_decref(b);
    return resp;
}

static struct MHD_Response *detokenize(struct g4_http_req *r, int *status) {
    struct MHD_Response *resp = NULL;
    json_t *b = g4_parse_body(r, &resp, status);
    if (!b) return resp;
    json_t *t = json_object_get(b, "tokens");
    size_t n = json_array_size(t);
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!json_is_array(t)) resp = bad(status, "tokens", "'tokens' must be an array of token ids");
    else if (ids) {
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_array_get(t, i);
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= r->srv->n_vocab) {
                resp = bad(status, "tokens", "'tokens' holds a value that is not a token id of this model");
                break;
            }
            ids[i] = (int32_t)json_integer_value(v);
        }
        if (!resp) {
            char *out = NULL;
            size_t len = 0;
            g4_error err;
            if (g4_detokenize(r->srv->model, ids, n, 0, &out, &len, &err) != G4_OK) {
                resp = bad(status, "tokens", err.message);
            } else {
                *status = 200;
                resp = g4_http_json(json_pack("{s:o}", "content", g4_json_text(out, len)));
                free(out);
            }
        }
    }
    free(ids);
    json_decref(b);
    return resp;
}

struct MHD_Response *g4_route(struct g4_http_req *r, int *status) {
    struct g4_server *s = r->srv;
    struct g4_api_error e;
    const char *u = r->url;
    bool get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"), post = !strcmp(r->method, "POST");
    int state = atomic_load(&s->state);
    if (state != G4_SRV_READY) {
        if (state == G4_SRV_LOADING) g4_api_fail(&e, 503, "unavailable_error", "model_loading", NULL, "Loading model");
        else if (state == G4_SRV_STOPPING) g4_api_fail(&e, 503, "unavailable_error", "server_shutting_down", NULL, "the server is shutting down");
        else g4_api_fail(&e, 503, "unavailable_error", "model_load_failed", NULL, "the model failed to load");
        return g4_http_error(&e, status);
    }
    /* the /v1 prefix is optional (clients differ on base URLs) */
    const char *p = !strncmp(u, "/v1/", 4) ? u + 3 : u;
    struct {
        const char *path;
        bool post;
    } known[] = {{"/health", false}, {"/metrics", false}, {"/models", false}, {"/chat/completions", true},
                 {"/completions", true}, {"/tokenize", true}, {"/detokenize", true}};
    if (!strcmp(p, "/health") && get) {
        *status = 200;
        return g4_http_json(json_pack("{s:s}", "status", "ok"));
    }
    if (!strcmp(p, "/metrics") && get) {
        char *m = g4_metrics_render(&s->metrics, g4_gen_queue_len(&s->q), g4_gen_queue_busy(&s->q), 1);
        if (!m) return NULL;
        struct MHD_Response *resp = g4_http_text(m, "text/plain; version=0.0.4");
        free(m);
        *status = 200;
        return resp;
    }
    if (!strcmp(p, "/models") && get) {
        *status = 200;
        return g4_http_json(g4_oai_models_json(model_obj(s)));
    }
    if (!strncmp(p, "/models/", 8) && get) {
        if (strcmp(p + 8, s->model_id)) {
            g4_api_fail(&e, 404, "invalid_request_error", "model_not_found", "model",
                        "The model '%.200s' does not exist", p + 8);
            return g4_http_error(&e, status);
        }
        *status = 200;
        return g4_http_json(model_obj(s));
    }
    if (!strcmp(p, "/chat/completions") && post) return g4_handle_chat(r, status);
    if (!strcmp(p, "/completions") && post) return g4_handle_completion(r, status);
    if (!strcmp(p, "/tokenize") && post) return tokenize(r, status);
    if (!strcmp(p, "/detokenize") && post) return detokenize(r, status);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (!strcmp(p, known[i].path) || (!strcmp(known[i].path, "/models") && !strncmp(p, "/models/", 8))) {
            g4_api_fail(&e, 405, "invalid_request_error", "method_not_allowed", NULL, "%s %.200s is not allowed; use %s",
                        r->method, u, known[i].post ? "POST" : "GET");
            return g4_http_error(&e, status);
        }
    }
    g4_api_fail(&e, 404, "invalid_request_error", "unknown_url", NULL, "Unknown request URL: %.16s %.200s", r->method, u);
    return g4_http_error(&e, status);
}
