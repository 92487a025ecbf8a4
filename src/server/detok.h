/* detok.h — incremental detokenization for the engine thread, without
 * allocation: each generated id appends its text to a caller buffer, with
 * the Gemma tokenizer decoder (Replace "▁" -> " ", ByteFallback, Fuse), the
 * same as g4_detokenize. Special tokens give their string when keep_special
 * (chat: the output parser reads the markup), else nothing. Byte tokens
 * <0xHH> gather in a run that is emitted as soon as it is complete UTF-8,
 * as one U+FFFD per byte once it cannot become valid (HF's ByteFallback),
 * and closed by any other token or by g4_detok_flush, so the output never
 * holds a partial character. Invariant (tested against g4_detokenize): the
 * concatenated output of a sequence equals its one-shot decode whenever
 * the byte runs are valid UTF-8. */
#ifndef G4_SERVER_DETOK_H
#define G4_SERVER_DETOK_H

#include "tokenizer/tokenizer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define G4_DETOK_RUN 8 /* a byte run this long is closed (UTF-8 needs at most 4) */

struct g4_detok {
    const struct g4_tokenizer *tok;
    bool keep_special;
    unsigned char run[G4_DETOK_RUN];
    size_t n_run;
};

/* Bytes one call of g4_detok_add or g4_detok_flush may append at most. */
size_t g4_detok_max_add(const struct g4_tokenizer *tok);

void g4_detok_init(struct g4_detok *d, const struct g4_tokenizer *tok, bool keep_special);
/* Appends id's text to out (room for g4_detok_max_add bytes); returns the
 * number of bytes written. */
size_t g4_detok_add(struct g4_detok *d, int32_t id, char *out);
/* Closes an open byte run (end of generation). */
size_t g4_detok_flush(struct g4_detok *d, char *out);

#endif
