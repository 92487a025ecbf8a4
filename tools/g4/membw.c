/* membw.c — STREAM-style read bandwidth (see membw.h).
 * Each thread sums 64-bit words of its slice with GCC/Clang vector
 * extensions (8 independent 32-byte accumulators, so the loop is bound by
 * loads, not by the add chain); the sum is kept live so the reads cannot be
 * optimised away. Pages are touched (written) before timing. */
#include "membw.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint64_t v4u64 __attribute__((vector_size(32)));

struct membw_job {
    const unsigned char *p;
    size_t n;                  /* bytes, a multiple of 256 */
    atomic_int *go;            /* 0 wait, 1 run, 2 quit (a thread could not start) */
    uint64_t sum;
    double t_end;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t sum_slice(const unsigned char *p, size_t n) {
    v4u64 a[8] = {{0}};
    for (size_t i = 0; i < n; i += 256) {
        for (int k = 0; k < 8; k++) {
            v4u64 v;
            memcpy(&v, p + i + 32 * (size_t)k, sizeof v);
            a[k] += v;
        }
    }
    for (int k = 1; k < 8; k++) a[0] += a[k];
    return a[0][0] + a[0][1] + a[0][2] + a[0][3];
}

static void *membw_worker(void *arg) {
    struct membw_job *j = arg;
    int g;
    while ((g = atomic_load(j->go)) == 0) sched_yield();
    if (g != 1) return NULL;
    j->sum = sum_slice(j->p, j->n);
    j->t_end = now_s();
    return NULL;
}

double membw_read_gbps(int n_threads, size_t bytes, int reps) {
    if (n_threads < 1 || n_threads > 1024 || reps < 1) return -1;
    if (bytes == 0) bytes = (size_t)512 << 20;
    size_t slice = bytes / (size_t)n_threads / 4096 * 4096;
    if (slice == 0) return -1;
    size_t total = slice * (size_t)n_threads;
    unsigned char *buf = NULL;
    if (posix_memalign((void **)&buf, 4096, total) != 0) return -1;
    memset(buf, 1, total);
    struct membw_job *jobs = calloc((size_t)n_threads, sizeof *jobs);
    pthread_t *th = calloc((size_t)n_threads, sizeof *th);
    double best = -1;
    volatile uint64_t sink = 0;
    if (!jobs || !th) goto done;
    for (int r = 0; r < reps; r++) {
        atomic_int go = 0;
        int started = 0;
        for (int t = 0; t < n_threads; t++) {
            jobs[t] = (struct membw_job){.p = buf + slice * (size_t)t, .n = slice, .go = &go};
            if (pthread_create(&th[t], NULL, membw_worker, &jobs[t]) != 0) break;
            started++;
        }
        atomic_store(&go, started == n_threads ? 1 : 2);
        double t0 = now_s(), t1 = t0;
        for (int t = 0; t < started; t++) {
            pthread_join(th[t], NULL);
            sink += jobs[t].sum;
            if (jobs[t].t_end > t1) t1 = jobs[t].t_end;
        }
        if (started < n_threads) goto done;
        double gbps = t1 > t0 ? (double)total / (t1 - t0) / 1e9 : 0;
        if (gbps > best) best = gbps;
    }
done:
    (void)sink;
    free(th);
    free(jobs);
    free(buf);
    return best;
}
