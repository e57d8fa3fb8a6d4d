/* sg_kafka: librdkafka configuration from sg_config and error conversion. */
#include "kafka/sg_kafka.h"

#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"

int sg_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errbuf,
                      size_t errlen)
{
    char err[256];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
        snprintf(errbuf, errlen, "kafka property %s=%s: %s", key, value, err);
        return SG_ERR_CONFIG;
    }
    return SG_OK;
}

/* librdkafka's own log lines (by default "%3|<time>|FAIL|streamguard#consumer-1| ...") go
 * through sg_log, so that every line a process writes has one format. A failed connection
 * attempt (facility FAIL) is logged by librdkafka at error level and reported again as an
 * error - by the stream's error callback, or by the command's own "no Kafka broker
 * reachable" - so it is debug here. Other errors and warnings (those of a client without an
 * error callback, a configuration warning other than a property of the other role) are warn;
 * the rest (the `kafka.debug` contexts) debug. Called on librdkafka's threads (sg_log_write is
 * thread-safe; the rate limiter, with its per-site state, is not used here). */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    const char *name = rk ? rd_kafka_name(rk) : "librdkafka";
    /* kafka.* applies to every client: a consumer property in a producer (or the reverse)
     * is expected, and librdkafka's CONFWARN about it is not worth a warning */
    int other_role = strcmp(fac, "CONFWARN") == 0 &&
                     strstr(buf, " property and will be ignored by this ") != NULL;
    if (level <= 4 /* syslog's warning */ && strcmp(fac, "FAIL") != 0 && !other_role)
        sg_log_warn("kafka %s %s: %s", name, fac, buf); /* librdkafka folds repeats */
    else
        sg_log_debug("kafka %s %s: %s", name, fac, buf);
}

void sg_kafka_log_client_error(rd_kafka_t *rk, int err, const char *reason, int warn)
{
    const char *name = rd_kafka_err2name((rd_kafka_resp_err_t)err);
    if (warn)
        sg_log_warn("kafka %s: %s (%s)", rd_kafka_name(rk), reason, name);
    else
        sg_log_debug("kafka %s: %s (%s)", rd_kafka_name(rk), reason, name);
}

rd_kafka_conf_t *sg_kafka_conf_new(const struct sg_config *cfg, const char *brokers,
                                   char *errbuf, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (sg_kafka_conf_set(conf, "client.id", "streamguard", errbuf, errlen) != SG_OK)
        goto fail;
    for (size_t i = 0; cfg && i < cfg->kafka_count; i++)
        if (sg_kafka_conf_set(conf, cfg->kafka_keys[i], cfg->kafka_values[i], errbuf, errlen) !=
            SG_OK)
            goto fail;
    if (brokers && sg_kafka_conf_set(conf, "bootstrap.servers", brokers, errbuf, errlen) != SG_OK)
        goto fail;
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int sg_kafka_err(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR: return SG_OK;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__TIMED_OUT: return SG_ERR_UNAVAILABLE;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION: return SG_ERR_NOTFOUND;
    default: return SG_ERR_KAFKA;
    }
}

int sg_kafka_topic_metadata(rd_kafka_t *rk, const char *topic, int timeout_ms,
                            const struct rd_kafka_metadata **md, char *errbuf, size_t errlen)
{
    *md = NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    if (!t) {
        snprintf(errbuf, errlen, "topic %s: %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
        return SG_ERR_KAFKA;
    }
    const struct rd_kafka_metadata *m = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &m, timeout_ms);
    rd_kafka_topic_destroy(t);
    int rc = sg_kafka_err(e);
    if (e) {
        if (rc == SG_ERR_UNAVAILABLE)
            snprintf(errbuf, errlen, "no Kafka broker reachable: %s", rd_kafka_err2str(e));
        else
            snprintf(errbuf, errlen, "metadata of topic %s: %s", topic, rd_kafka_err2str(e));
        return rc;
    }
    rd_kafka_resp_err_t te =
        m->topic_cnt == 1 ? m->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (te || m->topics[0].partition_cnt < 1) {
        snprintf(errbuf, errlen, "topic %s: %s", topic,
                 te ? rd_kafka_err2str(te) : "no partitions");
        rd_kafka_metadata_destroy(m);
        return te ? sg_kafka_err(te) : SG_ERR_NOTFOUND;
    }
    *md = m;
    return SG_OK;
}
