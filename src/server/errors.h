/* errors.h — OpenAI-shaped API errors.
 * Every error the server sends is {"error":{"message","type","param","code"}}
 * with an HTTP status chosen here, so a client mistake is always 4xx and only
 * our own failures are 5xx. A g4_api_error is a plain value (no allocation)
 * that request parsing fills and the HTTP layer turns into a response. */
#ifndef G4_SERVER_ERRORS_H
#define G4_SERVER_ERRORS_H

#include <jansson.h>

struct g4_api_error {
    int status;          /* HTTP status: 400, 401, 404, 413, 500, 503 ... */
    const char *type;    /* "invalid_request_error", "authentication_error", ... (static) */
    const char *code;    /* static or NULL: "context_length_exceeded", "model_not_found" ... */
    char param[64];      /* the offending request field, "" for none */
    char message[512];
};

/* Fills e and returns the status. message is printf-style. */
int g4_api_fail(struct g4_api_error *e, int status, const char *type, const char *code, const char *param,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* 400 invalid_request_error naming `param`. */
int g4_api_bad(struct g4_api_error *e, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The {"error":{...}} object (new reference; NULL on allocation failure). */
json_t *g4_api_error_json(const struct g4_api_error *e);
/* The same, serialised compactly (malloc'd string). */
char *g4_api_error_dump(const struct g4_api_error *e);

#endif
