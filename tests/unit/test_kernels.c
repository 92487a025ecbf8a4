/* test_kernels.c — every kernel table this CPU supports against references
 * computed here in double precision.
 *
 * Matmul: a table of {weight type, K} cases with odd tails (K not a multiple
 * of 256 where the block allows, N odd, M = 1..9). Weights are random bytes
 * with sane f16 scales; the oracle dequantizes them with g4_dequantize (which
 * is checked bit-exact against the gguf package elsewhere), so the dot
 * kernels' own bit unpacking is tested independently. Outputs are NaN-filled
 * first, including the padding past N, which must stay NaN.
 *
 * Tolerances are derived from the data, not guessed: a result formed by r
 * float roundings of terms whose magnitudes sum to S is within r*u*S of the
 * exact value (u = 2^-24; standard recursive-summation bound). See tol_dot(). */
#include "core/cpu.h"
#include "core/fp16.h"
#include "core/threadpool.h"
#include "io/gguf.h"
#include "kernels/kernels.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define U (1.0 / 16777216.0) /* float unit roundoff 2^-24 */

/* ---- random data ---- */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd64(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}
static float rndf(float lo, float hi) { return lo + (hi - lo) * (float)((rnd64() >> 40) * (1.0 / 16777216.0)); }
static void fill_act(float *x, int64_t n, float range) {
    for (int64_t i = 0; i < n; i++) x[i] = rndf(-range, range);
    if (n > 4) x[rnd64() % (uint64_t)n] *= 25.0f; /* an outlier, as real activations have */
}
static void put_f16(uint8_t *p, float v) {
    uint16_t h = g4_f32_to_f16(v);
    memcpy(p, &h, 2);
}

/* Offsets of the f16 scale fields inside one block, per type (-1 = end). */
static void scale_fields(uint32_t type, int off[3]) {
    off[0] = off[1] = off[2] = -1;
    switch (type) {
    case G4_TYPE_Q4_0: case G4_TYPE_Q5_0: case G4_TYPE_Q8_0: case G4_TYPE_IQ4_NL: case G4_TYPE_IQ4_XS:
        off[0] = 0; break;
    case G4_TYPE_Q4_1: case G4_TYPE_Q5_1: case G4_TYPE_Q4_K: case G4_TYPE_Q5_K:
        off[0] = 0; off[1] = 2; break;
    case G4_TYPE_Q6_K: off[0] = 208; break;
    case G4_TYPE_Q2_K: off[0] = 80; off[1] = 82; break;
    case G4_TYPE_Q3_K: off[0] = 108; break;
    case G4_TYPE_TQ2_0: off[0] = 64; break;
    default: break;
    }
}

/* Random weight rows: random bytes, then sane scales (or random floats). */
static void fill_weights(uint32_t type, uint8_t *w, int64_t N, int64_t K, size_t row_bytes) {
    const struct g4_type_traits *tr = g4_type_traits(type);
    for (int64_t n = 0; n < N; n++) {
        uint8_t *row = w + (size_t)n * row_bytes;
        for (size_t i = 0; i < row_bytes; i++) row[i] = (uint8_t)rnd64();
        if (type == G4_TYPE_F32)
            for (int64_t k = 0; k < K; k++) ((float *)row)[k] = rndf(-1, 1);
        else if (type == G4_TYPE_F16)
            for (int64_t k = 0; k < K; k++) ((uint16_t *)row)[k] = g4_f32_to_f16(rndf(-1, 1));
        else if (type == G4_TYPE_BF16)
            for (int64_t k = 0; k < K; k++) ((uint16_t *)row)[k] = g4_f32_to_bf16(rndf(-1, 1));
        else {
            int off[3];
            scale_fields(type, off);
            for (int64_t b = 0; b < K / tr->blck; b++) {
                if (type == G4_TYPE_MXFP4) row[b * tr->size] = (uint8_t)(118 + rnd64() % 8); /* e8m0: 2^-9..2^-2 */
                for (int f = 0; f < 3 && off[f] >= 0; f++)
                    put_f16(row + b * tr->size + off[f], rndf(0.002f, 0.05f) * (f == 0 && rnd64() % 4 == 0 ? -1 : 1));
            }
        }
    }
}

/* Per-element offset of min-style types (value when every quant is 0), so the
 * tolerance can count |offset*x| terms that cancel in w = d*q - offset. */
static bool has_min(uint32_t t) {
    return t == G4_TYPE_Q4_1 || t == G4_TYPE_Q5_1 || t == G4_TYPE_Q4_K || t == G4_TYPE_Q5_K || t == G4_TYPE_Q2_K;
}
static void min_offsets(uint32_t type, const uint8_t *row, int64_t K, float *off) {
    const struct g4_type_traits *tr = g4_type_traits(type);
    size_t rb = (size_t)(K / tr->blck) * (size_t)tr->size;
    uint8_t *z = malloc(rb);
    memcpy(z, row, rb);
    for (int64_t b = 0; b < K / tr->blck; b++) {
        uint8_t *p = z + b * tr->size;
        switch (type) {
        case G4_TYPE_Q4_1: memset(p + 4, 0, 16); break;
        case G4_TYPE_Q5_1: memset(p + 4, 0, 20); break;
        case G4_TYPE_Q4_K: memset(p + 16, 0, 128); break;
        case G4_TYPE_Q5_K: memset(p + 16, 0, 160); break;
        case G4_TYPE_Q2_K: memset(p + 16, 0, 64); break;
        default: break;
        }
    }
    if (!g4_dequantize(type, z, off, K)) memset(off, 0, sizeof(float) * (size_t)K);
    free(z);
}

/* Activations as the kernel sees them: x itself, or its Q8 rows dequantized. */
static void act_seen(uint32_t at, const void *q, const float *x, int64_t K, float *out) {
    if (at == G4_TYPE_Q8_0) {
        const struct g4_block_q8_0 *b = q;
        for (int64_t k = 0; k < K; k++) out[k] = g4_f16_to_f32(b[k / 32].d) * b[k / 32].qs[k % 32];
    } else if (at == G4_TYPE_Q8_K) {
        const struct g4_block_q8_K *b = q;
        for (int64_t k = 0; k < K; k++) out[k] = b[k / 256].d * b[k / 256].qs[k % 256];
    } else
        memcpy(out, x, sizeof(float) * (size_t)K);
}

/* Bound for a dot computed with r roundings on terms of magnitude sum S
 * (2x margin; + a floor for exact zeros). */
static double tol_dot(double r, double S) { return 2.0 * (r + 2.0) * U * S + 1e-30; }

struct mm_case {
    uint32_t type;
    int64_t K;
};

