/* sg_changelog: profile snapshots per partition through a Kafka topic (see sg_changelog.h). */
#include "speed/sg_changelog.h"

#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_event.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"
#include "core/sg_time.h"
#include "core/sg_varint.h"
#include "kafka/sg_kafka.h"
#include "speed/sg_user.h"

#define MAGIC "SGCL"
#define FORMAT 1
#define MAX_PARTS 4096
#define RESTORE_TIMEOUT_MS 60000

/* ---- wire format ---------------------------------------------------------------------------- */

void sg_changelog_put_header(struct sg_buf *out, uint64_t id, const char *source, const char *group,
                             int32_t partition, int64_t next_offset, uint32_t index, int last,
                             uint64_t count)
{
    sg_buf_append(out, MAGIC, 4);
    sg_buf_put_varint(out, FORMAT);
    sg_buf_put_varint(out, id);
    sg_buf_put_bytes(out, source, strlen(source));
    sg_buf_put_bytes(out, group, strlen(group));
    sg_buf_put_varint(out, (uint64_t)partition);
    sg_buf_put_varint(out, (uint64_t)next_offset);
    sg_buf_put_varint(out, index);
    sg_buf_put_varint(out, last ? 1 : 0);
    sg_buf_put_varint(out, count);
}

void sg_changelog_put_profile(struct sg_buf *out, const char *user, size_t ul, const void *blob,
                              size_t bl)
{
    sg_buf_put_bytes(out, user, ul);
    sg_buf_put_bytes(out, blob, bl);
}

int sg_changelog_chunk_decode(const void *data, size_t len, struct sg_changelog_chunk *c)
{
    memset(c, 0, sizeof *c);
    const uint8_t *p = data, *end = p + len, *s;
    if (len < 4 || memcmp(p, MAGIC, 4) != 0)
        return SG_ERR_FORMAT;
    p += 4;
    int bad = 0;
    if (sg_varint_read(&p, end, &bad) != FORMAT || bad)
        return SG_ERR_FORMAT;
    c->id = sg_varint_read(&p, end, &bad);
    size_t sl;
    if (bad || !sg_varint_read_bytes(&p, end, &s, &sl))
        return SG_ERR_FORMAT;
    c->source = (const char *)s;
    c->source_len = sl;
    if (!sg_varint_read_bytes(&p, end, &s, &sl))
        return SG_ERR_FORMAT;
    c->group = (const char *)s;
    c->group_len = sl;
    uint64_t part = sg_varint_read(&p, end, &bad);
    uint64_t next = sg_varint_read(&p, end, &bad);
    uint64_t index = sg_varint_read(&p, end, &bad);
    uint64_t last = sg_varint_read(&p, end, &bad);
    c->count = sg_varint_read(&p, end, &bad);
    if (bad || part >= MAX_PARTS || next > (uint64_t)INT64_MAX || index > UINT32_MAX || last > 1)
        return SG_ERR_FORMAT;
    c->partition = (int32_t)part;
    c->next_offset = (int64_t)next;
    c->index = (uint32_t)index;
    c->last = (int)last;
    c->profiles = p;
    c->end = end;
    for (uint64_t i = 0; i < c->count; i++) { /* every pair must be in bounds */
        size_t n;
        if (!sg_varint_read_bytes(&p, end, &s, &n) || !sg_varint_read_bytes(&p, end, &s, &n))
            return SG_ERR_FORMAT;
    }
    return p == end ? SG_OK : SG_ERR_FORMAT;
}

void sg_changelog_chunk_each(const struct sg_changelog_chunk *c,
                             void (*fn)(void *ctx, const char *user, size_t ul, const void *blob,
                                        size_t bl),
                             void *ctx)
{
    const uint8_t *p = c->profiles, *u, *b;
    size_t ul, bl;
    for (uint64_t i = 0; i < c->count; i++) {
        if (!sg_varint_read_bytes(&p, c->end, &u, &ul) || !sg_varint_read_bytes(&p, c->end, &b, &bl))
            return; /* cannot happen after sg_changelog_chunk_decode */
        fn(ctx, (const char *)u, ul, b, bl);
    }
}

/* ---- choosing a snapshot -------------------------------------------------------------------- */

void sg_changelog_put_key(struct sg_buf *b, const char *group, const char *source, int32_t part,
                          int slot, uint32_t index)
{
    sg_buf_printf(b, "%s/%s/p%d/s%d/c%u", group, source, (int)part, slot, index);
}

int sg_changelog_key_slot(const void *key, size_t len)
{
    const char *k = key;
    size_t i = len; /* k[i..len) are the chunk number's digits */
    while (i > 0 && k[i - 1] >= '0' && k[i - 1] <= '9')
        i--;
    if (i == len || i < 5 || memcmp(k + i - 5, "/s", 2) != 0 || memcmp(k + i - 2, "/c", 2) != 0)
        return -1;
    return k[i - 3] == '0' || k[i - 3] == '1' ? k[i - 3] - '0' : -1;
}

