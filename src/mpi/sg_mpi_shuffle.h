/* sg_mpi_shuffle: phase 1 of the batch layer across MPI ranks. The NDJSON input is cut into
 * pieces of about `chunk` bytes at line boundaries (a line belongs to the piece it starts in);
 * piece i is read by rank i mod N in round i / N, so each round covers one contiguous stretch
 * of the input in rank order. Each rank decodes its piece (invalid events are counted where
 * they are read, with their global message ordinal), then one MPI_Alltoallv per round sends
 * every valid line to the rank that owns its user (low 32 bits of sg_users_hash mod N). The
 * receiver sees each round's lines in global input order, so every user's events reach their
 * accumulator in exactly the order a single process folds them. Memory per rank is bounded
 * by the piece size (send) plus what it receives in one round.
 * sg_mpi_shuffle_run() folds the events into the owner's accumulators (the events of users
 * the reader owns from their first decode; the others are decoded again by their owner, as
 * they travel as JSON text). Not the model phase (sg_mpi_fit.h). */
#ifndef SG_MPI_SHUFFLE_H
#define SG_MPI_SHUFFLE_H

#include <stddef.h>
#include <stdint.h>

#include "batch/sg_ingest.h"
#include "batch/sg_source.h"
#include "mpi/sg_mpi.h"

struct sg_mpi_shuffle;

/* Owner rank of a user hash (sg_users_hash) among `size` ranks. */
int sg_mpi_owner(uint64_t user_hash, int size);

/* Opens the input (files or directories as sg_source_ndjson_new; stdin and compressed
 * files cannot be split and are refused). `chunk` = piece size in bytes (>= 4096).
 * `max_events` > 0 caps the global message count exactly as the single process does.
 * Returns NULL with errbuf on a bad path (every rank sees the same paths and fails alike). */
struct sg_mpi_shuffle *sg_mpi_shuffle_new(const struct sg_mpi *c, const char *const *paths,
                                          size_t n, size_t chunk, uint64_t max_events, char *errbuf,
                                          size_t errlen);
/* Kafka input: `src` (owned) reads this rank's share of the topic's partitions
 * (sg_ksource_open); each round every rank reads up to `per_round` messages, until every
 * share is at its end. Each user's events come from one partition (the producer keys by user),
 * so their order is the partition's, as in a single process. */
struct sg_mpi_shuffle *sg_mpi_shuffle_new_kafka(const struct sg_mpi *c, struct sg_source *src,
                                                size_t per_round, uint64_t max_events);
/* The Kafka source of a Kafka-mode shuffle (borrowed; for sg_ksource_commit), else NULL. */
struct sg_source *sg_mpi_shuffle_kafka(struct sg_mpi_shuffle *s);

/* Runs every round and folds each event into its user's accumulator in `users` (single
 * thread), in global input order; events of users this rank owns are decoded only once.
 * Returns SG_OK or an error with errbuf (a read error anywhere fails every rank). Collective.
 */
int sg_mpi_shuffle_run(struct sg_mpi_shuffle *s, struct sg_users *users, char *errbuf,
                       size_t errlen);
/* This rank's reader-side statistics: messages read, invalid by reason (examples carry
 * global ordinals), bytes, blank lines. */
const struct sg_ingest_stats *sg_mpi_shuffle_stats(const struct sg_mpi_shuffle *s);
/* Bytes this rank sent to other ranks (itself excluded), and rounds run. */
uint64_t sg_mpi_shuffle_bytes_sent(const struct sg_mpi_shuffle *s);
size_t sg_mpi_shuffle_rounds(const struct sg_mpi_shuffle *s);
void sg_mpi_shuffle_free(struct sg_mpi_shuffle *s);

/* Merges every rank's reader statistics into `out` on every rank (sums; per reason the
 * example with the smallest ordinal). Collective. */
void sg_mpi_stats_merge(const struct sg_mpi *c, const struct sg_ingest_stats *local,
                        struct sg_ingest_stats *out);

#endif
