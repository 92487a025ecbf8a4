/* gguf.c — GGUF v2/v3 reader (see gguf.h for the contract).
 * Layout (little-endian): "GGUF", u32 version, u64 n_tensors, u64 n_kv;
 * n_kv x {string key, u32 type, value}; n_tensors x {string name, u32 n_dims,
 * i64 ne[n_dims], u32 type, u64 offset}; padding to general.alignment; the
 * tensor data section. A string is u64 length + bytes; an array value is
 * u32 element type + u64 count + elements. v2 and v3 share this layout (v3
 * only added big-endian files, which carry no marker and are refused by the
 * version check); v1 used 32-bit counts and is refused.
 * Invariant: nothing from the file is used before it is checked against the
 * bytes that remain, and every count is bounded by those bytes before any
 * allocation. Arrays of arrays are refused, as llama.cpp's gguf.cpp does. */
#include "io/gguf.h"
#include "tensor/types.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define GGUF_MAGIC "GGUF"
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_NAME 64 /* tensor names are shorter than this (GGML_MAX_NAME) */
/* Smallest encodings, used to bound counts before allocating:
 * kv = key length (8) + type (4) + a 1-byte value; tensor info = name length
 * (8) + n_dims (4) + one dimension (8) + type (4) + offset (8). */
#define GGUF_MIN_KV_BYTES 13
#define GGUF_MIN_TENSOR_BYTES 32

/* ---- Little-endian loads -------------------------------------------------- */

static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32; }

/* ---- Cursor over the image ------------------------------------------------ */

struct reader {
    const uint8_t *base;
    uint64_t size, pos;
    const char *name; /* for messages */
    g4_error *err;
};

/* Copies up to 64 bytes of s into buf for messages, replacing bytes that are
 * not printable ASCII with '?' and marking truncation with "...". */
static const char *show(struct gguf_str s, char buf[80]) {
    uint64_t n = s.len < 64 ? s.len : 64;
    for (uint64_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.s[i];
        buf[i] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
    }
    if (s.len > n) memcpy(buf + n, "...", 3), n += 3;
    buf[n] = 0;
    return buf;
}

static g4_status truncated(struct reader *r, const char *what, uint64_t need) {
    return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos,
                      "%s: truncated: %s at offset %" PRIu64 " needs %" PRIu64 " bytes, only %" PRIu64 " left",
                      r->name, what, r->pos, need, r->size - r->pos);
}

static uint64_t left(const struct reader *r) { return r->size - r->pos; }

static g4_status rd_u32(struct reader *r, const char *what, uint32_t *v) {
    if (left(r) < 4) return truncated(r, what, 4);
    *v = ld32(r->base + r->pos);
    r->pos += 4;
    return G4_OK;
}

static g4_status rd_u64(struct reader *r, const char *what, uint64_t *v) {
    if (left(r) < 8) return truncated(r, what, 8);
    *v = ld64(r->base + r->pos);
    r->pos += 8;
    return G4_OK;
}

static g4_status rd_str(struct reader *r, const char *what, struct gguf_str *s) {
    uint64_t len = 0;
    g4_status st = rd_u64(r, what, &len);
    if (st) return st;
    if (len > left(r)) {
        r->pos -= 8;
        return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos,
                          "%s: %s at offset %" PRIu64 " has length %" PRIu64 " but only %" PRIu64 " bytes follow",
                          r->name, what, r->pos, len, left(r) - 8);
    }
    s->s = (const char *)r->base + r->pos;
    s->len = len;
    r->pos += len;
    return G4_OK;
}

/* ---- Value types ---------------------------------------------------------- */

static const char *const vtype_names[GGUF_T_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
};

