/* fuzz_gguf.c — libFuzzer target for the GGUF reader (make fuzz).
 * Parses the input; on success touches every kv, every array element and
 * every tensor through the public getters and dequantizes the first block of
 * each tensor of a supported type, so sanitizers see any read the parser let
 * through. Seeds: tests/fuzz/seeds/fuzz_gguf/. */
#include "io/gguf.h"
#include "tensor/types.h"

#include <stdlib.h>
#include <string.h>

static volatile uint64_t sink; /* keeps the reads from being optimized away */

static void touch_kv(const struct gguf_file *g, const struct gguf_kv *kv) {
    char key[128];
    size_t n = kv->key.len < sizeof key - 1 ? (size_t)kv->key.len : sizeof key - 1;
    memcpy(key, kv->key.s, n);
    key[n] = 0;
    uint32_t u32;
    uint64_t u64;
    float f;
    bool b;
    struct gguf_str s;
    sink += gguf_get_u32(g, key, &u32) + gguf_get_u64(g, key, &u64) + gguf_get_f32(g, key, &f) +
            gguf_get_bool(g, key, &b) + gguf_get_str(g, key, &s);
    if (gguf_find(g, key) == NULL && !memchr(kv->key.s, 0, (size_t)kv->key.len) && kv->key.len < sizeof key - 1)
        abort(); /* every key without an embedded NUL must be found */
    for (uint64_t i = 0; i <= kv->n && i < 100000; i++) {
        int64_t iv;
        if (gguf_arr_str(kv, i, &s)) {
            for (uint64_t j = 0; j < s.len; j++) sink += (uint8_t)s.s[j];
        }
        if (gguf_arr_f32(kv, i, &f)) sink += f != f;
        if (gguf_arr_i64(kv, i, &iv)) sink += (uint64_t)iv;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct gguf_file g;
    g4_error err;
    if (gguf_parse(&g, data, size, "fuzz.gguf", &err) != G4_OK) {
        if (strncmp(err.message, "fuzz.gguf: ", 11) != 0) abort(); /* every message names the file */
        return 0;
    }
    for (uint64_t i = 0; i < g.n_kv; i++) touch_kv(&g, &g.kv[i]);
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const struct gguf_tensor_info *t = &g.tensors[i];
        char name[80];
        memcpy(name, t->name.s, (size_t)t->name.len);
        name[t->name.len] = 0;
        if (!memchr(t->name.s, 0, (size_t)t->name.len) && gguf_find_tensor(&g, name) != t) abort();
        for (uint64_t j = 0; j < t->nbytes; j++) sink += t->data[j];
        const struct g4_type_traits *tt = g4_type_traits(t->type);
        if (tt && tt->supported && t->ne[0] > 0 && t->nbytes >= (uint64_t)tt->size) {
            float out[256];
            if (!g4_dequantize(t->type, t->data, out, tt->blck)) abort();
            for (int j = 0; j < tt->blck; j++) sink += out[j] != out[j];
        }
    }
    gguf_close(&g);
    return 0;
}
