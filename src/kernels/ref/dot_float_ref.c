/* dot_float_ref.c — scalar reference dots for float weight types (F32, F16,
 * BF16) against float32 activations. They accumulate in double, so they are
 * at least as accurate as any SIMD variant checked against them. */
#include "kernels/kernels_impl.h"

#include "core/fp16.h"

float g4_dot_f32_ref(int64_t n, const float *a, const float *b) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return (float)s;
}

void g4_vec_dot_f32_ref(int64_t n, float *s, const void *w, const void *x) {
    *s = g4_dot_f32_ref(n, w, x);
}

void g4_vec_dot_f16_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const uint16_t *w = vw;
    const float *x = vx;
    double acc = 0.0;
    for (int64_t i = 0; i < n; i++) acc += (double)g4_f16_to_f32(w[i]) * x[i];
    *s = (float)acc;
}

void g4_vec_dot_bf16_ref(int64_t n, float *s, const void *vw, const void *vx) {
    const uint16_t *w = vw;
    const float *x = vx;
    double acc = 0.0;
    for (int64_t i = 0; i < n; i++) acc += (double)g4_bf16_to_f32(w[i]) * x[i];
    *s = (float)acc;
}
