/* sg_mpi_shuffle: block-cyclic NDJSON pieces, per-round decode + MPI_Alltoallv of valid lines
 * to the user's owner rank (see sg_mpi_shuffle.h). Lines travel as their raw bytes plus '\n'
 * (an event never contains a raw newline), so the owner decodes exactly what a single
 * process would have decoded. */
#include "mpi/sg_mpi_shuffle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_event.h"
#include "core/sg_mem.h"

#define LINE_MAX_BYTES (8u << 20) /* longer lines are skipped unread: one too_large message */
#define EXTEND 65536

struct piece {
    size_t file;
    uint64_t start, end;
};

struct span {
    size_t off; /* SIZE_MAX: a line longer than LINE_MAX_BYTES */
    size_t len;
};

struct sg_mpi_shuffle {
    const struct sg_mpi *c;
    char **files;
    size_t nfiles;
    struct piece *pieces;
    size_t npieces, round, rounds;
    uint64_t max_events, ordinal;
    int capped;
    int fd;
    size_t fd_file;
    char *rbuf;
    size_t rcap;
    struct span *spans;
    size_t nspans, spcap;
    struct sg_arena arena;
    int *dest;
    size_t dcap;
    char *sbuf, *recv;
    size_t scap, rvcap;
    int *scount, *sdispl, *rcount, *rdispl;
    struct sg_event *own; /* this round's decoded events of users this rank owns */
    size_t nown, owncap;
    struct sg_arena own_arena; /* their strings: lives for one round */
    struct sg_users *users;    /* fold target (sg_mpi_shuffle_run), else NULL */
    struct sg_source *ksrc;    /* Kafka mode: this rank's partitions (owned) */
    struct sg_msgbatch kb;
    size_t kmax;
    int done; /* Kafka mode: every rank's partitions are at their end */
    struct sg_ingest_stats st;
    uint64_t sent;
};

int sg_mpi_owner(uint64_t user_hash, int size)
{
    return (int)((uint32_t)user_hash % (uint32_t)size);
}

/* ---- input pieces ---- */

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_file(struct sg_mpi_shuffle *s, size_t *cap, const char *path)
{
    s->files = sg_xgrow(s->files, cap, s->nfiles + 1, sizeof *s->files);
    s->files[s->nfiles++] = sg_xstrdup(path);
}

/* The same file list, in the same order, as sg_source_ndjson_new. */
static int list_files(struct sg_mpi_shuffle *s, const char *const *paths, size_t n, char *errbuf,
                      size_t errlen)
{
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (!strcmp(paths[i], "-")) {
            snprintf(errbuf, errlen, "stdin cannot be split across ranks: give files");
            return SG_ERR_INVALID;
        }
        if (stat(paths[i], &st) != 0) {
            snprintf(errbuf, errlen, "%s: %s", paths[i], strerror(errno));
            return SG_ERR_IO;
        }
        if (!S_ISDIR(st.st_mode)) {
            add_file(s, &cap, paths[i]);
            continue;
        }
        DIR *dp = opendir(paths[i]);
        if (!dp) {
            snprintf(errbuf, errlen, "%s: %s", paths[i], strerror(errno));
            return SG_ERR_IO;
        }
        size_t first = s->nfiles;
        struct dirent *de;
        char path[4096];
        while ((de = readdir(dp))) {
            if (de->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", paths[i], de->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                add_file(s, &cap, path);
        }
        closedir(dp);
        qsort(s->files + first, s->nfiles - first, sizeof *s->files, cmp_str);
    }
    for (size_t i = 0; i < s->nfiles; i++)
        if (ends_with(s->files[i], ".gz") || ends_with(s->files[i], ".zst")) {
            snprintf(errbuf, errlen,
                     "%s: compressed files cannot be split across ranks; "
                     "decompress them first (or use one process)",
                     s->files[i]);
            return SG_ERR_INVALID;
        }
    return SG_OK;
}

static int make_pieces(struct sg_mpi_shuffle *s, size_t chunk, char *errbuf, size_t errlen)
{
    size_t cap = 0;
    for (size_t f = 0; f < s->nfiles; f++) {
        struct stat st;
        if (stat(s->files[f], &st) != 0) {
            snprintf(errbuf, errlen, "%s: %s", s->files[f], strerror(errno));
            return SG_ERR_IO;
        }
        for (uint64_t off = 0; off < (uint64_t)st.st_size; off += chunk) {
            s->pieces = sg_xgrow(s->pieces, &cap, s->npieces + 1, sizeof *s->pieces);
            uint64_t end = off + chunk < (uint64_t)st.st_size ? off + chunk : (uint64_t)st.st_size;
            s->pieces[s->npieces++] = (struct piece){f, off, end};
        }
    }
    s->rounds = (s->npieces + (size_t)s->c->size - 1) / (size_t)s->c->size;
    return SG_OK;
}