/* Bytes of one fixed-size value; 0 for string and array. */
static uint64_t vtype_size(uint32_t t) {
    static const uint8_t sizes[GGUF_T_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < GGUF_T_COUNT ? sizes[t] : 0;
}

/* Reads `n` values of scalar type `t` (not array) into kv at the cursor.
 * Strings get an owned index in kv->strs. */
static g4_status read_values(struct reader *r, struct gguf_kv *kv, uint32_t t, uint64_t n) {
    char kb[80];
    kv->data = r->base + r->pos;
    if (t != GGUF_T_STRING) {
        uint64_t sz = vtype_size(t), bytes;
        if (!g4_mul_ok(n, sz, &bytes) || bytes > left(r))
            return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos,
                              "%s: key '%s': %" PRIu64 " values of type %s need more than the %" PRIu64 " bytes left",
                              r->name, show(kv->key, kb), n, vtype_names[t], left(r));
        r->pos += bytes;
        return G4_OK;
    }
    /* every string takes at least its 8-byte length: bound n before allocating */
    if (n > left(r) / 8)
        return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos,
                          "%s: key '%s': %" PRIu64 " strings cannot fit in the %" PRIu64 " bytes left",
                          r->name, show(kv->key, kb), n, left(r));
    kv->strs = calloc(n ? n : 1, sizeof *kv->strs);
    if (!kv->strs)
        return g4_fail(r->err, G4_ERR_NOMEM, "%s: key '%s': out of memory for %" PRIu64 " strings", r->name,
                       show(kv->key, kb), n);
    for (uint64_t i = 0; i < n; i++) {
        const uint64_t at = r->pos;
        if (left(r) < 8)
            return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)at,
                              "%s: key '%s': string %" PRIu64 " of %" PRIu64 " at offset %" PRIu64 ": truncated length",
                              r->name, show(kv->key, kb), i, n, at);
        const uint64_t len = ld64(r->base + at);
        if (len > left(r) - 8)
            return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)at,
                              "%s: key '%s': string %" PRIu64 " of %" PRIu64 " at offset %" PRIu64 " has length %" PRIu64
                              " but only %" PRIu64 " bytes follow",
                              r->name, show(kv->key, kb), i, n, at, len, left(r) - 8);
        kv->strs[i].s = (const char *)r->base + at + 8;
        kv->strs[i].len = len;
        r->pos = at + 8 + len;
    }
    return G4_OK;
}

static g4_status read_kv(struct reader *r, struct gguf_kv *kv) {
    char kb[80];
    g4_status st = rd_str(r, "key", &kv->key);
    if (st) return st;
    uint32_t t;
    if ((st = rd_u32(r, "value type", &t))) return st;
    if (t >= GGUF_T_COUNT)
        return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos - 4, "%s: key '%s': unknown value type %" PRIu32,
                          r->name, show(kv->key, kb), t);
    kv->type = t;
    kv->n = 1;
    if (t == GGUF_T_ARRAY) {
        uint32_t at;
        if ((st = rd_u32(r, "array element type", &at))) return st;
        if (at == GGUF_T_ARRAY)
            return g4_fail_at(r->err, G4_ERR_UNSUPPORTED, (int64_t)r->pos - 4,
                              "%s: key '%s': arrays of arrays are not supported", r->name, show(kv->key, kb));
        if (at >= GGUF_T_COUNT)
            return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos - 4,
                              "%s: key '%s': unknown array element type %" PRIu32, r->name, show(kv->key, kb), at);
        kv->arr_type = at;
        if ((st = rd_u64(r, "array length", &kv->n))) return st;
        return read_values(r, kv, at, kv->n);
    }
    return read_values(r, kv, t, 1);
}

/* ---- Sorted indexes (duplicates, lookup, overlap) ------------------------- */

static int str_cmp(struct gguf_str a, struct gguf_str b) {
    uint64_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.s, b.s, (size_t)n) : 0;
    if (c) return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

static int kv_ptr_cmp(const void *a, const void *b) {
    const struct gguf_kv *x = *(const struct gguf_kv *const *)a, *y = *(const struct gguf_kv *const *)b;
    int c = str_cmp(x->key, y->key);
    return c ? c : (x < y ? -1 : x > y); /* stable: ties by position */
}

static int ti_name_cmp(const void *a, const void *b) {
    const struct gguf_tensor_info *x = *(const struct gguf_tensor_info *const *)a;
    const struct gguf_tensor_info *y = *(const struct gguf_tensor_info *const *)b;
    int c = str_cmp(x->name, y->name);
    return c ? c : (x < y ? -1 : x > y);
}

