/* sampler.c — the token sampler (order of operations in sampler.h).
 * Invariants: `logits`, `ids` and `probs` are scratch of n_vocab entries
 * allocated once; `counts[t]` is the number of times t occurs in the ring
 * `window` of the last penalty_last_n accepted tokens; nothing allocates
 * after init. Sorting is deterministic: by value descending, then id. */
#include "runtime/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct g4_sampler {
    struct g4_sampler_params p;
    int32_t n_vocab;
    int32_t *suppress;               /* [n_suppress] */
    struct g4_logit_bias *bias;      /* [n_logit_bias] */
    float *logits;                   /* [n_vocab] working copy */
    int32_t *ids;                    /* [n_vocab] candidate ids */
    float *probs;                    /* [n_vocab] candidate probabilities */
    int32_t *counts;                 /* [n_vocab] occurrences in the window */
    int32_t *window;                 /* [penalty_last_n] ring of accepted tokens */
    int32_t win_len, win_head;
    uint64_t rng[4];                 /* xoshiro256** state */
};

void g4_sampler_params_default(struct g4_sampler_params *p) {
    memset(p, 0, sizeof(*p));
    p->temperature = 1.0f;
    p->top_p = 1.0f;
    p->repeat_penalty = 1.0f;
    p->penalty_last_n = 64;
}

/* ---- xoshiro256** seeded through splitmix64 ---- */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
static uint64_t rng_next(uint64_t s[4]) {
    const uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}
/* uniform double in [0, 1) with 53 random bits */
static double rng_uniform(uint64_t s[4]) { return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0); }

void g4_sampler_reset(struct g4_sampler *s, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&x);
    if (s->counts) memset(s->counts, 0, sizeof(int32_t) * (size_t)s->n_vocab);
    s->win_len = s->win_head = 0;
}

g4_status g4_sampler_init(struct g4_sampler **out, int32_t n_vocab, const struct g4_sampler_params *p, g4_error *err) {
    *out = NULL;
    if (n_vocab <= 0) return g4_fail(err, G4_ERR_INVALID_ARG, "sampler: n_vocab %d", n_vocab);
    if (!(p->temperature >= 0.0f) || !isfinite(p->temperature))
        return g4_fail(err, G4_ERR_INVALID_ARG, "sampler: temperature %g", p->temperature);
    if (!(p->top_p >= 0.0f) || !(p->min_p <= 1.0f) || isnan(p->min_p))
        return g4_fail(err, G4_ERR_INVALID_ARG, "sampler: top_p %g / min_p %g out of range", p->top_p, p->min_p);
    if (!(p->repeat_penalty > 0.0f) || !isfinite(p->repeat_penalty) || !isfinite(p->presence_penalty) ||
        !isfinite(p->frequency_penalty))
        return g4_fail(err, G4_ERR_INVALID_ARG, "sampler: bad penalty");
    if (p->penalty_last_n < 0 || p->penalty_last_n > (1 << 24))
        return g4_fail(err, G4_ERR_INVALID_ARG, "sampler: penalty_last_n %d", p->penalty_last_n);
    if (p->n_suppress < 0 || p->n_logit_bias < 0 || (p->n_suppress && !p->suppress_tokens) ||
        (p->n_logit_bias && !p->logit_bias))
        return g4_fail(err, G4_ERR_INVALID_ARG, "sampler: bad suppress/bias list");
    for (int32_t i = 0; i < p->n_suppress; i++)
        if (p->suppress_tokens[i] < 0 || p->suppress_tokens[i] >= n_vocab)
            return g4_fail(err, G4_ERR_INVALID_ARG, "sampler: suppress token %d out of vocabulary", p->suppress_tokens[i]);
    for (int32_t i = 0; i < p->n_logit_bias; i++)
        if (p->logit_bias[i].token < 0 || p->logit_bias[i].token >= n_vocab || isnan(p->logit_bias[i].bias))
            return g4_fail(err, G4_ERR_INVALID_ARG, "sampler: logit_bias token %d", p->logit_bias[i].token);

    struct g4_sampler *s = calloc(1, sizeof(*s));
    if (!s) return g4_fail(err, G4_ERR_NOMEM, "sampler: out of memory");
    s->p = *p;
    s->n_vocab = n_vocab;
    const size_t nv = (size_t)n_vocab;
    s->logits = malloc(nv * sizeof(float));
    s->ids = malloc(nv * sizeof(int32_t));
    s->probs = malloc(nv * sizeof(float));
    s->counts = calloc(nv, sizeof(int32_t));
    s->window = malloc(sizeof(int32_t) * (size_t)G4_MAX(p->penalty_last_n, 1));
    s->suppress = malloc(sizeof(int32_t) * (size_t)G4_MAX(p->n_suppress, 1));
    s->bias = malloc(sizeof(*s->bias) * (size_t)G4_MAX(p->n_logit_bias, 1));
    if (!s->logits || !s->ids || !s->probs || !s->counts || !s->window || !s->suppress || !s->bias) {
        g4_sampler_free(s);
        return g4_fail(err, G4_ERR_NOMEM, "sampler: out of memory for %d-token vocabulary", n_vocab);
    }
    if (p->n_suppress) memcpy(s->suppress, p->suppress_tokens, sizeof(int32_t) * (size_t)p->n_suppress);
    if (p->n_logit_bias) memcpy(s->bias, p->logit_bias, sizeof(*s->bias) * (size_t)p->n_logit_bias);
    s->p.suppress_tokens = s->suppress;
    s->p.logit_bias = s->bias;
    g4_sampler_reset(s, p->seed);
    *out = s;
    return G4_OK;
}

