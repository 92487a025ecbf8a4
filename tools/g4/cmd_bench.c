/* cmd_bench.c — `g4 bench`: prefill and decode speed of one model.
 * Each repetition starts from an empty context, evaluates P fixed
 * pseudo-random token ids in n_batch chunks (prefill; time to first token =
 * prefill + argmax of the last logits), then N tokens one at a time, each the
 * greedy argmax of the previous logits (decode). One short warm-up pass
 * (pages the weights in, spins the thread pool) is not counted. Reported:
 * mean and sample standard deviation over repetitions, peak RSS
 * (VmHWM), decode GB/s = tensor bytes x decode tokens/s (every weight is
 * read once per decoded token; Gemma's tied embedding is the output matrix),
 * and the machine's memory read bandwidth with the same thread count
 * (membw.c). With --json the last stdout line is one JSON object. */
#include "g4.h"

#include "args.h"
#include "default_model.h"
#include "membw.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct bench_opts {
    const char *model;
    int n_prompt, n_gen, reps, n_threads, n_batch, json, membw;
    int64_t n_ctx;
};

struct stat_acc {
    double v[64];
    int n;
};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static double mean_of(const struct stat_acc *a) {
    double s = 0;
    for (int i = 0; i < a->n; i++) s += a->v[i];
    return a->n ? s / a->n : 0;
}

static double std_of(const struct stat_acc *a) {
    if (a->n < 2) return 0;
    double m = mean_of(a), s = 0;
    for (int i = 0; i < a->n; i++) s += (a->v[i] - m) * (a->v[i] - m);
    return sqrt(s / (a->n - 1));
}

static int32_t argmax(const float *x, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: g4 bench [-m MODEL] [-p 512] [-n 128] [-r 3] [--threads N] [--batch 512]\n"
            "                [--ctx N] [--no-membw] [--json]\n"
            "  -m MODEL     GGUF file or HF directory (default: the default model)\n"
            "  -p N         prompt tokens for prefill (fixed pseudo-random ids; default 512)\n"
            "  -n N         tokens decoded one at a time after the prompt (greedy; default 128)\n"
            "  -r N         repetitions, each from an empty context (default 3, at most 64)\n"
            "  --threads N  threads (default: one per online CPU)\n"
            "  --batch N    prefill chunk, tokens per forward pass (default 512)\n"
            "  --ctx N      context size (default p + n)\n"
            "  --no-membw   skip the memory bandwidth measurement\n"
            "  --json       end with one JSON line (prefill_tok_s, decode_tok_s, ttft_ms, ...)\n");
}

static int parse(int argc, char **argv, struct bench_opts *o) {
    const char *cmd = "bench";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--no-membw")) {
            o->membw = 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(o->model = arg_next(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "-p")) {
            if (!(v = arg_next(cmd, argc, argv, &i)) || arg_int(cmd, a, v, 1, 1 << 20, &o->n_prompt)) return 2;
        } else if (!strcmp(a, "-n")) {
            if (!(v = arg_next(cmd, argc, argv, &i)) || arg_int(cmd, a, v, 0, 1 << 20, &o->n_gen)) return 2;
        } else if (!strcmp(a, "-r")) {
            if (!(v = arg_next(cmd, argc, argv, &i)) || arg_int(cmd, a, v, 1, 64, &o->reps)) return 2;
        } else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) {
            if (!(v = arg_next(cmd, argc, argv, &i)) || arg_int(cmd, a, v, 1, 1024, &o->n_threads)) return 2;
        } else if (!strcmp(a, "--batch") || !strcmp(a, "-b")) {
            if (!(v = arg_next(cmd, argc, argv, &i)) || arg_int(cmd, a, v, 1, 1 << 16, &o->n_batch)) return 2;
        } else if (!strcmp(a, "--ctx")) {
            if (!(v = arg_next(cmd, argc, argv, &i)) || arg_i64(cmd, a, v, 1, (int64_t)1 << 24, &o->n_ctx)) return 2;
        } else {
            fprintf(stderr, "g4 bench: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    return 0;
}

/* tensor_bytes and file bytes from the model's JSON description. */
static void model_bytes(const g4_model *m, double *tensor_bytes, double *file_bytes) {
    char *js = NULL;
    g4_error err = {0};
    *tensor_bytes = *file_bytes = 0;
    if (g4_model_info(m, 0, 1, &js, &err) != G4_OK) return;
    json_t *root = json_loads(js, 0, NULL);
    free(js);
    if (!root) return;
    json_t *tb = json_object_get(root, "tensor_bytes");
    if (json_is_number(tb)) *tensor_bytes = json_number_value(tb);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(root, "files"), i, f) {
        json_t *b = json_object_get(f, "bytes");
        if (json_is_number(b)) *file_bytes += json_number_value(b);
    }
    json_decref(root);
}

