/* safetensors.c — validating safetensors parser (see safetensors.h).
 * Nothing from the file is trusted: the header length is checked against the
 * file, every number is range-checked with overflow-checked arithmetic, and
 * tensors are added to the directory only after all of them validated. */
#include "io/safetensors.h"

#include "tensor/types.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int type;
} dtypes[] = {
    {"F32", G4_TYPE_F32}, {"F16", G4_TYPE_F16}, {"BF16", G4_TYPE_BF16}, {"F64", G4_TYPE_F64},
    {"I8", G4_TYPE_I8},   {"I16", G4_TYPE_I16}, {"I32", G4_TYPE_I32},   {"I64", G4_TYPE_I64},
};

int g4_safetensors_dtype(const char *dtype) {
    for (size_t i = 0; i < G4_ARRAY_LEN(dtypes); i++)
        if (strcmp(dtypes[i].name, dtype) == 0) return dtypes[i].type;
    return -1;
}

/* dtypes that exist in the format but g4 does not compute with */
static bool known_unsupported(const char *d) {
    static const char *const names[] = {"U8", "U16", "U32", "U64", "BOOL", "F8_E4M3", "F8_E5M2",
                                        "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64"};
    for (size_t i = 0; i < G4_ARRAY_LEN(names); i++)
        if (strcmp(names[i], d) == 0) return true;
    return false;
}

struct span {
    uint64_t begin, end;
    int idx;
};

