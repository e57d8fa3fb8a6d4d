/* sg_pipeline: the speed layer's per-batch processing, shared by the Kafka consumer and the
 * NDJSON replay (--input) so both run exactly the same code: decode -> dedup -> detect ->
 * update profile -> stage everything in one RocksDB WriteBatch -> write atomically with the
 * consumed offsets. It owns the bounded cache of user profiles. It does not talk to Kafka. */
#ifndef SG_PIPELINE_H
#define SG_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_event.h"
#include "core/sg_metrics.h"
#include "speed/sg_detect.h"
#include "speed/sg_modelwatch.h"
#include "storage/sg_store.h"

/* One input message (borrowed for the duration of sg_pipeline_add). */
struct sg_msg {
    const char *data;
    size_t len;
    const char *source; /* topic name, or "file:<path>" for replays */
    int32_t partition;
    int64_t offset;     /* offset (Kafka) or 1-based line number (file) */
    int64_t msg_ts_ms;  /* producer timestamp, or -1 when unknown */
    /* Kafka: the message key, which must be the event's user (a user's state lives with its
     * partition); key == NULL is an unkeyed message. check_key = 0 (replays): not checked. */
    const char *key;
    size_t key_len;
    int check_key;
};

/* Sinks, called during sg_pipeline_add or sg_pipeline_flush, before the batch is written. A
 * sink that must not lose records either makes them durable in sink_flush (files) or stages
 * them in the batch's outbox (Kafka: sg_pipeline_outbox_put). */
typedef void (*sg_alert_fn)(void *ctx, const char *user, size_t user_len, const char *json,
                            size_t len);
typedef void (*sg_dlq_fn)(void *ctx, const struct sg_msg *m, const struct sg_event_error *err);
/* Makes everything handed to the sinks so far durable (file flush, producer flush); called by
 * sg_pipeline_flush after the batch's last record went to the sinks and before the batch is
 * written, so that no alert or DLQ record is lost for a stored batch. It may stage into the
 * batch what the sinks need after a crash (a file's length: sg_store_batch_put_sink). Returns
 * SG_OK or an error (the batch is then not written). */
typedef int (*sg_sink_flush_fn)(void *ctx, struct sg_store_batch *batch);
/* The outbox (speed/sg_outbox.h): a record staged with sg_pipeline_outbox_put is written with
 * its batch and handed to this callback - on the pipeline's writer thread - once the batch is
 * stored, in seq order. */
typedef void (*sg_outbox_ready_fn)(void *ctx, uint64_t seq, const void *rec, size_t len);

struct sg_pipeline_opts {
    struct sg_store *store;     /* borrowed, primary */
    struct sg_metrics *metrics; /* borrowed; metrics registered at sg_pipeline_new */
    struct sg_detect_params params;
    size_t max_users;           /* profiles cached in memory (0 = 100000) */
    int sync;                   /* fsync each batch */
    sg_alert_fn alert;          /* NULL = none */
    sg_dlq_fn dlq;              /* NULL = none (still counted) */
    sg_sink_flush_fn sink_flush; /* NULL = nothing to make durable */
    sg_outbox_ready_fn outbox_ready; /* NULL = no outbox */
    void *sink_ctx;
    struct sg_modelwatch *model; /* NULL = none; borrowed; new users are warm-started from its
                                  * baselines, and it is reloaded between batches on change */
};

struct sg_pipeline_totals {
    uint64_t events, duplicates, invalid, anomalies, batches;
    int64_t first_ns, last_ns; /* monotonic: first message added, last batch written */
    double processing_p99_s;   /* per-event processing time, p99 (histogram estimate) */
    double e2e_p50_s, e2e_p99_s; /* produce timestamp -> stored (NaN without timestamps) */
    double in_stream_p50_s, in_stream_p99_s; /* message received -> stored */
};

struct sg_pipeline;

/* Returns SG_OK and a pipeline that loads its counters from the store. Ownership: free with
 * sg_pipeline_free (before the store and the registry). Thread-safety: one thread. */
int sg_pipeline_new(const struct sg_pipeline_opts *o, struct sg_pipeline **out);
void sg_pipeline_free(struct sg_pipeline *p);

/* Adds one message to the current batch. It is decoded and checked against the batch at
 * once: invalid messages are counted, handed to the DLQ sink and their offset is consumed;
 * duplicates of an event earlier in the batch are counted and skipped. The rest - the dedup
 * lookup in the store, detection, profile update, staging - is done for up to 64 messages
 * together (one batched store lookup), in arrival order, and at the latest by
 * sg_pipeline_flush. Returns SG_OK, or SG_ERR_STORE when the store could not be read for this
 * or an earlier message (the caller stops without writing the batch). */
int sg_pipeline_add(struct sg_pipeline *p, const struct sg_msg *m);

/* Processes what is pending, calls the sink_flush callback, closes the batch (events,
 * anomalies, dirty profiles, offsets, counters, outbox records and deletes) and writes it as
 * one atomic RocksDB write: a batch of more than 128 messages is handed to the pipeline's
 * writer thread and written while the next batch is processed, a smaller one is written
 * before this returns. Batches are written strictly in order (flush first waits for the
 * previous write). Returns SG_OK, or the error of this or the PREVIOUS batch's write
 * (SG_ERR_NOSPACE, SG_ERR_STORE): then neither it nor this batch was written and the
 * in-memory profiles were dropped; the caller must free the pipeline and resume from the
 * stored offsets with a new one. A flush of an empty batch is a no-op. */
int sg_pipeline_flush(struct sg_pipeline *p);

/* Waits until every flushed batch is in the store. Returns SG_OK or the write's error (as
 * for sg_pipeline_flush). Call before acting on "stored" (end of input, revoke, exit);
 * sg_pipeline_free calls it too. */
int sg_pipeline_sync(struct sg_pipeline *p);

size_t sg_pipeline_pending(const struct sg_pipeline *p); /* messages in the open batch */

/* Drops the cached profiles of a partition's users (those changed by no open batch), so that
 * the next event of each reloads the profile from the store: after the store's profiles of
 * the partition were replaced (a restore from the changelog). Call after sg_pipeline_sync
 * (with a batch in flight it drops nothing). Returns how many went. */
size_t sg_pipeline_forget_partition(struct sg_pipeline *p, int32_t partition);

/* The outbox (only with opts.outbox_ready). sg_pipeline_outbox_put stages a record in the open
 * batch (call it from a sink, during sg_pipeline_add) and returns its seq; seqs continue
 * after the highest one in the store. sg_pipeline_outbox_delivered says that every record
 * with a seq below `below` has been delivered: their range delete goes into the next batch,
 * which sg_pipeline_flush then writes even if no message is pending
 * (sg_pipeline_outbox_due says one is waiting). */
uint64_t sg_pipeline_outbox_put(struct sg_pipeline *p, const void *rec, size_t len);
void sg_pipeline_outbox_delivered(struct sg_pipeline *p, uint64_t below);
int sg_pipeline_outbox_due(const struct sg_pipeline *p);
uint64_t sg_pipeline_outbox_next(const struct sg_pipeline *p); /* the next seq to assign */
/* Every seq below this is known delivered; right after sg_pipeline_new, the seq of the first
 * record in the store (the next seq when there is none). */
uint64_t sg_pipeline_outbox_below(const struct sg_pipeline *p);
struct sg_pipeline_totals sg_pipeline_totals(const struct sg_pipeline *p);


#endif
