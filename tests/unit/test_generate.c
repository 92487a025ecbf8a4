/* test_generate.c — the public generation API (g4_sampler_new, g4_generate)
 * on the real Gemma 3 270M GGUF: max_tokens, stop ids, stop strings that
 * span a token boundary (text cut exactly before them), cancellation from
 * the callback, the end of the context, a prompt longer than the context,
 * same seed same tokens, generation-config defaults and stop ids, and the
 * streaming contract: every chunk is valid UTF-8 and the concatenated
 * stream equals g4_detokenize(generated ids, skip_special), also when byte
 * tokens are forced (a run of invalid bytes comes out as U+FFFD each).
 * Greedy runs are short (<= 10 tokens, n_ctx 64) to stay fast under ASan. */
#include "test.h"

#include "g4.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static g4_model *model;

struct rec {
    int32_t ids[64];
    int n_ids;
    char text[4096];
    size_t n_text;
    int chunks_bad_utf8;
    int cancel_at; /* return 1 after this many tokens (0 = never) */
};

static int valid_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!k || i + k > n) return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80) return 0;
        i += k;
    }
    return 1;
}

static int on_tok(int32_t t, const char *text, size_t len, void *user) {
    struct rec *r = user;
    if (t >= 0 && r->n_ids < 64) r->ids[r->n_ids++] = t;
    if (!valid_utf8((const unsigned char *)text, len)) r->chunks_bad_utf8++;
    if (len && r->n_text + len < sizeof r->text) {
        memcpy(r->text + r->n_text, text, len);
        r->n_text += len;
        r->text[r->n_text] = 0;
    }
    return r->cancel_at && r->n_ids >= r->cancel_at;
}

/* Prompt ids of `text` after <bos>. */
static size_t prompt_ids(const char *text, int32_t *ids, size_t cap) {
    size_t n = 0;
    g4_error err;
    CHECKF(g4_tokenize(model, text, strlen(text), G4_TOK_ADD_BOS, ids, cap, &n, &err) == G4_OK, "%s", err.message);
    return n;
}

/* One generation on a fresh context of n_ctx positions. */
static g4_status gen(const char *prompt, const g4_sampling_params *sp, g4_generate_params gp, int64_t n_ctx,
                     struct rec *r, g4_generate_stats *st, g4_error *err) {
    int32_t ids[64];
    size_t n = prompt_ids(prompt, ids, 64);
    g4_context *ctx = NULL;
    g4_sampler *s = NULL;
    g4_context_params cp = {.n_ctx = n_ctx, .n_threads = 2};
    g4_status rc = g4_context_new(model, &cp, &ctx, err);
    if (rc == G4_OK) rc = g4_sampler_new(model, sp, &s, err);
    gp.on_token = on_tok;
    gp.user = r;
    if (rc == G4_OK) rc = g4_generate(model, ctx, s, ids, n, &gp, st, err);
    if (rc == G4_OK && st->reason != G4_STOP_TOKEN && st->reason != G4_STOP_CONTEXT)
        CHECKF(g4_context_pos(ctx) == (int64_t)n + st->n_gen - 1, "pos %lld", (long long)g4_context_pos(ctx));
    g4_sampler_free(s);
    g4_context_free(ctx);
    return rc;
}

static g4_sampling_params greedy(void) {
    g4_sampling_params sp;
    g4_model_default_sampling(model, &sp);
    sp.temperature = 0;
    return sp;
}

static void check_stream(const struct rec *r) {
    CHECK(r->chunks_bad_utf8 == 0);
    char *dec = NULL;
    size_t dl = 0;
    g4_error err;
    CHECKF(g4_detokenize(model, r->ids, (size_t)r->n_ids, 1, &dec, &dl, &err) == G4_OK, "%s", err.message);
    CHECKF(dec && dl == r->n_text && !memcmp(dec, r->text, dl), "stream '%s' vs detokenize '%s'", r->text,
           dec ? dec : "");
    free(dec);
}

static const char *P = "The capital of France is";

