/* dec_synth.h — tiny random-weight decoders built in memory for the engine
 * and KV-cache tests (no files needed). All matrices are F32. `features`
 * selects what the model exercises beyond a plain Gemma 4 stack. */
#ifndef G4_TEST_DEC_SYNTH_H
#define G4_TEST_DEC_SYNTH_H

#include "model/decoder.h"

enum {
    SYNTH_PLE = 1,     /* per-layer inputs */
    SYNTH_MOE = 2,     /* MoE block on layer 1 */
    SYNTH_SHARED = 4,  /* layer 3 reuses layer 1's KV (needs 4 layers) */
    SYNTH_GEMMA3 = 8,  /* Gemma 3 rules: no v_norm, attn scale 1/4, no layer scalar, no softcap */
};

struct synth {
    struct g4_dec dec;
    float *mem;
    size_t used, cap;
    uint64_t rng;
};

/* Builds a model with n_layer (2 or 4) layers: layer 2 (or 1 with 2 layers)
 * is global with K=V and proportional RoPE; the others are sliding. */
void synth_build(struct synth *s, int n_layer, int features, int window, uint64_t seed);
void synth_free(struct synth *s);

#endif
