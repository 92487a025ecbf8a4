/* repack_avx512vnni.c — the "avx512_vnni" table's matmul over load-time
 * repacked weights: the q8_0x8, q4_Kx8, q5_Kx8 and q6_Kx8 layouts
 * of repack_avx2.c (same repack functions and group sizes, which the table
 * inherits from avx2; the layouts are documented there and read here), with
 * vpdpbusd on ymm (AVX512-VL + VNNI) in place of vpmaddubsw + vpaddw +
 * vpmaddwd. In every layout a 32-bit lane holds 4 consecutive quants of one
 * row, which is exactly what vpdpbusd sums against 4 broadcast activation
 * bytes, so lane r accumulates row r's dot in int32 with no saturation
 * bound to respect (sub-block sums are then scaled by vpmulld).
 * Integer block products are exact; the float steps (scales, FMA order) are
 * those of the avx2 kernels, so results differ from the references only in
 * float accumulation order (test_kernels, packed runs). Compiled with the
 * AVX512VNNI flags; used only after cpuid reported AVX512F/BW/VL + VNNI.
 * test_kernels fails if a layout's group size changes and these step aside.
 *
 * Measured (bench/kernels/bench_matvec.c, 1 thread, CPU time best of 7,
 * AMD EPYC Zen 4 class, 2 shared vCPUs at load ~2-4), GMAC/s of the avx2
 * packed kernels -> these:
 *            N=2048 K=3840                 N=640 K=2048 (Gemma 3 270M down)
 *            M=1           M=16            M=1           M=64
 *   q4_0     44.6 -> 44.9  62.5 -> 60.4
 *   q8_0     35.0 -> 52.1  40.2 -> 75.1    46.5 -> 50.0  61.7 -> 87.4
 *   q4_K     64.7 -> 68.6  64.5 -> 107.4   64.7 -> 70.1  81.1 -> 107.1
 *   q5_K     29.8 -> 45.1  47.0 -> 71.1
 *   q6_K     31.9 -> 45.8  49.9 -> 66.9    31.0 -> 44.2  63.1 -> 78.4
 * q4_0 keeps the avx2 packed kernel: after repack_avx2.c moved the -8 offset
 * into per-block side tables it runs at 66 / 98 / 93 GMAC/s (M = 1 / 16 / 64,
 * N=2048 K=3840, load ~2.5), where a VNNI version with the offset as a
 * horizontal sum per block and column ran at 29 / 62 / 62; it was dropped.
 * q5_0 (q5_0x8) has no VNNI kernel yet: avx2's is used. */
#include "kernels/kernels_impl.h"

#include "kernels/x86/avx2_common.h"

#include <immintrin.h>
#include <string.h>

#define TILE_INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 8")

/* group sizes per block of repack_avx2.c's layouts (kernels_avx2.c sets the
 * same numbers as pack_group_bytes_per_block) */
enum {
    PACK_ROWS = 8, PACK_MAXC = 4,
    P80_BLOCK = 272,                                /* q8_0x8: d[8], q[8][32] at 16 */
    P4K_BLOCK = 1184, P4K_Q = 160,                  /* q4_Kx8: d, dmin, sc[8][8] at 32, mn[8][8] at 96, q */
    P5K_BLOCK = 1440, P5K_QH = 160, P5K_Q = 416,    /* q5_Kx8: as q4_Kx8 + qh[8][32] */
    P6K_BLOCK = 1680, P6K_SC = 16, P6K_Q = 144,     /* q6_Kx8: d[8], sc[16][8], pieces of 96 */
};

static inline __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}
static inline __m256i dpbusd(__m256i acc, __m256i u, __m256i s) { return _mm256_dpbusd_epi32(acc, u, s); }
/* 8 bytes (row r's value at p[r]) as int32 lanes */
static inline __m256i u8x8(const uint8_t *p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p)); }
static inline __m256i s8x8(const uint8_t *p) { return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)p)); }

/* ---- q8_0x8: signed x signed through vpdpbusd(|w|, sign(y, w)) ---- */

