/* sg_api_batch: the batch layer's latest output as served data - GET /api/batch/report (the
 * run's anomaly_report.json verbatim) and GET /api/batch/users (the per-user rows of the
 * Parquet dataset DIR/is_anomaly=0|1/ *.parquet, read with sg_pqreader, ranked by
 * anomaly_score). The output directory is replaced atomically by each batch run; the refresh
 * thread notices a new anomaly_report.json (inode/mtime/size) and loads the new run into a new
 * refcounted view, so requests never see a half-loaded run. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sg_err.h"
#include "core/sg_hash.h"
#include "core/sg_log.h"
#include "core/sg_time.h"
#include "serving/sg_api.h"
#include "storage/sg_pqreader.h"

#define MAX_REPORT (16u << 20)
#define CURSOR_BATCH_USERS 5

/* The run's figures published as gauges (Grafana's "batch run results"). */
struct run_figures {
    double users, anomalous, valid, invalid, seconds;
    double generated; /* Unix s: the report's generated_at, else its file's mtime */
};

struct buser {
    char *user;
    char *json; /* the whole row as a JSON object */
    double score;
    int anomalous;
};

struct sg_batch_view {
    _Atomic int refs;
    char *report;
    size_t report_len;
    int64_t anomalous_users; /* from the report, -1 if absent */
    struct run_figures fig;
    uint32_t id;             /* identity of the run (binds cursors) */
    struct stat st;          /* of anomaly_report.json when loaded */
    struct buser *users;     /* ranked: anomaly_score descending */
    size_t nusers;
    size_t *by_name; /* indices into users sorted by name */
    char dataset_error[256];
};

static void view_free(struct sg_batch_view *v)
{
    for (size_t i = 0; i < v->nusers; i++) {
        free(v->users[i].user);
        free(v->users[i].json);
    }
    free(v->users);
    free(v->by_name);
    free(v->report);
    free(v);
}

struct sg_batch_view *sg_api_batch_acquire(struct sg_serve *s)
{
    pthread_mutex_lock(&s->lock);
    struct sg_batch_view *v = s->batch;
    if (v)
        atomic_fetch_add(&v->refs, 1);
    pthread_mutex_unlock(&s->lock);
    return v;
}

void sg_api_batch_release(struct sg_batch_view *v)
{
    if (v && atomic_fetch_sub(&v->refs, 1) == 1)
        view_free(v);
}

void sg_api_batch_free_all(struct sg_serve *s)
{
    sg_api_batch_release(s->batch);
    s->batch = NULL;
}

int64_t sg_api_batch_anomalous(const struct sg_batch_view *v)
{
    return v ? v->anomalous_users : -1;
}

/* ---- loading ---------------------------------------------------------------------------- */

static char *read_small(const char *path, size_t *len)
{
    struct sg_buf b;
    sg_buf_init(&b);
    if (sg_buf_read_file(&b, path, MAX_REPORT) != SG_OK) {
        sg_buf_release(&b);
        return NULL;
    }
    *len = b.len;
    return sg_buf_steal(&b);
}

static void put_value(struct sg_buf *b, const struct sg_pqr_column *c, size_t r)
{
    if (!c->valid[r])
        sg_buf_puts(b, "null");
    else if (c->kind == SG_PQR_STRING)
        sg_buf_json_str(b, c->str[r], strlen(c->str[r]));
    else if (c->kind == SG_PQR_DOUBLE)
        sg_buf_json_double(b, c->f64[r]);
    else if (c->is_bool)
        sg_buf_puts(b, c->i64[r] ? "true" : "false");
    else
        sg_buf_printf(b, "%lld", (long long)c->i64[r]);
}

/* Adds the rows of one part file of partition is_anomaly=`anomalous`. */
static int add_table(struct sg_batch_view *v, const struct sg_pqr_table *t, int anomalous,
                     size_t *cap)
{
    int cu = sg_pqreader_column(t, "user"), cs = sg_pqreader_column(t, "anomaly_score");
    if (cu < 0 || cs < 0 || t->cols[cu].kind != SG_PQR_STRING ||
        t->cols[cs].kind != SG_PQR_DOUBLE)
        return SG_ERR_FORMAT;
    for (size_t r = 0; r < t->nrows; r++) {
        if (!t->cols[cu].valid[r])
            continue;
        v->users = sg_xgrow(v->users, cap, v->nusers + 1, sizeof *v->users);
        struct buser *u = &v->users[v->nusers++];
        u->user = sg_xstrdup(t->cols[cu].str[r]);
        u->score = t->cols[cs].valid[r] ? t->cols[cs].f64[r] : 0;
        u->anomalous = anomalous;
        struct sg_buf b;
        sg_buf_init(&b);
        sg_buf_puts(&b, "{\"user\":");
        sg_buf_json_str(&b, u->user, strlen(u->user));
        sg_buf_printf(&b, ",\"is_anomaly\":%s", anomalous ? "true" : "false");
        for (size_t c = 0; c < t->ncols; c++) {
            if ((int)c == cu || !strcmp(t->cols[c].name, "is_anomaly"))
                continue;
            sg_buf_putc(&b, ',');
            sg_buf_json_str(&b, t->cols[c].name, strlen(t->cols[c].name));
            sg_buf_putc(&b, ':');
            put_value(&b, &t->cols[c], r);
        }
        sg_buf_putc(&b, '}');
        u->json = sg_buf_steal(&b);
    }
    return SG_OK;
}

