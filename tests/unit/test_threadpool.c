/* test_threadpool.c — the persistent pool: every slice runs exactly once per
 * job, g4_pool_for covers every task exactly once, many tiny back-to-back
 * jobs neither deadlock nor lose work (spin and sleep paths both), and
 * init/free cycles are clean (ASan/TSan). */
#include "core/threadpool.h"
#include "test.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

struct slices {
    atomic_int hits[64];
    atomic_int calls;
    int nth_seen;
};

static void slice_fn(void *arg, int ith, int nth) {
    struct slices *s = arg;
    atomic_fetch_add(&s->hits[ith], 1);
    atomic_fetch_add(&s->calls, 1);
    if (ith == 0) s->nth_seen = nth;
}

static void test_run_slices(void) {
    for (int n = 1; n <= 5; n++) {
        struct g4_pool *p = NULL;
        g4_error err;
        CHECK(g4_pool_init(&p, n, &err) == G4_OK);
        if (!p) return;
        CHECK(g4_pool_size(p) == n);
        struct slices s;
        memset(&s, 0, sizeof(s));
        for (int rep = 0; rep < 10; rep++) g4_pool_run(p, slice_fn, &s);
        CHECK(s.nth_seen == n);
        CHECK(atomic_load(&s.calls) == 10 * n);
        for (int i = 0; i < n; i++) CHECKF(atomic_load(&s.hits[i]) == 10, "n=%d ith=%d hits=%d", n, i, atomic_load(&s.hits[i]));
        g4_pool_free(p);
    }
}

static void test_null_pool_inline(void) {
    struct slices s;
    memset(&s, 0, sizeof(s));
    g4_pool_run(NULL, slice_fn, &s);
    CHECK(s.nth_seen == 1 && atomic_load(&s.hits[0]) == 1);
    CHECK(g4_pool_size(NULL) == 1);
    g4_pool_free(NULL);
}

struct tasks {
    atomic_int seen[1000];
    atomic_llong sum;
};

static void task_fn(void *arg, int64_t t, int ith) {
    struct tasks *s = arg;
    atomic_fetch_add(&s->seen[t], 1);
    atomic_fetch_add(&s->sum, t);
}

static void test_for_covers_each_task_once(void) {
    struct g4_pool *p = NULL;
    CHECK(g4_pool_init(&p, 4, NULL) == G4_OK);
    static struct tasks s;
    for (int64_t n = 0; n <= 1000; n += 97) {
        memset(&s, 0, sizeof(s));
        g4_pool_for(p, n, task_fn, &s);
        int bad = 0;
        for (int64_t i = 0; i < 1000; i++) bad += atomic_load(&s.seen[i]) != (i < n);
        CHECKF(bad == 0, "n=%lld: %d tasks not run exactly once", (long long)n, bad);
        CHECK(atomic_load(&s.sum) == n * (n - 1) / 2);
    }
    g4_pool_for(NULL, 3, task_fn, &s); /* inline path */
    g4_pool_free(p);
}

/* 5k tiny jobs back to back: exercises the spin path and the handoff. */
static void count_fn(void *arg, int ith, int nth) { atomic_fetch_add((atomic_int *)arg, 1); }

static void test_many_tiny_jobs(void) {
    struct g4_pool *p = NULL;
    CHECK(g4_pool_init(&p, 3, NULL) == G4_OK);
    atomic_int c;
    atomic_init(&c, 0);
    for (int i = 0; i < 5000; i++) g4_pool_run(p, count_fn, &c);
    CHECK(atomic_load(&c) == 15000);
    g4_pool_free(p);
}

/* Jobs separated by pauses long enough that workers fall asleep, so the
 * wake-up path (condition variable) is taken. */
static void test_sleep_wake(void) {
    struct g4_pool *p = NULL;
    CHECK(g4_pool_init(&p, 3, NULL) == G4_OK);
    atomic_int c;
    atomic_init(&c, 0);
    for (int i = 0; i < 20; i++) {
        struct timespec ts = {0, 3 * 1000 * 1000};
        nanosleep(&ts, NULL);
        g4_pool_run(p, count_fn, &c);
    }
    CHECK(atomic_load(&c) == 60);
    g4_pool_free(p);
}

static void test_init_free_cycles(void) {
    for (int i = 0; i < 50; i++) {
        struct g4_pool *p = NULL;
        CHECK(g4_pool_init(&p, 1 + i % 4, NULL) == G4_OK);
        if (i % 2) {
            atomic_int c;
            atomic_init(&c, 0);
            g4_pool_run(p, count_fn, &c);
            CHECK(atomic_load(&c) == 1 + i % 4);
        }
        g4_pool_free(p); /* some pools freed without ever running a job */
    }
    struct g4_pool *p = (struct g4_pool *)1;
    g4_error err;
    CHECK(g4_pool_init(&p, 5000, &err) == G4_ERR_INVALID_ARG && p == NULL);
}

static void test_slice(void) {
    for (int64_t n = 0; n < 40; n += 3)
        for (int nth = 1; nth <= 7; nth++) {
            int64_t prev = 0;
            for (int ith = 0; ith < nth; ith++) {
                int64_t a, b;
                g4_pool_slice(n, ith, nth, &a, &b);
                CHECK(a == prev && b >= a && b - a <= n / nth + 1 && b - a >= n / nth);
                prev = b;
            }
            CHECK(prev == n);
        }
}

int main(void) {
    RUN(test_slice);
    RUN(test_run_slices);
    RUN(test_null_pool_inline);
    RUN(test_for_covers_each_task_once);
    RUN(test_many_tiny_jobs);
    RUN(test_sleep_wake);
    RUN(test_init_free_cycles);
    return test_done();
}
