/* bench_tok.c — encode speed of the g4 tokenizer on a JSONL corpus (one JSON
 * string per line): loads a tokenizer (a directory with tokenizer.json, or a
 * GGUF), encodes every string REPS times (G4_TOK_PARSE_SPECIAL, like HF's
 * encode), and prints one JSON line per repetition with seconds, MB/s and
 * tokens/s, plus the load time. Single-threaded. Built and run by
 * bench/tokenizer/compare.py. */
#include "io/gguf.h"
#include "io/mapfile.h"
#include "tokenizer/tokenizer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_tok TOKENIZER_DIR|GGUF CORPUS.jsonl [REPS]\n");
        return 2;
    }
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    g4_error err;
    struct g4_tokenizer *t = NULL;
    double t0 = now();
    if (g4_is_dir(argv[1])) {
        char *tj = g4_path_join(argv[1], "tokenizer.json"), *tc = g4_path_join(argv[1], "tokenizer_config.json");
        char *a = NULL, *b = NULL;
        size_t al = 0, bl = 0;
        if (g4_read_file(tj, 1ull << 31, &a, &al, &err) != G4_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        if (g4_read_file(tc, 1ull << 31, &b, &bl, NULL) != G4_OK) b = NULL;
        if (g4_tokenizer_from_json(&t, a, al, b, bl, tj, &err) != G4_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        free(a), free(b), free(tj), free(tc);
    } else {
        struct gguf_file g;
        if (gguf_open(&g, argv[1], &err) != G4_OK || g4_tokenizer_from_gguf(&t, &g, &err) != G4_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        gguf_close(&g);
    }
    double load = now() - t0;
    char *buf = NULL;
    size_t len = 0;
    if (g4_read_file(argv[2], 1ull << 31, &buf, &len, &err) != G4_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    size_t n = 0, cap = 1024, bytes = 0;
    char **s = malloc(cap * sizeof *s);
    size_t *sl = malloc(cap * sizeof *sl);
    for (char *p = buf, *e; p < buf + len; p = e + 1) {
        e = memchr(p, '\n', (size_t)(buf + len - p));
        if (!e) e = buf + len;
        json_t *v = json_loadb(p, (size_t)(e - p), JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (json_is_string(v)) {
            if (n == cap) {
                cap *= 2;
                s = realloc(s, cap * sizeof *s);
                sl = realloc(sl, cap * sizeof *sl);
            }
            sl[n] = json_string_length(v);
            s[n] = malloc(sl[n] + 1);
            memcpy(s[n], json_string_value(v), sl[n] + 1);
            bytes += sl[n++];
        }
        json_decref(v);
    }
    size_t idcap = 16;
    for (size_t i = 0; i < n; i++) idcap = sl[i] + 16 > idcap ? sl[i] + 16 : idcap; /* a token covers >= 1 byte */
    int32_t *ids = malloc(idcap * sizeof *ids);
    for (int r = 0; r < reps; r++) {
        size_t total = 0;
        double a = now();
        for (size_t i = 0; i < n; i++) {
            size_t k;
            if (g4_tokenizer_encode(t, s[i], sl[i], G4_TOK_PARSE_SPECIAL, ids, idcap, &k, &err) != G4_OK) {
                fprintf(stderr, "%s\n", err.message);
                return 1;
            }
            total += k;
        }
        double sec = now() - a;
        printf("{\"rep\": %d, \"strings\": %zu, \"bytes\": %zu, \"tokens\": %zu, \"seconds\": %.6f, \"load_seconds\": %.3f}\n",
               r, n, bytes, total, sec, load);
    }
    for (size_t i = 0; i < n; i++) free(s[i]);
    free(s), free(sl), free(ids), free(buf);
    g4_tokenizer_free(t);
    return 0;
}
