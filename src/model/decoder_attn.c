/* decoder_attn.c — the attention block of one decoder layer.
 * q = rope(q_norm(Wq h)); k = rope(k_norm(Wk h)); v = Wv h, or on K=V layers
 * the raw Wk h; Gemma 4 then applies a scale-free RMSNorm to v (v_norm). New
 * K/V rows go to the layer's KV ring (slot = pos % cap) before attention, so
 * rows of one batch see each other. KV-shared layers (E2B/E4B) only read
 * the ring of their source layer. GQA: query head n reads KV head
 * n / (n_head / n_kv_head). RoPE is half-split (rotate_half), angles
 * pos * inv_freq computed in f32 as HF does. Masks: global layers causal;
 * sliding layers see keys u with t - W < u <= t; plus (HF
 * create_masks_for_vision_model) any key of the same bidirectional block,
 * in sliding layers (Gemma 4 "vision", Gemma 3) and global layers (Gemma 3). */
#include "model/decoder_impl.h"

#include "core/fp16.h"
#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

/* cos/sin table for every row: rope[i][0..half) = cos, [half..2half) = sin. */
static void rope_table(const struct g4_dec *dec, const struct g4_dec_layer *L, const struct g4_dec_batch *b,
                       float *tab) {
    int half = L->head_dim / 2;
    for (int i = 0; i < b->n; i++) {
        float p = (float)g4_dec_row_pos(b, i);
        float *c = tab + (size_t)i * L->head_dim;
        for (int j = 0; j < half; j++) {
            float a = p * L->inv_freq[j];
            c[j] = cosf(a);
            c[half + j] = sinf(a);
        }
        g4_dec_round(dec, c, (size_t)L->head_dim); /* HF casts cos/sin to the activation dtype */
    }
}

static void rope_apply(float *x, const float *tab, int hd, int bf16) {
    int half = hd / 2;
    if (bf16) { /* HF bf16: x*cos and rotate_half(x)*sin rounded, then their sum */
        for (int j = 0; j < half; j++) {
            float c = tab[j], s = tab[half + j];
            float a = x[j], bb = x[j + half];
            x[j] = g4_round_bf16(g4_round_bf16(a * c) + g4_round_bf16(-bb * s));
            x[j + half] = g4_round_bf16(g4_round_bf16(bb * c) + g4_round_bf16(a * s));
        }
        return;
    }
    for (int j = 0; j < half; j++) {
        float c = tab[j], s = tab[half + j];
        float a = x[j], bb = x[j + half];
        x[j] = a * c - bb * s;
        x[j + half] = bb * c + a * s;
    }
}

struct qk_job {
    const struct g4_dec *dec;
    const struct g4_dec_layer *L;
    float *x;          /* [n][heads*H] */
    int heads;
    const float *norm; /* [H] or NULL = scale-free */
    const float *rope; /* table or NULL = no rope */
};

static void qk_range(void *ctx, int ith, int64_t i0, int64_t i1) {
    (void)ith;
    struct qk_job *j = ctx;
    int hd = j->L->head_dim;
    for (int64_t i = i0; i < i1; i++) {
        float *row = j->x + (size_t)i * j->heads * hd;
        g4_dec_norm(j->dec, NULL, row, row, j->heads, hd, j->norm, j->dec->eps);
        if (j->rope)
            for (int h = 0; h < j->heads; h++)
                rope_apply(row + (size_t)h * hd, j->rope + (size_t)i * hd, hd, j->dec->bf16_act);
    }
}

static void norm_rope(const struct g4_dec *dec, const struct g4_dec_layer *L, float *x, int n, int heads,
                      const float *norm, const float *rope, struct g4_pool *tp) {
    struct qk_job j = {dec, L, x, heads, norm, rope};
    g4_dec_par_for(tp, n, 1, qk_range, &j);
}

struct att_job {
    const struct g4_dec *dec;
    const struct g4_dec_layer *L;
    const struct g4_dec_batch *b;
    struct g4_kv_view *kv; /* [n_layer], or NULL with b->row_kv */
    const float *q;
    float *out;
    float *scores;
    int64_t n_kv;
    int n_head;
    const struct g4_kernels *kt;
    int pieces; /* att_range_fast: a GQA group's query heads split in this many pieces */
};