static int ti_offset_cmp(const void *a, const void *b) {
    const struct gguf_tensor_info *x = *(const struct gguf_tensor_info *const *)a;
    const struct gguf_tensor_info *y = *(const struct gguf_tensor_info *const *)b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* ---- Tensor infos --------------------------------------------------------- */

static g4_status read_tensor_info(struct reader *r, uint64_t idx, uint64_t alignment, struct gguf_tensor_info *ti) {
    char nb[80];
    const uint64_t start = r->pos;
    g4_status st = rd_str(r, "tensor name", &ti->name);
    if (st) return st;
    const char *nm = show(ti->name, nb);
    if (ti->name.len >= GGUF_MAX_NAME)
        return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)start,
                          "%s: tensor %" PRIu64 " '%s': name is %" PRIu64 " bytes, the limit is %d", r->name, idx, nm,
                          ti->name.len, GGUF_MAX_NAME - 1);
    if ((st = rd_u32(r, "tensor n_dims", &ti->n_dims))) return st;
    if (ti->n_dims < 1 || ti->n_dims > 4)
        return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos - 4,
                          "%s: tensor '%s': n_dims is %" PRIu32 ", must be 1..4", r->name, nm, ti->n_dims);
    uint64_t nelem = 1;
    for (int j = 0; j < 4; j++) {
        uint64_t v = 1;
        if ((uint32_t)j < ti->n_dims && (st = rd_u64(r, "tensor dimension", &v))) return st;
        if (v > (uint64_t)INT64_MAX)
            return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos - 8,
                              "%s: tensor '%s': dimension %d is negative (%" PRId64 ")", r->name, nm, j, (int64_t)v);
        ti->ne[j] = (int64_t)v;
        if (!g4_mul_ok(nelem, v, &nelem) || nelem > (uint64_t)INT64_MAX)
            return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos - 8,
                              "%s: tensor '%s': element count overflows at dimension %d (%" PRId64 ")", r->name, nm, j,
                              (int64_t)v);
    }
    if ((st = rd_u32(r, "tensor type", &ti->type))) return st;
    const struct g4_type_traits *tt = g4_type_traits(ti->type);
    if (!tt)
        return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos - 4, "%s: tensor '%s': unknown tensor type id %" PRIu32,
                          r->name, nm, ti->type);
    uint64_t row;
    if ((uint64_t)ti->ne[0] % (uint64_t)tt->blck)
        return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos - 4,
                          "%s: tensor '%s': row of %" PRId64 " elements is not a multiple of the %s block size %d", r->name,
                          nm, ti->ne[0], tt->name, tt->blck);
    if (!g4_row_bytes(ti->type, (uint64_t)ti->ne[0], &row) || !g4_mul_ok(row, (uint64_t)ti->ne[1], &ti->nbytes) ||
        !g4_mul_ok(ti->nbytes, (uint64_t)ti->ne[2], &ti->nbytes) || !g4_mul_ok(ti->nbytes, (uint64_t)ti->ne[3], &ti->nbytes))
        return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)start, "%s: tensor '%s': byte size overflows", r->name, nm);
    if ((st = rd_u64(r, "tensor offset", &ti->offset))) return st;
    if (ti->offset % alignment)
        return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos - 8,
                          "%s: tensor '%s': data offset %" PRIu64 " is not a multiple of the alignment %" PRIu64, r->name,
                          nm, ti->offset, alignment);
    return G4_OK;
}

/* ---- Parse ---------------------------------------------------------------- */

static g4_status parse_header(struct gguf_file *g, struct reader *r) {
    if (r->size < 4 || memcmp(r->base, GGUF_MAGIC, 4) != 0) {
        if (r->size < 4) return truncated(r, "magic", 4);
        return g4_fail_at(r->err, G4_ERR_FORMAT, 0, "%s: not a GGUF file (bad magic %02x %02x %02x %02x, expected 'GGUF')",
                          r->name, r->base[0], r->base[1], r->base[2], r->base[3]);
    }
    r->pos = 4;
    g4_status st;
    if ((st = rd_u32(r, "version", &g->version))) return st;
    if (g->version == 1)
        return g4_fail_at(r->err, G4_ERR_UNSUPPORTED, 4, "%s: GGUF version 1 is not supported (only v2 and v3)", r->name);
    if (g->version != 2 && g->version != 3) {
        if (g->version && (g->version & 0xFFFF) == 0)
            return g4_fail_at(r->err, G4_ERR_UNSUPPORTED, 4,
                              "%s: GGUF version 0x%08" PRIx32 " looks byte-swapped: big-endian files are not supported",
                              r->name, g->version);
        return g4_fail_at(r->err, G4_ERR_UNSUPPORTED, 4, "%s: unsupported GGUF version %" PRIu32 " (only v2 and v3)",
                          r->name, g->version);
    }
    if ((st = rd_u64(r, "tensor count", &g->n_tensors))) return st;
    if ((st = rd_u64(r, "key-value count", &g->n_kv))) return st;
    if (g->n_kv > left(r) / GGUF_MIN_KV_BYTES)
        return g4_fail_at(r->err, G4_ERR_FORMAT, 16,
                          "%s: key-value count %" PRIu64 " cannot fit in the %" PRIu64 " bytes left (each needs at least %d)",
                          r->name, g->n_kv, left(r), GGUF_MIN_KV_BYTES);
    if (g->n_tensors > left(r) / GGUF_MIN_TENSOR_BYTES)
        return g4_fail_at(r->err, G4_ERR_FORMAT, 8,
                          "%s: tensor count %" PRIu64 " cannot fit in the %" PRIu64 " bytes left (each needs at least %d)",
                          r->name, g->n_tensors, left(r), GGUF_MIN_TENSOR_BYTES);
    return G4_OK;
}

