/* tokenizer.h — Gemma's BPE tokenizer, exactly as HF `tokenizers` runs it.
 * Built from tokenizer.json (+ tokenizer_config.json) or from GGUF metadata
 * (tokenizer.ggml.model "llama" with scores for Gemma 3, "gemma4" with
 * merges). Immutable after construction: safe to share across threads. */
#ifndef G4_TOKENIZER_TOKENIZER_H
#define G4_TOKENIZER_TOKENIZER_H

#include "core/status.h"

struct gguf_file;
struct g4_tokenizer;

/* From the text of tokenizer.json; `config_json` (tokenizer_config.json) may
 * be NULL. `name` is used in messages. */
g4_status g4_tokenizer_from_json(struct g4_tokenizer **out, const char *json, size_t len,
                                 const char *config_json, size_t config_len, const char *name,
                                 g4_error *err);
/* From GGUF metadata (tokenizer.ggml.*). */
g4_status g4_tokenizer_from_gguf(struct g4_tokenizer **out, const struct gguf_file *g, g4_error *err);
void g4_tokenizer_free(struct g4_tokenizer *t);

/* Encode/decode with the semantics of include/g4.h g4_tokenize / g4_detokenize
 * (flags: G4_TOK_PARSE_SPECIAL, G4_TOK_ADD_BOS), i.e. HF `tokenizers`:
 * - With G4_TOK_PARSE_SPECIAL the ids are HF's encode(text,
 *   add_special_tokens=False): every added token is matched in the text.
 * - Without it (untrusted text) they are HF's with encode_special_tokens=True:
 *   special added tokens (tokenizer.json "special": true; in a GGUF the
 *   CONTROL/UNKNOWN tokens) are not matched and their text goes through the
 *   normalizer and BPE like any other text, so "<start_of_turn>" or "<|turn>"
 *   typed by a user never becomes 105/106. Non-special added tokens ("\n",
 *   "<unused0>", "<table>", ...) are matched in both modes.
 * - G4_TOK_ADD_BOS prepends bos (G4_ERR_UNSUPPORTED if there is none).
 * - Invalid UTF-8 bytes are characters outside the vocabulary: byte fallback.
 * - Decode is HF's decode: pieces (special ones dropped with skip_special),
 *   then the decoder (Gemma: "▁" -> " ", <0xHH> runs -> UTF-8 or one U+FFFD
 *   per byte when invalid, fuse). decode(encode(s)) == s for valid UTF-8 s
 *   that holds no "▁" (U+2581 decodes to a space, as in HF). Unknown ids are
 *   G4_ERR_INVALID_ARG (HF drops them).
 * Thread-safe: the tokenizer is read-only; each call allocates its scratch.
 * Encode is O(n log n) in the length of the longest stretch without an added
 * token (a heap of candidate merges over a linked list of symbols). */
g4_status g4_tokenizer_encode(const struct g4_tokenizer *t, const char *text, size_t len, int flags,
                              int32_t *out, size_t cap, size_t *n_out, g4_error *err);
g4_status g4_tokenizer_decode(const struct g4_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                              char **out, size_t *out_len, g4_error *err);

int32_t g4_tokenizer_n_vocab(const struct g4_tokenizer *t);
/* Id of an exact token string (including special tokens), or -1. */
int32_t g4_tokenizer_find(const struct g4_tokenizer *t, const char *piece, size_t len);
/* The stored string of token `id` (e.g. "▁the", "<0x0A>", "<bos>"), or NULL. */
const char *g4_tokenizer_piece(const struct g4_tokenizer *t, int32_t id, size_t *len);
/* The byte of a byte-fallback piece "<0xHH>" as HF's ByteFallback decoder
 * reads it (u8::from_str_radix: a leading '+' is accepted, so "<0x+A>" is
 * byte 10), or -1 when s[0..len) is not one. */
int g4_tokenizer_byte_piece(const char *s, size_t len);
/* True for special/control tokens (added tokens marked special). */
bool g4_tokenizer_is_special(const struct g4_tokenizer *t, int32_t id);
/* bos/eos/pad/unk ids, -1 when absent. */
int32_t g4_tokenizer_bos(const struct g4_tokenizer *t);
int32_t g4_tokenizer_eos(const struct g4_tokenizer *t);

#endif
