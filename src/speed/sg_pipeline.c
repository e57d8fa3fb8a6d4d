/* sg_pipeline: decode/dedup/detect/update/stage per message, one atomic store write per batch,
 * the user-profile cache (open addressing, bounded, least-recently-batched evicted), the
 * persistent counters and the speed layer's metrics. */
#include "speed/sg_pipeline.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_anomaly.h"
#include "core/sg_err.h"
#include "core/sg_hash.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_time.h"
#include "core/sg_varint.h"
#include "batch/sg_model.h"
#include "speed/sg_rolling.h"

#define HSEED 0x55534552u
#define MAX_REASONS 32

struct uentry {
    char *user;
    uint32_t ulen;
    uint64_t hash;
    uint64_t batch; /* last batch that touched it */
    int dirty;
    struct sg_user_state st;
    struct sg_rolling *roll; /* with a model only; NULL until built from the store */
};

struct offset {
    const char *source; /* borrowed from the message; copied below when it changes */
    char src[160];
    int32_t partition;
    int64_t next;
};

struct reason_stat {
    char *name;
    uint64_t n;
    struct sg_counter *metric;
};

struct stats {
    uint64_t events, by_type[SG_EV_TYPE_COUNT], duplicates, invalid[SG_REASON_COUNT],
        anomalies[SG_SEV_COUNT], users, warm_started;
    size_t nreasons;
    struct reason_stat reasons[MAX_REASONS];
};

struct mets {
    struct sg_counter *events[SG_EV_TYPE_COUNT], *dups, *invalid[SG_REASON_COUNT],
        *anom[SG_SEV_COUNT], *batches, *key_mismatch[2];
    struct sg_histogram *detect, *write, *lag, *e2e, *in_stream, *batch_size;
    struct sg_gauge *users_cached, *watermark;
};

/* A changed profile as of the end of its batch, encoded and staged by the writer thread (the
 * encoding was ~6 % of the pipeline thread's time; a copy of the flat struct is ~0.1 us). */
struct ustage {
    const char *user; /* in the batch's arena */
    uint32_t ulen;
    struct sg_user_state st;
};

/* What one batch owns while it is built and while it is being written: the RocksDB batch, the
 * arena holding its decoded strings, its event ids (in-batch dedup), timestamps (lag
 * metrics) and changed profiles. Two of them alternate: one is built while the other is
 * written. */
struct bstate {
    struct sg_store_batch *batch;
    struct sg_arena arena;
    uint64_t *ids;
    char **id_ptrs;
    size_t ids_cap, nids;
    int64_t *ev_ts, *msg_ts, *arr_ns; /* per stored event: event time, produce time, arrival */
    size_t nts, ts_cap;
    size_t pending;
    uint64_t batch_no;
    struct ustage *us;
    size_t nus, us_cap;
    /* the batch's new events, encoded and put by the write (stage_event) */
    struct sevent {
        const struct sg_event *ev; /* a copy in the arena */
        uint64_t seq;              /* the event's arrival number among its user's */
    } * sev;
    size_t nsev, sev_cap;
    struct sg_buf ubuf; /* the writer thread's encoding buffer */
    struct sg_buf obuf; /* outbox records staged in this batch: varint seq | varint len | bytes */
};

/* Decoded events whose dedup lookup in the store has not been made yet: the lookups of up to
 * PEND_MAX events are made together (sg_store_events_seen, one RocksDB MultiGet: ~1 us per
 * event as single Gets, the largest item of the pipeline thread's profile), then the events
 * are processed in arrival order. Flushing a batch processes what is pending first. */
#define PEND_MAX 64

struct pend {
    struct sg_event ev; /* strings in the batch's arena */
    int64_t msg_ts_ms;
    int64_t arr_ns;     /* monotonic: when sg_pipeline_add got the message */
    int64_t ns;         /* processing time so far (decode, in-batch dedup) */
    int32_t partition;  /* the message's */
};

/* The writer thread: RocksDB's write of batch N overlaps the processing of batch N+1. Batches
 * of at most INLINE_MAX messages - what live traffic gives, a poll's worth every millisecond
 * or so - are written by the pipeline's own thread instead: the overlap buys nothing there,
 * and the two thread wake-ups per batch cost CPU and, on a busy machine, milliseconds of
 * latency while the woken thread waits for a core. */
#define INLINE_MAX 128
struct writer {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct bstate *job; /* being written, NULL when idle */
    int done;           /* job finished: rc and t_ns are valid */
    int rc, stop;
    int64_t t_ns;       /* duration of the write */
    int64_t done_ms;    /* wall clock when it was stored (latency metrics) */
    int64_t done_ns;    /* the same, monotonic (totals.last_ns) */
};

struct sg_pipeline {
    struct sg_pipeline_opts o;
    struct bstate bs[2];
    struct bstate *cur;      /* the batch being built */
    struct bstate *inflight; /* the batch being written, or NULL */
    struct writer w;
    struct sg_buf scratch, anom;
    struct sg_findings fs;
    struct sg_arena roll_arena; /* decoding stored events while rebuilding rolling features */
    /* user cache */
    struct uentry **slots;
    size_t cap, count, max_users;
    struct uentry **dirty;
    size_t ndirty, dirty_cap;
    uint64_t batch_no;
    /* batch bookkeeping */
    struct offset *offs;
    size_t noffs, offs_cap;
    struct pend pend[PEND_MAX];
    size_t npend;
    const char *pend_ids[PEND_MAX];
    size_t pend_lens[PEND_MAX];
    int pend_seen[PEND_MAX];
    struct stats stats;
    struct stats staged; /* the counters' values as last staged (numbers only) */
    struct mets m;
    struct sg_pipeline_totals totals;
    /* outbox: the next seq to assign; every seq below ob_below is delivered, and every seq
     * below ob_staged has its delete in a closed batch */
    uint64_t ob_next, ob_below, ob_staged;
};

static void writer_start(struct sg_pipeline *p);
static void writer_stop(struct sg_pipeline *p);

/* ---- metrics and counters --------------------------------------------------------------- */