static g4_status parse_kvs(struct gguf_file *g, struct reader *r) {
    char kb[80];
    g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv);
    g->kv_by_key = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv_by_key);
    if (!g->kv || !g->kv_by_key) return g4_fail(r->err, G4_ERR_NOMEM, "%s: out of memory for %" PRIu64 " keys", r->name, g->n_kv);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        g4_status st = read_kv(r, &g->kv[i]);
        if (st) return st;
        g->kv_by_key[i] = &g->kv[i];
    }
    qsort(g->kv_by_key, (size_t)g->n_kv, sizeof *g->kv_by_key, kv_ptr_cmp);
    for (uint64_t i = 1; i < g->n_kv; i++)
        if (str_cmp(g->kv_by_key[i - 1]->key, g->kv_by_key[i]->key) == 0)
            return g4_fail(r->err, G4_ERR_FORMAT, "%s: duplicate key '%s' (entries %td and %td)", r->name,
                           show(g->kv_by_key[i]->key, kb), g->kv_by_key[i - 1] - g->kv, g->kv_by_key[i] - g->kv);

    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    const struct gguf_kv *a = gguf_find(g, "general.alignment");
    if (a) {
        uint64_t v;
        if (!gguf_get_u64(g, "general.alignment", &v))
            return g4_fail(r->err, G4_ERR_FORMAT, "%s: general.alignment must be a non-negative integer, not %s", r->name,
                           a->type == GGUF_T_ARRAY ? "an array" : vtype_names[a->type]);
        if (v == 0 || (v & (v - 1)))
            return g4_fail(r->err, G4_ERR_FORMAT, "%s: general.alignment %" PRIu64 " is not a power of two", r->name, v);
        g->alignment = v;
    }
    return G4_OK;
}

