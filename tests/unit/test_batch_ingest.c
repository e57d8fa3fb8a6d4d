/* Unit tests of the batch readers and ingest: NDJSON plain / .gz / .zst / directory input give
 * identical per-user features; invalid lines are counted by reason with their first example;
 * blank lines and CRLF are tolerated; a line longer than the read buffer is one too_large;
 * --max-events caps; the result does not depend on the thread count. The test data is made
 * here from a seeded RNG through sg_event_encode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "batch/sg_batch.h"
#include "batch/sg_ingest.h"
#include "batch/sg_source.h"
#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_event.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"

#define EVENTS 3000
#define USERS 40

static char dir[64];

static struct sg_str S(struct sg_arena *a, const char *s) {
    struct sg_str r = {sg_arena_strndup(a, s, strlen(s)), (uint32_t)strlen(s)};
    return r;
}

/* Seeded NDJSON: EVENTS valid events of USERS users in time order, plus 3 invalid lines,
 * 2 blank lines and one CRLF line. */
static void
make_ndjson(struct sg_buf *out)
{
    struct sg_rng r;
    sg_rng_seed(&r, 77);
    struct sg_arena a;
    sg_arena_init(&a, 4096);
    char tmp[64];
    for (int i = 0; i < EVENTS; i++) {
        struct sg_event ev;
        sg_event_init(&ev);
        snprintf(tmp, sizeof tmp, "evt_%08d", i);
        ev.event_id = S(&a, tmp);
        ev.ts_ms = INT64_C(1796004000000) + i * 1000;
        sg_event_set_type(&ev, (enum sg_event_type)sg_rng_below(&r, SG_EV_TYPE_COUNT));
        snprintf(tmp, sizeof tmp, "user%02d", (int)sg_rng_below(&r, USERS));
        ev.user = S(&a, tmp);
        snprintf(tmp, sizeof tmp, "10.0.0.%d", (int)sg_rng_below(&r, 4));
        ev.source_ip = S(&a, tmp);
        ev.status = (enum sg_event_status)sg_rng_below(&r, SG_STATUS_COUNT);
        ev.threat_score = sg_rng_double(&r);
        sg_event_encode(&ev, out);
        sg_buf_puts(out, i == 10 ? "\r\n" : "\n");
        sg_arena_reset(&a);
        if (i == 100)
            sg_buf_puts(out, "this is not json\n\n");
        if (i == 200)
            sg_buf_puts(out, "{\"event_id\":\"x\",\"timestamp\":1,\"event_type\":\"dns_query\","
                             "\"source_ip\":\"1.2.3.4\"}\n   \n");
        if (i == 300)
            sg_buf_puts(out, "{\"event_id\":\"y\",\"timestamp\":1,\"event_type\":\"dns_query\","
                             "\"user\":\"u\",\"source_ip\":\"1.2.3.4\",\"status\":\"maybe\"}\n");
    }
    sg_arena_release(&a);
}

static void write_file(const char *name, const void *p, size_t n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sg-ingest-XXXXXX");
    assert_non_null(mkdtemp(dir));
    struct sg_buf b;
    sg_buf_init(&b);
    make_ndjson(&b);
    write_file("plain.ndjson", b.data, b.len);
    char path[128];
    snprintf(path, sizeof path, "%s/c.ndjson.gz", dir);
    gzFile gz = gzopen(path, "wb");
    assert_int_equal(gzwrite(gz, b.data, (unsigned)b.len), (int)b.len);
    gzclose(gz);
    /* the first half of that file: zlib reports the early end only through gzerror */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *gzb = sg_xmalloc(b.len); /* more than the compressed size */
    size_t gzn = fread(gzb, 1, b.len, f);
    fclose(f);
    assert_true(gzn > 100 && gzn < b.len);
    write_file("truncated.gz", gzb, gzn / 2);
    free(gzb);
    size_t cap = ZSTD_compressBound(b.len);
    void *z = sg_xmalloc(cap);
    size_t zn = ZSTD_compress(z, cap, b.data, b.len, 3);
    assert_false(ZSTD_isError(zn));
    write_file("c.ndjson.zst", z, zn);
    write_file("truncated.zst", z, zn / 2);
    free(z);
    snprintf(path, sizeof path, "%s/sub", dir);
    mkdir(path, 0755);
    /* the same events split over two files of a directory (+ a hidden file that is skipped) */
    size_t half = b.len / 2;
    while (b.data[half - 1] != '\n')
        half++;
    write_file("sub/a.ndjson", b.data, half);
    write_file("sub/b.ndjson", b.data + half, b.len - half);
    write_file("sub/.hidden", "garbage\n", 8);
    sg_buf_release(&b);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

struct run {
    struct sg_ingest_stats st;
    struct sg_batch_data data;
    struct sg_users *u;
    int rc;
    char err[256];
};

static void ingest(struct run *r, const char *name, int threads, uint64_t max)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    const char *paths[] = {path};
    struct sg_source *src = sg_source_ndjson_new(paths, 1, r->err, sizeof r->err);
    assert_non_null(src);
    r->u = sg_users_new(threads * 3 + 1);
    struct sg_ingest_opts o = {.threads = threads, .max_events = max};
    r->rc = sg_ingest_run(src, r->u, &o, &r->st, r->err, sizeof r->err);
    sg_source_free(src);
    sg_batch_features(r->u, threads, &r->data);
}

