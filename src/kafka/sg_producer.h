/* sg_producer: a keyed, batching, compressing Kafka producer for one topic, with delivery
 * accounting (every message is either delivered or counted as failed, with the first error
 * kept for the report) and a reachability check that fails fast. Used by `generate` and the
 * demo. Not a consumer, not transactional. */
#ifndef SG_PRODUCER_H
#define SG_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_config.h"

struct sg_producer;

struct sg_producer_stats {
    uint64_t sent;         /* handed to sg_producer_send (queued, or rejected at once) */
    uint64_t delivered;    /* acknowledged by the broker (sent - failed - still queued) */
    uint64_t failed;       /* permanently failed (delivery report with an error) */
    char first_error[256]; /* "" when none */
};

/* Creates a producer for `topic` on `brokers` (NULL: kafka.bootstrap.servers from cfg).
 * Defaults tuned for throughput (lz4 batches of up to 10000 messages, 20 ms linger, 30 s
 * message timeout) apply unless the kafka.* section of cfg sets the same property.
 * Returns NULL with errbuf on a bad property. Ownership: free with sg_producer_free.
 * Thread-safety: one thread sends; librdkafka's threads run the delivery callbacks. */
struct sg_producer *sg_producer_new(const struct sg_config *cfg, const char *brokers,
                                    const char *topic, char *errbuf, size_t errlen);

/* Asks the cluster for the topic's metadata within timeout_ms. Returns SG_OK,
 * SG_ERR_UNAVAILABLE (no broker answered), SG_ERR_NOTFOUND (no such topic) or SG_ERR_KAFKA,
 * with a one-line message in errbuf. */
int sg_producer_check(struct sg_producer *p, int timeout_ms, char *errbuf, size_t errlen);

/* Queues one message (key and value are copied); waits while the local queue is full.
 * Returns SG_OK or SG_ERR_KAFKA (errbuf-less: see stats.first_error). */
int sg_producer_send(struct sg_producer *p, const void *key, size_t klen, const void *val,
                     size_t vlen);

/* Serves delivery reports without blocking (call now and then in long loops). */
void sg_producer_poll(struct sg_producer *p);

/* Waits until every queued message is delivered or failed, at most timeout_ms. Messages still
 * queued at the deadline are counted as failed. Returns SG_OK if none failed overall. */
int sg_producer_flush(struct sg_producer *p, int timeout_ms);

void sg_producer_stats(const struct sg_producer *p, struct sg_producer_stats *out);
void sg_producer_free(struct sg_producer *p);

#endif
