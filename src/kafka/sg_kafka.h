/* sg_kafka: the seam between StreamGuard and librdkafka - building a client configuration
 * from sg_config (kafka.* passthrough + overrides) and converting librdkafka errors.
 * Producer/consumer helpers build on this. rd_kafka_resp_err_t never leaves src/kafka. */
#ifndef SG_KAFKA_H
#define SG_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "core/sg_config.h"

/* Builds a librdkafka configuration: every kafka.* key of `cfg` verbatim, then
 * bootstrap.servers = `brokers` when non-NULL (a --brokers flag wins over the file), and
 * client.id = "streamguard"; librdkafka's log lines go through sg_log. Returns a new conf
 * (ownership passes to rd_kafka_new, or free with rd_kafka_conf_destroy), or NULL with a
 * message naming the bad property in errbuf. */
rd_kafka_conf_t *sg_kafka_conf_new(const struct sg_config *cfg, const char *brokers,
                                   char *errbuf, size_t errlen);

/* The line of a client-level error that librdkafka hands an error callback ("1/1 brokers are
 * down"), as a warning or (warn = 0) at debug level: "kafka <client>: <reason> (<error>)".
 * Without an error callback librdkafka logs each such error itself, at error level. */
void sg_kafka_log_client_error(rd_kafka_t *rk, int err, const char *reason, int warn);

/* Sets one property on `conf`; returns SG_OK or SG_ERR_CONFIG with errbuf. */
int sg_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errbuf,
                      size_t errlen);

/* Maps a librdkafka error to an sg_err: transport/all-brokers-down -> SG_ERR_UNAVAILABLE,
 * unknown topic/partition -> SG_ERR_NOTFOUND, everything else SG_ERR_KAFKA. */
int sg_kafka_err(rd_kafka_resp_err_t err);

/* Asks a broker for one topic's metadata (at most timeout_ms). SG_OK: *md holds it as
 * (*md)->topics[0], with at least one partition; free it with rd_kafka_metadata_destroy.
 * Otherwise *md is NULL and errbuf says why: SG_ERR_UNAVAILABLE ("no Kafka broker reachable:
 * ..."), SG_ERR_NOTFOUND ("topic T: ..." - unknown, or without partitions), SG_ERR_KAFKA.
 * The one metadata lookup of the producer's check, the stream's start, the changelog's and
 * the batch layer's Kafka reader. */
int sg_kafka_topic_metadata(rd_kafka_t *rk, const char *topic, int timeout_ms,
                            const struct rd_kafka_metadata **md, char *errbuf, size_t errlen);

#endif
