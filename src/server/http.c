/* http.c — libmicrohttpd glue. One thread per connection (so handlers may
 * block on a generation), HTTP/1.1 keep-alive and chunked responses from
 * libmicrohttpd. Limits: request body (413 before reading more than
 * max_body), header memory per connection (MHD answers 431/413 itself),
 * connection count, idle timeout. Every request gets CORS headers when its
 * Origin is allowed, and is checked for an API key except GET /health and
 * CORS preflights. */
#include "server/server.h"

#include "core/log.h"
#include "server/auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#if MHD_VERSION < 0x00097002
typedef int MHD_Result;
#else
typedef enum MHD_Result MHD_Result;
#endif

#define HEADER_MEMORY (256 * 1024) /* per-connection pool: headers + read buffer */

struct conn_state {
    char *body;
    size_t len, cap;
    bool too_large;
    bool responded; /* a response was queued before the body was read */
};

struct MHD_Response *g4_http_json(json_t *j) {
    if (!j) return NULL;
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s) return NULL;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(s);
        return NULL;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    return r;
}

struct MHD_Response *g4_http_text(const char *text, const char *content_type) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (r) MHD_add_response_header(r, "Content-Type", content_type);
    return r;
}

struct MHD_Response *g4_http_error(const struct g4_api_error *e, int *status) {
    *status = e->status;
    struct MHD_Response *r = g4_http_json(g4_api_error_json(e));
    if (r && e->status == 503) MHD_add_response_header(r, "Retry-After", "1");
    return r;
}

bool g4_http_peer_gone(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return false;
    char b;
    ssize_t n = recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static const char *allowed_origin(const struct g4_server *s, struct MHD_Connection *c) {
    const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (!o) return NULL;
    for (int i = 0; i < s->cfg->n_cors; i++)
        if (!strcmp(s->cfg->cors[i], "*") || !strcasecmp(s->cfg->cors[i], o)) return o;
    return NULL;
}

static MHD_Result send_resp(struct g4_server *s, struct MHD_Connection *c, struct MHD_Response *r, int status) {
    if (!r) {
        static const char oom[] = "{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\",\"param\":null,\"code\":null}}";
        r = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, "Content-Type", "application/json");
        status = 500;
    }
    const char *origin = allowed_origin(s, c);
    if (origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(r, "Vary", "Origin");
    }
    atomic_fetch_add(&s->metrics.requests_total, 1);
    if (status >= 400) atomic_fetch_add(&s->metrics.requests_error, 1);
    MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static struct MHD_Response *too_large(const struct g4_server *s, int *status) {
    struct g4_api_error e;
    g4_api_fail(&e, 413, "invalid_request_error", "request_too_large", NULL,
                "the request body is larger than the limit of %zu bytes", s->cfg->max_body);
    return g4_http_error(&e, status);
}

static MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                             const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    struct g4_server *s = cls;
    struct conn_state *cs = *con_cls;
    struct g4_api_error e;
    int status = 200;
    struct MHD_Response *resp;
    if (!cs) {
        cs = calloc(1, sizeof *cs);
        if (!cs) return MHD_NO;
        *con_cls = cs;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
        cs->too_large = declared > s->cfg->max_body;
        /* Over the limit: read and drop the body, then answer 413 (clients
         * that write the whole body before reading, like urllib, see the
         * status instead of a broken pipe); absurd sizes are answered at
         * once, without reading (MHD closes the connection after). */
        if (declared / 16 <= s->cfg->max_body) return MHD_YES;
        cs->responded = true;
        resp = too_large(s, &status);
        return send_resp(s, c, resp, status);
    }
    if (cs->responded) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (cs->too_large || cs->len + n > s->cfg->max_body) {
            cs->too_large = true;
            free(cs->body);
            cs->body = NULL;
            cs->len = cs->cap = 0;
            return MHD_YES;
        }
        if (cs->len + n + 1 > cs->cap) {
            size_t cap = G4_MAX(cs->cap * 2, cs->len + n + 1);
            if (cap > s->cfg->max_body + 1) cap = s->cfg->max_body + 1;
            char *b = realloc(cs->body, cap);
            if (!b) return MHD_NO;
            cs->body = b;
            cs->cap = cap;
        }
        memcpy(cs->body + cs->len, upload, n);
        cs->len += n;
        cs->body[cs->len] = 0;
        return MHD_YES;
    }
    if (cs->too_large) {
        resp = too_large(s, &status);
        return send_resp(s, c, resp, status);
    }
    if (!strcmp(method, "OPTIONS")) { /* CORS preflight */
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (resp && allowed_origin(s, c)) {
            MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
            MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Authorization, Content-Type");
            MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
        }
        return send_resp(s, c, resp, 204);
    }
    bool public_route = !strcmp(url, "/health") || !strcmp(url, "/v1/health");
    if (!public_route &&
        !g4_auth_check(s->cfg->api_keys, s->cfg->n_api_keys, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"))) {
        g4_api_fail(&e, 401, "authentication_error", "invalid_api_key", NULL,
                    "Incorrect or missing API key. Send it as 'Authorization: Bearer KEY'.");
        resp = g4_http_error(&e, &status);
        if (resp) MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
        return send_resp(s, c, resp, status);
    }
    struct g4_http_req r = {s, c, method, url, cs->body ? cs->body : "", cs->len};
    resp = g4_route(&r, &status);
    return send_resp(s, c, resp, status);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    struct conn_state *cs = *con_cls;
    if (cs) {
        free(cs->body);
        free(cs);
        *con_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = 0;
    g4_log(G4_LOG_DEBUG, "http: %s", msg);
}

g4_status g4_http_start(struct g4_server *s, void **daemon, int *bound_port, g4_error *err) {
    const struct g4_serve_config *cfg = s->cfg;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", cfg->port);
    int gai = getaddrinfo(cfg->host, port, &hints, &ai);
    if (gai) return g4_fail(err, G4_ERR_INVALID_ARG, "serve: cannot resolve host '%s': %s", cfg->host, gai_strerror(gai));
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_conn, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->idle_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEMORY,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d) return g4_fail(err, G4_ERR_IO, "serve: cannot listen on %s:%d (%s)", cfg->host, cfg->port, strerror(errno));
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = di ? di->port : cfg->port;
    *daemon = d;
    return G4_OK;
}

void g4_http_quiesce(void *daemon) {
    MHD_socket fd = MHD_quiesce_daemon(daemon);
    if (fd != MHD_INVALID_SOCKET) close(fd);
}

void g4_http_stop(void *daemon) { MHD_stop_daemon(daemon); }
