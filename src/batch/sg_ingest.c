/* sg_ingest: batch-synchronous parallel ingest. For each batch of messages the threads decode
 * chunks of CHUNK messages taken from an atomic counter (phase A); after a barrier they take
 * user partitions from another counter and fold each partition's events, chunk by chunk in
 * input order, into its users' accumulators (phase B). Per-user order is the input order and a
 * partition has one thread per batch, so no locks and no thread-count dependence; dynamic
 * hand-out keeps both cores busy when one thread is descheduled on a shared machine. During
 * phase B the calling thread first reads the next batch, then helps routing. */
#include "batch/sg_ingest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_time.h"

#define BATCH_MSGS 32768
#define CHUNK 512
#define MAX_THREADS 64

struct slot {
    struct sg_event ev;
    uint64_t hash;
};

struct worker {
    int id;
    struct shared *sh;
    struct sg_arena arena;
    struct sg_ingest_stats st; /* invalid counts and examples of this worker */
};

struct shared {
    int nt;
    pthread_barrier_t bar;
    int done;
    int go; /* start gate: 1 run, -1 abort (not every thread could be created) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const struct sg_msgbatch *batch;
    uint64_t base; /* ordinal of batch->m[0] minus 1 */
    struct sg_users *users;
    int nparts;
    struct slot *slots; /* BATCH_MSGS: chunk c's valid events at [c * CHUNK, + chunk_n[c]) */
    int32_t *part_of;   /* partition of each slot, apart so the route scan stays in cache */
    uint32_t chunk_n[BATCH_MSGS / CHUNK];
    size_t nchunks;
    _Atomic size_t next_chunk, next_part;
    struct worker w[MAX_THREADS];
};

static void note_invalid(struct worker *w, uint64_t ordinal, const struct sg_event_error *e)
{
    enum sg_event_reason r = e->reason < SG_REASON_COUNT ? e->reason : SG_REASON_INVALID_JSON;
    w->st.invalid++;
    w->st.by_reason[r]++;
    if (w->st.example_at[r] == 0 || ordinal < w->st.example_at[r]) {
        w->st.example_at[r] = ordinal;
        snprintf(w->st.example[r], sizeof w->st.example[r], "%s%s%s", e->field,
                 e->field[0] ? ": " : "", e->message);
    }
}

static void decode_chunk(struct worker *w, size_t c)
{
    struct shared *sh = w->sh;
    const struct sg_msgbatch *b = sh->batch;
    size_t lo = c * CHUNK, hi = lo + CHUNK < b->n ? lo + CHUNK : b->n;
    uint32_t n = 0;
    for (size_t i = lo; i < hi; i++) {
        struct sg_event_error err;
        struct slot *s = &sh->slots[lo + n];
        if (!b->m[i].p) {
            err.reason = SG_REASON_TOO_LARGE;
            err.field[0] = 0;
            snprintf(err.message, sizeof err.message,
                     "line longer than the reader accepts (8 MiB streamed, 4 GiB mapped)");
            note_invalid(w, sh->base + i + 1, &err);
            continue;
        }
        if (sg_event_decode(b->m[i].p, b->m[i].len, &s->ev, &w->arena, &err) != SG_OK) {
            note_invalid(w, sh->base + i + 1, &err);
            continue;
        }
        s->hash = sg_users_hash(s->ev.user.p, s->ev.user.len);
        sh->part_of[lo + n] = sg_users_partition(sh->users, s->hash);
        n++;
    }
    sh->chunk_n[c] = n;
}

static void phase_decode(struct worker *w)
{
    struct shared *sh = w->sh;
    sg_arena_reset(&w->arena);
    for (;;) {
        size_t c = atomic_fetch_add_explicit(&sh->next_chunk, 1, memory_order_relaxed);
        if (c >= sh->nchunks)
            return;
        decode_chunk(w, c);
    }
}

static void route_part(struct shared *sh, int part)
{
    for (size_t c = 0; c < sh->nchunks; c++) {
        const int32_t *po = &sh->part_of[c * CHUNK];
        for (uint32_t i = 0; i < sh->chunk_n[c]; i++) {
            if (po[i] != part)
                continue;
            const struct slot *s = &sh->slots[c * CHUNK + i];
            struct sg_user *u =
                sg_users_get(sh->users, part, s->ev.user.p, s->ev.user.len, s->hash);
            sg_features_add(&u->f, &s->ev);
        }
    }
}

