/* test_core.c — status/error helpers, fp16/bf16 conversion, type traits. */
#include "core/fp16.h"
#include "core/status.h"
#include "tensor/types.h"
#include "test.h"

#include <math.h>
#include <string.h>

static void test_fail_formats(void) {
    g4_error e;
    g4_status s = g4_fail(&e, G4_ERR_FORMAT, "%s: bad %d", "x.gguf", 7);
    CHECK(s == G4_ERR_FORMAT && e.code == G4_ERR_FORMAT);
    CHECK(strcmp(e.message, "x.gguf: bad 7") == 0);
    g4_error_prefix(&e, "load");
    CHECK(strcmp(e.message, "load: x.gguf: bad 7") == 0);
    CHECK(g4_fail(NULL, G4_ERR_IO, "ignored") == G4_ERR_IO);
    CHECK(strcmp(g4_status_str(G4_OK), "ok") == 0);
}

static void test_checked_math(void) {
    uint64_t r;
    CHECK(g4_mul_ok(1ull << 31, 1ull << 31, &r) && r == 1ull << 62);
    CHECK(!g4_mul_ok(1ull << 32, 1ull << 32, &r));
    CHECK(!g4_add_ok(UINT64_MAX, 1, &r));
}

/* f16 round trip over every half value; f32->f16 rounding checked on
 * halfway cases (ties to even, as numpy does). */
static void test_f16(void) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = g4_f16_to_f32((uint16_t)h);
        if (isnan(f)) continue;
        CHECKF(g4_f32_to_f16(f) == h, "f16 %04x -> %g -> %04x", h, f, g4_f32_to_f16(f));
    }
    CHECK(g4_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00);        /* tie -> even */
    CHECK(g4_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02);        /* tie -> even (up) */
    CHECK(g4_f32_to_f16(65520.0f) == 0x7c00);                  /* rounds to inf */
    CHECK(g4_f32_to_f16(5.9604645e-08f) == 0x0001);            /* smallest subnormal */
}

static void test_bf16(void) {
    CHECK(g4_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(g4_round_bf16(sqrtf(3840.0f)) == 62.0f); /* Gemma 4 embed scale in bf16 (spec 2.1) */
    CHECK(g4_bf16_to_f32(0x4278) == 62.0f);
}

static void test_type_traits(void) {
    uint64_t b;
    CHECK(g4_row_bytes(G4_TYPE_Q4_K, 512, &b) && b == 288);
    CHECK(!g4_row_bytes(G4_TYPE_Q4_K, 100, &b));
    CHECK(!g4_row_bytes(4, 32, &b)); /* removed type id */
    CHECK(!g4_row_bytes(1000, 32, &b));
    CHECK(strcmp(g4_type_name(G4_TYPE_BF16), "bf16") == 0);
}

int main(void) {
    RUN(test_fail_formats);
    RUN(test_checked_math);
    RUN(test_f16);
    RUN(test_bf16);
    RUN(test_type_traits);
    return test_done();
}