/* ---- reading one piece ---- */

/* Appends up to `want` bytes at file offset `off` to rbuf[have..]; returns bytes read
 * (0 at end of file) or -1 with errbuf. */
static ssize_t fill(struct sg_mpi_shuffle *s, uint64_t off, size_t have, size_t want, char *errbuf,
                    size_t errlen)
{
    s->rbuf = sg_xgrow(s->rbuf, &s->rcap, have + want + 1, 1);
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(s->fd, s->rbuf + have + got, want - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(errbuf, errlen, "%s: %s", s->files[s->fd_file], strerror(errno));
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static void add_span(struct sg_mpi_shuffle *s, size_t off, size_t len)
{
    s->spans = sg_xgrow(s->spans, &s->spcap, s->nspans + 1, sizeof *s->spans);
    s->spans[s->nspans++] = (struct span){off, len};
}

static int blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

static int open_piece_file(struct sg_mpi_shuffle *s, size_t f, char *errbuf, size_t errlen)
{
    if (s->fd >= 0 && s->fd_file == f)
        return SG_OK;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = open(s->files[f], O_RDONLY | O_CLOEXEC);
    s->fd_file = f;
    if (s->fd < 0) {
        snprintf(errbuf, errlen, "%s: %s", s->files[f], strerror(errno));
        return sg_err_from_errno(errno);
    }
    return SG_OK;
}

/* Finds the end of the line starting at rbuf[pos], reading past the piece as needed.
 * Returns the index of its '\n' (or `have` at end of file), SIZE_MAX for an over-long line
 * (then *pos_after is set past it), or SIZE_MAX - 1 on a read error. */
static size_t line_end(struct sg_mpi_shuffle *s, uint64_t base, uint64_t *drop, size_t pos,
                       size_t *have, size_t *pos_after, char *errbuf, size_t errlen)
{
    base += *drop;
    size_t scanned = pos;
    for (;;) {
        char *nl = memchr(s->rbuf + scanned, '\n', *have - scanned);
        if (nl)
            return (size_t)(nl - s->rbuf);
        scanned = *have;
        if (*have - pos > LINE_MAX_BYTES) {
            /* skip the rest of the line without keeping it */
            for (;;) {
                ssize_t r = fill(s, base + *have, *have, EXTEND, errbuf, errlen);
                if (r < 0)
                    return SIZE_MAX - 1;
                if (r == 0) {
                    *pos_after = *have;
                    return SIZE_MAX;
                }
                char *q = memchr(s->rbuf + *have, '\n', (size_t)r);
                if (q) {
                    *pos_after = (size_t)(q - s->rbuf) + 1;
                    *have += (size_t)r;
                    return SIZE_MAX;
                }
                /* drop the bytes: buffer position x is now file offset base + drop + x */
                base += (size_t)r;
                *drop += (size_t)r;
            }
        }
        ssize_t r = fill(s, base + *have, *have, EXTEND, errbuf, errlen);
        if (r < 0)
            return SIZE_MAX - 1;
        if (r == 0)
            return *have;
        *have += (size_t)r;
    }
}

/* Reads the lines that start in piece p into spans (offsets into rbuf). */
static int read_piece(struct sg_mpi_shuffle *s, const struct piece *p, char *errbuf, size_t errlen)
{
    s->nspans = 0;
    int rc = open_piece_file(s, p->file, errbuf, errlen);
    if (rc != SG_OK)
        return rc;
    uint64_t base = p->start ? p->start - 1 : 0;
    ssize_t r = fill(s, base, 0, (size_t)(p->end - base), errbuf, errlen);
    if (r < 0)
        return SG_ERR_IO;
    size_t have = (size_t)r, pos = 0;
    uint64_t drop = 0; /* bytes of an over-long line read past and not kept */
    s->st.bytes += p->end - p->start;
    if (p->start) { /* the line containing byte start-1 belongs to the previous piece */
        char *nl = memchr(s->rbuf, '\n', have);
        if (!nl || (size_t)(nl - s->rbuf) + 1 >= p->end - base)
            return SG_OK; /* no line starts in this piece */
        pos = (size_t)(nl - s->rbuf) + 1;
    }
    while (base + drop + pos < p->end && pos < have) {
        size_t after = 0, e = line_end(s, base, &drop, pos, &have, &after, errbuf, errlen);
        if (e == SIZE_MAX - 1)
            return SG_ERR_IO;
        if (e == SIZE_MAX) {
            add_span(s, SIZE_MAX, 0);
            pos = after;
            continue;
        }
        if (blank(s->rbuf + pos, e - pos))
            s->st.blank_lines++;
        else
            add_span(s, pos, e - pos);
        pos = e + 1;
    }
    return SG_OK;
}

/* Kafka mode: up to kmax messages of this rank's partitions, copied into rbuf. */
static int read_kafka(struct sg_mpi_shuffle *s, char *errbuf, size_t errlen)
{
    s->nspans = 0;
    int rc = sg_source_next(s->ksrc, &s->kb, s->kmax, errbuf, errlen);
    if (rc != SG_OK)
        return rc;
    size_t total = 0;
    for (size_t i = 0; i < s->kb.n; i++)
        total += s->kb.m[i].len;
    s->rbuf = sg_xgrow(s->rbuf, &s->rcap, total + 1, 1);
    size_t at = 0;
    for (size_t i = 0; i < s->kb.n; i++) {
        if (!s->kb.m[i].p) {
            add_span(s, SIZE_MAX, 0); /* larger than a message length */
            continue;
        }
        memcpy(s->rbuf + at, s->kb.m[i].p, s->kb.m[i].len);
        add_span(s, at, s->kb.m[i].len);
        at += s->kb.m[i].len;
        s->st.bytes += s->kb.m[i].len;
    }
    return SG_OK;
}

/* ---- one round ---- */

static void note_invalid(struct sg_mpi_shuffle *s, uint64_t ordinal, const struct sg_event_error *e)
{
    enum sg_event_reason r = e->reason < SG_REASON_COUNT ? e->reason : SG_REASON_INVALID_JSON;
    s->st.invalid++;
    s->st.by_reason[r]++;
    if (s->st.example_at[r] == 0 || ordinal < s->st.example_at[r]) {
        s->st.example_at[r] = ordinal;
        snprintf(s->st.example[r], sizeof s->st.example[r], "%s%s%s", e->field,
                 e->field[0] ? ": " : "", e->message);
    }
}

/* Applies the global message cap to this round; returns how many local lines count. */
static size_t apply_cap(struct sg_mpi_shuffle *s, uint64_t *before)
{
    int size = s->c->size;
    uint64_t mine = s->nspans, *all = sg_xmalloc((size_t)size * sizeof *all);
    SG_MPI(MPI_Allgather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, s->c->comm));
    uint64_t total = 0;
    *before = s->ordinal;
    for (int r = 0; r < size; r++) {
        if (r < s->c->rank)
            *before += all[r];
        total += all[r];
    }
    free(all);
    if (s->ksrc && total == 0)
        s->done = 1; /* sg_source_next returns nothing only at the end */
    size_t keep = s->nspans;
    if (s->max_events) {
        uint64_t room = *before < s->max_events ? s->max_events - *before : 0;
        keep = room < keep ? (size_t)room : keep;
        if (s->ordinal + total >= s->max_events)
            s->capped = 1;
        total = s->ordinal + total > s->max_events ? s->max_events - s->ordinal : total;
    }
    s->ordinal += total;
    return keep;
}

/* Decodes the kept lines, sorts valid ones by destination into sbuf. */
static void pack(struct sg_mpi_shuffle *s, size_t keep, uint64_t before)
{
    int size = s->c->size;
    s->dest = sg_xgrow(s->dest, &s->dcap, keep + 1, sizeof *s->dest);
    memset(s->scount, 0, (size_t)size * sizeof *s->scount);
    sg_arena_reset(&s->arena); /* one round's decoded strings (bounded by the piece) */
    s->nown = 0;
    for (size_t i = 0; i < keep; i++) {
        const struct span *sp = &s->spans[i];
        struct sg_event ev;
        struct sg_event_error err;
        s->dest[i] = -1;
        s->st.messages++;
        if (sp->off == SIZE_MAX) {
            /* a line we did not keep: the decoder rejects any message over its size limit
             * from the length alone, without reading it - the same rejection (and message)
             * as the single process, which hands such lines to it whole */
            sg_event_decode(s->rbuf, (size_t)SG_EVENT_MAX_BYTES + 1, &ev, &s->arena, &err);
            note_invalid(s, before + i + 1, &err);
            continue;
        }
        if (sg_event_decode(s->rbuf + sp->off, sp->len, &ev, &s->arena, &err) != SG_OK) {
            note_invalid(s, before + i + 1, &err);
            continue;
        }
        s->dest[i] = sg_mpi_owner(sg_users_hash(ev.user.p, ev.user.len), size);
        if (s->users && s->dest[i] == s->c->rank) { /* folded here: no second decode */
            s->own = sg_xgrow(s->own, &s->owncap, s->nown + 1, sizeof *s->own);
            s->own[s->nown++] = ev;
            s->dest[i] = -1;
            continue;
        }
        s->scount[s->dest[i]] += (int)sp->len + 1;
    }
    size_t total = 0;
    for (int r = 0; r < size; r++) {
        s->sdispl[r] = (int)total;
        total += (size_t)s->scount[r];
        if (r != s->c->rank)
            s->sent += (uint64_t)s->scount[r];
    }
    s->sbuf = sg_xgrow(s->sbuf, &s->scap, total + 1, 1);
    int *at = s->rdispl; /* scratch: write cursors (rdispl is recomputed after) */
    memcpy(at, s->sdispl, (size_t)size * sizeof *at);
    for (size_t i = 0; i < keep; i++) {
        if (s->dest[i] < 0)
            continue;
        const struct span *sp = &s->spans[i];
        memcpy(s->sbuf + at[s->dest[i]], s->rbuf + sp->off, sp->len);
        s->sbuf[at[s->dest[i]] + (int)sp->len] = '\n';
        at[s->dest[i]] += (int)sp->len + 1;
    }
}

static int do_round(struct sg_mpi_shuffle *s, char *errbuf, size_t errlen)
{
    int size = s->c->size, rc = SG_OK;
    size_t pi = s->round * (size_t)size + (size_t)s->c->rank;
    s->nspans = 0;
    if (s->ksrc)
        rc = read_kafka(s, errbuf, errlen);
    else if (pi < s->npieces)
        rc = read_piece(s, &s->pieces[pi], errbuf, errlen);
    /* a read error still takes part in the collectives, then everyone stops */
    int bad = rc != SG_OK;
    SG_MPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, s->c->comm));
    if (bad) {
        if (rc == SG_OK)
            snprintf(errbuf, errlen, "another rank failed to read its input piece");
        return rc != SG_OK ? rc : SG_ERR_IO;
    }
    uint64_t before;
    size_t keep = apply_cap(s, &before);
    pack(s, keep, before);
    SG_MPI(MPI_Alltoall(s->scount, 1, MPI_INT, s->rcount, 1, MPI_INT, s->c->comm));
    size_t total = 0;
    for (int r = 0; r < size; r++) {
        s->rdispl[r] = (int)total;
        total += (size_t)s->rcount[r];
    }
    if (total > INT_MAX) {
        snprintf(errbuf, errlen, "one round sends more than 2 GiB to a rank: lower --chunk-kb");
        return SG_ERR_INVALID; /* every rank sees its own total; mpirun ends the others */
    }
    s->recv = sg_xgrow(s->recv, &s->rvcap, total + 1, 1);
    SG_MPI(MPI_Alltoallv(s->sbuf, s->scount, s->sdispl, MPI_CHAR, s->recv, s->rcount, s->rdispl,
                         MPI_CHAR, s->c->comm));
    s->round++;
    return SG_OK;
}

