/* sg_mpi: checked calls, double-double sums, order statistics, row fetch (see sg_mpi.h).
 * Hand-written because MPI's own MPI_SUM is order-dependent in floating point and its
 * reduction order is unspecified: results would then depend on the rank count. */
#include "mpi/sg_mpi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_mem.h"

void sg_mpi_check(int rc, const char *what)
{
    if (rc == MPI_SUCCESS)
        return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    int rank = -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(stderr, "streamguard-mpi: rank %d: %s failed: %.*s; aborting the job\n", rank, what,
            len, msg);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

static inline void two_sum(double a, double b, double *s, double *e)
{
    *s = a + b;
    double bb = *s - a;
    *e = (a - (*s - bb)) + (b - bb);
}

void sg_dd_add(struct sg_dd *a, double x)
{
    double s, e;
    two_sum(a->hi, x, &s, &e);
    e += a->lo;
    two_sum(s, e, &a->hi, &a->lo); /* renormalise */
}

double sg_dd_value(const struct sg_dd *a)
{
    return a->hi + a->lo;
}

void sg_mpi_sum_dd2(const struct sg_mpi *c, const struct sg_dd *local, size_t m, struct sg_dd *out)
{
    struct sg_dd *all = sg_xmalloc((size_t)c->size * (m ? m : 1) * sizeof *all);
    SG_MPI(MPI_Allgather(local, (int)(2 * m), MPI_DOUBLE, all, (int)(2 * m), MPI_DOUBLE, c->comm));
    for (size_t j = 0; j < m; j++) {
        struct sg_dd s = {0, 0};
        for (int r = 0; r < c->size; r++) {
            sg_dd_add(&s, all[(size_t)r * m + j].hi);
            sg_dd_add(&s, all[(size_t)r * m + j].lo);
        }
        out[j] = s;
    }
    free(all);
}

void sg_mpi_sum_dd(const struct sg_mpi *c, const struct sg_dd *local, size_t m, double *out)
{
    struct sg_dd *s = sg_xmalloc((m ? m : 1) * sizeof *s);
    sg_mpi_sum_dd2(c, local, m, s);
    for (size_t j = 0; j < m; j++)
        out[j] = sg_dd_value(&s[j]);
    free(s);
}

/* Total order of doubles as unsigned keys (negative values flipped). */
static uint64_t key_of(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
}

static double value_of(uint64_t k)
{
    uint64_t u = (k >> 63) ? k & ~(UINT64_C(1) << 63) : ~k;
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Number of local values with key <= k. */
static uint64_t count_le(const uint64_t *keys, size_t n, uint64_t k)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keys[mid] <= k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void sg_mpi_order_stats(const struct sg_mpi *c, const double *const *sorted, const size_t *n,
                        int nsets, const uint64_t *k, const int *set, size_t m, double *out)
{
    uint64_t **keys = sg_xmalloc((size_t)nsets * sizeof *keys);
    for (int s = 0; s < nsets; s++) {
        keys[s] = sg_xmalloc((n[s] ? n[s] : 1) * sizeof **keys);
        for (size_t i = 0; i < n[s]; i++)
            keys[s][i] = key_of(sorted[s][i]);
    }
    size_t m1 = m ? m : 1;
    uint64_t *lo = sg_xmalloc(m1 * sizeof *lo), *hi = sg_xmalloc(m1 * sizeof *hi);
    uint64_t *cnt = sg_xmalloc(m1 * sizeof *cnt), *mid = sg_xmalloc(m1 * sizeof *mid);
    for (size_t i = 0; i < m; i++) {
        lo[i] = 0;
        hi[i] = UINT64_MAX;
    }
    /* smallest key v with #(x <= v) >= k+1: bisection, all targets in one allreduce */
    for (int it = 0; it < 64; it++) {
        for (size_t i = 0; i < m; i++) {
            mid[i] = lo[i] + (hi[i] - lo[i]) / 2;
            cnt[i] = count_le(keys[set[i]], n[set[i]], mid[i]);
        }
        SG_MPI(MPI_Allreduce(MPI_IN_PLACE, cnt, (int)m, MPI_UINT64_T, MPI_SUM, c->comm));
        for (size_t i = 0; i < m; i++) {
            if (cnt[i] >= k[i] + 1)
                hi[i] = mid[i];
            else
                lo[i] = mid[i] + 1;
        }
    }
    for (size_t i = 0; i < m; i++)
        out[i] = value_of(lo[i]);
    for (int s = 0; s < nsets; s++)
        free(keys[s]);
    free(keys);
    free(lo);
    free(hi);
    free(cnt);
    free(mid);
}

long sg_mpi_local_of(const uint64_t *gidx, size_t n, uint64_t g)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (gidx[mid] < g)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && gidx[lo] == g ? (long)lo : -1;
}

void sg_mpi_fetch_row(const struct sg_mpi *c, const double *X, const uint64_t *gidx, size_t n,
                      size_t d, uint64_t g, double *out)
{
    long i = sg_mpi_local_of(gidx, n, g);
    int owner = i >= 0 ? c->rank : -1;
    SG_MPI(MPI_Allreduce(MPI_IN_PLACE, &owner, 1, MPI_INT, MPI_MAX, c->comm));
    if (i >= 0)
        memcpy(out, X + (size_t)i * d, d * sizeof *out);
    SG_MPI(MPI_Bcast(out, (int)d, MPI_DOUBLE, owner, c->comm));
}
