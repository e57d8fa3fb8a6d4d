/* sg_iforest: Isolation Forest fit and score (see sg_iforest.h). Trees are flat node arrays
 * (pre-order, left child = next node) so scoring walks contiguous memory. Fitting builds each
 * tree on a private copy of its subsample; scoring goes row by row over all trees so a row
 * stays in cache. Hand-written: no C library implements Isolation Forest. */
#include "batch/sg_iforest.h"

#include <cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_mem.h"
#include "core/sg_rng.h"

#define EULER_GAMMA 0.57721566490153286061

struct itree {
    struct sg_itree_node *nodes;
    size_t n, cap;
    /* The same tree as a perfect binary tree of `levels` levels in breadth-first order (for
     * scoring without branches): internal j has children 2j+1 (x < split) and 2j+2; a leaf
     * above the last level becomes pass-through nodes (split +inf: always left) down to the
     * bottom, whose entry holds the leaf's depth + c(size). NULL when levels > DENSE_MAX. */
    int32_t *dfeat;
    double *dsplit, *dleaf;
};

#define DENSE_MAX 12

struct sg_iforest;
static int build_dense(struct sg_iforest *f);

struct sg_iforest {
    size_t d;
    int trees, psi; /* psi: effective */
    int levels;     /* height limit ceil(log2 psi) */
    uint64_t seed;
    double c_psi;
    struct itree *t;
};

static double harmonic(double k)
{
    if (k <= 0)
        return 0;
    if (k <= 100000) {
        double h = 0;
        long n = (long)k;
        for (long i = n; i >= 1; i--) /* small terms first */
            h += 1.0 / (double)i;
        return h;
    }
    return log(k) + EULER_GAMMA + 1.0 / (2 * k) - 1.0 / (12 * k * k);
}

double sg_iforest_c(double n)
{
    if (n <= 1)
        return 0;
    return 2.0 * harmonic(n - 1) - 2.0 * (n - 1) / n;
}

/* ---- fitting ---- */

struct builder {
    const double *X; /* the subsample, psi x d, row-major */
    size_t d;
    int limit;
    struct sg_rng rng;
    size_t *rows;   /* row indices into X, permuted in place while partitioning */
    int32_t *feats; /* scratch: feature order for the without-replacement draw */
    struct itree *out;
};

static int32_t push(struct itree *t)
{
    t->nodes = sg_xgrow(t->nodes, &t->cap, t->n + 1, sizeof *t->nodes);
    return (int32_t)t->n++;
}

/* Picks a random non-constant feature of rows[0..m) (drawing features without replacement,
 * as scikit-learn does); returns -1 when every feature is constant. */
