/* repack_avx2.c — weights repacked at load time into groups of 8 rows
 * (q4_0x8, q5_0x8, q8_0x8, q4_Kx8, q5_Kx8, q6_Kx8), and the AVX2 matmuls
 * that read them (decode and prefill).
 *
 * Layout, per group of 8 rows and per 32-element block (144 bytes, the same
 * as 8 plain Q4_0 blocks, so repacking costs no extra memory):
 *   uint16_t d[8]      f16 scales of rows 0..7
 *   uint8_t  v[4][32]  v[c][4r + i] = qs_r[4c + i]  (r row, c 0..3, i 0..3)
 * Row r's byte qs[j] holds element j (low nibble) and j + 16 (high), so the
 * low nibbles of v[c] are elements 4c..4c+3 of all 8 rows and the high
 * nibbles elements 16+4c..16+4c+3. One maddubs of v[c]'s nibbles (u8) with
 * those 4 activation bytes broadcast to every 32-bit lane gives, lane r,
 * row r's partial dot: no horizontal sums, and the 8 row scales multiply as
 * one vector. The -8 offset is applied as -8 * sum(y) per block (y in
 * [-127, 127]: an int16 lane sums 16 products, <= 16*15*127 = 30480 < 2^15).
 * Integer block products are exact, so results differ from the references
 * only in float accumulation order (test_kernels checks with the matmul
 * tolerance).
 *
 * Q4_0 kernel: sum(q * y) per block with unsigned nibbles, the -8 offset
 * from per-block side tables (scale, 8 * scale * sum(y)) made once per column
 * group and row block of ~256 KB (g4_matmul_q4_0x8_avx2); weight pieces
 * outer and columns inner so nothing spills: 65 / 83 / 93 GMAC/s at
 * M = 1 / 4 / 64 (N=2048 K=3840, load 6), was 44 / 59 / 60.
 *
 * Measured (bench/kernels/bench_matvec.c, 1 thread, CPU time best of 5, AMD
 * EPYC Zen 4 class, AVX2 table, 2 shared vCPUs at load ~11), GMAC/s of the
 * plain kernels (dot for M = 1, gemm_avx2.c tiles for M > 1) -> repacked:
 *            N=2048 K=3840                         N=4096 K=3840 (9-17 MB)
 *            M=1          M=16         M=64         M=1
 *   q4_0     22.2 -> 44.4  32.0 -> 58.8  32.5 -> 59.7  22.4 -> 45.1
 *   q8_0     29.9 -> 37.7  28.3 -> 42.6  32.0 -> 56.6  29.5 -> 30.7
 *   q4_K     31.2 -> 67.7  40.9 -> 73.7  40.1 -> 76.1  31.2 -> 67.6
 *   q5_K     24.2 -> 38.3  34.7 -> 57.8  37.4 -> 58.7  24.0 -> 38.5
 *   q6_K     22.4 -> 30.9  35.5 -> 60.4  38.2 -> 53.8  22.4 -> 31.4
 *   q5_0     16.4 -> 30.2  15.9 -> 51.9  16.0 -> 58.5            (q5_0x8, load 5)
 * (q6_K M=16 from N=1024; q8_0 at M=1 is close to the bandwidth bound.)
 *
 * Q4_K ("q4_Kx8"), per group of 8 rows and per 256-element super-block
 * (1184 bytes, 8 plain blocks are 1152: +2.8%):
 *   uint16_t d[8], dmin[8]       f16 super-block scales of rows 0..7
 *   uint8_t  sc[8][8], mn[8][8]  6-bit scale / min of sub-block j, row r (unpacked)
 *   uint8_t  q[4][8][32]         q[c][k][4r + i] = qs_r[32c + 4k + i]
 * so q[c][k]'s low nibbles are elements 64c+4k.. of sub-block 2c and its
 * high nibbles elements 64c+32+4k.. of sub-block 2c+1, for all 8 rows. Sub-block
 * sums stay in int16 (8 maddubs, <= 8*2*15*127 = 30480), then one madd with
 * the row scales (each duplicated in its 32-bit lane) gives sc*sum per row;
 * the min term is sum_j mn[j][r] * (bsums[2j] + bsums[2j+1]) by 4 madds.
 *
 * Q6_K ("q6_Kx8"), per group of 8 rows and super-block (1680 bytes, exactly
 * 8 plain blocks):
 *   uint16_t d[8];  int8_t sc[16][8]            scale of group g (16 elements), row r
 *   struct { uint8_t l0[32], l1[32], hb[32]; } p[2][8], for piece (h, k):
 *       l0[4r+i] = ql_r[64h + 4k + i], l1[4r+i] = ql_r[64h + 32 + 4k + i],
 *       hb[4r+i] = qh_r[32h + 4k + i]
 * (pieces in the order the kernel reads them: a single forward stream; an
 * earlier split ql / qh layout ran 2.5x slower once the matrix came from
 * DRAM, 13 MB: the prefetchers lost the interleaved streams)
 * Piece (h, k) unpacks to 4 vectors q_j (j 0..3) of 6-bit values for
 * elements 128h + 32j + 4k + i of all rows (group 8h + 2j + k/4). q stays
 * unsigned for maddubs; (q - 32) is applied as -32 * sum_g sc * bsums[g].
 * Two maddubs per int16 lane (<= 2*2*63*127 = 32004), then madd with the
 * row scales; |block sum| <= 128*63*127*256 < 2^31. */
