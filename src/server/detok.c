/* detok.c — incremental, allocation-free detokenization (see detok.h). The
 * piece of every token is read from the tokenizer's table; nothing is
 * copied except into the caller's buffer. */
#include "server/detok.h"

#include "core/status.h"

#include <string.h>

/* The bytes s[0..n): 1 if whole valid UTF-8, 0 if valid but cut inside the
 * last character, -1 if invalid. */
static int utf8_state(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else return -1;
        for (size_t k = 1; k < len; k++) {
            if (i + k >= n) return 0;
            unsigned d = s[i + k];
            if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF)) return -1;
        }
        i += len;
    }
    return 1;
}

/* Emits the run: its bytes if valid, else U+FFFD per byte. */
static size_t run_close(struct g4_detok *d, char *out) {
    size_t n = 0;
    if (!d->n_run) return 0;
    if (utf8_state(d->run, d->n_run) == 1) {
        memcpy(out, d->run, d->n_run);
        n = d->n_run;
    } else {
        for (size_t i = 0; i < d->n_run; i++) memcpy(out + n, "\xEF\xBF\xBD", 3), n += 3;
    }
    d->n_run = 0;
    return n;
}

size_t g4_detok_max_add(const struct g4_tokenizer *tok) {
    size_t max_piece = 0;
    int32_t nv = g4_tokenizer_n_vocab(tok);
    for (int32_t i = 0; i < nv; i++) {
        size_t n = 0;
        if (g4_tokenizer_piece(tok, i, &n)) max_piece = G4_MAX(max_piece, n);
    }
    return 3 * G4_DETOK_RUN + max_piece;
}

void g4_detok_init(struct g4_detok *d, const struct g4_tokenizer *tok, bool keep_special) {
    d->tok = tok;
    d->keep_special = keep_special;
    d->n_run = 0;
}

size_t g4_detok_flush(struct g4_detok *d, char *out) { return run_close(d, out); }

size_t g4_detok_add(struct g4_detok *d, int32_t id, char *out) {
    size_t n = 0, o = 0;
    const char *p = g4_tokenizer_piece(d->tok, id, &n);
    if (!p) return 0;
    if (g4_tokenizer_is_special(d->tok, id)) {
        if (!d->keep_special) return 0;
        o = run_close(d, out);
        memcpy(out + o, p, n);
        return o + n;
    }
    int b = g4_tokenizer_byte_piece(p, n);
    if (b >= 0) {
        if (d->n_run == G4_DETOK_RUN) o = run_close(d, out);
        d->run[d->n_run++] = (unsigned char)b;
        int st = utf8_state(d->run, d->n_run);
        if (st != 0) o += run_close(d, out + o); /* complete, or hopeless */
        return o;
    }
    o = run_close(d, out);
    for (size_t i = 0; i < n;) {
        if (i + 3 <= n && !memcmp(p + i, "\xE2\x96\x81", 3)) { /* U+2581 "▁" */
            out[o++] = ' ';
            i += 3;
        } else {
            out[o++] = p[i++];
        }
    }
    return o;
}
