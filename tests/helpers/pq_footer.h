/* pq_footer.h: test-side checker of a Parquet file's structure, written independently of the
 * writer: magic bytes, footer length, FileMetaData (via thrift_read.h), and every page of every
 * column chunk (page headers decoded, bodies decompressed with the codec named in the
 * metadata, sizes and value counts reconciled). Used by tests/unit/test_parquet.c and
 * tests/fuzz/fuzz_parquet.c. Header-only; fixed limits suit test files only. */
#ifndef SG_TEST_PQ_FOOTER_H
#define SG_TEST_PQ_FOOTER_H

#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>

#include "thrift_read.h"

#define PQF_MAX_RG 4096
#define PQF_MAX_COLS 64

struct pqf_chunk {
    int64_t num_values, data_off, dict_off, comp, unc, null_count, nan_count;
    int codec, has_nan_count, phys;
};

struct pqf {
    int version;
    int64_t num_rows;
    int nschema, ncols, nrg, norders, type_orders, nkv;
    int64_t rg_rows[PQF_MAX_RG];
    struct pqf_chunk (*chunks)[PQF_MAX_COLS]; /* [nrg][ncols], malloc'd */
    char created_by[128];
    char err[160];
};

static inline int pqf_fail(struct pqf *f, const char *msg)
{
    snprintf(f->err, sizeof f->err, "%s", msg);
    return -1;
}

static inline void pqf_stats(struct trd *r, struct pqf_chunk *c)
{
    int16_t last = 0;
    int type, id;
    while ((id = trd_field(r, &last, &type))) {
        if (id == 3 && type == 6)
            c->null_count = trd_zigzag(r);
        else if (id == 9 && type == 6) {
            c->nan_count = trd_zigzag(r);
            c->has_nan_count = 1;
        } else
            trd_skip(r, type, 1);
    }
}

static inline void pqf_colmeta(struct trd *r, struct pqf_chunk *c)
{
    int16_t last = 0;
    int type, id;
    c->dict_off = -1;
    while ((id = trd_field(r, &last, &type))) {
        if (id == 1 && type == 5)
            c->phys = (int)trd_zigzag(r);
        else if (id == 4 && type == 5)
            c->codec = (int)trd_zigzag(r);
        else if (id == 5 && type == 6)
            c->num_values = trd_zigzag(r);
        else if (id == 6 && type == 6)
            c->unc = trd_zigzag(r);
        else if (id == 7 && type == 6)
            c->comp = trd_zigzag(r);
        else if (id == 9 && type == 6)
            c->data_off = trd_zigzag(r);
        else if (id == 11 && type == 6)
            c->dict_off = trd_zigzag(r);
        else if (id == 12 && type == 12)
            pqf_stats(r, c);
        else
            trd_skip(r, type, 1);
    }
}

static inline void pqf_rowgroup(struct trd *r, struct pqf *f, int g)
{
    int16_t last = 0;
    int type, id, elem;
    while ((id = trd_field(r, &last, &type))) {
        if (id == 1 && type == 9) {
            size_t n = trd_list(r, &elem);
            for (size_t c = 0; c < n && !r->bad; c++) {
                int16_t l2 = 0;
                int t2, id2;
                while ((id2 = trd_field(r, &l2, &t2))) {
                    if (id2 == 3 && t2 == 12 && c < PQF_MAX_COLS)
                        pqf_colmeta(r, &f->chunks[g][c]);
                    else
                        trd_skip(r, t2, 1);
                }
            }
            if (n != (size_t)f->ncols)
                r->bad = 1;
        } else if (id == 3 && type == 6) {
            f->rg_rows[g] = trd_zigzag(r);
        } else {
            trd_skip(r, type, 1);
        }
    }
}

static inline void pqf_orders(struct trd *r, struct pqf *f)
{
    int elem;
    size_t n = trd_list(r, &elem);
    f->norders = (int)n;
    for (size_t i = 0; i < n && !r->bad; i++) {
        int16_t last = 0;
        int type, id;
        while ((id = trd_field(r, &last, &type))) {
            if (id == 1 && type == 12) {
                int16_t l2 = 0;
                int t2;
                f->type_orders += trd_field(r, &l2, &t2) == 0; /* TypeDefinedOrder is empty */
            } else {
                trd_skip(r, type, 1);
            }
        }
    }
}

