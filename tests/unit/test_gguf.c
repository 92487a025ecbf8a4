/* test_gguf.c — the GGUF reader on good, truncated, hostile and real files.
 * Good files come from gguf.GGUFWriter (tests/fixtures/gguf, made by
 * scripts/gen_gguf_fixtures.py) and every value is checked. Every parse of an
 * in-memory image here places the image right before a PROT_NONE page, so any
 * read past its end crashes the test. Bad images are crafted by a small
 * builder below; each must fail with the expected code and a message naming
 * the file and the fault. The real Gemma 3 270M GGUF is parsed and tensors
 * of every type in it are dequantized and compared with the gguf package. */
#include "test.h"
#include "io/gguf.h"
#include "tensor/types.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define FIX "tests/fixtures/gguf/"

/* ---- Guard-page placement ----------------------------------------------- */

struct guarded {
    uint8_t *map;
    size_t map_len;
    const uint8_t *data; /* ends exactly at the PROT_NONE page */
};

static bool guard_place(struct guarded *gp, const void *src, size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t body = (n + page - 1) / page * page;
    if (body == 0) body = page;
    gp->map_len = body + page;
    gp->map = mmap(NULL, gp->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (gp->map == MAP_FAILED) return false;
    if (mprotect(gp->map + body, page, PROT_NONE) != 0) return false;
    uint8_t *dst = gp->map + body - n;
    if (n) memcpy(dst, src, n);
    gp->data = dst;
    return true;
}

static void guard_free(struct guarded *gp) { munmap(gp->map, gp->map_len); }

/* Parses n bytes of img placed before a guard page; the caller closes g and
 * frees gp on success (on failure both are already released). */
static g4_status parse_guarded(const void *img, size_t n, struct gguf_file *g, struct guarded *gp, g4_error *err) {
    if (!guard_place(gp, img, n)) {
        CHECK(!"mmap failed");
        return G4_ERR_IO;
    }
    g4_status st = gguf_parse(g, gp->data, n, "t.gguf", err);
    if (st) guard_free(gp);
    return st;
}

/* ---- Image builder -------------------------------------------------------- */

struct img {
    uint8_t b[1 << 14];
    size_t n;
};

static void put(struct img *m, const void *p, size_t n) {
    if (m->n + n > sizeof m->b) abort(); /* test bug */
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
static void u32(struct img *m, uint32_t v) { put(m, &v, 4); }
static void u64(struct img *m, uint64_t v) { put(m, &v, 8); }
static void str(struct img *m, const char *s) {
    u64(m, strlen(s));
    put(m, s, strlen(s));
}
static void hdr(struct img *m, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    m->n = 0;
    put(m, "GGUF", 4);
    u32(m, version);
    u64(m, n_tensors);
    u64(m, n_kv);
}
static void kv_u32(struct img *m, const char *key, uint32_t v) {
    str(m, key);
    u32(m, GGUF_T_U32);
    u32(m, v);
}
static void kv_str(struct img *m, const char *key, const char *v) {
    str(m, key);
    u32(m, GGUF_T_STRING);
    str(m, v);
}
static void tinfo(struct img *m, const char *name, uint32_t n_dims, const int64_t *ne, uint32_t type, uint64_t off) {
    str(m, name);
    u32(m, n_dims);
    for (uint32_t i = 0; i < n_dims; i++) u64(m, (uint64_t)ne[i]);
    u32(m, type);
    u64(m, off);
}
static void pad_to(struct img *m, size_t align) {
    while (m->n % align) m->b[m->n++] = 0;
}
static void zeros(struct img *m, size_t n) {
    for (size_t i = 0; i < n; i++) m->b[m->n++] = 0;
}

/* A valid image: one kv, tensors "a" (f32 [4]) and "b" (q8_0 [32]). */
static void good_image(struct img *m) {
    hdr(m, 3, 2, 1);
    kv_str(m, "general.architecture", "x");
    tinfo(m, "a", 1, (int64_t[]){4}, G4_TYPE_F32, 0);
    tinfo(m, "b", 1, (int64_t[]){32}, G4_TYPE_Q8_0, 32);
    pad_to(m, 32);
    for (int i = 0; i < 4; i++) {
        float f = (float)i;
        put(m, &f, 4);
    }
    zeros(m, 16 + 34);
}

/* Expects the image to fail with `code` and a message that names the file
 * and contains `what`. */
#define EXPECT_FAIL(m, code, what) expect_fail(__LINE__, (m)->b, (m)->n, code, what)
static void expect_fail(int line, const uint8_t *b, size_t n, g4_status code, const char *what) {
    struct gguf_file g;
    struct guarded gp;
    g4_error err = {0};
    g4_status st = parse_guarded(b, n, &g, &gp, &err);
    if (st == G4_OK) {
        test_report(__FILE__, line, "parse succeeded, expected failure containing '%s'", what);
        gguf_close(&g);
        guard_free(&gp);
        return;
    }
    if (st != code) test_report(__FILE__, line, "code %d, expected %d (%s)", (int)st, (int)code, err.message);
    if (strncmp(err.message, "t.gguf: ", 8) || !strstr(err.message, what))
        test_report(__FILE__, line, "message '%s' lacks the file name or '%s'", err.message, what);
    struct gguf_file zero;
    memset(&zero, 0, sizeof zero);
    if (memcmp(&g, &zero, sizeof g)) test_report(__FILE__, line, "gguf_file not zeroed after failure");
}

/* ---- Good files ----------------------------------------------------------- */

static void test_meta_v3(void) {
    struct gguf_file g;
    g4_error err = {0};
    g4_status st = gguf_open(&g, FIX "meta_v3.gguf", &err);
    CHECKF(st == G4_OK, "%s", err.message);
    if (st) return;
    CHECK(g.version == 3);
    CHECK(g.alignment == 64);
    CHECK(g.n_kv == 27);
    CHECK(g.data_offset % 64 == 0);
    struct gguf_str s;
    uint32_t u32v;
    uint64_t u64v;
    float f;
    bool b;
    CHECK(gguf_get_str(&g, "general.architecture", &s) && gguf_str_eq(s, "g4test"));
    CHECK(gguf_get_u32(&g, "t.u8", &u32v) && u32v == 200);
    CHECK(!gguf_get_u32(&g, "t.i8", &u32v)); /* -100 does not fit */
    CHECK(gguf_get_u32(&g, "t.u16", &u32v) && u32v == 60000);
    CHECK(!gguf_get_u64(&g, "t.i16", &u64v));
    CHECK(gguf_get_u32(&g, "t.u32", &u32v) && u32v == 4000000000u);
    CHECK(!gguf_get_u32(&g, "t.i32", &u32v));
    CHECK(gguf_get_f32(&g, "t.f32", &f) && f == 1.5f);
    CHECK(gguf_get_bool(&g, "t.bool", &b) && b);
    CHECK(gguf_get_bool(&g, "t.bool_false", &b) && !b);
    CHECK(!gguf_get_bool(&g, "t.u8", &b));
    CHECK(gguf_get_str(&g, "t.str", &s) && gguf_str_eq(s, "h\xc3\xa9llo"));
    CHECK(!gguf_get_str(&g, "t.u8", &s));
    CHECK(gguf_get_u64(&g, "t.u64", &u64v) && u64v == (1ull << 63) + 5);
    CHECK(!gguf_get_u32(&g, "t.u64", &u32v));
    CHECK(!gguf_get_u64(&g, "t.i64", &u64v));
    CHECK(gguf_get_f32(&g, "t.f64", &f) && f == 0.1f);
    CHECK(!gguf_get_f32(&g, "t.u32", &f));
    CHECK(!gguf_get_u32(&g, "t.f32", &u32v));
    CHECK(!gguf_get_u32(&g, "missing.key", &u32v));
    CHECK(!gguf_get_u32(&g, "t.arr_u32", &u32v)); /* arrays are not scalars */
    CHECK(gguf_get_u32(&g, "general.alignment", &u32v) && u32v == 64);

    const struct gguf_kv *kv = gguf_find(&g, "t.i64");
    CHECK(kv && kv->type == GGUF_T_I64 && kv->n == 1);
    int64_t iv;
    CHECK(kv && gguf_arr_i64(kv, 0, &iv) && iv == -(1ll << 62)); /* a scalar reads as one element */
    static const struct {
        const char *key;
        uint32_t type;
        uint64_t n;
        int64_t v[3];
    } ints[] = {
        {"t.arr_u8", GGUF_T_U8, 3, {1, 2, 255}},
        {"t.arr_i8", GGUF_T_I8, 3, {-128, 0, 127}},
        {"t.arr_u16", GGUF_T_U16, 2, {65535, 1}},
        {"t.arr_i16", GGUF_T_I16, 2, {-32768, 32767}},
        {"t.arr_u32", GGUF_T_U32, 2, {4294967295ll, 7}},
        {"t.arr_i32", GGUF_T_I32, 3, {-5, 6, -7}},
        {"t.arr_bool", GGUF_T_BOOL, 3, {1, 0, 1}},
        {"t.arr_i64", GGUF_T_I64, 2, {INT64_MIN, 9}},
    };
    for (size_t k = 0; k < G4_ARRAY_LEN(ints); k++) {
        kv = gguf_find(&g, ints[k].key);
        CHECKF(kv && kv->type == GGUF_T_ARRAY && kv->arr_type == ints[k].type && kv->n == ints[k].n, "%s", ints[k].key);
        if (!kv) continue;
        for (uint64_t i = 0; i < ints[k].n; i++)
            CHECKF(gguf_arr_i64(kv, i, &iv) && iv == ints[k].v[i], "%s[%llu]", ints[k].key, (unsigned long long)i);
        CHECK(!gguf_arr_i64(kv, ints[k].n, &iv));
        CHECK(!gguf_arr_f32(kv, 0, &f));
        CHECK(!gguf_arr_str(kv, 0, &s));
    }
    kv = gguf_find(&g, "t.arr_u64");
    CHECK(kv && gguf_arr_i64(kv, 1, &iv) && iv == 3);
    CHECK(kv && !gguf_arr_i64(kv, 0, &iv)); /* 2^64-1 does not fit */
    kv = gguf_find(&g, "t.arr_f32");
    CHECK(kv && gguf_arr_f32(kv, 0, &f) && f == 0.25f && gguf_arr_f32(kv, 1, &f) && f == -2.0f);
    CHECK(kv && !gguf_arr_f32(kv, 2, &f) && !gguf_arr_i64(kv, 0, &iv));
    kv = gguf_find(&g, "t.arr_f64");
    CHECK(kv && gguf_arr_f32(kv, 0, &f) && isinf(f) && f > 0 /* 1e300 overflows to inf */ && gguf_arr_f32(kv, 1, &f) && f == -0.5f);
    kv = gguf_find(&g, "t.arr_str");
    CHECK(kv && kv->arr_type == GGUF_T_STRING && kv->n == 4);
    CHECK(kv && gguf_arr_str(kv, 0, &s) && gguf_str_eq(s, "a"));
    CHECK(kv && gguf_arr_str(kv, 1, &s) && s.len == 0);
    CHECK(kv && gguf_arr_str(kv, 2, &s) && gguf_str_eq(s, "\xc3\xbcn\xc3\xaf"));
    CHECK(kv && gguf_arr_str(kv, 3, &s) && gguf_str_eq(s, "last"));
    CHECK(kv && !gguf_arr_str(kv, 4, &s));

    /* tensors against the gguf reader's view (meta_v3.expect) */
    size_t len;
    char *exp = test_read_file(FIX "meta_v3.expect", &len);
    CHECK(exp != NULL);
    int lines = 0;
    for (char *line = exp ? strtok(exp, "\n") : NULL; line; line = strtok(NULL, "\n"), lines++) {
        char name[64];
        unsigned type;
        int pos;
        if (sscanf(line, "%63s %u%n", name, &type, &pos) != 2) { CHECK(!"bad expect line"); break; }
        const struct gguf_tensor_info *ti = gguf_find_tensor(&g, name);
        CHECKF(ti != NULL, "tensor %s missing", name);
        if (!ti) continue;
        CHECKF(ti->type == type, "%s: type %u want %u", name, ti->type, type);
        char *p = line + pos;
        int64_t nel = 1;
        for (uint32_t d = 0; d < ti->n_dims; d++) {
            long long v = strtoll(p, &p, 10);
            CHECKF(ti->ne[d] == v, "%s: ne[%u] %lld want %lld", name, d, (long long)ti->ne[d], v);
            nel *= ti->ne[d];
        }
        for (uint32_t d = ti->n_dims; d < 4; d++) CHECK(ti->ne[d] == 1);
        unsigned long long off = strtoull(p, &p, 10);
        CHECKF((uint64_t)(ti->data - g.map.data) == off, "%s: data at %lld want %llu", name,
               (long long)(ti->data - g.map.data), off);
        CHECK(ti->offset % 64 == 0);
        float *y = malloc((size_t)nel * sizeof *y);
        CHECK(y && g4_dequantize(ti->type, ti->data, y, nel));
        for (int64_t i = 0; y && i < nel; i++) {
            float want = (float)strtod(p, &p);
            CHECKF(memcmp(&y[i], &want, 4) == 0, "%s[%lld] = %g want %g", name, (long long)i, (double)y[i], (double)want);
        }
        free(y);
    }
    CHECK(lines == 4 && g.n_tensors == 4);
    free(exp);
    CHECK(gguf_find_tensor(&g, "w.nope") == NULL);
    CHECK(gguf_find_tensor(&g, "w") == NULL);
    gguf_close(&g);
    gguf_close(&g); /* closing twice is harmless */
}

static void test_v2(void) {
    struct gguf_file g;
    g4_error err = {0};
    g4_status st = gguf_open(&g, FIX "small_v2.gguf", &err);
    CHECKF(st == G4_OK, "%s", err.message);
    if (st) return;
    uint32_t n;
    float f;
    struct gguf_str s;
    CHECK(g.version == 2 && g.alignment == 32 && g.n_tensors == 2);
    CHECK(gguf_get_u32(&g, "tiny.n", &n) && n == 7);
    CHECK(gguf_get_f32(&g, "tiny.eps", &f) && f == 1e-6f);
    const struct gguf_kv *kv = gguf_find(&g, "tiny.names");
    CHECK(kv && gguf_arr_str(kv, 1, &s) && gguf_str_eq(s, "yz"));
    const struct gguf_tensor_info *a = gguf_find_tensor(&g, "a");
    float y[4];
    CHECK(a && a->type == G4_TYPE_F32 && a->n_dims == 1 && a->ne[0] == 4 && a->nbytes == 16);
    CHECK(a && g4_dequantize(a->type, a->data, y, 4) && y[0] == 1 && y[3] == 4);
    gguf_close(&g);

    CHECK(gguf_open(&g, FIX "does-not-exist.gguf", &err) == G4_ERR_IO);
    CHECK(strstr(err.message, "does-not-exist.gguf") != NULL);
}

/* Every prefix of a valid file fails cleanly (no crash, guard page behind
 * it) up to the end of the last tensor's data; prefixes that hold all the
 * data (only trailing padding missing) parse. */
static void truncate_file(const char *path) {
    size_t len = 0;
    uint8_t *full = (uint8_t *)test_read_file(path, &len);
    CHECK(full != NULL);
    if (!full) return;
    struct gguf_file g;
    struct guarded gp;
    g4_error err;
    uint64_t data_end = 0;
    if (parse_guarded(full, len, &g, &gp, &err) == G4_OK) {
        for (uint64_t i = 0; i < g.n_tensors; i++) {
            uint64_t e = (uint64_t)(g.tensors[i].data - gp.data) + g.tensors[i].nbytes;
            if (e > data_end) data_end = e;
        }
        gguf_close(&g);
        guard_free(&gp);
    }
    CHECK(data_end > 0 && data_end <= len);
    int unexpected = 0;
    for (size_t n = 0; n <= len; n++) {
        g4_status st = parse_guarded(full, n, &g, &gp, &err);
        bool want_ok = n >= data_end;
        if ((st == G4_OK) != want_ok || (st && strncmp(err.message, "t.gguf: ", 8))) {
            if (++unexpected < 5) CHECKF(0, "%s: length %zu of %zu: status %d (%s)", path, n, len, (int)st, st ? err.message : "");
        }
        if (st == G4_OK) {
            gguf_close(&g);
            guard_free(&gp);
        }
    }
    CHECK(unexpected == 0);
    free(full);
}

static void test_truncated_everywhere(void) {
    truncate_file(FIX "small_v2.gguf");
    truncate_file(FIX "meta_v3.gguf");
    struct gguf_file g;
    g4_error err;
    CHECK(gguf_parse(&g, NULL, 0, "t.gguf", &err) == G4_ERR_FORMAT); /* no buffer at all */
}

/* ---- Hostile images ------------------------------------------------------- */

static void test_good_image_parses(void) {
    struct img m;
    good_image(&m);
    struct gguf_file g;
    struct guarded gp;
    g4_error err;
    g4_status st = parse_guarded(m.b, m.n, &g, &gp, &err);
    CHECKF(st == G4_OK, "%s", err.message);
    if (st) return;
    CHECK(g.n_tensors == 2 && g.data_offset % 32 == 0);
    CHECK(gguf_find_tensor(&g, "b") && gguf_find_tensor(&g, "b")->nbytes == 34);
    gguf_close(&g);
    guard_free(&gp);
}

static void test_bad_header(void) {
    struct img m;
    good_image(&m);
    m.b[0] = 'X';
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "bad magic");
    static const struct {
        uint32_t v;
        const char *what;
    } vers[] = {{0, "unsupported GGUF version 0"}, {1, "version 1 is not supported"},
                {4, "unsupported GGUF version 4"}, {0x03000000, "byte-swapped"}};
    for (size_t i = 0; i < G4_ARRAY_LEN(vers); i++) {
        good_image(&m);
        memcpy(m.b + 4, &vers[i].v, 4);
        EXPECT_FAIL(&m, G4_ERR_UNSUPPORTED, vers[i].what);
    }
    good_image(&m);
    uint64_t huge = 1ull << 62;
    memcpy(m.b + 16, &huge, 8);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "key-value count 4611686018427387904 cannot fit");
    good_image(&m);
    memcpy(m.b + 8, &huge, 8);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "tensor count 4611686018427387904 cannot fit");
    uint64_t big = UINT64_MAX;
    good_image(&m);
    memcpy(m.b + 8, &big, 8);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "tensor count");
    /* just too many for the bytes left */
    good_image(&m);
    uint64_t nkv = (m.n - 24) / 13 + 1;
    memcpy(m.b + 16, &nkv, 8);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "cannot fit");
}

