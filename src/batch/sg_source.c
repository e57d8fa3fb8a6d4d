/* sg_source: NDJSON input (files, directories, stdin; plain, gzip or zstd through
 * core/sg_zread) split into line batches in one 8 MiB buffer. Lines are handed out as views into
 * that buffer, so a batch ends where the buffer would have to move. */
#include "batch/sg_source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_zread.h"

#define BUF_CAP (8u << 20) /* > SG_EVENT_MAX_BYTES: any acceptable line fits */

struct nd {
    struct sg_source base;
    char **files;
    size_t nfiles, cur;
    int open; /* a file is open: mapped (map) or read through z */
    struct sg_zread *z;
    int fd; /* of the mapping */
    char *buf;
    size_t start, end;
    int skipping; /* inside a line longer than the buffer */
    int stream_eof;
    /* plain regular files are memory-mapped: lines are views into the mapping, no copy */
    const char *map;
    size_t map_len, map_pos, map_released;
};

int sg_source_next(struct sg_source *s, struct sg_msgbatch *b, size_t max, char *errbuf,
                   size_t errlen)
{
    return s->next(s, b, max, errbuf, errlen);
}

void sg_source_free(struct sg_source *s)
{
    if (s)
        s->free(s);
}

void sg_msgbatch_release(struct sg_msgbatch *b)
{
    free(b->m);
    memset(b, 0, sizeof *b);
}

static void push(struct sg_msgbatch *b, const char *p, size_t len)
{
    b->m = sg_xgrow(b->m, &b->cap, b->n + 1, sizeof *b->m);
    b->m[b->n].p = p;
    b->m[b->n].len = (uint32_t)len;
    b->n++;
}

static void close_file(struct nd *d)
{
    if (!d->open)
        return;
    if (d->map) {
        munmap((void *)d->map, d->map_len);
        d->map = NULL;
        close(d->fd);
    }
    sg_zread_free(d->z);
    d->z = NULL;
    d->open = 0;
}

static int open_file(struct nd *d, char *errbuf, size_t errlen)
{
    const char *path = d->files[d->cur];
    int is_stdin = !strcmp(path, "-");
    /* stdin: zlib passes plain bytes through and inflates gzip, so both work */
    enum sg_zkind kind = is_stdin ? SG_Z_GZIP : sg_zkind_of(path);
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return sg_err_from_errno(errno);
    }
    d->stream_eof = 0;
    d->skipping = 0;
    struct stat st;
    if (kind == SG_Z_PLAIN && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) { /* else: fall back to read() */
            madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
            d->map = m;
            d->map_len = (size_t)st.st_size;
            d->map_pos = d->map_released = 0;
            d->fd = fd;
            d->open = 1;
            return SG_OK;
        }
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (!(d->z = sg_zread_new(fd, kind, path, errbuf, errlen)))
        return SG_ERR_IO;
    d->open = 1;
    return SG_OK;
}

static int blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

static void emit_line(struct nd *d, struct sg_msgbatch *b, const char *p, size_t n)
{
    if (d->skipping) {
        d->skipping = 0;
        push(b, NULL, 0); /* the tail of an over-long line: one too-large message */
    } else if (blank(p, n)) {
        d->base.blank_lines++;
    } else {
        push(b, p, n);
    }
}

/* Cuts complete lines out of the buffer into b. */
static void cut_lines(struct nd *d, struct sg_msgbatch *b, size_t max)
{
    while (b->n < max && d->start < d->end) {
        char *p = d->buf + d->start;
        char *nl = memchr(p, '\n', d->end - d->start);
        if (!nl)
            break;
        emit_line(d, b, p, (size_t)(nl - p));
        d->start += (size_t)(nl - p) + 1;
    }
}

/* Makes room at the end of the buffer (only when no view into it is live). */
static void refill_room(struct nd *d)
{
    if (d->start == d->end) {
        d->start = d->end = 0;
    } else if (d->start > 0) {
        memmove(d->buf, d->buf + d->start, d->end - d->start);
        d->end -= d->start;
        d->start = 0;
    } else if (d->end == BUF_CAP) {
        d->skipping = 1; /* no newline in 8 MiB: drop bytes until the next newline */
        d->start = d->end = 0;
    }
}

