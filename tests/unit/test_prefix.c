/* test_prefix.c — the prefix cache (runtime/prefix.h) on the tiny HF
 * fixture models gemma4_unified and gemma3_text (sliding window 16): with
 * n_batch 4 the sliding rings hold 20 positions, so after a 40-token prompt
 * a new prompt sharing only its first 30 tokens cannot truncate there
 * (keys 15..29 are overwritten); the cache restores the checkpoint at 24 and
 * re-evaluates from there, and every logit of the new prompt must equal a
 * full re-prefill in a fresh engine. Both runs use the same f32 kernels on
 * chunks of the same alignment; the tolerance is still the fixture's
 * suggested_atol_f32 (10-20x the HF f32-vs-f64 spread, see test_batch.c),
 * which a wrong restore (stale or missing keys) exceeds by orders of
 * magnitude. Without checkpoints the same seek must fall back to 0. */
#include "test.h"

#include "api/model_impl.h"
#include "model/weights.h"
#include "runtime/prefix.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { NCTX = 64, NB = 4, EVERY = 8 };

static void run_model(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/models/%s", name);
    const char *paths[1] = {path};
    g4_model *m = NULL;
    g4_error err;
    CHECKF(g4_model_load(paths, 1, NULL, &m, &err) == G4_OK, "%s: %s", name, err.message);
    if (!m) return;
    struct g4_dec dec;
    CHECK(g4_dec_bind(&dec, &m->cfg, &m->tensors, &err) == G4_OK);
    CHECK(dec.window == 16);
    snprintf(path, sizeof path, "tests/fixtures/models/%s/input_ids.json", name);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    int32_t ids[48];
    CHECK(j && json_array_size(j) >= 48);
    for (int i = 0; i < 48; i++) ids[i] = (int32_t)json_integer_value(json_array_get(j, (size_t)i));
    json_decref(j);
    snprintf(path, sizeof path, "tests/fixtures/models/%s/meta.json", name);
    j = json_load_file(path, 0, &je);
    double atol = json_real_value(json_object_get(j, "suggested_atol_f32"));
    json_decref(j);
    CHECK(atol > 0);
    int V = dec.n_vocab;

    /* second prompt: the first 30 ids, then 12 others */
    int32_t p2[42];
    memcpy(p2, ids, 30 * sizeof *ids);
    for (int i = 30; i < 42; i++) p2[i] = ids[(i * 7) % 48];
    p2[30] = ids[30] == ids[3] ? ids[4] : ids[3]; /* differs at 30 for sure */

    float *ref = malloc((size_t)42 * V * sizeof(float)), *got = malloc((size_t)42 * V * sizeof(float));
    struct g4_engine fresh;
    CHECK(g4_engine_init(&fresh, &dec, NCTX, NB, NULL, &err) == G4_OK);
    struct g4_engine_input in = {.tokens = p2, .n = 42};
    CHECK(g4_engine_eval(&fresh, &in, 0, ref, NULL, &err) == G4_OK);

    for (int with_ckpt = 1; with_ckpt >= 0; with_ckpt--) {
        struct g4_engine e;
        struct g4_prefix pc;
        CHECK(g4_engine_init(&e, &dec, NCTX, NB, NULL, &err) == G4_OK);
        CHECK(g4_prefix_init(&pc, &e, EVERY, with_ckpt ? 4 : 0, &err) == G4_OK);
        CHECK(pc.snap_floats > 0);
        float *lg = got;
        CHECK(g4_prefix_eval(&pc, &e, ids, 37, 1, lg, &err) == G4_OK);  /* checkpoints 8..32 (8 dropped) */
        CHECK(g4_prefix_eval(&pc, &e, ids + 37, 3, 1, lg, &err) == G4_OK);
        g4_prefix_checkpoint(&pc, &e); /* end of prompt: 40 (16 dropped) */
        CHECK(g4_engine_pos(&e) == 40);
        CHECK(g4_prefix_match(&pc, &e, p2, 42) == 30);
        CHECK(g4_engine_truncate(&e, 30, &err) == G4_ERR_RANGE); /* the rings lost keys 15..19 */
        int64_t k = g4_prefix_seek(&pc, &e, p2, 42, &err);
        CHECKF(k == (with_ckpt ? 24 : 0), "%s: seek kept %lld", name, (long long)k);
        CHECK(g4_engine_pos(&e) == k);
        if (with_ckpt) {
            CHECK(pc.restores == 1);
            CHECK(g4_engine_truncate(&e, 20, &err) == G4_ERR_RANGE); /* nothing older than the checkpoint */
        }
        struct g4_engine_input rest = {.tokens = p2 + k, .n = 42 - k};
        CHECK(g4_engine_eval(&e, &rest, 0, got, NULL, &err) == G4_OK);
        float worst = 0;
        for (size_t i = 0; i < (size_t)(42 - k) * V; i++)
            worst = fmaxf(worst, fabsf(got[i] - ref[(size_t)k * V + i]));
        CHECKF(worst <= atol, "%s (checkpoints %d): restored vs full prefill max |dlogit| %g > %g", name, with_ckpt,
               worst, atol);
        if (getenv("G4_TEST_VERBOSE"))
            printf("  %s: kept %lld, restored vs full prefill max |dlogit| %.3g\n", name, (long long)k, worst);
        /* a repeat of the same prompt reuses all but the last token */
        g4_prefix_checkpoint(&pc, &e);
        memcpy(pc.tokens + k, p2 + k, (size_t)(42 - k) * sizeof *p2);
        CHECK(g4_prefix_seek(&pc, &e, p2, 42, &err) == 41);
        g4_prefix_free(&pc);
        g4_engine_free(&e);
    }
    /* restore refuses a position beyond the cache */
    struct g4_kvcache kv;
    CHECK(g4_kvcache_init(&kv, &dec, NCTX, NB, &err) == G4_OK);
    CHECK(g4_kvcache_restore(&kv, 5, ref, &err) == G4_ERR_RANGE);
    g4_kvcache_free(&kv);
    g4_engine_free(&fresh);
    free(ref);
    free(got);
    g4_dec_free(&dec);
    g4_model_free(m);
}

static void test_prefix_gemma4_unified(void) { run_model("gemma4_unified"); }
static void test_prefix_gemma3_text(void) { run_model("gemma3_text"); }

int main(void) {
    RUN(test_prefix_gemma4_unified);
    RUN(test_prefix_gemma3_text);
    return test_done();
}
