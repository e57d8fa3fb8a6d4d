/* sg_replay: NDJSON -> pipeline, with resumable line offsets and file sinks. */
#include "speed/sg_replay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_zread.h"

struct sinks {
    FILE *dlq, *alerts;
    struct sg_buf buf;
    int failed;
    size_t line_size; /* whole size of the current line (only a prefix may be kept) */
    const char *path;
    uint64_t invalid; /* invalid lines of this run (the totals also count earlier runs') */
};

static void put_base64(struct sg_buf *b, const unsigned char *s, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        char q[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63],
                     i + 1 < n ? tab[(v >> 6) & 63] : '=', i + 2 < n ? tab[v & 63] : '='};
        sg_buf_append(b, q, 4);
    }
}

void sg_replay_dlq_record(struct sg_buf *b, const struct sg_msg *m,
                          const struct sg_event_error *err)
{
    sg_buf_printf(b, "{\"reason\":\"%s\",\"field\":", sg_event_reason_name(err->reason));
    sg_buf_json_str(b, err->field, strlen(err->field));
    sg_buf_puts(b, ",\"message\":");
    sg_buf_json_str(b, err->message, strlen(err->message));
    sg_buf_puts(b, ",\"source\":");
    sg_buf_json_str(b, m->source, strlen(m->source));
    sg_buf_printf(b, ",\"partition\":%d,\"offset\":%lld,\"original\":", (int)m->partition,
                  (long long)m->offset);
    size_t n = m->len > 4096 ? 4096 : m->len; /* the readable copy is capped; base64 is whole */
    sg_buf_json_str(b, m->data, n);
    sg_buf_puts(b, ",\"original_base64\":\"");
    put_base64(b, (const unsigned char *)m->data, m->len);
    sg_buf_puts(b, "\"}\n");
}

static void dlq_sink(void *ctx, const struct sg_msg *m, const struct sg_event_error *err)
{
    struct sinks *s = ctx;
    s->invalid++;
    /* as the Kafka consumer logs its invalid messages: without a dead-letter file this line
     * (and the count) are all that is left of them */
    sg_log_ratelimited(SG_LOG_WARN, 1, "invalid line %lld of %s: %s: %s", (long long)m->offset,
                       s->path, sg_event_reason_name(err->reason), err->message);
    if (!s->dlq)
        return;
    sg_buf_reset(&s->buf);
    sg_replay_dlq_record(&s->buf, m, err);
    if (s->line_size > m->len) { /* the reader kept a prefix: say so, as the Kafka DLQ does */
        s->buf.len--; /* reopen the object: drop "}\n" and append the two fields */
        s->buf.len--;
        sg_buf_printf(&s->buf, ",\"truncated\":true,\"original_size\":%zu}\n", s->line_size);
    }
    if (fwrite(s->buf.data, 1, s->buf.len, s->dlq) != s->buf.len)
        s->failed = 1;
}

static void alert_sink(void *ctx, const char *user, size_t ul, const char *json, size_t len)
{
    (void)user;
    (void)ul;
    struct sinks *s = ctx;
    if (!s->alerts)
        return;
    if (fwrite(json, 1, len, s->alerts) != len || fputc('\n', s->alerts) == EOF)
        s->failed = 1;
}

/* Input read in blocks (sg_zread: read(2), or decompressed) and split with memchr: getc per
 * byte was ~7 % of the replay's CPU. Plain input is read(2), not fread, so a pipe's lines are
 * processed as they arrive. */
#define READ_BLOCK (1u << 20)
struct reader {
    struct sg_zread *z;
    char *blk;
    size_t pos, len;
    int eof, err; /* err: a read failed (errmsg says why) */
    char errmsg[1200];
};

/* Refills an exhausted block; 0 at end of input or on error (r->err). */
static int refill(struct reader *r)
{
    if (r->eof)
        return 0;
    ssize_t got = sg_zread_read(r->z, r->blk, READ_BLOCK, r->errmsg, sizeof r->errmsg);
    if (got <= 0) {
        r->eof = 1;
        r->err = got < 0;
        return 0;
    }
    r->pos = 0;
    r->len = (size_t)got;
    return 1;
}

/* Reads one line (without its '\n') into *buf, keeping at most SG_EVENT_MAX_BYTES + 1 bytes:
 * a longer line is consumed to its end but only that prefix is kept, which the decoder then
 * rejects as too_large - memory stays bounded whatever the input (getline would grow without
 * limit). Returns the kept length, or -1 at end of input / on error. */
