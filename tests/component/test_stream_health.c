/* Component test of `streamguard stream`'s /health and streamguard_kafka_up{client} when Kafka
 * fails after start: a librdkafka mock cluster in this process, the built binary as a child
 * (Kafka mode, /metrics + /health on 127.0.0.1:0). Taking the only broker down turns /health
 * into 503 with the reason "consumer: all brokers down for N s" (long before the no-contact
 * timeout, so it is librdkafka's ALL_BROKERS_DOWN that did it) and the gauge to 0; bringing it
 * back up restores 200 and 1 without a restart. Produce requests failing (the dead-letter
 * producer's deliveries) turn /health 503 naming the alerts producer while the consumer stays
 * up, until a dead letter is delivered again; a Produce request that hangs past the timeout
 * is 503 too ("messages queued, no delivery report"). SIGTERM still exits 0. */
#include "stream_fixture.h"

#include "../support/http_client.h"
#include "core/sg_err.h"
#include "storage/sg_store.h"

static rd_kafka_t *mk;
static rd_kafka_mock_cluster_t *mc;
static char dir[64];
static pid_t child = -1; /* the stream under test, killed by the teardown if a test failed */

static int health_setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sg_stream_health_XXXXXX");
    assert_non_null(mkdtemp(dir));
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof err);
    mk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(mk);
    mc = rd_kafka_handle_mock_cluster(mk);
    bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    assert_int_equal(rd_kafka_mock_topic_create(mc, TOPIC, 2, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(mc, "security-events-dlq", 1, 1), 0);
    snprintf(input_path, sizeof input_path, "%s/events.ndjson", dir);
    sh("python3 tests/e2e/lib/gen_events.py --users 5 --events 200 --seed 3 > %s", input_path);
    produce_input(TOPIC, input_path);
    return 0;
}

static int health_teardown(void **state)
{
    (void)state;
    if (child > 0 && kill(child, SIGKILL) == 0)
        waitpid(child, NULL, 0);
    rd_kafka_destroy(mk);
    if (!getenv("SG_TEST_KEEP"))
        sh("rm -rf %s", dir);
    return 0;
}

/* Reads "metrics on http://... (port N)" from the log; 0 if not there (yet). */
static uint16_t metrics_port(const char *log)
{
    FILE *f = fopen(log, "r");
    if (!f)
        return 0;
    char line[1024];
    unsigned port = 0;
    while (!port && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "metrics on http://");
        if (p && (p = strstr(p, "(port ")))
            port = (unsigned)strtoul(p + 6, NULL, 10);
    }
    fclose(f);
    return (uint16_t)port;
}

/* Polls /health until it answers `want` (up to `secs`); returns the elapsed ms, fails else.
 * The last body is left in *r (free it). */
static long wait_health(uint16_t port, int want, int secs, struct http_reply *r)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char last[512] = "";
    for (int i = 0; i < secs * 20; i++) {
        if (http_get(port, "/health", NULL, r) == want) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            return (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        }
        snprintf(last, sizeof last, "%s", r->body ? r->body : "");
        http_reply_free(r);
        usleep(50000);
    }
    fail_msg("/health never answered %d within %d s; last: %s", want, secs, last);
    return -1;
}

static int gauge_is(uint16_t port, const char *line)
{
    struct http_reply r;
    int ok = http_get(port, "/metrics", NULL, &r) == 200 && strstr(r.body, line) != NULL;
    http_reply_free(&r);
    return ok;
}

/* Spawns `stream` in group `group` (store <dir>/<group>.db, stderr to <dir>/<group>.log,
 * written to `log`) with stream.broker_timeout `timeout` (the no-contact timeout, failure
 * hold and stuck-queue limit); waits for its /metrics port, its partition assignment and a
 * healthy /health. */
