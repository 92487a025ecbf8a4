/* weights.h — binding a loaded model's tensors to the decoder.
 * g4_dec_bind() resolves every per-layer hyperparameter from the config,
 * finds each tensor by name (HF or GGUF spelling), checks its shape and type,
 * and fills a struct g4_dec whose matrices point into the mapped files. The
 * tensor directory must outlive the decoder. */
#ifndef G4_MODEL_WEIGHTS_H
#define G4_MODEL_WEIGHTS_H

#include "io/tensordir.h"
#include "model/config.h"
#include "model/decoder.h"

/* Fills *dec from cfg and td, then repacks its matrices for the kernel
 * table (g4_dec_pack with drop_plain: td's tensors must point into
 * read-only file mappings, as g4_model_load's do), on `pool` (the _ex form)
 * or on a pool of one thread per CPU made for the purpose. Errors name the
 * missing or mis-shaped tensor. On error *dec is left empty (g4_dec_free is
 * still safe). */
g4_status g4_dec_bind(struct g4_dec *dec, const struct g4_config *cfg, const struct g4_tensordir *td, g4_error *err);
g4_status g4_dec_bind_ex(struct g4_dec *dec, const struct g4_config *cfg, const struct g4_tensordir *td,
                         struct g4_pool *pool, g4_error *err);

/* Repacks every matrix of a bound decoder that the g4_kernels() table has a
 * packed layout for (weights_pack.c), on `pool` (NULL: the caller). Faster
 * matmuls at the cost of one more copy of those weights in anonymous memory;
 * with drop_plain (only when every matrix points into a read-only file
 * mapping) the repacked plain pages are released so the resident set does
 * not double. A no-op when the table has no layouts (G4_KERNELS=ref) or the
 * decoder is already packed; if the copy cannot be allocated it warns and
 * leaves the decoder plain. g4_dec_free() frees the copies. */
g4_status g4_dec_pack(struct g4_dec *dec, struct g4_pool *pool, bool drop_plain, g4_error *err);

#endif
