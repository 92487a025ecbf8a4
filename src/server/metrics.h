/* metrics.h — server counters, updated with atomics from any thread and
 * rendered as Prometheus text (GET /metrics). Names follow llama-server's
 * where one exists, under the g4: prefix. */
#ifndef G4_SERVER_METRICS_H
#define G4_SERVER_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct g4_metrics {
    atomic_llong requests_total;       /* HTTP requests answered */
    atomic_llong requests_error;       /* answered with status >= 400 */
    atomic_llong gen_requests;         /* generations finished */
    atomic_llong prompt_tokens;        /* prompt tokens of finished generations */
    atomic_llong prompt_tokens_cached; /* of which reused from the prefix cache */
    atomic_llong prompt_eval_tokens;   /* prompt tokens actually evaluated */
    atomic_llong gen_tokens;           /* generated tokens */
    atomic_llong prompt_us;            /* time spent in prefill, microseconds */
    atomic_llong gen_us;               /* time spent decoding, microseconds */
    atomic_llong prefix_hits;          /* generations that reused >= 1 cached token */
    atomic_llong kv_used;              /* positions in the KV cache now */
    atomic_llong kv_size;              /* context size */
};

/* Writes the Prometheus text exposition into a malloc'd string. queue_len
 * and busy are sampled by the caller. */
char *g4_metrics_render(const struct g4_metrics *m, int queue_len, int busy, int n_slots);

#endif
