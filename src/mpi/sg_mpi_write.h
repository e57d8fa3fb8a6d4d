/* sg_mpi_write: phase 4 of the batch layer across MPI ranks. Rank 0 creates the dataset's
 * temporary directory (a sibling of --output, on a file system every rank shares); every
 * rank writes its users as part-<rank> of both is_anomaly partitions and their baselines at
 * its offset of model/baselines.ndjson; after a collective check rank 0 writes model.json and
 * the reports (from the top candidates gathered from all ranks) and commits (_SUCCESS,
 * atomic swap). Any failing
 * rank makes rank 0 remove the temporary directory; a dead rank makes mpirun end the job
 * before the swap. Not the model (sg_mpi_fit.h). */
#ifndef SG_MPI_WRITE_H
#define SG_MPI_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "batch/sg_batch.h"
#include "mpi/sg_mpi.h"

/* Writes the output. Returns SG_OK on every rank when the output was committed, else an error
 * (errbuf: this rank's message, or that another rank failed). Collective. */
int sg_mpi_write(const struct sg_mpi *c, const char *dir, const struct sg_batch_data *data,
                 const struct sg_model *m, const struct sg_batch_params *p,
                 const struct sg_ingest_stats *st, uint64_t n_global, struct sg_batch_timings *t,
                 char *errbuf, size_t errlen);

/* Test hook (failure injection, as SQLite's): when STREAMGUARD_MPI_FAULT is "RANK:PHASE" and
 * this is rank RANK, the process kills itself with SIGKILL at PHASE ("read", "fit" or
 * "write"; "write" is after its part files were written, before the commit). With
 * "RANK:PHASE:fail" it returns 1 instead, and the caller fails that phase with an error
 * (only "write" honours it). Returns 0 otherwise. */
int sg_mpi_fault_point(const struct sg_mpi *c, const char *phase);

#endif
