/* kernels.c — the kernel tables, their one-time selection, the matmul driver
 * (quantize activations once per op, then chunks of weight rows on a pool),
 * and helpers (embedding rows, rope frequencies).
 * The only mutable globals are the tables, written once under pthread_once
 * and read-only afterwards (house rule: dispatch table set at start-up). */
#include "kernels/kernels_impl.h"

#include "core/cpu.h"
#include "core/log.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ==== Tables and dispatch ==== */

void g4_kernels_fill_ref(struct g4_kernels *k) {
    memset(k, 0, sizeof(*k));
    k->name = "ref";
    /* float weights: dot against float32 activations */
    k->type[G4_TYPE_F32] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_F32, .vec_dot = g4_vec_dot_f32_ref};
    k->type[G4_TYPE_F16] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_F32, .vec_dot = g4_vec_dot_f16_ref};
    k->type[G4_TYPE_BF16] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_F32, .vec_dot = g4_vec_dot_bf16_ref};
    /* 32-element blocks: against Q8_0 (ggml uses Q8_1 for Q4_1/Q5_1; we sum
       the Q8_0 quants instead, which gives the same value without rounding s) */
    k->type[G4_TYPE_Q4_0] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_Q8_0, .vec_dot = g4_vec_dot_q4_0_ref};
    k->type[G4_TYPE_Q4_1] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_Q8_0, .vec_dot = g4_vec_dot_q4_1_ref};
    k->type[G4_TYPE_Q5_0] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_Q8_0, .vec_dot = g4_vec_dot_q5_0_ref};
    k->type[G4_TYPE_Q5_1] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_Q8_0, .vec_dot = g4_vec_dot_q5_1_ref};
    k->type[G4_TYPE_Q8_0] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_Q8_0, .vec_dot = g4_vec_dot_q8_0_ref};
    k->type[G4_TYPE_IQ4_NL] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_Q8_0, .vec_dot = g4_vec_dot_iq4_nl_ref};
    /* 256-element super-blocks: against Q8_K */
    k->type[G4_TYPE_Q4_K] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_Q8_K, .vec_dot = g4_vec_dot_q4_K_ref};
    k->type[G4_TYPE_Q5_K] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_Q8_K, .vec_dot = g4_vec_dot_q5_K_ref};
    k->type[G4_TYPE_Q6_K] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_Q8_K, .vec_dot = g4_vec_dot_q6_K_ref};
    k->type[G4_TYPE_IQ4_XS] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_Q8_K, .vec_dot = g4_vec_dot_iq4_xs_ref};
    k->type[G4_TYPE_Q2_K] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_Q8_K, .vec_dot = g4_vec_dot_q2_K_ref};
    k->type[G4_TYPE_Q3_K] = (struct g4_type_kernels){.vec_dot_type = G4_TYPE_Q8_K, .vec_dot = g4_vec_dot_q3_K_ref};
    /* every other type (TQ1_0, TQ2_0, MXFP4, ...) has vec_dot NULL: the driver
       dequantizes blocks through g4_dequantize and dots in float32 */
    k->quantize_row[G4_TYPE_Q8_0] = g4_quantize_row_q8_0_ref;
    k->quantize_row[G4_TYPE_Q8_K] = g4_quantize_row_q8_K_ref;

    k->dot_f32 = g4_dot_f32_ref;
    k->rmsnorm = g4_rmsnorm_ref;
    k->rope = g4_rope_ref;
    k->rope_cs = g4_rope_cs_ref;
    k->softmax = g4_softmax_ref;
    k->gelu_tanh = g4_gelu_tanh_ref;
    k->geglu = g4_geglu_ref;
    k->add = g4_add_ref;
    k->mul = g4_mul_ref;
    k->scale = g4_scale_ref;
    k->softcap = g4_softcap_ref;
    k->attention = g4_attention_ref;
    k->cvt_row = g4_cvt_row_ref;
}