#include "kernels/kernels_impl.h"

#include "kernels/x86/avx2_common.h"

#include <immintrin.h>
#include <string.h>

#define TILE_INLINE static inline __attribute__((always_inline))
#define UNROLL _Pragma("GCC unroll 8")

enum { PACK_ROWS = 8, PACK_BLOCK = 144, PACK_MAXC = 4 };

void g4_repack_q4_0x8(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst) {
    const int64_t nb = K / 32;
    uint8_t *o = dst;
    for (int64_t g = 0; g < n_groups; g++)
        for (int64_t b = 0; b < nb; b++, o += PACK_BLOCK)
            for (int r = 0; r < PACK_ROWS; r++) {
                const struct g4_block_q4_0 *blk =
                    (const struct g4_block_q4_0 *)((const char *)w + (size_t)(g * PACK_ROWS + r) * w_row_bytes) + b;
                memcpy(o + 2 * r, &blk->d, 2);
                for (int c = 0; c < 4; c++) memcpy(o + 16 + 32 * c + 4 * r, blk->qs + 4 * c, 4);
            }
}

enum { PACKK_BLOCK = 1184, PACKK_Q = 160, PACK5_BLOCK = 1440, PACK5_QH = 160, PACK5_Q = 416 };

void g4_repack_q4_Kx8(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst) {
    const int64_t nb = K / G4_QK_K;
    uint8_t *o = dst;
    for (int64_t g = 0; g < n_groups; g++)
        for (int64_t b = 0; b < nb; b++, o += PACKK_BLOCK)
            for (int r = 0; r < PACK_ROWS; r++) {
                const struct g4_block_q4_K *blk =
                    (const struct g4_block_q4_K *)((const char *)w + (size_t)(g * PACK_ROWS + r) * w_row_bytes) + b;
                memcpy(o + 2 * r, &blk->d, 2);
                memcpy(o + 16 + 2 * r, &blk->dmin, 2);
                for (int j = 0; j < 8; j++) g4k_scale_min_k4(j, blk->scales, o + 32 + 8 * j + r, o + 96 + 8 * j + r);
                for (int c = 0; c < 4; c++)
                    for (int k = 0; k < 8; k++) memcpy(o + PACKK_Q + 256 * c + 32 * k + 4 * r, blk->qs + 32 * c + 4 * k, 4);
            }
}

/* Q5_K ("q5_Kx8", 1440 bytes per group and super-block, 8 plain blocks
 * are 1408: +2.3%): as q4_Kx8 with uint8_t qh[8][32], qh[k][4r+i] =
 * qh_r[4k+i], between mn and q (q at offset 416). */
void g4_repack_q5_Kx8(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst) {
    const int64_t nb = K / G4_QK_K;
    uint8_t *o = dst;
    for (int64_t g = 0; g < n_groups; g++)
        for (int64_t b = 0; b < nb; b++, o += PACK5_BLOCK)
            for (int r = 0; r < PACK_ROWS; r++) {
                const struct g4_block_q5_K *blk =
                    (const struct g4_block_q5_K *)((const char *)w + (size_t)(g * PACK_ROWS + r) * w_row_bytes) + b;
                memcpy(o + 2 * r, &blk->d, 2);
                memcpy(o + 16 + 2 * r, &blk->dmin, 2);
                for (int j = 0; j < 8; j++) g4k_scale_min_k4(j, blk->scales, o + 32 + 8 * j + r, o + 96 + 8 * j + r);
                for (int k = 0; k < 8; k++) memcpy(o + PACK5_QH + 32 * k + 4 * r, blk->qh + 4 * k, 4);
                for (int c = 0; c < 4; c++)
                    for (int k = 0; k < 8; k++) memcpy(o + PACK5_Q + 256 * c + 32 * k + 4 * r, blk->qs + 32 * c + 4 * k, 4);
            }
}

static inline __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* Per activation row and block: the scale as float and scale * sum(y) (the
 * -8 offset term), made once per column group and reused by every weight
 * group of a row block (g4_matmul_q4_0x8_avx2). */
struct q8_side {
    float d, ds8; /* scale, 8 * scale * sum(y) */
};

/* one group (8 rows) against nc activation rows; y[c*ys + r] for r < 8.
 * sd[c] is column c's side table. */
