/* sg_model: the batch layer's trained model as one object - feature list (+ hash), scaler,
 * Isolation Forest, K-Means centroids, score quantiles, contamination threshold - plus the
 * per-user baselines; saved as the documented JSON files of docs/MODEL.md (model/model.json,
 * model/baselines.ndjson) and loaded by the speed layer, which scores one user's feature vector
 * at a time with sg_model_score(). Not the training pipeline (sg_batch). */
#ifndef SG_MODEL_H
#define SG_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "batch/sg_features.h"
#include "batch/sg_iforest.h"
#include "batch/sg_kmeans.h"
#include "batch/sg_scaler.h"

#define SG_MODEL_FORMAT_VERSION 1
#define SG_MODEL_QUANTILES 1001

enum sg_algorithm { SG_ALG_IFOREST = 0, SG_ALG_KMEANS, SG_ALG_ENSEMBLE };

struct sg_model {
    size_t d;              /* == SG_FEAT_COUNT for models of this build */
    uint64_t feature_hash; /* sg_features_hash() at training time */
    enum sg_algorithm algorithm;
    double contamination;
    double threshold; /* anomaly_score >= threshold -> anomalous */
    uint64_t seed;
    struct sg_scaler scaler;
    struct sg_iforest *forest; /* owned */
    struct sg_kmeans km;
    double q_iforest[SG_MODEL_QUANTILES]; /* training score quantiles, p = i / (Q - 1) */
    double q_kmeans[SG_MODEL_QUANTILES];
    /* identity: a hash of model.json's bytes (two loads of the same file agree); the speed
     * layer records which model a user's rolling features and score belong to */
    uint64_t id;
    /* event-time span of the training history ("training"."history" in model.json; 0 when the
     * model predates it): the speed layer's rolling window starts at history_first_ms */
    int64_t history_first_ms, history_last_ms;
    /* baselines (loaded models only): open-addressing map user -> baseline */
    size_t nbase, base_cap;
    struct sg_model_base *base;
};

struct sg_model_score {
    double iforest;     /* Isolation Forest score s in (0, 1] */
    double kmeans_dist; /* distance to the nearest centroid (standardised space) */
    int cluster;
    double anomaly_score; /* [0, 1], per the algorithm; compare with threshold */
    int is_anomaly;
};

/* Parses "iforest|kmeans|ensemble"; returns SG_OK or SG_ERR_INVALID. */
int sg_model_algorithm_parse(const char *s, enum sg_algorithm *out);
const char *sg_model_algorithm_name(enum sg_algorithm a);

/* Empirical CDF of x against a quantile table (linear interpolation), in [0, 1]. */
double sg_model_cdf(const double *q, double x);
/* Fills q[SG_MODEL_QUANTILES] from n values (copied and sorted internally). */
void sg_model_quantiles(const double *v, size_t n, double *q);

/* Combines the two model scores into anomaly_score as the algorithm says: iforest -> s;
 * kmeans -> CDF of the distance; ensemble -> mean of both CDFs (rank average). */
double sg_model_combine(const struct sg_model *m, double iforest, double kmeans_dist);

/* Scores one raw feature vector (SG_FEAT_COUNT values from sg_features_finish): log1p +
 * scaling, forest, nearest centroid, combination, threshold. `z` (optional, d doubles)
 * receives the standardised vector. Thread-safe (read-only). */
void sg_model_score(const struct sg_model *m, const double *raw, double *z,
                    struct sg_model_score *out);

/* The k features with the largest |z| (standardised deviation), most extreme first; returns
 * how many were written to idx (features with |z| < 1e-9 are skipped; |z| within a relative
 * 1e-9 of each other count as tied and go by feature order). */
int sg_model_top_features(const struct sg_model *m, const double *z, int *idx, int k);

/* Writes dir/model.json (creating dir). `meta_json` is an optional JSON object text stored as
 * "training" (config, counts). Returns SG_OK or an I/O error with errbuf. */
int sg_model_save(const struct sg_model *m, const char *dir, const char *meta_json, char *errbuf,
                  size_t errlen);

/* Appends one baselines.ndjson line for a user. */
void sg_model_baseline_line(const char *user, size_t len, const struct sg_features *f,
                            struct sg_buf *out);

/* Loads dir/model.json and, when present, dir/baselines.ndjson. Fails with SG_ERR_FORMAT and
 * a message naming both lists when the model's feature list differs from this build's
 * (version, names or log1p flags), or on any malformed content. Returns NULL + errbuf.
 * Ownership: free with sg_model_free. */
struct sg_model *sg_model_load(const char *dir, char *errbuf, size_t errlen);
void sg_model_free(struct sg_model *m);

/* Parses model.json text (no baselines); the checks of sg_model_load. Returns NULL + errbuf. */
struct sg_model *sg_model_parse(const char *json, size_t len, char *errbuf, size_t errlen);

/* The user's baseline from baselines.ndjson, or NULL. Borrowed, lives as long as `m`. */
const struct sg_baseline *sg_model_baseline(const struct sg_model *m, const char *user, size_t len);

#endif