static struct {
    struct g4_kernels ref;
#if defined(__x86_64__) || defined(__i386__)
    struct g4_kernels avx2, avx512, avx512_vnni;
#endif
#if defined(__aarch64__)
    struct g4_kernels neon, neon_dotprod;
#endif
    const struct g4_kernels *list[8];
    int n_list;
    const struct g4_kernels *best;
} tables;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void) {
    g4_kernels_fill_ref(&tables.ref);
    tables.list[tables.n_list++] = &tables.ref;
    tables.best = &tables.ref;
    const struct g4_cpu_features f = g4_cpu_features();
    (void)f;
#if defined(__x86_64__) || defined(__i386__)
    if (f.avx2 && f.fma && f.f16c) { /* Haswell / Zen 1 and later */
        tables.avx2 = tables.ref;
        tables.avx2.name = "avx2";
        g4_kernels_patch_avx2(&tables.avx2);
        tables.list[tables.n_list++] = &tables.avx2;
        tables.best = &tables.avx2;
        if (f.avx512f && f.avx512bw && f.avx512vl) { /* Skylake-X, Ice Lake, Zen 4 and later */
            tables.avx512 = tables.avx2;
            tables.avx512.name = "avx512";
            g4_kernels_patch_avx512(&tables.avx512);
            tables.list[tables.n_list++] = &tables.avx512;
            tables.best = &tables.avx512;
            if (f.avx512vnni) { /* Cascade Lake, Ice Lake, Zen 4 and later */
                tables.avx512_vnni = tables.avx512;
                tables.avx512_vnni.name = "avx512_vnni";
                g4_kernels_patch_avx512_vnni(&tables.avx512_vnni);
                tables.list[tables.n_list++] = &tables.avx512_vnni;
                tables.best = &tables.avx512_vnni;
            }
        }
    }
#endif
#if defined(__aarch64__) /* Advanced SIMD is part of the aarch64 base ISA */
    tables.neon = tables.ref;
    tables.neon.name = "neon";
    g4_kernels_patch_neon(&tables.neon);
    tables.list[tables.n_list++] = &tables.neon;
    tables.best = &tables.neon;
    if (f.neon_dotprod) { /* ARMv8.2 dotprod: Cortex-A55/A76, Neoverse N1, Apple M1 and later */
        tables.neon_dotprod = tables.neon;
        tables.neon_dotprod.name = "neon_dotprod";
        g4_kernels_patch_neon_dotprod(&tables.neon_dotprod);
        tables.list[tables.n_list++] = &tables.neon_dotprod;
        tables.best = &tables.neon_dotprod;
    }
#endif
    const char *env = getenv("G4_KERNELS");
    if (env && *env) {
        const struct g4_kernels *forced = NULL;
        for (int i = 0; i < tables.n_list; i++)
            if (strcmp(tables.list[i]->name, env) == 0) forced = tables.list[i];
        if (forced)
            tables.best = forced;
        else
            G4_LOGW("G4_KERNELS=%s: not available on this CPU, using %s", env, tables.best->name);
    }
}

const struct g4_kernels *g4_kernels(void) {
    pthread_once(&tables_once, tables_init);
    return tables.best;
}

const struct g4_kernels *g4_kernels_get(const char *name) {
    pthread_once(&tables_once, tables_init);
    for (int i = 0; i < tables.n_list; i++)
        if (strcmp(tables.list[i]->name, name) == 0) return tables.list[i];
    return NULL;
}

int g4_kernels_list(const struct g4_kernels **out, int cap) {
    pthread_once(&tables_once, tables_init);
    int n = 0;
    for (int i = 0; i < tables.n_list && n < cap; i++) out[n++] = tables.list[i];
    return n;
}

/* ==== Matmul driver ==== */

/* The activation type actually used for this weight type and mode. */
static uint32_t act_type(const struct g4_kernels *kt, uint32_t type, bool f32_act) {
    const struct g4_type_kernels *tk = &kt->type[type];
    if (f32_act || !tk->vec_dot) return G4_TYPE_F32;
    return tk->vec_dot_type;
}

