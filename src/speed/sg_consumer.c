/* sg_consumer: consume loop, rebalance handling (seek to the store's offsets), Kafka sinks for
 * alerts and dead letters, lag gauges and backpressure. librdkafka errors become sg_err via
 * sg_kafka_err. */
#include "speed/sg_consumer.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_time.h"
#include "kafka/sg_kafka.h"
#include "speed/sg_changelog.h"
#include "speed/sg_outbox.h"
#include "speed/sg_replay.h"

#define MAX_PARTITIONS 4096
#define OUTQ_PAUSE 200000 /* producer messages queued before consumption pauses */
#define RETRY_EVERY_MS 1000 /* failed alert/DLQ deliveries are sent again at most this often */
/* A dead letter carries at most this much of the original message: the producer refuses
 * messages over message.max.bytes (1,000,000 by default), so an over-sized input (reason
 * too_large) would otherwise lose its dead letter. Headers `truncated` and `original_size`
 * say when it was cut. */
#define DLQ_MAX_VALUE (512 * 1024)

struct part {
    int assigned;
    int64_t next;     /* next offset to consume (last consumed + 1), -1 unknown */
    int check_resume; /* assigned at a known offset (next), no message since: check_resume */
    struct sg_gauge *lag;
};

struct consumer {
    const struct sg_consumer_opts *o;
    rd_kafka_t *rk, *prod;
    struct sg_pipeline *p;
    struct sg_changelog *cl; /* NULL = no changelog */
    struct part parts[MAX_PARTITIONS];
    /* the outbox (sg_outbox.h; used whenever there is an alerts or DLQ topic): which records
     * Kafka has acknowledged, and the seqs of failed deliveries, sent again by the loop */
    struct sg_outbox_track track;
    pthread_mutex_t retry_mu;
    uint64_t *retry;
    size_t nretry, retry_cap;
    struct sg_gauge *outbox_gauge;
    /* records that cannot be sent anywhere: a corrupt store, a sink topic switched off */
    struct sg_counter *outbox_dropped[2];
    /* resume checks (check_resume): offsets lost to retention, partitions whose log restarted */
    struct sg_counter *offsets_lost, *rewinds;
    int64_t last_retry; /* monotonic ms */
    struct sg_buf rec, rbuf; /* encoding (pipeline thread), retry reads (loop thread) */
    int failed;   /* a store write failed: stop */
    int paused;
    int fatal_rc;
    int64_t last_activity; /* monotonic ms of the last message or assignment */
    int64_t last_monitor;  /* monotonic ms of the last commit + lag update */
    int unmonitored;       /* batches flushed since then */
    char errbuf[512];
};

/* ---- sinks ------------------------------------------------------------------------------ */

/* Notes a record whose delivery failed: retry_failed sends it again (any thread). */
static void retry_later(struct consumer *c, uint64_t seq)
{
    pthread_mutex_lock(&c->retry_mu);
    c->retry = sg_xgrow(c->retry, &c->retry_cap, c->nretry + 1, sizeof *c->retry);
    c->retry[c->nretry++] = seq;
    pthread_mutex_unlock(&c->retry_mu);
}

enum { DROP_CORRUPT, DROP_NO_TOPIC };

/* Produces one outbox record (from the writer thread once its batch is stored, or from the
 * loop: records left by an earlier run, failed deliveries). The delivery report carries the
 * seq (dr_cb). A record whose topic is not configured now, or that does not decode (a corrupt
 * store), cannot be sent anywhere: it is logged, counted in
 * streamguard_stream_outbox_dropped_total{reason} and marked delivered. */
