/* Unit tests of sg_kafka_health, the broker-reachability verdict behind `stream`'s /health and
 * streamguard_kafka_up: statistics with growing response counts from a connected broker are
 * contact, silence longer than the timeout is "no broker contact", ALL_BROKERS_DOWN is down at
 * once and stays down until a connected broker answers again (responses counted just before
 * the outage do not undo it); a producer is judged by its deliveries instead of by silence.
 * Statistics JSON is written here in librdkafka's shape. */
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
    struct sg_kafka_health *h = sg_kafka_health_new("consumer", SG_KAFKA_CONSUMER, 300);
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
    assert_non_null(strstr(r, "consumer: no broker contact for"));
    sg_kafka_health_blocked(h, 1); /* silent because its loop waits elsewhere: says so */
    assert_int_equal(check(h, r), 0);
    assert_non_null(strstr(r, "consumer: not polled for 0 s (its loop waits for the producer"));
    sg_kafka_health_blocked(h, 0);
    assert_int_equal(check(h, r), 0);
    assert_non_null(strstr(r, "consumer: no broker contact for"));
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
    struct sg_kafka_health *h = sg_kafka_health_new("consumer", SG_KAFKA_CONSUMER, 60000);
    stats(h, "UP", 5);
    sg_kafka_health_error(h, RD_KAFKA_RESP_ERR__TRANSPORT); /* one connection: not down */
    assert_int_equal(check(h, r), 1);
    sg_kafka_health_error(h, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN);
    assert_int_equal(check(h, r), 0);
    assert_non_null(strstr(r, "consumer: all brokers down for 0 s"));
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

/* 1 when a scrape of m contains `text`. */
static int scraped(struct sg_metrics *m, const char *text)
{
    struct sg_buf b;
    sg_buf_init(&b);
    sg_metrics_encode(m, &b);
    int found = strstr(b.data, text) != NULL;
    sg_buf_release(&b);
    return found;
}

#define FAILED "\nstreamguard_kafka_delivery_failures_total{client=\"alerts_producer\"} "

static void test_metrics(void **state)
{
    (void)state;
    struct sg_metrics *m = sg_metrics_new();
    struct sg_kafka_health *h = sg_kafka_health_new("consumer", SG_KAFKA_CONSUMER, 60000);
    sg_kafka_health_register(h, m);
    assert_true(scraped(m, "\nstreamguard_kafka_up{client=\"consumer\"} 1\n"));
    assert_true(scraped(m, "# TYPE streamguard_kafka_contact_age_seconds gauge"));
    sg_kafka_health_error(h, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN);
    assert_true(scraped(m, "\nstreamguard_kafka_up{client=\"consumer\"} 0\n"));
    sg_metrics_free(m);
    sg_kafka_health_free(h);
}

/* A producer with nothing to send is healthy however long its brokers stay silent; queued
 * messages without any delivery report for the timeout are down; a report (even a failed
 * one) is progress. */
static void test_producer_queue(void **state)
{
    (void)state;
    char r[160];
    struct sg_kafka_health *h = sg_kafka_health_new("alerts_producer", SG_KAFKA_PRODUCER, 300);
    usleep(400000);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 1); /* idle: no contact needed */
    sg_kafka_health_queued(h);
    sg_kafka_health_queued(h);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 1); /* its wait starts now */
    usleep(400000);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 0);
    assert_non_null(strstr(r, "alerts producer: 2 messages queued, no delivery report for 0 s"));
    sg_kafka_health_delivery(h, RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 1); /* progress */
    usleep(400000);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 0); /* one still stuck */
    assert_non_null(strstr(r, "1 messages queued"));
    sg_kafka_health_delivery(h, RD_KAFKA_RESP_ERR_NO_ERROR);
    usleep(400000);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 1); /* all reported, idle again */
    sg_kafka_health_free(h);
}

/* The latest delivery report failing is down (with the error and the count) until a later
 * delivery succeeds, or the timeout passes without another failure; failures are counted in
 * streamguard_kafka_delivery_failures_total, labelled with the client. */
static void test_producer_failures(void **state)
{
    (void)state;
    char r[160];
    struct sg_metrics *m = sg_metrics_new();
    struct sg_kafka_health *h = sg_kafka_health_new("alerts_producer", SG_KAFKA_PRODUCER, 300);
    sg_kafka_health_register(h, m);
    for (int i = 0; i < 3; i++) {
        sg_kafka_health_queued(h);
        sg_kafka_health_delivery(h, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    }
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 0);
    assert_non_null(strstr(r, "alerts producer: last delivery failed 0 s ago ("));
    assert_non_null(strstr(r, rd_kafka_err2str(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)));
    assert_non_null(strstr(r, "), 3 failed so far"));
    assert_true(scraped(m, "\nstreamguard_kafka_up{client=\"alerts_producer\"} 0\n"));
    assert_true(scraped(m, FAILED "3\n"));
    assert_true(scraped(m, "\nstreamguard_kafka_queued_messages{client=\"alerts_producer\"} 0\n"));
    sg_kafka_health_queued(h);
    sg_kafka_health_delivery(h, RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 1); /* a later success clears it */
    sg_kafka_health_queued(h);
    sg_kafka_health_delivery(h, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 0);
    usleep(400000);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 1); /* an old failure expires */
    assert_true(scraped(m, FAILED "4\n"));
    sg_metrics_free(m);
    sg_kafka_health_free(h);
}

/* Brokers lost: an idle producer has nothing to fail (and may not reconnect before it has),
 * so it is down only once a message waits; a connected broker in its statistics is contact
 * even without new responses (an idle producer receives none), and the waiting message then
 * falls under the queue rule. */
static void test_producer_brokers_down(void **state)
{
    (void)state;
    char r[160];
    struct sg_kafka_health *h = sg_kafka_health_new("alerts_producer", SG_KAFKA_PRODUCER, 300);
    stats(h, "UP", 5);
    sg_kafka_health_error(h, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 1); /* idle */
    sg_kafka_health_queued(h);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 0); /* at once, not after 300 ms */
    assert_non_null(strstr(r, "alerts producer: all brokers down for 0 s"));
    stats(h, "CONNECT", 5);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 0);
    stats(h, "UP", 5); /* reconnected, nothing received since */
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 1);
    usleep(400000);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 0);
    assert_non_null(strstr(r, "1 messages queued, no delivery report for 0 s"));
    sg_kafka_health_delivery(h, RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(sg_kafka_health_check(h, r, sizeof r), 1);
    sg_kafka_health_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contact_and_silence),
        cmocka_unit_test(test_all_brokers_down),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_producer_queue),
        cmocka_unit_test(test_producer_failures),
        cmocka_unit_test(test_producer_brokers_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
