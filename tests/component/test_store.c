/* Component tests of sg_store against a real RocksDB in a temporary directory: atomic batches,
 * the query API (time ranges both ways, paging cursors, per-user indexes, type/severity
 * filters), dedup index, offsets, counters, retention against the watermark, canonical dumps
 * independent of batch boundaries, reopen, and a secondary instance following the writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "storage/sg_store.h"

#define DAY INT64_C(86400000)
#define T0 INT64_C(1795000000000)

static char *tmpdir(void)
{
    char t[] = "/tmp/sg_store_test_XXXXXX";
    assert_non_null(mkdtemp(t));
    return strdup(t);
}

static void rmrf(const char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
}

static struct sg_store *open_rw(const char *dir, int64_t retention)
{
    struct sg_store *st;
    char err[512];
    int rc = sg_store_open(dir, SG_STORE_PRIMARY, NULL, retention, &st, err, sizeof err);
    if (rc != SG_OK)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, SG_OK);
    return st;
}

/* Event i: user u<i%3>, type i%5, ts T0 + i minutes, anomaly (severity i%4) every 4th. */
static void put_event(struct sg_store_batch *b, int i)
{
    char id[32], user[16], json[96];
    snprintf(id, sizeof id, "evt_%04d", i);
    snprintf(user, sizeof user, "u%d", i % 3);
    int64_t ts = T0 + (int64_t)i * 60000;
    int n = snprintf(json, sizeof json, "{\"event_id\":\"%s\",\"n\":%d}", id, i);
    sg_store_batch_put_event(b, ts, id, strlen(id), user, strlen(user), i % 5, (uint64_t)i + 1,
                             json, (size_t)n);
    if (i % 4 == 0) {
        n = snprintf(json, sizeof json, "{\"anomaly\":\"%s\",\"sev\":%d}", id, (i / 4) % 4);
        sg_store_batch_put_anomaly(b, ts, id, strlen(id), user, strlen(user), (i / 4) % 4, json,
                                   (size_t)n);
    }
}

static void fill(struct sg_store *st, int n, int per_batch)
{
    struct sg_store_batch *b = sg_store_batch_new(st);
    for (int i = 0; i < n; i++) {
        put_event(b, i);
        if ((i + 1) % per_batch == 0 || i == n - 1) {
            char u[16];
            for (int k = 0; k < 3; k++) {
                snprintf(u, sizeof u, "u%d", k);
                char blob[32];
                int bl = snprintf(blob, sizeof blob, "state-%d-%d", k, i);
                sg_store_batch_put_user(b, u, strlen(u), blob, (size_t)bl);
            }
            sg_store_batch_put_offset(b, "security-events", 3, i + 1);
            sg_store_batch_put_stat(b, "events_total", (uint64_t)i + 1);
            assert_int_equal(sg_store_write(st, b, 0), SG_OK);
            assert_int_equal(sg_store_batch_count(b), 0);
        }
    }
    sg_store_batch_free(b);
}

struct rows {
    int n;
    int64_t ts[400];
    int kind[400];
    char ids[400][16];
};

static int collect(void *ctx, const struct sg_store_row *r)
{
    struct rows *rs = ctx;
    rs->ts[rs->n] = r->ts_ms;
    rs->kind[rs->n] = r->kind;
    snprintf(rs->ids[rs->n], sizeof rs->ids[0], "%.*s", (int)r->id_len, r->event_id);
    assert_non_null(memmem(r->json, r->json_len, rs->ids[rs->n], r->id_len));
    rs->n++;
    return 0;
}

