/* tests/mpi/test_mpi_prims.c: the collective primitives of src/mpi/sg_mpi.h under mpirun
 * (run by tests/e2e/mpi.sh with 1 and 3 ranks): exact order statistics against a gathered,
 * sorted copy (duplicates, negatives, signed zeros, empty ranks, several sets at once),
 * double-double sums that naive summation gets wrong and that do not depend on the split
 * across ranks, and fetching rows by global index. Checks never stop a rank early (every
 * collective must be reached by all); failures are counted and summed at the end. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_mem.h"
#include "core/sg_rng.h"
#include "mpi/sg_mpi.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Every rank's values, concatenated on every rank. */
static double *gather_all(const struct sg_mpi *c, const double *v, size_t n, size_t *total)
{
    int *cnt = sg_xmalloc((size_t)c->size * sizeof *cnt),
        *dis = sg_xmalloc((size_t)c->size * sizeof *dis);
    int mine = (int)n;
    MPI_Allgather(&mine, 1, MPI_INT, cnt, 1, MPI_INT, c->comm);
    size_t t = 0;
    for (int r = 0; r < c->size; r++) {
        dis[r] = (int)t;
        t += (size_t)cnt[r];
    }
    double *all = sg_xmalloc((t ? t : 1) * sizeof *all);
    MPI_Allgatherv(v, mine, MPI_DOUBLE, all, cnt, dis, MPI_DOUBLE, c->comm);
    free(cnt);
    free(dis);
    *total = t;
    return all;
}

static void test_order_stats(const struct sg_mpi *c)
{
    struct sg_rng r;
    sg_rng_seed2(&r, 42, (uint64_t)c->rank);
    /* rank 1 holds nothing; the others a mix with many duplicates */
    size_t n[2] = {c->rank == 1 ? 0 : 200 + 37 * (size_t)c->rank, 50};
    double *v[2];
    for (int s = 0; s < 2; s++) {
        v[s] = sg_xmalloc((n[s] ? n[s] : 1) * sizeof(double));
        for (size_t i = 0; i < n[s]; i++) {
            uint64_t k = sg_rng_below(&r, 10);
            v[s][i] = k == 0   ? -0.0
                      : k == 1 ? 0.0
                      : k == 2 ? -1e300
                      : k < 6  ? (double)k
                               : (sg_rng_double(&r) - 0.5) * 1e-3;
        }
        qsort(v[s], n[s], sizeof(double), cmp_double);
    }
    size_t t0, t1;
    double *all0 = gather_all(c, v[0], n[0], &t0), *all1 = gather_all(c, v[1], n[1], &t1);
    qsort(all0, t0, sizeof(double), cmp_double);
    qsort(all1, t1, sizeof(double), cmp_double);
    size_t m = t0 + t1;
    uint64_t *k = sg_xmalloc(m * sizeof *k);
    int *set = sg_xmalloc(m * sizeof *set);
    for (size_t i = 0; i < m; i++) {
        set[i] = i < t0 ? 0 : 1;
        k[i] = i < t0 ? i : i - t0;
    }
    double *out = sg_xmalloc(m * sizeof *out);
    const double *sorted[2] = {v[0], v[1]};
    sg_mpi_order_stats(c, sorted, n, 2, k, set, m, out);
    for (size_t i = 0; i < m; i++) {
        double want = i < t0 ? all0[i] : all1[i - t0];
        /* -0.0 and 0.0 compare equal: either is a correct order statistic among them */
        CHECK(out[i] == want, "order stat %zu of set %d: %g, want %g", (size_t)k[i], set[i], out[i],
              want);
    }
    free(all0);
    free(all1);
    free(k);
    free(set);
    free(out);
    free(v[0]);
    free(v[1]);
}

static void test_sums(const struct sg_mpi *c)
{
    /* 1e16 + 1 + 1 + ... - 1e16: naive left-to-right summation loses every 1 */
    size_t ones = 1000;
    struct sg_dd acc = {0, 0};
    if (c->rank == 0)
        sg_dd_add(&acc, 1e16);
    for (size_t i = (size_t)c->rank; i < ones; i += (size_t)c->size)
        sg_dd_add(&acc, 1.0);
    if (c->rank == c->size - 1)
        sg_dd_add(&acc, -1e16);
    double got;
    sg_mpi_sum_dd(c, &acc, 1, &got);
    CHECK(got == (double)ones, "cancelling sum: %.17g, want %zu", got, ones);
    /* the same 10,000 terms split by rank in two different ways give the same double */
    struct sg_dd a = {0, 0}, b = {0, 0};
    for (int i = 0; i < 10000; i++) {
        struct sg_rng r;
        sg_rng_seed2(&r, 7, (uint64_t)i);
        double x = (sg_rng_double(&r) - 0.5) * pow(10, (double)sg_rng_below(&r, 30) - 15);
        if (i % c->size == c->rank)
            sg_dd_add(&a, x);
        if ((i / 7) % c->size == c->rank)
            sg_dd_add(&b, x);
    }
    double sa, sb;
    sg_mpi_sum_dd(c, &a, 1, &sa);
    sg_mpi_sum_dd(c, &b, 1, &sb);
    CHECK(sa == sb, "sum depends on the split: %.17g vs %.17g", sa, sb);
}

static void test_fetch_row(const struct sg_mpi *c)
{
    /* global rows 0..99, row g owned by rank g % size, row g = {g, -g, g/3} */
    size_t d = 3, n = 0;
    uint64_t gidx[100];
    double X[300];
    for (uint64_t g = 0; g < 100; g++)
        if ((int)(g % (uint64_t)c->size) == c->rank) {
            gidx[n] = g;
            X[n * d] = (double)g;
            X[n * d + 1] = -(double)g;
            X[n * d + 2] = (double)g / 3;
            n++;
        }
    for (uint64_t g = 0; g < 100; g += 9) {
        double row[3];
        sg_mpi_fetch_row(c, X, gidx, n, d, g, row);
        CHECK(row[0] == (double)g && row[1] == -(double)g && row[2] == (double)g / 3, "row %llu",
              (unsigned long long)g);
        long li = sg_mpi_local_of(gidx, n, g);
        CHECK((li >= 0) == ((int)(g % (uint64_t)c->size) == c->rank), "local_of %llu",
              (unsigned long long)g);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    struct sg_mpi c = {.comm = MPI_COMM_WORLD};
    MPI_Comm_rank(c.comm, &c.rank);
    MPI_Comm_size(c.comm, &c.size);
    test_order_stats(&c);
    test_sums(&c);
    test_fetch_row(&c);
    int total = failures;
    MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_INT, MPI_SUM, c.comm);
    if (c.rank == 0)
        printf("test_mpi_prims: %d ranks, %d failures\n", c.size, total);
    MPI_Finalize();
    return total ? 1 : 0;
}
