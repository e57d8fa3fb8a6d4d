/* Unit tests of the Isolation Forest hooks the MPI driver grows its forest with
 * (sg_iforest_alloc / tree_sample / fit_tree / tree_nodes / tree_set / finish): trees grown
 * one at a time from a row callback, copied into another forest as node arrays, score every
 * row bit for bit like sg_iforest_fit's forest, with and without the dense layout; the sample
 * a tree names is psi distinct rows of [0, n) and is exactly what fit_tree reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batch/sg_iforest.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"

#define N 700
#define D 5
#define TREES 24
#define PSI 128

static double X[N * D];

struct probe {
    const double *X;
    uint8_t *seen; /* rows fit_tree asked for */
};

static const double *row_of(const void *ctx, size_t i)
{
    const struct probe *p = ctx;
    p->seen[i] = 1;
    return p->X + i * D;
}

static void fill(void)
{
    struct sg_rng r;
    sg_rng_seed(&r, 3);
    for (size_t i = 0; i < N * D; i++)
        X[i] = sg_rng_normal(&r) * (i % D == 2 ? 0 : 1) + (i / D % 50 == 0 ? 6 : 0);
}

static void test_trees_one_at_a_time(void **state)
{
    (void)state;
    fill();
    struct sg_iforest_params ip = {.trees = TREES, .psi = PSI, .seed = 11, .threads = 2};
    struct sg_iforest *ref = sg_iforest_fit(X, N, D, &ip);
    struct sg_iforest *grown = sg_iforest_alloc(D, TREES, PSI, 11);
    struct sg_iforest *copy = sg_iforest_alloc(D, TREES, PSI, 11);
    uint8_t *seen = sg_xcalloc(N, 1);
    size_t idx[PSI];
    for (int t = TREES - 1; t >= 0; t--) { /* any order: a tree depends on its index only */
        sg_iforest_tree_sample(grown, t, N, idx);
        memset(seen, 0, N);
        struct probe p = {X, seen};
        sg_iforest_fit_tree(grown, t, N, row_of, &p);
        size_t want = 0;
        for (size_t k = 0; k < PSI; k++) {
            assert_true(idx[k] < N);
            assert_int_equal(seen[idx[k]], 1); /* the sample is what the tree read */
            want += seen[idx[k]] == 1;
            seen[idx[k]] = 2; /* distinct */
        }
        for (size_t i = 0; i < N; i++)
            assert_true(seen[i] != 1); /* and nothing else */
        assert_int_equal(want, PSI);
        size_t nn;
        const struct sg_itree_node *nodes = sg_iforest_tree_nodes(grown, t, &nn);
        assert_true(nn >= 1 && nn <= 2 * PSI - 1);
        sg_iforest_tree_set(copy, t, nodes, nn);
    }
    sg_iforest_finish(copy); /* dense layout for copy; grown keeps the node walk */
    for (size_t i = 0; i < N; i++) {
        double a = sg_iforest_score_one(ref, X + i * D), b = sg_iforest_score_one(grown, X + i * D);
        assert_true(a == b);
    }
    double *sa = sg_xmalloc(N * sizeof *sa), *sb = sg_xmalloc(N * sizeof *sb),
           *sc = sg_xmalloc(N * sizeof *sc);
    sg_iforest_score(ref, X, N, sa, 2);
    sg_iforest_score(grown, X, N, sb, 1);
    sg_iforest_score(copy, X, N, sc, 2);
    assert_memory_equal(sa, sb, N * sizeof *sa);
    assert_memory_equal(sa, sc, N * sizeof *sa);
    /* a different seed grows a different forest (the check above can fail) */
    struct sg_iforest *other = sg_iforest_alloc(D, TREES, PSI, 12);
    struct probe p = {X, seen};
    for (int t = 0; t < TREES; t++)
        sg_iforest_fit_tree(other, t, N, row_of, &p);
    sg_iforest_score(other, X, N, sb, 1);
    assert_true(memcmp(sa, sb, N * sizeof *sa) != 0);
    free(sa);
    free(sb);
    free(sc);
    free(seen);
    sg_iforest_free(ref);
    sg_iforest_free(grown);
    sg_iforest_free(copy);
    sg_iforest_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trees_one_at_a_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
