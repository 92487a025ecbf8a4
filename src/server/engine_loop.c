/* engine_loop.c — the engine thread (see engine_loop.h).
 * Per request: reuse the longest common prefix with the tokens already in
 * the KV cache (truncate, or reset when the rollback is too deep), prefill
 * the rest in n_batch chunks (checking cancellation between chunks), then
 * sample token by token. Generated ids are detokenized incrementally: ids
 * are held back while their text ends in an incomplete UTF-8 sequence
 * (U+FFFD from byte fallback), then stop strings are matched on the text
 * not yet sent, and only text that cannot start a stop string is emitted.
 * A request with a grammar (response_format, forced tool calls) has every
 * token the grammar cannot take masked to -inf before sampling; end tokens
 * are allowed only once the grammar's sentence is complete. */
#include "server/engine_loop.h"

#include "api/model_impl.h"
#include "core/log.h"
#include "runtime/stop.h"
#include "tokenizer/tokenizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_stop_id(const struct g4_engine_thread *et, int32_t id) {
    for (int i = 0; i < et->n_stop_ids; i++)
        if (et->stop_ids[i] == id) return true;
    return false;
}

/* Token bytes for grammar masks: <0xHH> pieces are their byte, special
 * tokens their string (the grammar maps Gemma's markup to symbols), end
 * tokens END, everything else its decoded text. */
static g4_status build_gvocab(struct g4_engine_thread *et, g4_error *err) {
    const struct g4_tokenizer *t = et->model->tok;
    int n = et->n_vocab;
    char **bytes = calloc((size_t)n, sizeof *bytes);
    uint32_t *lens = calloc((size_t)n, sizeof *lens);
    uint8_t *kinds = calloc((size_t)n, 1);
    g4_status st = G4_OK;
    if (!bytes || !lens || !kinds) {
        st = g4_fail(err, G4_ERR_NOMEM, "serve: out of memory for the grammar vocabulary");
        goto out;
    }
    int32_t nt = g4_tokenizer_n_vocab(t);
    for (int32_t id = 0; id < n && id < nt; id++) {
        size_t pl = 0;
        const char *p = g4_tokenizer_piece(t, id, &pl);
        unsigned hx;
        char tail;
        if (!p || !pl) continue;
        if (is_stop_id(et, id)) {
            kinds[id] = G4_VOCAB_END;
        } else if (g4_tokenizer_is_special(t, id)) {
            kinds[id] = G4_VOCAB_SPECIAL;
            if ((bytes[id] = malloc(pl))) memcpy(bytes[id], p, pl), lens[id] = (uint32_t)pl;
        } else if (pl == 6 && sscanf(p, "<0x%2X%c", &hx, &tail) == 2 && tail == '>') {
            if ((bytes[id] = malloc(1))) bytes[id][0] = (char)hx, lens[id] = 1;
        } else {
            char *d = NULL;
            size_t dl = 0;
            if (g4_tokenizer_decode(t, &id, 1, 0, &d, &dl, err) == G4_OK) bytes[id] = d, lens[id] = (uint32_t)dl;
        }
    }
    st = g4_grammar_vocab_new(n, (const char *const *)bytes, lens, kinds, &et->gvocab, err);
    if (st == G4_OK && !(et->mask = calloc(((size_t)n + 63) / 64, sizeof *et->mask)))
        st = g4_fail(err, G4_ERR_NOMEM, "serve: out of memory for the grammar mask");
out:
    for (int i = 0; bytes && i < n; i++) free(bytes[i]);
    free(bytes);
    free(lens);
    free(kinds);
    return st;
}

static void fail_req(struct g4_gen_req *r, int status, const char *type, const char *msg) {
    struct g4_api_error e;
    g4_api_fail(&e, status, type, NULL, NULL, "%s", msg);
    g4_gen_req_finish(r, G4_FINISH_ERROR, &e);
}

/* Brings the KV cache to hold prompt[0..k) for the largest k it can reuse,
 * then evaluates the rest. Returns the reused count, or -1 on error/cancel. */
