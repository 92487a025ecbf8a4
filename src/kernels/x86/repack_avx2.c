/* repack_avx2.c — Q4_0 weights repacked at load time into groups of 8 rows
 * ("q4_0x8"), and the AVX2 matmul that reads them (decode and prefill).
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
 * tolerance). Measured numbers are in the report (bench_matvec, "packed"). */
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

static inline __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* one group (8 rows) against nc activation rows; y[c*ys + r] for r < 8 */
TILE_INLINE void q4_0x8_body(const int nc, int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y,
                             int64_t ys) {
    __m256 acc[PACK_MAXC];
    UNROLL for (int c = 0; c < nc; c++) acc[c] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones16 = _mm256_set1_epi16(1), ones8 = _mm256_set1_epi8(1);
    const int64_t nb = K / 32;
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *gb = grp + (size_t)b * PACK_BLOCK;
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)gb));
        __m256i wl[4], wh[4];
        for (int c = 0; c < 4; c++) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(gb + 16 + 32 * c));
            wl[c] = _mm256_and_si256(v, m4);
            wh[c] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        }
        UNROLL for (int c = 0; c < nc; c++) {
            const struct g4_block_q8_0 *x = (const struct g4_block_q8_0 *)(xq + (size_t)c * xrb) + b;
            __m256i p16 = _mm256_maddubs_epi16(wl[0], bcast4(x->qs));
            p16 = _mm256_add_epi16(p16, _mm256_maddubs_epi16(wh[0], bcast4(x->qs + 16)));
            for (int k = 1; k < 4; k++) {
                p16 = _mm256_add_epi16(p16, _mm256_maddubs_epi16(wl[k], bcast4(x->qs + 4 * k)));
                p16 = _mm256_add_epi16(p16, _mm256_maddubs_epi16(wh[k], bcast4(x->qs + 16 + 4 * k)));
            }
            /* sum(y) over the block in every lane, for the -8 offset */
            __m256i sy = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, _mm256_loadu_si256((const __m256i *)x->qs)), ones16);
            sy = _mm256_add_epi32(sy, _mm256_permute2x128_si256(sy, sy, 1));
            sy = _mm256_add_epi32(sy, _mm256_shuffle_epi32(sy, 0x4E));
            sy = _mm256_add_epi32(sy, _mm256_shuffle_epi32(sy, 0xB1));
            const __m256i p32 = _mm256_sub_epi32(_mm256_madd_epi16(p16, ones16), _mm256_slli_epi32(sy, 3));
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(g4x_f16(x->d))), _mm256_cvtepi32_ps(p32), acc[c]);
        }
    }
    UNROLL for (int c = 0; c < nc; c++) _mm256_storeu_ps(y + c * ys, acc[c]);
}

typedef void (*pack_fn)(int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y, int64_t ys);
#define PACK_INST(nc) \
    static void q4_0x8_##nc(int64_t K, const uint8_t *grp, const char *xq, size_t xrb, float *y, int64_t ys) { \
        q4_0x8_body(nc, K, grp, xq, xrb, y, ys);                                                              \
    }
PACK_INST(1)
PACK_INST(2)
PACK_INST(3)
PACK_INST(4)
static const pack_fn q4_0x8_fns[PACK_MAXC + 1] = {NULL, q4_0x8_1, q4_0x8_2, q4_0x8_3, q4_0x8_4};

/* rows [n0, n1), whole groups; activation rows in equal groups of <= 4 */
bool g4_matmul_q4_0x8_avx2(const struct g4_matmul_args *a, const void *xq, size_t xrb, int64_t n0, int64_t n1) {
    const size_t gbytes = (size_t)(a->K / 32) * PACK_BLOCK;
    const int64_t groups = (a->M + PACK_MAXC - 1) / PACK_MAXC;
    const int64_t base = a->M / groups, extra = a->M % groups;
    for (int64_t n = n0; n < n1; n += PACK_ROWS) {
        const uint8_t *grp = (const uint8_t *)a->w_packed + (size_t)(n / PACK_ROWS) * gbytes;
        int64_t m0 = 0;
        for (int64_t g = 0; g < groups; g++) {
            const int nc = (int)(base + (g < extra));
            q4_0x8_fns[nc](a->K, grp, (const char *)xq + (size_t)m0 * xrb, xrb, a->y + m0 * a->y_stride + n,
                           a->y_stride);
            m0 += nc;
        }
    }
    return true;
}
