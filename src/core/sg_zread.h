/* sg_zread: the bytes of a file descriptor, as stored or decompressed (gzip through zlib, zstd
 * through libzstd). The one place that knows the compressed input formats: the batch layer's
 * NDJSON source and the speed layer's replay both read through it, and cut lines themselves. */
#ifndef SG_ZREAD_H
#define SG_ZREAD_H

#include <stddef.h>
#include <sys/types.h>

enum sg_zkind {
    SG_Z_PLAIN,
    SG_Z_GZIP, /* zlib: also passes bytes that are not gzip through unchanged */
    SG_Z_ZSTD,
};

/* The format a file name says: ".gz" gzip, ".zst" zstd, anything else plain. */
enum sg_zkind sg_zkind_of(const char *path);

struct sg_zread;

/* Reads `fd` (owned from now on: closed by sg_zread_free, or here on failure) as `kind`;
 * `name` is used in error messages. Returns NULL with errbuf on failure.
 * Ownership: free with sg_zread_free. Thread-safety: one thread. */
struct sg_zread *sg_zread_new(int fd, enum sg_zkind kind, const char *name, char *errbuf,
                              size_t errlen);

/* Reads up to `cap` bytes into dst: their count, 0 at the end, -1 on error with errbuf
 * ("<name>: ..."; a truncated compressed stream is an error). Plain input returns what one
 * read(2) gives, so a pipe's bytes come as they arrive; gzip fills `cap` where it can. */
ssize_t sg_zread_read(struct sg_zread *z, void *dst, size_t cap, char *errbuf, size_t errlen);

/* Closes the descriptor. NULL ok. */
void sg_zread_free(struct sg_zread *z);

#endif
