/* test_server_engine.c — the server's token loop.
 * 1. The incremental detokenizer (src/server/detok.c) against the
 *    reference one-shot decode (g4_detokenize) on the real Gemma 3 270M
 *    tokenizer: ordinary text, multi-byte characters from byte-fallback
 *    tokens, invalid bytes, special tokens kept or skipped.
 * 2. No allocation in the token loop: the engine thread runs on the tiny
 *    Gemma 4 fixture model (tests/fixtures/server/gemma4) and the calls to
 *    malloc/calloc/realloc made off the main thread are counted (this file
 *    wraps them; glibc only, skipped under AddressSanitizer, which owns
 *    malloc). The same request with 8 and with 72 tokens must allocate
 *    exactly as often: nothing grows with the number of tokens.
 * 3. Prefill mixed into the decode steps: while A decodes, B's 300-token
 *    prompt goes in 16-row chunks, each sharing a step with A's next token
 *    (19 steps, all mixed; alone it takes 2 steps of 256 and 44 rows), and
 *    A and B (greedy) write what they write alone. */
#include "api/model_impl.h"
#include "server/detok.h"
#include "server/engine_loop.h"
#include "test.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- counting malloc ------------------------------------------------------ */

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_MALLOC_WRAP 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
#define NO_MALLOC_WRAP 1
#endif

static atomic_long n_allocs;   /* off-main-thread allocations */
static _Thread_local bool on_main;

#ifndef NO_MALLOC_WRAP
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
void *malloc(size_t n) {
    if (!on_main) atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    if (!on_main) atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    if (!on_main) atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
    return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
#endif

/* ---- 1: detokenizer ----------------------------------------------------------- */

static g4_model *load(const char *path, bool tokenizer_only) {
    g4_model *m = NULL;
    g4_error err;
    g4_model_params mp = {.tokenizer_only = tokenizer_only};
    CHECKF(g4_model_load(&path, 1, &mp, &m, &err) == G4_OK, "%s: %s", path, err.message);
    return m;
}

/* Incremental text of ids[0..n) (flushed at the end). */
static size_t incremental(const g4_model *m, const int32_t *ids, size_t n, bool keep, char *out) {
    struct g4_detok d;
    g4_detok_init(&d, m->tok, keep);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) o += g4_detok_add(&d, ids[i], out + o);
    return o + g4_detok_flush(&d, out + o);
}

static void check_same(const g4_model *m, const int32_t *ids, size_t n, bool keep, const char *what) {
    char *ref = NULL, *got = malloc(n * g4_detok_max_add(m->tok) + 1);
    size_t rl = 0;
    g4_error err;
    CHECK(got && g4_detokenize(m, ids, n, !keep, &ref, &rl, &err) == G4_OK);
    if (!got || !ref) goto out;
    size_t gl = incremental(m, ids, n, keep, got);
    CHECKF(gl == rl && !memcmp(got, ref, rl), "%s: '%.*s' vs reference '%.*s'", what, (int)gl, got, (int)rl, ref);
out:
    free(ref);
    free(got);
}

static void test_detok(void) {
    const char *p = test_gemma3_gguf();
    CHECKF(p, "the Gemma 3 270M GGUF is missing (scripts/setup.sh)");
    if (!p) return;
    g4_model *m = load(p, true);
    if (!m) return;
    const char *texts[] = {"Hello, world! How are you?", "  leading spaces\tand tabs\n\nnew lines",
                           "Café, naïve, 日本語, emoji 😀🚀 and ∑ math", "<start_of_turn>user\nhi<end_of_turn>\n",
                           "code: for (int i = 0; i < n; i++) { x[i] = \"q\"; }"};
    for (size_t i = 0; i < G4_ARRAY_LEN(texts); i++) {
        int32_t ids[256];
        size_t n = 0;
        g4_error err;
        CHECK(g4_tokenize(m, texts[i], strlen(texts[i]), G4_TOK_PARSE_SPECIAL, ids, 256, &n, &err) == G4_OK);
        check_same(m, ids, n, false, texts[i]);
        check_same(m, ids, n, true, texts[i]);
    }
    /* byte-fallback tokens: "日" = E6 97 A5 appears only once complete; an
     * invalid byte is U+FFFD, as in the reference */
    int32_t b[6];
    const char *pieces[] = {"<0xE6>", "<0x97>", "<0xA5>", "<0xFF>", "<0xC3>", "<0xA9>"};
    for (int i = 0; i < 6; i++) {
        b[i] = g4_tokenizer_find(m->tok, pieces[i], 6);
        CHECKF(b[i] >= 0, "%s not in the vocabulary", pieces[i]);
    }
    if (b[0] >= 0 && b[3] >= 0) {
        struct g4_detok d;
        char out[256];
        g4_detok_init(&d, m->tok, false);
        CHECK(g4_detok_add(&d, b[0], out) == 0 && g4_detok_add(&d, b[1], out) == 0);
        CHECK(g4_detok_add(&d, b[2], out) == 3 && !memcmp(out, "日", 3));
        check_same(m, b, 3, false, "E6 97 A5");
        check_same(m, b + 3, 1, false, "FF");
        check_same(m, b + 4, 2, false, "C3 A9");
        int32_t mix[] = {b[4], b[5], b[3]}; /* é then FF: é is out before FF arrives */
        size_t n = incremental(m, mix, 3, false, out);
        CHECK(n == 5 && !memcmp(out, "é\xEF\xBF\xBD", 5));
        int32_t cut[] = {b[0], b[1]}; /* cut inside a character: one U+FFFD per byte at the end */
        check_same(m, cut, 2, false, "E6 97 (cut)");
    }
    g4_model_free(m);
}

