/* generate.c — the public sampling and generation API: g4_sampling_params
 * defaults from the model's generation config, g4_sampler_new over the
 * runtime sampler (runtime/sampler.h; g4_sampler_free/sample/accept/reset
 * are that sampler's own functions, same signatures), and g4_generate, the
 * token loop: prefill, sample, stream text, evaluate, until a stop.
 *
 * Streaming text. Each token's text is computed without allocating, with
 * the Gemma tokenizer decoder (Replace "▁" -> " ", ByteFallback, Fuse; the
 * same as g4_detokenize with skip_special): control tokens give no text;
 * byte tokens <0xHH> are gathered into a run that is emitted when a
 * non-byte token (or the end) closes it, as UTF-8 if the run is valid and
 * one U+FFFD per byte otherwise (HF's ByteFallback), so the stream never
 * shows a partial character. (A run longer than G4_BYTE_RUN bytes is closed
 * early; only pathological output can tell.) The decoded text then goes
 * through the stop-string matcher (runtime/stop.h), which holds back a tail
 * that may still become a stop string.
 * Invariants: the concatenated streamed text equals g4_detokenize of the
 * generated ids (skip_special), cut before the first stop string; every
 * buffer is allocated before the loop. */
#include "api/model_impl.h"
#include "g4.h"
#include "runtime/sampler.h"
#include "runtime/stop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define G4_BYTE_RUN 256

/* ---- Defaults and stop ids ---------------------------------------------- */

void g4_model_default_sampling(const g4_model *m, g4_sampling_params *p) {
    struct g4_sampler_params d;
    g4_sampler_params_default(&d);
    memset(p, 0, sizeof *p);
    p->temperature = d.temperature;
    p->top_k = d.top_k;
    p->top_p = d.top_p;
    p->min_p = d.min_p;
    p->repeat_penalty = d.repeat_penalty;
    p->repeat_last_n = d.penalty_last_n;
    p->presence_penalty = d.presence_penalty;
    p->frequency_penalty = d.frequency_penalty;
    p->seed = d.seed;
    if (!m || !m->has_config) return;
    const struct g4_config *c = &m->cfg;
    p->temperature = c->temperature;
    p->top_k = c->top_k;
    p->top_p = c->top_p > 0 ? c->top_p : 1.0f;
    /* do_sample false in a generation_config means greedy; GGUF files carry
     * no do_sample, and the config loader leaves it set in that case */
    if (!c->do_sample) p->temperature = 0;
    p->suppress = c->n_suppress ? c->suppress_ids : NULL;
    p->n_suppress = c->n_suppress;
}

static int add_id(int32_t *out, int cap, int n, int32_t id) {
    if (id < 0) return n;
    for (int i = 0; i < n && i < cap; i++)
        if (out[i] == id) return n;
    if (n < cap) out[n] = id;
    return n + 1;
}

int g4_model_stop_ids(const g4_model *m, int32_t *out, int cap) {
    int n = 0;
    if (!m || (!out && cap > 0) || cap < 0) return 0;
    if (m->has_config)
        for (int i = 0; i < m->cfg.n_eos; i++) n = add_id(out, cap, n, m->cfg.eos_ids[i]);
    if (m->tok) {
        n = add_id(out, cap, n, g4_tokenizer_eos(m->tok));
        /* the chat formats end a turn with these (and Gemma 4 hands control
         * to the host at a tool response); llama.cpp treats them as
         * end-of-generation too */
        static const char *const eot[] = {"<end_of_turn>", "<turn|>", "<|tool_response>"};
        for (size_t i = 0; i < sizeof eot / sizeof eot[0]; i++)
            n = add_id(out, cap, n, g4_tokenizer_find(m->tok, eot[i], strlen(eot[i])));
    }
    return n;
}

int64_t g4_model_context_length(const g4_model *m) {
    return m && m->has_config ? m->cfg.context_length : 0;
}

/* ---- Sampler ------------------------------------------------------------- */