static void test_bad_kv(void) {
    struct img m;
    /* huge key length */
    hdr(&m, 3, 0, 1);
    u64(&m, 1ull << 63);
    zeros(&m, 32);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "key at offset 24 has length 9223372036854775808");
    /* huge string value length */
    hdr(&m, 3, 0, 1);
    str(&m, "k");
    u32(&m, GGUF_T_STRING);
    u64(&m, UINT64_MAX);
    zeros(&m, 8);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "key 'k': string 0 of 1 at offset 37 has length 18446744073709551615");
    /* unknown value type */
    hdr(&m, 3, 0, 1);
    str(&m, "k");
    u32(&m, 13);
    zeros(&m, 8);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "key 'k': unknown value type 13");
    /* unknown array element type */
    hdr(&m, 3, 0, 1);
    str(&m, "k");
    u32(&m, GGUF_T_ARRAY);
    u32(&m, 99);
    u64(&m, 0);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "key 'k': unknown array element type 99");
    /* arrays of arrays are refused */
    hdr(&m, 3, 0, 1);
    str(&m, "k");
    u32(&m, GGUF_T_ARRAY);
    u32(&m, GGUF_T_ARRAY);
    u64(&m, 1);
    u32(&m, GGUF_T_U8);
    u64(&m, 1);
    zeros(&m, 1);
    EXPECT_FAIL(&m, G4_ERR_UNSUPPORTED, "key 'k': arrays of arrays are not supported");
    /* huge array lengths: fixed-size elements and strings */
    static const uint32_t types[] = {GGUF_T_U32, GGUF_T_U8, GGUF_T_F64, GGUF_T_STRING};
    static const uint64_t lens[] = {1ull << 61, 1ull << 40, UINT64_MAX, 1ull << 60};
    for (size_t i = 0; i < 4; i++) {
        hdr(&m, 3, 0, 1);
        str(&m, "arr");
        u32(&m, GGUF_T_ARRAY);
        u32(&m, types[i]);
        u64(&m, lens[i]);
        zeros(&m, 64);
        EXPECT_FAIL(&m, G4_ERR_FORMAT, "key 'arr': ");
    }
    /* a string array whose last string runs off the end */
    hdr(&m, 3, 0, 1);
    str(&m, "arr");
    u32(&m, GGUF_T_ARRAY);
    u32(&m, GGUF_T_STRING);
    u64(&m, 2);
    str(&m, "ok");
    u64(&m, 100);
    zeros(&m, 10);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "key 'arr': string 1 of 2 at offset 61 has length 100 but only 10 bytes follow");
    /* duplicate key */
    hdr(&m, 3, 0, 3);
    kv_u32(&m, "a", 1);
    kv_u32(&m, "b", 2);
    kv_u32(&m, "a", 3);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "duplicate key 'a' (entries 0 and 2)");
    /* non-printable bytes in a key are shown as '?' */
    hdr(&m, 3, 0, 1);
    str(&m, "k\x01\xff");
    u32(&m, 77);
    zeros(&m, 4);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "key 'k?\?': unknown value type 77");
    /* an empty array and an empty key are fine */
    hdr(&m, 3, 0, 2);
    str(&m, "");
    u32(&m, GGUF_T_U8);
    zeros(&m, 1);
    str(&m, "e");
    u32(&m, GGUF_T_ARRAY);
    u32(&m, GGUF_T_STRING);
    u64(&m, 0);
    struct gguf_file g;
    struct guarded gp;
    g4_error err;
    if (parse_guarded(m.b, m.n, &g, &gp, &err) == G4_OK) {
        const struct gguf_kv *kv = gguf_find(&g, "e");
        struct gguf_str s;
        CHECK(kv && kv->n == 0 && !gguf_arr_str(kv, 0, &s));
        CHECK(gguf_find(&g, "") != NULL);
        gguf_close(&g);
        guard_free(&gp);
    } else {
        CHECKF(0, "%s", err.message);
    }
}

