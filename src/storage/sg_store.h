/* sg_store: the speed layer's RocksDB database - the ONLY code that knows its key schema.
 * The stream writes one atomic WriteBatch per poll batch (events, user state, anomalies,
 * offsets, counters); the serving layer reads through the query API below from a secondary
 * instance that follows the writer. It does not decode events or user state: values are the
 * bytes the speed layer hands it.
 *
 * Key schema (all integers big-endian so byte order = numeric order; `|` is concatenation;
 * user names and event ids contain no NUL byte by the event contract):
 *   column family      key                                  value
 *   default (meta)     "watermark"                          be64 newest event time seen (ms)
 *                      "schema"                             "1"
 *                      "outbox" | 0x00 | be64 seq           an undelivered alert/dead letter
 *                                                           (sg_outbox record; see below)
 *                      "sink" | 0x00 | name                 be64 device | be64 inode | be64
 *                                                           length: a replay's alerts or DLQ
 *                                                           file as of the batch (see below)
 *   events             be64 ts_ms | event_id                u8 event type | canonical JSON
 *   events_by_user     user | 0x00 | be64 ts_ms | event_id  varint arrival number of the event
 *                                                           among the user's (points into
 *                                                           events; empty in stores written
 *                                                           before it existed = unknown)
 *   event_ids          event_id                             be64 ts_ms (dedup index; locates
 *                                                           the events key)
 *   anomalies          be64 ts_ms | event_id                u8 severity | anomaly JSON
 *   anomalies_by_user  user | 0x00 | be64 ts_ms | event_id  empty (points into anomalies)
 *   users              user                                 speed-layer state blob
 *   offsets            source | 0x00 | be32 partition       be64 next offset to consume
 *   stats              counter name                         be64 absolute value
 * So "events in [t0,t1)", "anomalies in [t0,t1)" are range scans of one CF, "events/anomalies
 * of user u" prefix scans of u|0x00, "event by id" two point reads.
 *
 * Retention (--retention, e.g. 7d) is measured against the watermark (the newest event time
 * written), not the wall clock, so replays of old data behave like live data and two runs over
 * the same input give the same store: rows older than watermark - retention are (1) invisible
 * to every read and to sg_store_dump at once, (2) removed by range deletes of the two
 * time-prefixed CFs every few hundred batches, and (3) removed from the index CFs by a
 * compaction filter that reads the timestamp out of the key (value for event_ids). Event times
 * more than 24 h ahead of the wall clock are stored but do not move the watermark (one
 * future-dated event must not expire everything before it). Users and
 * offsets never expire. Consequence: a duplicate of an event older than the retention can be
 * accepted again once its dedup entry is compacted away.
 *
 * Durability: the WAL is on and not fsynced per batch (a process crash - kill -9 - loses
 * nothing that sg_store_write returned for; a power loss may lose the last batches, which
 * are then consumed again from the offsets that were lost with them). sync=1 fsyncs. The WAL
 * is capped at 256 MiB: past it, the column families holding its oldest file are flushed.
 *
 * Concurrency: one writer process (RocksDB's LOCK file). Readers in other processes open the
 * same directory with SG_STORE_SECONDARY and call sg_store_catch_up to see new writes (RocksDB
 * secondary instance; it tails the primary's MANIFEST and WAL). Within a process, an sg_store
 * may be read from several threads; writes come from one thread. */
#ifndef SG_STORE_H
#define SG_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/sg_buf.h"

struct sg_store;
struct sg_store_batch;

enum sg_store_mode {
    SG_STORE_PRIMARY = 0,   /* read-write, creates the database if missing */
    SG_STORE_SECONDARY = 1, /* read-only follower of a primary (other process) */
    SG_STORE_READONLY = 2,  /* read-only snapshot of a closed database (tools, dumps) */
    /* A primary whose process never reads the events, anomalies-by-user and events-by-user
     * column families back (a speed layer without a batch model; other processes read them
     * through SG_STORE_SECONDARY): their memtables are unsorted vectors, an append per
     * insert, sorted once when flushed. Reads of those CFs through this handle stay correct
     * but sort a copy of the memtable per call: do not use it for a reader. */
    SG_STORE_PRIMARY_APPEND = 3,
};