void g4_sampler_free(struct g4_sampler *s) {
    if (!s) return;
    free(s->logits);
    free(s->ids);
    free(s->probs);
    free(s->counts);
    free(s->window);
    free(s->suppress);
    free(s->bias);
    free(s);
}

void g4_sampler_accept(struct g4_sampler *s, int32_t token) {
    const int32_t cap = s->p.penalty_last_n;
    if (cap <= 0 || token < 0 || token >= s->n_vocab) return;
    if (s->win_len == cap) { /* evict the oldest */
        s->counts[s->window[s->win_head]]--;
        s->window[s->win_head] = token;
        s->win_head = (s->win_head + 1) % cap;
    } else {
        s->window[(s->win_head + s->win_len) % cap] = token;
        s->win_len++;
    }
    s->counts[token]++;
}

static void apply_penalties(struct g4_sampler *s, float *logits) {
    const struct g4_sampler_params *p = &s->p;
    if (p->repeat_penalty == 1.0f && p->presence_penalty == 0.0f && p->frequency_penalty == 0.0f) return;
    const int32_t cap = p->penalty_last_n;
    for (int32_t i = 0; i < s->win_len; i++) {
        const int32_t t = s->window[(s->win_head + i) % cap];
        const int32_t c = s->counts[t];
        if (c <= 0) continue; /* already penalised: counts[t] is negated below */
        float l = logits[t];
        l = l > 0.0f ? l / p->repeat_penalty : l * p->repeat_penalty;
        l -= (float)c * p->frequency_penalty + p->presence_penalty;
        logits[t] = l;
        s->counts[t] = -c; /* mark done for this call */
    }
    for (int32_t i = 0; i < s->win_len; i++) { /* restore the marks */
        const int32_t t = s->window[(s->win_head + i) % cap];
        if (s->counts[t] < 0) s->counts[t] = -s->counts[t];
    }
}

/* true if candidate a ranks before b: larger logit, then smaller id */
static inline bool ranks_before(const float *l, int32_t a, int32_t b) {
    return l[a] > l[b] || (l[a] == l[b] && a < b);
}

/* Moves the k best of ids[0..n) to the front (unordered); quickselect. */
static void select_top(const float *l, int32_t *ids, int32_t n, int32_t k) {
    int32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        const int32_t pivot = ids[lo + (hi - lo) / 2];
        int32_t i = lo, j = hi;
        while (i <= j) {
            while (ranks_before(l, ids[i], pivot)) i++;
            while (ranks_before(l, pivot, ids[j])) j--;
            if (i <= j) {
                int32_t t = ids[i];
                ids[i] = ids[j];
                ids[j] = t;
                i++;
                j--;
            }
        }
        if (k - 1 <= j) hi = j;
        else if (k - 1 >= i) lo = i;
        else break;
    }
}

/* Sorts ids[0..n) best first: heap sort (no recursion, no allocation) on a
 * heap whose root is the worst candidate, so popped elements fill the array
 * from the back with worst first. */
static inline bool worse(const float *l, int32_t a, int32_t b) { return ranks_before(l, b, a); }
static void sift(const float *l, int32_t *ids, int32_t root, int32_t n) {
    for (;;) {
        int32_t c = 2 * root + 1;
        if (c >= n) return;
        if (c + 1 < n && worse(l, ids[c + 1], ids[c])) c++;
        if (!worse(l, ids[c], ids[root])) return;
        int32_t t = ids[root];
        ids[root] = ids[c];
        ids[c] = t;
        root = c;
    }
}
static void sift_up(const float *l, int32_t *ids, int32_t i) {
    while (i > 0) {
        const int32_t parent = (i - 1) / 2;
        if (!worse(l, ids[i], ids[parent])) return;
        int32_t t = ids[i];
        ids[i] = ids[parent];
        ids[parent] = t;
        i = parent;
    }
}
static void sort_best_first(const float *l, int32_t *ids, int32_t n) {
    for (int32_t i = n / 2 - 1; i >= 0; i--) sift(l, ids, i, n);
    for (int32_t end = n - 1; end > 0; end--) {
        int32_t t = ids[0];
        ids[0] = ids[end];
        ids[end] = t;
        sift(l, ids, 0, end);
    }
}

