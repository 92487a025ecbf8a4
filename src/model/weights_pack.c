/* weights_pack.c — load-time repacking of a bound decoder's matrices into
 * the kernel table's packed layouts (kernels.h g4_matmul_repack: groups of
 * pack_rows rows interleaved so one load feeds every row of a group; 1.2-2x
 * faster matmuls for decode and prefill alike).
 * Every matrix the matmul reads is packed: the layer projections, MoE
 * experts (all experts of a layer as one matrix, so expert e's packed rows
 * start at e * g4_matmul_repack_size(rows)), PLE matrices and the output
 * matrix (the tied embedding, whose input lookups then read rows back from
 * the packed copy where the table can unpack them: g4_matmul_unpack_row). All copies live in one anonymous mapping (transparent
 * huge pages requested) owned by the decoder. With drop_plain the mapped
 * pages of the plain rows that were repacked are released after each matrix
 * (madvise MADV_DONTNEED: they come back from the file if read again), so
 * the peak resident set stays about one copy of the weights.
 * Invariant: g4_mat.packed is set only for the table g4_kernels() returns;
 * the matmul reads the packed copy only for whole groups and without
 * f32_act, and the plain rows stay valid for everything else. */
#include "model/weights.h"

#include "core/log.h"
#include "core/threadpool.h"
#include "kernels/kernels.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct pack_item {
    struct g4_mat *m;     /* the matrix to pack (data, type, cols) */
    int64_t rows;         /* rows to pack (experts: n_expert * rows) */
    size_t off, bytes;    /* place in packed_mem */
};

/* Every matrix of the decoder the matmul reads, with its full row count
 * (experts stacked). Returns the count written (at most cap). */
static int list_mats(const struct g4_kernels *kt, struct g4_dec *dec, struct pack_item *it, int cap) {
    int n = 0;
#define ADD(mp, nrows)                                                      \
    do {                                                                    \
        if ((mp)->data && n < cap) it[n++] = (struct pack_item){(mp), (nrows), 0, 0}; \
    } while (0)
    ADD(&dec->output, dec->output.rows);
    ADD(&dec->ple_model_proj, dec->ple_model_proj.rows);
    for (int il = 0; il < dec->n_layer; il++) {
        struct g4_dec_layer *L = &dec->layers[il];
        struct g4_mat *ms[] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down,
                               &L->router, &L->ple_gate, &L->ple_proj};
        for (size_t i = 0; i < G4_ARRAY_LEN(ms); i++) ADD(ms[i], ms[i]->rows);
        /* experts: stacked as one matrix only when the experts follow one
           another (stride rows * row_bytes) and each is whole groups, so
           expert e's packed rows start at e * g4_matmul_repack_size(rows) */
        if (L->n_expert) {
            struct g4_mat *ex[] = {&L->exp_gate_up, &L->exp_gate, &L->exp_up, &L->exp_down};
            const size_t st[] = {L->exp_gate_up_stride, L->exp_gate_stride, L->exp_up_stride, L->exp_down_stride};
            for (size_t i = 0; i < G4_ARRAY_LEN(ex); i++) {
                const int pr = ex[i]->data ? kt->type[ex[i]->type].pack_rows : 0;
                if (pr > 0 && ex[i]->rows % pr == 0 && st[i] == ex[i]->row_bytes * (size_t)ex[i]->rows)
                    ADD(ex[i], L->n_expert * ex[i]->rows);
            }
        }
    }
#undef ADD
    return n;
}

struct pack_job {
    const struct g4_kernels *kt;
    const struct g4_mat *m;
    uint8_t *dst;
    size_t group_bytes;   /* packed bytes of one group */
    int64_t pr;           /* rows per group */
    int64_t chunk;        /* groups per task */
    int64_t n_groups;
};

static void pack_task(void *ctx, int64_t t, int ith) {
    (void)ith;
    struct pack_job *j = ctx;
    const int64_t g0 = t * j->chunk, g1 = G4_MIN(g0 + j->chunk, j->n_groups);
    const uint8_t *src = (const uint8_t *)j->m->data + (size_t)(g0 * j->pr) * j->m->row_bytes;
    g4_matmul_repack(j->kt, j->m->type, src, j->m->row_bytes, (g1 - g0) * j->pr, j->m->cols,
                     j->dst + (size_t)g0 * j->group_bytes);
}