TILE_INLINE void q4_0x8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb,
                             const struct q8_side *const *sd, float *y, int64_t ys, const bool add) {
    /* weight pieces outer, columns inner: 4 int16 accumulators + 4 float
       accumulators + one piece stay in registers (no spills at nc = 4) */
    __m256 acc[PACK_MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones16 = _mm256_set1_epi16(1);
    const int64_t nb = K / 32;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *gb = grp + (size_t)b * PACK_BLOCK;
        const int8_t *xs[PACK_MAXC];
        UNROLL for (int c = 0; c < nc; c++) xs[c] = ((const struct g4_block_q8_0 *)(xq + (size_t)c * xrb) + b)->qs;
        __m256i p16[PACK_MAXC];
        for (int k = 0; k < 4; k++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(gb + 16 + 32 * k));
            const __m256i wl = _mm256_and_si256(v, m4), wh = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
            UNROLL for (int c = 0; c < nc; c++) {
                const __m256i t = _mm256_add_epi16(_mm256_maddubs_epi16(wl, bcast4(xs[c] + 4 * k)),
                                                   _mm256_maddubs_epi16(wh, bcast4(xs[c] + 16 + 4 * k)));
                p16[c] = k ? _mm256_add_epi16(p16[c], t) : t;
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)gb));
        UNROLL for (int c = 0; c < nc; c++) {
            /* dy * (sum(q y) - 8 sum(y)) per row, then times the row scales */
            const __m256 t = _mm256_fmsub_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(p16[c], ones16)),
                                             _mm256_set1_ps(sd[c][b].d), _mm256_set1_ps(sd[c][b].ds8));
            acc[c] = _mm256_fmadd_ps(dw, t, acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) {
        __m256 r = acc[c];
        if (add) r = _mm256_add_ps(r, _mm256_loadu_ps(y + c * ys));
        _mm256_storeu_ps(y + c * ys, r);
    }
}

typedef void (*q4_0x8_fn)(int64_t K, const uint8_t *grp, const char *xq, size_t xrb, const struct q8_side *const *sd,
                          float *y, int64_t ys, bool add);
/* name_1 .. name_4 (nc activation rows, `add` a compile-time constant in
 * each branch) and the table name_fns[nc] of a side-table kernel body */
#define SIDE_INST(name, nc)                                                                                    \
    static void name##_##nc(int64_t K, const uint8_t *grp, const char *xq, size_t xrb,                         \
                            const struct q8_side *const *sd, float *y, int64_t ys, bool add) {                 \
        if (add)                                                                                               \
            name##_body(nc, K, grp, xq, xrb, sd, y, ys, true);                                                 \
        else                                                                                                   \
            name##_body(nc, K, grp, xq, xrb, sd, y, ys, false);                                                \
    }
#define SIDE_INST4(name) \
    SIDE_INST(name, 1)   \
    SIDE_INST(name, 2)   \
    SIDE_INST(name, 3)   \
    SIDE_INST(name, 4)   \
    static const q4_0x8_fn name##_fns[PACK_MAXC + 1] = {NULL, name##_1, name##_2, name##_3, name##_4};
SIDE_INST4(q4_0x8)

typedef void (*pack_fn)(int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y, int64_t ys);
/* name_1 .. name_4 and the table name_fns[nc] of a kernel body name_body */
#define PACK_INST(name, nc)                                                                                   \
    static void name##_##nc(int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y, int64_t ys) { \
        name##_body(nc, K, grp, xq, xrb, y, ys);                                                              \
    }
#define PACK_INST4(name) \
    PACK_INST(name, 1)   \
    PACK_INST(name, 2)   \
    PACK_INST(name, 3)   \
    PACK_INST(name, 4)   \
    static const pack_fn name##_fns[PACK_MAXC + 1] = {NULL, name##_1, name##_2, name##_3, name##_4};

/* side table of one activation row: block scales and 8 * scale * sum(qs) */
static void q8_0_side(const struct g4_block_q8_0 *x, int64_t nb, struct q8_side *sd) {
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < nb; b++) {
        __m256i sy = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, _mm256_loadu_si256((const __m256i *)x[b].qs)), ones16);
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sy), _mm256_extracti128_si256(sy, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
        sd[b].d = g4x_f16(x[b].d);
        sd[b].ds8 = sd[b].d * (float)(8 * _mm_cvtsi128_si32(s4));
    }
}

/* 8 bytes a (lane r: a[r]) and b -> 8 int32 lanes holding int16 pairs (a[r], b[r]) */
static inline __m256i pair16(const uint8_t *a, const uint8_t *b) {
    return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)a), _mm_loadl_epi64((const __m128i *)b)));
}

