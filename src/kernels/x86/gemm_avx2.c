/* gemm_avx2.c — AVX2 matmul tiles for prefill (M > 1 activation rows): each
 * weight block is loaded and unpacked ONCE and multiplied against nc = 1..8
 * activation rows ("columns") held in registers (ik_llama.cpp's idea, done
 * with C: one always_inline body per type taking a constant nc, instantiated
 * 8 times into a function table). Types: Q4_0, Q8_0 (x in Q8_0), Q4_K, Q5_K,
 * Q6_K (x in Q8_K), F32/F16/BF16 (x in float32).
 *
 * The integer block products are exact, as in the dots (dot_avx2.c), so a
 * tile differs from the references only in float accumulation order: the
 * matmul tolerance of test_kernels covers it. Tiles decline M == 1 (decode
 * keeps the vec_dot path) and float K not a multiple of 8.
 *
 * Driver: weight rows in blocks of TILE_NB (kept in L2) x groups of up to 8
 * activation rows (kept in L1/L2); M is split into equal groups (M = 9 ->
 * 5 + 4, not 8 + 1) so every call has enough independent accumulators.
 *
 * Measured (bench/kernels/bench_matvec.c, 1 thread, CPU time best of 3-5,
 * AMD EPYC (Zen 4 class, AVX2 table), 2 vCPUs shared with ~6 other jobs, load
 * ~11: per-row figures +-10%). GMAC/s with tiles vs the vec_dot path of the
 * same table ("avx2-dot"), N=2048 K=3840:
 *           M=1(dot)  M=4         M=8         M=16        M=64
 *   q4_0    19.7      29.6/19.3   28.9/19.8   29.9/20.3   30.2/20.8
 *   q8_0    27.8      33.0/22.6   28.0/22.7   29.5/25.1   30.7/27.0
 *   q4_K    29.8      35.1/25.7   38.1/26.8   37.0/28.2   38.4/28.8
 *   q5_K    23.4      28.5/18.1   36.6/20.9   35.4/21.7   35.3/22.9
 *   q6_K    21.8      36.2/19.0   36.5/19.3   35.7/20.4   37.5/21.3
 *   f16     16.1      13.5/12.7   19.4/14.9   22.1/16.5   24.0/18.0
 *   bf16    16.3      13.5/12.7   19.6/15.7   22.1/17.6   23.9/19.2
 *   f32      4.9       7.8/8.6    12.3/10.8   16.2/12.2   21.1/13.4
 * N=1024 K=15360, M=64: q4_K 38.9/27.7, q6_K 37.7/20.4, q4_0 27.9/19.5;
 * N=6912 K=1152, M=512: q4_0 32.1/20.0, q8_0 33.8/26.4, f16 23.1/18.3.
 * Blocking: TILE_NB = 16 and 256 measured the same within noise at M =
 * 16..256 (activation groups of 8 rows fit L2 either way).
 * Weights repacked at load time (repack_avx2.c) bypass these tiles and run
 * 1.5-2x faster again; the tiles serve the plain layout. */
#include "kernels/kernels_impl.h"

#include "kernels/x86/avx2_common.h"

#include <immintrin.h>

#define TILE_INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 8")

enum { TILE_MAX = 8, TILE_NB = 16 };

/* one weight row (w) against nc activation rows at xq + c*xrb; writes
 * y[c*ys] for c < nc */
typedef void (*tile_fn)(int64_t K, const void *w, const char *xq, size_t xrb, float *y, int64_t ys);

#define hsum8 g4x_hsum8
#define f16f g4x_f16

/* ---- 32-element blocks against Q8_0 ---- */