static const double detect_bounds[] = {1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 5e-4, 1e-3, 1e-2};
static const double write_bounds[] = {1e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1, 0.5, 2};
static const double lag_bounds[] = {5e-4, 1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 7.5e-3, 1e-2, 2.5e-2,
                                    5e-2, 0.1, 0.25, 0.5, 1, 5, 60, 3600, 86400};
static const double in_stream_bounds[] = {1e-4, 2.5e-4, 5e-4, 1e-3, 2e-3, 3e-3, 4e-3, 5e-3,
                                          7.5e-3, 1e-2, 2.5e-2, 0.1, 1, 10};
static const double size_bounds[] = {1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

static double store_size(void *ctx)
{
    return (double)sg_store_size_bytes(ctx);
}

static double store_write_stall(void *ctx)
{
    return (double)sg_store_write_stall(ctx);
}

static void register_metrics(struct sg_pipeline *p)
{
    struct sg_metrics *r = p->o.metrics;
    struct mets *m = &p->m;
    for (int t = 0; t < SG_EV_TYPE_COUNT; t++)
        m->events[t] = sg_metrics_counter(r, "streamguard_stream_events_total",
                                          "valid events processed, by event type",
                                          (const char *[]){"type", sg_event_type_name(t), NULL});
    m->dups = sg_metrics_counter(r, "streamguard_stream_duplicates_total",
                                 "messages skipped because their event_id was already processed",
                                 NULL);
    for (int i = 1; i < SG_REASON_COUNT; i++)
        m->invalid[i] = sg_metrics_counter(r, "streamguard_stream_invalid_total",
                                           "invalid messages (sent to the dead-letter sink), by reason",
                                           (const char *[]){"reason", sg_event_reason_name(i), NULL});
    for (int s = 0; s < SG_SEV_COUNT; s++)
        m->anom[s] = sg_metrics_counter(r, "streamguard_stream_anomalies_total",
                                        "anomalies detected, by severity",
                                        (const char *[]){"severity", sg_detect_severity_name(s), NULL});
    m->batches = sg_metrics_counter(r, "streamguard_stream_batches_total",
                                    "batches written to the store", NULL);
    static const char *const key_reasons[2] = {"unkeyed", "other_key"};
    for (int i = 0; i < 2; i++)
        m->key_mismatch[i] = sg_metrics_counter(
            r, "streamguard_stream_key_mismatch_total",
            "valid events whose Kafka message key is not their user (the user's history is "
            "split between partitions), by reason",
            (const char *[]){"reason", key_reasons[i], NULL});
    m->detect = sg_metrics_histogram(r, "streamguard_stream_processing_seconds",
                                     "per-event decode + detection + profile update time", NULL,
                                     detect_bounds, sizeof detect_bounds / sizeof *detect_bounds);
    m->write = sg_metrics_histogram(r, "streamguard_stream_batch_write_seconds",
                                    "time of one atomic store write", NULL, write_bounds,
                                    sizeof write_bounds / sizeof *write_bounds);
    m->lag = sg_metrics_histogram(r, "streamguard_stream_event_lag_seconds",
                                  "event timestamp to stored (wall clock)", NULL, lag_bounds,
                                  sizeof lag_bounds / sizeof *lag_bounds);
    m->e2e = sg_metrics_histogram(r, "streamguard_stream_e2e_latency_seconds",
                                  "Kafka produce timestamp to stored", NULL, lag_bounds,
                                  sizeof lag_bounds / sizeof *lag_bounds);
    m->in_stream = sg_metrics_histogram(
        r, "streamguard_stream_in_stream_latency_seconds",
        "message received by the pipeline to stored: the stream's own share of the end-to-end "
        "latency (the rest is the producer, the broker and the fetch)",
        NULL, in_stream_bounds, sizeof in_stream_bounds / sizeof *in_stream_bounds);
    m->batch_size = sg_metrics_histogram(r, "streamguard_stream_batch_size_messages",
                                         "messages per written batch", NULL, size_bounds,
                                         sizeof size_bounds / sizeof *size_bounds);
    m->users_cached = sg_metrics_gauge(r, "streamguard_stream_users_cached",
                                       "user profiles held in memory", NULL);
    m->watermark = sg_metrics_gauge(r, "streamguard_stream_watermark_seconds",
                                    "newest event time stored (Unix seconds)", NULL);
    sg_metrics_gauge_fn(r, "streamguard_store_size_bytes",
                        "RocksDB size: SST files plus memtables", NULL, store_size, p->o.store);
    sg_metrics_gauge_fn(r, "streamguard_store_write_stall",
                        "RocksDB write throttling: 0 none, 1 delayed, 2 stopped", NULL,
                        store_write_stall, p->o.store);
}

static struct reason_stat *reason_stat(struct sg_pipeline *p, const char *name)
{
    struct stats *s = &p->stats;
    for (size_t i = 0; i < s->nreasons; i++)
        if (!strcmp(s->reasons[i].name, name))
            return &s->reasons[i];
    if (s->nreasons == MAX_REASONS)
        return NULL;
    struct reason_stat *r = &s->reasons[s->nreasons++];
    r->name = sg_xstrdup(name);
    r->n = 0;
    r->metric = sg_metrics_counter(p->o.metrics, "streamguard_stream_anomaly_reasons_total",
                                   "anomaly reasons (one anomaly can have several)",
                                   (const char *[]){"reason", name, NULL});
    return r;
}

static void load_stat(void *ctx, const char *name, uint64_t v)
{
    struct sg_pipeline *p = ctx;
    struct stats *s = &p->stats;
    if (!strcmp(name, "events"))
        s->events = v;
    else if (!strcmp(name, "duplicates"))
        s->duplicates = v;
    else if (!strcmp(name, "users"))
        s->users = v;
    else if (!strcmp(name, "users_warm_started"))
        s->warm_started = v;
    else if (!strncmp(name, "anomaly_reason.", 15)) {
        struct reason_stat *r = reason_stat(p, name + 15);
        if (r)
            r->n = v;
    }
    for (int t = 0; t < SG_EV_TYPE_COUNT; t++) {
        char k[64];
        snprintf(k, sizeof k, "events.%s", sg_event_type_name(t));
        if (!strcmp(name, k))
            s->by_type[t] = v;
    }
    for (int i = 1; i < SG_REASON_COUNT; i++) {
        char k[64];
        snprintf(k, sizeof k, "invalid.%s", sg_event_reason_name(i));
        if (!strcmp(name, k))
            s->invalid[i] = v;
    }
    for (int i = 0; i < SG_SEV_COUNT; i++) {
        char k[64];
        snprintf(k, sizeof k, "anomalies.%s", sg_detect_severity_name(i));
        if (!strcmp(name, k))
            s->anomalies[i] = v;
    }
}

/* The counters go into every batch (exactly-once, like the events), but only those that changed
 * since they were last staged: a live batch of a few messages changes a handful of the ~30,
 * and each put is a memtable insert (0.7 stat puts per event at 20K events/s live before). */
static void put_stat(struct sg_pipeline *p, uint64_t v, uint64_t *staged, const char *prefix,
                     const char *name)
{
    if (v == *staged)
        return;
    char k[96];
    snprintf(k, sizeof k, "%s%s", prefix, name);
    sg_store_batch_put_stat(p->cur->batch, k, v);
    *staged = v;
}

/* Makes the next stage_stats write every counter: those a batch has always carried (even when
 * 0, so the store's set of counters does not depend on when a process started) and the
 * optional ones (invalid.*, users_warm_started) that are not 0. */
static void restage(struct sg_pipeline *p)
{
    struct stats *g = &p->staged;
    g->events = g->duplicates = g->users = UINT64_MAX;
    g->warm_started = 0;
    for (int t = 0; t < SG_EV_TYPE_COUNT; t++)
        g->by_type[t] = UINT64_MAX;
    for (int i = 0; i < SG_REASON_COUNT; i++)
        g->invalid[i] = 0;
    for (int i = 0; i < SG_SEV_COUNT; i++)
        g->anomalies[i] = UINT64_MAX;
    for (size_t i = 0; i < MAX_REASONS; i++)
        g->reasons[i].n = UINT64_MAX;
}

static void stage_stats(struct sg_pipeline *p)
{
    struct stats *s = &p->stats, *g = &p->staged;
    put_stat(p, s->events, &g->events, "", "events");
    put_stat(p, s->duplicates, &g->duplicates, "", "duplicates");
    put_stat(p, s->users, &g->users, "", "users");
    put_stat(p, s->warm_started, &g->warm_started, "", "users_warm_started");
    for (int t = 0; t < SG_EV_TYPE_COUNT; t++)
        put_stat(p, s->by_type[t], &g->by_type[t], "events.", sg_event_type_name(t));
    for (int i = 1; i < SG_REASON_COUNT; i++)
        put_stat(p, s->invalid[i], &g->invalid[i], "invalid.", sg_event_reason_name(i));
    for (int i = 0; i < SG_SEV_COUNT; i++)
        put_stat(p, s->anomalies[i], &g->anomalies[i], "anomalies.",
                 sg_detect_severity_name(i));
    for (size_t i = 0; i < s->nreasons; i++)
        put_stat(p, s->reasons[i].n, &g->reasons[i].n, "anomaly_reason.", s->reasons[i].name);
}

/* ---- lifecycle -------------------------------------------------------------------------- */

struct seq_span {
    uint64_t first, last;
    size_t n;
};

static void seq_span_add(void *ctx, uint64_t seq, const void *rec, size_t len)
{
    (void)rec;
    (void)len;
    struct seq_span *sp = ctx;
    if (!sp->n++)
        sp->first = seq;
    sp->last = seq;
}

int sg_pipeline_new(const struct sg_pipeline_opts *o, struct sg_pipeline **out)
{
    struct sg_pipeline *p = sg_xcalloc(1, sizeof *p);
    p->o = *o;
    p->max_users = o->max_users ? o->max_users : 100000;
    for (int i = 0; i < 2; i++) {
        p->bs[i].batch = sg_store_batch_new(o->store);
        sg_arena_init(&p->bs[i].arena, 1 << 20);
        sg_buf_init(&p->bs[i].ubuf);
        sg_buf_init(&p->bs[i].obuf);
    }
    p->cur = &p->bs[0];
    writer_start(p);
    sg_buf_init(&p->scratch);
    sg_buf_init(&p->anom);
    sg_findings_init(&p->fs);
    sg_arena_init(&p->roll_arena, 1 << 16);
    p->cap = 1024;
    p->slots = sg_xcalloc(p->cap, sizeof *p->slots);
    register_metrics(p);
    sg_store_stats_each(o->store, load_stat, p);
    restage(p);
    if (o->outbox_ready) { /* seqs continue after the stored records (sent again by the caller) */
        struct seq_span sp = {0, 0, 0};
        sg_store_outbox_each(o->store, seq_span_add, &sp);
        p->ob_next = sp.n ? sp.last + 1 : 0;
        p->ob_below = p->ob_staged = sp.n ? sp.first : 0;
    }
    *out = p;
    return SG_OK;
}

static void entry_free(struct uentry *e)
{
    sg_rolling_free(e->roll);
    free(e->user);
    free(e);
}

static void free_cache(struct sg_pipeline *p)
{
    for (size_t i = 0; i < p->cap; i++) {
        if (p->slots[i]) {
            entry_free(p->slots[i]);
            p->slots[i] = NULL;
        }
    }
    p->count = 0;
    p->ndirty = 0;
}

void sg_pipeline_free(struct sg_pipeline *p)
{
    if (!p)
        return;
    sg_pipeline_sync(p);
    writer_stop(p);
    free_cache(p);
    free(p->slots);
    free(p->dirty);
    free(p->offs);
    for (int i = 0; i < 2; i++) {
        struct bstate *b = &p->bs[i];
        free(b->ev_ts);
        free(b->msg_ts);
        free(b->arr_ns);
        free(b->ids);
        free(b->id_ptrs);
        free(b->us);
        free(b->sev);
        sg_buf_release(&b->ubuf);
        sg_buf_release(&b->obuf);
        sg_store_batch_free(b->batch);
        sg_arena_release(&b->arena);
    }
    for (size_t i = 0; i < p->stats.nreasons; i++)
        free(p->stats.reasons[i].name);
    sg_buf_release(&p->scratch);
    sg_buf_release(&p->anom);
    sg_findings_release(&p->fs);
    sg_arena_release(&p->roll_arena);
    free(p);
}

size_t sg_pipeline_pending(const struct sg_pipeline *p)
{
    return p->cur->pending;
}

struct sg_pipeline_totals sg_pipeline_totals(const struct sg_pipeline *p)
{
    struct sg_pipeline_totals t = p->totals;
    t.processing_p99_s = sg_histogram_quantile(p->m.detect, 0.99);
    t.e2e_p50_s = sg_histogram_quantile(p->m.e2e, 0.50);
    t.e2e_p99_s = sg_histogram_quantile(p->m.e2e, 0.99);
    t.in_stream_p50_s = sg_histogram_quantile(p->m.in_stream, 0.50);
    t.in_stream_p99_s = sg_histogram_quantile(p->m.in_stream, 0.99);
    return t;
}

/* ---- user cache ------------------------------------------------------------------------- */

static void cache_insert_slot(struct sg_pipeline *p, struct uentry *e)
{
    size_t mask = p->cap - 1;
    size_t i = e->hash & mask;
    while (p->slots[i])
        i = (i + 1) & mask;
    p->slots[i] = e;
}

static void cache_rehash(struct sg_pipeline *p, size_t newcap)
{
    struct uentry **old = p->slots;
    size_t oldcap = p->cap;
    p->slots = sg_xcalloc(newcap, sizeof *p->slots);
    p->cap = newcap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            cache_insert_slot(p, old[i]);
    free(old);
}

/* Returns the user's cached profile, loading it from the store (or creating it, warm-started
 * from the batch model's baseline when there is one, as of `ts`) if needed. */
static struct uentry *user_get(struct sg_pipeline *p, const char *user, size_t ul, int64_t ts,
                               int *rc)
{
    uint64_t h = sg_hash_bytes(user, ul, HSEED);
    size_t mask = p->cap - 1;
    for (size_t i = h & mask; p->slots[i]; i = (i + 1) & mask) {
        struct uentry *e = p->slots[i];
        if (e->hash == h && e->ulen == ul && memcmp(e->user, user, ul) == 0)
            return e;
    }
    struct uentry *e = sg_xcalloc(1, sizeof *e);
    e->user = sg_xstrndup(user, ul);
    e->ulen = (uint32_t)ul;
    e->hash = h;
    int r = sg_store_user_get(p->o.store, user, ul, &p->scratch);
    if (r == SG_OK) {
        if (sg_user_decode(&e->st, p->scratch.data, p->scratch.len) != SG_OK)
            sg_log_ratelimited(SG_LOG_WARN, 1, "profile of user '%.*s' is corrupt; relearning",
                               (int)ul, user);
    } else if (r == SG_ERR_NOTFOUND) {
        sg_user_init(&e->st);
        p->stats.users++;
        const struct sg_baseline *b =
            p->o.model ? sg_model_baseline(sg_modelwatch_get(p->o.model), user, ul) : NULL;
        if (b) {
            sg_user_warm_start(&e->st, b, ts, 100);
            p->stats.warm_started++;
        }
    } else {
        free(e->user);
        free(e);
        *rc = r;
        return NULL;
    }
    if ((p->count + 1) * 2 > p->cap)
        cache_rehash(p, p->cap * 2);
    cache_insert_slot(p, e);
    p->count++;
    return e;
}

static void mark_dirty(struct sg_pipeline *p, struct uentry *e)
{
    e->batch = p->batch_no;
    if (e->dirty)
        return;
    e->dirty = 1;
    p->dirty = sg_xgrow(p->dirty, &p->dirty_cap, p->ndirty + 1, sizeof *p->dirty);
    p->dirty[p->ndirty++] = e;
}

static int older(const void *a, const void *b)
{
    const struct uentry *x = *(struct uentry *const *)a, *y = *(struct uentry *const *)b;
    return (x->batch > y->batch) - (x->batch < y->batch);
}

/* Refills the table with exactly these n entries (after others were freed). */
static void cache_refill(struct sg_pipeline *p, struct uentry **keep, size_t n)
{
    memset(p->slots, 0, p->cap * sizeof *p->slots);
    for (size_t i = 0; i < n; i++)
        cache_insert_slot(p, keep[i]);
    p->count = n;
}

/* Keeps memory bounded: when over max_users, drops the least recently used profiles. Only
 * profiles whose last change is already in the store (batch < batch_no, nothing in flight)
 * may go; they are reloaded from the store when their user comes back. */
static void cache_evict(struct sg_pipeline *p)
{
    if (p->count <= p->max_users || p->inflight)
        return;
    struct uentry **all = sg_xmalloc(p->count * sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < p->cap; i++)
        if (p->slots[i])
            all[n++] = p->slots[i];
    qsort(all, n, sizeof *all, older);
    size_t drop = n - p->max_users * 3 / 4;
    for (size_t i = 0; i < drop; i++)
        if (all[i]->batch >= p->batch_no || all[i]->dirty) {
            drop = i; /* sorted: everything after is at least as recent */
            break;
        }
    for (size_t i = 0; i < drop; i++)
        entry_free(all[i]);
    cache_refill(p, all + drop, n - drop);
    free(all);
}

size_t sg_pipeline_forget_partition(struct sg_pipeline *p, int32_t partition)
{
    if (p->inflight)
        return 0; /* its profiles may not be in the store yet: sg_pipeline_sync first */
    struct uentry **keep = sg_xmalloc((p->count + 1) * sizeof *keep);
    size_t n = 0, dropped = 0;
    for (size_t i = 0; i < p->cap; i++) {
        struct uentry *e = p->slots[i];
        if (!e)
            continue;
        if (e->st.partition == partition && !e->dirty) {
            entry_free(e);
            dropped++;
        } else {
            keep[n++] = e;
        }
    }
    if (dropped)
        cache_refill(p, keep, n);
    free(keep);
    return dropped;
}

/* ---- batch bookkeeping ------------------------------------------------------------------ */

static void note_offset(struct sg_pipeline *p, const struct sg_msg *m)
{
    for (size_t i = 0; i < p->noffs; i++) {
        struct offset *o = &p->offs[i];
        if (o->partition == m->partition &&
            (o->source == m->source || strcmp(o->src, m->source) == 0)) {
            if (m->offset + 1 > o->next)
                o->next = m->offset + 1;
            return;
        }
    }
    p->offs = sg_xgrow(p->offs, &p->offs_cap, p->noffs + 1, sizeof *p->offs);
    struct offset *o = &p->offs[p->noffs++];
    o->source = m->source;
    snprintf(o->src, sizeof o->src, "%s", m->source);
    o->partition = m->partition;
    o->next = m->offset + 1;
}

/* 1 if `id` is in b's id table. */
static int ids_has(const struct bstate *b, const struct sg_str *id, uint64_t h)
{
    if (!b->nids)
        return 0;
    size_t mask = b->ids_cap - 1;
    for (size_t j = h & mask; b->id_ptrs[j]; j = (j + 1) & mask)
        if (b->ids[j] == h && strcmp(b->id_ptrs[j], id->p) == 0)
            return 1;
    return 0;
}

/* 1 if the id was already seen in this batch or in the batch being written (not yet visible
 * in the store); otherwise remembers it and returns 0. The table holds up to half its size
 * and is cleared per batch. */
static int batch_seen(struct sg_pipeline *pp, const struct sg_str *id)
{
    uint64_t h = sg_hash_bytes(id->p, id->len, HSEED);
    if (pp->inflight && ids_has(pp->inflight, id, h))
        return 1;
    struct bstate *p = pp->cur;
    if ((p->nids + 1) * 2 > p->ids_cap) {
        size_t nc = p->ids_cap ? p->ids_cap * 2 : 4096;
        uint64_t *oh = p->ids;
        char **op = p->id_ptrs;
        size_t oc = p->ids_cap;
        p->ids = sg_xcalloc(nc, sizeof *p->ids);
        p->id_ptrs = sg_xcalloc(nc, sizeof *p->id_ptrs);
        p->ids_cap = nc;
        for (size_t i = 0; i < oc; i++) {
            if (!op[i])
                continue;
            size_t j = oh[i] & (nc - 1);
            while (p->id_ptrs[j])
                j = (j + 1) & (nc - 1);
            p->ids[j] = oh[i];
            p->id_ptrs[j] = op[i];
        }
        free(oh);
        free(op);
    }
    size_t mask = p->ids_cap - 1, j = h & mask;
    for (; p->id_ptrs[j]; j = (j + 1) & mask)
        if (p->ids[j] == h && strcmp(p->id_ptrs[j], id->p) == 0)
            return 1;
    p->ids[j] = h;
    p->id_ptrs[j] = sg_arena_strndup(&p->arena, id->p, id->len); /* message may be freed */
    p->nids++;
    return 0;
}

static void note_ts(struct sg_pipeline *pp, int64_t ev_ts, int64_t msg_ts, int64_t arr_ns)
{
    struct bstate *p = pp->cur;
    if (p->nts == p->ts_cap) {
        size_t c = p->ts_cap;
        p->ev_ts = sg_xgrow(p->ev_ts, &c, p->nts + 1, sizeof *p->ev_ts);
        c = p->ts_cap;
        p->msg_ts = sg_xgrow(p->msg_ts, &c, p->nts + 1, sizeof *p->msg_ts);
        c = p->ts_cap;
        p->arr_ns = sg_xgrow(p->arr_ns, &c, p->nts + 1, sizeof *p->arr_ns);
        p->ts_cap = c;
    }
    p->ev_ts[p->nts] = ev_ts;
    p->msg_ts[p->nts] = msg_ts;
    p->arr_ns[p->nts] = arr_ns;
    p->nts++;
}

/* ---- per message ------------------------------------------------------------------------ */

static void emit_anomaly(struct sg_pipeline *p, const struct sg_event *ev, double score, int sev)
{
    struct sg_buf *b = &p->anom;
    const struct sg_findings *fs = &p->fs;
    sg_buf_reset(b);
    sg_anomaly_header(b, "speed", ev->ts_ms, ev->user.p, ev->user.len, ev->event_id.p,
                      ev->event_id.len);
    sg_buf_printf(b, ",\"event_type\":\"%s\",\"score\":", sg_event_type_name(ev->type));
    sg_buf_json_double(b, score);
    sg_buf_printf(b, ",\"severity\":\"%s\",\"reasons\":[", sg_detect_severity_name(sev));
    for (size_t i = 0; i < fs->n; i++)
        sg_buf_printf(b, "%s\"%s\"", i ? "," : "", fs->f[i].reason);
    sg_buf_puts(b, "],\"details\":{");
    for (size_t i = 0; i < fs->n; i++) {
        const struct sg_finding *f = &fs->f[i];
        sg_buf_printf(b, "%s\"%s\":{\"score\":", i ? "," : "", f->reason);
        sg_buf_json_double(b, f->score);
        if (f->detail_len) {
            sg_buf_putc(b, ',');
            sg_buf_append(b, fs->detail.data + f->detail_off, f->detail_len);
        }
        sg_buf_putc(b, '}');
    }
    sg_buf_puts(b, "},\"event\":");
    sg_buf_append(b, p->scratch.data, p->scratch.len); /* the canonical event */
    sg_buf_putc(b, '}');
    sg_store_batch_put_anomaly(p->cur->batch, ev->ts_ms, ev->event_id.p, ev->event_id.len, ev->user.p,
                               ev->user.len, sev, b->data, b->len);
    p->stats.anomalies[sev]++;
    sg_counter_inc(p->m.anom[sev]);
    for (size_t i = 0; i < fs->n; i++) {
        struct reason_stat *r = reason_stat(p, fs->f[i].reason);
        if (r) {
            r->n++;
            sg_counter_inc(r->metric);
        }
    }
    p->totals.anomalies++;
    if (p->o.alert)
        p->o.alert(p->o.sink_ctx, ev->user.p, ev->user.len, b->data, b->len);
}

static void invalid(struct sg_pipeline *p, const struct sg_msg *m, const struct sg_event_error *e)
{
    int r = e->reason > 0 && e->reason < SG_REASON_COUNT ? (int)e->reason : SG_REASON_INVALID_JSON;
    p->stats.invalid[r]++;
    sg_counter_inc(p->m.invalid[r]);
    p->totals.invalid++;
    if (p->o.dlq)
        p->o.dlq(p->o.sink_ctx, m, e);
}

/* Folds the event into the user's rolling features, building them from the store first when
 * the user is new to the cache or the model changed (every earlier event of the user is in
 * the store then: see cache_evict and model_changed). */
static int rolling_add(struct sg_pipeline *p, struct uentry *u, const struct sg_event *ev)
{
    const struct sg_model *m = sg_modelwatch_get(p->o.model);
    if (!u->roll) {
        u->roll = sg_rolling_new();
        int partial = 0;
        int rc = sg_rolling_rebuild(u->roll, &u->st, m, p->o.store, u->user, &p->roll_arena,
                                    &partial);
        if (rc != SG_OK) {
            sg_rolling_free(u->roll);
            u->roll = NULL;
            return rc;
        }
        if (partial)
            sg_log_ratelimited(SG_LOG_WARN, 60,
                               "rolling features of user '%s' were rebuilt from fewer events "
                               "than were folded (older ones expired - --retention is shorter "
                               "than the model's history - or the profile was restored from "
                               "the changelog without them)",
                               u->user);
    }
    sg_rolling_add(u->roll, &u->st, m, ev);
    return SG_OK;
}

static void duplicate(struct sg_pipeline *p)
{
    p->stats.duplicates++;
    p->totals.duplicates++;
    sg_counter_inc(p->m.dups);
}

/* Stages a new event for the batch's write, which encodes it (canonical JSON) and puts it with
 * its index entries: for a batch written by the writer thread that work overlaps the
 * processing of the next batch - the pipeline thread is what bounds a replay. The event's
 * strings are in the batch's arena already; the struct itself is copied there too (`ev`
 * lives in the pending array, reused). */
static void stage_event(struct bstate *b, const struct sg_event *ev, uint64_t seq)
{
    struct sg_event *copy = sg_arena_alloc(&b->arena, sizeof *copy);
    *copy = *ev;
    b->sev = sg_xgrow(b->sev, &b->sev_cap, b->nsev + 1, sizeof *b->sev);
    b->sev[b->nsev++] = (struct sevent){copy, seq};
}

/* Detection, profile update and staging of one new (not duplicate) event. */
static int process(struct sg_pipeline *p, const struct pend *q)
{
    const struct sg_event *ev = &q->ev;
    int rc = SG_OK;
    struct uentry *u = user_get(p, ev->user.p, ev->user.len, ev->ts_ms, &rc);
    if (!u)
        return rc;
    stage_event(p->cur, ev, u->st.n_events + 1);
    sg_detect_run(&u->st, ev, &p->o.params, &p->fs);
    if (p->fs.n) {
        double score = sg_detect_score(&p->fs);
        int sev = sg_detect_severity(score, p->o.params.threshold);
        if (sev >= 0) {
            sg_buf_reset(&p->scratch); /* the anomaly carries the canonical event */
            sg_event_encode(ev, &p->scratch);
            emit_anomaly(p, ev, score, sev);
            sg_user_note_anomaly(&u->st, ev->ts_ms, score);
        }
    }
    u->st.partition = q->partition;
    sg_user_update(&u->st, ev);
    if (p->o.model) {
        rc = rolling_add(p, u, ev);
        if (rc != SG_OK)
            return rc;
    }
    mark_dirty(p, u);
    p->stats.events++;
    p->stats.by_type[ev->type]++;
    p->totals.events++;
    sg_counter_inc(p->m.events[ev->type]);
    note_ts(p, ev->ts_ms, q->msg_ts_ms, q->arr_ns);
    return SG_OK;
}

/* Looks the pending events up in the store (one MultiGet) and processes them in order. The
 * processing-time histogram gets each event's own time plus its share of the lookup. */
static int drain(struct sg_pipeline *p)
{
    size_t n = p->npend;
    if (!n)
        return SG_OK;
    p->npend = 0;
    int64_t t0 = sg_time_mono_ns();
    for (size_t i = 0; i < n; i++) {
        p->pend_ids[i] = p->pend[i].ev.event_id.p;
        p->pend_lens[i] = p->pend[i].ev.event_id.len;
    }
    int rc = sg_store_events_seen(p->o.store, n, p->pend_ids, p->pend_lens, p->pend_seen);
    if (rc != SG_OK)
        return rc;
    int64_t t1 = sg_time_mono_ns(), share = (t1 - t0) / (int64_t)n;
    for (size_t i = 0; i < n; i++) {
        if (p->pend_seen[i]) {
            duplicate(p);
            continue;
        }
        if ((rc = process(p, &p->pend[i])) != SG_OK)
            return rc;
        int64_t t2 = sg_time_mono_ns();
        sg_histogram_observe(p->m.detect, (double)(p->pend[i].ns + share + t2 - t1) / 1e9);
        t1 = t2;
    }
    return SG_OK;
}

/* Producers must key events by user: a user's profile lives with its partition. An event
 * whose key is another (or none) is processed like any other, but its user's history is split
 * between partitions - and, with several stream processes, between stores - so it is counted
 * and logged for the operator to fix the producer. */
static void check_key(struct sg_pipeline *p, const struct sg_msg *m, const struct sg_event *ev)
{
    if (m->key && m->key_len == ev->user.len && !memcmp(m->key, ev->user.p, m->key_len))
        return;
    sg_counter_inc(p->m.key_mismatch[m->key != NULL]);
    if (m->key)
        sg_log_ratelimited(SG_LOG_WARN, 1,
                           "message %s[%d]@%lld: key '%.*s' is not its user '%.*s' (producers "
                           "must key events by user)",
                           m->source, (int)m->partition, (long long)m->offset,
                           (int)(m->key_len > 64 ? 64 : m->key_len), m->key, (int)ev->user.len,
                           ev->user.p);
    else
        sg_log_ratelimited(SG_LOG_WARN, 1,
                           "message %s[%d]@%lld: no key (producers must key events by user, "
                           "here '%.*s')",
                           m->source, (int)m->partition, (long long)m->offset, (int)ev->user.len,
                           ev->user.p);
}

int sg_pipeline_add(struct sg_pipeline *p, const struct sg_msg *m)
{
    int64_t t0 = sg_time_mono_ns();
    if (!p->totals.first_ns)
        p->totals.first_ns = t0;
    p->cur->pending++;
    note_offset(p, m);
    struct pend *q = &p->pend[p->npend];
    struct sg_event_error err;
    if (sg_event_decode(m->data, m->len, &q->ev, &p->cur->arena, &err) != SG_OK) {
        invalid(p, m, &err);
        return SG_OK;
    }
    if (m->check_key)
        check_key(p, m, &q->ev);
    if (batch_seen(p, &q->ev.event_id)) {
        duplicate(p);
        return SG_OK;
    }
    q->msg_ts_ms = m->msg_ts_ms;
    q->partition = m->partition;
    q->arr_ns = t0;
    q->ns = sg_time_mono_ns() - t0;
    return ++p->npend == PEND_MAX ? drain(p) : SG_OK;
}

/* ---- per batch -------------------------------------------------------------------------- */

/* Hands a stored batch's outbox records to the callback (the thread that wrote it). */
static void outbox_hand(struct sg_pipeline *p, const struct bstate *b)
{
    const uint8_t *q = (const uint8_t *)b->obuf.data, *end = q + b->obuf.len;
    int bad = 0; /* cannot happen: obuf holds what sg_pipeline_outbox_put wrote */
    while (q < end && !bad) {
        uint64_t seq = sg_varint_read(&q, end, &bad);
        size_t len = (size_t)sg_varint_read(&q, end, &bad);
        if (bad || len > (size_t)(end - q))
            break;
        p->o.outbox_ready(p->o.sink_ctx, seq, q, len);
        q += len;
    }
}

uint64_t sg_pipeline_outbox_put(struct sg_pipeline *p, const void *rec, size_t len)
{
    struct bstate *b = p->cur;
    uint64_t seq = p->ob_next++;
    sg_store_batch_put_outbox(b->batch, seq, rec, len);
    uint8_t h[2 * SG_VARINT_MAX];
    size_t hl = sg_varint_encode(seq, h);
    hl += sg_varint_encode(len, h + hl);
    sg_buf_append(&b->obuf, h, hl);
    sg_buf_append(&b->obuf, rec, len);
    return seq;
}

void sg_pipeline_outbox_delivered(struct sg_pipeline *p, uint64_t below)
{
    if (below > p->ob_below)
        p->ob_below = below;
}

int sg_pipeline_outbox_due(const struct sg_pipeline *p)
{
    return p->ob_below > p->ob_staged;
}

uint64_t sg_pipeline_outbox_next(const struct sg_pipeline *p)
{
    return p->ob_next;
}

uint64_t sg_pipeline_outbox_below(const struct sg_pipeline *p)
{
    return p->ob_below;
}

/* The write of one closed batch: encodes its changed profiles, writes it, then hands its
 * outbox records over. Run by the writer thread, or by the pipeline's own thread for small
 * batches (see INLINE_MAX). `done_ms`/`done_ns`: when the write returned. */
static int write_batch(struct sg_pipeline *p, struct bstate *b, int64_t *t_ns, int64_t *done_ms,
                       int64_t *done_ns)
{
    int64_t t0 = sg_time_mono_ns();
    for (size_t i = 0; i < b->nsev; i++) {
        const struct sg_event *ev = b->sev[i].ev;
        sg_buf_reset(&b->ubuf);
        sg_event_encode(ev, &b->ubuf);
        sg_store_batch_put_event(b->batch, ev->ts_ms, ev->event_id.p, ev->event_id.len, ev->user.p,
                                 ev->user.len, (int)ev->type, b->sev[i].seq, b->ubuf.data,
                                 b->ubuf.len);
    }
    for (size_t i = 0; i < b->nus; i++) {
        sg_buf_reset(&b->ubuf);
        sg_user_encode(&b->us[i].st, &b->ubuf);
        sg_store_batch_put_user(b->batch, b->us[i].user, b->us[i].ulen, b->ubuf.data,
                                b->ubuf.len);
    }
    int rc = sg_store_write(p->o.store, b->batch, p->o.sync);
    *done_ns = sg_time_mono_ns();
    *done_ms = sg_time_now_ms();
    *t_ns = *done_ns - t0;
    if (rc == SG_OK && b->obuf.len)
        outbox_hand(p, b);
    return rc;
}

static void *writer_main(void *arg)
{
    struct sg_pipeline *p = arg;
    struct writer *w = &p->w;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && (!w->job || w->done))
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        struct bstate *b = w->job;
        pthread_mutex_unlock(&w->mu);
        int64_t t, done_ms, done_ns;
        int rc = write_batch(p, b, &t, &done_ms, &done_ns);
        pthread_mutex_lock(&w->mu);
        w->rc = rc;
        w->t_ns = t;
        w->done_ms = done_ms;
        w->done_ns = done_ns;
        w->done = 1;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void writer_start(struct sg_pipeline *p)
{
    pthread_mutex_init(&p->w.mu, NULL);
    pthread_cond_init(&p->w.cv, NULL);
    if (pthread_create(&p->w.th, NULL, writer_main, p) != 0)
        abort(); /* like OOM: cannot continue without a thread */
}

static void writer_stop(struct sg_pipeline *p)
{
    pthread_mutex_lock(&p->w.mu);
    p->w.stop = 1;
    pthread_cond_broadcast(&p->w.cv);
    pthread_mutex_unlock(&p->w.mu);
    pthread_join(p->w.th, NULL);
    pthread_cond_destroy(&p->w.cv);
    pthread_mutex_destroy(&p->w.mu);
}

/* Clears a batch's buffers for reuse (its RocksDB batch is cleared by the write). */
static void bstate_reset(struct bstate *b)
{
    b->nts = 0;
    b->nsev = 0;
    b->pending = 0;
    b->nus = 0;
    sg_buf_reset(&b->obuf);
    if (b->nids) {
        memset(b->id_ptrs, 0, b->ids_cap * sizeof *b->id_ptrs);
        b->nids = 0;
    }
    sg_arena_reset(&b->arena);
}

/* Metrics of a batch that is now in the store; `now` (wall clock ms) and `now_ns`
 * (monotonic) are when its write returned. This may run much later, at the next flush or
 * sync: lags and the busy span are measured to the write, not to here. */
static void written(struct sg_pipeline *p, struct bstate *b, int64_t write_ns, int64_t now,
                    int64_t now_ns)
{
    sg_histogram_observe(p->m.write, (double)write_ns / 1e9);
    if (!b->pending) /* only outbox deletes (or counters): not a batch of messages */
        return;
    sg_histogram_observe(p->m.batch_size, (double)b->pending);
    sg_counter_inc(p->m.batches);
    for (size_t i = 0; i < b->nts; i++) {
        double lag = (double)(now - b->ev_ts[i]) / 1000.0;
        sg_histogram_observe(p->m.lag, lag < 0 ? 0 : lag);
        if (b->msg_ts[i] > 0) {
            double e2e = (double)(now - b->msg_ts[i]) / 1000.0;
            sg_histogram_observe(p->m.e2e, e2e < 0 ? 0 : e2e);
        }
        sg_histogram_observe(p->m.in_stream, (double)(now_ns - b->arr_ns[i]) / 1e9);
    }
    sg_gauge_set(p->m.watermark, (double)sg_store_watermark(p->o.store) / 1000.0);
    p->totals.batches++;
    p->totals.last_ns = now_ns;
}

/* A batch that was not written (its write failed, or the previous one's did): dropped, with
 * every cached profile (they may contain its events) so that a restart resumes from the
 * store's consistent state. Returns rc. */
static int not_written(struct sg_pipeline *p, struct bstate *b, int rc)
{
    sg_store_batch_clear(b->batch);
    bstate_reset(b);
    free_cache(p);
    restage(p); /* not stored: every counter again */
    return rc;
}

/* Waits for the batch being written (if any); returns its status. On failure nothing of it
 * was written: every cached profile is dropped (they may contain its events) so that a
 * restart resumes from the store's consistent state. */
static int wait_inflight(struct sg_pipeline *p)
{
    struct bstate *b = p->inflight;
    if (!b)
        return SG_OK;
    pthread_mutex_lock(&p->w.mu);
    while (!p->w.done)
        pthread_cond_wait(&p->w.cv, &p->w.mu);
    int rc = p->w.rc;
    int64_t t = p->w.t_ns, done_ms = p->w.done_ms, done_ns = p->w.done_ns;
    p->w.job = NULL;
    p->w.done = 0;
    pthread_mutex_unlock(&p->w.mu);
    p->inflight = NULL;
    if (rc != SG_OK)
        return not_written(p, b, rc);
    written(p, b, t, done_ms, done_ns);
    bstate_reset(b);
    return SG_OK;
}

int sg_pipeline_sync(struct sg_pipeline *p)
{
    int rc = wait_inflight(p);
    if (rc == SG_OK) {
        cache_evict(p);
        sg_gauge_set(p->m.users_cached, (double)p->count);
    }
    return rc;
}

/* A newer model is in service: every cached user's rolling features are rebuilt for it, from
 * the store, at the user's next event - so everything written so far must be in the store. */
static int model_changed(struct sg_pipeline *p)
{
    int rc = wait_inflight(p);
    if (rc != SG_OK)
        return rc;
    for (size_t i = 0; i < p->cap; i++)
        if (p->slots[i]) {
            sg_rolling_free(p->slots[i]->roll);
            p->slots[i]->roll = NULL;
        }
    return SG_OK;
}

int sg_pipeline_flush(struct sg_pipeline *p)
{
    struct bstate *b = p->cur;
    if (!b->pending && !p->ndirty && !sg_pipeline_outbox_due(p))
        return SG_OK;
    int rc = drain(p);
    if (rc == SG_OK && p->o.sink_flush)
        rc = p->o.sink_flush(p->o.sink_ctx, b->batch);
    if (rc != SG_OK)
        return rc; /* like a failed sg_pipeline_add: the caller stops, the batch is dropped */
    b->us = sg_xgrow(b->us, &b->us_cap, p->ndirty, sizeof *b->us);
    for (size_t i = 0; i < p->ndirty; i++) {
        struct uentry *e = p->dirty[i];
        struct ustage *u = &b->us[b->nus++];
        u->user = sg_arena_strndup(&b->arena, e->user, e->ulen);
        u->ulen = e->ulen;
        u->st = e->st;
        e->dirty = 0;
    }
    p->ndirty = 0;
    for (size_t i = 0; i < p->noffs; i++)
        sg_store_batch_put_offset(b->batch, p->offs[i].src, p->offs[i].partition,
                                  p->offs[i].next);
    p->noffs = 0;
    if (sg_pipeline_outbox_due(p)) { /* delivered records leave the store */
        sg_store_batch_del_outbox(b->batch, p->ob_below - 1);
        p->ob_staged = p->ob_below;
    }
    stage_stats(p);
    /* the previous batch must be in the store before this one goes (order = offsets order) */
    rc = wait_inflight(p);
    if (rc != SG_OK)
        return not_written(p, b, rc);
    /* profiles untouched since before the written batch can be dropped now */
    cache_evict(p);
    b->batch_no = p->batch_no++;
    if (b->pending <= INLINE_MAX) { /* small: written here, no thread hop */
        int64_t t, done_ms, done_ns;
        rc = write_batch(p, b, &t, &done_ms, &done_ns);
        if (rc != SG_OK)
            return not_written(p, b, rc);
        written(p, b, t, done_ms, done_ns);
        bstate_reset(b);
        cache_evict(p);
    } else {
        pthread_mutex_lock(&p->w.mu);
        p->w.job = b;
        p->w.done = 0;
        pthread_cond_broadcast(&p->w.cv);
        pthread_mutex_unlock(&p->w.mu);
        p->inflight = b;
        p->cur = b == &p->bs[0] ? &p->bs[1] : &p->bs[0];
    }
    if (p->o.model && sg_modelwatch_poll(p->o.model, 5000)) {
        rc = model_changed(p);
        if (rc != SG_OK)
            return rc;
    }
    sg_gauge_set(p->m.users_cached, (double)p->count);
    return SG_OK;
}
