/* grammar.h — grammar-constrained decoding: an incremental byte-level matcher
 * compiled from (1) "any JSON object", (2) a JSON schema, or (3) the Gemma 4
 * tool-call span `<|tool_call>call:NAME{k:v,...}<tool_call|>` whose arguments
 * (Gemma syntax, `<|"|>` strings) follow each function's parameters schema.
 * Design: the schema compiles to a node table; the matcher is a set of at most
 * G4_GRAMMAR_MAX_THREADS explicit stacks (anyOf forks threads) of at most
 * G4_GRAMMAR_MAX_DEPTH frames, all inside the preallocated state: no malloc
 * per byte. Special tokens are symbols: bytes 0xF8..0xFC, which never occur in
 * UTF-8, so a normal token that spells `<|"|>` is text, not markup.
 * Every scalar is bounded, so a constrained generation cannot loop inside
 * one: whitespace between JSON tokens comes in runs of at most max_ws bytes,
 * numbers have at most G4_GRAMMAR_MAX_INT_DIGITS integer digits,
 * G4_GRAMMAR_MAX_FRAC_DIGITS fraction digits and G4_GRAMMAR_MAX_EXP_DIGITS
 * exponent digits (llama.cpp's json-schema-to-grammar caps integer and
 * fraction digits at 16 the same way), strings without a tighter maxLength
 * at max_string code points, free object keys at G4_GRAMMAR_MAX_KEY_BYTES.
 * See docs/tool-calls.md for what is and is not supported. The compiled grammar is immutable and thread-safe to share;
 * a state belongs to one sequence. */
#ifndef G4_RUNTIME_GRAMMAR_H
#define G4_RUNTIME_GRAMMAR_H

#include "core/status.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define G4_GRAMMAR_MAX_DEPTH 32
#define G4_GRAMMAR_MAX_THREADS 16
#define G4_GRAMMAR_MAX_INT_DIGITS 16
#define G4_GRAMMAR_MAX_FRAC_DIGITS 16
#define G4_GRAMMAR_MAX_EXP_DIGITS 3
#define G4_GRAMMAR_MAX_STRING 65536  /* default string cap (code points) without maxLength */
#define G4_GRAMMAR_MAX_KEY_BYTES 1024 /* undeclared (additionalProperties) keys, escaped bytes */

/* Symbol bytes standing for Gemma 4 special tokens. */
#define G4_SYM_QUOTE 0xF8      /* <|"|> */
#define G4_SYM_CALL_OPEN 0xF9  /* <|tool_call> */
#define G4_SYM_CALL_CLOSE 0xFA /* <tool_call|> */
#define G4_SYM_CHAN_OPEN 0xFB  /* <|channel> */
#define G4_SYM_CHAN_CLOSE 0xFC /* <channel|> */

struct g4_grammar;
struct g4_grammar_state;

struct g4_grammar_opts {
    int max_ws;              /* longest whitespace run; 0 means the default 20 */
    uint32_t max_string;     /* longest string (code points) when the schema's maxLength is absent or
                                larger; 0 means G4_GRAMMAR_MAX_STRING. A minLength above it wins */
    bool ignore_unsupported; /* compile anyway, ignoring unsupported keywords */
    bool closed_objects;     /* an absent additionalProperties means false, not true */
};

struct g4_grammar_tool_opts {
    const char *only;    /* tool_choice named: only this function; NULL: any declared */
    bool allow_thought;  /* an optional <|channel>...<channel|> may come first */
    bool parallel;       /* more than one call may follow */
    int max_ws;
    uint32_t max_string; /* as in g4_grammar_opts */
    bool ignore_unsupported;
    bool closed_objects; /* no undeclared argument keys unless additionalProperties says so */
};

/* Compiles `schema` (NULL: any JSON object, the json_object response mode)
 * into a JSON grammar. Unsupported keywords give G4_ERR_UNSUPPORTED whose
 * message names the keyword and its path, unless opts->ignore_unsupported;
 * either way a comma-separated list of them ("pattern at /properties/x, ...")
 * goes to `unsupported` (may be NULL; truncated to cap). */
