/* bench_kafka_floor: the end-to-end latency floor that Kafka itself sets - producer timestamp
 * -> message in a consumer's hands - with the stream's consumer settings (fetch.wait.max.ms 1,
 * Nagle off) and no processing and no store. bench/stream_kafka.sh runs it in place of the
 * stream under the same generated load, so that the stream's e2e p99 can be read against what
 * the development broker, the generator and the consumer alone give on this machine.
 *
 * Usage: bench_kafka_floor BOOTSTRAP [TOPIC=security-events] [IDLE_S=3]
 *   consumes TOPIC in a fresh group from the end, logs "assigned" to stderr once it owns
 *   partitions, and after IDLE_S seconds without a message (once one arrived) prints
 *   {"messages":N,"e2e_p50_ms":..,"e2e_p99_ms":..,"e2e_max_ms":..}.
 * Without arguments it measures itself against an in-process mock cluster (4 partitions,
 * 20,000 messages/s for 5 s from a producer thread with linger.ms 1) - what `make bench` runs. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sg_time.h"

static volatile int assigned;

static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++)
            parts->elems[i].offset = RD_KAFKA_OFFSET_END;
        rd_kafka_assign(rk, parts);
        assigned = 1;
        fprintf(stderr, "assigned %d partitions\n", parts->cnt);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *const kv[][2], size_t n)
{
    char err[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_conf_set(c, kv[i][0], kv[i][1], err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "%s=%s: %s\n", kv[i][0], kv[i][1], err);
            exit(2);
        }
    if (type == RD_KAFKA_CONSUMER)
        rd_kafka_conf_set_rebalance_cb(c, rebalance);
    rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "rd_kafka_new: %s\n", err);
        exit(2);
    }
    return rk;
}

/* Consumes until idle_ms without a message (after the first); prints the latency summary. */
static void consume(const char *bootstrap, const char *topic, int64_t idle_ms)
{
    char group[64];
    snprintf(group, sizeof group, "latency-floor-%lld", (long long)sg_time_now_ms());
    const char *const kv[][2] = {
        {"bootstrap.servers", bootstrap},   {"group.id", group},
        {"enable.auto.commit", "false"},    {"enable.partition.eof", "false"},
        {"fetch.wait.max.ms", "1"},         {"socket.nagle.disable", "true"},
        {"queued.max.messages.kbytes", "65536"},
    };
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, kv, sizeof kv / sizeof kv[0]);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    size_t n = 0, cap = 1 << 16;
    double *lat = malloc(cap * sizeof *lat);
    int64_t last = 0, start = sg_time_mono_ms();
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        int64_t now_mono = sg_time_mono_ms();
        if (!m) {
            if ((last && now_mono - last > idle_ms) || (!last && now_mono - start > 120000))
                break;
            continue;
        }
        if (!m->err) {
            rd_kafka_timestamp_type_t tt;
            int64_t ts = rd_kafka_message_timestamp(m, &tt);
            if (tt != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) {
                if (n == cap)
                    lat = realloc(lat, (cap *= 2) * sizeof *lat);
                double d = (double)(sg_time_now_ms() - ts);
                lat[n++] = d < 0 ? 0 : d;
            }
            last = now_mono;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    qsort(lat, n, sizeof *lat, cmp_double);
    double p50 = n ? lat[(size_t)(0.50 * (double)(n - 1))] : 0;
    double p99 = n ? lat[(size_t)(0.99 * (double)(n - 1))] : 0;
    printf("{\"messages\":%zu,\"e2e_p50_ms\":%.1f,\"e2e_p99_ms\":%.1f,\"e2e_max_ms\":%.1f}\n", n,
           p50, p99, n ? lat[n - 1] : 0.0);
    free(lat);
}

struct self_load {
    const char *bootstrap;
    int rate, seconds;
};

static void *produce_load(void *arg)
{
    const struct self_load *s = arg;
    while (!assigned)
        usleep(10000);
    sleep(2); /* the first fetches (offset look-ups) come after the assignment */
    const char *const kv[][2] = {{"bootstrap.servers", s->bootstrap}, {"linger.ms", "1"},
                                 {"socket.nagle.disable", "true"}};
    rd_kafka_t *p = client(RD_KAFKA_PRODUCER, kv, sizeof kv / sizeof kv[0]);
    int64_t t0 = sg_time_mono_ns();
    long total = (long)s->rate * s->seconds;
    char key[16], val[64];
    for (long i = 0; i < total; i++) {
        if (i % (s->rate / 1000) == 0) { /* one sleep per millisecond of messages */
            int64_t due = t0 + (int64_t)((double)i * 1e9 / s->rate), now = sg_time_mono_ns();
            if (due > now)
                nanosleep(&(struct timespec){0, (long)(due - now)}, NULL);
        }
        snprintf(key, sizeof key, "u%ld", i % 2000);
        int vl = snprintf(val, sizeof val, "{\"n\":%ld}", i);
        while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC("security-events"),
                                 RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE(val, vl),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 1);
        rd_kafka_poll(p, 0);
    }
    rd_kafka_flush(p, 10000);
    rd_kafka_destroy(p);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        consume(argv[1], argc > 2 ? argv[2] : "security-events",
                (argc > 3 ? atoi(argv[3]) : 3) * 1000);
        return 0;
    }
    /* self-contained: an in-process mock cluster, a producer thread, this consumer */
    const char *const kv[][2] = {{"test.mock.num.brokers", "1"}, {"log_level", "2"}};
    rd_kafka_t *mock = client(RD_KAFKA_PRODUCER, kv, sizeof kv / sizeof kv[0]);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(mock);
    struct self_load s = {rd_kafka_mock_cluster_bootstraps(mc), 20000, 5};
    rd_kafka_mock_topic_create(mc, "security-events", 4, 1);
    char host[256] = "?";
    gethostname(host, sizeof host);
    printf("bench_kafka_floor: host %s, %ld cpus, date %lld ms; in-process mock cluster, 4 "
           "partitions, %d msgs/s for %d s, producer linger.ms 1\n",
           host, sysconf(_SC_NPROCESSORS_ONLN), (long long)sg_time_now_ms(), s.rate, s.seconds);
    pthread_t th;
    pthread_create(&th, NULL, produce_load, &s);
    consume(s.bootstrap, "security-events", 2000);
    pthread_join(th, NULL);
    rd_kafka_destroy(mock);
    return 0;
}
