/* args.c — numeric command-line value parsing (see args.h). */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int bad(const char *cmd, const char *flag, const char *s, const char *why) {
    fprintf(stderr, "g4 %s: bad value for %s: '%s' (%s)\n", cmd, flag, s, why);
    return 1;
}

int arg_i64(const char *cmd, const char *flag, const char *s, int64_t lo, int64_t hi, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno) return bad(cmd, flag, s, "not an integer");
    if (v < lo || v > hi) {
        char why[96];
        snprintf(why, sizeof why, "must be in [%lld, %lld]", (long long)lo, (long long)hi);
        return bad(cmd, flag, s, why);
    }
    *out = v;
    return 0;
}

int arg_int(const char *cmd, const char *flag, const char *s, int lo, int hi, int *out) {
    int64_t v;
    if (arg_i64(cmd, flag, s, lo, hi, &v)) return 1;
    *out = (int)v;
    return 0;
}

int arg_u64(const char *cmd, const char *flag, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-') return bad(cmd, flag, s, "must not be negative");
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno) return bad(cmd, flag, s, "not an unsigned integer");
    *out = v;
    return 0;
}

int arg_float(const char *cmd, const char *flag, const char *s, double lo, double hi, float *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v)) return bad(cmd, flag, s, "not a finite number");
    if (v < lo || v > hi) {
        char why[96];
        snprintf(why, sizeof why, "must be in [%g, %g]", lo, hi);
        return bad(cmd, flag, s, why);
    }
    *out = (float)v;
    return 0;
}

const char *arg_next(const char *cmd, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "g4 %s: %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}
