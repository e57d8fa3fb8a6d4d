/* sg_zread: plain, gzip and zstd input over a file descriptor (see sg_zread.h). zlib and
 * libzstd do the decompression; this file only adapts them to one read call. */
#include "core/sg_zread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "core/sg_mem.h"

#define ZIN_CAP (256u << 10) /* compressed bytes read from the descriptor at a time */

struct sg_zread {
    enum sg_zkind kind;
    int fd;
    char *name;
    gzFile gz;
    ZSTD_DCtx *zd;
    char *zin;
    ZSTD_inBuffer zib;
    int zin_eof;
    int in_frame; /* the last call that made progress left a frame unfinished */
};

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

enum sg_zkind sg_zkind_of(const char *path)
{
    return ends_with(path, ".gz") ? SG_Z_GZIP : ends_with(path, ".zst") ? SG_Z_ZSTD : SG_Z_PLAIN;
}

struct sg_zread *sg_zread_new(int fd, enum sg_zkind kind, const char *name, char *errbuf,
                              size_t errlen)
{
    struct sg_zread *z = sg_xcalloc(1, sizeof *z);
    z->kind = kind;
    z->fd = fd;
    z->name = sg_xstrdup(name);
    if (kind == SG_Z_GZIP && !(z->gz = gzdopen(fd, "rb"))) {
        snprintf(errbuf, errlen, "%s: cannot start gzip decompression", name);
        sg_zread_free(z);
        return NULL;
    }
    if (kind == SG_Z_ZSTD) {
        if (!(z->zd = ZSTD_createDCtx())) {
            snprintf(errbuf, errlen, "%s: cannot start zstd decompression", name);
            sg_zread_free(z);
            return NULL;
        }
        z->zin = sg_xmalloc(ZIN_CAP);
        z->zib = (ZSTD_inBuffer){z->zin, 0, 0};
    }
    return z;
}

static ssize_t read_fd(struct sg_zread *z, void *dst, size_t cap, char *errbuf, size_t errlen)
{
    ssize_t r;
    do
        r = read(z->fd, dst, cap);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        snprintf(errbuf, errlen, "%s: %s", z->name, strerror(errno));
    return r;
}

static ssize_t read_zst(struct sg_zread *z, void *dst, size_t cap, char *errbuf, size_t errlen)
{
    ZSTD_outBuffer ob = {dst, cap, 0};
    while (ob.pos == 0) {
        if (z->zib.pos == z->zib.size && !z->zin_eof) {
            ssize_t r = read_fd(z, z->zin, ZIN_CAP, errbuf, errlen);
            if (r < 0)
                return -1;
            z->zin_eof = r == 0;
            z->zib = (ZSTD_inBuffer){z->zin, (size_t)r, 0};
        }
        size_t in_before = z->zib.pos;
        size_t rc = ZSTD_decompressStream(z->zd, &ob, &z->zib);
        if (ZSTD_isError(rc)) {
            snprintf(errbuf, errlen, "%s: zstd: %s", z->name, ZSTD_getErrorName(rc));
            return -1;
        }
        /* rc is 0 when a frame ended; a call without input or output (at the end) answers
         * with the next frame's header size instead, so only progress updates in_frame */
        if (ob.pos > 0 || z->zib.pos > in_before)
            z->in_frame = rc != 0;
        if (ob.pos == 0 && z->zin_eof && z->zib.pos == z->zib.size) {
            if (z->in_frame) { /* the decoder still expects bytes of a frame */
                snprintf(errbuf, errlen, "%s: zstd: truncated input", z->name);
                return -1;
            }
            return 0;
        }
    }
    return (ssize_t)ob.pos;
}

ssize_t sg_zread_read(struct sg_zread *z, void *dst, size_t cap, char *errbuf, size_t errlen)
{
    if (z->kind == SG_Z_ZSTD)
        return read_zst(z, dst, cap, errbuf, errlen);
    if (z->kind == SG_Z_GZIP) {
        unsigned n = cap > (1u << 30) ? 1u << 30 : (unsigned)cap;
        int r = gzread(z->gz, dst, n);
        if (r < 0) {
            int code;
            snprintf(errbuf, errlen, "%s: gzip: %s", z->name, gzerror(z->gz, &code));
            return -1;
        }
        int code = Z_OK;
        if (r == 0 && (gzerror(z->gz, &code), code == Z_BUF_ERROR)) {       /* zlib's way to say */
            snprintf(errbuf, errlen, "%s: gzip: truncated input", z->name); /* truncated */
            return -1;
        }
        return r;
    }
    return read_fd(z, dst, cap, errbuf, errlen);
}

void sg_zread_free(struct sg_zread *z)
{
    if (!z)
        return;
    if (z->gz)
        gzclose(z->gz); /* closes the descriptor */
    else if (z->fd >= 0)
        close(z->fd);
    ZSTD_freeDCtx(z->zd);
    free(z->zin);
    free(z->name);
    free(z);
}