static int span_cmp(const void *a, const void *b) {
    const struct span *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Reads a JSON integer in [0, INT64_MAX]. */
static bool get_u64(const json_t *v, uint64_t *out) {
    if (!json_is_integer(v)) return false;
    json_int_t x = json_integer_value(v);
    if (x < 0) return false;
    *out = (uint64_t)x;
    return true;
}

static g4_status parse_entry(const char *name, const char *key, const json_t *v, uint64_t data_size,
                             uint64_t data_base, struct g4_tensor *t, struct span *sp, g4_error *err) {
    if (!json_is_object(v)) return g4_fail(err, G4_ERR_FORMAT, "%s: tensor '%s': entry is not an object", name, key);
    size_t klen = strlen(key);
    if (klen == 0 || klen > 1024) return g4_fail(err, G4_ERR_FORMAT, "%s: tensor name of length %zu", name, klen);
    const json_t *jd = json_object_get(v, "dtype"), *js = json_object_get(v, "shape"),
                 *jo = json_object_get(v, "data_offsets");
    if (!json_is_string(jd)) return g4_fail(err, G4_ERR_FORMAT, "%s: tensor '%s': missing string 'dtype'", name, key);
    if (!json_is_array(js)) return g4_fail(err, G4_ERR_FORMAT, "%s: tensor '%s': missing array 'shape'", name, key);
    if (!json_is_array(jo) || json_array_size(jo) != 2)
        return g4_fail(err, G4_ERR_FORMAT, "%s: tensor '%s': 'data_offsets' must be [begin, end]", name, key);
    const char *dt = json_string_value(jd);
    int type = g4_safetensors_dtype(dt);
    if (type < 0) {
        if (known_unsupported(dt))
            return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s is not supported (use F32, F16 or BF16)",
                           name, key, dt);
        return g4_fail(err, G4_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%.32s'", name, key, dt);
    }
    size_t nd = json_array_size(js);
    if (nd > 4) return g4_fail(err, G4_ERR_UNSUPPORTED, "%s: tensor '%s': %zu dimensions (at most 4)", name, key, nd);
    memset(t, 0, sizeof *t);
    t->type = (uint32_t)type;
    t->n_dims = nd ? (int)nd : 1;
    for (int i = 0; i < 4; i++) t->ne[i] = 1;
    uint64_t nelem = 1;
    for (size_t i = 0; i < nd; i++) {
        uint64_t d;
        if (!get_u64(json_array_get(js, i), &d) || d > (uint64_t)INT64_MAX)
            return g4_fail(err, G4_ERR_FORMAT, "%s: tensor '%s': shape[%zu] is not a non-negative integer", name, key, i);
        if (!g4_mul_ok(nelem, d, &nelem) || nelem > (uint64_t)INT64_MAX)
            return g4_fail(err, G4_ERR_FORMAT, "%s: tensor '%s': shape overflows", name, key);
        t->ne[nd - 1 - i] = (int64_t)d; /* PyTorch order is outermost first */
    }
    uint64_t begin, end, nbytes;
    if (!get_u64(json_array_get(jo, 0), &begin) || !get_u64(json_array_get(jo, 1), &end))
        return g4_fail(err, G4_ERR_FORMAT, "%s: tensor '%s': data_offsets are not non-negative integers", name, key);
    if (begin > end || end > data_size)
        return g4_fail_at(err, G4_ERR_FORMAT, (int64_t)(data_base + G4_MIN(begin, data_size)),
                          "%s: tensor '%s': data_offsets [%llu, %llu] out of range (data section is %llu bytes)", name,
                          key, (unsigned long long)begin, (unsigned long long)end, (unsigned long long)data_size);
    const struct g4_type_traits *tr = g4_type_traits((uint32_t)type);
    if (!g4_mul_ok(nelem, (uint64_t)tr->size, &nbytes) || nbytes != end - begin)
        return g4_fail(err, G4_ERR_FORMAT, "%s: tensor '%s': %llu bytes at data_offsets but dtype %s x shape needs %llu",
                       name, key, (unsigned long long)(end - begin), dt, (unsigned long long)nbytes);
    if ((data_base + begin) % (uint64_t)tr->size)
        return g4_fail(err, G4_ERR_FORMAT, "%s: tensor '%s': data is not aligned to its %d-byte elements", name, key,
                       tr->size);
    t->nbytes = nbytes;
    sp->begin = begin;
    sp->end = end;
    return G4_OK;
}

g4_status g4_safetensors_parse(const uint8_t *data, uint64_t size, const char *name, int file,
                               struct g4_tensordir *dir, g4_error *err) {
    if (size < 8) return g4_fail(err, G4_ERR_FORMAT, "%s: file too short for a safetensors header (%llu bytes)", name,
                                 (unsigned long long)size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | data[i];
    if (hlen > size - 8)
        return g4_fail_at(err, G4_ERR_FORMAT, 0, "%s: header length %llu exceeds the file (%llu bytes)", name,
                          (unsigned long long)hlen, (unsigned long long)size);
    if (hlen > G4_SAFETENSORS_MAX_HEADER)
        return g4_fail_at(err, G4_ERR_RANGE, 0, "%s: header length %llu exceeds the limit", name, (unsigned long long)hlen);
    if (hlen < 2 || data[8] != '{')
        return g4_fail_at(err, G4_ERR_FORMAT, 8, "%s: header is not a JSON object", name);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return g4_fail_at(err, G4_ERR_FORMAT, 8 + jerr.position, "%s: header is not valid JSON: %s", name, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return g4_fail_at(err, G4_ERR_FORMAT, 8, "%s: header is not a JSON object", name);
    }
    uint64_t base = 8 + hlen, data_size = size - base;
    size_t n = json_object_size(root);
    struct g4_tensor *ts = calloc(n ? n : 1, sizeof *ts);
    struct span *sp = calloc(n ? n : 1, sizeof *sp);
    const char **names = calloc(n ? n : 1, sizeof *names);
    g4_status st = G4_OK;
    if (!ts || !sp || !names) {
        st = g4_fail(err, G4_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_is_object(v)) {
                st = g4_fail(err, G4_ERR_FORMAT, "%s: __metadata__ is not an object", name);
                goto done;
            }
            continue;
        }
        st = parse_entry(name, key, v, data_size, base, &ts[k], &sp[k], err);
        if (st) goto done;
        ts[k].data = data + base + sp[k].begin;
        ts[k].file = file;
        sp[k].idx = (int)k;
        names[k] = key;
        k++;
    }
    qsort(sp, k, sizeof *sp, span_cmp);
    for (size_t i = 1; i < k; i++) {
        /* zero-size tensors occupy nothing and cannot overlap */
        if (sp[i].begin == sp[i].end) continue;
        for (size_t j = i; j-- > 0;) {
            if (sp[j].begin == sp[j].end) continue;
            if (sp[j].end > sp[i].begin) {
                st = g4_fail_at(err, G4_ERR_FORMAT, (int64_t)(base + sp[i].begin),
                                "%s: tensors '%s' and '%s' overlap in the data section", name, names[sp[j].idx],
                                names[sp[i].idx]);
                goto done;
            }
            break;
        }
    }
    for (size_t i = 0; i < k; i++) {
        ts[i].name = (char *)names[i];
        st = g4_tensordir_add(dir, &ts[i], err);
        if (st) {
            g4_error_prefix(err, name);
            goto done;
        }
    }
done:
    free(ts);
    free(sp);
    free(names);
    json_decref(root);
    return st;
}
