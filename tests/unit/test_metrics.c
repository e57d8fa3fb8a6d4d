/* Unit tests of the metrics registry and its HTTP endpoint: registration idempotence, label
 * escaping, histogram buckets/quantiles, concurrent updates, the text format (checked by
 * `promtool check metrics` when installed) and /metrics, /health, 404 over real HTTP on
 * 127.0.0.1:0. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/sg_buf.h"
#include "core/sg_metrics.h"
#include "core/sg_metrics_http.h"

static double forty_two(void *ctx)
{
    return *(double *)ctx;
}

static void fill(struct sg_metrics *m)
{
    struct sg_counter *a = sg_metrics_counter(m, "streamguard_test_events_total", "events seen",
                                              (const char *[]){"type", "auth_attempt", NULL});
    struct sg_counter *b = sg_metrics_counter(m, "streamguard_test_events_total", "ignored",
                                              (const char *[]){"type", "dns_query", NULL});
    struct sg_counter *a2 = sg_metrics_counter(m, "streamguard_test_events_total", "x",
                                               (const char *[]){"type", "auth_attempt", NULL});
    assert_ptr_equal(a, a2);
    assert_ptr_not_equal(a, b);
    sg_counter_add(a, 5);
    sg_counter_inc(b);
    struct sg_counter *q = sg_metrics_counter(m, "streamguard_test_odd_total", "odd \\ help\nx",
                                              (const char *[]){"v", "a\"b\\c\nd", NULL});
    sg_counter_inc(q);
    struct sg_gauge *g = sg_metrics_gauge(m, "streamguard_test_lag_seconds", "lag", NULL);
    sg_gauge_set(g, 1.5);
    sg_gauge_add(g, 0.25);
    static double v = 42;
    sg_metrics_gauge_fn(m, "streamguard_test_db_bytes", "size", NULL, forty_two, &v);
    static const double bounds[] = {0.001, 0.01, 0.1, 1};
    struct sg_histogram *h = sg_metrics_histogram(m, "streamguard_test_latency_seconds", "lat",
                                                  (const char *[]){"stage", "detect", NULL},
                                                  bounds, 4);
    sg_histogram_observe(h, 0.0005);
    sg_histogram_observe(h, 0.01); /* le is inclusive */
    sg_histogram_observe(h, 0.05);
    sg_histogram_observe(h, 5);
}

static void test_encode(void **state)
{
    (void)state;
    struct sg_metrics *m = sg_metrics_new();
    fill(m);
    struct sg_buf b;
    sg_buf_init(&b);
    sg_metrics_encode(m, &b);
    assert_non_null(strstr(b.data, "# TYPE streamguard_test_events_total counter\n"));
    assert_non_null(strstr(b.data, "streamguard_test_events_total{type=\"auth_attempt\"} 5\n"));
    assert_non_null(strstr(b.data, "streamguard_test_events_total{type=\"dns_query\"} 1\n"));
    assert_non_null(strstr(b.data, "# HELP streamguard_test_odd_total odd \\\\ help\\nx\n"));
    assert_non_null(strstr(b.data, "{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
    assert_non_null(strstr(b.data, "streamguard_test_lag_seconds 1.75\n"));
    assert_non_null(strstr(b.data, "streamguard_test_db_bytes 42\n"));
    assert_non_null(strstr(b.data,
        "streamguard_test_latency_seconds_bucket{stage=\"detect\",le=\"0.001\"} 1\n"));
    assert_non_null(strstr(b.data,
        "streamguard_test_latency_seconds_bucket{stage=\"detect\",le=\"0.01\"} 2\n"));
    assert_non_null(strstr(b.data,
        "streamguard_test_latency_seconds_bucket{stage=\"detect\",le=\"1\"} 3\n"));
    assert_non_null(strstr(b.data,
        "streamguard_test_latency_seconds_bucket{stage=\"detect\",le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(b.data, "streamguard_test_latency_seconds_count{stage=\"detect\"} 4\n"));
    assert_non_null(strstr(b.data, "streamguard_test_latency_seconds_sum{stage=\"detect\"} 5.0605\n"));
    /* the family header appears once even with several cells */
    const char *first = strstr(b.data, "# TYPE streamguard_test_events_total");
    assert_null(strstr(first + 1, "# TYPE streamguard_test_events_total"));

    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        char path[] = "/tmp/sg_metrics_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
        close(fd);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "promtool check metrics < %s", path);
        assert_int_equal(system(cmd), 0);
        unlink(path);
    } else {
        fprintf(stderr, "promtool not installed: text format checked by assertions only\n");
    }
    sg_buf_release(&b);
    sg_metrics_free(m);
}

static void test_quantile(void **state)
{
    (void)state;
    struct sg_metrics *m = sg_metrics_new();
    static const double bounds[] = {10, 20, 30, 40};
    struct sg_histogram *h = sg_metrics_histogram(m, "streamguard_test_q_seconds", "q", NULL,
                                                  bounds, 4);
    assert_true(isnan(sg_histogram_quantile(h, 0.5)));
    for (int i = 0; i < 100; i++)
        sg_histogram_observe(h, i < 90 ? 15 : 35); /* 90 in (10,20], 10 in (30,40] */
    assert_int_equal(sg_histogram_count(h), 100);
    double p50 = sg_histogram_quantile(h, 0.5);
    assert_true(p50 > 10 && p50 <= 20);
    double p99 = sg_histogram_quantile(h, 0.99);
    assert_true(p99 > 30 && p99 <= 40);
    sg_metrics_free(m);
}

struct worker {
    struct sg_counter *c;
    struct sg_histogram *h;
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 100000; i++) {
        sg_counter_inc(w->c);
        sg_histogram_observe(w->h, 1.0);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    (void)state;
    struct sg_metrics *m = sg_metrics_new();
    static const double bounds[] = {0.5, 2};
    struct worker w = {
        sg_metrics_counter(m, "streamguard_test_c_total", "c", NULL),
        sg_metrics_histogram(m, "streamguard_test_h_seconds", "h", NULL, bounds, 2),
    };
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, &w);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(sg_counter_get(w.c), 400000);
    assert_int_equal(sg_histogram_count(w.h), 400000);
    struct sg_buf b;
    sg_buf_init(&b);
    sg_metrics_encode(m, &b);
    assert_non_null(strstr(b.data, "streamguard_test_h_seconds_sum 400000\n"));
    sg_buf_release(&b);
    sg_metrics_free(m);
}