/* Opens the database in `dir`. `retention_ms` <= 0 keeps everything. For SG_STORE_SECONDARY,
 * `secondary_dir` is where the follower keeps its own info logs (created if missing; NULL = a
 * fresh directory under /tmp, removed by sg_store_close). Returns SG_OK, SG_ERR_UNAVAILABLE
 * (locked by another writer, or missing for a reader) or SG_ERR_STORE with errbuf.
 * Ownership: *out is freed with sg_store_close. */
int sg_store_open(const char *dir, enum sg_store_mode mode, const char *secondary_dir,
                  int64_t retention_ms, struct sg_store **out, char *errbuf, size_t errlen);
/* Flushes nothing extra (the WAL already holds every written batch) and closes. NULL ok. */
void sg_store_close(struct sg_store *st);

/* Secondary only: applies the primary's newest writes. Returns SG_OK or SG_ERR_STORE. */
int sg_store_catch_up(struct sg_store *st);

/* ---- writing (primary) ------------------------------------------------------------------ */

/* A batch accumulates puts for `st` and is written atomically by sg_store_write. Ownership:
 * the caller's, freed before the store; reuse with sg_store_batch_clear. Thread-safety: none. */
struct sg_store_batch *sg_store_batch_new(struct sg_store *st);
void sg_store_batch_free(struct sg_store_batch *b);
void sg_store_batch_clear(struct sg_store_batch *b);
size_t sg_store_batch_count(const struct sg_store_batch *b); /* puts so far */

/* The event (and its by-user and dedup index entries). `json` is its canonical encoding;
 * `seq` its arrival number among the user's events (>= 1; the speed layer's per-user count),
 * kept in the by-user index so the user's events can be read back in arrival order. */
void sg_store_batch_put_event(struct sg_store_batch *b, int64_t ts_ms, const char *event_id,
                              size_t id_len, const char *user, size_t user_len, int type,
                              uint64_t seq, const char *json, size_t json_len);
/* Only the dedup index entry of an event stored elsewhere (a partition taken over from another
 * process: speed/sg_changelog.h), so that a later duplicate of it is recognised. */
void sg_store_batch_put_event_id(struct sg_store_batch *b, int64_t ts_ms, const char *event_id,
                                 size_t id_len);
void sg_store_batch_put_anomaly(struct sg_store_batch *b, int64_t ts_ms, const char *event_id,
                                size_t id_len, const char *user, size_t user_len, int severity,
                                const char *json, size_t json_len);
void sg_store_batch_put_user(struct sg_store_batch *b, const char *user, size_t user_len,
                             const void *blob, size_t blob_len);
/* Next offset to consume of (source, partition); source is a topic name or "file:<name>". */
void sg_store_batch_put_offset(struct sg_store_batch *b, const char *source, int32_t partition,
                               int64_t next_offset);
void sg_store_batch_put_stat(struct sg_store_batch *b, const char *name, uint64_t value);
/* The newest event time; written with the batch if larger than the stored one. */
void sg_store_batch_watermark(struct sg_store_batch *b, int64_t ts_ms);

/* The outbox: records (alerts, dead letters) that must reach Kafka, written with the batch
 * that produced them and deleted - in a later batch - once delivered, so a crash between the
 * write and the delivery loses none (they are sent again at the next start). `seq` numbers
 * them in order; sg_store_batch_del_outbox deletes every record with seq <= upto (upto <
 * UINT64_MAX). The bytes are the caller's. */
void sg_store_batch_put_outbox(struct sg_store_batch *b, uint64_t seq, const void *rec,
                               size_t len);
