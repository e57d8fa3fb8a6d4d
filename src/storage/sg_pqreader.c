/* sg_pqreader: Thrift compact decoding of the footer and page headers (only the fields we
 * need; everything else is skipped generically), page decompression, definition levels and
 * PLAIN / dictionary value decoding. Every read is bounds-checked: a corrupt file is an
 * SG_ERR_FORMAT, never a crash. */
#include "storage/sg_pqreader.h"

#include <errno.h>
#include <snappy-c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_varint.h"

#define MAX_FILE (512u << 20)
#define MAX_COLS 4096
#define MAX_CELLS (64u << 20) /* rows x columns held in memory at most */

/* ---- Thrift compact decoding ------------------------------------------------------------ */

struct rd {
    const uint8_t *p, *end;
    int bad;
};

static uint64_t varint(struct rd *r)
{
    return sg_varint_read(&r->p, r->end, &r->bad);
}

static int64_t zigzag(struct rd *r)
{
    return sg_varint_unzigzag(varint(r));
}

static const uint8_t *take(struct rd *r, uint64_t n)
{
    if (r->bad || n > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

static void skip(struct rd *r, int type, int depth);

static void skip_struct(struct rd *r, int depth)
{
    if (depth > 32) {
        r->bad = 1;
        return;
    }
    while (!r->bad) {
        const uint8_t *h = take(r, 1);
        if (!h || *h == 0)
            return;
        if ((*h >> 4) == 0)
            zigzag(r);
        skip(r, *h & 0x0f, depth + 1);
    }
}

static void skip(struct rd *r, int type, int depth)
{
    switch (type) {
    case 1: case 2: return;                       /* bool in a field header */
    case 3: take(r, 1); return;                   /* i8 */
    case 4: case 5: case 6: zigzag(r); return;    /* i16, i32, i64 */
    case 7: take(r, 8); return;                   /* double */
    case 8: take(r, varint(r)); return;           /* binary */
    case 9: case 10: {                            /* list, set */
        const uint8_t *h = take(r, 1);
        if (!h)
            return;
        uint64_t n = *h >> 4;
        if (n == 15)
            n = varint(r);
        if (n > (uint64_t)(r->end - r->p)) { /* every element takes at least one byte */
            r->bad = 1;
            return;
        }
        for (uint64_t i = 0; i < n && !r->bad; i++) {
            if ((*h & 0x0f) == 1 || (*h & 0x0f) == 2)
                take(r, 1); /* bools in lists are one byte each */
            else
                skip(r, *h & 0x0f, depth + 1);
        }
        return;
    }
    case 11: {                                    /* map */
        uint64_t n = varint(r);
        if (n == 0)
            return;
        const uint8_t *kv = take(r, 1);
        if (n > (uint64_t)(r->end - r->p)) { /* every entry takes at least one byte */
            r->bad = 1;
            return;
        }
        for (uint64_t i = 0; kv && i < n && !r->bad; i++) {
            for (int half = 0; half < 2; half++) {
                int t = half ? *kv & 0x0f : *kv >> 4;
                if (t == 1 || t == 2)
                    take(r, 1); /* bools in containers are one byte each */
                else
                    skip(r, t, depth + 1);
            }
        }
        return;
    }
    case 12: skip_struct(r, depth); return;
    default: r->bad = 1;
    }
}

/* Iterates the fields of a struct: returns the field id and sets *type, 0 at STOP. */
static int field(struct rd *r, int16_t *last, int *type)
{
    const uint8_t *h = take(r, 1);
    if (!h || *h == 0)
        return 0;
    *type = *h & 0x0f;
    int delta = *h >> 4;
    *last = delta ? (int16_t)(*last + delta) : (int16_t)zigzag(r);
    return r->bad ? 0 : *last;
}

/* List header: element type and count. */
static uint64_t list_begin(struct rd *r, int *elem)
{
    const uint8_t *h = take(r, 1);
    if (!h)
        return 0;
    *elem = *h & 0x0f;
    uint64_t n = *h >> 4;
    return n == 15 ? varint(r) : n;
}

/* ---- footer model ----------------------------------------------------------------------- */

struct chunk {
    int codec;
    int64_t num_values, data_off, dict_off, comp_size;
};

struct schema_el {
    char name[256];
    int type, repetition, num_children, converted, ts_millis;
};

struct meta {
    struct schema_el *schema;
    size_t nschema;
    int64_t num_rows;
    struct chunk *chunks; /* row group g, column c at [g * ncols + c] */
    int64_t *rg_rows;
    size_t nrg, ncols;
};

static void read_logical(struct rd *r, struct schema_el *e)
{
    int16_t last = 0;
    int t, id;
    while ((id = field(r, &last, &t))) {
        if (id == 8 && t == 12) { /* TIMESTAMP(isAdjustedToUTC, unit) */
            int16_t l2 = 0;
            int t2, id2;
            while ((id2 = field(r, &l2, &t2))) {
                if (id2 == 2 && t2 == 12) { /* unit union: 1 MILLIS */
                    int16_t l3 = 0;
                    int t3, id3;
                    while ((id3 = field(r, &l3, &t3))) {
                        e->ts_millis |= id3 == 1;
                        skip(r, t3, 1);
                    }
                } else {
                    skip(r, t2, 1);
                }
            }
        } else {
            skip(r, t, 1);
        }
    }
}

static void read_schema_el(struct rd *r, struct schema_el *e)
{
    int16_t last = 0;
    int t, id;
    memset(e, 0, sizeof *e);
    e->type = -1;
    e->converted = -1;
    while ((id = field(r, &last, &t))) {
        if (id == 1 && t == 5)
            e->type = (int)zigzag(r);
        else if (id == 3 && t == 5)
            e->repetition = (int)zigzag(r);
        else if (id == 4 && t == 8) {
            uint64_t n = varint(r);
            const uint8_t *s = take(r, n);
            if (s)
                snprintf(e->name, sizeof e->name, "%.*s", (int)n, (const char *)s);
        } else if (id == 5 && t == 5)
            e->num_children = (int)zigzag(r);
        else if (id == 6 && t == 5)
            e->converted = (int)zigzag(r);
        else if (id == 10 && t == 12)
            read_logical(r, e);
        else
            skip(r, t, 1);
    }
    if (e->converted == 9) /* TIMESTAMP_MILLIS */
        e->ts_millis = 1;
}

static void read_col_meta(struct rd *r, struct chunk *c)
{
    int16_t last = 0;
    int t, id;
    while ((id = field(r, &last, &t))) {
        if (id == 4 && t == 5)
            c->codec = (int)zigzag(r);
        else if (id == 5 && t == 6)
            c->num_values = zigzag(r);
        else if (id == 7 && t == 6)
            c->comp_size = zigzag(r);
        else if (id == 9 && t == 6)
            c->data_off = zigzag(r);
        else if (id == 11 && t == 6)
            c->dict_off = zigzag(r);
        else
            skip(r, t, 1);
    }
}

static int read_row_group(struct rd *r, struct meta *m, size_t g)
{
    int16_t last = 0;
    int t, id;
    size_t seen = 0;
    while ((id = field(r, &last, &t))) {
        if (id == 1 && t == 9) {
            int elem;
            uint64_t n = list_begin(r, &elem);
            if (n != m->ncols || elem != 12)
                return -1;
            for (size_t c = 0; c < n && !r->bad; c++) {
                struct chunk *ch = &m->chunks[g * m->ncols + c];
                ch->dict_off = -1;
                int16_t l2 = 0;
                int t2, id2;
                while ((id2 = field(r, &l2, &t2))) {
                    if (id2 == 3 && t2 == 12)
                        read_col_meta(r, ch);
                    else if (id2 == 1 && t2 == 8)
                        return -1; /* column data in another file: not ours */
                    else
                        skip(r, t2, 1);
                }
            }
            seen = 1;
        } else if (id == 3 && t == 6) {
            m->rg_rows[g] = zigzag(r);
        } else {
            skip(r, t, 1);
        }
    }
    return seen && !r->bad ? 0 : -1;
}

static int read_footer(struct rd *r, struct meta *m)
{
    int16_t last = 0;
    int t, id, elem;
    while ((id = field(r, &last, &t))) {
        if (id == 2 && t == 9) {
            uint64_t n = list_begin(r, &elem);
            if (elem != 12 || n < 1 || n > MAX_COLS + 1 || m->schema) /* once only */
                return -1;
            m->schema = sg_xcalloc(n, sizeof *m->schema);
            m->nschema = n;
            for (size_t i = 0; i < n && !r->bad; i++)
                read_schema_el(r, &m->schema[i]);
            m->ncols = n - 1;
        } else if (id == 3 && t == 6) {
            m->num_rows = zigzag(r);
        } else if (id == 4 && t == 9 && m->schema) {
            uint64_t n = list_begin(r, &elem);
            if (elem != 12 || n > (uint64_t)(r->end - r->p) || m->chunks) /* once only */
                return -1;
            m->nrg = n;
            m->chunks = sg_xcalloc(n * m->ncols + 1, sizeof *m->chunks);
            m->rg_rows = sg_xcalloc(n + 1, sizeof *m->rg_rows);
            for (size_t g = 0; g < n; g++)
                if (read_row_group(r, m, g) != 0)
                    return -1;
        } else {
            skip(r, t, 1);
        }
    }
    return r->bad || !m->schema ? -1 : 0;
}

/* ---- pages ------------------------------------------------------------------------------ */

struct page {
    int type; /* 0 data v1, 2 dictionary */
    int32_t unc, comp, num_values, encoding;
};

static int read_page_header(struct rd *r, struct page *pg)
{
    int16_t last = 0;
    int t, id;
    memset(pg, 0, sizeof *pg);
    pg->type = -1;
    while ((id = field(r, &last, &t))) {
        if (id == 1 && t == 5)
            pg->type = (int)zigzag(r);
        else if (id == 2 && t == 5)
            pg->unc = (int32_t)zigzag(r);
        else if (id == 3 && t == 5)
            pg->comp = (int32_t)zigzag(r);
        else if ((id == 5 || id == 7) && t == 12) { /* data / dictionary page header */
            int16_t l2 = 0;
            int t2, id2;
            while ((id2 = field(r, &l2, &t2))) {
                if (id2 == 1 && t2 == 5)
                    pg->num_values = (int32_t)zigzag(r);
                else if (id2 == 2 && t2 == 5)
                    pg->encoding = (int32_t)zigzag(r);
                else
                    skip(r, t2, 1);
            }
        } else {
            skip(r, t, 1);
        }
    }
    return r->bad || pg->unc < 0 || pg->comp < 0 || pg->num_values < 0 ? -1 : 0;
}

/* Decompresses a page body into *out (malloc'd); returns 0 or -1. */
static int decompress(int codec, const uint8_t *in, size_t n, size_t unc, uint8_t **out)
{
    /* The header's uncompressed size is checked against what the compressed bytes themselves
     * say before anything is allocated: a forged size must not buy a huge allocation. */
    size_t claimed = 0;
    if (codec == 0)
        claimed = n;
    else if (codec == 1 && snappy_uncompressed_length((const char *)in, n, &claimed) != SNAPPY_OK)
        return -1;
    else if (codec == 6) {
        unsigned long long z = ZSTD_getFrameContentSize(in, n);
        if (z == ZSTD_CONTENTSIZE_ERROR || z == ZSTD_CONTENTSIZE_UNKNOWN || z > SIZE_MAX)
            return -1;
        claimed = (size_t)z;
    } else if (codec != 0 && codec != 1)
        return -1;
    if (claimed != unc)
        return -1;
    *out = sg_xmalloc(unc + 1);
    if (codec == 0) {
        if (n != unc)
            return -1;
        memcpy(*out, in, n);
        return 0;
    }
    if (codec == 1) {
        size_t len = unc;
        return snappy_uncompress((const char *)in, n, (char *)*out, &len) == SNAPPY_OK &&
                       len == unc
                   ? 0
                   : -1;
    }
    if (codec == 6) {
        size_t len = ZSTD_decompress(*out, unc, in, n);
        return !ZSTD_isError(len) && len == unc ? 0 : -1;
    }
    return -1;
}

/* RLE / bit-packed hybrid decoding of `n` values of `width` bits into out[]. */
static int hybrid(struct rd *r, int width, uint32_t *out, size_t n)
{
    if (width < 0 || width > 32)
        return -1;
    size_t i = 0;
    size_t bytes = ((size_t)width + 7) / 8;
    while (i < n && !r->bad) {
        uint64_t h = varint(r);
        if (h & 1) {
            uint64_t count = (h >> 1) * 8;
            const uint8_t *p = take(r, (h >> 1) * (uint64_t)width);
            if (!p)
                return -1;
            for (uint64_t k = 0; k < count && i < n; k++, i++) {
                uint64_t v = 0;
                for (int b = 0; b < width; b++) {
                    uint64_t bit = k * (uint64_t)width + (uint64_t)b;
                    v |= (uint64_t)((p[bit >> 3] >> (bit & 7)) & 1) << b;
                }
                out[i] = (uint32_t)v;
            }
        } else {
            uint64_t run = h >> 1;
            const uint8_t *p = take(r, bytes);
            if (!p || run == 0)
                return -1;
            uint32_t v = 0;
            for (size_t b = 0; b < bytes; b++)
                v |= (uint32_t)p[b] << (8 * b);
            for (uint64_t k = 0; k < run && i < n; k++)
                out[i++] = v;
        }
    }
    return r->bad || i < n ? -1 : 0;
}

/* Dictionary of a column chunk: PLAIN values decoded into the column's value kind. */
struct dict {
    size_t n;
    int64_t *i64;
    double *f64;
    char **str;
};

static void dict_free(struct dict *d)
{
    for (size_t i = 0; d->str && i < d->n; i++)
        free(d->str[i]);
    free(d->i64);
    free(d->f64);
    free(d->str);
    memset(d, 0, sizeof *d);
}

/* Decodes one PLAIN value of column c from r into row `row` of (i64, f64, str). */
static int plain_value(struct rd *r, const struct sg_pqr_column *c, size_t bitpos, int64_t *i64,
                       double *f64, char **str)
{
    const uint8_t *p;
    switch (c->physical) {
    case 0:
        (void)bitpos;
        return -1; /* booleans are bit-packed: handled by the caller */
    case 1:
        if (!(p = take(r, 4)))
            return -1;
        *i64 = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                         (uint32_t)p[3] << 24);
        return 0;
    case 2: {
        if (!(p = take(r, 8)))
            return -1;
        uint64_t v = 0;
        for (int k = 7; k >= 0; k--)
            v = v << 8 | p[k];
        *i64 = (int64_t)v;
        return 0;
    }
    case 4: {
        if (!(p = take(r, 4)))
            return -1;
        float f;
        memcpy(&f, p, 4); /* little-endian host (x86-64/arm64), as the writer assumes */
        *f64 = f;
        return 0;
    }
    case 5:
        if (!(p = take(r, 8)))
            return -1;
        memcpy(f64, p, 8);
        return 0;
    case 6: {
        if (!(p = take(r, 4)))
            return -1;
        uint32_t n = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
        const uint8_t *s = take(r, n);
        if (!s)
            return -1;
        *str = sg_xstrndup((const char *)s, n);
        return 0;
    }
    }
    return -1;
}

/* Stores a decoded value into row `at` of the column's array of its kind. */
static void store(struct sg_pqr_column *c, size_t at, int64_t i, double f, char *str)
{
    if (c->kind == SG_PQR_INT)
        c->i64[at] = i;
    else if (c->kind == SG_PQR_DOUBLE)
        c->f64[at] = f;
    else
        c->str[at] = str;
}

static int read_dict(struct rd *r, const struct sg_pqr_column *c, size_t n, struct dict *d)
{
    if (c->physical == 0 || d->i64 || n > (size_t)(r->end - r->p) + 1) /* one dictionary */
        return -1;
    d->n = n;
    d->i64 = sg_xcalloc(n + 1, sizeof *d->i64);
    d->f64 = sg_xcalloc(n + 1, sizeof *d->f64);
    d->str = sg_xcalloc(n + 1, sizeof *d->str);
    for (size_t i = 0; i < n; i++)
        if (plain_value(r, c, 0, &d->i64[i], &d->f64[i], &d->str[i]) != 0)
            return -1;
    return 0;
}

/* Decodes one data page body (already decompressed) into rows [*row, *row + num_values). */
static int read_data_page(struct rd *r, struct sg_pqr_column *c, int optional,
                          const struct page *pg, const struct dict *d, size_t *row, size_t nrows)
{
    size_t n = (size_t)pg->num_values;
    if (n > nrows - *row)
        return -1;
    uint32_t *lev = sg_xcalloc(n + 1, sizeof *lev);
    int rc = 0;
    if (optional) {
        const uint8_t *lp = take(r, 4);
        uint32_t len = lp ? (uint32_t)lp[0] | (uint32_t)lp[1] << 8 | (uint32_t)lp[2] << 16 |
                                (uint32_t)lp[3] << 24
                          : 0;
        struct rd lr = {r->p, r->p, 0};
        const uint8_t *body = take(r, len);
        lr.p = body;
        lr.end = body ? body + len : NULL;
        rc = !body || hybrid(&lr, 1, lev, n) != 0 ? -1 : 0;
    } else {
        for (size_t i = 0; i < n; i++)
            lev[i] = 1;
    }
    size_t nonnull = 0;
    for (size_t i = 0; i < n; i++)
        nonnull += lev[i] != 0;
    uint32_t *idx = NULL;
    int dict = pg->encoding == 2 || pg->encoding == 8;
    if (rc == 0 && dict) {
        const uint8_t *bw = take(r, 1);
        idx = sg_xcalloc(nonnull + 1, sizeof *idx);
        rc = !bw || !d->n || hybrid(r, *bw, idx, nonnull) != 0 ? -1 : 0;
    } else if (rc == 0 && pg->encoding != 0) {
        rc = -1; /* an encoding this reader does not know */
    }
    const uint8_t *bits = NULL;
    if (rc == 0 && !dict && c->physical == 0)
        rc = (bits = take(r, (nonnull + 7) / 8)) ? 0 : -1;
    size_t v = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t at = (*row)++;
        c->valid[at] = lev[i] != 0;
        if (!lev[i])
            continue;
        if (dict) {
            if (idx[v] >= d->n) {
                rc = -1;
                break;
            }
            store(c, at, d->i64[idx[v]], d->f64[idx[v]],
                  d->str[idx[v]] ? sg_xstrdup(d->str[idx[v]]) : NULL);
        } else if (c->physical == 0) {
            store(c, at, (bits[v >> 3] >> (v & 7)) & 1, 0, NULL);
        } else {
            int64_t i64 = 0;
            double f64 = 0;
            char *str = NULL;
            rc = plain_value(r, c, v, &i64, &f64, &str);
            store(c, at, i64, f64, str);
        }
        v++;
    }
    free(lev);
    free(idx);
    return rc;
}

