/* sg_changelog: hands a partition's user profiles from one `stream` process to the next
 * through a Kafka topic, so that a process assigned a partition its store has never seen
 * restores the profiles instead of replaying the partition's whole retained log.
 *
 * Why a snapshot per partition and not a record per profile change (Kafka Streams' way):
 * every `stream` process writes profiles and offsets together in one RocksDB batch, so a
 * RocksDB snapshot of the store gives, for each partition, its users' profiles *and* the
 * input offset they are consistent with. Published whole, such a pair is correct whoever
 * publishes it and whenever: a process that restores it and consumes from that offset ends
 * with exactly the profiles a single process would have. Per-change records published by
 * several owners in turn (a rebalance, a zombie, an outbox resending old records) interleave,
 * and no offset is consistent with all of them.
 *
 * Publication: a background thread snapshots every partition this process owns each
 * `stream.changelog_interval`, and the rebalance callback snapshots the partitions being
 * revoked before giving them up (so a clean handover replays nothing). A partition's
 * snapshot is one or more chunks (messages of at most ~512 KiB) produced to the same
 * partition number of the changelog topic, which must have as many partitions as the input
 * topic and should be compacted (cleanup.policy=compact).
 *
 * Message key "<group>/<input topic>/p<partition>/s<slot>/c<chunk>" (sg_changelog_put_key):
 * successive snapshots of a partition alternate between slots 0 and 1, so on a compacted topic
 * a snapshot being written never overwrites the chunks of the last complete one. A process
 * learns the slot of the last complete snapshot from the restore on assignment (whoever wrote
 * it) and writes into the other one. The group and the input topic are in the key so that
 * groups or input topics sharing one changelog topic do not overwrite each other's chunks when
 * it is compacted. (Before 2026-11-26 the key was "p<partition>/s<slot>/c<chunk>"; chunks
 * under those keys still restore, and stay in a compacted topic as one stale snapshot.)
 *
 * Message value (varints, sg_varint):
 *   "SGCL" | format version (1) | snapshot id (random u64) | source topic len | source topic |
 *   consumer group len | consumer group | partition | next input offset | chunk index |
 *   last chunk (0/1) | profile count |
 *   (user len | user | profile len | profile (sg_user_encode)) per profile
 *
 * Restore: the changelog partition is read to its end, chunks of other input topics or other
 * consumer groups (whose stores hold other histories) are ignored, the rest grouped by
 * snapshot id, and the complete snapshot (chunks 0..last all present, every profile decodes
 * and names this partition) with the highest offset wins. Its profiles and the offset go into
 * the store in one atomic write; the consumer then seeks the partition there. No usable
 * snapshot: the partition is replayed from the beginning, as without a changelog. The
 * partitions of one assignment are restored in parallel (sg_changelog_restore_many).
 *
 * De-duplication across the handover: the old owner's store knew the ids of the events it
 * stored, the new one does not. So after choosing a snapshot the restore also reads the
 * input partition's last `stream.changelog_dedup_messages` messages before the snapshot's
 * offset (or from the store's own offset, when it had one) and writes their event ids - only
 * the ids - into the store's dedup index, in the same atomic write as the profiles. A
 * duplicate produced within that many messages of its original (a producer's retry, a
 * re-sent batch) is then recognised as it would be by a single process; one of an older
 * message is not.
 *
 * What the new owner does not get: the events and anomalies the old owner stored (they stay
 * in its store). With --model, the rolling features of a restored user are rebuilt from the
 * events this store has (the log says so). */
#ifndef SG_CHANGELOG_H
#define SG_CHANGELOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"
#include "core/sg_config.h"
#include "core/sg_metrics.h"
#include "storage/sg_store.h"

#define SG_CHANGELOG_CHUNK_BYTES (512 * 1024)

/* ---- wire format (pure; fuzzed by tests/fuzz/fuzz_changelog.c) ---------------------------- */

struct sg_changelog_chunk {
    uint64_t id;
    const char *source, *group; /* not NUL-terminated: source_len, group_len */
    size_t source_len, group_len;
    int32_t partition;
    int64_t next_offset;
    uint32_t index;
    int last;
    uint64_t count;
    const unsigned char *profiles, *end; /* the (user, profile) pairs */
};

/* Appends a chunk header (count profiles follow, added with sg_changelog_put_profile). */
void sg_changelog_put_header(struct sg_buf *out, uint64_t id, const char *source, const char *group,
                             int32_t partition, int64_t next_offset, uint32_t index, int last,
                             uint64_t count);
void sg_changelog_put_profile(struct sg_buf *out, const char *user, size_t ul, const void *blob,
                              size_t bl);

/* Decodes a chunk: SG_OK (its `count` pairs are well-formed, fn not called) or
 * SG_ERR_FORMAT. */
int sg_changelog_chunk_decode(const void *data, size_t len, struct sg_changelog_chunk *c);

/* Calls fn for each (user, profile) of a decoded chunk. */
void sg_changelog_chunk_each(const struct sg_changelog_chunk *c,
                             void (*fn)(void *ctx, const char *user, size_t ul, const void *blob,
                                        size_t bl),
                             void *ctx);

/* Appends the message key of chunk `index` of a snapshot of `source`'s partition `part` in
 * `slot` by `group` (the format above). */
