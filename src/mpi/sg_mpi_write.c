/* sg_mpi_write: parts per rank, rank 0 commits (see sg_mpi_write.h). */
#include "mpi/sg_mpi_write.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "batch/sg_report.h"
#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_time.h"
#include "storage/sg_parquet.h"

#define TOP 20

int sg_mpi_fault_point(const struct sg_mpi *c, const char *phase)
{
    const char *f = getenv("STREAMGUARD_MPI_FAULT");
    char want[64];
    snprintf(want, sizeof want, "%d:%s", c->rank, phase);
    size_t n = strlen(want);
    if (!f || strncmp(f, want, n) || (f[n] && strcmp(f + n, ":fail")))
        return 0;
    fprintf(stderr, "streamguard-mpi: rank %d: fault injection at '%s'%s\n", c->rank, phase,
            f[n] ? " (error)" : " (SIGKILL)");
    if (!f[n])
        raise(SIGKILL);
    return 1;
}

/* ---- cleanup when mpirun ends the job ----
 * When a rank dies, mpirun sends SIGTERM to the others before SIGKILL. Each rank then removes
 * the temporary directory (rank 0 created it; a rank still writing parts could re-create
 * entries, so every rank removes what it finds before exiting), from the signal handler: so with
 * only async-signal-safe calls (openat, getdents64, unlinkat), not nftw() as sg_parquet does, hence
 * hand-written. Without this the temp sibling would stay behind (it is never renamed in either
 * way). */

static char g_tmp[4096];