static int64_t prefill(struct g4_engine_thread *et, struct g4_gen_req *r, g4_error *err) {
    int64_t k = 0, n = (int64_t)r->n_prompt;
    while (k < et->n_kv && k < n && et->kv_tokens[k] == r->prompt[k]) k++;
    if (k == n) k = n - 1; /* at least one token must run to get logits */
    if (k < et->n_kv) {
        if (g4_context_truncate(et->ctx, k, err) != G4_OK) {
            k = 0;
            if (g4_context_truncate(et->ctx, 0, err) != G4_OK) return -1;
        }
        et->n_kv = k;
    }
    int64_t reused = k;
    while (k < n) {
        if (atomic_load(&r->cancel) || (et->abort && atomic_load(et->abort))) return -1;
        int64_t m = G4_MIN((int64_t)et->n_batch, n - k);
        if (g4_context_eval(et->ctx, r->prompt + k, (size_t)m, k + m == n ? et->logits : NULL, 0, err) != G4_OK)
            return -1;
        memcpy(et->kv_tokens + k, r->prompt + k, (size_t)m * sizeof(int32_t));
        k += m;
        et->n_kv = k;
    }
    return reused;
}

/* Text of pending ids if it is complete UTF-8 (no trailing replacement
 * character), else NULL with *hold set. */
static char *decode_ready(struct g4_engine_thread *et, const int32_t *ids, size_t n, bool keep_special, bool force,
                          size_t *len) {
    char *s = NULL;
    g4_error err;
    if (g4_tokenizer_decode(et->model->tok, ids, n, !keep_special, &s, len, &err) != G4_OK) return NULL;
    if (!force && *len >= 3 && !memcmp(s + *len - 3, "\xEF\xBF\xBD", 3)) {
        free(s);
        return NULL;
    }
    return s;
}

/* Log-softmax of the raw logits at `tok` and the n most likely tokens. */
static void token_logprob(const float *l, int32_t n_vocab, int32_t tok, int n, struct g4_tok_lp *o) {
    float mx = -INFINITY;
    for (int32_t i = 0; i < n_vocab; i++) mx = l[i] > mx ? l[i] : mx;
    double sum = 0;
    for (int32_t i = 0; i < n_vocab; i++) sum += exp((double)(l[i] - mx));
    float lse = mx + (float)log(sum);
    o->id = tok;
    o->lp = l[tok] - lse;
    o->n_top = 0;
    for (int32_t i = 0; i < n_vocab && n > 0; i++) { /* insertion into a sorted top-n (n <= 20) */
        if (o->n_top == n && l[i] <= o->top_lp[n - 1]) continue;
        int k = o->n_top < n ? o->n_top++ : n - 1;
        while (k > 0 && o->top_lp[k - 1] < l[i]) {
            o->top_lp[k] = o->top_lp[k - 1];
            o->top_id[k] = o->top_id[k - 1];
            k--;
        }
        o->top_lp[k] = l[i];
        o->top_id[k] = i;
    }
    for (int k = 0; k < o->n_top; k++) o->top_lp[k] -= lse;
}

