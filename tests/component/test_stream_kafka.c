/* Component tests of `streamguard stream` against a librdkafka mock cluster living in this
 * process (the stream runs as real child processes of the built binary): consuming a produced
 * stream gives the same store as replaying the same NDJSON; invalid messages land in the DLQ
 * topic with their reason in headers; a restart consumes nothing twice; kill -9 at random points
 * ten times then a final run gives a store identical to a clean run; two processes in one
 * group with one killed mid-way leave the survivor's store complete. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/sg_event.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"

extern char **environ;

#define TOPIC "security-events"
#define NPART 4

static rd_kafka_t *mock_rk;
static const char *bootstraps;
static char workdir[64];
static char input_path[128];

static const char *bin(void)
{
    const char *b = getenv("STREAMGUARD_BIN");
    return b ? b : "build/streamguard";
}

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

/* Produces every line of the input file, keyed by user (invalid lines with key "bad"). */
static void produce_input(const char *topic, const char *path)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof err);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(p);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct sg_arena ar;
    sg_arena_init(&ar, 0);
    while ((n = getline(&line, &cap, f)) > 0) {
        size_t len = (size_t)n - (line[n - 1] == '\n');
        struct sg_event ev;
        const char *key = "bad";
        size_t kl = 3;
        if (sg_event_decode(line, len, &ev, &ar, NULL) == 0) {
            key = ev.user.p;
            kl = ev.user.len;
        }
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, kl),
                                      RD_KAFKA_V_VALUE(line, len),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 10);
        assert_int_equal(e, 0);
        sg_arena_reset(&ar);
    }
    assert_int_equal(rd_kafka_flush(p, 30000), 0);
    sg_arena_release(&ar);
    free(line);
    fclose(f);
    rd_kafka_destroy(p);
}

