/* sg_serve: the serving layer's lifecycle (store follower, refresh thread, HTTP server), its
 * route table, and the endpoints that are not API resources: /health, /metrics, the dashboard.
 * Shared helpers of the sg_api_*.c files (store access, pagination, scan accounting) live here
 * too. The resources themselves are in sg_api_<resource>.c. */
#include "serving/sg_serve.h"

#include <errno.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/sg_err.h"
#include "core/sg_hash.h"
#include "core/sg_log.h"
#include "core/sg_time.h"
#include "serving/sg_api.h"
#include "serving/sg_assets.h"

/* ---- shared helpers -------------------------------------------------------------------- */

struct sg_store *sg_api_store(struct sg_serve *s, struct sg_http_resp *r)
{
    struct sg_store *st = atomic_load(&s->store);
    if (!st)
        sg_http_resp_error(r, 503, "store_unavailable", NULL,
                           "the speed layer's store at '%s' is not available yet", s->db_dir);
    return st;
}

void sg_api_scan_begin(struct sg_api_scan *sc)
{
    memset(sc, 0, sizeof *sc);
    rocksdb_set_perf_level(rocksdb_enable_count); /* thread-local; counting only, no timers */
    sc->perf = rocksdb_perfcontext_create();
    rocksdb_perfcontext_reset(sc->perf);
}

void sg_api_scan_end(struct sg_serve *s, struct sg_api_scan *sc, struct sg_http_resp *r)
{
    if (sc->perf) {
        /* Key comparisons grow with every key an iterator steps over, in memtables and SST
         * files alike (RocksDB 7.8's C API exposes no per-iterator next count). */
        sc->compares = rocksdb_perfcontext_metric(sc->perf, rocksdb_user_key_comparison_count);
        rocksdb_perfcontext_destroy(sc->perf);
        sc->perf = NULL;
    }
    sg_counter_add(s->store_seeks, sc->seeks);
    sg_counter_add(s->store_rows, sc->rows);
    sg_counter_add(s->store_compares, sc->compares);
    snprintf(r->scan, sizeof r->scan, "seeks=%llu rows=%llu key_compares=%llu",
             (unsigned long long)sc->seeks, (unsigned long long)sc->rows,
             (unsigned long long)sc->compares);
}

void sg_api_put_key(struct sg_buf *b, const char *key)
{
    sg_buf_putc(b, '"');
    sg_buf_puts(b, key);
    sg_buf_puts(b, "\":");
}

static int unhex(const char *s, size_t n, unsigned char *out, size_t cap, size_t *len)
{
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n; i += 2) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[i + (size_t)k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0)
                return -1;
            v = v * 16 + d;
        }
        out[i / 2] = (unsigned char)v;
    }
    *len = n / 2;
    return 0;
}

int sg_api_page_params(const struct sg_http_req *req, struct sg_http_resp *r, uint8_t kind,
                       uint32_t bind, size_t *limit, struct sg_buf *store_cursor)
{
    struct sg_http_perr e;
    int64_t lim = 100;
    const struct sg_http_param *p = sg_http_url_param(&req->url, "limit");
    sg_buf_reset(store_cursor);
    if (p && sg_http_parse_int("limit", &p->val, 1, 1000, &lim, &e) != SG_OK)
        goto bad;
    *limit = (size_t)lim;
    p = sg_http_url_param(&req->url, "cursor");
    if (p) {
        unsigned char key[SG_HTTP_MAX_CURSOR_KEY];
        size_t kl;
        if (sg_http_cursor_decode(&p->val, kind, bind, key, &kl, &e) != SG_OK)
            goto bad;
        static const char hexd[] = "0123456789abcdef";
        for (size_t i = 0; i < kl; i++) {
            sg_buf_putc(store_cursor, hexd[key[i] >> 4]);
            sg_buf_putc(store_cursor, hexd[key[i] & 15]);
        }
    }
    return SG_OK;
bad:
    sg_http_resp_perr(r, &e);
    return SG_ERR_INVALID;
}

void sg_api_put_next_cursor(struct sg_buf *out, uint8_t kind, uint32_t bind,
                            const struct sg_buf *store_next)
{
    unsigned char key[SG_HTTP_MAX_CURSOR_KEY];
    size_t kl;
    char txt[2 * SG_HTTP_MAX_CURSOR_KEY + 32];
    sg_buf_puts(out, ",\"next_cursor\":");
    if (store_next->len == 0 ||
        unhex(store_next->data, store_next->len, key, sizeof key, &kl) != 0 ||
        sg_http_cursor_encode(kind, bind, key, kl, txt, sizeof txt) == 0) {
        sg_buf_puts(out, "null");
        return;
    }
    sg_buf_printf(out, "\"%s\"", txt);
}