static void done(struct run *r)
{
    sg_batch_data_release(&r->data);
    sg_users_free(r->u);
}

static void same(const struct run *a, const struct run *b)
{
    assert_int_equal(a->st.valid, b->st.valid);
    assert_int_equal(a->st.invalid, b->st.invalid);
    assert_int_equal(a->data.n, b->data.n);
    for (size_t i = 0; i < a->data.n; i++)
        assert_string_equal(a->data.users[i]->name, b->data.users[i]->name);
    assert_memory_equal(a->data.raw, b->data.raw, a->data.n * a->data.d * sizeof(double));
}

static void test_formats_and_threads(void **state)
{
    (void)state;
    struct run plain, gz, zst, sub, t3;
    ingest(&plain, "plain.ndjson", 1, 0);
    assert_int_equal(plain.rc, SG_OK);
    assert_int_equal(plain.st.messages, EVENTS + 3);
    assert_int_equal(plain.st.valid, EVENTS);
    assert_int_equal(plain.st.invalid, 3);
    assert_int_equal(plain.st.blank_lines, 2);
    assert_int_equal(plain.st.by_reason[SG_REASON_INVALID_JSON], 1);
    assert_int_equal(plain.st.by_reason[SG_REASON_MISSING_FIELD], 1);
    assert_int_equal(plain.st.by_reason[SG_REASON_BAD_ENUM], 1);
    assert_int_equal(plain.st.example_at[SG_REASON_INVALID_JSON], 102); /* 1-based message */
    assert_non_null(strstr(plain.st.example[SG_REASON_MISSING_FIELD], "user"));
    assert_int_equal(plain.data.n, USERS);
    double total = 0;
    for (size_t i = 0; i < plain.data.n; i++)
        total += plain.data.raw[i * plain.data.d]; /* feature 0: events */
    assert_true(total == EVENTS);
    ingest(&gz, "c.ndjson.gz", 2, 0);
    ingest(&zst, "c.ndjson.zst", 2, 0);
    ingest(&sub, "sub", 2, 0);
    ingest(&t3, "plain.ndjson", 3, 0);
    same(&plain, &gz);
    same(&plain, &zst);
    same(&plain, &sub);
    same(&plain, &t3);
    done(&plain);
    done(&gz);
    done(&zst);
    done(&sub);
    done(&t3);
}

static void test_errors_and_cap(void **state)
{
    (void)state;
    struct run r;
    ingest(&r, "truncated.zst", 2, 0);
    assert_int_equal(r.rc, SG_ERR_IO);
    assert_non_null(strstr(r.err, "zstd"));
    done(&r);
    ingest(&r, "truncated.gz", 2, 0);
    assert_int_equal(r.rc, SG_ERR_IO);
    assert_non_null(strstr(r.err, "gzip: truncated input"));
    done(&r);
    ingest(&r, "plain.ndjson", 2, 500);
    assert_int_equal(r.rc, SG_OK);
    assert_int_equal(r.st.messages, 500);
    done(&r);
    char err[256];
    const char *missing[] = {"/nonexistent/events.ndjson"};
    assert_null(sg_source_ndjson_new(missing, 1, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/events.ndjson"));
}

static void test_huge_line(void **state)
{
    (void)state;
    size_t n = (9u << 20);
    char *big = sg_xmalloc(n + 64);
    memset(big, 'x', n);
    memcpy(big + n, "\n{\"a\":1}\n", 9);
    write_file("huge.ndjson", big, n + 9);
    free(big);
    struct run r;
    ingest(&r, "huge.ndjson", 1, 0);
    assert_int_equal(r.rc, SG_OK);
    assert_int_equal(r.st.messages, 2);
    assert_int_equal(r.st.by_reason[SG_REASON_TOO_LARGE], 1);
    assert_int_equal(r.st.by_reason[SG_REASON_MISSING_FIELD], 1);
    done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats_and_threads),
        cmocka_unit_test(test_errors_and_cap),
        cmocka_unit_test(test_huge_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
