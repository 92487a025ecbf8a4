/* g4.h — the public C API of g4, a local inference engine for Gemma 4 / Gemma 3.
 *
 * Usage:
 *
 *     g4_error err;
 *     g4_model *m = NULL;
 *     const char *paths[] = { "gemma-3-270m-it-Q4_K_M.gguf" };
 *     if (g4_model_load(paths, 1, NULL, &m, &err) != G4_OK) {
 *         fprintf(stderr, "g4: %s\n", err.message);
 *         return 1;
 *     }
 *     int32_t ids[256]; size_t n;
 *     g4_tokenize(m, "Hello", 5, G4_TOK_PARSE_SPECIAL, ids, 256, &n, &err);
 *     g4_model_free(m);
 *
 * Conventions:
 * - Every fallible function returns a g4_status and, when `err` is not NULL,
 *   fills it with the code and a readable message that names the file or
 *   field at fault. No function exits or aborts the process on bad input.
 * - Objects come in init/free pairs; free functions accept NULL.
 * - A g4_model is read-only after loading: any number of threads may call the
 *   functions that take a `const g4_model *` at the same time. A g4_context
 *   (per-sequence state) is used by one thread at a time.
 * - Strings are UTF-8. Token ids are int32.
 */
#ifndef G4_H
#define G4_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status and errors ------------------------------------------------- */

typedef enum g4_status {
    G4_OK = 0,
    G4_ERR_INVALID_ARG,   /* a caller passed a bad argument */
    G4_ERR_IO,            /* open/read/mmap failed */
    G4_ERR_FORMAT,        /* a file or input is malformed, truncated or hostile */
    G4_ERR_UNSUPPORTED,   /* well-formed but not supported (architecture, type) */
    G4_ERR_NOMEM,         /* an allocation failed or would exceed a limit */
    G4_ERR_NOT_FOUND,     /* a required tensor, key or file is missing */
    G4_ERR_RANGE,         /* a length exceeds a limit (e.g. the context) */
    G4_ERR_CANCELLED,     /* stopped by the caller */
    G4_ERR_INTERNAL,      /* a bug in g4 */
} g4_status;

typedef struct g4_error {
    g4_status code;
    int64_t offset;       /* byte offset in the offending input, or -1 */
    char message[512];
} g4_error;

/* Name of a status code ("ok", "format error", ...). Thread-safe. */
const char *g4_status_str(g4_status s);

/* Library version string. Thread-safe. */
const char *g4_version(void);

/* ---- Logging ----------------------------------------------------------- */

typedef enum g4_log_level { G4_LOG_ERROR, G4_LOG_WARN, G4_LOG_INFO, G4_LOG_DEBUG } g4_log_level;
typedef void (*g4_log_fn)(g4_log_level level, const char *msg, void *user);

/* Sets the log sink (default: stderr, level INFO and above). Call once at
 * start-up, before any other thread uses g4. Not thread-safe. */
void g4_log_set(g4_log_fn fn, void *user, g4_log_level max_level);

/* ---- Model ------------------------------------------------------------- */

typedef struct g4_model g4_model;

typedef void (*g4_progress_fn)(double fraction, void *user);

typedef struct g4_model_params {
    int tokenizer_only;        /* load only the tokenizer (and chat template) */
    g4_progress_fn progress;   /* optional load progress, 0..1 */
    void *progress_user;
} g4_model_params;

/* Loads a model from `n_paths` paths: a Hugging Face model directory, one
 * GGUF file, or several GGUF files (model + mmproj + assistant), or a
 * directory that holds only tokenizer files (then tokenizer_only is implied).
 * `params` may be NULL. Weights stay memory-mapped. On error *out is NULL.
 * Thread-safe (independent calls). */
g4_status g4_model_load(const char *const *paths, int n_paths, const g4_model_params *params,
                        g4_model **out, g4_error *err);

/* Frees a model; NULL is ignored. No context may still use it. */
void g4_model_free(g4_model *m);

/* Writes a human-readable description (architecture, variant, parameters,
 * tensor types and bytes, context, modalities, special tokens, memory
 * needed) to a newly allocated string that the caller frees with free().
 * Thread-safe. */
g4_status g4_model_describe(const g4_model *m, char **out, g4_error *err);

/* Like g4_model_describe, with the KV-cache estimate for `n_ctx` positions
 * (0 = the default, min(8192, the model's context)) and, when `as_json` is
 * non-zero, a JSON object instead of text. Thread-safe. */