TILE_INLINE void q8_0x8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y,
                             int64_t ys) {
    __m256 acc[PACK_MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    for (int64_t b = 0; b < K / 32; b++) {
        const uint8_t *gb = grp + (size_t)b * P80_BLOCK;
        __m256i p[PACK_MAXC];
        UNROLL for (int c = 0; c < nc; c++) p[c] = _mm256_setzero_si256();
        for (int k = 0; k < 8; k++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(gb + 16 + 32 * k));
            const __m256i av = _mm256_abs_epi8(v);
            UNROLL for (int c = 0; c < nc; c++) {
                const int8_t *yq = ((const struct g4_block_q8_0 *)(xq + (size_t)c * xrb) + b)->qs + 4 * k;
                p[c] = dpbusd(p[c], av, _mm256_sign_epi8(bcast4(yq), v));
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)gb));
        UNROLL for (int c = 0; c < nc; c++) {
            const struct g4_block_q8_0 *x = (const struct g4_block_q8_0 *)(xq + (size_t)c * xrb) + b;
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(g4x_f16(x->d))), _mm256_cvtepi32_ps(p[c]), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) _mm256_storeu_ps(y + c * ys, acc[c]);
}

/* ---- q4_Kx8 / q5_Kx8 ---- */

/* 8 bytes a (lane r: a[r]) and b -> 8 int32 lanes holding int16 pairs (a[r], b[r]) */
static inline __m256i pair16(const uint8_t *a, const uint8_t *b) {
    return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)a), _mm_loadl_epi64((const __m128i *)b)));
}

TILE_INLINE void q45_Kx8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y,
                              int64_t ys, const bool q5) {
    __m256 acc[PACK_MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), k16 = _mm256_set1_epi8(16);
    const size_t blk_bytes = q5 ? P5K_BLOCK : P4K_BLOCK;
    for (int64_t b = 0; b < K / G4_QK_K; b++) {
        const uint8_t *gb = grp + (size_t)b * blk_bytes;
        const uint8_t *scp = gb + 32, *mnp = gb + 96, *qp = gb + (q5 ? P5K_Q : P4K_Q), *qhp = gb + P5K_QH;
        __m256i isum[PACK_MAXC];
        UNROLL for (int c = 0; c < nc; c++) isum[c] = _mm256_setzero_si256();
        for (int ch = 0; ch < 4; ch++) { /* sub-blocks 2ch (low nibbles) and 2ch+1 (high) */
            const __m256i blo = _mm256_set1_epi8((char)(1 << (2 * ch))), bhi = _mm256_set1_epi8((char)(2 << (2 * ch)));
            __m256i plo[PACK_MAXC], phi[PACK_MAXC];
            UNROLL for (int c = 0; c < nc; c++) plo[c] = phi[c] = _mm256_setzero_si256();
            for (int k = 0; k < 8; k++) {
                const __m256i v = _mm256_loadu_si256((const __m256i *)(qp + 256 * ch + 32 * k));
                __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                if (q5) { /* fifth bits: bit 2ch (low nibbles) and 2ch+1 (high) of qh */
                    const __m256i h = _mm256_loadu_si256((const __m256i *)(qhp + 32 * k));
                    lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, blo), blo), k16));
                    hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bhi), bhi), k16));
                }
                UNROLL for (int c = 0; c < nc; c++) {
                    const int8_t *yq = ((const struct g4_block_q8_K *)(xq + (size_t)c * xrb) + b)->qs + 64 * ch + 4 * k;
                    plo[c] = dpbusd(plo[c], lo, bcast4(yq));
                    phi[c] = dpbusd(phi[c], hi, bcast4(yq + 32));
                }
            }
            const __m256i slo = u8x8(scp + 8 * (2 * ch)), shi = u8x8(scp + 8 * (2 * ch + 1));
            UNROLL for (int c = 0; c < nc; c++)
                isum[c] = _mm256_add_epi32(isum[c], _mm256_add_epi32(_mm256_mullo_epi32(plo[c], slo),
                                                                     _mm256_mullo_epi32(phi[c], shi)));
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)gb));
        const __m256 dmw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(gb + 16)));
        __m256i mnp2[4];
        for (int jp = 0; jp < 4; jp++) mnp2[jp] = pair16(mnp + 16 * jp, mnp + 16 * jp + 8);
        UNROLL for (int c = 0; c < nc; c++) {
            const struct g4_block_q8_K *x = (const struct g4_block_q8_K *)(xq + (size_t)c * xrb) + b;
            const __m256i bs = _mm256_loadu_si256((const __m256i *)x->bsums);
            /* 8 int16 sub-block sums (pairs of group sums, |.| <= 4064) */
            const __m256i bsj =
                _mm256_castsi128_si256(_mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1)));
            __m256i m32 = _mm256_setzero_si256();
            for (int jp = 0; jp < 4; jp++)
                m32 = _mm256_add_epi32(m32, _mm256_madd_epi16(mnp2[jp], _mm256_permutevar8x32_epi32(bsj, _mm256_set1_epi32(jp))));
            const __m256 dy = _mm256_set1_ps(x->d);
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dw, dy), _mm256_cvtepi32_ps(isum[c]), acc[c]);
            acc[c] = _mm256_fnmadd_ps(_mm256_mul_ps(dmw, dy), _mm256_cvtepi32_ps(m32), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) _mm256_storeu_ps(y + c * ys, acc[c]);
}