TILE_INLINE void q45_Kx8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y,
                              int64_t ys, const bool q5) {
    __m256 acc[PACK_MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), k16 = _mm256_set1_epi8(16);
    const int64_t nb = K / G4_QK_K;
    const size_t blk_bytes = q5 ? PACK5_BLOCK : PACKK_BLOCK;
    /* int16 lanes hold 8 maddubs of 4-bit quants (<= 30480) but only 4 of
       5-bit ones (<= 4*2*31*127 = 31496) before widening */
    const int kstep = q5 ? 4 : 8;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *gb = grp + (size_t)b * blk_bytes;
        const uint8_t *scp = gb + 32, *mnp = gb + 96, *qp = gb + (q5 ? PACK5_Q : PACKK_Q), *qhp = gb + PACK5_QH;
        __m256i isum[PACK_MAXC];
        UNROLL for (int c = 0; c < nc; c++) isum[c] = _mm256_setzero_si256();
        for (int ch = 0; ch < 4; ch++) {
            const __m256i slo = pair16(scp + 16 * ch, scp + 16 * ch), shi = pair16(scp + 16 * ch + 8, scp + 16 * ch + 8);
            const __m256i blo = _mm256_set1_epi8((char)(1 << (2 * ch))), bhi = _mm256_set1_epi8((char)(2 << (2 * ch)));
            for (int k0 = 0; k0 < 8; k0 += kstep) {
                __m256i plo[PACK_MAXC], phi[PACK_MAXC];
                UNROLL for (int c = 0; c < nc; c++) plo[c] = phi[c] = _mm256_setzero_si256();
                for (int k = k0; k < k0 + kstep; k++) {
                    const __m256i v = _mm256_loadu_si256((const __m256i *)(qp + 256 * ch + 32 * k));
                    __m256i lo = _mm256_and_si256(v, m4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
                    if (q5) { /* fifth bits: bit 2ch (low nibbles) and 2ch+1 (high) of qh */
                        const __m256i h = _mm256_loadu_si256((const __m256i *)(qhp + 32 * k));
                        lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, blo), blo), k16));
                        hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(h, bhi), bhi), k16));
                    }
                    UNROLL for (int c = 0; c < nc; c++) {
                        const int8_t *yq = ((const struct g4_block_q8_K *)(xq + (size_t)c * xrb) + b)->qs + 64 * ch + 4 * k;
                        plo[c] = _mm256_add_epi16(plo[c], _mm256_maddubs_epi16(lo, bcast4(yq)));
                        phi[c] = _mm256_add_epi16(phi[c], _mm256_maddubs_epi16(hi, bcast4(yq + 32)));
                    }
                }
                UNROLL for (int c = 0; c < nc; c++)
                    isum[c] = _mm256_add_epi32(isum[c], _mm256_add_epi32(_mm256_madd_epi16(plo[c], slo),
                                                                         _mm256_madd_epi16(phi[c], shi)));
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)gb));
        const __m256 dmw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(gb + 16)));
        __m256i mnp2[4];
        for (int jp = 0; jp < 4; jp++) mnp2[jp] = pair16(mnp + 16 * jp, mnp + 16 * jp + 8);
        UNROLL for (int c = 0; c < nc; c++) {
            const struct g4_block_q8_K *x = (const struct g4_block_q8_K *)(xq + (size_t)c * xrb) + b;
            const __m256i bs = _mm256_loadu_si256((const __m256i *)x->bsums);
            /* 8 int16 sub-block sums (pairs of group sums, |.| <= 4064) */
            const __m256i bsj = _mm256_castsi128_si256(
                _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1)));
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

TILE_INLINE void q4_Kx8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y,
                             int64_t ys) {
    q45_Kx8_body(nc, K, grp, xq, xrb, y, ys, false);
}
TILE_INLINE void q5_Kx8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y,
                             int64_t ys) {
    q45_Kx8_body(nc, K, grp, xq, xrb, y, ys, true);
}
PACK_INST4(q4_Kx8)
PACK_INST4(q5_Kx8)

enum { PACK6_BLOCK = 1680, PACK6_SC = 16, PACK6_Q = 144 };

void g4_repack_q6_Kx8(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst) {
    const int64_t nb = K / G4_QK_K;
    uint8_t *o = dst;
    for (int64_t g = 0; g < n_groups; g++)
        for (int64_t b = 0; b < nb; b++, o += PACK6_BLOCK)
            for (int r = 0; r < PACK_ROWS; r++) {
                const struct g4_block_q6_K *blk =
                    (const struct g4_block_q6_K *)((const char *)w + (size_t)(g * PACK_ROWS + r) * w_row_bytes) + b;
                memcpy(o + 2 * r, &blk->d, 2);
                for (int j = 0; j < 16; j++) o[PACK6_SC + 8 * j + r] = (uint8_t)blk->scales[j];
                for (int h = 0; h < 2; h++)
                    for (int k = 0; k < 8; k++) {
                        uint8_t *piece = o + PACK6_Q + 96 * (8 * h + k);
                        memcpy(piece + 4 * r, blk->ql + 64 * h + 4 * k, 4);
                        memcpy(piece + 32 + 4 * r, blk->ql + 64 * h + 32 + 4 * k, 4);
                        memcpy(piece + 64 + 4 * r, blk->qh + 32 * h + 4 * k, 4);
                    }
            }
}