struct kept {
    unsigned char *data; /* a copy of the message value */
    size_t len;
    int slot;                    /* from the message key, -1 if none */
    struct sg_changelog_chunk c; /* points into data */
    size_t order;                /* position in the log */
};

struct sg_changelog_pick {
    char *source, *group;
    int32_t partition;
    struct kept *k;
    size_t n, cap;
    size_t bytes, max_bytes; /* kept value bytes, and the bound (see bound_memory) */
    size_t seq;              /* values added so far: each one's position in the log */
    size_t refused, unusable, dropped;
    const struct kept **chosen; /* the chosen snapshot's chunks by index */
    size_t nchosen;
};

struct sg_changelog_pick *sg_changelog_pick_new(const char *source, const char *group,
                                                int32_t partition)
{
    struct sg_changelog_pick *p = sg_xcalloc(1, sizeof *p);
    p->source = sg_xstrdup(source);
    p->group = sg_xstrdup(group);
    p->partition = partition;
    p->max_bytes = SG_CHANGELOG_PICK_MAX_BYTES;
    return p;
}

void sg_changelog_pick_set_max_bytes(struct sg_changelog_pick *p, size_t max_bytes)
{
    p->max_bytes = max_bytes;
}

static int desc_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x > y ? -1 : x < y;
}

/* A compacted changelog holds at most two snapshots per partition; one whose cleanup policy
 * was left at "delete" holds every snapshot of its retention. Past max_bytes the chunks of
 * all but the PICK_KEEP highest offsets are dropped: the best usable snapshot is among them
 * unless that many newer ones in a row are incomplete. */
#define PICK_KEEP 4
static void bound_memory(struct sg_changelog_pick *p)
{
    if (p->bytes <= p->max_bytes)
        return;
    int64_t *offs = sg_xmalloc(p->n * sizeof *offs);
    for (size_t i = 0; i < p->n; i++)
        offs[i] = p->k[i].c.next_offset;
    qsort(offs, p->n, sizeof *offs, desc_i64);
    size_t distinct = 0;
    int64_t floor = offs[0];
    for (size_t i = 0; i < p->n && distinct < PICK_KEEP; i++)
        if (i == 0 || offs[i] != offs[i - 1]) {
            distinct++;
            floor = offs[i];
        }
    free(offs);
    size_t w = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->k[i].c.next_offset < floor) {
            p->bytes -= p->k[i].len;
            p->dropped++;
            free(p->k[i].data);
            continue;
        }
        p->k[w++] = p->k[i];
    }
    p->n = w;
}

void sg_changelog_pick_free(struct sg_changelog_pick *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->k[i].data);
    free(p->k);
    free(p->chosen);
    free(p->source);
    free(p->group);
    free(p);
}

int sg_changelog_pick_add(struct sg_changelog_pick *p, const void *key, size_t keylen,
                          const void *value, size_t len)
{
    struct sg_changelog_chunk c;
    if (sg_changelog_chunk_decode(value, len, &c) != SG_OK || c.partition != p->partition ||
        c.source_len != strlen(p->source) || memcmp(c.source, p->source, c.source_len) != 0 ||
        c.group_len != strlen(p->group) || memcmp(c.group, p->group, c.group_len) != 0) {
        p->refused++;
        return SG_ERR_FORMAT;
    }
    p->k = sg_xgrow(p->k, &p->cap, p->n + 1, sizeof *p->k);
    struct kept *k = &p->k[p->n];
    k->data = sg_xmalloc(len ? len : 1);
    memcpy(k->data, value, len);
    k->len = len;
    k->slot = key ? sg_changelog_key_slot(key, keylen) : -1;
    sg_changelog_chunk_decode(k->data, len, &k->c); /* re-point into the copy */
    k->order = p->seq++;
    p->n++;
    p->bytes += len;
    bound_memory(p);
    return SG_OK;
}