static void test_queries(void **state)
{
    (void)state;
    char *dir = tmpdir();
    struct sg_store *st = open_rw(dir, 0);
    fill(st, 100, 7);
    struct rows rs = {0};
    struct sg_buf cur;
    sg_buf_init(&cur);
    /* ascending, all, paged by 30: 30+30+30+10 with a cursor except on the last page */
    struct sg_store_query q = {.kind = -1, .limit = 30};
    int pages = 0;
    char saved[1100];
    do {
        assert_int_equal(sg_store_query_events(st, &q, collect, &rs, &cur), SG_OK);
        pages++;
        snprintf(saved, sizeof saved, "%s", cur.data ? cur.data : "");
        q.cursor = saved;
    } while (cur.len > 0);
    assert_int_equal(pages, 4);
    assert_int_equal(rs.n, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(rs.ts[i], T0 + i * 60000);
    /* the same with the cursor read from the buffer the next one is written to (how the
     * rolling rebuild pages), by time and by user: every row once, and the walk ends */
    for (int by_user = 0; by_user < 2; by_user++) {
        memset(&rs, 0, sizeof rs);
        struct sg_store_query qa = {.kind = -1, .limit = 7, .user = by_user ? "u1" : NULL};
        sg_buf_reset(&cur);
        for (pages = 0; pages < 50; pages++) {
            assert_int_equal(sg_store_query_events(st, &qa, collect, &rs, &cur), SG_OK);
            if (!cur.len)
                break;
            qa.cursor = cur.data;
        }
        int want = by_user ? 33 : 100; /* u1: i % 3 == 1 */
        assert_int_equal(rs.n, want);
        assert_int_equal(pages, (want - 1) / 7);
        for (int i = 0; i < want; i++)
            assert_int_equal(rs.ts[i], T0 + (int64_t)(by_user ? 3 * i + 1 : i) * 60000);
    }
    /* descending within [10min, 20min) of type 2 */
    memset(&rs, 0, sizeof rs);
    struct sg_store_query q2 = {.from_ms = T0 + 10 * 60000, .to_ms = T0 + 20 * 60000,
                                .kind = 2, .newest_first = 1};
    assert_int_equal(sg_store_query_events(st, &q2, collect, &rs, &cur), SG_OK);
    assert_int_equal(rs.n, 2); /* i = 17, 12 */
    assert_string_equal(rs.ids[0], "evt_0017");
    assert_string_equal(rs.ids[1], "evt_0012");
    assert_int_equal(cur.len, 0);
    /* by user u1, descending, paged by 10 */
    memset(&rs, 0, sizeof rs);
    struct sg_store_query q3 = {.user = "u1", .kind = -1, .newest_first = 1, .limit = 10};
    do {
        assert_int_equal(sg_store_query_events(st, &q3, collect, &rs, &cur), SG_OK);
        snprintf(saved, sizeof saved, "%s", cur.data ? cur.data : "");
        q3.cursor = saved;
    } while (cur.len > 0);
    assert_int_equal(rs.n, 33); /* i = 1, 4, ..., 97 */
    assert_string_equal(rs.ids[0], "evt_0097");
    assert_string_equal(rs.ids[32], "evt_0001");
    /* anomalies with severity >= 2 (i/4 % 4 in {2,3}): 12 of 25 */
    memset(&rs, 0, sizeof rs);
    struct sg_store_query q4 = {.kind = 2, .limit = 1000};
    assert_int_equal(sg_store_query_anomalies(st, &q4, collect, &rs, &cur), SG_OK);
    assert_int_equal(rs.n, 12);
    for (int i = 0; i < rs.n; i++)
        assert_true(rs.kind[i] >= 2);
    /* anomalies of user u0 (i % 12 == 0 among i%4==0, i%3==0): 0,12,...,96 = 9 */
    memset(&rs, 0, sizeof rs);
    struct sg_store_query q5 = {.user = "u0", .kind = 0, .limit = 1000};
    assert_int_equal(sg_store_query_anomalies(st, &q5, collect, &rs, &cur), SG_OK);
    assert_int_equal(rs.n, 9);
    /* a cursor for another user is refused */
    struct sg_store_query q6 = {.user = "u2", .kind = -1, .cursor = "zz"};
    assert_int_equal(sg_store_query_events(st, &q6, collect, &rs, &cur), SG_ERR_INVALID);
    /* point reads */
    struct sg_buf v;
    sg_buf_init(&v);
    assert_int_equal(sg_store_event_get(st, "evt_0042", 8, &v), SG_OK);
    assert_string_equal(v.data, "{\"event_id\":\"evt_0042\",\"n\":42}");
    assert_int_equal(sg_store_event_get(st, "evt_9999", 8, &v), SG_ERR_NOTFOUND);
    assert_int_equal(sg_store_event_seen(st, "evt_0099", 8), 1);
    assert_int_equal(sg_store_event_seen(st, "evt_0100", 8), 0);
    assert_int_equal(sg_store_user_get(st, "u2", 2, &v), SG_OK);
    assert_string_equal(v.data, "state-2-99");
    assert_int_equal(sg_store_user_get(st, "nobody", 6, &v), SG_ERR_NOTFOUND);
    int64_t off = -1;
    assert_int_equal(sg_store_offset_get(st, "security-events", 3, &off), SG_OK);
    assert_int_equal(off, 100);
    assert_int_equal(sg_store_offset_get(st, "security-events", 4, &off), SG_ERR_NOTFOUND);
    assert_int_equal(sg_store_stat_get(st, "events_total"), 100);
    assert_int_equal(sg_store_watermark(st), T0 + 99 * 60000);
    assert_true(sg_store_size_bytes(st) > 0);
    sg_buf_release(&v);
    sg_buf_release(&cur);
    sg_store_close(st);
    /* reopen: everything persisted */
    st = open_rw(dir, 0);
    assert_int_equal(sg_store_stat_get(st, "events_total"), 100);
    assert_int_equal(sg_store_watermark(st), T0 + 99 * 60000);
    sg_store_close(st);
    rmrf(dir);
    free(dir);
}

static char *dump(struct sg_store *st)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(sg_store_dump(st, f), SG_OK);
    fclose(f);
    return buf;
}

