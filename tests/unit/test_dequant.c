/* test_dequant.c — the reference dequantizers against the gguf Python package.
 * tests/fixtures/gguf/dequant.bin (made by scripts/gen_gguf_fixtures.py) holds
 * random blocks of every supported type with gguf.quants.dequantize's output;
 * g4_dequantize must reproduce it bit for bit (NaNs included), from aligned
 * and unaligned sources, without writing past the output. Every type marked
 * supported in the traits table must have a fixture record. The quantizers
 * are checked the same way against gguf.quants.quantize (quant.bin). */
#include "test.h"
#include "core/fp16.h"
#include "tensor/blocks.h"
#include "tensor/quantize.h"
#include "tensor/types.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURE "tests/fixtures/gguf/dequant.bin"

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Dequantizes (raw, n) into a NaN-filled buffer with a sentinel past the end
 * and compares bitwise with want; src is copied at byte offset `shift`. */
static void check_record(uint32_t type, const uint8_t *raw, uint32_t nbytes, const float *want, uint32_t n, int shift) {
    uint8_t *src = malloc(nbytes + 8);
    float *got = malloc((n + 1) * sizeof *got);
    if (!src || !got) {
        CHECK(!"out of memory");
        free(src), free(got);
        return;
    }
    memcpy(src + shift, raw, nbytes);
    for (uint32_t i = 0; i <= n; i++) got[i] = NAN;
    const uint32_t sentinel = 0x7fc0dead;
    memcpy(&got[n], &sentinel, 4);
    bool ok = g4_dequantize(type, src + shift, got, n);
    CHECKF(ok, "%s: g4_dequantize refused", g4_type_name(type));
    if (ok) {
        uint32_t bad = 0, first = n;
        for (uint32_t i = 0; i < n; i++)
            if (memcmp(&got[i], &want[i], 4)) {
                if (first == n) first = i;
                bad++;
            }
        CHECKF(bad == 0, "%s (shift %d): %u of %u values differ, first at %u: got %a (0x%08x) want %a (0x%08x)",
               g4_type_name(type), shift, bad, n, first, first < n ? (double)got[first] : 0.0,
               first < n ? g4_f32_as_u32(got[first]) : 0, first < n ? (double)want[first] : 0.0,
               first < n ? g4_f32_as_u32(want[first]) : 0);
        CHECKF(!memcmp(&got[n], &sentinel, 4), "%s: wrote past the end", g4_type_name(type));
    }
    free(src);
    free(got);
}

static void test_against_gguf_package(void) {
    size_t len = 0;
    uint8_t *buf = (uint8_t *)test_read_file(FIXTURE, &len);
    CHECKF(buf, "cannot read %s", FIXTURE);
    if (!buf) return;
    bool seen[G4_TYPE_COUNT] = {0};
    CHECK(len >= 8 && !memcmp(buf, "G4DQ", 4));
    uint32_t count = len >= 8 ? rd32(buf + 4) : 0;
    size_t pos = 8;
    for (uint32_t r = 0; r < count; r++) {
        if (len - pos < 12) { CHECK(!"fixture truncated"); break; }
        uint32_t type = rd32(buf + pos), n = rd32(buf + pos + 4), nbytes = rd32(buf + pos + 8);
        pos += 12;
        if (len - pos < nbytes + (size_t)n * 4) { CHECK(!"fixture truncated"); break; }
        uint64_t rb = 0;
        CHECKF(g4_row_bytes(type, n, &rb) && rb == nbytes, "%s: row bytes %llu, fixture has %u", g4_type_name(type),
               (unsigned long long)rb, nbytes);
        float *want = malloc((size_t)n * 4);
        if (!want) break;
        memcpy(want, buf + pos + nbytes, (size_t)n * 4);
        check_record(type, buf + pos, nbytes, want, n, 0);
        check_record(type, buf + pos, nbytes, want, n, 1); /* unaligned source */
        /* a prefix of whole blocks gives the same prefix of values */
        const struct g4_type_traits *t = g4_type_traits(type);
        if (t && (uint32_t)t->blck < n) check_record(type, buf + pos, (uint32_t)t->size, want, (uint32_t)t->blck, 3);
        free(want);
        if (type < G4_TYPE_COUNT) seen[type] = true;
        pos += nbytes + (size_t)n * 4;
    }
    CHECK(pos == len);
    for (uint32_t ty = 0; ty < G4_TYPE_COUNT; ty++) {
        const struct g4_type_traits *t = g4_type_traits(ty);
        if (t && t->supported) CHECKF(seen[ty], "type %s is marked supported but has no fixture", t->name);
    }
    free(buf);
}