/* Bytes of one quantized activation row (0 for float32). */
static size_t act_row_bytes(uint32_t at, int64_t K) {
    uint64_t b = 0;
    if (at == G4_TYPE_F32 || !g4_row_bytes(at, (uint64_t)K, &b)) return 0;
    return (size_t)b;
}

size_t g4_matmul_wsize(const struct g4_kernels *kt, uint32_t type, int64_t M, int64_t K, bool f32_act) {
    if (type >= G4_TYPE_COUNT || M <= 0 || K <= 0) return 0;
    uint64_t total;
    if (!g4_mul_ok((uint64_t)M, act_row_bytes(act_type(kt, type, f32_act), K), &total)) return SIZE_MAX;
    return (size_t)total;
}

g4_status g4_matmul_check(const struct g4_kernels *kt, const struct g4_matmul_args *a, size_t wsize, g4_error *err) {
    const struct g4_type_traits *tr = g4_type_traits(a->type);
    if (!tr) return g4_fail(err, G4_ERR_UNSUPPORTED, "matmul: unknown weight type %u", a->type);
    const struct g4_type_kernels *tk = &kt->type[a->type];
    if (!tk->vec_dot && !tr->supported)
        return g4_fail(err, G4_ERR_UNSUPPORTED, "matmul: weight type %s is not supported", tr->name);
    if (a->M <= 0 || a->N <= 0 || a->K <= 0)
        return g4_fail(err, G4_ERR_INVALID_ARG, "matmul: bad shape M=%lld N=%lld K=%lld", (long long)a->M,
                       (long long)a->N, (long long)a->K);
    uint64_t rb;
    if (!g4_row_bytes(a->type, (uint64_t)a->K, &rb))
        return g4_fail(err, G4_ERR_INVALID_ARG, "matmul: K=%lld is not a multiple of the %s block (%d)",
                       (long long)a->K, tr->name, tr->blck);
    const uint32_t at = act_type(kt, a->type, a->f32_act);
    const struct g4_type_traits *atr = g4_type_traits(at);
    if (a->K % atr->blck)
        return g4_fail(err, G4_ERR_INVALID_ARG, "matmul: K=%lld is not a multiple of the %s activation block (%d)",
                       (long long)a->K, atr->name, atr->blck);
    if (at != G4_TYPE_F32 && !kt->quantize_row[at])
        return g4_fail(err, G4_ERR_INTERNAL, "matmul: kernels %s cannot quantize to %s", kt->name, atr->name);
    if (a->w_row_bytes < rb || a->x_stride < a->K || a->y_stride < a->N || !a->w || !a->x || !a->y)
        return g4_fail(err, G4_ERR_INVALID_ARG, "matmul: bad strides or pointers");
    /* kernels read block fields (f16 scales, floats) in place */
    const size_t align = a->type == G4_TYPE_F32 ? 4 : (tr->size % 2 == 0 ? 2 : 1);
    if ((uintptr_t)a->w % align || a->w_row_bytes % align)
        return g4_fail(err, G4_ERR_INVALID_ARG, "matmul: %s weights must be %zu-byte aligned", tr->name, align);
    if ((uintptr_t)a->wdata % 4)
        return g4_fail(err, G4_ERR_INVALID_ARG, "matmul: scratch must be 4-byte aligned");
    size_t need = g4_matmul_wsize(kt, a->type, a->M, a->K, a->f32_act);
    if (need > 0 && (wsize < need || !a->wdata))
        return g4_fail(err, G4_ERR_INVALID_ARG, "matmul: scratch of %zu bytes, need %zu", wsize, need);
    return G4_OK;
}

