/* test.c — harness implementation (see test.h). */
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int test_failed_checks;
static int n_pass, n_fail;

void test_report(const char *file, int line, const char *fmt, ...) {
    test_failed_checks++;
    if (test_failed_checks > 20) return; /* keep logs readable */
    fprintf(stderr, "  %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void test_run(const char *name, void (*fn)(void)) {
    test_failed_checks = 0;
    fn();
    if (test_failed_checks) {
        n_fail++;
        printf("FAIL %s (%d checks failed)\n", name, test_failed_checks);
    } else {
        n_pass++;
        printf("PASS %s\n", name);
    }
    fflush(stdout);
}

int test_done(void) { return n_fail ? 1 : 0; }

const char *test_gemma3_gguf(void) {
    static char buf[4096];
    const char *e = getenv("G4_GEMMA3_GGUF");
    if (e && *e) return e;
    const char *home = getenv("HOME");
    const char *cache = getenv("XDG_CACHE_HOME");
    if (cache && *cache)
        snprintf(buf, sizeof buf, "%s/g4/gemma-3-270m-q4_k_m.gguf", cache);
    else
        snprintf(buf, sizeof buf, "%s/.cache/g4/gemma-3-270m-q4_k_m.gguf", home ? home : ".");
    FILE *f = fopen(buf, "rb");
    if (!f) return NULL;
    fclose(f);
    return buf;
}

char *test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = 0;
        if (len) *len = (size_t)n;
    }
    return b;
}