/* ---- 2: no allocation per token ------------------------------------------------- */

static long run_one(struct g4_gen_queue *q, const struct g4_engine_thread *et, int64_t max_tokens, char *text,
                    size_t *text_len) {
    int32_t *prompt = malloc(6 * sizeof *prompt);
    for (int i = 0; i < 6; i++) prompt[i] = 2 + 37 * i; /* <bos> then arbitrary ids */
    struct g4_gen_req *r = g4_gen_req_new(prompt, 6);
    if (!r) return -1;
    r->sp.temperature = 0; /* greedy: the same tokens every run */
    r->sp.suppress_tokens = et->stop_ids; /* no early end */
    r->sp.n_suppress = et->n_stop_ids;
    r->max_tokens = max_tokens;
    r->keep_special = true;
    long before = atomic_load(&n_allocs);
    CHECK(g4_gen_queue_push(q, r));
    *text_len = 0;
    for (;;) {
        char *t = NULL;
        size_t n = 0;
        bool done = g4_gen_req_wait(r, 1000, &t, &n);
        if (t && *text_len + n < 4096) memcpy(text + *text_len, t, n), *text_len += n;
        free(t);
        if (done) break;
    }
    while (g4_gen_queue_busy(q)) usleep(1000); /* the engine has ended the slot */
    long used = atomic_load(&n_allocs) - before;
    CHECKF(r->finish == G4_FINISH_LENGTH && r->n_generated == max_tokens, "finish %d, %lld tokens", (int)r->finish,
           (long long)r->n_generated);
    g4_gen_req_release(r);
    return used;
}

static void test_no_alloc_per_token(void) {
    g4_model *m = load("tests/fixtures/server/gemma4", false);
    if (!m) return;
    struct g4_gen_queue q;
    g4_gen_queue_init(&q, 4);
    struct g4_metrics met;
    memset(&met, 0, sizeof met);
    struct g4_engine_thread *et = calloc(1, sizeof *et);
    g4_error err;
    CHECKF(g4_engine_thread_start(et, m, 512, 1, 2, 0, &q, &met, NULL, &err) == G4_OK, "%s", err.message);
    char a[4096], b[4096];
    size_t na = 0, nb = 0;
    run_one(&q, et, 8, a, &na); /* warm-up: first use of the slot, the pool, the prefix cache */
    long short_run = run_one(&q, et, 8, a, &na);
    long long_run = run_one(&q, et, 72, b, &nb);
#ifndef NO_MALLOC_WRAP
    CHECKF(long_run == short_run, "72 tokens made %ld allocations, 8 tokens %ld: the token loop allocates", long_run,
           short_run);
#else
    (void)short_run, (void)long_run;
#endif
    if (getenv("G4_TEST_VERBOSE")) fprintf(stderr, "allocs: 8 tokens %ld, 72 tokens %ld\n", short_run, long_run);
    /* greedy, same prompt: the short text is a prefix of the long one */
    CHECKF(na > 0 && nb >= na && !memcmp(a, b, na), "'%.*s' vs '%.*s'", (int)na, a, (int)nb, b);
    g4_gen_queue_stop(&q);
    g4_engine_thread_join(et);
    free(et);
    g4_gen_queue_destroy(&q);
    g4_model_free(m);
}

/* ---- 3: mixed prefill ----------------------------------------------------------- */

static struct g4_gen_req *make_req(const struct g4_engine_thread *et, int first, size_t n, int64_t max_tokens) {
    int32_t *prompt = malloc(n * sizeof *prompt);
    prompt[0] = 2;
    for (size_t i = 1; i < n; i++) prompt[i] = (int32_t)(first + 13 * i) % 5000 + 300;
    struct g4_gen_req *r = g4_gen_req_new(prompt, n);
    r->sp.temperature = 0;
    r->sp.suppress_tokens = et->stop_ids;
    r->sp.n_suppress = et->n_stop_ids;
    r->max_tokens = max_tokens;
    r->keep_special = true;
    return r;
}

