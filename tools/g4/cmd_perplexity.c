/* cmd_perplexity.c — `g4 perplexity`: perplexity over a text file with the
 * method of llama.cpp's tools/perplexity (so the numbers compare):
 * the whole file is tokenized once with <bos> prepended (add_special, no
 * special-token parsing); it is cut into n_chunk = n_tokens / n_ctx chunks
 * of n_ctx tokens (at least 2 * n_ctx tokens are required); each chunk is
 * evaluated from an empty context with its first token replaced by <bos>;
 * only the second half is scored: positions first = n_ctx/2 .. n_ctx-2
 * predict the next token, nll = -log softmax (max-shifted, the sum of
 * expf in double). PPL = exp(mean nll); the error is PPL * sqrt(var/(N-1))
 * as llama.cpp prints it. Per-chunk running estimates "[i]ppl," go to
 * stderr, then "Final estimate: PPL = X +/- Y"; stdout gets one JSON line. */
#include "args.h"
#include "chat_tokens.h"
#include "default_model.h"
#include "g4.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f) {
    fprintf(f, "usage: g4 perplexity [-m MODEL] -f FILE [--ctx N] [--batch N] [--chunks N] [--threads N]\n"
               "  --ctx N      tokens per chunk (default 512, as llama-perplexity)\n"
               "  --batch N    rows per forward pass (default min(ctx, 512))\n"
               "  --chunks N   score at most N chunks (default all)\n");
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (n < cap) break;
        char *nb = cap < SIZE_MAX / 2 ? realloc(b, cap * 2) : NULL;
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    if (b && ferror(f)) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = n;
    return b;
}

/* -log softmax(logits)[tok], as llama.cpp's log_softmax computes it */
static double nll_of(const float *logits, int32_t n_vocab, int32_t tok) {
    float mx = logits[0];
    for (int32_t i = 1; i < n_vocab; i++) mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0.0;
    for (int32_t i = 0; i < n_vocab; i++) sum += expf(logits[i] - mx);
    return -((double)(logits[tok] - mx) - log(sum));
}