static pid_t spawn_health(const char *group, const char *timeout, char log[128],
                          uint16_t *port)
{
    char db[128], to[64];
    snprintf(db, sizeof db, "%s/%s.db", dir, group);
    snprintf(log, 128, "%s/%s.log", dir, group);
    snprintf(to, sizeof to, "stream.broker_timeout=%s", timeout);
    const char *argv[] = {bin(), "stream", "--brokers", bootstraps, "--topic", TOPIC,
                          "--group", group, "--db", db, "--metrics-listen", "127.0.0.1:0",
                          "--batch-size", "100", "--set", "log.level=info",
                          "--set", to,
                          "--set", "kafka.reconnect.backoff.max.ms=500", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (child > 0 && kill(child, SIGKILL) == 0) /* left by a failed test */
        waitpid(child, NULL, 0);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, bin(), &fa, NULL, (char **)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    child = pid;
    *port = 0;
    for (int i = 0; i < 200 && !(*port = metrics_port(log)); i++)
        usleep(50000);
    assert_true(*port > 0);
    char grep[256];
    snprintf(grep, sizeof grep, "grep -q 'assigned %s' %s", TOPIC, log);
    for (int i = 0; i < 400 && system(grep) != 0; i++)
        usleep(50000);
    struct http_reply r;
    wait_health(*port, 200, 20, &r);
    http_reply_free(&r);
    return pid;
}

/* Polls /health (503 throughout, up to `secs`) until its body holds `a` and `b`; returns 1
 * then, 0 at the deadline. */
static int wait_body(uint16_t port, const char *a, const char *b, int secs)
{
    int found = 0;
    for (int i = 0; i < secs * 20 && !found; i++) {
        struct http_reply r;
        assert_int_equal(http_get(port, "/health", NULL, &r), 503);
        found = strstr(r.body, a) && strstr(r.body, b);
        if (found)
            fprintf(stderr, "/health: %s\n", r.body);
        http_reply_free(&r);
        usleep(50000);
    }
    return found;
}

/* /health turns 200 again (within 30 s) with `body_has` in its body, and /metrics has `gauge`. */
static void expect_back(uint16_t port, const char *after, const char *body_has,
                        const char *gauge)
{
    struct http_reply r;
    long ms = wait_health(port, 200, 30, &r);
    fprintf(stderr, "200 again %ld ms after %s\n", ms, after);
    assert_non_null(strstr(r.body, body_has));
    http_reply_free(&r);
    assert_true(gauge_is(port, gauge));
}

/* SIGTERM still exits 0, and the log says `text`. */
static void stop_and_grep(pid_t pid, const char *log, const char *text)
{
    kill(pid, SIGTERM);
    assert_int_equal(wait_exit(pid), 0);
    child = -1;
    char grep[512];
    snprintf(grep, sizeof grep, "grep -q '%s' %s", text, log);
    assert_int_equal(system(grep), 0);
}

static void test_broker_lost_and_back(void **state)
{
    (void)state;
    char log[128];
    uint16_t port;
    /* the no-contact timeout is long: a fast 503 is ALL_BROKERS_DOWN's */
    pid_t pid = spawn_health("health", "60s", log, &port);
    struct http_reply r;
    assert_int_equal(http_get(port, "/health", NULL, &r), 200);
    assert_non_null(strstr(r.body, "\"status\":\"ok\",\"kafka\":\"up\",\"consumer\":\"up\","
                                   "\"alerts_producer\":\"up\""));
    char ct[64];
    assert_non_null(http_header(&r, "Content-Type", ct, sizeof ct));
    assert_non_null(strstr(ct, "application/json"));
    http_reply_free(&r);
    assert_true(gauge_is(port, "\nstreamguard_kafka_up{client=\"consumer\"} 1\n"));

    assert_int_equal(rd_kafka_mock_broker_set_down(mc, 1), 0);
    long ms = wait_health(port, 503, 20, &r);
    fprintf(stderr, "503 %ld ms after the broker went down: %s\n", ms, r.body);
    assert_non_null(strstr(r.body, "\"status\":\"degraded\",\"kafka\":\"down\""));
    assert_non_null(strstr(r.body, "\"reason\":\"consumer: all brokers down for "));
    http_reply_free(&r);
    assert_true(gauge_is(port, "\nstreamguard_kafka_up{client=\"consumer\"} 0\n"));
    /* stays down while the broker is down; the producer, with nothing to deliver, is not
     * blamed for it */
    sleep(2);
    assert_int_equal(http_get(port, "/health", NULL, &r), 503);
    assert_non_null(strstr(r.body, "\"consumer\":\"down\",\"alerts_producer\":\"up\""));
    http_reply_free(&r);

    assert_int_equal(rd_kafka_mock_broker_set_up(mc, 1), 0);
    expect_back(port, "the broker came back", "\"kafka\":\"up\"",
                "\nstreamguard_kafka_up{client=\"consumer\"} 1\n");

    stop_and_grep(pid, log, "consumer: all brokers are down");
}

/* Writes `n` lines that are not JSON to the input topic (each one a dead letter to come). */
static void produce_invalid(int n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/invalid.ndjson", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < n; i++)
        fprintf(f, "not json %d\n", i);
    assert_int_equal(fclose(f), 0);
    produce_input(TOPIC, path);
}

/* Writes `n` invalid messages while the stream is stopped (SIGSTOP), then lets `inject` set up
 * the mock cluster and the stream go on: only the stream's Produce requests (its dead
 * letters) meet what `inject` set up, not the test's own. */
static void invalid_input_then(pid_t pid, int n, void (*inject)(void))
{
    assert_int_equal(kill(pid, SIGSTOP), 0);
    produce_invalid(n);
    inject();
    assert_int_equal(kill(pid, SIGCONT), 0);
}

static void fail_produce(void)
{
    static rd_kafka_resp_err_t errs[2000];
    for (size_t i = 0; i < 2000; i++)
        errs[i] = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
    rd_kafka_mock_push_request_errors_array(mc, 0 /* Produce */, 2000, errs);
}

/* The next Produce request is answered (successfully) only after 8 s. */
static void delay_produce(void)
{
    assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(
                         mc, 1, 0 /* Produce */, 1, RD_KAFKA_RESP_ERR_NO_ERROR, 8000),
                     0);
}

