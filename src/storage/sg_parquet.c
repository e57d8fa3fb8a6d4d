/* sg_parquet: Parquet file writer written from the Apache Parquet format specification
 * (parquet.thrift, Encodings.md, Compression.md) plus the Hive-style dataset helper.
 * Flat schemas only; PLAIN + RLE_DICTIONARY (strings); data pages v1; no reader, no page index,
 * no bloom filters, no encryption. See sg_parquet.h and docs/PARQUET.md. */
#include "storage/sg_parquet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <snappy-c.h>
#include <zstd.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_hash.h"
#include "core/sg_mem.h"
#include "core/sg_version.h"
#include "storage/sg_thrift.h"

#define SG_PQ_CREATED_BY "streamguard version " SG_VERSION
#define MAGIC "PAR1"
/* Hard cap on values per data page: keeps RLE run lengths far below 2^31 and level arrays small
 * whatever page_bytes is set to. */
#define PAGE_MAX_VALUES (1u << 20)
/* Rows appended per inner step of write_batch: the granularity of the row group byte check. */
#define SEGMENT_ROWS 65536
/* Longest string statistic stored; longer min/max are truncated (is_*_value_exact = false). */
#define STAT_MAX_BYTES 64
/* Longest string value and largest page/dictionary target: keeps every page size far below the
 * int32 sizes of a PageHeader (a page holds < page_bytes + one value + levels). */
#define MAX_VALUE_BYTES (256u << 20)

/* parquet.thrift enum values used here. */
enum { T_BOOLEAN = 0, T_INT32 = 1, T_INT64 = 2, T_DOUBLE = 5, T_BYTE_ARRAY = 6 };
enum { CT_UTF8 = 0, CT_TIMESTAMP_MILLIS = 9, CT_INT_8 = 15, CT_INT_16, CT_INT_32, CT_INT_64 };
enum { E_PLAIN = 0, E_RLE = 3, E_RLE_DICTIONARY = 8 };
enum { PAGE_DATA = 0, PAGE_DICTIONARY = 2 };

/* String dictionary of one column chunk: entries PLAIN-encoded back to back in `data` (the
 * dictionary page body), an open-addressing table of entry index + 1. */
struct dict {
    struct sg_buf data;
    uint32_t *off;   /* entry -> offset of its 4-byte length prefix in data */
    uint32_t *hash;  /* entry -> low 32 bits of its hash */
    size_t n, cap;   /* entries, capacity of off/hash */
    uint32_t *slots; /* 0 = empty, else entry index + 1 */
    size_t nslots;   /* power of two */
};

struct col {
    char *name;
    enum sg_pq_type type;
    int phys, optional, width; /* width: bytes per value in `vals` (0 for strings) */
    /* current page */
    struct sg_buf vals; /* PLAIN values; booleans one byte each (packed at flush) */
    uint32_t *idx;      /* dictionary indices of the page's non-null values */
    size_t idx_cap;
    uint8_t *def; /* definition levels (OPTIONAL only) */
    size_t def_cap;
    size_t page_values, page_nonnull;
    /* current column chunk */
    struct sg_buf chunk; /* encoded data pages (headers + bodies) */
    int64_t chunk_unc, chunk_comp, chunk_values;
    int use_dict, dict_pages;
    unsigned enc_mask; /* bit per Encoding value used by a data page */
    struct dict dict;
    /* statistics of the chunk */
    int has_minmax;
    int64_t imin, imax;
    double dmin, dmax;
    struct sg_buf smin, smax;
    int64_t null_count, nan_count;
};

struct sg_pq_writer {
    char *path, *tmp;
    int fd;
    int err;
    char msg[256];
    struct sg_pq_options opt;
    struct sg_pq_kv *kv;
    size_t ncols;
    struct col *cols;
    int64_t pos; /* bytes written to the file */
    int64_t rows, rg_rows;
    struct sg_buf rowgroups; /* thrift-encoded RowGroup structs, one after the other */
    size_t nrowgroups;
    struct sg_buf scratch, cbuf, hdr; /* page body, compressed body, page header */
    ZSTD_CCtx *zctx;
};

/* ---------------------------------------------------------------------------------------- */
/* Small helpers                                                                              */

static void set_err(struct sg_pq_writer *w, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(struct sg_pq_writer *w, int err, const char *fmt, ...)
{
    if (w->err)
        return; /* keep the first (root) cause */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof w->msg, fmt, ap);
    va_end(ap);
    w->err = err;
}

static void copy_msg(char *errbuf, size_t errlen, const char *msg)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", msg);
}

static void put_u32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_u64le(uint8_t *p, uint64_t v)
{
    put_u32le(p, (uint32_t)v);
    put_u32le(p + 4, (uint32_t)(v >> 32));
}

static void random_bytes(void *p, size_t n)
{
    if (getrandom(p, n, GRND_NONBLOCK) == (ssize_t)n)
        return;
    /* fallback (no entropy yet): unique enough for file names, not for secrets */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    static _Atomic uint64_t counter; /* writers may be created from several threads */
    uint64_t c = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^ (c << 40) ^
                     (uint64_t)ts.tv_sec;
        b[i] = (uint8_t)(sg_hash_bytes(&x, sizeof x, i) >> 13);
    }
}

/* Writes all of p, retrying on EINTR and short writes. Returns 0 or an errno value. */
static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (k == 0)
            return EIO;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

static int wr(struct sg_pq_writer *w, const void *p, size_t n)
{
    if (w->err)
        return w->err;
    int e = write_all(w->fd, p, n);
    if (e) {
        set_err(w, sg_err_from_errno(e) == SG_ERR_NOSPACE ? SG_ERR_NOSPACE : SG_ERR_IO,
                "parquet: write %s: %s", w->tmp, strerror(e));
        return w->err;
    }
    w->pos += (int64_t)n;
    return SG_OK;
}

/* fsyncs the directory containing `path` so a rename in it is durable. */
static int fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? sg_xstrndup(path, (size_t)(slash - path)) : sg_xstrdup(".");
    if (!*dir) {
        free(dir);
        dir = sg_xstrdup("/");
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = 0;
    if (fd < 0 || fsync(fd) != 0)
        e = errno;
    if (fd >= 0)
        close(fd);
    free(dir);
    return e;
}

/* ---------------------------------------------------------------------------------------- */
/* RLE / bit-packed hybrid (Encodings.md)                                                     */

static void bitpack(struct sg_buf *out, const uint32_t *v, size_t n, size_t total, int width)
{
    /* LSB-first packing of `total` values (a multiple of 8; those past n are 0) */
    sg_buf_reserve(out, total * (size_t)width / 8 + 8);
    uint8_t *o = (uint8_t *)out->data + out->len;
    uint64_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < total; i++) {
        acc |= (uint64_t)(i < n ? v[i] : 0) << bits;
        bits += width;
        while (bits >= 8) {
            *o++ = (uint8_t)acc;
            acc >>= 8;
            bits -= 8;
        }
    }
    out->len = (size_t)(o - (uint8_t *)out->data);
    out->data[out->len] = '\0';
}

static void rle_run(struct sg_buf *out, uint32_t value, size_t count, int width)
{
    sg_thrift_varint(out, (uint64_t)count << 1);
    uint8_t b[4];
    put_u32le(b, value);
    sg_buf_append(out, b, (size_t)(width + 7) / 8);
}

static size_t run_length(const uint32_t *v, size_t i, size_t n, size_t cap)
{
    size_t j = i + 1;
    while (j < n && j - i < cap && v[j] == v[i])
        j++;
    return j - i;
}