static void process(struct g4_sampler *s, const float *logits, float *l) {
    const struct g4_sampler_params *p = &s->p;
    memcpy(l, logits, sizeof(float) * (size_t)s->n_vocab);
    for (int32_t i = 0; i < p->n_suppress; i++) l[p->suppress_tokens[i]] = -INFINITY;
    for (int32_t i = 0; i < p->n_logit_bias; i++) l[p->logit_bias[i].token] += p->logit_bias[i].bias;
    apply_penalties(s, l);
}

void g4_sampler_process(struct g4_sampler *s, const float *logits, float *out) { process(s, logits, out); }

/* exp(x - mx), with +inf logits (mx = +inf) sharing all the mass */
static inline float weight(float x, float mx) {
    if (isinf(mx)) return x == mx ? 1.0f : 0.0f;
    return expf(x - mx);
}

int32_t g4_sampler_sample(struct g4_sampler *s, const float *logits) {
    const struct g4_sampler_params *p = &s->p;
    float *l = s->logits;
    process(s, logits, l);

    if (p->temperature <= 0.0f || p->top_k == 1) { /* greedy: first maximum */
        int32_t best = -1;
        for (int32_t t = 0; t < s->n_vocab; t++)
            if (l[t] > -INFINITY && (best < 0 || l[t] > l[best])) best = t;
        return best;
    }
    /* candidates: tokens whose logit is above -inf (NaN excluded). With a
       top_k, one streaming pass keeps the k best in a heap whose root is the
       worst kept (most tokens are rejected by one compare); top_k before
       temperature picks the same set since x / T is increasing for T > 0. */
    int32_t n = 0;
    if (p->top_k > 0 && p->top_k < s->n_vocab) {
        const int32_t k = p->top_k;
        for (int32_t t = 0; t < s->n_vocab; t++) {
            if (!(l[t] > -INFINITY)) continue;
            if (n < k) {
                s->ids[n] = t;
                sift_up(l, s->ids, n++);
            } else if (ranks_before(l, t, s->ids[0])) {
                s->ids[0] = t;
                sift(l, s->ids, 0, n);
            }
        }
    } else {
        for (int32_t t = 0; t < s->n_vocab; t++)
            if (l[t] > -INFINITY) s->ids[n++] = t;
    }
    if (n == 0) return -1;
    for (int32_t i = 0; i < n; i++) l[s->ids[i]] /= p->temperature; /* HF: scores / temperature */

    /* unnormalised probabilities e = exp(l - max): the best survivor has e = 1 */
    float mx = l[s->ids[0]];
    for (int32_t i = 1; i < n; i++) mx = fmaxf(mx, l[s->ids[i]]);
    if (p->min_p > 0.0f && p->top_p >= 1.0f && !isinf(mx)) {
        /* min_p alone: e >= min_p <=> l >= mx + log(min_p); filtering on the
           logit first saves an exp per rejected token */
        const float thr = mx + logf(p->min_p);
        int32_t keep = 0;
        for (int32_t i = 0; i < n; i++)
            if (l[s->ids[i]] >= thr) s->ids[keep++] = s->ids[i];
        n = keep;
    }
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++) sum += (s->probs[i] = weight(l[s->ids[i]], mx));

    if (p->top_p < 1.0f) {
        /* HF: keep token i iff the mass ranked before it is < top_p. Only the
           head of the ranking is needed: select and sort the best k, grow k
           by 4x until the head holds top_p of the mass (O(n) per round). */
        const double target = (double)p->top_p * sum;
        for (int32_t k = G4_MIN(n, 256);; k = (int32_t)G4_MIN((int64_t)n, 4 * (int64_t)k)) {
            if (k < n) select_top(l, s->ids, n, k);
            sort_best_first(l, s->ids, k);
            double cum = 0.0;
            int32_t keep = -1;
            for (int32_t i = 0; i < k; i++) {
                cum += (s->probs[i] = weight(l[s->ids[i]], mx));
                if (cum >= target) {
                    keep = i + 1;
                    break;
                }
            }
            if (keep > 0 || k == n) { /* k == n: rounding left the target unmet; keep all */
                n = keep > 0 ? keep : n;
                sum = cum;
                break;
            }
        }
    }
    if (p->min_p > 0.0f) { /* drop p < min_p * p_max, i.e. e < min_p (order kept) */
        int32_t keep = 0;
        sum = 0.0;
        for (int32_t i = 0; i < n; i++)
            if (s->probs[i] >= p->min_p) {
                s->ids[keep] = s->ids[i];
                sum += (s->probs[keep++] = s->probs[i]);
            }
        n = keep; /* >= 1: the best token has e = 1 >= min_p */
    }
    const double u = rng_uniform(s->rng) * sum;
    double cum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        cum += s->probs[i];
        if (u < cum) return s->ids[i];
    }
    return s->ids[n - 1]; /* rounding: u landed on the very end */
}
