/* status.h — error reporting inside the library.
 * Every fallible internal function returns g4_status and takes an optional
 * g4_error*. g4_fail() fills it (printf-style) and returns the code, so error
 * paths read `return g4_fail(err, G4_ERR_FORMAT, "%s: bad magic", path);`.
 * Checked size arithmetic lives here too: file-derived numbers go through
 * g4_mul_ok/g4_add_ok before any allocation or pointer arithmetic. */
#ifndef G4_CORE_STATUS_H
#define G4_CORE_STATUS_H

#include "g4.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define G4_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define G4_PRINTF(a, b)
#endif

/* Fills `err` (if not NULL) with code, offset -1 and the formatted message. */
g4_status g4_fail(g4_error *err, g4_status code, const char *fmt, ...) G4_PRINTF(3, 4);
/* Same with a byte offset. */
g4_status g4_fail_at(g4_error *err, g4_status code, int64_t offset, const char *fmt, ...) G4_PRINTF(4, 5);
/* Prepends "prefix: " to an already-filled error message. */
void g4_error_prefix(g4_error *err, const char *prefix);
/* Resets an error to G4_OK / empty. */
void g4_error_clear(g4_error *err);

/* Overflow-checked arithmetic on sizes. Return false on overflow. */
static inline bool g4_mul_ok(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool g4_add_ok(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}

#define G4_MIN(a, b) ((a) < (b) ? (a) : (b))
#define G4_MAX(a, b) ((a) > (b) ? (a) : (b))
#define G4_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
