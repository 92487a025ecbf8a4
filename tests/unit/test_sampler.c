/* test_sampler.c — the sampler and the stop matcher. Statistical checks use
 * fixed seeds and bounds of 5 standard deviations of the binomial count, so
 * they fail only when the sampler is wrong (or with probability < 1e-6). */
#include "runtime/sampler.h"
#include "runtime/stop.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static struct g4_sampler *mk(int32_t nv, const struct g4_sampler_params *p) {
    struct g4_sampler *s = NULL;
    g4_error err;
    if (g4_sampler_init(&s, nv, p, &err) != G4_OK) test_report(__FILE__, __LINE__, "init: %s", err.message);
    return s;
}

/* count samples of each token over n draws */
static void histogram(struct g4_sampler *s, const float *logits, int nv, int n, int *h) {
    memset(h, 0, sizeof(int) * (size_t)nv);
    for (int i = 0; i < n; i++) {
        int32_t t = g4_sampler_sample(s, logits);
        if (t >= 0 && t < nv) h[t]++;
    }
}

/* |count - n p| within 5 binomial standard deviations */
static bool near_p(int count, int n, double p) {
    return fabs(count - n * p) <= 5.0 * sqrt(n * p * (1 - p)) + 1.0;
}

static void test_greedy(void) {
    struct g4_sampler_params p;
    g4_sampler_params_default(&p);
    p.temperature = 0;
    struct g4_sampler *s = mk(5, &p);
    if (!s) return;
    const float l[5] = {1, 3, -2, 3, 0.5f};
    CHECK(g4_sampler_sample(s, l) == 1); /* tie: lowest id */
    g4_sampler_free(s);
    p.temperature = 1.0f;
    p.top_k = 1; /* top_k = 1 is greedy */
    s = mk(5, &p);
    for (int i = 0; i < 50; i++) CHECK(g4_sampler_sample(s, l) == 1);
    g4_sampler_free(s);
}

static void test_distribution_and_temperature(void) {
    const float l[3] = {logf(0.1f), logf(0.2f), logf(0.7f)};
    int h[3];
    struct g4_sampler_params p;
    g4_sampler_params_default(&p);
    p.seed = 42;
    struct g4_sampler *s = mk(3, &p);
    histogram(s, l, 3, 20000, h);
    CHECKF(near_p(h[0], 20000, 0.1) && near_p(h[1], 20000, 0.2) && near_p(h[2], 20000, 0.7), "%d %d %d", h[0], h[1], h[2]);
    g4_sampler_free(s);
    /* T = 0.5 squares the probabilities: 0.01 : 0.04 : 0.49 */
    p.temperature = 0.5f;
    s = mk(3, &p);
    histogram(s, l, 3, 20000, h);
    CHECKF(near_p(h[0], 20000, 0.01 / 0.54) && near_p(h[2], 20000, 0.49 / 0.54), "%d %d %d", h[0], h[1], h[2]);
    g4_sampler_free(s);
}

static void test_top_k(void) {
    float l[10];
    for (int i = 0; i < 10; i++) l[i] = (float)(i % 5); /* ties: ids 4 and 9 both 4, 3 and 8 both 3 */
    struct g4_sampler_params p;
    g4_sampler_params_default(&p);
    p.top_k = 3;
    p.seed = 7;
    struct g4_sampler *s = mk(10, &p);
    int h[10];
    histogram(s, l, 10, 5000, h);
    /* exactly 3 kept, ties by lower id: 4, 9, 3 */
    CHECK(h[4] > 0 && h[9] > 0 && h[3] > 0 && h[8] == 0);
    CHECK(h[4] + h[9] + h[3] == 5000);
    g4_sampler_free(s);
}

