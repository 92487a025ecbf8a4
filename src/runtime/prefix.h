/* prefix.h — the prefix cache of one sequence (one engine): the token ids
 * its KV cache holds, plus checkpoints of the sliding-window rings, so that
 * a new prompt sharing a prefix with those ids reuses their KV.
 * Without checkpoints a rollback deeper than n_batch positions is
 * impossible (sliding rings have overwritten keys the window needs) and
 * would force a full re-prefill; with them the cache restores the nearest
 * checkpoint <= the common prefix and re-evaluates from there. Checkpoints
 * are taken every `every` positions and at the end of each prompt
 * (g4_prefix_checkpoint); at most max_ckpt are kept, all allocated at init
 * (bounded memory: max_ckpt x g4_kvcache_snap_floats floats); when full,
 * the one at the lowest position is dropped. A checkpoint stays valid while
 * no position below it is rewritten: every cut of the cache drops those
 * above the new length. Nothing is allocated after init. */
#ifndef G4_RUNTIME_PREFIX_H
#define G4_RUNTIME_PREFIX_H

#include "runtime/engine.h"

enum { G4_PREFIX_EVERY = 512, G4_PREFIX_MAX_CKPT = 4 };

struct g4_prefix_ckpt {
    int64_t pos;   /* -1 = unused */
    float *buf;    /* snapshot (g4_kvcache_snapshot) */
};

struct g4_prefix {
    int32_t *tokens;           /* [n_ctx] ids of positions [0, engine pos) */
    int64_t every;
    int max_ckpt;
    struct g4_prefix_ckpt *ck; /* [max_ckpt] */
    size_t snap_floats;        /* 0: rings never wrap, no checkpoint needed */
    float *mem;
    long long restores;        /* checkpoint restores (metrics) */
};

/* Sizes the cache for engine e (n_ctx ids, max_ckpt snapshots). */
g4_status g4_prefix_init(struct g4_prefix *p, const struct g4_engine *e, int64_t every, int max_ckpt, g4_error *err);
void g4_prefix_free(struct g4_prefix *p);

/* Length of the common prefix of ids[0..n) and the cached ids of e. */
int64_t g4_prefix_match(const struct g4_prefix *p, const struct g4_engine *e, const int32_t *ids, int64_t n);

/* Cuts e back to the longest reusable prefix of ids[0..n) (at most n - 1,
 * so at least one row runs and gives logits): the common prefix when the
 * cache can truncate there, else the nearest checkpoint below it, else 0.
 * Returns the kept length, or -1 with err set. */
int64_t g4_prefix_seek(struct g4_prefix *p, struct g4_engine *e, const int32_t *ids, int64_t n, g4_error *err);

/* Evaluates ids[0..n) on e, recording them and checkpointing at multiples
 * of `every`; want_logits: the last row's logits into logits. */
g4_status g4_prefix_eval(struct g4_prefix *p, struct g4_engine *e, const int32_t *ids, int64_t n, int want_logits,
                         float *logits, g4_error *err);

/* Records a token evaluated on e by other means (a batched step), and
 * checkpoints when e reached a multiple of `every`. */
void g4_prefix_note(struct g4_prefix *p, struct g4_engine *e, int32_t token);

/* Records ids[0..n), just evaluated on e by other means (a batched step:
 * they are e's last n positions), and checkpoints when e's length is a
 * multiple of `every` (callers end chunks there). */
void g4_prefix_record(struct g4_prefix *p, struct g4_engine *e, const int32_t *ids, int64_t n);

/* Checkpoints e at its current length (no-op when one is already there). */
void g4_prefix_checkpoint(struct g4_prefix *p, const struct g4_engine *e);

#endif
