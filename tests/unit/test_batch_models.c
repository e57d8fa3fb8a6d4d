/* Unit tests of the batch models: scaler (log1p, z-score, zero variance), Isolation Forest
 * (c(n) values, determinism across thread counts, outliers score higher, JSON round trip) and
 * K-Means (separable blobs recovered, determinism, silhouette picks the true k). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cJSON.h>

#include "batch/sg_iforest.h"
#include "batch/sg_kmeans.h"
#include "batch/sg_scaler.h"
#include "core/sg_buf.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"

static void test_scaler(void **state)
{
    (void)state;
    /* columns: 1,2,3 (mean 2, pop sd sqrt(2/3)); constant 5; counts 0,e-1,e^2-1 with log1p */
    double e = exp(1.0);
    double X[] = {1, 5, 0, 2, 5, e - 1, 3, 5, e * e - 1};
    int lg[] = {0, 0, 1};
    struct sg_scaler s;
    sg_scaler_fit(&s, X, 3, 3, lg);
    assert_true(fabs(s.mean[0] - 2) < 1e-12);
    assert_true(fabs(s.std[0] - sqrt(2.0 / 3)) < 1e-12);
    assert_true(s.std[1] == 0);
    assert_true(fabs(s.mean[2] - 1) < 1e-12); /* log1p -> 0,1,2 */
    double out[3];
    sg_scaler_row(&s, X + 6, out);
    assert_true(fabs(out[0] - 1 / sqrt(2.0 / 3)) < 1e-9);
    assert_true(out[1] == 0);
    assert_true(fabs(out[2] - 1 / sqrt(2.0 / 3)) < 1e-9);
    double nan_row[3] = {NAN, 7, INFINITY};
    sg_scaler_row(&s, nan_row, out); /* non-finite input is treated as 0, never NaN out */
    assert_true(isfinite(out[0]) && out[1] == 0 && isfinite(out[2]));
    assert_true(fabs(sg_scaler_log1p(-(e - 1)) + 1) < 1e-12);
    sg_scaler_release(&s);
}

static void test_c_values(void **state)
{
    (void)state;
    assert_true(sg_iforest_c(0) == 0);
    assert_true(sg_iforest_c(1) == 0);
    assert_true(fabs(sg_iforest_c(2) - 1.0) < 1e-15);
    /* c(3) = 2 H(2) - 4/3 = 3 - 4/3 = 5/3; c(4) = 2 (1 + 1/2 + 1/3) - 6/4 = 13/6 */
    assert_true(fabs(sg_iforest_c(3) - 5.0 / 3) < 1e-15);
    assert_true(fabs(sg_iforest_c(4) - 13.0 / 6) < 1e-15);
    /* c(256) from the exact harmonic number H(255) = 6.1243644... */
    double h = 0;
    for (int i = 1; i <= 255; i++)
        h += 1.0 / i;
    assert_true(fabs(sg_iforest_c(256) - (2 * h - 2.0 * 255 / 256)) < 1e-12);
    assert_true(fabs(sg_iforest_c(256) - 10.248689925634562) < 1e-9);
    /* the asymptotic branch joins the exact one smoothly */
    double a = sg_iforest_c(100000), b = sg_iforest_c(100002);
    assert_true(b > a && b - a < 1e-3);
}

/* n inliers ~ N(0,1)^d followed by `o` outliers at random corners (+-8 in every dim). */
static double *blobs(size_t n, size_t o, size_t d, uint64_t seed)
{
    struct sg_rng r;
    sg_rng_seed(&r, seed);
    double *X = sg_xmalloc((n + o) * d * sizeof *X);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            X[i * d + j] = sg_rng_normal(&r);
    for (size_t i = n; i < n + o; i++)
        for (size_t j = 0; j < d; j++)
            X[i * d + j] = (sg_rng_below(&r, 2) ? 8.0 : -8.0) + 0.1 * sg_rng_normal(&r);
    return X;
}

