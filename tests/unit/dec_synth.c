/* dec_synth.c — see dec_synth.h. */
#include "dec_synth.h"

#include "tensor/types.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float rnd(struct synth *s) {
    s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((s->rng >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f; /* [-1, 1) */
}

static float *take(struct synth *s, size_t n, float base, float amp) {
    if (s->used + n > s->cap) abort(); /* test bug */
    float *p = s->mem + s->used;
    s->used += n;
    for (size_t i = 0; i < n; i++) p[i] = base + amp * rnd(s);
    return p;
}

static struct g4_mat mat(struct synth *s, int64_t rows, int64_t cols, float amp) {
    struct g4_mat m = {.type = G4_TYPE_F32, .rows = rows, .cols = cols, .row_bytes = (size_t)cols * 4,
                       .data = take(s, (size_t)(rows * cols), 0, amp)};
    return m;
}

void synth_build(struct synth *s, int n_layer, int features, int window, uint64_t seed) {
    memset(s, 0, sizeof *s);
    s->rng = seed;
    s->cap = 1 << 20;
    s->mem = calloc(s->cap, sizeof(float));
    struct g4_dec *d = &s->dec;
    int D = 16, nh = 4, V = 50, P = 4;
    int g3 = (features & SYNTH_GEMMA3) != 0;
    d->gemma4 = !g3;
    d->n_layer = n_layer;
    d->n_embd = D;
    d->n_head = nh;
    d->n_vocab = V;
    d->window = window;
    d->eps = 1e-6f;
    d->attn_scale = g3 ? 0.25f : 1.0f;
    d->final_softcap = g3 ? 0 : 30.0f;
    d->v_norm = !g3;
    d->blocks_sliding = 1;
    d->blocks_global = g3;
    d->tok_embd = mat(s, V, D, 1.0f);
    d->output = d->tok_embd;
    d->embd_scale = 4.0f;
    d->out_norm = take(s, D, 1, 0.2f);
    if (features & SYNTH_PLE) {
        d->n_ple = P;
        d->n_vocab_ple = V;
        d->ple_embd_scale = 2.0f;
        d->ple_embd = mat(s, V, (int64_t)n_layer * P, 1.0f);
        d->ple_model_proj = mat(s, (int64_t)n_layer * P, D, 0.5f);
        d->ple_proj_norm = take(s, P, 1, 0.2f);
    }
    d->layers = calloc((size_t)n_layer, sizeof *d->layers);
    int global = n_layer == 2 ? 1 : 2;
    for (int il = 0; il < n_layer; il++) {
        struct g4_dec_layer *L = &d->layers[il];
        int glob = il == global;
        int H = glob ? 16 : 8, K = glob ? 1 : 2;
        L->sliding = !glob;
        L->head_dim = H;
        L->n_kv_head = K;
        L->k_eq_v = glob && !g3;
        L->kv_src = (features & SYNTH_SHARED) && il == 3 ? 1 : il;
        L->n_ff = 24;
        float *inv = take(s, (size_t)H / 2, 0, 0);
        for (int i = 0; i < H / 2; i++) {
            int pairs = glob ? H / 8 : H / 2; /* proportional: a quarter of the dims rotate */
            inv[i] = i < pairs ? 1.0f / powf(glob ? 1e6f : 1e4f, (float)(2 * i) / (float)H) : 0.0f;
        }
        L->inv_freq = inv;
        L->wq = mat(s, (int64_t)nh * H, D, 0.5f);
        L->wo = mat(s, D, (int64_t)nh * H, 0.5f);
        L->q_norm = take(s, H, 1, 0.3f);
        if (L->kv_src == il) {
            L->wk = mat(s, (int64_t)K * H, D, 0.5f);
            if (!L->k_eq_v) L->wv = mat(s, (int64_t)K * H, D, 0.5f);
            L->k_norm = take(s, H, 1, 0.3f);
        }
        L->attn_norm = take(s, D, 1, 0.2f);
        L->post_attn_norm = take(s, D, 1, 0.2f);
        L->ffn_norm = take(s, D, 1, 0.2f);
        L->post_ffn_norm = take(s, D, 1, 0.2f);
        L->w_gate = mat(s, L->n_ff, D, 0.5f);
        L->w_up = mat(s, L->n_ff, D, 0.5f);
        L->w_down = mat(s, D, L->n_ff, 0.5f);
        L->layer_scalar = g3 ? 1.0f : 0.5f + 0.5f * fabsf(rnd(s));
        if ((features & SYNTH_MOE) && il == 1) {
            int E = 4, F = 6;
            L->n_expert = E;
            L->n_expert_used = 2;
            L->n_ff_exp = F;
            L->router = mat(s, E, D, 1.0f);
            L->router_scale = take(s, D, 1, 0.3f);
            L->expert_scale = take(s, E, 1, 0.3f);
            L->post_ffn_norm_1 = take(s, D, 1, 0.2f);
            L->pre_ffn_norm_2 = take(s, D, 1, 0.2f);
            L->post_ffn_norm_2 = take(s, D, 1, 0.2f);
            L->exp_gate_up = mat(s, 2 * F, D, 0.5f);
            take(s, (size_t)(E - 1) * 2 * F * D, 0, 0.5f); /* experts 1.. follow expert 0 */
            L->exp_gate_up_stride = (size_t)2 * F * D * 4;
            L->exp_down = mat(s, D, F, 0.5f);
            take(s, (size_t)(E - 1) * F * D, 0, 0.5f);
            L->exp_down_stride = (size_t)F * D * 4;
        }
        if (features & SYNTH_PLE) {
            L->ple_gate = mat(s, P, D, 0.5f);
            L->ple_proj = mat(s, D, P, 0.5f);
            L->ple_post_norm = take(s, D, 1, 0.2f);
        }
        d->max_head_dim = d->max_head_dim > H ? d->max_head_dim : H;
        d->max_kv_dim = d->max_kv_dim > K * H ? d->max_kv_dim : K * H;
        d->max_q_dim = d->max_q_dim > nh * H ? d->max_q_dim : nh * H;
        d->max_ff = d->max_ff > L->n_ff ? d->max_ff : L->n_ff;
    }
}

void synth_free(struct synth *s) {
    free(s->dec.layers);
    free(s->mem);
    memset(s, 0, sizeof *s);
}
