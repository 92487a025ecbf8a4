/* test_kvcache.c — KV ring sizing and the truncation rule (kvcache.h):
 * sliding layers keep window + n_batch slots, global layers n_ctx, KV-shared
 * layers none; truncation is refused exactly when a needed sliding-window
 * key has been overwritten. */
#include "dec_synth.h"
#include "test.h"

#include "runtime/kvcache.h"

static void test_sizes(void) {
    struct synth s;
    synth_build(&s, 4, SYNTH_SHARED, 5, 1); /* layers 0,1,3 sliding (3 shares 1), 2 global */
    struct g4_kvcache kv;
    g4_error err;
    CHECK(g4_kvcache_init(&kv, &s.dec, 100, 4, &err) == G4_OK);
    CHECK(kv.views[0].cap == 9 && kv.views[1].cap == 9); /* window 5 + n_batch 4 */
    CHECK(kv.views[2].cap == 100);                        /* global: n_ctx */
    CHECK(kv.views[3].cap == 0 && kv.views[3].k == NULL); /* KV-shared: none */
    CHECK(kv.views[0].row == 2 * 8 && kv.views[2].row == 16);
    CHECK(g4_kvcache_max_cap(&kv) == 100);
    size_t floats = 2 * (2 * 9 * 16 + 100 * 16);
    CHECK(kv.bytes == floats * sizeof(float));
    g4_kvcache_free(&kv);
    /* n_ctx below the window: sliding rings shrink to n_ctx */
    CHECK(g4_kvcache_init(&kv, &s.dec, 3, 4, &err) == G4_OK);
    CHECK(kv.views[0].cap == 3 && kv.views[2].cap == 3);
    g4_kvcache_free(&kv);
    CHECK(g4_kvcache_init(&kv, &s.dec, 0, 4, &err) == G4_ERR_INVALID_ARG);
    CHECK(g4_kvcache_init(&kv, &s.dec, 10, 0, &err) == G4_ERR_INVALID_ARG);
    synth_free(&s);
}

static void test_truncate_rule(void) {
    struct synth s;
    synth_build(&s, 2, 0, 5, 1);
    struct g4_kvcache kv;
    g4_error err;
    CHECK(g4_kvcache_init(&kv, &s.dec, 100, 4, &err) == G4_OK);
    /* ring of 9: nothing overwritten up to 9 positions, any length is fine */
    kv.n_past = 9;
    CHECK(g4_kvcache_min_keep(&kv) == 0);
    CHECK(g4_kvcache_truncate(&kv, 1, &err) == G4_OK && kv.n_past == 1);
    /* 30 positions: slots hold 21..29; keeping n needs n-4..n-1 >= 21 */
    kv.n_past = 30;
    CHECK(g4_kvcache_min_keep(&kv) == 25);
    CHECK(g4_kvcache_truncate(&kv, 24, &err) == G4_ERR_RANGE && kv.n_past == 30);
    CHECK(g4_kvcache_truncate(&kv, 31, &err) == G4_ERR_RANGE);
    CHECK(g4_kvcache_truncate(&kv, -1, &err) == G4_ERR_RANGE);
    CHECK(g4_kvcache_truncate(&kv, 25, &err) == G4_OK && kv.n_past == 25);
    kv.n_past = 30;
    CHECK(g4_kvcache_truncate(&kv, 0, &err) == G4_OK && kv.n_past == 0); /* full reset */
    g4_kvcache_free(&kv);
    synth_free(&s);
}

int main(void) {
    RUN(test_sizes);
    RUN(test_truncate_rule);
    return test_done();
}