static void send_record(struct consumer *c, uint64_t seq, const void *data, size_t len)
{
    struct sg_outbox_rec r;
    const char *topic = NULL;
    if (sg_outbox_decode(data, len, &r) != SG_OK) {
        sg_log_ratelimited(SG_LOG_ERROR, 1, "outbox record %llu is corrupt: dropped",
                           (unsigned long long)seq);
        sg_counter_inc(c->outbox_dropped[DROP_CORRUPT]);
    } else {
        topic = r.kind == SG_OUTBOX_ALERT ? c->o->alerts_topic : c->o->dlq_topic;
        if (!topic) {
            sg_log_ratelimited(SG_LOG_WARN, 1, "outbox record %llu: no %s topic configured "
                               "any more: dropped", (unsigned long long)seq,
                               r.kind == SG_OUTBOX_ALERT ? "alerts" : "dead-letter");
            sg_counter_inc(c->outbox_dropped[DROP_NO_TOPIC]);
        }
    }
    if (!topic) {
        sg_outbox_track_done(&c->track, seq);
        return;
    }
    int blocked = 0;
    for (;;) {
        rd_kafka_headers_t *hdrs = NULL;
        if (r.nh) {
            hdrs = rd_kafka_headers_new(r.nh);
            for (size_t i = 0; i < r.nh; i++)
                rd_kafka_header_add(hdrs, r.h[i].name, (ssize_t)r.h[i].nl, r.h[i].value,
                                    (ssize_t)r.h[i].vl);
        }
        rd_kafka_resp_err_t e = rd_kafka_producev(
            c->prod, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(r.key, r.kl),
            RD_KAFKA_V_VALUE((void *)r.value, r.vl), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)seq), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (c->o->prod_health)
                sg_kafka_health_queued(c->o->prod_health);
            break;
        }
        if (hdrs) /* not taken over by a refused producev */
            rd_kafka_headers_destroy(hdrs);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) { /* refused at once: kept for a retry */
            sg_log_ratelimited(SG_LOG_ERROR, 1, "produce to %s failed: %s", topic,
                               rd_kafka_err2str(e));
            if (c->o->prod_health) {
                sg_kafka_health_queued(c->o->prod_health);
                sg_kafka_health_delivery(c->o->prod_health, e);
            }
            retry_later(c, seq);
            break;
        }
        /* queue full: wait for deliveries (served here too: the loop thread may itself be
         * waiting for this write), the consumer meanwhile says why it is silent */
        if (!blocked && c->o->health)
            sg_kafka_health_blocked(c->o->health, 1);
        blocked = 1;
        rd_kafka_poll(c->prod, 50);
    }
    if (blocked && c->o->health)
        sg_kafka_health_blocked(c->o->health, 0);
}

/* The pipeline's outbox callback: a stored batch's records go to Kafka (writer thread). */
static void outbox_ready(void *ctx, uint64_t seq, const void *rec, size_t len)
{
    send_record(ctx, seq, rec, len);
}

static void stage(struct consumer *c, const struct sg_outbox_rec *r)
{
    sg_buf_reset(&c->rec);
    sg_outbox_encode(r, &c->rec);
    sg_pipeline_outbox_put(c->p, c->rec.data, c->rec.len);
}

static void alert_sink(void *ctx, const char *user, size_t ul, const char *json, size_t len)
{
    struct consumer *c = ctx;
    if (!c->o->alerts_topic)
        return;
    struct sg_outbox_rec r = {.kind = SG_OUTBOX_ALERT, .key = user, .kl = ul, .value = json,
                              .vl = len};
    stage(c, &r);
}

static void header(struct sg_outbox_rec *r, const char *name, const char *value)
{
    r->h[r->nh++] = (struct sg_outbox_header){name, value, strlen(name), strlen(value)};
}

static void dlq_sink(void *ctx, const struct sg_msg *m, const struct sg_event_error *err)
{
    struct consumer *c = ctx;
    sg_log_ratelimited(SG_LOG_WARN, 1, "invalid message %s[%d]@%lld: %s", m->source,
                       (int)m->partition, (long long)m->offset, err->message);
    if (!c->o->dlq_topic)
        return;
    char part[16], off[32], size[32];
    struct sg_outbox_rec r = {.kind = SG_OUTBOX_DLQ, .value = m->data, .vl = m->len};
    header(&r, "reason", sg_event_reason_name(err->reason));
    header(&r, "field", err->field);
    header(&r, "message", err->message);
    header(&r, "source_topic", m->source);
    snprintf(part, sizeof part, "%d", (int)m->partition);
    header(&r, "source_partition", part);
    snprintf(off, sizeof off, "%lld", (long long)m->offset);
    header(&r, "source_offset", off);
    if (r.vl > DLQ_MAX_VALUE) {
        r.vl = DLQ_MAX_VALUE;
        header(&r, "truncated", "true");
        snprintf(size, sizeof size, "%zu", m->len);
        header(&r, "original_size", size);
    }
    stage(c, &r);
}

/* Sends failed deliveries again (loop thread), reading them back from the store. */
static void retry_failed(struct consumer *c)
{
    pthread_mutex_lock(&c->retry_mu);
    size_t n = c->nretry;
    uint64_t *seqs = n ? sg_xmalloc(n * sizeof *seqs) : NULL;
    if (n)
        memcpy(seqs, c->retry, n * sizeof *seqs);
    c->nretry = 0;
    pthread_mutex_unlock(&c->retry_mu);
    for (size_t i = 0; i < n; i++) {
        int rc = sg_store_outbox_get(c->o->pipe.store, seqs[i], &c->rbuf);
        if (rc == SG_OK)
            send_record(c, seqs[i], c->rbuf.data, c->rbuf.len);
        else if (rc == SG_ERR_NOTFOUND) /* cannot happen: only delivered records are deleted */
            sg_outbox_track_done(&c->track, seqs[i]);
        else /* the store failed to read: the next round tries again */
            retry_later(c, seqs[i]);
    }
    free(seqs);
}