void g4_matmul_quantize(const struct g4_kernels *kt, const struct g4_matmul_args *a, int ith, int nth) {
    const uint32_t at = act_type(kt, a->type, a->f32_act);
    if (at == G4_TYPE_F32) return;
    const size_t rb = act_row_bytes(at, a->K);
    for (int64_t m = ith; m < a->M; m += nth)
        kt->quantize_row[at](a->x + m * a->x_stride, (char *)a->wdata + (size_t)m * rb, a->K);
}

enum { DQ_CHUNK = 256, DQ_MTILE = 8, MM_NBLOCK = 16, MM_MBLOCK = 8 };

/* Weights dequantized 256 elements at a time into a stack buffer, each chunk
 * dotted with up to DQ_MTILE activation rows (float32). */
static void rows_dequant(const struct g4_kernels *kt, const struct g4_matmul_args *a, int64_t n0, int64_t n1) {
    const struct g4_type_traits *tr = g4_type_traits(a->type);
    float tmp[DQ_CHUNK];
    for (int64_t n = n0; n < n1; n++) {
        const char *wrow = (const char *)a->w + (size_t)n * a->w_row_bytes;
        for (int64_t m0 = 0; m0 < a->M; m0 += DQ_MTILE) {
            const int64_t mt = G4_MIN((int64_t)DQ_MTILE, a->M - m0);
            float acc[DQ_MTILE] = {0};
            for (int64_t k0 = 0; k0 < a->K; k0 += DQ_CHUNK) {
                const int64_t kn = G4_MIN((int64_t)DQ_CHUNK, a->K - k0);
                g4_dequantize(a->type, wrow + (size_t)(k0 / tr->blck) * (size_t)tr->size, tmp, kn);
                for (int64_t m = 0; m < mt; m++) acc[m] += kt->dot_f32(kn, tmp, a->x + (m0 + m) * a->x_stride + k0);
            }
            for (int64_t m = 0; m < mt; m++) a->y[(m0 + m) * a->y_stride + n] = acc[m];
        }
    }
}

static void rows_plain(const struct g4_kernels *kt, const struct g4_matmul_args *a, int64_t n0, int64_t n1) {
    if (n1 <= n0) return;
    const struct g4_type_kernels *tk = &kt->type[a->type];
    const uint32_t at = act_type(kt, a->type, a->f32_act);
    if (at == G4_TYPE_F32 && !(tk->vec_dot && tk->vec_dot_type == G4_TYPE_F32)) {
        rows_dequant(kt, a, n0, n1);
        return;
    }
    const void *xq = at == G4_TYPE_F32 ? (const void *)a->x : a->wdata;
    const size_t xrb = at == G4_TYPE_F32 ? (size_t)a->x_stride * sizeof(float) : act_row_bytes(at, a->K);
    if (tk->matmul && tk->matmul(a, xq, xrb, n0, n1)) return;
    /* Cache blocking: 16 weight rows (stay in L2) x 8 activation rows (stay
       in L1). Measured with the AVX2 dots at N=1024, K=4096, M=16: without
       it the time per activation row was 1.8-2.6x the M=1 time (the rows no
       longer fit L1); with it 1.0-1.1x (blocks 32x4 and 32x2 did worse). */
    for (int64_t nb = n0; nb < n1; nb += MM_NBLOCK) {
        const int64_t ne = G4_MIN(nb + MM_NBLOCK, n1);
        for (int64_t m0 = 0; m0 < a->M; m0 += MM_MBLOCK) {
            const int64_t me = G4_MIN(m0 + MM_MBLOCK, a->M);
            for (int64_t n = nb; n < ne; n++) {
                const void *wrow = (const char *)a->w + (size_t)n * a->w_row_bytes;
                for (int64_t m = m0; m < me; m++)
                    tk->vec_dot(a->K, &a->y[m * a->y_stride + n], wrow, (const char *)xq + (size_t)m * xrb);
            }
        }
    }
}

