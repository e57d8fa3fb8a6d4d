/* sg_api: what the API resource files (sg_api_events.c, sg_api_users.c, sg_api_anomalies.c,
 * sg_api_stats.c, sg_api_batch.c) share with sg_serve.c: the serving state, the handlers the
 * route table points at, and helpers for store access, pagination and scan accounting.
 * Internal to src/serving; the public interface is sg_serve.h. */
#ifndef SG_API_H
#define SG_API_H

#include <pthread.h>
#include <stdint.h>

#include "core/sg_buf.h"
#include "core/sg_metrics.h"
#include "serving/sg_http.h"
#include "storage/sg_store.h"

struct sg_batch_view; /* sg_api_batch.c: one loaded batch output (report + per-user rows) */
struct sg_api_memo;   /* sg_api_stats.c: parsed recent anomalies, reused across refreshes */

#define SG_API_RATE_SAMPLES 64
#define SG_API_ROUTES 16 /* at least the route table's size (checked in sg_serve.c) */
#define SG_API_CODES 10  /* status codes counted separately, the last is "other" */
/* Rows a time-ordered listing examines per request, matching its filter or not (docs/API.md,
 * "scan_capped"): a rare type/severity then costs pages, not one scan of the whole store. */
#define SG_API_MAX_SCAN 10000

/* A cached /api/stats document and the samples its rates come from (refresh thread). */
struct sg_api_stats_cache {
    char *json; /* the body served by /api/stats; NULL until the first refresh */
    int64_t t_ms[SG_API_RATE_SAMPLES];
    uint64_t events[SG_API_RATE_SAMPLES], anomalies[SG_API_RATE_SAMPLES];
    size_t nsamples, next;
};

struct sg_serve {
    char *db_dir, *batch_dir;
    struct sg_http *http;
    struct sg_metrics *metrics;
    /* the store is opened by the refresh thread once it exists, then never replaced */
    pthread_mutex_t lock; /* guards store (opening), batch (swap), stats cache */
    struct sg_store *_Atomic store;
    struct sg_batch_view *batch; /* refcounted; take with sg_api_batch_acquire */
    struct sg_api_stats_cache stats;
    struct sg_api_memo *stats_memo; /* refresh thread only */
    pthread_mutex_t refresh_lock; /* one refresh at a time */
    pthread_t thread;
    int thread_started;
    _Atomic int stopping;
    int64_t refresh_ms;
    int64_t retention_ms;
    int64_t stats_at_ms;     /* when the statistics were last rebuilt (monotonic) */
    int64_t users_at_ms;     /* when users_total was last counted */
    uint64_t users_counted;
    int64_t started_ms;
    /* metrics */
    struct sg_counter *store_seeks, *store_rows, *store_compares, *catchups, *catchup_errors;
    struct sg_histogram *request_seconds, *stats_seconds;
    struct sg_counter *_Atomic req_cells[SG_API_ROUTES + 1][SG_API_CODES];
    struct sg_gauge *batch_loaded_ts, *batch_users, *batch_anomalous, *batch_valid;
    struct sg_gauge *batch_invalid, *batch_seconds, *batch_rows;
    struct sg_gauge *batch_generated_ts; /* when the served run was written (its report) */
};

/* Per-request store work, reported in X-StreamGuard-Scan and the store metrics. */
struct sg_api_scan {
    uint64_t seeks; /* iterator seeks + point reads issued */
    uint64_t rows;  /* rows the store handed back */
    uint64_t compares; /* RocksDB key comparisons (perf context): grows with keys scanned */
    void *perf;     /* rocksdb_perfcontext_t */
};

/* Returns the store, or NULL after answering 503 when it is not open yet. */
struct sg_store *sg_api_store(struct sg_serve *s, struct sg_http_resp *r);

/* Starts/ends accounting of the store work of one request (thread-local RocksDB perf
 * context); end records the metrics and sets resp->scan. */