/* Parses the footer of file[0..n). Returns 0 or -1 with f->err. Free with pqf_release. */
static inline int pqf_parse(const uint8_t *file, size_t n, struct pqf *f)
{
    memset(f, 0, sizeof *f);
    if (n < 12 || memcmp(file, "PAR1", 4) || memcmp(file + n - 4, "PAR1", 4))
        return pqf_fail(f, "magic");
    uint32_t len = (uint32_t)file[n - 8] | (uint32_t)file[n - 7] << 8 |
                   (uint32_t)file[n - 6] << 16 | (uint32_t)file[n - 5] << 24;
    if (len > n - 12)
        return pqf_fail(f, "footer length");
    struct trd r = {file + n - 8 - len, file + n - 8, 0};
    int16_t last = 0;
    int type, id, elem;
    while ((id = trd_field(&r, &last, &type))) {
        if (id == 1 && type == 5) {
            f->version = (int)trd_zigzag(&r);
        } else if (id == 2 && type == 9) {
            size_t k = trd_list(&r, &elem);
            f->nschema = (int)k;
            f->ncols = k ? (int)k - 1 : 0;
            if (f->ncols > PQF_MAX_COLS)
                return pqf_fail(f, "too many columns for the checker");
            for (size_t i = 0; i < k && !r.bad; i++)
                trd_skip(&r, 12, 1);
        } else if (id == 3 && type == 6) {
            f->num_rows = trd_zigzag(&r);
        } else if (id == 4 && type == 9) {
            size_t k = trd_list(&r, &elem);
            if (k > PQF_MAX_RG)
                return pqf_fail(f, "too many row groups for the checker");
            f->nrg = (int)k;
            f->chunks = calloc(k ? k : 1, sizeof *f->chunks);
            for (size_t g = 0; g < k && !r.bad; g++)
                pqf_rowgroup(&r, f, (int)g);
        } else if (id == 5 && type == 9) {
            size_t k = trd_list(&r, &elem);
            f->nkv = (int)k;
            for (size_t i = 0; i < k && !r.bad; i++)
                trd_skip(&r, 12, 1);
        } else if (id == 6 && type == 8) {
            size_t sl;
            const uint8_t *s = trd_binary(&r, &sl);
            if (s)
                snprintf(f->created_by, sizeof f->created_by, "%.*s", (int)sl, (const char *)s);
        } else if (id == 7 && type == 9) {
            pqf_orders(&r, f);
        } else {
            trd_skip(&r, type, 1);
        }
    }
    if (r.bad || r.p != r.end)
        return pqf_fail(f, "FileMetaData does not decode exactly");
    return 0;
}

static inline void pqf_release(struct pqf *f)
{
    free(f->chunks);
    f->chunks = NULL;
}

/* Decompresses one page body; returns 0 if it yields exactly `unc` bytes. */
static inline int pqf_uncompress(int codec, const uint8_t *p, size_t n, size_t unc)
{
    if (codec == 0)
        return n == unc ? 0 : -1;
    char *out = malloc(unc ? unc : 1);
    int rc = -1;
    if (codec == 1) {
        size_t got = unc;
        size_t want;
        if (snappy_uncompressed_length((const char *)p, n, &want) == SNAPPY_OK && want == unc &&
            snappy_uncompress((const char *)p, n, out, &got) == SNAPPY_OK && got == unc)
            rc = 0;
    } else if (codec == 6) {
        size_t got = ZSTD_decompress(out, unc, p, n);
        rc = !ZSTD_isError(got) && got == unc ? 0 : -1;
    }
    free(out);
    return rc;
}

/* Walks every page of every chunk: headers decode, bodies decompress to the stated size, the
 * data pages' num_values add up to the chunk's, the chunk's compressed size is exact. */
static inline int pqf_check_pages(const uint8_t *file, size_t n, struct pqf *f)
{
    int64_t rows = 0;
    for (int g = 0; g < f->nrg; g++) {
        rows += f->rg_rows[g];
        for (int c = 0; c < f->ncols; c++) {
            const struct pqf_chunk *ch = &f->chunks[g][c];
            int64_t start = ch->dict_off >= 0 ? ch->dict_off : ch->data_off;
            if (start < 4 || ch->comp < 0 || start + ch->comp > (int64_t)n - 8)
                return pqf_fail(f, "chunk outside the file");
            if (ch->num_values != f->rg_rows[g])
                return pqf_fail(f, "chunk num_values != row group rows (flat schema)");
            struct trd r = {file + start, file + start + ch->comp, 0};
            int64_t values = 0;
            int first = 1;
            while (r.p < r.end && !r.bad) {
                int16_t last = 0;
                int type, id, ptype = -1;
                int64_t unc = -1, comp = -1, nv = -1;
                while ((id = trd_field(&r, &last, &type))) {
                    if (id == 1 && type == 5)
                        ptype = (int)trd_zigzag(&r);
                    else if (id == 2 && type == 5)
                        unc = trd_zigzag(&r);
                    else if (id == 3 && type == 5)
                        comp = trd_zigzag(&r);
                    else if ((id == 5 || id == 7) && type == 12) {
                        int16_t l2 = 0;
                        int t2;
                        if (trd_field(&r, &l2, &t2) == 1 && t2 == 5)
                            nv = trd_zigzag(&r);
                        while (trd_field(&r, &l2, &t2))
                            trd_skip(&r, t2, 2);
                    } else
                        trd_skip(&r, type, 1);
                }
                if (r.bad || unc < 0 || comp < 0 || nv < 0 || comp > r.end - r.p)
                    return pqf_fail(f, "bad page header");
                if (ptype == 2 && !(first && ch->dict_off == start))
                    return pqf_fail(f, "dictionary page not first");
                if (ptype != 0 && ptype != 2)
                    return pqf_fail(f, "unexpected page type");
                if (pqf_uncompress(ch->codec, r.p, (size_t)comp, (size_t)unc))
                    return pqf_fail(f, "page does not decompress to its stated size");
                if (ptype == 0)
                    values += nv;
                r.p += comp;
                first = 0;
            }
            if (r.bad || values != ch->num_values)
                return pqf_fail(f, "page value counts do not add up");
        }
    }
    if (rows != f->num_rows)
        return pqf_fail(f, "row groups do not add up to num_rows");
    return 0;
}

#endif