/* Chunks of one snapshot: by id, then index, then log position (a re-sent chunk: the later). */
static int by_snapshot(const void *a, const void *b)
{
    const struct kept *x = a, *y = b;
    if (x->c.id != y->c.id)
        return x->c.id < y->c.id ? -1 : 1;
    if (x->c.index != y->c.index)
        return x->c.index < y->c.index ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

struct check {
    int32_t partition;
    int ok;
};

static void check_profile(void *ctx, const char *user, size_t ul, const void *blob, size_t bl)
{
    struct check *ck = ctx;
    struct sg_user_state u;
    if (ul == 0 || sg_user_decode(&u, blob, bl) != SG_OK || u.partition != ck->partition)
        ck->ok = 0;
    (void)user;
}

/* Whether the snapshot in k[lo..hi) (sorted by_snapshot) is complete and sound: fills
 * p->chosen with one chunk per index 0..last. */
static int usable(struct sg_changelog_pick *p, size_t lo, size_t hi)
{
    p->nchosen = 0;
    free(p->chosen);
    p->chosen = sg_xcalloc(hi - lo, sizeof *p->chosen);
    int64_t next = p->k[lo].c.next_offset;
    int last = 0;
    for (size_t i = lo; i < hi; i++) {
        const struct kept *k = &p->k[i];
        if (k->c.next_offset != next)
            return 0; /* one id, two offsets: not something we wrote */
        if (k->c.index == p->nchosen) {
            p->chosen[p->nchosen++] = k;
        } else if (k->c.index + 1 == p->nchosen) {
            p->chosen[p->nchosen - 1] = k; /* the same chunk again: the later copy */
        } else {
            return 0; /* a gap */
        }
    }
    for (size_t i = 0; i < p->nchosen; i++)
        if (p->chosen[i]->c.last) {
            if (i + 1 != p->nchosen)
                return 0; /* chunks after the one marked last */
            last = 1;
        }
    if (!last)
        return 0;
    struct check ck = {p->partition, 1};
    for (size_t i = 0; i < p->nchosen && ck.ok; i++)
        sg_changelog_chunk_each(&p->chosen[i]->c, check_profile, &ck);
    return ck.ok;
}

int sg_changelog_pick_best(struct sg_changelog_pick *p, int64_t *next_offset, size_t *profiles)
{
    if (p->n)
        qsort(p->k, p->n, sizeof *p->k, by_snapshot);
    /* candidates: each snapshot id's range, best = highest offset, then latest in the log */
    size_t best_lo = 0, best_hi = 0;
    int found = 0;
    int64_t best_next = -1;
    size_t best_order = 0;
    p->unusable = 0;
    for (size_t lo = 0; lo < p->n;) {
        size_t hi = lo + 1, last_order = p->k[lo].order;
        while (hi < p->n && p->k[hi].c.id == p->k[lo].c.id) {
            if (p->k[hi].order > last_order)
                last_order = p->k[hi].order;
            hi++;
        }
        if (!usable(p, lo, hi)) {
            p->unusable += hi - lo;
        } else if (!found || p->k[lo].c.next_offset > best_next ||
                   (p->k[lo].c.next_offset == best_next && last_order > best_order)) {
            found = 1;
            best_lo = lo;
            best_hi = hi;
            best_next = p->k[lo].c.next_offset;
            best_order = last_order;
        }
        lo = hi;
    }
    if (!found) {
        p->nchosen = 0;
        return SG_ERR_NOTFOUND;
    }
    usable(p, best_lo, best_hi); /* refills p->chosen */
    size_t n = 0;
    for (size_t i = 0; i < p->nchosen; i++)
        n += (size_t)p->chosen[i]->c.count;
    *next_offset = best_next;
    *profiles = n;
    return SG_OK;
}

int sg_changelog_pick_slot(const struct sg_changelog_pick *p)
{
    return p->nchosen ? p->chosen[p->nchosen - 1]->slot : -1;
}

void sg_changelog_pick_each(const struct sg_changelog_pick *p,
                            void (*fn)(void *ctx, const char *user, size_t ul, const void *blob,
                                       size_t bl),
                            void *ctx)
{
    for (size_t i = 0; i < p->nchosen; i++)
        sg_changelog_chunk_each(&p->chosen[i]->c, fn, ctx);
}

void sg_changelog_pick_stats(const struct sg_changelog_pick *p, size_t *chunks, size_t *refused,
                             size_t *unusable)
{
    *chunks = p->seq;
    *refused = p->refused;
    *unusable = p->unusable + p->dropped;
}

/* ---- the Kafka side ------------------------------------------------------------------------- */

struct part_pub {
    struct sg_buf buf; /* the chunk being filled: its profiles */
    uint64_t count;
    uint32_t index;
    int64_t next;
    unsigned char slot; /* the key slot this round writes */
    int active;         /* collecting this round's chunks */
    int sent;   /* its last chunk is produced: waiting for the acknowledgement */
};

struct sg_changelog {
    struct sg_changelog_opts o;
    char *topic, *source, *group, *brokers;
    rd_kafka_t *prod;
    struct sg_rng rng;
    pthread_mutex_t pub_mu; /* one publication at a time (thread, revoke) */
    pthread_mutex_t own_mu; /* owned, republish */
    pthread_mutex_t write_mu; /* restores write one at a time (the store's watermark) */
    unsigned char owned[MAX_PARTS];
    unsigned char republish[MAX_PARTS]; /* assigned since the last publication */
    /* the key slot of the last complete snapshot: ours once acknowledged, or the one a
     * restore found (atomic: restores run on their own threads) */
    atomic_uchar slot[MAX_PARTS];
    /* the next offset of each partition's last acknowledged snapshot (-1 none): a partition
     * that consumed nothing since is not published again */
    int64_t published[MAX_PARTS];
    /* per changelog partition: the offset after the last chunk this process wrote there. A
     * high watermark still equal to it means nobody published since: no newer snapshot. */
    _Atomic int64_t written_end[MAX_PARTS];
    struct part_pub *pp; /* per partition, during a publication */
    atomic_long failed;  /* delivery failures of the running publication */
    struct sg_buf msg, key;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    struct sg_counter *published_total, *errors, *restored_users, *restores, *restored_ids;
    struct sg_counter *undecodable_inputs;
    struct sg_counter *ignored[2]; /* chunks a restore read and did not use (see below) */
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct sg_changelog *cl = opaque;
    if (m->err) {
        atomic_fetch_add(&cl->failed, 1);
        sg_log_ratelimited(SG_LOG_WARN, 1, "changelog: delivery to %s failed: %s", cl->topic,
                           rd_kafka_err2str(m->err));
    } else if (m->partition >= 0 && m->partition < MAX_PARTS && m->offset >= 0) {
        int64_t end = m->offset + 1;
        if (end > atomic_load(&cl->written_end[m->partition]))
            atomic_store(&cl->written_end[m->partition], end);
    }
}

/* A topic's partition count; a topic that is missing (or has none) is a configuration
 * error here: exit 2 with the fix (see sg_changelog_new). */
static int partition_count(rd_kafka_t *rk, const char *topic, int *n, char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md;
    int rc = sg_kafka_topic_metadata(rk, topic, 5000, &md, err, errlen);
    if (rc != SG_OK)
        return rc == SG_ERR_NOTFOUND ? SG_ERR_CONFIG : rc;
    *n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    return SG_OK;
}

int sg_changelog_new(const struct sg_changelog_opts *o, struct sg_changelog **out, char *errbuf,
                     size_t errlen)
{
    *out = NULL;
    rd_kafka_conf_t *conf = sg_kafka_conf_new(o->cfg, o->brokers, errbuf, errlen);
    if (!conf)
        return SG_ERR_CONFIG;
    if (sg_kafka_conf_set(conf, "enable.idempotence", "true", errbuf, errlen) != SG_OK) {
        rd_kafka_conf_destroy(conf);
        return SG_ERR_CONFIG;
    }
    struct sg_changelog *cl = sg_xcalloc(1, sizeof *cl);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, cl);
    cl->prod = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errbuf, errlen);
    if (!cl->prod) {
        rd_kafka_conf_destroy(conf);
        free(cl);
        return SG_ERR_CONFIG;
    }
    cl->o = *o;
    cl->topic = sg_xstrdup(o->topic);
    cl->source = sg_xstrdup(o->source);
    cl->group = sg_xstrdup(o->group);
    cl->brokers = o->brokers ? sg_xstrdup(o->brokers) : NULL;
    cl->o.topic = cl->topic;
    cl->o.source = cl->source;
    cl->o.group = cl->group;
    cl->o.brokers = cl->brokers;
    sg_rng_seed(&cl->rng, (uint64_t)sg_time_mono_ns() ^ ((uint64_t)(uintptr_t)cl << 16));
    pthread_mutex_init(&cl->pub_mu, NULL);
    pthread_mutex_init(&cl->own_mu, NULL);
    pthread_mutex_init(&cl->mu, NULL);
    pthread_mutex_init(&cl->write_mu, NULL);
    pthread_cond_init(&cl->cv, NULL);
    sg_buf_init(&cl->msg);
    sg_buf_init(&cl->key);
    cl->pp = sg_xcalloc(MAX_PARTS, sizeof *cl->pp);
    for (int i = 0; i < MAX_PARTS; i++) {
        cl->published[i] = -1;
        atomic_init(&cl->written_end[i], -1);
    }
    const char *none[] = {NULL};
    cl->published_total =
        sg_metrics_counter(o->metrics, "streamguard_stream_changelog_snapshots_total",
                           "partition snapshots published to the changelog", none);
    cl->errors = sg_metrics_counter(o->metrics, "streamguard_stream_changelog_errors_total",
                                    "changelog publications or restores that failed", none);
    cl->restores = sg_metrics_counter(o->metrics, "streamguard_stream_changelog_restores_total",
                                      "partitions restored from the changelog", none);
    cl->restored_users =
        sg_metrics_counter(o->metrics, "streamguard_stream_changelog_restored_profiles_total",
                           "user profiles restored from the changelog", none);
    cl->restored_ids = sg_metrics_counter(
        o->metrics, "streamguard_stream_changelog_restored_event_ids_total",
        "event ids read from the input messages before restored snapshots, for de-duplication",
        none);
    cl->undecodable_inputs = sg_metrics_counter(
        o->metrics, "streamguard_stream_changelog_undecodable_inputs_total",
        "input messages before restored snapshots that do not decode: no event id to note (the "
        "process that consumed them dead-lettered them)",
        none);
    static const char *const why[2] = {"foreign", "unusable"};
    for (int i = 0; i < 2; i++)
        cl->ignored[i] = sg_metrics_counter(
            o->metrics, "streamguard_stream_changelog_ignored_chunks_total",
            "changelog messages a restore read and ignored: not snapshot chunks of this group's "
            "partition (foreign: another group or topic, or not a chunk at all), or chunks of "
            "incomplete or unsound snapshots (unusable)",
            (const char *[]){"reason", why[i], NULL});
    *out = cl;
    /* the topic must exist with the input topic's partition count: a snapshot of partition P
     * goes to changelog partition P, where the next owner of P looks for it */
    int ncl = 0, nin = 0;
    int rc = partition_count(cl->prod, cl->topic, &ncl, errbuf, errlen);
    if (rc == SG_OK)
        rc = partition_count(cl->prod, cl->source, &nin, errbuf, errlen);
    if (rc == SG_OK && ncl != nin) {
        snprintf(errbuf, errlen,
                 "changelog topic %s has %d partitions, the input topic %s has %d: they must "
                 "match (create it with %d partitions, cleanup.policy=compact)",
                 cl->topic, ncl, cl->source, nin, nin);
        rc = SG_ERR_CONFIG;
    }
    if (rc != SG_OK) {
        sg_changelog_free(cl);
        *out = NULL;
    }
    return rc;
}