static void test_dump_canonical(void **state)
{
    (void)state;
    char *d1 = tmpdir(), *d2 = tmpdir();
    struct sg_store *a = open_rw(d1, 0), *b = open_rw(d2, 0);
    fill(a, 100, 100);
    fill(b, 100, 3); /* different batch boundaries, same final content */
    char *x = dump(a), *y = dump(b);
    assert_string_equal(x, y);
    assert_true(strlen(x) > 1000);
    /* one more event in b: the dumps differ */
    struct sg_store_batch *bb = sg_store_batch_new(b);
    put_event(bb, 100);
    assert_int_equal(sg_store_write(b, bb, 1), SG_OK);
    sg_store_batch_free(bb);
    free(y);
    y = dump(b);
    assert_string_not_equal(x, y);
    free(x);
    free(y);
    sg_store_close(a);
    sg_store_close(b);
    rmrf(d1);
    rmrf(d2);
    free(d1);
    free(d2);
}

/* Retention (range deletes, the compaction filter) in a plain primary and in append mode,
 * whose events CF has a vector memtable. */
static void retention_in(enum sg_store_mode mode)
{
    char *dir = tmpdir();
    struct sg_store *st;
    char err[512];
    assert_int_equal(sg_store_open(dir, mode, NULL, DAY, &st, err, sizeof err), SG_OK);
    fill(st, 10, 10); /* T0 .. T0+9min */
    assert_int_equal(sg_store_event_seen(st, "evt_0000", 8), 1);
    struct sg_store_batch *b = sg_store_batch_new(st);
    /* an event two days later expires everything before T0 + 1 day */
    sg_store_batch_put_event(b, T0 + 2 * DAY, "late", 4, "u9", 2, 0, 1, "\"late\"", 6);
    assert_int_equal(sg_store_write(st, b, 0), SG_OK);
    sg_store_batch_free(b);
    assert_int_equal(sg_store_cutoff(st), T0 + DAY);
    assert_int_equal(sg_store_event_seen(st, "evt_0000", 8), 0);
    struct sg_buf v, cur;
    sg_buf_init(&v);
    sg_buf_init(&cur);
    assert_int_equal(sg_store_event_get(st, "evt_0003", 8, &v), SG_ERR_NOTFOUND);
    struct rows rs = {0};
    struct sg_store_query q = {.kind = -1, .limit = 100};
    assert_int_equal(sg_store_query_events(st, &q, collect, &rs, &cur), SG_OK);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.ids[0], "late");
    memset(&rs, 0, sizeof rs);
    q.user = "u1";
    assert_int_equal(sg_store_query_events(st, &q, collect, &rs, &cur), SG_OK);
    assert_int_equal(rs.n, 0);
    char *d = dump(st);
    assert_null(strstr(d, "6576745f30303033")); /* hex("evt_0003") gone from every CF */
    assert_non_null(strstr(d, "users\t"));       /* users never expire */
    free(d);
    /* a far-future event (bad clock or attacker) is stored but does not move the watermark,
     * so it cannot expire the evidence stored before it */
    b = sg_store_batch_new(st);
    sg_store_batch_put_event(b, INT64_C(4070908800000), "future", 6, "u9", 2, 0, 2, "\"future\"",
                             8);
    assert_int_equal(sg_store_write(st, b, 0), SG_OK);
    sg_store_batch_free(b);
    assert_int_equal(sg_store_watermark(st), T0 + 2 * DAY);
    assert_int_equal(sg_store_event_seen(st, "late", 4), 1);
    assert_int_equal(sg_store_event_seen(st, "future", 6), 1);
    sg_buf_release(&v);
    sg_buf_release(&cur);
    sg_store_close(st);
    rmrf(dir);
    free(dir);
}