static int32_t pick_feature(struct builder *b, const size_t *rows, size_t m, double *lo, double *hi)
{
    for (size_t j = 0; j < b->d; j++)
        b->feats[j] = (int32_t)j;
    for (size_t left = b->d; left > 0; left--) {
        size_t r = (size_t)sg_rng_below(&b->rng, left);
        int32_t q = b->feats[r];
        b->feats[r] = b->feats[left - 1];
        double mn = b->X[rows[0] * b->d + q], mx = mn;
        for (size_t i = 1; i < m; i++) {
            double v = b->X[rows[i] * b->d + q];
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        if (mx > mn) {
            *lo = mn;
            *hi = mx;
            return q;
        }
    }
    return -1;
}

static void grow(struct builder *b, size_t *rows, size_t m, int depth)
{
    int32_t me = push(b->out);
    double lo = 0, hi = 0;
    int32_t q = -1;
    if (depth < b->limit && m > 1)
        q = pick_feature(b, rows, m, &lo, &hi);
    if (q < 0) {
        b->out->nodes[me].feat = -1;
        b->out->nodes[me].right = 0;
        b->out->nodes[me].split = sg_iforest_c((double)m);
        return;
    }
    double split = lo + sg_rng_double(&b->rng) * (hi - lo);
    if (split <= lo) /* keep both sides non-empty */
        split = nextafter(lo, hi);
    size_t l = 0;
    for (size_t i = 0; i < m; i++)
        if (b->X[rows[i] * b->d + q] < split) {
            size_t t = rows[l];
            rows[l++] = rows[i];
            rows[i] = t;
        }
    b->out->nodes[me].feat = q;
    b->out->nodes[me].split = split;
    grow(b, rows, l, depth + 1);
    b->out->nodes[me].right = (int32_t)b->out->n;
    grow(b, rows + l, m - l, depth + 1);
}

/* Robert Floyd's sampling of k distinct indices of [0, n) into out (order: as drawn). */
static void sample(struct sg_rng *r, size_t n, size_t k, size_t *out, size_t *slots, size_t nslots)
{
    for (size_t i = 0; i < nslots; i++)
        slots[i] = SIZE_MAX;
    size_t m = 0;
    for (size_t j = n - k; j < n; j++) {
        size_t t = (size_t)sg_rng_below(r, j + 1), pick = t;
        size_t h = (t * 0x9E3779B97F4A7C15ull) & (nslots - 1);
        int found = 0;
        while (slots[h] != SIZE_MAX) {
            if (slots[h] == t) {
                found = 1;
                break;
            }
            h = (h + 1) & (nslots - 1);
        }
        if (found) {
            pick = j; /* j was never drawn before: it is larger than all earlier draws' range */
            h = (j * 0x9E3779B97F4A7C15ull) & (nslots - 1);
            while (slots[h] != SIZE_MAX)
                h = (h + 1) & (nslots - 1);
        }
        slots[h] = pick;
        out[m++] = pick;
    }
}


struct fit_job {
    struct sg_iforest *f;
    const struct rows_src *X;
    size_t n;
    int first, step;
};

/* Row i of the training matrix: a dense matrix here, a distributed one under MPI. */
struct rows_src {
    const double *(*row)(const void *ctx, size_t i);
    const void *ctx;
};

static void fit_tree(struct sg_iforest *f, const struct rows_src *X, size_t n, int ti,
                     double *sub, size_t *rows, size_t *slots, size_t nslots, int32_t *feats)
{
    size_t psi = (size_t)f->psi, d = f->d;
    struct builder b = {.X = sub, .d = d, .rows = rows, .feats = feats, .out = &f->t[ti]};
    sg_rng_seed2(&b.rng, f->seed, (uint64_t)ti);
    b.limit = (int)ceil(log2((double)psi));
    sample(&b.rng, n, psi, rows, slots, nslots);
    for (size_t i = 0; i < psi; i++) {
        memcpy(sub + i * d, X->row(X->ctx, rows[i]), d * sizeof *sub);
        rows[i] = i;
    }
    grow(&b, rows, psi, 0);
}

static size_t slots_for(size_t psi)
{
    size_t nslots = 4;
    while (nslots < 2 * psi)
        nslots <<= 1;
    return nslots;
}

static void *fit_worker(void *arg)
{
    struct fit_job *j = arg;
    struct sg_iforest *f = j->f;
    size_t psi = (size_t)f->psi, nslots = slots_for(psi);
    double *sub = sg_xmalloc(psi * f->d * sizeof *sub);
    size_t *rows = sg_xmalloc(psi * sizeof *rows);
    size_t *slots = sg_xmalloc(nslots * sizeof *slots);
    int32_t *feats = sg_xmalloc((f->d ? f->d : 1) * sizeof *feats);
    for (int t = j->first; t < f->trees; t += j->step)
        fit_tree(f, j->X, j->n, t, sub, rows, slots, nslots, feats);
    free(sub);
    free(rows);
    free(slots);
    free(feats);
    return NULL;
}

static int clamp_threads(int threads, long work)
{
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    if (work < threads)
        threads = work > 0 ? (int)work : 1;
    return threads;
}

static struct sg_iforest *alloc_forest(size_t d, int trees, int psi, uint64_t seed)
{
    struct sg_iforest *f = sg_xcalloc(1, sizeof *f);
    f->d = d;
    f->trees = trees;
    f->psi = psi;
    f->seed = seed;
    f->c_psi = sg_iforest_c(psi);
    f->levels = psi > 1 ? (int)ceil(log2((double)psi)) : 0;
    f->t = sg_xcalloc((size_t)trees, sizeof *f->t);
    return f;
}

struct dense {
    const double *X;
    size_t d;
};

static const double *dense_row(const void *ctx, size_t i)
{
    const struct dense *m = ctx;
    return m->X + i * m->d;
}

struct sg_iforest *sg_iforest_fit(const double *X, size_t n, size_t d,
                                  const struct sg_iforest_params *p)
{
    int trees = p->trees > 0 ? p->trees : 100;
    size_t psi = p->psi > 1 ? (size_t)p->psi : 256;
    if (psi > n)
        psi = n;
    struct sg_iforest *f = alloc_forest(d, trees, (int)psi, p->seed);
    struct dense dm = {X, d};
    struct rows_src src = {dense_row, &dm};
    int nt = clamp_threads(p->threads, trees);
    pthread_t tid[64];
    struct fit_job jobs[64];
    int started[64] = {0};
    for (int i = 0; i < nt; i++)
        jobs[i] = (struct fit_job){.f = f, .X = &src, .n = n, .first = i, .step = nt};
    for (int i = 1; i < nt; i++)
        started[i] = pthread_create(&tid[i], NULL, fit_worker, &jobs[i]) == 0;
    fit_worker(&jobs[0]);
    for (int i = 1; i < nt; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            fit_worker(&jobs[i]); /* no thread: do its share here */
    }
    build_dense(f); /* cannot fail: fitted trees respect the height limit */
    return f;
}

/* ---- distributed fitting (hooks for src/mpi; the single-process path above uses the
 * same fit_tree, so a tree is identical whoever grows it) ---- */

static void drop_dense(struct itree *t)
{
    free(t->dfeat);
    free(t->dsplit);
    free(t->dleaf);
    t->dfeat = NULL;
    t->dsplit = t->dleaf = NULL;
}

struct sg_iforest *sg_iforest_alloc(size_t d, int trees, int psi, uint64_t seed)
{
    return alloc_forest(d, trees, psi, seed);
}

void sg_iforest_tree_sample(const struct sg_iforest *f, int ti, size_t n, size_t *idx)
{
    size_t psi = (size_t)f->psi, nslots = slots_for(psi);
    size_t *slots = sg_xmalloc(nslots * sizeof *slots);
    struct sg_rng r;
    sg_rng_seed2(&r, f->seed, (uint64_t)ti);
    sample(&r, n, psi, idx, slots, nslots);
    free(slots);
}

void sg_iforest_fit_tree(struct sg_iforest *f, int ti, size_t n,
                         const double *(*row)(const void *ctx, size_t i), const void *ctx)
{
    size_t psi = (size_t)f->psi, nslots = slots_for(psi);
    struct rows_src src = {row, ctx};
    double *sub = sg_xmalloc(psi * (f->d ? f->d : 1) * sizeof *sub);
    size_t *rows = sg_xmalloc(psi * sizeof *rows);
    size_t *slots = sg_xmalloc(nslots * sizeof *slots);
    int32_t *feats = sg_xmalloc((f->d ? f->d : 1) * sizeof *feats);
    drop_dense(&f->t[ti]);
    free(f->t[ti].nodes);
    f->t[ti] = (struct itree){0};
    fit_tree(f, &src, n, ti, sub, rows, slots, nslots, feats);
    free(sub);
    free(rows);
    free(slots);
    free(feats);
}

const struct sg_itree_node *sg_iforest_tree_nodes(const struct sg_iforest *f, int ti, size_t *n)
{
    *n = f->t[ti].n;
    return f->t[ti].nodes;
}

void sg_iforest_finish(struct sg_iforest *f)
{
    for (int i = 0; i < f->trees; i++)
        drop_dense(&f->t[i]);
    if (build_dense(f) != 0) /* not for fitted trees; stay on the node walk if it happens */
        for (int i = 0; i < f->trees; i++)
            drop_dense(&f->t[i]);
}

void sg_iforest_tree_set(struct sg_iforest *f, int ti, const struct sg_itree_node *nodes,
                         size_t n)
{
    drop_dense(&f->t[ti]);
    free(f->t[ti].nodes);
    f->t[ti].nodes = sg_xmalloc((n ? n : 1) * sizeof *nodes);
    memcpy(f->t[ti].nodes, nodes, n * sizeof *nodes);
    f->t[ti].n = f->t[ti].cap = n;
}

void sg_iforest_free(struct sg_iforest *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->trees; i++) {
        free(f->t[i].nodes);
        free(f->t[i].dfeat);
        free(f->t[i].dsplit);
        free(f->t[i].dleaf);
    }
    free(f->t);
    free(f);
}

