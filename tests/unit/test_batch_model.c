/* Unit tests of sg_model: save/load round trip (same scores for every user, baselines found),
 * the clear error when the model's feature list differs from this build's, malformed files,
 * quantile CDF and score combination. The model is trained by sg_batch_fit on synthetic
 * feature vectors so these tests do not depend on the decoder. */
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

#include "batch/sg_batch.h"
#include "batch/sg_model.h"
#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"

#define N 400

struct fixture {
    char dir[64];
    struct sg_users *users;
    struct sg_batch_data data;
    struct sg_model model;
};

static struct sg_str S(const char *s) {
    struct sg_str r = {s, (uint32_t)strlen(s)};
    return r;
}

/* N users with a few auth events each from random IPs; user 0 has a burst of failures. */
static void
train(struct fixture *fx, enum sg_algorithm alg)
{
    fx->users = sg_users_new(2);
    struct sg_rng r;
    sg_rng_seed(&r, 42);
    char name[32], ip[32];
    for (int u = 0; u < N; u++) {
        snprintf(name, sizeof name, "user%03d", u);
        uint64_t h = sg_users_hash(name, strlen(name));
        struct sg_user *us =
            sg_users_get(fx->users, sg_users_partition(fx->users, h), name, strlen(name), h);
        int events = u == 0 ? 200 : 5 + (int)sg_rng_below(&r, 10);
        for (int e = 0; e < events; e++) {
            struct sg_event ev;
            memset(&ev, 0, sizeof ev);
            snprintf(ip, sizeof ip, "10.0.%d.%d", u % 256, u == 0 ? e % 250 : 1);
            ev.event_id = S("e");
            ev.user = S(name);
            ev.source_ip = S(ip);
            ev.destination_ip = ev.hostname = ev.geo_location = ev.user_agent = S("");
            ev.session_id = ev.d.auth.auth_type = ev.d.auth.failure_reason = S("");
            ev.type = SG_EV_AUTH;
            ev.ts_ms = INT64_C(1796004000000) +
                       e * (u == 0 ? 1000 : 3600000 + (int64_t)sg_rng_below(&r, 600000));
            ev.status = u == 0 ? SG_STATUS_FAILED : SG_STATUS_SUCCESS;
            ev.threat_score = sg_rng_double(&r) * 0.3;
            sg_features_add(&us->f, &ev);
        }
    }
    sg_batch_features(fx->users, 2, &fx->data);
    struct sg_batch_params p = {.algorithm = alg,
                                .trees = 50,
                                .psi = 128,
                                .k = 3,
                                .contamination = 0.05,
                                .seed = 3,
                                .threads = 2};
    memset(&fx->model, 0, sizeof fx->model);
    sg_batch_fit(&fx->data, &p, &fx->model, NULL);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/sg-model-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    char err[256];
    assert_int_equal(sg_model_save(&fx->model, fx->dir, "{\"test\":1}", err, sizeof err), SG_OK);
    struct sg_buf b;
    sg_buf_init(&b);
    for (size_t i = 0; i < fx->data.n; i++)
        sg_model_baseline_line(fx->data.users[i]->name, fx->data.users[i]->len,
                               &fx->data.users[i]->f, &b);
    char path[128];
    snprintf(path, sizeof path, "%s/baselines.ndjson", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fwrite(b.data, 1, b.len, f);
    fclose(f);
    sg_buf_release(&b);
}

static void cleanup(struct fixture *fx)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
    assert_int_equal(system(cmd), 0);
    sg_scaler_release(&fx->model.scaler);
    sg_iforest_free(fx->model.forest);
    sg_kmeans_release(&fx->model.km);
    sg_batch_data_release(&fx->data);
    sg_users_free(fx->users);
}