static void test_top_p_excludes_tail(void) {
    const float l[4] = {logf(0.5f), logf(0.3f), logf(0.15f), logf(0.05f)};
    struct g4_sampler_params p;
    g4_sampler_params_default(&p);
    p.top_p = 0.75f; /* 0.5 < 0.75 <= 0.8: keeps {0, 1} */
    p.seed = 3;
    struct g4_sampler *s = mk(4, &p);
    int h[4];
    histogram(s, l, 4, 10000, h);
    CHECKF(h[2] == 0 && h[3] == 0 && near_p(h[0], 10000, 0.5 / 0.8), "%d %d %d %d", h[0], h[1], h[2], h[3]);
    g4_sampler_free(s);
    p.top_p = 0.5f; /* mass before token 1 is 0.5, not < 0.5: only {0} (HF) */
    s = mk(4, &p);
    histogram(s, l, 4, 200, h);
    CHECKF(h[0] == 200, "%d %d", h[0], h[1]);
    g4_sampler_free(s);
}

static void test_min_p(void) {
    const float l[4] = {logf(0.5f), logf(0.3f), logf(0.15f), logf(0.05f)};
    struct g4_sampler_params p;
    g4_sampler_params_default(&p);
    p.min_p = 0.25f; /* threshold 0.125: keeps {0, 1, 2} */
    p.seed = 11;
    struct g4_sampler *s = mk(4, &p);
    int h[4];
    histogram(s, l, 4, 10000, h);
    CHECKF(h[3] == 0 && h[2] > 0 && near_p(h[2], 10000, 0.15 / 0.95), "%d %d %d %d", h[0], h[1], h[2], h[3]);
    g4_sampler_free(s);
}

static void test_penalties(void) {
    struct g4_sampler_params p;
    g4_sampler_params_default(&p);
    p.repeat_penalty = 2.0f;
    p.presence_penalty = 0.5f;
    p.frequency_penalty = 0.25f;
    p.penalty_last_n = 3;
    struct g4_sampler *s = mk(5, &p);
    const float l[5] = {2, 2, -1, 3, 1};
    float o[5];
    g4_sampler_accept(s, 1);
    g4_sampler_accept(s, 1);
    g4_sampler_accept(s, 2);
    g4_sampler_process(s, l, o);
    CHECK(o[0] == 2 && o[3] == 3 && o[4] == 1);          /* untouched */
    CHECKF(o[1] == 2.0f / 2 - 2 * 0.25f - 0.5f, "%g", o[1]); /* seen twice */
    CHECKF(o[2] == -1.0f * 2 - 0.25f - 0.5f, "%g", o[2]);    /* negative logit: multiplied */
    g4_sampler_process(s, l, o); /* marks restored: same result twice */
    CHECK(o[1] == 0.0f);
    g4_sampler_accept(s, 4); /* window 3: evicts the first 1 */
    g4_sampler_process(s, l, o);
    CHECKF(o[1] == 1.0f - 0.25f - 0.5f && o[4] == 0.5f - 0.25f - 0.5f, "%g %g", o[1], o[4]);
    g4_sampler_accept(s, 4);
    g4_sampler_accept(s, 3);
    g4_sampler_process(s, l, o); /* window is now {4, 4, 3}: 1 and 2 left it */
    CHECK(o[1] == 2 && o[2] == -1 && o[0] == 2);
    g4_sampler_reset(s, 0);
    g4_sampler_process(s, l, o);
    CHECK(memcmp(o, l, sizeof(o)) == 0);
    g4_sampler_accept(s, 99); /* out of vocab: ignored */
    g4_sampler_free(s);
}

