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
 * the topic's partitions and watermarks, and sets *out. `group` may be "" or NULL (earliest
 * offsets). The source reads a share of the partitions (for MPI ranks): partition i, counted
 * in id order, is read by share i % shares (0 <= share < shares; a share may hold none); a
 * single reader passes 0 and 1. Returns SG_OK, or an error with errbuf and *out NULL:
 * SG_ERR_UNAVAILABLE when the cluster could not be reached (the callers' exit code 3). */
int sg_ksource_open(const struct sg_config *cfg, const char *brokers, const char *topic,
                    const char *group, int share, int shares, struct sg_source **out, char *errbuf,
                    size_t errlen);

/* Commits the offsets consumed so far for the group (no-op without a group, or for a source
 * that is not a Kafka source). Returns SG_OK or an error with errbuf. */
int sg_ksource_commit(struct sg_source *s, char *errbuf, size_t errlen);

#endif