/* A metric's value from /metrics (the first line starting with `name`), -1 if absent. */
static double metric(uint16_t port, const char *name)
{
    struct http_reply r;
    double v = -1;
    if (http_get(port, "/metrics", NULL, &r) == 200) {
        char want[256];
        snprintf(want, sizeof want, "\n%s ", name);
        const char *p = strstr(r.body, want);
        if (p)
            v = strtod(p + strlen(want), NULL);
    }
    http_reply_free(&r);
    return v;
}

/* Messages in the dead-letter topic so far (its high watermark). */
static int64_t dlq_messages(void)
{
    int64_t lo, hi;
    assert_int_equal(rd_kafka_query_watermark_offsets(mk, "security-events-dlq", 0, &lo, &hi,
                                                      5000),
                     0);
    return hi;
}

/* Waits (10 s) until the dead-letter topic holds `want` messages, then (2 s) until the
 * stream's outbox is empty - its deletes are written at the next batch or idle flush. */
static void expect_delivered(uint16_t port, int64_t want)
{
    for (int i = 0; i < 200 && dlq_messages() < want; i++)
        usleep(50000);
    assert_int_equal(dlq_messages(), want);
    for (int i = 0; i < 40 && metric(port, "streamguard_stream_outbox_records") != 0; i++)
        usleep(50000);
    assert_true(metric(port, "streamguard_stream_outbox_records") == 0);
}

/* The consumer keeps its broker while every Produce request fails: the dead letters of new
 * invalid input cannot be delivered, /health says so naming the alerts producer (the
 * consumer still "up"), the per-client gauges split, failures are counted; once Produce
 * works again the next dead letter is delivered and /health is 200 again (the failure hold
 * is stream.broker_timeout = 60 s, so only that delivery can have cleared it), and the
 * refused dead letters, kept in the outbox, arrive too - each once. */
