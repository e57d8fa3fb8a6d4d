/* sg_iforest: Isolation Forest (Liu, Ting & Zhou, ICDM 2008): t random trees, each grown on a
 * subsample of psi rows drawn without replacement, height limit ceil(log2 psi), random
 * feature + uniform split; score s(x) = 2^(-E(h(x)) / c(psi)) with h = depth + c(leaf size).
 * Multi-threaded with pthreads; the result is identical for every thread count (tree i uses
 * rng stream i). Not a scaler: feed it the standardised matrix. */
#ifndef SG_IFOREST_H
#define SG_IFOREST_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"

struct sg_iforest_params {
    int trees; /* t, default 100 */
    int psi;   /* subsample size, default 256 (min(psi, n) is used) */
    uint64_t seed;
    int threads; /* 0 or 1 = single-threaded */
};

/* One node. Internal: feat >= 0, rows with x[feat] < split go to node index+1, the others to
 * `right`. Leaf: feat = -1, `split` holds the leaf's path-length adjustment c(size). */
struct sg_itree_node {
    int32_t feat;
    int32_t right;
    double split;
};

struct sg_iforest;

/* Average path length of an unsuccessful BST search among n points:
 * c(n) = 2 H(n-1) - 2 (n-1) / n, c(1) = c(0) = 0, with exact harmonic numbers up to 100000. */
double sg_iforest_c(double n);

/* Fits on the n x d row-major matrix X (n >= 1). Returns the model (free with
 * sg_iforest_free). Deterministic in (X, params.trees, params.psi, params.seed). */
struct sg_iforest *sg_iforest_fit(const double *X, size_t n, size_t d,
                                  const struct sg_iforest_params *p);
void sg_iforest_free(struct sg_iforest *f);

/* Anomaly score in (0, 1] of one row (higher = more anomalous). Thread-safe. */
double sg_iforest_score_one(const struct sg_iforest *f, const double *x);
/* Mean path length E(h(x)) of one row. */
double sg_iforest_path_length(const struct sg_iforest *f, const double *x);

/* Scores n rows into out[n] with `threads` threads (rows split in ranges; deterministic). */
void sg_iforest_score(const struct sg_iforest *f, const double *X, size_t n, double *out,
                      int threads);

/* Distributed fitting (used by src/mpi): a forest whose trees are grown one at a time, each
 * from rows fetched through a callback, and copied between processes as node arrays. A tree
 * grown this way is identical to tree `ti` of sg_iforest_fit on the same n rows.
 * sg_iforest_alloc: an empty forest (psi = the effective subsample size, <= n); free with
 * sg_iforest_free. sg_iforest_tree_sample: the psi row indices of [0, n) that tree ti samples
 * (idx holds psi values). sg_iforest_fit_tree: grows tree ti; row(ctx, i) must return row i
 * (d doubles) for every i the sample names. tree_nodes: borrowed until the tree changes;
 * tree_set copies. */
struct sg_iforest *sg_iforest_alloc(size_t d, int trees, int psi, uint64_t seed);
void sg_iforest_tree_sample(const struct sg_iforest *f, int ti, size_t n, size_t *idx);
void sg_iforest_fit_tree(struct sg_iforest *f, int ti, size_t n,
                         const double *(*row)(const void *ctx, size_t i), const void *ctx);
const struct sg_itree_node *sg_iforest_tree_nodes(const struct sg_iforest *f, int ti, size_t *n);
void sg_iforest_tree_set(struct sg_iforest *f, int ti, const struct sg_itree_node *nodes,
                         size_t n);
/* Call once every tree is in place: builds the fast scoring layout (scores are the same
 * without it, only slower). */
void sg_iforest_finish(struct sg_iforest *f);

size_t sg_iforest_dims(const struct sg_iforest *f);
int sg_iforest_trees(const struct sg_iforest *f);
int sg_iforest_psi(const struct sg_iforest *f); /* effective psi = min(psi, n) */

/* Serialisation (the model format, see docs/MODEL.md): appends a JSON object. */
void sg_iforest_write_json(const struct sg_iforest *f, struct sg_buf *out);
/* Rebuilds a forest from the JSON object text written above (parsed by the caller into a
 * cJSON node passed as `const void *`). Returns NULL with errbuf on a malformed object. */
struct sg_iforest *sg_iforest_from_json(const void *cjson, char *errbuf, size_t errlen);

#endif
