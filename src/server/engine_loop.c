/* engine_loop.c — the engine thread (see engine_loop.h): continuous
 * batching over `parallel` slots, each one sequence with its own KV cache.
 * Between steps, waiting requests join free slots: the slot whose cached
 * ids share the longest prefix with the prompt is taken (prefix cache; ties
 * go to the least recently used), and the cache is cut back to that prefix
 * (or to the nearest checkpoint, see runtime/prefix.h). Every step is ONE
 * batched forward (g4_batch_step) over the next token of every decoding
 * slot plus, when a slot is prefilling, a chunk of its prompt: at most
 * `prefill_chunk` rows while others decode (so a long prompt delays each
 * running stream by one bounded chunk per token, not by its whole
 * prefill), n_batch rows when nothing else runs. Prefilling slots take
 * turns oldest first; a chunk never crosses a checkpoint multiple. The
 * last chunk's last row gives the new sequence's first logits, and it
 * decodes from the next step on. Each slot samples from its row.
 * Generated ids
 * are detokenized incrementally (detok.h: byte-fallback runs are held until
 * they form whole characters), then stop strings are matched on the text
 * not yet sent, and only text that cannot start a stop string is emitted.
 * The token loop allocates nothing: sampler, grammar mask, detokenizer and
 * hold buffers are allocated at start-up or when a request starts, and the
 * text goes into the request's preallocated channel (engine_iface.h); no
 * I/O, logging or JSON happens here (the HTTP threads format).
 * A request with a grammar (response_format, forced tool calls) has every
 * token the grammar cannot take masked to -inf before sampling; end tokens
 * are allowed only once the grammar's sentence is complete. With
 * tool_choice auto the tool-call grammar waits for its trigger: the model
 * writes freely until it samples <|tool_call>, and from there on the call
 * must name a declared function with arguments valid for its schema. */
#include "server/engine_loop.h"