/* signed bytes a[r], b[r] -> int16 pairs in 32-bit lane r */
static inline __m256i pair16s(const uint8_t *a, const uint8_t *b) {
    return _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)a), _mm_loadl_epi64((const __m128i *)b)));
}

TILE_INLINE void q6_Kx8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y,
                             int64_t ys) {
    __m256 acc[PACK_MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
    const int64_t nb = K / G4_QK_K;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *gb = grp + (size_t)b * PACK6_BLOCK, *scp = gb + PACK6_SC;
        __m256i isum[PACK_MAXC];
        UNROLL for (int c = 0; c < nc; c++) isum[c] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < 8; k += 2) {
                __m256i q[2][4];
                for (int t = 0; t < 2; t++) {
                    const uint8_t *piece = gb + PACK6_Q + 96 * (8 * h + k + t);
                    const __m256i l0 = _mm256_loadu_si256((const __m256i *)piece);
                    const __m256i l1 = _mm256_loadu_si256((const __m256i *)(piece + 32));
                    const __m256i hb = _mm256_loadu_si256((const __m256i *)(piece + 64));
                    q[t][0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m3), 4));
                    q[t][1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m3), 4));
                    q[t][2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m3), 4));
                    q[t][3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m3), 4));
                }
                for (int j = 0; j < 4; j++) {
                    const int g = 8 * h + 2 * j + k / 4;
                    const __m256i scv = pair16s(scp + 8 * g, scp + 8 * g);
                    UNROLL for (int c = 0; c < nc; c++) {
                        const int8_t *yq =
                            ((const struct g4_block_q8_K *)(xq + (size_t)c * xrb) + b)->qs + 128 * h + 32 * j + 4 * k;
                        const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(q[0][j], bcast4(yq)),
                                                           _mm256_maddubs_epi16(q[1][j], bcast4(yq + 4)));
                        isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(p, scv));
                    }
                }
            }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)gb));
        UNROLL for (int c = 0; c < nc; c++) {
            const struct g4_block_q8_K *x = (const struct g4_block_q8_K *)(xq + (size_t)c * xrb) + b;
            const __m256i bs = _mm256_loadu_si256((const __m256i *)x->bsums);
            __m256i corr = _mm256_setzero_si256();
            for (int p = 0; p < 8; p++) /* groups 2p, 2p+1 */
                corr = _mm256_add_epi32(corr, _mm256_madd_epi16(pair16s(scp + 16 * p, scp + 16 * p + 8),
                                                                _mm256_permutevar8x32_epi32(bs, _mm256_set1_epi32(p))));
            const __m256i si = _mm256_sub_epi32(isum[c], _mm256_slli_epi32(corr, 5));
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(x->d)), _mm256_cvtepi32_ps(si), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) _mm256_storeu_ps(y + c * ys, acc[c]);
}

PACK_INST4(q6_Kx8)

/* Q8_0 ("q8_0x8"), per group of 8 rows and block (272 bytes, exactly 8
 * plain blocks): uint16_t d[8]; int8_t q[8][32], q[k][4r+i] = qs_r[4k+i].
 * Signed x signed via maddubs(|w|, sign(y, w)) (pairs <= 2*128*127 < 2^15),
 * widened by madd at every piece. */
enum { PACK8_BLOCK = 272 };

void g4_repack_q8_0x8(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst) {
    const int64_t nb = K / 32;
    uint8_t *o = dst;
    for (int64_t g = 0; g < n_groups; g++)
        for (int64_t b = 0; b < nb; b++, o += PACK8_BLOCK)
            for (int r = 0; r < PACK_ROWS; r++) {
                const struct g4_block_q8_0 *blk =
                    (const struct g4_block_q8_0 *)((const char *)w + (size_t)(g * PACK_ROWS + r) * w_row_bytes) + b;
                memcpy(o + 2 * r, &blk->d, 2);
                for (int k = 0; k < 8; k++) memcpy(o + 16 + 32 * k + 4 * r, blk->qs + 4 * k, 4);
            }
}

TILE_INLINE void q8_0x8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y,
                             int64_t ys) {
    __m256 acc[PACK_MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i ones16 = _mm256_set1_epi16(1);
    const int64_t nb = K / 32;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *gb = grp + (size_t)b * PACK8_BLOCK;
        __m256i p32[PACK_MAXC];
        UNROLL for (int c = 0; c < nc; c++) p32[c] = _mm256_setzero_si256();
        for (int k = 0; k < 8; k++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(gb + 16 + 32 * k));
            const __m256i av = _mm256_sign_epi8(v, v);
            UNROLL for (int c = 0; c < nc; c++) {
                const int8_t *yq = ((const struct g4_block_q8_0 *)(xq + (size_t)c * xrb) + b)->qs + 4 * k;
                const __m256i p = _mm256_maddubs_epi16(av, _mm256_sign_epi8(bcast4(yq), v));
                p32[c] = _mm256_add_epi32(p32[c], _mm256_madd_epi16(p, ones16));
            }
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)gb));
        UNROLL for (int c = 0; c < nc; c++) {
            const struct g4_block_q8_0 *x = (const struct g4_block_q8_0 *)(xq + (size_t)c * xrb) + b;
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(g4x_f16(x->d))), _mm256_cvtepi32_ps(p32[c]), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) _mm256_storeu_ps(y + c * ys, acc[c]);
}