static g4_status parse_tensors(struct gguf_file *g, struct reader *r) {
    char nb[80], nb2[80];
    const size_t nt = (size_t)g->n_tensors;
    if (g->n_tensors > left(r) / GGUF_MIN_TENSOR_BYTES) /* recheck against what the keys left */
        return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos,
                          "%s: tensor count %" PRIu64 " cannot fit in the %" PRIu64 " bytes left after the keys (each needs at least %d)",
                          r->name, g->n_tensors, left(r), GGUF_MIN_TENSOR_BYTES);
    g->tensors = calloc(nt ? nt : 1, sizeof *g->tensors);
    g->tensor_by_name = calloc(nt ? nt : 1, sizeof *g->tensor_by_name);
    if (!g->tensors || !g->tensor_by_name)
        return g4_fail(r->err, G4_ERR_NOMEM, "%s: out of memory for %" PRIu64 " tensors", r->name, g->n_tensors);
    for (size_t i = 0; i < nt; i++) {
        g4_status st = read_tensor_info(r, i, g->alignment, &g->tensors[i]);
        if (st) return st;
        g->tensor_by_name[i] = &g->tensors[i];
    }
    qsort(g->tensor_by_name, nt, sizeof *g->tensor_by_name, ti_name_cmp);
    for (size_t i = 1; i < nt; i++)
        if (str_cmp(g->tensor_by_name[i - 1]->name, g->tensor_by_name[i]->name) == 0)
            return g4_fail(r->err, G4_ERR_FORMAT, "%s: duplicate tensor name '%s' (tensors %td and %td)", r->name,
                           show(g->tensor_by_name[i]->name, nb), g->tensor_by_name[i - 1] - g->tensors,
                           g->tensor_by_name[i] - g->tensors);

    /* the data section starts at the next multiple of the alignment */
    uint64_t pad = (g->alignment - r->pos % g->alignment) % g->alignment;
    if (!g4_add_ok(r->pos, pad, &g->data_offset))
        return g4_fail(r->err, G4_ERR_FORMAT, "%s: data section offset overflows", r->name);
    if (nt && g->data_offset > r->size)
        return g4_fail_at(r->err, G4_ERR_FORMAT, (int64_t)r->pos,
                          "%s: data section starts at %" PRIu64 ", beyond end of file (size %" PRIu64 ")", r->name,
                          g->data_offset, r->size);
    for (size_t i = 0; i < nt; i++) {
        struct gguf_tensor_info *ti = &g->tensors[i];
        uint64_t beg, end;
        if (!g4_add_ok(g->data_offset, ti->offset, &beg) || !g4_add_ok(beg, ti->nbytes, &end) || end > r->size) {
            if (beg < g->data_offset) beg = UINT64_MAX; /* offset overflowed: show the saturated value */
            return g4_fail_at(r->err, G4_ERR_FORMAT, -1,
                              "%s: tensor '%s': data [%" PRIu64 ", %" PRIu64 " + %" PRIu64 ") beyond end of file (size %" PRIu64 ")",
                              r->name, show(ti->name, nb), beg, beg, ti->nbytes, r->size);
        }
        ti->data = r->base + beg;
    }

    /* data ranges must not overlap (empty tensors occupy nothing) */
    const struct gguf_tensor_info **by_off = malloc((nt ? nt : 1) * sizeof *by_off);
    if (!by_off) return g4_fail(r->err, G4_ERR_NOMEM, "%s: out of memory", r->name);
    memcpy(by_off, g->tensor_by_name, nt * sizeof *by_off);
    qsort(by_off, nt, sizeof *by_off, ti_offset_cmp);
    const struct gguf_tensor_info *prev = NULL;
    g4_status st = G4_OK;
    for (size_t i = 0; i < nt && !st; i++) {
        const struct gguf_tensor_info *ti = by_off[i];
        if (!ti->nbytes) continue;
        if (prev && ti->offset < prev->offset + prev->nbytes)
            st = g4_fail(r->err, G4_ERR_FORMAT,
                         "%s: tensor '%s': data [%" PRIu64 ", %" PRIu64 ") overlaps tensor '%s' [%" PRIu64 ", %" PRIu64 ")",
                         r->name, show(ti->name, nb), g->data_offset + ti->offset, g->data_offset + ti->offset + ti->nbytes,
                         show(prev->name, nb2), g->data_offset + prev->offset, g->data_offset + prev->offset + prev->nbytes);
        prev = ti;
    }
    free(by_off);
    return st;
}

g4_status gguf_parse(struct gguf_file *g, const uint8_t *data, uint64_t size, const char *name, g4_error *err) {
    memset(g, 0, sizeof *g);
    g->name = name ? name : "gguf";
    struct reader r = {data, data ? size : 0, 0, g->name, err};
    g4_status st = parse_header(g, &r);
    if (!st) st = parse_kvs(g, &r);
    if (!st) st = parse_tensors(g, &r);
    if (st) gguf_close(g);
    return st;
}

g4_status gguf_open(struct gguf_file *g, const char *path, g4_error *err) {
    struct g4_mapfile map;
    memset(g, 0, sizeof *g);
    g4_status st = g4_mapfile_open(&map, path, err);
    if (st) return st;
    st = gguf_parse(g, map.data, map.size, map.path, err);
    if (st) {
        g4_mapfile_close(&map);
        return st;
    }
    g->map = map;
    return G4_OK;
}

void gguf_close(struct gguf_file *g) {
    if (!g) return;
    if (g->kv)
        for (uint64_t i = 0; i < g->n_kv; i++) free(g->kv[i].strs);
    free(g->kv);
    free(g->kv_by_key);
    free(g->tensors);
    free(g->tensor_by_name);
    g4_mapfile_close(&g->map);
    memset(g, 0, sizeof *g);
}

/* ---- Lookup --------------------------------------------------------------- */

static int str_cmp_c(struct gguf_str a, const char *c) {
    struct gguf_str b = {c, strlen(c)};
    return str_cmp(a, b);
}

