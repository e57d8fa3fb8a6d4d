/* sg_metrics: registry of metric families and their labelled cells, and the Prometheus text
 * encoder. Hand-written rather than a client library: Debian ships no C Prometheus client, and
 * the format is a few lines of text per metric. */
#include "core/sg_metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/sg_log.h"
#include "core/sg_mem.h"

enum ftype { F_COUNTER, F_GAUGE, F_HISTOGRAM };

struct cell {
    char *labels; /* rendered `k="v",k2="v2"` or "" */
    union {
        struct sg_counter *c;
        struct sg_gauge *g;
        struct sg_histogram *h;
    } u;
    double (*fn)(void *ctx); /* gauge computed on scrape, or NULL */
    void *ctx;
};

struct family {
    char *name, *help;
    enum ftype type;
    size_t ncells, cap;
    struct cell *cells;
};

struct sg_metrics {
    pthread_mutex_t lock;
    size_t nfam, cap;
    struct family *fams;
};

struct sg_metrics *sg_metrics_new(void)
{
    struct sg_metrics *m = sg_xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

static void cell_free(struct cell *c, enum ftype t)
{
    free(c->labels);
    if (t == F_COUNTER)
        free(c->u.c);
    else if (t == F_GAUGE)
        free(c->u.g);
    else if (c->u.h) {
        free((void *)c->u.h->bounds);
        free(c->u.h->buckets);
        free(c->u.h);
    }
}

void sg_metrics_free(struct sg_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nfam; i++) {
        struct family *f = &m->fams[i];
        for (size_t j = 0; j < f->ncells; j++)
            cell_free(&f->cells[j], f->type);
        free(f->cells);
        free(f->name);
        free(f->help);
    }
    free(m->fams);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static void misuse(const char *name, const char *what)
{
    sg_log_error("metrics: %s: %s", name, what);
    abort();
}

static int valid_name(const char *s, int allow_colon)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || (allow_colon && c == ':');
        if (!ok)
            return 0;
    }
    return 1;
}

/* Renders the label pairs with the exposition format's escapes (\\, \" and \n). */
static char *render_labels(const char *name, const char *const *kv)
{
    struct sg_buf b;
    sg_buf_init(&b);
    sg_buf_puts(&b, "");
    for (size_t i = 0; kv && kv[i]; i += 2) {
        if (!kv[i + 1])
            misuse(name, "label without a value");
        if (!valid_name(kv[i], 0) || !strcmp(kv[i], "le") || !strncmp(kv[i], "__", 2))
            misuse(name, "bad label name");
        if (i)
            sg_buf_putc(&b, ',');
        sg_buf_printf(&b, "%s=\"", kv[i]);
        for (const char *p = kv[i + 1]; *p; p++) {
            if (*p == '\\' || *p == '"')
                sg_buf_putc(&b, '\\');
            if (*p == '\n')
                sg_buf_puts(&b, "\\n");
            else
                sg_buf_putc(&b, *p);
        }
        sg_buf_putc(&b, '"');
    }
    return sg_buf_steal(&b);
}

/* Finds or creates the family and the cell; returns the cell and whether it is new.
 * Called with the lock held. */
static struct cell *get_cell(struct sg_metrics *m, const char *name, const char *help,
                             enum ftype t, const char *const *kv, int *is_new)
{
    if (!valid_name(name, 1))
        misuse(name, "bad metric name");
    size_t nl = strlen(name);
    if (t == F_COUNTER && (nl < 6 || strcmp(name + nl - 6, "_total") != 0))
        misuse(name, "a counter's name must end in _total");
    struct family *f = NULL;
    for (size_t i = 0; i < m->nfam; i++)
        if (!strcmp(m->fams[i].name, name))
            f = &m->fams[i];
    if (f && f->type != t)
        misuse(name, "registered twice with different types");
    if (!f) {
        m->fams = sg_xgrow(m->fams, &m->cap, m->nfam + 1, sizeof *m->fams);
        f = &m->fams[m->nfam++];
        memset(f, 0, sizeof *f);
        f->name = sg_xstrdup(name);
        f->help = sg_xstrdup(help ? help : "");
        f->type = t;
    }
    char *labels = render_labels(name, kv);
    for (size_t j = 0; j < f->ncells; j++) {
        if (!strcmp(f->cells[j].labels, labels)) {
            free(labels);
            *is_new = 0;
            return &f->cells[j];
        }
    }
    f->cells = sg_xgrow(f->cells, &f->cap, f->ncells + 1, sizeof *f->cells);
    struct cell *c = &f->cells[f->ncells++];
    memset(c, 0, sizeof *c);
    c->labels = labels;
    *is_new = 1;
    return c;
}