/* ---- q6_Kx8 ---- */

/* Piece (h, k), k 0..7, unpacks to q_j (j 0..3) = elements 128h + 32j + 4k
 * + i of every row, in group 8h + 2j + k/4: pieces k = 4kk..4kk+3 feed
 * groups 8h + 2j + kk, summed in int32 and then scaled. q stays unsigned;
 * (q - 32) is applied as -32 * sum_g sc_g * bsums_g. */
TILE_INLINE void q6_Kx8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y,
                             int64_t ys) {
    __m256 acc[PACK_MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
    for (int64_t b = 0; b < K / G4_QK_K; b++) {
        const uint8_t *gb = grp + (size_t)b * P6K_BLOCK, *scp = gb + P6K_SC;
        __m256i isum[PACK_MAXC];
        UNROLL for (int c = 0; c < nc; c++) isum[c] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++)
            for (int kk = 0; kk < 2; kk++) {
                __m256i g[4][PACK_MAXC];
                UNROLL for (int j = 0; j < 4; j++) UNROLL for (int c = 0; c < nc; c++) g[j][c] = _mm256_setzero_si256();
                for (int k = 4 * kk; k < 4 * kk + 4; k++) {
                    const uint8_t *piece = gb + P6K_Q + 96 * (8 * h + k);
                    const __m256i l0 = _mm256_loadu_si256((const __m256i *)piece);
                    const __m256i l1 = _mm256_loadu_si256((const __m256i *)(piece + 32));
                    const __m256i hb = _mm256_loadu_si256((const __m256i *)(piece + 64));
                    __m256i q[4];
                    q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m3), 4));
                    q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m3), 4));
                    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m3), 4));
                    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m3), 4));
                    UNROLL for (int c = 0; c < nc; c++) {
                        const int8_t *yq =
                            ((const struct g4_block_q8_K *)(xq + (size_t)c * xrb) + b)->qs + 128 * h + 4 * k;
                        UNROLL for (int j = 0; j < 4; j++) g[j][c] = dpbusd(g[j][c], q[j], bcast4(yq + 32 * j));
                    }
                }
                UNROLL for (int j = 0; j < 4; j++) {
                    const __m256i scv = s8x8(scp + 8 * (8 * h + 2 * j + kk));
                    UNROLL for (int c = 0; c < nc; c++) isum[c] = _mm256_add_epi32(isum[c], _mm256_mullo_epi32(g[j][c], scv));
                }
            }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)gb));
        __m256i scp2[8]; /* lane r: int16 pair (sc[2p][r], sc[2p+1][r]) */
        for (int p = 0; p < 8; p++)
            scp2[p] = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(scp + 16 * p)),
                                                             _mm_loadl_epi64((const __m128i *)(scp + 16 * p + 8))));
        UNROLL for (int c = 0; c < nc; c++) {
            const struct g4_block_q8_K *x = (const struct g4_block_q8_K *)(xq + (size_t)c * xrb) + b;
            const __m256i bs = _mm256_loadu_si256((const __m256i *)x->bsums); /* int32 lane p: (bsums[2p], bsums[2p+1]) */
            __m256i corr = _mm256_setzero_si256();
            for (int p = 0; p < 8; p++)
                corr = _mm256_add_epi32(corr, _mm256_madd_epi16(scp2[p], _mm256_permutevar8x32_epi32(bs, _mm256_set1_epi32(p))));
            const __m256i si = _mm256_sub_epi32(isum[c], _mm256_slli_epi32(corr, 5));
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(x->d)), _mm256_cvtepi32_ps(si), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) _mm256_storeu_ps(y + c * ys, acc[c]);
}