static void test_iforest(void **state)
{
    (void)state;
    size_t n = 2000, o = 20, d = 6;
    double *X = blobs(n, o, d, 11);
    struct sg_iforest_params p = {.trees = 100, .psi = 256, .seed = 5, .threads = 1};
    struct sg_iforest *f1 = sg_iforest_fit(X, n + o, d, &p);
    p.threads = 2;
    struct sg_iforest *f2 = sg_iforest_fit(X, n + o, d, &p);
    p.threads = 7;
    struct sg_iforest *f7 = sg_iforest_fit(X, n + o, d, &p);
    double *s1 = sg_xmalloc((n + o) * sizeof *s1), *s2 = sg_xmalloc((n + o) * sizeof *s2);
    sg_iforest_score(f1, X, n + o, s1, 1);
    sg_iforest_score(f2, X, n + o, s2, 2);
    for (size_t i = 0; i < n + o; i++) {
        assert_true(s1[i] == s2[i]); /* bit-identical across thread counts */
        assert_true(s1[i] == sg_iforest_score_one(f7, X + i * d));
        assert_true(s1[i] > 0 && s1[i] <= 1);
    }
    double max_in = 0, min_out = 1, mean_in = 0;
    for (size_t i = 0; i < n; i++) {
        max_in = s1[i] > max_in ? s1[i] : max_in;
        mean_in += s1[i] / n;
    }
    for (size_t i = n; i < n + o; i++)
        min_out = s1[i] < min_out ? s1[i] : min_out;
    assert_true(min_out > 0.6); /* the paper: s close to 1 means anomaly */
    assert_true(mean_in < 0.5); /* ... and s well below 0.5 is normal */
    assert_true(min_out > max_in);
    /* a different seed gives a different forest */
    p.seed = 6;
    struct sg_iforest *g = sg_iforest_fit(X, n + o, d, &p);
    assert_true(sg_iforest_score_one(g, X) != s1[0]);
    /* JSON round trip scores identically */
    struct sg_buf b;
    sg_buf_init(&b);
    sg_iforest_write_json(f1, &b);
    cJSON *j = cJSON_Parse(b.data);
    assert_non_null(j);
    char err[128];
    struct sg_iforest *r = sg_iforest_from_json(j, err, sizeof err);
    assert_non_null(r);
    for (size_t i = 0; i < n + o; i += 37)
        assert_true(sg_iforest_score_one(r, X + i * d) == s1[i]);
    /* corrupt node index is rejected, not followed */
    cJSON *node = cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "nodes"), 0), 0);
    cJSON_SetNumberHelper(cJSON_GetArrayItem(node, 1), 1e6);
    assert_null(sg_iforest_from_json(j, err, sizeof err));
    assert_non_null(strstr(err, "out of range"));
    cJSON_Delete(j);
    sg_buf_release(&b);
    sg_iforest_free(r);
    sg_iforest_free(g);
    sg_iforest_free(f1);
    sg_iforest_free(f2);
    sg_iforest_free(f7);
    free(s1);
    free(s2);
    free(X);
}

static void test_iforest_tiny(void **state)
{
    (void)state;
    /* n < psi, and constant data: every tree is a single leaf, every score equal */
    double X[] = {1, 1, 1, 1, 1, 1, 1, 1};
    struct sg_iforest_params p = {.trees = 10, .psi = 256, .seed = 1, .threads = 2};
    struct sg_iforest *f = sg_iforest_fit(X, 4, 2, &p);
    assert_int_equal(sg_iforest_psi(f), 4);
    /* E(h) = c(4) = c(psi) -> s = 0.5 */
    assert_true(fabs(sg_iforest_score_one(f, X) - 0.5) < 1e-12);
    sg_iforest_free(f);
}

static void test_kmeans(void **state)
{
    (void)state;
    size_t per = 300, d = 4, k = 4, n = per * k;
    struct sg_rng r;
    sg_rng_seed(&r, 3);
    double *X = sg_xmalloc(n * d * sizeof *X);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            X[i * d + j] = (j == (i / per) ? 10.0 : 0.0) + 0.5 * sg_rng_normal(&r);
    struct sg_kmeans_params p = {.k = 4, .max_iter = 20, .tol = 1e-4, .seed = 9};
    struct sg_kmeans a, b;
    sg_kmeans_fit(&a, X, n, d, &p);
    sg_kmeans_fit(&b, X, n, d, &p);
    assert_int_equal(a.k, 4);
    assert_memory_equal(a.c, b.c, k * d * sizeof(double));
    /* every true blob maps to one cluster, and the four clusters differ */
    int seen[4] = {0};
    int *label = sg_xmalloc(n * sizeof *label);
    for (size_t g = 0; g < k; g++) {
        int c0 = sg_kmeans_nearest(&a, X + g * per * d, NULL);
        for (size_t i = g * per; i < (g + 1) * per; i++) {
            double dist;
            label[i] = sg_kmeans_nearest(&a, X + i * d, &dist);
            assert_int_equal(label[i], c0);
            assert_true(dist < 4);
        }
        assert_int_equal(seen[c0], 0);
        seen[c0] = 1;
    }
    double sil = sg_kmeans_silhouette(X, n, d, label, 4, 500, 1);
    assert_true(sil > 0.8);
    assert_int_equal(sg_kmeans_choose_k(X, n, d, 8, &p, 400), 4);
    double far[4] = {30, 30, 30, 30}, dist;
    sg_kmeans_nearest(&a, far, &dist);
    assert_true(dist > 40);
    free(label);
    sg_kmeans_release(&a);
    sg_kmeans_release(&b);
    free(X);
}

