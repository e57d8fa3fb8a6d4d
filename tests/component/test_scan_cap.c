/* Component test of bounded filtered listings, with a real RocksDB store in a temp dir whose
 * type/severity filter matches only the oldest rows: sg_store_query's max_scan (a page stops
 * after that many rows examined, with a cursor after the last one), then sg_serve on
 * 127.0.0.1:0 over real HTTP - /api/events?type=, /api/anomalies?severity= and a user's
 * filtered events stop at SG_API_MAX_SCAN rows with "scan_capped":true and a cursor, and
 * paging on reaches every matching row exactly once. Not a test of the other listings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "../support/http_client.h"
#include "core/sg_err.h"
#include "core/sg_event.h"
#include "serving/sg_api.h"
#include "serving/sg_serve.h"
#include "storage/sg_store.h"

#define T0 INT64_C(1795000000000)
#define NOLD 30 /* the oldest rows: dns_query events, critical anomalies */
#define NROWS (2 * SG_API_MAX_SCAN + 5000 + NOLD)

struct fx {
    char dir[64], db[96];
    struct sg_store *st;
    struct sg_serve *sv;
    uint16_t port;
};

/* Row i: event evt_<i> of user u<i % 2> at T0 + i s, and an anomaly of it; rows i < NOLD are
 * dns_query / critical, every newer one auth_attempt / low. */
static void write_rows(struct sg_store *st)
{
    struct sg_store_batch *b = sg_store_batch_new(st);
    for (int i = 0; i < NROWS; i++) {
        char id[32], user[8], json[200];
        snprintf(id, sizeof id, "evt_%06d", i);
        snprintf(user, sizeof user, "u%d", i % 2);
        int64_t ts = T0 + (int64_t)i * 1000;
        int old = i < NOLD;
        int n = snprintf(json, sizeof json,
                         "{\"event_id\":\"%s\",\"timestamp\":%lld,\"event_type\":\"%s\","
                         "\"user\":\"%s\"}",
                         id, (long long)ts, old ? "dns_query" : "auth_attempt", user);
        sg_store_batch_put_event(b, ts, id, strlen(id), user, 2, old ? SG_EV_DNS : SG_EV_AUTH,
                                 (uint64_t)i / 2 + 1, json, (size_t)n);
        n = snprintf(json, sizeof json,
                     "{\"event_id\":\"%s\",\"timestamp\":%lld,\"user\":\"%s\",\"severity\":\"%s\"}",
                     id, (long long)ts, user, old ? "critical" : "low");
        sg_store_batch_put_anomaly(b, ts, id, strlen(id), user, 2, old ? 3 : 0, json, (size_t)n);
        if (sg_store_batch_count(b) >= 20000 || i == NROWS - 1) {
            if (i == NROWS - 1)
                sg_store_batch_watermark(b, ts);
            assert_int_equal(sg_store_write(st, b, 0), SG_OK);
        }
    }
    sg_store_batch_free(b);
}

/* One store for the whole group (writing it is most of the run time). */
static struct fx the_fx;

static int setup(void **state)
{
    struct fx *f = &the_fx;
    snprintf(f->dir, sizeof f->dir, "/tmp/sg_scancap_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%.63s/db", f->dir);
    char err[512];
    assert_int_equal(sg_store_open(f->db, SG_STORE_PRIMARY, NULL, 0, &f->st, err, sizeof err),
                     SG_OK);
    write_rows(f->st);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", the_fx.dir);
    sg_serve_stop(the_fx.sv); /* started by the HTTP test; NULL-safe */
    sg_store_close(the_fx.st);
    return system(cmd) == 0 ? 0 : -1;
}

struct rows {
    int n;
    int seen[NOLD];
};

static int collect(void *ctx, const struct sg_store_row *row)
{
    struct rows *rs = ctx;
    int i = atoi(row->event_id + 4);
    assert_true(i < NOLD); /* only the matching rows are handed out */
    rs->seen[i]++;
    rs->n++;
    return 0;
}

/* Runs q page by page (max_scan set by the caller); returns the pages, fills rs. Every page
 * but the last is either full or capped, and a capped page is never full. */
