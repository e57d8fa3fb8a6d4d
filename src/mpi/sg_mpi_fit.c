/* sg_mpi_fit: distributed scaler, Isolation Forest, K-Means, quantiles (see sg_mpi_fit.h).
 * Each step mirrors the single-process code in src/batch step by step (same RNG streams, same
 * draw order, same formulas); only sums change, from left-to-right to double-double. */
#include "mpi/sg_mpi_fit.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_mem.h"
#include "core/sg_rng.h"
#include "core/sg_time.h"

static double now_s(void)
{
    return (double)sg_time_mono_ns() / 1e9;
}

/* ---- the global user order ---- */

static int name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    size_t m = al < bl ? al : bl;
    int c = memcmp(a, b, m);
    return c ? c : (al > bl) - (al < bl);
}

void sg_mpi_directory(const struct sg_mpi *c, const struct sg_batch_data *data, uint64_t **gidx,
                      uint64_t *n_global, struct sg_mpi_comm_stats *cs)
{
    size_t n = data->n, bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += 4 + data->users[i]->len;
    char *mine = sg_xmalloc(bytes + 1);
    for (size_t i = 0, at = 0; i < n; i++) {
        uint32_t len = data->users[i]->len;
        memcpy(mine + at, &len, 4);
        memcpy(mine + at + 4, data->users[i]->name, len);
        at += 4 + len;
    }
    int *cnt = sg_xmalloc((size_t)c->size * sizeof *cnt),
        *dis = sg_xmalloc((size_t)c->size * sizeof *dis);
    int b = (int)bytes;
    SG_MPI(MPI_Allgather(&b, 1, MPI_INT, cnt, 1, MPI_INT, c->comm));
    size_t total = 0;
    for (int r = 0; r < c->size; r++) {
        dis[r] = (int)total;
        total += (size_t)cnt[r];
    }
    if (total > INT_MAX) /* MPI counts are ints: ~130M users with 12-byte names */
        sg_mpi_check(MPI_ERR_COUNT, "user directory larger than 2 GiB");
    char *all = sg_xmalloc(total + 1);
    SG_MPI(MPI_Allgatherv(mine, b, MPI_CHAR, all, cnt, dis, MPI_CHAR, c->comm));
    cs->directory += total - bytes;
    *gidx = sg_xmalloc((n ? n : 1) * sizeof **gidx);
    for (size_t i = 0; i < n; i++)
        (*gidx)[i] = i;
    uint64_t ng = 0;
    for (int r = 0; r < c->size; r++) {
        const char *p = all + dis[r], *end = p + cnt[r];
        uint64_t count = 0;
        size_t i = 0;
        while (p < end) { /* merge walk: my users vs rank r's, both ascending */
            uint32_t len;
            memcpy(&len, p, 4);
            if (r != c->rank) {
                while (i < n && name_cmp(data->users[i]->name, data->users[i]->len, p + 4, len) < 0)
                    (*gidx)[i++] += count;
            }
            count++;
            p += 4 + len;
        }
        if (r != c->rank)
            for (; i < n; i++)
                (*gidx)[i] += count;
        ng += count;
    }
    *n_global = ng;
    free(mine);
    free(all);
    free(cnt);
    free(dis);
}

/* ---- scaler ---- */

static double pre(int log1p_flag, double x)
{
    if (!isfinite(x))
        x = 0;
    return log1p_flag ? sg_scaler_log1p(x) : x;
}

static void fit_scaler(const struct sg_mpi *c, const struct sg_batch_data *data, uint64_t ng,
                       struct sg_scaler *s, struct sg_mpi_comm_stats *cs)
{
    size_t d = data->d, n = data->n;
    sg_scaler_init(s, d);
    for (size_t j = 0; j < d; j++)
        s->log1p[j] = (uint8_t)(sg_features_defs()[j].log1p ? 1 : 0);
    struct sg_dd *acc = sg_xcalloc(d, sizeof *acc);
    double *sum = sg_xmalloc(d * sizeof *sum);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            sg_dd_add(&acc[j], pre(s->log1p[j], data->raw[i * d + j]));
    sg_mpi_sum_dd(c, acc, d, sum);
    for (size_t j = 0; j < d; j++)
        s->mean[j] = ng ? sum[j] / (double)ng : 0;
    memset(acc, 0, d * sizeof *acc);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            double v = pre(s->log1p[j], data->raw[i * d + j]) - s->mean[j];
            sg_dd_add(&acc[j], v * v);
        }
    sg_mpi_sum_dd(c, acc, d, sum);
    for (size_t j = 0; j < d; j++) {
        double sd = ng ? sqrt(sum[j] / (double)ng) : 0, m = s->mean[j];
        s->std[j] = sd > 1e-12 * (fabs(m) + 1) ? sd : 0;
    }
    cs->scaler += 2 * (uint64_t)(c->size - 1) * d * 16;
    free(acc);
    free(sum);
}

