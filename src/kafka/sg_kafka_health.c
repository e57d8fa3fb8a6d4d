/* sg_kafka_health: a Kafka client's health from librdkafka's callbacks, as atomics (time of
 * the last contact, time all brokers went down, a producer's queued/reported counts and last
 * delivery outcomes) that readers turn into a verdict. The statistics JSON is parsed with
 * cJSON (only the "brokers" object is read). */
#include "kafka/sg_kafka_health.h"

#include <cjson/cJSON.h>
#include <librdkafka/rdkafka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_time.h"

struct sg_kafka_health {
    char client[32];              /* label value */
    char name[32];                /* the same, '_' as ' ', for reasons and logs */
    enum sg_kafka_role role;
    int64_t timeout_ms;
    _Atomic int64_t contact_ms;   /* monotonic ms of the last contact */
    _Atomic int64_t down_since;   /* monotonic ms of ALL_BROKERS_DOWN, 0 = not down */
    _Atomic int64_t blocked_since; /* monotonic ms the poll loop blocked elsewhere, 0 = not */
    double last_rx;               /* feeding thread only */
    /* producer side */
    _Atomic uint64_t queued, reported, failed;
    _Atomic int64_t progress_ms;  /* last delivery report, or the queue becoming non-empty */
    _Atomic int64_t fail_ms;      /* last failed delivery report */
    _Atomic int last_failed;      /* the latest delivery report is a failure */
    _Atomic int last_err;         /* rd_kafka_resp_err_t of the last failure */
    struct sg_counter *failures;  /* NULL until registered */
};

struct sg_kafka_health *sg_kafka_health_new(const char *client, enum sg_kafka_role role,
                                            int64_t timeout_ms)
{
    struct sg_kafka_health *h = sg_xcalloc(1, sizeof *h);
    snprintf(h->client, sizeof h->client, "%s", client);
    snprintf(h->name, sizeof h->name, "%s", client);
    for (char *p = h->name; *p; p++)
        if (*p == '_')
            *p = ' ';
    h->role = role;
    h->timeout_ms = timeout_ms;
    atomic_store(&h->contact_ms, sg_time_mono_ms());
    return h;
}

void sg_kafka_health_free(struct sg_kafka_health *h)
{
    free(h);
}

void sg_kafka_health_contact(struct sg_kafka_health *h)
{
    atomic_store_explicit(&h->contact_ms, sg_time_mono_ms(), memory_order_relaxed);
    if (atomic_exchange(&h->down_since, 0))
        sg_log_info("kafka %s: a broker answers again", h->name);
}

void sg_kafka_health_error(struct sg_kafka_health *h, int err)
{
    if (err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        return;
    int64_t zero = 0;
    if (atomic_compare_exchange_strong(&h->down_since, &zero, sg_time_mono_ms()))
        sg_log_warn("kafka %s: all brokers are down; /health reports 503 until one answers",
                    h->name);
}

void sg_kafka_health_stats(struct sg_kafka_health *h, const char *json, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *brokers = cJSON_GetObjectItemCaseSensitive(root, "brokers");
    if (!cJSON_IsObject(brokers)) {
        cJSON_Delete(root);
        return;
    }
    double rx = 0;
    int up = 0;
    const cJSON *b;
    cJSON_ArrayForEach(b, brokers) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(b, "state");
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(b, "rx");
        if (cJSON_IsString(st) && !strcmp(st->valuestring, "UP"))
            up = 1;
        if (cJSON_IsNumber(n))
            rx += n->valuedouble;
    }
    cJSON_Delete(root);
    /* consumer: responses received since the last report, from a broker still connected
     * (responses that arrived just before the brokers went down must not undo
     * ALL_BROKERS_DOWN, and a hung broker keeps its connection UP). An idle producer may
     * receive nothing after its reconnection handshake: a connected broker is its contact. */
    if (up && (rx > h->last_rx || h->role == SG_KAFKA_PRODUCER))
        sg_kafka_health_contact(h);
    h->last_rx = rx;
}

void sg_kafka_health_blocked(struct sg_kafka_health *h, int blocked)
{
    atomic_store(&h->blocked_since, blocked ? sg_time_mono_ms() : 0);
}

void sg_kafka_health_queued(struct sg_kafka_health *h)
{
    uint64_t q = atomic_fetch_add(&h->queued, 1);
    if (q == atomic_load(&h->reported)) /* the queue was empty: its wait starts now */
        atomic_store(&h->progress_ms, sg_time_mono_ms());
}