/* Cuts lines out of the mapping; returns 1 when the mapping is exhausted. */
static int cut_mapped(struct nd *d, struct sg_msgbatch *b, size_t max)
{
    /* the previous batch is done with: drop its pages from our RSS (they stay in the page
     * cache), so memory does not grow with the input */
    size_t page = 1u << 16, upto = d->map_pos / page * page;
    if (upto > d->map_released) {
        madvise((char *)d->map + d->map_released, upto - d->map_released, MADV_DONTNEED);
        d->map_released = upto;
    }
    while (b->n < max && d->map_pos < d->map_len) {
        const char *p = d->map + d->map_pos;
        size_t left = d->map_len - d->map_pos;
        const char *nl = memchr(p, '\n', left);
        size_t n = nl ? (size_t)(nl - p) : left;
        if (n > UINT32_MAX)
            push(b, NULL, 0); /* too large for a message length */
        else if (blank(p, n))
            d->base.blank_lines++;
        else
            push(b, p, n);
        d->map_pos += n + (nl != NULL);
        d->base.bytes += n + (nl != NULL);
    }
    return d->map_pos >= d->map_len;
}

static int nd_next(struct sg_source *s, struct sg_msgbatch *b, size_t max, char *errbuf,
                   size_t errlen)
{
    struct nd *d = (struct nd *)s;
    b->n = 0;
    while (b->n < max) {
        if (!d->open) {
            if (d->cur >= d->nfiles)
                break;
            int rc = open_file(d, errbuf, errlen);
            if (rc != SG_OK)
                return rc;
        }
        if (d->map) {
            if (!cut_mapped(d, b, max) || b->n > 0)
                return SG_OK; /* views stay valid: unmap on the next call */
            close_file(d);
            d->cur++;
            continue;
        }
        cut_lines(d, b, max);
        if (b->n >= max)
            break;
        if (d->stream_eof) {
            if (d->end > d->start)
                emit_line(d, b, d->buf + d->start, d->end - d->start); /* no final newline */
            else if (d->skipping)
                emit_line(d, b, NULL, 0);
            d->start = d->end = 0;
            if (b->n > 0)
                return SG_OK; /* the views must stay valid: close on the next call */
            close_file(d);
            d->cur++;
            continue;
        }
        if (b->n > 0)
            break; /* refilling would move bytes the batch points to */
        refill_room(d);
        ssize_t r = sg_zread_read(d->z, d->buf + d->end, BUF_CAP - d->end, errbuf, errlen);
        if (r < 0)
            return SG_ERR_IO;
        if (r == 0)
            d->stream_eof = 1;
        d->end += (size_t)r;
        d->base.bytes += (uint64_t)r;
    }
    return SG_OK;
}

static void nd_free(struct sg_source *s)
{
    struct nd *d = (struct nd *)s;
    close_file(d);
    for (size_t i = 0; i < d->nfiles; i++)
        free(d->files[i]);
    free(d->files);
    free(d->buf);
    free(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_file(struct nd *d, size_t *cap, const char *path)
{
    d->files = sg_xgrow(d->files, cap, d->nfiles + 1, sizeof *d->files);
    d->files[d->nfiles++] = sg_xstrdup(path);
}

static int add_dir(struct nd *d, size_t *cap, const char *dir, char *errbuf, size_t errlen)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
        return SG_ERR_IO;
    }
    size_t first = d->nfiles;
    struct dirent *de;
    char path[4096];
    while ((de = readdir(dp))) {
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0)
            continue; /* gone since readdir */
        if (S_ISREG(st.st_mode))
            add_file(d, cap, path);
        else /* an archive kept in dated subdirectories would otherwise be half read */
            sg_log_warn("%s: not read (%s; input directories are read one level deep, give "
                        "each directory)",
                        path, S_ISDIR(st.st_mode) ? "a directory" : "not a regular file");
    }
    closedir(dp);
    qsort(d->files + first, d->nfiles - first, sizeof *d->files, cmp_str);
    return SG_OK;
}

struct sg_source *sg_source_ndjson_new(const char *const *paths, size_t n, char *errbuf,
                                       size_t errlen)
{
    struct nd *d = sg_xcalloc(1, sizeof *d);
    d->base.next = nd_next;
    d->base.free = nd_free;
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (!strcmp(paths[i], "-")) {
            add_file(d, &cap, "-");
        } else if (stat(paths[i], &st) != 0) {
            snprintf(errbuf, errlen, "%s: %s", paths[i], strerror(errno));
            nd_free(&d->base);
            return NULL;
        } else if (S_ISDIR(st.st_mode)) {
            if (add_dir(d, &cap, paths[i], errbuf, errlen) != SG_OK) {
                nd_free(&d->base);
                return NULL;
            }
        } else {
            add_file(d, &cap, paths[i]);
        }
    }
    d->buf = sg_xmalloc(BUF_CAP);
    return &d->base;
}
