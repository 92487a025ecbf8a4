/* status.c — g4_error filling and status names. No global state. */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static g4_status vfail(g4_error *err, g4_status code, int64_t off, const char *fmt, va_list ap) {
    if (err) {
        err->code = code;
        err->offset = off;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
    return code;
}

g4_status g4_fail(g4_error *err, g4_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(err, code, -1, fmt, ap);
    va_end(ap);
    return code;
}

g4_status g4_fail_at(g4_error *err, g4_status code, int64_t offset, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(err, code, offset, fmt, ap);
    va_end(ap);
    return code;
}

void g4_error_prefix(g4_error *err, const char *prefix) {
    if (!err || !prefix) return;
    char tmp[sizeof err->message];
    size_t cap = sizeof tmp, a = strlen(prefix);
    if (a > cap - 3) a = cap - 3;
    memcpy(tmp, prefix, a);
    memcpy(tmp + a, ": ", 2);
    size_t b = strlen(err->message);
    if (b > cap - a - 3) b = cap - a - 3;
    memcpy(tmp + a + 2, err->message, b);
    tmp[a + 2 + b] = 0;
    memcpy(err->message, tmp, sizeof tmp);
}

void g4_error_clear(g4_error *err) {
    if (!err) return;
    err->code = G4_OK;
    err->offset = -1;
    err->message[0] = 0;
}

const char *g4_status_str(g4_status s) {
    switch (s) {
    case G4_OK: return "ok";
    case G4_ERR_INVALID_ARG: return "invalid argument";
    case G4_ERR_IO: return "I/O error";
    case G4_ERR_FORMAT: return "format error";
    case G4_ERR_UNSUPPORTED: return "unsupported";
    case G4_ERR_NOMEM: return "out of memory";
    case G4_ERR_NOT_FOUND: return "not found";
    case G4_ERR_RANGE: return "out of range";
    case G4_ERR_CANCELLED: return "cancelled";
    case G4_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *g4_version(void) { return "0.1.0"; }