static void fold(struct sg_users *u, const struct sg_event *ev)
{
    uint64_t h = sg_users_hash(ev->user.p, ev->user.len);
    struct sg_user *usr = sg_users_get(u, sg_users_partition(u, h), ev->user.p, ev->user.len, h);
    sg_features_add(&usr->f, ev);
}

/* Folds this round's events in global input order: the pieces of lower ranks (received),
 * this rank's own events, then the higher ranks'. */
static int fold_round(struct sg_mpi_shuffle *s, char *errbuf, size_t errlen)
{
    for (int q = 0; q < s->c->size; q++) {
        if (q == s->c->rank) {
            for (size_t i = 0; i < s->nown; i++)
                fold(s->users, &s->own[i]);
            continue;
        }
        const char *p = s->recv + s->rdispl[q], *end = p + s->rcount[q];
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            struct sg_event ev;
            struct sg_event_error err;
            sg_arena_reset(&s->own_arena);
            if (sg_event_decode(p, (size_t)(nl - p), &ev, &s->own_arena, &err) != SG_OK) {
                snprintf(errbuf, errlen, "rank %d sent an event this rank cannot decode: %s", q,
                         err.message); /* same decoder on both sides: cannot happen */
                return SG_ERR_INTERNAL;
            }
            fold(s->users, &ev);
            p = nl + 1;
        }
    }
    return SG_OK;
}