static const struct mm_case mm_cases[] = {
    {G4_TYPE_F32, 1}, {G4_TYPE_F32, 7}, {G4_TYPE_F32, 300}, {G4_TYPE_F32, 80},
    {G4_TYPE_F16, 5}, {G4_TYPE_F16, 33}, {G4_TYPE_F16, 520}, {G4_TYPE_F16, 64},
    {G4_TYPE_BF16, 3}, {G4_TYPE_BF16, 129}, {G4_TYPE_BF16, 600}, {G4_TYPE_BF16, 17},
    {G4_TYPE_Q4_0, 32}, {G4_TYPE_Q4_0, 96}, {G4_TYPE_Q4_0, 288}, {G4_TYPE_Q4_0, 800},
    {G4_TYPE_Q4_1, 96}, {G4_TYPE_Q4_1, 288},
    {G4_TYPE_Q5_0, 64}, {G4_TYPE_Q5_0, 288},
    {G4_TYPE_Q5_1, 96}, {G4_TYPE_Q5_1, 320},
    {G4_TYPE_Q8_0, 32}, {G4_TYPE_Q8_0, 64}, {G4_TYPE_Q8_0, 224}, {G4_TYPE_Q8_0, 288}, {G4_TYPE_Q8_0, 800},
    {G4_TYPE_IQ4_NL, 96}, {G4_TYPE_IQ4_NL, 544},
    {G4_TYPE_Q4_K, 256}, {G4_TYPE_Q4_K, 768},
    {G4_TYPE_Q5_K, 256}, {G4_TYPE_Q5_K, 512},
    {G4_TYPE_Q6_K, 256}, {G4_TYPE_Q6_K, 768},
    {G4_TYPE_IQ4_XS, 256}, {G4_TYPE_IQ4_XS, 512},
    {G4_TYPE_Q2_K, 256}, {G4_TYPE_Q2_K, 512}, {G4_TYPE_Q3_K, 256}, {G4_TYPE_Q3_K, 768},
    {G4_TYPE_TQ2_0, 512}, {G4_TYPE_MXFP4, 96}, /* dequantize path (no direct dot) */
};

/* One case on one table: M in 1..9, N odd, both activation modes. */
/* Checks matmul of N weight rows (w, rb bytes apart) of `type` on table kt
 * against the double oracle, for M in 1..9 and both activation modes. */
static void check_matmul(const struct g4_kernels *kt, uint32_t type, const uint8_t *w, size_t rb, int64_t N, int64_t K,
                         struct g4_pool *pool, const int64_t *Ms, size_t n_ms, bool packed) {
    const int64_t YS = N + 3;
    const struct g4_type_traits *tr = g4_type_traits(type);
    float *wd = malloc(sizeof(float) * (size_t)(N * K)), *off = calloc((size_t)(N * K), sizeof(float));
    bool have_dq = true;
    for (int64_t n = 0; n < N; n++) {
        have_dq &= g4_dequantize(type, w + n * rb, wd + n * K, K);
        if (has_min(type)) min_offsets(type, w + n * rb, K, off + n * K);
    }
    if (!have_dq) { /* dequantizer does not know the type: nothing to compare with */
        CHECKF(tr->supported == false, "%s: dequantize failed", tr->name);
        free(wd); free(off);
        return;
    }
    const struct mm_case cc = {type, K}, *c = &cc;
    for (int f32_act = 0; f32_act <= 1; f32_act++)
        for (size_t mi = 0; mi < n_ms; mi++) {
            const int64_t M = Ms[mi], XS = K + 1;
            float *x = malloc(sizeof(float) * (size_t)(M * XS)), *y = malloc(sizeof(float) * (size_t)(M * YS));
            float *xs = malloc(sizeof(float) * (size_t)K);
            for (int64_t m = 0; m < M; m++) fill_act(x + m * XS, K, 1.0f);
            for (int64_t i = 0; i < M * YS; i++) y[i] = NAN;
            struct g4_matmul_args a = {.type = c->type, .w = w, .w_row_bytes = rb, .N = N, .K = K, .M = M,
                                       .x = x, .x_stride = XS, .y = y, .y_stride = YS, .f32_act = f32_act};
            size_t ws = g4_matmul_wsize(kt, c->type, M, K, f32_act);
            a.wdata = ws ? malloc(ws) : NULL;
            void *wp = NULL;
            if (packed) { /* load-time repacked weights (whole groups; the tail rows stay plain) */
                const size_t pb = g4_matmul_repack_size(kt, type, N, K);
                CHECKF(pb > 0, "%s %s: no repack size", kt->name, tr->name);
                wp = malloc(pb ? pb : 1);
                memset(wp, 0xA5, pb);
                CHECK(g4_matmul_repack(kt, type, w, rb, N, K, wp));
                a.w_packed = wp;
            }
            g4_error err;
            if (g4_matmul_check(kt, &a, ws, &err) != G4_OK) {
                CHECKF(0, "%s %s K=%lld: %s", kt->name, tr->name, (long long)K, err.message);
            } else {
                if (packed && mi % 2) { /* phases by hand, ranges not aligned to groups */
                    g4_matmul_quantize(kt, &a, 0, 1);
                    g4_matmul_rows(kt, &a, 0, G4_MIN(N, 11));
                    g4_matmul_rows(kt, &a, G4_MIN(N, 11), N);
                } else {
                    g4_matmul(pool, kt, &a);
                }
                const uint32_t at = f32_act || !kt->type[c->type].vec_dot ? G4_TYPE_F32 : kt->type[c->type].vec_dot_type;
                const size_t qrb = ws / (size_t)M;
                const int64_t nblk = at == G4_TYPE_F32 ? K : K / tr->blck;
                int bad = 0;
                for (int64_t m = 0; m < M; m++) {
                    act_seen(at, (char *)a.wdata + m * qrb, x + m * XS, K, xs);
                    for (int64_t n = 0; n < N; n++) {
                        double ref = 0, S = 0;
                        for (int64_t k = 0; k < K; k++) {
                            ref += (double)wd[n * K + k] * xs[k];
                            S += (fabs(wd[n * K + k]) + 2.0 * fabs(off[n * K + k])) * fabs(xs[k]);
                        }
                        /* roundings: one per block term (or per element) + the
                           dequant-path chunk sums (K/256) */
                        const double tol = tol_dot((double)nblk + (double)K / 256.0, S);
                        const float got = y[m * YS + n];
                        if (!(fabs(got - ref) <= tol) && bad++ < 3)
                            CHECKF(0, "%s %s K=%lld M=%lld f32_act=%d y[%lld][%lld]=%.9g ref=%.9g tol=%.3g", kt->name,
                                   tr->name, (long long)K, (long long)M, f32_act, (long long)m, (long long)n, got, ref, tol);
                    }
                    for (int64_t n = N; n < YS; n++) CHECKF(isnan(y[m * YS + n]), "%s wrote past N", kt->name);
                }
                /* the activation quantization itself: half a step per element */
                if (at == G4_TYPE_Q8_0 || at == G4_TYPE_Q8_K) {
                    const int bs = at == G4_TYPE_Q8_0 ? 32 : 256;
                    act_seen(at, a.wdata, x, K, xs);
                    for (int64_t b = 0; b < K / bs; b++) {
                        float amax = 0;
                        for (int j = 0; j < bs; j++) amax = fmaxf(amax, fabsf(x[b * bs + j]));
                        for (int j = 0; j < bs; j++) {
                            /* Q8_0 stores its scale as f16: relative 2^-11 on top */
                            const double e = fabs((double)xs[b * bs + j] - x[b * bs + j]);
                            const double lim = amax / 254.0 * 1.001 + (at == G4_TYPE_Q8_0 ? fabs(x[b * bs + j]) * 1e-3 : 0);
                            CHECKF(e <= lim, "%s quantize %s: |dq-x|=%g > %g", kt->name, at == G4_TYPE_Q8_0 ? "q8_0" : "q8_K", e, lim);
                        }
                    }
                }
            }
            free(a.wdata); free(x); free(y); free(xs); free(wp);
        }
    free(wd); free(off);
}