void sg_api_scan_begin(struct sg_api_scan *sc);
void sg_api_scan_end(struct sg_serve *s, struct sg_api_scan *sc, struct sg_http_resp *r);

/* Pagination shared by the list endpoints: parses limit (1..1000, default 100) and cursor
 * (bound to `kind` and the filters hashed into `bind`); on error answers 400 and returns
 * SG_ERR_INVALID. `store_cursor` receives the store's cursor text (empty = first page). */
int sg_api_page_params(const struct sg_http_req *req, struct sg_http_resp *r, uint8_t kind,
                       uint32_t bind, size_t *limit, struct sg_buf *store_cursor);
/* Appends ,"next_cursor":"..." (or null) for the store's next cursor text. */
void sg_api_put_next_cursor(struct sg_buf *out, uint8_t kind, uint32_t bind,
                            const struct sg_buf *store_next);

/* Hash of a listing's filters (NULL parts allowed) that a cursor is bound to. */
uint32_t sg_api_bind_hash(const char *const *parts, size_t n);

/* Appends "key": (the key given without quotes; the value follows). */
void sg_api_put_key(struct sg_buf *b, const char *key);

/* A time-ordered listing (events or anomalies, all users or one user's index): parses
 * since/until/order/limit/cursor, runs the store's query, answers
 * {"<member>":[...],"count":N,"next_cursor":...,"scan_capped":B}; B is true when the page
 * stopped after SG_API_MAX_SCAN rows with fewer than `limit` matches and next_cursor goes on
 * from there. `kind` is the store's type/severity filter
 * (-1 none) and `filter` its text (bound into the cursor). Unknown parameters outside
 * `allowed` are 400s. For a user listing, an empty first page of a user the store has never
 * seen is a 404. */
struct sg_api_list {
    const char *member;         /* "events" or "anomalies" */
    int anomalies;              /* 0: sg_store_query_events, 1: sg_store_query_anomalies */
    uint8_t cursor_kind;        /* distinct per listing so cursors cannot cross over */
    const char *const *allowed; /* NULL-terminated parameter names */
};
void sg_api_list(struct sg_serve *s, const struct sg_http_req *req, struct sg_http_resp *r,
                 const struct sg_api_list *l, const struct sg_http_str *user, int kind,
                 const char *filter);

/* Checks a user name from the path (1..256 bytes, no control characters); answers 400 naming
 * "user" and returns SG_ERR_INVALID otherwise. */
int sg_api_check_user(const struct sg_http_str *u, struct sg_http_resp *r);

/* Handlers (route table in sg_serve.c). */
void sg_api_events_list(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx);
void sg_api_events_get(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx);
void sg_api_events_of_user(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx);
void sg_api_anomalies_list(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx);
void sg_api_anomalies_of_user(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx);
void sg_api_users_get(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx);
void sg_api_stats_get(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx);
void sg_api_batch_report(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx);
void sg_api_batch_users(const struct sg_http_req *q, struct sg_http_resp *r, void *ctx);

/* sg_api_stats.c: recomputes the cached /api/stats document (refresh thread). */
void sg_api_stats_refresh(struct sg_serve *s, struct sg_store *st);
void sg_api_stats_release(struct sg_serve *s);

/* sg_api_batch.c: the batch output view. reload re-reads batch_dir when it changed (returns
 * SG_OK, or an error with the previous view kept); acquire/release pin a view while a request
 * reads it; free drops the serve's reference. */
int sg_api_batch_reload(struct sg_serve *s);
struct sg_batch_view *sg_api_batch_acquire(struct sg_serve *s);
void sg_api_batch_release(struct sg_batch_view *v);
void sg_api_batch_free_all(struct sg_serve *s);
/* The user's batch row as a JSON object appended to out; returns 1, or 0 if absent. */
int sg_api_batch_user_json(const struct sg_batch_view *v, const char *user, size_t len,
                           struct sg_buf *out);
/* Total anomalous users in the view's report, or -1. */
int64_t sg_api_batch_anomalous(const struct sg_batch_view *v);

#endif
