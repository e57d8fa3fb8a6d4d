/* sg_mem: allocation that aborts on out-of-memory (memory is bounded by design instead),
 * and a bump arena for per-batch scratch memory on hot paths. Not a general allocator. */
#ifndef SG_MEM_H
#define SG_MEM_H

#include <stddef.h>

/* Abort with a message on OOM; never return NULL (sg_xmalloc(0) returns a unique pointer). */
void *sg_xmalloc(size_t n);
void *sg_xcalloc(size_t count, size_t size);
void *sg_xrealloc(void *p, size_t n);
char *sg_xstrdup(const char *s);
char *sg_xstrndup(const char *s, size_t n);
/* Grows an array `*p` of `*cap` elements of `elem` bytes to hold at least `need` elements
 * (doubling). Returns the (possibly moved) array. */
void *sg_xgrow(void *p, size_t *cap, size_t need, size_t elem);

/* A bump arena: allocations live until sg_arena_reset/sg_arena_release. Blocks are chained;
 * reset keeps the first block so steady-state batches do not touch malloc.
 * Thread-safety: none; one arena per thread. */
struct sg_arena_block;
struct sg_arena {
    struct sg_arena_block *head;
    size_t block_size;
    size_t used_total;
};

void sg_arena_init(struct sg_arena *a, size_t block_size);
/* Returns 16-byte aligned memory valid until the next reset/release. */
void *sg_arena_alloc(struct sg_arena *a, size_t n);
/* Copies `n` bytes and NUL-terminates; returns the copy. */
char *sg_arena_strndup(struct sg_arena *a, const char *s, size_t n);
void sg_arena_reset(struct sg_arena *a);
void sg_arena_release(struct sg_arena *a);

#endif
