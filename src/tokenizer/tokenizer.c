/* tokenizer.c — STUB: replaced by the BPE tokenizer. */
#include "tokenizer/tokenizer.h"
g4_status g4_tokenizer_from_json(struct g4_tokenizer **out, const char *json, size_t len,
                                 const char *config_json, size_t config_len, const char *name, g4_error *err) {
    *out = NULL;
    return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: tokenizer not built yet", name);
}
g4_status g4_tokenizer_from_gguf(struct g4_tokenizer **out, const struct gguf_file *g, g4_error *err) {
    *out = NULL;
    return g4_fail(err, G4_ERR_UNSUPPORTED, "tokenizer not built yet");
}
void g4_tokenizer_free(struct g4_tokenizer *t) { (void)t; }
g4_status g4_tokenizer_encode(const struct g4_tokenizer *t, const char *text, size_t len, int flags,
                              int32_t *out, size_t cap, size_t *n_out, g4_error *err) {
    return g4_fail(err, G4_ERR_UNSUPPORTED, "tokenizer not built yet");
}
g4_status g4_tokenizer_decode(const struct g4_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                              char **out, size_t *out_len, g4_error *err) {
    return g4_fail(err, G4_ERR_UNSUPPORTED, "tokenizer not built yet");
}
int32_t g4_tokenizer_n_vocab(const struct g4_tokenizer *t) { return 0; }
int32_t g4_tokenizer_find(const struct g4_tokenizer *t, const char *piece, size_t len) { return -1; }
const char *g4_tokenizer_piece(const struct g4_tokenizer *t, int32_t id, size_t *len) { return NULL; }
bool g4_tokenizer_is_special(const struct g4_tokenizer *t, int32_t id) { return false; }
int32_t g4_tokenizer_bos(const struct g4_tokenizer *t) { return -1; }
int32_t g4_tokenizer_eos(const struct g4_tokenizer *t) { return -1; }
