/* Unit tests of sg_kafka_health, the broker-reachability verdict behind `stream`'s /health and
 * streamguard_kafka_up: statistics with growing response counts from a connected broker are
 * contact, silence longer than the timeout is "no broker contact", ALL_BROKERS_DOWN is down at
 * once and stays down until a connected broker answers again (responses counted just before
 * the outage do not undo it). Statistics JSON is written here in librdkafka's shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "core/sg_buf.h"
#include "core/sg_metrics.h"
#include "kafka/sg_kafka_health.h"

/* librdkafka statistics with one learned broker (and the bootstrap entry, never UP here). */
static void stats(struct sg_kafka_health *h, const char *state, int rx)
{
    char js[512];
    int n = snprintf(js, sizeof js,
                     "{\"name\":\"c#consumer-1\",\"type\":\"consumer\",\"brokers\":{"
                     "\"127.0.0.1:9092/bootstrap\":{\"name\":\"127.0.0.1:9092/bootstrap\","
                     "\"nodeid\":-1,\"state\":\"INIT\",\"rx\":0},"
                     "\"127.0.0.1:9092/1\":{\"name\":\"127.0.0.1:9092/1\",\"nodeid\":1,"
                     "\"state\":\"%s\",\"rx\":%d,\"tx\":%d}},\"topics\":{}}",
                     state, rx, rx);
    sg_kafka_health_stats(h, js, (size_t)n);
}

static int check(const struct sg_kafka_health *h, char *reason)
{
    return sg_kafka_health_check(h, reason, 128);
}

static void test_contact_and_silence(void **state)
{
    (void)state;
    char r[128];
    struct sg_kafka_health *h = sg_kafka_health_new(300);
    assert_int_equal(check(h, r), 1); /* new: counts as contact now */
    assert_string_equal(r, "");
    for (int i = 1; i <= 4; i++) { /* answers keep coming: up past the timeout */
        usleep(100000);
        stats(h, "UP", 10 * i);
        assert_int_equal(check(h, r), 1);
    }
    for (int i = 0; i < 4; i++) { /* connected but silent (a hung broker) */
        usleep(100000);
        stats(h, "UP", 40);
    }
    assert_int_equal(check(h, r), 0);
    assert_non_null(strstr(r, "kafka: no broker contact for"));
    stats(h, "UP", 41);
    assert_int_equal(check(h, r), 1);
    /* broken statistics change nothing */
    sg_kafka_health_stats(h, "{\"brokers\":[", 12);
    sg_kafka_health_stats(h, "null", 4);
    assert_int_equal(check(h, r), 1);
    sg_kafka_health_free(h);
}

static void test_all_brokers_down(void **state)
{
    (void)state;
    char r[128];
    struct sg_kafka_health *h = sg_kafka_health_new(60000);
    stats(h, "UP", 5);
    sg_kafka_health_error(h, RD_KAFKA_RESP_ERR__TRANSPORT); /* one connection: not down */
    assert_int_equal(check(h, r), 1);
    sg_kafka_health_error(h, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN);
    assert_int_equal(check(h, r), 0);
    assert_non_null(strstr(r, "kafka: all brokers down for 0 s"));
    /* responses that arrived before the outage, reported while reconnecting: still down */
    stats(h, "TRY_CONNECT", 9);
    stats(h, "CONNECT", 9);
    assert_int_equal(check(h, r), 0);
    /* the broker is back, connected, but has not answered anything yet */
    stats(h, "UP", 9);
    assert_int_equal(check(h, r), 0);
    stats(h, "UP", 12);
    assert_int_equal(check(h, r), 1);
    sg_kafka_health_free(h);
}

static void test_metrics(void **state)
{
    (void)state;
    struct sg_metrics *m = sg_metrics_new();
    struct sg_kafka_health *h = sg_kafka_health_new(60000);
    sg_kafka_health_register(h, m);
    struct sg_buf b;
    sg_buf_init(&b);
    sg_metrics_encode(m, &b);
    assert_non_null(strstr(b.data, "\nstreamguard_kafka_up 1\n"));
    assert_non_null(strstr(b.data, "# TYPE streamguard_kafka_contact_age_seconds gauge"));
    sg_kafka_health_error(h, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN);
    sg_buf_reset(&b);
    sg_metrics_encode(m, &b);
    assert_non_null(strstr(b.data, "\nstreamguard_kafka_up 0\n"));
    sg_buf_release(&b);
    sg_metrics_free(m);
    sg_kafka_health_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contact_and_silence),
        cmocka_unit_test(test_all_brokers_down),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
