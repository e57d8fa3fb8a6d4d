/* sg_parquet: a Parquet file writer written from the Apache Parquet format specification
 * (no Parquet library for C exists in Debian). Flat schemas, REQUIRED/OPTIONAL columns,
 * PLAIN and RLE_DICTIONARY encodings, data pages v1, UNCOMPRESSED/SNAPPY/ZSTD, statistics.
 * Not a reader, not nested types. See docs/PARQUET.md.
 *
 * Usage: sg_pq_writer_new(path, schema) -> sg_pq_write_batch(...)* -> sg_pq_writer_close().
 * The file is written under a temporary name in the same directory and renamed to `path` by
 * close, so a crash never leaves a partial file under the final name.
 * Thread-safety: a writer (or dataset) is used by one thread at a time; distinct writers are
 * independent and may run in parallel. */
#ifndef SG_PARQUET_H
#define SG_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"

/* Column types: physical type + logical annotation. */
enum sg_pq_type {
    SG_PQ_BOOLEAN,      /* BOOLEAN;                      values: uint8_t (0/1) */
    SG_PQ_INT8,         /* INT32 + INT(8, signed);       values: int32_t */
    SG_PQ_INT16,        /* INT32 + INT(16, signed);      values: int32_t */
    SG_PQ_INT32,        /* INT32 + INT(32, signed);      values: int32_t */
    SG_PQ_INT64,        /* INT64 + INT(64, signed);      values: int64_t */
    SG_PQ_DOUBLE,       /* DOUBLE;                       values: double */
    SG_PQ_STRING,       /* BYTE_ARRAY + STRING (UTF8);   values: struct sg_pq_str */
    SG_PQ_TIMESTAMP_MS, /* INT64 + TIMESTAMP(UTC, MILLIS); values: int64_t epoch ms */
};

enum sg_pq_codec { SG_PQ_UNCOMPRESSED = 0, SG_PQ_SNAPPY = 1, SG_PQ_ZSTD = 6 };

struct sg_pq_str {
    const char *p;
    uint32_t len;
};

struct sg_pq_column {
    const char *name; /* copied by the writer */
    enum sg_pq_type type;
    int optional;     /* 1: OPTIONAL (nulls allowed), 0: REQUIRED */
};

struct sg_pq_kv {
    const char *key, *value; /* copied by the writer */
};

struct sg_pq_options {
    enum sg_pq_codec codec;       /* default SG_PQ_ZSTD */
    int zstd_level;               /* default 1 */
    int64_t row_group_rows;       /* cut a row group after this many rows (default 1M) */
    int64_t row_group_bytes;      /* ... or this many uncompressed bytes (default 64 MiB) */
    size_t page_bytes;            /* target uncompressed data page size (default 1 MiB) */
    size_t dict_max_bytes;        /* string dictionary limit before PLAIN fallback (1 MiB) */
    const struct sg_pq_kv *kv;    /* file key/value metadata */
    size_t kv_count;
};

/* Fills `o` with the defaults above. */
void sg_pq_options_default(struct sg_pq_options *o);

/* Parses "uncompressed|snappy|zstd". Returns SG_OK or SG_ERR_INVALID. */
int sg_pq_codec_parse(const char *s, enum sg_pq_codec *out);

struct sg_pq_writer;

/* Creates the writer and its temporary file next to `path`. `opt` may be NULL (defaults).
 * Returns NULL with a message in errbuf on failure (bad schema, cannot create file). */
struct sg_pq_writer *sg_pq_writer_new(const char *path, const struct sg_pq_column *cols,
                                      size_t ncols, const struct sg_pq_options *opt,
                                      char *errbuf, size_t errlen);

