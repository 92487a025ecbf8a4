/* engine_loop.h — the engine thread: owns the model's decoder, every
 * slot's KV cache and the thread pool, and serves g4_gen_req requests from
 * the queue by continuous batching over `parallel` slots (one sequence
 * each; the decode steps of all active slots, and a bounded chunk of a new
 * request's prompt, run as one batched forward).
 * Each slot keeps the token ids held in its KV cache, with sliding-window
 * checkpoints (runtime/prefix.h), so a request sharing a prefix with a
 * slot's previous sequence only prefills the rest (cached_tokens). */
#ifndef G4_SERVER_ENGINE_LOOP_H
#define G4_SERVER_ENGINE_LOOP_H

#include "g4.h"
#include "model/decoder.h"
#include "runtime/batch.h"
#include "runtime/prefix.h"
#include "runtime/stop.h"
#include "server/detok.h"
#include "server/engine_iface.h"
#include "server/metrics.h"

#include <pthread.h>
#include <stdatomic.h>

#define G4_PREFILL_CHUNK 64 /* default prompt rows per step while other sequences decode */

/* One sequence: its KV cache and prefix cache, and while a request runs,
 * that request's sampling state. */
struct g4_slot {
    struct g4_engine eng;
    struct g4_prefix pc;
    uint64_t last_used;            /* engine clock at the last start (LRU) */
    struct g4_gen_req *r;          /* NULL = free */
    bool decoding;                 /* prefilled: its next token is a row of every step */
    bool prefilling;               /* its prompt goes in chunk by chunk (ids [ppos, n_prompt) left) */
    int64_t ppos, reused;          /* prompt ids in the KV cache; of those, reused from the prefix cache */
    int64_t n_chunks, n_mixed;     /* prefill steps; of those, shared with other sequences' decode rows */
    double t0;                     /* prefill start */
    struct g4_sampler *smp;
    struct g4_stop *stop;
    struct g4_grammar_state *gs;
    bool g_on;                     /* gs constrains sampling (from the start, or since the trigger token) */
    struct g4_detok dt;            /* incremental detokenizer (holds an open byte run) */
    char *hold;                    /* [hold_cap] text held back for stop strings (allocated at start-up) */
    size_t hold_len;
    int64_t n_gen;
    int32_t next;                  /* token the next step evaluates */
    enum g4_gen_finish fin;
    double t1;                     /* decode start */
};

struct g4_engine_thread {
    const g4_model *model;
    struct g4_dec dec;
    bool dec_bound;
    struct g4_pool *pool;
    struct g4_slot *slots;         /* [n_slots] */
    int n_slots;
    uint64_t clock;
    struct g4_batch batch;         /* the batched decode step */
    struct g4_batch_row *rows;     /* [n_slots + n_batch]: a prompt chunk, then the decode rows */
    int *row_slot;                 /* [n_slots + n_batch] */
    float *blogits;                /* [n_slots + 1][n_vocab] */
    struct g4_gen_queue *q;
    struct g4_metrics *metrics;
    int32_t n_vocab;
    size_t hold_cap;               /* every slot's hold buffer: longest stop string + one token's text */
    int64_t n_ctx;
    int n_batch;                   /* prompt rows per step when nothing else decodes */
    int prefill_chunk;             /* prompt rows per step while other sequences decode */
    int32_t stop_ids[8];           /* end-of-generation tokens */
    int n_stop_ids;
    float *raw;                    /* [n_vocab] copy of the raw logits (logprobs) */
    struct g4_grammar_vocab *gvocab; /* token bytes for grammar masks (built at start) */
    uint64_t *mask;                /* [(n_vocab + 63) / 64] */
    const atomic_bool *abort;      /* optional: set when the server stops (cancels the running request) */
    pthread_t th;
    bool started;
};

/* Binds the decoder, makes `parallel` slots of n_ctx positions each and
 * starts the thread. prefill_chunk: prompt rows per step while others
 * decode (0: G4_PREFILL_CHUNK; at most 256). */
g4_status g4_engine_thread_start(struct g4_engine_thread *et, const g4_model *m, int64_t n_ctx, int n_threads,
                                 int parallel, int prefill_chunk, struct g4_gen_queue *q, struct g4_metrics *metrics, const atomic_bool *abort,
                                 g4_error *err);
/* Joins the thread (stop the queue first) and frees the slots. */
void g4_engine_thread_join(struct g4_engine_thread *et);

#endif