static void test_suppress_and_bias(void) {
    const int32_t sup[2] = {3, 1};
    const struct g4_logit_bias bias[1] = {{0, 10.0f}};
    struct g4_sampler_params p;
    g4_sampler_params_default(&p);
    p.temperature = 0;
    p.suppress_tokens = sup;
    p.n_suppress = 2;
    struct g4_sampler *s = mk(4, &p);
    float l[4] = {1, 9, 2, 8};
    CHECK(g4_sampler_sample(s, l) == 2);
    g4_sampler_free(s);
    p.logit_bias = bias;
    p.n_logit_bias = 1;
    s = mk(4, &p);
    CHECK(g4_sampler_sample(s, l) == 0);
    float some[4] = {-INFINITY, 1, 0.5f, 2};
    CHECK(g4_sampler_sample(s, some) == 2); /* -inf + bias stays -inf; 1, 3 suppressed */
    float all[4] = {-INFINITY, 1, -INFINITY, 2};
    g4_sampler_free(s);
    p.n_logit_bias = 0;
    s = mk(4, &p);
    CHECK(g4_sampler_sample(s, all) == -1); /* 1 and 3 suppressed, the rest -inf */
    g4_sampler_free(s);
}

static void test_seed_determinism(void) {
    enum { NV = 1000, N = 300 };
    float *l = malloc(sizeof(float) * NV);
    for (int i = 0; i < NV; i++) l[i] = (float)((i * 7919) % 101) / 25.0f;
    struct g4_sampler_params p;
    g4_sampler_params_default(&p);
    p.top_k = 50;
    p.top_p = 0.9f;
    int32_t a[N], b[N], c[N];
    for (int run = 0; run < 3; run++) {
        p.seed = run == 2 ? 1235 : 1234;
        struct g4_sampler *s = mk(NV, &p);
        int32_t *o = run == 0 ? a : run == 1 ? b : c;
        for (int i = 0; i < N; i++) o[i] = g4_sampler_sample(s, l);
        if (run == 0) { /* reset with the same seed replays */
            g4_sampler_reset(s, 1234);
            int same = 1;
            for (int i = 0; i < N; i++) same &= g4_sampler_sample(s, l) == a[i];
            CHECK(same);
        }
        g4_sampler_free(s);
    }
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    CHECK(memcmp(a, c, sizeof(a)) != 0);
    free(l);
}

static int cmp_desc(const void *x, const void *y) {
    float a = *(const float *)x, b = *(const float *)y;
    return (a < b) - (a > b);
}

/* Large vocabulary, full sort path: every sampled token lies in the top_p
 * nucleus computed by brute force here. */
static void test_top_p_large_vocab(void) {
    enum { NV = 50000 };
    float *l = malloc(sizeof(float) * NV), *sorted = malloc(sizeof(float) * NV);
    uint64_t x = 99;
    for (int i = 0; i < NV; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        l[i] = (float)(x >> 40) / (float)(1 << 24) * 12.0f;
    }
    memcpy(sorted, l, sizeof(float) * NV);
    qsort(sorted, NV, sizeof(float), cmp_desc);
    double sum = 0, cum = 0;
    for (int i = 0; i < NV; i++) sum += exp(sorted[i] - sorted[0]);
    float cutoff = sorted[0];
    for (int i = 0; i < NV; i++) {
        cum += exp(sorted[i] - sorted[0]);
        cutoff = sorted[i];
        if (cum >= 0.3 * sum) break;
    }
    struct g4_sampler_params p;
    g4_sampler_params_default(&p);
    p.top_p = 0.3f;
    p.seed = 5;
    struct g4_sampler *s = mk(NV, &p);
    int bad = 0;
    for (int i = 0; i < 30; i++) {
        int32_t t = g4_sampler_sample(s, l);
        bad += t < 0 || l[t] < cutoff;
    }
    CHECK(bad == 0);
    g4_sampler_free(s);
    /* flat distribution: the nucleus is half the vocabulary (the lower ids,
       ties ranked by id), which makes the head selection grow to all of it */
    for (int i = 0; i < NV; i++) l[i] = 1.5f;
    p.top_p = 0.5f;
    s = mk(NV, &p);
    int lo = 0, hi_seen = 0;
    for (int i = 0; i < 100; i++) {
        int32_t t = g4_sampler_sample(s, l);
        bad += t < 0 || t >= NV / 2 + 1;
        lo += t < NV / 4;
        hi_seen |= t >= NV / 4;
    }
    CHECK(bad == 0 && hi_seen && near_p(lo, 100, 0.5));
    g4_sampler_free(s);
    free(l);
    free(sorted);
}