/* Appends `nrows` rows given column-wise: `values[c]` points to `nrows` values of column c's
 * C type (see enum sg_pq_type; for a null row the value slot is ignored), `valid[c]` is NULL
 * (all present) or `nrows` bytes of 1 = present / 0 = null (only for OPTIONAL columns).
 * Values are copied; the caller's arrays may be reused right away.
 * Returns SG_OK, SG_ERR_INVALID (null in a REQUIRED column, invalid UTF-8 in a STRING),
 * SG_ERR_RANGE (INT8/INT16 value out of range, string > 256 MiB), or an I/O error
 * (SG_ERR_IO / SG_ERR_NOSPACE) with a message available from sg_pq_writer_error().
 * A batch rejected as INVALID/RANGE is checked before anything is appended: nothing of it is
 * written and the writer stays usable. After an I/O error the writer is failed (every later
 * call returns the error); close or abort it. */
int sg_pq_write_batch(struct sg_pq_writer *w, const void *const *values,
                      const uint8_t *const *valid, size_t nrows);

/* Flushes the last row group, writes the footer, fsyncs and renames to the final path, then
 * frees the writer (always, also on failure, in which case the temporary file is removed and
 * nothing exists under `path`). Returns SG_OK or an error with a message in errbuf. */
int sg_pq_writer_close(struct sg_pq_writer *w, char *errbuf, size_t errlen);

/* Abandons the file: removes the temporary file and frees the writer. NULL-safe. */
void sg_pq_writer_abort(struct sg_pq_writer *w);

/* The last error message of `w` (borrowed, valid until the next call on w). */
const char *sg_pq_writer_error(const struct sg_pq_writer *w);

/* Rows written so far (all row groups). */
int64_t sg_pq_writer_rows(const struct sg_pq_writer *w);

/* Hive-partitioned dataset (Spark layout): DIR/<col>=<v>/part-NNNNN-<uuid>.parquet.
 * Everything is written below a temporary sibling `DIR.tmp-<pid>-<rand>`; commit writes
 * `_SUCCESS` and atomically swaps the temporary directory into DIR (the previous DIR, if any,
 * is removed only after the swap succeeded). */
struct sg_pq_dataset;

/* Creates the temporary directory, after removing `DIR.tmp-<pid>-*` leftovers of dataset
 * writers whose process no longer exists (crashed runs; assumes one host writes DIR).
 * Returns NULL with errbuf on failure. */
struct sg_pq_dataset *sg_pq_dataset_new(const char *dir, char *errbuf, size_t errlen);

/* The temporary directory's path (borrowed; valid until commit/abort): extra files such as
 * reports may be written here so that they are swapped in together with the data. */
const char *sg_pq_dataset_tmpdir(const struct sg_pq_dataset *d);

/* Opens a new part file in partition `partition` ("is_anomaly=1"; NULL = top level) with
 * part number `part`. The writer is owned by the caller and must be closed before commit. */
struct sg_pq_writer *sg_pq_dataset_part(struct sg_pq_dataset *d, const char *partition, int part,
                                        const struct sg_pq_column *cols, size_t ncols,
                                        const struct sg_pq_options *opt, char *errbuf,
                                        size_t errlen);

/* A handle on a temporary directory another process created with sg_pq_dataset_new (e.g.
 * MPI rank 0; shared file system), for writing parts only: never commit or abort it; free it
 * with sg_pq_dataset_detach, which leaves the directory alone. */
struct sg_pq_dataset *sg_pq_dataset_attach(const char *tmpdir);
void sg_pq_dataset_detach(struct sg_pq_dataset *d);

/* Writes _SUCCESS and swaps the directory in; frees `d`. Returns SG_OK or an error. */
int sg_pq_dataset_commit(struct sg_pq_dataset *d, char *errbuf, size_t errlen);

/* Removes the temporary directory and frees `d`. NULL-safe. */
void sg_pq_dataset_abort(struct sg_pq_dataset *d);

/* Lower-level pieces, exposed for tests and for other writers of the same encodings. */

/* Appends the RLE / bit-packed hybrid encoding (Encodings.md, RLE = 3, without the 4-byte
 * length prefix) of `n` values, each < 2^width, 1 <= width <= 32. */
void sg_pq_rle_encode(struct sg_buf *out, const uint32_t *v, size_t n, int width);

/* Returns 1 if s[0..n) is valid UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
 * STRING columns reject invalid UTF-8 (SG_ERR_INVALID) since readers refuse such files. */
int sg_pq_utf8_valid(const char *s, size_t n);

#endif
