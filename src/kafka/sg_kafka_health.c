/* sg_kafka_health: broker reachability from librdkafka's callbacks, as two atomics (time of
 * the last contact, time all brokers went down) that readers turn into a verdict. The
 * statistics JSON is parsed with cJSON (only the "brokers" object is read). */
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
    int64_t timeout_ms;
    _Atomic int64_t contact_ms;   /* monotonic ms of the last contact */
    _Atomic int64_t down_since;   /* monotonic ms of ALL_BROKERS_DOWN, 0 = not down */
    double last_rx;               /* feeding thread only */
};

struct sg_kafka_health *sg_kafka_health_new(int64_t timeout_ms)
{
    struct sg_kafka_health *h = sg_xcalloc(1, sizeof *h);
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
        sg_log_info("kafka: a broker answers again");
}

void sg_kafka_health_error(struct sg_kafka_health *h, int err)
{
    if (err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        return;
    int64_t zero = 0;
    if (atomic_compare_exchange_strong(&h->down_since, &zero, sg_time_mono_ms()))
        sg_log_warn("kafka: all brokers are down; /health reports 503 until one answers");
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
    /* responses received since the last report, from a broker still connected: responses
     * that arrived just before the brokers went down must not undo ALL_BROKERS_DOWN */
    if (up && rx > h->last_rx)
        sg_kafka_health_contact(h);
    h->last_rx = rx;
}

int sg_kafka_health_check(const struct sg_kafka_health *h, char *reason, size_t n)
{
    int64_t now = sg_time_mono_ms();
    int64_t down = atomic_load(&h->down_since);
    int64_t age = now - atomic_load_explicit(&h->contact_ms, memory_order_relaxed);
    if (down) {
        snprintf(reason, n, "kafka: all brokers down for %lld s", (long long)(now - down) / 1000);
        return 0;
    }
    if (age > h->timeout_ms) {
        snprintf(reason, n, "kafka: no broker contact for %lld s", (long long)age / 1000);
        return 0;
    }
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

void sg_kafka_health_register(struct sg_kafka_health *h, struct sg_metrics *m)
{
    sg_metrics_gauge_fn(m, "streamguard_kafka_up",
                        "1 while a Kafka broker answers, 0 when all are down or silent for "
                        "stream.broker_timeout", NULL, up_fn, h);
    sg_metrics_gauge_fn(m, "streamguard_kafka_contact_age_seconds",
                        "time since a Kafka broker last answered", NULL, age_fn, h);
}