TILE_INLINE void tile_q8_0_body(const int nc, int64_t K, const void *vw, const char *xq, size_t xrb, float *y,
                                int64_t ys, const bool q4) {
    __m256 acc[TILE_MAX];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i ones = _mm256_set1_epi16(1);
    const int64_t nb = K / 32;
    for (int64_t b = 0; b < nb; b++) {
        __m256i q;
        float dwf;
        if (q4) {
            const struct g4_block_q4_0 *w = (const struct g4_block_q4_0 *)vw + b;
            const __m128i t = _mm_loadu_si128((const __m128i *)w->qs);
            q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0F));
            q = _mm256_sub_epi8(q, _mm256_set1_epi8(8));
            dwf = f16f(w->d);
        } else {
            const struct g4_block_q8_0 *w = (const struct g4_block_q8_0 *)vw + b;
            q = _mm256_loadu_si256((const __m256i *)w->qs);
            dwf = f16f(w->d);
        }
        const __m256i aq = _mm256_sign_epi8(q, q); /* |q| as u8 (|-128| = 128) */
        const __m256 dw = _mm256_set1_ps(dwf);
        UNROLL for (int c = 0; c < nc; c++) {
            const struct g4_block_q8_0 *x = (const struct g4_block_q8_0 *)(xq + (size_t)c * xrb) + b;
            const __m256i yv = _mm256_loadu_si256((const __m256i *)x->qs);
            const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(aq, _mm256_sign_epi8(yv, q)), ones);
            const __m256 d = _mm256_mul_ps(dw, _mm256_set1_ps(f16f(x->d)));
            acc[c] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(p), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) y[c * ys] = hsum8(acc[c]);
}

/* ---- k-quants against Q8_K ---- */

/* Q4_K (q5 false) and Q5_K (q5 true): 8 sub-blocks of 32 with 6-bit scale
 * and min; x = d*sc*q - dmin*m. The min term uses the Q8_K group sums. */
TILE_INLINE void tile_q45_K_body(const int nc, int64_t K, const void *vw, const char *xq, size_t xrb, float *y,
                                 int64_t ys, const bool q5) {
    __m256 acc[TILE_MAX];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const int64_t nb = K / G4_QK_K;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *scales, *qs, *qh = NULL;
        uint16_t d16, dmin16;
        if (q5) {
            const struct g4_block_q5_K *w = (const struct g4_block_q5_K *)vw + b;
            scales = w->scales, qs = w->qs, qh = w->qh, d16 = w->d, dmin16 = w->dmin;
        } else {
            const struct g4_block_q4_K *w = (const struct g4_block_q4_K *)vw + b;
            scales = w->scales, qs = w->qs, d16 = w->d, dmin16 = w->dmin;
        }
        __m128i sc8, mn8;
        g4x_scales_mins_k4(scales, &sc8, &mn8);
        const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mn8, mn8));
        const __m256i sc2 = _mm256_broadcastsi128_si256(sc8);
        __m256i q[8];
        const __m256i hb = q5 ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            q[2 * c] = _mm256_and_si256(v, m4);
            q[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            if (q5) { /* fifth bit: bit 2c (low nibbles) and 2c+1 (high) of qh[l] */
                const __m256i b0 = _mm256_set1_epi8((char)(1 << (2 * c))), b1 = _mm256_set1_epi8((char)(2 << (2 * c)));
                const __m256i k16 = _mm256_set1_epi8(16);
                q[2 * c] = _mm256_or_si256(q[2 * c], _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, b0), b0), k16));
                q[2 * c + 1] =
                    _mm256_or_si256(q[2 * c + 1], _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, b1), b1), k16));
            }
        }
        __m256i scv[8];
        for (int j = 0; j < 8; j++) scv[j] = g4x_bcast_u8_epi16(sc2, j);
        const __m256 dw = _mm256_set1_ps(f16f(d16)), dmw = _mm256_set1_ps(f16f(dmin16));
        UNROLL for (int c = 0; c < nc; c++) {
            const struct g4_block_q8_K *x = (const struct g4_block_q8_K *)(xq + (size_t)c * xrb) + b;
            __m256i s0 = _mm256_setzero_si256(), s1 = s0;
            for (int j = 0; j < 8; j += 2) { /* maddubs: |31*127*2| < 2^15 */
                const __m256i p0 = _mm256_maddubs_epi16(q[j], _mm256_loadu_si256((const __m256i *)(x->qs + 32 * j)));
                const __m256i p1 =
                    _mm256_maddubs_epi16(q[j + 1], _mm256_loadu_si256((const __m256i *)(x->qs + 32 * j + 32)));
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(p0, scv[j]));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(p1, scv[j + 1]));
            }
            const __m256i sm = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)x->bsums), mins16);
            const __m256 dy = _mm256_set1_ps(x->d);
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dw, dy), _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1)), acc[c]);
            acc[c] = _mm256_fnmadd_ps(_mm256_mul_ps(dmw, dy), _mm256_cvtepi32_ps(sm), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) y[c * ys] = hsum8(acc[c]);
}

