/* sg_mpi_fit: phase 3 of the batch layer across MPI ranks, on the users each rank owns.
 * Reproduces sg_batch_fit of a single process: the global user order (by name) is recovered
 * from an exchange of the sorted name lists, so the Isolation Forest's subsamples and the
 * k-means++ draws are the same global rows; sums (scaler moments, centroids) are near-exact
 * double-double sums, identical for every rank count; quantiles and the contamination
 * threshold are exact global order statistics. Not the I/O (sg_mpi_write.h). */
#ifndef SG_MPI_FIT_H
#define SG_MPI_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "batch/sg_batch.h"
#include "mpi/sg_mpi.h"

/* Bytes this rank received per phase (the communication model of docs/BENCHMARKS.md). */
struct sg_mpi_comm_stats {
    uint64_t directory, scaler, iforest_rows, iforest_trees, kmeans, quantiles;
};

/* The global position (in name order) of each local user: gidx[i] for data->users[i]
 * (ascending), and the global user count. Collective. Release with free(*gidx). */
void sg_mpi_directory(const struct sg_mpi *c, const struct sg_batch_data *data, uint64_t **gidx,
                      uint64_t *n_global, struct sg_mpi_comm_stats *cs);

/* Fits scaler, forest and K-Means into `m` (zeroed caller storage; every rank gets the same
 * model), scores this rank's users, sets threshold and labels. p->k = 0 chooses k by the
 * sampled silhouette, as the single process. Collective. */
void sg_mpi_fit(const struct sg_mpi *c, const uint64_t *gidx, uint64_t n_global,
                struct sg_batch_data *data, const struct sg_batch_params *p, struct sg_model *m,
                struct sg_batch_timings *t, struct sg_mpi_comm_stats *cs);

#endif