static void test_bad_alignment(void) {
    struct img m;
    static const uint32_t bad[] = {0, 3, 48};
    for (size_t i = 0; i < 3; i++) {
        hdr(&m, 3, 0, 1);
        kv_u32(&m, "general.alignment", bad[i]);
        EXPECT_FAIL(&m, G4_ERR_FORMAT, "is not a power of two");
    }
    hdr(&m, 3, 0, 1);
    kv_str(&m, "general.alignment", "32");
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "general.alignment must be a non-negative integer, not string");
    /* alignment 1: tensors may start at odd addresses; dequantizing still works */
    hdr(&m, 3, 2, 1);
    kv_u32(&m, "general.alignment", 1);
    tinfo(&m, "a", 1, (int64_t[]){1}, G4_TYPE_F16, 0);
    tinfo(&m, "b", 1, (int64_t[]){32}, G4_TYPE_Q4_0, 3);
    zeros(&m, 3);
    put(&m, "\x00\x3c", 2); /* d = 1.0 */
    for (int i = 0; i < 16; i++) m.b[m.n++] = 0xc4; /* q = 4 (low), 12 (high) */
    struct gguf_file g;
    struct guarded gp;
    g4_error err;
    g4_status st = parse_guarded(m.b, m.n, &g, &gp, &err);
    CHECKF(st == G4_OK, "%s", err.message);
    if (st) return;
    const struct gguf_tensor_info *b = gguf_find_tensor(&g, "b");
    float y[32];
    CHECK(g.alignment == 1 && b && g4_dequantize(b->type, b->data, y, 32) && y[0] == -4.0f && y[31] == 4.0f);
    gguf_close(&g);
    guard_free(&gp);
}

