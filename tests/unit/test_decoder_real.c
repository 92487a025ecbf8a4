/* test_decoder_real.c — the decoder on the real Gemma 3 270M Q4_K_M GGUF
 * against llama.cpp's outputs on the same file (tests/fixtures/llamacpp/,
 * written by scripts/gen_llamacpp_reference.py, described in
 * docs/fixtures.md part B).
 * Both llama.cpp and our kernel table quantize activations to 8 bits inside
 * the quantized matmuls. On this small, sharp model a single activation that
 * rounds to the other int8 step (an ulp of difference in a float sum is
 * enough) moves logits by ~0.5, so top-1 agreement with llama.cpp is bounded
 * by noise, not by correctness. Measured (docs/spec-notes.md item 12):
 * llama.cpp with flash attention on vs the fixtures (flash attention off)
 * agrees on 93.84% of teacher-forced top-1s and its greedy runs part at
 * top-2 gaps of 0.01-0.15; g4 with its reference kernels vs g4 with AVX2
 * (same integer products, other float summation order) agrees on 95.8%.
 * tests/fixtures/llamacpp/self_agreement.json (scripts/gen_llamacpp_selfcheck.py)
 * holds llama.cpp's self-agreement, and the thresholds come from it:
 *   - teacher-forced top-1 over the first 1024 positions agrees at least as
 *     often as llama.cpp agrees with itself, minus 2.5 points (the binomial
 *     standard deviation of a ~6% disagreement rate over 1024 positions is
 *     0.74 points: 3.4 sigma, so a kernel change that only reorders float
 *     sums does not fail it by chance), and never where llama.cpp's top-2 gap is
 *     >= NEAR_TIE (1.0: llama.cpp's own disagreements reach gaps of 0.45);
 *   - perplexity computed the llama-perplexity way (512-token windows, BOS
 *     first, second half scored) within 1% of llama.cpp's, on the first
 *     window (ppl_running of chunk 0) to keep the test short;
 *   - greedy continuations of 5 prompts (first 32 steps) identical up to a
 *     divergence at a near-tie, and in total at least 3/4 as many steps
 *     equal as llama.cpp keeps equal with itself (flash attention on vs off:
 *     90 of 153; g4 keeps 96-116 depending on the kernel table).
 * And the exact path (f32_activations = 1) against HF transformers run on
 * the dequantized GGUF weights (tests/fixtures/hf_dequant/, written by
 * scripts/gen_hf_dequant_reference.py): top-1 equal at all 256 positions and
 * the probed top-16 logits within suggested_atol = max(1e-3, 10 x HF's own
 * f32-vs-f64 spread), as for the tiny fixture models.
 * The model comes from test_gemma3_gguf() (setup.sh puts it in the cache; CI
 * has it): a missing model is a failure, not a silent skip.
 * G4_TEST_VERBOSE=1 prints the numbers. */
#include "test.h"

#include "g4.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Fixture directory; G4_FIXTURE_LLAMACPP overrides it. */
static const char *fix_path(const char *file) {
    static char buf[512];
    const char *e = getenv("G4_FIXTURE_LLAMACPP");
    snprintf(buf, sizeof buf, "%s/%s", e && *e ? e : "tests/fixtures/llamacpp", file);
    return buf;
}
#define NEAR_TIE 1.0
#define N_TEACHER 1024
#define N_GREEDY 32

static int verbose(void) {
    const char *v = getenv("G4_TEST_VERBOSE");
    return v && *v && *v != '0';
}

static json_t *load_json(const char *path) {
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    CHECKF(j != NULL, "%s: %s", path, je.text);
    return j;
}

static int32_t *json_ids(json_t *a, size_t *n) {
    *n = json_array_size(a);
    int32_t *ids = malloc((*n ? *n : 1) * sizeof *ids);
    for (size_t i = 0; i < *n; i++) ids[i] = (int32_t)json_integer_value(json_array_get(a, i));
    return ids;
}

static g4_model *load_model(void) {
    const char *path = test_gemma3_gguf();
    CHECKF(path != NULL, "the Gemma 3 270M GGUF is missing (scripts/setup.sh fetches it)");
    if (!path) return NULL;
    g4_model *m = NULL;
    g4_error err;
    const char *paths[1] = {path};
    CHECKF(g4_model_load(paths, 1, NULL, &m, &err) == G4_OK, "load: %s", err.message);
    return m;
}

