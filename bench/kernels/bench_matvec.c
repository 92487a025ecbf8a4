/* bench_matvec.c — single-thread matvec (M = 1) and matmul (M > 1) time per
 * weight type, for every kernel table this CPU supports plus "<isa>-dot"
 * (the same table with the prefill tiles removed, i.e. the vec_dot path), so
 * the tile speed-up is measured directly, and "<isa>-pk" (weights repacked
 * at load time with g4_matmul_repack, for types that have a layout). Not part of the test suite.
 * Build and run after `make`:
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc bench/kernels/bench_matvec.c \
 *      build/libg4.a -ljansson -lm -pthread -o build/bench_matvec
 *   ./build/bench_matvec [N K reps Ms types]   e.g. 1024 3840 5 1,4,16,64 q4_0,q4_K
 *   (G4_BENCH_PK=avx2 times the "-pk" rows with that table instead of the best)
 * Times are this thread's CPU time (a shared machine preempts long runs;
 * wall time would count the other jobs). Prints the minimum over `reps`
 * runs (the least noisy figure), the weight GB/s at that minimum (decode is bound by it) and, for
 * M > 1, GMAC/s (prefill is bound by it). */
#include "core/fp16.h"
#include "kernels/kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* not wall time: the machine is shared, and a
                                                    preempted run would count the other jobs */
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static bool listed(const char *list, const char *name) {
    if (!list) return true;
    const size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0)) return true;
    return false;
}

int main(int argc, char **argv) {
    const int64_t N = argc > 1 ? atoll(argv[1]) : 4096, K = argc > 2 ? atoll(argv[2]) : 4096;
    const int reps = argc > 3 ? atoi(argv[3]) : 5;
    int64_t Ms[16] = {1, 8}, n_ms = 2;
    if (argc > 4) {
        n_ms = 0;
        for (char *p = argv[4]; *p && n_ms < 16;) {
            Ms[n_ms++] = strtoll(p, &p, 10);
            if (*p == ',') p++;
        }
    }
    const char *tsel = argc > 5 ? argv[5] : NULL;
    const uint32_t types[] = {G4_TYPE_F32, G4_TYPE_F16, G4_TYPE_BF16, G4_TYPE_Q8_0, G4_TYPE_Q4_0, G4_TYPE_Q5_0,
                              G4_TYPE_Q4_K, G4_TYPE_Q5_K, G4_TYPE_Q6_K, G4_TYPE_IQ4_XS};
    const struct g4_kernels *ks[8];
    int nk = g4_kernels_list(ks, 4);
    /* "<isa>-dot": the best table without its matmul tiles */
    static struct g4_kernels nodot;
    static char nodot_name[32];
    if (nk > 1) {
        nodot = *ks[nk - 1];
        snprintf(nodot_name, sizeof(nodot_name), "%s-dot", nodot.name);
        nodot.name = nodot_name;
        for (int t = 0; t < G4_TYPE_COUNT; t++) nodot.type[t].matmul = NULL;
        ks[nk++] = &nodot;
    }
    int64_t maxm = 1;
    for (int i = 0; i < n_ms; i++) maxm = Ms[i] > maxm ? Ms[i] : maxm;
    float *x = malloc(sizeof(float) * (size_t)(maxm * K)), *y = malloc(sizeof(float) * (size_t)(maxm * N));
    for (int64_t i = 0; i < maxm * K; i++) x[i] = (float)((i * 37) % 101 - 50) / 50.0f;
    printf("N=%lld K=%lld, 1 thread, best of %d\n%-8s %-9s %4s %10s %10s %9s %8s\n", (long long)N, (long long)K, reps,
           "type", "table", "M", "min ms", "ms/row", "GB/s", "GMAC/s");
    for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
        uint64_t rb;
        if (!listed(tsel, g4_type_name(types[ti])) || !g4_row_bytes(types[ti], (uint64_t)K, &rb)) continue;
        uint8_t *w = malloc(rb * (size_t)N);
        for (size_t i = 0; i < rb * (size_t)N; i++) w[i] = (uint8_t)(i * 2654435761u >> 13);
        if (types[ti] == G4_TYPE_F32)
            for (int64_t i = 0; i < N * K; i++) ((float *)w)[i] = 0.01f * (float)(i % 7);
        if (types[ti] == G4_TYPE_F16)
            for (int64_t i = 0; i < N * K; i++) ((uint16_t *)w)[i] = g4_f32_to_f16(0.01f * (float)(i % 7));
        /* the best table again with load-time repacked weights ("-pk"), where it has a layout */
        void *wp = NULL;
        /* G4_BENCH_PK=NAME: repack for that table instead of the best one */
        const char *pkn = getenv("G4_BENCH_PK");
        const struct g4_kernels *pkt = pkn && g4_kernels_get(pkn) ? g4_kernels_get(pkn) : ks[nk > 1 ? nk - 2 : 0];
        const size_t pb = g4_matmul_repack_size(pkt, types[ti], N, K);
        if (pb && (wp = malloc(pb)) && !g4_matmul_repack(pkt, types[ti], w, rb, N, K, wp)) {
            free(wp);
            wp = NULL;
        }
        for (int mi = 0; mi < n_ms; mi++)
            for (int ki = 0; ki < nk + (wp != NULL); ki++) {
                const bool pk = ki == nk;
                const struct g4_kernels *kt = pk ? pkt : ks[ki];
                const int64_t M = Ms[mi];
                if (strcmp(kt->name, "ref") == 0 && M > 1) continue; /* too slow */
                struct g4_matmul_args a = {.type = types[ti], .w = w, .w_row_bytes = rb, .N = N, .K = K, .M = M,
                                           .x = x, .x_stride = K, .y = y, .y_stride = N, .w_packed = pk ? wp : NULL};
                size_t ws = g4_matmul_wsize(kt, types[ti], M, K, false);
                a.wdata = malloc(ws ? ws : 1);
                if (g4_matmul_check(kt, &a, ws, NULL) != G4_OK) {
                    free(a.wdata);
                    continue;
                }
                g4_matmul(NULL, kt, &a); /* warm-up */
                double mn = 1e30;
                for (int i = 0; i < reps; i++) {
                    double t0 = now();
                    g4_matmul(NULL, kt, &a);
                    const double t = now() - t0;
                    mn = t < mn ? t : mn;
                }
                char name[40];
                snprintf(name, sizeof(name), "%s%s", kt->name, pk ? "-pk" : "");
                printf("%-8s %-9s %4lld %10.3f %10.4f %9.2f %8.2f\n", g4_type_name(types[ti]), name,
                       (long long)M, mn * 1e3, mn * 1e3 / (double)M, (double)rb * (double)N / mn / 1e9,
                       (double)M * (double)N * (double)K / mn / 1e9);
                fflush(stdout);
                free(a.wdata);
            }
        free(w);
        free(wp);
    }
    free(x);
    free(y);
    return 0;
}