void sg_changelog_own(struct sg_changelog *cl, int32_t partition, int owned)
{
    if (partition < 0 || partition >= MAX_PARTS)
        return;
    pthread_mutex_lock(&cl->own_mu);
    cl->owned[partition] = (unsigned char)(owned != 0);
    if (owned) /* whatever was published meanwhile, publish ours again */
        cl->republish[partition] = 1;
    pthread_mutex_unlock(&cl->own_mu);
}

/* Produces the partition's current chunk (copied by librdkafka). */
static int produce_chunk(struct sg_changelog *cl, uint64_t id, int32_t part, int last)
{
    struct part_pub *pp = &cl->pp[part];
    sg_buf_reset(&cl->msg);
    sg_changelog_put_header(&cl->msg, id, cl->source, cl->group, part, pp->next, pp->index, last,
                            pp->count);
    sg_buf_append(&cl->msg, pp->buf.data, pp->buf.len);
    sg_buf_reset(&cl->key);
    sg_changelog_put_key(&cl->key, cl->group, cl->source, part, pp->slot, pp->index);
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            cl->prod, RD_KAFKA_V_TOPIC(cl->topic), RD_KAFKA_V_PARTITION(part),
            RD_KAFKA_V_KEY(cl->key.data, cl->key.len), RD_KAFKA_V_VALUE(cl->msg.data, cl->msg.len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            sg_log_ratelimited(SG_LOG_WARN, 1, "changelog: produce to %s[%d] failed: %s", cl->topic,
                               (int)part, rd_kafka_err2str(e));
            return SG_ERR_KAFKA;
        }
        rd_kafka_poll(cl->prod, 50);
    }
    pp->index++;
    pp->count = 0;
    sg_buf_reset(&pp->buf);
    return SG_OK;
}

