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

/* Fills *dec from cfg and td. Errors name the missing or mis-shaped tensor.
 * On error *dec is left empty (g4_dec_free is still safe). */
g4_status g4_dec_bind(struct g4_dec *dec, const struct g4_config *cfg, const struct g4_tensordir *td, g4_error *err);

#endif