PACK_INST4(q8_0x8)

/* rows [n0, n1), whole groups; activation rows in equal groups of <= 4 */
/* activation rows per Q4_K kernel call: with 4 its int16 partial sums
 * spill; 2 measured 81 vs 75 GMAC/s at M = 16 and 64 (N=2048 K=3840,
 * alternated runs, load 5). Q5_K, Q6_K and Q8_0 measured best with 3-4. */
enum { KMAXC = 2 };

static void run_packed(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1,
                       size_t gbytes, const pack_fn *fns, int maxc) {
    /* row blocks of ~256 KB of weights (L2) swept once per column group
       (whose activations stay in L1) */
    const int64_t groups = (a->M + maxc - 1) / maxc;
    const int64_t base = a->M / groups, extra = a->M % groups;
    const int64_t rb_rows = G4_MAX((int64_t)1, (int64_t)((256u << 10) / gbytes)) * PACK_ROWS;
    for (int64_t r0 = n0; r0 < n1; r0 += rb_rows) {
        const int64_t r1 = G4_MIN(r0 + rb_rows, n1);
        int64_t m0 = 0;
        for (int64_t g = 0; g < groups; g++) {
            const int nc = (int)(base + (g < extra));
            for (int64_t n = r0; n < r1; n += PACK_ROWS)
                fns[nc](a->K, (const uint8_t *)a->w_packed + (size_t)(n / PACK_ROWS) * gbytes,
                        (const char *)xq + (size_t)m0 * xrb, xrb, a->y + m0 * a->y_stride + n, a->y_stride);
            m0 += nc;
        }
    }
}

bool g4_matmul_q6_Kx8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1) {
    run_packed(a, xq, xrb, n0, n1, (size_t)(a->K / G4_QK_K) * PACK6_BLOCK, q6_Kx8_fns, PACK_MAXC);
    return true;
}

bool g4_matmul_q8_0x8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1) {
    run_packed(a, xq, xrb, n0, n1, (size_t)(a->K / 32) * PACK8_BLOCK, q8_0x8_fns, PACK_MAXC);
    return true;
}

bool g4_matmul_q5_Kx8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1) {
    run_packed(a, xq, xrb, n0, n1, (size_t)(a->K / G4_QK_K) * PACK5_BLOCK, q5_Kx8_fns, PACK_MAXC);
    return true;
}

bool g4_matmul_q4_Kx8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1) {
    run_packed(a, xq, xrb, n0, n1, (size_t)(a->K / G4_QK_K) * PACKK_BLOCK, q4_Kx8_fns, KMAXC);
    return true;
}

/* Q5_0 ("q5_0x8", 176 bytes per group and block, the same as 8 plain
 * blocks): uint16_t d[8]; uint8_t hb[32]; uint8_t v[4][32] as q4_0x8.
 * Bit 2k of hb[4r+i] is the fifth bit of element 4k+i of row r (piece k's
 * low nibble in lane 4r+i) and bit 2k+1 that of element 16+4k+i (its high
 * nibble), so a 16-bit shift and a mask put the 16s of one half-piece in
 * place (bits never cross bytes: the kept bit 4 comes from the same byte).
 * Quants are
 * 0..31 with offset -16 (side tables as q4_0, twice the offset term); int16
 * lanes hold 4 maddubs (<= 4*2*31*127 = 31496) before widening. */
enum { PACKQ5_BLOCK = 176, PACKQ5_HB = 16, PACKQ5_V = 48 };

void g4_repack_q5_0x8(const void *w, size_t w_row_bytes, int64_t n_groups, int64_t K, void *dst) {
    const int64_t nb = K / 32;
    uint8_t *o = dst;
    for (int64_t g = 0; g < n_groups; g++)
        for (int64_t b = 0; b < nb; b++, o += PACKQ5_BLOCK) {
            uint8_t hb[32] = {0};
            for (int r = 0; r < PACK_ROWS; r++) {
                const struct g4_block_q5_0 *blk =
                    (const struct g4_block_q5_0 *)((const char *)w + (size_t)(g * PACK_ROWS + r) * w_row_bytes) + b;
                const uint32_t qh = (uint32_t)blk->qh[0] | (uint32_t)blk->qh[1] << 8 | (uint32_t)blk->qh[2] << 16 |
                                    (uint32_t)blk->qh[3] << 24;
                memcpy(o + 2 * r, &blk->d, 2);
                for (int k = 0; k < 4; k++) {
                    memcpy(o + PACKQ5_V + 32 * k + 4 * r, blk->qs + 4 * k, 4);
                    for (int i = 0; i < 4; i++)
                        hb[4 * r + i] |= (uint8_t)(((qh >> (4 * k + i)) & 1u) << (2 * k) |
                                                   ((qh >> (16 + 4 * k + i)) & 1u) << (2 * k + 1));
                }
            }
            memcpy(o + PACKQ5_HB, hb, sizeof hb);
        }
}

