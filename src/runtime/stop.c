/* stop.c — stop tokens and the streaming stop-string matcher (see stop.h).
 * Invariant: strs[i] are non-empty copies with lens[i] > 0. The scan is
 * O(len * total stop length), fine for the handful of short strings an API
 * request carries and the short pending tail a stream keeps. */
#include "runtime/stop.h"

#include <stdlib.h>
#include <string.h>

struct g4_stop {
    int n_strs;
    char **strs;
    size_t *lens;
    int n_tokens;
    int32_t *tokens;
};

void g4_stop_free(struct g4_stop *s) {
    if (!s) return;
    for (int i = 0; i < s->n_strs; i++) free(s->strs[i]);
    free(s->strs);
    free(s->lens);
    free(s->tokens);
    free(s);
}

g4_status g4_stop_init(struct g4_stop **out, const char *const *strings, int n_strings, const int32_t *tokens,
                       int n_tokens, g4_error *err) {
    *out = NULL;
    if (n_strings < 0 || n_tokens < 0 || (n_strings && !strings) || (n_tokens && !tokens))
        return g4_fail(err, G4_ERR_INVALID_ARG, "stop: bad lists");
    for (int i = 0; i < n_strings; i++)
        if (!strings[i]) return g4_fail(err, G4_ERR_INVALID_ARG, "stop: string %d is NULL", i);
    struct g4_stop *s = calloc(1, sizeof(*s));
    if (!s) return g4_fail(err, G4_ERR_NOMEM, "stop: out of memory");
    s->strs = calloc((size_t)n_strings + 1, sizeof(char *));
    s->lens = calloc((size_t)n_strings + 1, sizeof(size_t));
    s->tokens = malloc(sizeof(int32_t) * ((size_t)n_tokens + 1));
    if (!s->strs || !s->lens || !s->tokens) goto nomem;
    for (int i = 0; i < n_strings; i++) {
        size_t n = strlen(strings[i]);
        if (n == 0) continue;
        if (!(s->strs[s->n_strs] = malloc(n + 1))) goto nomem;
        memcpy(s->strs[s->n_strs], strings[i], n + 1);
        s->lens[s->n_strs++] = n;
    }
    if (n_tokens) memcpy(s->tokens, tokens, sizeof(int32_t) * (size_t)n_tokens);
    s->n_tokens = n_tokens;
    *out = s;
    return G4_OK;
nomem:
    g4_stop_free(s);
    return g4_fail(err, G4_ERR_NOMEM, "stop: out of memory");
}

bool g4_stop_is_token(const struct g4_stop *s, int32_t token) {
    for (int i = 0; i < s->n_tokens; i++)
        if (s->tokens[i] == token) return true;
    return false;
}

size_t g4_stop_scan(const struct g4_stop *s, const char *text, size_t len, bool *matched) {
    *matched = false;
    size_t first = len;
    for (int i = 0; i < s->n_strs; i++) {
        const size_t n = s->lens[i];
        if (n > len) continue;
        const char *hit = memmem(text, len, s->strs[i], n);
        if (hit && (size_t)(hit - text) < first) {
            first = (size_t)(hit - text);
            *matched = true;
        }
    }
    if (*matched) return first;
    size_t hold = 0; /* longest suffix of text that is a proper prefix of a stop string */
    for (int i = 0; i < s->n_strs; i++) {
        const size_t n = s->lens[i];
        for (size_t k = G4_MIN(n - 1, len); k > hold; k--)
            if (memcmp(text + len - k, s->strs[i], k) == 0) {
                hold = k;
                break;
            }
    }
    return len - hold;
}
