/* sg_ksource: bounded Kafka read for the batch layer (see sg_ksource.h). Partitions are
 * assigned explicitly (no group rebalance) with their start offsets; the read ends when every
 * partition reached the high watermark observed at start. Messages of a batch stay alive until
 * the next call. */
#include "batch/sg_ksource.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "kafka/sg_kafka.h"

#define TIMEOUT_MS 10000

struct kpart {
    int32_t id;
    int64_t next, end; /* next offset to read, high watermark at start */
};

struct ks {
    struct sg_source base;
    rd_kafka_t *rk;
    char *topic;
    int has_group;
    int share, shares; /* read partitions i (in id order) with i % shares == share */
    struct kpart *parts;
    int nparts, open_parts;
    rd_kafka_message_t **held;
    size_t nheld, held_cap;
    int opened; /* sg_ksource_open succeeded: client errors are worth a warning now */
};

static void release_held(struct ks *k)
{
    for (size_t i = 0; i < k->nheld; i++)
        rd_kafka_message_destroy(k->held[i]);
    k->nheld = 0;
}

static struct kpart *find_part(struct ks *k, int32_t id)
{
    for (int i = 0; i < k->nparts; i++)
        if (k->parts[i].id == id)
            return &k->parts[i];
    return NULL;
}

static void hold(struct ks *k, rd_kafka_message_t *m, struct sg_msgbatch *b)
{
    k->held = sg_xgrow(k->held, &k->held_cap, k->nheld + 1, sizeof *k->held);
    k->held[k->nheld++] = m;
    b->m = sg_xgrow(b->m, &b->cap, b->n + 1, sizeof *b->m);
    int big = m->len > (size_t)UINT32_MAX;
    b->m[b->n].p = big ? NULL : (const char *)m->payload;
    b->m[b->n].len = big ? 0 : (uint32_t)m->len;
    if (!m->payload && !big)
        b->m[b->n].p = ""; /* an empty (tombstone) message: invalid JSON, counted */
    b->n++;
}

static int ks_next(struct sg_source *s, struct sg_msgbatch *b, size_t max, char *errbuf,
                   size_t errlen)
{
    struct ks *k = (struct ks *)s;
    release_held(k);
    b->n = 0;
    int idle = 0;
    while (b->n < max && k->open_parts > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, b->n ? 0 : 200);
        if (!m) {
            if (b->n)
                break;
            if (++idle * 200 > 6 * TIMEOUT_MS) {
                snprintf(errbuf, errlen,
                         "no messages for %d s before the end of the topic "
                         "(broker unavailable?)",
                         6 * TIMEOUT_MS / 1000);
                return SG_ERR_UNAVAILABLE;
            }
            continue;
        }
        idle = 0;
        if (m->err) {
            rd_kafka_resp_err_t e = m->err;
            struct kpart *p = find_part(k, m->partition);
            rd_kafka_message_destroy(m);
            if (e == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                /* nothing left to deliver: also ends a partition whose last offsets below the
                 * watermark are not messages (transaction markers, compacted away) */
                if (p && p->next < p->end) {
                    p->next = p->end;
                    k->open_parts--;
                }
                continue;
            }
            snprintf(errbuf, errlen, "kafka: %s", rd_kafka_err2str(e));
            return sg_kafka_err(e);
        }
        struct kpart *p = find_part(k, m->partition);
        if (!p || m->offset >= p->end || p->next >= p->end) {
            rd_kafka_message_destroy(m); /* beyond the snapshot taken at start */
            continue;
        }
        p->next = m->offset + 1;
        if (p->next >= p->end) {
            k->open_parts--;
            /* done with it: stop fetching what was produced after the start */
            rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(l, k->topic, p->id);
            rd_kafka_pause_partitions(k->rk, l);
            rd_kafka_topic_partition_list_destroy(l);
        }
        k->base.bytes += m->len;
        hold(k, m, b);
    }
    return SG_OK;
}

static void ks_free(struct sg_source *s)
{
    struct ks *k = (struct ks *)s;
    release_held(k);
    free(k->held);
    if (k->rk) {
        rd_kafka_consumer_close(k->rk);
        rd_kafka_destroy(k->rk);
    }
    free(k->parts);
    free(k->topic);
    free(k);
}

