/* libFuzzer target for the Parquet writer (and through it the Thrift compact encoder): the
 * input is decoded into a schema, writer options and batches of rows (values, nulls, strings -
 * possibly invalid UTF-8 or out-of-range INT8/16, which must be rejected cleanly); the file
 * is written, then re-read with the independent checker in tests/helpers/pq_footer.h: magic,
 * footer length, FileMetaData decodes exactly, every page header decodes and every body
 * decompresses to its stated size, value/row counts agree with the rows accepted. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../helpers/pq_footer.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "storage/sg_parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
    const uint8_t *p;
    size_t n;
};

static uint8_t take(struct in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static uint64_t take64(struct in *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | take(in);
    return v;
}

static char dirbuf[64];

static void cleanup(void)
{
    rmdir(dirbuf);
}

static const char *dir(void)
{
    char *d = dirbuf;
    if (!d[0]) {
        snprintf(dirbuf, sizeof dirbuf, "%s/sg_fuzz_pq.%ld",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
        mkdir(d, 0700);
        atexit(cleanup);
    }
    return d;
}

static size_t value_size(enum sg_pq_type t)
{
    switch (t) {
    case SG_PQ_BOOLEAN: return 1;
    case SG_PQ_INT8:
    case SG_PQ_INT16:
    case SG_PQ_INT32: return 4;
    case SG_PQ_STRING: return sizeof(struct sg_pq_str);
    default: return 8;
    }
}

static void fill(struct in *in, enum sg_pq_type t, void *vals, size_t i)
{
    uint64_t x = take64(in);
    switch (t) {
    case SG_PQ_BOOLEAN: ((uint8_t *)vals)[i] = (uint8_t)x; break;
    case SG_PQ_INT8:
    case SG_PQ_INT16:
    case SG_PQ_INT32: ((int32_t *)vals)[i] = (int32_t)x; break;
    case SG_PQ_STRING: {
        size_t len = x % 40;
        if (len > in->n)
            len = in->n;
        ((struct sg_pq_str *)vals)[i] = (struct sg_pq_str){(const char *)in->p, (uint32_t)len};
        in->p += len;
        in->n -= len;
        break;
    }
    default: memcpy((char *)vals + i * 8, &x, 8); break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = {data, size};
    size_t ncols = 1 + take(&in) % 6;
    struct sg_pq_column cols[6];
    char names[6][8];
    for (size_t c = 0; c < ncols; c++) {
        uint8_t b = take(&in);
        snprintf(names[c], sizeof names[c], "c%zu", c);
        cols[c] = (struct sg_pq_column){names[c], (enum sg_pq_type)(b % 8), (b >> 3) & 1};
    }
    struct sg_pq_options o;
    sg_pq_options_default(&o);
    uint8_t ob = take(&in);
    o.codec = ob % 3 == 0 ? SG_PQ_UNCOMPRESSED : ob % 3 == 1 ? SG_PQ_SNAPPY : SG_PQ_ZSTD;
    o.page_bytes = 1 + take(&in) * 4u;
    o.row_group_rows = 1 + take(&in);
    o.row_group_bytes = 1 + (int64_t)take(&in) * 64;
    o.dict_max_bytes = take(&in) * 2u;
    char path[128];
    snprintf(path, sizeof path, "%s/f.parquet", dir());
    char err[256];
    struct sg_pq_writer *w = sg_pq_writer_new(path, cols, ncols, &o, err, sizeof err);
    if (!w)
        __builtin_trap(); /* valid schema and options: must open */
    int64_t accepted = 0;
    void *vals[6];
    uint8_t *valid[6];
    for (int batch = 0; in.n > 0 && batch < 64; batch++) {
        size_t rows = take(&in) % 200;
        for (size_t c = 0; c < ncols; c++) {
            vals[c] = sg_xmalloc(rows * value_size(cols[c].type) + 1);
            valid[c] = sg_xmalloc(rows + 1);
        }
        for (size_t i = 0; i < rows; i++)
            for (size_t c = 0; c < ncols; c++) {
                fill(&in, cols[c].type, vals[c], i);
                valid[c][i] = cols[c].optional ? take(&in) & 1 : 1;
            }
        int rc =
            sg_pq_write_batch(w, (const void *const *)vals, (const uint8_t *const *)valid, rows);
        if (rc == SG_OK)
            accepted += (int64_t)rows;
        else if (rc != SG_ERR_INVALID && rc != SG_ERR_RANGE)
            __builtin_trap(); /* no I/O errors expected on a healthy disk */
        for (size_t c = 0; c < ncols; c++) {
            free(vals[c]);
            free(valid[c]);
        }
    }
    if (sg_pq_writer_rows(w) != accepted)
        __builtin_trap();
    if (sg_pq_writer_close(w, err, sizeof err) != SG_OK)
        __builtin_trap();
    FILE *f = fopen(path, "rb");
    if (!f)
        __builtin_trap();
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *file = sg_xmalloc((size_t)len + 1);
    if (fread(file, 1, (size_t)len, f) != (size_t)len)
        __builtin_trap();
    fclose(f);
    struct pqf meta;
    if (pqf_parse(file, (size_t)len, &meta) != 0 || pqf_check_pages(file, (size_t)len, &meta) ||
        meta.num_rows != accepted || meta.ncols != (int)ncols || meta.type_orders != (int)ncols) {
        fprintf(stderr, "fuzz_parquet: %s (rows %lld)\n", meta.err, (long long)accepted);
        __builtin_trap();
    }
    pqf_release(&meta);
    free(file);
    unlink(path);
    return 0;
}