void sg_changelog_put_key(struct sg_buf *b, const char *group, const char *source, int32_t part,
                          int slot, uint32_t index);
/* The slot (0 or 1) a message key names: one that ends in "/s<0|1>/c<digits>" (both key
 * formats above), else -1. */
int sg_changelog_key_slot(const void *key, size_t len);

/* ---- choosing a snapshot (pure) ------------------------------------------------------------ */

struct sg_changelog_pick;

/* The chunk bytes a picker keeps before it drops older snapshots (a changelog left without
 * cleanup.policy=compact holds every snapshot of its retention). */
#define SG_CHANGELOG_PICK_MAX_BYTES ((size_t)256 << 20)

/* Collects the chunks read from changelog partition `partition` for input topic `source`
 * and consumer group `group`. */
struct sg_changelog_pick *sg_changelog_pick_new(const char *source, const char *group,
                                                int32_t partition);
void sg_changelog_pick_free(struct sg_changelog_pick *p);
/* Changes the bound of SG_CHANGELOG_PICK_MAX_BYTES (tests). */
void sg_changelog_pick_set_max_bytes(struct sg_changelog_pick *p, size_t max_bytes);
/* Adds a message (the value is copied; the key, which may be NULL, only gives the slot).
 * SG_OK, or SG_ERR_FORMAT for a value that is not a chunk of this source, group and partition
 * (ignored, counted in sg_changelog_pick_stats). */
int sg_changelog_pick_add(struct sg_changelog_pick *p, const void *key, size_t keylen,
                          const void *value, size_t len);
/* Chooses the best usable snapshot: SG_OK with its next input offset and profile count, or
 * SG_ERR_NOTFOUND. */
int sg_changelog_pick_best(struct sg_changelog_pick *p, int64_t *next_offset, size_t *profiles);
/* The key slot of the snapshot sg_changelog_pick_best chose (that of its last chunk), or -1
 * when it chose none or the key did not name a slot. */
int sg_changelog_pick_slot(const struct sg_changelog_pick *p);
/* Calls fn for every profile of the chosen snapshot. */
void sg_changelog_pick_each(const struct sg_changelog_pick *p,
                            void (*fn)(void *ctx, const char *user, size_t ul, const void *blob,
                                       size_t bl),
                            void *ctx);
/* Chunks added, those refused (not chunks of this partition), and those of unusable
 * snapshots or dropped (the memory bound). */
void sg_changelog_pick_stats(const struct sg_changelog_pick *p, size_t *chunks, size_t *refused,
                             size_t *unusable);

/* ---- the Kafka side ------------------------------------------------------------------------- */

struct sg_changelog_opts {
    const struct sg_config *cfg; /* kafka.* passthrough */
    const char *brokers;         /* overrides kafka.bootstrap.servers when non-NULL */
    const char *topic;           /* the changelog topic */
    const char *source;          /* the input topic */
    const char *group;           /* the consumer group */
    struct sg_store *store;
    int64_t interval_ms; /* background snapshots (0 = only on revoke) */
    struct sg_metrics *metrics;
    /* after a restore, the event ids of up to this many input messages before the
     * snapshot's offset are read into the store's dedup index (0 = none) */
    int64_t dedup_messages;
};

struct sg_changelog;

/* Creates the producer and checks that the changelog topic exists with as many partitions as
 * the input topic. SG_OK, SG_ERR_CONFIG (with errbuf), SG_ERR_UNAVAILABLE. */
int sg_changelog_new(const struct sg_changelog_opts *o, struct sg_changelog **out, char *errbuf,
                     size_t errlen);
/* Stops the background thread (without a last snapshot) and frees everything. */
void sg_changelog_free(struct sg_changelog *cl);
/* Marks partitions owned (published by the background thread) or not. */
void sg_changelog_own(struct sg_changelog *cl, int32_t partition, int owned);
/* Starts the background snapshots (once the consumer runs). */
void sg_changelog_start(struct sg_changelog *cl);
/* Publishes a snapshot of the given partitions now and waits for Kafka's acknowledgement (at
 * most timeout_ms). Partitions the store has no offset for are skipped. SG_OK or SG_ERR_KAFKA. */
int sg_changelog_publish(struct sg_changelog *cl, const int32_t *parts, size_t n, int timeout_ms);
/* Restores a partition from its best snapshot if that is newer than `newer_than` (the
 * store's own next offset for it, -1 when it has none): SG_OK (profiles and offset written
 * to the store, *next_offset set), SG_ERR_NOTFOUND (no usable or no newer snapshot), or an
 * error (Kafka, store). */
int sg_changelog_restore(struct sg_changelog *cl, int32_t partition, int64_t newer_than,
                         int64_t *next_offset);

/* Threads of sg_changelog_restore_many (the caller's included). */
#define SG_CHANGELOG_RESTORE_THREADS 4

/* sg_changelog_restore for n partitions at once: rc[i] and next_offset[i] as it returns them
 * for partitions[i] and newer_than[i]. Most of a restore's time is reading Kafka (the
 * snapshot, and the messages whose ids it notes), so a takeover of many partitions reads up
 * to SG_CHANGELOG_RESTORE_THREADS of them in parallel. */
void sg_changelog_restore_many(struct sg_changelog *cl, size_t n, const int32_t *partitions,
                               const int64_t *newer_than, int64_t *next_offset, int *rc);

#endif
