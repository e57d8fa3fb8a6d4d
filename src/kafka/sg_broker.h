/* sg_broker: the development broker - an in-memory Kafka cluster on librdkafka's mock cluster
 * (rdkafka_mock.h), listening on 127.0.0.1 with kernel-chosen ports. Memory only: nothing
 * survives the process, and the mock trims each partition's log at about 5 MiB of (compressed)
 * batches or 100000 batches, whichever comes first (docs/BROKER.md). Not for production. */
#ifndef SG_BROKER_H
#define SG_BROKER_H

#include <stddef.h>

struct sg_broker;

/* Starts a cluster of `brokers` (1..16) brokers and creates each of `topics` with
 * `partitions` (1..10000) partitions, replication factor min(brokers, 3).
 * Returns NULL with errbuf on failure. Ownership: stop with sg_broker_free.
 * Thread-safety: the cluster runs on librdkafka's own threads; the handle is not shared. */
struct sg_broker *sg_broker_new(int brokers, int partitions, const char *const *topics,
                                size_t ntopics, char *errbuf, size_t errlen);

/* "127.0.0.1:port[,...]" - borrowed, valid until sg_broker_free. */
const char *sg_broker_bootstraps(const struct sg_broker *b);

/* Creates one more topic (SG_OK or SG_ERR_KAFKA with errbuf). */
int sg_broker_topic_create(struct sg_broker *b, const char *topic, int partitions, char *errbuf,
                           size_t errlen);

/* Fault injection for tests: the next `count` produce requests fail with a non-retriable
 * error (topic authorization failed), so their messages must be reported as not delivered. */
void sg_broker_fail_produce(struct sg_broker *b, int count);

void sg_broker_free(struct sg_broker *b);

#endif
