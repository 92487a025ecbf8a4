/* engine_iface.h — the interface between HTTP threads and the engine thread.
 *
 * A g4_gen_req is one generation: prompt ids, sampling parameters, stop ids
 * and strings, a token budget. An HTTP thread fills it, pushes it on the
 * bounded g4_gen_queue (full -> 503) and then waits on the request's own
 * channel (mutex + condition variable) for text, counters and the finish.
 * The engine thread owns the model context: it pops requests, prefills,
 * samples, detokenizes, applies stop strings, and appends the text that is
 * safe to send to the channel. Cancellation is a flag the HTTP side sets
 * (client gone, server stopping); the engine checks it between prefill
 * chunks and before every token, so a cancelled sequence stops within one
 * forward pass. A request is reference-counted (HTTP side + engine side)
 * and freed by whoever releases it last.
 * The engine runs up to `parallel` requests at once (continuous batching,
 * engine_loop.h); `busy` counts them.
 * Token-loop hygiene: the channel's text and logprob buffers are allocated
 * by the HTTP side (g4_gen_req_new, g4_gen_req_reserve_lp) and the HTTP side
 * copies out of them, so the engine's per-token emit is a memcpy under the
 * request's own (uncontended) mutex; it allocates only when the HTTP side
 * lags more than G4_GEN_TEXT_CAP bytes (or the reserved records) behind. */
#ifndef G4_SERVER_ENGINE_IFACE_H
#define G4_SERVER_ENGINE_IFACE_H

#include "runtime/grammar.h"
#include "runtime/sampler.h"
#include "server/errors.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum g4_gen_finish {
    G4_FINISH_NONE = 0,
    G4_FINISH_STOP,      /* stop token or stop string */
    G4_FINISH_LENGTH,    /* max_tokens or the context is full */
    G4_FINISH_CANCELLED, /* the HTTP side cancelled */
    G4_FINISH_ERROR,     /* see error */
};

#define G4_MAX_TOP_LOGPROBS 20
#define G4_GEN_TEXT_CAP 16384 /* channel text buffer, allocated with the request */

/* Log probability of one generated token under the model's raw distribution
 * (log-softmax of the logits, before penalties, temperature and masks, as
 * vLLM reports by default), with the most likely alternatives. */
struct g4_tok_lp {
    int32_t id;
    float lp;
    int n_top;
    int32_t top_id[G4_MAX_TOP_LOGPROBS];
    float top_lp[G4_MAX_TOP_LOGPROBS];
};

struct g4_gen_req {
    /* ---- input, set before g4_gen_queue_push, then read-only ---- */
    int32_t *prompt;                 /* owned */
    size_t n_prompt;
    struct g4_sampler_params sp;     /* sp.logit_bias points into `bias` */
    struct g4_logit_bias *bias;      /* owned */
    int32_t ban[4];                  /* token ids never sampled (sp.suppress_tokens points here): the
                                      * tool-call markup when tool_choice is none */
    char **stop;                     /* owned, n_stop strings */
    int n_stop;
    int64_t max_tokens;              /* > 0 */
    bool keep_special;               /* emit special-token strings (chat: the output parser needs them) */
    struct g4_grammar *grammar;      /* owned; NULL = unconstrained. Applies from the first generated token, */
    int32_t grammar_trigger;         /* or, when >= 0, from the first sampled token with this id (fed to it):
                                      * tool_choice auto starts the tool-call grammar at <|tool_call> */
    int logprobs;                    /* -1: none; else report this many alternatives (0..20) */

    /* ---- channel, under mu ---- */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *text;                      /* produced and not yet taken */
    size_t text_len, text_cap;
    struct g4_tok_lp *lp;            /* logprob records produced and not yet taken */
    size_t n_lp, lp_cap;
    bool prefilled;                  /* the prompt is in the KV cache (first token follows) */
    bool done;
    enum g4_gen_finish finish;
    struct g4_api_error error;       /* when finish == G4_FINISH_ERROR */
    int64_t n_cached;                /* prompt tokens reused from the previous sequence */
    int64_t n_prefill_steps;         /* batched steps the prompt took; */
    int64_t n_prefill_mixed;         /* of those, steps shared with other sequences' decoding */
    int64_t n_generated;             /* tokens sampled (completion_tokens) */
    double t_queued, t_started, t_first, t_done; /* monotonic seconds */

    atomic_bool cancel;
    atomic_int refs;
    struct g4_gen_req *next;         /* queue link (queue lock) */
};

/* A new request with refs = 2 (caller + engine), all counters zero. NULL on
 * allocation failure. Ownership of `prompt` passes to the request. */
struct g4_gen_req *g4_gen_req_new(int32_t *prompt, size_t n_prompt);
/* Drops one reference; frees at zero. */
void g4_gen_req_release(struct g4_gen_req *r);

/* HTTP side: waits until text is available, the request is done, or
 * `timeout_ms` elapsed. Copies the pending text into *text and *len (malloc'd
 * here, on the HTTP thread; caller frees; NULL when none). Returns true when
 * done (then *text holds the final piece, if any). */
bool g4_gen_req_wait(struct g4_gen_req *r, int timeout_ms, char **text, size_t *len);

/* HTTP side: copies the pending logprob records into *out (malloc'd). */
size_t g4_gen_req_take_lp(struct g4_gen_req *r, struct g4_tok_lp **out);
/* HTTP side, before queueing: room for n logprob records. */
bool g4_gen_req_reserve_lp(struct g4_gen_req *r, size_t n);

/* Engine side: append a logprob record / text and the generated-token count
 * (n_generated < 0: unchanged) / finish (wakes the waiter). */
bool g4_gen_req_emit_lp(struct g4_gen_req *r, const struct g4_tok_lp *rec);
bool g4_gen_req_emit(struct g4_gen_req *r, const char *text, size_t len, int64_t n_generated);
void g4_gen_req_finish(struct g4_gen_req *r, enum g4_gen_finish f, const struct g4_api_error *e);

struct g4_gen_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct g4_gen_req *head, *tail;
    int n, cap;
    int busy;                        /* requests the engine is working on */
    bool stopping;
};

void g4_gen_queue_init(struct g4_gen_queue *q, int cap);
void g4_gen_queue_destroy(struct g4_gen_queue *q);
/* Pushes r; false when the queue is full or stopping (caller answers 503). */
bool g4_gen_queue_push(struct g4_gen_queue *q, struct g4_gen_req *r);
/* Engine side: the next request without waiting (block == false: NULL when
 * none is queued) or waiting for one (NULL once stopping); *closed is set
 * when the queue is stopping. */
struct g4_gen_req *g4_gen_queue_next(struct g4_gen_queue *q, bool block, bool *closed);
/* Engine side: marks the popped request finished with (busy--). */
void g4_gen_queue_done(struct g4_gen_queue *q);
/* Stops the queue: queued requests are cancelled (finished with 503),
 * g4_gen_queue_next returns NULL once empty. */
void g4_gen_queue_stop(struct g4_gen_queue *q);
int g4_gen_queue_len(struct g4_gen_queue *q);
int g4_gen_queue_busy(struct g4_gen_queue *q);

/* Monotonic clock in seconds. */
double g4_now(void);

#endif