static int read_chunk(const uint8_t *file, size_t fsize, const struct chunk *ch,
                      struct sg_pqr_column *c, int optional, size_t *row, size_t nrows)
{
    int64_t start = ch->dict_off >= 4 && ch->dict_off < ch->data_off ? ch->dict_off
                                                                        : ch->data_off;
    if (start < 4 || ch->comp_size < 0 || (uint64_t)start + (uint64_t)ch->comp_size > fsize)
        return -1;
    struct rd r = {file + start, file + start + ch->comp_size, 0};
    struct dict d;
    memset(&d, 0, sizeof d);
    int64_t values = 0;
    int rc = 0;
    while (rc == 0 && values < ch->num_values && r.p < r.end) {
        struct page pg;
        const uint8_t *body;
        uint8_t *unc = NULL;
        if (read_page_header(&r, &pg) != 0 || !(body = take(&r, (uint64_t)pg.comp)) ||
            decompress(ch->codec, body, (size_t)pg.comp, (size_t)pg.unc, &unc) != 0) {
            free(unc);
            rc = -1;
            break;
        }
        struct rd pr = {unc, unc + pg.unc, 0};
        if (pg.type == 2)
            rc = read_dict(&pr, c, (size_t)pg.num_values, &d);
        else if (pg.type == 0) {
            rc = read_data_page(&pr, c, optional, &pg, &d, row, nrows);
            values += pg.num_values;
        } else
            rc = -1; /* v2 data pages, index pages: not written by sg_parquet */
        free(unc);
    }
    dict_free(&d);
    return rc == 0 && values == ch->num_values ? 0 : -1;
}

