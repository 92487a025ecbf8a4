/* quantize_ref.c — float32 activations -> Q8_0 / Q8_K blocks, the scalar
 * references (same arithmetic as ggml's quantize_row_q8_0_ref and
 * quantize_row_q8_K_ref). n must be a multiple of the block size. Per
 * element the quantization error is at most half a step: amax/254 (Q8_0
 * additionally rounds its scale to f16). */
#include "kernels/kernels_impl.h"

#include "core/fp16.h"

#include <math.h>
#include <string.h>

void g4_quantize_row_q8_0_ref(const float *x, void *vy, int64_t n) {
    struct g4_block_q8_0 *y = vy;
    for (int64_t b = 0; b < n / G4_QK8_0; b++, x += G4_QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < G4_QK8_0; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[b].d = g4_f32_to_f16(d);
        for (int j = 0; j < G4_QK8_0; j++) y[b].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

void g4_quantize_row_q8_K_ref(const float *x, void *vy, int64_t n) {
    struct g4_block_q8_K *y = vy;
    for (int64_t b = 0; b < n / G4_QK_K; b++, x += G4_QK_K) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < G4_QK_K; j++) {
            float ax = fabsf(x[j]);
            if (ax > amax) {
                amax = ax;
                max = x[j];
            }
        }
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof(y[b]));
            continue;
        }
        /* ggml maps the largest-magnitude element to -127 (not 127), so the
         * scale carries the sign; keep that so sums match ggml exactly. */
        const float iscale = -127.0f / max;
        for (int j = 0; j < G4_QK_K; j++) {
            long v = lrintf(iscale * x[j]); /* nearest, ties to even */
            y[b].qs[j] = (int8_t)(v > 127 ? 127 : v);
        }
        for (int g = 0; g < G4_QK_K / 16; g++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) sum += y[b].qs[g * 16 + j];
            y[b].bsums[g] = (int16_t)sum;
        }
        y[b].d = 1.0f / iscale;
    }
}