/* ---- dense layout ---- */

static void fill_pass(struct itree *t, int levels, size_t j, int level, double v)
{
    if (level == levels) {
        t->dleaf[j - (((size_t)1 << levels) - 1)] = v;
        return;
    }
    t->dfeat[j] = 0;
    t->dsplit[j] = INFINITY;
    fill_pass(t, levels, 2 * j + 1, level + 1, v);
    fill_pass(t, levels, 2 * j + 2, level + 1, v);
}

/* Returns -1 if the tree is deeper than `levels` (a corrupt model file). */
static int fill_dense(struct itree *t, int levels, int32_t src, size_t j, int level)
{
    const struct sg_itree_node *nd = &t->nodes[src];
    if (nd->feat < 0) {
        fill_pass(t, levels, j, level, level + nd->split);
        return 0;
    }
    if (level == levels)
        return -1;
    t->dfeat[j] = nd->feat;
    t->dsplit[j] = nd->split;
    if (fill_dense(t, levels, src + 1, 2 * j + 1, level + 1))
        return -1;
    return fill_dense(t, levels, nd->right, 2 * j + 2, level + 1);
}

static int build_dense(struct sg_iforest *f)
{
    if (f->levels > DENSE_MAX)
        return 0;
    size_t inner = ((size_t)1 << f->levels) - 1, leaves = (size_t)1 << f->levels;
    for (int i = 0; i < f->trees; i++) {
        struct itree *t = &f->t[i];
        t->dfeat = sg_xmalloc((inner ? inner : 1) * sizeof *t->dfeat);
        t->dsplit = sg_xmalloc((inner ? inner : 1) * sizeof *t->dsplit);
        t->dleaf = sg_xmalloc(leaves * sizeof *t->dleaf);
        if (fill_dense(t, f->levels, 0, 0, 0))
            return -1;
    }
    return 0;
}

