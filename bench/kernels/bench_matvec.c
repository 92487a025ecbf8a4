/* bench_matvec.c — single-thread matvec (M = 1) and small-batch matmul
 * (M = 8) time per weight type, for every kernel table this CPU supports.
 * Not part of the test suite. Build and run after `make`:
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc bench/kernels/bench_matvec.c \
 *      build/libg4.a -ljansson -lm -pthread -o build/bench_matvec && ./build/bench_matvec [N K reps]
 * Prints mean, standard deviation and minimum over `reps` runs and the
 * weight bytes streamed per second at the minimum (decode is bound by that
 * number; on a shared machine the minimum is the least noisy figure). */
#include "core/fp16.h"
#include "kernels/kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const int64_t N = argc > 1 ? atoll(argv[1]) : 4096, K = argc > 2 ? atoll(argv[2]) : 4096;
    const int reps = argc > 3 ? atoi(argv[3]) : 5;
    const uint32_t types[] = {G4_TYPE_F32, G4_TYPE_F16, G4_TYPE_BF16, G4_TYPE_Q8_0, G4_TYPE_Q4_0,
                              G4_TYPE_Q4_K, G4_TYPE_Q5_K, G4_TYPE_Q6_K, G4_TYPE_IQ4_XS};
    const struct g4_kernels *ks[4];
    const int nk = g4_kernels_list(ks, 4);
    float *x = malloc(sizeof(float) * (size_t)(8 * K)), *y = malloc(sizeof(float) * (size_t)(8 * N));
    for (int64_t i = 0; i < 8 * K; i++) x[i] = (float)((i * 37) % 101 - 50) / 50.0f;
    printf("N=%lld K=%lld, 1 thread, %d reps\n%-8s %-5s %2s %10s %8s %10s %9s\n", (long long)N, (long long)K, reps, "type",
           "table", "M", "mean ms", "sd", "min ms", "GB/s(min)");
    for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
        uint64_t rb;
        if (!g4_row_bytes(types[ti], (uint64_t)K, &rb)) continue;
        uint8_t *w = malloc(rb * (size_t)N);
        for (size_t i = 0; i < rb * (size_t)N; i++) w[i] = (uint8_t)(i * 2654435761u >> 13);
        if (types[ti] == G4_TYPE_F32)
            for (int64_t i = 0; i < N * K; i++) ((float *)w)[i] = 0.01f * (float)(i % 7);
        if (types[ti] == G4_TYPE_F16)
            for (int64_t i = 0; i < N * K; i++) ((uint16_t *)w)[i] = g4_f32_to_f16(0.01f * (float)(i % 7));
        for (int ki = 0; ki < nk; ki++)
            for (int64_t M = 1; M <= 8; M += 7) {
                struct g4_matmul_args a = {.type = types[ti], .w = w, .w_row_bytes = rb, .N = N, .K = K, .M = M,
                                           .x = x, .x_stride = K, .y = y, .y_stride = N};
                size_t ws = g4_matmul_wsize(ks[ki], types[ti], M, K, false);
                a.wdata = malloc(ws ? ws : 1);
                if (g4_matmul_check(ks[ki], &a, ws, NULL) != G4_OK) {
                    free(a.wdata);
                    continue;
                }
                g4_matmul(NULL, ks[ki], &a); /* warm-up */
                double t[64], mean = 0, sd = 0, mn = 1e30;
                const int r = reps < 64 ? reps : 64;
                for (int i = 0; i < r; i++) {
                    double t0 = now();
                    g4_matmul(NULL, ks[ki], &a);
                    t[i] = now() - t0;
                    mean += t[i] / r;
                    mn = t[i] < mn ? t[i] : mn;
                }
                for (int i = 0; i < r; i++) sd += (t[i] - mean) * (t[i] - mean) / r;
                printf("%-8s %-5s %2lld %10.3f %8.3f %10.3f %9.2f\n", g4_type_name(types[ti]), ks[ki]->name, (long long)M,
                       mean * 1e3, sqrt(sd) * 1e3, mn * 1e3, (double)rb * (double)N / mn / 1e9);
                fflush(stdout);
                free(a.wdata);
            }
        free(w);
    }
    free(x);
    free(y);
    return 0;
}
