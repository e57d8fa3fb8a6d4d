/* sg_consumer: the speed layer's Kafka side - a librdkafka high-level consumer in a group
 * feeding sg_pipeline in batches, with exactly-once effects in the store: every batch is
 * written with the offsets it consumed, and on (re)assignment each partition is sought to the
 * offset stored in RocksDB (the beginning of the log when this store never saw it), not to
 * Kafka's committed offset (which is committed too, only for lag monitoring). Anomalies go to
 * the alerts topic, invalid messages to the dead-letter topic (original bytes, reason in
 * headers); both at-least-once through the store's outbox (speed/sg_outbox.h): written with
 * the batch that caused them, produced once it is stored, deleted when acknowledged, sent
 * again by the next start if the process dies first.
 * Backpressure: partitions are paused while the producer's queue is too long.
 * With a changelog topic, a partition this store has never seen is restored from the last
 * profile snapshot another process published (speed/sg_changelog.h) instead of being
 * replayed from the beginning, and this process publishes snapshots of its own partitions. */
#ifndef SG_CONSUMER_H
#define SG_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_config.h"
#include "kafka/sg_kafka_health.h"
#include "speed/sg_pipeline.h"

struct sg_consumer_opts {
    const struct sg_config *cfg; /* kafka.* passthrough, topics.* */
    const char *brokers;         /* overrides kafka.bootstrap.servers when non-NULL */
    const char *topic, *group;
    const char *alerts_topic;    /* NULL = no alerts */
    const char *dlq_topic;       /* NULL = counted only */
    size_t batch_size;
    int64_t idle_exit_ms;        /* stop after this long without a message (0 = never) */
    volatile int *stop;          /* set by a signal */
    struct sg_pipeline_opts pipe; /* store, metrics, params... (sinks are set here) */
    struct sg_kafka_health *health; /* fed with broker reachability, or NULL (borrowed) */
    struct sg_kafka_health *prod_health; /* the alerts/DLQ producer's, or NULL (borrowed) */
    /* profile snapshots per partition (speed/sg_changelog.h): NULL = off */
    const char *changelog_topic;
    int64_t changelog_interval_ms; /* background snapshots (0 = only when partitions go) */
};

/* How many messages were lost when a partition resumed at `offset` instead of the stored
 * `want` (offset > want), given the log's first offset `log_start` (-1: unknown): only the
 * offsets below the log start were deleted; offsets skipped within the log held no message
 * for this consumer (transaction markers, aborted transactions) and are no loss. Unknown log
 * start: every skipped offset counts. */
int64_t sg_consumer_resume_lost(int64_t want, int64_t offset, int64_t log_start);

/* Consumes until *stop or the idle timeout; on the way out writes the open batch, commits
 * and closes the consumer (leaving the group cleanly). Returns SG_OK, SG_ERR_INTERRUPTED
 * (stopped by the flag, everything consumed is stored), SG_ERR_CONFIG (bad kafka.* property),
 * SG_ERR_UNAVAILABLE, SG_ERR_KAFKA or a store error; fills totals and errbuf. */
int sg_consumer_run(const struct sg_consumer_opts *o, struct sg_pipeline_totals *totals,
                    char *errbuf, size_t errlen);

#endif