/* `blob` points around the origin and `out` identical outliers at (at, at): k-means++ gives
 * the outliers their own cluster (distance 0 to it), but that cluster must be small, so their
 * anomaly distance is to the blob's cluster (~ at * sqrt(2)). */
static void check_outliers_cluster_small(size_t blob, size_t out, double at, uint64_t seed)
{
    size_t n = blob + out, d = 2;
    struct sg_rng r;
    sg_rng_seed(&r, seed);
    double *X = sg_xmalloc(n * d * sizeof *X);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            X[i * d + j] = i < blob ? sg_rng_normal(&r) : at;
    struct sg_kmeans_params p = {.k = 3, .max_iter = 20, .tol = 1e-4, .seed = 1};
    struct sg_kmeans km;
    sg_kmeans_fit(&km, X, n, d, &p);
    double near;
    int c = sg_kmeans_nearest(&km, X + blob * d, &near);
    assert_true(near < 1e-9);
    assert_int_equal(km.size[c], out);
    assert_false(km.large[c]);
    assert_true(sg_kmeans_score(&km, X + blob * d) > 1.2 * at);
    assert_true(sg_kmeans_score(&km, X) < 5);
    sg_kmeans_release(&km);
    free(X);
}

/* 600 points in one blob + 3 far outliers: their cluster holds 0.5 % of the rows. */
static void test_kmeans_small_cluster(void **state)
{
    (void)state;
    check_outliers_cluster_small(600, 3, 50.0, 5);
}

/* A small population: 40 users in one blob and one far outlier. The outlier's own cluster
 * holds 2.4 % of the users, above the 2 % share, but one user is no normal behaviour: it is
 * small by the minimum size, and the outlier's distance is to the blob. */
static void test_kmeans_singleton_in_small_population(void **state)
{
    (void)state;
    check_outliers_cluster_small(40, 1, 30.0, 9);
}

/* The steps sg_kmeans exports for the MPI fit: assignment, update, the silhouette core. */
static void test_kmeans_steps(void **state)
{
    (void)state;
    /* assignment: the labels are the nearest centroids, sizes are added to, not cleared */
    double c[4] = {0, 0, 5, 5};
    struct sg_kmeans km = {.k = 2, .d = 2, .c = c};
    double X[10] = {0, 1, 4, 5, 1, 0, 6, 6, 2.4, 2.4};
    int label[5];
    uint64_t size[2] = {1, 1};
    sg_kmeans_assign(&km, X, 5, label, size);
    const int want[5] = {0, 1, 0, 1, 0};
    assert_memory_equal(label, want, sizeof want);
    assert_int_equal(size[0], 4);
    assert_int_equal(size[1], 3);
    sg_kmeans_assign(&km, X, 5, NULL, size);
    assert_int_equal(size[0], 7);
    /* update: cluster 0 moves to its mean, the empty cluster 1 keeps its centroid */
    double sum[4] = {2, 4, 0, 0}, cnt[2] = {2, 0};
    assert_true(fabs(sg_kmeans_update(&km, sum, cnt) - sqrt(5)) < 1e-15);
    assert_true(c[0] == 1 && c[1] == 2 && c[2] == 5 && c[3] == 5);
    /* silhouette core on 0, 1 | 10, 11: each a = 1, b the mean distance to the other pair */
    double L[4] = {0, 1, 10, 11};
    int lab[4] = {0, 0, 1, 1};
    double want_sil = (9.5 / 10.5 + 8.5 / 9.5) / 2;
    assert_true(fabs(sg_kmeans_silhouette_rows(L, 4, 1, lab, 2) - want_sil) < 1e-15);
    assert_true(sg_kmeans_silhouette_rows(L, 4, 1, lab, 1) == 0);
    /* 0, 1, 10 | 11: a = 5.5, 5, 9.5 and b = 11, 10, 1; the singleton 11 counts 0 */
    int lone[4] = {0, 0, 0, 1};
    double s3 = ((11 - 5.5) / 11 + (10 - 5.0) / 10 + (1 - 9.5) / 9.5 + 0) / 4;
    assert_true(fabs(sg_kmeans_silhouette_rows(L, 4, 1, lone, 2) - s3) < 1e-15);
    /* the sampled silhouette with the sample covering all rows is the core over all rows
     * (in draw order, so equal up to the summation order) */
    assert_true(fabs(sg_kmeans_silhouette(L, 4, 1, lab, 2, 100, 7) - want_sil) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scaler),
        cmocka_unit_test(test_c_values),
        cmocka_unit_test(test_iforest),
        cmocka_unit_test(test_iforest_tiny),
        cmocka_unit_test(test_kmeans),
        cmocka_unit_test(test_kmeans_small_cluster),
        cmocka_unit_test(test_kmeans_singleton_in_small_population),
        cmocka_unit_test(test_kmeans_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
