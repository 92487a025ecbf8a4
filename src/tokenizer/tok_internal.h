/* tok_internal.h — the g4_tokenizer struct and the helpers its files share
 * (vocab.c: pieces, hash maps, added-token tries, merge table; tok_json.c and
 * tok_gguf.c: the two loaders; bpe.c: merge_word; tokenizer.c: encode and
 * decode). Private to src/tokenizer/.
 * Invariants once built: every id in [0, n_vocab) with TOK_F_PRESENT has a
 * piece in `arena`; the piece map holds each present piece once; every merge
 * refers to present ids; the struct is never written again (thread-safe). */
#ifndef G4_TOKENIZER_TOK_INTERNAL_H
#define G4_TOKENIZER_TOK_INTERNAL_H

#include "tokenizer/tokenizer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOK_MAX_VOCAB  (1 << 24)  /* ids above this are refused (hostile files) */
#define TOK_MAX_MERGES (1 << 25)
#define TOK_MAX_PIECE  4096       /* bytes in one vocabulary piece */

enum {
    TOK_F_PRESENT = 1, /* the id has a piece */
    TOK_F_MODEL = 2,   /* in the BPE model vocabulary (merge_word may produce it) */
    TOK_F_ADDED = 4,   /* an added token (matched in the text before the model runs) */
    TOK_F_SPECIAL = 8, /* special: plain text in untrusted mode, dropped by skip_special */
};

/* Open-addressing map piece -> id. A slot holds (hash >> 32) << 32 | (id + 1);
 * 0 is empty. The hash tag skips most piece comparisons (cache misses). */
struct tok_strmap {
    uint64_t *slots;
    uint64_t mask;
};

/* Open-addressing map (left id, right id) -> (rank, merged id). */
struct tok_merge_slot {
    uint64_t key; /* left << 32 | right */
    uint32_t rank; /* UINT32_MAX marks an empty slot */
    int32_t new_id;
};
struct tok_mergemap {
    struct tok_merge_slot *slots;
    uint64_t mask;
    uint64_t n;
};

/* Byte trie over added-token contents: node 0 is the root. */
struct tok_trie_node {
    int32_t child;    /* first child, -1 if none */
    int32_t sibling;  /* next sibling, -1 if none */
    int32_t added;    /* index into added[] when a token ends here, else -1 */
    uint8_t byte;
};
struct tok_trie {
    struct tok_trie_node *nodes;
    size_t n, cap;
    int32_t root_child[256]; /* child of the root by first byte, -1 if none */
};

struct tok_added {
    uint32_t off, len;  /* content, in the arena (normalized content for normalized tokens) */
    int32_t id;
    bool special, lstrip, rstrip, single_word, normalized;
};

enum tok_step_kind {
    TOK_NORM_REPLACE, TOK_NORM_PREPEND,                       /* normalizers */
    TOK_PRE_SPLIT,                                            /* pre-tokenizers */
    TOK_DEC_REPLACE, TOK_DEC_BYTE_FALLBACK, TOK_DEC_FUSE, TOK_DEC_STRIP, /* decoders */
};
enum tok_split_behavior {
    TOK_SPLIT_REMOVED, TOK_SPLIT_ISOLATED, TOK_SPLIT_MERGED_PREV, TOK_SPLIT_MERGED_NEXT,
    TOK_SPLIT_CONTIGUOUS,
};
struct tok_step {
    enum tok_step_kind kind;
    char *pat;         /* owned; Replace/Split pattern, Strip content */
    size_t pat_len;
    char *content;     /* owned; Replace content, Prepend text */
    size_t content_len;
    int behavior;      /* Split */
    bool invert;       /* Split */
    int start, stop;   /* Strip */
};
#define TOK_MAX_STEPS 16

