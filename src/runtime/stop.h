/* stop.h — stop conditions of a generation: stop token ids and stop strings.
 *
 * Stop strings are matched on the decoded text in a streaming-safe way: the
 * caller keeps the text it has not yet emitted (its "pending" tail) and asks
 * g4_stop_scan how much of it may go out now. Text that could still turn
 * into a stop string (a suffix that is a prefix of some stop string) is held
 * back; when a stop string appears, everything before it may be emitted and
 * the rest is dropped. The matcher is immutable after init and allocates
 * nothing per call, so one g4_stop may serve many sequences at once. */
#ifndef G4_RUNTIME_STOP_H
#define G4_RUNTIME_STOP_H

#include "core/status.h"

struct g4_stop;

/* Copies the stop strings (empty strings are ignored) and the stop token
 * ids. G4_ERR_INVALID_ARG for NULL entries or counts < 0. */
g4_status g4_stop_init(struct g4_stop **out, const char *const *strings, int n_strings, const int32_t *tokens,
                       int n_tokens, g4_error *err);
void g4_stop_free(struct g4_stop *s);

/* True if `token` is a stop token. */
bool g4_stop_is_token(const struct g4_stop *s, int32_t token);

/* Scans pending text[0..len): returns how many leading bytes are safe to emit.
 * *matched is set when a stop string occurs; then the return value is the
 * offset of the earliest occurrence (the stop string itself and anything
 * after it must not be emitted). Otherwise the return value is len minus the
 * longest suffix of text that is a proper prefix of a stop string. */
size_t g4_stop_scan(const struct g4_stop *s, const char *text, size_t len, bool *matched);

#endif