const struct gguf_kv *gguf_find(const struct gguf_file *g, const char *key) {
    uint64_t lo = 0, hi = g->n_kv;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = str_cmp_c(g->kv_by_key[mid]->key, key);
        if (c == 0) return g->kv_by_key[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const struct gguf_tensor_info *gguf_find_tensor(const struct gguf_file *g, const char *name) {
    uint64_t lo = 0, hi = g->n_tensors;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = str_cmp_c(g->tensor_by_name[mid]->name, name);
        if (c == 0) return g->tensor_by_name[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

bool gguf_str_eq(struct gguf_str s, const char *c) { return str_cmp_c(s, c) == 0; }

/* ---- Typed access --------------------------------------------------------- */

/* Element type of a kv: the array's element type, or the scalar's type. */
static uint32_t elem_type(const struct gguf_kv *kv) { return kv->type == GGUF_T_ARRAY ? kv->arr_type : kv->type; }

/* Loads integer element i; *neg says a signed value is negative (then *sv holds it). */
static bool load_int(const struct gguf_kv *kv, uint64_t i, uint64_t *uv, int64_t *sv, bool *neg) {
    const uint32_t t = elem_type(kv);
    if (i >= kv->n) return false;
    const uint8_t *p = kv->data + i * vtype_size(t);
    int64_t s;
    switch (t) {
    case GGUF_T_U8: *uv = p[0]; *neg = false; return true;
    case GGUF_T_U16: *uv = ld16(p); *neg = false; return true;
    case GGUF_T_U32: *uv = ld32(p); *neg = false; return true;
    case GGUF_T_U64: *uv = ld64(p); *neg = false; return true;
    case GGUF_T_I8: s = (int8_t)p[0]; break;
    case GGUF_T_I16: s = (int16_t)ld16(p); break;
    case GGUF_T_I32: s = (int32_t)ld32(p); break;
    case GGUF_T_I64: s = (int64_t)ld64(p); break;
    default: return false;
    }
    *sv = s;
    *neg = s < 0;
    *uv = s < 0 ? 0 : (uint64_t)s;
    return true;
}

static bool load_f32(const struct gguf_kv *kv, uint64_t i, float *out) {
    const uint32_t t = elem_type(kv);
    if (i >= kv->n) return false;
    if (t == GGUF_T_F32) {
        uint32_t u = ld32(kv->data + 4 * i);
        memcpy(out, &u, 4);
        return true;
    }
    if (t == GGUF_T_F64) {
        uint64_t u = ld64(kv->data + 8 * i);
        double d;
        memcpy(&d, &u, 8);
        *out = (float)d;
        return true;
    }
    return false;
}

bool gguf_get_u64(const struct gguf_file *g, const char *key, uint64_t *out) {
    const struct gguf_kv *kv = gguf_find(g, key);
    uint64_t u;
    int64_t s;
    bool neg;
    if (!kv || kv->type == GGUF_T_ARRAY || !load_int(kv, 0, &u, &s, &neg) || neg) return false;
    *out = u;
    return true;
}

bool gguf_get_u32(const struct gguf_file *g, const char *key, uint32_t *out) {
    uint64_t u;
    if (!gguf_get_u64(g, key, &u) || u > UINT32_MAX) return false;
    *out = (uint32_t)u;
    return true;
}

bool gguf_get_f32(const struct gguf_file *g, const char *key, float *out) {
    const struct gguf_kv *kv = gguf_find(g, key);
    return kv && kv->type != GGUF_T_ARRAY && load_f32(kv, 0, out);
}

bool gguf_get_bool(const struct gguf_file *g, const char *key, bool *out) {
    const struct gguf_kv *kv = gguf_find(g, key);
    if (!kv || kv->type != GGUF_T_BOOL) return false;
    *out = kv->data[0] != 0;
    return true;
}

bool gguf_get_str(const struct gguf_file *g, const char *key, struct gguf_str *out) {
    const struct gguf_kv *kv = gguf_find(g, key);
    if (!kv || kv->type != GGUF_T_STRING) return false;
    *out = kv->strs[0];
    return true;
}

bool gguf_arr_str(const struct gguf_kv *kv, uint64_t i, struct gguf_str *out) {
    if (elem_type(kv) != GGUF_T_STRING || i >= kv->n) return false;
    *out = kv->strs[i];
    return true;
}

bool gguf_arr_f32(const struct gguf_kv *kv, uint64_t i, float *out) { return load_f32(kv, i, out); }

bool gguf_arr_i64(const struct gguf_kv *kv, uint64_t i, int64_t *out) {
    if (elem_type(kv) == GGUF_T_BOOL) {
        if (i >= kv->n) return false;
        *out = kv->data[i] != 0;
        return true;
    }
    uint64_t u;
    int64_t s;
    bool neg;
    if (!load_int(kv, i, &u, &s, &neg)) return false;
    if (neg) {
        *out = s;
        return true;
    }
    if (u > (uint64_t)INT64_MAX) return false;
    *out = (int64_t)u;
    return true;
}