struct dirent64_raw {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

static void rm_tree_at(int dirfd, const char *name, int depth)
{
    if (unlinkat(dirfd, name, 0) == 0 || depth > 4)
        return;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[2048];
    for (int pass = 0; pass < 3; pass++) { /* entries removed while listing: list again */
        long n;
        lseek(fd, 0, SEEK_SET);
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
            for (long off = 0; off < n;) {
                struct dirent64_raw *d = (struct dirent64_raw *)(void *)(buf + off);
                if (strcmp(d->name, ".") && strcmp(d->name, ".."))
                    rm_tree_at(fd, d->name, depth + 1);
                off += d->reclen;
            }
    }
    close(fd);
    unlinkat(dirfd, name, AT_REMOVEDIR);
}

static void on_term(int sig)
{
    if (g_tmp[0])
        rm_tree_at(AT_FDCWD, g_tmp, 0);
    _exit(128 + sig);
}

static void guard_tmp(const char *tmp)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (tmp) {
        snprintf(g_tmp, sizeof g_tmp, "%s", tmp);
        sa.sa_handler = on_term;
    } else {
        sa.sa_handler = SIG_DFL;
    }
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (!tmp)
        g_tmp[0] = 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int pwrite_all(int fd, const char *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* Every rank writes its users' baseline lines at its own offset (an exclusive prefix sum of
 * the sizes, in rank order) into model/baselines.ndjson: one file, written in parallel, no
 * serial join. Collective (also for a rank that already failed: it writes nothing). */
static int write_baselines(const struct sg_mpi *c, const char *path,
                           const struct sg_batch_data *data, int skip, char *errbuf, size_t errlen)
{
    struct sg_buf b;
    sg_buf_init(&b);
    for (size_t i = 0; !skip && i < data->n; i++)
        sg_model_baseline_line(data->users[i]->name, data->users[i]->len, &data->users[i]->f, &b);
    uint64_t len = b.len, off = 0;
    SG_MPI(MPI_Exscan(&len, &off, 1, MPI_UINT64_T, MPI_SUM, c->comm));
    if (c->rank == 0)
        off = 0; /* MPI_Exscan leaves rank 0's result undefined */
    int rc = SG_OK;
    if (!skip) {
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        int bad = fd < 0 || pwrite_all(fd, b.data ? b.data : "", b.len, off) != 0;
        int e = errno;
        if (fd >= 0 && close(fd) != 0 && !bad) {
            bad = 1;
            e = errno;
        }
        if (bad) {
            snprintf(errbuf, errlen, "%s: %s", path, strerror(e));
            rc = sg_err_from_errno(e);
        }
    }
    sg_buf_release(&b);
    return rc;
}

/* ---- report candidates: each rank's top anomalies, gathered on rank 0 ---- */

struct cand_hdr {
    uint32_t len;
    int32_t cluster;
    double iforest, kdist, score;
};

static void pack_candidates(const struct sg_batch_data *data, struct sg_buf *b)
{
    size_t idx[TOP], d = data->d;
    size_t k = sg_report_top(data, TOP, idx);
    for (size_t j = 0; j < k; j++) {
        size_t i = idx[j];
        const struct sg_user *u = data->users[i];
        struct cand_hdr h = {u->len, data->cluster[i], data->iforest[i], data->kdist[i],
                             data->score[i]};
        sg_buf_append(b, &h, sizeof h);
        sg_buf_append(b, &u->f, sizeof u->f);
        sg_buf_append(b, data->raw + i * d, d * sizeof(double));
        sg_buf_append(b, data->z + i * d, d * sizeof(double));
        sg_buf_append(b, u->name, u->len);
    }
}

static int cmp_user(const void *a, const void *b)
{
    const struct sg_user *x = *(struct sg_user *const *)a, *y = *(struct sg_user *const *)b;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, m);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Builds report data (rows sorted by name, like the single-process data) from the gathered
 * candidates. The sg_user structs live in *store; free with free_candidates. */
static void unpack_candidates(const char *p, size_t len, size_t d, struct sg_batch_data *out,
                              struct sg_user **store)
{
    size_t n = 0, rec0 = sizeof(struct cand_hdr) + sizeof(struct sg_features) + 2 * d * 8;
    for (size_t at = 0; at < len; n++) {
        struct cand_hdr h;
        memcpy(&h, p + at, sizeof h);
        at += rec0 + h.len;
    }
    struct sg_user *us = sg_xcalloc(n ? n : 1, sizeof *us);
    struct sg_user **order = sg_xmalloc((n ? n : 1) * sizeof *order);
    struct cand_hdr *hs = sg_xmalloc((n ? n : 1) * sizeof *hs);
    const char **rec = sg_xmalloc((n ? n : 1) * sizeof *rec);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(&hs[i], p + at, sizeof hs[i]);
        rec[i] = p + at + sizeof hs[i];
        memcpy(&us[i].f, rec[i], sizeof us[i].f);
        us[i].len = hs[i].len;
        us[i].name = sg_xmalloc(hs[i].len + 1);
        memcpy(us[i].name, rec[i] + sizeof us[i].f + 2 * d * 8, hs[i].len);
        us[i].name[hs[i].len] = 0;
        us[i].hash = i; /* index back into hs / rec */
        order[i] = &us[i];
        at += rec0 + hs[i].len;
    }
    qsort(order, n, sizeof *order, cmp_user);
    memset(out, 0, sizeof *out);
    out->n = n;
    out->d = d;
    out->users = order;
    out->raw = sg_xmalloc((n ? n : 1) * d * 8);
    out->z = sg_xmalloc((n ? n : 1) * d * 8);
    out->iforest = sg_xmalloc((n ? n : 1) * 8);
    out->kdist = sg_xmalloc((n ? n : 1) * 8);
    out->score = sg_xmalloc((n ? n : 1) * 8);
    out->cluster = sg_xmalloc((n ? n : 1) * sizeof(int));
    out->anomalous = sg_xmalloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)order[i]->hash;
        memcpy(out->raw + i * d, rec[k] + sizeof(struct sg_features), d * 8);
        memcpy(out->z + i * d, rec[k] + sizeof(struct sg_features) + d * 8, d * 8);
        out->iforest[i] = hs[k].iforest;
        out->kdist[i] = hs[k].kdist;
        out->score[i] = hs[k].score;
        out->cluster[i] = hs[k].cluster;
        out->anomalous[i] = 1;
    }
    *store = us;
    free(hs);
    free(rec);
}

static void free_candidates(struct sg_batch_data *data, struct sg_user *store)
{
    for (size_t i = 0; i < data->n; i++)
        free(store[i].name);
    free(store);
    sg_batch_data_release(data);
}

/* Collective: rank 0 receives every rank's candidates into `out` (other ranks: untouched). */
static void gather_candidates(const struct sg_mpi *c, const struct sg_batch_data *data,
                              struct sg_buf *out)
{
    struct sg_buf mine;
    sg_buf_init(&mine);
    pack_candidates(data, &mine);
    int b = (int)mine.len, *cnt = NULL, *dis = NULL;
    if (c->rank == 0) {
        cnt = sg_xmalloc((size_t)c->size * sizeof *cnt);
        dis = sg_xmalloc((size_t)c->size * sizeof *dis);
    }
    SG_MPI(MPI_Gather(&b, 1, MPI_INT, cnt, 1, MPI_INT, 0, c->comm));
    size_t total = 0;
    if (c->rank == 0)
        for (int r = 0; r < c->size; r++) {
            dis[r] = (int)total;
            total += (size_t)cnt[r];
        }
    char *all = c->rank == 0 ? sg_xmalloc(total + 1) : NULL;
    SG_MPI(MPI_Gatherv(mine.data, b, MPI_BYTE, all, cnt, dis, MPI_BYTE, 0, c->comm));
    if (c->rank == 0)
        sg_buf_append(out, all, total);
    free(all);
    free(cnt);
    free(dis);
    sg_buf_release(&mine);
}