g4_status g4_model_info(const g4_model *m, int64_t n_ctx, int as_json, char **out, g4_error *err);

/* ---- Tokenizer --------------------------------------------------------- */

enum {
    G4_TOK_PARSE_SPECIAL = 1 << 0, /* trusted text: special-token strings become their ids */
    G4_TOK_ADD_BOS       = 1 << 1, /* prepend <bos> */
};

/* Encodes `len` bytes of UTF-8 `text` into token ids. Without
 * G4_TOK_PARSE_SPECIAL, special-token strings are encoded as plain text (use
 * this for untrusted user content). Writes at most `cap` ids to `out` and the
 * total count to *n_out; returns G4_ERR_RANGE if `cap` was too small (with
 * *n_out set to the count needed). Invalid UTF-8 is encoded byte-wise.
 * Thread-safe. */
g4_status g4_tokenize(const g4_model *m, const char *text, size_t len, int flags,
                      int32_t *out, size_t cap, size_t *n_out, g4_error *err);

/* Decodes ids to UTF-8 text in a newly allocated NUL-terminated string that
 * the caller frees with free(). With `skip_special`, control tokens are
 * dropped. Unknown ids are an error. Thread-safe. */
g4_status g4_detokenize(const g4_model *m, const int32_t *ids, size_t n, int skip_special,
                        char **out, size_t *out_len, g4_error *err);

/* Number of tokens in the vocabulary. */
int32_t g4_vocab_size(const g4_model *m);

/* ---- Chat format ------------------------------------------------------- */

/* Renders an OpenAI-style conversation to the model's prompt text, exactly
 * as the official chat template would. `messages_json` is a JSON array of
 * messages; `tools_json` a JSON array of OpenAI tools or NULL;
 * `options_json` an object or NULL with "add_generation_prompt" (bool,
 * default true) and "enable_thinking" (bool, default false). The result is a
 * newly allocated string the caller frees with free(). Input the template
 * would reject gives G4_ERR_INVALID_ARG with a message, and so does input
 * outside the OpenAI message shape (unknown role, content that is not a
 * string, a list of parts or null, ...). OpenAI content parts image_url /
 * input_audio / video_url count as image / audio / video, and tool-call
 * arguments given as a JSON string are parsed. Thread-safe. */
g4_status g4_chat_render(const g4_model *m, const char *messages_json, const char *tools_json,
                         const char *options_json, char **out, g4_error *err);

/* Same as g4_chat_render, with the format named instead of taken from a
 * model: "gemma3" or "gemma4". Thread-safe. */
g4_status g4_chat_render_format(const char *format, const char *messages_json, const char *tools_json,
                                const char *options_json, char **out, g4_error *err);

/* ---- Contexts and evaluation -------------------------------------------
 *
 * A g4_context is one sequence being evaluated against a model: its KV
 * cache, scratch and thread pool, all sized at creation (evaluation
 * allocates nothing). Many contexts may share one model. A context is used
 * by one thread at a time.
 *
 *     g4_context *c;
 *     g4_context_new(m, NULL, &c, &err);
 *     float *logits = malloc(g4_context_n_vocab(c) * sizeof(float));
 *     g4_context_eval(c, prompt, n_prompt, logits, 0, &err);   // prefill
 *     for (...) { int32_t t = argmax(logits); g4_context_eval(c, &t, 1, logits, 0, &err); }
 *     g4_context_free(c);
 */

typedef struct g4_context g4_context;

typedef struct g4_context_params {
    int64_t n_ctx;   /* positions the sequence may reach; 0 = min(model context, 4096) */
    int n_batch;     /* rows per forward pass (prefill chunk); 0 = 256. Also bounds
                        the rollback g4_context_truncate() can do (n_batch tokens) */
    int n_threads;   /* 0 = one per online CPU */
    int f32_activations; /* 1: quantized weights multiply f32 activations (slower; the
                            logits of the dequantized weights, as HF computes them);
                            0: activations are quantized to 8 bits as llama.cpp does */
} g4_context_params;

/* Creates a context for `m` (which must outlive it). `params` may be NULL. */
g4_status g4_context_new(const g4_model *m, const g4_context_params *params, g4_context **out, g4_error *err);
/* Frees a context; NULL is ignored. */
void g4_context_free(g4_context *c);

