/* Unit tests of the changelog's pure parts (sg_changelog.h): a chunk round-trips field by
 * field and every truncation is refused; the picker chooses the complete snapshot with the
 * highest offset and skips incomplete ones (a missing middle chunk, no chunk marked last),
 * snapshots whose profiles do not decode or name another partition, and chunks of another
 * input topic, consumer group or partition; a re-sent chunk counts once; between two
 * complete snapshots at the same offset the later in the log wins. Message keys name the
 * group, input topic, partition, slot and chunk, and the picker reports the slot of the
 * snapshot it chose. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "speed/sg_changelog.h"
#include "speed/sg_user.h"

#define SRC "security-events"
#define GRP "streamguard-stream"

/* An encoded profile of `partition` with n_events = n. */
static void profile(struct sg_buf *b, int32_t partition, uint64_t n)
{
    struct sg_user_state u;
    sg_user_init(&u);
    u.partition = partition;
    u.n_events = n;
    sg_buf_reset(b);
    sg_user_encode(&u, b);
}

/* A chunk of snapshot `id` holding users u<first>..u<first+count-1>, profiles of `ppart`
 * with n_events = tag. */
static void chunk(struct sg_buf *out, uint64_t id, const char *src, const char *grp, int32_t part,
                  int64_t next, uint32_t index, int last, int first, int count, int32_t ppart,
                  uint64_t tag)
{
    struct sg_buf p;
    sg_buf_init(&p);
    sg_buf_reset(out);
    sg_changelog_put_header(out, id, src, grp, part, next, index, last, (uint64_t)count);
    for (int i = first; i < first + count; i++) {
        char user[16];
        int ul = snprintf(user, sizeof user, "u%03d", i);
        profile(&p, ppart, tag);
        sg_changelog_put_profile(out, user, (size_t)ul, p.data, p.len);
    }
    sg_buf_release(&p);
}

static void add(struct sg_changelog_pick *pk, const struct sg_buf *b, int want)
{
    assert_int_equal(sg_changelog_pick_add(pk, NULL, 0, b->data, b->len), want);
}

struct seen {
    int users;
    uint64_t tag; /* n_events of the last profile */
    char last[16];
};

static void note(void *ctx, const char *user, size_t ul, const void *blob, size_t bl)
{
    struct seen *s = ctx;
    struct sg_user_state u;
    assert_int_equal(sg_user_decode(&u, blob, bl), SG_OK);
    s->users++;
    s->tag = u.n_events;
    assert_true(ul < sizeof s->last);
    memcpy(s->last, user, ul);
    s->last[ul] = 0;
}

static void test_chunk_round_trip(void **state)
{
    (void)state;
    struct sg_buf b;
    sg_buf_init(&b);
    chunk(&b, 77, SRC, GRP, 3, 123456789, 2, 1, 0, 3, 3, 9);
    struct sg_changelog_chunk c;
    assert_int_equal(sg_changelog_chunk_decode(b.data, b.len, &c), SG_OK);
    assert_true(c.id == 77);
    assert_int_equal(c.source_len, strlen(SRC));
    assert_memory_equal(c.source, SRC, c.source_len);
    assert_int_equal(c.group_len, strlen(GRP));
    assert_memory_equal(c.group, GRP, c.group_len);
    assert_int_equal(c.partition, 3);
    assert_int_equal(c.next_offset, 123456789);
    assert_int_equal(c.index, 2);
    assert_int_equal(c.last, 1);
    assert_int_equal(c.count, 3);
    struct seen s = {0};
    sg_changelog_chunk_each(&c, note, &s);
    assert_int_equal(s.users, 3);
    assert_string_equal(s.last, "u002");
    for (size_t n = 0; n < b.len; n++) /* every truncation */
        assert_int_equal(sg_changelog_chunk_decode(b.data, n, &c), SG_ERR_FORMAT);
    sg_buf_putc(&b, 0); /* trailing bytes */
    assert_int_equal(sg_changelog_chunk_decode(b.data, b.len, &c), SG_ERR_FORMAT);
    b.data[0] = 'X'; /* not a chunk at all */
    assert_int_equal(sg_changelog_chunk_decode(b.data, b.len - 1, &c), SG_ERR_FORMAT);
    sg_buf_release(&b);
}

