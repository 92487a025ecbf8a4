/* test_safetensors.c — the safetensors reader against a file written by the
 * `safetensors` package (scripts/gen_hf_fixtures.py: values compared exactly,
 * since F16/BF16 -> F32 is exact), every truncation of it, and hand-built
 * hostile headers (bad JSON, huge lengths, offsets out of range / overlapping /
 * not matching dtype x shape, bad dtypes, misalignment). Also the tensor
 * directory's hash lookup. */
#include "core/fp16.h"
#include "io/safetensors.h"
#include "tensor/types.h"
#include "test.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASIC "tests/fixtures/hf/st/basic.safetensors"

static double elem(const struct g4_tensor *t, int64_t i) {
    const uint8_t *p = t->data;
    switch (t->type) {
    case G4_TYPE_F32: { float f; memcpy(&f, p + 4 * i, 4); return f; }
    case G4_TYPE_F16: { uint16_t h; memcpy(&h, p + 2 * i, 2); return g4_f16_to_f32(h); }
    case G4_TYPE_BF16: { uint16_t h; memcpy(&h, p + 2 * i, 2); return g4_bf16_to_f32(h); }
    case G4_TYPE_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
    }
    return NAN;
}

static void test_basic_values(void) {
    size_t n = 0, jn = 0;
    char *buf = test_read_file(BASIC, &n);
    char *js = test_read_file("tests/fixtures/hf/st/basic.json", &jn);
    CHECK(buf && js);
    if (!buf || !js) return;
    struct g4_tensordir d;
    g4_tensordir_init(&d);
    g4_error e;
    g4_status s = g4_safetensors_parse((const uint8_t *)buf, n, "basic", 3, &d, &e);
    CHECKF(s == G4_OK, "parse: %s", e.message);
    json_t *exp = json_loads(js, 0, NULL);
    CHECK(exp && json_object_size(exp) == (size_t)d.n);
    const char *name;
    json_t *v;
    json_object_foreach(exp, name, v) {
        const struct g4_tensor *t = g4_tensordir_find(&d, name);
        CHECKF(t, "tensor %s missing", name);
        if (!t) continue;
        CHECK(t->file == 3);
        CHECK(g4_safetensors_dtype(json_string_value(json_object_get(v, "dtype"))) == (int)t->type);
        json_t *shape = json_object_get(v, "shape");
        size_t nd = json_array_size(shape);
        CHECKF(t->n_dims == (nd ? (int)nd : 1), "%s n_dims %d", name, t->n_dims);
        for (size_t k = 0; k < nd; k++)
            CHECKF(t->ne[nd - 1 - k] == json_integer_value(json_array_get(shape, k)), "%s ne[%zu]", name, nd - 1 - k);
        json_t *vals = json_object_get(v, "values");
        CHECKF((int64_t)json_array_size(vals) == g4_tensor_nelem(t), "%s nelem", name);
        for (size_t k = 0; k < json_array_size(vals); k++)
            CHECKF(elem(t, (int64_t)k) == json_number_value(json_array_get(vals, k)), "%s[%zu] = %g, want %g", name, k,
                   elem(t, (int64_t)k), json_number_value(json_array_get(vals, k)));
    }
    /* shape [2,3] -> ne {3,2} */
    const struct g4_tensor *t = g4_tensordir_find(&d, "f32_2x3");
    CHECK(t && t->ne[0] == 3 && t->ne[1] == 2 && t->nbytes == 24);
    CHECK(g4_tensordir_find(&d, "__metadata__") == NULL);
    json_decref(exp);
    g4_tensordir_free(&d);
    free(buf);
    free(js);
}

/* Every proper prefix of a valid file must be rejected cleanly (ASan watches
 * the exact-size copies for over-reads). */
static void test_truncated_every_length(void) {
    size_t n = 0;
    char *buf = test_read_file(BASIC, &n);
    CHECK(buf && n > 8);
    if (!buf) return;
    int accepted = 0;
    for (size_t len = 0; len < n; len++) {
        uint8_t *cp = malloc(len ? len : 1);
        memcpy(cp, buf, len);
        struct g4_tensordir d;
        g4_tensordir_init(&d);
        g4_error e;
        if (g4_safetensors_parse(cp, len, "trunc", 0, &d, &e) == G4_OK) accepted++;
        g4_tensordir_free(&d);
        free(cp);
    }
    CHECKF(accepted == 0, "%d truncated files accepted", accepted);
    free(buf);
}

/* [u64 len][json][data_len bytes of data]; hlen overrides the length field when non-zero */
static uint8_t *make_st(const char *json, size_t data_len, uint64_t hlen, bool pad, size_t *n) {
    size_t jl0 = strlen(json), jl = pad ? (jl0 + 7) / 8 * 8 : jl0;
    *n = 8 + jl + data_len;
    uint8_t *b = calloc(1, *n);
    uint64_t l = hlen ? hlen : jl;
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(l >> (8 * i));
    memset(b + 8, ' ', jl);
    memcpy(b + 8, json, jl0);
    for (size_t i = 0; i < data_len; i++) b[8 + jl + i] = (uint8_t)i;
    return b;
}