static void test_defaults(void) {
    g4_sampling_params sp;
    g4_model_default_sampling(model, &sp);
    CHECK(sp.temperature == 1.0f && sp.top_k == 64 && fabsf(sp.top_p - 0.95f) < 1e-6f);
    CHECK(sp.repeat_penalty == 1.0f && sp.min_p <= 0 && sp.presence_penalty == 0);
    int32_t stop[8];
    int n = g4_model_stop_ids(model, stop, 8);
    int has1 = 0, has106 = 0;
    for (int i = 0; i < n && i < 8; i++) has1 |= stop[i] == 1, has106 |= stop[i] == 106;
    CHECKF(has1 && has106, "stop ids: %d", n);
    CHECK(g4_model_context_length(model) == 32768);
}

static void test_max_tokens(void) {
    struct rec r = {0};
    g4_generate_stats st;
    g4_error err;
    g4_sampling_params sp = greedy();
    g4_generate_params gp = {.max_tokens = 8};
    CHECKF(gen(P, &sp, gp, 64, &r, &st, &err) == G4_OK, "%s", err.message);
    CHECK(st.reason == G4_STOP_MAX_TOKENS && st.n_gen == 8 && r.n_ids == 8);
    CHECK(st.n_prompt == 6 && st.ttft_ms > 0 && st.prompt_tps > 0 && st.gen_tps > 0);
    CHECK(r.n_text > 0);
    check_stream(&r);
}

static void test_stop_id_and_cancel(void) {
    struct rec r0 = {0}, r = {0}, rc = {0};
    g4_generate_stats st;
    g4_error err;
    g4_sampling_params sp = greedy();
    g4_generate_params gp = {.max_tokens = 6};
    CHECK(gen(P, &sp, gp, 64, &r0, &st, &err) == G4_OK);
    /* stop at the 4th greedy token (if it did not occur before) */
    int32_t stop = r0.ids[3];
    int first = 0;
    while (r0.ids[first] != stop) first++;
    gp.stop_ids = &stop;
    gp.n_stop_ids = 1;
    CHECKF(gen(P, &sp, gp, 64, &r, &st, &err) == G4_OK, "%s", err.message);
    CHECK(st.reason == G4_STOP_TOKEN && st.n_gen == first && r.n_ids == first);
    check_stream(&r);
    /* cancel from the callback after 3 tokens */
    g4_generate_params gc = {.max_tokens = 6};
    rc.cancel_at = 3;
    CHECKF(gen(P, &sp, gc, 64, &rc, &st, &err) == G4_OK, "%s", err.message);
    CHECK(st.reason == G4_STOP_CANCELLED && st.n_gen == 3 && rc.n_ids == 3);
    CHECK(!memcmp(rc.ids, r0.ids, 3 * sizeof(int32_t)));
}

static void test_stop_string_spanning_tokens(void) {
    struct rec r0 = {0};
    g4_generate_stats st;
    g4_error err;
    g4_sampling_params sp = greedy();
    g4_generate_params gp = {.max_tokens = 8};
    CHECK(gen(P, &sp, gp, 64, &r0, &st, &err) == G4_OK);
    /* the end of token 2's text + the start of token 3's text */
    char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    CHECK(g4_detokenize(model, r0.ids, 3, 1, &a, &la, &err) == G4_OK);
    CHECK(g4_detokenize(model, r0.ids, 4, 1, &b, &lb, &err) == G4_OK);
    CHECKF(la >= 2 && lb >= la + 2, "texts '%s' '%s'", a ? a : "", b ? b : "");
    if (la >= 2 && lb >= la + 2) {
        char stop[5] = {a[la - 2], a[la - 1], b[la], b[la + 1], 0};
        const char *stops[2] = {"never-appears-xyz", stop};
        char *first = strstr(r0.text, stop);
        CHECK(first != NULL);
        struct rec r = {0};
        gp.stop_strings = stops;
        gp.n_stop_strings = 2;
        CHECKF(gen(P, &sp, gp, 64, &r, &st, &err) == G4_OK, "%s", err.message);
        CHECK(st.reason == G4_STOP_STRING);
        CHECKF(first && r.n_text == (size_t)(first - r0.text) && !memcmp(r.text, r0.text, r.n_text),
               "stop '%s': got '%s' from '%s'", stop, r.text, r0.text);
        CHECK(r.chunks_bad_utf8 == 0);
    }
    free(a);
    free(b);
}