/* An id-only entry (a partition taken over through the changelog): the id counts as seen -
 * de-duplication - until its time expires, but there is no event to read, in any CF. */
static void test_event_id_only(void **state)
{
    (void)state;
    char *dir = tmpdir();
    struct sg_store *st;
    char err[512];
    assert_int_equal(sg_store_open(dir, SG_STORE_PRIMARY_APPEND, NULL, DAY, &st, err, sizeof err),
                     SG_OK);
    struct sg_store_batch *b = sg_store_batch_new(st);
    sg_store_batch_put_event_id(b, T0, "elsewhere", 9);
    assert_int_equal(sg_store_batch_count(b), 1);
    assert_int_equal(sg_store_write(st, b, 0), SG_OK);
    assert_int_equal(sg_store_event_seen(st, "elsewhere", 9), 1);
    assert_int_equal(sg_store_watermark(st), T0);
    struct sg_buf v, cur;
    sg_buf_init(&v);
    sg_buf_init(&cur);
    assert_int_equal(sg_store_event_get(st, "elsewhere", 9, &v), SG_ERR_NOTFOUND);
    struct rows rs = {0};
    struct sg_store_query q = {.kind = -1, .limit = 100};
    assert_int_equal(sg_store_query_events(st, &q, collect, &rs, &cur), SG_OK);
    assert_int_equal(rs.n, 0);
    /* it expires with the retention, like the ids of stored events */
    sg_store_batch_clear(b);
    sg_store_batch_put_event(b, T0 + 2 * DAY, "late", 4, "u9", 2, 0, 1, "\"late\"", 6);
    assert_int_equal(sg_store_write(st, b, 0), SG_OK);
    assert_int_equal(sg_store_event_seen(st, "elsewhere", 9), 0);
    sg_store_batch_free(b);
    sg_buf_release(&v);
    sg_buf_release(&cur);
    sg_store_close(st);
    rmrf(dir);
    free(dir);
}

static void test_retention(void **state)
{
    (void)state;
    retention_in(SG_STORE_PRIMARY);
    retention_in(SG_STORE_PRIMARY_APPEND);
}