void g4_matmul_rows(const struct g4_kernels *kt, const struct g4_matmul_args *a, int64_t n0, int64_t n1) {
    const struct g4_type_kernels *tk = &kt->type[a->type];
    if (a->w_packed && tk->pack_rows > 0 && tk->matmul_packed && !a->f32_act) {
        /* whole groups inside [n0, n1) from the packed copy, the rest plain */
        const int64_t pr = tk->pack_rows, full = a->N / pr * pr;
        const int64_t g0 = G4_MIN((n0 + pr - 1) / pr * pr, full), g1 = G4_MIN(n1 / pr * pr, full);
        if (g1 > g0) {
            rows_plain(kt, a, n0, g0);
            tk->matmul_packed(a, a->wdata, act_row_bytes(tk->vec_dot_type, a->K), g0, g1);
            rows_plain(kt, a, g1, n1);
            return;
        }
    }
    rows_plain(kt, a, n0, n1);
}

size_t g4_matmul_repack_size(const struct g4_kernels *kt, uint32_t type, int64_t N, int64_t K) {
    if (type >= G4_TYPE_COUNT || N <= 0 || K <= 0) return 0;
    const struct g4_type_kernels *tk = &kt->type[type];
    const struct g4_type_traits *tr = g4_type_traits(type);
    if (tk->pack_rows <= 0 || !tk->repack || !tr || K % tr->blck) return 0;
    uint64_t b;
    if (!g4_mul_ok((uint64_t)(N / tk->pack_rows), (uint64_t)(K / tr->blck), &b) ||
        !g4_mul_ok(b, tk->pack_group_bytes_per_block, &b) || b > SIZE_MAX)
        return 0;
    return (size_t)b;
}

bool g4_matmul_repack(const struct g4_kernels *kt, uint32_t type, const void *w, size_t w_row_bytes, int64_t N,
                      int64_t K, void *dst) {
    if (g4_matmul_repack_size(kt, type, N, K) == 0 || !w || !dst) return false;
    const struct g4_type_kernels *tk = &kt->type[type];
    tk->repack(w, w_row_bytes, N / tk->pack_rows, K, dst);
    return true;
}

enum { MM_MULTI_MAX = 4 };

bool g4_matmul_unpack_row(const struct g4_kernels *kt, uint32_t type, const void *w_packed, int64_t N, int64_t K,
                          int64_t row, void *dst) {
    if (type >= G4_TYPE_COUNT || !w_packed || row < 0 || row >= N) return false;
    const struct g4_type_kernels *tk = &kt->type[type];
    if (!tk->unpack || tk->pack_rows <= 0 || row >= N / tk->pack_rows * tk->pack_rows) return false;
    const size_t gb = g4_matmul_repack_size(kt, type, tk->pack_rows, K);
    if (!gb) return false;
    tk->unpack((const char *)w_packed + (size_t)(row / tk->pack_rows) * gb, K, (int)(row % tk->pack_rows), dst);
    return true;
}

struct matmul_job {
    const struct g4_kernels *kt;
    struct g4_matmul_args a[MM_MULTI_MAX]; /* wdata of a shared input points at its first user's */
    bool quant[MM_MULTI_MAX];              /* this entry converts its activations */
    int n;
    int64_t chunk[MM_MULTI_MAX];           /* weight rows per task */
    int64_t first[MM_MULTI_MAX + 1];       /* task index of each matrix's first chunk */
};

static void matmul_quantize_slice(void *ctx, int ith, int nth) {
    struct matmul_job *j = ctx;
    for (int i = 0; i < j->n; i++)
        if (j->quant[i]) g4_matmul_quantize(j->kt, &j->a[i], ith, nth);
}

static void matmul_task(void *ctx, int64_t t, int ith) {
    (void)ith;
    struct matmul_job *j = ctx;
    int i = 0;
    while (t >= j->first[i + 1]) i++;
    const int64_t n0 = (t - j->first[i]) * j->chunk[i], n1 = G4_MIN(n0 + j->chunk[i], j->a[i].N);
    g4_matmul_rows(j->kt, &j->a[i], n0, n1);
}