/* ---- Isolation Forest ---- */

struct row_map {
    size_t n, d;
    uint64_t *g; /* sorted global indices */
    const double **row;
};

static const double *map_row(const void *ctx, size_t g)
{
    const struct row_map *m = ctx;
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->g[mid] < g)
            lo = mid + 1;
        else
            hi = mid;
    }
    return m->row[lo]; /* always present: every sampled row was sent */
}

struct grow_rec {
    uint64_t g;
    const double *row;
};

static int cmp_rec(const void *a, const void *b)
{
    uint64_t x = ((const struct grow_rec *)a)->g, y = ((const struct grow_rec *)b)->g;
    return (x > y) - (x < y);
}

/* Sends every row a tree samples to the rank that grows the tree (tree t -> rank t mod N). */
static double *ship_rows(const struct sg_mpi *c, const struct sg_iforest *f, int trees,
                         const uint64_t *gidx, const struct sg_batch_data *data, uint64_t ng,
                         size_t *nrecv, struct sg_mpi_comm_stats *cs)
{
    size_t d = data->d, rec = (d + 1) * sizeof(double), psi = (size_t)sg_iforest_psi(f);
    size_t *idx = sg_xmalloc(psi * sizeof *idx);
    int *stamp = sg_xmalloc((data->n ? data->n : 1) * sizeof *stamp);
    for (size_t i = 0; i < data->n; i++)
        stamp[i] = -1;
    int *scnt = sg_xcalloc((size_t)c->size, sizeof *scnt),
        *sdis = sg_xcalloc((size_t)c->size, sizeof *sdis);
    int *rcnt = sg_xcalloc((size_t)c->size, sizeof *rcnt),
        *rdis = sg_xcalloc((size_t)c->size, sizeof *rdis);
    size_t *sel = NULL, nsel = 0, selcap = 0;
    for (int q = 0; q < c->size; q++) {
        size_t before = nsel;
        for (int ti = q; ti < trees; ti += c->size) {
            sg_iforest_tree_sample(f, ti, (size_t)ng, idx);
            for (size_t k = 0; k < psi; k++) {
                long li = sg_mpi_local_of(gidx, data->n, idx[k]);
                if (li < 0 || stamp[li] == q)
                    continue;
                stamp[li] = q;
                sel = sg_xgrow(sel, &selcap, nsel + 1, sizeof *sel);
                sel[nsel++] = (size_t)li;
            }
        }
        scnt[q] = (int)((nsel - before) * rec);
        sdis[q] = (int)(before * rec);
    }
    char *sbuf = sg_xmalloc(nsel * rec + 1);
    for (size_t k = 0; k < nsel; k++) {
        uint64_t g = gidx[sel[k]];
        memcpy(sbuf + k * rec, &g, 8);
        memcpy(sbuf + k * rec + 8, data->z + sel[k] * d, d * sizeof(double));
    }
    SG_MPI(MPI_Alltoall(scnt, 1, MPI_INT, rcnt, 1, MPI_INT, c->comm));
    size_t total = 0;
    for (int r = 0; r < c->size; r++) {
        rdis[r] = (int)total;
        total += (size_t)rcnt[r];
        if (r != c->rank)
            cs->iforest_rows += (uint64_t)rcnt[r];
    }
    double *rbuf = sg_xmalloc(total + 8);
    SG_MPI(MPI_Alltoallv(sbuf, scnt, sdis, MPI_BYTE, rbuf, rcnt, rdis, MPI_BYTE, c->comm));
    *nrecv = total / rec;
    free(idx);
    free(stamp);
    free(scnt);
    free(sdis);
    free(rcnt);
    free(rdis);
    free(sel);
    free(sbuf);
    return rbuf;
}