static int load_partition(struct sg_batch_view *v, const char *dir, int anomalous, size_t *cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/is_anomaly=%d", dir, anomalous);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? SG_OK : SG_ERR_IO; /* no users in this partition */
    struct dirent *e;
    int rc = SG_OK;
    while (rc == SG_OK && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 8 || strcmp(e->d_name + n - 8, ".parquet") != 0 || e->d_name[0] == '.')
            continue;
        char file[4600];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        struct sg_pqr_table t;
        char err[256];
        rc = sg_pqreader_read(file, &t, err, sizeof err);
        if (rc == SG_OK && (rc = add_table(v, &t, anomalous, cap)) != SG_OK)
            snprintf(err, sizeof err, "%.200s: no 'user' / 'anomaly_score' column", e->d_name);
        if (rc != SG_OK)
            snprintf(v->dataset_error, sizeof v->dataset_error, "%s", err);
        sg_pqreader_release(&t);
    }
    closedir(d);
    return rc;
}

static int by_score(const void *a, const void *b)
{
    const struct buser *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return strcmp(x->user, y->user);
}

static int by_name(const void *a, const void *b, void *view)
{
    const struct sg_batch_view *v = view;
    return strcmp(v->users[*(const size_t *)a].user, v->users[*(const size_t *)b].user);
}

static double num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Reads totals.anomalous_users (returned, -1 if absent, -2 if not JSON) and the figures. */
static int64_t report_anomalous(const char *json, size_t len, struct run_figures *f)
{
    cJSON *j = cJSON_ParseWithLength(json, len);
    if (!j)
        return -2; /* not JSON */
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "totals");
    f->users = num(t, "users");
    f->anomalous = num(t, "anomalous_users");
    f->valid = num(t, "valid");
    f->invalid = num(t, "invalid");
    f->seconds = 0;
    const cJSON *ph;
    cJSON_ArrayForEach(ph, cJSON_GetObjectItemCaseSensitive(j, "timings_s"))
    {
        if (cJSON_IsNumber(ph))
            f->seconds += ph->valuedouble;
    }
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(j, "generated_at");
    int64_t ms;
    if (cJSON_IsString(gen) &&
        sg_time_parse_rfc3339(gen->valuestring, strlen(gen->valuestring), &ms) == SG_OK)
        f->generated = (double)ms / 1000.0;
    cJSON_Delete(j);
    return f->anomalous >= 0 ? (int64_t)f->anomalous : -1;
}

static struct sg_batch_view *load(const char *dir, const struct stat *st)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/anomaly_report.json", dir);
    struct sg_batch_view *v = sg_xcalloc(1, sizeof *v);
    atomic_init(&v->refs, 1);
    v->st = *st;
    v->report = read_small(path, &v->report_len);
    if (!v->report ||
        (v->anomalous_users = report_anomalous(v->report, v->report_len, &v->fig)) == -2) {
        sg_log_ratelimited(SG_LOG_WARN, 1, "serve: %s is unreadable or not JSON", path);
        view_free(v);
        return NULL;
    }
    if (v->fig.generated <= 0) /* older reports: the run's write time (renamed into place) */
        v->fig.generated = (double)st->st_mtim.tv_sec + (double)st->st_mtim.tv_nsec / 1e9;
    size_t cap = 0;
    for (int a = 0; a <= 1; a++)
        if (load_partition(v, dir, a, &cap) != SG_OK)
            sg_log_warn("serve: batch dataset in %s: %s", dir, v->dataset_error);
    qsort(v->users, v->nusers, sizeof *v->users, by_score);
    v->by_name = sg_xcalloc(v->nusers + 1, sizeof *v->by_name);
    for (size_t i = 0; i < v->nusers; i++)
        v->by_name[i] = i;
    qsort_r(v->by_name, v->nusers, sizeof *v->by_name, by_name, v); /* glibc (_GNU_SOURCE) */
    uint64_t idv[4] = {(uint64_t)st->st_ino, (uint64_t)st->st_mtim.tv_sec,
                       (uint64_t)st->st_mtim.tv_nsec, (uint64_t)st->st_size};
    v->id = (uint32_t)sg_hash_bytes(idv, sizeof idv, 0);
    return v;
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int sg_api_batch_reload(struct sg_serve *s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/anomaly_report.json", s->batch_dir);
    struct stat st;
    if (stat(path, &st) != 0)
        return SG_ERR_NOTFOUND; /* no run yet (or being swapped): keep what we have */
    if (s->batch && same_file(&s->batch->st, &st))
        return SG_OK;
    struct sg_batch_view *v = load(s->batch_dir, &st);
    struct stat after;
    if (v && (stat(path, &after) != 0 || !same_file(&after, &st))) {
        view_free(v); /* replaced while we read it: take the next one on the next refresh */
        return SG_ERR_INTERRUPTED;
    }
    if (!v)
        return SG_ERR_FORMAT;
    pthread_mutex_lock(&s->lock);
    struct sg_batch_view *old = s->batch;
    s->batch = v;
    pthread_mutex_unlock(&s->lock);
    sg_api_batch_release(old);
    sg_gauge_set(s->batch_loaded_ts, (double)sg_time_now_ms() / 1000.0);
    sg_gauge_set(s->batch_generated_ts, v->fig.generated);
    sg_gauge_set(s->batch_users, v->fig.users);
    sg_gauge_set(s->batch_anomalous, v->fig.anomalous);
    sg_gauge_set(s->batch_valid, v->fig.valid);
    sg_gauge_set(s->batch_invalid, v->fig.invalid);
    sg_gauge_set(s->batch_seconds, v->fig.seconds);
    sg_gauge_set(s->batch_rows, (double)v->nusers);
    sg_log_info("serve: loaded batch run from %s (%zu users)", s->batch_dir, v->nusers);
    return SG_OK;
}