static void serve_one(struct g4_engine_thread *et, struct g4_gen_req *r) {
    g4_error err = {0};
    struct g4_stop *stop = NULL;
    struct g4_sampler *smp = NULL;
    char *hold = NULL;
    size_t hold_len = 0;
    int32_t pend[8];
    size_t n_pend = 0;
    enum g4_gen_finish fin = G4_FINISH_STOP;
    struct g4_grammar_state *gs = NULL;
    r->t_started = g4_now();

    if ((int64_t)r->n_prompt + 1 > et->n_ctx || !r->n_prompt) {
        struct g4_api_error e;
        g4_api_fail(&e, 400, "invalid_request_error", "context_length_exceeded", "messages",
                    "This model's maximum context length is %lld tokens. However, you requested %zu tokens in the prompt.",
                    (long long)et->n_ctx, r->n_prompt);
        g4_gen_req_finish(r, G4_FINISH_ERROR, &e);
        return;
    }
    if (g4_sampler_init(&smp, et->n_vocab, &r->sp, &err) != G4_OK ||
        g4_stop_init(&stop, (const char *const *)r->stop, r->n_stop, NULL, 0, &err) != G4_OK) {
        struct g4_api_error e;
        g4_api_fail(&e, 400, "invalid_request_error", NULL, NULL, "%s", err.message);
        g4_gen_req_finish(r, G4_FINISH_ERROR, &e);
        goto out;
    }
    if (r->grammar && (!et->gvocab || g4_grammar_state_new(r->grammar, &gs, &err) != G4_OK)) {
        fail_req(r, 500, "server_error", et->gvocab ? err.message : "grammar vocabulary unavailable");
        goto out;
    }
    double t0 = g4_now();
    int64_t reused = prefill(et, r, &err);
    atomic_store(&et->metrics->kv_used, et->n_kv);
    if (reused < 0) {
        if (atomic_load(&r->cancel) || (et->abort && atomic_load(et->abort)))
            g4_gen_req_finish(r, G4_FINISH_CANCELLED, NULL);
        else fail_req(r, 500, "server_error", err.message);
        goto out;
    }
    double t1 = g4_now();
    atomic_fetch_add(&et->metrics->prompt_us, (long long)((t1 - t0) * 1e6));
    atomic_fetch_add(&et->metrics->prompt_eval_tokens, (long long)r->n_prompt - reused);
    atomic_fetch_add(&et->metrics->prompt_tokens, (long long)r->n_prompt);
    atomic_fetch_add(&et->metrics->prompt_tokens_cached, reused);
    if (reused > 0) atomic_fetch_add(&et->metrics->prefix_hits, 1);
    pthread_mutex_lock(&r->mu);
    r->prefilled = true;
    r->n_cached = reused;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);

    int64_t n_gen = 0;
    for (;;) {
        if (atomic_load(&r->cancel) || (et->abort && atomic_load(et->abort))) {
            fin = G4_FINISH_CANCELLED;
            break;
        }
        if (r->logprobs >= 0) memcpy(et->raw, et->logits, (size_t)et->n_vocab * sizeof(float));
        if (gs) { /* grammar: mask what it cannot take */
            if (g4_grammar_is_dead(gs) || g4_grammar_fill_mask(et->gvocab, gs, et->mask, &err) != G4_OK) {
                fin = G4_FINISH_STOP;
                break;
            }
            for (int32_t i = 0; i < et->n_vocab; i++)
                if (!(et->mask[i >> 6] >> (i & 63) & 1)) et->logits[i] = -INFINITY;
        }
        int32_t tok = g4_sampler_sample(smp, et->logits);
        if (gs && tok >= 0 && !g4_grammar_accept_token(et->gvocab, gs, tok)) tok = -1;
        if (tok < 0 || is_stop_id(et, tok)) {
            if (tok >= 0) n_gen++; /* the end token counts as generated, as in OpenAI usage */
            fin = G4_FINISH_STOP;
            break;
        }
        n_gen++;
        if (n_gen == 1) r->t_first = g4_now();
        if (r->logprobs >= 0) {
            struct g4_tok_lp rec;
            token_logprob(et->raw, et->n_vocab, tok, G4_MIN(r->logprobs, G4_MAX_TOP_LOGPROBS), &rec);
            g4_gen_req_emit_lp(r, &rec);
        }
        g4_sampler_accept(smp, tok);
        pend[n_pend++] = tok;
        size_t tl = 0;
        char *t = decode_ready(et, pend, n_pend, r->keep_special, n_pend == G4_ARRAY_LEN(pend), &tl);
        bool matched = false;
        if (t) {
            n_pend = 0;
            char *nh = realloc(hold, hold_len + tl + 1);
            if (!nh) {
                free(t);
                fail_req(r, 500, "server_error", "out of memory");
                goto out_counted;
            }
            hold = nh;
            memcpy(hold + hold_len, t, tl);
            hold_len += tl;
            free(t);
            size_t safe = g4_stop_scan(stop, hold, hold_len, &matched);
            g4_gen_req_emit(r, hold, safe);
            if (matched) hold_len = 0;
            else memmove(hold, hold + safe, hold_len - safe), hold_len -= safe;
        }
        pthread_mutex_lock(&r->mu);
        r->n_generated = n_gen;
        pthread_mutex_unlock(&r->mu);
        if (matched) {
            fin = G4_FINISH_STOP;
            break;
        }
        if (n_gen >= r->max_tokens || et->n_kv + 1 >= et->n_ctx) {
            fin = G4_FINISH_LENGTH;
            break;
        }
        if (g4_context_eval(et->ctx, &tok, 1, et->logits, 0, &err) != G4_OK) {
            fail_req(r, 500, "server_error", err.message);
            goto out_counted;
        }
        et->kv_tokens[et->n_kv++] = tok;
    }
    if (fin != G4_FINISH_CANCELLED) {
        /* flush held-back ids and text (no stop string can complete now) */
        size_t tl = 0;
        char *t = n_pend ? decode_ready(et, pend, n_pend, r->keep_special, true, &tl) : NULL;
        if (t) {
            bool matched = false;
            char *nh = realloc(hold, hold_len + tl + 1);
            if (nh) {
                hold = nh;
                memcpy(hold + hold_len, t, tl);
                hold_len += tl;
                size_t safe = g4_stop_scan(stop, hold, hold_len, &matched);
                if (matched) hold_len = safe, fin = G4_FINISH_STOP;
            }
            free(t);
        }
        g4_gen_req_emit(r, hold, hold_len);
    }
    pthread_mutex_lock(&r->mu);
    r->n_generated = n_gen;
    pthread_mutex_unlock(&r->mu);
    g4_gen_req_finish(r, fin, NULL);