g4_status g4_grammar_compile_json(const json_t *schema, const struct g4_grammar_opts *opts,
                                  struct g4_grammar **out, char *unsupported, size_t cap, g4_error *err);

/* Compiles the Gemma 4 tool-call grammar for an OpenAI `tools` array. The
 * language: [ws] [<|channel> text <channel|>] (<|tool_call> call:NAME{args}
 * <tool_call|> [ws])+ ; one call unless parallel. Use it for tool_choice
 * "required" (start the grammar at the first generated token), named (set
 * `only`), or "auto" (start it when the model emits <|tool_call> and feed
 * that symbol). tool_choice "none" needs no grammar: ban <|tool_call>. */
g4_status g4_grammar_compile_tools(const json_t *tools, const struct g4_grammar_tool_opts *opts,
                                   struct g4_grammar **out, char *unsupported, size_t cap, g4_error *err);

void g4_grammar_free(struct g4_grammar *g);

/* Matcher state: allocated once, reset/cloned without allocation. */
g4_status g4_grammar_state_new(const struct g4_grammar *g, struct g4_grammar_state **out, g4_error *err);
void g4_grammar_state_free(struct g4_grammar_state *s);
void g4_grammar_state_reset(struct g4_grammar_state *s);
/* Copies src into dst (same grammar). */
void g4_grammar_state_copy(struct g4_grammar_state *dst, const struct g4_grammar_state *src);

/* Advances by `n` bytes (symbols included). Returns true if every byte was
 * accepted; on false the state is dead (all later calls return false) —
 * clone before trying. */
bool g4_grammar_accept_bytes(struct g4_grammar_state *s, const void *bytes, size_t n);
/* The input so far is a complete sentence (generation may stop here). */
bool g4_grammar_is_complete(const struct g4_grammar_state *s);
/* Nothing more can be accepted (complete, or dead). */
bool g4_grammar_is_dead(const struct g4_grammar_state *s);

/* Rewrites Gemma special-token strings (<|"|>, <|tool_call>, <tool_call|>,
 * <|channel>, <channel|>) in `text` to their symbol bytes; returns the output
 * length (<= n). `out` must hold n bytes. For tests and text-level callers. */
size_t g4_grammar_text_to_symbols(const char *text, size_t n, char *out);

/* ---- token masks ---------------------------------------------------------- */

enum g4_vocab_kind {
    G4_VOCAB_NORMAL = 0,  /* bytes are text */
    G4_VOCAB_SPECIAL = 1, /* a special token: allowed only if its string is one
                             of the symbol tokens above and the grammar takes it */
    G4_VOCAB_END = 2,     /* end of generation: allowed only when complete */
};

struct g4_grammar_vocab;

/* Builds the token trie. `bytes[i]`/`lens[i]`: token i's bytes (pieces
 * decoded: "▁" -> space, <0xHH> -> byte); `kinds` may be NULL (all normal).
 * Tokens with no bytes, longer than 256 bytes, or with bytes >= 0xF8 are
 * never allowed. */
g4_status g4_grammar_vocab_new(int n_tokens, const char *const *bytes, const uint32_t *lens,
                               const uint8_t *kinds, struct g4_grammar_vocab **out, g4_error *err);
void g4_grammar_vocab_free(struct g4_grammar_vocab *v);
int g4_grammar_vocab_size(const struct g4_grammar_vocab *v);

/* Advances `s` by token `id` exactly as the mask judges it: its bytes, its
 * symbol (special tokens), or, for an end token, nothing (returns whether
 * the state is complete). Returns false if the token is not allowed; the
 * state is then dead. Thread-safe for distinct states. */
bool g4_grammar_accept_token(const struct g4_grammar_vocab *v, struct g4_grammar_state *s, int id);

/* Fills `mask` ((n_tokens+63)/64 words, bit i%64 of word i/64) with the tokens
 * whose bytes the grammar accepts from state `s` (s is not changed). Uses a
 * scratch state stack inside `v`, so one vocab serves one thread at a time. */
g4_status g4_grammar_fill_mask(struct g4_grammar_vocab *v, const struct g4_grammar_state *s, uint64_t *mask,
                               g4_error *err);

#endif
