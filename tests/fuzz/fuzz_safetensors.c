/* fuzz_safetensors.c — libFuzzer target: any byte string as a safetensors
 * file. The parser must reject bad input with an error, never crash, leak
 * or read outside the buffer. Accepted tensors must lie inside the input. */
#include "io/safetensors.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1); /* exact-size copy: ASan sees over-reads */
    if (!copy) return 0;
    memcpy(copy, data, size);
    struct g4_tensordir d;
    g4_tensordir_init(&d);
    g4_error e;
    if (g4_safetensors_parse(copy, size, "fuzz", 0, &d, &e) == G4_OK) {
        for (int i = 0; i < d.n; i++) {
            const struct g4_tensor *t = &d.t[i];
            const uint8_t *p = t->data;
            if (p < copy || p + t->nbytes > copy + size || g4_tensordir_find(&d, t->name) != t) abort();
            if (t->nbytes) (void)*(volatile const uint8_t *)(p + t->nbytes - 1);
        }
    }
    g4_tensordir_free(&d);
    free(copy);
    return 0;
}