/* One table case: random weights, N odd, M = 1..9, padded rows. */
static void run_mm_case(const struct g4_kernels *kt, const struct mm_case *c, struct g4_pool *pool) {
    const int64_t K = c->K, N = 19;
    uint64_t rb64 = 0;
    if (!g4_row_bytes(c->type, (uint64_t)K, &rb64)) {
        CHECKF(0, "bad case %s K=%lld", g4_type_name(c->type), (long long)K);
        return;
    }
    const size_t rb = (size_t)rb64 + 8; /* padded rows: w_row_bytes > row size */
    uint8_t *w = malloc(rb * (size_t)N);
    fill_weights(c->type, w, N, K, rb);
    static const int64_t Ms[] = {1, 2, 5, 9, 17}; /* 17: three tile groups (6+6+5) */
    check_matmul(kt, c->type, w, rb, N, K, pool, Ms, G4_ARRAY_LEN(Ms), false);
    if (kt->type[c->type].pack_rows > 0) /* N = 19: two packed groups and 3 plain rows */
        check_matmul(kt, c->type, w, rb, N, K, pool, Ms, G4_ARRAY_LEN(Ms), true);
    free(w);
}

static void test_matmul_all_types(void) {
    const struct g4_kernels *ks[8];
    int nk = g4_kernels_list(ks, 8);
    CHECK(nk >= 1 && strcmp(ks[0]->name, "ref") == 0);
    struct g4_pool *pool = NULL;
    CHECK(g4_pool_init(&pool, 3, NULL) == G4_OK);
    for (int i = 0; i < nk; i++)
        for (size_t c = 0; c < G4_ARRAY_LEN(mm_cases); c++) run_mm_case(ks[i], &mm_cases[c], c % 2 ? pool : NULL);
    g4_pool_free(pool);
}

/* Real weights: the first 2-D tensor of every type in the Gemma 3 270M
 * GGUF (the first 21 rows, which covers an odd N), on every table. Real
 * block scales and quant statistics, not just random bytes. */
static void test_matmul_real_gguf(void) {
    const char *path = test_gemma3_gguf();
    if (!path) {
        fprintf(stderr, "test_matmul_real_gguf: model absent, nothing to check\n");
        return;
    }
    struct gguf_file g;
    g4_error err;
    if (gguf_open(&g, path, &err) != G4_OK) {
        CHECKF(0, "%s", err.message);
        return;
    }
    const struct g4_kernels *ks[8];
    const int nk = g4_kernels_list(ks, 8);
    struct g4_pool *pool = NULL;
    CHECK(g4_pool_init(&pool, 2, NULL) == G4_OK);
    bool seen[G4_TYPE_COUNT] = {0};
    int n_types = 0;
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const struct gguf_tensor_info *t = &g.tensors[i];
        if (t->n_dims != 2 || t->type >= G4_TYPE_COUNT || seen[t->type]) continue;
        seen[t->type] = true;
        n_types++;
        uint64_t rb;
        CHECK(g4_row_bytes(t->type, (uint64_t)t->ne[0], &rb));
        static const int64_t Ms[] = {1, 3};
        for (int k = 0; k < nk; k++)
            check_matmul(ks[k], t->type, t->data, (size_t)rb, G4_MIN(t->ne[1], (int64_t)21), t->ne[0], pool, Ms, 2, false);
        for (int k = 0; k < nk; k++) /* and load-time repacked, where the table has a layout */
            if (ks[k]->type[t->type].pack_rows > 0 && t->ne[1] >= 8)
                check_matmul(ks[k], t->type, t->data, (size_t)rb, G4_MIN(t->ne[1], (int64_t)21), t->ne[0], pool, Ms, 2,
                             true);
    }
    CHECK(n_types >= 2);
    g4_pool_free(pool);
    gguf_close(&g);
}

/* The optional `matmul` tile entry: the driver must use a tile that accepts
 * (the output then comes only from it) and fall back to vec_dot when the
 * tile declines, having written nothing. */
static int tile_calls;
static bool tile_decline(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1) {
    tile_calls++;
    return false;
}
static bool tile_fill_42(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1) {
    tile_calls++;
    for (int64_t m = 0; m < a->M; m++)
        for (int64_t n = n0; n < n1; n++) a->y[m * a->y_stride + n] = 42.0f;
    return true;
}

static void test_matmul_tile_hook(void) {
    struct g4_kernels k = *g4_kernels_get("ref");
    enum { N = 19, K = 64, M = 3, RB = 68 + 2 }; /* padded rows */
    _Alignas(4) uint8_t w[N * RB];
    fill_weights(G4_TYPE_Q8_0, w, N, K, RB);
    float x[M * K], y[M * N], y_ref[M * N];
    for (int i = 0; i < M * K; i++) x[i] = rndf(-1, 1);
    _Alignas(4) uint8_t scratch[M * 68];
    struct g4_matmul_args a = {.type = G4_TYPE_Q8_0, .w = w, .w_row_bytes = RB, .N = N, .K = K, .M = M,
                               .x = x, .x_stride = K, .y = y_ref, .y_stride = N, .wdata = scratch};
    CHECK(g4_matmul_check(&k, &a, sizeof(scratch), NULL) == G4_OK);
    g4_matmul(NULL, &k, &a);
    k.type[G4_TYPE_Q8_0].matmul = tile_decline;
    a.y = y;
    tile_calls = 0;
    for (int i = 0; i < M * N; i++) y[i] = NAN;
    g4_matmul(NULL, &k, &a);
    CHECK(tile_calls > 0);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) CHECK(y[m * N + n] == y_ref[m * N + n]);
    k.type[G4_TYPE_Q8_0].matmul = tile_fill_42;
    tile_calls = 0;
    g4_matmul(NULL, &k, &a);
    CHECK(tile_calls > 0);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) CHECK(y[m * N + n] == 42.0f);
}

static void test_matmul_check_rejects(void) {
    const struct g4_kernels *kt = g4_kernels();
    float x[64] = {0}, y[4];
    _Alignas(4) uint8_t w[256] = {0};
    struct g4_matmul_args a = {.type = G4_TYPE_Q4_0, .w = w, .w_row_bytes = 18, .N = 1, .K = 48, .M = 1,
                               .x = x, .x_stride = 64, .y = y, .y_stride = 4};
    g4_error err;
    CHECK(g4_matmul_check(kt, &a, 0, &err) == G4_ERR_INVALID_ARG); /* K % 32 */
    a.K = 32;
    CHECK(g4_matmul_check(kt, &a, 0, &err) == G4_ERR_INVALID_ARG); /* no scratch */
    float scratch[16];
    a.wdata = scratch;
    CHECK(g4_matmul_check(kt, &a, sizeof(scratch), &err) == G4_OK);
    a.w = w + 1; /* misaligned f16 scales */
    CHECK(g4_matmul_check(kt, &a, sizeof(scratch), &err) == G4_ERR_INVALID_ARG);
    a.w = w;
    a.w_row_bytes = 19;
    CHECK(g4_matmul_check(kt, &a, sizeof(scratch), &err) == G4_ERR_INVALID_ARG);
    a.w_row_bytes = 18;
    a.type = 99;
    CHECK(g4_matmul_check(kt, &a, 0, &err) == G4_ERR_UNSUPPORTED);
    a.type = G4_TYPE_Q4_K;
    a.K = 32;
    CHECK(g4_matmul_check(kt, &a, 1000, &err) != G4_OK); /* K % 256 */
}

