/* Component test of the development broker and the generate->Kafka path: an in-process
 * mock cluster (sg_broker), the generator pumped through sg_gen_run into sg_producer exactly
 * as `streamguard generate --brokers` does, then everything consumed back with a plain
 * librdkafka consumer and compared with the file output of the same seed. Also: delivery
 * failures are counted, and an unreachable broker is reported as unavailable quickly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <librdkafka/rdkafka.h>

#include "core/sg_buf.h"
#include "core/sg_config.h"
#include "core/sg_err.h"
#include "core/sg_time.h"
#include "gen/sg_gen.h"
#include "gen/sg_gen_run.h"
#include "kafka/sg_broker.h"
#include "kafka/sg_producer.h"

#define TOPIC "security-events"
#define PARTITIONS 4
#define START_MS INT64_C(1793491200000)

static struct sg_gen *new_gen(uint64_t seed, int64_t events)
{
    struct sg_gen_opts o = {seed, events, 120, 0.1, 3, START_MS, 0};
    char err[256];
    struct sg_gen *g = sg_gen_new(&o, err, sizeof err);
    assert_non_null(g);
    return g;
}

/* The file path of the same seed: NDJSON lines through a pipe-less temp file. */
static char *file_output(uint64_t seed, int64_t events, size_t *len)
{
    char path[] = "/tmp/sg_test_broker_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    struct sg_gen *g = new_gen(seed, events);
    struct sg_gen_run_opts ro = {fd, NULL, 0, NULL, NULL, NULL};
    int64_t n = 0;
    assert_int_equal(sg_gen_run(g, &ro, &n), SG_OK);
    assert_int_equal(n, events);
    sg_gen_free(g);
    off_t size = lseek(fd, 0, SEEK_END);
    char *data = malloc((size_t)size + 1);
    assert_int_equal(pread(fd, data, (size_t)size, 0), size);
    data[size] = '\0';
    close(fd);
    unlink(path);
    *len = (size_t)size;
    return data;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static rd_kafka_t *new_consumer(const char *boot)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[256];
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", boot, err, sizeof err), 0);
    assert_int_equal(rd_kafka_conf_set(conf, "group.id", "test-broker", err, sizeof err), 0);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    assert_non_null(rk);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
    for (int p = 0; p < PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(parts, TOPIC, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(rk, parts), 0);
    rd_kafka_topic_partition_list_destroy(parts);
    return rk;
}

/* Consumes `want` messages (30 s at most); checks key == user and per-user time order;
 * returns the values as strings. */
static char **consume_all(const char *boot, size_t want)
{
    rd_kafka_t *rk = new_consumer(boot);
    char **vals = calloc(want, sizeof *vals);
    size_t n = 0;
    int64_t deadline = sg_time_mono_ms() + 30000;
    struct {
        char user[64];
        int64_t ts;
    } *last = calloc(want, sizeof *last);
    size_t nusers = 0;
    while (n < want && sg_time_mono_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err) {
            assert_int_equal(m->err, RD_KAFKA_RESP_ERR__PARTITION_EOF);
            rd_kafka_message_destroy(m);
            continue;
        }
        cJSON *o = cJSON_ParseWithLength(m->payload, m->len);
        assert_non_null(o);
        const char *user = cJSON_GetObjectItem(o, "user")->valuestring;
        assert_int_equal(m->key_len, strlen(user)); /* keyed by user */
        assert_memory_equal(m->key, user, m->key_len);
        const char *ts = cJSON_GetObjectItem(o, "timestamp")->valuestring;
        int64_t t;
        assert_int_equal(sg_time_parse_rfc3339(ts, strlen(ts), &t), SG_OK);
        size_t u = 0;
        while (u < nusers && strcmp(last[u].user, user))
            u++;
        if (u == nusers)
            snprintf(last[nusers++].user, sizeof last[0].user, "%s", user);
        else
            assert_true(last[u].ts <= t); /* one user = one partition = time order */
        last[u].ts = t;
        cJSON_Delete(o);
        vals[n] = malloc(m->len + 1);
        memcpy(vals[n], m->payload, m->len);
        vals[n][m->len] = '\0';
        n++;
        rd_kafka_message_destroy(m);
    }
    assert_int_equal(n, want);
    /* nothing more arrives */
    rd_kafka_message_t *m;
    while ((m = rd_kafka_consumer_poll(rk, 500)) != NULL) {
        assert_true(m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF);
        rd_kafka_message_destroy(m);
    }
    free(last);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return vals;
}