/* ---- scoring ---- */

double sg_iforest_path_length(const struct sg_iforest *f, const double *x)
{
    double sum = 0;
    for (int t = 0; t < f->trees; t++) {
        const struct sg_itree_node *nd = f->t[t].nodes;
        int32_t i = 0, depth = 0;
        while (nd[i].feat >= 0) {
            i = x[nd[i].feat] < nd[i].split ? i + 1 : nd[i].right;
            depth++;
        }
        sum += depth + nd[i].split;
    }
    return sum / f->trees;
}

double sg_iforest_score_one(const struct sg_iforest *f, const double *x)
{
    if (f->c_psi <= 0)
        return 0.5;
    return exp2(-sg_iforest_path_length(f, x) / f->c_psi);
}

struct score_job {
    const struct sg_iforest *f;
    const double *X;
    double *out;
    size_t lo, hi;
};

/* Scores rows [lo, hi) in blocks of BLOCK rows walked through each tree in lockstep: the
 * per-level loads of independent rows overlap in the CPU (a single path is a chain of
 * dependent loads), and a block's rows stay in L1 across all trees. Sums are accumulated in
 * tree order, so the result is bit-identical to sg_iforest_score_one(). */
#define BLOCK 16
static void score_block(const struct sg_iforest *f, const double *X, size_t m, double *out)
{
    double sum[BLOCK] = {0};
    const size_t d = f->d;
    for (int t = 0; t < f->trees; t++) {
        const struct itree *tr = &f->t[t];
        if (tr->dfeat) { /* branch-free: exactly `levels` steps per row */
            size_t j[BLOCK] = {0};
            for (int l = 0; l < f->levels; l++)
                for (size_t r = 0; r < m; r++)
                    j[r] = 2 * j[r] + 1 + !(X[r * d + (size_t)tr->dfeat[j[r]]] < tr->dsplit[j[r]]);
            size_t base = ((size_t)1 << f->levels) - 1;
            for (size_t r = 0; r < m; r++)
                sum[r] += tr->dleaf[j[r] - base];
            continue;
        }
        const struct sg_itree_node *nd = tr->nodes;
        int32_t idx[BLOCK] = {0}, depth[BLOCK] = {0};
        int active = 1;
        while (active) {
            active = 0;
            for (size_t r = 0; r < m; r++) {
                const struct sg_itree_node *x = &nd[idx[r]];
                if (x->feat < 0)
                    continue;
                active = 1;
                idx[r] = X[r * d + (size_t)x->feat] < x->split ? idx[r] + 1 : x->right;
                depth[r]++;
            }
        }
        for (size_t r = 0; r < m; r++)
            sum[r] += depth[r] + nd[idx[r]].split;
    }
    for (size_t r = 0; r < m; r++)
        out[r] = f->c_psi <= 0 ? 0.5 : exp2(-(sum[r] / f->trees) / f->c_psi);
}

