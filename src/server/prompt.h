/* prompt.h — requests to prompt token ids, with user content untrusted.
 *
 * The chat template's own markup is trusted (its special-token strings
 * become special ids); everything a client sent (message text, names, tool
 * definitions, tool-call arguments) is untrusted: a "<start_of_turn>" typed
 * by a user is tokenized as plain text, never as the control token.
 * Method: every special-token string (and every pre-existing plane-15
 * private-use character) found in any string of the request's messages and
 * tools is replaced by a unique placeholder character U+F0000+k before
 * rendering; the rendered text is then split at the (now only trusted)
 * special-token strings, the placeholders are put back, and each text run
 * between specials is tokenized in untrusted mode. When no request string
 * holds a special-token string, this equals tokenizing the rendered text
 * with G4_TOK_PARSE_SPECIAL, which is what is done (the common, exact path).
 * Legacy /v1/completions prompts are raw prompts written by the client
 * (templates included), so their special-token strings are parsed, as
 * llama.cpp and vLLM do. */
#ifndef G4_SERVER_PROMPT_H
#define G4_SERVER_PROMPT_H

#include "g4.h"
#include "server/errors.h"
#include "server/openai_req.h"

#include <stdbool.h>

struct g4_specials; /* matcher of special-token strings of one model */

g4_status g4_specials_new(const g4_model *m, struct g4_specials **out, g4_error *err);
void g4_specials_free(struct g4_specials *s);
/* Length of the longest special-token string at text[0..len), or 0. */
size_t g4_specials_match(const struct g4_specials *s, const char *text, size_t len);

/* Chat request -> ids (malloc'd). thinking: the effective enable_thinking.
 * force_split: use the split path even without special strings in content
 * (tests). Returns 0 or an HTTP status with *e filled. */
int g4_prompt_chat(const g4_model *m, const struct g4_specials *sp, const struct g4_oai_req *r, bool thinking,
                   bool force_split, int32_t **ids, size_t *n, struct g4_api_error *e);

/* Tokenizes text with flags (malloc'd ids). */
int g4_prompt_tokenize(const g4_model *m, const char *text, size_t len, int flags, int32_t **ids, size_t *n,
                       struct g4_api_error *e);

#endif
