/* sg_mem: aborting allocators and the bump arena. */
#include "core/sg_mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
    fprintf(stderr, "streamguard: out of memory allocating %zu bytes\n", n);
    abort();
}

void *sg_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *sg_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *sg_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *sg_xstrndup(const char *s, size_t n)
{
    char *d = sg_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *sg_xstrdup(const char *s)
{
    return sg_xstrndup(s, strlen(s));
}

void *sg_xgrow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 8;
    while (c < need)
        c *= 2;
    if (elem && c > SIZE_MAX / elem)
        oom(SIZE_MAX);
    *cap = c;
    return sg_xrealloc(p, c * elem);
}

struct sg_arena_block {
    struct sg_arena_block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void sg_arena_init(struct sg_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->used_total = 0;
}

void *sg_arena_alloc(struct sg_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct sg_arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > a->block_size ? n : a->block_size;
        b = sg_xmalloc(sizeof(*b) + size);
        b->size = size;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->used_total += n;
    return p;
}

char *sg_arena_strndup(struct sg_arena *a, const char *s, size_t n)
{
    char *d = sg_arena_alloc(a, n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void sg_arena_reset(struct sg_arena *a)
{
    /* Keep the oldest (last in chain) block of the standard size; free the rest. */
    struct sg_arena_block *keep = NULL;
    struct sg_arena_block *b = a->head;
    while (b) {
        struct sg_arena_block *next = b->next;
        if (!next && b->size == a->block_size) {
            keep = b;
        } else {
            free(b);
        }
        b = next;
    }
    if (keep)
        keep->used = 0;
    a->head = keep;
    a->used_total = 0;
}

void sg_arena_release(struct sg_arena *a)
{
    struct sg_arena_block *b = a->head;
    while (b) {
        struct sg_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used_total = 0;
}
