/* stream_fixture.h: shared fixture of the `streamguard stream` component tests - a librdkafka
 * mock cluster living in the test process, seeded test events produced to it keyed by user,
 * and helpers to spawn the built binary as real child processes and dump their stores.
 * Included by one test file each (static functions), not a library. */
#ifndef STREAM_FIXTURE_H
#define STREAM_FIXTURE_H
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

__attribute__((unused)) static const char *bin(void)
{
    const char *b = getenv("STREAMGUARD_BIN");
    return b ? b : "build/streamguard";
}

__attribute__((unused)) static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

/* Produces every line of the input file, keyed by user (invalid lines with key "bad"). */
__attribute__((unused)) static void produce_input(const char *topic, const char *path)
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

__attribute__((unused)) static int setup(void **state)
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

__attribute__((unused)) static int teardown(void **state)
{
    (void)state;
    rd_kafka_destroy(mock_rk);
    if (!getenv("SG_TEST_KEEP"))
        sh("rm -rf %s", workdir);
    return 0;
}

/* Spawns `streamguard stream` consuming TOPIC into db, stderr to <workdir>/<group>.log;
 * returns the pid. */
__attribute__((unused)) static pid_t spawn_stream(const char *db, const char *group, const char *idle, const char *topic)
{
    char log[256];
    snprintf(log, sizeof log, "%s/%s.log", workdir, group);
    unlink(log);
    const char *argv[] = {bin(), "stream", "--brokers", bootstraps, "--topic", topic,
                          "--group", group, "--db", db, "--metrics-listen", "off",
                          "--idle-exit", idle, "--batch-size", "500", "--set", "log.level=info",
                          "--set", "kafka.session.timeout.ms=3000",
                          "--set", "kafka.heartbeat.interval.ms=300", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, bin(), &fa, NULL, (char **)argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* Waits (up to 20 s) until the group's log mentions an assignment. */
__attribute__((unused)) static void wait_assigned(const char *group)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "grep -q 'assigned security-events' %s/%s.log 2>/dev/null",
             workdir, group);
    for (int i = 0; i < 400; i++) {
        if (system(cmd) == 0)
            return;
        usleep(50000);
    }
    fail_msg("group %s was never assigned partitions", group);
}

__attribute__((unused)) static int wait_exit(pid_t pid)
{
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Dumps a store's canonical content to `out`. for_replay: made comparable with the store of
 * a replay of the same events - without the offsets (a file's line numbers vs Kafka offsets)
 * and with each profile's partition (format 3: the byte after the version; one varint byte
 * while partitions < 127) set to 1, partition 0, what a replay records. */
__attribute__((unused)) static void dump(const char *db, const char *out, int for_replay)
{
    sh("%s stream --dump-store --db %s > %s", bin(), db, out);
    if (for_replay)
        sh("grep -v '^offsets\t' %s | sed -E 's/^(users\t[0-9a-f]*\t03)[0-7][0-9a-f]/\\101/' "
           "> %s.x && mv %s.x %s", out, out, out, out);
}

#endif