/* Every rank receives every tree (node arrays) and installs it. */
static void share_trees(const struct sg_mpi *c, struct sg_iforest *f, int trees,
                        struct sg_mpi_comm_stats *cs)
{
    size_t bytes = 0;
    for (int ti = c->rank; ti < trees; ti += c->size) {
        size_t nn;
        sg_iforest_tree_nodes(f, ti, &nn);
        bytes += 8 + nn * sizeof(struct sg_itree_node);
    }
    char *mine = sg_xmalloc(bytes + 1), *p = mine;
    for (int ti = c->rank; ti < trees; ti += c->size) {
        size_t nn;
        const struct sg_itree_node *nodes = sg_iforest_tree_nodes(f, ti, &nn);
        int32_t h[2] = {ti, (int32_t)nn};
        memcpy(p, h, 8);
        memcpy(p + 8, nodes, nn * sizeof *nodes);
        p += 8 + nn * sizeof *nodes;
    }
    int *cnt = sg_xmalloc((size_t)c->size * sizeof *cnt),
        *dis = sg_xmalloc((size_t)c->size * sizeof *dis);
    int b = (int)bytes;
    SG_MPI(MPI_Allgather(&b, 1, MPI_INT, cnt, 1, MPI_INT, c->comm));
    size_t total = 0;
    for (int r = 0; r < c->size; r++) {
        dis[r] = (int)total;
        total += (size_t)cnt[r];
    }
    char *all = sg_xmalloc(total + 1);
    SG_MPI(MPI_Allgatherv(mine, b, MPI_BYTE, all, cnt, dis, MPI_BYTE, c->comm));
    cs->iforest_trees += total - bytes;
    for (const char *q = all; q < all + total;) {
        int32_t h[2];
        memcpy(h, q, 8);
        struct sg_itree_node *nodes = sg_xmalloc(((size_t)h[1] ? (size_t)h[1] : 1) * sizeof *nodes);
        memcpy(nodes, q + 8, (size_t)h[1] * sizeof *nodes); /* aligned copy */
        if (h[0] % c->size != c->rank)
            sg_iforest_tree_set(f, h[0], nodes, (size_t)h[1]);
        free(nodes);
        q += 8 + (size_t)h[1] * sizeof *nodes;
    }
    free(mine);
    free(all);
    free(cnt);
    free(dis);
}

static struct sg_iforest *fit_forest(const struct sg_mpi *c, const uint64_t *gidx, uint64_t ng,
                                     const struct sg_batch_data *data,
                                     const struct sg_batch_params *p, struct sg_mpi_comm_stats *cs)
{
    int trees = p->trees > 0 ? p->trees : 100;
    size_t psi = p->psi > 1 ? (size_t)p->psi : 256;
    if (psi > ng)
        psi = (size_t)ng;
    size_t d = data->d;
    struct sg_iforest *f = sg_iforest_alloc(d, trees, (int)psi, p->seed);
    size_t nrecv;
    double *rows = ship_rows(c, f, trees, gidx, data, ng, &nrecv, cs);
    struct grow_rec *recs = sg_xmalloc((nrecv ? nrecv : 1) * sizeof *recs);
    for (size_t k = 0; k < nrecv; k++) {
        uint64_t g;
        memcpy(&g, rows + k * (d + 1), 8);
        recs[k] = (struct grow_rec){g, rows + k * (d + 1) + 1};
    }
    qsort(recs, nrecv, sizeof *recs, cmp_rec);
    struct row_map map = {nrecv, d, sg_xmalloc((nrecv ? nrecv : 1) * 8),
                          sg_xmalloc((nrecv ? nrecv : 1) * sizeof(double *))};
    for (size_t k = 0; k < nrecv; k++) {
        map.g[k] = recs[k].g;
        map.row[k] = recs[k].row;
    }
    for (int ti = c->rank; ti < trees; ti += c->size)
        sg_iforest_fit_tree(f, ti, (size_t)ng, map_row, &map);
    share_trees(c, f, trees, cs);
    sg_iforest_finish(f);
    free(map.g);
    free(map.row);
    free(recs);
    free(rows);
    return f;
}

