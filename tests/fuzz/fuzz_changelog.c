/* libFuzzer target for the changelog's chunk decoder and snapshot picker (sg_changelog.h):
 * a restore reads whatever the changelog topic holds - another program's messages, a
 * truncated or corrupted chunk - so arbitrary bytes must decode or be refused without
 * crashing or reading past them. A decoded chunk must re-encode to a chunk that decodes to
 * the same fields and pairs, and the picker, fed the chunk (twice: a re-sent copy), must
 * choose or refuse it without touching memory it does not own. The same bytes as a message
 * key give slot 0, 1 or -1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "speed/sg_changelog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pairs {
    struct sg_buf b; /* the pairs, re-encoded */
    size_t n;
};

static void add_pair(void *ctx, const char *user, size_t ul, const void *blob, size_t bl)
{
    struct pairs *p = ctx;
    sg_changelog_put_profile(&p->b, user, ul, blob, bl);
    p->n++;
}

static void count(void *ctx, const char *user, size_t ul, const void *blob, size_t bl)
{
    (void)user;
    (void)ul;
    (void)blob;
    (void)bl;
    ++*(size_t *)ctx;
}

static char *cstr(const char *p, size_t n)
{
    if (memchr(p, 0, n))
        return NULL; /* not representable as the C string the encoder takes */
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_changelog_chunk c, d;
    int slot = sg_changelog_key_slot(data, size); /* any bytes as a message key */
    if (slot < -1 || slot > 1)
        abort();
    if (sg_changelog_chunk_decode(data, size, &c) != SG_OK)
        return 0;
    struct pairs p = {.n = 0};
    sg_buf_init(&p.b);
    sg_changelog_chunk_each(&c, add_pair, &p);
    if (p.n != c.count)
        abort();
    char *src = cstr(c.source, c.source_len), *grp = cstr(c.group, c.group_len);
    if (src && grp) {
        struct sg_buf b;
        sg_buf_init(&b);
        sg_changelog_put_header(&b, c.id, src, grp, c.partition, c.next_offset, c.index, c.last,
                                c.count);
        sg_buf_append(&b, p.b.data, p.b.len);
        if (sg_changelog_chunk_decode(b.data, b.len, &d) != SG_OK || d.id != c.id ||
            d.partition != c.partition || d.next_offset != c.next_offset || d.index != c.index ||
            d.last != c.last || d.count != c.count || (size_t)(d.end - d.profiles) != p.b.len ||
            (p.b.len && memcmp(d.profiles, p.b.data, p.b.len) != 0))
            abort();
        sg_buf_release(&b);
        struct sg_changelog_pick *pk = sg_changelog_pick_new(src, grp, c.partition);
        if (sg_changelog_pick_add(pk, data, size, data, size) != SG_OK ||
            sg_changelog_pick_add(pk, NULL, 0, data, size) != SG_OK)
            abort(); /* its own source, group and partition */
        int64_t next;
        size_t n = 0, seen = 0;
        if (sg_changelog_pick_best(pk, &next, &n) == SG_OK) {
            if (next != c.next_offset || !c.last || c.index != 0 || n != c.count)
                abort(); /* a one-chunk snapshot: chunk 0, marked last */
            sg_changelog_pick_each(pk, count, &seen);
            if (seen != n)
                abort();
        }
        sg_changelog_pick_free(pk);
    }
    free(src);
    free(grp);
    sg_buf_release(&p.b);
    return 0;
}
