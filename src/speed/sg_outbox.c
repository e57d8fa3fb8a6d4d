/* sg_outbox: the outbox record format and the delivery tracker (see sg_outbox.h). */
#include "speed/sg_outbox.h"

#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_varint.h"

void sg_outbox_encode(const struct sg_outbox_rec *r, struct sg_buf *out)
{
    sg_buf_putc(out, (char)r->kind);
    sg_buf_put_bytes(out, r->key, r->kl);
    size_t nh = r->nh < SG_OUTBOX_MAX_HEADERS ? r->nh : SG_OUTBOX_MAX_HEADERS;
    sg_buf_put_varint(out, nh);
    for (size_t i = 0; i < nh; i++) {
        sg_buf_put_bytes(out, r->h[i].name, r->h[i].nl);
        sg_buf_put_bytes(out, r->h[i].value, r->h[i].vl);
    }
    sg_buf_append(out, r->value, r->vl);
}

/* sg_varint_read_bytes into a char pointer. */
static int get_bytes(const uint8_t **p, const uint8_t *end, const char **s, size_t *n)
{
    const uint8_t *b;
    if (!sg_varint_read_bytes(p, end, &b, n))
        return 0;
    *s = (const char *)b;
    return 1;
}

int sg_outbox_decode(const void *data, size_t len, struct sg_outbox_rec *r)
{
    memset(r, 0, sizeof *r);
    const uint8_t *p = data, *end = p + len;
    if (len < 1 || (p[0] != SG_OUTBOX_ALERT && p[0] != SG_OUTBOX_DLQ))
        return SG_ERR_FORMAT;
    r->kind = (enum sg_outbox_kind)*p++;
    if (!get_bytes(&p, end, &r->key, &r->kl))
        return SG_ERR_FORMAT;
    int bad = 0;
    uint64_t nh = sg_varint_read(&p, end, &bad);
    if (bad || nh > SG_OUTBOX_MAX_HEADERS)
        return SG_ERR_FORMAT;
    for (size_t i = 0; i < nh; i++)
        if (!get_bytes(&p, end, &r->h[i].name, &r->h[i].nl) ||
            !get_bytes(&p, end, &r->h[i].value, &r->h[i].vl))
            return SG_ERR_FORMAT;
    r->nh = (size_t)nh;
    r->value = (const char *)p;
    r->vl = (size_t)(end - p);
    return SG_OK;
}

/* ---- tracker ------------------------------------------------------------------------------ */

void sg_outbox_track_init(struct sg_outbox_track *t, uint64_t first)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    t->base = first;
    t->cap = 1024;
    t->done = sg_xcalloc(t->cap, 1);
}

void sg_outbox_track_release(struct sg_outbox_track *t)
{
    free(t->done);
    t->done = NULL;
    pthread_mutex_destroy(&t->mu);
}

/* Grows the ring so that it covers [base, seq]: entries keep their seq, so each moves to its
 * slot in the larger ring. */
static void grow(struct sg_outbox_track *t, uint64_t seq)
{
    size_t cap = t->cap;
    while (seq - t->base >= cap)
        cap *= 2;
    unsigned char *d = sg_xcalloc(cap, 1);
    for (size_t i = 0; i < t->cap; i++) {
        uint64_t s = t->base + i;
        d[s % cap] = t->done[s % t->cap];
    }
    free(t->done);
    t->done = d;
    t->cap = cap;
}

void sg_outbox_track_done(struct sg_outbox_track *t, uint64_t seq)
{
    pthread_mutex_lock(&t->mu);
    if (seq >= t->base) {
        if (seq - t->base >= t->cap)
            grow(t, seq);
        if (!t->done[seq % t->cap]) {
            t->done[seq % t->cap] = 1;
            t->ahead++;
        }
        while (t->done[t->base % t->cap]) {
            t->done[t->base % t->cap] = 0;
            t->base++;
            t->ahead--;
        }
    }
    pthread_mutex_unlock(&t->mu);
}

uint64_t sg_outbox_track_base(struct sg_outbox_track *t)
{
    pthread_mutex_lock(&t->mu);
    uint64_t b = t->base;
    pthread_mutex_unlock(&t->mu);
    return b;
}

uint64_t sg_outbox_track_undelivered(struct sg_outbox_track *t, uint64_t next)
{
    pthread_mutex_lock(&t->mu);
    uint64_t n = next > t->base ? next - t->base - t->ahead : 0;
    pthread_mutex_unlock(&t->mu);
    return n;
}