static ssize_t read_line(struct reader *r, char **buf, size_t *cap, size_t *whole)
{
    const size_t keep = SG_EVENT_MAX_BYTES + 1;
    size_t n = 0, total = 0;
    int any = 0;
    if (!*buf) {
        *cap = 4096;
        *buf = sg_xmalloc(*cap);
    }
    while (r->pos < r->len || refill(r)) {
        const char *s = r->blk + r->pos;
        size_t avail = r->len - r->pos;
        const char *nl = memchr(s, '\n', avail);
        size_t take = nl ? (size_t)(nl - s) : avail;
        any = 1;
        size_t c = n < keep ? (take < keep - n ? take : keep - n) : 0;
        if (n + c + 1 > *cap) {
            size_t nc = *cap;
            while (nc < n + c + 1)
                nc *= 2;
            *cap = nc > keep + 1 ? keep + 1 : nc;
            *buf = sg_xrealloc(*buf, *cap);
        }
        memcpy(*buf + n, s, c);
        n += c;
        total += take;
        r->pos += take + (nl != NULL);
        if (nl)
            break;
    }
    if (!any)
        return -1;
    (*buf)[n] = 0;
    *whole = total;
    return (ssize_t)n;
}

/* Sink files are flushed before each batch is written, so a sink record is never lost for a
 * stored batch; but a crash (or a failed write) after the flush and before the write leaves
 * the records of a batch the store does not have, and the rerun writes them again. So the
 * store keeps where each file ended (its device, inode and length) - recorded at start, before
 * anything is processed, and with each batch - and the next start cuts a longer file back to
 * that length (sinks_open): the files then hold each record once, as after a clean run. A file
 * that is not the stored one (another inode) or not a regular file is left alone; a run
 * without the file deletes its stored position (a later run with it again must not cut what
 * this run did not write). */
static void stage_sink(struct sg_store_batch *batch, const char *name, FILE *f)
{
    struct stat sb;
    if (f && fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode)) {
        struct sg_sink_pos pos = {(uint64_t)sb.st_dev, (uint64_t)sb.st_ino, (uint64_t)sb.st_size};
        sg_store_batch_put_sink(batch, name, &pos);
    }
}

/* The pipeline's sink_flush (see stage_sink). */
static int sinks_flush(void *ctx, struct sg_store_batch *batch)
{
    struct sinks *s = ctx;
    if ((s->dlq && fflush(s->dlq) != 0) || (s->alerts && fflush(s->alerts) != 0) || s->failed)
        return SG_ERR_IO;
    stage_sink(batch, "dlq", s->dlq);
    stage_sink(batch, "alerts", s->alerts);
    return SG_OK;
}

/* At start, one sink (`what` names it in the log): cut back to its stored length if it is the
 * stored file and longer; its position (or its absence) goes into `batch`. */
static void sink_open(struct sg_store *st, struct sg_store_batch *batch, const char *name,
                      const char *what, FILE *f)
{
    struct stat sb;
    if (!f || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        sg_store_batch_del_sink(batch, name);
        return;
    }
    struct sg_sink_pos pos;
    if (sg_store_sink_get(st, name, &pos) == SG_OK && pos.dev == (uint64_t)sb.st_dev &&
        pos.ino == (uint64_t)sb.st_ino && (uint64_t)sb.st_size > pos.len) {
        long long extra = (long long)((uint64_t)sb.st_size - pos.len);
        if (ftruncate(fileno(f), (off_t)pos.len) != 0)
            sg_log_warn("%s: cannot remove the last %lld bytes, written for a batch that was "
                        "not stored (%s): its records will be in the file twice",
                        what, extra, strerror(errno));
        else
            sg_log_info("%s: removed the last %lld bytes, written for a batch that was not "
                        "stored (it is processed again)",
                        what, extra);
    }
    stage_sink(batch, name, f);
}

/* sink_open for both sinks, and the positions written before anything is processed (so that
 * even a first batch that fails to be stored is cut at the restart). */
static int sinks_open(struct sg_store *st, const struct sinks *s)
{
    struct sg_store_batch *b = sg_store_batch_new(st);
    sink_open(st, b, "dlq", "dead-letter file", s->dlq);
    sink_open(st, b, "alerts", "alerts file", s->alerts);
    int rc = sg_store_write(st, b, 0);
    sg_store_batch_free(b);
    return rc;
}

