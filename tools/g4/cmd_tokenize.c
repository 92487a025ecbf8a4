/* cmd_tokenize.c — `g4 tokenize -m MODEL [--jsonl] [--no-special] [--decode]
 * [--skip-special]`: text on stdin to token ids (a JSON array), or back.
 * Semantics are HF `tokenizer(text, add_special_tokens=False)`: no <bos> is
 * added; special-token strings become their ids unless --no-special (the
 * untrusted mode of g4_tokenize). --jsonl: each stdin line is a JSON string
 * (or, with --decode, a JSON array of ids) and each output line is the JSON
 * array (or the decoded text as a JSON string). Without --jsonl, --decode
 * reads one JSON array and prints the raw text. Uses only include/g4.h. */
#include "g4.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: g4 tokenize -m MODEL [--jsonl] [--no-special] [--decode [--skip-special]]\n"
               "  -m MODEL        a model directory, a GGUF file, or a directory with tokenizer files\n"
               "  --jsonl         one JSON string (or id array with --decode) per stdin line\n"
               "  --no-special    special-token strings are plain text (untrusted input)\n"
               "  --decode        ids (JSON array) to text\n"
               "  --skip-special  with --decode: drop special tokens\n");
}

static char *read_all(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
        if (n == cap) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
            cap *= 2;
        }
    }
    if (b) {
        b[n < cap ? n : cap - 1] = 0;
        *len = n;
    }
    return b;
}

/* Tokenizes and prints "[id,id,...]\n". */
static int print_ids(const g4_model *m, const char *text, size_t len, int flags) {
    size_t cap = len + 16, n = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    g4_error err;
    g4_status st = ids ? g4_tokenize(m, text, len, flags, ids, cap, &n, &err) : G4_ERR_NOMEM;
    if (st == G4_ERR_RANGE) { /* cannot happen for Gemma (a token covers >= 1 byte), but be exact */
        cap = n;
        int32_t *nb = realloc(ids, cap * sizeof *ids);
        st = nb ? g4_tokenize(m, text, len, flags, (ids = nb), cap, &n, &err) : G4_ERR_NOMEM;
    }
    if (st != G4_OK) {
        fprintf(stderr, "g4 tokenize: %s\n", st == G4_ERR_NOMEM ? "out of memory" : err.message);
        free(ids);
        return 1;
    }
    putchar('[');
    for (size_t i = 0; i < n; i++) printf(i ? ",%d" : "%d", ids[i]);
    printf("]\n");
    free(ids);
    return 0;
}

/* Decodes a JSON array of ids; prints the raw text, or a JSON string. */
static int print_text(const g4_model *m, const json_t *arr, int skip, bool as_json) {
    if (!json_is_array(arr)) {
        fprintf(stderr, "g4 tokenize: --decode expects a JSON array of ids\n");
        return 1;
    }
    size_t n = json_array_size(arr);
    int32_t *ids = malloc((n + 1) * sizeof *ids);
    if (!ids) return 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX) {
            fprintf(stderr, "g4 tokenize: element %zu is not a token id\n", i);
            free(ids);
            return 1;
        }
        ids[i] = (int32_t)json_integer_value(v);
    }
    char *text = NULL;
    size_t len = 0;
    g4_error err;
    g4_status st = g4_detokenize(m, ids, n, skip, &text, &len, &err);
    free(ids);
    if (st != G4_OK) {
        fprintf(stderr, "g4 tokenize: %s\n", err.message);
        return 1;
    }
    if (as_json) {
        json_t *s = json_stringn(text, len);
        char *d = s ? json_dumps(s, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        if (d) printf("%s\n", d);
        else fputs("null\n", stdout); /* invalid UTF-8 cannot be a JSON string */
        free(d);
        json_decref(s);
    } else {
        fwrite(text, 1, len, stdout);
    }
    free(text);
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL;
    bool jsonl = false, no_special = false, decode = false, skip = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--jsonl")) jsonl = true;
        else if (!strcmp(argv[i], "--no-special")) no_special = true;
        else if (!strcmp(argv[i], "--decode")) decode = true;
        else if (!strcmp(argv[i], "--skip-special")) skip = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "g4 tokenize: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!model) {
        usage(stderr);
        return 2;
    }
    g4_model_params params = {.tokenizer_only = 1};
    g4_model *m = NULL;
    g4_error err;
    if (g4_model_load(&model, 1, &params, &m, &err) != G4_OK) {
        fprintf(stderr, "g4 tokenize: %s\n", err.message);
        return 1;
    }
    int flags = no_special ? 0 : G4_TOK_PARSE_SPECIAL;
    size_t len = 0;
    char *in = read_all(stdin, &len);
    int rc = 0;
    if (!in) {
        fprintf(stderr, "g4 tokenize: cannot read stdin\n");
        rc = 1;
    } else if (!jsonl && !decode) {
        rc = print_ids(m, in, len, flags);
    } else {
        size_t line = 0;
        for (char *p = in, *e; rc == 0 && p < in + len; p = e + 1, line++) {
            e = memchr(p, '\n', (size_t)(in + len - p));
            if (!e) e = in + len;
            if (jsonl && e == p) continue; /* blank line */
            json_error_t je;
            json_t *v = json_loadb(p, jsonl ? (size_t)(e - p) : len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
            if (!v) {
                fprintf(stderr, "g4 tokenize: line %zu: %s\n", line + 1, je.text);
                rc = 1;
            } else if (decode) {
                rc = print_text(m, v, skip, jsonl);
            } else if (!json_is_string(v)) {
                fprintf(stderr, "g4 tokenize: line %zu: not a JSON string\n", line + 1);
                rc = 1;
            } else {
                rc = print_ids(m, json_string_value(v), json_string_length(v), flags);
            }
            json_decref(v);
            if (!jsonl) break;
        }
    }
    fflush(stdout);
    free(in);
    g4_model_free(m);
    return rc;
}