static g4_context *new_ctx(g4_model *m, int64_t n_ctx) {
    g4_context_params p = {.n_ctx = n_ctx, .n_batch = 256, .n_threads = 0};
    g4_context *c = NULL;
    g4_error err;
    CHECKF(g4_context_new(m, &p, &c, &err) == G4_OK, "context: %s", err.message);
    return c;
}

/* llama.cpp's agreement with itself (flash attention on vs off). */
static json_t *self_agreement(void) { return load_json(fix_path("self_agreement.json")); }

static long atol_pos(const char *s) { return strtol(s, NULL, 10); }

static int argmax(const float *l, int V) {
    int b = 0;
    for (int v = 1; v < V; v++)
        if (l[v] > l[b]) b = v;
    return b;
}

static double logprob(const float *l, int V, int id) {
    float mx = l[0];
    for (int v = 1; v < V; v++) mx = l[v] > mx ? l[v] : mx;
    double s = 0;
    for (int v = 0; v < V; v++) s += exp((double)l[v] - mx);
    return (double)l[id] - mx - log(s);
}

/* Teacher forcing over the whole text, in chunks of 256 rows. */
static void test_teacher_forced(void) {
    json_t *tj = load_json(fix_path("tokens.json")), *te = load_json(fix_path("teacher.json"));
    g4_model *m = load_model();
    if (!tj || !te || !m) goto out;
    size_t n, nt;
    int32_t *ids = json_ids(json_object_get(tj, "ids"), &n);
    int32_t *top1 = json_ids(json_object_get(te, "top1"), &nt);
    json_t *gaps = json_object_get(te, "top2_gap");
    CHECK(n == nt && n >= N_TEACHER);
    if (n > N_TEACHER) n = N_TEACHER;
    g4_context *c = new_ctx(m, (int64_t)n);
    if (c) {
        int V = g4_context_n_vocab(c);
        enum { CH = 256 };
        float *lg = malloc((size_t)CH * V * 4);
        size_t agree = 0, bad = 0;
        double nll = 0;
        g4_error err;
        for (size_t i = 0; i < n; i += CH) {
            size_t k = i + CH <= n ? CH : n - i;
            if (g4_context_eval(c, ids + i, k, lg, 1, &err) != G4_OK) {
                CHECKF(0, "eval: %s", err.message);
                break;
            }
            for (size_t r = 0; r < k; r++) {
                size_t t = i + r;
                int a = argmax(lg + r * V, V);
                if (a == top1[t]) {
                    agree++;
                } else if (json_real_value(json_array_get(gaps, t)) >= NEAR_TIE) {
                    bad++;
                    CHECKF(bad > 5, "position %zu: top-1 %d, llama.cpp %d (gap %g)", t, a, top1[t],
                           json_real_value(json_array_get(gaps, t)));
                }
                if (t + 1 < n) nll -= logprob(lg + r * V, V, ids[t + 1]);
            }
        }
        /* llama.cpp's mean NLL over the same positions */
        double ref_nll = 0;
        for (size_t t = 0; t + 1 < n; t++) ref_nll -= json_real_value(json_array_get(json_object_get(te, "logprob_next"), t));
        double ppl = exp(nll / (double)(n - 1)), ref = exp(ref_nll / (double)(n - 1));
        if (verbose())
            printf("  teacher-forced: top-1 %zu/%zu (%.2f%%), %zu off a near-tie; ppl %.4f vs llama.cpp %.4f\n", agree, n,
                   100.0 * agree / n, bad, ppl, ref);
        json_t *sa = self_agreement();
        double floor_ = json_real_value(json_object_get(json_object_get(sa, "teacher"), "top1_agree_first_1024"));
        CHECK(floor_ > 0.5);
        if (verbose()) printf("  llama.cpp vs itself (flash attention on/off): %.2f%%\n", 100 * floor_);
        CHECKF(agree >= (floor_ - 0.025) * n, "top-1 agreement %zu/%zu, llama.cpp vs itself %.2f%%", agree, n,
               100 * floor_);
        json_decref(sa);
        CHECKF(bad == 0, "%zu disagreements away from near-ties", bad);
        CHECKF(fabs(ppl / ref - 1) <= 0.01, "ppl %g vs llama.cpp %g", ppl, ref);
        free(lg);
        g4_context_free(c);
    }
    free(ids), free(top1);
out:
    g4_model_free(m);
    json_decref(tj), json_decref(te);
}

