/* cmd_info.c — `g4 info [--json] [--ctx N] MODEL...`: loads the model files
 * (an HF directory, or GGUF model [+ mmproj] [+ assistant]) and prints
 * g4_model_info() to stdout. Logs go to stderr; a bad file exits 1 with the
 * error message. Uses only include/g4.h. */
#include "g4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: g4 info [--json] [--ctx N] MODEL [MMPROJ.gguf] [ASSISTANT]\n"
               "  MODEL      a Hugging Face model directory or a GGUF file\n"
               "  --json     print a JSON object instead of text\n"
               "  --ctx N    size the KV-cache estimate for N tokens (default min(8192, model context))\n");
}

int cmd_info(int argc, char **argv) {
    const char *paths[8];
    int n = 0, json = 0;
    long long ctx = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--ctx")) {
            char *end;
            if (i + 1 >= argc || (ctx = strtoll(argv[++i], &end, 10)) <= 0 || *end) {
                fprintf(stderr, "g4 info: --ctx needs a positive integer\n");
                return 2;
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "g4 info: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (n < 8) {
            paths[n++] = argv[i];
        } else {
            fprintf(stderr, "g4 info: too many model files\n");
            return 2;
        }
    }
    if (n == 0) {
        usage(stderr);
        return 2;
    }
    g4_error err;
    g4_model *m = NULL;
    if (g4_model_load(paths, n, NULL, &m, &err) != G4_OK) {
        fprintf(stderr, "g4 info: %s\n", err.message);
        return 1;
    }
    char *text = NULL;
    if (g4_model_info(m, ctx, json, &text, &err) != G4_OK) {
        fprintf(stderr, "g4 info: %s\n", err.message);
        g4_model_free(m);
        return 1;
    }
    fputs(text, stdout);
    if (json) fputc('\n', stdout);
    free(text);
    g4_model_free(m);
    return 0;
}