int sg_mpi_shuffle_run(struct sg_mpi_shuffle *s, struct sg_users *users, char *errbuf,
                       size_t errlen)
{
    s->users = users;
    int rc = SG_OK;
    while (rc == SG_OK && s->round < s->rounds && !s->capped && !s->done) {
        rc = do_round(s, errbuf, errlen);
        if (rc == SG_OK)
            rc = fold_round(s, errbuf, errlen);
    }
    s->users = NULL;
    return rc;
}

static struct sg_mpi_shuffle *alloc_shuffle(const struct sg_mpi *c, uint64_t max_events)
{
    struct sg_mpi_shuffle *s = sg_xcalloc(1, sizeof *s);
    s->c = c;
    s->fd = -1;
    s->max_events = max_events;
    sg_arena_init(&s->arena, 1u << 20);
    sg_arena_init(&s->own_arena, 1u << 16);
    size_t sz = (size_t)c->size;
    s->scount = sg_xcalloc(sz, sizeof(int));
    s->sdispl = sg_xcalloc(sz, sizeof(int));
    s->rcount = sg_xcalloc(sz, sizeof(int));
    s->rdispl = sg_xcalloc(sz, sizeof(int));
    return s;
}

struct sg_mpi_shuffle *sg_mpi_shuffle_new_kafka(const struct sg_mpi *c, struct sg_source *src,
                                                size_t per_round, uint64_t max_events)
{
    struct sg_mpi_shuffle *s = alloc_shuffle(c, max_events);
    s->ksrc = src;
    s->kmax = per_round ? per_round : 8192;
    s->rounds = SIZE_MAX;
    return s;
}