/* llama-perplexity: windows of n_ctx tokens, BOS first, second half scored. */
static void test_perplexity(void) {
    json_t *tj = load_json(fix_path("tokens.json")), *pj = load_json(fix_path("perplexity.json"));
    g4_model *m = load_model();
    if (!tj || !pj || !m) goto out;
    size_t n;
    int32_t *ids = json_ids(json_object_get(tj, "ids"), &n);
    int W = (int)json_integer_value(json_object_get(pj, "n_ctx"));
    int n_chunk = (int)json_integer_value(json_object_get(pj, "n_chunk"));
    if (n_chunk > 1) n_chunk = 1;
    CHECK(W > 2 && n_chunk > 0 && (size_t)n_chunk * W <= n);
    g4_context *c = new_ctx(m, W);
    if (c && W > 2) {
        int V = g4_context_n_vocab(c), first = W / 2;
        float *lg = malloc((size_t)(W - first) * V * 4);
        int32_t *win = malloc((size_t)W * 4);
        double nll = 0;
        size_t scored = 0;
        g4_error err;
        for (int ch = 0; ch < n_chunk; ch++) {
            memcpy(win, ids + (size_t)ch * W, (size_t)W * 4);
            win[0] = 2; /* BOS */
            CHECK(g4_context_truncate(c, 0, &err) == G4_OK);
            g4_eval_input in = {.tokens = win, .n = (size_t)W, .logits_from = (size_t)first, .logits = lg};
            if (g4_context_eval_ex(c, &in, &err) != G4_OK) {
                CHECKF(0, "eval: %s", err.message);
                break;
            }
            for (int j = first; j < W - 1; j++, scored++) nll -= logprob(lg + (size_t)(j - first) * V, V, win[j + 1]);
        }
        double ppl = exp(nll / (double)scored);
        json_t *ch = json_array_get(json_object_get(pj, "chunks"), (size_t)n_chunk - 1);
        double ref = json_real_value(json_object_get(ch, "ppl_running"));
        if (verbose()) printf("  perplexity (%d x %d): %.4f vs llama.cpp %.4f\n", n_chunk, W, ppl, ref);
        CHECKF(fabs(ppl / ref - 1) <= 0.01, "ppl %g vs llama.cpp %g", ppl, ref);
        free(lg), free(win);
    }
    g4_context_free(c);
    free(ids);
out:
    g4_model_free(m);
    json_decref(tj), json_decref(pj);
}

static void test_greedy(void) {
    json_t *gj = load_json(fix_path("greedy.json"));
    g4_model *m = load_model();
    if (!gj || !m) goto out;
    json_t *runs = json_object_get(gj, "runs");
    size_t ne;
    int32_t *eog = json_ids(json_object_get(gj, "eog_ids"), &ne);
    g4_context *c = new_ctx(m, 512);
    if (c) {
        int V = g4_context_n_vocab(c);
        float *lg = malloc((size_t)V * 4);
        size_t ri;
        json_t *run;
        size_t total_equal = 0, self_equal = 0;
        json_t *sa = self_agreement();
        json_array_foreach(runs, ri, run) {
            size_t np, nt;
            int32_t *prompt = json_ids(json_object_get(run, "prompt_ids"), &np);
            int32_t *want = json_ids(json_object_get(run, "tokens"), &nt);
            if (nt > N_GREEDY) nt = N_GREEDY;
            json_t *gaps = json_object_get(run, "top2_gap");
            const char *name = json_string_value(json_object_get(run, "name"));
            g4_error err;
            CHECK(g4_context_truncate(c, 0, &err) == G4_OK);
            CHECK(g4_context_eval(c, prompt, np, lg, 0, &err) == G4_OK);
            size_t i = 0;
            for (; i < nt; i++) {
                int32_t t = argmax(lg, V);
                double gap = json_real_value(json_array_get(gaps, i));
                if (t != want[i] && gap < NEAR_TIE) break; /* diverged at a near-tie */
                CHECKF(t == want[i], "%s: step %zu: %d, llama.cpp %d (gap %g)", name, i, t, want[i], gap);
                if (t != want[i]) break;
                int stop = 0;
                for (size_t k = 0; k < ne; k++) stop |= t == eog[k];
                if (stop) {
                    i++;
                    break;
                }
                if (i + 1 == nt) continue;
                if (g4_context_eval(c, &t, 1, lg, 0, &err) != G4_OK) {
                    CHECKF(0, "eval: %s", err.message);
                    break;
                }
            }
            /* llama.cpp (flash attention on) kept the same tokens up to first_difference */
            json_t *sr = json_array_get(json_object_get(sa, "greedy"), ri);
            json_t *fd = json_object_get(sr, "first_difference");
            size_t se = json_is_integer(fd) ? (size_t)json_integer_value(fd) : nt;
            self_equal += se < nt ? se : nt;
            total_equal += i;
            if (verbose()) printf("  greedy %s: %zu/%zu tokens equal (llama.cpp vs itself: %zu)\n", name ? name : "?", i, nt, se < nt ? se : nt);
            free(prompt), free(want);
        }
        /* One flip at a near-tie ends a prompt's count (up to 26 steps at once), so only a gross
           shortfall says something: at least 3/4 of what llama.cpp keeps with itself. */
        CHECKF(self_equal > 0 && 4 * total_equal >= 3 * self_equal, "greedy: %zu steps equal, llama.cpp vs itself %zu",
               total_equal, self_equal);
        json_decref(sa);
        free(lg);
        g4_context_free(c);
    }
    free(eog);
out:
    g4_model_free(m);
    json_decref(gj);
}

