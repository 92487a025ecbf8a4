/* threadpool.c — persistent workers with spin-then-sleep parking.
 *
 * Protocol. The driver publishes a job (fn, ctx) and bumps `gen`; each worker
 * remembers the last generation it ran and waits for `gen` to change. Waiting
 * is a bounded spin on the atomic (pause, later with an occasional
 * sched_yield, see spin_step) followed by a sleep on `wake`. Lost wakeups
 * are prevented Dekker-style with sequentially consistent atomics: a sleeper
 * increments `n_sleeping` (under `mu`) BEFORE re-checking `gen`, and the
 * driver stores `gen` BEFORE reading `n_sleeping`; so either the driver sees
 * the sleeper (and broadcasts under `mu`) or the sleeper sees the new `gen`.
 * Completion uses the same scheme in the other direction: `pending` counts
 * workers still running, the last one to finish wakes the driver if it slept.
 * Job fields are written before the `gen` store and read after its load, so
 * they need no atomics of their own. */
#include "core/threadpool.h"

#include "core/cpu.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

enum { POOL_MAX_THREADS = 1024, SPIN_ITERS = 4000 };

struct worker {
    struct g4_pool *pool;
    pthread_t thread;
    int ith;
};

struct g4_pool {
    int nth;
    struct worker *workers; /* [nth - 1] */
    int n_started;

    /* the current job */
    g4_pool_fn fn;
    void *ctx;

    atomic_uint gen;        /* bumped once per job */
    atomic_int pending;     /* workers that have not finished the job */
    atomic_int n_sleeping;  /* workers blocked (or about to block) on wake */
    atomic_int driver_sleeping;
    atomic_bool stop;

    pthread_mutex_t mu;
    pthread_cond_t wake;    /* workers wait here for a new gen */
    pthread_cond_t done;    /* the driver waits here for pending == 0 */
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* One step of a wait loop: pause, and every YIELD_EVERY steps after the
 * first SPIN_PAUSE give the CPU away (sched_yield). On a quiet machine the
 * hand-off happens within the pause phase; on an oversubscribed one the
 * thread being waited for may be queued behind this one, and burning the
 * rest of the time slice would delay it by a whole slice. */
enum { SPIN_PAUSE = 512, YIELD_EVERY = 32 };
static inline void spin_step(int i) {
    if (i >= SPIN_PAUSE && i % YIELD_EVERY == 0)
        sched_yield();
    else
        cpu_relax();
}

static void *worker_main(void *arg) {
    struct worker *w = arg;
    struct g4_pool *p = w->pool;
    unsigned seen = 0; /* jobs start at gen 1 */
    for (;;) {
        unsigned g = atomic_load(&p->gen);
        for (int i = 0; g == seen && i < SPIN_ITERS && !atomic_load(&p->stop); i++) {
            spin_step(i);
            g = atomic_load(&p->gen);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->n_sleeping, 1);
            while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->wake, &p->mu);
            atomic_fetch_sub(&p->n_sleeping, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (g == seen) return NULL; /* stop requested and no new job */
        seen = g;
        p->fn(p->ctx, w->ith, p->nth);
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->driver_sleeping)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void pool_stop_join(struct g4_pool *p) {
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_started; i++) pthread_join(p->workers[i].thread, NULL);
    p->n_started = 0;
}

g4_status g4_pool_init(struct g4_pool **out, int n_threads, g4_error *err) {
    *out = NULL;
    if (n_threads <= 0) n_threads = g4_cpu_count();
    if (n_threads > POOL_MAX_THREADS)
        return g4_fail(err, G4_ERR_INVALID_ARG, "threadpool: %d threads (max %d)", n_threads, POOL_MAX_THREADS);
    struct g4_pool *p = calloc(1, sizeof(*p));
    if (!p) return g4_fail(err, G4_ERR_NOMEM, "threadpool: out of memory");
    p->nth = n_threads;
    atomic_init(&p->gen, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->n_sleeping, 0);
    atomic_init(&p->driver_sleeping, 0);
    atomic_init(&p->stop, false);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (n_threads > 1) {
        p->workers = calloc((size_t)n_threads - 1, sizeof(*p->workers));
        if (!p->workers) {
            g4_pool_free(p);
            return g4_fail(err, G4_ERR_NOMEM, "threadpool: out of memory");
        }
        for (int i = 0; i < n_threads - 1; i++) {
            p->workers[i].pool = p;
            p->workers[i].ith = i + 1;
            if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) {
                g4_pool_free(p);
                return g4_fail(err, G4_ERR_INTERNAL, "threadpool: cannot start thread %d of %d", i + 1, n_threads);
            }
            p->n_started++;
        }
    }
    *out = p;
    return G4_OK;
}

void g4_pool_free(struct g4_pool *p) {
    if (!p) return;
    pool_stop_join(p);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->workers);
    free(p);
}

int g4_pool_size(const struct g4_pool *p) { return p ? p->nth : 1; }

void g4_pool_run(struct g4_pool *p, g4_pool_fn fn, void *ctx) {
    if (!p || p->nth == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store(&p->pending, p->nth - 1);
    atomic_fetch_add(&p->gen, 1);
    if (atomic_load(&p->n_sleeping) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    fn(ctx, 0, p->nth);
    for (int i = 0; atomic_load(&p->pending) > 0 && i < SPIN_ITERS; i++) spin_step(i);
    if (atomic_load(&p->pending) > 0) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->driver_sleeping, 1);
        while (atomic_load(&p->pending) > 0) pthread_cond_wait(&p->done, &p->mu);
        atomic_store(&p->driver_sleeping, 0);
        pthread_mutex_unlock(&p->mu);
    }
}

/* g4_pool_for runs through g4_pool_run with this trampoline; the counter
 * lives on the driver's stack, so there is no allocation. */
struct pool_for {
    g4_pool_task_fn fn;
    void *ctx;
    int64_t n_tasks;
    atomic_llong next;
};

static void pool_for_slice(void *arg, int ith, int nth) {
    struct pool_for *f = arg;
    for (;;) {
        int64_t t = atomic_fetch_add(&f->next, 1);
        if (t >= f->n_tasks) break;
        f->fn(f->ctx, t, ith);
    }
}

void g4_pool_for(struct g4_pool *p, int64_t n_tasks, g4_pool_task_fn fn, void *ctx) {
    if (n_tasks <= 0) return;
    struct pool_for f = {.fn = fn, .ctx = ctx, .n_tasks = n_tasks};
    atomic_init(&f.next, 0);
    g4_pool_run(p, pool_for_slice, &f);
}