static double secs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cmd_perplexity(int argc, char **argv) {
    const char *model = NULL, *file = NULL, *v;
    int64_t n_ctx = 512, n_chunks_max = -1;
    int n_batch = 0, n_threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(v = arg_next("perplexity", argc, argv, &i))) return 2;
            model = v;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            if (!(v = arg_next("perplexity", argc, argv, &i))) return 2;
            file = v;
        } else if (!strcmp(a, "--ctx") || !strcmp(a, "-c")) {
            if (!(v = arg_next("perplexity", argc, argv, &i)) || arg_i64("perplexity", a, v, 4, 1 << 20, &n_ctx)) return 2;
        } else if (!strcmp(a, "--batch") || !strcmp(a, "-b")) {
            if (!(v = arg_next("perplexity", argc, argv, &i)) || arg_int("perplexity", a, v, 1, 1 << 16, &n_batch)) return 2;
        } else if (!strcmp(a, "--chunks")) {
            if (!(v = arg_next("perplexity", argc, argv, &i)) || arg_i64("perplexity", a, v, 1, INT32_MAX, &n_chunks_max))
                return 2;
        } else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) {
            if (!(v = arg_next("perplexity", argc, argv, &i)) || arg_int("perplexity", a, v, 1, 1024, &n_threads))
                return 2;
        } else {
            fprintf(stderr, "g4 perplexity: unknown option '%s' (see g4 perplexity --help)\n", a);
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "g4 perplexity: -f FILE is required\n");
        usage(stderr);
        return 2;
    }
    if (!n_batch) n_batch = n_ctx < 512 ? (int)n_ctx : 512;
    if (n_batch > n_ctx) n_batch = (int)n_ctx;

    size_t len = 0;
    char *text = read_all(file, &len);
    if (!text) {
        fprintf(stderr, "g4 perplexity: cannot read %s\n", file);
        return 1;
    }
    g4_model *m = NULL;
    g4_context *ctx = NULL;
    int32_t *toks = NULL;
    float *logits = NULL;
    int rc = 1;
    g4_error err;
    size_t n_tok = 0, cap = 0;
    if (cli_model_load("perplexity", model, &m)) goto done;
    if (tokens_append(m, text, len, G4_TOK_ADD_BOS, &toks, &n_tok, &cap, &err) != G4_OK) {
        fprintf(stderr, "g4 perplexity: %s\n", err.message);
        goto done;
    }
    if ((int64_t)n_tok < 2 * n_ctx) {
        fprintf(stderr, "g4 perplexity: you need at least %lld tokens for a context of %lld; %s has only %zu\n",
                (long long)(2 * n_ctx), (long long)n_ctx, file, n_tok);
        goto done;
    }
    g4_context_params cp = {.n_ctx = n_ctx, .n_batch = n_batch, .n_threads = n_threads};
    if (g4_context_new(m, &cp, &ctx, &err) != G4_OK) {
        fprintf(stderr, "g4 perplexity: %s\n", err.message);
        goto done;
    }
    int32_t n_vocab = g4_context_n_vocab(ctx);
    int32_t bos = toks[0]; /* G4_TOK_ADD_BOS put it there */
    logits = malloc((size_t)n_batch * (size_t)n_vocab * sizeof *logits);
    if (!logits) {
        fprintf(stderr, "g4 perplexity: out of memory for %d x %d logits\n", n_batch, (int)n_vocab);
        goto done;
    }
    int64_t n_chunk = (int64_t)n_tok / n_ctx;
    if (n_chunks_max > 0 && n_chunk > n_chunks_max) n_chunk = n_chunks_max;
    int64_t first = n_ctx / 2;
    fprintf(stderr, "perplexity: %zu tokens, %lld chunks, n_ctx=%lld, batch_size=%d\n", n_tok, (long long)n_chunk,
            (long long)n_ctx, n_batch);
    double nll = 0, nll2 = 0, t0 = secs();
    int64_t count = 0;
    for (int64_t c = 0; c < n_chunk; c++) {
        int32_t *chunk = toks + c * n_ctx;
        int32_t orig = chunk[0];
        if (g4_context_truncate(ctx, 0, &err) != G4_OK) goto eval_fail;
        for (int64_t b = 0; b < n_ctx; b += n_batch) {
            int64_t nb = n_ctx - b < n_batch ? n_ctx - b : n_batch;
            int64_t from = first - b > 0 ? first - b : 0; /* rows of this batch that are scored */
            if (from > nb) from = nb;
            chunk[0] = bos;
            g4_eval_input in = {.tokens = chunk + b, .n = (size_t)nb, .logits_from = (size_t)from, .logits = logits};
            g4_status st = g4_context_eval_ex(ctx, &in, &err);
            chunk[0] = orig;
            if (st != G4_OK) goto eval_fail;
            for (int64_t r = from; r < nb; r++) {
                int64_t pos = b + r; /* predicts chunk[pos + 1] */
                if (pos >= n_ctx - 1) break;
                double x = nll_of(logits + (size_t)(r - from) * (size_t)n_vocab, n_vocab, chunk[pos + 1]);
                nll += x;
                nll2 += x * x;
                count++;
            }
        }
        if (c == 0) fprintf(stderr, "perplexity: %.2f seconds per pass - ETA %.2f minutes\n", secs() - t0,
                            (secs() - t0) * (double)n_chunk / 60.0);
        fprintf(stderr, "[%lld]%.4f,", (long long)c + 1, exp(nll / (double)count));
        fflush(stderr);
    }
    fprintf(stderr, "\n");
    double mean = nll / (double)count, ppl = exp(mean), var = nll2 / (double)count - mean * mean, pm = NAN;
    if (var > 0 && count > 1) pm = sqrt(var / (double)(count - 1)) * ppl;
    fprintf(stderr, "Final estimate: PPL = %.4f +/- %.5f\n", ppl, pm);
    printf("{\"ppl\": %.6f, \"ppl_err\": %.6f, \"n_ctx\": %lld, \"n_chunks\": %lld, \"n_scored\": %lld, \"n_tokens\": %zu}\n",
           ppl, isnan(pm) ? 0.0 : pm, (long long)n_ctx, (long long)n_chunk, (long long)count, n_tok);
    rc = isfinite(ppl) ? 0 : 1;
    goto done;
eval_fail:
    fprintf(stderr, "\ng4 perplexity: %s\n", err.message);
done:
    free(logits);
    free(toks);
    free(text);
    g4_context_free(ctx);
    g4_model_free(m);
    return rc;
}
