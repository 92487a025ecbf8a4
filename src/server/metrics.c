/* metrics.c — Prometheus text rendering of struct g4_metrics. */
#include "server/metrics.h"

#include <stdio.h>
#include <stdlib.h>

char *g4_metrics_render(const struct g4_metrics *m, int queue_len, int busy, int n_slots) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    long long pus = atomic_load(&m->prompt_us), gus = atomic_load(&m->gen_us);
    long long pev = atomic_load(&m->prompt_eval_tokens), gt = atomic_load(&m->gen_tokens);
#define C(name, help, v) fprintf(f, "# HELP g4:" name " " help "\n# TYPE g4:" name " counter\ng4:" name " %lld\n", (long long)(v))
#define G(name, help, fmt, v) fprintf(f, "# HELP g4:" name " " help "\n# TYPE g4:" name " gauge\ng4:" name " " fmt "\n", v)
    C("requests_total", "HTTP requests answered.", atomic_load(&m->requests_total));
    C("requests_errors_total", "HTTP requests answered with an error status.", atomic_load(&m->requests_error));
    C("generations_total", "Finished generations.", atomic_load(&m->gen_requests));
    C("prompt_tokens_total", "Prompt tokens of finished generations.", atomic_load(&m->prompt_tokens));
    C("prompt_tokens_cached_total", "Prompt tokens reused from the prefix cache.", atomic_load(&m->prompt_tokens_cached));
    C("prefix_cache_hits_total", "Generations that reused a cached prefix.", atomic_load(&m->prefix_hits));
    C("tokens_predicted_total", "Generated tokens.", gt);
    G("prompt_tokens_seconds", "Average prefill throughput (tokens/s).", "%.3f", pus ? pev * 1e6 / (double)pus : 0.0);
    G("predicted_tokens_seconds", "Average decode throughput (tokens/s).", "%.3f", gus ? gt * 1e6 / (double)gus : 0.0);
    G("requests_deferred", "Requests waiting in the queue.", "%d", queue_len);
    G("requests_processing", "Requests being generated (busy slots).", "%d", busy);
    G("slots", "Generation slots.", "%d", n_slots);
    G("kv_cache_tokens", "Positions in use in the KV cache.", "%lld", (long long)atomic_load(&m->kv_used));
    G("kv_cache_usage_ratio", "KV cache use (0..1).", "%.4f",
      atomic_load(&m->kv_size) ? (double)atomic_load(&m->kv_used) / (double)atomic_load(&m->kv_size) : 0.0);
#undef C
#undef G
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}