static void test_refuses(void) {
    uint8_t blk[512] = {0};
    float out[512];
    CHECK(!g4_dequantize(G4_TYPE_Q8_1, blk, out, 32));    /* not supported */
    CHECK(!g4_dequantize(G4_TYPE_IQ2_XXS, blk, out, 256)); /* not supported */
    CHECK(!g4_dequantize(4, blk, out, 32));               /* removed id */
    CHECK(!g4_dequantize(G4_TYPE_COUNT, blk, out, 32));
    CHECK(!g4_dequantize(G4_TYPE_Q4_0, blk, out, 33));    /* not whole blocks */
    CHECK(!g4_dequantize(G4_TYPE_Q4_K, blk, out, 128));
    CHECK(!g4_dequantize(G4_TYPE_F32, blk, out, -1));
    CHECK(g4_dequantize(G4_TYPE_Q4_0, blk, out, 0));      /* zero elements is fine */
}

/* Hand-checked block: q4_0 with d = 0.5, nibbles 0..15 -> (q - 8) / 2. */
static void test_q4_0_by_hand(void) {
    struct g4_block_q4_0 b;
    b.d = g4_f32_to_f16(0.5f);
    for (int j = 0; j < 16; j++) b.qs[j] = (uint8_t)(j | (15 - j) << 4);
    float y[32];
    CHECK(g4_dequantize(G4_TYPE_Q4_0, &b, y, 32));
    for (int j = 0; j < 16; j++) {
        CHECKF(y[j] == (j - 8) * 0.5f, "y[%d] = %g", j, (double)y[j]);
        CHECKF(y[j + 16] == (7 - j) * 0.5f, "y[%d] = %g", j + 16, (double)y[j + 16]);
    }
}

static void test_quantize_against_gguf_package(void) {
    size_t len = 0;
    uint8_t *buf = (uint8_t *)test_read_file("tests/fixtures/gguf/quant.bin", &len);
    CHECK(buf && len >= 8 && !memcmp(buf, "G4QT", 4));
    if (!buf) return;
    uint32_t count = rd32(buf + 4), seen = 0;
    size_t pos = 8;
    for (uint32_t r = 0; r < count && len - pos >= 12; r++) {
        uint32_t type = rd32(buf + pos), n = rd32(buf + pos + 4), nbytes = rd32(buf + pos + 8);
        pos += 12;
        if (len - pos < (size_t)n * 4 + nbytes) break;
        float *x = malloc((size_t)n * 4);
        uint8_t *got = malloc(nbytes + 1);
        if (!x || !got) break;
        memcpy(x, buf + pos, (size_t)n * 4);
        const uint8_t *want = buf + pos + (size_t)n * 4;
        memset(got, 0xAB, nbytes + 1);
        CHECKF(g4_quantize(type, x, got, n), "%s: g4_quantize refused", g4_type_name(type));
        uint32_t bad = 0, first = nbytes;
        for (uint32_t i = 0; i < nbytes; i++)
            if (got[i] != want[i]) {
                if (first == nbytes) first = i;
                bad++;
            }
        CHECKF(bad == 0, "%s: %u of %u bytes differ, first at byte %u (block %u): got 0x%02x want 0x%02x",
               g4_type_name(type), bad, nbytes, first, first / (uint32_t)g4_type_traits(type)->size,
               first < nbytes ? got[first] : 0, first < nbytes ? want[first] : 0);
        CHECKF(got[nbytes] == 0xAB, "%s: wrote past the end", g4_type_name(type));
        free(x);
        free(got);
        pos += (size_t)n * 4 + nbytes;
        seen++;
    }
    CHECK(seen == 5 && count == 5 && pos == len);
    float x[32] = {0};
    uint8_t out[64];
    CHECK(!g4_quantize(G4_TYPE_Q4_K, x, out, 256)); /* not implemented */
    CHECK(!g4_quantize(G4_TYPE_Q8_0, x, out, 31));
    free(buf);
}

int main(void) {
    RUN(test_against_gguf_package);
    RUN(test_refuses);
    RUN(test_q4_0_by_hand);
    RUN(test_quantize_against_gguf_package);
    return test_done();
}
