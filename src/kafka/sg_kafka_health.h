/* sg_kafka_health: is a Kafka client still doing its job? One tracker per client (the
 * stream's consumer, its alerts/DLQ producer), fed by the client's error callback
 * (RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN), statistics callback (responses received from a broker
 * in state UP = contact) and, for a producer, its sends and delivery reports; read by /health
 * and /metrics from another thread. It does not own or poll the client: the owner forwards. */
#ifndef SG_KAFKA_HEALTH_H
#define SG_KAFKA_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_metrics.h"

struct sg_kafka_health;

/* What "healthy" means for the client. A consumer talks to its brokers all the time (fetches,
 * heartbeats), so silence longer than the timeout is down, and so is ALL_BROKERS_DOWN until a
 * broker answers again. An idle producer sends nothing, so silence is fine; it is down while
 * its latest delivery report is a failure younger than the timeout, while queued messages see
 * no delivery report for the timeout, and - at once - while messages are queued after
 * ALL_BROKERS_DOWN and no broker is connected again. */
enum sg_kafka_role { SG_KAFKA_CONSUMER, SG_KAFKA_PRODUCER };

/* A new tracker for the client named `client` (a Prometheus label value such as "consumer" or
 * "alerts_producer"; '_' reads as a space in reasons: "alerts producer: ..."), in contact now,
 * judged with `timeout_ms` as above. Returns the tracker (aborts on OOM). Ownership: `client`
 * is copied; free with sg_kafka_health_free after the client and every reader are gone. */
struct sg_kafka_health *sg_kafka_health_new(const char *client, enum sg_kafka_role role,
                                            int64_t timeout_ms);
void sg_kafka_health_free(struct sg_kafka_health *h);

/* From the client's error callback (or an error event): `err` is a rd_kafka_resp_err_t;
 * ALL_BROKERS_DOWN marks the brokers down until the next contact, others are ignored.
 * Thread-safety: one feeding thread (the client's poll thread) at a time. */
void sg_kafka_health_error(struct sg_kafka_health *h, int err);

/* From the client's statistics callback (statistics.interval.ms): contact when some broker
 * is in state UP and (consumer only) the brokers' received-response count grew since the
 * previous call.
 * Malformed JSON is ignored. Same thread rule as sg_kafka_health_error. */
void sg_kafka_health_stats(struct sg_kafka_health *h, const char *json, size_t len);

/* Records contact now (e.g. a metadata request answered). */
void sg_kafka_health_contact(struct sg_kafka_health *h);

/* The client's poll loop is blocked elsewhere (`blocked` 1; 0 when it polls again), e.g. a
 * consumer loop waiting for a producer's flush: its callbacks are not served meanwhile, so
 * silence past the timeout is reported as "consumer: not polled for N s (...)" rather than as
 * a broker problem. Same thread rule as sg_kafka_health_error. */
void sg_kafka_health_blocked(struct sg_kafka_health *h, int blocked);

/* Producer side: a message was queued in the client (it will get one delivery report). */
void sg_kafka_health_queued(struct sg_kafka_health *h);

/* Producer side: a delivery report, `err` a rd_kafka_resp_err_t (0 = delivered, which is also
 * contact). A message the client refused at once is _queued then _delivery with the error.
 * Same thread rule as sg_kafka_health_error. */
void sg_kafka_health_delivery(struct sg_kafka_health *h, int err);

/* The verdict as of now: 1 when up; 0 when down, with a reason naming the client, such as
 * "consumer: all brokers down for 12 s", "consumer: no broker contact for 10 s", "alerts
 * producer: last delivery failed 0 s ago (Broker: ...), 3 failed so far" or "alerts producer:
 * 12 messages queued, no delivery report for 10 s", written to `reason` (NUL-terminated,
 * truncated to n). Thread-safety: any thread, concurrently with the feeding thread. */
int sg_kafka_health_check(const struct sg_kafka_health *h, char *reason, size_t n);

/* Registers, labelled client="<client>": streamguard_kafka_up (1/0, the verdict above) and
 * streamguard_kafka_contact_age_seconds, computed on scrape; for a producer also
 * streamguard_kafka_queued_messages (queued, not yet reported) and
 * streamguard_kafka_delivery_failures_total. `h` must outlive `m`'s scrapes. Call once,
 * before the client starts feeding `h`. */
void sg_kafka_health_register(struct sg_kafka_health *h, struct sg_metrics *m);

#endif
