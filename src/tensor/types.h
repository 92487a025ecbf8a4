/* types.h — tensor element types and their traits.
 * Type ids equal GGML's (ggml.h enum ggml_type), so a GGUF tensor's type field
 * maps directly. A quantized type stores rows as blocks of `blck` elements in
 * `size` bytes; a row of n elements (n % blck == 0) takes n/blck*size bytes.
 * Dimension order everywhere: ne[0] is the innermost (contiguous) dimension. */
#ifndef G4_TENSOR_TYPES_H
#define G4_TENSOR_TYPES_H

#include "core/status.h"

enum g4_type {
    G4_TYPE_F32 = 0,
    G4_TYPE_F16 = 1,
    G4_TYPE_Q4_0 = 2,
    G4_TYPE_Q4_1 = 3,
    /* 4, 5: removed Q4_2/Q4_3 */
    G4_TYPE_Q5_0 = 6,
    G4_TYPE_Q5_1 = 7,
    G4_TYPE_Q8_0 = 8,
    G4_TYPE_Q8_1 = 9,
    G4_TYPE_Q2_K = 10,
    G4_TYPE_Q3_K = 11,
    G4_TYPE_Q4_K = 12,
    G4_TYPE_Q5_K = 13,
    G4_TYPE_Q6_K = 14,
    G4_TYPE_Q8_K = 15,
    G4_TYPE_IQ2_XXS = 16,
    G4_TYPE_IQ2_XS = 17,
    G4_TYPE_IQ3_XXS = 18,
    G4_TYPE_IQ1_S = 19,
    G4_TYPE_IQ4_NL = 20,
    G4_TYPE_IQ3_S = 21,
    G4_TYPE_IQ2_S = 22,
    G4_TYPE_IQ4_XS = 23,
    G4_TYPE_I8 = 24,
    G4_TYPE_I16 = 25,
    G4_TYPE_I32 = 26,
    G4_TYPE_I64 = 27,
    G4_TYPE_F64 = 28,
    G4_TYPE_IQ1_M = 29,
    G4_TYPE_BF16 = 30,
    /* 31..33 removed Q4_0_4_4 etc., 34 TQ1_0, 35 TQ2_0, 39 MXFP4 */
    G4_TYPE_TQ1_0 = 34,
    G4_TYPE_TQ2_0 = 35,
    G4_TYPE_MXFP4 = 39,
    G4_TYPE_COUNT = 40,
};

struct g4_type_traits {
    const char *name;  /* GGML's name, e.g. "q4_K"; NULL for unknown ids */
    int blck;          /* elements per block (1 for plain types) */
    int size;          /* bytes per block */
    bool supported;    /* g4 can dequantize / compute with it */
};

/* Traits of a type id; returns NULL for ids that are not a known type. */
const struct g4_type_traits *g4_type_traits(uint32_t type);
const char *g4_type_name(uint32_t type);

/* Bytes for a row of n elements; false if n is not a multiple of the block
 * size, the type is unknown, or the result overflows. */
bool g4_row_bytes(uint32_t type, uint64_t n, uint64_t *bytes);

/* Dequantizes n elements (a multiple of the block size) of `type` at src to
 * float32. Bit-identical to the gguf Python package's dequantizers. Returns
 * false for an unsupported type. Implemented in tensor/dequant.c. */
bool g4_dequantize(uint32_t type, const void *src, float *dst, int64_t n);

#endif
