/* Unit tests of src/storage/sg_pqreader against files written by our own Parquet writer
 * (sg_parquet): every column type, nulls, dictionary and PLAIN strings, all three codecs,
 * several row groups and pages - every value read back equals the value written. Corrupted
 * and truncated files fail with SG_ERR_FORMAT and never crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/sg_err.h"
#include "core/sg_rng.h"
#include "storage/sg_parquet.h"
#include "storage/sg_pqreader.h"

#define N 5000

static const struct sg_pq_column cols[] = {
    {"user", SG_PQ_STRING, 0},       {"note", SG_PQ_STRING, 1},
    {"score", SG_PQ_DOUBLE, 0},      {"maybe", SG_PQ_DOUBLE, 1},
    {"cluster", SG_PQ_INT32, 0},     {"count", SG_PQ_INT64, 1},
    {"flag", SG_PQ_BOOLEAN, 0},      {"first_seen", SG_PQ_TIMESTAMP_MS, 0},
};
#define NC (sizeof cols / sizeof cols[0])

struct data {
    char names[N][24], notes[N][24];
    struct sg_pq_str user[N], note[N];
    double score[N], maybe[N];
    int32_t cluster[N];
    int64_t count[N], ts[N];
    uint8_t flag[N], note_ok[N], maybe_ok[N], count_ok[N];
};

static void make(struct data *d, uint64_t seed)
{
    struct sg_rng r;
    sg_rng_seed(&r, seed);
    for (int i = 0; i < N; i++) {
        snprintf(d->names[i], sizeof d->names[i], "user%05d", i);
        snprintf(d->notes[i], sizeof d->notes[i], "n%llu", (unsigned long long)sg_rng_below(&r, 7));
        d->user[i] = (struct sg_pq_str){d->names[i], (uint32_t)strlen(d->names[i])};
        d->note[i] = (struct sg_pq_str){d->notes[i], (uint32_t)strlen(d->notes[i])};
        d->note_ok[i] = sg_rng_below(&r, 4) != 0;
        d->score[i] = (double)sg_rng_below(&r, 1000000) / 7.0;
        d->maybe[i] = -(double)i / 3.0;
        d->maybe_ok[i] = i % 9 != 0;
        d->cluster[i] = (int32_t)sg_rng_below(&r, 5) - 2;
        d->count[i] = (int64_t)sg_rng_below(&r, UINT64_C(1) << 40);
        d->count_ok[i] = i > 100 || i % 2;
        d->flag[i] = (uint8_t)sg_rng_below(&r, 2);
        d->ts[i] = INT64_C(1795000000000) + i;
    }
}

static void write_file(const char *path, struct data *d, enum sg_pq_codec codec)
{
    struct sg_pq_options o;
    sg_pq_options_default(&o);
    o.codec = codec;
    o.row_group_rows = 1700; /* several row groups */
    o.page_bytes = 4096;     /* several pages per chunk */
    char err[256];
    struct sg_pq_writer *w = sg_pq_writer_new(path, cols, NC, &o, err, sizeof err);
    assert_non_null(w);
    for (int off = 0; off < N; off += 1000) {
        const void *v[NC] = {d->user + off, d->note + off, d->score + off, d->maybe + off,
                             d->cluster + off, d->count + off, d->flag + off, d->ts + off};
        const uint8_t *ok[NC] = {NULL, d->note_ok + off, NULL, d->maybe_ok + off,
                                 NULL, d->count_ok + off, NULL, NULL};
        assert_int_equal(sg_pq_write_batch(w, v, ok, 1000), SG_OK);
    }
    assert_int_equal(sg_pq_writer_close(w, err, sizeof err), SG_OK);
}

static void check(const struct sg_pqr_table *t, const struct data *d)
{
    assert_int_equal(t->nrows, N);
    assert_int_equal(t->ncols, NC);
    for (size_t c = 0; c < NC; c++)
        assert_string_equal(t->cols[c].name, cols[c].name);
    assert_int_equal(sg_pqreader_column(t, "flag"), 6);
    assert_int_equal(sg_pqreader_column(t, "nope"), -1);
    assert_true(t->cols[7].timestamp_ms);
    for (int i = 0; i < N; i++) {
        assert_string_equal(t->cols[0].str[i], d->names[i]);
        assert_int_equal(t->cols[1].valid[i], d->note_ok[i]);
        if (d->note_ok[i])
            assert_string_equal(t->cols[1].str[i], d->notes[i]);
        assert_true(t->cols[2].f64[i] == d->score[i]);
        assert_int_equal(t->cols[3].valid[i], d->maybe_ok[i]);
        if (d->maybe_ok[i])
            assert_true(t->cols[3].f64[i] == d->maybe[i]);
        assert_int_equal(t->cols[4].i64[i], d->cluster[i]);
        assert_int_equal(t->cols[5].valid[i], d->count_ok[i]);
        if (d->count_ok[i])
            assert_int_equal(t->cols[5].i64[i], d->count[i]);
        assert_int_equal(t->cols[6].i64[i], d->flag[i]);
        assert_int_equal(t->cols[7].i64[i], d->ts[i]);
    }
}

static void test_roundtrip(void **state)
{
    (void)state;
    static struct data d;
    make(&d, 11);
    const enum sg_pq_codec codecs[] = {SG_PQ_UNCOMPRESSED, SG_PQ_SNAPPY, SG_PQ_ZSTD};
    for (size_t k = 0; k < 3; k++) {
        char path[] = "/tmp/sg_pqr_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        write_file(path, &d, codecs[k]);
        struct sg_pqr_table t;
        char err[256];
        int rc = sg_pqreader_read(path, &t, err, sizeof err);
        if (rc != SG_OK)
            fprintf(stderr, "%s\n", err);
        assert_int_equal(rc, SG_OK);
        check(&t, &d);
        sg_pqreader_release(&t);
        unlink(path);
    }
}

static void test_corrupt(void **state)
{
    (void)state;
    static struct data d;
    make(&d, 5);
    char path[] = "/tmp/sg_pqr_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    write_file(path, &d, SG_PQ_SNAPPY);
    FILE *f = fopen(path, "rb");
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    unlink(path);
    assert_true(n > 1000 && n < sizeof buf);
    struct sg_pqr_table t;
    char err[256];
    assert_int_equal(sg_pqreader_read("/nonexistent/x.parquet", &t, err, sizeof err),
                     SG_ERR_NOTFOUND);
    sg_pqreader_release(&t);
    struct sg_rng r;
    sg_rng_seed(&r, 9);
    static uint8_t copy[1 << 20];
    int failed = 0;
    for (int i = 0; i < 400; i++) {
        memcpy(copy, buf, n);
        size_t len = n;
        if (i % 4 == 0) {
            len = (size_t)sg_rng_below(&r, n); /* truncated */
        } else {
            for (int k = 0; k < 1 + i % 5; k++) /* flipped bytes, often in the footer */
                copy[i % 2 ? n - 1 - sg_rng_below(&r, 400) : sg_rng_below(&r, n)] ^=
                    (uint8_t)(1 + sg_rng_below(&r, 255));
        }
        int rc = sg_pqreader_read_mem(copy, len, &t, err, sizeof err);
        assert_true(rc == SG_OK || rc == SG_ERR_FORMAT);
        failed += rc != SG_OK;
        sg_pqreader_release(&t);
    }
    assert_true(failed > 100); /* truncations at least are always caught */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