/* ---- /health, /metrics, dashboard ------------------------------------------------------ */

static void on_health(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx)
{
    (void)q;
    struct sg_serve *s = ctx;
    struct sg_store *st = atomic_load(&s->store);
    struct sg_batch_view *v = sg_api_batch_acquire(s);
    int ok = st != NULL;
    r->status = ok ? 200 : 503;
    sg_buf_printf(&r->body, "{\"status\":\"%s\",\"store\":\"%s\",\"batch\":\"%s\"",
                  ok ? "ok" : "degraded", st ? "open" : "unavailable", v ? "loaded" : "none");
    if (st)
        sg_buf_printf(&r->body, ",\"watermark_ms\":%lld", (long long)sg_store_watermark(st));
    sg_buf_printf(&r->body, ",\"uptime_s\":%lld}\n",
                  (long long)((sg_time_mono_ms() - s->started_ms) / 1000));
    sg_api_batch_release(v);
}

static void on_metrics(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx)
{
    (void)q;
    struct sg_serve *s = ctx;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    sg_metrics_encode(s->metrics, &r->body);
}

static void send_asset(struct sg_http_resp *r, const char *name, size_t n)
{
    const struct sg_asset *a = sg_assets_find(name, n);
    if (!a) {
        sg_http_resp_error(r, 404, "not_found", NULL, "no such asset");
        return;
    }
    r->content_type = sg_assets_content_type(a->name);
    r->cache_control = "no-cache";
    r->static_body = a->data;
    r->static_len = a->len;
}

static void on_index(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx)
{
    (void)q;
    (void)ctx;
    send_asset(r, "index.html", 10);
}

static void on_asset(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx)
{
    (void)ctx;
    send_asset(r, q->id->p, q->id->len);
}

/* The dashboard's static files are public: they hold no data, and a browser cannot attach a
 * bearer token to a page load. Every data endpoint (/api, /metrics) requires the token. */
static const struct sg_http_route routes[] = {
    {"/", on_index, 1},
    {"/assets/*", on_asset, 1},
    {"/health", on_health, 1},
    {"/metrics", on_metrics, 0},
    {"/api/events", sg_api_events_list, 0},
    {"/api/events/*", sg_api_events_get, 0},
    {"/api/users/*", sg_api_users_get, 0},
    {"/api/users/*/events", sg_api_events_of_user, 0},
    {"/api/users/*/anomalies", sg_api_anomalies_of_user, 0},
    {"/api/anomalies", sg_api_anomalies_list, 0},
    {"/api/stats", sg_api_stats_get, 0},
    {"/api/batch/report", sg_api_batch_report, 0},
    {"/api/batch/users", sg_api_batch_users, 0},
};

#define NROUTES (sizeof routes / sizeof routes[0])
_Static_assert(NROUTES <= SG_API_ROUTES, "raise SG_API_ROUTES");
static const int codes[SG_API_CODES] = {200, 400, 401, 404, 405, 414, 431, 500, 503, 0};

/* Counts a request in streamguard_serve_requests_total{route,code}. The cells are registered
 * on first use and cached per (route, code), so the hot path takes no registry lock. */
static void observe(void *ctx, const char *route, int status, int64_t ns)
{
    struct sg_serve *s = ctx;
    size_t ri = NROUTES, ci = SG_API_CODES - 1;
    for (size_t i = 0; i < NROUTES; i++)
        if (routes[i].pattern == route)
            ri = i;
    for (size_t i = 0; i + 1 < SG_API_CODES; i++)
        if (codes[i] == status)
            ci = i;
    struct sg_counter *c = atomic_load_explicit(&s->req_cells[ri][ci], memory_order_acquire);
    if (!c) {
        char code[8];
        snprintf(code, sizeof code, "%d", ci + 1 < SG_API_CODES ? status : 0);
        const char *labels[] = {"route", ri < NROUTES ? route : "unmatched", "code",
                                ci + 1 < SG_API_CODES ? code : "other", NULL};
        c = sg_metrics_counter(s->metrics, "streamguard_serve_requests_total",
                               "HTTP requests answered, by route pattern and status", labels);
        atomic_store_explicit(&s->req_cells[ri][ci], c, memory_order_release);
    }
    sg_counter_inc(c);
    sg_histogram_observe(s->request_seconds, (double)ns / 1e9);
}

