/* queue.c — request channels and the bounded request queue between HTTP
 * threads and the engine thread (see engine_iface.h). Every state change
 * happens under the owning mutex and signals the condition variable. */
#include "server/engine_iface.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double g4_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct g4_gen_req *g4_gen_req_new(int32_t *prompt, size_t n_prompt) {
    struct g4_gen_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    if (!(r->text = malloc(G4_GEN_TEXT_CAP))) {
        free(r);
        return NULL;
    }
    r->text_cap = G4_GEN_TEXT_CAP;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    r->prompt = prompt;
    r->n_prompt = n_prompt;
    g4_sampler_params_default(&r->sp);
    atomic_init(&r->cancel, false);
    atomic_init(&r->refs, 2);
    r->logprobs = -1;
    r->grammar_trigger = -1;
    r->t_queued = g4_now();
    return r;
}

void g4_gen_req_release(struct g4_gen_req *r) {
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r->prompt);
    free(r->bias);
    for (int i = 0; i < r->n_stop; i++) free(r->stop[i]);
    free(r->stop);
    free(r->text);
    free(r->lp);
    g4_grammar_free(r->grammar);
    free(r);
}

bool g4_gen_req_wait(struct g4_gen_req *r, int timeout_ms, char **text, size_t *len) {
    *text = NULL;
    *len = 0;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&r->mu);
    while (!r->done && !r->text_len) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT) break;
    }
    char *copy = NULL;
    size_t n = r->text_len;
    if (n) { /* copied, so the engine keeps its buffer (no allocation on its side) */
        copy = malloc(n + 1);
        if (copy) {
            memcpy(copy, r->text, n);
            copy[n] = 0;
            r->text_len = 0;
        }
    }
    bool done = r->done;
    pthread_mutex_unlock(&r->mu);
    if (n && !copy) return false; /* out of memory: try again on the next wait */
    *text = copy;
    *len = copy ? n : 0;
    return done;
}

bool g4_gen_req_emit(struct g4_gen_req *r, const char *text, size_t len, int64_t n_generated) {
    pthread_mutex_lock(&r->mu);
    if (n_generated >= 0) r->n_generated = n_generated;
    if (!len) {
        pthread_mutex_unlock(&r->mu);
        return true;
    }
    bool ok = true;
    if (r->text_len + len + 1 > r->text_cap) { /* the HTTP side lags G4_GEN_TEXT_CAP behind */
        size_t cap = (r->text_len + len + 1) * 2;
        char *t = realloc(r->text, cap);
        if (!t) ok = false;
        else r->text = t, r->text_cap = cap;
    }
    if (ok) {
        memcpy(r->text + r->text_len, text, len);
        r->text_len += len;
        r->text[r->text_len] = 0;
        pthread_cond_signal(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    return ok;
}

size_t g4_gen_req_take_lp(struct g4_gen_req *r, struct g4_tok_lp **out) {
    pthread_mutex_lock(&r->mu);
    size_t n = r->n_lp;
    *out = n ? malloc(n * sizeof **out) : NULL;
    if (*out) {
        memcpy(*out, r->lp, n * sizeof **out);
        r->n_lp = 0;
    } else {
        n = 0;
    }
    pthread_mutex_unlock(&r->mu);
    return n;
}

bool g4_gen_req_reserve_lp(struct g4_gen_req *r, size_t n) {
    pthread_mutex_lock(&r->mu);
    bool ok = true;
    if (n > r->lp_cap) {
        struct g4_tok_lp *p = realloc(r->lp, n * sizeof *p);
        if (!p) ok = false;
        else r->lp = p, r->lp_cap = n;
    }
    pthread_mutex_unlock(&r->mu);
    return ok;
}

bool g4_gen_req_emit_lp(struct g4_gen_req *r, const struct g4_tok_lp *rec) {
    pthread_mutex_lock(&r->mu);
    bool ok = true;
    if (r->n_lp == r->lp_cap) { /* the HTTP side lags the reserved records behind */
        size_t cap = r->lp_cap ? r->lp_cap * 2 : 16;
        struct g4_tok_lp *p = realloc(r->lp, cap * sizeof *p);
        if (!p) ok = false;
        else r->lp = p, r->lp_cap = cap;
    }
    if (ok) r->lp[r->n_lp++] = *rec;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

void g4_gen_req_finish(struct g4_gen_req *r, enum g4_gen_finish f, const struct g4_api_error *e) {
    pthread_mutex_lock(&r->mu);
    if (!r->done) {
        r->done = true;
        r->finish = f;
        r->t_done = g4_now();
        if (e) r->error = *e;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void g4_gen_queue_init(struct g4_gen_queue *q, int cap) {
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->cap = cap > 0 ? cap : 1;
}

void g4_gen_queue_destroy(struct g4_gen_queue *q) {
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

bool g4_gen_queue_push(struct g4_gen_queue *q, struct g4_gen_req *r) {
    pthread_mutex_lock(&q->mu);
    bool ok = !q->stopping && q->n < q->cap;
    if (ok) {
        r->next = NULL;
        if (q->tail) q->tail->next = r;
        else q->head = r;
        q->tail = r;
        q->n++;
        pthread_cond_signal(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

struct g4_gen_req *g4_gen_queue_next(struct g4_gen_queue *q, bool block, bool *closed) {
    pthread_mutex_lock(&q->mu);
    while (block && !q->head && !q->stopping) pthread_cond_wait(&q->cv, &q->mu);
    struct g4_gen_req *r = q->head;
    if (r) {
        q->head = r->next;
        if (!q->head) q->tail = NULL;
        q->n--;
        q->busy++;
    }
    *closed = q->stopping;
    pthread_mutex_unlock(&q->mu);
    return r;
}

void g4_gen_queue_done(struct g4_gen_queue *q) {
    pthread_mutex_lock(&q->mu);
    q->busy--;
    pthread_mutex_unlock(&q->mu);
}

void g4_gen_queue_stop(struct g4_gen_queue *q) {
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    struct g4_gen_req *r = q->head;
    q->head = q->tail = NULL;
    q->n = 0;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
    while (r) {
        struct g4_gen_req *next = r->next;
        struct g4_api_error e;
        g4_api_fail(&e, 503, "unavailable_error", "server_shutting_down", NULL, "the server is shutting down");
        g4_gen_req_finish(r, G4_FINISH_ERROR, &e);
        g4_gen_req_release(r); /* the engine's reference */
        r = next;
    }
}

int g4_gen_queue_len(struct g4_gen_queue *q) {
    pthread_mutex_lock(&q->mu);
    int n = q->n;
    pthread_mutex_unlock(&q->mu);
    return n;
}

int g4_gen_queue_busy(struct g4_gen_queue *q) {
    pthread_mutex_lock(&q->mu);
    int n = q->busy;
    pthread_mutex_unlock(&q->mu);
    return n;
}