struct pub_ctx {
    struct sg_changelog *cl;
    uint64_t id;
    int rc;
};

static void collect(void *ctx, const char *user, size_t ul, const void *blob, size_t bl)
{
    struct pub_ctx *pc = ctx;
    int32_t part = sg_user_blob_partition(blob, bl);
    if (part < 0 || part >= MAX_PARTS || !pc->cl->pp[part].active)
        return;
    struct part_pub *pp = &pc->cl->pp[part];
    if (pp->count && pp->buf.len + ul + bl + 32 > SG_CHANGELOG_CHUNK_BYTES &&
        produce_chunk(pc->cl, pc->id, part, 0) != SG_OK)
        pc->rc = SG_ERR_KAFKA;
    sg_changelog_put_profile(&pp->buf, user, ul, blob, bl);
    pp->count++;
}

int sg_changelog_publish(struct sg_changelog *cl, const int32_t *parts, size_t n, int timeout_ms)
{
    if (!n)
        return SG_OK;
    pthread_mutex_lock(&cl->pub_mu);
    int64_t t0 = sg_time_mono_ms();
    struct sg_store_view *v = sg_store_view_new(cl->o.store);
    size_t active = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t part = parts[i];
        if (part < 0 || part >= MAX_PARTS)
            continue;
        struct part_pub *pp = &cl->pp[part];
        pthread_mutex_lock(&cl->own_mu);
        if (cl->republish[part])
            cl->published[part] = -1;
        cl->republish[part] = 0;
        pthread_mutex_unlock(&cl->own_mu);
        if (sg_store_view_offset(v, cl->source, part, &pp->next) != SG_OK)
            continue; /* nothing consumed from it yet: nothing to hand over */
        if (pp->next == cl->published[part])
            continue; /* nothing consumed since its last snapshot */
        pp->active = 1;
        pp->index = 0;
        pp->count = 0;
        sg_buf_reset(&pp->buf);
        /* into the slot that does not hold the last acknowledged snapshot; cl->slot moves
         * here only once this one is acknowledged, so a failed round is overwritten by the
         * next one, never the good snapshot. The restore on assignment set cl->slot from
         * the changelog, so this holds for the first round after a restart or a takeover. */
        pp->slot = (unsigned char)(atomic_load(&cl->slot[part]) ^ 1);
        active++;
    }
    atomic_store(&cl->failed, 0);
    struct pub_ctx pc = {cl, sg_rng_next(&cl->rng), SG_OK};
    size_t users = active ? sg_store_view_users_each(v, collect, &pc) : 0;
    sg_store_view_free(v);
    for (size_t i = 0; i < n; i++) {
        int32_t part = parts[i];
        if (part < 0 || part >= MAX_PARTS || !cl->pp[part].active)
            continue;
        if (produce_chunk(cl, pc.id, part, 1) != SG_OK)
            pc.rc = SG_ERR_KAFKA;
        cl->pp[part].active = 0;
        cl->pp[part].sent = 1;
        sg_buf_release(&cl->pp[part].buf);
    }
    int rc = pc.rc;
    if (active) {
        rd_kafka_resp_err_t e = rd_kafka_flush(cl->prod, timeout_ms);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR || atomic_load(&cl->failed))
            rc = SG_ERR_KAFKA;
        for (size_t i = 0; i < n; i++) {
            if (parts[i] < 0 || parts[i] >= MAX_PARTS || !cl->pp[parts[i]].sent)
                continue;
            if (rc == SG_OK) {
                cl->published[parts[i]] = cl->pp[parts[i]].next;
                atomic_store(&cl->slot[parts[i]], cl->pp[parts[i]].slot);
            }
            cl->pp[parts[i]].sent = 0;
        }
        if (rc == SG_OK) {
            sg_counter_add(cl->published_total, active);
            sg_log_debug("changelog: published %zu partition snapshot(s) (%zu profiles "
                         "scanned) in %lld ms",
                         active, users, (long long)(sg_time_mono_ms() - t0));
        } else {
            sg_counter_inc(cl->errors);
            sg_log_ratelimited(SG_LOG_WARN, 10,
                               "changelog: a snapshot of %zu partition(s) "
                               "was not acknowledged by Kafka; the next one retries",
                               active);
        }
    }
    pthread_mutex_unlock(&cl->pub_mu);
    return rc;
}

