/* auth.h — API keys: "Authorization: Bearer KEY" checked in constant time
 * (the comparison touches every byte of every configured key whatever the
 * input, so timing does not reveal a matching prefix). No keys configured
 * means every request is allowed. */
#ifndef G4_SERVER_AUTH_H
#define G4_SERVER_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* True if `header` (the Authorization header value, may be NULL) carries
 * one of keys[0..n). n == 0 accepts everything. */
bool g4_auth_check(const char *const *keys, int n, const char *header);

/* Constant-time equality of two byte strings (time depends only on the
 * lengths). */
bool g4_ct_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
