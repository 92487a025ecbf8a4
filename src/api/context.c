/* context.c — the public g4_context API: one sequence over a shared model.
 * A context binds the decoder to the model's tensors (views into the
 * mapping plus small f32 copies), owns a thread pool and an engine (KV cache
 * and scratch), all made at creation. */
#include "api/model_impl.h"
#include "core/threadpool.h"
#include "model/weights.h"
#include "runtime/engine.h"

#include <stdlib.h>
#include <string.h>

struct g4_context {
    const g4_model *model;
    struct g4_dec dec;
    struct g4_pool *pool;
    struct g4_engine eng;
};

g4_status g4_context_new(const g4_model *m, const g4_context_params *params, g4_context **out, g4_error *err) {
    if (!out) return g4_fail(err, G4_ERR_INVALID_ARG, "context: out is NULL");
    *out = NULL;
    if (!m) return g4_fail(err, G4_ERR_INVALID_ARG, "context: model is NULL");
    if (m->tokenizer_only || !m->has_config)
        return g4_fail(err, G4_ERR_INVALID_ARG, "context: the model was loaded without weights or config");
    g4_context_params p = {0};
    if (params) p = *params;
    if (p.n_ctx < 0 || p.n_batch < 0 || p.n_threads < 0)
        return g4_fail(err, G4_ERR_INVALID_ARG, "context: negative parameter");
    if (p.n_ctx == 0) {
        p.n_ctx = 4096;
        if (m->cfg.context_length > 0 && m->cfg.context_length < p.n_ctx) p.n_ctx = m->cfg.context_length;
    }
    if (p.n_batch == 0) p.n_batch = 256;
    g4_context *c = calloc(1, sizeof *c);
    if (!c) return g4_fail(err, G4_ERR_NOMEM, "context: out of memory");
    c->model = m;
    g4_status st = g4_pool_init(&c->pool, p.n_threads, err);
    if (st == G4_OK) st = g4_dec_bind_ex(&c->dec, &m->cfg, &m->tensors, c->pool, err);
    c->dec.f32_act = p.f32_activations != 0;
    if (st == G4_OK) st = g4_engine_init(&c->eng, &c->dec, p.n_ctx, p.n_batch, c->pool, err);
    if (st != G4_OK) {
        g4_context_free(c);
        return st;
    }
    *out = c;
    return G4_OK;
}

void g4_context_free(g4_context *c) {
    if (!c) return;
    g4_engine_free(&c->eng);
    g4_pool_free(c->pool);
    g4_dec_free(&c->dec);
    free(c);
}

int32_t g4_context_n_vocab(const g4_context *c) { return c->dec.n_vocab; }
int32_t g4_context_n_embd(const g4_context *c) { return c->dec.n_embd; }
int64_t g4_context_pos(const g4_context *c) { return g4_engine_pos(&c->eng); }

g4_status g4_context_eval_ex(g4_context *c, const g4_eval_input *in, g4_error *err) {
    if (!c || !in) return g4_fail(err, G4_ERR_INVALID_ARG, "context: NULL argument");
    if (in->n > (size_t)INT64_MAX || in->logits_from > in->n)
        return g4_fail(err, G4_ERR_INVALID_ARG, "context: bad row counts");
    struct g4_engine_input ei = {in->tokens, in->embd, in->embd_mask, in->block, (int64_t)in->n};
    return g4_engine_eval(&c->eng, &ei, (int64_t)in->logits_from, in->logits, in->hidden, err);
}

g4_status g4_context_eval(g4_context *c, const int32_t *tokens, size_t n, float *logits, int all_logits,
                          g4_error *err) {
    g4_eval_input in = {.tokens = tokens, .n = n, .logits = logits};
    in.logits_from = !logits ? n : all_logits ? 0 : (n ? n - 1 : 0);
    return g4_context_eval_ex(c, &in, err);
}

g4_status g4_context_truncate(g4_context *c, int64_t n, g4_error *err) {
    if (!c) return g4_fail(err, G4_ERR_INVALID_ARG, "context: NULL");
    return g4_engine_truncate(&c->eng, n, err);
}