/* Client-level errors ("1/1 brokers are down"). While opening, the open's own error says
 * what went wrong ("no Kafka broker reachable"), so they are debug; during the read a warning
 * tells why the read stalls (librdkafka keeps retrying; ks_next gives up after 60 s without a
 * message). Without this callback librdkafka would log every one of them as an error. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    const struct ks *k = opaque;
    sg_kafka_log_client_error(rk, err, reason, k->opened);
}

static int cmp_id(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int load_partitions(struct ks *k, char *errbuf, size_t errlen)
{
    const struct rd_kafka_metadata *md;
    int rc = sg_kafka_topic_metadata(k->rk, k->topic, TIMEOUT_MS, &md, errbuf, errlen);
    if (rc != SG_OK)
        return rc;
    int all = md->topics[0].partition_cnt;
    int32_t *ids = sg_xcalloc((size_t)all, sizeof *ids);
    for (int i = 0; i < all; i++)
        ids[i] = md->topics[0].partitions[i].id;
    rd_kafka_metadata_destroy(md);
    qsort(ids, (size_t)all, sizeof *ids, cmp_id);
    k->parts = sg_xcalloc((size_t)all, sizeof *k->parts);
    for (int i = 0; i < all; i++)
        if (i % k->shares == k->share)
            k->parts[k->nparts++].id = ids[i];
    free(ids);
    return SG_OK;
}

static int load_offsets(struct ks *k, char *errbuf, size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(k->nparts);
    for (int i = 0; i < k->nparts; i++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t e =
            rd_kafka_query_watermark_offsets(k->rk, k->topic, k->parts[i].id, &lo, &hi, TIMEOUT_MS);
        if (e) {
            snprintf(errbuf, errlen, "kafka watermarks of %s[%d]: %s", k->topic, k->parts[i].id,
                     rd_kafka_err2str(e));
            rd_kafka_topic_partition_list_destroy(l);
            return sg_kafka_err(e);
        }
        k->parts[i].next = lo;
        k->parts[i].end = hi;
        rd_kafka_topic_partition_list_add(l, k->topic, k->parts[i].id)->offset = lo;
    }
    if (k->has_group) {
        rd_kafka_resp_err_t e = rd_kafka_committed(k->rk, l, TIMEOUT_MS);
        if (e) {
            snprintf(errbuf, errlen, "kafka committed offsets: %s", rd_kafka_err2str(e));
            rd_kafka_topic_partition_list_destroy(l);
            return sg_kafka_err(e);
        }
        for (int i = 0; i < l->cnt; i++) {
            struct kpart *p = find_part(k, l->elems[i].partition);
            if (l->elems[i].offset >= 0 && p && l->elems[i].offset > p->next)
                p->next = l->elems[i].offset;
            l->elems[i].offset = p ? p->next : l->elems[i].offset;
        }
    }
    for (int i = 0; i < k->nparts; i++)
        k->open_parts += k->parts[i].next < k->parts[i].end;
    rd_kafka_resp_err_t e = rd_kafka_assign(k->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(errbuf, errlen, "kafka assign: %s", rd_kafka_err2str(e));
        return sg_kafka_err(e);
    }
    return SG_OK;
}

int sg_ksource_open(const struct sg_config *cfg, const char *brokers, const char *topic,
                    const char *group, int share, int shares, struct sg_source **out, char *errbuf,
                    size_t errlen)
{
    *out = NULL;
    struct ks *k = sg_xcalloc(1, sizeof *k);
    k->share = share;
    k->shares = shares > 0 ? shares : 1;
    k->base.next = ks_next;
    k->base.free = ks_free;
    k->topic = sg_xstrdup(topic);
    k->has_group = group && group[0];
    char gid[64];
    snprintf(gid, sizeof gid, "streamguard-batch-%d", (int)getpid());
    rd_kafka_conf_t *conf = sg_kafka_conf_new(cfg, brokers, errbuf, errlen);
    if (!conf ||
        sg_kafka_conf_set(conf, "group.id", k->has_group ? group : gid, errbuf, errlen) != SG_OK ||
        sg_kafka_conf_set(conf, "enable.auto.commit", "false", errbuf, errlen) != SG_OK ||
        sg_kafka_conf_set(conf, "enable.auto.offset.store", "false", errbuf, errlen) != SG_OK ||
        sg_kafka_conf_set(conf, "enable.partition.eof", "true", errbuf, errlen) != SG_OK) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        ks_free(&k->base);
        return SG_ERR_CONFIG;
    }
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_opaque(conf, k);
    char e[512];
    k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (!k->rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errbuf, errlen, "kafka: %s", e);
        ks_free(&k->base);
        return SG_ERR_CONFIG;
    }
    rd_kafka_poll_set_consumer(k->rk);
    int rc = load_partitions(k, errbuf, errlen);
    if (rc == SG_OK)
        rc = load_offsets(k, errbuf, errlen);
    if (rc != SG_OK) {
        ks_free(&k->base);
        return rc;
    }
    k->opened = 1;
    *out = &k->base;
    return SG_OK;
}

int sg_ksource_commit(struct sg_source *s, char *errbuf, size_t errlen)
{
    if (!s || s->next != ks_next)
        return SG_OK;
    struct ks *k = (struct ks *)s;
    if (!k->has_group)
        return SG_OK;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(k->nparts);
    for (int i = 0; i < k->nparts; i++)
        rd_kafka_topic_partition_list_add(l, k->topic, k->parts[i].id)->offset = k->parts[i].next;
    rd_kafka_resp_err_t e = rd_kafka_commit(k->rk, l, 0);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(errbuf, errlen, "kafka commit: %s", rd_kafka_err2str(e));
        return sg_kafka_err(e);
    }
    return SG_OK;
}