/* Releases the whole pages inside [p, p + n). */
static void drop_pages(const void *p, size_t n) {
    const long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0) return;
    const uintptr_t a = ((uintptr_t)p + (uintptr_t)ps - 1) & ~((uintptr_t)ps - 1);
    const uintptr_t e = ((uintptr_t)p + n) & ~((uintptr_t)ps - 1);
    if (e > a) (void)madvise((void *)a, e - a, MADV_DONTNEED);
}

/* Asks the kernel to read [p, p + n) ahead (a cold file is read while the
 * previous matrix is repacked instead of one fault at a time). */
static void prefetch_pages(const void *p, size_t n) {
    const long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0 || n == 0) return;
    const uintptr_t a = (uintptr_t)p & ~((uintptr_t)ps - 1);
    (void)madvise((void *)a, (uintptr_t)p + n - a, MADV_WILLNEED);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

g4_status g4_dec_pack(struct g4_dec *dec, struct g4_pool *pool, bool drop_plain, g4_error *err) {
    const struct g4_kernels *kt = g4_kernels();
    if (dec->packed_mem) return G4_OK;
    enum { MAX_ITEMS = 16 * G4_DEC_MAX_LAYERS + 4 };
    struct pack_item *it = malloc(MAX_ITEMS * sizeof *it);
    if (!it) return g4_fail(err, G4_ERR_NOMEM, "model: out of memory planning the weight repack");
    const int n = list_mats(kt, dec, it, MAX_ITEMS);
    size_t total = 0;
    uint64_t t64 = 0;
    for (int i = 0; i < n; i++) {
        it[i].bytes = g4_matmul_repack_size(kt, it[i].m->type, it[i].rows, it[i].m->cols);
        it[i].off = (size_t)t64;
        if (it[i].bytes && (!g4_add_ok(t64, ((uint64_t)it[i].bytes + 63) & ~(uint64_t)63, &t64) || t64 > SIZE_MAX)) {
            free(it);
            return g4_fail(err, G4_ERR_RANGE, "model: repacked weights overflow the address space");
        }
    }
    total = (size_t)t64;
    if (total == 0) { /* the table has no packed layouts (G4_KERNELS=ref, float weights) */
        free(it);
        return G4_OK;
    }
    void *mem = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        free(it);
        G4_LOGW("model: no memory for %.1f MB of repacked weights; using the plain layout", (double)total / 1e6);
        return G4_OK;
    }
#ifdef MADV_HUGEPAGE
    /* fewer TLB misses while streaming the weights: decode of the 1B Q4_0
       measured ~10% faster (alternated runs, load 5); the cost is slower
       first-touch faults (compaction) while repacking */
    (void)madvise(mem, total, MADV_HUGEPAGE);
#endif
    const double t0 = now_s();
    if (total >= ((size_t)1 << 30))
        G4_LOGI("model: repacking %.1f GB of weights for the %s kernels", (double)total / 1e9, kt->name);
    const int64_t nth = g4_pool_size(pool);
    for (int i = 0; i < n; i++) {
        if (!it[i].bytes) continue;
        struct g4_mat *m = it[i].m;
        if (drop_plain) /* file-mapped: read this matrix and the next one ahead */
            for (int k = i; k < n && k <= i + 1; k++)
                if (it[k].bytes && (k > i || i == 0)) prefetch_pages(it[k].m->data, (size_t)it[k].rows * it[k].m->row_bytes);
        const int64_t pr = kt->type[m->type].pack_rows;
        struct pack_job j = {.kt = kt, .m = m, .dst = (uint8_t *)mem + it[i].off,
                             .group_bytes = g4_matmul_repack_size(kt, m->type, pr, m->cols), .pr = pr,
                             .n_groups = it[i].rows / pr};
        /* a few tasks per thread, each at least 64 groups */
        j.chunk = G4_MAX((int64_t)64, (j.n_groups + 4 * nth - 1) / (4 * nth));
        g4_pool_for(pool, (j.n_groups + j.chunk - 1) / j.chunk, pack_task, &j);
        m->packed = j.dst;
        if (drop_plain) drop_pages(m->data, (size_t)(j.n_groups * pr) * m->row_bytes);
    }
    /* a tied output matrix is the embedding table: its lookups read the
       packed copy (g4_dec_mat_row), so the released plain pages stay out */
    if (dec->tok_embd.data == dec->output.data) dec->tok_embd.packed = dec->output.packed;
    free(it);
    dec->packed_mem = mem;
    dec->packed_bytes = total;
    const double dt = now_s() - t0;
    if (total >= ((size_t)1 << 30)) G4_LOGI("model: repacked in %.1f s", dt);
    return G4_OK;
}