static void test_produce_consume_roundtrip(void **state)
{
    (void)state;
    const char *topics[] = {TOPIC};
    char err[512];
    struct sg_broker *b = sg_broker_new(1, PARTITIONS, topics, 1, err, sizeof err);
    assert_non_null(b);
    const char *boot = sg_broker_bootstraps(b);
    assert_memory_equal(boot, "127.0.0.1:", 10); /* loopback only */

    const int64_t events = 20000;
    struct sg_producer *p = sg_producer_new(NULL, boot, TOPIC, err, sizeof err);
    assert_non_null(p);
    assert_int_equal(sg_producer_check(p, 5000, err, sizeof err), SG_OK);
    struct sg_gen *g = new_gen(77, events);
    struct sg_gen_run_opts ro = {-1, p, 0, NULL, NULL, NULL};
    int64_t n = 0;
    assert_int_equal(sg_gen_run(g, &ro, &n), SG_OK);
    assert_int_equal(n, events);
    assert_int_equal(sg_producer_flush(p, 30000), SG_OK);
    struct sg_producer_stats st;
    sg_producer_stats(p, &st);
    assert_int_equal(st.sent, events);
    assert_int_equal(st.delivered, events);
    assert_int_equal(st.failed, 0);
    sg_producer_free(p);
    sg_gen_free(g);

    char **vals = consume_all(boot, (size_t)events);
    /* Same multiset of lines as the file output of the same seed. */
    size_t len;
    char *file = file_output(77, events, &len);
    char **lines = calloc((size_t)events, sizeof *lines);
    size_t nl = 0;
    for (char *s = file, *e; *s; s = e + 1) {
        e = strchr(s, '\n');
        assert_non_null(e);
        *e = '\0';
        assert_true(nl < (size_t)events);
        lines[nl++] = s;
    }
    assert_int_equal(nl, events);
    qsort(lines, nl, sizeof *lines, cmp_str);
    qsort(vals, nl, sizeof *vals, cmp_str);
    for (size_t i = 0; i < nl; i++)
        assert_string_equal(vals[i], lines[i]);
    for (size_t i = 0; i < nl; i++)
        free(vals[i]);
    free(vals);
    free(lines);
    free(file);
    sg_broker_free(b);
}

static void test_delivery_failures_counted(void **state)
{
    (void)state;
    const char *topics[] = {TOPIC};
    char err[512];
    struct sg_broker *b = sg_broker_new(1, 1, topics, 1, err, sizeof err);
    assert_non_null(b);
    struct sg_producer *p = sg_producer_new(NULL, sg_broker_bootstraps(b), TOPIC, err, sizeof err);
    assert_non_null(p);
    assert_int_equal(sg_producer_check(p, 5000, err, sizeof err), SG_OK);
    sg_broker_fail_produce(b, 50);
    struct sg_gen *g = new_gen(5, 2000);
    struct sg_gen_run_opts ro = {-1, p, 0, NULL, NULL, NULL};
    int64_t n = 0;
    /* librdkafka may start rejecting produce calls for the topic once the first error is
     * back: then the run stops early with the error, and that message counts as failed too */
    int rc = sg_gen_run(g, &ro, &n);
    print_message("run: %s after %lld events\n", sg_strerror(rc), (long long)n);
    assert_true(rc == SG_OK || rc == SG_ERR_KAFKA);
    if (rc == SG_OK)
        assert_int_equal(n, 2000);
    assert_int_equal(sg_producer_flush(p, 20000), SG_ERR_KAFKA);
    struct sg_producer_stats st;
    sg_producer_stats(p, &st);
    assert_int_equal(st.sent, (uint64_t)(n + (rc != SG_OK)));
    assert_true(st.failed > 0);
    assert_int_equal(st.delivered + st.failed, st.sent);
    assert_non_null(strstr(st.first_error, "uthoriz"));
    sg_producer_free(p);
    sg_gen_free(g);
    sg_broker_free(b);
}

static void test_unreachable_broker(void **state)
{
    (void)state;
    char err[512];
    /* port 1: privileged, nothing listens there on a test machine */
    struct sg_producer *p = sg_producer_new(NULL, "127.0.0.1:1", TOPIC, err, sizeof err);
    assert_non_null(p);
    int64_t t0 = sg_time_mono_ms();
    assert_int_equal(sg_producer_check(p, 3000, err, sizeof err), SG_ERR_UNAVAILABLE);
    assert_true(sg_time_mono_ms() - t0 < 6000);
    assert_non_null(strstr(err, "no Kafka broker reachable"));
    sg_producer_free(p);
}

static void test_broker_bad_args(void **state)
{
    (void)state;
    char err[256];
    const char *topics[] = {TOPIC};
    assert_null(sg_broker_new(0, 4, topics, 1, err, sizeof err));
    assert_null(sg_broker_new(1, 0, topics, 1, err, sizeof err));
    assert_true(strlen(err) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_produce_consume_roundtrip),
        cmocka_unit_test(test_delivery_failures_counted),
        cmocka_unit_test(test_unreachable_broker),
        cmocka_unit_test(test_broker_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