g4_status g4_sampler_new(const g4_model *m, const g4_sampling_params *p, g4_sampler **out, g4_error *err) {
    if (!out) return g4_fail(err, G4_ERR_INVALID_ARG, "sampler: out is NULL");
    *out = NULL;
    if (!m || !p) return g4_fail(err, G4_ERR_INVALID_ARG, "sampler: model and params must not be NULL");
    if (!m->has_config || m->cfg.n_vocab <= 0 || m->cfg.n_vocab > INT32_MAX)
        return g4_fail(err, G4_ERR_INVALID_ARG, "sampler: the model has no vocabulary size (loaded without config?)");
    if (p->n_logit_bias < 0 || p->n_suppress < 0 || (p->n_logit_bias && !p->logit_bias) ||
        (p->n_suppress && !p->suppress))
        return g4_fail(err, G4_ERR_INVALID_ARG, "sampler: bad logit_bias or suppress array");
    struct g4_sampler_params sp;
    g4_sampler_params_default(&sp);
    sp.temperature = p->temperature;
    sp.top_k = p->top_k;
    sp.top_p = p->top_p;
    sp.min_p = p->min_p;
    sp.repeat_penalty = p->repeat_penalty;
    sp.presence_penalty = p->presence_penalty;
    sp.frequency_penalty = p->frequency_penalty;
    sp.penalty_last_n = p->repeat_last_n;
    sp.seed = p->seed;
    sp.suppress_tokens = p->suppress;
    sp.n_suppress = p->n_suppress;
    struct g4_logit_bias *lb = NULL;
    if (p->n_logit_bias) {
        lb = malloc((size_t)p->n_logit_bias * sizeof *lb);
        if (!lb) return g4_fail(err, G4_ERR_NOMEM, "sampler: out of memory");
        for (int32_t i = 0; i < p->n_logit_bias; i++) lb[i] = (struct g4_logit_bias){p->logit_bias[i].token, p->logit_bias[i].bias};
    }
    sp.logit_bias = lb;
    sp.n_logit_bias = p->n_logit_bias;
    g4_status st = g4_sampler_init(out, (int32_t)m->cfg.n_vocab, &sp, err);
    free(lb);
    return st;
}

/* ---- Streaming text ------------------------------------------------------ */

struct stream {
    const struct g4_tokenizer *tok;
    struct g4_stop *stop;
    char *pend;          /* decoded text not yet emitted */
    size_t n_pend, cap;
    unsigned char run[G4_BYTE_RUN]; /* open run of byte-fallback tokens */
    size_t n_run;
    bool matched;        /* a stop string was found: emit nothing more */
};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid/truncated. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

static void pend_put(struct stream *s, const void *p, size_t n) {
    /* capacity is sized so this cannot overflow (see stream_init) */
    memcpy(s->pend + s->n_pend, p, n);
    s->n_pend += n;
}

/* Closes the byte run: its bytes if valid UTF-8, else U+FFFD per byte. */
static void run_close(struct stream *s) {
    if (!s->n_run) return;
    size_t i = 0, k;
    while (i < s->n_run && (k = utf8_seq(s->run + i, s->n_run - i)) > 0) i += k;
    if (i == s->n_run) pend_put(s, s->run, s->n_run);
    else
        for (i = 0; i < s->n_run; i++) pend_put(s, "\xEF\xBF\xBD", 3);
    s->n_run = 0;
}

/* Appends token `id`'s text to the pending buffer. */
static void stream_add(struct stream *s, int32_t id) {
    size_t n = 0;
    const char *p = g4_tokenizer_piece(s->tok, id, &n);
    if (!p || g4_tokenizer_is_special(s->tok, id)) return;
    int b = g4_tokenizer_byte_piece(p, n);
    if (b >= 0) {
        if (s->n_run == G4_BYTE_RUN) run_close(s);
        s->run[s->n_run++] = (unsigned char)b;
        return;
    }
    run_close(s);
    for (size_t i = 0; i < n;) {
        if (i + 3 <= n && !memcmp(p + i, "\xE2\x96\x81", 3)) { /* U+2581 "▁" */
            pend_put(s, " ", 1);
            i += 3;
        } else {
            size_t j = i + 1;
            while (j < n && !(j + 3 <= n && !memcmp(p + j, "\xE2\x96\x81", 3))) j++;
            pend_put(s, p + i, j - i);
            i = j;
        }
    }
}

/* Emits what may be shown now (everything, when `final`). Returns the
 * callback's verdict (non-zero = cancel). */
static int stream_emit(struct stream *s, int32_t token, bool final, const g4_generate_params *gp) {
    if (final) run_close(s);
    size_t safe = 0;
    if (!s->matched) {
        bool m = false;
        safe = g4_stop_scan(s->stop, s->pend, s->n_pend, &m);
        if (m) s->matched = true;
        else if (final) safe = s->n_pend;
    }
    int r = gp->on_token ? gp->on_token(token, s->pend, safe, gp->user) : 0;
    if (s->matched) s->n_pend = 0;
    else {
        memmove(s->pend, s->pend + safe, s->n_pend - safe);
        s->n_pend -= safe;
    }
    return r;
}

static g4_status stream_init(struct stream *s, const g4_model *m, const g4_generate_params *gp, g4_error *err) {
    memset(s, 0, sizeof *s);
    s->tok = m->tok;
    for (int i = 0; i < gp->n_stop_strings; i++)
        if (!gp->stop_strings || !gp->stop_strings[i])
            return g4_fail(err, G4_ERR_INVALID_ARG, "generate: stop string %d is NULL", i);
    g4_status st = g4_stop_init(&s->stop, gp->stop_strings, gp->n_stop_strings, gp->stop_ids,
                                gp->n_stop_ids, err);
    if (st) return st;
    /* pending text after a scan is < the longest stop string; one step adds
     * a piece (its "▁" shrink to spaces) or a closed byte run (<= 3 bytes
     * per byte) plus, before a piece, the run it closes */
    size_t max_stop = 0, max_piece = 0;
    for (int i = 0; i < gp->n_stop_strings; i++) max_stop = G4_MAX(max_stop, strlen(gp->stop_strings[i]));
    int32_t nv = g4_tokenizer_n_vocab(m->tok);
    for (int32_t i = 0; i < nv; i++) {
        size_t n = 0;
        if (g4_tokenizer_piece(m->tok, i, &n)) max_piece = G4_MAX(max_piece, n);
    }
    s->cap = max_stop + max_piece + 3 * G4_BYTE_RUN + 16;
    s->pend = malloc(s->cap);
    if (!s->pend) {
        g4_stop_free(s->stop);
        return g4_fail(err, G4_ERR_NOMEM, "generate: out of memory");
    }
    return G4_OK;
}

