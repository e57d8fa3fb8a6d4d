/* sg_users: partitioned open-addressing hash tables of user -> sg_user (see sg_users.h).
 * Entries are allocated in chunks so growing the index never moves an accumulator. */
#include "batch/sg_users.h"

#include <stdlib.h>
#include <string.h>

#include "core/sg_hash.h"
#include "core/sg_mem.h"

#define CHUNK 256
#define USER_SEED UINT64_C(0x7573657273) /* "users" */

struct part {
    struct sg_user **slot; /* open addressing, power-of-two size */
    size_t cap, n;
    struct sg_user **chunks;
    size_t nchunks, chunk_cap, used_in_chunk;
};

struct sg_users {
    int np;
    struct part *p;
};

struct sg_users *sg_users_new(int partitions)
{
    struct sg_users *u = sg_xcalloc(1, sizeof *u);
    u->np = partitions < 1 ? 1 : partitions;
    u->p = sg_xcalloc((size_t)u->np, sizeof *u->p);
    return u;
}

void sg_users_free(struct sg_users *u)
{
    if (!u)
        return;
    for (int i = 0; i < u->np; i++) {
        struct part *p = &u->p[i];
        for (size_t s = 0; s < p->cap; s++)
            if (p->slot[s]) {
                sg_features_release(&p->slot[s]->f);
                free(p->slot[s]->name);
            }
        for (size_t c = 0; c < p->nchunks; c++)
            free(p->chunks[c]);
        free(p->chunks);
        free(p->slot);
    }
    free(u->p);
    free(u);
}

int sg_users_partitions(const struct sg_users *u)
{
    return u->np;
}

uint64_t sg_users_hash(const char *name, size_t len)
{
    return sg_hash_bytes(name, len, USER_SEED);
}

int sg_users_partition(const struct sg_users *u, uint64_t hash)
{
    return (int)((hash >> 32) % (uint64_t)u->np);
}

static void rehash(struct part *p)
{
    size_t cap = p->cap ? p->cap * 2 : 1024;
    struct sg_user **slot = sg_xcalloc(cap, sizeof *slot);
    for (size_t i = 0; i < p->cap; i++)
        if (p->slot[i]) {
            size_t h = p->slot[i]->hash & (cap - 1);
            while (slot[h])
                h = (h + 1) & (cap - 1);
            slot[h] = p->slot[i];
        }
    free(p->slot);
    p->slot = slot;
    p->cap = cap;
}

static struct sg_user *alloc_user(struct part *p)
{
    if (p->nchunks == 0 || p->used_in_chunk == CHUNK) {
        p->chunks = sg_xgrow(p->chunks, &p->chunk_cap, p->nchunks + 1, sizeof *p->chunks);
        p->chunks[p->nchunks++] = sg_xmalloc(CHUNK * sizeof(struct sg_user));
        p->used_in_chunk = 0;
    }
    return &p->chunks[p->nchunks - 1][p->used_in_chunk++];
}

struct sg_user *sg_users_get(struct sg_users *u, int part, const char *name, size_t len,
                             uint64_t hash)
{
    struct part *p = &u->p[part];
    if ((p->n + 1) * 2 > p->cap)
        rehash(p);
    size_t h = hash & (p->cap - 1);
    while (p->slot[h]) {
        struct sg_user *e = p->slot[h];
        if (e->hash == hash && e->len == len && !memcmp(e->name, name, len))
            return e;
        h = (h + 1) & (p->cap - 1);
    }
    struct sg_user *e = alloc_user(p);
    e->name = sg_xstrndup(name, len);
    e->len = (uint32_t)len;
    e->hash = hash;
    sg_features_init(&e->f);
    p->slot[h] = e;
    p->n++;
    return e;
}

size_t sg_users_count(const struct sg_users *u)
{
    size_t n = 0;
    for (int i = 0; i < u->np; i++)
        n += u->p[i].n;
    return n;
}

static int cmp_user(const void *a, const void *b)
{
    const struct sg_user *x = *(struct sg_user *const *)a, *y = *(struct sg_user *const *)b;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, m);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

struct sg_user **sg_users_sorted(const struct sg_users *u, size_t *n)
{
    size_t total = sg_users_count(u), k = 0;
    struct sg_user **all = sg_xmalloc((total ? total : 1) * sizeof *all);
    for (int i = 0; i < u->np; i++)
        for (size_t s = 0; s < u->p[i].cap; s++)
            if (u->p[i].slot[s])
                all[k++] = u->p[i].slot[s];
    qsort(all, total, sizeof *all, cmp_user);
    *n = total;
    return all;
}