void sg_pq_rle_encode(struct sg_buf *out, const uint32_t *v, size_t n, int width)
{
    size_t i = 0;
    while (i < n) {
        size_t r = run_length(v, i, n, SIZE_MAX);
        if (r >= 8 || i + r == n) {
            rle_run(out, v[i], r, width);
            i += r;
            continue;
        }
        /* literal groups of 8 until a run of >= 16 starts at a group boundary */
        size_t start = i, groups = 0;
        while (i < n) {
            if (i > start && run_length(v, i, n, 16) >= 16)
                break;
            i += 8;
            groups++;
        }
        if (i > n)
            i = n;
        sg_thrift_varint(out, ((uint64_t)groups << 1) | 1);
        bitpack(out, v + start, i - start, groups * 8, width);
    }
}

/* Definition levels are kept as bytes; this is the same hybrid encoding for width 1, written
 * separately so the hot path needs no widening copy. */
static void rle_levels(struct sg_buf *out, const uint8_t *v, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && v[j] == v[i])
            j++;
        if (j - i >= 8 || j == n) {
            sg_thrift_varint(out, (uint64_t)(j - i) << 1);
            sg_buf_putc(out, (char)v[i]);
            i = j;
            continue;
        }
        size_t start = i, groups = 0;
        while (i < n) {
            if (i > start) {
                size_t k = i + 1;
                while (k < n && k - i < 16 && v[k] == v[i])
                    k++;
                if (k - i >= 16)
                    break;
            }
            i += 8;
            groups++;
        }
        if (i > n)
            i = n;
        sg_thrift_varint(out, ((uint64_t)groups << 1) | 1);
        for (size_t g = 0; g < groups; g++) {
            uint8_t b = 0;
            for (size_t k = 0; k < 8; k++) {
                size_t p = start + g * 8 + k;
                b |= (uint8_t)((p < i && v[p]) ? 1u << k : 0);
            }
            sg_buf_putc(out, (char)b);
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Options, schema                                                                            */

void sg_pq_options_default(struct sg_pq_options *o)
{
    memset(o, 0, sizeof *o);
    o->codec = SG_PQ_ZSTD;
    o->zstd_level = 1;
    o->row_group_rows = 1000000;
    o->row_group_bytes = 64ll << 20;
    o->page_bytes = 1u << 20;
    o->dict_max_bytes = 1u << 20;
}

int sg_pq_codec_parse(const char *s, enum sg_pq_codec *out)
{
    if (!s)
        return SG_ERR_INVALID;
    if (!strcmp(s, "uncompressed") || !strcmp(s, "none"))
        *out = SG_PQ_UNCOMPRESSED;
    else if (!strcmp(s, "snappy"))
        *out = SG_PQ_SNAPPY;
    else if (!strcmp(s, "zstd"))
        *out = SG_PQ_ZSTD;
    else
        return SG_ERR_INVALID;
    return SG_OK;
}

static int phys_of(enum sg_pq_type t, int *width)
{
    switch (t) {
    case SG_PQ_BOOLEAN: *width = 1; return T_BOOLEAN;
    case SG_PQ_INT8:
    case SG_PQ_INT16:
    case SG_PQ_INT32: *width = 4; return T_INT32;
    case SG_PQ_INT64:
    case SG_PQ_TIMESTAMP_MS: *width = 8; return T_INT64;
    case SG_PQ_DOUBLE: *width = 8; return T_DOUBLE;
    case SG_PQ_STRING: *width = 0; return T_BYTE_ARRAY;
    }
    return -1;
}

static int check_schema(const struct sg_pq_column *cols, size_t ncols, char *errbuf, size_t errlen)
{
    if (!cols || ncols == 0 || ncols > 32767) {
        copy_msg(errbuf, errlen, "parquet: a schema needs 1..32767 columns");
        return SG_ERR_INVALID;
    }
    for (size_t i = 0; i < ncols; i++) {
        int w;
        if (!cols[i].name || !cols[i].name[0]) {
            copy_msg(errbuf, errlen, "parquet: column without a name");
            return SG_ERR_INVALID;
        }
        if (phys_of(cols[i].type, &w) < 0) {
            snprintf(errbuf, errlen, "parquet: column %s: unknown type %d", cols[i].name,
                     (int)cols[i].type);
            return SG_ERR_INVALID;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(cols[i].name, cols[j].name)) {
                snprintf(errbuf, errlen, "parquet: duplicate column name %s", cols[i].name);
                return SG_ERR_INVALID;
            }
    }
    return SG_OK;
}

static int check_options(const struct sg_pq_options *o, char *errbuf, size_t errlen)
{
    if (o->codec != SG_PQ_UNCOMPRESSED && o->codec != SG_PQ_SNAPPY && o->codec != SG_PQ_ZSTD) {
        copy_msg(errbuf, errlen, "parquet: unknown compression codec");
        return SG_ERR_INVALID;
    }
    if (o->row_group_rows < 1 || o->row_group_bytes < 1 || o->page_bytes < 1) {
        copy_msg(errbuf, errlen, "parquet: row group and page limits must be positive");
        return SG_ERR_INVALID;
    }
    if (o->page_bytes > MAX_VALUE_BYTES || o->dict_max_bytes > MAX_VALUE_BYTES) {
        copy_msg(errbuf, errlen, "parquet: page_bytes and dict_max_bytes must be <= 256 MiB");
        return SG_ERR_INVALID;
    }
    if (o->codec == SG_PQ_ZSTD &&
        (o->zstd_level < ZSTD_minCLevel() || o->zstd_level > ZSTD_maxCLevel())) {
        snprintf(errbuf, errlen, "parquet: zstd level %d outside %d..%d", o->zstd_level,
                 ZSTD_minCLevel(), ZSTD_maxCLevel());
        return SG_ERR_INVALID;
    }
    if (o->kv_count && !o->kv) {
        copy_msg(errbuf, errlen, "parquet: kv_count without kv");
        return SG_ERR_INVALID;
    }
    for (size_t i = 0; i < o->kv_count; i++)
        if (!o->kv[i].key) {
            copy_msg(errbuf, errlen, "parquet: key/value metadata entry without a key");
            return SG_ERR_INVALID;
        }
    return SG_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Dictionary                                                                                 */

static void dict_release(struct dict *d)
{
    sg_buf_release(&d->data);
    free(d->off);
    free(d->hash);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

static void dict_reset(struct dict *d)
{
    sg_buf_reset(&d->data);
    d->n = 0;
    if (d->slots)
        memset(d->slots, 0, d->nslots * sizeof *d->slots);
}

static void dict_rehash(struct dict *d)
{
    size_t ns = d->nslots ? d->nslots * 2 : 1024;
    uint32_t *s = sg_xcalloc(ns, sizeof *s);
    for (size_t e = 0; e < d->n; e++) {
        size_t k = d->hash[e] & (ns - 1);
        while (s[k])
            k = (k + 1) & (ns - 1);
        s[k] = (uint32_t)e + 1;
    }
    free(d->slots);
    d->slots = s;
    d->nslots = ns;
}

/* Returns the entry index of (p, n), inserting it if new (*added = 1); returns -1 if inserting
 * would take the dictionary past `limit` bytes. */
static int64_t dict_put(struct dict *d, const char *p, uint32_t n, size_t limit, int *added)
{
    if (d->nslots == 0)
        dict_rehash(d);
    uint32_t h = (uint32_t)sg_hash_bytes(p, n, 0x5151);
    size_t mask = d->nslots - 1, k = h & mask;
    for (;;) {
        uint32_t e = d->slots[k];
        if (!e)
            break;
        e--;
        if (d->hash[e] == h) {
            const uint8_t *q = (const uint8_t *)d->data.data + d->off[e];
            uint32_t qn =
                (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
            if (qn == n && memcmp(q + 4, p, n) == 0) {
                *added = 0;
                return e;
            }
        }
        k = (k + 1) & mask;
    }
    if (d->data.len + 4 + n > limit || d->n >= UINT32_MAX - 1)
        return -1;
    if (d->n == d->cap) {
        size_t cap = d->cap;
        d->off = sg_xgrow(d->off, &cap, d->n + 1, sizeof *d->off);
        cap = d->cap;
        d->hash = sg_xgrow(d->hash, &cap, d->n + 1, sizeof *d->hash);
        d->cap = cap;
    }
    d->off[d->n] = (uint32_t)d->data.len;
    d->hash[d->n] = h;
    uint8_t len[4];
    put_u32le(len, n);
    sg_buf_append(&d->data, len, 4);
    sg_buf_append(&d->data, p, n);
    d->slots[k] = (uint32_t)d->n + 1;
    int64_t idx = (int64_t)d->n++;
    if (d->n * 2 > d->nslots)
        dict_rehash(d);
    *added = 1;
    return idx;
}

/* ---------------------------------------------------------------------------------------- */
/* Statistics                                                                                 */

static void stats_reset(struct col *c)
{
    c->has_minmax = 0;
    c->null_count = c->nan_count = 0;
    sg_buf_reset(&c->smin);
    sg_buf_reset(&c->smax);
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    /* unsigned lexicographic order, as the spec orders UTF8/BYTE_ARRAY */
    int r = memcmp(a, b, an < bn ? an : bn);
    if (r)
        return r;
    return an < bn ? -1 : an > bn;
}

static void stats_str(struct col *c, const char *p, uint32_t n)
{
    if (!c->has_minmax) {
        sg_buf_append(&c->smin, p, n);
        sg_buf_append(&c->smax, p, n);
        c->has_minmax = 1;
        return;
    }
    if (bytes_cmp(p, n, c->smin.data, c->smin.len) < 0) {
        sg_buf_reset(&c->smin);
        sg_buf_append(&c->smin, p, n);
    } else if (bytes_cmp(p, n, c->smax.data, c->smax.len) > 0) {
        sg_buf_reset(&c->smax);
        sg_buf_append(&c->smax, p, n);
    }
}

/* Min/max over n freshly appended PLAIN values at v (no nulls among them). Tight loops per
 * type so the compiler can vectorise; NaN is counted and kept out of min/max (spec). */
static void stats_fixed(struct col *c, const uint8_t *v, size_t n)
{
    if (n == 0)
        return;
    if (c->phys == T_DOUBLE) {
        /* branch-free: a NaN compares false, so it never replaces lo/hi; counted apart */
        double lo = INFINITY, hi = -INFINITY;
        size_t nan = 0;
        for (size_t i = 0; i < n; i++) {
            double x;
            memcpy(&x, v + i * 8, 8);
            nan += x != x;
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
        c->nan_count += (int64_t)nan;
        if (nan == n)
            return;
        if (!c->has_minmax || lo < c->dmin)
            c->dmin = lo;
        if (!c->has_minmax || hi > c->dmax)
            c->dmax = hi;
        c->has_minmax = 1;
        return;
    }
    int64_t lo, hi;
    if (c->width == 8) {
        int64_t x;
        memcpy(&x, v, 8);
        lo = hi = x;
        for (size_t i = 1; i < n; i++) {
            memcpy(&x, v + i * 8, 8);
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
    } else if (c->width == 4) {
        int32_t x;
        memcpy(&x, v, 4);
        int32_t l = x, h = x;
        for (size_t i = 1; i < n; i++) {
            memcpy(&x, v + i * 4, 4);
            l = x < l ? x : l;
            h = x > h ? x : h;
        }
        lo = l;
        hi = h;
    } else {
        uint8_t l = 1, h = 0;
        for (size_t i = 0; i < n; i++) {
            l = v[i] < l ? v[i] : l;
            h = v[i] > h ? v[i] : h;
        }
        lo = l;
        hi = h;
    }
    if (!c->has_minmax || lo < c->imin)
        c->imin = lo;
    if (!c->has_minmax || hi > c->imax)
        c->imax = hi;
    c->has_minmax = 1;
}

/* Largest prefix of s (<= max bytes) that ends on a UTF-8 character boundary. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((uint8_t)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* Fills the min/max statistic bytes of column c. Returns 0 when no min/max can be stated. */
static int stats_bytes(const struct col *c, uint8_t *mn, size_t *mnl, uint8_t *mx, size_t *mxl,
                       int *mn_exact, int *mx_exact)
{
    *mn_exact = *mx_exact = 1;
    if (!c->has_minmax)
        return 0;
    switch (c->phys) {
    case T_BOOLEAN:
        mn[0] = (uint8_t)c->imin;
        mx[0] = (uint8_t)c->imax;
        *mnl = *mxl = 1;
        return 1;
    case T_INT32:
        put_u32le(mn, (uint32_t)(int32_t)c->imin);
        put_u32le(mx, (uint32_t)(int32_t)c->imax);
        *mnl = *mxl = 4;
        return 1;
    case T_INT64:
        put_u64le(mn, (uint64_t)c->imin);
        put_u64le(mx, (uint64_t)c->imax);
        *mnl = *mxl = 8;
        return 1;
    case T_DOUBLE: {
        /* spec: a zero min is written as -0.0, a zero max as +0.0 */
        double lo = c->dmin == 0 ? -0.0 : c->dmin, hi = c->dmax == 0 ? 0.0 : c->dmax;
        memcpy(mn, &lo, 8);
        memcpy(mx, &hi, 8);
        *mnl = *mxl = 8;
        return 1;
    }
    }
    /* strings: min truncated to a prefix (still <= min); max truncated and its last ASCII
     * byte below 0x7F incremented (still >= max, still valid UTF-8) */
    *mnl = utf8_cut(c->smin.data, c->smin.len, STAT_MAX_BYTES);
    memcpy(mn, c->smin.data, *mnl);
    *mn_exact = *mnl == c->smin.len;
    size_t k = utf8_cut(c->smax.data, c->smax.len, STAT_MAX_BYTES);
    memcpy(mx, c->smax.data, k);
    *mxl = k;
    if (k < c->smax.len) {
        *mx_exact = 0;
        while (k > 0 && mx[k - 1] >= 0x7F)
            k--;
        if (k == 0)
            return 0;
        mx[k - 1]++;
        *mxl = k;
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Pages                                                                                      */

/* Compresses `n` bytes at p with the file's codec. Returns the body to write (p itself when
 * uncompressed, else w->cbuf) and its length in *out_n. */
static const uint8_t *compress(struct sg_pq_writer *w, const uint8_t *p, size_t n, size_t *out_n)
{
    if (w->opt.codec == SG_PQ_UNCOMPRESSED) {
        *out_n = n;
        return p;
    }
    sg_buf_reset(&w->cbuf);
    if (w->opt.codec == SG_PQ_SNAPPY) {
        size_t cap = snappy_max_compressed_length(n);
        sg_buf_reserve(&w->cbuf, cap);
        if (snappy_compress((const char *)p, n, w->cbuf.data, &cap) != SNAPPY_OK) {
            set_err(w, SG_ERR_INTERNAL, "parquet: snappy_compress failed");
            *out_n = 0;
            return p;
        }
        *out_n = cap;
    } else {
        size_t cap = ZSTD_compressBound(n);
        sg_buf_reserve(&w->cbuf, cap);
        size_t r = ZSTD_compressCCtx(w->zctx, w->cbuf.data, cap, p, n, w->opt.zstd_level);
        if (ZSTD_isError(r)) {
            set_err(w, SG_ERR_INTERNAL, "parquet: zstd: %s", ZSTD_getErrorName(r));
            *out_n = 0;
            return p;
        }
        *out_n = r;
    }
    return (const uint8_t *)w->cbuf.data;
}

/* Encodes a PageHeader into w->hdr. */
static void page_header(struct sg_pq_writer *w, int type, size_t unc, size_t comp,
                        size_t num_values, int encoding)
{
    struct sg_thrift t;
    sg_buf_reset(&w->hdr);
    sg_thrift_init(&t, &w->hdr);
    sg_thrift_field_i32(&t, 1, type);
    sg_thrift_field_i32(&t, 2, (int32_t)unc);
    sg_thrift_field_i32(&t, 3, (int32_t)comp);
    if (type == PAGE_DATA) {
        sg_thrift_field_struct_begin(&t, 5); /* DataPageHeader */
        sg_thrift_field_i32(&t, 1, (int32_t)num_values);
        sg_thrift_field_i32(&t, 2, encoding);
        sg_thrift_field_i32(&t, 3, E_RLE); /* definition levels */
        sg_thrift_field_i32(&t, 4, E_RLE); /* repetition levels (none: flat schema) */
        sg_thrift_struct_end(&t);
    } else {
        sg_thrift_field_struct_begin(&t, 7); /* DictionaryPageHeader */
        sg_thrift_field_i32(&t, 1, (int32_t)num_values);
        sg_thrift_field_i32(&t, 2, E_PLAIN);
        sg_thrift_struct_end(&t);
    }
    sg_thrift_struct_end(&t);
}

static int bit_width(size_t max_value)
{
    int w = 1; /* 1 even for a one-entry dictionary: always valid, avoids width-0 edge cases */
    while (w < 32 && (max_value >> w) != 0)
        w++;
    return w;
}

/* Builds the uncompressed body of the current page. Returns a pointer to it (the column's own
 * value buffer when no copy is needed) and its length. */
static const uint8_t *page_body(struct sg_pq_writer *w, struct col *c, int dict, size_t *n)
{
    if (!c->optional && !dict && c->phys != T_BOOLEAN) {
        *n = c->vals.len;
        return (const uint8_t *)c->vals.data;
    }
    struct sg_buf *b = &w->scratch;
    sg_buf_reset(b);
    if (c->optional) {
        sg_buf_append(b, "\0\0\0\0", 4);
        rle_levels(b, c->def, c->page_values);
        put_u32le((uint8_t *)b->data, (uint32_t)(b->len - 4));
    }
    if (dict) {
        int bw = bit_width(c->dict.n - 1);
        sg_buf_putc(b, (char)bw);
        sg_pq_rle_encode(b, c->idx, c->page_nonnull, bw);
    } else if (c->phys == T_BOOLEAN) {
        size_t nb = (c->page_nonnull + 7) / 8;
        sg_buf_reserve(b, nb);
        uint8_t *o = (uint8_t *)b->data + b->len;
        memset(o, 0, nb);
        const uint8_t *v = (const uint8_t *)c->vals.data;
        for (size_t i = 0; i < c->page_nonnull; i++)
            o[i >> 3] |= (uint8_t)((v[i] & 1) << (i & 7));
        b->len += nb;
    } else {
        sg_buf_append(b, c->vals.data, c->vals.len);
    }
    *n = b->len;
    return (const uint8_t *)b->data;
}

static void flush_page(struct sg_pq_writer *w, struct col *c)
{
    if (c->page_values == 0)
        return;
    int dict = c->use_dict && c->page_nonnull > 0;
    size_t unc, comp;
    const uint8_t *body = page_body(w, c, dict, &unc);
    const uint8_t *cbody = compress(w, body, unc, &comp);
    int enc = dict ? E_RLE_DICTIONARY : E_PLAIN;
    page_header(w, PAGE_DATA, unc, comp, c->page_values, enc);
    sg_buf_append(&c->chunk, w->hdr.data, w->hdr.len);
    sg_buf_append(&c->chunk, cbody, comp);
    c->chunk_unc += (int64_t)(w->hdr.len + unc);
    c->chunk_comp += (int64_t)(w->hdr.len + comp);
    c->chunk_values += (int64_t)c->page_values;
    c->enc_mask |= 1u << enc;
    if (c->optional)
        c->enc_mask |= 1u << E_RLE;
    c->dict_pages += dict;
    sg_buf_reset(&c->vals);
    c->page_values = c->page_nonnull = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Appending values                                                                           */

static void grow_def(struct col *c, size_t need)
{
    if (need > c->def_cap)
        c->def = sg_xgrow(c->def, &c->def_cap, need, 1);
}

static int page_full(const struct sg_pq_writer *w, const struct col *c)
{
    return c->vals.len >= w->opt.page_bytes || c->page_values >= PAGE_MAX_VALUES ||
           (c->use_dict && c->page_nonnull * 4 >= w->opt.page_bytes);
}

/* Copies the non-null values among n fixed-width values; returns how many were copied. */
static size_t compact_copy(uint8_t *dst, const uint8_t *src, const uint8_t *valid, size_t n,
                           int width, uint8_t *def)
{
    size_t k = 0;
    switch (width) {
    case 8:
        for (size_t i = 0; i < n; i++) {
            uint8_t ok = valid[i] != 0;
            memcpy(dst + k * 8, src + i * 8, 8);
            k += ok;
            def[i] = ok;
        }
        break;
    case 4:
        for (size_t i = 0; i < n; i++) {
            uint8_t ok = valid[i] != 0;
            memcpy(dst + k * 4, src + i * 4, 4);
            k += ok;
            def[i] = ok;
        }
        break;
    default:
        for (size_t i = 0; i < n; i++) {
            uint8_t ok = valid[i] != 0;
            dst[k] = src[i] != 0;
            k += ok;
            def[i] = ok;
        }
    }
    return k;
}

static void append_fixed(struct sg_pq_writer *w, struct col *c, const uint8_t *src,
                         const uint8_t *valid, size_t n)
{
    size_t width = (size_t)c->width;
    while (n > 0) {
        size_t room = w->opt.page_bytes > c->vals.len
                          ? (w->opt.page_bytes - c->vals.len + width - 1) / width
                          : 1;
        if (room > PAGE_MAX_VALUES - c->page_values)
            room = PAGE_MAX_VALUES - c->page_values;
        size_t k = n < room ? n : room;
        sg_buf_reserve(&c->vals, k * width);
        uint8_t *dst = (uint8_t *)c->vals.data + c->vals.len;
        size_t nn = k;
        if (c->optional)
            grow_def(c, c->page_values + k);
        if (valid) {
            nn = compact_copy(dst, src, valid, k, c->width, c->def + c->page_values);
        } else {
            if (c->phys == T_BOOLEAN) {
                for (size_t i = 0; i < k; i++)
                    dst[i] = src[i] != 0;
            } else {
                memcpy(dst, src, k * width);
            }
            if (c->optional)
                memset(c->def + c->page_values, 1, k);
        }
        stats_fixed(c, dst, nn);
        c->vals.len += nn * width;
        c->page_values += k;
        c->page_nonnull += nn;
        c->null_count += (int64_t)(k - nn);
        src += k * width;
        if (valid)
            valid += k;
        n -= k;
        if (page_full(w, c))
            flush_page(w, c);
    }
}

static void append_plain_str(struct col *c, const struct sg_pq_str *s)
{
    uint8_t len[4];
    put_u32le(len, s->len);
    sg_buf_append(&c->vals, len, 4);
    sg_buf_append(&c->vals, s->p, s->len);
    stats_str(c, s->p, s->len);
}

static void append_str(struct sg_pq_writer *w, struct col *c, const struct sg_pq_str *v,
                       const uint8_t *valid, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int ok = !valid || valid[i];
        if (c->optional) {
            grow_def(c, c->page_values + 1);
            c->def[c->page_values] = (uint8_t)ok;
        }
        c->page_values++;
        if (!ok) {
            c->null_count++;
        } else {
            if (c->use_dict) {
                int added = 0;
                int64_t e = dict_put(&c->dict, v[i].p, v[i].len, w->opt.dict_max_bytes, &added);
                if (e < 0) {
                    /* dictionary full: this value starts a PLAIN page; the chunk stays PLAIN */
                    c->page_values--;
                    flush_page(w, c);
                    c->use_dict = 0;
                    if (c->optional) {
                        grow_def(c, 1);
                        c->def[0] = 1;
                    }
                    c->page_values = 1;
                    append_plain_str(c, &v[i]);
                } else {
                    if (added)
                        stats_str(c, v[i].p, v[i].len);
                    if (c->page_nonnull == c->idx_cap)
                        c->idx = sg_xgrow(c->idx, &c->idx_cap, c->page_nonnull + 1, sizeof *c->idx);
                    c->idx[c->page_nonnull] = (uint32_t)e;
                }
            } else {
                append_plain_str(c, &v[i]);
            }
            c->page_nonnull++;
        }
        if (page_full(w, c))
            flush_page(w, c);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Row groups and footer                                                                      */

static int64_t rowgroup_bytes(const struct sg_pq_writer *w)
{
    int64_t b = 0;
    for (size_t i = 0; i < w->ncols; i++) {
        const struct col *c = &w->cols[i];
        b += c->chunk_unc + (int64_t)c->vals.len + (int64_t)c->dict.data.len +
             (int64_t)(c->use_dict ? c->page_nonnull * 4 : 0);
    }
    return b;
}

static void encode_stats(struct sg_thrift *t, const struct col *c)
{
    uint8_t mn[STAT_MAX_BYTES + 8], mx[STAT_MAX_BYTES + 8];
    size_t mnl = 0, mxl = 0;
    int mne, mxe;
    int have = stats_bytes(c, mn, &mnl, mx, &mxl, &mne, &mxe);
    sg_thrift_field_struct_begin(t, 12); /* Statistics */
    if (have && c->phys != T_BYTE_ARRAY) {
        /* legacy max/min (signed order), equal to the typed order for these types */
        sg_thrift_field_binary(t, 1, mx, mxl);
        sg_thrift_field_binary(t, 2, mn, mnl);
    }
    sg_thrift_field_i64(t, 3, c->null_count);
    if (have) {
        sg_thrift_field_binary(t, 5, mx, mxl);
        sg_thrift_field_binary(t, 6, mn, mnl);
        sg_thrift_field_bool(t, 7, mxe);
        sg_thrift_field_bool(t, 8, mne);
    }
    if (c->phys == T_DOUBLE)
        sg_thrift_field_i64(t, 9, c->nan_count);
    sg_thrift_struct_end(t);
}

/* Appends one ColumnChunk struct (a list element) for column c. */
static void encode_chunk(struct sg_thrift *t, const struct col *c, int64_t data_off,
                         int64_t dict_off, int64_t unc, int64_t comp, int codec)
{
    sg_thrift_elem_struct_begin(t);
    sg_thrift_field_i64(t, 2, 0);       /* file_offset: deprecated, 0 per spec */
    sg_thrift_field_struct_begin(t, 3); /* ColumnMetaData */
    sg_thrift_field_i32(t, 1, c->phys);
    unsigned m = c->enc_mask;
    size_t ne = (size_t)__builtin_popcount(m);
    sg_thrift_field_list_begin(t, 2, SG_THRIFT_I32, ne);
    for (int e = 0; e < 32; e++)
        if (m & (1u << e))
            sg_thrift_elem_i32(t, e);
    sg_thrift_field_list_begin(t, 3, SG_THRIFT_BINARY, 1);
    sg_thrift_elem_binary(t, c->name, strlen(c->name));
    sg_thrift_field_i32(t, 4, codec);
    sg_thrift_field_i64(t, 5, c->chunk_values);
    sg_thrift_field_i64(t, 6, unc);
    sg_thrift_field_i64(t, 7, comp);
    sg_thrift_field_i64(t, 9, data_off);
    if (dict_off >= 0)
        sg_thrift_field_i64(t, 11, dict_off);
    encode_stats(t, c);
    sg_thrift_struct_end(t); /* ColumnMetaData */
    sg_thrift_struct_end(t); /* ColumnChunk */
}

/* Writes the dictionary page (if any) and the data pages of column c; appends its
 * ColumnChunk metadata to t. Returns SG_OK or an I/O error. */
static int write_chunk(struct sg_pq_writer *w, struct col *c, struct sg_thrift *t,
                       int64_t *unc_total, int64_t *comp_total)
{
    flush_page(w, c);
    int64_t dict_off = -1, unc = c->chunk_unc, comp = c->chunk_comp;
    if (c->dict_pages > 0) {
        size_t dcomp;
        const uint8_t *body =
            compress(w, (const uint8_t *)c->dict.data.data, c->dict.data.len, &dcomp);
        page_header(w, PAGE_DICTIONARY, c->dict.data.len, dcomp, c->dict.n, E_PLAIN);
        dict_off = w->pos;
        if (wr(w, w->hdr.data, w->hdr.len) || wr(w, body, dcomp))
            return w->err;
        unc += (int64_t)(w->hdr.len + c->dict.data.len);
        comp += (int64_t)(w->hdr.len + dcomp);
        c->enc_mask |= 1u << E_PLAIN; /* the dictionary page is PLAIN */
    }
    int64_t data_off = w->pos;
    if (wr(w, c->chunk.data, c->chunk.len))
        return w->err;
    encode_chunk(t, c, data_off, dict_off, unc, comp, (int)w->opt.codec);
    *unc_total += unc;
    *comp_total += comp;
    return SG_OK;
}

static void chunk_reset(struct col *c)
{
    sg_buf_reset(&c->chunk);
    c->chunk_unc = c->chunk_comp = c->chunk_values = 0;
    c->use_dict = c->type == SG_PQ_STRING;
    c->dict_pages = 0;
    c->enc_mask = 0;
    dict_reset(&c->dict);
    stats_reset(c);
}

static int flush_rowgroup(struct sg_pq_writer *w)
{
    if (w->rg_rows == 0 || w->err)
        return w->err;
    struct sg_thrift t;
    sg_thrift_init(&t, &w->rowgroups);
    int64_t start = w->pos, unc = 0, comp = 0;
    sg_thrift_field_list_begin(&t, 1, SG_THRIFT_STRUCT, w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        if (write_chunk(w, &w->cols[i], &t, &unc, &comp))
            return w->err;
        chunk_reset(&w->cols[i]);
    }
    sg_thrift_field_i64(&t, 2, unc);
    sg_thrift_field_i64(&t, 3, w->rg_rows);
    sg_thrift_field_i64(&t, 5, start);
    sg_thrift_field_i64(&t, 6, comp);
    sg_thrift_field_i16(&t, 7, (int16_t)(w->nrowgroups > 32767 ? 32767 : w->nrowgroups));
    sg_thrift_struct_end(&t);
    if (sg_thrift_finish(&t) != SG_OK) {
        set_err(w, SG_ERR_INTERNAL, "parquet: row group metadata encoding failed");
        return w->err;
    }
    w->nrowgroups++;
    w->rg_rows = 0;
    return SG_OK;
}

static void encode_schema_element(struct sg_thrift *t, const struct col *c)
{
    sg_thrift_elem_struct_begin(t);
    sg_thrift_field_i32(t, 1, c->phys);
    sg_thrift_field_i32(t, 3, c->optional ? 1 : 0);
    sg_thrift_field_string(t, 4, c->name);
    int conv = -1, bits = 0;
    switch (c->type) {
    case SG_PQ_INT8:
        conv = CT_INT_8;
        bits = 8;
        break;
    case SG_PQ_INT16:
        conv = CT_INT_16;
        bits = 16;
        break;
    case SG_PQ_INT32:
        conv = CT_INT_32;
        bits = 32;
        break;
    case SG_PQ_INT64:
        conv = CT_INT_64;
        bits = 64;
        break;
    case SG_PQ_STRING: conv = CT_UTF8; break;
    case SG_PQ_TIMESTAMP_MS: conv = CT_TIMESTAMP_MILLIS; break;
    default: break;
    }
    if (conv >= 0) {
        sg_thrift_field_i32(t, 6, conv);
        sg_thrift_field_struct_begin(t, 10); /* LogicalType (union) */
        if (bits) {
            sg_thrift_field_struct_begin(t, 10); /* INTEGER: IntType */
            sg_thrift_field_i8(t, 1, (int8_t)bits);
            sg_thrift_field_bool(t, 2, 1);
            sg_thrift_struct_end(t);
        } else if (c->type == SG_PQ_STRING) {
            sg_thrift_field_struct_begin(t, 1); /* STRING: StringType {} */
            sg_thrift_struct_end(t);
        } else {
            sg_thrift_field_struct_begin(t, 8); /* TIMESTAMP: TimestampType */
            sg_thrift_field_bool(t, 1, 1);      /* isAdjustedToUTC */
            sg_thrift_field_struct_begin(t, 2); /* unit: TimeUnit (union) */
            sg_thrift_field_struct_begin(t, 1); /* MILLIS */
            sg_thrift_struct_end(t);
            sg_thrift_struct_end(t);
            sg_thrift_struct_end(t);
        }
        sg_thrift_struct_end(t);
    }
    sg_thrift_struct_end(t);
}

/* Encodes FileMetaData into `out`. Returns SG_OK or SG_ERR_INTERNAL. */
static int encode_footer(const struct sg_pq_writer *w, struct sg_buf *out)
{
    struct sg_thrift t;
    sg_thrift_init(&t, out);
    sg_thrift_field_i32(&t, 1, 1); /* version */
    sg_thrift_field_list_begin(&t, 2, SG_THRIFT_STRUCT, w->ncols + 1);
    sg_thrift_elem_struct_begin(&t); /* root */
    sg_thrift_field_string(&t, 4, "schema");
    sg_thrift_field_i32(&t, 5, (int32_t)w->ncols);
    sg_thrift_struct_end(&t);
    for (size_t i = 0; i < w->ncols; i++)
        encode_schema_element(&t, &w->cols[i]);
    sg_thrift_field_i64(&t, 3, w->rows);
    sg_thrift_field_list_begin(&t, 4, SG_THRIFT_STRUCT, w->nrowgroups);
    sg_buf_append(out, w->rowgroups.data, w->rowgroups.len);
    if (w->opt.kv_count) {
        sg_thrift_field_list_begin(&t, 5, SG_THRIFT_STRUCT, w->opt.kv_count);
        for (size_t i = 0; i < w->opt.kv_count; i++) {
            sg_thrift_elem_struct_begin(&t);
            sg_thrift_field_string(&t, 1, w->kv[i].key);
            if (w->kv[i].value)
                sg_thrift_field_string(&t, 2, w->kv[i].value);
            sg_thrift_struct_end(&t);
        }
    }
    sg_thrift_field_string(&t, 6, SG_PQ_CREATED_BY);
    sg_thrift_field_list_begin(&t, 7, SG_THRIFT_STRUCT, w->ncols);
    for (size_t i = 0; i < w->ncols; i++) {
        sg_thrift_elem_struct_begin(&t);     /* ColumnOrder (union) */
        sg_thrift_field_struct_begin(&t, 1); /* TYPE_ORDER: TypeDefinedOrder {} */
        sg_thrift_struct_end(&t);
        sg_thrift_struct_end(&t);
    }
    sg_thrift_struct_end(&t);
    return sg_thrift_finish(&t);
}

static int write_footer(struct sg_pq_writer *w)
{
    struct sg_buf f;
    sg_buf_init(&f);
    int rc = encode_footer(w, &f);
    if (rc != SG_OK) {
        set_err(w, rc, "parquet: footer encoding failed");
    } else {
        uint8_t tail[8];
        put_u32le(tail, (uint32_t)f.len);
        memcpy(tail + 4, MAGIC, 4);
        sg_buf_append(&f, tail, 8);
        wr(w, f.data, f.len);
    }
    sg_buf_release(&f);
    return w->err;
}

/* ---------------------------------------------------------------------------------------- */
/* Public writer API                                                                          */

static void writer_free(struct sg_pq_writer *w)
{
    for (size_t i = 0; i < w->ncols; i++) {
        struct col *c = &w->cols[i];
        free(c->name);
        sg_buf_release(&c->vals);
        sg_buf_release(&c->chunk);
        sg_buf_release(&c->smin);
        sg_buf_release(&c->smax);
        free(c->idx);
        free(c->def);
        dict_release(&c->dict);
    }
    free(w->cols);
    for (size_t i = 0; i < w->opt.kv_count; i++) {
        free((char *)w->kv[i].key);
        free((char *)w->kv[i].value);
    }
    free(w->kv);
    sg_buf_release(&w->rowgroups);
    sg_buf_release(&w->scratch);
    sg_buf_release(&w->cbuf);
    sg_buf_release(&w->hdr);
    ZSTD_freeCCtx(w->zctx);
    free(w->path);
    free(w->tmp);
    free(w);
}

static char *temp_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    uint8_t r[6];
    random_bytes(r, sizeof r);
    struct sg_buf b;
    sg_buf_init(&b);
    sg_buf_append(&b, path, dirlen);
    /* hidden and without the .parquet suffix, so readers globbing *.parquet skip it */
    sg_buf_printf(&b, ".%s.tmp-%ld-%02x%02x%02x%02x%02x%02x", path + dirlen, (long)getpid(), r[0],
                  r[1], r[2], r[3], r[4], r[5]);
    return sg_buf_steal(&b);
}

struct sg_pq_writer *sg_pq_writer_new(const char *path, const struct sg_pq_column *cols,
                                      size_t ncols, const struct sg_pq_options *opt, char *errbuf,
                                      size_t errlen)
{
    struct sg_pq_options def;
    if (!opt) {
        sg_pq_options_default(&def);
        opt = &def;
    }
    if (!path || !*path) {
        copy_msg(errbuf, errlen, "parquet: empty path");
        return NULL;
    }
    if (check_schema(cols, ncols, errbuf, errlen) || check_options(opt, errbuf, errlen))
        return NULL;
    struct sg_pq_writer *w = sg_xcalloc(1, sizeof *w);
    w->fd = -1;
    w->opt = *opt;
    w->path = sg_xstrdup(path);
    w->tmp = temp_name(path);
    w->kv = sg_xcalloc(opt->kv_count + 1, sizeof *w->kv);
    for (size_t i = 0; i < opt->kv_count; i++) {
        w->kv[i].key = sg_xstrdup(opt->kv[i].key);
        w->kv[i].value = opt->kv[i].value ? sg_xstrdup(opt->kv[i].value) : NULL;
    }
    w->opt.kv = w->kv;
    w->ncols = ncols;
    w->cols = sg_xcalloc(ncols, sizeof *w->cols);
    for (size_t i = 0; i < ncols; i++) {
        struct col *c = &w->cols[i];
        c->name = sg_xstrdup(cols[i].name);
        c->type = cols[i].type;
        c->phys = phys_of(c->type, &c->width);
        c->optional = cols[i].optional != 0;
        chunk_reset(c);
    }
    if (w->opt.codec == SG_PQ_ZSTD)
        w->zctx = ZSTD_createCCtx();
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        snprintf(errbuf, errlen, "parquet: create %s: %s", w->tmp, strerror(errno));
        writer_free(w);
        return NULL;
    }
    if (wr(w, MAGIC, 4) != SG_OK) {
        copy_msg(errbuf, errlen, w->msg);
        sg_pq_writer_abort(w);
        return NULL;
    }
    return w;
}

/* Validates a batch before anything is appended, so a rejected batch changes nothing. */
static int check_batch(struct sg_pq_writer *w, const void *const *values,
                       const uint8_t *const *valid, size_t nrows)
{
    for (size_t ci = 0; ci < w->ncols; ci++) {
        const struct col *c = &w->cols[ci];
        const uint8_t *ok = valid ? valid[ci] : NULL;
        if (nrows && !values[ci]) {
            set_err(w, SG_ERR_INVALID, "parquet: column %s: no values", c->name);
            return SG_ERR_INVALID;
        }
        if (ok && !c->optional && memchr(ok, 0, nrows)) {
            set_err(w, SG_ERR_INVALID, "parquet: null in REQUIRED column %s", c->name);
            return SG_ERR_INVALID;
        }
        if (c->type == SG_PQ_INT8 || c->type == SG_PQ_INT16) {
            int32_t lim = c->type == SG_PQ_INT8 ? 127 : 32767;
            const int32_t *v = values[ci];
            for (size_t i = 0; i < nrows; i++)
                if ((!ok || ok[i]) && (v[i] > lim || v[i] < -lim - 1)) {
                    set_err(w, SG_ERR_RANGE, "parquet: column %s row %zu: %d out of range", c->name,
                            i, (int)v[i]);
                    return SG_ERR_RANGE;
                }
        }
        if (c->type == SG_PQ_STRING) {
            const struct sg_pq_str *v = values[ci];
            for (size_t i = 0; i < nrows; i++) {
                if ((!ok || ok[i]) && v[i].len > MAX_VALUE_BYTES) {
                    set_err(w, SG_ERR_RANGE, "parquet: column %s row %zu: string of %u bytes",
                            c->name, i, (unsigned)v[i].len);
                    return SG_ERR_RANGE;
                }
                if ((!ok || ok[i]) && !sg_pq_utf8_valid(v[i].p, v[i].len)) {
                    set_err(w, SG_ERR_INVALID, "parquet: column %s row %zu: invalid UTF-8", c->name,
                            i);
                    return SG_ERR_INVALID;
                }
            }
        }
    }
    return SG_OK;
}

int sg_pq_utf8_valid(const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    if (n && !s)
        return 0;
    while (i < n) {
        /* ASCII fast path, 8 bytes at a time */
        while (i + 8 <= n) {
            uint64_t w8;
            memcpy(&w8, p + i, 8);
            if (w8 & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        uint8_t b = p[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (b >= 0xC2 && b <= 0xDF) {
            len = 2;
            cp = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
            len = 3;
            cp = b & 0x0F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            len = 4;
            cp = b & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

static void append_rows(struct sg_pq_writer *w, const void *const *values,
                        const uint8_t *const *valid, size_t off, size_t n)
{
    for (size_t ci = 0; ci < w->ncols; ci++) {
        struct col *c = &w->cols[ci];
        const uint8_t *ok = valid && valid[ci] ? valid[ci] + off : NULL;
        if (!c->optional)
            ok = NULL; /* checked: all present */
        if (c->type == SG_PQ_STRING)
            append_str(w, c, (const struct sg_pq_str *)values[ci] + off, ok, n);
        else
            append_fixed(w, c, (const uint8_t *)values[ci] + off * (size_t)c->width, ok, n);
    }
}

int sg_pq_write_batch(struct sg_pq_writer *w, const void *const *values,
                      const uint8_t *const *valid, size_t nrows)
{
    if (w->err)
        return w->err;
    if (!values && nrows) {
        set_err(w, SG_ERR_INVALID, "parquet: no value arrays");
        return w->err;
    }
    int rc = check_batch(w, values, valid, nrows);
    if (rc != SG_OK) {
        w->err = 0; /* a rejected batch leaves the writer usable */
        return rc;
    }
    size_t done = 0;
    while (done < nrows) {
        size_t n = nrows - done;
        if (n > SEGMENT_ROWS)
            n = SEGMENT_ROWS;
        if ((int64_t)n > w->opt.row_group_rows - w->rg_rows)
            n = (size_t)(w->opt.row_group_rows - w->rg_rows);
        append_rows(w, values, valid, done, n);
        if (w->err)
            return w->err;
        done += n;
        w->rg_rows += (int64_t)n;
        w->rows += (int64_t)n;
        if (w->rg_rows >= w->opt.row_group_rows || rowgroup_bytes(w) >= w->opt.row_group_bytes)
            if (flush_rowgroup(w))
                return w->err;
    }
    return SG_OK;
}

int sg_pq_writer_close(struct sg_pq_writer *w, char *errbuf, size_t errlen)
{
    if (!w) {
        copy_msg(errbuf, errlen, "parquet: no writer");
        return SG_ERR_INVALID;
    }
    if (!w->err && flush_rowgroup(w) == SG_OK && write_footer(w) == SG_OK) {
        if (fsync(w->fd) != 0)
            set_err(w, sg_err_from_errno(errno) == SG_ERR_NOSPACE ? SG_ERR_NOSPACE : SG_ERR_IO,
                    "parquet: fsync %s: %s", w->tmp, strerror(errno));
    }
    if (w->fd >= 0 && close(w->fd) != 0)
        set_err(w, sg_err_from_errno(errno) == SG_ERR_NOSPACE ? SG_ERR_NOSPACE : SG_ERR_IO,
                "parquet: close %s: %s", w->tmp, strerror(errno));
    w->fd = -1;
    if (!w->err && rename(w->tmp, w->path) != 0)
        set_err(w, SG_ERR_IO, "parquet: rename %s -> %s: %s", w->tmp, w->path, strerror(errno));
    if (!w->err) {
        int e = fsync_parent(w->path);
        if (e) {
            /* the rename may not be durable: keep the contract "error => no file" */
            set_err(w, SG_ERR_IO, "parquet: fsync directory of %s: %s", w->path, strerror(e));
            unlink(w->path);
        }
    } else {
        unlink(w->tmp);
    }
    int rc = w->err;
    if (rc)
        copy_msg(errbuf, errlen, w->msg);
    writer_free(w);
    return rc;
}

void sg_pq_writer_abort(struct sg_pq_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    unlink(w->tmp);
    writer_free(w);
}

const char *sg_pq_writer_error(const struct sg_pq_writer *w)
{
    return w->msg;
}

int64_t sg_pq_writer_rows(const struct sg_pq_writer *w)
{
    return w->rows;
}

/* ---------------------------------------------------------------------------------------- */
/* Hive-style dataset                                                                         */

struct sg_pq_dataset {
    char *dir, *tmp;
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p) == 0 || errno == ENOENT ? 0 : -1;
}

/* rm -rf; returns 0 or -1 (errno set). */
static int remove_tree(const char *path)
{
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Removes `<dir>.tmp-<pid>-*` siblings left by dataset writers that died (their pid no longer
 * exists), including `.old` trees of an interrupted replace. Assumes one host writes DIR. */
static void remove_stale(const char *dir)
{
    const char *slash = strrchr(dir, '/');
    char *parent = slash ? sg_xstrndup(dir, (size_t)(slash - dir)) : sg_xstrdup(".");
    const char *base = slash ? slash + 1 : dir;
    size_t bl = strlen(base);
    DIR *dh = opendir(*parent ? parent : "/");
    struct dirent *e;
    while (dh && (e = readdir(dh))) {
        if (strncmp(e->d_name, base, bl) || strncmp(e->d_name + bl, ".tmp-", 5))
            continue;
        char *end;
        long pid = strtol(e->d_name + bl + 5, &end, 10);
        if (pid <= 0 || *end != '-' || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or not ours to judge) */
        struct sg_buf p;
        sg_buf_init(&p);
        sg_buf_printf(&p, "%s/%s", parent, e->d_name);
        remove_tree(p.data);
        sg_buf_release(&p);
    }
    if (dh)
        closedir(dh);
    free(parent);
}

struct sg_pq_dataset *sg_pq_dataset_new(const char *dir, char *errbuf, size_t errlen)
{
    if (!dir || !*dir) {
        copy_msg(errbuf, errlen, "parquet dataset: empty directory name");
        return NULL;
    }
    struct sg_pq_dataset *d = sg_xcalloc(1, sizeof *d);
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    d->dir = sg_xstrndup(dir, n);
    remove_stale(d->dir);
    uint8_t r[4];
    random_bytes(r, sizeof r);
    struct sg_buf b;
    sg_buf_init(&b);
    sg_buf_printf(&b, "%s.tmp-%ld-%02x%02x%02x%02x", d->dir, (long)getpid(), r[0], r[1], r[2],
                  r[3]);
    d->tmp = sg_buf_steal(&b);
    if (mkdir(d->tmp, 0755) != 0) {
        snprintf(errbuf, errlen, "parquet dataset: mkdir %s: %s", d->tmp, strerror(errno));
        free(d->dir);
        free(d->tmp);
        free(d);
        return NULL;
    }
    return d;
}

struct sg_pq_dataset *sg_pq_dataset_attach(const char *tmpdir)
{
    struct sg_pq_dataset *d = sg_xcalloc(1, sizeof *d);
    d->tmp = sg_xstrdup(tmpdir);
    return d;
}

void sg_pq_dataset_detach(struct sg_pq_dataset *d)
{
    if (!d)
        return;
    free(d->dir);
    free(d->tmp);
    free(d);
}

const char *sg_pq_dataset_tmpdir(const struct sg_pq_dataset *d)
{
    return d->tmp;
}

static int valid_partition(const char *p)
{
    /* one path component "col=value": no '/', not "." or "..", not hidden */
    return p[0] && p[0] != '.' && p[0] != '_' && !strchr(p, '/') && strchr(p, '=');
}

struct sg_pq_writer *sg_pq_dataset_part(struct sg_pq_dataset *d, const char *partition, int part,
                                        const struct sg_pq_column *cols, size_t ncols,
                                        const struct sg_pq_options *opt, char *errbuf,
                                        size_t errlen)
{
    if (part < 0 || part > 99999 || (partition && !valid_partition(partition))) {
        copy_msg(errbuf, errlen, "parquet dataset: bad partition name or part number");
        return NULL;
    }
    struct sg_buf b;
    sg_buf_init(&b);
    sg_buf_puts(&b, d->tmp);
    if (partition) {
        sg_buf_printf(&b, "/%s", partition);
        if (mkdir(b.data, 0755) != 0 && errno != EEXIST) {
            snprintf(errbuf, errlen, "parquet dataset: mkdir %s: %s", b.data, strerror(errno));
            sg_buf_release(&b);
            return NULL;
        }
    }
    uint8_t u[16];
    random_bytes(u, sizeof u);
    u[6] = (uint8_t)((u[6] & 0x0F) | 0x40); /* UUID version 4 */
    u[8] = (uint8_t)((u[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    sg_buf_printf(&b, "/part-%05d-", part);
    for (int i = 0; i < 16; i++)
        sg_buf_printf(&b, "%s%02x", (i == 4 || i == 6 || i == 8 || i == 10) ? "-" : "", u[i]);
    sg_buf_puts(&b, ".parquet");
    struct sg_pq_writer *w = sg_pq_writer_new(b.data, cols, ncols, opt, errbuf, errlen);
    sg_buf_release(&b);
    return w;
}

/* Swaps d->tmp into d->dir. Returns 0 or an errno value. */
static int swap_in(struct sg_pq_dataset *d, char *errbuf, size_t errlen)
{
    if (rename(d->tmp, d->dir) == 0)
        return 0; /* DIR did not exist (or was an empty directory) */
    if (errno != EEXIST && errno != ENOTEMPTY) {
        int e = errno;
        snprintf(errbuf, errlen, "parquet dataset: rename %s -> %s: %s", d->tmp, d->dir,
                 strerror(e));
        return e;
    }
    /* atomic exchange: readers see the old or the new tree, never neither */
    if (renameat2(AT_FDCWD, d->tmp, AT_FDCWD, d->dir, RENAME_EXCHANGE) == 0)
        return 0; /* d->tmp now holds the old tree; the caller removes it */
    if (errno != EINVAL && errno != ENOSYS) {
        int e = errno;
        snprintf(errbuf, errlen, "parquet dataset: exchange %s <-> %s: %s", d->tmp, d->dir,
                 strerror(e));
        return e;
    }
    /* file system without RENAME_EXCHANGE: move the old tree aside, then rename (a reader may
     * briefly find no DIR; documented in docs/PARQUET.md) */
    struct sg_buf old;
    sg_buf_init(&old);
    sg_buf_printf(&old, "%s.old", d->tmp);
    int e = 0;
    if (rename(d->dir, old.data) != 0 || rename(d->tmp, d->dir) != 0) {
        e = errno;
        snprintf(errbuf, errlen, "parquet dataset: replace %s: %s", d->dir, strerror(e));
        rename(old.data, d->dir); /* best effort: put the old tree back */
    } else {
        free(d->tmp);
        d->tmp = sg_buf_steal(&old); /* the old tree is removed as "tmp" */
    }
    sg_buf_release(&old);
    return e;
}

int sg_pq_dataset_commit(struct sg_pq_dataset *d, char *errbuf, size_t errlen)
{
    struct sg_buf p;
    sg_buf_init(&p);
    sg_buf_printf(&p, "%s/_SUCCESS", d->tmp);
    int rc = SG_OK;
    int fd = open(p.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        snprintf(errbuf, errlen, "parquet dataset: write %s: %s", p.data, strerror(e));
        rc = sg_err_from_errno(e) == SG_ERR_NOSPACE ? SG_ERR_NOSPACE : SG_ERR_IO;
    }
    sg_buf_release(&p);
    if (rc == SG_OK) {
        sg_buf_printf(&p, "%s/.", d->tmp);
        int e = fsync_parent(p.data); /* the tmp directory itself: entries of parts, _SUCCESS */
        sg_buf_release(&p);
        if (!e)
            e = swap_in(d, errbuf, errlen);
        else
            snprintf(errbuf, errlen, "parquet dataset: fsync %s: %s", d->tmp, strerror(e));
        if (e)
            rc = sg_err_from_errno(e) == SG_ERR_NOSPACE ? SG_ERR_NOSPACE : SG_ERR_IO;
        else
            fsync_parent(d->dir);
    }
    if (rc == SG_OK) {
        remove_tree(d->tmp); /* the old tree, if any (missing is fine) */
        free(d->dir);
        free(d->tmp);
        free(d);
        return SG_OK;
    }
    sg_pq_dataset_abort(d);
    return rc;
}

void sg_pq_dataset_abort(struct sg_pq_dataset *d)
{
    if (!d)
        return;
    remove_tree(d->tmp);
    free(d->dir);
    free(d->tmp);
    free(d);
}
