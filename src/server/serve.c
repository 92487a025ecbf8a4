/* serve.c — lifecycle of `g4 serve`: block SIGINT/SIGTERM/SIGPIPE in every
 * thread, start listening at once (GET /health says 503 "Loading model"
 * while the model loads), load the model, start the engine thread, then
 * wait for a signal. On SIGINT/SIGTERM: stop accepting (quiesce), refuse
 * queued requests with 503, cancel the running generation (its client gets
 * an error event or a 503), let the connection threads finish, join the
 * engine, free the model, exit 0. */
#include "server/server.h"

#include "api/model_impl.h"
#include "core/log.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void default_id(const char *path, char *out, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b && b[1] ? b + 1 : path;
    snprintf(out, cap, "%s", b);
    size_t n = strlen(out);
    if (n > 5 && !strcmp(out + n - 5, ".gguf")) out[n - 5] = 0;
    else if (n > 1 && out[n - 1] == '/') out[n - 1] = 0;
}

int g4_serve_run(const struct g4_serve_config *cfg) {
    struct g4_server *s = calloc(1, sizeof *s);
    if (!s) return 1;
    s->cfg = cfg;
    atomic_init(&s->state, G4_SRV_LOADING);
    atomic_init(&s->abort, false);
    atomic_init(&s->active, 0);
    g4_gen_queue_init(&s->q, cfg->queue_cap);
    s->created = (int64_t)time(NULL);
    if (cfg->alias) snprintf(s->model_id, sizeof s->model_id, "%s", cfg->alias);
    else default_id(cfg->model_path, s->model_id, sizeof s->model_id);
    snprintf(s->fingerprint, sizeof s->fingerprint, "fp_g4_%s", g4_version());

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    int rc = 1, port = 0;
    void *daemon = NULL;
    g4_error err = {0};
    if (g4_http_start(s, &daemon, &port, &err) != G4_OK) {
        fprintf(stderr, "g4 serve: %s\n", err.message);
        goto out;
    }
    fprintf(stderr, "g4 serve: listening on http://%s:%d (model '%s' loading)\n", cfg->host, port, s->model_id);
    if (cfg->port_file) {
        FILE *f = fopen(cfg->port_file, "w");
        if (f) fprintf(f, "%d\n", port), fclose(f);
    }
    const char *paths[] = {cfg->model_path};
    if (g4_model_load(paths, 1, NULL, &s->model, &err) != G4_OK ||
        g4_specials_new(s->model, &s->specials, &err) != G4_OK ||
        g4_engine_thread_start(&s->et, s->model, cfg->n_ctx, cfg->n_threads, cfg->parallel, cfg->prefill_chunk, &s->q, &s->metrics, &s->abort, &err) !=
            G4_OK) {
        fprintf(stderr, "g4 serve: %s\n", err.message);
        atomic_store(&s->state, G4_SRV_FAILED);
        goto out;
    }
    s->n_ctx = s->et.n_ctx;
    s->n_vocab = g4_vocab_size(s->model);
    atomic_store(&s->state, G4_SRV_READY);
    fprintf(stderr, "g4 serve: ready: model '%s', context %lld tokens\n", s->model_id, (long long)s->n_ctx);

    int sig = 0;
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    while (sigwait(&stop, &sig) != 0) {
    }
    fprintf(stderr, "g4 serve: signal %d, shutting down\n", sig);
    rc = 0;
out:
    atomic_store(&s->state, atomic_load(&s->state) == G4_SRV_READY ? G4_SRV_STOPPING : atomic_load(&s->state));
    if (daemon) g4_http_quiesce(daemon);
    g4_gen_queue_stop(&s->q);
    atomic_store(&s->abort, true);
    /* let cancelled streams send their error event and [DONE] (bounded wait) */
    for (int i = 0; i < 300 && atomic_load(&s->active) > 0; i++) nanosleep(&(struct timespec){0, 10000000}, NULL);
    if (daemon) g4_http_stop(daemon); /* waits for the connection threads */
    g4_engine_thread_join(&s->et);
    g4_specials_free(s->specials);
    g4_model_free(s->model);
    g4_gen_queue_destroy(&s->q);
    free(s);
    return rc;
}