/* the JSON is padded with spaces to a multiple of 8 bytes (as the safetensors package does) unless raw */
static g4_status parse_raw(const char *json, size_t data_len, uint64_t hlen, bool raw, g4_error *e) {
    size_t n;
    uint8_t *b = make_st(json, data_len, hlen, !raw, &n);
    struct g4_tensordir d;
    g4_tensordir_init(&d);
    g4_status s = g4_safetensors_parse(b, n, "t", 0, &d, e);
    g4_tensordir_free(&d);
    free(b);
    return s;
}
static g4_status parse_str(const char *json, size_t data_len, uint64_t hlen, g4_error *e) {
    return parse_raw(json, data_len, hlen, false, e);
}

static void test_bad_headers(void) {
    g4_error e;
    /* 8-byte-padded headers keep F32 data aligned: pad JSON with spaces to 8k bytes */
    CHECK(parse_str("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   ", 8, 0, &e) == G4_OK);
    CHECK(parse_str("{\"__metadata__\":{\"k\":\"v\"}}  ", 0, 0, &e) == G4_OK);
    CHECK(parse_str("{}      ", 0, 0, &e) == G4_OK);
    CHECK(parse_str("{not json}", 0, 0, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("[1,2,3] ", 0, 0, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("\"str\"", 0, 0, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("{}      ", 0, UINT64_MAX, &e) == G4_ERR_FORMAT);
    CHECK(strstr(e.message, "exceeds the file") != NULL);
    CHECK(parse_str("{}      ", 0, 9, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}   ", 8, 0, &e) == G4_ERR_FORMAT);
    CHECK(strstr(e.message, "out of range") != NULL);
    CHECK(parse_str("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}   ", 8, 0, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}   ", 16, 0, &e) == G4_ERR_FORMAT);
    CHECK(strstr(e.message, "needs") != NULL);
    CHECK(parse_str("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}    ", 16, 0, &e) == G4_ERR_FORMAT);
    CHECK(strstr(e.message, "overlap") != NULL);
    CHECK(parse_str("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}    ", 8, 0, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}   ", 8, 0, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}    ", 8, 0, &e) == G4_ERR_UNSUPPORTED);
    CHECK(parse_str("{\"a\":{\"dtype\":\"BOOL\",\"shape\":[8],\"data_offsets\":[0,8]}}  ", 8, 0, &e) == G4_ERR_UNSUPPORTED);
    CHECK(parse_str("{\"a\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}     ", 8, 0, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}  ", 8, 0, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}     ", 8, 0, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}} ", 8, 0, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,2],\"data_offsets\":[0,8]}}", 8, 0, &e) ==
          G4_ERR_UNSUPPORTED);
    CHECK(parse_str("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, 0, &e) ==
          G4_ERR_FORMAT);
    CHECK(parse_str("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}    ", 8, 0, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("{\"__metadata__\":[1]}", 0, 0, &e) == G4_ERR_FORMAT);
    CHECK(parse_str("{\"a\":3}     ", 0, 0, &e) == G4_ERR_FORMAT);
    /* an unpadded 54-byte header puts F32 data at offset 62: misaligned */
    CHECK(parse_raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0, true, &e) == G4_ERR_FORMAT);
    CHECK(strstr(e.message, "aligned") != NULL);
    /* too short for the length field */
    CHECK(g4_safetensors_parse((const uint8_t *)"abc", 3, "t", 0, NULL, &e) == G4_ERR_FORMAT);
}

static void test_tensordir(void) {
    struct g4_tensordir d;
    g4_tensordir_init(&d);
    g4_error e;
    char name[32];
    for (int i = 0; i < 1000; i++) {
        struct g4_tensor t = {0};
        snprintf(name, sizeof name, "blk.%d.w", i);
        t.name = name;
        t.ne[0] = i + 1, t.ne[1] = t.ne[2] = t.ne[3] = 1;
        CHECK(g4_tensordir_add(&d, &t, &e) == G4_OK);
    }
    CHECK(d.n == 1000);
    for (int i = 0; i < 1000; i += 37) {
        snprintf(name, sizeof name, "blk.%d.w", i);
        const struct g4_tensor *t = g4_tensordir_find(&d, name);
        CHECK(t && t->ne[0] == i + 1 && strcmp(t->name, name) == 0);
    }
    CHECK(g4_tensordir_find(&d, "blk.1000.w") == NULL);
    struct g4_tensor dup = {.name = "blk.5.w"};
    CHECK(g4_tensordir_add(&d, &dup, &e) == G4_ERR_FORMAT);
    g4_tensordir_free(&d);
    CHECK(g4_tensordir_find(&d, "blk.5.w") == NULL);
}

int main(void) {
    RUN(test_basic_values);
    RUN(test_truncated_every_length);
    RUN(test_bad_headers);
    RUN(test_tensordir);
    return test_done();
}
