/* log.c — log sink (set once at start-up, then read-only). */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static g4_log_fn log_fn;
static void *log_user;
static g4_log_level log_max = G4_LOG_INFO;

void g4_log_set(g4_log_fn fn, void *user, g4_log_level max_level) {
    log_fn = fn;
    log_user = user;
    log_max = max_level;
}

bool g4_log_enabled(g4_log_level level) { return level <= log_max; }

void g4_log(g4_log_level level, const char *fmt, ...) {
    if (level > log_max) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (log_fn) {
        log_fn(level, buf, log_user);
    } else {
        static const char *tag[] = {"error", "warn", "info", "debug"};
        fprintf(stderr, "g4 %s: %s\n", tag[level], buf);
    }
}