struct g4_tokenizer {
    int32_t n_vocab;              /* ids are [0, n_vocab) */
    char *arena;                  /* all pieces and added contents */
    size_t arena_len, arena_cap;
    uint32_t *piece_off;          /* [n_vocab] */
    uint32_t *piece_len;          /* [n_vocab] */
    uint8_t *flags;               /* [n_vocab] TOK_F_* */
    struct tok_strmap map;        /* piece -> id over all present ids */
    struct tok_mergemap merges;
    int32_t byte_id[256];         /* id of "<0xHH>" in the model vocab, or -1 */
    int32_t ascii_id[128];        /* id of the one-char model piece, or -1 (fast path) */
    int32_t *bmp_id;              /* [65536] the same for U+0000..U+FFFF */
    int32_t unk_id;               /* -1: no unk token */
    bool byte_fallback, fuse_unk, ignore_merges;
    struct tok_added *added;      /* [n_added] */
    size_t n_added;
    struct tok_trie trie_raw;     /* added tokens with normalized == false */
    struct tok_trie trie_norm;    /* added tokens with normalized == true */
    struct tok_step norm[TOK_MAX_STEPS];
    int n_norm;
    struct tok_step pre[TOK_MAX_STEPS];
    int n_pre;
    struct tok_step dec[TOK_MAX_STEPS];
    int n_dec;
    bool has_decoder;             /* false: decode joins pieces with " " (HF) */
    int32_t bos, eos;
};

/* vocab.c */
struct g4_tokenizer *tok_alloc(int32_t n_vocab, g4_error *err);
/* Appends bytes to the arena; returns the offset or UINT32_MAX on failure. */
uint32_t tok_arena_add(struct g4_tokenizer *t, const char *s, size_t len);
/* Sets the piece of `id` (copied). An id set twice is an error unless
 * `overwrite`. */
g4_status tok_set_piece(struct g4_tokenizer *t, int32_t id, const char *s, size_t len, uint8_t flags,
                        bool overwrite, const char *name, g4_error *err);
/* Builds the piece map once every piece is set. A piece held by several ids
 * maps to the last one (GGUF; the JSON loader refuses duplicates). */
g4_status tok_build_map(struct g4_tokenizer *t, const char *name, g4_error *err);
int32_t tok_map_find(const struct g4_tokenizer *t, const char *s, size_t len);
/* Adds one present id to a built map (its piece must not be in it yet). */
void tok_map_insert(struct g4_tokenizer *t, int32_t id);
/* The merge table. */
g4_status tok_merges_init(struct g4_tokenizer *t, uint64_t n, g4_error *err);
/* Adds (a, b) -> new_id with `rank`; a later duplicate pair overwrites (HF). */
void tok_merges_put(struct g4_tokenizer *t, int32_t a, int32_t b, uint32_t rank, int32_t new_id);
bool tok_merges_get(const struct g4_tokenizer *t, int32_t a, int32_t b, uint32_t *rank, int32_t *new_id);
/* Resolves "left" + "right" piece strings into a merge of rank `rank`. */
g4_status tok_merge_add_pieces(struct g4_tokenizer *t, const char *a, size_t alen, const char *b, size_t blen,
                               uint32_t rank, const char *name, g4_error *err);
/* Registers an added token (content copied, normalized through the
 * normalizer when `normalized`) and builds nothing yet. */
g4_status tok_added_push(struct g4_tokenizer *t, const struct tok_added *a, const char *content, size_t len,
                         g4_error *err);
/* Builds the tries and fills byte_id/ascii_id; call last. */
g4_status tok_finish(struct g4_tokenizer *t, const char *name, g4_error *err);
/* Applies the normalizer steps to s[0..len) into a malloc'd buffer. */
g4_status tok_normalize(const struct g4_tokenizer *t, const char *s, size_t len, char **out, size_t *out_len,
                        g4_error *err);
void tok_steps_free(struct tok_step *steps, int n);

/* bpe.c: merge_word over one pre-token; appends ids through `emit`. */
struct tok_bpe_scratch;
struct tok_bpe_scratch *tok_bpe_scratch_new(void);
void tok_bpe_scratch_free(struct tok_bpe_scratch *s);
typedef g4_status (*tok_emit_fn)(void *user, int32_t id);
g4_status tok_bpe_word(const struct g4_tokenizer *t, struct tok_bpe_scratch *s, const char *w, size_t len,
                       tok_emit_fn emit, void *user, g4_error *err);

/* UTF-8: length of the valid sequence at s (1..4), or 0 if s[0] starts no
 * valid sequence (then the byte stands alone). */
size_t tok_utf8_len(const unsigned char *s, size_t avail);
/* Unicode White_Space at s (for lstrip/rstrip); returns its byte length or 0. */
size_t tok_space_len(const unsigned char *s, size_t avail);

#endif