static int setup(void **state)
{
    (void)state;
    snprintf(workdir, sizeof workdir, "/tmp/sg_stream_kafka_XXXXXX");
    assert_non_null(mkdtemp(workdir));
    snprintf(input_path, sizeof input_path, "%s/events.ndjson", workdir);
    sh("python3 tests/e2e/lib/gen_events.py --users 40 --events 12000 --seed 7 --invalid 0.01 "
       "--dups 0.01 > %s", input_path);
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof err);
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    assert_non_null(mock_rk);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(mock_rk);
    bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    assert_int_equal(rd_kafka_mock_topic_create(mc, TOPIC, NPART, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(mc, "security-events-dlq", 1, 1), 0);
    assert_int_equal(rd_kafka_mock_topic_create(mc, "security-anomalies", 1, 1), 0);
    produce_input(TOPIC, input_path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rd_kafka_destroy(mock_rk);
    if (!getenv("SG_TEST_KEEP"))
        sh("rm -rf %s", workdir);
    return 0;
}

/* Spawns `streamguard stream` consuming TOPIC into db; returns the pid. */
static pid_t spawn_stream(const char *db, const char *group, const char *idle, const char *topic)
{
    char log[256];
    snprintf(log, sizeof log, "%s/stream.log", workdir);
    const char *argv[] = {bin(), "stream", "--brokers", bootstraps, "--topic", topic,
                          "--group", group, "--db", db, "--metrics-listen", "off",
                          "--idle-exit", idle, "--batch-size", "500",
                          "--set", "kafka.session.timeout.ms=6000",
                          "--set", "kafka.heartbeat.interval.ms=500", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, bin(), &fa, NULL, (char **)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

static int wait_exit(pid_t pid)
{
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Dumps a store to a file; `skip_offsets` drops the offsets column family. */
static void dump(const char *db, const char *out, int skip_offsets)
{
    sh("%s stream --dump-store --db %s %s > %s", bin(), db,
       "", out);
    if (skip_offsets)
        sh("grep -v '^offsets\t' %s > %s.x && mv %s.x %s", out, out, out, out);
}

static void test_consume_equals_replay(void **state)
{
    (void)state;
    char db[128], ref[128], a[160], b[160];
    snprintf(db, sizeof db, "%s/kafka.db", workdir);
    snprintf(ref, sizeof ref, "%s/replay.db", workdir);
    assert_int_equal(wait_exit(spawn_stream(db, "g1", "3s", TOPIC)), 0);
    sh("%s stream --input %s --db %s --metrics-listen off > /dev/null", bin(), input_path, ref);
    snprintf(a, sizeof a, "%s/kafka.dump", workdir);
    snprintf(b, sizeof b, "%s/replay.dump", workdir);
    dump(db, a, 1);
    dump(ref, b, 1);
    sh("cmp %s %s", a, b);
    sh("test $(grep -c '^events\t' %s) -gt 11000", a);
    /* every partition's offset was stored */
    char off[160];
    snprintf(off, sizeof off, "%s/kafka.off", workdir);
    dump(db, off, 0);
    sh("test $(grep -c '^offsets\t' %s) -eq %d", off, NPART);
    /* a restart consumes nothing new */
    assert_int_equal(wait_exit(spawn_stream(db, "g1", "3s", TOPIC)), 0);
    dump(db, a, 1);
    sh("cmp %s %s", a, b);
}

struct dlq_count {
    int n, with_reason;
};

static void test_dlq(void **state)
{
    (void)state;
    /* the DLQ topic got every invalid line with its reason in headers */
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "dlq-reader", err, sizeof err);
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    assert_non_null(c);
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, "security-events-dlq", 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, l);
    rd_kafka_topic_partition_list_destroy(l);
    struct dlq_count dc = {0};
    for (int idle = 0; idle < 20;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) {
            idle++;
            continue;
        }
        if (!m->err) {
            dc.n++;
            rd_kafka_headers_t *h;
            const void *v;
            size_t vl;
            if (rd_kafka_message_headers(m, &h) == 0 &&
                rd_kafka_header_get_last(h, "reason", &v, &vl) == 0 && vl > 0)
                dc.with_reason++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    char cnt[64];
    FILE *p;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s stream --input %s --db %s/dlqref.db --metrics-listen off "
             "--dlq %s/dlq.ndjson >/dev/null && wc -l < %s/dlq.ndjson", bin(), input_path,
             workdir, workdir, workdir);
    p = popen(cmd, "r");
    assert_non_null(fgets(cnt, sizeof cnt, p));
    pclose(p);
    int expect = atoi(cnt);
    assert_true(expect > 50);
    /* at-least-once: a restart after a crash may repeat some, never lose */
    assert_true(dc.n >= expect);
    assert_int_equal(dc.with_reason, dc.n);
}

static void test_kill9_loop(void **state)
{
    (void)state;
    char db[128], a[160], b[160], ref[128];
    snprintf(db, sizeof db, "%s/crash.db", workdir);
    snprintf(ref, sizeof ref, "%s/kafka.db", workdir); /* the clean run of the first test */
    struct sg_rng r;
    sg_rng_seed(&r, 99);
    for (int i = 0; i < 10; i++) {
        pid_t pid = spawn_stream(db, "crash", "10s", TOPIC);
        struct timespec ts = {0, (long)(100 + sg_rng_below(&r, 600)) * 1000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        assert_int_equal(wait_exit(pid), 128 + SIGKILL);
    }
    assert_int_equal(wait_exit(spawn_stream(db, "crash", "3s", TOPIC)), 0);
    snprintf(a, sizeof a, "%s/crash.dump", workdir);
    snprintf(b, sizeof b, "%s/clean.dump", workdir);
    dump(db, a, 0);
    dump(ref, b, 0);
    sh("cmp %s %s", a, b); /* identical, offsets included */
}

static void test_two_consumers_one_killed(void **state)
{
    (void)state;
    char dba[128], dbb[128], a[160], b[160], ref[128];
    snprintf(dba, sizeof dba, "%s/two_a.db", workdir);
    snprintf(dbb, sizeof dbb, "%s/two_b.db", workdir);
    snprintf(ref, sizeof ref, "%s/kafka.db", workdir);
    pid_t pa = spawn_stream(dba, "pair", "20s", TOPIC);
    pid_t pb = spawn_stream(dbb, "pair", "9s", TOPIC);
    struct timespec ts = {1, 500000000L};
    nanosleep(&ts, NULL); /* both joined and consuming (or done with their share) */
    kill(pa, SIGKILL);
    assert_int_equal(wait_exit(pa), 128 + SIGKILL);
    assert_int_equal(wait_exit(pb), 0);
    /* the survivor took A's partitions over from the beginning of the log: its store holds the
     * complete, correct result */
    snprintf(a, sizeof a, "%s/two_b.dump", workdir);
    snprintf(b, sizeof b, "%s/clean2.dump", workdir);
    dump(dbb, a, 0);
    dump(ref, b, 0);
    sh("cmp %s %s", a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consume_equals_replay),
        cmocka_unit_test(test_dlq),
        cmocka_unit_test(test_kill9_loop),
        cmocka_unit_test(test_two_consumers_one_killed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
