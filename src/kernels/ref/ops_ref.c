/* ops_ref.c — scalar references of the float32 element-wise and row ops:
 * rmsnorm, rope, softmax, gelu_tanh, geglu, add, mul, scale, softcap, and
 * the float32 -> f16/bf16 row conversion.
 * Reductions accumulate in double; transcendental functions are evaluated
 * in double and rounded once, so each result is within about one float ulp
 * of the exact value of the float formula. y == x is allowed everywhere. */
#include "kernels/kernels_impl.h"

#include "core/fp16.h"

#include <math.h>
#include <string.h>

void g4_rmsnorm_ref(float *y, const float *x, const float *w, int64_t n, float eps, enum g4_norm_mode mode) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    /* HF: x * rsqrt(mean(x^2) + eps), all in float32 */
    const float mean = (float)(ss / (double)n);
    const float r = (float)(1.0 / sqrt((double)(mean + eps)));
    switch (mode) {
    case G4_NORM_W:
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] * r) * w[i];
        break;
    case G4_NORM_1PW:
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] * r) * (1.0f + w[i]);
        break;
    default:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * r;
        break;
    }
}

void g4_rope_ref(float *x, int64_t n_head, int64_t head_dim, int64_t head_stride, int32_t pos, const float *inv_freq) {
    const int64_t half = head_dim / 2;
    for (int64_t i = 0; i < half; i++) {
        if (inv_freq[i] == 0.0f) continue; /* identity pair (partial rope) */
        const float theta = (float)pos * inv_freq[i]; /* float32 product, as HF */
        const float c = (float)cos((double)theta), s = (float)sin((double)theta);
        for (int64_t h = 0; h < n_head; h++) {
            float *v = x + h * head_stride;
            const float a = v[i], b = v[i + half];
            v[i] = a * c - b * s;
            v[i + half] = b * c + a * s;
        }
    }
}

void g4_rope_cs_ref(float *x, int64_t n_head, int64_t head_dim, int64_t head_stride, const float *cs) {
    const int64_t half = head_dim / 2;
    for (int64_t i = 0; i < half; i++) {
        const float c = cs[i], s = cs[half + i];
        if (c == 1.0f && s == 0.0f) continue; /* identity pair */
        for (int64_t h = 0; h < n_head; h++) {
            float *v = x + h * head_stride;
            const float a = v[i], b = v[i + half];
            v[i] = a * c - b * s;
            v[i + half] = b * c + a * s;
        }
    }
}

void g4_softmax_ref(float *x, int64_t n) {
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) mx = fmaxf(mx, x[i]);
    if (mx == -INFINITY) { /* nothing allowed: all zero rather than NaN */
        for (int64_t i = 0; i < n; i++) x[i] = 0.0f;
        return;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double e = exp((double)x[i] - mx);
        x[i] = (float)e;
        sum += e;
    }
    const double inv = 1.0 / sum;
    for (int64_t i = 0; i < n; i++) x[i] = (float)(x[i] * inv);
}

static inline float gelu_tanh1(float x) {
    const double xd = x;
    const double k = 0.79788456080286535588; /* sqrt(2/pi) */
    return (float)(0.5 * xd * (1.0 + tanh(k * (xd + 0.044715 * xd * xd * xd))));
}

void g4_gelu_tanh_ref(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = gelu_tanh1(x[i]);
}

void g4_geglu_ref(float *y, const float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = gelu_tanh1(gate[i]) * up[i];
}

void g4_add_ref(float *y, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

void g4_mul_ref(float *y, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

void g4_scale_ref(float *y, const float *x, float s, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * s;
}

void g4_softcap_ref(float *y, const float *x, float cap, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = (float)((double)cap * tanh((double)x[i] / cap));
}

void g4_cvt_row_ref(void *dst, uint32_t dst_type, const float *src, int64_t n) {
    if (dst_type == G4_TYPE_F32) {
        memmove(dst, src, sizeof(float) * (size_t)n);
    } else if (dst_type == G4_TYPE_F16) {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = g4_f32_to_f16(src[i]);
    } else if (dst_type == G4_TYPE_BF16) {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = g4_f32_to_bf16(src[i]);
    }
}
