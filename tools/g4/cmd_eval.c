/* cmd_eval.c — `g4 eval`: raw logits for a list of token ids.
 * Reads a JSON array of ids (--ids FILE.json, "-" = stdin), evaluates them
 * from an empty context (sized to the ids unless --ctx) and writes
 * little-endian float32 logits to --out: the last position's
 * [n_vocab], or with --all every position's [n_tokens][n_vocab]. Prints
 * one JSON line on stdout: {"n_tokens", "n_vocab", "rows", "argmax"}
 * (argmax of the last row, lowest id on ties). */
#include "args.h"
#include "default_model.h"
#include "g4.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: g4 eval [-m MODEL] --ids FILE.json --out FILE.f32 [--all] [--ctx N] [--threads N]\n"
               "  --ids FILE   JSON array of token ids ('-' = stdin)\n"
               "  --out FILE   raw little-endian float32 logits: [n_vocab], or [n_tokens][n_vocab] with --all\n");
}

static int read_ids(const char *path, int32_t **ids, size_t *n) {
    json_error_t je;
    json_t *j = !strcmp(path, "-") ? json_loadf(stdin, 0, &je) : json_load_file(path, 0, &je);
    if (!j) {
        fprintf(stderr, "g4 eval: %s: %s (line %d)\n", path, je.text, je.line);
        return 1;
    }
    size_t k = json_is_array(j) ? json_array_size(j) : 0;
    if (!k) {
        fprintf(stderr, "g4 eval: %s: want a non-empty JSON array of token ids\n", path);
        json_decref(j);
        return 1;
    }
    *ids = malloc(k * sizeof **ids);
    if (!*ids) {
        fprintf(stderr, "g4 eval: out of memory\n");
        json_decref(j);
        return 1;
    }
    for (size_t i = 0; i < k; i++) {
        json_t *x = json_array_get(j, i);
        json_int_t v = json_is_integer(x) ? json_integer_value(x) : -1;
        if (v < 0 || v > INT32_MAX) {
            fprintf(stderr, "g4 eval: %s: element %zu is not a token id\n", path, i);
            json_decref(j);
            return 1;
        }
        (*ids)[i] = (int32_t)v;
    }
    *n = k;
    json_decref(j);
    return 0;
}

int cmd_eval(int argc, char **argv) {
    const char *model = NULL, *ids_path = NULL, *out_path = NULL, *v;
    int all = 0, n_threads = 0;
    int64_t n_ctx = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(v = arg_next("eval", argc, argv, &i))) return 2;
            model = v;
        } else if (!strcmp(a, "--ids")) {
            if (!(v = arg_next("eval", argc, argv, &i))) return 2;
            ids_path = v;
        } else if (!strcmp(a, "--out") || !strcmp(a, "-o")) {
            if (!(v = arg_next("eval", argc, argv, &i))) return 2;
            out_path = v;
        } else if (!strcmp(a, "--all")) all = 1;
        else if (!strcmp(a, "--ctx") || !strcmp(a, "-c")) {
            if (!(v = arg_next("eval", argc, argv, &i)) || arg_i64("eval", a, v, 1, 1 << 24, &n_ctx)) return 2;
        } else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) {
            if (!(v = arg_next("eval", argc, argv, &i)) || arg_int("eval", a, v, 1, 1024, &n_threads)) return 2;
        } else {
            fprintf(stderr, "g4 eval: unknown option '%s' (see g4 eval --help)\n", a);
            return 2;
        }
    }
    if (!ids_path || !out_path) {
        fprintf(stderr, "g4 eval: --ids and --out are required\n");
        usage(stderr);
        return 2;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    if (read_ids(ids_path, &ids, &n)) return 1;
    g4_model *m = NULL;
    g4_context *ctx = NULL;
    float *logits = NULL;
    FILE *f = NULL;
    int rc = 1;
    g4_error err;
    if (cli_model_load("eval", model, &m)) goto done;
    if (!n_ctx) n_ctx = (int64_t)n;
    if ((int64_t)n > n_ctx) {
        fprintf(stderr, "g4 eval: %zu ids do not fit the context of %lld (--ctx)\n", n, (long long)n_ctx);
        goto done;
    }
    g4_context_params cp = {.n_ctx = n_ctx, .n_threads = n_threads};
    if (g4_context_new(m, &cp, &ctx, &err) != G4_OK) {
        fprintf(stderr, "g4 eval: %s\n", err.message);
        goto done;
    }
    int32_t n_vocab = g4_context_n_vocab(ctx);
    size_t rows = all ? n : 1;
    if (rows > SIZE_MAX / sizeof(float) / (size_t)n_vocab ||
        !(logits = malloc(rows * (size_t)n_vocab * sizeof *logits))) {
        fprintf(stderr, "g4 eval: out of memory for %zu x %d logits\n", rows, (int)n_vocab);
        goto done;
    }
    if (g4_context_eval(ctx, ids, n, logits, all, &err) != G4_OK) {
        fprintf(stderr, "g4 eval: %s\n", err.message);
        goto done;
    }
    const float *last = logits + (rows - 1) * (size_t)n_vocab;
    int32_t best = 0;
    for (int32_t i = 1; i < n_vocab; i++)
        if (last[i] > last[best]) best = i;
    /* float32 little-endian: swap on a big-endian host */
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe == 0) {
        for (size_t i = 0; i < rows * (size_t)n_vocab; i++) {
            uint32_t u;
            memcpy(&u, &logits[i], 4);
            u = __builtin_bswap32(u);
            memcpy(&logits[i], &u, 4);
        }
    }
    f = fopen(out_path, "wb");
    if (!f || fwrite(logits, sizeof(float), rows * (size_t)n_vocab, f) != rows * (size_t)n_vocab) {
        fprintf(stderr, "g4 eval: cannot write %s\n", out_path);
        goto done;
    }
    if (fclose(f) != 0) {
        f = NULL;
        fprintf(stderr, "g4 eval: cannot write %s\n", out_path);
        goto done;
    }
    f = NULL;
    printf("{\"n_tokens\": %zu, \"n_vocab\": %d, \"rows\": %zu, \"argmax\": %d}\n", n, (int)n_vocab, rows, (int)best);
    rc = 0;
done:
    if (f) fclose(f);
    free(logits);
    free(ids);
    g4_context_free(ctx);
    g4_model_free(m);
    return rc;
}
