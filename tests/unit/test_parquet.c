/* Unit tests of src/storage/sg_thrift and sg_parquet: compact-protocol bytes against the
 * protocol spec, the RLE/bit-packed hybrid against an independent decoder (and the spec's
 * example), the footer fields readers do not expose (column_orders, nan_count, created_by),
 * the writer's validation and file-handling contract, and the dataset swap. Values read back
 * by real readers are checked in tests/e2e/parquet_readers.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <math.h>
#include <dirent.h>

#include <cmocka.h>

#include "../helpers/pq_footer.h"
#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"
#include "storage/sg_parquet.h"
#include "storage/sg_thrift.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sg_test_parquet.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = sg_xmalloc((size_t)len + 1);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* ---- thrift ---------------------------------------------------------------------------- */

static void test_thrift_bytes(void **state)
{
    (void)state;
    struct sg_buf b;
    sg_buf_init(&b);
    struct sg_thrift t;
    sg_thrift_init(&t, &b);
    sg_thrift_field_i32(&t, 1, 5);        /* delta 1, type 5: 0x15, zigzag(5) = 10 */
    sg_thrift_field_bool(&t, 3, 1);       /* delta 2, BOOLEAN_TRUE: 0x21 */
    sg_thrift_field_string(&t, 20, "ab"); /* delta 17 > 15: 0x08, zigzag(20) = 40, len 2 */
    sg_thrift_field_struct_begin(&t, 21); /* delta 1, struct: 0x1C */
    sg_thrift_field_i64(&t, 1, -1);       /* 0x16, zigzag(-1) = 1 */
    sg_thrift_struct_end(&t);             /* 0x00 */
    sg_thrift_field_list_begin(&t, 22, SG_THRIFT_I32, 2);  /* 0x19, (2 << 4) | 5 = 0x25 */
    sg_thrift_elem_i32(&t, 300);                           /* zigzag 600 = 0xD8 0x04 */
    sg_thrift_elem_i32(&t, -2);                            /* 3 */
    sg_thrift_field_list_begin(&t, 23, SG_THRIFT_I64, 15); /* long form: 0x19, 0xF6, 15 */
    for (int i = 0; i < 15; i++)
        sg_thrift_elem_i64(&t, 0);
    sg_thrift_field_i64(&t, 24, INT64_MIN); /* zigzag = 2^64 - 1: ten bytes */
    sg_thrift_struct_end(&t);
    assert_int_equal(sg_thrift_finish(&t), SG_OK);
    const uint8_t want[] = {0x15, 10,   0x21, 0x08, 40,   2,    'a',  'b',  0x1C, 0x16, 1,   0x00,
                            0x19, 0x25, 0xD8, 0x04, 3,    0x19, 0xF6, 15,   0,    0,    0,   0,
                            0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,   0x16,
                            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    /* and it decodes with the independent reader */
    struct trd r = {(const uint8_t *)b.data, (const uint8_t *)b.data + b.len, 0};
    trd_skip_struct(&r, 0);
    assert_false(r.bad);
    assert_ptr_equal(r.p, r.end);
    sg_buf_release(&b);
}

static void test_thrift_misuse(void **state)
{
    (void)state;
    struct sg_buf b;
    sg_buf_init(&b);
    struct sg_thrift t;
    sg_thrift_init(&t, &b);
    sg_thrift_field_i32(&t, 2, 1);
    sg_thrift_field_i32(&t, 2, 1); /* ids must increase */
    sg_thrift_struct_end(&t);
    assert_int_equal(sg_thrift_finish(&t), SG_ERR_INTERNAL);
    sg_buf_reset(&b);
    sg_thrift_init(&t, &b);
    sg_thrift_field_struct_begin(&t, 1); /* left open */
    sg_thrift_struct_end(&t);
    assert_int_equal(sg_thrift_finish(&t), SG_ERR_INTERNAL);
    sg_buf_release(&b);
}

/* ---- RLE / bit-packed hybrid ----------------------------------------------------------- */

/* Independent decoder (Encodings.md); returns the number of values decoded or -1. */
static long rle_decode(const uint8_t *p, size_t n, int width, uint32_t *out, size_t max)
{
    struct trd r = {p, p + n, 0};
    size_t k = 0;
    int vb = (width + 7) / 8;
    while (r.p < r.end) {
        uint64_t h = trd_varint(&r);
        if (r.bad)
            return -1;
        if (h & 1) {
            size_t cnt = (size_t)(h >> 1) * 8;
            size_t bytes = cnt * (size_t)width / 8;
            if (bytes > (size_t)(r.end - r.p))
                return -1;
            for (size_t i = 0; i < cnt; i++) {
                uint64_t v = 0;
                for (int bit = 0; bit < width; bit++) {
                    size_t pos = i * (size_t)width + (size_t)bit;
                    v |= (uint64_t)((r.p[pos / 8] >> (pos % 8)) & 1) << bit;
                }
                if (k < max)
                    out[k] = (uint32_t)v;
                k++;
            }
            r.p += bytes;
        } else {
            size_t cnt = (size_t)(h >> 1);
            if (vb > r.end - r.p || cnt == 0)
                return -1;
            uint32_t v = 0;
            for (int i = 0; i < vb; i++)
                v |= (uint32_t)r.p[i] << (8 * i);
            r.p += vb;
            for (size_t i = 0; i < cnt; i++, k++)
                if (k < max)
                    out[k] = v;
        }
    }
    return (long)k;
}

static void test_rle_spec_example(void **state)
{
    (void)state;
    /* Encodings.md: 0..7 bit-packed with width 3 -> 0b10001000 0b11000110 0b11111010 */
    uint32_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    struct sg_buf b;
    sg_buf_init(&b);
    sg_pq_rle_encode(&b, v, 8, 3);
    const uint8_t want[] = {0x03, 0x88, 0xC6, 0xFA};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    /* a long run is one RLE run: header 1000 << 1 as varint, value in 1 byte */
    uint32_t run[1000];
    for (int i = 0; i < 1000; i++)
        run[i] = 5;
    sg_buf_reset(&b);
    sg_pq_rle_encode(&b, run, 1000, 3);
    const uint8_t want2[] = {0xD0, 0x0F, 0x05};
    assert_int_equal(b.len, sizeof want2);
    assert_memory_equal(b.data, want2, sizeof want2);
    sg_buf_release(&b);
}

static void test_rle_roundtrip(void **state)
{
    (void)state;
    struct sg_rng r;
    sg_rng_seed(&r, 42);
    struct sg_buf b;
    sg_buf_init(&b);
    size_t cap = 20000;
    uint32_t *v = sg_xmalloc(cap * sizeof *v), *got = sg_xmalloc((cap + 8) * sizeof *got);
    for (int iter = 0; iter < 400; iter++) {
        int width = 1 + (int)sg_rng_below(&r, 32);
        uint64_t lim = width == 32 ? UINT32_MAX : (1ull << width) - 1;
        size_t n = sg_rng_below(&r, iter < 50 ? 40 : cap);
        for (size_t i = 0; i < n;) {
            /* runs of random length mixed with noise */
            uint32_t x = (uint32_t)(sg_rng_next(&r) & lim);
            size_t len = sg_rng_below(&r, 2) ? 1 : 1 + sg_rng_below(&r, 40);
            for (size_t k = 0; k < len && i < n; k++, i++)
                v[i] = sg_rng_below(&r, 4) ? x : (uint32_t)(sg_rng_next(&r) & lim);
        }
        sg_buf_reset(&b);
        sg_pq_rle_encode(&b, v, n, width);
        long k = rle_decode((const uint8_t *)b.data, b.len, width, got, cap + 8);
        assert_true(k >= (long)n && k < (long)n + 8); /* last bit-packed group is padded */
        for (size_t i = 0; i < n; i++)
            assert_int_equal(got[i], v[i]);
    }
    free(v);
    free(got);
    sg_buf_release(&b);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(sg_pq_utf8_valid("", 0));
    assert_true(sg_pq_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
    assert_true(sg_pq_utf8_valid("\0", 1));
    assert_false(sg_pq_utf8_valid("\xc3", 1));             /* truncated */
    assert_false(sg_pq_utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(sg_pq_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(sg_pq_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(sg_pq_utf8_valid("\xff", 1));
    /* across the 8-byte ASCII fast path */
    assert_true(sg_pq_utf8_valid("abcdefghij\xc3\xa9klmnopqrs", 21));
    assert_false(sg_pq_utf8_valid("abcdefghijklmnop\xff", 17));
    assert_false(sg_pq_utf8_valid("abcdefgh\xe2\x82", 10));
}

/* ---- writer ---------------------------------------------------------------------------- */

static void test_footer_fields(void **state)
{
    (void)state;
    char dir[280], path[300];
    snprintf(dir, sizeof dir, "%s/ff", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/f.parquet", dir);
    struct sg_pq_column cols[] = {{"d", SG_PQ_DOUBLE, 1}, {"s", SG_PQ_STRING, 0}};
    struct sg_pq_options o;
    sg_pq_options_default(&o);
    o.row_group_rows = 3;
    o.codec = SG_PQ_SNAPPY;
    char err[256] = "";
    struct sg_pq_writer *w = sg_pq_writer_new(path, cols, 2, &o, err, sizeof err);
    assert_non_null(w);
    /* before close: nothing under the final name, one hidden temporary file */
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(count_entries(dir), 1);
    double d[] = {NAN, 1.5, -0.0, NAN, 2.0, 0.0, NAN};
    uint8_t dv[] = {1, 1, 1, 1, 0, 1, 1};
    struct sg_pq_str s[7];
    for (int i = 0; i < 7; i++)
        s[i] = (struct sg_pq_str){"x", 1};
    const void *v[] = {d, s};
    const uint8_t *ok[] = {dv, NULL};
    assert_int_equal(sg_pq_write_batch(w, v, ok, 7), SG_OK);
    assert_int_equal(sg_pq_writer_rows(w), 7);
    assert_int_equal(sg_pq_writer_close(w, err, sizeof err), SG_OK);
    size_t n;
    uint8_t *file = slurp(path, &n);
    struct pqf f;
    assert_int_equal(pqf_parse(file, n, &f), 0);
    assert_int_equal(pqf_check_pages(file, n, &f), 0);
    assert_int_equal(f.version, 1);
    assert_int_equal(f.num_rows, 7);
    assert_int_equal(f.nrg, 3); /* 3 + 3 + 1 rows */
    assert_int_equal(f.rg_rows[2], 1);
    assert_int_equal(f.norders, 2);
    assert_int_equal(f.type_orders, 2);
    assert_string_equal(f.created_by, "streamguard version 0.1.0");
    /* nan_count is written for doubles (0 included), null_count always */
    assert_true(f.chunks[0][0].has_nan_count);
    assert_int_equal(f.chunks[0][0].nan_count, 1);
    assert_int_equal(f.chunks[1][0].nan_count, 1);
    assert_int_equal(f.chunks[1][0].null_count, 1);
    assert_int_equal(f.chunks[2][0].nan_count, 1);
    assert_false(f.chunks[0][1].has_nan_count);
    assert_int_equal(f.chunks[0][1].codec, 1);
    assert_true(f.chunks[0][1].dict_off >= 4); /* strings: dictionary page */
    pqf_release(&f);
    free(file);
    unlink(path);
}

static void test_batch_validation(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/v.parquet", tmpdir);
    struct sg_pq_column cols[] = {{"a", SG_PQ_INT8, 0}, {"s", SG_PQ_STRING, 1}};
    char err[256];
    struct sg_pq_writer *w = sg_pq_writer_new(path, cols, 2, NULL, err, sizeof err);
    assert_non_null(w);
    int32_t a[] = {1, 2};
    struct sg_pq_str s[] = {{"ok", 2}, {"\xff", 1}};
    uint8_t sv[] = {1, 1}, av[] = {1, 0};
    const void *v[] = {a, s};
    const uint8_t *ok[] = {NULL, sv};
    assert_int_equal(sg_pq_write_batch(w, v, ok, 2), SG_ERR_INVALID); /* bad UTF-8 */
    assert_non_null(strstr(sg_pq_writer_error(w), "UTF-8"));
    sv[1] = 0; /* null: the invalid bytes are ignored */
    assert_int_equal(sg_pq_write_batch(w, v, ok, 2), SG_OK);
    a[1] = 128;
    assert_int_equal(sg_pq_write_batch(w, v, ok, 2), SG_ERR_RANGE);
    a[1] = -128;
    const uint8_t *ok2[] = {av, sv};
    assert_int_equal(sg_pq_write_batch(w, v, ok2, 2), SG_ERR_INVALID); /* null in REQUIRED */
    assert_non_null(strstr(sg_pq_writer_error(w), "REQUIRED"));
    assert_int_equal(sg_pq_write_batch(w, v, ok, 2), SG_OK);
    assert_int_equal(sg_pq_writer_rows(w), 4); /* rejected batches added nothing */
    assert_int_equal(sg_pq_writer_close(w, err, sizeof err), SG_OK);
    size_t n;
    uint8_t *file = slurp(path, &n);
    struct pqf f;
    assert_int_equal(pqf_parse(file, n, &f), 0);
    assert_int_equal(f.num_rows, 4);
    assert_int_equal(f.chunks[0][1].null_count, 2);
    pqf_release(&f);
    free(file);
}

static void test_bad_schema_and_paths(void **state)
{
    (void)state;
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/x.parquet", tmpdir);
    struct sg_pq_column dup[] = {{"a", SG_PQ_INT32, 0}, {"a", SG_PQ_INT64, 0}};
    assert_null(sg_pq_writer_new(path, dup, 2, NULL, err, sizeof err));
    assert_non_null(strstr(err, "duplicate"));
    assert_null(sg_pq_writer_new(path, dup, 0, NULL, err, sizeof err));
    struct sg_pq_column bad[] = {{"a", (enum sg_pq_type)99, 0}};
    assert_null(sg_pq_writer_new(path, bad, 1, NULL, err, sizeof err));
    struct sg_pq_options o;
    sg_pq_options_default(&o);
    o.page_bytes = 1u << 30;
    assert_null(sg_pq_writer_new(path, dup, 1, &o, err, sizeof err));
    assert_non_null(strstr(err, "256 MiB"));
    o.page_bytes = 1u << 20;
    o.zstd_level = 1000;
    assert_null(sg_pq_writer_new(path, dup, 1, &o, err, sizeof err));
    assert_non_null(strstr(err, "zstd level"));
    snprintf(path, sizeof path, "%s/no/such/dir/x.parquet", tmpdir);
    assert_null(sg_pq_writer_new(path, dup, 1, NULL, err, sizeof err));
    assert_non_null(strstr(err, "No such file"));
    enum sg_pq_codec c;
    assert_int_equal(sg_pq_codec_parse("snappy", &c), SG_OK);
    assert_int_equal(c, SG_PQ_SNAPPY);
    assert_int_equal(sg_pq_codec_parse("gzip", &c), SG_ERR_INVALID);
    /* abort removes the temporary file */
    snprintf(path, sizeof path, "%s/ab", tmpdir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/ab/x.parquet", tmpdir);
    struct sg_pq_writer *w = sg_pq_writer_new(path, dup, 1, NULL, err, sizeof err);
    assert_non_null(w);
    snprintf(path, sizeof path, "%s/ab", tmpdir);
    assert_int_equal(count_entries(path), 1);
    sg_pq_writer_abort(w);
    assert_int_equal(count_entries(path), 0);
    sg_pq_writer_abort(NULL);
}

static void test_dict_fallback_and_pages(void **state)
{
    (void)state;
    /* many distinct strings with a tiny dictionary limit and small pages: dictionary pages
     * first, then PLAIN; every page must decode and the counts add up */
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/d.parquet", tmpdir);
    struct sg_pq_column cols[] = {{"s", SG_PQ_STRING, 1}, {"b", SG_PQ_BOOLEAN, 1}};
    struct sg_pq_options o;
    sg_pq_options_default(&o);
    o.dict_max_bytes = 200;
    o.page_bytes = 100;
    o.codec = SG_PQ_ZSTD;
    struct sg_pq_writer *w = sg_pq_writer_new(path, cols, 2, &o, err, sizeof err);
    assert_non_null(w);
    char text[5000][8];
    struct sg_pq_str s[5000];
    uint8_t b[5000], valid[5000];
    for (int i = 0; i < 5000; i++) {
        s[i].len = (uint32_t)snprintf(text[i], 8, "%d", i % 700);
        s[i].p = text[i];
        b[i] = (uint8_t)(i % 5 == 0);
        valid[i] = (uint8_t)(i % 11 != 0);
    }
    const void *v[] = {s, b};
    const uint8_t *ok[] = {valid, valid};
    assert_int_equal(sg_pq_write_batch(w, v, ok, 5000), SG_OK);
    assert_int_equal(sg_pq_writer_close(w, err, sizeof err), SG_OK);
    size_t n;
    uint8_t *file = slurp(path, &n);
    struct pqf f;
    assert_int_equal(pqf_parse(file, n, &f), 0);
    assert_int_equal(pqf_check_pages(file, n, &f), 0);
    assert_int_equal(f.chunks[0][0].null_count, 455);
    assert_true(f.chunks[0][0].dict_off >= 4);
    pqf_release(&f);
    free(file);
}

static void test_rowgroup_byte_cut(void **state)
{
    (void)state;
    /* 1M doubles = 8 MB with a 1 MiB row-group limit: the byte limit (checked every 64K rows)
     * cuts groups of 128K rows; the row limit (default 1M) never triggers */
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/rg.parquet", tmpdir);
    struct sg_pq_column cols[] = {{"x", SG_PQ_DOUBLE, 0}};
    struct sg_pq_options o;
    sg_pq_options_default(&o);
    o.row_group_bytes = 1 << 20;
    o.codec = SG_PQ_UNCOMPRESSED;
    struct sg_pq_writer *w = sg_pq_writer_new(path, cols, 1, &o, err, sizeof err);
    assert_non_null(w);
    size_t n = 1000000;
    double *x = sg_xmalloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = (double)i;
    const void *v[] = {x};
    assert_int_equal(sg_pq_write_batch(w, v, NULL, n), SG_OK);
    assert_int_equal(sg_pq_writer_close(w, err, sizeof err), SG_OK);
    free(x);
    size_t len;
    uint8_t *file = slurp(path, &len);
    struct pqf f;
    assert_int_equal(pqf_parse(file, len, &f), 0);
    assert_int_equal(pqf_check_pages(file, len, &f), 0);
    assert_int_equal(f.nrg, 8);
    for (int g = 0; g < 7; g++)
        assert_int_equal(f.rg_rows[g], 131072);
    assert_int_equal(f.rg_rows[7], 1000000 - 7 * 131072);
    pqf_release(&f);
    free(file);
    unlink(path);
}

/* ---- dataset --------------------------------------------------------------------------- */

static void write_part(struct sg_pq_dataset *d, const char *partition, int part)
{
    struct sg_pq_column cols[] = {{"id", SG_PQ_INT64, 0}};
    char err[256];
    struct sg_pq_writer *w = sg_pq_dataset_part(d, partition, part, cols, 1, NULL, err, sizeof err);
    assert_non_null(w);
    int64_t id = part;
    const void *v[] = {&id};
    assert_int_equal(sg_pq_write_batch(w, v, NULL, 1), SG_OK);
    assert_int_equal(sg_pq_writer_close(w, err, sizeof err), SG_OK);
}

static void test_dataset_replace(void **state)
{
    (void)state;
    char root[300], dir[320], p[512], err[256];
    snprintf(root, sizeof root, "%s/dsroot", tmpdir);
    assert_int_equal(mkdir(root, 0755), 0);
    snprintf(dir, sizeof dir, "%s/ds", root);
    struct sg_pq_dataset *d = sg_pq_dataset_new(dir, err, sizeof err);
    assert_non_null(d);
    write_part(d, "is_anomaly=0", 0);
    write_part(d, "is_anomaly=1", 1);
    assert_int_equal(access(dir, F_OK), -1); /* nothing visible before commit */
    assert_null(sg_pq_dataset_part(d, "../escape", 2, NULL, 0, NULL, err, sizeof err));
    assert_int_equal(sg_pq_dataset_commit(d, err, sizeof err), SG_OK);
    snprintf(p, sizeof p, "%s/_SUCCESS", dir);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/is_anomaly=1", dir);
    assert_int_equal(count_entries(p), 1);
    /* second run replaces the whole tree (RENAME_EXCHANGE), the old tree is removed */
    d = sg_pq_dataset_new(dir, err, sizeof err);
    assert_non_null(d);
    write_part(d, "is_anomaly=0", 0);
    assert_int_equal(sg_pq_dataset_commit(d, err, sizeof err), SG_OK);
    assert_int_equal(access(p, F_OK), -1);   /* is_anomaly=1 came from the old tree */
    assert_int_equal(count_entries(dir), 2); /* is_anomaly=0, _SUCCESS */
    assert_int_equal(count_entries(root), 1);
    /* abort leaves DIR as it was */
    d = sg_pq_dataset_new(dir, err, sizeof err);
    write_part(d, "is_anomaly=1", 3);
    sg_pq_dataset_abort(d);
    assert_int_equal(count_entries(dir), 2);
    assert_int_equal(count_entries(root), 1);
    /* leftovers of a crashed writer (its pid is gone) are removed by the next run; a live
     * writer's temporary tree is left alone */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    assert_true(child > 0);
    waitpid(child, NULL, 0);
    char stale[400], live[400]; /* < sizeof p */
    snprintf(stale, sizeof stale, "%s.tmp-%ld-dead", dir, (long)child);
    snprintf(live, sizeof live, "%s.tmp-%ld-live", dir, (long)getppid());
    assert_int_equal(mkdir(stale, 0755), 0);
    assert_int_equal(mkdir(live, 0755), 0);
    snprintf(p, sizeof p, "%s/x", stale);
    assert_int_equal(mkdir(p, 0755), 0);
    d = sg_pq_dataset_new(dir, err, sizeof err);
    assert_non_null(d);
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(live, F_OK), 0);
    sg_pq_dataset_abort(d);
    rmdir(live);
    snprintf(p, sizeof p, "%s/missing/ds", tmpdir);
    assert_null(sg_pq_dataset_new(p, err, sizeof err));
    assert_non_null(strstr(err, "mkdir"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_bytes),
        cmocka_unit_test(test_thrift_misuse),
        cmocka_unit_test(test_rle_spec_example),
        cmocka_unit_test(test_rle_roundtrip),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_footer_fields),
        cmocka_unit_test(test_batch_validation),
        cmocka_unit_test(test_bad_schema_and_paths),
        cmocka_unit_test(test_dict_fallback_and_pages),
        cmocka_unit_test(test_rowgroup_byte_cut),
        cmocka_unit_test(test_dataset_replace),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