/* ---- public ----------------------------------------------------------------------------- */

static int fail(char *err, size_t n, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t n, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return rc;
}

static int setup_columns(const struct meta *m, struct sg_pqr_table *t, char *err, size_t n)
{
    if (m->schema[0].num_children != (int)m->ncols)
        return fail(err, n, SG_ERR_FORMAT, "parquet: nested schemas are not supported");
    t->ncols = m->ncols;
    t->cols = sg_xcalloc(m->ncols + 1, sizeof *t->cols);
    t->nrows = (size_t)m->num_rows;
    if (m->ncols > 0 && t->nrows > MAX_CELLS / m->ncols)
        return fail(err, n, SG_ERR_FORMAT, "parquet: %zu rows x %zu columns is too large",
                    t->nrows, m->ncols);
    for (size_t i = 0; i < m->ncols; i++) {
        const struct schema_el *e = &m->schema[i + 1];
        struct sg_pqr_column *c = &t->cols[i];
        c->name = sg_xstrdup(e->name);
        c->physical = e->type;
        if (e->num_children || e->repetition == 2 || e->type < 0 || e->type == 3 ||
            e->type == 7)
            return fail(err, n, SG_ERR_FORMAT, "parquet: column '%s' has an unsupported type",
                        e->name);
        c->kind = e->type == 6 ? SG_PQR_STRING : e->type >= 4 ? SG_PQR_DOUBLE : SG_PQR_INT;
        c->timestamp_ms = e->type == 2 && e->ts_millis;
        c->is_bool = e->type == 0;
        if (c->kind == SG_PQR_INT)
            c->i64 = sg_xcalloc(t->nrows + 1, sizeof *c->i64);
        else if (c->kind == SG_PQR_DOUBLE)
            c->f64 = sg_xcalloc(t->nrows + 1, sizeof *c->f64);
        else
            c->str = sg_xcalloc(t->nrows + 1, sizeof *c->str);
        c->valid = sg_xcalloc(t->nrows + 1, 1);
    }
    return SG_OK;
}