/* bit m of every byte of h moved to bit 4, masked: the 16s of half-piece m */
static inline __m256i fifth16(__m256i h, int m, __m256i k16) {
    switch (m) {
    case 0: h = _mm256_slli_epi16(h, 4); break;
    case 1: h = _mm256_slli_epi16(h, 3); break;
    case 2: h = _mm256_slli_epi16(h, 2); break;
    case 3: h = _mm256_slli_epi16(h, 1); break;
    case 4: break;
    case 5: h = _mm256_srli_epi16(h, 1); break;
    case 6: h = _mm256_srli_epi16(h, 2); break;
    default: h = _mm256_srli_epi16(h, 3); break;
    }
    return _mm256_and_si256(h, k16);
}

TILE_INLINE void q5_0x8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb,
                             const struct q8_side *const *sd, float *y, int64_t ys, const bool add) {
    __m256 acc[PACK_MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones16 = _mm256_set1_epi16(1), k16 = _mm256_set1_epi8(16);
    const int64_t nb = K / 32;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *gb = grp + (size_t)b * PACKQ5_BLOCK;
        const __m256i hb = _mm256_loadu_si256((const __m256i *)(gb + PACKQ5_HB));
        const int8_t *xs[PACK_MAXC];
        UNROLL for (int c = 0; c < nc; c++) xs[c] = ((const struct g4_block_q8_0 *)(xq + (size_t)c * xrb) + b)->qs;
        __m256i p32[PACK_MAXC];
        UNROLL for (int c = 0; c < nc; c++) p32[c] = _mm256_setzero_si256();
        _Pragma("GCC unroll 2") for (int h = 0; h < 2; h++) { /* pieces 2h, 2h+1 in int16, then widened */
            __m256i p16[PACK_MAXC];
            UNROLL for (int c = 0; c < nc; c++) p16[c] = _mm256_setzero_si256();
            _Pragma("GCC unroll 2") for (int k = 2 * h; k < 2 * h + 2; k++) {
                const __m256i v = _mm256_loadu_si256((const __m256i *)(gb + PACKQ5_V + 32 * k));
                const __m256i wl = _mm256_or_si256(_mm256_and_si256(v, m4), fifth16(hb, 2 * k, k16));
                const __m256i wh =
                    _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), fifth16(hb, 2 * k + 1, k16));
                UNROLL for (int c = 0; c < nc; c++) {
                    p16[c] = _mm256_add_epi16(p16[c], _mm256_maddubs_epi16(wl, bcast4(xs[c] + 4 * k)));
                    p16[c] = _mm256_add_epi16(p16[c], _mm256_maddubs_epi16(wh, bcast4(xs[c] + 16 + 4 * k)));
                }
            }
            UNROLL for (int c = 0; c < nc; c++) p32[c] = _mm256_add_epi32(p32[c], _mm256_madd_epi16(p16[c], ones16));
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)gb));
        UNROLL for (int c = 0; c < nc; c++) {
            /* dy * (sum(q y) - 16 sum(y)) per row, then times the row scales */
            const __m256 t = _mm256_fmsub_ps(_mm256_cvtepi32_ps(p32[c]), _mm256_set1_ps(sd[c][b].d),
                                             _mm256_set1_ps(2.0f * sd[c][b].ds8));
            acc[c] = _mm256_fmadd_ps(dw, t, acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) {
        __m256 r = acc[c];
        if (add) r = _mm256_add_ps(r, _mm256_loadu_ps(y + c * ys));
        _mm256_storeu_ps(y + c * ys, r);
    }
}

SIDE_INST4(q5_0x8)

enum { SIDE_MAXNB = 512 }; /* blocks per side table (K = 16384) */

/* rows [n0, n1), whole groups; activation rows in equal groups of <= 4.
 * Row blocks of about 256 KB of weights (L2) are swept once per column
 * group, whose side tables are made once per row block; K beyond
 * SIDE_MAXNB blocks is done in slices whose results are added. */
