/* sg_producer: librdkafka producer wrapper with delivery accounting. rd_kafka_resp_err_t is
 * converted here and goes no further. */
#include "kafka/sg_producer.h"

#include <librdkafka/rdkafka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "kafka/sg_kafka.h"

struct sg_producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    char *topic;
    uint64_t sent;
    _Atomic uint64_t failed;
    _Atomic int have_error;
    char first_error[256];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct sg_producer *p = opaque;
    if (!m->err)
        return;
    atomic_fetch_add_explicit(&p->failed, 1, memory_order_relaxed);
    int expected = 0;
    if (atomic_compare_exchange_strong(&p->have_error, &expected, 1))
        snprintf(p->first_error, sizeof p->first_error, "%s", rd_kafka_err2str(m->err));
}

/* Client-level errors ("1/1 brokers are down" while nothing answers): without an error
 * callback librdkafka would log each as an error line. They are debug here, so that a missing
 * broker gives one clear message from us (sg_producer_check, the delivery counts) instead of
 * a stream of retries. librdkafka's other log lines go through sg_kafka_conf_new's callback,
 * as they do for the stream's and the batch's clients. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    sg_kafka_log_client_error(rk, err, reason, 0);
}

static int set_default(rd_kafka_conf_t *conf, const struct sg_config *cfg, const char *key,
                       const char *value, char *errbuf, size_t errlen)
{
    if (cfg && sg_config_kafka_get(cfg, key))
        return SG_OK;
    return sg_kafka_conf_set(conf, key, value, errbuf, errlen);
}

struct sg_producer *sg_producer_new(const struct sg_config *cfg, const char *brokers,
                                    const char *topic, char *errbuf, size_t errlen)
{
    static const char *const defaults[][2] = {
        {"compression.type", "lz4"},
        {"linger.ms", "20"},
        {"batch.num.messages", "10000"},
        {"batch.size", "1000000"},
        {"queue.buffering.max.messages", "100000"},
        {"queue.buffering.max.kbytes", "262144"},
        {"message.timeout.ms", "30000"},
        /* Successes are counted as sent - failed - still queued: no callback per message. */
        {"delivery.report.only.error", "true"},
    };
    rd_kafka_conf_t *conf = sg_kafka_conf_new(cfg, brokers, errbuf, errlen);
    if (!conf)
        return NULL;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (set_default(conf, cfg, defaults[i][0], defaults[i][1], errbuf, errlen) != SG_OK) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    struct sg_producer *p = sg_xcalloc(1, sizeof *p);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, p);
    char err[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!p->rk) {
        snprintf(errbuf, errlen, "kafka producer: %s", err);
        rd_kafka_conf_destroy(conf);
        sg_producer_free(p);
        return NULL;
    }
    p->topic = sg_xstrdup(topic);
    p->rkt = rd_kafka_topic_new(p->rk, topic, NULL);
    if (!p->rkt) {
        snprintf(errbuf, errlen, "kafka topic %s: %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        sg_producer_free(p);
        return NULL;
    }
    return p;
}

int sg_producer_check(struct sg_producer *p, int timeout_ms, char *errbuf, size_t errlen)
{
    const struct rd_kafka_metadata *md;
    int rc = sg_kafka_topic_metadata(p->rk, p->topic, timeout_ms, &md, errbuf, errlen);
    if (md)
        rd_kafka_metadata_destroy(md);
    return rc;
}

int sg_producer_send(struct sg_producer *p, const void *key, size_t klen, const void *val,
                     size_t vlen)
{
    for (;;) {
        if (rd_kafka_produce(p->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)val, vlen,
                             key, klen, NULL) == 0) {
            p->sent++;
            return SG_OK;
        }
        rd_kafka_resp_err_t err = rd_kafka_last_error();
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            p->sent++; /* attempted and failed at once: counts in both sent and failed */
            atomic_fetch_add_explicit(&p->failed, 1, memory_order_relaxed);
            int expected = 0;
            if (atomic_compare_exchange_strong(&p->have_error, &expected, 1))
                snprintf(p->first_error, sizeof p->first_error, "%s", rd_kafka_err2str(err));
            return sg_kafka_err(err) == SG_OK ? SG_ERR_KAFKA : sg_kafka_err(err);
        }
        rd_kafka_poll(p->rk, 5); /* queue full: let deliveries drain it */
    }
}

void sg_producer_poll(struct sg_producer *p)
{
    rd_kafka_poll(p->rk, 0);
}

int sg_producer_flush(struct sg_producer *p, int timeout_ms)
{
    rd_kafka_flush(p->rk, timeout_ms);
    rd_kafka_poll(p->rk, 0);
    int left = rd_kafka_outq_len(p->rk);
    if (left > 0) {
        /* Not delivered within the deadline: purge so their reports come back as failures. */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(p->rk, 1000);
        rd_kafka_poll(p->rk, 0);
    }
    return atomic_load(&p->failed) ? SG_ERR_KAFKA : SG_OK;
}

void sg_producer_stats(const struct sg_producer *p, struct sg_producer_stats *out)
{
    out->sent = p->sent;
    out->failed = atomic_load(&p->failed);
    uint64_t queued = (uint64_t)rd_kafka_outq_len(p->rk);
    out->delivered = out->sent > out->failed + queued ? out->sent - out->failed - queued : 0;
    snprintf(out->first_error, sizeof out->first_error, "%s",
             atomic_load(&((struct sg_producer *)p)->have_error) ? p->first_error : "");
}

void sg_producer_free(struct sg_producer *p)
{
    if (!p)
        return;
    if (p->rkt)
        rd_kafka_topic_destroy(p->rkt);
    if (p->rk)
        rd_kafka_destroy(p->rk);
    free(p->topic);
    free(p);
}