int sg_pqreader_read_mem(const uint8_t *p, size_t n, struct sg_pqr_table *t, char *err,
                         size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (n < 12 || memcmp(p, "PAR1", 4) != 0 || memcmp(p + n - 4, "PAR1", 4) != 0)
        return fail(err, errlen, SG_ERR_FORMAT, "parquet: not a Parquet file (magic)");
    uint32_t flen = (uint32_t)p[n - 8] | (uint32_t)p[n - 7] << 8 | (uint32_t)p[n - 6] << 16 |
                    (uint32_t)p[n - 5] << 24;
    if (flen > n - 12)
        return fail(err, errlen, SG_ERR_FORMAT, "parquet: bad footer length");
    struct meta m;
    memset(&m, 0, sizeof m);
    struct rd r = {p + n - 8 - flen, p + n - 8, 0};
    int rc = SG_OK;
    if (read_footer(&r, &m) != 0 || m.num_rows < 0 || (uint64_t)m.num_rows > n * 8u) {
        rc = fail(err, errlen, SG_ERR_FORMAT, "parquet: cannot decode the footer");
        goto out;
    }
    if ((rc = setup_columns(&m, t, err, errlen)) != SG_OK)
        goto out;
    for (size_t c = 0; c < m.ncols && rc == SG_OK; c++) {
        size_t row = 0;
        for (size_t g = 0; g < m.nrg && rc == SG_OK; g++)
            if (read_chunk(p, n, &m.chunks[g * m.ncols + c], &t->cols[c],
                           m.schema[c + 1].repetition == 1, &row, t->nrows) != 0)
                rc = fail(err, errlen, SG_ERR_FORMAT,
                          "parquet: column '%s' row group %zu cannot be decoded",
                          t->cols[c].name, g);
        if (rc == SG_OK && row != t->nrows)
            rc = fail(err, errlen, SG_ERR_FORMAT, "parquet: column '%s' has %zu of %zu rows",
                      t->cols[c].name, row, t->nrows);
    }
out:
    free(m.schema);
    free(m.chunks);
    free(m.rg_rows);
    return rc;
}