/* One HTTP/1.0 request over a real socket; returns the whole response. */
static char *http_get(int port, const char *method, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char req[256];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: x\r\n\r\n", method, path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    struct sg_buf b;
    sg_buf_init(&b);
    char tmp[4096];
    ssize_t r;
    while ((r = read(fd, tmp, sizeof tmp)) > 0)
        sg_buf_append(&b, tmp, (size_t)r);
    close(fd);
    return sg_buf_steal(&b);
}

static int sick(void *ctx, struct sg_buf *body)
{
    int *healthy = ctx;
    sg_buf_printf(body, "{\"status\":\"%s\"}", *healthy ? "ok" : "stalled");
    return *healthy;
}

static void test_http(void **state)
{
    (void)state;
    struct sg_metrics *m = sg_metrics_new();
    fill(m);
    char err[256];
    int healthy = 1, code = 0;
    assert_null(sg_metrics_http_start("nonsense", m, NULL, NULL, err, sizeof err, &code));
    assert_int_equal(code, -3);
    struct sg_metrics_http *h = sg_metrics_http_start("127.0.0.1:0", m, sick, &healthy, err,
                                                      sizeof err, NULL);
    assert_non_null(h);
    int port = sg_metrics_http_port(h);
    assert_true(port > 0);
    /* a second server on the same port fails cleanly */
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    assert_null(sg_metrics_http_start(listen, m, NULL, NULL, err, sizeof err, &code));
    assert_int_equal(code, -5);

    char *r = http_get(port, "GET", "/metrics");
    assert_non_null(strstr(r, "HTTP/1.0 200") ? r : strstr(r, "HTTP/1.1 200"));
    assert_non_null(strstr(r, "text/plain; version=0.0.4"));
    assert_non_null(strstr(r, "streamguard_test_events_total{type=\"auth_attempt\"} 5"));
    free(r);
    r = http_get(port, "GET", "/health");
    assert_non_null(strstr(r, " 200 "));
    assert_non_null(strstr(r, "{\"status\":\"ok\"}"));
    free(r);
    healthy = 0;
    r = http_get(port, "GET", "/health");
    assert_non_null(strstr(r, " 503 "));
    assert_non_null(strstr(r, "stalled"));
    free(r);
    r = http_get(port, "GET", "/nope");
    assert_non_null(strstr(r, " 404 "));
    free(r);
    r = http_get(port, "POST", "/metrics");
    assert_non_null(strstr(r, " 405 "));
    free(r);
    sg_metrics_http_stop(h);
    sg_metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