struct sg_counter *sg_metrics_counter(struct sg_metrics *m, const char *name, const char *help,
                                      const char *const *labels)
{
    int is_new;
    pthread_mutex_lock(&m->lock);
    struct cell *c = get_cell(m, name, help, F_COUNTER, labels, &is_new);
    if (is_new)
        c->u.c = sg_xcalloc(1, sizeof *c->u.c);
    struct sg_counter *r = c->u.c;
    pthread_mutex_unlock(&m->lock);
    return r;
}

struct sg_gauge *sg_metrics_gauge(struct sg_metrics *m, const char *name, const char *help,
                                  const char *const *labels)
{
    int is_new;
    pthread_mutex_lock(&m->lock);
    struct cell *c = get_cell(m, name, help, F_GAUGE, labels, &is_new);
    if (is_new)
        c->u.g = sg_xcalloc(1, sizeof *c->u.g);
    if (!c->u.g)
        misuse(name, "registered both as a function gauge and a plain gauge");
    struct sg_gauge *r = c->u.g;
    pthread_mutex_unlock(&m->lock);
    return r;
}

void sg_metrics_gauge_fn(struct sg_metrics *m, const char *name, const char *help,
                         const char *const *labels, double (*fn)(void *ctx), void *ctx)
{
    int is_new;
    pthread_mutex_lock(&m->lock);
    struct cell *c = get_cell(m, name, help, F_GAUGE, labels, &is_new);
    if (!is_new && !c->fn)
        misuse(name, "registered both as a function gauge and a plain gauge");
    c->fn = fn;
    c->ctx = ctx;
    pthread_mutex_unlock(&m->lock);
}

struct sg_histogram *sg_metrics_histogram(struct sg_metrics *m, const char *name,
                                          const char *help, const char *const *labels,
                                          const double *bounds, size_t nbounds)
{
    for (size_t i = 0; i < nbounds; i++)
        if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
            misuse(name, "histogram bounds must be finite and ascending");
    int is_new;
    pthread_mutex_lock(&m->lock);
    struct cell *c = get_cell(m, name, help, F_HISTOGRAM, labels, &is_new);
    if (is_new) {
        struct sg_histogram *h = sg_xcalloc(1, sizeof *h);
        double *b = sg_xmalloc(nbounds * sizeof *b + 1);
        memcpy(b, bounds, nbounds * sizeof *b);
        h->bounds = b;
        h->nbounds = nbounds;
        h->buckets = sg_xcalloc(nbounds + 1, sizeof *h->buckets);
        c->u.h = h;
    } else if (c->u.h->nbounds != nbounds ||
               memcmp(c->u.h->bounds, bounds, nbounds * sizeof *bounds) != 0) {
        misuse(name, "registered twice with different buckets");
    }
    struct sg_histogram *r = c->u.h;
    pthread_mutex_unlock(&m->lock);
    return r;
}

static void add_double(_Atomic uint64_t *bits, double delta)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed), nw;
    do {
        double v;
        memcpy(&v, &old, sizeof v);
        v += delta;
        memcpy(&nw, &v, sizeof nw);
    } while (!atomic_compare_exchange_weak_explicit(bits, &old, nw, memory_order_relaxed,
                                                    memory_order_relaxed));
}

void sg_gauge_add(struct sg_gauge *g, double delta)
{
    add_double(&g->bits, delta);
}