/* ---- K-Means ---- */

#define FANOUT 32

/* This rank's prefix sum of md over its users with global index <= g. */
static struct sg_dd local_prefix(const struct sg_dd *prefix, const uint64_t *gidx, size_t n,
                                 uint64_t g)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (gidx[m] <= g)
            a = m + 1;
        else
            b = m;
    }
    return a ? prefix[a - 1] : (struct sg_dd){0, 0};
}

/* Smallest global index g whose prefix sum of md (global name order) exceeds u, or ng - 1:
 * a FANOUT-ary search, one collective of FANOUT-1 sums per level (log_32 ng levels). */
static uint64_t prefix_search(const struct sg_mpi *c, const struct sg_dd *prefix,
                              const uint64_t *gidx, size_t n, uint64_t ng, double u,
                              struct sg_mpi_comm_stats *cs)
{
    uint64_t lo = 0, hi = ng - 1; /* the answer is in [lo, hi] */
    struct sg_dd loc[FANOUT];
    double s[FANOUT];
    uint64_t at[FANOUT];
    while (lo < hi) {
        int m = 0;
        for (int i = 1; i < FANOUT; i++) { /* split points lo <= at < hi, increasing */
            uint64_t g = lo + (hi - lo) * (uint64_t)i / FANOUT;
            if (g < hi && (m == 0 || g > at[m - 1]))
                at[m++] = g;
        }
        for (int i = 0; i < m; i++)
            loc[i] = local_prefix(prefix, gidx, n, at[i]);
        sg_mpi_sum_dd(c, loc, (size_t)m, s);
        cs->kmeans += (uint64_t)(c->size - 1) * (uint64_t)m * 16;
        uint64_t nlo = lo, nhi = hi;
        for (int i = 0; i < m; i++) {
            if (s[i] > u) {
                nhi = at[i];
                break;
            }
            nlo = at[i] + 1;
        }
        lo = nlo;
        hi = nhi;
    }
    return lo;
}

static void seed_pp(const struct sg_mpi *c, struct sg_kmeans *km, const struct sg_batch_data *data,
                    const uint64_t *gidx, uint64_t ng, struct sg_rng *r,
                    struct sg_mpi_comm_stats *cs)
{
    size_t d = km->d, n = data->n;
    double *md = sg_xmalloc((n ? n : 1) * sizeof *md);
    struct sg_dd *prefix = sg_xmalloc((n ? n : 1) * sizeof *prefix);
    uint64_t first = sg_rng_below(r, ng);
    sg_mpi_fetch_row(c, data->z, gidx, n, d, first, km->c);
    for (size_t i = 0; i < n; i++)
        md[i] = sg_kmeans_dist2(data->z + i * d, km->c, d);
    for (int k = 1; k < km->k; k++) {
        struct sg_dd acc = {0, 0};
        for (size_t i = 0; i < n; i++) {
            sg_dd_add(&acc, md[i]);
            prefix[i] = acc;
        }
        double total;
        sg_mpi_sum_dd(c, &acc, 1, &total);
        cs->kmeans += (uint64_t)(c->size - 1) * 16 + d * 8; /* total, then the row */
        uint64_t pick;
        if (total > 0)
            pick = prefix_search(c, prefix, gidx, n, ng, sg_rng_double(r) * total, cs);
        else
            pick = sg_rng_below(r, ng); /* all points coincide */
        double *cc = km->c + (size_t)k * d;
        sg_mpi_fetch_row(c, data->z, gidx, n, d, pick, cc);
        for (size_t i = 0; i < n; i++) {
            double v = sg_kmeans_dist2(data->z + i * d, cc, d);
            if (v < md[i])
                md[i] = v;
        }
    }
    free(md);
    free(prefix);
}