/* Peak resident set of this process in MB (1 MiB): VmHWM from /proc, which
 * starts afresh at exec (ru_maxrss keeps the parent's peak across execve, so
 * a benchmark started by a big process would report that process's peak);
 * getrusage where /proc is unavailable. */
static double peak_rss_mb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) kb = strtod(line + 6, NULL);
    if (f) fclose(f);
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = (double)ru.ru_maxrss; /* Linux: KiB */
    }
    return kb / 1024.0;
}

/* One repetition: prefill then decode. Returns 0 or prints the error. */
static int run_once(g4_context *c, const int32_t *prompt, int n_prompt, int n_gen, float *logits, int32_t n_vocab,
                    double *prefill_ms, double *ttft_ms, double *decode_ms) {
    g4_error err = {0};
    if (g4_context_truncate(c, 0, &err) != G4_OK) goto fail;
    double t0 = now_ms();
    if (g4_context_eval(c, prompt, (size_t)n_prompt, logits, 0, &err) != G4_OK) goto fail;
    double t1 = now_ms();
    int32_t tok = argmax(logits, n_vocab);
    double t2 = now_ms();
    for (int i = 0; i < n_gen; i++) {
        if (g4_context_eval(c, &tok, 1, logits, 0, &err) != G4_OK) goto fail;
        tok = argmax(logits, n_vocab);
    }
    double t3 = now_ms();
    *prefill_ms = t1 - t0;
    *ttft_ms = t2 - t0;
    *decode_ms = t3 - t2;
    return 0;
fail:
    fprintf(stderr, "g4 bench: %s\n", err.message);
    return 1;
}