/* ---- instances and the driver ---- */

TILE_INLINE void q4_Kx8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y,
                             int64_t ys) {
    q45_Kx8_body(nc, K, grp, xq, xrb, y, ys, false);
}
TILE_INLINE void q5_Kx8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y,
                             int64_t ys) {
    q45_Kx8_body(nc, K, grp, xq, xrb, y, ys, true);
}

typedef void (*pack_fn)(int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y, int64_t ys);
#define INST(name, nc)                                                                                      \
    static void name##_##nc(int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y, int64_t ys) { \
        name##_body(nc, K, grp, xq, xrb, y, ys);                                                            \
    }
#define INST4(name) \
    INST(name, 1)   \
    INST(name, 2)   \
    INST(name, 3)   \
    INST(name, 4)   \
    static const pack_fn name##_fns[PACK_MAXC + 1] = {NULL, name##_1, name##_2, name##_3, name##_4};
INST4(q8_0x8)
INST4(q4_Kx8)
INST4(q5_Kx8)
INST4(q6_Kx8)

/* rows [n0, n1), whole groups; activation rows in equal groups of <= 4 */
static void run_packed(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1,
                       size_t gbytes, const pack_fn *fns) {
    const int64_t groups = (a->M + PACK_MAXC - 1) / PACK_MAXC;
    const int64_t base = a->M / groups, extra = a->M % groups;
    for (int64_t n = n0; n < n1; n += PACK_ROWS) {
        const uint8_t *grp = (const uint8_t *)a->w_packed + (size_t)(n / PACK_ROWS) * gbytes;
        int64_t m0 = 0;
        for (int64_t g = 0; g < groups; g++) {
            const int nc = (int)(base + (g < extra));
            fns[nc](a->K, grp, (const char *)xq + (size_t)m0 * xrb, xrb, a->y + m0 * a->y_stride + n, a->y_stride);
            m0 += nc;
        }
    }
}

#define DRIVER(name, blk, bytes)                                                                                  \
    static bool matmul_##name(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1) { \
        run_packed(a, xq, xrb, n0, n1, (size_t)(a->K / (blk)) * (bytes), name##_fns);                             \
        return true;                                                                                              \
    }
DRIVER(q8_0x8, 32, P80_BLOCK)
DRIVER(q4_Kx8, G4_QK_K, P4K_BLOCK)
DRIVER(q5_Kx8, G4_QK_K, P5K_BLOCK)
DRIVER(q6_Kx8, G4_QK_K, P6K_BLOCK)

/* Replaces the packed matmuls of k (a copy of the avx512 table, whose pack
 * layouts are avx2's). A type whose layout differs from the one these
 * kernels read (checked by group size) keeps the avx2 kernel. */
void g4_kernels_patch_avx512_vnni_packed(struct g4_kernels *k) {
    static const struct {
        uint32_t type;
        size_t bytes;
        g4_matmul_fn fn;
    } tab[] = {
        {G4_TYPE_Q8_0, P80_BLOCK, matmul_q8_0x8},
        {G4_TYPE_Q4_K, P4K_BLOCK, matmul_q4_Kx8}, {G4_TYPE_Q5_K, P5K_BLOCK, matmul_q5_Kx8},
        {G4_TYPE_Q6_K, P6K_BLOCK, matmul_q6_Kx8},
    };
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        struct g4_type_kernels *tk = &k->type[tab[i].type];
        if (tk->pack_rows == PACK_ROWS && tk->pack_group_bytes_per_block == tab[i].bytes && tk->matmul_packed)
            tk->matmul_packed = tab[i].fn;
    }
}
