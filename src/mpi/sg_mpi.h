/* sg_mpi: the small collective toolkit of the MPI batch driver (build/streamguard-mpi):
 * checked MPI calls, order-independent (near-exact) sums, exact global order statistics, and
 * fetching one row by global index. Built only by mpicc into streamguard-mpi, never into
 * libstreamguard.a (users without MPI keep the plain binary). Not the pipeline itself. */
#ifndef SG_MPI_H
#define SG_MPI_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

struct sg_mpi {
    MPI_Comm comm;
    int rank, size;
};

/* MPI errors are returned (MPI_ERRORS_RETURN) and checked here: a failed collective aborts
 * the whole job with a message naming the call (MPI_Abort), which is what makes a dead or
 * failing rank end the job instead of hanging it. */
void sg_mpi_check(int rc, const char *what);
#define SG_MPI(call) sg_mpi_check((call), #call)

/* Double-double accumulator (Knuth's TwoSum): the error of a sum of n terms is ~n * 2^-106
 * relative, so the final rounding gives the correctly rounded sum in practice, whatever the
 * order of the terms and however they are split across ranks. */
struct sg_dd {
    double hi, lo;
};
void sg_dd_add(struct sg_dd *a, double x);
double sg_dd_value(const struct sg_dd *a);

/* Combines m accumulators per rank into the global sums (every rank gets the same doubles:
 * the ranks' partials are added in rank order). out[m]. */
void sg_mpi_sum_dd(const struct sg_mpi *c, const struct sg_dd *local, size_t m, double *out);
/* Same, returning the global double-double accumulators (out[m]). */
void sg_mpi_sum_dd2(const struct sg_mpi *c, const struct sg_dd *local, size_t m, struct sg_dd *out);

/* Exact order statistics of `nsets` distributed multisets of doubles: sorted[s] holds this
 * rank's n[s] values of set s ascending (NaN-free); for each target i, out[i] receives the
 * k[i]-th smallest value (0-based, < the set's global size) of set set[i]. Collective: 64
 * allreduces of m counters, whatever the rank count (bisection over the bits of the value). */
void sg_mpi_order_stats(const struct sg_mpi *c, const double *const *sorted, const size_t *n,
                        int nsets, const uint64_t *k, const int *set, size_t m, double *out);

/* Global index lookup: `gidx` holds this rank's users' global indices ascending. Returns the
 * local position of global index g, or -1 when another rank owns it. */
long sg_mpi_local_of(const uint64_t *gidx, size_t n, uint64_t g);

/* Every rank receives row g (d doubles) of the distributed matrix X (rows in gidx order). */
void sg_mpi_fetch_row(const struct sg_mpi *c, const double *X, const uint64_t *gidx, size_t n,
                      size_t d, uint64_t g, double *out);

#endif