int sg_api_batch_user_json(const struct sg_batch_view *v, const char *user, size_t len,
                           struct sg_buf *out)
{
    size_t lo = 0, hi = v ? v->nusers : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *m = v->users[v->by_name[mid]].user;
        size_t ml = strlen(m);
        int c = memcmp(m, user, ml < len ? ml : len);
        if (c == 0)
            c = (ml > len) - (ml < len);
        if (c == 0) {
            sg_buf_puts(out, v->users[v->by_name[mid]].json);
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* ---- handlers --------------------------------------------------------------------------- */

static struct sg_batch_view *need_view(struct sg_serve *s, const struct sg_http_req *req,
                                       const char *const *allowed, struct sg_http_resp *r)
{
    struct sg_http_perr e;
    if (sg_http_url_check(&req->url, allowed, &e) != SG_OK) {
        sg_http_resp_perr(r, &e);
        return NULL;
    }
    struct sg_batch_view *v = sg_api_batch_acquire(s);
    if (!v)
        sg_http_resp_error(r, 404, "not_found", NULL,
                           "no batch output in '%s' yet (run 'streamguard batch')",
                           s->batch_dir);
    return v;
}

void sg_api_batch_report(const struct sg_http_req *req, struct sg_http_resp *r, void *ctx)
{
    static const char *const none[] = {NULL};
    struct sg_batch_view *v = need_view(ctx, req, none, r);
    if (!v)
        return;
    sg_buf_append(&r->body, v->report, v->report_len);
    sg_api_batch_release(v);
}

static int users_params(const struct sg_http_req *req, struct sg_http_resp *r, int *filter)
{
    struct sg_http_perr e;
    const struct sg_http_param *p = sg_http_url_param(&req->url, "anomalous");
    *filter = -1;
    if (p && sg_http_parse_bool("anomalous", &p->val, filter, &e) != SG_OK) {
        sg_http_resp_perr(r, &e);
        return SG_ERR_INVALID;
    }
    return SG_OK;
}

void sg_api_batch_users(const struct sg_http_req *req, struct sg_http_resp *r, void *ctx)
{
    static const char *const allowed[] = {"anomalous", "limit", "cursor", NULL};
    int filter;
    if (users_params(req, r, &filter) != SG_OK)
        return;
    struct sg_batch_view *v = need_view(ctx, req, allowed, r);
    if (!v)
        return;
    uint32_t bind = v->id ^ (uint32_t)(filter + 2) * 0x9e3779b9u;
    size_t limit, start = 0;
    struct sg_buf cur;
    sg_buf_init(&cur);
    if (sg_api_page_params(req, r, CURSOR_BATCH_USERS, bind, &limit, &cur) != SG_OK)
        goto out;
    if (cur.len && sscanf(cur.data, "%zx", &start) != 1)
        start = v->nusers; /* cannot happen for cursors we issued */
    if (v->dataset_error[0]) {
        sg_http_resp_error(r, 500, "batch_dataset_unreadable", NULL, "%s", v->dataset_error);
        goto out;
    }
    sg_buf_puts(&r->body, "{\"users\":[");
    size_t n = 0, i = start, total = 0;
    for (size_t k = 0; k < v->nusers; k++)
        total += filter < 0 || v->users[k].anomalous == filter;
    for (; i < v->nusers && n < limit; i++) {
        if (filter >= 0 && v->users[i].anomalous != filter)
            continue;
        sg_buf_puts(&r->body, n++ ? "," : "");
        sg_buf_puts(&r->body, v->users[i].json);
    }
    while (i < v->nusers && filter >= 0 && v->users[i].anomalous != filter)
        i++;
    sg_buf_printf(&r->body, "],\"count\":%zu,\"total\":%zu", n, total);
    struct sg_buf next;
    sg_buf_init(&next);
    if (i < v->nusers)
        sg_buf_printf(&next, "%016zx", i);
    sg_api_put_next_cursor(&r->body, CURSOR_BATCH_USERS, bind, &next);
    sg_buf_release(&next);
    sg_buf_puts(&r->body, "}\n");
out:
    sg_buf_release(&cur);
    sg_api_batch_release(v);
}