void g4_matmul_multi(struct g4_pool *pool, const struct g4_kernels *kt, const struct g4_matmul_args *a, int n) {
    if (n <= 0) return;
    if (n > MM_MULTI_MAX) {
        for (int i = 0; i < n; i += MM_MULTI_MAX) g4_matmul_multi(pool, kt, a + i, G4_MIN(n - i, (int)MM_MULTI_MAX));
        return;
    }
    struct matmul_job j = {.kt = kt, .n = n};
    const int nth = g4_pool_size(pool);
    bool any_quant = false;
    int64_t max_m = 0;
    for (int i = 0; i < n; i++) {
        j.a[i] = a[i];
        const uint32_t at = act_type(kt, a[i].type, a[i].f32_act);
        j.quant[i] = at != G4_TYPE_F32;
        /* the same input converted to the same type already: reuse it */
        for (int k = 0; k < i && j.quant[i]; k++)
            if (j.quant[k] && a[k].x == a[i].x && a[k].x_stride == a[i].x_stride && a[k].M == a[i].M &&
                a[k].K == a[i].K && act_type(kt, a[k].type, a[k].f32_act) == at) {
                j.a[i].wdata = j.a[k].wdata;
                j.quant[i] = false;
            }
        any_quant |= j.quant[i];
        max_m = G4_MAX(max_m, a[i].M);
    }
    if (any_quant) {
        if (nth == 1 || max_m == 1)
            matmul_quantize_slice(&j, 0, 1);
        else
            g4_pool_run(pool, matmul_quantize_slice, &j);
    }
    /* about 8 chunks per thread and matrix so faster threads can steal, but
       at least 16 rows (a multiple of 16, which SIMD tiles like) per chunk */
    j.first[0] = 0;
    for (int i = 0; i < n; i++) {
        int64_t chunk = (a[i].N + (int64_t)nth * 8 - 1) / ((int64_t)nth * 8);
        chunk = (G4_MAX(chunk, (int64_t)16) + 15) / 16 * 16;
        j.chunk[i] = chunk;
        j.first[i + 1] = j.first[i] + (a[i].N + chunk - 1) / chunk;
    }
    if (nth == 1 || j.first[n] == 1)
        for (int i = 0; i < n; i++) g4_matmul_rows(kt, &j.a[i], 0, j.a[i].N);
    else
        g4_pool_for(pool, j.first[n], matmul_task, &j);
}

void g4_matmul(struct g4_pool *pool, const struct g4_kernels *kt, const struct g4_matmul_args *a) {
    g4_matmul_multi(pool, kt, a, 1);
}

/* ==== Helpers ==== */

bool g4_embed_row(uint32_t type, const void *table, size_t row_bytes, int64_t row, int64_t dim, float scale,
                  float *out) {
    const struct g4_type_traits *tr = g4_type_traits(type);
    if (!tr || row < 0 || dim <= 0 || dim % tr->blck) return false;
    if (!g4_dequantize(type, (const char *)table + (size_t)row * row_bytes, out, dim)) return false;
    if (scale != 1.0f)
        for (int64_t i = 0; i < dim; i++) out[i] *= scale;
    return true;
}

void g4_rope_inv_freq(float *inv_freq, int64_t head_dim, int64_t n_rot_pairs, float base, float factor) {
    for (int64_t i = 0; i < head_dim / 2; i++) {
        if (i >= n_rot_pairs) {
            inv_freq[i] = 0.0f;
            continue;
        }
        /* HF: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), float32 */
        const float e = (float)(2 * i) / (float)head_dim;
        const float p = (float)pow((double)base, (double)e);
        inv_freq[i] = (1.0f / p) / factor;
    }
}

void g4_rope_cos_sin(float *cs, int32_t pos, const float *inv_freq, int64_t half) {
    for (int64_t i = 0; i < half; i++) {
        const float theta = (float)pos * inv_freq[i]; /* float32 product, as HF */
        cs[i] = (float)cos((double)theta);
        cs[half + i] = (float)sin((double)theta);
    }
}
