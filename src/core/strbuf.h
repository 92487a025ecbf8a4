/* strbuf.h — a growable NUL-terminated byte string.
 * Appends never fail loudly: on overflow or allocation failure the buffer is
 * marked oom and later appends are ignored, so a caller checks once at the
 * end. Zero-initialise to start; g4_strbuf_free releases. */
#ifndef G4_CORE_STRBUF_H
#define G4_CORE_STRBUF_H

#include "core/status.h"

struct g4_strbuf {
    char *p;    /* NUL-terminated when not oom (NULL while empty) */
    size_t n;   /* bytes used, excluding the NUL */
    size_t cap;
    bool oom;   /* an append failed; content is incomplete */
};

void g4_strbuf_put(struct g4_strbuf *b, const char *s, size_t n);
void g4_strbuf_puts(struct g4_strbuf *b, const char *s);
void g4_strbuf_printf(struct g4_strbuf *b, const char *fmt, ...) G4_PRINTF(2, 3);
void g4_strbuf_free(struct g4_strbuf *b);

#endif