/* ---- refresh thread -------------------------------------------------------------------- */

static void try_open_store(struct sg_serve *s)
{
    struct stat sb;
    if (atomic_load(&s->store) || stat(s->db_dir, &sb) != 0)
        return;
    struct sg_store *st = NULL;
    char err[512];
    int rc = sg_store_open(s->db_dir, SG_STORE_SECONDARY, NULL, s->retention_ms, &st, err,
                           sizeof err);
    if (rc != SG_OK) {
        sg_log_ratelimited(SG_LOG_WARN, 1, "serve: store %s not available yet: %s", s->db_dir,
                           err);
        return;
    }
    atomic_store(&s->store, st);
    sg_log_info("serve: following the store at %s", s->db_dir);
}

#define STATS_EVERY_MS 2000

static int refresh(struct sg_serve *s, int force)
{
    int rc = SG_OK;
    pthread_mutex_lock(&s->refresh_lock);
    try_open_store(s);
    struct sg_store *st = atomic_load(&s->store);
    if (st) {
        rc = sg_store_catch_up(st);
        sg_counter_inc(rc == SG_OK ? s->catchups : s->catchup_errors);
        if (rc != SG_OK)
            sg_log_ratelimited(SG_LOG_WARN, 1, "serve: catching up with the store failed: %s",
                               sg_strerror(rc));
        /* the statistics scan recent anomalies: every STATS_EVERY_MS, not every catch-up */
        int64_t now = sg_time_mono_ms();
        if (force)
            s->users_at_ms = 0; /* recount users too */
        if (force || now - s->stats_at_ms >= STATS_EVERY_MS) {
            int64_t t0 = sg_time_mono_ns();
            sg_api_stats_refresh(s, st);
            sg_histogram_observe(s->stats_seconds, (double)(sg_time_mono_ns() - t0) / 1e9);
            s->stats_at_ms = now;
        }
    }
    sg_api_batch_reload(s);
    pthread_mutex_unlock(&s->refresh_lock);
    return rc;
}

int sg_serve_refresh(struct sg_serve *s)
{
    return refresh(s, 1);
}