static void test_hf_dequant_exact(void) {
    json_t *j = load_json("tests/fixtures/hf_dequant/gemma3_270m.json");
    g4_model *m = load_model();
    if (!j || !m) goto out;
    size_t n, n1;
    int32_t *ids = json_ids(json_object_get(j, "ids"), &n);
    int32_t *top1 = json_ids(json_object_get(j, "top1"), &n1);
    json_t *gaps = json_object_get(j, "top2_gap");
    double atol = json_real_value(json_object_get(j, "suggested_atol"));
    CHECK(n == n1 && n > 0 && atol > 0);
    g4_context_params p = {.n_ctx = (int64_t)n, .n_batch = 256, .f32_activations = 1};
    g4_context *c = NULL;
    g4_error err;
    CHECKF(g4_context_new(m, &p, &c, &err) == G4_OK, "context: %s", err.message);
    if (c) {
        int V = g4_context_n_vocab(c);
        float *lg = malloc(n * (size_t)V * 4);
        CHECKF(g4_context_eval(c, ids, n, lg, 1, &err) == G4_OK, "eval: %s", err.message);
        size_t agree = 0;
        for (size_t t = 0; t < n; t++) {
            int a = argmax(lg + t * V, V);
            agree += a == top1[t];
            CHECKF(a == top1[t] || json_real_value(json_array_get(gaps, t)) < atol, "position %zu: %d, HF %d", t, a,
                   top1[t]);
        }
        double worst = 0;
        const char *key;
        json_t *pr;
        json_object_foreach(json_object_get(j, "probes"), key, pr) {
            size_t t = (size_t)atol_pos(key), k;
            json_t *pid = json_object_get(pr, "ids"), *plg = json_object_get(pr, "logits");
            for (k = 0; k < json_array_size(pid) && t < n; k++) {
                double d = fabs(lg[t * V + json_integer_value(json_array_get(pid, k))] -
                                json_real_value(json_array_get(plg, k)));
                worst = d > worst ? d : worst;
            }
        }
        if (verbose()) printf("  exact path vs HF (dequantized weights): top-1 %zu/%zu, probed logits max |d| %.3g (tol %.3g)\n",
                              agree, n, worst, atol);
        CHECKF(worst <= atol, "probed logits differ by %g > %g", worst, atol);
        free(lg);
        g4_context_free(c);
    }
    free(ids), free(top1);
out:
    g4_model_free(m);
    json_decref(j);
}

int main(void) {
    RUN(test_hf_dequant_exact);
    /* The llama.cpp fixtures come from another branch (scripts/
     * gen_llamacpp_reference.py); until they are merged the comparisons
     * cannot run: say so loudly instead of failing the whole suite. */
    FILE *f = fopen(fix_path("teacher.json"), "rb");
    if (!f) {
        fprintf(stderr, "test_decoder_real: NOTE: %s is missing; llama.cpp comparisons not run\n",
                fix_path("teacher.json"));
        return test_done();
    }
    fclose(f);
    RUN(test_teacher_forced);
    RUN(test_perplexity);
    RUN(test_greedy);
    return test_done();
}