/* One (row, head) pair per item. */
static void att_range(void *ctx, int ith, int64_t i0, int64_t i1) {
    struct att_job *j = ctx;
    const struct g4_dec *dec = j->dec;
    const struct g4_dec_layer *L = j->L;
    const struct g4_dec_batch *b = j->b;
    int hd = L->head_dim, group = j->n_head / L->n_kv_head;
    float *sc = j->scores + (size_t)ith * (size_t)j->n_kv;
    int64_t last = b->pos0 + b->n - 1;
    for (int64_t it = i0; it < i1; it++) {
        int i = (int)(it / j->n_head), h = (int)(it % j->n_head);
        int g = h / group;
        const struct g4_kv_view *kv = &g4_dec_row_kv(b, j->kv, i)[L->kv_src];
        int64_t cap = kv->cap;
        int row = kv->row;
        int64_t t = g4_dec_row_pos(b, i);
        int use_blocks = b->block && (L->sliding ? dec->blocks_sliding : dec->blocks_global);
        int blk = use_blocks ? b->block[i] : -1;
        int64_t lo = 0, hi = t;
        if (L->sliding) lo = G4_MAX((int64_t)0, t - dec->window + 1);
        if (blk >= 0) hi = last; /* same-block keys ahead of t are visible */
        const float *q = j->q + (size_t)i * j->n_head * hd + (size_t)h * hd;
        float mx = -INFINITY;
        int64_t cnt = hi - lo + 1;
        for (int64_t u = lo; u <= hi; u++) {
            float s;
            if (u > t && b->block[u - b->pos0] != blk) {
                s = -INFINITY;
            } else {
                const float *k = kv->k + (size_t)(u % cap) * row + (size_t)g * hd;
                s = j->kt->dot_f32(hd, q, k);
                if (dec->bf16_act) s = g4_round_bf16(g4_round_bf16(s) * dec->attn_scale);
                else s *= dec->attn_scale;
                if (dec->attn_softcap > 0) s = tanhf(s / dec->attn_softcap) * dec->attn_softcap;
            }
            sc[u - lo] = s;
            if (s > mx) mx = s;
        }
        double sum = 0;
        for (int64_t u = 0; u < cnt; u++) {
            float e = sc[u] == -INFINITY ? 0.0f : expf(sc[u] - mx);
            sc[u] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        if (dec->bf16_act) { /* HF: softmax in f32, probabilities cast to bf16 */
            for (int64_t u = 0; u < cnt; u++) sc[u] = g4_round_bf16(sc[u] * inv);
            inv = 1.0f;
        }
        float *o = j->out + (size_t)i * j->n_head * hd + (size_t)h * hd;
        memset(o, 0, (size_t)hd * sizeof(float));
        for (int64_t u = lo; u <= hi; u++) {
            float p = sc[u - lo] * inv;
            if (p == 0.0f) continue;
            const float *v = kv->v + (size_t)(u % cap) * row + (size_t)g * hd;
            for (int c = 0; c < hd; c++) o[c] += p * v[c];
        }
        g4_dec_round(dec, o, (size_t)hd);
    }
}

/* One (row, KV head, piece of the group) per item: the query heads of a
 * GQA group (or of a piece of it, when there are too few rows and KV heads
 * to keep every thread busy, as in decode) in one pass of the table's
 * attention kernel (online softmax; each K/V row read once per piece). Not
 * for bf16 emulation or blocks. */
static void att_range_fast(void *ctx, int ith, int64_t i0, int64_t i1) {
    struct att_job *j = ctx;
    const struct g4_dec *dec = j->dec;
    const struct g4_dec_layer *L = j->L;
    const struct g4_dec_batch *b = j->b;
    const int hd = L->head_dim, nkv = L->n_kv_head, group = j->n_head / nkv, np = j->pieces;
    const int per = (group + np - 1) / np;
    int32_t *kv_pos = (int32_t *)(j->scores + (size_t)ith * (size_t)j->n_kv);
    for (int64_t it = i0; it < i1; it++) {
        const int i = (int)(it / (nkv * np)), g = (int)(it / np % nkv), q0 = (int)(it % np) * per;
        const int nq = G4_MIN(per, group - q0);
        if (nq <= 0) continue;
        const struct g4_kv_view *kv = &g4_dec_row_kv(b, j->kv, i)[L->kv_src];
        const int64_t cap = kv->cap, t = g4_dec_row_pos(b, i);
        const int64_t lo = L->sliding ? G4_MAX((int64_t)0, t - dec->window + 1) : 0;
        struct g4_attn_args a = {
            .head_dim = hd, .n_q = nq,
            .q = j->q + (size_t)i * j->n_head * hd + (size_t)(g * group + q0) * hd, .q_head_stride = hd,
            .out = j->out + (size_t)i * j->n_head * hd + (size_t)(g * group + q0) * hd, .out_head_stride = hd,
            .kv_type = G4_TYPE_F32, .kv_stride = kv->row, .q_pos = (int32_t)t, .causal = true,
            .window = L->sliding ? dec->window : 0, .scale = dec->attn_scale, .softcap = dec->attn_softcap,
        };
        if (lo % cap + (t - lo) < cap) { /* [lo, t] sit in consecutive slots */
            a.k = kv->k + (size_t)(lo % cap) * kv->row + (size_t)g * hd;
            a.v = kv->v + (size_t)(lo % cap) * kv->row + (size_t)g * hd;
            a.n_kv = t - lo + 1;
            a.kv_pos0 = (int32_t)lo;
        } else { /* the span wraps around the ring: name each slot's position */
            for (int64_t u = 0; u < cap; u++) kv_pos[u] = -1;
            for (int64_t u = lo; u <= t; u++) kv_pos[u % cap] = (int32_t)u;
            a.k = kv->k + (size_t)g * hd;
            a.v = kv->v + (size_t)g * hd;
            a.n_kv = cap;
            a.kv_pos = kv_pos;
        }
        j->kt->attention(&a);
    }
}

void g4_dec_attn(const struct g4_dec *dec, int il, const struct g4_dec_batch *b, struct g4_kv_view *kv,
                 struct g4_dec_scratch *s, struct g4_pool *tp) {
    const struct g4_dec_layer *L = &dec->layers[il];
    int n = b->n, hd = L->head_dim, nh = dec->n_head, nkv = L->n_kv_head;
    int qd = nh * hd, kd = nkv * hd;
    int rotate = L->inv_freq != NULL;
    if (rotate) rope_table(dec, L, b, s->rope);

    /* q, k and v projections as one pool job */
    const int own_kv = L->kv_src == il;
    const struct g4_mat *ws[3] = {&L->wq, &L->wk, &L->wv};
    float *ys[3] = {s->q, s->k, s->v};
    const int64_t lds[3] = {qd, kd, kd};
    void *wd[3] = {s->tmp, s->tmp2[0], s->tmp2[1]};
    g4_dec_mm_multi(dec, tp, own_kv ? (L->k_eq_v ? 2 : 3) : 1, ws, s->h, n, dec->n_embd, ys, lds, wd);
    norm_rope(dec, L, s->q, n, nh, L->q_norm, rotate ? s->rope : NULL, tp);

    if (own_kv) {
        if (L->k_eq_v) memcpy(s->v, s->k, (size_t)n * kd * sizeof(float));
        norm_rope(dec, L, s->k, n, nkv, L->k_norm, rotate ? s->rope : NULL, tp);
        if (dec->v_norm) norm_rope(dec, L, s->v, n, nkv, NULL, NULL, tp);
        for (int i = 0; i < n; i++) {
            struct g4_kv_view *c = &g4_dec_row_kv(b, kv, i)[il];
            int64_t slot = g4_dec_row_pos(b, i) % c->cap;
            memcpy(c->k + (size_t)slot * c->row, s->k + (size_t)i * kd, (size_t)kd * sizeof(float));
            memcpy(c->v + (size_t)slot * c->row, s->v + (size_t)i * kd, (size_t)kd * sizeof(float));
        }
    }

    struct att_job j = {dec, L, b, kv, s->q, s->att, s->scores, s->n_kv, nh, g4_kernels(), 1};
    if (!dec->bf16_act && !b->block && s->n_kv <= INT32_MAX) {
        /* enough items for every thread: split the groups when rows are few */
        const int nt = g4_dec_threads(tp), group = nh / nkv;
        j.pieces = 1;
        while ((int64_t)n * nkv * j.pieces < 2 * nt && j.pieces < group) j.pieces++;
        g4_dec_par_for(tp, (int64_t)n * nkv * j.pieces, 1, att_range_fast, &j);
    } else {
        g4_dec_par_for(tp, (int64_t)n * nh, 1, att_range, &j);
    }
    g4_dec_mm(dec, tp, &L->wo, s->att, n, qd, s->o, dec->n_embd, s->tmp);
}