static void test_bad_tensor_info(void) {
    struct img m;
    /* n_dims 0 and 5 */
    static const uint32_t dims[] = {0, 5};
    for (int i = 0; i < 2; i++) {
        hdr(&m, 3, 1, 0);
        tinfo(&m, "w", dims[i], (int64_t[]){1, 1, 1, 1, 1}, G4_TYPE_F32, 0);
        zeros(&m, 64);
        EXPECT_FAIL(&m, G4_ERR_FORMAT, "tensor 'w': n_dims is");
    }
    /* negative dimension, and a product that overflows int64 */
    hdr(&m, 3, 1, 0);
    tinfo(&m, "w", 2, (int64_t[]){4, -1}, G4_TYPE_F32, 0);
    zeros(&m, 64);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "tensor 'w': dimension 1 is negative (-1)");
    hdr(&m, 3, 1, 0);
    tinfo(&m, "w", 3, (int64_t[]){1ll << 32, 1ll << 30, 4}, G4_TYPE_F32, 0);
    zeros(&m, 64);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "tensor 'w': element count overflows at dimension 2");
    /* elements fit, bytes do not */
    hdr(&m, 3, 1, 0);
    tinfo(&m, "w", 2, (int64_t[]){1ll << 31, 1ll << 31}, G4_TYPE_F32, 0);
    zeros(&m, 64);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "tensor 'w': byte size overflows");
    /* huge but non-overflowing: beyond end of file */
    hdr(&m, 3, 1, 0);
    tinfo(&m, "w", 2, (int64_t[]){1ll << 20, 1ll << 20}, G4_TYPE_F32, 0);
    zeros(&m, 64);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "tensor 'w': data [");
    /* unknown type ids: removed, past the end, huge */
    static const uint32_t types[] = {4, 31, 40, 1000000};
    for (int i = 0; i < 4; i++) {
        hdr(&m, 3, 1, 0);
        tinfo(&m, "blk.0.attn_q.weight", 1, (int64_t[]){32}, types[i], 0);
        zeros(&m, 64);
        char want[96];
        snprintf(want, sizeof want, "tensor 'blk.0.attn_q.weight': unknown tensor type id %u", types[i]);
        EXPECT_FAIL(&m, G4_ERR_FORMAT, want);
    }
    /* row not a multiple of the block size */
    hdr(&m, 3, 1, 0);
    tinfo(&m, "w", 2, (int64_t[]){33, 2}, G4_TYPE_Q8_0, 0);
    zeros(&m, 128);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "tensor 'w': row of 33 elements is not a multiple of the q8_0 block size 32");
    /* misaligned offset */
    hdr(&m, 3, 1, 0);
    tinfo(&m, "w", 1, (int64_t[]){4}, G4_TYPE_F32, 16);
    pad_to(&m, 32);
    zeros(&m, 64);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "tensor 'w': data offset 16 is not a multiple of the alignment 32");
    /* offset out of range, and offset + size overflowing */
    hdr(&m, 3, 1, 0);
    tinfo(&m, "blk.0.attn_q.weight", 1, (int64_t[]){4}, G4_TYPE_F32, 1024);
    pad_to(&m, 32);
    zeros(&m, 16);
    char want[160];
    snprintf(want, sizeof want, "t.gguf: tensor 'blk.0.attn_q.weight': data [1120, 1120 + 16) beyond end of file (size %zu)", m.n);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, want);
    hdr(&m, 3, 1, 0);
    tinfo(&m, "w", 1, (int64_t[]){4}, G4_TYPE_F32, UINT64_MAX - 31);
    pad_to(&m, 32);
    zeros(&m, 16);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "beyond end of file");
    /* overlapping data */
    hdr(&m, 3, 3, 0);
    tinfo(&m, "x", 1, (int64_t[]){16}, G4_TYPE_F32, 0);
    tinfo(&m, "y", 1, (int64_t[]){8}, G4_TYPE_F32, 64);
    tinfo(&m, "z", 1, (int64_t[]){16}, G4_TYPE_F32, 32);
    pad_to(&m, 32);
    zeros(&m, 128);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "tensor 'z': data [");
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "overlaps tensor 'x'");
    /* duplicate tensor name */
    hdr(&m, 3, 2, 0);
    tinfo(&m, "w", 1, (int64_t[]){4}, G4_TYPE_F32, 0);
    tinfo(&m, "w", 1, (int64_t[]){4}, G4_TYPE_F32, 32);
    pad_to(&m, 32);
    zeros(&m, 64);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "duplicate tensor name 'w' (tensors 0 and 1)");
    /* name too long */
    char longname[65];
    memset(longname, 'n', 64);
    longname[64] = 0;
    hdr(&m, 3, 1, 0);
    tinfo(&m, longname, 1, (int64_t[]){4}, G4_TYPE_F32, 0);
    zeros(&m, 64);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "name is 64 bytes, the limit is 63");
    /* data section past the end (no room even for padding) */
    hdr(&m, 3, 1, 0);
    tinfo(&m, "w", 1, (int64_t[]){0}, G4_TYPE_F32, 0);
    EXPECT_FAIL(&m, G4_ERR_FORMAT, "data section starts at");
    /* empty tensors may share an offset; a zero-size dimension is fine */
    hdr(&m, 3, 3, 0);
    tinfo(&m, "e0", 2, (int64_t[]){0, 5}, G4_TYPE_Q4_K, 0);
    tinfo(&m, "e1", 1, (int64_t[]){0}, G4_TYPE_F32, 0);
    tinfo(&m, "f", 1, (int64_t[]){8}, G4_TYPE_F32, 0);
    pad_to(&m, 32);
    zeros(&m, 32);
    struct gguf_file g;
    struct guarded gp;
    g4_error err;
    g4_status st = parse_guarded(m.b, m.n, &g, &gp, &err);
    CHECKF(st == G4_OK, "%s", err.message);
    if (!st) {
        CHECK(gguf_find_tensor(&g, "e0") && gguf_find_tensor(&g, "e0")->nbytes == 0);
        gguf_close(&g);
        guard_free(&gp);
    }
}