/* Every ISA table the CPU supports is built and listed (so the tests below
 * run it); one it does not support is absent, and says so on stderr
 * ("skipped: no avx512") rather than passing silently. G4_KERNELS=name must
 * select that table (tests/scripts/cross_arm.sh and kernels_isa.sh run this
 * binary with it set). */
static void expect_table(const char *name, bool supported, const char *why) {
    const struct g4_kernels *k = g4_kernels_get(name);
    if (supported)
        CHECKF(k != NULL && strcmp(k->name, name) == 0, "table %s missing on a CPU that supports it", name);
    else {
        CHECKF(k == NULL, "table %s listed on a CPU without %s", name, why);
        fprintf(stderr, "test_kernels: %s table skipped: no %s on this CPU\n", name, why);
    }
}

static void test_dispatch(void) {
    const struct g4_kernels *best = g4_kernels();
    CHECK(best != NULL);
    CHECK(g4_kernels_get("ref") != NULL);
    CHECK(g4_kernels_get("nope") == NULL);
    const struct g4_cpu_features f = g4_cpu_features();
    (void)f;
#if defined(__x86_64__) || defined(__i386__)
    const bool avx2 = f.avx2 && f.fma && f.f16c, avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512vl;
    expect_table("avx2", avx2, "avx2");
    expect_table("avx512", avx512, "avx512");
    expect_table("avx512_vnni", avx512 && f.avx512vnni, "avx512_vnni");
    const struct g4_kernels *v = g4_kernels_get("avx512_vnni"), *a2 = g4_kernels_get("avx2");
    if (v && a2) /* repack_avx512vnni.c reads avx2's layouts and steps aside if their group size changes */
        for (uint32_t t = 0; t < G4_TYPE_COUNT; t++)
            if (t == G4_TYPE_Q8_0 || t == G4_TYPE_Q4_K || t == G4_TYPE_Q5_K || t == G4_TYPE_Q6_K)
                CHECKF(v->type[t].matmul_packed && v->type[t].matmul_packed != a2->type[t].matmul_packed,
                       "avx512_vnni has no VNNI packed matmul for %s (avx2 layout changed?)", g4_type_name(t));
#elif defined(__aarch64__)
    expect_table("neon", true, "neon");
    expect_table("neon_dotprod", f.neon_dotprod, "dotprod");
#endif
    const char *env = getenv("G4_KERNELS");
    if (env && g4_kernels_get(env)) CHECKF(strcmp(best->name, env) == 0, "G4_KERNELS=%s chose %s", env, best->name);
    if (!env || !*env) { /* the best table is the last listed (each extends the one before) */
        const struct g4_kernels *ks[8];
        const int nk = g4_kernels_list(ks, 8);
        CHECK(nk >= 1 && best == ks[nk - 1]);
    }
}

/* Each table's vec_dot for every type it has one for, called directly on
 * one row of 1..9, 13 and 40 blocks (the SIMD loops' main, pair and lone
 * block paths), weights at a 2-byte (F32: 4) offset from malloc's
 * alignment in a buffer of exactly the row's size, activations quantized
 * by the reference quantizer, result slot pre-filled with NaN. Compared
 * with the double oracle (dequantized weights . the activations the
 * kernel saw) at the matmul bound, and with the reference kernel. */
static void test_vec_dot_direct(void) {
    static const uint32_t types[] = {G4_TYPE_F32,  G4_TYPE_F16,    G4_TYPE_BF16, G4_TYPE_Q4_0, G4_TYPE_Q4_1,
                                     G4_TYPE_Q5_0, G4_TYPE_Q5_1,   G4_TYPE_Q8_0, G4_TYPE_IQ4_NL, G4_TYPE_Q4_K,
                                     G4_TYPE_Q5_K, G4_TYPE_Q6_K,   G4_TYPE_IQ4_XS, G4_TYPE_Q2_K, G4_TYPE_Q3_K};
    static const int64_t nblocks[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 40};
    const struct g4_kernels *ks[8];
    const int nk = g4_kernels_list(ks, 8);
    const struct g4_kernels *ref = ks[0];
    int n_checked = 0;
    for (size_t ti = 0; ti < G4_ARRAY_LEN(types); ti++) {
        const uint32_t type = types[ti];
        const struct g4_type_traits *tr = g4_type_traits(type);
        const uint32_t at = ref->type[type].vec_dot_type;
        const int64_t bs = at == G4_TYPE_F32 ? (tr->blck > 1 ? tr->blck : 16) : G4_MAX((int64_t)tr->blck, at == G4_TYPE_Q8_K ? 256 : 32);
        for (size_t bi = 0; bi < G4_ARRAY_LEN(nblocks); bi++) {
            const int64_t K = nblocks[bi] * bs + (at == G4_TYPE_F32 && bi % 2 ? 3 : 0); /* float rows: odd tails */
            uint64_t rb = 0, xrb = 0;
            CHECK(g4_row_bytes(type, (uint64_t)K, &rb));
            const size_t off = type == G4_TYPE_F32 ? 4 : 2;
            uint8_t *wbuf = malloc(rb + off), *w = wbuf + off;
            fill_weights(type, w, 1, K, rb);
            float *x = malloc(sizeof(float) * (size_t)K), *xs = malloc(sizeof(float) * (size_t)K);
            float *wd = malloc(sizeof(float) * (size_t)K), *mo = calloc((size_t)K, sizeof(float));
            fill_act(x, K, 1.0f);
            void *xq = x;
            if (at != G4_TYPE_F32) {
                CHECK(g4_row_bytes(at, (uint64_t)K, &xrb));
                xq = malloc(xrb);
                ref->quantize_row[at](x, xq, K);
            }
            act_seen(at, xq, x, K, xs);
            CHECK(g4_dequantize(type, w, wd, K));
            if (has_min(type)) min_offsets(type, w, K, mo);
            double exact = 0, S = 0;
            for (int64_t k = 0; k < K; k++) {
                exact += (double)wd[k] * xs[k];
                S += (fabs(wd[k]) + 2.0 * fabs(mo[k])) * fabs(xs[k]);
            }
            /* roundings: one per element (float) or block, + 8 for the block scale
               product, int -> float, and a 16-lane horizontal sum (4 levels) */
            const double tol = tol_dot((at == G4_TYPE_F32 ? (double)K : (double)(K / tr->blck)) + 8.0, S);
            float want = NAN;
            ref->type[type].vec_dot(K, &want, w, xq);
            CHECKF(fabs(want - exact) <= tol, "ref %s K=%lld: %.9g vs exact %.9g", tr->name, (long long)K, want, exact);
            for (int t = 1; t < nk; t++) {
                if (!ks[t]->type[type].vec_dot || ks[t]->type[type].vec_dot_type != at) continue;
                float got = NAN;
                ks[t]->type[type].vec_dot(K, &got, w, xq);
                n_checked++;
                CHECKF(fabs(got - exact) <= tol && fabs(got - want) <= 2 * tol,
                       "%s %s K=%lld: %.9g, exact %.9g, ref %.9g (tol %.3g)", ks[t]->name, tr->name, (long long)K, got,
                       exact, want, tol);
            }
            if (xq != x) free(xq);
            free(wbuf); free(x); free(xs); free(wd); free(mo);
        }
    }
    CHECK(nk == 1 || n_checked > 0);
}

