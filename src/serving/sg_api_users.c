/* sg_api_users: GET /api/users/{user} - one user's summary: the speed layer's profile of the
 * user (as JSON), the latest stored event, the anomalies among the user's
 * most recent ones, and the latest batch run's row (features and scores). Work is bounded:
 * one point read, two prefix scans of at most SUMMARY_ROWS rows, one binary search. */
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "serving/sg_api.h"
#include "speed/sg_user.h"

#define SUMMARY_ROWS 100

static const char *const severities[] = {"low", "medium", "high", "critical"};

struct last_row {
    struct sg_buf *out;
    size_t n;
    int64_t ts;
};

static int take_first(void *ctx, const struct sg_store_row *row)
{
    struct last_row *l = ctx;
    if (l->n++ == 0) {
        sg_buf_append(l->out, row->json, row->json_len);
        l->ts = row->ts_ms;
    }
    return 1;
}

struct anom_summary {
    size_t n;
    int max_sev;
    int64_t last_ts;
};

static int tally(void *ctx, const struct sg_store_row *row)
{
    struct anom_summary *a = ctx;
    if (a->n++ == 0)
        a->last_ts = row->ts_ms;
    if (row->kind > a->max_sev)
        a->max_sev = row->kind;
    return 0;
}

/* Appends the state member - the speed layer's profile of the user, decoded from its stored
 * binary form by the speed layer's own code (sg_user_decode, sg_user_to_json) - and returns 1
 * if the user has one. A blob the decoder refuses (another version) is reported, not hidden. */
static int put_state(struct sg_store *st, const struct sg_http_str *u, struct sg_buf *b,
                     struct sg_api_scan *sc)
{
    struct sg_buf blob;
    sg_buf_init(&blob);
    sc->seeks++;
    int found = sg_store_user_get(st, u->p, u->len, &blob) == SG_OK;
    sg_buf_puts(b, ",\"state\":");
    if (found) {
        struct sg_user_state *us = sg_xmalloc(sizeof *us);
        if (sg_user_decode(us, blob.data ? blob.data : "", blob.len) == SG_OK)
            sg_user_to_json(us, b);
        else
            sg_buf_printf(b, "{\"undecodable\":true,\"bytes\":%zu}", blob.len);
        free(us);
    } else {
        sg_buf_puts(b, "null");
    }
    sg_buf_release(&blob);
    return found;
}

void sg_api_users_get(const struct sg_http_req *req, struct sg_http_resp *r, void *ctx)
{
    struct sg_serve *s = ctx;
    static const char *const none[] = {NULL};
    struct sg_http_perr e;
    if (sg_http_url_check(&req->url, none, &e) != SG_OK) {
        sg_http_resp_perr(r, &e);
        return;
    }
    const struct sg_http_str *u = req->id;
    if (sg_api_check_user(u, r) != SG_OK)
        return;
    struct sg_store *st = sg_api_store(s, r);
    if (!st)
        return;
    struct sg_api_scan sc;
    sg_api_scan_begin(&sc);
    struct sg_buf *b = &r->body;
    sg_buf_puts(b, "{\"user\":");
    sg_buf_json_str(b, u->p, u->len);
    int known = put_state(st, u, b, &sc);

    struct sg_store_query q;
    memset(&q, 0, sizeof q);
    q.user = u->p;
    q.kind = -1;
    q.newest_first = 1;
    q.limit = 1;
    struct sg_buf next;
    sg_buf_init(&next);
    sg_buf_puts(b, ",\"latest_event\":");
    struct last_row lr = {b, 0, 0};
    sc.seeks++;
    sg_store_query_events(st, &q, take_first, &lr, &next);
    if (!lr.n)
        sg_buf_puts(b, "null");
    known |= lr.n > 0;

    struct anom_summary as = {0, -1, 0};
    q.kind = 0;
    q.limit = SUMMARY_ROWS;
    sc.seeks++;
    sg_store_query_anomalies(st, &q, tally, &as, &next);
    sc.rows = lr.n + as.n;
    sg_buf_printf(b, ",\"recent_anomalies\":{\"count\":%zu,\"of_at_most\":%d,\"max_severity\":",
                  as.n, SUMMARY_ROWS);
    if (as.max_sev >= 0 && as.max_sev < 4)
        sg_buf_printf(b, "\"%s\",\"latest_ms\":%lld}", severities[as.max_sev], (long long)as.last_ts);
    else
        sg_buf_puts(b, "null,\"latest_ms\":null}");
    sg_buf_release(&next);

    struct sg_batch_view *v = sg_api_batch_acquire(s);
    sg_buf_puts(b, ",\"batch\":");
    int in_batch = v && sg_api_batch_user_json(v, u->p, u->len, b);
    if (!in_batch)
        sg_buf_puts(b, "null");
    sg_api_batch_release(v);
    sg_buf_puts(b, "}\n");
    sg_api_scan_end(s, &sc, r);
    if (!known && !in_batch)
        sg_http_resp_error(r, 404, "not_found", "user", "no such user");
}
