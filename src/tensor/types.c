/* types.c — the type-traits table (sizes match ggml-common.h block layouts). */
#include "tensor/types.h"

static const struct g4_type_traits traits[G4_TYPE_COUNT] = {
    [G4_TYPE_F32] = {"f32", 1, 4, true},
    [G4_TYPE_F16] = {"f16", 1, 2, true},
    [G4_TYPE_Q4_0] = {"q4_0", 32, 18, true},
    [G4_TYPE_Q4_1] = {"q4_1", 32, 20, true},
    [G4_TYPE_Q5_0] = {"q5_0", 32, 22, true},
    [G4_TYPE_Q5_1] = {"q5_1", 32, 24, true},
    [G4_TYPE_Q8_0] = {"q8_0", 32, 34, true},
    [G4_TYPE_Q8_1] = {"q8_1", 32, 36, false},
    [G4_TYPE_Q2_K] = {"q2_K", 256, 84, true},
    [G4_TYPE_Q3_K] = {"q3_K", 256, 110, true},
    [G4_TYPE_Q4_K] = {"q4_K", 256, 144, true},
    [G4_TYPE_Q5_K] = {"q5_K", 256, 176, true},
    [G4_TYPE_Q6_K] = {"q6_K", 256, 210, true},
    [G4_TYPE_Q8_K] = {"q8_K", 256, 292, false},
    [G4_TYPE_IQ2_XXS] = {"iq2_xxs", 256, 66, false},
    [G4_TYPE_IQ2_XS] = {"iq2_xs", 256, 74, false},
    [G4_TYPE_IQ3_XXS] = {"iq3_xxs", 256, 98, false},
    [G4_TYPE_IQ1_S] = {"iq1_s", 256, 50, false},
    [G4_TYPE_IQ4_NL] = {"iq4_nl", 32, 18, true},
    [G4_TYPE_IQ3_S] = {"iq3_s", 256, 110, false},
    [G4_TYPE_IQ2_S] = {"iq2_s", 256, 82, false},
    [G4_TYPE_IQ4_XS] = {"iq4_xs", 256, 136, true},
    [G4_TYPE_I8] = {"i8", 1, 1, false},
    [G4_TYPE_I16] = {"i16", 1, 2, false},
    [G4_TYPE_I32] = {"i32", 1, 4, false},
    [G4_TYPE_I64] = {"i64", 1, 8, false},
    [G4_TYPE_F64] = {"f64", 1, 8, false},
    [G4_TYPE_IQ1_M] = {"iq1_m", 256, 56, false},
    [G4_TYPE_BF16] = {"bf16", 1, 2, true},
    [G4_TYPE_TQ1_0] = {"tq1_0", 256, 54, true},
    [G4_TYPE_TQ2_0] = {"tq2_0", 256, 66, true},
    [G4_TYPE_MXFP4] = {"mxfp4", 32, 17, true},
};

const struct g4_type_traits *g4_type_traits(uint32_t type) {
    if (type >= G4_TYPE_COUNT || !traits[type].name) return NULL;
    return &traits[type];
}

const char *g4_type_name(uint32_t type) {
    const struct g4_type_traits *t = g4_type_traits(type);
    return t ? t->name : "unknown";
}

bool g4_row_bytes(uint32_t type, uint64_t n, uint64_t *bytes) {
    const struct g4_type_traits *t = g4_type_traits(type);
    if (!t || n % (uint64_t)t->blck) return false;
    return g4_mul_ok(n / (uint64_t)t->blck, (uint64_t)t->size, bytes);
}
