/* sg_pqreader: a minimal Parquet reader for the files StreamGuard itself writes (sg_parquet):
 * flat schemas of REQUIRED/OPTIONAL columns, data pages v1, PLAIN and RLE_DICTIONARY /
 * PLAIN_DICTIONARY encodings, UNCOMPRESSED/SNAPPY/ZSTD. The serving layer uses it to read the
 * batch layer's per-user dataset. Hand-written because no Parquet library for C is in Debian.
 * Not a general reader: no nested/repeated columns, no v2 pages, no other codecs (clear
 * SG_ERR_FORMAT errors instead). Whole file in memory: meant for datasets of users, not events. */
#ifndef SG_PQREADER_H
#define SG_PQREADER_H

#include <stddef.h>
#include <stdint.h>

enum sg_pqr_kind {
    SG_PQR_INT,    /* BOOLEAN, INT32, INT64 (incl. TIMESTAMP): values in i64 */
    SG_PQR_DOUBLE, /* DOUBLE, FLOAT: values in f64 */
    SG_PQR_STRING, /* BYTE_ARRAY: values in str (NUL-terminated copies) */
};

struct sg_pqr_column {
    char *name;
    enum sg_pqr_kind kind;
    int physical;     /* Parquet physical type (0 BOOLEAN, 1 INT32, 2 INT64, 4 FLOAT, 5 DOUBLE, 6 BYTE_ARRAY) */
    int timestamp_ms; /* INT64 annotated TIMESTAMP(MILLIS) */
    int is_bool;
    int64_t *i64;   /* SG_PQR_INT only (NULL otherwise) */
    double *f64;    /* SG_PQR_DOUBLE only */
    char **str;     /* SG_PQR_STRING only */
    uint8_t *valid; /* 1 = present, 0 = null; one per row */
};

struct sg_pqr_table {
    size_t ncols;
    struct sg_pqr_column *cols;
    size_t nrows;
};

/* Reads every row of the Parquet file at `path` into `t` (column-wise).
 * Returns SG_OK, SG_ERR_IO / SG_ERR_NOTFOUND (cannot read) or SG_ERR_FORMAT (not a file this
 * reader understands), with a message in errbuf. Ownership: release with
 * sg_pqreader_release (also after a failure). Thread-safety: reentrant. */
int sg_pqreader_read(const char *path, struct sg_pqr_table *t, char *errbuf, size_t errlen);

/* Same, from `n` bytes in memory (not copied; the table owns its own values). */
int sg_pqreader_read_mem(const uint8_t *p, size_t n, struct sg_pqr_table *t, char *errbuf,
                         size_t errlen);

/* Index of the column called `name`, or -1. */
int sg_pqreader_column(const struct sg_pqr_table *t, const char *name);

void sg_pqreader_release(struct sg_pqr_table *t);

#endif