int cmd_bench(int argc, char **argv) {
    struct bench_opts o = {.n_prompt = 512, .n_gen = 128, .reps = 3, .n_batch = 512, .membw = 1};
    int rc = parse(argc, argv, &o);
    if (rc) return rc;
    if (o.n_threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o.n_threads = n > 0 && n <= 1024 ? (int)n : 1;
    }
    if (o.n_ctx == 0) o.n_ctx = (int64_t)o.n_prompt + o.n_gen;
    if (o.n_ctx < (int64_t)o.n_prompt + o.n_gen) {
        fprintf(stderr, "g4 bench: --ctx %lld is less than -p + -n\n", (long long)o.n_ctx);
        return 2;
    }
    char dbuf[4096];
    const char *model_name = o.model ? o.model : default_model_path(dbuf, sizeof dbuf);
    if (!model_name) model_name = "(default)";
    g4_model *m = NULL;
    double t_load = now_ms();
    if (cli_model_load("bench", o.model, &m)) return 1;
    t_load = now_ms() - t_load;
    if (o.n_ctx > g4_model_context_length(m)) {
        fprintf(stderr, "g4 bench: -p + -n exceeds the model's context (%lld)\n",
                (long long)g4_model_context_length(m));
        g4_model_free(m);
        return 2;
    }
    g4_error err = {0};
    g4_context_params cp = {.n_ctx = o.n_ctx, .n_batch = o.n_batch, .n_threads = o.n_threads};
    g4_context *c = NULL;
    double t_ctx = now_ms();
    if (g4_context_new(m, &cp, &c, &err) != G4_OK) {
        fprintf(stderr, "g4 bench: %s\n", err.message);
        g4_model_free(m);
        return 1;
    }
    t_ctx = now_ms() - t_ctx; /* decoder binding and weight repacking, KV cache */
    int32_t n_vocab = g4_context_n_vocab(c);
    float *logits = malloc((size_t)n_vocab * sizeof *logits);
    int32_t *prompt = malloc((size_t)o.n_prompt * sizeof *prompt);
    if (!logits || !prompt) {
        fprintf(stderr, "g4 bench: out of memory\n");
        rc = 1;
        goto out;
    }
    /* fixed ids: <bos>, then an LCG over the ordinary vocabulary (ids >= 4) */
    uint64_t s = 0x9e3779b97f4a7c15ull;
    int32_t hi = n_vocab > 4 ? n_vocab : 5;
    for (int i = 0; i < o.n_prompt; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        prompt[i] = i == 0 ? 2 : 4 + (int32_t)((s >> 33) % (uint64_t)(hi - 4));
        if (prompt[i] >= n_vocab) prompt[i] = n_vocab - 1;
    }
    double tensor_bytes, file_bytes;
    model_bytes(m, &tensor_bytes, &file_bytes);

    double pm, tm, dm;
    int warm_p = o.n_prompt < 16 ? o.n_prompt : 16;
    if (run_once(c, prompt, warm_p, o.n_gen < 2 ? o.n_gen : 2, logits, n_vocab, &pm, &tm, &dm)) {
        rc = 1;
        goto out;
    }
    struct stat_acc pf = {0}, dc = {0}, tt = {0};
    for (int r = 0; r < o.reps; r++) {
        if (run_once(c, prompt, o.n_prompt, o.n_gen, logits, n_vocab, &pm, &tm, &dm)) {
            rc = 1;
            goto out;
        }
        pf.v[pf.n++] = o.n_prompt / (pm / 1e3);
        dc.v[dc.n++] = o.n_gen > 0 && dm > 0 ? o.n_gen / (dm / 1e3) : 0;
        tt.v[tt.n++] = tm;
        if (!o.json)
            fprintf(stderr, "rep %d: prefill %.2f tok/s, decode %.2f tok/s, ttft %.1f ms\n", r + 1,
                    pf.v[pf.n - 1], dc.v[dc.n - 1], tm);
    }
    double rss_mb = peak_rss_mb();
    double membw = o.membw ? membw_read_gbps(o.n_threads, 0, 5) : 0;
    double dec = mean_of(&dc), dec_gbps = tensor_bytes * dec / 1e9;

    printf("model        %s\n", model_name);
    printf("threads      %d, batch %d, prompt %d, decode %d, reps %d, load %.0f ms, context %.0f ms\n", o.n_threads,
           o.n_batch, o.n_prompt, o.n_gen, o.reps, t_load, t_ctx);
    printf("weights      %.1f MB (file %.1f MB)\n", tensor_bytes / 1e6, file_bytes / 1e6);
    printf("prefill      %.2f ± %.2f tok/s\n", mean_of(&pf), std_of(&pf));
    printf("decode       %.2f ± %.2f tok/s\n", dec, std_of(&dc));
    printf("ttft         %.1f ± %.1f ms\n", mean_of(&tt), std_of(&tt));
    printf("peak rss     %.1f MB\n", rss_mb);
    if (o.membw)
        printf("bandwidth    decode %.2f GB/s of %.2f GB/s measured read (%.0f%%)\n", dec_gbps, membw,
               membw > 0 ? 100 * dec_gbps / membw : 0);
    else
        printf("bandwidth    decode %.2f GB/s\n", dec_gbps);
    if (o.json) {
        json_t *j = json_object(), *pa = json_array(), *da = json_array();
        for (int i = 0; i < pf.n; i++) {
            json_array_append_new(pa, json_real(pf.v[i]));
            json_array_append_new(da, json_real(dc.v[i]));
        }
        json_object_set_new(j, "model", json_string(model_name));
        json_object_set_new(j, "n_threads", json_integer(o.n_threads));
        json_object_set_new(j, "n_batch", json_integer(o.n_batch));
        json_object_set_new(j, "n_prompt", json_integer(o.n_prompt));
        json_object_set_new(j, "n_gen", json_integer(o.n_gen));
        json_object_set_new(j, "reps", json_integer(o.reps));
        json_object_set_new(j, "prefill_tok_s", json_real(mean_of(&pf)));
        json_object_set_new(j, "prefill_tok_s_std", json_real(std_of(&pf)));
        json_object_set_new(j, "decode_tok_s", json_real(dec));
        json_object_set_new(j, "decode_tok_s_std", json_real(std_of(&dc)));
        json_object_set_new(j, "ttft_ms", json_real(mean_of(&tt)));
        json_object_set_new(j, "ttft_ms_std", json_real(std_of(&tt)));
        json_object_set_new(j, "peak_rss_mb", json_real(rss_mb));
        json_object_set_new(j, "decode_gbps", json_real(dec_gbps));
        json_object_set_new(j, "mem_read_gbps", o.membw ? json_real(membw) : json_null());
        json_object_set_new(j, "bw_fraction", membw > 0 ? json_real(dec_gbps / membw) : json_null());
        json_object_set_new(j, "model_size_bytes", json_real(file_bytes));
        json_object_set_new(j, "tensor_bytes", json_real(tensor_bytes));
        json_object_set_new(j, "load_ms", json_real(t_load));
        json_object_set_new(j, "context_ms", json_real(t_ctx));
        json_object_set_new(j, "prefill_runs", pa);
        json_object_set_new(j, "decode_runs", da);
        char *txt = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
        json_decref(j);
        if (!txt) {
            rc = 1;
            goto out;
        }
        printf("%s\n", txt);
        free(txt);
    }
out:
    free(prompt);
    free(logits);
    g4_context_free(c);
    g4_model_free(m);
    return rc;
}