/* ---- rank 0's files ---- */

static int write_text(const char *dir, const char *name, const struct sg_buf *b, char *errbuf,
                      size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int bad = fd < 0 || write_all(fd, b->data ? b->data : "", b->len) != 0, e = errno;
    if (fd >= 0 && close(fd) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(e));
        return sg_err_from_errno(e);
    }
    return SG_OK;
}

static int rank0_files(const struct sg_mpi *c, const char *tmp, const struct sg_buf *cands,
                       const struct sg_batch_data *data, const struct sg_model *m,
                       const struct sg_batch_params *p, const struct sg_ingest_stats *st,
                       uint64_t ng, uint64_t anomalous, const uint32_t *by_top,
                       const int64_t *hist, struct sg_batch_timings *t, char *errbuf,
                       size_t errlen)
{
    char mdir[4200];
    snprintf(mdir, sizeof mdir, "%s/model", tmp);
    int rc = SG_OK;
    struct sg_buf b;
    sg_buf_init(&b);
    sg_buf_printf(&b,
                  "{\"users\":%" PRIu64 ",\"events\":%" PRIu64 ",\"trees\":%d,\"psi\":%d,"
                  "\"k\":%d,\"history\":{\"first_ms\":%" PRId64 ",\"last_ms\":%" PRId64
                  "},\"mpi_ranks\":%d,\"config\":%s}",
                  ng, st->valid, p->trees, p->psi, m->km.k, hist[0], hist[1], c->size,
                  p->config_json ? p->config_json : "{}");
    if (rc == SG_OK)
        rc = sg_model_save(m, mdir, b.data, errbuf, errlen);
    struct sg_batch_data rd;
    struct sg_user *store;
    unpack_candidates(cands->data, cands->len, data->d, &rd, &store);
    rd.has_totals = 1;
    rd.total_users = (size_t)ng;
    rd.total_anomalous = (size_t)anomalous;
    memcpy(rd.total_by_top_feature, by_top, sizeof rd.total_by_top_feature);
    sg_buf_reset(&b);
    sg_report_json(&rd, m, p, st, t, TOP, &b);
    if (rc == SG_OK)
        rc = write_text(tmp, "anomaly_report.json", &b, errbuf, errlen);
    sg_buf_reset(&b);
    sg_report_md(&rd, m, p, st, t, TOP, &b);
    if (rc == SG_OK)
        rc = write_text(tmp, "anomaly_report.md", &b, errbuf, errlen);
    free_candidates(&rd, store);
    sg_buf_release(&b);
    return rc;
}

/* Rank 0 creates the dataset and model directory; everyone learns the temp path. */
static struct sg_pq_dataset *open_dataset(const struct sg_mpi *c, const char *dir, char *errbuf,
                                          size_t errlen)
{
    char tmp[4096] = "";
    struct sg_pq_dataset *ds = NULL;
    if (c->rank == 0) {
        ds = sg_pq_dataset_new(dir, errbuf, errlen);
        if (ds) {
            guard_tmp(sg_pq_dataset_tmpdir(ds));
            snprintf(tmp, sizeof tmp, "%s", sg_pq_dataset_tmpdir(ds));
            char mdir[4200];
            snprintf(mdir, sizeof mdir, "%s/model", tmp);
            if (mkdir(mdir, 0755) != 0) {
                snprintf(errbuf, errlen, "%s: %s", mdir, strerror(errno));
                sg_pq_dataset_abort(ds);
                guard_tmp(NULL);
                ds = NULL;
                tmp[0] = 0;
            }
        }
    }
    SG_MPI(MPI_Bcast(tmp, sizeof tmp, MPI_CHAR, 0, c->comm));
    if (!tmp[0]) {
        if (c->rank != 0)
            snprintf(errbuf, errlen, "rank 0 could not create the output directory");
        return NULL;
    }
    if (c->rank != 0) /* every rank removes it on SIGTERM: the last one sees a still tree */
        guard_tmp(tmp);
    return c->rank == 0 ? ds : sg_pq_dataset_attach(tmp);
}