static double lloyd(const struct sg_mpi *c, struct sg_kmeans *km, const struct sg_batch_data *data,
                    struct sg_mpi_comm_stats *cs)
{
    size_t d = km->d, k = (size_t)km->k, n = data->n;
    /* one collective per iteration: k*d coordinate sums, the inertia, and k counts (exact
     * as doubles up to 2^53 rows) */
    struct sg_dd *acc = sg_xcalloc(k * d + 1 + k, sizeof *acc);
    double *sum = sg_xmalloc((k * d + 1 + k) * sizeof *sum), *cnt = sum + k * d + 1;
    for (size_t i = 0; i < n; i++) {
        double dist;
        int cl = sg_kmeans_nearest(km, data->z + i * d, &dist);
        sg_dd_add(&acc[k * d], dist * dist);
        acc[k * d + 1 + (size_t)cl].hi += 1;
        for (size_t j = 0; j < d; j++)
            sg_dd_add(&acc[(size_t)cl * d + j], data->z[i * d + j]);
    }
    sg_mpi_sum_dd(c, acc, k * d + 1 + k, sum);
    cs->kmeans += (uint64_t)(c->size - 1) * (k * d + 1 + k) * 16;
    km->inertia = sum[k * d];
    double shift = sg_kmeans_update(km, sum, cnt);
    free(acc);
    free(sum);
    return shift;
}

/* k-means++ + Lloyd as sg_kmeans_fit (without the cluster sizes) into km. */
static void lloyd_fit(const struct sg_mpi *c, const uint64_t *gidx, uint64_t ng,
                      const struct sg_batch_data *data, int k, uint64_t seed, struct sg_kmeans *km,
                      struct sg_mpi_comm_stats *cs)
{
    size_t d = data->d;
    if ((uint64_t)k > ng)
        k = (int)ng;
    memset(km, 0, sizeof *km);
    km->k = k;
    km->d = d;
    km->c = sg_xcalloc((size_t)k * (d ? d : 1), sizeof(double));
    struct sg_rng r;
    sg_rng_seed2(&r, seed, UINT64_C(0x6b6d65616e73)); /* "kmeans", as sg_kmeans_fit */
    seed_pp(c, km, data, gidx, ng, &r, cs);
    while (km->iters < 20) {
        km->iters++;
        if (lloyd(c, km, data, cs) < 1e-4)
            break;
    }
}

/* ---- k = auto: the sampled silhouette of sg_kmeans_choose_k ---- */

#define SIL_SAMPLE 1000

/* The first m positions of the partial Fisher-Yates shuffle of [0, n) that
 * sg_kmeans_silhouette draws, without its n-sized array: the displaced positions live in a
 * small open-addressing map (at most 2m entries). */
static void silhouette_sample(uint64_t seed, uint64_t n, size_t m, uint64_t *out)
{
    size_t cap = 8;
    while (cap < 4 * m)
        cap <<= 1;
    uint64_t *key = sg_xmalloc(cap * sizeof *key), *val = sg_xmalloc(cap * sizeof *val);
    for (size_t i = 0; i < cap; i++)
        key[i] = UINT64_MAX;
    struct sg_rng r;
    sg_rng_seed2(&r, seed, UINT64_C(0x73696c68)); /* "silh", as sg_kmeans_silhouette */
    for (size_t i = 0; i < m; i++) {
        uint64_t j = i + sg_rng_below(&r, n - i), pos[2] = {i, j}, v[2];
        size_t slot[2];
        for (int t = 0; t < 2; t++) {
            size_t h = (size_t)(sg_rng_mix64(pos[t]) & (cap - 1));
            while (key[h] != UINT64_MAX && key[h] != pos[t])
                h = (h + 1) & (cap - 1);
            if (key[h] != pos[t]) { /* untouched position: holds its own index */
                key[h] = pos[t];
                val[h] = pos[t];
            }
            slot[t] = h;
            v[t] = val[h];
        }
        val[slot[0]] = v[1]; /* swap idx[i] and idx[j] */
        val[slot[1]] = v[0];
        out[i] = v[1];
    }
    free(key);
    free(val);
}

/* sg_kmeans_choose_k over 2..10: every rank gets the sampled rows once (each row comes from
 * its owner; the others add zeros, which is exact), then labels them itself per k - the same
 * rows, so the same labels on every rank - and takes sg_kmeans_silhouette's core over them. */