static void test_secondary(void **state)
{
    (void)state;
    char *dir = tmpdir();
    struct sg_store *w = open_rw(dir, 0);
    fill(w, 10, 10);
    struct sg_store *r;
    char err[512];
    assert_int_equal(sg_store_open(dir, SG_STORE_SECONDARY, NULL, 0, &r, err, sizeof err), SG_OK);
    assert_int_equal(sg_store_stat_get(r, "events_total"), 10);
    /* a second writer is refused while the first holds the lock */
    struct sg_store *w2;
    assert_int_not_equal(sg_store_open(dir, SG_STORE_PRIMARY, NULL, 0, &w2, err, sizeof err),
                         SG_OK);
    struct sg_store_batch *b = sg_store_batch_new(w);
    put_event(b, 10);
    sg_store_batch_put_stat(b, "events_total", 11);
    assert_int_equal(sg_store_write(w, b, 0), SG_OK);
    sg_store_batch_free(b);
    assert_int_equal(sg_store_stat_get(r, "events_total"), 10);
    assert_int_equal(sg_store_catch_up(r), SG_OK);
    assert_int_equal(sg_store_stat_get(r, "events_total"), 11);
    assert_int_equal(sg_store_event_seen(r, "evt_0010", 8), 1);
    assert_int_equal(sg_store_watermark(r), T0 + 10 * 60000);
    sg_store_close(r);
    sg_store_close(w);
    /* a missing database is unavailable to readers */
    assert_int_equal(sg_store_open("/tmp/sg-no-such-db", SG_STORE_READONLY, NULL, 0, &r, err,
                                   sizeof err), SG_ERR_UNAVAILABLE);
    rmrf(dir);
    free(dir);
}

/* The batched dedup lookup answers for stored, never-stored and expired ids in any order, across
 * its internal chunks of 128, and the single lookup agrees. */
static void test_events_seen_batched(void **state)
{
    (void)state;
    char *dir = tmpdir();
    struct sg_store *st = open_rw(dir, DAY);
    fill(st, 300, 64);
    struct sg_store_batch *b = sg_store_batch_new(st);
    /* expires the first 100 events (T0 + 1 day + 100 min - 1 day = T0 + 100 min) */
    sg_store_batch_put_event(b, T0 + DAY + 100 * 60000, "late", 4, "u9", 2, 0, 1, "1", 1);
    assert_int_equal(sg_store_write(st, b, 0), SG_OK);
    sg_store_batch_free(b);
    enum { N = 333 };
    char idbuf[N][16];
    const char *ids[N];
    size_t lens[N];
    int seen[N];
    for (int i = 0; i < N; i++) {
        /* stored and expired, stored and live, never stored, interleaved */
        int k = (i * 7919) % 400;
        snprintf(idbuf[i], sizeof idbuf[i], "evt_%04d", k);
        ids[i] = idbuf[i];
        lens[i] = strlen(idbuf[i]);
    }
    assert_int_equal(sg_store_events_seen(st, N, ids, lens, seen), SG_OK);
    for (int i = 0; i < N; i++) {
        int k = (i * 7919) % 400, live = k >= 100 && k < 300; /* stored, not expired */
        assert_int_equal(seen[i], live);
        assert_int_equal(sg_store_event_seen(st, ids[i], lens[i]), live);
    }
    assert_int_equal(sg_store_events_seen(st, 0, ids, lens, seen), SG_OK);
    sg_store_close(st);
    rmrf(dir);
    free(dir);
}

/* A writer opened with append-only memtables stores and reads back exactly what a plain
 * primary does (reads of its vector memtables are slow, not wrong), before and after reopen. */