/* Q6_K: 16 sub-blocks of 16 with int8 scales; x = d*sc*(q - 32), q 6-bit.
 * (q - 32).y is formed as q.y - 32*bsum(y) with the Q8_K group sums, so q
 * stays unsigned for maddubs (63*127*2 < 2^15). Per block |sum| <=
 * 128*63*127*256 < 2^31. */
TILE_INLINE void tile_q6_K_body(const int nc, int64_t K, const void *vw, const char *xq, size_t xrb, float *y,
                                int64_t ys) {
    __m256 acc[TILE_MAX];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    const int64_t nb = K / G4_QK_K;
    for (int64_t b = 0; b < nb; b++) {
        const struct g4_block_q6_K *w = (const struct g4_block_q6_K *)vw + b;
        __m256i q[8], scv[8];
        for (int h = 0; h < 2; h++) {
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)(w->ql + 64 * h));
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(w->ql + 64 * h + 32));
            const __m256i hb = _mm256_loadu_si256((const __m256i *)(w->qh + 32 * h));
            q[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
            q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
            q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
            q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
        }
        for (int j = 0; j < 8; j++)
            scv[j] = _mm256_set_m128i(_mm_set1_epi16(w->scales[2 * j + 1]), _mm_set1_epi16(w->scales[2 * j]));
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales));
        const __m256 dw = _mm256_set1_ps(f16f(w->d));
        UNROLL for (int c = 0; c < nc; c++) {
            const struct g4_block_q8_K *x = (const struct g4_block_q8_K *)(xq + (size_t)c * xrb) + b;
            __m256i s0 = _mm256_setzero_si256(), s1 = s0;
            for (int j = 0; j < 8; j += 2) {
                const __m256i p0 = _mm256_maddubs_epi16(q[j], _mm256_loadu_si256((const __m256i *)(x->qs + 32 * j)));
                const __m256i p1 =
                    _mm256_maddubs_epi16(q[j + 1], _mm256_loadu_si256((const __m256i *)(x->qs + 32 * j + 32)));
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(p0, scv[j]));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(p1, scv[j + 1]));
            }
            const __m256i corr = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)x->bsums), sc16);
            const __m256i si = _mm256_sub_epi32(_mm256_add_epi32(s0, s1), _mm256_slli_epi32(corr, 5));
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(x->d)), _mm256_cvtepi32_ps(si), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) y[c * ys] = hsum8(acc[c]);
}

/* ---- float weights against float32 activations ---- */

/* kind: 0 = F32, 1 = F16, 2 = BF16. 16 elements per step in two
 * accumulators per row, so even nc = 1 has two FMA chains in flight. */
TILE_INLINE __m256 load_w8(const void *w, int64_t i, const int kind) {
    if (kind == 0) return _mm256_loadu_ps((const float *)w + i);
    const __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + i));
    if (kind == 1) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

TILE_INLINE void tile_float_body(const int nc, int64_t K, const void *w, const char *xq, size_t xrb, float *y,
                                 int64_t ys, const int kind) {
    __m256 a0[TILE_MAX], a1[TILE_MAX];
    UNROLL for (int c = 0; c < nc; c++) a0[c] = a1[c] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= K; i += 16) {
        const __m256 w0 = load_w8(w, i, kind), w1 = load_w8(w, i + 8, kind);
        UNROLL for (int c = 0; c < nc; c++) {
            const float *x = (const float *)(xq + (size_t)c * xrb) + i;
            a0[c] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x), a0[c]);
            a1[c] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + 8), a1[c]);
        }
    }
    if (i < K) { /* K % 16 == 8 */
        const __m256 w0 = load_w8(w, i, kind);
        UNROLL for (int c = 0; c < nc; c++)
            a0[c] = _mm256_fmadd_ps(w0, _mm256_loadu_ps((const float *)(xq + (size_t)c * xrb) + i), a0[c]);
    }
    UNROLL for (int c = 0; c < nc; c++) y[c * ys] = hsum8(_mm256_add_ps(a0[c], a1[c]));
}

