/* sg_batch: the batch pipeline's phases after ingest, kept separable so that a distributed
 * driver (MPI) can run ingest and features per rank and the model on gathered vectors:
 *   sg_ingest_run (sg_ingest.h)  ->  sg_batch_features  ->  sg_batch_fit  ->  sg_batch_write.
 * Not the CLI (src/cli/cmd_batch.c) and not the readers. */
#ifndef SG_BATCH_H
#define SG_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "batch/sg_ingest.h"
#include "batch/sg_model.h"
#include "batch/sg_users.h"

#define SG_BATCH_TOP_FEATURES 3

struct sg_batch_params {
    enum sg_algorithm algorithm;
    int trees, psi;
    int k; /* 0 = auto (silhouette over 2..10) */
    double contamination;
    uint64_t seed;
    int threads;
    double max_invalid_ratio;
    uint64_t max_events;
    const char *parquet_codec; /* "zstd" (default), "snappy", "uncompressed" */
    const char *config_json;   /* effective configuration as a JSON object (for metadata) */
    const char *input_desc;    /* "files: a.ndjson, b.ndjson" or "kafka: topic@brokers" */
    const char *version;       /* streamguard version for the file metadata */
};

/* Phase 2 output: one row per user, sorted by user name. */
struct sg_batch_data {
    size_t n, d;
    struct sg_user **users; /* borrowed from the sg_users table */
    double *raw;            /* n x d raw features (sg_features_finish) */
    double *z;              /* n x d standardised (filled by sg_batch_fit) */
    double *iforest, *kdist, *score;
    int *cluster;
    uint8_t *anomalous;
    /* Set by a distributed driver whose report data holds only candidate rows: the global
     * user and anomalous-user counts (and flagged users per strongest feature) the report prints
     * instead of counting its rows. */
    int has_totals;
    size_t total_users, total_anomalous;
    uint32_t total_by_top_feature[SG_FEAT_COUNT]; /* flagged users by their strongest feature */
};

struct sg_batch_timings {
    double read_s, features_s, scale_s, iforest_s, kmeans_s, write_s, total_s;
};

/* Phase 2: finishes every user's accumulator into data (threads = partitions, deterministic).
 * Ownership: release with sg_batch_data_release. */
void sg_batch_features(struct sg_users *u, int threads, struct sg_batch_data *data);
void sg_batch_data_release(struct sg_batch_data *data);

/* Phase 3: fits scaler, forest and K-Means into `m` (caller storage, zeroed), scores every
 * user, sets the threshold by the contamination quantile. Deterministic for a seed. */
void sg_batch_fit(struct sg_batch_data *data, const struct sg_batch_params *p, struct sg_model *m,
                  struct sg_batch_timings *t);

/* Phase 4: writes the output directory atomically (temporary sibling, renamed into place
 * when complete): the Parquet dataset partitioned by is_anomaly, anomaly_report.json/.md,
 * model/model.json + model/baselines.ndjson. Returns SG_OK or an error with errbuf; on error
 * the previous contents of `dir` are untouched. */
int sg_batch_write(const char *dir, const struct sg_batch_data *data, const struct sg_model *m,
                   const struct sg_batch_params *p, const struct sg_ingest_stats *st,
                   struct sg_batch_timings *t, char *errbuf, size_t errlen);

/* Phase 4 piece for distributed drivers: writes this process's rows as part number `part`
 * (0..99999) of both partitions (is_anomaly=0 and =1) of the dataset `ds`, with the same
 * columns and metadata as sg_batch_write. Returns SG_OK or an error with errbuf. */
struct sg_pq_dataset;
int sg_batch_write_parts(struct sg_pq_dataset *ds, const struct sg_batch_data *data,
                         const struct sg_model *m, const struct sg_batch_params *p, int part,
                         char *errbuf, size_t errlen);

#endif