int sg_mpi_write(const struct sg_mpi *c, const char *dir, const struct sg_batch_data *data,
                 const struct sg_model *m, const struct sg_batch_params *p,
                 const struct sg_ingest_stats *st, uint64_t n_global, struct sg_batch_timings *t,
                 char *errbuf, size_t errlen)
{
    double t0 = (double)sg_time_mono_ns() / 1e9;
    uint64_t an = 0;
    for (size_t i = 0; i < data->n; i++)
        an += data->anomalous[i];
    SG_MPI(MPI_Allreduce(MPI_IN_PLACE, &an, 1, MPI_UINT64_T, MPI_SUM, c->comm));
    /* the report's "flagged by strongest feature" counts every rank's flagged users */
    uint32_t by_top[SG_FEAT_COUNT] = {0};
    for (size_t i = 0; i < data->n; i++) {
        int idx;
        if (data->anomalous[i] && sg_model_top_features(m, data->z + i * data->d, &idx, 1) == 1)
            by_top[idx]++;
    }
    SG_MPI(MPI_Allreduce(MPI_IN_PLACE, by_top, SG_FEAT_COUNT, MPI_UINT32_T, MPI_SUM, c->comm));
    /* the training history's event-time span, as the single-process batch records it */
    int64_t hist[2] = {INT64_MAX, 0};
    for (size_t i = 0; i < data->n; i++) {
        if (data->users[i]->f.first_ts < hist[0])
            hist[0] = data->users[i]->f.first_ts;
        if (data->users[i]->f.last_ts > hist[1])
            hist[1] = data->users[i]->f.last_ts;
    }
    SG_MPI(MPI_Allreduce(MPI_IN_PLACE, &hist[0], 1, MPI_INT64_T, MPI_MIN, c->comm));
    SG_MPI(MPI_Allreduce(MPI_IN_PLACE, &hist[1], 1, MPI_INT64_T, MPI_MAX, c->comm));
    if (hist[0] > hist[1] || hist[0] < 0)
        hist[0] = hist[1] = 0;
    struct sg_buf cands;
    sg_buf_init(&cands);
    gather_candidates(c, data, &cands);
    struct sg_pq_dataset *ds = open_dataset(c, dir, errbuf, errlen);
    if (!ds) {
        sg_buf_release(&cands);
        return SG_ERR_IO;
    }
    char base[4200];
    snprintf(base, sizeof base, "%s/model/baselines.ndjson", sg_pq_dataset_tmpdir(ds));
    int rc = sg_batch_write_parts(ds, data, m, p, c->rank, errbuf, errlen);
    int rc2 = write_baselines(c, base, data, rc != SG_OK, errbuf, errlen);
    rc = rc != SG_OK ? rc : rc2;
    if (sg_mpi_fault_point(c, "write") && rc == SG_OK) {
        rc = SG_ERR_IO;
        snprintf(errbuf, errlen, "injected write error");
    }
    int bad = rc != SG_OK;
    SG_MPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, c->comm));
    if (c->rank == 0) {
        if (!bad) {
            if (t)
                t->write_s = (double)sg_time_mono_ns() / 1e9 - t0;
            rc = rank0_files(c, sg_pq_dataset_tmpdir(ds), &cands, data, m, p, st, n_global, an,
                             by_top, hist, t, errbuf, errlen);
        }
        if (bad || rc != SG_OK)
            sg_pq_dataset_abort(ds); /* the temp dir is never renamed in */
        else
            rc = sg_pq_dataset_commit(ds, errbuf, errlen);
        guard_tmp(NULL);
        if (bad && rc == SG_OK) {
            rc = SG_ERR_IO;
            snprintf(errbuf, errlen, "another rank failed to write its part; nothing committed");
        }
    }
    int final = rc != SG_OK;
    SG_MPI(MPI_Bcast(&final, 1, MPI_INT, 0, c->comm));
    if (c->rank != 0) {
        guard_tmp(NULL);
        sg_pq_dataset_detach(ds);
    }
    if (final && rc == SG_OK) {
        rc = SG_ERR_IO;
        snprintf(errbuf, errlen, "rank 0 could not commit the output");
    }
    if (t)
        t->write_s = (double)sg_time_mono_ns() / 1e9 - t0;
    sg_buf_release(&cands);
    return rc;
}
