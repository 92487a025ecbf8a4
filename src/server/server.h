/* server.h — the state of a running `g4 serve` shared by its parts:
 * http.c (libmicrohttpd glue: bodies, limits, CORS, auth, response
 * helpers), router.c (routes and the small endpoints), generate.c (chat and
 * completion endpoints, stream and non-stream), serve.c (start-up, model
 * loading, signals, shutdown). Threads: libmicrohttpd runs one thread per
 * connection (parse, template, tokenize, format, wait on the request's
 * channel); one engine thread owns the model context (engine_loop.c).
 * Everything below is read-only once `state` is READY, except the atomics,
 * the queue and the metrics. */
#ifndef G4_SERVER_SERVER_H
#define G4_SERVER_SERVER_H

#include "g4.h"
#include "server/engine_iface.h"
#include "server/engine_loop.h"
#include "server/errors.h"
#include "server/metrics.h"
#include "server/prompt.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct MHD_Connection;
struct MHD_Response;

struct g4_serve_config {
    const char *model_path;
    const char *host;          /* default 127.0.0.1 */
    int port;                  /* default 8080; 0 = any free port (printed) */
    const char *alias;         /* model id; default: file name without .gguf */
    const char **api_keys;
    int n_api_keys;
    const char **cors;         /* allowed origins ("*" = any) */
    int n_cors;
    int parallel;              /* slots: sequences decoded together (continuous batching) */
    int prefill_chunk;         /* prompt rows per step while others decode; 0 = default 64 */
    int64_t n_ctx;             /* 0 = min(model, 4096) */
    int n_threads;             /* 0 = all cores */
    size_t max_body;           /* bytes; default 16 MiB */
    int max_conn;              /* concurrent connections; default 64 */
    int idle_timeout;          /* seconds a connection may stay idle; default 600 */
    int queue_cap;             /* waiting requests before 503; default 64 */
    int ping_interval;         /* seconds between SSE keep-alive comments; default 10 */
    const char *port_file;     /* optional: write the bound port here once listening */
};

enum g4_server_state { G4_SRV_LOADING = 0, G4_SRV_READY, G4_SRV_STOPPING, G4_SRV_FAILED };

struct g4_server {
    const struct g4_serve_config *cfg;
    atomic_int state;
    atomic_bool abort;                 /* cancels in-flight generation at shutdown */
    atomic_int active;                 /* generations an HTTP thread is still answering */
    g4_model *model;
    struct g4_specials *specials;
    struct g4_engine_thread et;
    struct g4_gen_queue q;
    struct g4_metrics metrics;
    int64_t n_ctx;
    int32_t n_vocab;
    char model_id[256];
    int64_t created;
    char fingerprint[32];
};

/* A request as the router sees it. */
struct g4_http_req {
    struct g4_server *srv;
    struct MHD_Connection *conn;
    const char *method, *url;
    const char *body;
    size_t body_len;
};

/* ---- http.c ---- */
/* Responses; the json is stolen. NULL only on allocation failure. */
struct MHD_Response *g4_http_json(json_t *j);
struct MHD_Response *g4_http_text(const char *text, const char *content_type);
/* The error response; *status gets e->status. Adds Retry-After on 503. */
struct MHD_Response *g4_http_error(const struct g4_api_error *e, int *status);
/* True if the client closed its side of the connection. */
bool g4_http_peer_gone(struct MHD_Connection *c);
/* Starts / stops the daemon. */
g4_status g4_http_start(struct g4_server *s, void **daemon, int *bound_port, g4_error *err);
void g4_http_quiesce(void *daemon);
void g4_http_stop(void *daemon);

/* ---- router.c ---- */
/* Parses the body as a JSON object; on failure returns NULL and sets *resp
 * to the 400 response. */
json_t *g4_parse_body(struct g4_http_req *r, struct MHD_Response **resp, int *status);
/* Handles one complete request; returns the response and sets *status. */
struct MHD_Response *g4_route(struct g4_http_req *r, int *status);

/* ---- generate.c ---- */
struct MHD_Response *g4_handle_chat(struct g4_http_req *r, int *status);
struct MHD_Response *g4_handle_completion(struct g4_http_req *r, int *status);

/* ---- serve.c ---- */
/* Runs the server until SIGINT/SIGTERM; returns the process exit code. */
int g4_serve_run(const struct g4_serve_config *cfg);

#endif
