/* sg_kmeans: k-means++ seeding (Arthur & Vassilvitskii 2007) + Lloyd iterations, and a
 * sampled silhouette. Hand-written: a few dozen lines, and no C library for it is in Debian. */
#include "batch/sg_kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_mem.h"
#include "core/sg_rng.h"

double sg_kmeans_dist2(const double *a, const double *b, size_t d)
{
    double s = 0;
    for (size_t j = 0; j < d; j++) {
        double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

int sg_kmeans_nearest(const struct sg_kmeans *km, const double *x, double *dist)
{
    int best = 0;
    double bd = INFINITY;
    for (int c = 0; c < km->k; c++) {
        double v = sg_kmeans_dist2(x, km->c + (size_t)c * km->d, km->d);
        if (v < bd) {
            bd = v;
            best = c;
        }
    }
    if (dist)
        *dist = sqrt(bd);
    return best;
}

void sg_kmeans_assign(const struct sg_kmeans *km, const double *X, size_t n, int *label,
                      uint64_t *size)
{
    for (size_t i = 0; i < n; i++) {
        int c = sg_kmeans_nearest(km, X + i * km->d, NULL);
        if (label)
            label[i] = c;
        if (size)
            size[c]++;
    }
}

double sg_kmeans_update(struct sg_kmeans *km, double *sum, const double *cnt)
{
    size_t d = km->d;
    double shift = 0;
    for (size_t c = 0; c < (size_t)km->k; c++) {
        if (!cnt[c])
            continue; /* empty cluster keeps its centroid */
        for (size_t j = 0; j < d; j++)
            sum[c * d + j] /= cnt[c];
        double s = sqrt(sg_kmeans_dist2(sum + c * d, km->c + c * d, d));
        shift = s > shift ? s : shift;
        memcpy(km->c + c * d, sum + c * d, d * sizeof(double));
    }
    return shift;
}

static void seed_pp(struct sg_kmeans *km, const double *X, size_t n, struct sg_rng *r)
{
    size_t d = km->d;
    double *md = sg_xmalloc(n * sizeof *md);
    size_t first = (size_t)sg_rng_below(r, n);
    memcpy(km->c, X + first * d, d * sizeof(double));
    for (size_t i = 0; i < n; i++)
        md[i] = sg_kmeans_dist2(X + i * d, km->c, d);
    for (int c = 1; c < km->k; c++) {
        double total = 0;
        for (size_t i = 0; i < n; i++)
            total += md[i];
        size_t pick = 0;
        if (total > 0) {
            double u = sg_rng_double(r) * total, acc = 0;
            for (pick = 0; pick < n - 1; pick++) {
                acc += md[pick];
                if (acc > u)
                    break;
            }
        } else {
            pick = (size_t)sg_rng_below(r, n); /* all points coincide */
        }
        double *cc = km->c + (size_t)c * d;
        memcpy(cc, X + pick * d, d * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            double v = sg_kmeans_dist2(X + i * d, cc, d);
            if (v < md[i])
                md[i] = v;
        }
    }
    free(md);
}

/* One Lloyd step; returns the largest centroid shift. The counts are doubles (exact up to
 * 2^53 rows) because sg_kmeans_update takes them so, as the MPI fit's summed counts are. */
static double lloyd(struct sg_kmeans *km, const double *X, size_t n, double *sum, double *cnt)
{
    size_t d = km->d, k = (size_t)km->k;
    memset(sum, 0, k * d * sizeof *sum);
    memset(cnt, 0, k * sizeof *cnt);
    double inertia = 0;
    for (size_t i = 0; i < n; i++) {
        double dist;
        int c = sg_kmeans_nearest(km, X + i * d, &dist);
        inertia += dist * dist;
        cnt[c] += 1;
        for (size_t j = 0; j < d; j++)
            sum[(size_t)c * d + j] += X[i * d + j];
    }
    km->inertia = inertia;
    return sg_kmeans_update(km, sum, cnt);
}

void sg_kmeans_fit(struct sg_kmeans *km, const double *X, size_t n, size_t d,
                   const struct sg_kmeans_params *p)
{
    int k = p->k < 1 ? 1 : p->k;
    if ((size_t)k > n)
        k = (int)n;
    km->k = k;
    km->d = d;
    km->iters = 0;
    km->inertia = 0;
    km->c = sg_xcalloc((size_t)k * (d ? d : 1), sizeof(double));
    struct sg_rng r;
    sg_rng_seed2(&r, p->seed, UINT64_C(0x6b6d65616e73)); /* "kmeans" */
    seed_pp(km, X, n, &r);
    double *sum = sg_xmalloc((size_t)k * (d ? d : 1) * sizeof *sum);
    double *cnt = sg_xmalloc((size_t)k * sizeof *cnt);
    int max_iter = p->max_iter > 0 ? p->max_iter : 20;
    double tol = p->tol > 0 ? p->tol : 1e-4;
    while (km->iters < max_iter) {
        km->iters++;
        if (lloyd(km, X, n, sum, cnt) < tol)
            break;
    }
    free(sum);
    km->size = sg_xcalloc((size_t)k, sizeof *km->size);
    km->large = sg_xcalloc((size_t)k, 1);
    sg_kmeans_assign(km, X, n, NULL, km->size);
    sg_kmeans_mark_large(km);
    free(cnt);
}

void sg_kmeans_mark_large(struct sg_kmeans *km)
{
    uint64_t total = 0, best = 0;
    int arg = 0;
    for (int c = 0; c < km->k; c++) {
        total += km->size[c];
        if (km->size[c] > best) {
            best = km->size[c];
            arg = c;
        }
    }
    for (int c = 0; c < km->k; c++)
        km->large[c] = c == arg || ((double)km->size[c] >= SG_KMEANS_SMALL_SHARE * (double)total &&
                                    km->size[c] >= SG_KMEANS_SMALL_MIN);
}

double sg_kmeans_score(const struct sg_kmeans *km, const double *x)
{
    double bd = INFINITY;
    for (int c = 0; c < km->k; c++)
        if (km->large[c]) {
            double v = sg_kmeans_dist2(x, km->c + (size_t)c * km->d, km->d);
            bd = v < bd ? v : bd;
        }
    return sqrt(bd);
}

void sg_kmeans_release(struct sg_kmeans *km)
{
    free(km->size);
    free(km->large);
    free(km->c);
    memset(km, 0, sizeof *km);
}

double sg_kmeans_silhouette_rows(const double *X, size_t m, size_t d, const int *label, int k)
{
    if (k < 2 || m < 2)
        return 0;
    double *sum = sg_xmalloc((size_t)k * sizeof *sum), total = 0;
    size_t *cnt = sg_xmalloc((size_t)k * sizeof *cnt);
    for (size_t a = 0; a < m; a++) {
        memset(sum, 0, (size_t)k * sizeof *sum);
        memset(cnt, 0, (size_t)k * sizeof *cnt);
        for (size_t b = 0; b < m; b++) {
            if (b == a)
                continue;
            sum[label[b]] += sqrt(sg_kmeans_dist2(X + a * d, X + b * d, d));
            cnt[label[b]]++;
        }
        int own = label[a];
        if (!cnt[own])
            continue; /* singleton: silhouette 0 */
        double ai = sum[own] / (double)cnt[own], bi = INFINITY;
        for (int c = 0; c < k; c++)
            if (c != own && cnt[c] && sum[c] / (double)cnt[c] < bi)
                bi = sum[c] / (double)cnt[c];
        if (isfinite(bi) && (ai > 0 || bi > 0))
            total += (bi - ai) / (ai > bi ? ai : bi);
    }
    free(sum);
    free(cnt);
    return total / (double)m;
}

double sg_kmeans_silhouette(const double *X, size_t n, size_t d, const int *label, int k,
                            size_t sample, uint64_t seed)
{
    if (k < 2 || n < 2)
        return 0;
    size_t m = n < sample ? n : sample;
    size_t *idx = sg_xmalloc(n * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    struct sg_rng r;
    sg_rng_seed2(&r, seed, UINT64_C(0x73696c68)); /* "silh" */
    for (size_t i = 0; i < m; i++) {              /* partial Fisher-Yates */
        size_t j = i + (size_t)sg_rng_below(&r, n - i);
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    /* the sample's rows and labels in draw order (the MPI fit gathers the same) */
    double *S = sg_xmalloc(m * (d ? d : 1) * sizeof *S);
    int *sl = sg_xmalloc(m * sizeof *sl);
    for (size_t a = 0; a < m; a++) {
        memcpy(S + a * d, X + idx[a] * d, d * sizeof *S);
        sl[a] = label[idx[a]];
    }
    double v = sg_kmeans_silhouette_rows(S, m, d, sl, k);
    free(idx);
    free(S);
    free(sl);
    return v;
}

int sg_kmeans_choose_k(const double *X, size_t n, size_t d, int kmax,
                       const struct sg_kmeans_params *p, size_t sample)
{
    int best_k = 2;
    double best = -2;
    int *label = sg_xmalloc((n ? n : 1) * sizeof *label);
    for (int k = 2; k <= kmax && (size_t)k <= n; k++) {
        struct sg_kmeans km;
        struct sg_kmeans_params q = *p;
        q.k = k;
        sg_kmeans_fit(&km, X, n, d, &q);
        sg_kmeans_assign(&km, X, n, label, NULL);
        double s = sg_kmeans_silhouette(X, n, d, label, km.k, sample, p->seed);
        if (s > best + 1e-12) {
            best = s;
            best_k = k;
        }
        sg_kmeans_release(&km);
    }
    free(label);
    return best_k;
}
