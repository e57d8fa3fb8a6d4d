/* sg_kmeans: K-Means (Lloyd) with k-means++ seeding, and the sampled silhouette used to pick k.
 * The batch layer's anomaly score is the distance of a (standardised) row to its nearest
 * centroid. Seeded and deterministic; single-threaded (10K x 50 converges in milliseconds).
 * Not a scaler. */
#ifndef SG_KMEANS_H
#define SG_KMEANS_H

#include <stddef.h>
#include <stdint.h>

struct sg_kmeans {
    int k;
    size_t d;
    double *c; /* k x d centroids, row-major */
    int iters; /* Lloyd iterations run */
    double inertia;
    uint64_t *size; /* k: training rows per cluster at the end */
    uint8_t *large; /* k: cluster is not small (see SG_KMEANS_SMALL_SHARE), or is the largest */
};

/* Clusters smaller than this share of the training rows, or with fewer than SG_KMEANS_SMALL_MIN
 * rows, are "small": a handful of outliers that k-means++ made into their own cluster must not
 * get distance 0 (CBLOF's idea). The minimum matters below 150 users, where 2 % is less than
 * 3: among 41 users a lone brute-forcing account (2.4 %) was its own "normal" cluster and
 * ranked 18th in the ensemble (1st by Isolation Forest). */
#define SG_KMEANS_SMALL_SHARE 0.02
#define SG_KMEANS_SMALL_MIN 3

struct sg_kmeans_params {
    int k;        /* clusters (>= 1; clamped to n) */
    int max_iter; /* default 20 */
    double tol;   /* stop when every centroid moved less than tol (default 1e-4) */
    uint64_t seed;
};

/* Fits on the n x d row-major X (n >= 1) into caller storage `km`; release with
 * sg_kmeans_release. */
void sg_kmeans_fit(struct sg_kmeans *km, const double *X, size_t n, size_t d,
                   const struct sg_kmeans_params *p);
void sg_kmeans_release(struct sg_kmeans *km);

/* Nearest centroid of x; its Euclidean distance in *dist (if non-NULL). Thread-safe. */
int sg_kmeans_nearest(const struct sg_kmeans *km, const double *x, double *dist);

/* Squared Euclidean distance of two d-vectors. */
double sg_kmeans_dist2(const double *a, const double *b, size_t d);

/* The assignment step: for each of the n rows of the n x d row-major X, the nearest centroid
 * (sg_kmeans_nearest) goes to label[i] (if label is non-NULL) and is counted in size[] (if
 * non-NULL; size is added to, not cleared, so a caller can sum sizes over ranks or batches).
 * Thread-safe for distinct outputs. */
void sg_kmeans_assign(const struct sg_kmeans *km, const double *X, size_t n, int *label,
                      uint64_t *size);

/* The update step: sum holds each cluster's k x d coordinate sums and cnt its row counts
 * (doubles, exact up to 2^53); every cluster with rows gets its mean as new centroid (sum is
 * overwritten with the means), an empty one keeps its centroid. Returns the largest Euclidean
 * centroid shift. */
double sg_kmeans_update(struct sg_kmeans *km, double *sum, const double *cnt);

/* The anomaly distance: Euclidean distance from x to the nearest *large* centroid. */
double sg_kmeans_score(const struct sg_kmeans *km, const double *x);

/* Recomputes km->large from km->size (used after loading a model). */
void sg_kmeans_mark_large(struct sg_kmeans *km);

/* Mean silhouette of the labelling `label` over at most `sample` rows drawn with `seed`
 * (all rows when n <= sample). Returns a value in [-1, 1] (0 for k < 2). */
double sg_kmeans_silhouette(const double *X, size_t n, size_t d, const int *label, int k,
                            size_t sample, uint64_t seed);

/* Mean silhouette over all m rows of the m x d X with labels in [0, k): the O(m^2 d) core of
 * sg_kmeans_silhouette, which calls it on the drawn rows in draw order (so a caller that
 * gathers the same rows in that order gets the same bits). Returns [-1, 1] (0 for k < 2). */
double sg_kmeans_silhouette_rows(const double *X, size_t m, size_t d, const int *label, int k);

/* Tries k = 2..kmax and returns the k with the best sampled silhouette (fits with `p`). */
int sg_kmeans_choose_k(const double *X, size_t n, size_t d, int kmax,
                       const struct sg_kmeans_params *p, size_t sample);

#endif
