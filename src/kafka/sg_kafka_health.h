/* sg_kafka_health: is a Kafka client still talking to its brokers? Fed by the client's
 * error callback (RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) and statistics callback (responses
 * received from a broker in state UP = contact), read by /health and /metrics from another
 * thread. It does not own or poll the client; the consumer loop forwards the callbacks. */
#ifndef SG_KAFKA_HEALTH_H
#define SG_KAFKA_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_metrics.h"

struct sg_kafka_health;

/* A new tracker that counts as in contact now; down after `timeout_ms` without contact.
 * Returns the tracker (aborts on OOM). Ownership: free with sg_kafka_health_free after the
 * client and every reader (HTTP server) are gone. */
struct sg_kafka_health *sg_kafka_health_new(int64_t timeout_ms);
void sg_kafka_health_free(struct sg_kafka_health *h);

/* From the client's error callback (or an error event): `err` is a rd_kafka_resp_err_t;
 * ALL_BROKERS_DOWN marks the brokers down until the next contact, others are ignored.
 * Thread-safety: one feeding thread (the client's poll thread) at a time. */
void sg_kafka_health_error(struct sg_kafka_health *h, int err);

/* From the client's statistics callback (statistics.interval.ms): contact when some broker
 * is in state UP and the brokers' received-response count grew since the previous call.
 * Malformed JSON is ignored. Same thread rule as sg_kafka_health_error. */
void sg_kafka_health_stats(struct sg_kafka_health *h, const char *json, size_t len);

/* Records contact now (e.g. a metadata request answered). */
void sg_kafka_health_contact(struct sg_kafka_health *h);

/* The verdict as of now: 1 when up; 0 when down, with a reason such as "kafka: all brokers
 * down for 12 s" or "kafka: no broker contact for 10 s" written to `reason` (NUL-terminated,
 * truncated to n). Thread-safety: any thread, concurrently with the feeding thread. */
int sg_kafka_health_check(const struct sg_kafka_health *h, char *reason, size_t n);

/* Registers streamguard_kafka_up (1/0, the verdict above) and
 * streamguard_kafka_contact_age_seconds, both computed on scrape. `h` must outlive `m`'s
 * scrapes. */
void sg_kafka_health_register(struct sg_kafka_health *h, struct sg_metrics *m);

#endif