/* ---- float32 ops ---- */

#define FOR_EACH_TABLE(kt)                                                  \
    const struct g4_kernels *tabs_[8];                                      \
    int ntabs_ = g4_kernels_list(tabs_, 8);                                 \
    for (int ti_ = 0; ti_ < ntabs_; ti_++)                                  \
        for (const struct g4_kernels *kt = tabs_[ti_]; kt; kt = NULL)

static const int64_t op_sizes[] = {1, 7, 8, 31, 256, 1000, 3840};

static void test_rmsnorm(void) {
    FOR_EACH_TABLE(kt) {
        for (size_t si = 0; si < G4_ARRAY_LEN(op_sizes); si++) {
            const int64_t n = op_sizes[si];
            float *x = malloc(4 * (size_t)n), *w = malloc(4 * (size_t)n), *y = malloc(4 * (size_t)n);
            fill_act(x, n, 3.0f);
            for (int64_t i = 0; i < n; i++) w[i] = rndf(-2, 2);
            for (int mode = 0; mode < 3; mode++) {
                for (int64_t i = 0; i < n; i++) y[i] = NAN;
                kt->rmsnorm(y, x, mode ? w : NULL, n, 1e-6f, (enum g4_norm_mode)mode);
                double ss = 0;
                for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
                const double r = 1.0 / sqrt(ss / n + 1e-6);
                int bad = 0;
                for (int64_t i = 0; i < n; i++) {
                    const double g = mode == 0 ? 1.0 : mode == 1 ? w[i] : 1.0 + (double)w[i];
                    const double ref = x[i] * r * g;
                    /* mean: n roundings (float accumulation in SIMD); r, x*r,
                       (1+w), *w: 4 more, relative to |ref| */
                    const double tol = (n / 2.0 + 8.0) * U * fabs(ref) * 2.0 + 1e-30;
                    if (!(fabs(y[i] - ref) <= tol) && bad++ < 3)
                        CHECKF(0, "%s rmsnorm mode %d n=%lld [%lld] %.9g vs %.9g", kt->name, mode, (long long)n, (long long)i, y[i], ref);
                }
            }
            /* in place */
            memcpy(y, x, 4 * (size_t)n);
            kt->rmsnorm(y, y, w, n, 1e-6f, G4_NORM_W);
            float *y2 = malloc(4 * (size_t)n);
            kt->rmsnorm(y2, x, w, n, 1e-6f, G4_NORM_W);
            CHECK(memcmp(y, y2, 4 * (size_t)n) == 0);
            free(y2); free(x); free(w); free(y);
        }
    }
}

/* x (rotated from x0) against the double formula; padding and identity
 * pairs must be untouched. */
static void check_rope(const char *what, const float *x, const float *x0, const float *inv, int64_t D, int64_t nh,
                       int64_t hs, int32_t pos) {
    const int64_t half = D / 2;
    int bad = 0;
    for (int64_t h = 0; h < nh; h++)
        for (int64_t i = 0; i < half; i++) {
            const float *a0 = x0 + h * hs;
            const float th = (float)pos * inv[i];
            const double c = cos((double)th), s = sin((double)th);
            const double r0 = a0[i] * c - a0[i + half] * s, r1 = a0[i + half] * c + a0[i] * s;
            /* c, s rounded to float, two products and a sum: 4u of the terms */
            const double tol = 8 * U * (fabs(a0[i]) + fabs(a0[i + half])) + 1e-30;
            if ((!(fabs(x[h * hs + i] - r0) <= tol) || !(fabs(x[h * hs + i + half] - r1) <= tol)) && bad++ < 3)
                CHECKF(0, "%s D=%lld pos=%d h=%lld i=%lld", what, (long long)D, pos, (long long)h, (long long)i);
        }
    for (int64_t h = 0; h < nh; h++) /* padding between heads untouched */
        CHECK(memcmp(x + h * hs + D, x0 + h * hs + D, 4 * (size_t)(hs - D)) == 0);
    if (D == 512) /* identity pairs bit-exact */
        CHECK(memcmp(x + 64, x0 + 64, 4 * 192) == 0 && memcmp(x + 320, x0 + 320, 4 * 192) == 0);
}

static void test_rope(void) {
    /* Gemma 4 full layer (proportional: 64 of 256 pairs rotated) and sliding layer */
    const int64_t dims[] = {512, 256, 64, 6};
    const int32_t poss[] = {0, 1, 17, 1023, 131071};
    FOR_EACH_TABLE(kt) {
        char what[64];
        for (size_t di = 0; di < G4_ARRAY_LEN(dims); di++) {
            const int64_t D = dims[di], half = D / 2, nh = 3, hs = D + 5;
            float *inv = malloc(4 * (size_t)half), *x = malloc(4 * (size_t)(nh * hs)), *x0 = malloc(4 * (size_t)(nh * hs));
            float *cs = malloc(8 * (size_t)half);
            g4_rope_inv_freq(inv, D, D == 512 ? 64 : half, D == 512 ? 1e6f : 1e4f, 1.0f);
            if (D == 512) CHECK(inv[63] > 0 && inv[64] == 0 && inv[255] == 0);
            for (size_t pi = 0; pi < G4_ARRAY_LEN(poss); pi++) {
                fill_act(x0, nh * hs, 2.0f);
                memcpy(x, x0, 4 * (size_t)(nh * hs));
                kt->rope(x, nh, D, hs, poss[pi], inv);
                snprintf(what, sizeof(what), "%s rope", kt->name);
                check_rope(what, x, x0, inv, D, nh, hs, poss[pi]);
                memcpy(x, x0, 4 * (size_t)(nh * hs));
                g4_rope_cos_sin(cs, poss[pi], inv, half);
                kt->rope_cs(x, nh, D, hs, cs);
                snprintf(what, sizeof(what), "%s rope_cs", kt->name);
                check_rope(what, x, x0, inv, D, nh, hs, poss[pi]);
            }
            free(inv); free(x); free(x0); free(cs);
        }
    }
}

static void test_rope_inv_freq(void) {
    float inv[256];
    g4_rope_inv_freq(inv, 256, 128, 10000.0f, 1.0f);
    CHECK(inv[0] == 1.0f);
    CHECK(fabs(inv[1] - pow(10000.0, -2.0 / 256)) <= 2e-7 * inv[1]);
    g4_rope_inv_freq(inv, 512, 64, 1e6f, 1.0f); /* exponent over the full 512 (spec 2.5) */
    CHECK(fabs(inv[10] - pow(1e6, -20.0 / 512)) <= 2e-7 * inv[10]);
    g4_rope_inv_freq(inv, 128, 64, 10000.0f, 8.0f); /* linear scaling */
    CHECK(inv[0] == 0.125f);
}

