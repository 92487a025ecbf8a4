/* outparse.h — streaming parser of Gemma 4 (and Gemma 3) model output into
 * OpenAI chat-completion pieces: reasoning, content and tool calls.
 * The input is the generated text with special tokens rendered as their
 * strings (`<|channel>`, `<|tool_call>`, `<|"|>`, `<turn|>` ...), fed in
 * arbitrary chunks (a chunk may end inside a special-token string or inside a
 * UTF-8 sequence). Events go to a callback. Invariants: every delta text is
 * valid UTF-8 (invalid input bytes become U+FFFD); channel and tool-call markup
 * never reaches content while tools are enabled; the TOOL_ARGS deltas of one
 * call concatenate to one valid JSON object, even when the stream ends inside
 * the call. Pure text processing: no model, no HTTP. See docs/tool-calls.md. */
#ifndef G4_TOKENIZER_OUTPARSE_H
#define G4_TOKENIZER_OUTPARSE_H

#include "core/status.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum g4_outparse_event_type {
    G4_OUT_REASONING = 1, /* text: a delta of reasoning_content */
    G4_OUT_CONTENT,       /* text: a delta of content */
    G4_OUT_TOOL_START,    /* index, id, name: a new tool call */
    G4_OUT_TOOL_ARGS,     /* index, text: a fragment of function.arguments (JSON) */
    G4_OUT_TOOL_END,      /* index: the call's arguments are complete */
    G4_OUT_ERROR,         /* text: a malformed tool call was dropped (message) */
    G4_OUT_FINISH,        /* finish_reason: "stop", "tool_calls" or "length" */
};

struct g4_outparse_event {
    enum g4_outparse_event_type type;
    const char *text; /* not NUL-terminated; valid only during the callback */
    size_t len;
    int index;         /* tool call index (0, 1, ...) for TOOL_* events */
    const char *id;    /* TOOL_START: "call_" + 24 alphanumerics */
    const char *name;  /* TOOL_START: function name */
    const char *finish_reason; /* FINISH */
};

typedef void (*g4_outparse_cb)(void *user, const struct g4_outparse_event *ev);

struct g4_outparse_opts {
    /* Tools were given in the request. When false, `<|tool_call>`,
     * `<tool_call|>` and `<|"|>` are ordinary content text. */
    bool tools_enabled;
    /* The prompt already opened the thought channel (the output starts
     * inside reasoning, before any `<|channel>`). */
    bool start_in_reasoning;
    /* Seed of the generated tool-call ids (the server passes a random value;
     * tests pass a constant). */
    uint64_t id_seed;
    /* Optional OpenAI `tools` array (borrowed, must outlive the parser).
     * Used for the BEGIN_ARG variant (positional arguments get their
     * parameter names and types from it) and to accept a bare `call:NAME{`
     * (no `<|tool_call>`) only for declared names. NULL: any name. */
    const json_t *tools;
};

struct g4_outparse;

/* Creates a parser. `opts` may be NULL (tools disabled). `cb` receives every
 * event, synchronously from feed/finish. Not thread-safe per parser;
 * independent parsers are independent. */
g4_status g4_outparse_init(struct g4_outparse **out, const struct g4_outparse_opts *opts,
                           g4_outparse_cb cb, void *user, g4_error *err);
void g4_outparse_free(struct g4_outparse *p);

/* Feeds the next `n` bytes of output. Events for everything that can be
 * decided are delivered before it returns; a possible special-token prefix
 * or an incomplete UTF-8 sequence at the end is held back. Returns
 * G4_ERR_NOMEM on allocation failure (sticky), G4_ERR_INVALID_ARG after
 * finish. Text after an end token (`<turn|>`, `<|tool_response>`, `<eos>`)
 * is ignored. */
g4_status g4_outparse_feed(struct g4_outparse *p, const char *text, size_t n, g4_error *err);

/* Ends the stream: flushes held-back text, closes an unterminated tool call
 * (its arguments are closed into valid JSON), then emits FINISH.
 * `length_cap`: generation stopped at the token limit. */
g4_status g4_outparse_finish(struct g4_outparse *p, bool length_cap, g4_error *err);

/* Number of tool calls started so far. */
int g4_outparse_n_tool_calls(const struct g4_outparse *p);

/* True while the parser is inside the thought channel (after `<|channel>`,
 * before `<channel|>`). Feed one token's text, then ask: the server counts
 * completion_tokens_details.reasoning_tokens this way. */
bool g4_outparse_in_reasoning(const struct g4_outparse *p);

/* One-shot convenience: parses a complete output into an OpenAI assistant
 * message {"role":"assistant","content":str|null,
 * ["reasoning_content":str,] ["tool_calls":[{id,type,function:{name,
 * arguments}}]]}, a new reference in *message, and the finish reason
 * (static string) in *finish_reason (may be NULL). Equivalent to feeding
 * the text in any chunking. Errors of malformed calls are dropped. */
g4_status g4_outparse_parse(const struct g4_outparse_opts *opts, const char *text, size_t n,
                            bool length_cap, json_t **message, const char **finish_reason,
                            g4_error *err);

#endif
