/* strbuf.c — growable string (see strbuf.h). Sizes are overflow-checked. */
#include "core/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void g4_strbuf_put(struct g4_strbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    uint64_t need;
    if (!g4_add_ok(b->n, n, &need) || !g4_add_ok(need, 1, &need)) {
        b->oom = true;
        return;
    }
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) {
            if (cap > SIZE_MAX / 2) {
                b->oom = true;
                return;
            }
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void g4_strbuf_puts(struct g4_strbuf *b, const char *s) { g4_strbuf_put(b, s, strlen(s)); }

void g4_strbuf_free(struct g4_strbuf *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

void g4_strbuf_printf(struct g4_strbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)k < sizeof small) {
        g4_strbuf_put(b, small, (size_t)k);
        return;
    }
    char *big = malloc((size_t)k + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    g4_strbuf_put(b, big, (size_t)k);
    free(big);
}