static void test_softmax_and_pointwise(void) {
    FOR_EACH_TABLE(kt) {
        for (size_t si = 0; si < G4_ARRAY_LEN(op_sizes); si++) {
            const int64_t n = op_sizes[si];
            float *x = malloc(4 * (size_t)n), *y = malloc(4 * (size_t)n), *b = malloc(4 * (size_t)n);
            fill_act(x, n, 8.0f);
            fill_act(b, n, 3.0f);
            if (n > 3) x[2] = -INFINITY; /* masked entry */
            memcpy(y, x, 4 * (size_t)n);
            kt->softmax(y, n);
            double mx = -INFINITY, sum = 0;
            for (int64_t i = 0; i < n; i++) mx = fmax(mx, x[i]);
            for (int64_t i = 0; i < n; i++) sum += exp((double)x[i] - mx);
            int bad = 0;
            for (int64_t i = 0; i < n; i++) {
                const double ref = exp((double)x[i] - mx) / sum;
                /* exp (a few ulp in SIMD), n-term sum, one division; SIMD exp
                   may flush results below FLT_MIN (1.2e-38) to zero. Plus the
                   float rounding of z = x - max (|z| U/2 absolute, so |z| U/2
                   relative after exp; counted twice): matters for z ~ -60 */
                const double z = x[i] == -INFINITY ? 0.0 : fabs((double)x[i] - mx);
                const double tol = (n + 32.0 + z) * U * ref + 1.2e-38;
                if (!(fabs(y[i] - ref) <= tol) && bad++ < 3) CHECKF(0, "%s softmax n=%lld [%lld] %.9g vs %.9g", kt->name, (long long)n, (long long)i, y[i], ref);
            }
            for (int64_t i = 0; i < n; i++) {
                const double xd = x[i] == -INFINITY ? 0 : x[i];
                const double gl = 0.5 * xd * (1 + tanh(0.7978845608028654 * (xd + 0.044715 * xd * xd * xd)));
                y[i] = NAN;
                kt->gelu_tanh(y + i, x[i] == -INFINITY ? &(float){0} : x + i, 1);
                /* tanh has absolute error ~u: 0.5|x|u; + rounding of the result */
                CHECKF(fabs(y[i] - gl) <= 8 * U * fabs(gl) + 2 * U * fabs(xd) + 1e-30, "%s gelu(%g)=%.9g vs %.9g", kt->name, xd, y[i], gl);
            }
            fill_act(x, n, 6.0f);
            kt->gelu_tanh(y, x, n);
            float *g = malloc(4 * (size_t)n);
            kt->geglu(g, x, b, n);
            for (int64_t i = 0; i < n; i++) CHECKF(fabs(g[i] - (double)y[i] * b[i]) <= 16 * U * fabs(g[i]) + 1e-30, "%s geglu", kt->name);
            kt->add(g, x, b, n);
            for (int64_t i = 0; i < n; i++) CHECK(g[i] == x[i] + b[i]); /* single rounding: exact match */
            kt->mul(g, x, b, n);
            for (int64_t i = 0; i < n; i++) CHECK(g[i] == x[i] * b[i]);
            kt->scale(g, x, 0.37f, n);
            for (int64_t i = 0; i < n; i++) CHECK(g[i] == x[i] * 0.37f);
            kt->softcap(g, x, 5.0f, n);
            for (int64_t i = 0; i < n; i++) {
                const double ref = 5.0 * tanh(x[i] / 5.0);
                CHECKF(fabs(g[i] - ref) <= 8 * U * (fabs(ref) + 5.0 * U) + 1e-30 + 4 * U * fabs(ref), "%s softcap", kt->name);
            }
            free(x); free(y); free(b); free(g);
        }
        float z[3] = {-INFINITY, -INFINITY, -INFINITY};
        kt->softmax(z, 3);
        CHECK(z[0] == 0 && z[1] == 0 && z[2] == 0);
    }
}

/* Dense sweep of gelu_tanh and softcap (cap 30, the Gemma logit cap) over
 * -30..30 in 1/1024 steps plus tiny magnitudes, where SIMD tanh/exp
 * approximations (polynomial branch switch at |x| = 0.625, exp overflow)
 * are most likely to slip. Same ulp-based bounds as above. */
static void test_gelu_softcap_sweep(void) {
    enum { NG = 61440 + 64 };
    float *x = malloc(sizeof(float) * NG), *y = malloc(sizeof(float) * NG);
    for (int i = 0; i < 61440; i++) x[i] = -30.0f + (float)i / 1024.0f;
    for (int i = 0; i < 64; i++) x[61440 + i] = (i % 2 ? -1.0f : 1.0f) * powf(10.0f, -30.0f + 0.45f * (float)i);
    FOR_EACH_TABLE(kt) {
        kt->gelu_tanh(y, x, NG);
        int bad = 0;
        for (int i = 0; i < NG; i++) {
            const double xd = x[i];
            const double ref = 0.5 * xd * (1 + tanh(0.7978845608028654 * (xd + 0.044715 * xd * xd * xd)));
            if (!(fabs(y[i] - ref) <= 8 * U * fabs(ref) + 2 * U * fabs(xd) + 1e-37) && bad++ < 3)
                CHECKF(0, "%s gelu(%.9g) = %.9g, ref %.9g", kt->name, x[i], y[i], ref);
        }
        kt->softcap(y, x, 30.0f, NG);
        bad = 0;
        for (int i = 0; i < NG; i++) {
            const double ref = 30.0 * tanh((double)x[i] / 30.0);
            if (!(fabs(y[i] - ref) <= 12 * U * fabs(ref) + 1e-37) && bad++ < 3)
                CHECKF(0, "%s softcap(%.9g) = %.9g, ref %.9g", kt->name, x[i], y[i], ref);
        }
        float big[3] = {1e4f, -1e4f, 0.0f};
        kt->softcap(big, big, 30.0f, 3);
        CHECK(big[0] == 30.0f && big[1] == -30.0f && big[2] == 0.0f);
    }
    free(x);
    free(y);
}

/* ---- attention ---- */

static float kv_load(uint32_t t, const void *p, int64_t i) {
    if (t == G4_TYPE_F16) return g4_f16_to_f32(((const uint16_t *)p)[i]);
    if (t == G4_TYPE_BF16) return g4_bf16_to_f32(((const uint16_t *)p)[i]);
    return ((const float *)p)[i];
}
static void kv_store(uint32_t t, void *p, int64_t i, float v) {
    if (t == G4_TYPE_F16) ((uint16_t *)p)[i] = g4_f32_to_f16(v);
    else if (t == G4_TYPE_BF16) ((uint16_t *)p)[i] = g4_f32_to_bf16(v);
    else ((float *)p)[i] = v;
}

static bool even_only(void *ctx, int32_t q, int32_t k) { return (k % 2 == 0) && k <= q + *(int *)ctx; }

