/* sg_outbox: the stream's transactional outbox for Kafka-bound records (alerts, dead letters).
 *
 * Why: until 2026-11-26 the stream flushed the alerts/DLQ producer before writing each batch
 * (so no alert could be lost for a stored batch). That put a broker round trip into every
 * batch's latency, and a broker that stayed down longer than the producer's message timeout
 * lost the alerts of batches that were stored meanwhile. Now a record is written into the
 * store (sg_store_batch_put_outbox) in the same atomic batch as the anomaly or the consumed
 * offset that caused it, produced once that batch is stored, and deleted from the store - in a
 * later batch - when Kafka has acknowledged it. A crash anywhere leaves undelivered records
 * in the store; the next start sends them again. Delivery is at-least-once, as before.
 *
 * This file owns (1) the record's byte format and (2) the tracker that turns out-of-order
 * delivery reports into "every record up to seq N is delivered", the mark the store's range
 * delete needs.
 *
 * Record format (all lengths varints, sg_varint):
 *   u8 kind (SG_OUTBOX_ALERT | SG_OUTBOX_DLQ) | key len | key | header count |
 *   (name len | name | value len | value) per header | value (the rest)
 * The topic is not stored: it is the kind's topic in the configuration at delivery time. */
#ifndef SG_OUTBOX_H
#define SG_OUTBOX_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"

enum sg_outbox_kind { SG_OUTBOX_ALERT = 1, SG_OUTBOX_DLQ = 2 };

#define SG_OUTBOX_MAX_HEADERS 16

struct sg_outbox_header {
    const char *name, *value; /* not NUL-terminated when decoded: use the lengths */
    size_t nl, vl;
};

/* A record, encoded or decoded; decoded fields point into the decoded bytes. */
struct sg_outbox_rec {
    enum sg_outbox_kind kind;
    const char *key;
    size_t kl;
    struct sg_outbox_header h[SG_OUTBOX_MAX_HEADERS];
    size_t nh;
    const char *value;
    size_t vl;
};

/* Appends the encoding of r to out (nh <= SG_OUTBOX_MAX_HEADERS). */
void sg_outbox_encode(const struct sg_outbox_rec *r, struct sg_buf *out);

/* Decodes len bytes (a stored record: a corrupt store can hold anything). Returns SG_OK or
 * SG_ERR_FORMAT (unknown kind, truncated, too many headers). */
int sg_outbox_decode(const void *data, size_t len, struct sg_outbox_rec *r);

/* The delivery tracker: records are numbered 0, 1, 2... in the order they were stored; Kafka
 * acknowledges them in any order. Thread-safe (the writer thread produces, delivery reports
 * arrive on whichever thread polls the producer). */
struct sg_outbox_track {
    pthread_mutex_t mu;
    uint64_t base;       /* the lowest seq not yet delivered */
    unsigned char *done; /* ring: done[(seq) % cap] for seq in [base, base + cap) */
    size_t cap;
    uint64_t ahead; /* seqs above base marked delivered */
};

/* Starts tracking at `first` (the lowest seq that will be reported). */
void sg_outbox_track_init(struct sg_outbox_track *t, uint64_t first);
void sg_outbox_track_release(struct sg_outbox_track *t);
/* Marks seq delivered (seqs below the base, i.e. reported twice, are ignored). */
void sg_outbox_track_done(struct sg_outbox_track *t, uint64_t seq);
/* Every seq below the returned value is delivered. */
uint64_t sg_outbox_track_base(struct sg_outbox_track *t);
/* How many of the seqs below `next` are not delivered yet. */
uint64_t sg_outbox_track_undelivered(struct sg_outbox_track *t, uint64_t next);

#endif