void sg_histogram_observe(struct sg_histogram *h, double v)
{
    /* Binary search for the first bound >= v (buckets are "less or equal"). */
    size_t lo = 0, hi = h->nbounds;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v <= h->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&h->buckets[lo], 1, memory_order_relaxed);
    add_double(&h->sum_bits, v);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

uint64_t sg_histogram_count(const struct sg_histogram *h)
{
    return atomic_load_explicit(&h->count, memory_order_relaxed);
}

double sg_histogram_quantile(const struct sg_histogram *h, double q)
{
    uint64_t total = 0;
    for (size_t i = 0; i <= h->nbounds; i++)
        total += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
    if (total == 0)
        return NAN;
    double rank = q * (double)total;
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->nbounds; i++) {
        uint64_t n = atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        if ((double)(cum + n) >= rank && n > 0) {
            if (i == h->nbounds) /* +Inf bucket: the highest finite bound, like PromQL */
                return h->nbounds ? h->bounds[h->nbounds - 1] : NAN;
            double lo = i ? h->bounds[i - 1] : 0.0;
            return lo + (h->bounds[i] - lo) * ((rank - (double)cum) / (double)n);
        }
        cum += n;
    }
    return h->nbounds ? h->bounds[h->nbounds - 1] : NAN;
}

static void put_value(struct sg_buf *out, double v)
{
    if (isnan(v))
        sg_buf_puts(out, "NaN");
    else if (isinf(v))
        sg_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else
        sg_buf_json_double(out, v);
}

static void put_help(struct sg_buf *out, const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            sg_buf_puts(out, "\\\\");
        else if (*p == '\n')
            sg_buf_puts(out, "\\n");
        else
            sg_buf_putc(out, *p);
    }
}

static void encode_histogram(struct sg_buf *out, const char *name, const struct cell *c)
{
    const struct sg_histogram *h = c->u.h;
    const char *sep = c->labels[0] ? "," : "";
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->nbounds; i++) {
        cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        sg_buf_printf(out, "%s_bucket{%s%sle=\"", name, c->labels, sep);
        if (i == h->nbounds)
            sg_buf_puts(out, "+Inf");
        else
            put_value(out, h->bounds[i]);
        sg_buf_printf(out, "\"} %llu\n", (unsigned long long)cum);
    }
    uint64_t sb = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
    double sum;
    memcpy(&sum, &sb, sizeof sum);
    const char *lo = c->labels[0] ? "{" : "", *lc = c->labels[0] ? "}" : "";
    sg_buf_printf(out, "%s_sum%s%s%s ", name, lo, c->labels, lc);
    put_value(out, sum);
    /* The count printed is the +Inf bucket's, so the two always agree on one scrape. */
    sg_buf_printf(out, "\n%s_count%s%s%s %llu\n", name, lo, c->labels, lc,
                  (unsigned long long)cum);
}

void sg_metrics_encode(struct sg_metrics *m, struct sg_buf *out)
{
    static const char *tnames[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nfam; i++) {
        const struct family *f = &m->fams[i];
        sg_buf_printf(out, "# HELP %s ", f->name);
        put_help(out, f->help);
        sg_buf_printf(out, "\n# TYPE %s %s\n", f->name, tnames[f->type]);
        for (size_t j = 0; j < f->ncells; j++) {
            const struct cell *c = &f->cells[j];
            if (f->type == F_HISTOGRAM) {
                encode_histogram(out, f->name, c);
                continue;
            }
            sg_buf_puts(out, f->name);
            if (c->labels[0])
                sg_buf_printf(out, "{%s}", c->labels);
            sg_buf_putc(out, ' ');
            if (f->type == F_COUNTER)
                sg_buf_printf(out, "%llu", (unsigned long long)sg_counter_get(c->u.c));
            else
                put_value(out, c->fn ? c->fn(c->ctx) : sg_gauge_get(c->u.g));
            sg_buf_putc(out, '\n');
        }
    }
    pthread_mutex_unlock(&m->lock);
}
