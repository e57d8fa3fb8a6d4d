/* sg_gen_run: the generate loop - render into a 1 MiB buffer, write it out in large writes,
 * hand each event to the producer as it is rendered, sleep to honour the rate. */
#include "gen/sg_gen_run.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_time.h"

#define FLUSH_BYTES (1u << 20)

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return sg_err_from_errno(errno);
        }
        p += w;
        n -= (size_t)w;
    }
    return SG_OK;
}

/* Sleeps until event i is due. Called once per millisecond's worth of events (see
 * sg_gen_run): a sleep per event cost a syscall and a wake-up per event (at 20K events/s that
 * was a good part of the generator's CPU, taken from the processes it feeds on a small
 * machine); the events of one millisecond leave together, as a producer's linger batches
 * them anyway. */
static void pace(int64_t rate, int64_t t0_ns, int64_t i)
{
    int64_t due = t0_ns + (int64_t)((double)i * 1e9 / (double)rate);
    int64_t now = sg_time_mono_ns();
    if (due > now) {
        struct timespec ts = {(time_t)((due - now) / 1000000000), (long)((due - now) % 1000000000)};
        nanosleep(&ts, NULL);
    }
}

int sg_gen_run(struct sg_gen *g, const struct sg_gen_run_opts *o, int64_t *produced)
{
    struct sg_buf buf;
    sg_buf_init(&buf);
    struct sg_gen_meta meta;
    int64_t t0 = sg_time_mono_ns(), last = t0, last_write = t0, i = 0;
    int64_t step = o->rate > 1000 ? o->rate / 1000 : 1; /* events per pacing sleep */
    int rc = SG_OK;
    for (;;) {
        size_t mark = buf.len;
        if (!sg_gen_next(g, &buf, &meta))
            break;
        if (o->prod) {
            rc = sg_producer_send(o->prod, meta.user, meta.user_len, buf.data + mark,
                                  buf.len - mark);
            if (rc != SG_OK)
                break;
            if ((i & 1023) == 0)
                sg_producer_poll(o->prod);
        }
        if (o->fd >= 0) {
            sg_buf_putc(&buf, '\n');
            if (buf.len >= FLUSH_BYTES) {
                if ((rc = write_all(o->fd, buf.data, buf.len)) != SG_OK)
                    break;
                sg_buf_reset(&buf);
            }
        } else {
            sg_buf_reset(&buf);
        }
        i++;
        if (o->rate > 0 && i % step == 0)
            pace(o->rate, t0, i);
        if ((i & 16383) == 0 || o->rate > 0) {
            if (o->stop && *o->stop) {
                rc = SG_ERR_INTERRUPTED;
                break;
            }
            int64_t now = sg_time_mono_ns();
            /* paced runs feed live readers (a pipe, tail -f): write at least every 100 ms */
            if (o->rate > 0 && o->fd >= 0 && buf.len && now - last_write >= 100000000) {
                if ((rc = write_all(o->fd, buf.data, buf.len)) != SG_OK)
                    break;
                sg_buf_reset(&buf);
                last_write = now;
            }
            if (o->progress && now - last >= 1000000000) {
                o->progress(i, o->arg);
                last = now;
            }
        }
    }
    if (o->fd >= 0 && buf.len && (rc == SG_OK || rc == SG_ERR_INTERRUPTED)) {
        int wrc = write_all(o->fd, buf.data, buf.len);
        rc = wrc != SG_OK ? wrc : rc;
    }
    sg_buf_release(&buf);
    *produced = i;
    return rc;
}
