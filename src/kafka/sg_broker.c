/* sg_broker: librdkafka mock cluster hosted by a private rd_kafka_t (the mock needs a client
 * instance for its bookkeeping; ours never produces). */
#include "kafka/sg_broker.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"

struct sg_broker {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mc;
    int brokers;
};

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 3)
        sg_log_warn("broker %s: %s", fac, buf);
    else
        sg_log_debug("broker %s: %s", fac, buf);
}

int sg_broker_topic_create(struct sg_broker *b, const char *topic, int partitions, char *errbuf,
                           size_t errlen)
{
    int rf = b->brokers < 3 ? b->brokers : 3;
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(b->mc, topic, partitions, rf);
    if (err) {
        snprintf(errbuf, errlen, "create topic %s: %s", topic, rd_kafka_err2str(err));
        return SG_ERR_KAFKA;
    }
    return SG_OK;
}

/* Sets TCP_NODELAY on this process's listening TCP sockets (the mock cluster's; accepted
 * connections inherit it). librdkafka's mock leaves Nagle's algorithm on, and a small
 * response queued behind an unacknowledged one then waits for the client's delayed ACK
 * (~40 ms on Linux): a produce acknowledgement took 40 ms instead of a fraction of one.
 * Real Kafka brokers disable Nagle (socket option TCP_NODELAY on every connection). */
static void listeners_nodelay(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name), v = 0;
        socklen_t l = sizeof v;
        if (e->d_name[0] == '.' || fd == dirfd(d))
            continue;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) != 0 || !v)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    closedir(d);
}

struct sg_broker *sg_broker_new(int brokers, int partitions, const char *const *topics,
                                size_t ntopics, char *errbuf, size_t errlen)
{
    if (brokers < 1 || brokers > 16 || partitions < 1 || partitions > 10000) {
        snprintf(errbuf, errlen, "broker: need 1..16 brokers and 1..10000 partitions");
        return NULL;
    }
    struct sg_broker *b = sg_xcalloc(1, sizeof *b);
    b->brokers = brokers;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, on_log);
    char err[512];
    b->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!b->rk) {
        snprintf(errbuf, errlen, "broker host client: %s", err);
        rd_kafka_conf_destroy(conf);
        free(b);
        return NULL;
    }
    b->mc = rd_kafka_mock_cluster_new(b->rk, brokers);
    if (!b->mc) {
        snprintf(errbuf, errlen, "broker: could not start the mock cluster (no free port?)");
        sg_broker_free(b);
        return NULL;
    }
    listeners_nodelay();
    for (size_t i = 0; i < ntopics; i++)
        if (sg_broker_topic_create(b, topics[i], partitions, errbuf, errlen) != SG_OK) {
            sg_broker_free(b);
            return NULL;
        }
    return b;
}

const char *sg_broker_bootstraps(const struct sg_broker *b)
{
    return rd_kafka_mock_cluster_bootstraps(b->mc);
}

void sg_broker_fail_produce(struct sg_broker *b, int count)
{
    enum { API_PRODUCE = 0 }; /* Kafka protocol ApiKey of Produce (not in public headers) */
    for (int i = 0; i < count; i++)
        rd_kafka_mock_push_request_errors(b->mc, API_PRODUCE, 1,
                                          RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
}

void sg_broker_free(struct sg_broker *b)
{
    if (!b)
        return;
    if (b->mc)
        rd_kafka_mock_cluster_destroy(b->mc);
    if (b->rk)
        rd_kafka_destroy(b->rk);
    free(b);
}