static int pages_of(struct sg_store *st, struct sg_store_query *q, int anomalies,
                    struct rows *rs, int *capped_pages)
{
    struct sg_buf cur;
    sg_buf_init(&cur);
    char saved[1100] = "";
    int pages = 0, capped;
    q->capped = &capped;
    *capped_pages = 0;
    do {
        int before = rs->n;
        q->cursor = saved[0] ? saved : NULL;
        int rc = anomalies ? sg_store_query_anomalies(st, q, collect, rs, &cur)
                           : sg_store_query_events(st, q, collect, rs, &cur);
        assert_int_equal(rc, SG_OK);
        pages++;
        *capped_pages += capped;
        if (capped)
            assert_true((size_t)(rs->n - before) < q->limit && cur.len > 0);
        else if (cur.len > 0)
            assert_int_equal(rs->n - before, (int)q->limit);
        snprintf(saved, sizeof saved, "%s", cur.len ? cur.data : "");
    } while (cur.len > 0 && pages < 1000);
    sg_buf_release(&cur);
    return pages;
}

static void test_store_max_scan(void **state)
{
    struct fx *f = *state;
    /* newest first, dns only, 1000 rows examined per page: the 30 oldest rows come after
     * ceil((NROWS - NOLD) / 1000) capped pages, each exactly once */
    struct rows rs = {0};
    int capped;
    struct sg_store_query q = {.kind = SG_EV_DNS, .newest_first = 1, .limit = 50,
                               .max_scan = 1000};
    int pages = pages_of(f->st, &q, 0, &rs, &capped);
    assert_int_equal(rs.n, NOLD);
    for (int i = 0; i < NOLD; i++)
        assert_int_equal(rs.seen[i], 1);
    assert_int_equal(capped, (NROWS - NOLD) / 1000);
    assert_int_equal(pages, capped + 1);
    /* the same for the anomalies (minimum severity critical), ascending: the first page has
     * them all and is capped (1000 rows examined, 30 found), the rest are empty */
    memset(&rs, 0, sizeof rs);
    struct sg_store_query qa = {.kind = 3, .limit = 100, .max_scan = 1000};
    pages = pages_of(f->st, &qa, 1, &rs, &capped);
    assert_int_equal(rs.n, NOLD);
    assert_int_equal(pages, (NROWS + 999) / 1000);
    assert_int_equal(capped, pages - 1);
    /* a full page is not "capped" even when the cap is reached on the same row */
    struct sg_buf cur;
    sg_buf_init(&cur);
    struct sg_store_query q2 = {.kind = SG_EV_DNS, .limit = 5, .max_scan = 5, .capped = &capped};
    memset(&rs, 0, sizeof rs);
    assert_int_equal(sg_store_query_events(f->st, &q2, collect, &rs, &cur), SG_OK);
    assert_int_equal(rs.n, 5);
    assert_int_equal(capped, 0);
    assert_true(cur.len > 0);
    /* the cap reached on the range's last row: the scan is complete, no cursor */
    struct sg_store_query q3 = {.from_ms = T0, .to_ms = T0 + 10 * 1000, .kind = SG_EV_AUTH,
                                .limit = 5, .max_scan = 10, .capped = &capped};
    assert_int_equal(sg_store_query_events(f->st, &q3, collect, &rs, &cur), SG_OK);
    assert_int_equal(capped, 0);
    assert_int_equal(cur.len, 0);
    /* one row short: capped, and the cursor's page examines that one row */
    q3.max_scan = 9;
    assert_int_equal(sg_store_query_events(f->st, &q3, collect, &rs, &cur), SG_OK);
    assert_int_equal(capped, 1);
    assert_true(cur.len > 0);
    char saved[1100];
    snprintf(saved, sizeof saved, "%s", cur.data);
    q3.cursor = saved;
    assert_int_equal(sg_store_query_events(f->st, &q3, collect, &rs, &cur), SG_OK);
    assert_int_equal(capped, 0);
    assert_int_equal(cur.len, 0);
    assert_int_equal(rs.n, 5); /* no auth_attempt among the 10 oldest */
    /* max_scan 0: no cap - one page scans the whole store (and capped may be NULL) */
    memset(&rs, 0, sizeof rs);
    struct sg_store_query q4 = {.kind = SG_EV_DNS, .newest_first = 1, .limit = 50};
    assert_int_equal(sg_store_query_events(f->st, &q4, collect, &rs, &cur), SG_OK);
    assert_int_equal(rs.n, NOLD);
    assert_int_equal(cur.len, 0);
    sg_buf_release(&cur);
}

struct page {
    int count, capped, rows_header;
    char next[512]; /* "" when null */
};

/* GETs one page and checks the list's shape; fills p and, with seen non-NULL, checks that
 * every row listed is one of the NOLD oldest and marks it. */