/* ---- The real model --------------------------------------------------------- */

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static void test_gemma3_270m(void) {
    const char *path = test_gemma3_gguf();
    CHECKF(path, "the Gemma 3 270M GGUF is missing: run scripts/setup.sh");
    if (!path) return;
    size_t flen;
    uint8_t *fx = (uint8_t *)test_read_file(FIX "gemma3_270m.bin", &flen);
    CHECK(fx && flen >= 16 && !memcmp(fx, "G4GM", 4));
    if (!fx) return;
    struct gguf_file g;
    g4_error err;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    g4_status st = gguf_open(&g, path, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECKF(st == G4_OK, "%s", err.message);
    if (st) { free(fx); return; }
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (getenv("G4_TEST_VERBOSE")) fprintf(stderr, "gguf_open of the 270M model: %.2f ms\n", ms);
    struct gguf_str s;
    uint32_t u;
    float f;
    bool b;
    CHECK(g.version == 3);
    CHECK(gguf_get_str(&g, "general.architecture", &s) && gguf_str_eq(s, "gemma3"));
    CHECK(g.n_tensors == rd32(fx + 4));
    CHECK(g.n_kv == rd32(fx + 8));
    CHECK(gguf_get_u32(&g, "gemma3.block_count", &u) && u == 18);
    CHECK(gguf_get_u32(&g, "gemma3.embedding_length", &u) && u == 640);
    CHECK(gguf_get_u32(&g, "gemma3.context_length", &u) && u == 32768);
    CHECK(gguf_get_f32(&g, "gemma3.rope.freq_base", &f) && f == 1e6f);
    CHECK(gguf_get_f32(&g, "gemma3.attention.layer_norm_rms_epsilon", &f) && f == 1e-6f);
    CHECK(gguf_get_bool(&g, "tokenizer.ggml.add_bos_token", &b) && b);
    const struct gguf_kv *tok = gguf_find(&g, "tokenizer.ggml.tokens");
    CHECK(tok && tok->arr_type == GGUF_T_STRING && tok->n == 262144);
    CHECK(tok && gguf_arr_str(tok, 2, &s) && gguf_str_eq(s, "<bos>"));
    CHECK(tok && gguf_arr_str(tok, 106, &s) && gguf_str_eq(s, "<end_of_turn>"));
    CHECK(tok && gguf_arr_str(tok, 107, &s) && gguf_str_eq(s, "\n"));
    CHECK(tok && gguf_arr_str(tok, 262143, &s) && gguf_str_eq(s, "<unused6241>"));
    const struct gguf_kv *sc = gguf_find(&g, "tokenizer.ggml.scores");
    CHECK(sc && gguf_arr_f32(sc, 1000, &f) && f == -506.0f);
    int64_t iv;
    const struct gguf_kv *tt = gguf_find(&g, "tokenizer.ggml.token_type");
    CHECK(tt && gguf_arr_i64(tt, 3, &iv) && iv == 3);

    size_t pos = 16;
    uint32_t nrec = rd32(fx + 12);
    bool type_seen[G4_TYPE_COUNT] = {0};
    for (uint32_t r = 0; r < nrec && pos < flen; r++) {
        uint32_t nl = rd32(fx + pos);
        char name[128] = {0};
        memcpy(name, fx + pos + 4, nl < 127 ? nl : 127);
        pos += 4 + nl;
        uint32_t type = rd32(fx + pos);
        uint64_t nel;
        double want_sum, want_abs;
        memcpy(&nel, fx + pos + 4, 8);
        memcpy(&want_sum, fx + pos + 12, 8);
        memcpy(&want_abs, fx + pos + 20, 8);
        uint32_t nfirst = rd32(fx + pos + 28);
        const uint8_t *first = fx + pos + 32;
        pos += 32 + (size_t)nfirst * 4;
        const struct gguf_tensor_info *ti = gguf_find_tensor(&g, name);
        CHECKF(ti, "tensor %s missing", name);
        if (!ti) continue;
        if (type < G4_TYPE_COUNT) type_seen[type] = true;
        int64_t n = ti->ne[0] * ti->ne[1] * ti->ne[2] * ti->ne[3];
        CHECKF(ti->type == type && (uint64_t)n == nel, "%s: type %u n %lld", name, ti->type, (long long)n);
        uint64_t row_bytes;
        CHECK(g4_row_bytes(ti->type, (uint64_t)ti->ne[0], &row_bytes));
        float *row = malloc((size_t)ti->ne[0] * sizeof *row);
        if (!row) break;
        double sum = 0, sum_abs = 0;
        int64_t rows = n / ti->ne[0], k = 0, bad = 0;
        for (int64_t i = 0; i < rows; i++) {
            if (!g4_dequantize(ti->type, ti->data + i * (int64_t)row_bytes, row, ti->ne[0])) { bad = -1; break; }
            for (int64_t j = 0; j < ti->ne[0]; j++, k++) {
                sum += row[j];
                sum_abs += fabs((double)row[j]);
                if (k < nfirst && memcmp(&row[j], first + 4 * k, 4)) bad++;
            }
        }
        free(row);
        CHECKF(bad == 0, "%s (%s): %lld of the first %u values differ from the gguf package", name, g4_type_name(type),
               (long long)bad, nfirst);
        /* Every value is bit-identical (checked above for the first ones), so
         * the sums differ only by summation order: the reference sum is
         * (nearly) exact, ours is sequential in double, whose error is at most
         * (n-1) * 2^-53 * sum|x|. */
        double tol = (double)n * 0x1p-53 * want_abs * 2;
        CHECKF(fabs(sum - want_sum) <= tol, "%s: sum %.17g want %.17g (tol %g)", name, sum, want_sum, tol);
        CHECKF(fabs(sum_abs - want_abs) <= tol, "%s: sum|x| %.17g want %.17g", name, sum_abs, want_abs);
    }
    CHECK(pos == flen);
    /* the fixture covers every tensor type present in the file */
    for (uint64_t i = 0; i < g.n_tensors; i++)
        CHECKF(g.tensors[i].type < G4_TYPE_COUNT && type_seen[g.tensors[i].type], "type %s not covered",
               g4_type_name(g.tensors[i].type));
    gguf_close(&g);
    free(fx);
}

int main(void) {
    RUN(test_meta_v3);
    RUN(test_v2);
    RUN(test_truncated_everywhere);
    RUN(test_good_image_parses);
    RUN(test_bad_header);
    RUN(test_bad_kv);
    RUN(test_bad_alignment);
    RUN(test_bad_tensor_info);
    RUN(test_gemma3_270m);
    return test_done();
}