static void *refresh_main(void *arg)
{
    struct sg_serve *s = arg;
    while (!atomic_load(&s->stopping)) {
        refresh(s, 0);
        for (int64_t slept = 0; slept < s->refresh_ms && !atomic_load(&s->stopping); slept += 50) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static void register_metrics(struct sg_serve *s)
{
    static const double bounds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                    0.005,   0.01,   0.025,   0.05,   0.1,   0.5};
    s->metrics = sg_metrics_new();
    s->store_seeks = sg_metrics_counter(s->metrics, "streamguard_serve_store_seeks_total",
                                        "store iterator seeks and point reads issued by the API",
                                        NULL);
    s->store_rows = sg_metrics_counter(s->metrics, "streamguard_serve_store_rows_total",
                                       "rows the store returned to the API", NULL);
    s->store_compares = sg_metrics_counter(
        s->metrics, "streamguard_serve_store_key_compares_total",
        "RocksDB key comparisons done for the API (grows with the keys scanned)", NULL);
    s->catchups = sg_metrics_counter(s->metrics, "streamguard_serve_store_catchups_total",
                                     "successful catch-ups with the speed layer's writes", NULL);
    s->catchup_errors = sg_metrics_counter(s->metrics,
                                           "streamguard_serve_store_catchup_errors_total",
                                           "failed catch-ups with the speed layer", NULL);
    s->request_seconds = sg_metrics_histogram(s->metrics, "streamguard_serve_request_seconds",
                                              "time to answer an HTTP request", NULL, bounds,
                                              sizeof bounds / sizeof bounds[0]);
    static const double sbounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
    s->stats_seconds = sg_metrics_histogram(s->metrics, "streamguard_serve_stats_refresh_seconds",
                                            "time to rebuild /api/stats (refresh thread)", NULL,
                                            sbounds, sizeof sbounds / sizeof sbounds[0]);
    s->batch_loaded_ts = sg_metrics_gauge(s->metrics, "streamguard_serve_batch_loaded_timestamp_seconds",
                                          "when the served batch output was loaded (0 = none)",
                                          NULL);
    /* the age of the batch run itself: a serve restart does not reset it */
    s->batch_generated_ts = sg_metrics_gauge(
        s->metrics, "streamguard_batch_generated_timestamp_seconds",
        "when the served batch run wrote its output (report generated_at, else the report "
        "file's modification time; 0 = none)", NULL);
    /* the latest batch run's results, from its report (-1 = not in the report) */
    s->batch_users = sg_metrics_gauge(s->metrics, "streamguard_batch_users",
                                      "users scored by the latest batch run", NULL);
    s->batch_anomalous = sg_metrics_gauge(s->metrics, "streamguard_batch_anomalous_users",
                                          "users flagged anomalous by the latest batch run", NULL);
    s->batch_valid = sg_metrics_gauge(s->metrics, "streamguard_batch_valid_events",
                                      "valid events read by the latest batch run", NULL);
    s->batch_invalid = sg_metrics_gauge(s->metrics, "streamguard_batch_invalid_events",
                                        "invalid events counted by the latest batch run", NULL);
    s->batch_seconds = sg_metrics_gauge(s->metrics, "streamguard_batch_run_seconds",
                                        "duration of the latest batch run (sum of its phases)",
                                        NULL);
    s->batch_rows = sg_metrics_gauge(s->metrics, "streamguard_serve_batch_rows",
                                     "per-user rows loaded from the latest batch dataset", NULL);
}

int sg_serve_start(const struct sg_serve_opts *o, struct sg_serve **out, char *err,
                   size_t errlen)
{
    struct sg_serve *s = sg_xcalloc(1, sizeof *s);
    s->db_dir = sg_xstrdup(o->db ? o->db : "data/stream.db");
    s->batch_dir = sg_xstrdup(o->batch_dir ? o->batch_dir : "data/batch");
    s->refresh_ms = o->refresh_ms > 0 ? o->refresh_ms : 500;
    s->retention_ms = o->retention_ms;
    s->started_ms = sg_time_mono_ms();
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->refresh_lock, NULL);
    register_metrics(s);
    sg_serve_refresh(s);
    if (pthread_create(&s->thread, NULL, refresh_main, s) != 0) {
        snprintf(err, errlen, "cannot start the refresh thread: %s", strerror(errno));
        sg_serve_stop(s);
        return SG_ERR_INTERNAL;
    }
    s->thread_started = 1;
    struct sg_http_opts ho = {
        .listen = o->listen, .token = o->token, .threads = o->threads, .observe = observe};
    int rc = sg_http_start(&ho, routes, sizeof routes / sizeof routes[0], s, &s->http, err,
                           errlen);
    if (rc != SG_OK) {
        sg_serve_stop(s);
        return rc;
    }
    *out = s;
    return SG_OK;
}

void sg_serve_address(const struct sg_serve *s, char *buf, size_t cap)
{
    sg_http_address(s->http, buf, cap);
}

uint16_t sg_serve_port(const struct sg_serve *s)
{
    return sg_http_port(s->http);
}

void sg_serve_stop(struct sg_serve *s)
{
    if (!s)
        return;
    sg_http_stop(s->http);
    atomic_store(&s->stopping, 1);
    if (s->thread_started)
        pthread_join(s->thread, NULL);
    sg_store_close(atomic_load(&s->store));
    sg_api_stats_release(s);
    sg_api_batch_free_all(s);
    sg_metrics_free(s->metrics);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->refresh_lock);
    free(s->db_dir);
    free(s->batch_dir);
    free(s);
}

uint32_t sg_api_bind_hash(const char *const *parts, size_t n)
{
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = parts[i] ? parts[i] : "\x01";
        h = sg_hash_bytes(p, strlen(p) + 1, h);
    }
    return (uint32_t)h;
}

/* ---- time-ordered listings (events, anomalies) ----------------------------------------- */

int sg_api_check_user(const struct sg_http_str *u, struct sg_http_resp *r)
{
    int ok = u->len >= 1 && u->len <= 256;
    for (size_t i = 0; ok && i < u->len; i++)
        ok = (unsigned char)u->p[i] >= 0x20 && u->p[i] != 0x7f;
    if (!ok)
        sg_http_resp_error(r, 400, "bad_parameter", "user",
                           "a user name is 1 to 256 bytes without control characters");
    return ok ? SG_OK : SG_ERR_INVALID;
}

struct list_ctx {
    struct sg_buf *out;
    size_t n;
};

static int put_row(void *ctx, const struct sg_store_row *row)
{
    struct list_ctx *c = ctx;
    if (c->n++)
        sg_buf_putc(c->out, ',');
    sg_buf_append(c->out, row->json, row->json_len);
    return 0;
}