static void phase_route(struct worker *w)
{
    struct shared *sh = w->sh;
    for (;;) {
        size_t p = atomic_fetch_add_explicit(&sh->next_part, 1, memory_order_relaxed);
        if (p >= (size_t)sh->nparts)
            return;
        route_part(sh, (int)p);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_lock(&w->sh->mu);
    while (w->sh->go == 0)
        pthread_cond_wait(&w->sh->cv, &w->sh->mu);
    int go = w->sh->go;
    pthread_mutex_unlock(&w->sh->mu);
    if (go < 0)
        return NULL;
    for (;;) {
        pthread_barrier_wait(&w->sh->bar);
        if (w->sh->done)
            return NULL;
        phase_decode(w);
        pthread_barrier_wait(&w->sh->bar);
        phase_route(w);
        pthread_barrier_wait(&w->sh->bar);
    }
}

static void merge_stats(struct shared *sh, struct sg_ingest_stats *st)
{
    for (int i = 0; i < sh->nt; i++) {
        const struct sg_ingest_stats *s = &sh->w[i].st;
        st->invalid += s->invalid;
        for (int r = 0; r < SG_REASON_COUNT; r++) {
            st->by_reason[r] += s->by_reason[r];
            if (s->example_at[r] && (!st->example_at[r] || s->example_at[r] < st->example_at[r])) {
                st->example_at[r] = s->example_at[r];
                memcpy(st->example[r], s->example[r], sizeof st->example[r]);
            }
        }
    }
    st->valid = st->messages - st->invalid;
}

/* How many messages the next read may return (0: stop reading). */
static size_t next_max(const struct sg_ingest_opts *o, uint64_t read_so_far)
{
    size_t max = BATCH_MSGS;
    if (o->max_events && o->max_events - read_so_far < max)
        max = (size_t)(o->max_events - read_so_far);
    if (o->stop && *o->stop)
        max = 0;
    return max;
}

/* The caller's thread reads batch k+1 while the other threads route batch k: once decoded, a
 * batch's raw bytes are no longer needed (decoded strings live in the decoders' arenas), so
 * the source may reuse them. Then it joins the routing (partitions are handed out
 * dynamically). */
static int read_loop(struct sg_source *src, struct shared *sh, const struct sg_ingest_opts *o,
                     struct sg_ingest_stats *st, char *errbuf, size_t errlen)
{
    struct sg_msgbatch cur = {0}, nxt = {0};
    int rc = SG_OK;
    int64_t last = sg_time_mono_ms();
    size_t max = next_max(o, 0);
    if (max)
        rc = sg_source_next(src, &cur, max, errbuf, errlen);
    while (rc == SG_OK && max && cur.n > 0) {
        sh->batch = &cur;
        sh->base = st->messages;
        sh->nchunks = (cur.n + CHUNK - 1) / CHUNK;
        atomic_store(&sh->next_chunk, 0);
        atomic_store(&sh->next_part, 0);
        if (sh->nt > 1)
            pthread_barrier_wait(&sh->bar);
        phase_decode(&sh->w[0]);
        if (sh->nt > 1)
            pthread_barrier_wait(&sh->bar);
        st->messages += cur.n;
        max = next_max(o, st->messages);
        nxt.n = 0;
        if (max)
            rc = sg_source_next(src, &nxt, max, errbuf, errlen);
        phase_route(&sh->w[0]);
        if (sh->nt > 1)
            pthread_barrier_wait(&sh->bar);
        struct sg_msgbatch t = cur;
        cur = nxt;
        nxt = t;
        int64_t now = sg_time_mono_ms();
        if (o->progress && now - last >= 1000) {
            last = now;
            struct sg_ingest_stats tmp = *st;
            tmp.bytes = src->bytes;
            merge_stats(sh, &tmp);
            o->progress(&tmp, sg_users_count(sh->users), 0, o->ctx);
        }
    }
    sg_msgbatch_release(&cur);
    sg_msgbatch_release(&nxt);
    return rc;
}

int sg_ingest_run(struct sg_source *src, struct sg_users *u, const struct sg_ingest_opts *o,
                  struct sg_ingest_stats *st, char *errbuf, size_t errlen)
{
    memset(st, 0, sizeof *st);
    struct shared *sh = sg_xcalloc(1, sizeof *sh);
    sh->nt = o->threads < 1 ? 1 : o->threads > MAX_THREADS ? MAX_THREADS : o->threads;
    sh->nparts = sg_users_partitions(u);
    sh->users = u;
    sh->slots = sg_xmalloc(BATCH_MSGS * sizeof *sh->slots);
    sh->part_of = sg_xmalloc(BATCH_MSGS * sizeof *sh->part_of);
    pthread_t tid[MAX_THREADS];
    for (int i = 0; i < sh->nt; i++) {
        sh->w[i].id = i;
        sh->w[i].sh = sh;
        sg_arena_init(&sh->w[i].arena, 1u << 20);
    }
    int started = 1, rc = SG_OK;
    if (sh->nt > 1) {
        pthread_barrier_init(&sh->bar, NULL, (unsigned)sh->nt);
        pthread_mutex_init(&sh->mu, NULL);
        pthread_cond_init(&sh->cv, NULL);
        while (started < sh->nt &&
               pthread_create(&tid[started], NULL, worker_main, &sh->w[started]) == 0)
            started++;
        pthread_mutex_lock(&sh->mu);
        sh->go = started == sh->nt ? 1 : -1;
        pthread_cond_broadcast(&sh->cv);
        pthread_mutex_unlock(&sh->mu);
        if (sh->go < 0) {
            snprintf(errbuf, errlen, "cannot start %d ingest threads", sh->nt);
            rc = SG_ERR_INTERNAL;
        }
    }
    if (rc == SG_OK)
        rc = read_loop(src, sh, o, st, errbuf, errlen);
    if (sh->nt > 1) {
        if (sh->go > 0) {
            sh->done = 1;
            pthread_barrier_wait(&sh->bar);
        }
        for (int i = 1; i < started; i++)
            pthread_join(tid[i], NULL);
        pthread_barrier_destroy(&sh->bar);
        pthread_mutex_destroy(&sh->mu);
        pthread_cond_destroy(&sh->cv);
    }
    st->bytes = src->bytes;
    st->blank_lines = src->blank_lines;
    merge_stats(sh, st);
    if (o->progress)
        o->progress(st, sg_users_count(u), 1, o->ctx);
    for (int i = 0; i < sh->nt; i++)
        sg_arena_release(&sh->w[i].arena);
    free(sh->slots);
    free(sh->part_of);
    free(sh);
    return rc;
}
