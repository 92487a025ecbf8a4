/* chat_gemma3.c — native renderer of the Gemma 3 chat template (the
 * `chat_template` of google/gemma-3-*-it tokenizer_config.json): a system
 * message is folded into the first user turn (untrimmed, plus "\n\n"),
 * roles must alternate user/model starting with user (else the template
 * raises), images become <start_of_image>, tools and thinking are ignored.
 * Byte-identical to jinja2; tests/fixtures/chat/gemma3.json checks it. */
#include "tokenizer/chat_impl.h"

#include <stdio.h>
#include <string.h>

g4_status g4_chat_render_gemma3(const struct g4_chat_conv *c, struct g4_strbuf *b, g4_error *err) {
    struct g4_strbuf prefix = {0};
    size_t start = 0;
    g4_strbuf_puts(b, c->bos);

    const struct g4_chat_msg *m0 = &c->msgs[0];
    if (!strcmp(m0->role, "system")) {
        const json_t *ct = m0->content;
        if (json_is_string(ct)) {
            g4_py_str(&prefix, ct);
        } else {
            /* messages[0]['content'][0]['text'] + '\n\n' */
            const json_t *text = g4_py_getitem(json_array_get(ct, 0), "text");
            if (!json_is_string(text)) {
                g4_strbuf_free(&prefix);
                return g4_fail(err, G4_ERR_INVALID_ARG,
                               "messages[0]: chat template: a system message given as parts must start with a "
                               "text part");
            }
            g4_py_str(&prefix, text);
        }
        g4_strbuf_puts(&prefix, "\n\n");
        start = 1;
    }

    for (size_t i = start; i < c->n; i++) {
        const struct g4_chat_msg *m = &c->msgs[i];
        size_t k = i - start;
        if ((strcmp(m->role, "user") == 0) != (k % 2 == 0)) {
            g4_strbuf_free(&prefix);
            return g4_fail(err, G4_ERR_INVALID_ARG,
                           "messages[%zu]: chat template: Conversation roles must alternate "
                           "user/assistant/user/assistant/... (role '%s')",
                           i, m->role);
        }
        g4_strbuf_puts(b, "<start_of_turn>");
        g4_strbuf_puts(b, strcmp(m->role, "assistant") ? m->role : "model");
        g4_strbuf_puts(b, "\n");
        if (k == 0 && prefix.n) g4_strbuf_put(b, prefix.p, prefix.n);
        if (json_is_string(m->content)) {
            g4_py_str_trim(b, m->content);
        } else { /* a list of parts, or Undefined (iterable, renders nothing) */
            for (size_t j = 0; j < json_array_size(m->content); j++) {
                const json_t *item = json_array_get(m->content, j);
                const json_t *type = g4_py_getitem(item, "type");
                if (g4_py_streq(type, "image")) g4_strbuf_puts(b, "<start_of_image>");
                else if (g4_py_streq(type, "text")) g4_py_str_trim(b, g4_py_getitem(item, "text"));
            }
        }
        g4_strbuf_puts(b, "<end_of_turn>\n");
    }
    if (prefix.oom) b->oom = true;
    g4_strbuf_free(&prefix);
    if (c->add_generation_prompt) g4_strbuf_puts(b, "<start_of_turn>model\n");
    return G4_OK;
}