void sg_store_batch_del_outbox(struct sg_store_batch *b, uint64_t upto);
/* Sink positions: where a replay's output file (`name`: "alerts", "dlq") ended when the batch
 * was closed, so that a restart can cut off what a batch that was never stored wrote to it
 * (speed/sg_replay.c). Left out of sg_store_dump: they name files of this machine, not
 * content. The del form records that the run has no such file. */
struct sg_sink_pos {
    uint64_t dev, ino, len;
};
void sg_store_batch_put_sink(struct sg_store_batch *b, const char *name,
                             const struct sg_sink_pos *pos);
void sg_store_batch_del_sink(struct sg_store_batch *b, const char *name);
/* Writes the batch atomically (all or nothing), then clears it. Returns SG_OK, SG_ERR_NOSPACE
 * or SG_ERR_STORE. Also runs the periodic retention range delete. */
int sg_store_write(struct sg_store *st, struct sg_store_batch *b, int sync);

/* ---- point reads (both modes) ----------------------------------------------------------- */

/* Returns SG_OK and the stored next offset, or SG_ERR_NOTFOUND. */
int sg_store_offset_get(struct sg_store *st, const char *source, int32_t partition,
                        int64_t *next_offset);
/* 1 if an event with this id is stored (and not expired), 0 if not, <0 on error. */
int sg_store_event_seen(struct sg_store *st, const char *event_id, size_t id_len);
/* sg_store_event_seen for n ids in one RocksDB MultiGet (one pass per level for all of them,
 * cheaper than n lookups): seen[i] = 1 if ids[i] is stored and not expired, else 0. Returns
 * SG_OK, or SG_ERR_STORE / SG_ERR_NOSPACE (then seen[] is unspecified). */
int sg_store_events_seen(struct sg_store *st, size_t n, const char *const *ids,
                         const size_t *id_lens, int *seen);
/* Replaces `out` with the user's state blob. SG_OK, SG_ERR_NOTFOUND, SG_ERR_STORE. */
int sg_store_user_get(struct sg_store *st, const char *user, size_t user_len,
                      struct sg_buf *out);
/* One outbox record into out (replaced); SG_OK, SG_ERR_NOTFOUND (delivered and deleted) or a
 * store error. */
int sg_store_outbox_get(struct sg_store *st, uint64_t seq, struct sg_buf *out);
/* Calls fn for every outbox record in seq order (fn may be NULL: just count); returns the
 * number of records. */
size_t sg_store_outbox_each(struct sg_store *st,
                            void (*fn)(void *ctx, uint64_t seq, const void *rec, size_t len),
                            void *ctx);
/* The stored position of sink `name`: SG_OK, SG_ERR_NOTFOUND, SG_ERR_FORMAT (not a
 * position) or a store error. */
int sg_store_sink_get(struct sg_store *st, const char *name, struct sg_sink_pos *pos);
/* A counter written with put_stat; 0 when absent. */
uint64_t sg_store_stat_get(struct sg_store *st, const char *name);
/* Calls fn for every counter in name order. */
void sg_store_stats_each(struct sg_store *st, void (*fn)(void *ctx, const char *name,
                                                         uint64_t value),
                         void *ctx);
int64_t sg_store_watermark(struct sg_store *st); /* newest event time written, 0 if none */
int64_t sg_store_cutoff(struct sg_store *st);    /* rows older than this are expired */
/* Replaces `out` with the event's JSON; SG_OK or SG_ERR_NOTFOUND. */
int sg_store_event_get(struct sg_store *st, const char *event_id, size_t id_len,
                       struct sg_buf *out);
/* Approximate bytes on disk + in memtables, over all column families. */
uint64_t sg_store_size_bytes(struct sg_store *st);

/* RocksDB's write throttling now: 0 none, 1 writes delayed (flushes or compactions behind),
 * 2 writes stopped. RocksDB's own LOG is not written below fatal level (tune()), so this is
 * where a stall shows. Thread-safe. */
