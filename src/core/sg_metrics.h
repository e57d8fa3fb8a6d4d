/* sg_metrics: the Prometheus metrics registry shared by every long-running command.
 * Metrics are registered once (under a mutex), updated on hot paths with relaxed C11 atomics
 * (no lock, no allocation) and encoded in the Prometheus text format on scrape. It is not an
 * HTTP server (see sg_metrics_http.h) and not a time-series store.
 * Names follow streamguard_<subsystem>_<name>_<unit>; counters end in _total. */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/sg_buf.h"

struct sg_metrics;

/* The metric cells are public so that updates inline to one atomic instruction; never write
 * their fields directly, use the functions below. */
struct sg_counter {
    _Atomic uint64_t v;
};

struct sg_gauge {
    _Atomic uint64_t bits; /* a double's bit pattern */
};

struct sg_histogram {
    size_t nbounds;
    const double *bounds;      /* ascending upper bounds (owned by the registry) */
    _Atomic uint64_t *buckets; /* nbounds + 1 counts, the last one is +Inf; not cumulative */
    _Atomic uint64_t sum_bits; /* a double's bit pattern */
    _Atomic uint64_t count;
};

/* Returns a new, empty registry. Ownership: free with sg_metrics_free, after every user of
 * its metrics (and the HTTP endpoint) is gone. */
struct sg_metrics *sg_metrics_new(void);
void sg_metrics_free(struct sg_metrics *m);

/* Registration. `labels` is NULL or a NULL-terminated list of key, value pairs, e.g.
 * (const char *[]){"reason", "missing_field", NULL}. Registering the same name and labels
 * again returns the same cell (so lazy registration, e.g. per partition, is fine). Help and
 * type are taken from the first registration of a name.
 * Misuse (a bad metric or label name, a counter without _total, one name with two types or
 * two bucket layouts) is a programming error: it logs and aborts.
 * Returns a cell that lives as long as the registry. Thread-safety: safe to call
 * concurrently with updates and scrapes. */
struct sg_counter *sg_metrics_counter(struct sg_metrics *m, const char *name, const char *help,
                                      const char *const *labels);
struct sg_gauge *sg_metrics_gauge(struct sg_metrics *m, const char *name, const char *help,
                                  const char *const *labels);
/* `bounds` (nbounds ascending finite values) is copied. */
struct sg_histogram *sg_metrics_histogram(struct sg_metrics *m, const char *name,
                                          const char *help, const char *const *labels,
                                          const double *bounds, size_t nbounds);
/* A gauge computed on scrape by `fn(ctx)` (e.g. the database size); `fn` runs on the
 * scraping thread, under the registry lock, so it must not register metrics. */
void sg_metrics_gauge_fn(struct sg_metrics *m, const char *name, const char *help,
                         const char *const *labels, double (*fn)(void *ctx), void *ctx);

/* Appends every metric in the Prometheus text exposition format 0.0.4 to `out`, families
 * in registration order. Thread-safety: safe concurrently with updates (each value is read
 * atomically; a histogram may be a few observations behind its count under concurrent load). */
void sg_metrics_encode(struct sg_metrics *m, struct sg_buf *out);

/* Hot-path updates: relaxed atomics, lock-free, safe from any thread. */
static inline void sg_counter_add(struct sg_counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}
static inline void sg_counter_inc(struct sg_counter *c)
{
    sg_counter_add(c, 1);
}
static inline uint64_t sg_counter_get(const struct sg_counter *c)
{
    return atomic_load_explicit(&c->v, memory_order_relaxed);
}
static inline void sg_gauge_set(struct sg_gauge *g, double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    atomic_store_explicit(&g->bits, b, memory_order_relaxed);
}
static inline double sg_gauge_get(const struct sg_gauge *g)
{
    uint64_t b = atomic_load_explicit(&g->bits, memory_order_relaxed);
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}
void sg_gauge_add(struct sg_gauge *g, double delta);
void sg_histogram_observe(struct sg_histogram *h, double v);

/* Reads a histogram's total count and the value below which a fraction q (0..1) of the
 * observations fall, interpolated linearly inside the bucket (as PromQL's
 * histogram_quantile does). Returns NAN when empty. For tests and benchmark reports. */
uint64_t sg_histogram_count(const struct sg_histogram *h);
double sg_histogram_quantile(const struct sg_histogram *h, double q);

#endif