/* since/until/order shared by every listing; answers 400 and returns an error if bad. */
static int time_params(const struct sg_http_req *req, struct sg_http_resp *r,
                       struct sg_store_query *q, const char **order)
{
    struct sg_http_perr e;
    const struct sg_http_param *p;
    if ((p = sg_http_url_param(&req->url, "since")) &&
        sg_http_parse_time("since", &p->val, &q->from_ms, &e) != SG_OK)
        goto bad;
    if ((p = sg_http_url_param(&req->url, "until"))) {
        if (sg_http_parse_time("until", &p->val, &q->to_ms, &e) != SG_OK)
            goto bad;
        if (q->to_ms <= q->from_ms) {
            sg_http_perr_set(&e, "until", "until must be later than since");
            goto bad;
        }
    }
    q->newest_first = 1;
    *order = "desc";
    if ((p = sg_http_url_param(&req->url, "order"))) {
        if (strcmp(p->val.p, "asc") && strcmp(p->val.p, "desc")) {
            sg_http_perr_set(&e, "order", "expected asc or desc");
            goto bad;
        }
        q->newest_first = p->val.p[0] == 'd';
        *order = p->val.p;
    }
    return SG_OK;
bad:
    sg_http_resp_perr(r, &e);
    return SG_ERR_INVALID;
}

static int user_known(struct sg_store *st, const struct sg_http_str *user, struct sg_api_scan *sc)
{
    struct sg_buf blob;
    sg_buf_init(&blob);
    sc->seeks++;
    int rc = sg_store_user_get(st, user->p, user->len, &blob);
    sg_buf_release(&blob);
    return rc == SG_OK;
}

void sg_api_list(struct sg_serve *s, const struct sg_http_req *req, struct sg_http_resp *r,
                 const struct sg_api_list *l, const struct sg_http_str *user, int kind,
                 const char *filter)
{
    struct sg_http_perr e;
    struct sg_store_query q;
    const char *order;
    memset(&q, 0, sizeof q);
    q.kind = kind;
    if (sg_http_url_check(&req->url, l->allowed, &e) != SG_OK) {
        sg_http_resp_perr(r, &e);
        return;
    }
    if (user && sg_api_check_user(user, r) != SG_OK)
        return;
    if (time_params(req, r, &q, &order) != SG_OK)
        return;
    struct sg_store *st = sg_api_store(s, r);
    if (!st)
        return;
    const struct sg_http_param *since = sg_http_url_param(&req->url, "since");
    const struct sg_http_param *until = sg_http_url_param(&req->url, "until");
    const char *parts[] = {l->member, user ? user->p : NULL, since ? since->val.p : NULL,
                           until ? until->val.p : NULL, filter, order};
    uint32_t bind = sg_api_bind_hash(parts, 6);
    struct sg_buf cur, next;
    sg_buf_init(&cur);
    sg_buf_init(&next);
    if (sg_api_page_params(req, r, l->cursor_kind, bind, &q.limit, &cur) != SG_OK)
        goto out;
    q.user = user ? user->p : NULL;
    q.cursor = cur.len ? cur.data : NULL;
    int capped = 0;
    q.max_scan = SG_API_MAX_SCAN;
    q.capped = &capped;
    struct sg_api_scan sc;
    sg_api_scan_begin(&sc);
    struct list_ctx lc = {&r->body, 0};
    sg_buf_printf(&r->body, "{\"%s\":[", l->member);
    sc.seeks++;
    int rc = l->anomalies ? sg_store_query_anomalies(st, &q, put_row, &lc, &next)
                          : sg_store_query_events(st, &q, put_row, &lc, &next);
    sc.rows = lc.n;
    if (rc == SG_OK && user && lc.n == 0 && !q.cursor && !capped && !user_known(st, user, &sc))
        rc = SG_ERR_NOTFOUND;
    sg_api_scan_end(s, &sc, r);
    if (rc == SG_ERR_INVALID) {
        sg_http_resp_error(r, 400, "bad_parameter", "cursor", "cursor is not valid here");
    } else if (rc == SG_ERR_NOTFOUND) {
        sg_http_resp_error(r, 404, "not_found", "user", "no such user");
    } else if (rc != SG_OK) {
        sg_http_resp_error(r, 500, "store_error", NULL, "%s", sg_strerror(rc));
    } else {
        sg_buf_printf(&r->body, "],\"count\":%zu", lc.n);
        sg_api_put_next_cursor(&r->body, l->cursor_kind, bind, &next);
        sg_buf_printf(&r->body, ",\"scan_capped\":%s}\n", capped ? "true" : "false");
    }
out:
    sg_buf_release(&cur);
    sg_buf_release(&next);
}