/* ---- background snapshots ----------------------------------------------------------------- */

static void *thread_main(void *arg)
{
    struct sg_changelog *cl = arg;
    int32_t *parts = sg_xmalloc(MAX_PARTS * sizeof *parts);
    pthread_mutex_lock(&cl->mu);
    while (!cl->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (cl->o.interval_ms % 1000) * 1000000;
        ts.tv_sec += cl->o.interval_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        while (!cl->stop && pthread_cond_timedwait(&cl->cv, &cl->mu, &ts) != ETIMEDOUT)
            ;
        if (cl->stop)
            break;
        pthread_mutex_unlock(&cl->mu);
        size_t n = 0;
        pthread_mutex_lock(&cl->own_mu);
        for (int32_t i = 0; i < MAX_PARTS; i++)
            if (cl->owned[i])
                parts[n++] = i;
        pthread_mutex_unlock(&cl->own_mu);
        sg_changelog_publish(cl, parts, n, 10000); /* a stop waits for it: keep it short */
        pthread_mutex_lock(&cl->mu);
    }
    pthread_mutex_unlock(&cl->mu);
    free(parts);
    return NULL;
}

void sg_changelog_start(struct sg_changelog *cl)
{
    if (cl->started || cl->o.interval_ms <= 0)
        return;
    if (pthread_create(&cl->thread, NULL, thread_main, cl) == 0)
        cl->started = 1;
    else
        sg_log_warn("changelog: cannot start the snapshot thread: snapshots on revoke only");
}

void sg_changelog_free(struct sg_changelog *cl)
{
    if (!cl)
        return;
    if (cl->started) {
        pthread_mutex_lock(&cl->mu);
        cl->stop = 1;
        pthread_cond_broadcast(&cl->cv);
        pthread_mutex_unlock(&cl->mu);
        pthread_join(cl->thread, NULL);
    }
    if (cl->prod) {
        rd_kafka_flush(cl->prod, 5000);
        rd_kafka_destroy(cl->prod);
    }
    pthread_cond_destroy(&cl->cv);
    pthread_mutex_destroy(&cl->mu);
    pthread_mutex_destroy(&cl->write_mu);
    pthread_mutex_destroy(&cl->own_mu);
    pthread_mutex_destroy(&cl->pub_mu);
    sg_buf_release(&cl->msg);
    sg_buf_release(&cl->key);
    free(cl->pp);
    free(cl->topic);
    free(cl->source);
    free(cl->group);
    free(cl->brokers);
    free(cl);
}