static void test_init_validation(void) {
    struct g4_sampler_params p;
    g4_sampler_params_default(&p);
    struct g4_sampler *s = NULL;
    g4_error err;
    CHECK(g4_sampler_init(&s, 0, &p, &err) == G4_ERR_INVALID_ARG);
    p.temperature = NAN;
    CHECK(g4_sampler_init(&s, 10, &p, &err) == G4_ERR_INVALID_ARG);
    g4_sampler_params_default(&p);
    const int32_t sup = 10;
    p.suppress_tokens = &sup;
    p.n_suppress = 1;
    CHECK(g4_sampler_init(&s, 10, &p, &err) == G4_ERR_INVALID_ARG && s == NULL);
    CHECK(strstr(err.message, "suppress") != NULL);
    g4_sampler_free(NULL);
}

static void test_stop_strings(void) {
    const char *strs[] = {"</s>", "", "STOP", "ab"};
    const int32_t toks[] = {1, 106};
    struct g4_stop *st = NULL;
    CHECK(g4_stop_init(&st, strs, 4, toks, 2, NULL) == G4_OK);
    if (!st) return;
    bool m;
    CHECK(g4_stop_scan(st, "hello </", 8, &m) == 6 && !m);       /* hold back "</" */
    CHECK(g4_stop_scan(st, "hello </s> more", 15, &m) == 6 && m); /* match at 6 */
    CHECK(g4_stop_scan(st, "xSTOab", 6, &m) == 4 && m);           /* "ab" at 4 */
    CHECK(g4_stop_scan(st, "x</s>abSTOP", 11, &m) == 1 && m);     /* earliest of several */
    CHECK(g4_stop_scan(st, "hello", 5, &m) == 5 && !m);
    CHECK(g4_stop_scan(st, "a", 1, &m) == 0 && !m);               /* prefix of "ab" */
    CHECK(g4_stop_scan(st, "", 0, &m) == 0 && !m);
    CHECK(g4_stop_scan(st, "STO", 3, &m) == 0 && !m);
    CHECK(g4_stop_is_token(st, 106) && !g4_stop_is_token(st, 2));
    g4_stop_free(st);
    CHECK(g4_stop_init(&st, NULL, 1, NULL, 0, NULL) == G4_ERR_INVALID_ARG);
}

/* Streaming: feed text in 1-byte pieces; emitted text must equal the text
 * up to the first stop string, for every split. */
static void test_stop_streaming(void) {
    const char *strs[] = {"<end>", "<en!"};
    struct g4_stop *st = NULL;
    CHECK(g4_stop_init(&st, strs, 2, NULL, 0, NULL) == G4_OK);
    const char *text = "a <e <en <end> x";
    char pending[64], emitted[64];
    size_t np = 0, ne = 0;
    bool stopped = false;
    for (size_t i = 0; text[i] && !stopped; i++) {
        pending[np++] = text[i];
        bool m;
        size_t safe = g4_stop_scan(st, pending, np, &m);
        memcpy(emitted + ne, pending, safe);
        ne += safe;
        memmove(pending, pending + safe, np - safe);
        np -= safe;
        stopped = m;
    }
    emitted[ne] = 0;
    CHECKF(stopped && strcmp(emitted, "a <e <en ") == 0, "emitted '%s'", emitted);
    g4_stop_free(st);
}

int main(void) {
    RUN(test_greedy);
    RUN(test_distribution_and_temperature);
    RUN(test_top_k);
    RUN(test_top_p_excludes_tail);
    RUN(test_min_p);
    RUN(test_penalties);
    RUN(test_suppress_and_bias);
    RUN(test_seed_determinism);
    RUN(test_top_p_large_vocab);
    RUN(test_init_validation);
    RUN(test_stop_strings);
    RUN(test_stop_streaming);
    return test_done();
}
