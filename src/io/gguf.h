/* gguf.h — GGUF v2/v3 reader (the layout llama.cpp writes).
 * gguf_parse() checks everything before use: magic, version, counts against
 * the bytes left, string/array lengths, value types (arrays of arrays are
 * refused, as llama.cpp does), duplicate keys and tensor names,
 * general.alignment (power of two, default 32), tensor names (< 64 bytes),
 * n_dims 1..4, ne >= 0 without overflow, known type ids with whole blocks per
 * row, and data offsets (aligned, inside the file, not overlapping).
 * Keys, strings and tensor data point into the caller's buffer (the mmap),
 * which must outlive the gguf_file; string arrays get an owned O(1) index and
 * lookups are binary searches. A parsed gguf_file is read-only (thread-safe). */
#ifndef G4_IO_GGUF_H
#define G4_IO_GGUF_H

#include "io/mapfile.h"

enum gguf_vtype {
    GGUF_T_U8 = 0, GGUF_T_I8 = 1, GGUF_T_U16 = 2, GGUF_T_I16 = 3,
    GGUF_T_U32 = 4, GGUF_T_I32 = 5, GGUF_T_F32 = 6, GGUF_T_BOOL = 7,
    GGUF_T_STRING = 8, GGUF_T_ARRAY = 9, GGUF_T_U64 = 10, GGUF_T_I64 = 11,
    GGUF_T_F64 = 12, GGUF_T_COUNT = 13,
};

struct gguf_str {
    const char *s; /* not NUL-terminated; points into the buffer */
    uint64_t len;
};

struct gguf_kv {
    struct gguf_str key;
    uint32_t type;          /* enum gguf_vtype */
    uint32_t arr_type;      /* element type when type == GGUF_T_ARRAY */
    uint64_t n;             /* array length; 1 for scalars */
    const uint8_t *data;    /* scalar value, or first array element (unaligned, little-endian) */
    struct gguf_str *strs;  /* [n] owned index for string arrays and string scalars, else NULL */
};

struct gguf_tensor_info {
    struct gguf_str name;
    uint32_t n_dims;        /* 1..4 */
    int64_t ne[4];          /* ne[0] innermost; unused dims are 1 */
    uint32_t type;          /* enum g4_type */
    uint64_t offset;        /* relative to the data section */
    const uint8_t *data;    /* absolute pointer into the buffer */
    uint64_t nbytes;
};

struct gguf_file {
    struct g4_mapfile map;  /* set by gguf_open; empty when parsed from memory */
    const char *name;       /* for messages: the path, or the name given to gguf_parse */
    uint32_t version;
    uint64_t alignment;
    uint64_t n_kv;
    struct gguf_kv *kv;     /* [n_kv] owned */
    uint64_t n_tensors;
    struct gguf_tensor_info *tensors; /* [n_tensors] owned */
    uint64_t data_offset;   /* start of the tensor data section */
    const struct gguf_kv **kv_by_key;                 /* [n_kv] owned, sorted by key (gguf_find) */
    const struct gguf_tensor_info **tensor_by_name;   /* [n_tensors] owned, sorted by name */
};

/* Maps `path` and parses it. On error the struct is left closed. */
g4_status gguf_open(struct gguf_file *g, const char *path, g4_error *err);
/* Parses a GGUF image held in memory (`name` is used in messages and must
 * outlive g). On error g is left closed (zeroed) and err names the file and
 * what is wrong; codes: G4_ERR_FORMAT (malformed), G4_ERR_UNSUPPORTED (v1,
 * v4+, big-endian, arrays of arrays), G4_ERR_NOMEM. */
g4_status gguf_parse(struct gguf_file *g, const uint8_t *data, uint64_t size, const char *name, g4_error *err);
void gguf_close(struct gguf_file *g);

const struct gguf_kv *gguf_find(const struct gguf_file *g, const char *key);
const struct gguf_tensor_info *gguf_find_tensor(const struct gguf_file *g, const char *name);

/* Typed getters; false when the key is missing or has an incompatible type.
 * Integer getters accept any integer type whose value fits. */
bool gguf_get_u32(const struct gguf_file *g, const char *key, uint32_t *out);
bool gguf_get_u64(const struct gguf_file *g, const char *key, uint64_t *out);
bool gguf_get_f32(const struct gguf_file *g, const char *key, float *out); /* also f64 */
bool gguf_get_bool(const struct gguf_file *g, const char *key, bool *out);
bool gguf_get_str(const struct gguf_file *g, const char *key, struct gguf_str *out);

/* Array element access (bounds-checked; false on type mismatch or i >= n).
 * A scalar kv reads as a one-element array. */
bool gguf_arr_str(const struct gguf_kv *kv, uint64_t i, struct gguf_str *out);
bool gguf_arr_f32(const struct gguf_kv *kv, uint64_t i, float *out);
bool gguf_arr_i64(const struct gguf_kv *kv, uint64_t i, int64_t *out); /* any integer or bool element type */

/* Equality of a gguf_str with a C string. */
bool gguf_str_eq(struct gguf_str s, const char *c);

#endif