static void test_producer_failing(void **state)
{
    (void)state;
    char log[128];
    uint16_t port;
    pid_t pid = spawn_health("health-prod", "60s", log, &port);
    struct http_reply r;
    int64_t before = dlq_messages();

    invalid_input_then(pid, 5, fail_produce);

    long ms = wait_health(port, 503, 30, &r);
    fprintf(stderr, "503 %ld ms after the dead letters: %s\n", ms, r.body);
    assert_non_null(strstr(r.body, "\"kafka\":\"down\",\"consumer\":\"up\","
                                   "\"alerts_producer\":\"down\""));
    assert_non_null(strstr(r.body, "\"reason\":\"alerts producer: last delivery failed "));
    assert_non_null(strstr(r.body, "Message size too large"));
    http_reply_free(&r);
    assert_true(gauge_is(port, "\nstreamguard_kafka_up{client=\"consumer\"} 1\n"));
    assert_true(gauge_is(port, "\nstreamguard_kafka_up{client=\"alerts_producer\"} 0\n"));
#define FAILURES "\nstreamguard_kafka_delivery_failures_total{client=\"alerts_producer\"} "
    assert_true(gauge_is(port, FAILURES));
    assert_false(gauge_is(port, FAILURES "0\n"));

    rd_kafka_mock_clear_request_errors(mc, 0 /* Produce */);
    produce_invalid(2);
    expect_back(port, "Produce works again", "\"alerts_producer\":\"up\"",
                "\nstreamguard_kafka_up{client=\"alerts_producer\"} 1\n");
    /* the refused dead letters were kept in the outbox and sent again: all 7 arrive, once */
    expect_delivered(port, before + 7);

    stop_and_grep(pid, log, "alerts producer: delivery to security-events-dlq failed");
    assert_int_equal(dlq_messages(), before + 7);
}

/* A dead letter whose Produce request hangs for 8 s (stream.broker_timeout 2 s): /health
 * turns 503 naming the alerts producer's queued message without a delivery report; the
 * consumer stays up - the dead letter waits in the store's outbox, not in the consume loop
 * (until 2026-11-26 the loop waited for every delivery and /health said "not polled") - and
 * the outbox gauge counts the record; once the answer arrives both are back to 0. */
static void test_producer_stuck(void **state)
{
    (void)state;
    char log[128];
    uint16_t port;
    rd_kafka_mock_clear_request_errors(mc, 0 /* Produce */); /* left if the last test failed */
    pid_t pid = spawn_health("health-stuck", "2s", log, &port);
    struct http_reply r;

    invalid_input_then(pid, 1, delay_produce);
    wait_health(port, 503, 15, &r);
    http_reply_free(&r);
    assert_true(wait_body(port, "\"consumer\":\"up\",\"alerts_producer\":\"down\"",
                          "\"reason\":\"alerts producer: 1 messages queued, no delivery report for ",
                          5));
#define QUEUED "\nstreamguard_kafka_queued_messages{client=\"alerts_producer\"} "
#define OUTBOX "\nstreamguard_stream_outbox_records "
    assert_true(gauge_is(port, QUEUED "1\n"));
    assert_true(gauge_is(port, OUTBOX "1\n"));

    expect_back(port, "the Produce answer", "\"alerts_producer\":\"up\"", QUEUED "0\n");
    for (int i = 0; i < 40 && !gauge_is(port, OUTBOX "0\n"); i++)
        usleep(50000); /* the delete is written at the loop's next idle flush */
    assert_true(gauge_is(port, OUTBOX "0\n"));
    stop_and_grep(pid, log, "invalid message");
}

/* The store of group "outbox" holds `n` outbox records ("outbox" 0x00 | seq in the meta CF). */
static void dump_outbox(int n)
{
    sh("%s stream --dump-store --db %s/outbox.db > %s/outbox.dump", bin(), dir, dir);
    sh("grep -q '^users\t' %s/outbox.dump", dir); /* a real dump */
    sh("test \"$(grep -cP '^default\t6f7574626f7800' %s/outbox.dump)\" = %d", dir, n);
}

static void last_seq(void *ctx, uint64_t seq, const void *rec, size_t len)
{
    (void)rec, (void)len;
    *(uint64_t *)ctx = seq;
}

/* Appends an outbox record that does not decode (what a damaged store would hold) after the
 * stored ones of the stopped stream's store. */
