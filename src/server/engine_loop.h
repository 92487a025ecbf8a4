/* engine_loop.h — the engine thread: owns the model context (KV cache) and
 * serves g4_gen_req requests from the queue one at a time (sequentially;
 * continuous batching later). It keeps the token ids held in the KV cache
 * so a request that shares a prefix with the previous one only prefills the
 * rest (reported as cached_tokens). */
#ifndef G4_SERVER_ENGINE_LOOP_H
#define G4_SERVER_ENGINE_LOOP_H

#include "g4.h"
#include "server/engine_iface.h"
#include "server/metrics.h"

#include <pthread.h>
#include <stdatomic.h>

struct g4_engine_thread {
    const g4_model *model;
    g4_context *ctx;               /* owned by the engine thread while running */
    struct g4_gen_queue *q;
    struct g4_metrics *metrics;
    int32_t n_vocab;
    int64_t n_ctx;
    int n_batch;
    int32_t stop_ids[8];           /* end-of-generation tokens */
    int n_stop_ids;
    int32_t *kv_tokens;            /* ids held in the KV cache, [n_ctx] */
    int64_t n_kv;
    float *logits;                 /* [n_vocab] */
    float *raw;                    /* [n_vocab] copy of the raw logits (logprobs) */
    struct g4_grammar_vocab *gvocab; /* token bytes for grammar masks (built at start) */
    uint64_t *mask;                /* [(n_vocab + 63) / 64] */
    const atomic_bool *abort;      /* optional: set when the server stops (cancels the running request) */
    pthread_t th;
    bool started;
};

/* Creates the context (n_ctx, n_batch, n_threads) and starts the thread. */
g4_status g4_engine_thread_start(struct g4_engine_thread *et, const g4_model *m, int64_t n_ctx, int n_threads,
                                 struct g4_gen_queue *q, struct g4_metrics *metrics, const atomic_bool *abort,
                                 g4_error *err);
/* Joins the thread (stop the queue first) and frees the context. */
void g4_engine_thread_join(struct g4_engine_thread *et);

#endif