static int choose_k(const struct sg_mpi *c, const uint64_t *gidx, uint64_t ng,
                    const struct sg_batch_data *data, uint64_t seed, struct sg_mpi_comm_stats *cs)
{
    size_t d = data->d, m = ng < SIL_SAMPLE ? (size_t)ng : SIL_SAMPLE;
    uint64_t *g = sg_xmalloc(m * sizeof *g);
    long *li = sg_xmalloc(m * sizeof *li);
    silhouette_sample(seed, ng, m, g);
    double *X = sg_xcalloc(m * d, sizeof *X);
    for (size_t a = 0; a < m; a++)
        if ((li[a] = sg_mpi_local_of(gidx, data->n, g[a])) >= 0)
            memcpy(X + a * d, data->z + (size_t)li[a] * d, d * sizeof *X);
    SG_MPI(MPI_Allreduce(MPI_IN_PLACE, X, (int)(m * d), MPI_DOUBLE, MPI_SUM, c->comm));
    cs->kmeans += m * d * 8;
    int *label = sg_xmalloc(m * sizeof *label), best_k = 2;
    double best = -2;
    for (int k = 2; k <= 10 && (uint64_t)k <= ng; k++) {
        struct sg_kmeans km;
        lloyd_fit(c, gidx, ng, data, k, seed, &km, cs);
        sg_kmeans_assign(&km, X, m, label, NULL);
        double sil = sg_kmeans_silhouette_rows(X, m, d, label, km.k);
        if (sil > best + 1e-12) {
            best = sil;
            best_k = k;
        }
        sg_kmeans_release(&km);
    }
    free(g);
    free(li);
    free(X);
    free(label);
    return best_k;
}

static void fit_kmeans(const struct sg_mpi *c, const uint64_t *gidx, uint64_t ng,
                       struct sg_batch_data *data, const struct sg_batch_params *p,
                       struct sg_kmeans *km, struct sg_mpi_comm_stats *cs)
{
    size_t d = data->d;
    int k = p->k;
    if (k <= 0) /* auto, as sg_batch_fit */
        k = ng >= 3 ? choose_k(c, gidx, ng, data, p->seed, cs) : 1;
    lloyd_fit(c, gidx, ng, data, k, p->seed, km, cs);
    k = km->k;
    /* cluster sizes (global) mark the small clusters, as sg_kmeans_fit does */
    km->size = sg_xcalloc((size_t)k, sizeof *km->size);
    km->large = sg_xcalloc((size_t)k, 1);
    sg_kmeans_assign(km, data->z, data->n, data->cluster, km->size);
    SG_MPI(MPI_Allreduce(MPI_IN_PLACE, km->size, k, MPI_UINT64_T, MPI_SUM, c->comm));
    sg_kmeans_mark_large(km);
    for (size_t i = 0; i < data->n; i++)
        data->kdist[i] = sg_kmeans_score(km, data->z + i * d);
    cs->kmeans += (uint64_t)k * 8; /* the sizes' allreduce */
}

/* ---- quantiles and the threshold ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double *sorted_copy(const double *v, size_t n)
{
    double *s = sg_xmalloc((n ? n : 1) * sizeof *s);
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    return s;
}

/* The value at global rank k given the (sorted unique) ranks ks and their values. */
static double at(const uint64_t *ks, const double *vals, size_t m, uint64_t k)
{
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ks[mid] < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return vals[lo];
}