static void put_corrupt_outbox_record(void)
{
    char db[128], err[256];
    snprintf(db, sizeof db, "%s/outbox.db", dir);
    struct sg_store *st;
    assert_int_equal(sg_store_open(db, SG_STORE_PRIMARY, NULL, 0, &st, err, sizeof err), SG_OK);
    uint64_t last = 0;
    assert_true(sg_store_outbox_each(st, last_seq, &last) > 0);
    struct sg_store_batch *b = sg_store_batch_new(st);
    sg_store_batch_put_outbox(b, last + 1, "\xff\xff", 2);
    assert_int_equal(sg_store_write(st, b, 1), SG_OK);
    sg_store_batch_free(b);
    sg_store_close(st);
}

/* Dead letters that Kafka never acknowledged survive kill -9: they were stored in the outbox
 * with the batch that consumed their messages, and the next start sends them - the consumed
 * offsets are stored too, so the messages themselves are not read again, and the outbox is
 * the only way these dead letters can still arrive. After the deliveries the outbox is empty
 * (the gauge, and the store's dump has no outbox key). */
#define LAG "streamguard_stream_consumer_lag_messages{partition=\""
static void test_outbox_after_kill(void **state)
{
    (void)state;
    char log[128];
    uint16_t port;
    rd_kafka_mock_clear_request_errors(mc, 0 /* Produce */);
    pid_t pid = spawn_health("outbox", "60s", log, &port);
    /* the dead letters of the earlier tests' invalid input (this group reads from the
     * beginning) are delivered first */
    for (int i = 0; i < 200 && (metric(port, "streamguard_stream_outbox_records") != 0 ||
                                metric(port, LAG "0\"}") != 0 || metric(port, LAG "1\"}") != 0);
         i++)
        usleep(50000);
    int64_t before = dlq_messages();

    invalid_input_then(pid, 3, fail_produce);
    /* a delivery is attempted only once its batch is stored: 3 failures = 3 stored records */
    const char *failures = "streamguard_kafka_delivery_failures_total{client=\"alerts_producer\"}";
    for (int i = 0; i < 200 && metric(port, failures) < 3; i++)
        usleep(50000);
    assert_true(metric(port, failures) >= 3);
    assert_true(metric(port, "streamguard_stream_outbox_records") == 3);
    kill(pid, SIGKILL);
    assert_int_equal(wait_exit(pid), 128 + SIGKILL);
    child = -1;
    rd_kafka_mock_clear_request_errors(mc, 0 /* Produce */);
    assert_int_equal(dlq_messages(), before); /* none got through */
    dump_outbox(3);
    /* and one the next start cannot decode: counted, logged, dropped - not sent, and not
     * kept for ever either */
    put_corrupt_outbox_record();
    dump_outbox(4);

    pid = spawn_health("outbox", "60s", log, &port);
    expect_delivered(port, before + 3);
    assert_true(metric(port, "streamguard_stream_outbox_dropped_total{reason=\"corrupt\"}") == 1);
    assert_true(metric(port, "streamguard_stream_outbox_dropped_total{reason=\"no_topic\"}") == 0);
    stop_and_grep(pid, log, "sending 4 alerts/dead letters stored by an earlier run");
    sh("grep -q 'is corrupt: dropped' %s", log);
    assert_int_equal(dlq_messages(), before + 3); /* not sent twice */
    dump_outbox(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broker_lost_and_back),
        cmocka_unit_test(test_producer_failing),
        cmocka_unit_test(test_outbox_after_kill),
    };
    /* On a mock cluster of its own: the broker error stack its delay leaves behind (empty,
     * but there, and librdkafka 2.0's mock has no call to remove it) would hide the cluster
     * errors other tests push, which the mock checks only when a broker has no stack. */
    const struct CMUnitTest stuck[] = {
        cmocka_unit_test(test_producer_stuck),
    };
    int failed = cmocka_run_group_tests_name("stream_health", tests, health_setup, health_teardown);
    return failed + cmocka_run_group_tests_name("stream_health_stuck", stuck, health_setup,
                                                health_teardown);
}