static void *score_worker(void *arg)
{
    struct score_job *j = arg;
    for (size_t i = j->lo; i < j->hi; i += BLOCK) {
        size_t m = j->hi - i < BLOCK ? j->hi - i : BLOCK;
        score_block(j->f, j->X + i * j->f->d, m, j->out + i);
    }
    return NULL;
}

void sg_iforest_score(const struct sg_iforest *f, const double *X, size_t n, double *out,
                      int threads)
{
    int nt = clamp_threads(threads, (long)(n / 256 + 1));
    pthread_t tid[64];
    struct score_job jobs[64];
    int started[64] = {0};
    for (int i = 0; i < nt; i++)
        jobs[i] = (struct score_job){f, X, out, n * (size_t)i / (size_t)nt,
                                     n * (size_t)(i + 1) / (size_t)nt};
    for (int i = 1; i < nt; i++)
        started[i] = pthread_create(&tid[i], NULL, score_worker, &jobs[i]) == 0;
    score_worker(&jobs[0]);
    for (int i = 1; i < nt; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            score_worker(&jobs[i]);
    }
}

size_t sg_iforest_dims(const struct sg_iforest *f)
{
    return f->d;
}

int sg_iforest_trees(const struct sg_iforest *f)
{
    return f->trees;
}

int sg_iforest_psi(const struct sg_iforest *f)
{
    return f->psi;
}

/* ---- serialisation ---- */

void sg_iforest_write_json(const struct sg_iforest *f, struct sg_buf *out)
{
    sg_buf_printf(out, "{\"dims\":%zu,\"trees\":%d,\"psi\":%d,\"seed\":\"%llu\",\"nodes\":[", f->d,
                  f->trees, f->psi, (unsigned long long)f->seed);
    for (int t = 0; t < f->trees; t++) {
        sg_buf_puts(out, t ? ",[" : "[");
        for (size_t i = 0; i < f->t[t].n; i++) {
            const struct sg_itree_node *nd = &f->t[t].nodes[i];
            sg_buf_printf(out, "%s[%d,%d,", i ? "," : "", nd->feat, nd->right);
            sg_buf_json_double(out, nd->split);
            sg_buf_putc(out, ']');
        }
        sg_buf_putc(out, ']');
    }
    sg_buf_puts(out, "]}");
}