#include "api/model_impl.h"
#include "server/openai_req.h"
#include "core/log.h"
#include "core/threadpool.h"
#include "model/weights.h"
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
        if (!p || !pl) continue;
        const int hx = g4_tokenizer_byte_piece(p, pl);
        if (is_stop_id(et, id)) {
            kinds[id] = G4_VOCAB_END;
        } else if (g4_tokenizer_is_special(t, id)) {
            kinds[id] = G4_VOCAB_SPECIAL;
            if ((bytes[id] = malloc(pl))) memcpy(bytes[id], p, pl), lens[id] = (uint32_t)pl;
        } else if (hx >= 0) {
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


static void slot_free_req(struct g4_slot *s) {
    g4_grammar_state_free(s->gs);
    g4_stop_free(s->stop);
    g4_sampler_free(s->smp);
    s->gs = NULL;
    s->stop = NULL;
    s->smp = NULL;
    s->hold_len = 0;
    s->r = NULL;
    s->decoding = false;
    s->prefilling = false;
}

static bool stopping(const struct g4_engine_thread *et, const struct g4_gen_req *r) {
    return atomic_load(&r->cancel) || (et->abort && atomic_load(et->abort));
}

static void update_kv_metric(struct g4_engine_thread *et) {
    long long used = 0;
    for (int i = 0; i < et->n_slots; i++) used += g4_engine_pos(&et->slots[i].eng);
    atomic_store(&et->metrics->kv_used, used);
}

/* Takes one sampling step from `logits` (the slot's last row). Returns true
 * when the sequence goes on (s->next is the token to evaluate), false when
 * it ended (s->fin says how; G4_FINISH_ERROR means already reported). */
static bool slot_token(struct g4_engine_thread *et, struct g4_slot *s, float *logits) {
    struct g4_gen_req *r = s->r;
    g4_error err = {0};
    if (stopping(et, r)) {
        s->fin = G4_FINISH_CANCELLED;
        return false;
    }
    if (r->logprobs >= 0) memcpy(et->raw, logits, (size_t)et->n_vocab * sizeof(float));
    if (s->gs && s->g_on) { /* grammar: mask what it cannot take */
        if (g4_grammar_is_dead(s->gs) || g4_grammar_fill_mask(et->gvocab, s->gs, et->mask, &err) != G4_OK) {
            s->fin = G4_FINISH_STOP;
            return false;
        }
        for (int32_t i = 0; i < et->n_vocab; i++)
            if (!(et->mask[i >> 6] >> (i & 63) & 1)) logits[i] = -INFINITY;
    }
    int32_t tok = g4_sampler_sample(s->smp, logits);
    if (s->gs && !s->g_on && tok >= 0 && tok == r->grammar_trigger) s->g_on = true; /* fed below */
    if (s->gs && s->g_on && tok >= 0 && !g4_grammar_accept_token(et->gvocab, s->gs, tok)) tok = -1;
    if (tok < 0 || is_stop_id(et, tok)) {
        if (tok >= 0) s->n_gen++; /* the end token counts as generated, as in OpenAI usage */
        s->fin = G4_FINISH_STOP;
        return false;
    }
    s->n_gen++;
    if (s->n_gen == 1) r->t_first = g4_now();
    if (r->logprobs >= 0) {
        struct g4_tok_lp rec;
        token_logprob(et->raw, et->n_vocab, tok, G4_MIN(r->logprobs, G4_MAX_TOP_LOGPROBS), &rec);
        g4_gen_req_emit_lp(r, &rec);
    }
    g4_sampler_accept(s->smp, tok);
    /* hold_len < the longest stop string (<= G4_OAI_MAX_STOP_LEN) after every
     * scan, and hold_cap leaves room for one token's text on top */
    s->hold_len += g4_detok_add(&s->dt, tok, s->hold + s->hold_len);
    bool matched = false;
    size_t safe = g4_stop_scan(s->stop, s->hold, s->hold_len, &matched);
    g4_gen_req_emit(r, s->hold, safe, s->n_gen);
    if (matched) s->hold_len = 0;
    else memmove(s->hold, s->hold + safe, s->hold_len - safe), s->hold_len -= safe;
    if (matched) {
        s->fin = G4_FINISH_STOP;
        return false;
    }
    if (s->n_gen >= r->max_tokens || g4_engine_pos(&s->eng) + 1 >= et->n_ctx) {
        s->fin = G4_FINISH_LENGTH;
        return false;
    }
    s->next = tok;
    return true;
}

/* Ends the slot's request: flushes held text, reports the finish, counts,
 * and frees the slot (its KV cache stays for the prefix cache). */
static void slot_end(struct g4_engine_thread *et, struct g4_slot *s) {
    struct g4_gen_req *r = s->r;
    enum g4_gen_finish fin = s->fin;
    if (fin != G4_FINISH_ERROR) {
        if (fin != G4_FINISH_CANCELLED) {
            /* flush an open byte run and the held text (no stop string can complete later) */
            size_t tl = g4_detok_flush(&s->dt, s->hold + s->hold_len);
            if (tl) {
                bool matched = false;
                s->hold_len += tl;
                size_t safe = g4_stop_scan(s->stop, s->hold, s->hold_len, &matched);
                if (matched) s->hold_len = safe, fin = G4_FINISH_STOP;
            }
        }
        g4_gen_req_emit(r, s->hold, fin == G4_FINISH_CANCELLED ? 0 : s->hold_len, s->n_gen);
        g4_gen_req_finish(r, fin, NULL);
    }
    atomic_fetch_add(&et->metrics->gen_tokens, s->n_gen);
    atomic_fetch_add(&et->metrics->gen_us, (long long)((g4_now() - s->t1) * 1e6));
    atomic_fetch_add(&et->metrics->gen_requests, 1);
    update_kv_metric(et);
    slot_free_req(s);
    g4_gen_queue_done(et->q);
    g4_gen_req_release(r);
}

/* Longest prefix of the prompt held in a free slot's cache; ties go to the
 * least recently used slot. */
static struct g4_slot *pick_slot(struct g4_engine_thread *et, const struct g4_gen_req *r) {
    struct g4_slot *best = NULL;
    int64_t best_k = -1;
    for (int i = 0; i < et->n_slots; i++) {
        struct g4_slot *s = &et->slots[i];
        if (s->r) continue;
        int64_t k = g4_prefix_match(&s->pc, &s->eng, r->prompt, (int64_t)r->n_prompt);
        if (k > best_k || (k == best_k && s->last_used < best->last_used)) best = s, best_k = k;
    }
    return best;
}

/* Starts request r in slot s: checks, sampler, grammar, and the prefix
 * cache cut; the prompt's remaining ids are then prefilled chunk by chunk
 * inside the batched steps. Returns true when the slot is active. */
static bool slot_start(struct g4_engine_thread *et, struct g4_slot *s, struct g4_gen_req *r) {
    g4_error err = {0};
    s->r = r;
    s->n_gen = 0;
    s->fin = G4_FINISH_STOP;
    s->last_used = ++et->clock;
    r->t_started = g4_now();
    s->t1 = r->t_started;
    if ((int64_t)r->n_prompt + 1 > et->n_ctx || !r->n_prompt) {
        struct g4_api_error e;
        g4_api_fail(&e, 400, "invalid_request_error", "context_length_exceeded", "messages",
                    "This model's maximum context length is %lld tokens. However, you requested %zu tokens in the prompt.",
                    (long long)et->n_ctx, r->n_prompt);
        g4_gen_req_finish(r, G4_FINISH_ERROR, &e);
        s->fin = G4_FINISH_ERROR;
        return false;
    }
    for (int i = 0; i < r->n_stop; i++)
        if (strlen(r->stop[i]) > G4_OAI_MAX_STOP_LEN) { /* the hold buffer is sized for this */
            fail_req(r, 400, "invalid_request_error", "a stop string is too long");
            s->fin = G4_FINISH_ERROR;
            return false;
        }
    g4_detok_init(&s->dt, et->model->tok, r->keep_special);
    if (g4_sampler_init(&s->smp, et->n_vocab, &r->sp, &err) != G4_OK ||
        g4_stop_init(&s->stop, (const char *const *)r->stop, r->n_stop, NULL, 0, &err) != G4_OK) {
        struct g4_api_error e;
        g4_api_fail(&e, 400, "invalid_request_error", NULL, NULL, "%s", err.message);
        g4_gen_req_finish(r, G4_FINISH_ERROR, &e);
        s->fin = G4_FINISH_ERROR;
        return false;
    }
    if (r->grammar && (!et->gvocab || g4_grammar_state_new(r->grammar, &s->gs, &err) != G4_OK)) {
        fail_req(r, 500, "server_error", et->gvocab ? err.message : "grammar vocabulary unavailable");
        s->fin = G4_FINISH_ERROR;
        return false;
    }
    s->t0 = g4_now();
    int64_t k = g4_prefix_seek(&s->pc, &s->eng, r->prompt, (int64_t)r->n_prompt, &err);
    update_kv_metric(et);
    if (k < 0) {
        fail_req(r, 500, "server_error", err.message);
        s->fin = G4_FINISH_ERROR;
        return false;
    }
    s->g_on = s->gs && r->grammar_trigger < 0;
    s->reused = s->ppos = k;
    s->n_chunks = s->n_mixed = 0;
    s->prefilling = true;
    return true;
}

/* The prompt is in the KV cache: counters, the waiter learns it, and the
 * first token is sampled from `logits`. Returns true when decoding goes on. */
static bool slot_prefilled(struct g4_engine_thread *et, struct g4_slot *s, float *logits) {
    struct g4_gen_req *r = s->r;
    s->prefilling = false;
    /* a checkpoint at the end of every prompt: the next turn of an agent
     * loop resends this prompt, followed by text that may tokenize apart
     * from what was generated */
    g4_prefix_checkpoint(&s->pc, &s->eng);
    s->t1 = g4_now();
    int64_t reused = s->reused;
    atomic_fetch_add(&et->metrics->prompt_us, (long long)((s->t1 - s->t0) * 1e6));
    atomic_fetch_add(&et->metrics->prompt_eval_tokens, (long long)r->n_prompt - reused);
    atomic_fetch_add(&et->metrics->prompt_tokens, (long long)r->n_prompt);
    atomic_fetch_add(&et->metrics->prompt_tokens_cached, reused);
    if (reused > 0) atomic_fetch_add(&et->metrics->prefix_hits, 1);
    pthread_mutex_lock(&r->mu);
    r->prefilled = true;
    r->n_cached = reused;
    r->n_prefill_steps = s->n_chunks;
    r->n_prefill_mixed = s->n_mixed;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    s->decoding = slot_token(et, s, logits);
    return s->decoding;
}

/* The prefilling slot whose turn it is (admitted first), or NULL. */
static struct g4_slot *prefill_turn(struct g4_engine_thread *et) {
    struct g4_slot *p = NULL;
    for (int i = 0; i < et->n_slots; i++) {
        struct g4_slot *s = &et->slots[i];
        if (s->prefilling && (!p || s->last_used < p->last_used)) p = s;
    }
    return p;
}

/* One batched step: a prompt chunk of the prefilling slot whose turn it
 * is (rows first), then the next token of every decoding slot. Logits come
 * for the decode rows and, on the prompt's last chunk, its last row. */
static void step(struct g4_engine_thread *et) {
    int n = 0, n_dec = 0;
    for (int i = 0; i < et->n_slots; i++) n_dec += et->slots[i].decoding;
    struct g4_slot *p = prefill_turn(et);
    while (p && stopping(et, p->r)) { /* cancelled while waiting for its prompt */
        p->fin = G4_FINISH_CANCELLED;
        slot_end(et, p);
        p = prefill_turn(et);
    }
    int64_t m = 0;
    bool last = false;
    if (p) {
        int64_t left = (int64_t)p->r->n_prompt - p->ppos;
        int64_t every = p->pc.every;
        m = G4_MIN(left, n_dec ? (int64_t)et->prefill_chunk : (int64_t)et->n_batch);
        m = G4_MIN(m, (p->ppos / every + 1) * every - p->ppos); /* checkpoints fall on chunk ends */
        last = m == left;
        for (int64_t k = 0; k < m; k++) {
            et->rows[n] = (struct g4_batch_row){&p->eng, p->r->prompt[p->ppos + k]};
            et->row_slot[n++] = (int)(p - et->slots);
        }
    }
    int out_first = last ? n - 1 : n;
    for (int i = 0; i < et->n_slots; i++)
        if (et->slots[i].decoding) {
            et->rows[n] = (struct g4_batch_row){&et->slots[i].eng, et->slots[i].next};
            et->row_slot[n++] = i;
        }
    if (!n) return;
    g4_error err = {0};
    g4_status st = g4_batch_step(&et->batch, et->rows, n, out_first, et->blogits, &err);
    if (p && st == G4_OK) {
        g4_prefix_record(&p->pc, &p->eng, p->r->prompt + p->ppos, m);
        p->ppos += m;
        p->n_chunks++;
        p->n_mixed += n_dec > 0;
        if (last && !slot_prefilled(et, p, et->blogits)) slot_end(et, p);
    }
    for (int k = out_first; k < n; k++) {
        struct g4_slot *s = &et->slots[et->row_slot[k]];
        if (s == p) continue; /* its last prompt row: done above */
        if (st != G4_OK) {
            fail_req(s->r, 500, "server_error", err.message);
            s->fin = G4_FINISH_ERROR;
            slot_end(et, s);
            continue;
        }
        g4_prefix_note(&s->pc, &s->eng, s->next);
        if (!slot_token(et, s, et->blogits + (size_t)(k - out_first) * et->n_vocab)) slot_end(et, s);
    }
    if (p && st != G4_OK && p->r) {
        fail_req(p->r, 500, "server_error", err.message);
        p->fin = G4_FINISH_ERROR;
        slot_end(et, p);
    }
}

static void *engine_main(void *arg) {
    struct g4_engine_thread *et = arg;
    for (;;) {
        int active = 0;
        for (int i = 0; i < et->n_slots; i++) active += et->slots[i].r != NULL;
        while (active < et->n_slots) { /* admit waiting requests into free slots */
            bool closed = false;
            struct g4_gen_req *r = g4_gen_queue_next(et->q, active == 0, &closed);
            if (!r) {
                if (closed && active == 0) return NULL;
                break;
            }
            if (atomic_load(&r->cancel)) {
                g4_gen_req_finish(r, G4_FINISH_CANCELLED, NULL);
                g4_gen_queue_done(et->q);
                g4_gen_req_release(r);
                continue;
            }
            struct g4_slot *s = pick_slot(et, r);
            if (slot_start(et, s, r)) active++;
            else slot_end(et, s);
        }
        step(et);
    }
}

g4_status g4_engine_thread_start(struct g4_engine_thread *et, const g4_model *m, int64_t n_ctx, int n_threads,
                                 int parallel, int prefill_chunk, struct g4_gen_queue *q, struct g4_metrics *metrics,
                                 const atomic_bool *abort, g4_error *err) {
    memset(et, 0, sizeof *et);
    et->abort = abort;
    if (!m->tok) return g4_fail(err, G4_ERR_INVALID_ARG, "serve: the model has no tokenizer");
    if (parallel < 1 || parallel > 256)
        return g4_fail(err, G4_ERR_INVALID_ARG, "serve: parallel %d outside [1, 256]", parallel);
    et->n_ctx = n_ctx > 0 ? n_ctx : 4096;
    if (n_ctx <= 0 && m->cfg.context_length > 0 && m->cfg.context_length < et->n_ctx) et->n_ctx = m->cfg.context_length;
    et->model = m;
    et->q = q;
    et->metrics = metrics;
    et->n_batch = 256;
    if (prefill_chunk < 0 || prefill_chunk > et->n_batch)
        return g4_fail(err, G4_ERR_INVALID_ARG, "serve: prefill chunk %d outside [1, %d]", prefill_chunk, et->n_batch);
    et->prefill_chunk = prefill_chunk ? prefill_chunk : G4_PREFILL_CHUNK;
    et->n_stop_ids = g4_model_stop_ids(m, et->stop_ids, (int)G4_ARRAY_LEN(et->stop_ids));
    g4_status st = g4_pool_init(&et->pool, n_threads, err);
    if (st == G4_OK) st = g4_dec_bind_ex(&et->dec, &m->cfg, &m->tensors, et->pool, err);
    et->dec_bound = st == G4_OK;
    if (st != G4_OK) {
        g4_engine_thread_join(et);
        return st;
    }
    et->n_vocab = et->dec.n_vocab;
    et->slots = calloc((size_t)parallel, sizeof *et->slots);
    /* a step: one decode row per slot plus a prompt chunk of up to n_batch rows */
    int max_rows = parallel + et->n_batch;
    et->rows = calloc((size_t)max_rows, sizeof *et->rows);
    et->row_slot = calloc((size_t)max_rows, sizeof *et->row_slot);
    et->blogits = malloc((size_t)(parallel + 1) * (size_t)et->n_vocab * sizeof(float));
    et->raw = malloc((size_t)et->n_vocab * sizeof(float));
    if (!et->slots || !et->rows || !et->row_slot || !et->blogits || !et->raw) {
        g4_engine_thread_join(et);
        return g4_fail(err, G4_ERR_NOMEM, "serve: out of memory");
    }
    et->n_slots = parallel;
    et->hold_cap = G4_OAI_MAX_STOP_LEN + g4_detok_max_add(m->tok) + 16;
    for (int i = 0; i < parallel && st == G4_OK; i++) {
        struct g4_slot *s = &et->slots[i];
        st = g4_engine_init(&s->eng, &et->dec, et->n_ctx, et->n_batch, et->pool, err);
        if (st == G4_OK) st = g4_prefix_init(&s->pc, &s->eng, G4_PREFIX_EVERY, G4_PREFIX_MAX_CKPT, err);
        if (st == G4_OK && !(s->hold = malloc(et->hold_cap)))
            st = g4_fail(err, G4_ERR_NOMEM, "serve: out of memory");
    }
    if (st == G4_OK) st = g4_batch_init(&et->batch, &et->dec, max_rows, g4_kvcache_max_cap(&et->slots[0].eng.kv),
                                        et->pool, err);
    if (st == G4_OK) st = build_gvocab(et, err);
    if (st != G4_OK) {
        g4_engine_thread_join(et);
        return st;
    }
    atomic_store(&metrics->kv_size, et->n_ctx * parallel);
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
    for (int i = 0; et->slots && i < et->n_slots; i++) {
        struct g4_slot *s = &et->slots[i];
        slot_free_req(s);
        g4_prefix_free(&s->pc);
        g4_engine_free(&s->eng);
        free(s->hold);
    }
    free(et->slots);
    et->slots = NULL;
    et->n_slots = 0;
    g4_batch_free(&et->batch);
    free(et->rows);
    free(et->row_slot);
    free(et->blogits);
    free(et->raw);
    et->rows = NULL;
    et->row_slot = NULL;
    et->blogits = NULL;
    et->raw = NULL;
    g4_grammar_vocab_free(et->gvocab);
    free(et->mask);
    et->gvocab = NULL;
    et->mask = NULL;
    g4_pool_free(et->pool);
    et->pool = NULL;
    if (et->dec_bound) g4_dec_free(&et->dec);
    et->dec_bound = false;
}
