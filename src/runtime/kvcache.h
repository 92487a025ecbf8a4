/* kvcache.h — the KV cache of one sequence.
 * Each layer that computes its own K/V gets a ring of slots (slot of
 * position p = p % cap) holding K and V rows of n_kv_head*head_dim f32:
 *   - global layers: cap = n_ctx (never wraps);
 *   - sliding layers: cap = min(n_ctx, window + n_batch), i.e. the window
 *     plus room for one batch, so a batch never overwrites a key that one of
 *     its own queries still sees, and a rollback of up to n_batch tokens
 *     (speculative decoding: verify k+1 <= n_batch tokens, keep fewer) still
 *     finds every key the window needs. Overwritten entries cannot be
 *     restored, so deeper rollbacks are refused with G4_ERR_RANGE.
 * KV-shared layers (E2B/E4B) own nothing: they read their source layer's
 * ring. On K=V layers K (normed, rotated) and V (scale-free norm, unrotated)
 * differ, so both are stored. Positions [0, n_past) are filled.
 * Snapshots (prefix-cache checkpoints): the window's last W-1 positions of
 * every wrapping sliding ring, copied out at some n_past and written back
 * later (global rings never wrap, so they still hold every position below
 * n_past). After a restore the rings hold nothing older, so the cache
 * refuses truncation below the restored length (floor). */
#ifndef G4_RUNTIME_KVCACHE_H
#define G4_RUNTIME_KVCACHE_H

#include "model/decoder.h"

struct g4_kvcache {
    int n_layer;
    int64_t n_ctx;      /* positions the sequence may reach */
    int64_t n_past;     /* positions [0, n_past) are filled */
    int64_t floor;      /* no truncation below this (except to 0), set by a restore */
    int window;
    int n_batch;
    struct g4_kv_view *views; /* [n_layer]; cap == 0 for KV-shared layers */
    float *buf;         /* every ring, one allocation */
    size_t bytes;
};

/* Sizes and allocates the cache for `dec`, sequences up to n_ctx positions
 * and batches up to n_batch rows. */
g4_status g4_kvcache_init(struct g4_kvcache *kv, const struct g4_dec *dec, int64_t n_ctx, int n_batch, g4_error *err);
void g4_kvcache_free(struct g4_kvcache *kv);

/* Largest ring (the attention score span the decoder must plan for). */
int64_t g4_kvcache_max_cap(const struct g4_kvcache *kv);

/* Oldest length the cache can be truncated to (see the header comment). */
int64_t g4_kvcache_min_keep(const struct g4_kvcache *kv);

/* Keeps positions [0, n): n <= n_past and n >= g4_kvcache_min_keep(). */
g4_status g4_kvcache_truncate(struct g4_kvcache *kv, int64_t n, g4_error *err);

/* Floats in one snapshot (0: no ring wraps, every truncation works). */
size_t g4_kvcache_snap_floats(const struct g4_kvcache *kv);
/* Copies the sliding keys the window needs at n_past into buf. */
void g4_kvcache_snapshot(const struct g4_kvcache *kv, float *buf);
/* Makes the cache hold positions [0, pos) from a snapshot taken at n_past
 * == pos of the same sequence: pos <= n_past (global rings still hold
 * [0, pos)) and no position below pos rewritten since the snapshot. */
g4_status g4_kvcache_restore(struct g4_kvcache *kv, int64_t pos, const float *buf, g4_error *err);

#endif