static void resend_stored(void *ctx, uint64_t seq, const void *rec, size_t len)
{
    send_record(ctx, seq, rec, len);
}

/* ---- batches ---------------------------------------------------------------------------- */

static void update_lag(struct consumer *c)
{
    for (int i = 0; i < MAX_PARTITIONS; i++) {
        struct part *pt = &c->parts[i];
        if (!pt->assigned || pt->next < 0)
            continue;
        int64_t lo, hi;
        if (rd_kafka_get_watermark_offsets(c->rk, c->o->topic, i, &lo, &hi) ==
                RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0) {
            if (!pt->lag) {
                char pn[16];
                snprintf(pn, sizeof pn, "%d", i);
                pt->lag = sg_metrics_gauge(c->o->pipe.metrics,
                                           "streamguard_stream_consumer_lag_messages",
                                           "high watermark minus next offset to consume",
                                           (const char *[]){"partition", pn, NULL});
            }
            sg_gauge_set(pt->lag, (double)(hi > pt->next ? hi - pt->next : 0));
        }
    }
}

/* Commits the consumed offsets to Kafka (asynchronously; only for lag monitoring). */
static void commit(struct consumer *c)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int i = 0; i < MAX_PARTITIONS; i++)
        if (c->parts[i].assigned && c->parts[i].next >= 0)
            rd_kafka_topic_partition_list_add(l, c->o->topic, i)->offset = c->parts[i].next;
    if (l->cnt)
        rd_kafka_commit(c->rk, l, 1);
    rd_kafka_topic_partition_list_destroy(l);
}

/* The Kafka commit and the lag gauges after a batch, at most this often unless forced: at low
 * input rates a batch holds a few messages, and a commit + 16 watermark look-ups per batch
 * were a large part of the stream's and the broker's CPU (they only feed monitoring). */
#define MONITOR_EVERY_MS 1000

static void monitor(struct consumer *c, int force)
{
    int64_t now = sg_time_mono_ms();
    if (!force && (!c->unmonitored || now - c->last_monitor < MONITOR_EVERY_MS))
        return;
    c->last_monitor = now;
    c->unmonitored = 0;
    commit(c);
    update_lag(c);
}

/* The atomic store write of the open batch (with the outbox records it staged and the
 * deletes of those delivered since the last one), then (see monitor) the Kafka commit.
 * `force`: commit even if nothing is pending or the last commit is recent (revoke, exit). */
static int flush(struct consumer *c, int force)
{
    if (c->failed)
        return c->fatal_rc;
    if (c->prod) {
        uint64_t below = sg_outbox_track_base(&c->track);
        sg_pipeline_outbox_delivered(c->p, below);
        sg_gauge_set(c->outbox_gauge, (double)sg_outbox_track_undelivered(
                                          &c->track, sg_pipeline_outbox_next(c->p)));
    }
    if (!sg_pipeline_pending(c->p) && !sg_pipeline_outbox_due(c->p)) {
        monitor(c, force); /* idle: the last batches' commit + lag, once their time is due */
        return SG_OK;
    }
    /* the Kafka commit below may run ahead of the batch being written: it is only for lag
     * monitoring, the consumer never reads it back */
    int rc = sg_pipeline_flush(c->p);
    if (rc != SG_OK) {
        c->failed = 1;
        c->fatal_rc = rc;
        snprintf(c->errbuf, sizeof c->errbuf, "store write failed: %s", sg_strerror(rc));
        return rc;
    }
    c->unmonitored = 1;
    monitor(c, force);
    return SG_OK;
}

/* ---- rebalancing ------------------------------------------------------------------------ */

