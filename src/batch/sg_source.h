/* sg_source: where the batch layer's raw events come from, as batches of messages (one JSON
 * event each, not yet decoded): NDJSON files, directories of them, stdin ("-"), gzip (.gz)
 * and zstd (.zst) by extension; the Kafka batch reader (sg_ksource.h) implements the same
 * interface. Not a decoder: messages are bytes. */
#ifndef SG_SOURCE_H
#define SG_SOURCE_H

#include <stddef.h>
#include <stdint.h>

/* One message, borrowed until the next sg_source_next() call. p == NULL marks a message that
 * was too large to hold (longer than SG_EVENT_MAX_BYTES): the caller counts it as invalid. */
struct sg_msg {
    const char *p;
    uint32_t len;
};

struct sg_msgbatch {
    struct sg_msg *m;
    size_t n, cap;
};

struct sg_source {
    /* Fills `b` with up to `max` messages (b->n = 0 only at the end). Returns SG_OK, or an
     * error with a message in errbuf (I/O, decompression, broker). */
    int (*next)(struct sg_source *s, struct sg_msgbatch *b, size_t max, char *errbuf,
                size_t errlen);
    void (*free)(struct sg_source *s);
    /* statistics: bytes read (after decompression), blank lines skipped */
    uint64_t bytes, blank_lines;
};

/* Opens NDJSON input over `n` paths (files, directories - their regular files in name order,
 * not recursive, hidden files skipped - or "-" for stdin). Files are opened lazily, so a
 * missing file fails at its turn; the path list is checked up front (stat) so typos fail
 * before any work. Returns NULL with errbuf on a bad path. */
struct sg_source *sg_source_ndjson_new(const char *const *paths, size_t n, char *errbuf,
                                       size_t errlen);

/* Convenience wrappers. */
int sg_source_next(struct sg_source *s, struct sg_msgbatch *b, size_t max, char *errbuf,
                   size_t errlen);
void sg_source_free(struct sg_source *s);
void sg_msgbatch_release(struct sg_msgbatch *b);

#endif
