/* cmd_serve.c — `g4 serve`: option parsing for the OpenAI-compatible HTTP
 * server (src/server). Binds 127.0.0.1:8080 by default. */
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: g4 serve -m MODEL [options]\n"
            "  -m, --model PATH        model (GGUF file or Hugging Face directory)\n"
            "  --host ADDR             address to bind (default 127.0.0.1)\n"
            "  --port N                port (default 8080; 0 = any free port)\n"
            "  --alias NAME            model id reported and accepted (default: file name)\n"
            "  --api-key KEY           require 'Authorization: Bearer KEY' (repeatable)\n"
            "  --api-key-file F        keys, one per line\n"
            "  --parallel N            sequences decoded together (continuous batching; default 4)\n"
            "  --prefill-chunk N       prompt tokens per step while other sequences decode (default 64)\n"
            "  --ctx N                 context length (default: min(model, 4096))\n"
            "  --threads N             compute threads (default: all cores)\n"
            "  --cors-origin ORIGIN    allow this browser origin ('*' = any; repeatable)\n"
            "  --max-body BYTES        request body limit (default 16 MiB)\n"
            "  --max-conn N            concurrent connections (default 64)\n"
            "  --idle-timeout S        idle connection timeout in seconds (default 600)\n"
            "  --queue N               waiting requests before 503 (default 64)\n"
            "  --ping S                SSE keep-alive comment interval (default 10)\n"
            "  --port-file F           write the bound port to F once listening\n");
}

static bool num(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static int read_keys(const char *path, const char ***keys, int *n) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        size_t l = strcspn(line, "\r\n");
        line[l] = 0;
        if (!l || line[0] == '#') continue;
        const char **k = realloc(*keys, (size_t)(*n + 1) * sizeof *k);
        if (!k) break;
        *keys = k;
        (*keys)[(*n)++] = strdup(line);
    }
    fclose(f);
    return 0;
}

int cmd_serve(int argc, char **argv) {
    struct g4_serve_config c = {.host = "127.0.0.1", .port = 8080, .parallel = 4, .max_body = 16u << 20,
                                .max_conn = 64, .idle_timeout = 600, .queue_cap = 64, .ping_interval = 10};
    const char **keys = NULL, **cors = NULL;
    int n_keys = 0, n_cors = 0, rc = 2;
    char **owned = NULL; /* keys read from files */
    int n_owned = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long x;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            rc = 0;
            goto out;
        }
        if (!v) {
            fprintf(stderr, "g4 serve: unknown option or missing value: %s\n", a);
            usage(stderr);
            goto out;
        }
        i++;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) c.model_path = v;
        else if (!strcmp(a, "--host")) c.host = v;
        else if (!strcmp(a, "--port") && num(v, 0, 65535, &x)) c.port = (int)x;
        else if (!strcmp(a, "--alias")) c.alias = v;
        else if (!strcmp(a, "--api-key") && *v) {
            const char **k = realloc(keys, (size_t)(n_keys + 1) * sizeof *k);
            if (!k) goto out;
            keys = k;
            keys[n_keys++] = v;
        } else if (!strcmp(a, "--api-key-file")) {
            int before = n_keys;
            if (read_keys(v, &keys, &n_keys)) {
                fprintf(stderr, "g4 serve: cannot read %s\n", v);
                goto out;
            }
            char **o = realloc(owned, (size_t)(n_owned + n_keys - before + 1) * sizeof *o);
            if (!o) goto out;
            owned = o;
            for (int k = before; k < n_keys; k++) owned[n_owned++] = (char *)keys[k];
            if (n_keys == before) {
                fprintf(stderr, "g4 serve: %s holds no key\n", v);
                goto out;
            }
        } else if (!strcmp(a, "--parallel") && num(v, 1, 256, &x)) {
            c.parallel = (int)x;
        } else if (!strcmp(a, "--prefill-chunk") && num(v, 1, 256, &x)) {
            c.prefill_chunk = (int)x;
        } else if (!strcmp(a, "--ctx") && num(v, 16, 1LL << 24, &x)) c.n_ctx = x;
        else if (!strcmp(a, "--threads") && num(v, 0, 1024, &x)) c.n_threads = (int)x;
        else if (!strcmp(a, "--cors-origin")) {
            const char **k = realloc(cors, (size_t)(n_cors + 1) * sizeof *k);
            if (!k) goto out;
            cors = k;
            cors[n_cors++] = v;
        } else if (!strcmp(a, "--max-body") && num(v, 1024, 1LL << 31, &x)) c.max_body = (size_t)x;
        else if (!strcmp(a, "--max-conn") && num(v, 1, 100000, &x)) c.max_conn = (int)x;
        else if (!strcmp(a, "--idle-timeout") && num(v, 1, 86400, &x)) c.idle_timeout = (int)x;
        else if (!strcmp(a, "--queue") && num(v, 1, 100000, &x)) c.queue_cap = (int)x;
        else if (!strcmp(a, "--ping") && num(v, 1, 3600, &x)) c.ping_interval = (int)x;
        else if (!strcmp(a, "--port-file")) c.port_file = v;
        else {
            fprintf(stderr, "g4 serve: bad option or value: %s %s\n", a, v);
            usage(stderr);
            goto out;
        }
    }
    if (!c.model_path) {
        fprintf(stderr, "g4 serve: -m MODEL is required\n");
        usage(stderr);
        goto out;
    }
    c.api_keys = keys;
    c.n_api_keys = n_keys;
    c.cors = cors;
    c.n_cors = n_cors;
    rc = g4_serve_run(&c);
out:
    for (int i = 0; i < n_owned; i++) free(owned[i]);
    free(owned);
    free(keys);
    free(cors);
    return rc;
}