static void get_page(struct fx *f, const char *target, const char *member, struct page *p,
                     int *seen)
{
    struct http_reply r;
    int st = http_get(f->port, target, NULL, &r);
    if (st != 200)
        fprintf(stderr, "GET %s: %d %s\n", target, st, r.body ? r.body : "");
    assert_int_equal(st, 200);
    char scan[128];
    assert_non_null(http_header(&r, "X-StreamGuard-Scan", scan, sizeof scan));
    const char *rows = strstr(scan, "rows=");
    assert_non_null(rows);
    p->rows_header = atoi(rows + 5);
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    const cJSON *arr = cJSON_GetObjectItem(j, member), *it;
    p->count = cJSON_GetObjectItem(j, "count")->valueint;
    assert_int_equal(cJSON_GetArraySize(arr), p->count);
    cJSON_ArrayForEach(it, arr)
    {
        int i = atoi(cJSON_GetObjectItem(it, "event_id")->valuestring + 4);
        if (seen) {
            assert_true(i < NOLD);
            seen[i]++;
        }
    }
    const cJSON *cap = cJSON_GetObjectItem(j, "scan_capped");
    assert_true(cJSON_IsBool(cap));
    p->capped = cJSON_IsTrue(cap);
    const cJSON *next = cJSON_GetObjectItem(j, "next_cursor");
    snprintf(p->next, sizeof p->next, "%s", cJSON_IsString(next) ? next->valuestring : "");
    cJSON_Delete(j);
    http_reply_free(&r);
}

/* Pages through `first` over HTTP; returns the pages and how many were capped, checks that
 * every matching row (the `want` oldest with index step `step`) came exactly once. */
static int walk(struct fx *f, const char *first, const char *member, int want, int step,
                int *capped_pages, struct page *first_page)
{
    int seen[NOLD] = {0}, total = 0, pages = 0;
    char target[1024];
    snprintf(target, sizeof target, "%s", first);
    *capped_pages = 0;
    for (;;) {
        struct page p;
        get_page(f, target, member, &p, seen);
        if (pages++ == 0)
            *first_page = p;
        total += p.count;
        *capped_pages += p.capped;
        if (p.capped)
            assert_true(p.next[0]); /* capped always hands out a way on */
        if (!p.next[0])
            break;
        assert_true(pages < 100);
        snprintf(target, sizeof target, "%s&cursor=%s", first, p.next);
    }
    assert_int_equal(total, want);
    for (int i = 0; i < NOLD; i++)
        assert_int_equal(seen[i], i % step == 0 ? 1 : 0);
    return pages;
}

static void test_http_capped_pages(void **state)
{
    struct fx *f = *state;
    char err[512];
    struct sg_serve_opts o = {.db = f->db, .batch_dir = "/nonexistent", .listen = "127.0.0.1:0",
                              .refresh_ms = 60000};
    assert_int_equal(sg_serve_start(&o, &f->sv, err, sizeof err), SG_OK);
    f->port = sg_serve_port(f->sv);
    assert_int_equal(sg_serve_refresh(f->sv), SG_OK);
    int capped;
    struct page p1;
    /* newest first: two capped empty pages (SG_API_MAX_SCAN rows each), then the 30 */
    int pages = walk(f, "/api/events?type=dns_query&limit=50", "events", NOLD, 1, &capped, &p1);
    assert_int_equal(p1.count, 0);
    assert_true(p1.capped);
    assert_int_equal(p1.rows_header, 0);
    assert_int_equal(pages, 3);
    assert_int_equal(capped, 2);
    /* oldest first: the 30 on the first page, which still stops at the cap (limit not met) */
    pages = walk(f, "/api/events?type=dns_query&limit=50&order=asc", "events", NOLD, 1, &capped,
                 &p1);
    assert_int_equal(p1.count, NOLD);
    assert_true(p1.capped);
    assert_int_equal(pages, 3);
    assert_int_equal(capped, 2);
    /* anomalies by minimum severity */
    pages = walk(f, "/api/anomalies?severity=critical&limit=100", "anomalies", NOLD, 1, &capped,
                 &p1);
    assert_true(p1.capped && p1.count == 0);
    assert_int_equal(pages, 3);
    /* one user's index (half the rows, 15 of them dns): capped once, then a full page of 10
     * and the last 5. The store has no profile of u0: an empty capped first page is still a
     * 200 (the user has rows), not the 404 of an unknown user. */
    pages = walk(f, "/api/users/u0/events?type=dns_query&limit=10", "events", NOLD / 2, 2,
                 &capped, &p1);
    assert_true(p1.capped && p1.count == 0);
    assert_int_equal(capped, 1);
    assert_int_equal(pages, 3);
    /* a common value fills the page long before the cap: not capped */
    struct page p;
    get_page(f, "/api/events?type=auth_attempt&limit=50", "events", &p, NULL);
    assert_int_equal(p.count, 50);
    assert_false(p.capped);
    assert_true(p.next[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_max_scan),
        cmocka_unit_test(test_http_capped_pages),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