static void on_assign(struct consumer *c, rd_kafka_topic_partition_list_t *parts)
{
    c->last_activity = sg_time_mono_ms();
    for (int i = 0; i < parts->cnt && !c->failed; i++)
        if (parts->elems[i].partition < 0 || parts->elems[i].partition >= MAX_PARTITIONS) {
            /* its messages could be neither processed nor skipped knowingly: stop */
            c->failed = 1;
            c->fatal_rc = SG_ERR_CONFIG;
            snprintf(c->errbuf, sizeof c->errbuf,
                     "%s[%d]: this build handles partition ids 0..%d (MAX_PARTITIONS, "
                     "src/speed/sg_consumer.c)",
                     parts->elems[i].topic, (int)parts->elems[i].partition, MAX_PARTITIONS - 1);
        }
    size_t n = (size_t)parts->cnt;
    int32_t *ids = sg_xcalloc(n + 1, sizeof *ids);
    int64_t *stored = sg_xcalloc(n + 1, sizeof *stored),
            *restored = sg_xcalloc(n + 1, sizeof *restored);
    int *rc = sg_xcalloc(n + 1, sizeof *rc);
    for (size_t i = 0; i < n; i++) {
        ids[i] = parts->elems[i].partition;
        int64_t off;
        rc[i] = SG_ERR_NOTFOUND;
        stored[i] =
            sg_store_offset_get(c->o->pipe.store, parts->elems[i].topic, ids[i], &off) == SG_OK
                ? off
                : -1;
    }
    /* with a changelog: a partition's last snapshot when this store never saw it, or saw it
     * less far than the snapshot (another process owned it meanwhile). The batch in flight
     * is stored first; no open batch holds the partitions' users (a revoke writes them), and
     * those cached from an earlier ownership are dropped. */
    if (c->cl && !c->failed && n) {
        if (sg_pipeline_sync(c->p) != SG_OK) {
            c->failed = 1;
            c->fatal_rc = SG_ERR_STORE;
        } else {
            sg_log_info("assignment of %zu partition(s): looking for their snapshots in the "
                        "changelog",
                        n);
            sg_changelog_restore_many(c->cl, n, ids, stored, restored, rc);
        }
    }
    for (size_t i = 0; i < n; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        int64_t next = stored[i];
        const char *from = next >= 0 ? "store" : "beginning"; /* beginning: the whole log */
        if (rc[i] == SG_OK) {
            next = restored[i];
            from = "changelog";
            sg_pipeline_forget_partition(c->p, tp->partition);
        }
        tp->offset = next >= 0 ? next : RD_KAFKA_OFFSET_BEGINNING;
        if (tp->partition >= 0 && tp->partition < MAX_PARTITIONS) {
            c->parts[tp->partition].assigned = 1;
            c->parts[tp->partition].next = next;
            c->parts[tp->partition].check_resume = next >= 0;
        }
        if (c->cl)
            sg_changelog_own(c->cl, tp->partition, 1);
        sg_log_info("assigned %s[%d] from offset %lld (%s)", tp->topic, (int)tp->partition,
                    (long long)tp->offset, from);
    }
    free(ids);
    free(stored);
    free(restored);
    free(rc);
}

/* Publishes a snapshot of the partitions being revoked, so that their next owner restores
 * everything consumed here and replays nothing. */
static void hand_over(struct consumer *c, rd_kafka_topic_partition_list_t *parts)
{
    int32_t *pn = sg_xmalloc(((size_t)parts->cnt + 1) * sizeof *pn);
    size_t n = 0;
    for (int i = 0; i < parts->cnt; i++) {
        sg_changelog_own(c->cl, parts->elems[i].partition, 0);
        pn[n++] = parts->elems[i].partition;
    }
    if (!c->failed && sg_changelog_publish(c->cl, pn, n, 10000) != SG_OK)
        sg_log_warn("changelog: the snapshot of the revoked partitions failed; their next "
                    "owner restores an older one and replays from there");
    free(pn);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct consumer *c = opaque;
    int coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(c, parts);
        if (coop)
            rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
        else
            rd_kafka_assign(rk, parts);
        return;
    }
    /* Revoked: store what was consumed so far, so the next owner - this process later, or
     * another one reading its own store - resumes from a consistent point. */
    c->last_activity = sg_time_mono_ms(); /* a rebalance is activity: wait for the new share */
    if (flush(c, 1) == SG_OK && sg_pipeline_sync(c->p) != SG_OK && !c->failed) {
        c->failed = 1;
        c->fatal_rc = SG_ERR_STORE;
    }
    if (c->cl)
        hand_over(c, parts);
    for (int i = 0; i < parts->cnt; i++) {
        int32_t pn = parts->elems[i].partition;
        if (pn >= 0 && pn < MAX_PARTITIONS)
            c->parts[pn].assigned = 0;
        sg_log_info("revoked %s[%d]", parts->elems[i].topic, (int)pn);
    }
    if (coop)
        rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
    else
        rd_kafka_assign(rk, NULL);
}

/* ---- broker reachability (for /health) --------------------------------------------------- */

/* The tracker of the client `rk` (the consumer or the alerts/DLQ producer), or NULL. */
static struct sg_kafka_health *health_of(const struct consumer *c, const rd_kafka_t *rk)
{
    return rk == c->prod ? c->o->prod_health : c->o->health;
}

/* Setting an error callback stops librdkafka from logging its errors: log them here. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct consumer *c = opaque;
    sg_log_ratelimited(SG_LOG_WARN, 1, "kafka %s: %s: %s",
                       rk == c->prod ? "alerts producer" : "consumer", rd_kafka_err2name(err),
                       reason);
    struct sg_kafka_health *h = health_of(c, rk);
    if (h)
        sg_kafka_health_error(h, err);
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct consumer *c = opaque;
    struct sg_kafka_health *h = health_of(c, rk);
    if (h)
        sg_kafka_health_stats(h, json, len);
    return 0; /* librdkafka frees json */
}