/* Logit columns (the model's vocabulary rows) and hidden size. */
int32_t g4_context_n_vocab(const g4_context *c);
int32_t g4_context_n_embd(const g4_context *c);
/* Positions evaluated so far (the next token's position). */
int64_t g4_context_pos(const g4_context *c);

/* Appends n tokens and writes raw logits (after the final softcap, before
 * any sampling rule): of the last token only into logits[n_vocab], or, with
 * all_logits, of every token into logits[n][n_vocab]. logits may be NULL
 * (no output). Long input is split into chunks of n_batch. On error nothing
 * is appended. */
g4_status g4_context_eval(g4_context *c, const int32_t *tokens, size_t n, float *logits, int all_logits,
                          g4_error *err);

/* The general form: rows given as token ids, optionally replaced by
 * caller-supplied input embeddings (multimodal soft tokens, not scaled), and
 * optional bidirectional blocks (rows with the same block id >= 0 see each
 * other where the model's reference does: Gemma 4 12B/26B/31B in sliding
 * layers, Gemma 3 in all layers, E2B/E4B nowhere; a block must fit in one
 * n_batch chunk). */
typedef struct g4_eval_input {
    const int32_t *tokens;     /* [n] required; placeholder ids on embedding rows */
    const float *embd;         /* [n][n_embd] or NULL */
    const uint8_t *embd_mask;  /* [n]: nonzero = use the embd row; required with embd */
    const int32_t *block;      /* [n] block ids, -1 = none; or NULL */
    size_t n;
    size_t logits_from;        /* logits of rows [logits_from, n) are written; n = none */
    float *logits;             /* [n - logits_from][n_vocab] */
    float *hidden;             /* optional [n - logits_from][n_embd] final-normed hidden states */
} g4_eval_input;
g4_status g4_context_eval_ex(g4_context *c, const g4_eval_input *in, g4_error *err);

/* Keeps the first n positions (speculative decoding rollback, or reuse of a
 * shared prompt prefix). Sliding-window layers keep only window + n_batch
 * positions, so a rollback deeper than n_batch tokens may fail with
 * G4_ERR_RANGE (except n == 0, which always resets). */
g4_status g4_context_truncate(g4_context *c, int64_t n, g4_error *err);

/* ---- Sampling and generation -------------------------------------------
 *
 * A g4_sampler picks tokens from logits (suppressed tokens, logit bias,
 * repetition/presence/frequency penalties, then temperature, top-k, top-p,
 * min-p; greedy when temperature <= 0 or top_k == 1; same seed, same
 * tokens). g4_generate runs the token loop over a context: prefill the new
 * prompt tokens, then sample, stream and evaluate until a stop.
 *
 *     g4_sampling_params sp;
 *     g4_model_default_sampling(m, &sp);          // generation_config
 *     sp.seed = 42;
 *     g4_sampler *s;
 *     g4_sampler_new(m, &sp, &s, &err);
 *     int32_t stop[16]; int n_stop = g4_model_stop_ids(m, stop, 16);
 *     g4_generate_params gp = { .max_tokens = 128, .stop_ids = stop, .n_stop_ids = n_stop,
 *                               .on_token = print_text, .user = NULL };
 *     g4_generate_stats st;
 *     g4_generate(m, ctx, s, prompt, n_prompt, &gp, &st, &err);
 *     g4_sampler_free(s);
 */

typedef struct g4_sampler g4_sampler;

typedef struct g4_token_bias {
    int32_t token;
    float bias;                /* added to the token's logit (-INFINITY bans it) */
} g4_token_bias;

typedef struct g4_sampling_params {
    float temperature;         /* <= 0: greedy */
    int32_t top_k;             /* <= 0: off */
    float top_p;               /* >= 1: off */
    float min_p;               /* <= 0: off */
    float repeat_penalty;      /* 1: off (HF/llama.cpp repetition penalty) */
    int32_t repeat_last_n;     /* accepted tokens the penalties look at; 0: off */
    float presence_penalty;    /* 0: off (OpenAI) */
    float frequency_penalty;   /* 0: off (OpenAI) */
    uint64_t seed;
    const g4_token_bias *logit_bias; /* [n_logit_bias], copied by g4_sampler_new */
    int32_t n_logit_bias;
    const int32_t *suppress;   /* [n_suppress] never sampled, copied by g4_sampler_new */
    int32_t n_suppress;
} g4_sampling_params;

/* Fills `p` with the model's defaults: temperature, top_k and top_p from its
 * generation config (greedy when it says do_sample false), the model's
 * suppressed tokens, penalties off, repeat_last_n 64, seed 0. The suppress
 * array points into the model (valid while it lives). Thread-safe. */