static void stream_free(struct stream *s) {
    g4_stop_free(s->stop);
    free(s->pend);
}

/* ---- The token loop ------------------------------------------------------ */

g4_status g4_generate(const g4_model *m, g4_context *ctx, g4_sampler *smp, const int32_t *prompt, size_t n_prompt,
                      const g4_generate_params *gp, g4_generate_stats *stats, g4_error *err) {
    g4_generate_stats st0 = {0};
    if (stats) *stats = st0;
    if (!m || !ctx || !smp || !gp || (!prompt && n_prompt))
        return g4_fail(err, G4_ERR_INVALID_ARG, "generate: model, context, sampler and params must not be NULL");
    if (!m->tok) return g4_fail(err, G4_ERR_INVALID_ARG, "generate: the model has no tokenizer");
    if (n_prompt == 0) return g4_fail(err, G4_ERR_INVALID_ARG, "generate: the prompt is empty");
    if (gp->n_stop_ids < 0 || gp->n_stop_strings < 0 || (gp->n_stop_ids && !gp->stop_ids))
        return g4_fail(err, G4_ERR_INVALID_ARG, "generate: bad stop arrays");
    if (!m->has_config || g4_context_n_vocab(ctx) != m->cfg.n_vocab)
        return g4_fail(err, G4_ERR_INVALID_ARG, "generate: the context does not belong to this model");

    double t0 = now_ms();
    struct stream s;
    g4_status st = stream_init(&s, m, gp, err);
    if (st) return st;
    float *logits = malloc((size_t)m->cfg.n_vocab * sizeof *logits);
    if (!logits) {
        stream_free(&s);
        return g4_fail(err, G4_ERR_NOMEM, "generate: out of memory for %lld logits", (long long)m->cfg.n_vocab);
    }

    g4_generate_stats r = st0;
    double t_pre = now_ms();
    st = g4_context_eval(ctx, prompt, n_prompt, logits, 0, err);
    double t_pre_end = now_ms();
    if (st == G4_OK) {
        r.n_prompt = (int64_t)n_prompt;
        r.prompt_ms = t_pre_end - t_pre;
        for (size_t i = 0; i < n_prompt; i++) g4_sampler_accept(smp, prompt[i]);
    }
    while (st == G4_OK) {
        int32_t t = g4_sampler_sample(smp, logits);
        if (r.n_gen == 0) r.ttft_ms = now_ms() - t0;
        if (t < 0) {
            st = g4_fail(err, G4_ERR_INVALID_ARG, "generate: every token is banned or the logits are not finite");
            break;
        }
        if (g4_stop_is_token(s.stop, t)) {
            r.reason = G4_STOP_TOKEN;
            break;
        }
        r.n_gen++;
        g4_sampler_accept(smp, t);
        stream_add(&s, t);
        if (stream_emit(&s, t, false, gp)) {
            r.reason = G4_STOP_CANCELLED;
            break;
        }
        if (s.matched) {
            r.reason = G4_STOP_STRING;
            break;
        }
        if (gp->max_tokens > 0 && r.n_gen >= gp->max_tokens) {
            r.reason = G4_STOP_MAX_TOKENS;
            break;
        }
        g4_error e2;
        st = g4_context_eval(ctx, &t, 1, logits, 0, &e2);
        if (st == G4_ERR_RANGE) { /* the one-token step fails only on a full context */
            st = G4_OK;
            r.reason = G4_STOP_CONTEXT;
            break;
        }
        if (st && err) *err = e2;
    }
    if (st == G4_OK && r.reason != G4_STOP_STRING && r.reason != G4_STOP_CANCELLED) stream_emit(&s, -1, true, gp);
    double t_end = now_ms();
    if (r.n_prompt) {
        r.gen_ms = t_end - t_pre_end;
        if (r.prompt_ms > 0) r.prompt_tps = (double)r.n_prompt * 1e3 / r.prompt_ms;
        if (r.gen_ms > 0) r.gen_tps = (double)r.n_gen * 1e3 / r.gen_ms;
    }
    if (st != G4_OK) r.reason = G4_STOP_NONE;
    if (stats) *stats = r;
    free(logits);
    stream_free(&s);
    return st;
}