/* The alerts/DLQ producer's delivery reports (served by its poll and flush calls, on the
 * consume loop's thread). Failures were silent before: log them, rate-limited. */
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct consumer *c = opaque;
    uint64_t seq = (uint64_t)(uintptr_t)m->_private; /* the outbox seq (send_record) */
    if (m->err) {
        sg_log_ratelimited(SG_LOG_WARN, 1, "alerts producer: delivery to %s failed: %s "
                           "(kept in the store, sent again)",
                           rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        retry_later(c, seq);
    } else {
        sg_outbox_track_done(&c->track, seq);
    }
    if (c->o->prod_health)
        sg_kafka_health_delivery(c->o->prod_health, m->err);
}

/* ---- setup ------------------------------------------------------------------------------ */

/* Sets key=value unless the configuration's kafka: section sets it (the operator wins). */
static int set_default(rd_kafka_conf_t *conf, const struct sg_config *cfg, const char *key,
                       const char *value, char *err, size_t n)
{
    if (cfg && sg_config_kafka_get(cfg, key))
        return SG_OK;
    return sg_kafka_conf_set(conf, key, value, err, n);
}

static rd_kafka_t *make_consumer(struct consumer *c, char *err, size_t n)
{
    const struct sg_consumer_opts *o = c->o;
    rd_kafka_conf_t *conf = sg_kafka_conf_new(o->cfg, o->brokers, err, n);
    if (!conf)
        return NULL;
    if (sg_kafka_conf_set(conf, "group.id", o->group, err, n) ||
        sg_kafka_conf_set(conf, "enable.auto.commit", "false", err, n) ||
        sg_kafka_conf_set(conf, "enable.auto.offset.store", "false", err, n) ||
        sg_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, n) ||
        sg_kafka_conf_set(conf, "enable.partition.eof", "false", err, n) ||
        /* latency: answer fetches quickly when little data is waiting (the dev broker does
         * not wake a waiting fetch when data arrives) */
        set_default(conf, o->cfg, "fetch.wait.max.ms", "10", err, n) ||
        /* throughput: the prefetch queue. librdkafka 2.0 stops fetching once it holds
         * queued.min.messages (default 100,000) or queued.max.messages.kbytes, and looks again
         * only when its broker thread next wakes up - up to 1 s later, by which time a
         * backlog at ~150K events/s has drained it and the stream sat idle for 0.3-0.9 s
         * (seen in the broker benchmark). 256 MiB holds ~2-3 s of work; the message count
         * is set high so that the byte bound is the one that applies. */
        set_default(conf, o->cfg, "queued.max.messages.kbytes", "262144", err, n) ||
        set_default(conf, o->cfg, "queued.min.messages", "1000000", err, n) ||
        /* latency: small requests are sent at once, not held back by Nagle's algorithm */
        set_default(conf, o->cfg, "socket.nagle.disable", "true", err, n) ||
        /* broker contact for /health is judged from the statistics, once a second */
        (o->health && set_default(conf, o->cfg, "statistics.interval.ms", "1000", err, n))) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    if (o->health) {
        rd_kafka_conf_set_error_cb(conf, error_cb);
        rd_kafka_conf_set_stats_cb(conf, stats_cb);
    }
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, n);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

static rd_kafka_t *make_producer(struct consumer *c, char *err, size_t n)
{
    rd_kafka_conf_t *conf = sg_kafka_conf_new(c->o->cfg, c->o->brokers, err, n);
    if (!conf)
        return NULL;
    struct sg_kafka_health *h = c->o->prod_health;
    if (set_default(conf, c->o->cfg, "linger.ms", "0", err, n) || /* few, urgent */
        set_default(conf, c->o->cfg, "enable.idempotence", "true", err, n) ||
        set_default(conf, c->o->cfg, "socket.nagle.disable", "true", err, n) ||
        (h && set_default(conf, c->o->cfg, "statistics.interval.ms", "1000", err, n))) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (h) {
        rd_kafka_conf_set_error_cb(conf, error_cb);
        rd_kafka_conf_set_stats_cb(conf, stats_cb);
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb); /* the outbox needs every delivery report */
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, n);
    if (!rk)
        rd_kafka_conf_destroy(conf);
    return rk;
}

/* Fetches the sink topics' metadata up front, so that the first anomaly of the run does not
 * pay for it (and for the idempotent producer's id) inside a batch's latency. */
