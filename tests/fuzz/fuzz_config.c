/* fuzz_config.c — libFuzzer target: model config parsing. Input starting
 * with "GGUF" is parsed as a GGUF and its metadata read as a config (and as
 * an mmproj); otherwise it is split at the first NUL byte into config.json
 * and generation_config.json text.
 * Bad input must give an error; an accepted config must satisfy its own
 * validation and have sane per-layer values. */
#include "io/gguf.h"
#include "model/config.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct g4_config c;
    g4_error e;
    if (size >= 4 && !memcmp(data, "GGUF", 4)) {
        uint8_t *copy = malloc(size);
        if (!copy) return 0;
        memcpy(copy, data, size);
        struct gguf_file g;
        if (gguf_parse(&g, copy, size, "fuzz", &e) == G4_OK) {
            if (g4_config_from_gguf(&c, &g, &e) == G4_OK && g4_config_validate(&c, &e) != G4_OK) abort();
            (void)g4_config_add_mmproj(&c, &g, &e);
            gguf_close(&g);
        }
        free(copy);
        return 0;
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t n1 = nul ? (size_t)(nul - data) : size;
    char *a = malloc(n1 + 1);
    if (!a) return 0;
    memcpy(a, data, n1);
    a[n1] = 0;
    char *b = NULL;
    size_t n2 = 0;
    if (nul) {
        n2 = size - n1 - 1;
        b = malloc(n2 + 1);
        if (b) {
            memcpy(b, nul + 1, n2);
            b[n2] = 0;
        }
    }
    if (g4_config_from_hf_json(&c, a, n1, b, n2, "fuzz", &e) == G4_OK) {
        if (g4_config_validate(&c, &e) != G4_OK) abort();
        for (int i = 0; i < c.n_layer; i++)
            if (c.layers[i].head_dim <= 0 || c.layers[i].n_head_kv <= 0 || c.layers[i].kv_source >= c.n_layer) abort();
        (void)g4_config_kv_bytes(&c, 1 << 20, 2);
    }
    free(a);
    free(b);
    return 0;
}