int sg_pqreader_read(const char *path, struct sg_pqr_table *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, sg_err_from_errno(errno), "%s: %s", path, strerror(errno));
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = SG_OK;
    for (;;) {
        buf = sg_xgrow(buf, &cap, len + 65536, 1);
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0)
            break;
        if (len > MAX_FILE) {
            rc = fail(err, errlen, SG_ERR_FORMAT, "%s: larger than %u bytes", path, MAX_FILE);
            break;
        }
    }
    if (rc == SG_OK && ferror(f))
        rc = fail(err, errlen, SG_ERR_IO, "%s: read error", path);
    fclose(f);
    if (rc == SG_OK) {
        rc = sg_pqreader_read_mem(buf, len, t, err, errlen);
        if (rc != SG_OK) {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", err);
            snprintf(err, errlen, "%s: %s", path, tmp);
        }
    }
    free(buf);
    return rc;
}

int sg_pqreader_column(const struct sg_pqr_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

void sg_pqreader_release(struct sg_pqr_table *t)
{
    for (size_t i = 0; i < t->ncols; i++) {
        struct sg_pqr_column *c = &t->cols[i];
        for (size_t r = 0; c->str && r < t->nrows; r++)
            free(c->str[r]);
        free(c->name);
        free(c->i64);
        free(c->f64);
        free(c->str);
        free(c->valid);
    }
    free(t->cols);
    memset(t, 0, sizeof *t);
}