/* ---- restore -------------------------------------------------------------------------------- */

/* Reads partition `part` of `topic` from offset lo to hi (exclusive), calling fn for each
 * message. */
static int read_partition(struct sg_changelog *cl, const char *topic, int32_t part, int64_t lo,
                          int64_t hi, void (*fn)(void *ctx, const rd_kafka_message_t *m), void *ctx)
{
    char err[512];
    rd_kafka_conf_t *conf = sg_kafka_conf_new(cl->o.cfg, cl->o.brokers, err, sizeof err);
    if (!conf) {
        sg_log_warn("changelog: %s", err);
        return SG_ERR_CONFIG;
    }
    /* a plain reader: assigned, not subscribed; nothing committed */
    sg_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    sg_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof err);
    sg_kafka_conf_set(conf, "group.id", "streamguard-changelog-restore", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        sg_log_warn("changelog: %s", err);
        return SG_ERR_CONFIG;
    }
    int rc = SG_OK;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, part)->offset = lo;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    int64_t deadline = sg_time_mono_ms() + RESTORE_TIMEOUT_MS, at = lo;
    while (at < hi) {
        if (sg_time_mono_ms() > deadline) {
            sg_log_warn("changelog: reading %s[%d] timed out at offset %lld of %lld", topic,
                        (int)part, (long long)at, (long long)hi);
            rc = SG_ERR_KAFKA;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            at = hi; /* compaction can leave the high watermark past the last message */
        } else if (m->err) {
            sg_log_ratelimited(SG_LOG_WARN, 1, "changelog: reading %s[%d]: %s", topic, (int)part,
                               rd_kafka_message_errstr(m));
        } else {
            if (m->offset < hi)
                fn(ctx, m);
            at = m->offset + 1;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(rk, NULL);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

static void add_chunk(void *ctx, const rd_kafka_message_t *m)
{
    sg_changelog_pick_add(ctx, m->key, m->key_len, m->payload, m->len);
}

struct restore_ctx {
    struct sg_store_batch *b;
    size_t n, ids, undecodable;
    struct sg_arena arena;
};

/* An input message before the snapshot: its event id into the dedup index. A message that
 * does not decode was dead-lettered by the process that consumed it: nothing to note. */
static void note_event_id(void *ctx, const rd_kafka_message_t *m)
{
    struct restore_ctx *rc = ctx;
    struct sg_event ev;
    if (m->payload && sg_event_decode(m->payload, m->len, &ev, &rc->arena, NULL) == SG_OK) {
        sg_store_batch_put_event_id(rc->b, ev.ts_ms, ev.event_id.p, ev.event_id.len);
        rc->ids++;
    } else {
        rc->undecodable++;
    }
    sg_arena_reset(&rc->arena);
}

/* The ids of the input messages [from, to) of the partition into the restore's batch. */
static int note_event_ids(struct sg_changelog *cl, int32_t partition, int64_t from, int64_t to,
                          struct restore_ctx *rx)
{
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(cl->prod, cl->source, partition, &lo, &hi, 10000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        sg_log_warn("changelog: watermarks of %s[%d]: %s", cl->source, (int)partition,
                    rd_kafka_err2str(e));
        return SG_ERR_KAFKA;
    }
    if (from < lo)
        from = lo; /* older messages are gone from the topic */
    if (from >= to)
        return SG_OK;
    return read_partition(cl, cl->source, partition, from, to, note_event_id, rx);
}

static void put_profile(void *ctx, const char *user, size_t ul, const void *blob, size_t bl)
{
    struct restore_ctx *rc = ctx;
    sg_store_batch_put_user(rc->b, user, ul, blob, bl);
    rc->n++;
}

int sg_changelog_restore(struct sg_changelog *cl, int32_t partition, int64_t newer_than,
                         int64_t *next_offset)
{
    int64_t t0 = sg_time_mono_ms(), lo = 0, hi = 0;
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(cl->prod, cl->topic, partition, &lo, &hi, 10000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        sg_log_warn("changelog: watermarks of %s[%d]: %s", cl->topic, (int)partition,
                    rd_kafka_err2str(e));
        sg_counter_inc(cl->errors);
        return SG_ERR_KAFKA;
    }
    if (hi <= lo)
        return SG_ERR_NOTFOUND; /* empty */
    if (newer_than >= 0 && hi == atomic_load(&cl->written_end[partition]))
        return SG_ERR_NOTFOUND; /* our own snapshot is the last one: the store is as far */
    struct sg_changelog_pick *pick = sg_changelog_pick_new(cl->source, cl->group, partition);
    int rc = read_partition(cl, cl->topic, partition, lo, hi, add_chunk, pick);
    size_t profiles = 0, chunks, refused, unusable;
    if (rc == SG_OK)
        rc = sg_changelog_pick_best(pick, next_offset, &profiles);
    /* our next snapshot goes into the other slot than the last complete one, whoever wrote
     * it, restored or not: a crash while writing it then leaves that one whole */
    int slot = rc == SG_OK ? sg_changelog_pick_slot(pick) : -1;
    if (slot >= 0)
        atomic_store(&cl->slot[partition], (unsigned char)slot);
    if (rc == SG_OK && *next_offset <= newer_than)
        rc = SG_ERR_NOTFOUND; /* the store is as far as the snapshot or further */
    sg_changelog_pick_stats(pick, &chunks, &refused, &unusable);
    sg_counter_add(cl->ignored[0], refused);
    sg_counter_add(cl->ignored[1], unusable);
    if (refused || unusable)
        sg_log_info("changelog %s[%d]: %zu message(s) not snapshot chunks of group %s's "
                    "%s[%d], %zu chunk(s) of incomplete or unsound snapshots: ignored",
                    cl->topic, (int)partition, refused, cl->group, cl->source, (int)partition,
                    unusable);
    if (rc == SG_OK) {
        struct restore_ctx rx = {.b = sg_store_batch_new(cl->o.store)};
        sg_arena_init(&rx.arena, 64 * 1024);
        /* ids from the messages this store did not consume itself, at most dedup_messages */
        int64_t from = *next_offset - cl->o.dedup_messages;
        if (from < newer_than)
            from = newer_than;
        if (cl->o.dedup_messages > 0)
            rc = note_event_ids(cl, partition, from, *next_offset, &rx);
        sg_arena_release(&rx.arena);
        if (rc == SG_OK) {
            sg_changelog_pick_each(pick, put_profile, &rx);
            sg_store_batch_put_offset(rx.b, cl->source, partition, *next_offset);
            /* restores of several partitions run in parallel (sg_changelog_restore_many);
             * concurrent writes could store the watermark out of order */
            pthread_mutex_lock(&cl->write_mu);
            rc = sg_store_write(cl->o.store, rx.b, 1);
            pthread_mutex_unlock(&cl->write_mu);
        }
        sg_store_batch_free(rx.b);
        if (rc == SG_OK) {
            sg_counter_inc(cl->restores);
            sg_counter_add(cl->restored_users, rx.n);
            sg_counter_add(cl->restored_ids, rx.ids);
            sg_counter_add(cl->undecodable_inputs, rx.undecodable);
            sg_log_info("restored %s[%d] from changelog %s: %zu profiles, next offset %lld%s, "
                        "the event ids of %zu messages before it (%zu undecodable) for "
                        "de-duplication (%zu chunks read, %lld ms)",
                        cl->source, (int)partition, cl->topic, rx.n, (long long)*next_offset,
                        newer_than >= 0 ? " (this store had an older one)" : "", rx.ids,
                        rx.undecodable, chunks, (long long)(sg_time_mono_ms() - t0));
        }
    }
    if (rc != SG_OK && rc != SG_ERR_NOTFOUND)
        sg_counter_inc(cl->errors);
    sg_changelog_pick_free(pick);
    return rc;
}

struct restore_job {
    struct sg_changelog *cl;
    size_t n;
    const int32_t *parts;
    const int64_t *newer_than;
    int64_t *next_offset;
    int *rc;
    atomic_size_t next; /* the next partition to take */
};

static void *restore_worker(void *arg)
{
    struct restore_job *j = arg;
    for (size_t i; (i = atomic_fetch_add(&j->next, 1)) < j->n;)
        j->rc[i] = sg_changelog_restore(j->cl, j->parts[i], j->newer_than[i], &j->next_offset[i]);
    return NULL;
}

void sg_changelog_restore_many(struct sg_changelog *cl, size_t n, const int32_t *partitions,
                               const int64_t *newer_than, int64_t *next_offset, int *rc)
{
    struct restore_job j = {cl, n, partitions, newer_than, next_offset, rc, 0};
    pthread_t th[SG_CHANGELOG_RESTORE_THREADS];
    size_t started = 0;
    for (; n > 1 && started < SG_CHANGELOG_RESTORE_THREADS - 1 && started < n - 1; started++)
        if (pthread_create(&th[started], NULL, restore_worker, &j) != 0)
            break; /* fewer helpers: this thread takes what they leave */
    restore_worker(&j);
    for (size_t t = 0; t < started; t++)
        pthread_join(th[t], NULL);
}