int sg_store_write_stall(struct sg_store *st);

/* ---- queries for the serving layer ------------------------------------------------------ */

/* One row handed to a query callback; every pointer is borrowed until the callback returns. */
struct sg_store_row {
    int64_t ts_ms;
    const char *event_id;
    size_t id_len;
    int kind;          /* event type (enum sg_event_type) or anomaly severity (0..3) */
    const char *json;  /* the event's or anomaly's JSON */
    size_t json_len;
    uint64_t seq;      /* events read through a user's index: arrival number; else 0 */
};

/* A row callback returns 0 to continue, non-zero to stop the scan early. */
typedef int (*sg_store_row_fn)(void *ctx, const struct sg_store_row *row);

struct sg_store_query {
    int64_t from_ms, to_ms; /* [from, to); to_ms <= 0 means no upper bound */
    const char *user;       /* NULL: all users (time index); else that user's index */
    int kind;               /* events: type to keep, or -1 = all; anomalies: min severity */
    int newest_first;       /* 1: descending time (dashboards), 0: ascending */
    size_t limit;           /* max rows (0 = 100) */
    const char *cursor;     /* NULL or a `next_cursor` from the previous page */
    size_t max_scan;        /* max rows examined, matching the kind filter or not (0 = no
                               cap): bounds the work of a page whose filter matches rarely */
    int *capped;            /* optional out: 1 when max_scan ended the page, else 0 */
};

/* Pages through events / anomalies matching q, calling fn per row. On return, next_cursor
 * holds an opaque hex cursor for the next page, or is empty when there are no more rows;
 * q->cursor may point into next_cursor's data (one buffer for all pages).
 * A page that max_scan ends early holds the matches found so far (maybe none) and a cursor
 * that resumes after the last row examined. Expired rows are skipped. Returns SG_OK,
 * SG_ERR_INVALID (bad cursor) or SG_ERR_STORE. Thread-safety: concurrent queries are fine. */
int sg_store_query_events(struct sg_store *st, const struct sg_store_query *q,
                          sg_store_row_fn fn, void *ctx, struct sg_buf *next_cursor);
int sg_store_query_anomalies(struct sg_store *st, const struct sg_store_query *q,
                             sg_store_row_fn fn, void *ctx, struct sg_buf *next_cursor);

/* Calls fn(user, blob) for users in name order starting after `after` (NULL = first), at
 * most `limit`. Returns the number visited. */
size_t sg_store_users_each(struct sg_store *st, const char *after, size_t limit,
                           void (*fn)(void *ctx, const char *user, size_t user_len,
                                      const void *blob, size_t blob_len),
                           void *ctx);

/* A consistent view (a RocksDB snapshot): reads through it see the store as one moment left
 * it, whatever is written meanwhile - e.g. a partition's profiles together with the offset
 * they were written with (every batch writes both atomically). Any thread; freed by the
 * caller. */
struct sg_store_view;
struct sg_store_view *sg_store_view_new(struct sg_store *st);
void sg_store_view_free(struct sg_store_view *v);
/* Like sg_store_offset_get, in the view. */
int sg_store_view_offset(struct sg_store_view *v, const char *source, int32_t partition,
                         int64_t *next_offset);
/* Calls fn(user, blob) for every user in the view, in name order; returns the number. */
size_t sg_store_view_users_each(struct sg_store_view *v,
                                void (*fn)(void *ctx, const char *user, size_t user_len,
                                           const void *blob, size_t blob_len),
                                void *ctx);

/* Writes the canonical content of every column family (non-expired rows, key order) as
 * text lines "cf<TAB>hex(key)<TAB>hex(value)" to f: two stores with the same logical content
 * dump byte-identically, whatever their compaction history. Returns SG_OK or SG_ERR_IO. */
int sg_store_dump(struct sg_store *st, FILE *f);

#endif