/* Waits for r's end, collecting its text into out (cap 65536). */
static size_t drain(struct g4_gen_req *r, char *out) {
    size_t len = 0;
    for (;;) {
        char *t = NULL;
        size_t n = 0;
        bool done = g4_gen_req_wait(r, 1000, &t, &n);
        if (t && len + n <= 65536) memcpy(out + len, t, n), len += n;
        free(t);
        if (done) return len;
    }
}

struct engine_fixture {
    g4_model *m;
    struct g4_gen_queue q;
    struct g4_metrics met;
    struct g4_engine_thread et;
};

static bool fixture_start(struct engine_fixture *f, g4_model *m) {
    memset(f, 0, sizeof *f);
    f->m = m;
    g4_gen_queue_init(&f->q, 4);
    g4_error err;
    bool ok = g4_engine_thread_start(&f->et, m, 1024, 1, 2, 16, &f->q, &f->met, NULL, &err) == G4_OK;
    CHECKF(ok, "%s", err.message);
    return ok;
}

static void fixture_stop(struct engine_fixture *f) {
    g4_gen_queue_stop(&f->q);
    g4_engine_thread_join(&f->et);
    g4_gen_queue_destroy(&f->q);
}

static void test_mixed_prefill(void) {
    g4_model *m = load("tests/fixtures/server/gemma4", false);
    if (!m) return;
    static char a_alone[65536], b_alone[65536], a_mixed[65536], b_mixed[65536];
    size_t na = 0, nb = 0, na2 = 0, nb2 = 0;
    struct engine_fixture *f = malloc(sizeof *f);
    /* each alone */
    if (fixture_start(f, m)) {
        struct g4_gen_req *a = make_req(&f->et, 1, 8, 600), *b = make_req(&f->et, 7, 300, 8);
        CHECK(g4_gen_queue_push(&f->q, a));
        na = drain(a, a_alone);
        CHECK(g4_gen_queue_push(&f->q, b));
        nb = drain(b, b_alone);
        CHECKF(b->n_prefill_steps == 2 && b->n_prefill_mixed == 0, "alone: %lld steps, %lld mixed",
               (long long)b->n_prefill_steps, (long long)b->n_prefill_mixed); /* 256 + 44 rows */
        g4_gen_req_release(a), g4_gen_req_release(b); /* the engine dropped its own reference */
        fixture_stop(f);
    }
    /* B arrives while A decodes */
    if (fixture_start(f, m)) {
        /* A's budget is long, so that it still decodes however late B comes;
         * A is cancelled once B is done */
        struct g4_gen_req *a = make_req(&f->et, 1, 8, 600), *b = make_req(&f->et, 7, 300, 8);
        CHECK(g4_gen_queue_push(&f->q, a));
        for (;;) { /* A is decoding */
            pthread_mutex_lock(&a->mu);
            bool going = a->n_generated >= 2;
            pthread_mutex_unlock(&a->mu);
            if (going) break;
            usleep(200);
        }
        CHECK(g4_gen_queue_push(&f->q, b));
        nb2 = drain(b, b_mixed);
        atomic_store(&a->cancel, true);
        na2 = drain(a, a_mixed);
        CHECKF(b->n_prefill_steps == 19 && b->n_prefill_mixed == 19, "mixed: %lld steps, %lld mixed (want 19, 19)",
               (long long)b->n_prefill_steps, (long long)b->n_prefill_mixed);
        CHECKF(a->n_generated > 21 && b->n_generated == 8, "%lld / %lld tokens", (long long)a->n_generated,
               (long long)b->n_generated);
        g4_gen_req_release(a), g4_gen_req_release(b); /* the engine dropped its own reference */
        fixture_stop(f);
    }
    /* A's text with B's prompt in its steps is a prefix of A's text alone (A was cancelled) */
    CHECKF(na2 && na >= na2 && !memcmp(a_alone, a_mixed, na2), "A alone '%.*s'\nA mixed '%.*s'", (int)na, a_alone,
           (int)na2, a_mixed);
    CHECKF(nb && nb == nb2 && !memcmp(b_alone, b_mixed, nb), "B alone '%.*s'\nB mixed '%.*s'", (int)nb, b_alone,
           (int)nb2, b_mixed);
    free(f);
    g4_model_free(m);
}

int main(void) {
    on_main = true;
    RUN(test_detok);
    RUN(test_no_alloc_per_token);
    RUN(test_mixed_prefill);
    return test_done();
}
