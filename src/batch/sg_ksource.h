/* sg_ksource: the batch layer's Kafka reader - an sg_source over every partition of a topic,
 * from the earliest offset (or a consumer group's committed offsets) up to the high watermark
 * taken when it starts, then end of input. Not the speed layer's consumer (that one never
 * stops and uses group rebalancing). */
#ifndef SG_KSOURCE_H
#define SG_KSOURCE_H

#include <stdint.h>

#include "batch/sg_source.h"
#include "core/sg_config.h"

/* Connects (librdkafka configuration from sg_kafka_conf_new: kafka.* keys + brokers), reads
 * the topic's partitions and watermarks. `group` may be "" or NULL (earliest offsets).
 * `max_events` > 0 caps the total. Returns NULL with errbuf; errbuf contains "unavailable"
 * when the cluster could not be reached. */
struct sg_source *sg_ksource_new(const struct sg_config *cfg, const char *brokers,
                                 const char *topic, const char *group, uint64_t max_events,
                                 char *errbuf, size_t errlen);

/* The same over a share of the partitions (for MPI ranks): partition i, counted in id order,
 * is read by share i % shares (0 <= share < shares); a share may hold none. */
struct sg_source *sg_ksource_new_share(const struct sg_config *cfg, const char *brokers,
                                       const char *topic, const char *group, int share,
                                       int shares, char *errbuf, size_t errlen);

/* Commits the offsets consumed so far for the group (no-op without a group, or for a source
 * that is not a Kafka source). Returns SG_OK or an error with errbuf. */
int sg_ksource_commit(struct sg_source *s, char *errbuf, size_t errlen);

#endif
