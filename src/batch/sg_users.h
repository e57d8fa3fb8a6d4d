/* sg_users: the batch layer's per-user state, hash-partitioned: partition p owns every user
 * with sg_users_partition(user) == p, so one thread per partition updates accumulators without
 * locks. Memory is one sg_features (a few KiB) per user - it grows with users, not events.
 * Not a decoder and not a model. */
#ifndef SG_USERS_H
#define SG_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "batch/sg_features.h"

struct sg_user {
    char *name; /* NUL-terminated, owned by the table */
    uint32_t len;
    uint64_t hash;
    struct sg_features f;
};

struct sg_users;

/* Creates a table with `partitions` (>= 1) partitions. Free with sg_users_free. */
struct sg_users *sg_users_new(int partitions);
void sg_users_free(struct sg_users *u);

int sg_users_partitions(const struct sg_users *u);
/* The user name's hash (stable: sg_hash_bytes with a fixed seed) and its partition. */
uint64_t sg_users_hash(const char *name, size_t len);
int sg_users_partition(const struct sg_users *u, uint64_t hash);

/* Finds or creates the user in partition `part` (which must be sg_users_partition(hash)).
 * Returns a pointer valid until sg_users_free. Thread-safety: one thread per partition. */
struct sg_user *sg_users_get(struct sg_users *u, int part, const char *name, size_t len,
                             uint64_t hash);

size_t sg_users_count(const struct sg_users *u);

/* All users sorted by name (byte order), into a new array of *n borrowed pointers (free the
 * array with free()). The order is independent of the partition count. */
struct sg_user **sg_users_sorted(const struct sg_users *u, size_t *n);

#endif