static void test_context_end_and_too_long(void) {
    struct rec r = {0};
    g4_generate_stats st;
    g4_error err;
    g4_sampling_params sp = greedy();
    g4_generate_params gp = {0};
    /* 6 prompt tokens in 10 positions: tokens 1..4 are evaluated, the 5th
     * is sampled from the last logits but cannot be evaluated */
    CHECKF(gen(P, &sp, gp, 10, &r, &st, &err) == G4_OK, "%s", err.message);
    CHECKF(st.reason == G4_STOP_CONTEXT && st.n_gen == 5, "reason %d n_gen %lld", st.reason, (long long)st.n_gen);
    check_stream(&r);
    struct rec r2 = {0};
    CHECK(gen(P, &sp, gp, 4, &r2, &st, &err) == G4_ERR_RANGE);
    CHECK(r2.n_ids == 0 && st.n_gen == 0);
}

static void test_seed(void) {
    g4_sampling_params sp;
    g4_model_default_sampling(model, &sp);
    sp.seed = 77;
    g4_generate_params gp = {.max_tokens = 6};
    struct rec a = {0}, b = {0};
    g4_generate_stats st;
    g4_error err;
    CHECK(gen("Once upon a time", &sp, gp, 64, &a, &st, &err) == G4_OK);
    CHECK(gen("Once upon a time", &sp, gp, 64, &b, &st, &err) == G4_OK);
    CHECK(a.n_ids == 6 && b.n_ids == 6 && !memcmp(a.ids, b.ids, sizeof a.ids));
    check_stream(&a);
}

/* Byte-fallback tokens forced by logit bias: the stream holds the run and
 * ends it as U+FFFD per byte (the run is not valid UTF-8), as detokenize. */
static void test_byte_tokens(void) {
    int32_t ids[16];
    size_t n = 0;
    g4_error err;
    const char *pua = "\xF4\x8F\xBF\xBD"; /* U+10FFFD: not in the vocabulary, byte fallback */
    CHECK(g4_tokenize(model, pua, 4, 0, ids, 16, &n, &err) == G4_OK);
    CHECKF(n == 4, "U+10FFFD gives %zu tokens", n);
    if (n != 4) return;
    g4_token_bias bias[1] = {{ids[0], 100.0f}}; /* 0xF4, again and again */
    g4_sampling_params sp = greedy();
    sp.logit_bias = bias;
    sp.n_logit_bias = 1;
    struct rec r = {0};
    g4_generate_stats st;
    g4_generate_params gp = {.max_tokens = 3};
    CHECKF(gen(P, &sp, gp, 64, &r, &st, &err) == G4_OK, "%s", err.message);
    CHECK(r.n_ids == 3 && r.ids[0] == ids[0]);
    CHECKF(!strcmp(r.text, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"), "text '%s'", r.text);
    check_stream(&r);
}

static void test_bad_args(void) {
    g4_sampling_params sp = greedy();
    g4_sampler *s = NULL;
    g4_error err;
    g4_token_bias b = {1 << 30, 1.0f};
    sp.logit_bias = &b;
    sp.n_logit_bias = 1;
    CHECK(g4_sampler_new(model, &sp, &s, &err) == G4_ERR_INVALID_ARG && !s);
    sp = greedy();
    sp.top_p = -1;
    g4_status st = g4_sampler_new(model, &sp, &s, &err);
    CHECK(st == G4_ERR_INVALID_ARG || st == G4_OK);
    g4_sampler_free(s);
    g4_generate_params gp = {0};
    CHECK(g4_generate(model, NULL, NULL, NULL, 0, &gp, NULL, &err) == G4_ERR_INVALID_ARG);
}

int main(void) {
    const char *path = test_gemma3_gguf();
    g4_error err;
    if (!path || g4_model_load(&path, 1, NULL, &model, &err) != G4_OK) {
        fprintf(stderr, "FAIL test_generate: the Gemma 3 270M GGUF is needed (scripts/setup.sh)\n");
        printf("FAIL load_model\n");
        return 1;
    }
    RUN(test_defaults);
    RUN(test_max_tokens);
    RUN(test_stop_id_and_cancel);
    RUN(test_stop_string_spanning_tokens);
    RUN(test_context_end_and_too_long);
    RUN(test_seed);
    RUN(test_byte_tokens);
    RUN(test_bad_args);
    g4_model_free(model);
    return test_done();
}
