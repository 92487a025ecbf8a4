/* sampler.h — picks the next token from a row of logits.
 *
 * Order of operations (HF generate's logits processors then warpers; llama.cpp
 * applies temperature last, we follow HF, which Gemma's generation config
 * targets):
 *   1. suppress_tokens -> -inf; logit_bias added
 *   2. penalties over the last `penalty_last_n` accepted tokens (llama.cpp's
 *      window): for each distinct token t seen c > 0 times in the window,
 *        repetition: l = l > 0 ? l / repeat_penalty : l * repeat_penalty
 *                    (HF RepetitionPenaltyLogitsProcessor; llama.cpp uses <= 0)
 *        then       l -= c * frequency_penalty + presence_penalty (OpenAI)
 *   3. greedy if temperature <= 0 or top_k == 1: argmax (lowest id on ties)
 *   4. l /= temperature
 *   5. top_k: keep the k largest (exactly k; ties broken by lower id)
 *   6. top_p: softmax over the survivors, keep the smallest prefix of the
 *      sorted list whose probability mass reaches top_p (at least one)
 *   7. min_p: drop tokens with p < min_p * p_max (p over the survivors)
 *   8. sample from the renormalised survivors with the sampler's own
 *      xoshiro256** generator seeded by `seed` (same seed, same tokens).
 * (Steps 4 and 5 commute since x / T is increasing; the code selects the
 * top k first, in one streaming pass, and divides only those k logits.)
 * Cost per token for a 262k vocabulary: one copy and one pass over the
 * logits, plus a sort of the head of the distribution when top_p is on.
 * The caller feeds every token that enters the context (prompt tokens too,
 * if penalties should see them) to g4_sampler_accept.
 *
 * Memory: g4_sampler_init allocates scratch sized to the vocabulary once;
 * sampling allocates nothing. A sampler is used by one thread at a time. */
#ifndef G4_RUNTIME_SAMPLER_H
#define G4_RUNTIME_SAMPLER_H

#include "core/status.h"

struct g4_logit_bias {
    int32_t token;
    float bias;
};

/* Defaults (g4_sampler_params_default) are neutral: temperature 1, every
 * filter and penalty off, window 64, seed 0. A model's generation config
 * (Gemma 4 IT: temperature 1, top_k 64, top_p 0.95) is applied on top. */
struct g4_sampler_params {
    float temperature;        /* <= 0: greedy */
    int32_t top_k;            /* <= 0: off */
    float top_p;              /* >= 1: off */
    float min_p;              /* <= 0: off */
    float repeat_penalty;     /* 1: off; > 0 */
    float presence_penalty;   /* 0: off */
    float frequency_penalty;  /* 0: off */
    int32_t penalty_last_n;   /* window of accepted tokens the penalties see; 0: off */
    uint64_t seed;
    const int32_t *suppress_tokens;  /* copied at init */
    int32_t n_suppress;
    const struct g4_logit_bias *logit_bias; /* copied at init */
    int32_t n_logit_bias;
};

struct g4_sampler;

void g4_sampler_params_default(struct g4_sampler_params *p);

/* Creates a sampler for a vocabulary of n_vocab tokens. Validates the
 * parameters (ranges, token ids in [0, n_vocab)); G4_ERR_INVALID_ARG names
 * the bad field. */
g4_status g4_sampler_init(struct g4_sampler **out, int32_t n_vocab, const struct g4_sampler_params *p, g4_error *err);
void g4_sampler_free(struct g4_sampler *s);

/* Forgets the accepted tokens and reseeds the generator. */
void g4_sampler_reset(struct g4_sampler *s, uint64_t seed);

/* Records a token entering the context (for penalties). Ids outside the
 * vocabulary are ignored. */
void g4_sampler_accept(struct g4_sampler *s, int32_t token);

/* Writes the processed logits (steps 1-2: suppression, bias, penalties;
 * no temperature) of logits[0..n_vocab) to out[0..n_vocab). For logprobs
 * reporting and tests. */
void g4_sampler_process(struct g4_sampler *s, const float *logits, float *out);

/* Picks a token from logits[0..n_vocab) (not modified). Returns -1 only if
 * every token is suppressed or -inf / NaN. Does not accept the token. */
int32_t g4_sampler_sample(struct g4_sampler *s, const float *logits);

#endif