static void run_side(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1, size_t blk,
                     const q4_0x8_fn *fns) {
    const int64_t nb = a->K / 32;
    const size_t gbytes = (size_t)nb * blk;
    struct q8_side side[PACK_MAXC][SIDE_MAXNB];
    const int64_t groups = (a->M + PACK_MAXC - 1) / PACK_MAXC;
    const int64_t base = a->M / groups, extra = a->M % groups;
    const int64_t rb_rows = G4_MAX((int64_t)1, (int64_t)((256u << 10) / gbytes)) * PACK_ROWS;
    for (int64_t r0 = n0; r0 < n1; r0 += rb_rows) {
        const int64_t r1 = G4_MIN(r0 + rb_rows, n1);
        int64_t m0 = 0;
        for (int64_t g = 0; g < groups; g++) {
            const int nc = (int)(base + (g < extra));
            for (int64_t k0 = 0; k0 < nb; k0 += SIDE_MAXNB) {
                const int64_t kn = G4_MIN((int64_t)SIDE_MAXNB, nb - k0);
                const char *xg = (const char *)xq + (size_t)m0 * xrb + (size_t)k0 * sizeof(struct g4_block_q8_0);
                const struct q8_side *sd[PACK_MAXC];
                for (int c = 0; c < nc; c++) {
                    q8_0_side((const struct g4_block_q8_0 *)(xg + (size_t)c * xrb), kn, side[c]);
                    sd[c] = side[c];
                }
                for (int64_t n = r0; n < r1; n += PACK_ROWS)
                    fns[nc](kn * 32, (const uint8_t *)a->w_packed + (size_t)(n / PACK_ROWS) * gbytes + (size_t)k0 * blk,
                                   xg, xrb, sd, a->y + m0 * a->y_stride + n, a->y_stride, k0 > 0);
            }
            m0 += nc;
        }
    }
}

bool g4_matmul_q4_0x8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1) {
    run_side(a, xq, xrb, n0, n1, PACK_BLOCK, q4_0x8_fns);
    return true;
}

bool g4_matmul_q5_0x8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1) {
    run_side(a, xq, xrb, n0, n1, PACKQ5_BLOCK, q5_0x8_fns);
    return true;
}


/* ---- row lookups in packed groups (the tied embedding's input rows) ----
 * Each rebuilds the plain blocks of row `lane` of one group, the inverse of
 * the repack above, so g4_dequantize reads them as usual. */

void g4_unpack_q4_0x8(const void *group, int64_t K, int lane, void *dst) {
    const uint8_t *o = group;
    struct g4_block_q4_0 *blk = dst;
    for (int64_t b = 0; b < K / 32; b++, o += PACK_BLOCK) {
        memcpy(&blk[b].d, o + 2 * lane, 2);
        for (int c = 0; c < 4; c++) memcpy(blk[b].qs + 4 * c, o + 16 + 32 * c + 4 * lane, 4);
    }
}

void g4_unpack_q5_0x8(const void *group, int64_t K, int lane, void *dst) {
    const uint8_t *o = group;
    struct g4_block_q5_0 *blk = dst;
    for (int64_t b = 0; b < K / 32; b++, o += PACKQ5_BLOCK) {
        uint32_t qh = 0;
        memcpy(&blk[b].d, o + 2 * lane, 2);
        for (int k = 0; k < 4; k++) {
            memcpy(blk[b].qs + 4 * k, o + PACKQ5_V + 32 * k + 4 * lane, 4);
            for (int i = 0; i < 4; i++) {
                const uint8_t h = o[PACKQ5_HB + 4 * lane + i];
                qh |= (uint32_t)((h >> (2 * k)) & 1u) << (4 * k + i);
                qh |= (uint32_t)((h >> (2 * k + 1)) & 1u) << (16 + 4 * k + i);
            }
        }
        for (int i = 0; i < 4; i++) blk[b].qh[i] = (uint8_t)(qh >> (8 * i));
    }
}

void g4_unpack_q8_0x8(const void *group, int64_t K, int lane, void *dst) {
    const uint8_t *o = group;
    struct g4_block_q8_0 *blk = dst;
    for (int64_t b = 0; b < K / 32; b++, o += PACK8_BLOCK) {
        memcpy(&blk[b].d, o + 2 * lane, 2);
        for (int k = 0; k < 8; k++) memcpy(blk[b].qs + 4 * k, o + 16 + 32 * k + 4 * lane, 4);
    }
}

void g4_unpack_q6_Kx8(const void *group, int64_t K, int lane, void *dst) {
    const uint8_t *o = group;
    struct g4_block_q6_K *blk = dst;
    for (int64_t b = 0; b < K / G4_QK_K; b++, o += PACK6_BLOCK) {
        memcpy(&blk[b].d, o + 2 * lane, 2);
        for (int j = 0; j < 16; j++) blk[b].scales[j] = (int8_t)o[PACK6_SC + 8 * j + lane];
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < 8; k++) {
                const uint8_t *piece = o + PACK6_Q + 96 * (8 * h + k);
                memcpy(blk[b].ql + 64 * h + 4 * k, piece + 4 * lane, 4);
                memcpy(blk[b].ql + 64 * h + 32 + 4 * k, piece + 32 + 4 * lane, 4);
                memcpy(blk[b].qh + 32 * h + 4 * k, piece + 64 + 4 * lane, 4);
            }
    }
}
