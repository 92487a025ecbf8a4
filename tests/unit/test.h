/* test.h — the tiny test harness shared by tests/unit/test_*.c.
 * A test is a void function; RUN(fn) runs it and prints "PASS fn" or
 * "FAIL fn" (tests/run.sh counts those lines). CHECK records a failure with
 * file:line and keeps going. test_done() returns the exit code.
 * Tests run from the repository root; fixtures live under tests/fixtures. */
#ifndef G4_TEST_H
#define G4_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

extern int test_failed_checks; /* failures in the running test */

void test_report(const char *file, int line, const char *fmt, ...);
void test_run(const char *name, void (*fn)(void));
int test_done(void);
/* Path of the real Gemma 3 270M GGUF (env G4_GEMMA3_GGUF or the setup
 * cache), or NULL when it is not present. */
const char *test_gemma3_gguf(void);
/* Reads a whole file (malloc'd, NUL-terminated); NULL on failure. */
char *test_read_file(const char *path, size_t *len);

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) test_report(__FILE__, __LINE__, "CHECK(%s)", #cond);             \
    } while (0)
#define CHECKF(cond, ...)                                                             \
    do {                                                                              \
        if (!(cond)) test_report(__FILE__, __LINE__, __VA_ARGS__);                    \
    } while (0)
#define RUN(fn) test_run(#fn, fn)

#endif
