/* args.h — strict parsing of numeric command-line values for the g4 tools.
 * Each parser accepts the whole string only (no trailing junk), checks the
 * range, and on error prints "g4 CMD: bad value for FLAG: 'X' (...)" and
 * returns non-zero. */
#ifndef G4_TOOLS_ARGS_H
#define G4_TOOLS_ARGS_H

#include <stdint.h>

int arg_i64(const char *cmd, const char *flag, const char *s, int64_t lo, int64_t hi, int64_t *out);
int arg_int(const char *cmd, const char *flag, const char *s, int lo, int hi, int *out);
int arg_u64(const char *cmd, const char *flag, const char *s, uint64_t *out);
int arg_float(const char *cmd, const char *flag, const char *s, double lo, double hi, float *out);
/* The value after flag argv[*i]; advances *i. Prints an error when missing. */
const char *arg_next(const char *cmd, int argc, char **argv, int *i);

#endif