static void warm_up_producer(struct consumer *c)
{
    const char *topics[] = {c->o->alerts_topic, c->o->dlq_topic};
    for (int i = 0; i < 2; i++) {
        if (!topics[i])
            continue;
        rd_kafka_topic_t *t = rd_kafka_topic_new(c->prod, topics[i], NULL);
        const struct rd_kafka_metadata *md = NULL;
        if (t && rd_kafka_metadata(c->prod, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_metadata_destroy(md);
            if (c->o->prod_health)
                sg_kafka_health_contact(c->o->prod_health);
        }
        if (t)
            rd_kafka_topic_destroy(t);
    }
}

/* A broker must answer within 5 s at start (exit code 3 otherwise); later outages are
 * ridden out by librdkafka's reconnects. */
static int reachable(struct consumer *c)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(c->rk, 0, NULL, &md, 5000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(c->errbuf, sizeof c->errbuf, "no Kafka broker reachable: %s",
                 rd_kafka_err2str(e));
        return SG_ERR_UNAVAILABLE;
    }
    rd_kafka_metadata_destroy(md);
    return SG_OK;
}

/* Connects to every broker that leads a partition of the input topic before the group join
 * (one ListOffsets per leader). A partition sought to "beginning" - every partition of a new
 * store - needs its leader's ListOffsets answer before the first fetch; without the warm-up
 * the connection to a second leader was only being set up at the assignment, librdkafka
 * retried the offset request 500 ms later, and the partitions of one broker were consumed
 * alone meanwhile (seen as a 0.5 s gap with nothing to poll in the broker benchmark). */
static void warm_up_leaders(struct consumer *c)
{
    const struct rd_kafka_metadata *md;
    char err[256]; /* best effort: a missing topic shows at the subscription */
    if (sg_kafka_topic_metadata(c->rk, c->o->topic, 5000, &md, err, sizeof err) == SG_OK) {
        const struct rd_kafka_metadata_topic *mt = &md->topics[0];
        for (int i = 0; i < mt->partition_cnt; i++) {
            int first = 1; /* the first partition this leader leads */
            for (int j = 0; j < i && first; j++)
                first = mt->partitions[j].leader != mt->partitions[i].leader;
            int64_t lo, hi;
            if (first)
                rd_kafka_query_watermark_offsets(c->rk, c->o->topic, mt->partitions[i].id,
                                                 &lo, &hi, 2000);
        }
        rd_kafka_metadata_destroy(md);
    }
}

static int subscribe(struct consumer *c)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, c->o->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(c->errbuf, sizeof c->errbuf, "subscribe to %s: %s", c->o->topic,
                 rd_kafka_err2str(e));
        return sg_kafka_err(e);
    }
    return SG_OK;
}

/* Pauses every assigned partition while the producer queue is too long (bounded memory when
 * the alerts/DLQ topics are slower than the input), resumes when it has drained to half. */
static void backpressure(struct consumer *c)
{
    if (!c->prod)
        return;
    int q = rd_kafka_outq_len(c->prod);
    if (!c->paused && q > OUTQ_PAUSE) {
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rd_kafka_assignment(c->rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_pause_partitions(c->rk, a);
            rd_kafka_topic_partition_list_destroy(a);
        }
        c->paused = 1;
        sg_log_warn("backpressure: %d messages queued for alerts/DLQ, consumption paused", q);
    } else if (c->paused && q < OUTQ_PAUSE / 2) {
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rd_kafka_assignment(c->rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_resume_partitions(c->rk, a);
            rd_kafka_topic_partition_list_destroy(a);
        }
        c->paused = 0;
    }
    rd_kafka_poll(c->prod, 0);
    int64_t now = sg_time_mono_ms();
    if (now - c->last_retry >= RETRY_EVERY_MS) { /* a refusal that lasts must not spin */
        c->last_retry = now;
        retry_failed(c);
    }
}

/* ---- the loop --------------------------------------------------------------------------- */

/* The first message of an assignment should be at the offset the store (or the changelog)
 * resumes from. When Kafka no longer has that offset, the consumer starts at the earliest one
 * (auto.offset.reset) without an error; this makes the jump visible. Further: only the offsets
 * below the log's start were deleted (Kafka retention shorter than an outage), which the
 * broker is asked for (a ListOffsets round trip, only here); a jump within the log holds no
 * message this consumer gets - a transaction's commit marker takes an offset, and a
 * read_committed consumer skips aborted transactions - and is no loss. Back: the partition's
 * log restarts below what the store read (the topic was deleted and created again) - its
 * messages are processed, events already stored count as duplicates. */