struct sg_mpi_shuffle *sg_mpi_shuffle_new(const struct sg_mpi *c, const char *const *paths,
                                          size_t n, size_t chunk, uint64_t max_events, char *errbuf,
                                          size_t errlen)
{
    struct sg_mpi_shuffle *s = alloc_shuffle(c, max_events);
    if (list_files(s, paths, n, errbuf, errlen) != SG_OK ||
        make_pieces(s, chunk < 4096 ? 4096 : chunk, errbuf, errlen) != SG_OK) {
        sg_mpi_shuffle_free(s);
        return NULL;
    }
    return s;
}

const struct sg_ingest_stats *sg_mpi_shuffle_stats(const struct sg_mpi_shuffle *s)
{
    return &s->st;
}

uint64_t sg_mpi_shuffle_bytes_sent(const struct sg_mpi_shuffle *s)
{
    return s->sent;
}

struct sg_source *sg_mpi_shuffle_kafka(struct sg_mpi_shuffle *s)
{
    return s->ksrc;
}

size_t sg_mpi_shuffle_rounds(const struct sg_mpi_shuffle *s)
{
    return s->round;
}

void sg_mpi_shuffle_free(struct sg_mpi_shuffle *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    for (size_t i = 0; i < s->nfiles; i++)
        free(s->files[i]);
    free(s->files);
    free(s->pieces);
    free(s->rbuf);
    free(s->spans);
    free(s->dest);
    free(s->sbuf);
    free(s->recv);
    free(s->scount);
    free(s->sdispl);
    free(s->rcount);
    free(s->rdispl);
    sg_arena_release(&s->arena);
    sg_arena_release(&s->own_arena);
    free(s->own);
    sg_source_free(s->ksrc);
    sg_msgbatch_release(&s->kb);
    free(s);
}

void sg_mpi_stats_merge(const struct sg_mpi *c, const struct sg_ingest_stats *local,
                        struct sg_ingest_stats *out)
{
    struct sg_ingest_stats *all = sg_xmalloc((size_t)c->size * sizeof *all);
    SG_MPI(MPI_Allgather(local, (int)sizeof *local, MPI_BYTE, all, (int)sizeof *local, MPI_BYTE,
                         c->comm));
    memset(out, 0, sizeof *out);
    for (int i = 0; i < c->size; i++) {
        const struct sg_ingest_stats *s = &all[i];
        out->messages += s->messages;
        out->invalid += s->invalid;
        out->bytes += s->bytes;
        out->blank_lines += s->blank_lines;
        for (int r = 0; r < SG_REASON_COUNT; r++) {
            out->by_reason[r] += s->by_reason[r];
            if (s->example_at[r] &&
                (!out->example_at[r] || s->example_at[r] < out->example_at[r])) {
                out->example_at[r] = s->example_at[r];
                memcpy(out->example[r], s->example[r], sizeof out->example[r]);
            }
        }
    }
    out->valid = out->messages - out->invalid;
    free(all);
}
