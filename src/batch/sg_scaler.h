/* sg_scaler: per-feature preprocessing of the batch models: optional log1p (for heavy-tailed
 * counts) then z-score standardisation with the training mean and population stddev; a
 * zero-variance feature maps to 0. Not a feature extractor (sg_features), not a model. */
#ifndef SG_SCALER_H
#define SG_SCALER_H

#include <stddef.h>
#include <stdint.h>

struct sg_scaler {
    size_t d;
    uint8_t *log1p; /* d flags */
    double *mean;   /* d values, of the (log1p'd) training column */
    double *std;    /* d values; 0 = constant column */
};

/* Fits on the n x d row-major matrix X (raw values). `log1p` is d flags (NULL = none).
 * Ownership: fills caller storage `s`; free with sg_scaler_release. */
void sg_scaler_fit(struct sg_scaler *s, const double *X, size_t n, size_t d, const int *log1p);

/* Allocates an empty scaler of dimension d (mean 0, std 1, no log1p) for loaders. */
void sg_scaler_init(struct sg_scaler *s, size_t d);
void sg_scaler_release(struct sg_scaler *s);

/* The log1p transform used everywhere: sign(x) * log1p(|x|). */
double sg_scaler_log1p(double x);

/* Transforms one raw row `in` into `out` (may alias). Thread-safe (read-only). */
void sg_scaler_row(const struct sg_scaler *s, const double *in, double *out);

/* Transforms n rows in place. */
void sg_scaler_apply(const struct sg_scaler *s, double *X, size_t n);

#endif