out_counted:
    atomic_fetch_add(&et->metrics->gen_tokens, n_gen);
    atomic_fetch_add(&et->metrics->gen_us, (long long)((g4_now() - t1) * 1e6));
    atomic_fetch_add(&et->metrics->gen_requests, 1);
    atomic_store(&et->metrics->kv_used, et->n_kv);
out:
    g4_grammar_state_free(gs);
    free(hold);
    g4_stop_free(stop);
    g4_sampler_free(smp);
}

static void *engine_main(void *arg) {
    struct g4_engine_thread *et = arg;
    struct g4_gen_req *r;
    while ((r = g4_gen_queue_pop(et->q))) {
        if (atomic_load(&r->cancel)) g4_gen_req_finish(r, G4_FINISH_CANCELLED, NULL);
        else serve_one(et, r);
        g4_gen_queue_done(et->q);
        g4_gen_req_release(r);
    }
    return NULL;
}

g4_status g4_engine_thread_start(struct g4_engine_thread *et, const g4_model *m, int64_t n_ctx, int n_threads,
                                 struct g4_gen_queue *q, struct g4_metrics *metrics, const atomic_bool *abort,
                                 g4_error *err) {
    memset(et, 0, sizeof *et);
    et->abort = abort;
    if (!m->tok) return g4_fail(err, G4_ERR_INVALID_ARG, "serve: the model has no tokenizer");
    et->n_ctx = n_ctx > 0 ? n_ctx : 4096;
    if (n_ctx <= 0 && m->cfg.context_length > 0 && m->cfg.context_length < et->n_ctx) et->n_ctx = m->cfg.context_length;
    g4_context_params cp = {.n_ctx = et->n_ctx, .n_batch = 256, .n_threads = n_threads};
    g4_status st = g4_context_new(m, &cp, &et->ctx, err);
    if (st != G4_OK) return st;
    et->model = m;
    et->q = q;
    et->metrics = metrics;
    et->n_vocab = g4_context_n_vocab(et->ctx);
    et->n_batch = cp.n_batch;
    et->n_stop_ids = g4_model_stop_ids(m, et->stop_ids, (int)G4_ARRAY_LEN(et->stop_ids));
    et->kv_tokens = malloc((size_t)et->n_ctx * sizeof(int32_t));
    et->logits = malloc((size_t)et->n_vocab * sizeof(float));
    et->raw = malloc((size_t)et->n_vocab * sizeof(float));
    if (!et->kv_tokens || !et->logits || !et->raw) {
        g4_engine_thread_join(et);
        return g4_fail(err, G4_ERR_NOMEM, "serve: out of memory");
    }
    if ((st = build_gvocab(et, err)) != G4_OK) {
        g4_engine_thread_join(et);
        return st;
    }
    atomic_store(&metrics->kv_size, et->n_ctx);
    if (pthread_create(&et->th, NULL, engine_main, et)) {
        g4_engine_thread_join(et);
        return g4_fail(err, G4_ERR_INTERNAL, "serve: cannot start the engine thread");
    }
    et->started = true;
    return G4_OK;
}

void g4_engine_thread_join(struct g4_engine_thread *et) {
    if (et->started) pthread_join(et->th, NULL);
    et->started = false;
    g4_context_free(et->ctx);
    free(et->kv_tokens);
    free(et->logits);
    free(et->raw);
    et->raw = NULL;
    g4_grammar_vocab_free(et->gvocab);
    free(et->mask);
    et->gvocab = NULL;
    et->mask = NULL;
    et->ctx = NULL;
    et->kv_tokens = NULL;
    et->logits = NULL;
}
