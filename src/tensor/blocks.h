/* blocks.h — byte layouts of the quantized block types (GGML's, bit for bit).
 * One struct per type, each followed by a _Static_assert on its size so the
 * layout can never drift from the type-traits table (tensor/types.c) or from
 * files written by llama.cpp / the gguf Python package. f16 scales are stored
 * as raw uint16_t bits (convert with core/fp16.h). Blocks inside a tensor are
 * packed back to back, so a block pointer is only as aligned as the tensor
 * data and the block size allow: code that may see unaligned data copies a
 * block into a local struct with memcpy before reading fields. */
#ifndef G4_TENSOR_BLOCKS_H
#define G4_TENSOR_BLOCKS_H

#include <stdint.h>

#define G4_QK4_0 32
#define G4_QK4_1 32
#define G4_QK5_0 32
#define G4_QK5_1 32
#define G4_QK8_0 32
#define G4_QK8_1 32
#define G4_QK4_NL 32
#define G4_QK_MXFP4 32
#define G4_QK_K 256          /* super-block size of the k-quants and i-quants */
#define G4_K_SCALE_SIZE 12   /* packed 6-bit scales+mins of Q4_K / Q5_K */

/* ---- Legacy 32-element blocks ------------------------------------------ */

/* x = d * (q - 8), q in 0..15; element j<16 in the low nibble of qs[j], j>=16 in the high nibble of qs[j-16]. */
struct g4_block_q4_0 {
    uint16_t d;                 /* f16 scale */
    uint8_t qs[G4_QK4_0 / 2];
};
_Static_assert(sizeof(struct g4_block_q4_0) == 18, "q4_0 block size");

/* x = d * q + m, q in 0..15; nibble order as q4_0. */
struct g4_block_q4_1 {
    uint16_t d;                 /* f16 scale */
    uint16_t m;                 /* f16 min */
    uint8_t qs[G4_QK4_1 / 2];
};
_Static_assert(sizeof(struct g4_block_q4_1) == 20, "q4_1 block size");

/* x = d * (q - 16), q in 0..31; low 4 bits as q4_0, bit 4 of element j is bit j of qh (little-endian u32). */
struct g4_block_q5_0 {
    uint16_t d;                 /* f16 scale */
    uint8_t qh[4];
    uint8_t qs[G4_QK5_0 / 2];
};
_Static_assert(sizeof(struct g4_block_q5_0) == 22, "q5_0 block size");

/* x = d * q + m, q in 0..31; bits as q5_0. */
struct g4_block_q5_1 {
    uint16_t d;                 /* f16 scale */
    uint16_t m;                 /* f16 min */
    uint8_t qh[4];
    uint8_t qs[G4_QK5_1 / 2];
};
_Static_assert(sizeof(struct g4_block_q5_1) == 24, "q5_1 block size");

/* x = d * q, q int8. */
struct g4_block_q8_0 {
    uint16_t d;                 /* f16 scale */
    int8_t qs[G4_QK8_0];
};
_Static_assert(sizeof(struct g4_block_q8_0) == 34, "q8_0 block size");

/* Activation format for q4_1/q5_1 dot products: x = d * q, s = d * sum(q). */
struct g4_block_q8_1 {
    uint16_t d;                 /* f16 scale */
    uint16_t s;                 /* f16 d * sum(qs) */
    int8_t qs[G4_QK8_1];
};
_Static_assert(sizeof(struct g4_block_q8_1) == 36, "q8_1 block size");

/* ---- k-quants: 256-element super-blocks -------------------------------- */

/* 16 sub-blocks of 16: x = d*(sc&15) * q - dmin*(sc>>4), q 2-bit. */
struct g4_block_q2_K {
    uint8_t scales[G4_QK_K / 16]; /* low nibble scale, high nibble min */
    uint8_t qs[G4_QK_K / 4];      /* 2-bit quants, 4 per byte */
    uint16_t d;                   /* f16 super-block scale */
    uint16_t dmin;                /* f16 super-block min scale */
};
_Static_assert(sizeof(struct g4_block_q2_K) == 84, "q2_K block size");