static void test_append_mode(void **state)
{
    (void)state;
    char *d1 = tmpdir(), *d2 = tmpdir();
    struct sg_store *a, *p = open_rw(d2, 0);
    char err[512];
    assert_int_equal(sg_store_open(d1, SG_STORE_PRIMARY_APPEND, NULL, 0, &a, err, sizeof err),
                     SG_OK);
    fill(a, 200, 9);
    fill(p, 200, 9);
    char *x = dump(a), *y = dump(p);
    assert_string_equal(x, y);
    struct rows rs = {0};
    struct sg_buf cur;
    sg_buf_init(&cur);
    struct sg_store_query q = {.kind = -1, .limit = 400, .user = "u2"};
    assert_int_equal(sg_store_query_events(a, &q, collect, &rs, &cur), SG_OK);
    assert_int_equal(rs.n, 66); /* i % 3 == 2 for i < 200 */
    for (int i = 1; i < rs.n; i++)
        assert_true(rs.ts[i] >= rs.ts[i - 1]);
    sg_store_close(a);
    free(x);
    assert_int_equal(sg_store_open(d1, SG_STORE_READONLY, NULL, 0, &a, err, sizeof err), SG_OK);
    x = dump(a);
    assert_string_equal(x, y);
    sg_buf_release(&cur);
    free(x);
    free(y);
    sg_store_close(a);
    sg_store_close(p);
    rmrf(d1);
    rmrf(d2);
    free(d1);
    free(d2);
}

struct ulist {
    char name[128][16], val[128][16];
    size_t n;
};

static void ulist_add(void *ctx, const char *user, size_t ul, const void *blob, size_t bl)
{
    struct ulist *l = ctx;
    assert_true(l->n < 128 && ul < 16 && bl < 16);
    memcpy(l->name[l->n], user, ul);
    l->name[l->n][ul] = 0;
    memcpy(l->val[l->n], blob, bl);
    l->val[l->n][bl] = 0;
    l->n++;
}

/* One batch may put the same key several times (among other keys, in any order): the last put
 * wins, whatever the store does to order the batch. */
static void test_last_put_wins(void **state)
{
    (void)state;
    char *dir = tmpdir();
    struct sg_store *st = open_rw(dir, 0);
    struct sg_store_batch *b = sg_store_batch_new(st);
    char user[16], blob[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(user, sizeof user, "user%d", (i * 37) % 101);
        int n = snprintf(blob, sizeof blob, "v%d", i);
        sg_store_batch_put_user(b, user, strlen(user), blob, (size_t)n);
    }
    assert_int_equal(sg_store_write(st, b, 0), SG_OK);
    sg_store_batch_free(b);
    struct sg_buf v;
    sg_buf_init(&v);
    for (int u = 0; u < 101; u++) {
        int last = -1;
        for (int i = 0; i < 3000; i++)
            if ((i * 37) % 101 == u)
                last = i;
        snprintf(user, sizeof user, "user%d", u);
        assert_int_equal(sg_store_user_get(st, user, strlen(user), &v), SG_OK);
        snprintf(blob, sizeof blob, "v%d", last);
        assert_int_equal(v.len, strlen(blob));
        assert_memory_equal(v.data, blob, v.len);
    }
    /* the writer's profiles memtable is hash-indexed: a listing through the same handle
     * still sees every user once, in key order, with its last version, from the first key
     * and after one */
    struct ulist l = {0};
    assert_int_equal(sg_store_users_each(st, NULL, SIZE_MAX, ulist_add, &l), 101);
    assert_int_equal(l.n, 101);
    for (size_t i = 1; i < l.n; i++)
        assert_true(strcmp(l.name[i - 1], l.name[i]) < 0);
    for (size_t i = 0; i < l.n; i++) {
        assert_int_equal(sg_store_user_get(st, l.name[i], strlen(l.name[i]), &v), SG_OK);
        assert_string_equal(l.val[i], v.data);
    }
    struct ulist after = {0};
    assert_int_equal(sg_store_users_each(st, "user5", 3, ulist_add, &after), 3);
    assert_string_equal(after.name[0], "user50");
    assert_string_equal(after.name[2], "user52");
    sg_buf_release(&v);
    sg_store_close(st);
    rmrf(dir);
    free(dir);
}

