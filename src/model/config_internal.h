/* config_internal.h — helpers shared by config.c, config_hf.c and
 * config_gguf.c (not part of the model API). */
#ifndef G4_MODEL_CONFIG_INTERNAL_H
#define G4_MODEL_CONFIG_INTERNAL_H

#include "model/config.h"

/* Zeroes *c and sets the defaults that are not zero (ids -1, scales 1, the
 * Gemma IT sampling defaults). */
void g4_config_defaults(struct g4_config *c);
/* Appends an EOS id if it is new and there is room. */
void g4_config_add_eos(struct g4_config *c, int64_t id);
/* Resolves per-layer values from the model-wide ones (layers[i].type must be
 * set; non-zero layers[i].head_dim / n_head_kv / n_ff are kept as per-layer
 * overrides), sets the variant label, then validates. */
g4_status g4_config_finalize(struct g4_config *c, const char *name, g4_error *err);

#endif