/* ---- instantiation: one function per (type, nc) ---- */

#define TILE_ARGS int64_t K, const void *w, const char *xq, size_t xrb, float *y, int64_t ys
#define TILE_INST(name, nc, call) \
    static void name##_##nc(TILE_ARGS) { call; }
#define TILE_SET(name, body, ...)                                                               \
    TILE_INST(name, 1, body(1, K, w, xq, xrb, y, ys __VA_ARGS__))                               \
    TILE_INST(name, 2, body(2, K, w, xq, xrb, y, ys __VA_ARGS__))                               \
    TILE_INST(name, 3, body(3, K, w, xq, xrb, y, ys __VA_ARGS__))                               \
    TILE_INST(name, 4, body(4, K, w, xq, xrb, y, ys __VA_ARGS__))                               \
    TILE_INST(name, 5, body(5, K, w, xq, xrb, y, ys __VA_ARGS__))                               \
    TILE_INST(name, 6, body(6, K, w, xq, xrb, y, ys __VA_ARGS__))                               \
    TILE_INST(name, 7, body(7, K, w, xq, xrb, y, ys __VA_ARGS__))                               \
    TILE_INST(name, 8, body(8, K, w, xq, xrb, y, ys __VA_ARGS__))                               \
    static const tile_fn name##_fns[TILE_MAX + 1] = {NULL,      name##_1, name##_2, name##_3, \
                                                     name##_4, name##_5, name##_6, name##_7, name##_8};

TILE_SET(tile_q4_0, tile_q8_0_body, , true)
TILE_SET(tile_q8_0, tile_q8_0_body, , false)
TILE_SET(tile_q4_K, tile_q45_K_body, , false)
TILE_SET(tile_q5_K, tile_q45_K_body, , true)
TILE_SET(tile_q6_K, tile_q6_K_body, )
TILE_SET(tile_f32, tile_float_body, , 0)
TILE_SET(tile_f16, tile_float_body, , 1)
TILE_SET(tile_bf16, tile_float_body, , 2)

/* ---- driver ---- */

static bool run_tiles(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1,
                      const tile_fn *fns) {
    if (a->M < 2) return false;
    const int64_t groups = (a->M + TILE_MAX - 1) / TILE_MAX;
    const int64_t base = a->M / groups, extra = a->M % groups;
    for (int64_t nb = n0; nb < n1; nb += TILE_NB) {
        const int64_t ne = G4_MIN(nb + TILE_NB, n1);
        int64_t m0 = 0;
        for (int64_t g = 0; g < groups; g++) {
            const int nc = (int)(base + (g < extra));
            const tile_fn fn = fns[nc];
            const char *x = (const char *)xq + (size_t)m0 * xrb;
            float *y = a->y + m0 * a->y_stride;
            for (int64_t n = nb; n < ne; n++)
                fn(a->K, (const char *)a->w + (size_t)n * a->w_row_bytes, x, xrb, y + n, a->y_stride);
            m0 += nc;
        }
    }
    return true;
}

#define TILE_ENTRY(name, cond)                                                                               \
    bool g4_matmul_##name##_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, \
                                 int64_t n1) {                                                           \
        if (!(cond)) return false;                                                                       \
        return run_tiles(a, xq, xrb, n0, n1, tile_##name##_fns);                                         \
    }

TILE_ENTRY(q4_0, !a->f32_act)
TILE_ENTRY(q8_0, !a->f32_act)
TILE_ENTRY(q4_K, !a->f32_act)
TILE_ENTRY(q5_K, !a->f32_act)
TILE_ENTRY(q6_K, !a->f32_act)
TILE_ENTRY(f32, a->K % 8 == 0)
TILE_ENTRY(f16, a->K % 8 == 0)
TILE_ENTRY(bf16, a->K % 8 == 0)
