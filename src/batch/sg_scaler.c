/* sg_scaler: log1p + z-score standardisation (see sg_scaler.h). Two-pass mean/variance over
 * the columns for numerical stability; the matrices are small (users x features). */
#include "batch/sg_scaler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_mem.h"

double sg_scaler_log1p(double x)
{
    return x < 0 ? -log1p(-x) : log1p(x);
}

void sg_scaler_init(struct sg_scaler *s, size_t d)
{
    s->d = d;
    s->log1p = sg_xcalloc(d ? d : 1, 1);
    s->mean = sg_xcalloc(d ? d : 1, sizeof(double));
    s->std = sg_xcalloc(d ? d : 1, sizeof(double));
    for (size_t j = 0; j < d; j++)
        s->std[j] = 1;
}

void sg_scaler_release(struct sg_scaler *s)
{
    free(s->log1p);
    free(s->mean);
    free(s->std);
    memset(s, 0, sizeof *s);
}

static double pre(const struct sg_scaler *s, size_t j, double x)
{
    if (!isfinite(x))
        x = 0;
    return s->log1p[j] ? sg_scaler_log1p(x) : x;
}

void sg_scaler_fit(struct sg_scaler *s, const double *X, size_t n, size_t d, const int *log1p)
{
    sg_scaler_init(s, d);
    for (size_t j = 0; j < d; j++)
        s->log1p[j] = log1p && log1p[j] ? 1 : 0;
    for (size_t j = 0; j < d; j++) {
        double sum = 0, ss = 0;
        for (size_t i = 0; i < n; i++)
            sum += pre(s, j, X[i * d + j]);
        double m = n ? sum / (double)n : 0;
        for (size_t i = 0; i < n; i++) {
            double v = pre(s, j, X[i * d + j]) - m;
            ss += v * v;
        }
        double sd = n ? sqrt(ss / (double)n) : 0;
        s->mean[j] = m;
        /* relative tolerance: a column of identical values has rounding-level spread */
        s->std[j] = sd > 1e-12 * (fabs(m) + 1) ? sd : 0;
    }
}

void sg_scaler_row(const struct sg_scaler *s, const double *in, double *out)
{
    for (size_t j = 0; j < s->d; j++)
        out[j] = s->std[j] > 0 ? (pre(s, j, in[j]) - s->mean[j]) / s->std[j] : 0;
}

void sg_scaler_apply(const struct sg_scaler *s, double *X, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sg_scaler_row(s, X + i * s->d, X + i * s->d);
}