static void test_round_trip(void **state)
{
    (void)state;
    enum sg_algorithm algs[] = {SG_ALG_ENSEMBLE, SG_ALG_IFOREST, SG_ALG_KMEANS};
    for (int a = 0; a < 3; a++) {
        struct fixture fx;
        train(&fx, algs[a]);
        char err[512];
        struct sg_model *m = sg_model_load(fx.dir, err, sizeof err);
        assert_non_null(m);
        assert_int_equal(m->algorithm, algs[a]);
        assert_true(m->threshold == fx.model.threshold);
        size_t flagged = 0;
        for (size_t i = 0; i < fx.data.n; i++) {
            struct sg_model_score s;
            sg_model_score(m, fx.data.raw + i * fx.data.d, NULL, &s);
            assert_true(s.iforest == fx.data.iforest[i]);
            assert_true(s.kmeans_dist == fx.data.kdist[i]);
            assert_int_equal(s.cluster, fx.data.cluster[i]);
            assert_true(s.anomaly_score == fx.data.score[i]);
            assert_int_equal(s.is_anomaly, fx.data.anomalous[i]);
            assert_true(s.anomaly_score >= 0 && s.anomaly_score <= 1);
            flagged += s.is_anomaly;
        }
        assert_true(flagged >= N * 5 / 100 && flagged <= N * 5 / 100 + 3);
        /* user000 (200 failed logins, one IP each) is the outlier */
        assert_string_equal(fx.data.users[0]->name, "user000");
        assert_true(fx.data.anomalous[0]);
        const struct sg_baseline *b = sg_model_baseline(m, "user007", 7);
        assert_non_null(b);
        assert_int_equal(b->n_ips, 1);
        assert_string_equal(b->ips[0], "10.0.7.1");
        assert_true(fabs(b->ip_share[0] - 1) < 1e-12);
        assert_null(sg_model_baseline(m, "nobody", 6));
        sg_model_free(m);
        cleanup(&fx);
    }
}

static void rewrite(const char *dir, const char *from, const char *to)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sed -i 's/%s/%s/' %s/model.json", from, to, dir);
    assert_int_equal(system(cmd), 0);
}

static void test_feature_mismatch(void **state)
{
    (void)state;
    struct fixture fx;
    train(&fx, SG_ALG_ENSEMBLE);
    char err[512];
    /* a model whose 4th feature has another name (as if trained by another build) */
    rewrite(fx.dir, "\"name\":\"distinct_src_ips\"", "\"name\":\"distinct_source_ips\"");
    assert_null(sg_model_load(fx.dir, err, sizeof err));
    assert_non_null(strstr(err, "different feature list"));
    assert_non_null(strstr(err, "distinct_source_ips"));
    assert_non_null(strstr(err, "distinct_src_ips"));
    /* a different format version */
    rewrite(fx.dir, "\"version\":1,", "\"version\":99,");
    assert_null(sg_model_load(fx.dir, err, sizeof err));
    assert_non_null(strstr(err, "version 99"));
    /* not JSON at all, and a missing directory */
    rewrite(fx.dir, "^{", "garbage{");
    assert_null(sg_model_load(fx.dir, err, sizeof err));
    assert_non_null(strstr(err, "not valid JSON"));
    assert_null(sg_model_load("/nonexistent/model", err, sizeof err));
    assert_non_null(strstr(err, "No such file"));
    cleanup(&fx);
}

static void test_cdf(void **state)
{
    (void)state;
    double v[101], q[SG_MODEL_QUANTILES];
    for (int i = 0; i <= 100; i++)
        v[i] = 100 - i; /* 0..100, unsorted */
    sg_model_quantiles(v, 101, q);
    assert_true(q[0] == 0 && q[SG_MODEL_QUANTILES - 1] == 100);
    assert_true(fabs(sg_model_cdf(q, 50) - 0.5) < 1e-9);
    assert_true(fabs(sg_model_cdf(q, 25.5) - 0.255) < 1e-9);
    assert_true(sg_model_cdf(q, -1) == 0 && sg_model_cdf(q, 1000) == 1);
    enum sg_algorithm a;
    assert_int_equal(sg_model_algorithm_parse("kmeans", &a), SG_OK);
    assert_int_equal(a, SG_ALG_KMEANS);
    assert_int_not_equal(sg_model_algorithm_parse("dbscan", &a), SG_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_feature_mismatch),
        cmocka_unit_test(test_cdf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