void sg_kafka_health_delivery(struct sg_kafka_health *h, int err)
{
    int64_t now = sg_time_mono_ms();
    atomic_store(&h->progress_ms, now);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        atomic_fetch_add(&h->reported, 1);
        atomic_store(&h->last_failed, 0);
        sg_kafka_health_contact(h);
        return;
    }
    atomic_fetch_add(&h->reported, 1);
    atomic_fetch_add(&h->failed, 1);
    atomic_store(&h->last_err, err);
    atomic_store(&h->fail_ms, now);
    atomic_store(&h->last_failed, 1);
    if (h->failures)
        sg_counter_inc(h->failures);
}

/* The producer-only reasons to be down; 1 when none applies. */
static int producer_check(const struct sg_kafka_health *h, int64_t now, char *reason, size_t n)
{
    int64_t fail = atomic_load(&h->fail_ms);
    if (atomic_load(&h->last_failed) && now - fail <= h->timeout_ms) {
        snprintf(reason, n, "%s: last delivery failed %lld s ago (%s), %llu failed so far",
                 h->name, (long long)(now - fail) / 1000,
                 rd_kafka_err2str((rd_kafka_resp_err_t)atomic_load(&h->last_err)),
                 (unsigned long long)atomic_load(&h->failed));
        return 0;
    }
    uint64_t rep = atomic_load(&h->reported), q = atomic_load(&h->queued);
    int64_t wait = now - atomic_load(&h->progress_ms);
    if (q > rep && wait > h->timeout_ms) {
        snprintf(reason, n, "%s: %llu messages queued, no delivery report for %lld s", h->name,
                 (unsigned long long)(q - rep), (long long)wait / 1000);
        return 0;
    }
    return 1;
}

int sg_kafka_health_check(const struct sg_kafka_health *h, char *reason, size_t n)
{
    int64_t now = sg_time_mono_ms();
    int64_t down = atomic_load(&h->down_since);
    int64_t age = now - atomic_load_explicit(&h->contact_ms, memory_order_relaxed);
    uint64_t rep = atomic_load(&h->reported); /* first: reported <= queued at any time */
    uint64_t waiting = atomic_load(&h->queued) - rep;
    /* a producer with nothing to deliver is not failing anything (and an idle one may not
     * reconnect until it has): its broker loss counts once messages wait */
    if (down && (h->role == SG_KAFKA_CONSUMER || waiting)) {
        snprintf(reason, n, "%s: all brokers down for %lld s", h->name,
                 (long long)(now - down) / 1000);
        return 0;
    }
    if (h->role == SG_KAFKA_CONSUMER && age > h->timeout_ms) {
        int64_t blocked = atomic_load(&h->blocked_since);
        if (blocked)
            snprintf(reason, n, "%s: not polled for %lld s (its loop waits for the producer's "
                     "deliveries)", h->name, (long long)(now - blocked) / 1000);
        else
            snprintf(reason, n, "%s: no broker contact for %lld s", h->name,
                     (long long)age / 1000);
        return 0;
    }
    if (h->role == SG_KAFKA_PRODUCER && !producer_check(h, now, reason, n))
        return 0;
    if (n)
        reason[0] = 0;
    return 1;
}

static double up_fn(void *ctx)
{
    char r[8];
    return sg_kafka_health_check(ctx, r, sizeof r);
}

static double age_fn(void *ctx)
{
    const struct sg_kafka_health *h = ctx;
    return (double)(sg_time_mono_ms() - atomic_load(&h->contact_ms)) / 1000.0;
}

static double queued_fn(void *ctx)
{
    const struct sg_kafka_health *h = ctx;
    uint64_t rep = atomic_load(&h->reported), q = atomic_load(&h->queued);
    return q > rep ? (double)(q - rep) : 0;
}

void sg_kafka_health_register(struct sg_kafka_health *h, struct sg_metrics *m)
{
    const char *l[] = {"client", h->client, NULL};
    sg_metrics_gauge_fn(m, "streamguard_kafka_up",
                        "1 while the Kafka client is healthy (consumer: a broker answers; "
                        "producer: deliveries succeed), 0 otherwise - the /health verdict",
                        l, up_fn, h);
    sg_metrics_gauge_fn(m, "streamguard_kafka_contact_age_seconds",
                        "time since a Kafka broker last answered the client", l, age_fn, h);
    if (h->role != SG_KAFKA_PRODUCER)
        return;
    sg_metrics_gauge_fn(m, "streamguard_kafka_queued_messages",
                        "messages queued in the producer without a delivery report yet", l,
                        queued_fn, h);
    h->failures = sg_metrics_counter(m, "streamguard_kafka_delivery_failures_total",
                                     "messages the producer failed to deliver", l);
    sg_counter_add(h->failures, atomic_load(&h->failed));
}
