/* chat.h — native C renderers for the Gemma 3 and Gemma 4 chat formats,
 * byte-identical to Hugging Face apply_chat_template with the official Jinja
 * templates (tests/fixtures/chat, scripts/gen_chat_fixtures.py).
 * Input is an OpenAI-style conversation as jansson values; see chat.c for
 * the validation and normalisation applied before rendering. */
#ifndef G4_TOKENIZER_CHAT_H
#define G4_TOKENIZER_CHAT_H

#include "core/status.h"
#include <jansson.h>

enum g4_chat_format {
    G4_CHAT_GEMMA3 = 1,
    G4_CHAT_GEMMA4 = 2,
};

struct g4_chat_opts {
    bool add_generation_prompt; /* default true */
    bool enable_thinking;       /* Gemma 4 only; default false */
    const char *bos;            /* BOS text, "<bos>" */
};

/* Renders `messages` (array) and optional `tools` (array, JSON null or NULL)
 * into a malloc'd NUL-terminated string in *out (NULL on error). `opts` may
 * be NULL (generation prompt on, thinking off, "<bos>"). Conversations the
 * template would reject (e.g. roles not alternating in Gemma 3) and
 * malformed input give G4_ERR_INVALID_ARG naming the message index; schema
 * text the renderer cannot reproduce (non-ASCII JSON-schema types) gives
 * G4_ERR_UNSUPPORTED. The inputs are not modified. Thread-safe. */
g4_status g4_chat_render_json(enum g4_chat_format fmt, const json_t *messages, const json_t *tools,
                              const struct g4_chat_opts *opts, char **out, g4_error *err);

#endif