static void check_resume(struct consumer *c, int32_t pn, int64_t offset)
{
    struct part *pt = &c->parts[pn];
    int64_t want = pt->next; /* where the assignment resumed: no message has moved it yet */
    pt->check_resume = 0;
    if (offset == want)
        return;
    if (offset < want) {
        sg_counter_inc(c->rewinds);
        sg_log_warn("%s[%d]: the partition's log restarts at offset %lld, below the %lld this "
                    "store had read (topic deleted and created again?): reading it from there",
                    c->o->topic, (int)pn, (long long)offset, (long long)want);
        return;
    }
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(c->rk, c->o->topic, pn, &lo, &hi, 5000);
    int64_t lost = sg_consumer_resume_lost(want, offset, e ? -1 : lo);
    if (!lost) {
        sg_log_info("%s[%d]: resumed at offset %lld, not %lld: the offsets between hold no "
                    "message for this consumer (transaction markers, aborted transactions)",
                    c->o->topic, (int)pn, (long long)offset, (long long)want);
        return;
    }
    sg_counter_add(c->offsets_lost, (uint64_t)lost);
    sg_log_warn("%s[%d]: resumed at offset %lld, but the store had read up to %lld: the %lld "
                "messages from there to %lld were deleted from the topic before this group read "
                "them (Kafka retention shorter than an outage?)%s%s",
                c->o->topic, (int)pn, (long long)offset, (long long)want, (long long)lost,
                (long long)(want + lost), e ? "; the log start could not be read: " : "",
                e ? rd_kafka_err2str(e) : "");
}

int64_t sg_consumer_resume_lost(int64_t want, int64_t offset, int64_t log_start)
{
    if (offset <= want)
        return 0;
    if (log_start < 0 || log_start > offset) /* unknown, or moved on since the message came */
        return offset - want;
    return log_start > want ? log_start - want : 0;
}

static int handle(struct consumer *c, rd_kafka_message_t *m)
{
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            return SG_OK;
        if (c->o->health)
            sg_kafka_health_error(c->o->health, m->err);
        sg_log_ratelimited(SG_LOG_WARN, 1, "consumer: %s", rd_kafka_message_errstr(m));
        if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
            snprintf(c->errbuf, sizeof c->errbuf, "fatal consumer error: %s",
                     rd_kafka_message_errstr(m));
            return SG_ERR_KAFKA;
        }
        return SG_OK;
    }
    int32_t pn = m->partition;
    if (pn < 0 || pn >= MAX_PARTITIONS || !c->parts[pn].assigned)
        return SG_OK; /* a message of a partition revoked meanwhile: the next owner has it */
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    struct sg_msg msg = {m->payload ? m->payload : "",
                         m->len,
                         c->o->topic,
                         pn,
                         m->offset,
                         tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts,
                         m->key,
                         m->key_len,
                         1};
    if (c->parts[pn].check_resume)
        check_resume(c, pn, m->offset);
    c->parts[pn].next = m->offset + 1;
    return sg_pipeline_add(c->p, &msg);
}

static int loop(struct consumer *c)
{
    const struct sg_consumer_opts *o = c->o;
    size_t bs = o->batch_size ? o->batch_size : 1000;
    int rc = SG_OK;
    int64_t start = sg_time_mono_ms();
    while (rc == SG_OK && !c->failed) {
        if (o->stop && *o->stop) {
            rc = SG_ERR_INTERRUPTED;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, sg_pipeline_pending(c->p) ? 0 : 100);
        if (!m) { /* nothing more right now: write what we have */
            rc = flush(c, 0);
            backpressure(c);
            /* idle = no message since the last assignment/message (a group join takes seconds;
             * never having been assigned anything for 30 s also counts) */
            int64_t now = sg_time_mono_ms();
            if (o->idle_exit_ms > 0 &&
                ((c->last_activity && now - c->last_activity > o->idle_exit_ms) ||
                 (!c->last_activity && now - start > 30000 + o->idle_exit_ms)))
                break;
            continue;
        }
        if (!m->err)
            c->last_activity = sg_time_mono_ms();
        rc = handle(c, m);
        rd_kafka_message_destroy(m);
        if (rc == SG_OK && sg_pipeline_pending(c->p) >= bs) {
            rc = flush(c, 0);
            backpressure(c);
        }
    }
    if (c->failed)
        return c->fatal_rc;
    return rc;
}

