/* errors.c — OpenAI error objects (see errors.h). "param" and "code" are
 * JSON null when absent, as OpenAI sends them. */
#include "server/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void fill(struct g4_api_error *e, int status, const char *type, const char *code, const char *param,
                 const char *fmt, va_list ap) {
    e->status = status;
    e->type = type;
    e->code = code;
    snprintf(e->param, sizeof e->param, "%s", param ? param : "");
    vsnprintf(e->message, sizeof e->message, fmt, ap);
}

int g4_api_fail(struct g4_api_error *e, int status, const char *type, const char *code, const char *param,
                const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fill(e, status, type, code, param, fmt, ap);
    va_end(ap);
    return status;
}

int g4_api_bad(struct g4_api_error *e, const char *param, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fill(e, 400, "invalid_request_error", NULL, param, fmt, ap);
    va_end(ap);
    return 400;
}

/* Replaces bytes that are not part of valid UTF-8 with '?' (messages may
 * quote user input cut at an arbitrary byte). */
static void utf8_fix(char *s) {
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 && *p >= 0xC2 ? 2 : (*p & 0xF0) == 0xE0 ? 3
              : (*p & 0xF8) == 0xF0 && *p <= 0xF4 ? 4 : 0;
        int ok = n > 0;
        for (int i = 1; ok && i < n; i++) ok = (p[i] & 0xC0) == 0x80;
        if (ok && n == 3) ok = !(p[0] == 0xE0 && p[1] < 0xA0) && !(p[0] == 0xED && p[1] >= 0xA0);
        if (ok && n == 4) ok = !(p[0] == 0xF0 && p[1] < 0x90) && !(p[0] == 0xF4 && p[1] >= 0x90);
        if (!ok) { *p++ = '?'; continue; }
        p += n;
    }
}

json_t *g4_api_error_json(const struct g4_api_error *e) {
    char msg[sizeof e->message], param[sizeof e->param];
    snprintf(msg, sizeof msg, "%s", e->message);
    snprintf(param, sizeof param, "%s", e->param);
    utf8_fix(msg);
    utf8_fix(param);
    json_t *in = json_pack("{s:s, s:s, s:o, s:o}", "message", msg, "type",
                           e->type ? e->type : "server_error", "param",
                           param[0] ? json_string(param) : json_null(), "code",
                           e->code ? json_string(e->code) : json_null());
    if (!in) return NULL;
    return json_pack("{s:o}", "error", in);
}

char *g4_api_error_dump(const struct g4_api_error *e) {
    json_t *j = g4_api_error_json(e);
    if (!j) return NULL;
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}
