/* quantize.h — reference (scalar) quantizers: float32 -> blocks.
 * Bit-identical to the gguf Python package's gguf.quants.quantize (0.19.0)
 * for the types it implements in Python: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (the
 * legacy 32-element blocks; Q8_0 also matches ggml's quantize_row_q8_0_ref).
 * Used to make test weights and by `g4 quantize`; not on the hot path. */
#ifndef G4_TENSOR_QUANTIZE_H
#define G4_TENSOR_QUANTIZE_H

#include "core/status.h"

/* Quantizes n floats (n a multiple of the block size) to `type` at dst
 * (n / blck * size bytes, any alignment). Inputs should be finite: NaN/inf
 * give unspecified (but memory-safe) codes. Returns false for a type it
 * cannot produce or a bad n. Thread-safe. */
bool g4_quantize(uint32_t type, const float *src, void *dst, int64_t n);

#endif