struct attn_case {
    const char *name;
    uint32_t kv_type;
    int64_t D, n_q, n_kv;
    int32_t q_pos, window;
    bool causal, ring, use_mask;
    float scale, softcap;
};

static void run_attn_case(const struct g4_kernels *kt, const struct attn_case *c) {
    const int64_t D = c->D, nkvh = 2, stride = nkvh * D, qs = D + 3, os = D + 1;
    const size_t es = c->kv_type == G4_TYPE_F32 ? 4 : 2;
    void *k = malloc(es * (size_t)(c->n_kv * stride)), *v = malloc(es * (size_t)(c->n_kv * stride));
    float *q = malloc(4 * (size_t)(c->n_q * qs)), *o = malloc(4 * (size_t)(c->n_q * os));
    int32_t *pos = malloc(4 * (size_t)c->n_kv);
    for (int64_t i = 0; i < c->n_kv * stride; i++) {
        kv_store(c->kv_type, k, i, rndf(-1, 1));
        kv_store(c->kv_type, v, i, rndf(-1, 1));
    }
    fill_act(q, c->n_q * qs, 1.0f);
    for (int64_t i = 0; i < c->n_kv; i++) /* ring: slot i holds the latest position = i mod n_kv */
        pos[i] = c->ring ? (int32_t)(c->q_pos - ((c->q_pos - i) % c->n_kv + c->n_kv) % c->n_kv) : (int32_t)i;
    if (c->ring) pos[1] = -1; /* an empty slot */
    int slack = 1;
    for (int64_t i = 0; i < c->n_q * os; i++) o[i] = NAN;
    const int64_t kvh = 1; /* use the second KV head: exercises the head offset */
    struct g4_attn_args a = {
        .head_dim = D, .n_q = c->n_q, .q = q, .q_head_stride = qs, .out = o, .out_head_stride = os,
        .kv_type = c->kv_type, .k = (const char *)k + es * (size_t)(kvh * D), .v = (const char *)v + es * (size_t)(kvh * D),
        .kv_stride = stride, .n_kv = c->n_kv, .kv_pos = c->ring ? pos : NULL, .q_pos = c->q_pos, .causal = c->causal,
        .window = c->window, .mask = c->use_mask ? even_only : NULL, .mask_ctx = &slack, .scale = c->scale, .softcap = c->softcap};
    kt->attention(&a);
    double *p = malloc(sizeof(double) * (size_t)c->n_kv);
    int bad = 0;
    for (int64_t h = 0; h < c->n_q; h++) {
        const float *qh = q + h * qs;
        double mx = -INFINITY, ds_max = 0;
        int n_vis = 0;
        for (int64_t i = 0; i < c->n_kv; i++) {
            const int32_t kp = pos[i];
            bool vis = kp >= 0;
            if (vis && c->use_mask) vis = even_only(&slack, c->q_pos, kp);
            else if (vis) vis = (!c->causal || kp <= c->q_pos) && (c->window <= 0 || kp > c->q_pos - c->window);
            p[i] = -INFINITY;
            if (!vis) continue;
            n_vis++;
            double s = 0, sa = 0;
            for (int64_t d = 0; d < D; d++) {
                const double kd = kv_load(c->kv_type, k, i * stride + kvh * D + d);
                s += qh[d] * kd;
                sa += fabs(qh[d] * kd);
            }
            s *= c->scale;
            /* float dot: D roundings of sum|q k|, the scale, the softcap */
            double ds = (D + 4) * U * sa * c->scale + 4 * U * fabs(s);
            if (c->softcap > 0) s = c->softcap * tanh(s / c->softcap);
            ds_max = fmax(ds_max, ds);
            p[i] = s;
            mx = fmax(mx, s);
        }
        double sum = 0;
        for (int64_t i = 0; i < c->n_kv; i++) sum += p[i] == -INFINITY ? 0 : exp(p[i] - mx);
        for (int64_t d = 0; d < D; d++) {
            double ref = 0, mag = 0;
            for (int64_t i = 0; i < c->n_kv; i++) {
                if (p[i] == -INFINITY) continue;
                const double w = exp(p[i] - mx) / sum, vd = kv_load(c->kv_type, v, i * stride + kvh * D + d);
                ref += w * vd;
                mag += w * fabs(vd);
            }
            /* a score error ds moves each weight by a relative ~2*ds; the
               weights and the weighted sum add (n_vis + 16) roundings */
            const double tol = 2.0 * (2.0 * ds_max + (n_vis + 16.0) * U) * mag + 1e-30;
            const float got = o[h * os + d];
            if (!(fabs(got - ref) <= tol) && bad++ < 3)
                CHECKF(0, "%s attn %s h=%lld d=%lld: %.9g vs %.9g (tol %.3g)", kt->name, c->name,
                   (long long)h, (long long)d, got, ref, tol);
            if (n_vis == 0) CHECK(got == 0.0f);
        }
        CHECK(isnan(o[h * os + D])); /* padding untouched */
    }
    free(p); free(k); free(v); free(q); free(o); free(pos);
}

static void test_attention(void) {
    const struct attn_case cases[] = {
        {"causal-f32", G4_TYPE_F32, 64, 4, 37, 36, 0, true, false, false, 0.125f, 0},
        {"causal-mid-f32", G4_TYPE_F32, 256, 2, 40, 20, 0, true, false, false, 1.0f, 0},
        {"ring-window-f16", G4_TYPE_F16, 128, 3, 8, 29, 8, true, true, false, 1.0f, 0},
        {"window-bf16", G4_TYPE_BF16, 512, 16, 50, 49, 10, true, false, false, 1.0f, 0},
        {"mask-softcap-bf16", G4_TYPE_BF16, 32, 70, 23, 11, 0, true, false, true, 0.5f, 50.0f},
        {"all-masked", G4_TYPE_F32, 16, 2, 5, -1, 0, true, false, false, 1.0f, 0},
        {"long-window-f16", G4_TYPE_F16, 256, 8, 1500, 1499, 1024, true, false, false, 1.0f, 0},
        {"odd-dim-f32", G4_TYPE_F32, 13, 5, 9, 8, 0, true, false, false, 0.3f, 0},
    };
    FOR_EACH_TABLE(kt)
        for (size_t i = 0; i < G4_ARRAY_LEN(cases); i++) run_attn_case(kt, &cases[i]);
}

/* f32 -> f16 / bf16 rows: bit-exact against core/fp16.h (the casts numpy and
 * torch do), over random values, halfway cases and specials. */