void g4_model_default_sampling(const g4_model *m, g4_sampling_params *p);

/* Writes the model's end-of-generation ids (eos list of the config and
 * generation config, e.g. <eos>, <end_of_turn> / <turn|>) to out[0..cap) and
 * returns how many there are (which may exceed cap). Thread-safe. */
int g4_model_stop_ids(const g4_model *m, int32_t *out, int cap);

/* Creates a sampler for the model's logits (g4_context_n_vocab columns).
 * Validates the parameters (ranges, token ids); G4_ERR_INVALID_ARG names the
 * bad field. Sampling allocates nothing. */
g4_status g4_sampler_new(const g4_model *m, const g4_sampling_params *p, g4_sampler **out, g4_error *err);
/* Frees a sampler; NULL is ignored. */
void g4_sampler_free(g4_sampler *s);
/* Picks a token from logits[n_vocab] (not modified); -1 only when every
 * token is banned. Does not record it: call g4_sampler_accept. */
int32_t g4_sampler_sample(g4_sampler *s, const float *logits);
/* Records a token entering the context (the penalties' window). */
void g4_sampler_accept(g4_sampler *s, int32_t token);
/* Forgets the accepted tokens and reseeds. */
void g4_sampler_reset(g4_sampler *s, uint64_t seed);

typedef enum g4_stop_reason {
    G4_STOP_NONE = 0,          /* not finished (an error) */
    G4_STOP_TOKEN,             /* a stop id was sampled (not evaluated, not streamed) */
    G4_STOP_STRING,            /* a stop string appeared in the text (not streamed) */
    G4_STOP_MAX_TOKENS,        /* max_tokens generated */
    G4_STOP_CONTEXT,           /* the context is full */
    G4_STOP_CANCELLED,         /* on_token returned non-zero */
} g4_stop_reason;

/* Called for each generated token, in order. `text` holds the bytes that are
 * ready to show (complete UTF-8 characters that cannot be the start of a stop
 * string; often empty while a multi-byte character or a possible stop
 * string is held back, and held text comes later with a later token or at the
 * end with token -1). Control tokens have no text. Returning non-zero stops
 * the generation (G4_STOP_CANCELLED); that token has been evaluated. */
typedef int (*g4_token_fn)(int32_t token, const char *text, size_t len, void *user);

typedef struct g4_generate_params {
    int64_t max_tokens;              /* <= 0: until a stop or the context end */
    const int32_t *stop_ids;         /* [n_stop_ids] */
    int n_stop_ids;
    const char *const *stop_strings; /* [n_stop_strings], matched on the decoded text */
    int n_stop_strings;
    g4_token_fn on_token;            /* may be NULL */
    void *user;
} g4_generate_params;

typedef struct g4_generate_stats {
    int64_t n_prompt;          /* prompt tokens evaluated */
    int64_t n_gen;             /* tokens generated (sampled and kept, the stop id excluded) */
    double prompt_ms;          /* prefill time */
    double gen_ms;             /* time from the first token to the end */
    double ttft_ms;            /* time to first token: prefill + first sample */
    double prompt_tps, gen_tps;/* tokens per second (0 when not measurable) */
    g4_stop_reason reason;
} g4_generate_stats;

/* Generates on `ctx` (a context of model `m`): evaluates prompt[0..n_prompt)
 * after the context's current position (n_prompt may be 0 if the context
 * already holds the prompt and ends with a token whose logits are wanted: at
 * least one token is required), feeds the prompt to the sampler's penalty
 * window, then samples, streams (on_token) and evaluates tokens until a stop
 * id, a stop string, max_tokens, the end of the context, or cancellation.
 * Generated tokens stay in the context (the stop id does not), so a chat can
 * continue from g4_context_pos(). A prompt that does not fit the context is
 * G4_ERR_RANGE before anything is evaluated. Buffers are allocated once per
 * call; the token loop allocates nothing. `stats` may be NULL. */
g4_status g4_generate(const g4_model *m, g4_context *ctx, g4_sampler *s, const int32_t *prompt, size_t n_prompt,
                      const g4_generate_params *gp, g4_generate_stats *stats, g4_error *err);

/* Context length of the model (positions its config allows). */
int64_t g4_model_context_length(const g4_model *m);


#ifdef __cplusplus
}
#endif
#endif /* G4_H */