int sg_replay_run(const struct sg_replay_opts *o, struct sg_pipeline_totals *totals,
                  char *errbuf, size_t errlen)
{
    memset(totals, 0, sizeof *totals);
    int is_stdin = !strcmp(o->path, "-");
    /* stdin is read as it is (zcat FILE.gz | stream --input - for compressed input): zlib
     * would wait for a full buffer, and a pipe's lines must be processed as they arrive */
    int fd = is_stdin ? dup(STDIN_FILENO) : open(o->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(errbuf, errlen, "%s: %s", o->path, strerror(errno));
        return errno == ENOENT ? SG_ERR_NOTFOUND : SG_ERR_IO;
    }
    struct sg_zread *z =
        sg_zread_new(fd, is_stdin ? SG_Z_PLAIN : sg_zkind_of(o->path), o->path, errbuf, errlen);
    if (!z)
        return SG_ERR_IO;
    char source[1100];
    snprintf(source, sizeof source, "file:%s", o->path);
    int64_t skip_to = 0; /* next line to process, from the store (regular files only) */
    struct stat sb;
    if (!is_stdin && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
        sg_store_offset_get(o->pipe.store, source, 0, &skip_to) == SG_OK)
        sg_log_info("replay: resuming %s at line %lld", o->path, (long long)skip_to);
    struct sinks s = {o->dlq, o->alerts, {0}, 0, 0, is_stdin ? "standard input" : o->path, 0};
    sg_buf_init(&s.buf);
    struct sg_pipeline *p;
    int rc = sinks_open(o->pipe.store, &s);
    if (rc != SG_OK)
        goto out;
    struct sg_pipeline_opts po = o->pipe;
    po.alert = alert_sink;
    po.dlq = dlq_sink;
    po.sink_flush = sinks_flush;
    po.sink_ctx = &s;
    rc = sg_pipeline_new(&po, &p);
    if (rc != SG_OK) {
        snprintf(errbuf, errlen, "cannot start the pipeline: %s", sg_strerror(rc));
        goto out;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct reader rd = {z, sg_xmalloc(READ_BLOCK), 0, 0, 0, 0, {0}};
    int64_t lineno = 0;
    size_t bs = o->batch_size ? o->batch_size : 1000;
    while ((n = read_line(&rd, &line, &cap, &s.line_size)) >= 0) {
        lineno++;
        if (lineno < skip_to)
            continue;
        struct sg_msg m = {
            .data = line, .len = (size_t)n, .source = source, .offset = lineno, .msg_ts_ms = -1};
        if ((rc = sg_pipeline_add(p, &m)) != SG_OK)
            break;
        if (sg_pipeline_pending(p) >= bs && (rc = sg_pipeline_flush(p)) != SG_OK)
            break;
        if (o->stop && *o->stop) {
            rc = SG_ERR_INTERRUPTED;
            break;
        }
    }
    if (rc == SG_OK && o->stop && *o->stop)
        rc = SG_ERR_INTERRUPTED; /* a signal interrupted the read (EINTR): stop cleanly */
    if (rc == SG_OK && !rd.err && lineno + 1 < skip_to) /* a rotated or rewritten file */
        sg_log_warn("%s has %lld lines, but this store has read it up to line %lld: it is not "
                    "the file the store knows under that name, and nothing of it was read "
                    "(replay it into a new --db, or under another name)",
                    o->path, (long long)lineno, (long long)(skip_to - 1));
    if (rc == SG_OK && rd.err) {
        snprintf(errbuf, errlen, "%s", rd.errmsg);
        rc = SG_ERR_IO;
    } else if (rc == SG_OK || rc == SG_ERR_INTERRUPTED) {
        int frc = sg_pipeline_flush(p);
        if (frc == SG_OK)
            frc = sg_pipeline_sync(p);
        if (frc != SG_OK)
            rc = frc;
    }
    if (rc != SG_OK && rc != SG_ERR_INTERRUPTED && !errbuf[0])
        snprintf(errbuf, errlen, "%s", rc == SG_ERR_IO ? "cannot write a sink file"
                                                       : sg_strerror(rc));
    free(line);
    free(rd.blk);
    int src = sg_pipeline_sync(p); /* error paths too: nothing may be in flight at free */
    if (rc == SG_OK && src != SG_OK)
        rc = src;
    *totals = sg_pipeline_totals(p);
    sg_pipeline_free(p);
    if (s.invalid && !o->dlq)
        sg_log_warn("%llu invalid line(s) of %s were counted, not kept: no dead-letter file "
                    "(stream --dlq FILE keeps each with its reason)",
                    (unsigned long long)s.invalid, s.path);
out:
    sg_buf_release(&s.buf);
    sg_zread_free(z);
    return rc;
}
