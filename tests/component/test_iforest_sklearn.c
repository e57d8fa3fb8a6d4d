/* Component test: our Isolation Forest against scikit-learn's (Debian python3-sklearn, run as
 * /usr/bin/python3 tests/iforest_sklearn.py) on a seeded dataset with labelled outliers, 1000
 * trees each: Spearman rank correlation of the scores >= 0.95, ROC AUCs within 0.02, and the
 * score values themselves close (same 2^(-E(h)/c(psi)) scale).
 * Skips (not passes) when python3-sklearn is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "batch/sg_iforest.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"

#define N_IN 3000
#define N_OUT 60
#define D 6

static void make_data(double *X, int *label)
{
    struct sg_rng r;
    sg_rng_seed(&r, 2008);
    for (int i = 0; i < N_IN + N_OUT; i++) {
        int out = i >= N_IN;
        label[i] = out;
        double centre = (i % 2) ? 2.0 : -2.0; /* two inlier blobs */
        for (int j = 0; j < D; j++)
            X[i * D + j] = out ? -7 + 14 * sg_rng_double(&r)
                               : centre * (j < 2) + sg_rng_normal(&r) * (1 + 0.3 * j);
    }
}

/* Average ranks (ties get the mean rank). */
static void ranks(const double *v, int n, double *rk)
{
    int *idx = sg_xmalloc((size_t)n * sizeof *idx);
    for (int i = 0; i < n; i++)
        idx[i] = i;

    const double *key = v;
    for (int gap = n / 2; gap > 0; gap /= 2) /* Shell sort: deterministic, dependency-free */
        for (int i = gap; i < n; i++)
            for (int j = i; j >= gap && key[idx[j - gap]] > key[idx[j]]; j -= gap) {
                int t = idx[j];
                idx[j] = idx[j - gap];
                idx[j - gap] = t;
            }
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && v[idx[j + 1]] == v[idx[i]])
            j++;
        for (int k = i; k <= j; k++)
            rk[idx[k]] = (i + j) / 2.0 + 1;
        i = j + 1;
    }
    free(idx);
}

static double spearman(const double *a, const double *b, int n)
{
    double *ra = sg_xmalloc((size_t)n * sizeof *ra), *rb = sg_xmalloc((size_t)n * sizeof *rb);
    ranks(a, n, ra);
    ranks(b, n, rb);
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; i++) {
        ma += ra[i] / n;
        mb += rb[i] / n;
    }
    for (int i = 0; i < n; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    free(ra);
    free(rb);
    return sab / sqrt(saa * sbb);
}

/* ROC AUC = P(score of a random positive > score of a random negative), ties count 1/2. */
static double auc(const double *s, const int *label, int n)
{
    double win = 0, pairs = 0;
    for (int i = 0; i < n; i++)
        if (label[i])
            for (int j = 0; j < n; j++)
                if (!label[j]) {
                    win += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
                    pairs++;
                }
    return win / pairs;
}

static void test_against_sklearn(void **state)
{
    (void)state;
    if (system("/usr/bin/python3 -c 'import sklearn' 2>/dev/null") != 0)
        skip(); /* python3-sklearn (scripts/deps.sh) missing */
    int n = N_IN + N_OUT;
    double *X = sg_xmalloc((size_t)n * D * sizeof *X);
    int label[N_IN + N_OUT];
    make_data(X, label);
    char dir[] = "/tmp/sg-iforest-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char in[128], out[128], cmd[512];
    snprintf(in, sizeof in, "%s/x.csv", dir);
    snprintf(out, sizeof out, "%s/s.txt", dir);
    FILE *f = fopen(in, "w");
    assert_non_null(f);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < D; j++)
            fprintf(f, "%.17g%c", X[i * D + j], j == D - 1 ? '\n' : ',');
    assert_int_equal(fclose(f), 0);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/iforest_sklearn.py %s %s 1000 0", in, out);
    assert_int_equal(system(cmd), 0);
    double *ref = sg_xmalloc((size_t)n * sizeof *ref), *ours = sg_xmalloc((size_t)n * sizeof *ours);
    f = fopen(out, "r");
    assert_non_null(f);
    for (int i = 0; i < n; i++)
        assert_int_equal(fscanf(f, "%lf", &ref[i]), 1);
    fclose(f);
    struct sg_iforest_params p = {.trees = 1000, .psi = 256, .seed = 1, .threads = 2};
    struct sg_iforest *fo = sg_iforest_fit(X, (size_t)n, D, &p);
    sg_iforest_score(fo, X, (size_t)n, ours, 2);
    double rho = spearman(ours, ref, n), a_ours = auc(ours, label, n), a_ref = auc(ref, label, n);
    double mo = 0, mr = 0, md = 0;
    for (int i = 0; i < n; i++) {
        mo += ours[i] / n;
        mr += ref[i] / n;
        md = fmax(md, fabs(ours[i] - ref[i]));
    }
    print_message("spearman %.4f  auc ours %.4f  sklearn %.4f  mean score %.4f vs %.4f, max "
                  "abs diff %.4f\n",
                  rho, a_ours, a_ref, mo, mr, md);
    assert_true(rho >= 0.95);
    /* same formula, same scale: s = 2^(-E(h)/c(psi)) agrees value by value, not just in rank */
    assert_true(fabs(mo - mr) < 0.005);
    assert_true(md < 0.05);
    assert_true(fabs(a_ours - a_ref) <= 0.02);
    assert_true(a_ours > 0.9); /* the outliers are findable at all */
    sg_iforest_free(fo);
    unlink(in);
    unlink(out);
    rmdir(dir);
    free(X);
    free(ref);
    free(ours);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_against_sklearn)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