/* The ranks sg_model_quantiles reads for ng values (sorted, unique) into ks; returns count. */
static size_t quantile_ranks(uint64_t ng, uint64_t *ks)
{
    size_t m = 0;
    for (int i = 0; i < SG_MODEL_QUANTILES; i++) {
        double pos = (double)i / (SG_MODEL_QUANTILES - 1) * (double)(ng - 1);
        uint64_t lo = (uint64_t)pos;
        ks[m++] = lo;
        ks[m++] = lo + 1 < ng ? lo + 1 : ng - 1;
    }
    qsort(ks, m, sizeof *ks, cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (!u || ks[i] != ks[u - 1])
            ks[u++] = ks[i];
    return u;
}

static void fill_quantiles(const uint64_t *ks, const double *vals, size_t u, uint64_t ng, double *q)
{
    for (int i = 0; i < SG_MODEL_QUANTILES; i++) {
        double pos = (double)i / (SG_MODEL_QUANTILES - 1) * (double)(ng - 1);
        uint64_t lo = (uint64_t)pos;
        double fr = pos - (double)lo;
        double a = at(ks, vals, u, lo);
        q[i] = lo + 1 < ng ? a + fr * (at(ks, vals, u, lo + 1) - a) : at(ks, vals, u, ng - 1);
    }
}

/* sg_model_quantiles of both score columns over the distributed values: the same formula on
 * exact order statistics, one bisection for both. */
static void quantiles(const struct sg_mpi *c, const struct sg_batch_data *data, uint64_t ng,
                      struct sg_model *m, struct sg_mpi_comm_stats *cs)
{
    uint64_t *ks = sg_xmalloc(2 * SG_MODEL_QUANTILES * sizeof *ks);
    size_t u = quantile_ranks(ng, ks);
    uint64_t *k2 = sg_xmalloc(2 * u * sizeof *k2);
    int *set = sg_xmalloc(2 * u * sizeof *set);
    for (size_t i = 0; i < 2 * u; i++) {
        k2[i] = ks[i % u];
        set[i] = (int)(i / u);
    }
    const double *sorted[2] = {sorted_copy(data->iforest, data->n),
                               sorted_copy(data->kdist, data->n)};
    size_t n[2] = {data->n, data->n};
    double *vals = sg_xmalloc(2 * u * sizeof *vals);
    sg_mpi_order_stats(c, sorted, n, 2, k2, set, 2 * u, vals);
    cs->quantiles += 64 * (uint64_t)(2 * u) * 8;
    fill_quantiles(ks, vals, u, ng, m->q_iforest);
    fill_quantiles(ks, vals + u, u, ng, m->q_kmeans);
    free(ks);
    free(k2);
    free(set);
    free((void *)sorted[0]);
    free((void *)sorted[1]);
    free(vals);
}

static double threshold(const struct sg_mpi *c, const double *score, size_t n, uint64_t ng,
                        double contamination, struct sg_mpi_comm_stats *cs)
{
    uint64_t k = (uint64_t)llround(contamination * (double)ng);
    if (k > ng)
        k = ng;
    uint64_t rank = k == 0 ? ng - 1 : ng - k; /* k-th largest = (ng-k)-th smallest */
    const double *s = sorted_copy(score, n);
    double t;
    int set = 0;
    sg_mpi_order_stats(c, &s, &n, 1, &rank, &set, 1, &t);
    cs->quantiles += 64 * 8;
    free((void *)s);
    return k == 0 ? nextafter(t, INFINITY) : t;
}

void sg_mpi_fit(const struct sg_mpi *c, const uint64_t *gidx, uint64_t ng,
                struct sg_batch_data *data, const struct sg_batch_params *p, struct sg_model *m,
                struct sg_batch_timings *t, struct sg_mpi_comm_stats *cs)
{
    size_t n = data->n, d = data->d;
    double t0 = now_s();
    m->d = d;
    m->feature_hash = sg_features_hash();
    m->algorithm = p->algorithm;
    m->contamination = p->contamination;
    m->seed = p->seed;
    fit_scaler(c, data, ng, &m->scaler, cs);
    memcpy(data->z, data->raw, n * d * sizeof(double));
    sg_scaler_apply(&m->scaler, data->z, n);
    double t1 = now_s();
    m->forest = fit_forest(c, gidx, ng, data, p, cs);
    sg_iforest_score(m->forest, data->z, n, data->iforest, p->threads);
    double t2 = now_s();
    fit_kmeans(c, gidx, ng, data, p, &m->km, cs);
    double t3 = now_s();
    quantiles(c, data, ng, m, cs);
    for (size_t i = 0; i < n; i++)
        data->score[i] = sg_model_combine(m, data->iforest[i], data->kdist[i]);
    m->threshold = threshold(c, data->score, n, ng, p->contamination, cs);
    for (size_t i = 0; i < n; i++)
        data->anomalous[i] = data->score[i] >= m->threshold;
    if (t) {
        t->scale_s = t1 - t0;
        t->iforest_s = t2 - t1;
        t->kmeans_s = t3 - t2 + (now_s() - t3);
    }
}
