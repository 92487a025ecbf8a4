/* auth.c — constant-time API-key check (see auth.h). */
#include "server/auth.h"

#include <string.h>
#include <strings.h>

bool g4_ct_equal(const char *a, size_t alen, const char *b, size_t blen) {
    /* compare over the key's length; a length mismatch is folded into the result */
    volatile unsigned char d = (unsigned char)(alen != blen);
    for (size_t i = 0; i < blen; i++) d |= (unsigned char)((i < alen ? (unsigned char)a[i] : 0) ^ (unsigned char)b[i]);
    return d == 0;
}

bool g4_auth_check(const char *const *keys, int n, const char *header) {
    if (n <= 0) return true;
    if (!header) return false;
    while (*header == ' ') header++;
    if (strncasecmp(header, "Bearer ", 7)) return false;
    const char *tok = header + 7;
    while (*tok == ' ') tok++;
    size_t len = strlen(tok);
    while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t')) len--;
    bool ok = false;
    for (int i = 0; i < n; i++) ok |= g4_ct_equal(tok, len, keys[i], strlen(keys[i]));
    return ok;
}
