/* safetensors.h — reader for the safetensors format (Hugging Face).
 * Layout: 8-byte little-endian header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
 * then the data section. Everything is validated before use: header length
 * against the file, JSON shape, dtype names, shape vs byte size, offsets in
 * range, no two tensors overlapping, element alignment. Tensor data is used in
 * place (pointers into the caller's mapping). A PyTorch shape [a, b] becomes
 * ne = {b, a} (ne[0] innermost); a 0-d scalar becomes ne = {1}. */
#ifndef G4_IO_SAFETENSORS_H
#define G4_IO_SAFETENSORS_H

#include "io/tensordir.h"

/* Largest JSON header accepted (the 12B checkpoint's is ~100 KB). */
#define G4_SAFETENSORS_MAX_HEADER (64ull << 20)

/* Parses the safetensors image `data` of `size` bytes (usually an mmap) and
 * adds every tensor to `dir` with .file = `file`. `name` is used in messages.
 * On error, tensors added by this call may remain in `dir`; the caller frees
 * the directory. Supported dtypes: F32, F16, BF16, F64, I8, I16, I32, I64;
 * others (U8, BOOL, F8_*) are refused as unsupported. */
g4_status g4_safetensors_parse(const uint8_t *data, uint64_t size, const char *name, int file,
                               struct g4_tensordir *dir, g4_error *err);

/* g4_type for a safetensors dtype string, or -1 if unknown/unsupported. */
int g4_safetensors_dtype(const char *dtype);

#endif