struct ob_list {
    uint64_t seq[16];
    char rec[16][8];
    size_t n;
};

static void ob_collect(void *ctx, uint64_t seq, const void *rec, size_t len)
{
    struct ob_list *l = ctx;
    assert_true(l->n < 16 && len < 8);
    l->seq[l->n] = seq;
    memcpy(l->rec[l->n], rec, len);
    l->rec[l->n][len] = 0;
    l->n++;
}

/* The outbox: records put in two batches come back in seq order (also after a reopen, and
 * seq 256 sorts after 255: big-endian keys), a range delete removes exactly the seqs up to
 * its mark, point reads see the same, the meta keys next to them are untouched, and a delete
 * up to the highest seq empties it. */
static void test_outbox(void **state)
{
    (void)state;
    char *dir = tmpdir();
    struct sg_store *st = open_rw(dir, 0);
    struct sg_store_batch *b = sg_store_batch_new(st);
    static const uint64_t seqs[] = {5, 6, 255, 256, 70000};
    char rec[8];
    for (size_t i = 0; i < 5; i++) {
        snprintf(rec, sizeof rec, "r%zu", i);
        sg_store_batch_put_outbox(b, seqs[i], rec, strlen(rec));
        if (i == 2) { /* two batches */
            sg_store_batch_watermark(b, T0);
            assert_int_equal(sg_store_write(st, b, 0), SG_OK);
        }
    }
    assert_int_equal(sg_store_write(st, b, 0), SG_OK);
    sg_store_close(st);
    st = open_rw(dir, 0);
    struct ob_list l = {.n = 0};
    assert_int_equal(sg_store_outbox_each(st, ob_collect, &l), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(l.seq[i], seqs[i]);
        snprintf(rec, sizeof rec, "r%zu", i);
        assert_string_equal(l.rec[i], rec);
    }
    sg_store_batch_free(b);
    b = sg_store_batch_new(st);
    sg_store_batch_del_outbox(b, 255); /* 5, 6, 255 go; 256 and 70000 stay */
    assert_int_equal(sg_store_write(st, b, 0), SG_OK);
    l.n = 0;
    assert_int_equal(sg_store_outbox_each(st, ob_collect, &l), 2);
    assert_int_equal(l.seq[0], 256);
    assert_int_equal(l.seq[1], 70000);
    struct sg_buf v;
    sg_buf_init(&v);
    assert_int_equal(sg_store_outbox_get(st, 255, &v), SG_ERR_NOTFOUND);
    assert_int_equal(sg_store_outbox_get(st, 256, &v), SG_OK);
    assert_int_equal(v.len, 2);
    assert_memory_equal(v.data, "r3", 2);
    assert_int_equal(sg_store_watermark(st), T0); /* the meta CF's other keys survive */
    sg_store_batch_del_outbox(b, 70000); /* the highest seq: all */
    assert_int_equal(sg_store_write(st, b, 0), SG_OK);
    assert_int_equal(sg_store_outbox_each(st, NULL, NULL), 0);
    assert_int_equal(sg_store_watermark(st), T0);
    sg_buf_release(&v);
    sg_store_batch_free(b);
    sg_store_close(st);
    st = open_rw(dir, 0);
    assert_int_equal(sg_store_watermark(st), T0); /* still there after a reopen */
    assert_int_equal(sg_store_outbox_each(st, NULL, NULL), 0);
    sg_store_close(st);
    rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_dump_canonical),
        cmocka_unit_test(test_retention),
        cmocka_unit_test(test_event_id_only),
        cmocka_unit_test(test_secondary),
        cmocka_unit_test(test_events_seen_batched),
        cmocka_unit_test(test_append_mode),
        cmocka_unit_test(test_last_put_wins),
        cmocka_unit_test(test_outbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
