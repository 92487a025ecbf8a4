/* chat_impl.h — the validated conversation that chat.c hands to the
 * per-format renderers (chat_gemma3.c, chat_gemma4.c). Fields hold what the
 * template sees after Hugging Face's apply_chat_template preprocessing:
 * message keys whose value is null are dropped (NULL here = jinja2
 * Undefined) and `reasoning_content` is aliased from reasoning_content /
 * thinking / reasoning. The json_t values are borrowed from chat.c's
 * normalised copy and stay valid for the duration of the render. */
#ifndef G4_TOKENIZER_CHAT_IMPL_H
#define G4_TOKENIZER_CHAT_IMPL_H

#include "tokenizer/chat.h"
#include "tokenizer/chat_json.h"

struct g4_chat_msg {
    const char *role;              /* system, developer, user, assistant or tool */
    const json_t *content;         /* string, array of part objects, or NULL */
    const json_t *tool_calls;      /* array of {function: {name, arguments}} or NULL */
    const json_t *tool_responses;  /* array of {name?, response?} or NULL */
    const json_t *reasoning;       /* string or NULL */
};

struct g4_chat_conv {
    const struct g4_chat_msg *msgs; /* n >= 1 */
    size_t n;
    const json_t *tools;            /* array of {function: {...}} or NULL */
    bool add_generation_prompt;
    bool enable_thinking;
    const char *bos;
};

g4_status g4_chat_render_gemma3(const struct g4_chat_conv *c, struct g4_strbuf *b, g4_error *err);
g4_status g4_chat_render_gemma4(const struct g4_chat_conv *c, struct g4_strbuf *b, g4_error *err);

#endif