/* 16 sub-blocks of 16: x = d*(s-32) * (q - (hbit ? 0 : 4)), s 6-bit, q 2-bit. */
struct g4_block_q3_K {
    uint8_t hmask[G4_QK_K / 8];   /* high bit of each quant */
    uint8_t qs[G4_QK_K / 4];      /* low 2 bits */
    uint8_t scales[12];           /* 16 packed 6-bit scales */
    uint16_t d;                   /* f16 super-block scale */
};
_Static_assert(sizeof(struct g4_block_q3_K) == 110, "q3_K block size");

/* 8 sub-blocks of 32: x = d*sc * q - dmin*m, sc/m 6-bit, q 4-bit. */
struct g4_block_q4_K {
    uint16_t d;                   /* f16 super-block scale for scales */
    uint16_t dmin;                /* f16 super-block scale for mins */
    uint8_t scales[G4_K_SCALE_SIZE];
    uint8_t qs[G4_QK_K / 2];
};
_Static_assert(sizeof(struct g4_block_q4_K) == 144, "q4_K block size");

/* As q4_K with a fifth bit per quant in qh. */
struct g4_block_q5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[G4_K_SCALE_SIZE];
    uint8_t qh[G4_QK_K / 8];
    uint8_t qs[G4_QK_K / 2];
};
_Static_assert(sizeof(struct g4_block_q5_K) == 176, "q5_K block size");

/* 16 sub-blocks of 16: x = d*scales[i] * (q - 32), q 6-bit. */
struct g4_block_q6_K {
    uint8_t ql[G4_QK_K / 2];      /* low 4 bits */
    uint8_t qh[G4_QK_K / 4];      /* high 2 bits */
    int8_t scales[G4_QK_K / 16];
    uint16_t d;                   /* f16 super-block scale */
};
_Static_assert(sizeof(struct g4_block_q6_K) == 210, "q6_K block size");

/* Activation format for k-quant dot products. */
struct g4_block_q8_K {
    float d;
    int8_t qs[G4_QK_K];
    int16_t bsums[G4_QK_K / 16];  /* sum of each group of 16 quants */
};
_Static_assert(sizeof(struct g4_block_q8_K) == 292, "q8_K block size");

/* ---- Non-linear and ternary types -------------------------------------- */

/* The 16 non-linear levels of iq4_nl / iq4_xs, and the doubled e2m1 values
 * of mxfp4 (defined in tensor/dequant.c). */
extern const int8_t g4_kvalues_iq4nl[16];
extern const int8_t g4_kvalues_mxfp4[16];

/* x = d * kvalues_iq4nl[q], q 4-bit; nibble order as q4_0. */
struct g4_block_iq4_nl {
    uint16_t d;
    uint8_t qs[G4_QK4_NL / 2];
};
_Static_assert(sizeof(struct g4_block_iq4_nl) == 18, "iq4_nl block size");

/* 8 sub-blocks of 32: x = d*(s-32) * kvalues_iq4nl[q], s 6-bit (low 4 in scales_l, high 2 in scales_h). */
struct g4_block_iq4_xs {
    uint16_t d;
    uint16_t scales_h;
    uint8_t scales_l[G4_QK_K / 64];
    uint8_t qs[G4_QK_K / 2];
};
_Static_assert(sizeof(struct g4_block_iq4_xs) == 136, "iq4_xs block size");

/* Ternary, 1.6875 bpw: base-3 digits packed 5 per byte (qs) and 4 per byte (qh). */
struct g4_block_tq1_0 {
    uint8_t qs[(G4_QK_K - 4 * G4_QK_K / 64) / 5];
    uint8_t qh[G4_QK_K / 64];
    uint16_t d;
};
_Static_assert(sizeof(struct g4_block_tq1_0) == 54, "tq1_0 block size");

/* Ternary, 2 bits per element: x = d * (q - 1). */
struct g4_block_tq2_0 {
    uint8_t qs[G4_QK_K / 4];
    uint16_t d;
};
_Static_assert(sizeof(struct g4_block_tq2_0) == 66, "tq2_0 block size");

/* OCP microscaling FP4: e8m0 shared exponent, 32 e2m1 values. */
struct g4_block_mxfp4 {
    uint8_t e;
    uint8_t qs[G4_QK_MXFP4 / 2];
};
_Static_assert(sizeof(struct g4_block_mxfp4) == 17, "mxfp4 block size");

#endif
