/* gguf.c — STUB: replaced by the GGUF reader. */
#include "io/gguf.h"
#include <string.h>

g4_status gguf_open(struct gguf_file *g, const char *path, g4_error *err) {
    memset(g, 0, sizeof *g);
    return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: GGUF reader not built yet", path);
}
g4_status gguf_parse(struct gguf_file *g, const uint8_t *data, uint64_t size, const char *name, g4_error *err) {
    memset(g, 0, sizeof *g);
    return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: GGUF reader not built yet", name);
}
void gguf_close(struct gguf_file *g) { (void)g; }
const struct gguf_kv *gguf_find(const struct gguf_file *g, const char *key) { return NULL; }
const struct gguf_tensor_info *gguf_find_tensor(const struct gguf_file *g, const char *name) { return NULL; }
bool gguf_get_u32(const struct gguf_file *g, const char *key, uint32_t *out) { return false; }
bool gguf_get_u64(const struct gguf_file *g, const char *key, uint64_t *out) { return false; }
bool gguf_get_f32(const struct gguf_file *g, const char *key, float *out) { return false; }
bool gguf_get_bool(const struct gguf_file *g, const char *key, bool *out) { return false; }
bool gguf_get_str(const struct gguf_file *g, const char *key, struct gguf_str *out) { return false; }
bool gguf_arr_str(const struct gguf_kv *kv, uint64_t i, struct gguf_str *out) { return false; }
bool gguf_arr_f32(const struct gguf_kv *kv, uint64_t i, float *out) { return false; }
bool gguf_arr_i64(const struct gguf_kv *kv, uint64_t i, int64_t *out) { return false; }
bool gguf_str_eq(struct gguf_str s, const char *c) { return strlen(c) == s.len && !memcmp(s.s, c, s.len); }