int sg_consumer_run(const struct sg_consumer_opts *o, struct sg_pipeline_totals *totals,
                    char *errbuf, size_t errlen)
{
    memset(totals, 0, sizeof *totals);
    struct consumer *c = sg_xcalloc(1, sizeof *c);
    c->o = o;
    for (int i = 0; i < MAX_PARTITIONS; i++)
        c->parts[i].next = -1;
    int rc = SG_OK;
    pthread_mutex_init(&c->retry_mu, NULL);
    sg_buf_init(&c->rec);
    sg_buf_init(&c->rbuf);
    if (o->alerts_topic || o->dlq_topic) {
        c->prod = make_producer(c, errbuf, errlen);
        if (!c->prod) {
            rc = SG_ERR_CONFIG;
            goto out;
        }
    }
    struct sg_pipeline_opts po = o->pipe;
    po.alert = alert_sink;
    po.dlq = dlq_sink;
    po.sink_flush = NULL; /* the outbox: records are sent once stored */
    po.outbox_ready = c->prod ? outbox_ready : NULL;
    po.sink_ctx = c;
    if ((rc = sg_pipeline_new(&po, &c->p)) != SG_OK)
        goto out;
    if (c->prod) {
        c->outbox_gauge = sg_metrics_gauge(
            o->pipe.metrics, "streamguard_stream_outbox_records",
            "alerts and dead letters stored but not yet acknowledged by Kafka", NULL);
        static const char *const why[2] = {"corrupt", "no_topic"};
        for (int i = 0; i < 2; i++)
            c->outbox_dropped[i] = sg_metrics_counter(
                o->pipe.metrics, "streamguard_stream_outbox_dropped_total",
                "stored alerts/dead letters that could not be sent: the record does not decode "
                "(corrupt) or its sink is switched off since it was stored (no_topic)",
                (const char *[]){"reason", why[i], NULL});
        sg_outbox_track_init(&c->track, sg_pipeline_outbox_below(c->p));
    }
    c->offsets_lost = sg_metrics_counter(
        o->pipe.metrics, "streamguard_stream_offsets_lost_total",
        "offsets between where the store resumed a partition and the first message Kafka still "
        "had (deleted by retention before this group read them)",
        NULL);
    c->rewinds = sg_metrics_counter(
        o->pipe.metrics, "streamguard_stream_partition_rewinds_total",
        "assignments whose partition log restarted below the offset the store had read (topic "
        "created again)",
        NULL);
    c->rk = make_consumer(c, errbuf, errlen);
    if (!c->rk) {
        rc = SG_ERR_CONFIG;
        goto out;
    }
    if ((rc = reachable(c)) == SG_OK) {
        if (o->health)
            sg_kafka_health_contact(o->health);
        if (c->prod) {
            warm_up_producer(c);
            /* what an earlier run stored but did not see delivered (at-least-once) */
            size_t n = sg_store_outbox_each(o->pipe.store, resend_stored, c);
            if (n)
                sg_log_info("sending %zu alerts/dead letters stored by an earlier run and not "
                            "acknowledged then", n);
        }
        if (o->changelog_topic) {
            struct sg_changelog_opts co = {o->cfg,
                                           o->brokers,
                                           o->changelog_topic,
                                           o->topic,
                                           o->group,
                                           o->pipe.store,
                                           o->changelog_interval_ms,
                                           o->pipe.metrics,
                                           o->cfg->stream.changelog_dedup_messages};
            rc = sg_changelog_new(&co, &c->cl, errbuf, errlen);
        }
        if (rc == SG_OK) {
            warm_up_leaders(c);
            if ((rc = subscribe(c)) == SG_OK) {
                if (c->cl)
                    sg_changelog_start(c->cl);
                rc = loop(c);
            }
        }
    }
    int frc = flush(c, 1); /* the open batch, then leave the group (revoke flushes again: no-op) */
    if (frc == SG_OK && c->p)
        frc = sg_pipeline_sync(c->p);
    if (frc == SG_OK && c->prod) { /* wait for the deliveries, then delete them from the store */
        rd_kafka_flush(c->prod, 10000);
        frc = flush(c, 1);
        if (frc == SG_OK)
            frc = sg_pipeline_sync(c->p);
        uint64_t next = sg_pipeline_outbox_next(c->p), base = sg_outbox_track_base(&c->track);
        if (next > base)
            sg_log_warn("%llu alerts/dead letters not acknowledged by Kafka yet: kept in the "
                        "store with the %llu after the first of them, all sent again at the "
                        "next start", (unsigned long long)sg_outbox_track_undelivered(
                                          &c->track, next),
                        (unsigned long long)(next - base - 1));
    }
    if (rc == SG_OK || rc == SG_ERR_INTERRUPTED)
        rc = frc == SG_OK ? rc : frc;
    rd_kafka_consumer_close(c->rk);
    if (c->errbuf[0])
        snprintf(errbuf, errlen, "%s", c->errbuf);
out:
    if (c->rk)
        rd_kafka_destroy(c->rk);
    sg_changelog_free(c->cl); /* after the close: its revoke publishes the last snapshot */
    if (c->p) { /* before the producer: its writer thread may still hand records to it */
        *totals = sg_pipeline_totals(c->p);
        sg_pipeline_free(c->p);
    }
    if (c->prod) {
        rd_kafka_flush(c->prod, 10000);
        rd_kafka_destroy(c->prod);
        sg_outbox_track_release(&c->track);
    }
    free(c->retry);
    sg_buf_release(&c->rec);
    sg_buf_release(&c->rbuf);
    pthread_mutex_destroy(&c->retry_mu);
    free(c);
    return rc;
}