static int read_tree(const cJSON *arr, struct itree *t, size_t d, char *errbuf, size_t errlen)
{
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n < 1) {
        snprintf(errbuf, errlen, "iforest: a tree is not a non-empty array");
        return -1;
    }
    t->nodes = sg_xcalloc((size_t)n, sizeof *t->nodes);
    t->n = t->cap = (size_t)n;
    int i = 0;
    for (const cJSON *nd = arr->child; nd; nd = nd->next, i++) {
        const cJSON *a = cJSON_GetArrayItem(nd, 0), *b = cJSON_GetArrayItem(nd, 1),
                    *c = cJSON_GetArrayItem(nd, 2);
        if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || !cJSON_IsNumber(c)) {
            snprintf(errbuf, errlen, "iforest: node %d is not [feat,right,split]", i);
            return -1;
        }
        struct sg_itree_node *x = &t->nodes[i];
        /* range-check before converting: a double outside int32 is undefined behaviour */
        if (!(a->valuedouble >= -2147483648.0 && a->valuedouble < 2147483648.0) ||
            !(b->valuedouble >= -2147483648.0 && b->valuedouble < 2147483648.0)) {
            snprintf(errbuf, errlen, "iforest: node %d is out of range", i);
            return -1;
        }
        x->feat = (int32_t)a->valuedouble;
        x->right = (int32_t)b->valuedouble;
        x->split = c->valuedouble;
        /* structural checks so a corrupt file cannot make scoring read out of bounds */
        if (x->feat >= (int32_t)d || (x->feat >= 0 && (x->right <= i + 1 || x->right >= n)) ||
            (x->feat >= 0 && i + 1 >= n)) {
            snprintf(errbuf, errlen, "iforest: node %d is out of range", i);
            return -1;
        }
    }
    return 0;
}

struct sg_iforest *sg_iforest_from_json(const void *cjson, char *errbuf, size_t errlen)
{
    const cJSON *o = cjson;
    const cJSON *dims = cJSON_GetObjectItemCaseSensitive(o, "dims"),
                *trees = cJSON_GetObjectItemCaseSensitive(o, "trees"),
                *psi = cJSON_GetObjectItemCaseSensitive(o, "psi"),
                *seed = cJSON_GetObjectItemCaseSensitive(o, "seed"),
                *nodes = cJSON_GetObjectItemCaseSensitive(o, "nodes");
    if (!cJSON_IsNumber(dims) || !cJSON_IsNumber(trees) || !cJSON_IsNumber(psi) ||
        !cJSON_IsArray(nodes) || !(trees->valuedouble >= 1 && trees->valuedouble <= 1e6) ||
        cJSON_GetArraySize(nodes) != (int)trees->valuedouble ||
        !(psi->valuedouble >= 1 && psi->valuedouble <= 1e9) ||
        !(dims->valuedouble >= 0 && dims->valuedouble <= 1e6)) { /* casts below stay defined */
        snprintf(errbuf, errlen, "iforest: missing or inconsistent dims/trees/psi/nodes");
        return NULL;
    }
    struct sg_iforest *f =
        alloc_forest((size_t)dims->valuedouble, (int)trees->valuedouble, (int)psi->valuedouble,
                     cJSON_IsString(seed) ? strtoull(seed->valuestring, NULL, 10) : 0);
    int t = 0;
    for (const cJSON *tr = nodes->child; tr; tr = tr->next, t++)
        if (read_tree(tr, &f->t[t], f->d, errbuf, errlen) != 0) {
            sg_iforest_free(f);
            return NULL;
        }
    if (build_dense(f) != 0) {
        snprintf(errbuf, errlen, "iforest: a tree is deeper than ceil(log2 psi)");
        sg_iforest_free(f);
        return NULL;
    }
    return f;
}