static void test_cvt_row(void) {
    enum { N = 1003 };
    float *x = malloc(sizeof(float) * N);
    uint16_t *got = malloc(2 * N);
    float *f = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++) {
        uint32_t u = (uint32_t)rnd64();
        if (i % 3 == 0) u &= 0x8fffffffu; /* small magnitudes: f16 subnormals, underflow */
        if (i % 7 == 0) u = (u & 0xffff0000u) | 0x8000u; /* bf16 halfway */
        if (i % 11 == 0) u = (u & 0xffffe000u) | 0x1000u; /* f16 halfway */
        memcpy(&x[i], &u, 4);
        if (isnan(x[i])) x[i] = NAN; /* canonical NaN: payloads may differ */
    }
    const float specials[] = {0.0f, -0.0f, INFINITY, -INFINITY, 65504.0f, 65520.0f, -65519.0f, 5.96e-8f, 1e-45f, 3.4e38f};
    for (size_t i = 0; i < G4_ARRAY_LEN(specials); i++) x[i * 13] = specials[i];
    FOR_EACH_TABLE(kt) {
        kt->cvt_row(got, G4_TYPE_F16, x, N);
        int bad = 0;
        for (int i = 0; i < N; i++) bad += got[i] != g4_f32_to_f16(x[i]);
        CHECKF(bad == 0, "%s cvt f16: %d wrong", kt->name, bad);
        kt->cvt_row(got, G4_TYPE_BF16, x, N);
        bad = 0;
        for (int i = 0; i < N; i++) bad += got[i] != g4_f32_to_bf16(x[i]);
        CHECKF(bad == 0, "%s cvt bf16: %d wrong", kt->name, bad);
        kt->cvt_row(f, G4_TYPE_F32, x, N);
        CHECK(memcmp(f, x, sizeof(float) * N) == 0);
    }
    free(x); free(got); free(f);
}

/* kv_pos0: attending to slots [start, n) of a contiguous cache through an
 * offset pointer equals attending to all n slots with the window mask. */
static void test_attention_pos0(void) {
    enum { D = 32, NKV = 40, W = 8 };
    float k[NKV * D], v[NKV * D], q[2 * D], o1[2 * D], o2[2 * D];
    for (int i = 0; i < NKV * D; i++) {
        k[i] = rndf(-1, 1);
        v[i] = rndf(-1, 1);
    }
    for (int i = 0; i < 2 * D; i++) q[i] = rndf(-1, 1);
    FOR_EACH_TABLE(kt) {
        struct g4_attn_args a = {.head_dim = D, .n_q = 2, .q = q, .q_head_stride = D, .out = o1, .out_head_stride = D,
                                 .kv_type = G4_TYPE_F32, .k = k, .v = v, .kv_stride = D, .n_kv = NKV,
                                 .q_pos = NKV - 1, .causal = true, .window = W, .scale = 0.2f};
        kt->attention(&a);
        const int start = NKV - W;
        a.k = k + start * D;
        a.v = v + start * D;
        a.n_kv = W;
        a.kv_pos0 = start;
        a.out = o2;
        kt->attention(&a);
        CHECK(memcmp(o1, o2, sizeof(o1)) == 0); /* same slots, same order: bit-identical */
    }
}

/* Every table's activation quantizers must produce the reference's bytes
 * (the matmul tolerances assume the same quantized activations): random
 * rows, rows with exact rounding ties (x * id = k + 0.5 for both roundf and
 * lrintf), a zero block and a repeated maximum of both signs. */
static void test_quantize_bitexact(void) {
    const struct g4_kernels *ks[8];
    const int nk = g4_kernels_list(ks, 8);
    enum { K = 1024 };
    float x[K];
    for (int variant = 0; variant < 4; variant++) {
        uint32_t s = 12345u + (uint32_t)variant;
        for (int i = 0; i < K; i++) {
            s = s * 1664525u + 1013904223u;
            x[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * 8.0f;
        }
        if (variant == 1) /* ties: amax 127 gives id 1 (q8_0); max -127 gives iscale 1 (q8_K) */
            for (int i = 0; i < K; i++) x[i] = (i % 32 == 0) ? -127.0f : (float)((i * 7) % 101 - 50) + 0.5f;
        if (variant == 2) memset(x + 256, 0, 256 * sizeof(float)); /* a zero block */
        if (variant == 3)
            for (int i = 0; i < K; i += 64) x[i] = (i / 64) % 2 ? 9.0f : -9.0f; /* equal |max|, both signs */
        for (int t = 0; t < 2; t++) {
            const uint32_t at = t ? G4_TYPE_Q8_K : G4_TYPE_Q8_0;
            uint64_t rb = 0;
            CHECK(g4_row_bytes(at, K, &rb));
            uint8_t *ref = calloc(1, rb), *got = malloc(rb);
            ks[0]->quantize_row[at](x, ref, K);
            for (int k = 1; k < nk; k++) {
                memset(got, 0xA5, rb);
                ks[k]->quantize_row[at](x, got, K);
                CHECKF(memcmp(ref, got, rb) == 0, "%s quantize %s variant %d differs from ref", ks[k]->name,
                       g4_type_name(at), variant);
            }
            free(ref);
            free(got);
        }
    }
}

/* Repack API edge cases: no layout (ref table, other types), N below a
 * group, K not a multiple of the block; sizes are whole groups only. */
static void test_repack_api(void) {
    const struct g4_kernels *ref = g4_kernels_get("ref");
    CHECK(g4_matmul_repack_size(ref, G4_TYPE_Q4_0, 64, 256) == 0);
    uint8_t w[18 * 8 * 2] = {0}, dst[18 * 8 * 2];
    CHECK(!g4_matmul_repack(ref, G4_TYPE_Q4_0, w, 36, 8, 64, dst));
    const struct g4_kernels *ks[8];
    const int nk = g4_kernels_list(ks, 8);
    for (int k = 0; k < nk; k++) {
        const struct g4_type_kernels *tk = &ks[k]->type[G4_TYPE_Q4_0];
        if (tk->pack_rows <= 0) continue;
        CHECK(g4_matmul_repack_size(ks[k], G4_TYPE_Q4_0, tk->pack_rows - 1, 64) == 0);
        CHECK(g4_matmul_repack_size(ks[k], G4_TYPE_Q4_0, 8, 48) == 0);
        CHECK(g4_matmul_repack_size(ks[k], G4_TYPE_Q4_0, 8 * 3 + 5, 64) == 3 * 2 * tk->pack_group_bytes_per_block);
        CHECK(g4_matmul_repack_size(ks[k], G4_TYPE_Q4_0, -1, 64) == 0);
    }
}

static void test_embed_row(void) {
    uint16_t tab[3][8];
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < 8; i++) tab[r][i] = g4_f32_to_bf16((float)(r * 10 + i));
    float out[8];
    CHECK(g4_embed_row(G4_TYPE_BF16, tab, sizeof(tab[0]), 2, 8, 0.5f, out));
    CHECK(out[0] == 10.0f && out[7] == 13.5f);
    CHECK(!g4_embed_row(G4_TYPE_Q4_0, tab, 18, 0, 8, 1.0f, out)); /* 8 % 32 */
}

int main(void) {
    RUN(test_dispatch);
    RUN(test_matmul_check_rejects);
    RUN(test_vec_dot_direct);
    RUN(test_matmul_all_types);
    RUN(test_matmul_real_gguf);
    RUN(test_matmul_tile_hook);
    RUN(test_rmsnorm);
    RUN(test_rope);
    RUN(test_rope_inv_freq);
    RUN(test_softmax_and_pointwise);
    RUN(test_gelu_softcap_sweep);
    RUN(test_attention);
    RUN(test_attention_pos0);
    RUN(test_cvt_row);
    RUN(test_embed_row);
    RUN(test_quantize_bitexact);
    RUN(test_repack_api);
    return test_done();
}
