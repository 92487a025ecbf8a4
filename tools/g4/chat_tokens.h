/* chat_tokens.h — a conversation rendered through the model's chat template
 * and tokenized so that only the template's own markup is trusted.
 *
 * Message contents (user text, system text, earlier answers) must never
 * turn into control tokens: "<start_of_turn>" typed by a user stays plain
 * text. So the conversation is rendered twice: once as is, once with each
 * content replaced by a unique sentinel ("\x01G4C<i>\x01", which no
 * template transforms: not whitespace, no markup). The sentinel rendering
 * is split at the sentinels; template pieces are tokenized with
 * G4_TOK_PARSE_SPECIAL, contents without it. Substituting the contents back
 * into the sentinel rendering must give the real rendering byte for byte,
 * otherwise the template changed a content (e.g. trimmed it) and the
 * function fails rather than guess: callers pass contents already trimmed
 * (and, for answers, without thinking). Pieces are tokenized separately;
 * in Gemma's vocabularies the boundaries fall on added tokens ("\n",
 * "<start_of_turn>", ...) that split the text anyway. */
#ifndef G4_TOOLS_CHAT_TOKENS_H
#define G4_TOOLS_CHAT_TOKENS_H

#include "g4.h"

#include <stdbool.h>
#include <stddef.h>

struct chat_msg {
    const char *role;    /* "system", "user", "assistant" */
    const char *content; /* UTF-8 */
};

/* Renders msgs[0..n) with add_generation_prompt (and enable_thinking when
 * `think`) and tokenizes it as above into a malloc'd array *ids (*n_ids). */
g4_status chat_tokens(const g4_model *m, const struct chat_msg *msgs, size_t n, bool think, int32_t **ids,
                      size_t *n_ids, g4_error *err);

/* Tokenizes text[0..len) with `flags`, appending to the growable array
 * (*ids, *n, *cap). */
g4_status tokens_append(const g4_model *m, const char *text, size_t len, int flags, int32_t **ids, size_t *n,
                        size_t *cap, g4_error *err);

#endif