static void test_keys_and_slot(void **state)
{
    (void)state;
    struct sg_buf k, b;
    sg_buf_init(&k);
    sg_buf_init(&b);
    sg_changelog_put_key(&k, GRP, SRC, 3, 1, 12);
    assert_string_equal(k.data, GRP "/" SRC "/p3/s1/c12");
    assert_int_equal(sg_changelog_key_slot(k.data, k.len), 1);
    assert_int_equal(sg_changelog_key_slot("p0/s0/c0", 8), 0); /* the older format */
    assert_int_equal(sg_changelog_key_slot("a/b/p0/s1/c7", 12), 1);
    static const char *const bad[] = {"",       "c0",        "s0/c0",    "/s0/c", "/s2/c0",
                                      "/s0/d0", "p0/s0/c0x", "x/s00/c1", "/s0c1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(sg_changelog_key_slot(bad[i], strlen(bad[i])), -1);
    /* the picker reports the chosen snapshot's slot: the complete one at offset 200 in slot
     * 0, not the incomplete newer one in slot 1 being written over it */
    struct sg_changelog_pick *pk = sg_changelog_pick_new(SRC, GRP, 3);
    assert_int_equal(sg_changelog_pick_slot(pk), -1);
    chunk(&b, 1, SRC, GRP, 3, 100, 0, 1, 0, 2, 3, 1);
    sg_buf_reset(&k);
    sg_changelog_put_key(&k, GRP, SRC, 3, 1, 0);
    assert_int_equal(sg_changelog_pick_add(pk, k.data, k.len, b.data, b.len), SG_OK);
    chunk(&b, 2, SRC, GRP, 3, 200, 0, 1, 0, 2, 3, 2);
    sg_buf_reset(&k);
    sg_changelog_put_key(&k, GRP, SRC, 3, 0, 0);
    assert_int_equal(sg_changelog_pick_add(pk, k.data, k.len, b.data, b.len), SG_OK);
    chunk(&b, 3, SRC, GRP, 3, 300, 0, 0, 0, 2, 3, 3); /* chunk 0 of 2: incomplete */
    sg_buf_reset(&k);
    sg_changelog_put_key(&k, GRP, SRC, 3, 1, 0);
    assert_int_equal(sg_changelog_pick_add(pk, k.data, k.len, b.data, b.len), SG_OK);
    int64_t next;
    size_t n;
    assert_int_equal(sg_changelog_pick_best(pk, &next, &n), SG_OK);
    assert_int_equal(next, 200);
    assert_int_equal(sg_changelog_pick_slot(pk), 0);
    sg_changelog_pick_free(pk);
    /* without keys the slot is unknown */
    pk = sg_changelog_pick_new(SRC, GRP, 3);
    assert_int_equal(sg_changelog_pick_add(pk, NULL, 0, b.data, b.len), SG_OK);
    chunk(&b, 3, SRC, GRP, 3, 300, 1, 1, 2, 2, 3, 3);
    assert_int_equal(sg_changelog_pick_add(pk, NULL, 0, b.data, b.len), SG_OK);
    assert_int_equal(sg_changelog_pick_best(pk, &next, &n), SG_OK);
    assert_int_equal(next, 300);
    assert_int_equal(sg_changelog_pick_slot(pk), -1);
    sg_changelog_pick_free(pk);
    sg_buf_release(&k);
    sg_buf_release(&b);
}

static void test_pick_best_complete(void **state)
{
    (void)state;
    struct sg_buf b;
    sg_buf_init(&b);
    struct sg_changelog_pick *pk = sg_changelog_pick_new(SRC, GRP, 2);
    int64_t next = -1;
    size_t n = 0, chunks, refused, unusable;
    assert_int_equal(sg_changelog_pick_best(pk, &next, &n), SG_ERR_NOTFOUND); /* empty */
    /* snapshot 1 at offset 100: two chunks, 5 + 2 profiles, chunk 0 re-sent */
    chunk(&b, 1, SRC, GRP, 2, 100, 0, 0, 0, 5, 2, 1);
    add(pk, &b, SG_OK);
    add(pk, &b, SG_OK);
    chunk(&b, 1, SRC, GRP, 2, 100, 1, 1, 5, 2, 2, 1);
    add(pk, &b, SG_OK);
    /* snapshot 2 at offset 300: chunk 1 of 3 lost (a crash mid-publication) */
    chunk(&b, 2, SRC, GRP, 2, 300, 0, 0, 0, 5, 2, 2);
    add(pk, &b, SG_OK);
    chunk(&b, 2, SRC, GRP, 2, 300, 2, 1, 10, 2, 2, 2);
    add(pk, &b, SG_OK);
    /* snapshot 3 at offset 400: no chunk marked last */
    chunk(&b, 3, SRC, GRP, 2, 400, 0, 0, 0, 5, 2, 3);
    add(pk, &b, SG_OK);
    /* snapshot 4 at offset 500: complete, but a profile names partition 7 */
    chunk(&b, 4, SRC, GRP, 2, 500, 0, 1, 0, 5, 7, 4);
    add(pk, &b, SG_OK);
    /* chunks of another group, topic or partition, and garbage: refused */
    chunk(&b, 5, SRC, "other-group", 2, 900, 0, 1, 0, 5, 2, 5);
    add(pk, &b, SG_ERR_FORMAT);
    chunk(&b, 6, "other-topic", GRP, 2, 900, 0, 1, 0, 5, 2, 6);
    add(pk, &b, SG_ERR_FORMAT);
    chunk(&b, 7, SRC, GRP, 1, 900, 0, 1, 0, 5, 1, 7);
    add(pk, &b, SG_ERR_FORMAT);
    assert_int_equal(sg_changelog_pick_add(pk, NULL, 0, "hello", 5), SG_ERR_FORMAT);
    assert_int_equal(sg_changelog_pick_best(pk, &next, &n), SG_OK);
    assert_int_equal(next, 100);
    assert_int_equal(n, 7);
    struct seen s = {0};
    sg_changelog_pick_each(pk, note, &s);
    assert_int_equal(s.users, 7); /* the re-sent chunk once */
    assert_true(s.tag == 1);
    assert_string_equal(s.last, "u006");
    sg_changelog_pick_stats(pk, &chunks, &refused, &unusable);
    assert_int_equal(chunks, 7);
    assert_int_equal(refused, 4);
    assert_int_equal(unusable, 4);
    sg_changelog_pick_free(pk);
    sg_buf_release(&b);
}

static void test_pick_tie_and_corrupt_profile(void **state)
{
    (void)state;
    struct sg_buf b;
    sg_buf_init(&b);
    struct sg_changelog_pick *pk = sg_changelog_pick_new(SRC, GRP, 0);
    /* two complete snapshots at offset 50 (e.g. two owners in turn): the later one wins */
    chunk(&b, 9, SRC, GRP, 0, 50, 0, 1, 0, 3, 0, 1);
    add(pk, &b, SG_OK);
    chunk(&b, 8, SRC, GRP, 0, 50, 0, 1, 0, 3, 0, 2);
    add(pk, &b, SG_OK);
    /* a newer one whose profile bytes are damaged */
    chunk(&b, 10, SRC, GRP, 0, 60, 0, 1, 0, 3, 0, 3);
    struct sg_changelog_chunk c;
    assert_int_equal(sg_changelog_chunk_decode(b.data, b.len, &c), SG_OK);
    struct sg_buf one;
    sg_buf_init(&one);
    profile(&one, 0, 3);
    b.data[b.len - one.len] = 9; /* the last profile's format version */
    sg_buf_release(&one);
    add(pk, &b, SG_OK);
    int64_t next;
    size_t n;
    assert_int_equal(sg_changelog_pick_best(pk, &next, &n), SG_OK);
    assert_int_equal(next, 50);
    struct seen s = {0};
    sg_changelog_pick_each(pk, note, &s);
    assert_int_equal(s.users, 3);
    assert_true(s.tag == 2);
    sg_changelog_pick_free(pk);
    sg_buf_release(&b);
}

/* A changelog without compaction holds every snapshot: past the memory bound the picker
 * keeps the chunks of the 4 highest offsets only, and still finds the best usable one - here
 * an older one, the 3 newest being incomplete. */
static void test_pick_memory_bound(void **state)
{
    (void)state;
    struct sg_buf b;
    sg_buf_init(&b);
    struct sg_changelog_pick *pk = sg_changelog_pick_new(SRC, GRP, 1);
    chunk(&b, 1, SRC, GRP, 1, 0, 0, 1, 0, 4, 1, 0);
    sg_changelog_pick_set_max_bytes(pk, 3 * b.len); /* about 3 one-chunk snapshots */
    for (uint64_t id = 1; id <= 40; id++) {         /* complete snapshots at offsets 10..400 */
        chunk(&b, id, SRC, GRP, 1, (int64_t)id * 10, 0, 1, 0, 4, 1, id);
        add(pk, &b, SG_OK);
    }
    for (uint64_t id = 41; id <= 43; id++) { /* 3 newer ones, each missing its last chunk */
        chunk(&b, id, SRC, GRP, 1, (int64_t)id * 10, 0, 0, 0, 4, 1, id);
        add(pk, &b, SG_OK);
    }
    int64_t next;
    size_t n, chunks, refused, unusable;
    assert_int_equal(sg_changelog_pick_best(pk, &next, &n), SG_OK);
    assert_int_equal(next, 400);
    struct seen s = {0};
    sg_changelog_pick_each(pk, note, &s);
    assert_true(s.tag == 40);
    sg_changelog_pick_stats(pk, &chunks, &refused, &unusable);
    assert_int_equal(chunks, 43);
    assert_int_equal(refused, 0);
    assert_int_equal(unusable, 42); /* 39 dropped + 3 incomplete */
    sg_changelog_pick_free(pk);
    sg_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunk_round_trip),
        cmocka_unit_test(test_keys_and_slot),
        cmocka_unit_test(test_pick_best_complete),
        cmocka_unit_test(test_pick_tie_and_corrupt_profile),
        cmocka_unit_test(test_pick_memory_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
