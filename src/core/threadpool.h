/* threadpool.h — a persistent compute pool for kernels.
 *
 * A pool of n threads is n-1 worker threads plus the calling thread, which
 * always takes part as ith == 0. Workers are created once by g4_pool_init and
 * park between jobs: they spin briefly (decode steps come back-to-back), then
 * sleep on a condition variable. A job is either
 *   - g4_pool_run:  fn(ctx, ith, nth) on every thread (ggml-style slices), or
 *   - g4_pool_for:  fn(ctx, task, ith) for task in [0, n_tasks), handed out
 *                   by an atomic counter (uneven work, e.g. matmul chunks).
 * Both return only when every thread has finished, so a call is a barrier.
 * Nothing is allocated per call. A pool is driven by ONE thread at a time and
 * jobs must not start jobs on the same pool (no nesting). A NULL pool means
 * "run inline on the caller" (nth == 1), which keeps single-threaded callers
 * and tests simple. */
#ifndef G4_CORE_THREADPOOL_H
#define G4_CORE_THREADPOOL_H

#include "core/status.h"

struct g4_pool;

typedef void (*g4_pool_fn)(void *ctx, int ith, int nth);
typedef void (*g4_pool_task_fn)(void *ctx, int64_t task, int ith);

/* Creates a pool of n_threads threads in total (the caller counts as one;
 * n_threads <= 0 means one per online CPU). Fails with G4_ERR_INVALID_ARG
 * for n_threads > 1024 and G4_ERR_NOMEM / G4_ERR_INTERNAL when memory or a
 * thread cannot be had (already-started workers are joined). */
g4_status g4_pool_init(struct g4_pool **out, int n_threads, g4_error *err);

/* Stops and joins the workers and frees the pool. Accepts NULL. Must not be
 * called while a job runs. */
void g4_pool_free(struct g4_pool *pool);

/* Threads in the pool including the caller (1 for NULL). */
int g4_pool_size(const struct g4_pool *pool);

/* Runs fn(ctx, ith, nth) on all nth threads; the caller runs ith == 0.
 * Returns after every call returned. */
void g4_pool_run(struct g4_pool *pool, g4_pool_fn fn, void *ctx);

/* Runs fn(ctx, task, ith) once for each task in [0, n_tasks); threads take
 * tasks from a shared atomic counter, so fast threads take more. Tasks run
 * in no particular order. n_tasks <= 0 is a no-op. */
void g4_pool_for(struct g4_pool *pool, int64_t n_tasks, g4_pool_task_fn fn, void *ctx);

/* The [*i0, *i1) share of n items for thread ith of nth: contiguous, sizes
 * differing by at most one, in order of ith. For (ith, nth) slices. */
static inline void g4_pool_slice(int64_t n, int ith, int nth, int64_t *i0, int64_t *i1) {
    const int64_t base = n / nth, extra = n % nth;
    *i0 = ith * base + (ith < extra ? ith : extra);
    *i1 = *i0 + base + (ith < extra ? 1 : 0);
}

#endif
