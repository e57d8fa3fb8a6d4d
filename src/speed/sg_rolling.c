/* sg_rolling: rolling features per user and the batch model's score of them (see the header
 * for the window and the determinism rules). */
#include "speed/sg_rolling.h"

#include <stdlib.h>

#include "batch/sg_features.h"
#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_log.h"

struct sg_rolling {
    struct sg_features f;
    uint32_t n;                /* events folded */
    int64_t first_ts, last_ts; /* oldest and newest time folded */
};

struct sg_rolling *sg_rolling_new(void)
{
    struct sg_rolling *r = sg_xcalloc(1, sizeof *r);
    sg_features_init(&r->f);
    return r;
}

void sg_rolling_free(struct sg_rolling *r)
{
    if (!r)
        return;
    sg_features_release(&r->f);
    free(r);
}

double sg_rolling_calibrate(const struct sg_model *m, double s)
{
    double t = m->threshold;
    double c;
    if (!(t > 0 && t < 1))
        c = s;
    else if (s >= t)
        c = 0.5 + 0.5 * (s - t) / (1 - t);
    else
        c = 0.5 * s / t;
    return c < 0 ? 0 : c > 1 ? 1 : c;
}

static void fold(struct sg_rolling *r, const struct sg_event *ev)
{
    sg_features_add(&r->f, ev);
    if (!r->n || ev->ts_ms < r->first_ts)
        r->first_ts = ev->ts_ms;
    if (!r->n || ev->ts_ms > r->last_ts)
        r->last_ts = ev->ts_ms;
    r->n++;
}

/* Asks the model when the window is big enough to be comparable with its training rows;
 * otherwise the model has no opinion (-1). */
static void rescore(const struct sg_rolling *r, struct sg_user_state *u, const struct sg_model *m)
{
    int64_t span = m->history_last_ms - m->history_first_ms;
    if (r->n < SG_ROLLING_MIN || r->last_ts - r->first_ts < span / 2) {
        u->model_score = -1;
        return;
    }
    double raw[SG_FEAT_COUNT];
    struct sg_model_score s;
    sg_features_finish(&r->f, raw);
    sg_model_score(m, raw, NULL, &s);
    u->model_score = sg_rolling_calibrate(m, s.anomaly_score);
}

/* The user's stored events of the window, collected by the scan, then sorted by arrival. All
 * of the window's JSON is held meanwhile (~0.4-0.85 KiB per event with the arrays' doubling;
 * docs/OPERATIONS.md, Sizing): the fold must follow arrival order, not the scan's key order. */
struct held {
    uint64_t seq;
    size_t off, len; /* the JSON in scan.text */
};

struct scan {
    struct held *rows;
    size_t n, cap;
    struct sg_buf text;
};

static int scan_row(void *ctx, const struct sg_store_row *row)
{
    struct scan *sc = ctx;
    sc->rows = sg_xgrow(sc->rows, &sc->cap, sc->n + 1, sizeof *sc->rows);
    sc->rows[sc->n++] = (struct held){row->seq, sc->text.len, row->json_len};
    sg_buf_append(&sc->text, row->json, row->json_len);
    return 0;
}

/* Arrival order; rows without an arrival number (0: written before stores kept it) first, in
 * key order (qsort is not stable: `off` grows with key order and breaks the tie). */
static int by_seq(const void *a, const void *b)
{
    const struct held *x = a, *y = b;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return (x->off > y->off) - (x->off < y->off);
}

/* Decodes and folds the collected rows in arrival order; returns how many did not decode. */
static uint32_t fold_rows(struct sg_rolling *r, struct scan *sc, struct sg_arena *arena)
{
    uint32_t bad = 0;
    if (sc->n) /* rows is NULL when there are none */
        qsort(sc->rows, sc->n, sizeof *sc->rows, by_seq);
    for (size_t i = 0; i < sc->n; i++) {
        struct sg_event ev;
        struct sg_event_error err;
        sg_arena_reset(arena);
        /* the store holds the canonical encoding of events that decoded: this fails only on
         * a damaged database; such a row is left out and counted */
        if (sg_event_decode(sc->text.data + sc->rows[i].off, sc->rows[i].len, &ev, arena,
                            &err) != SG_OK) {
            bad++;
            continue;
        }
        fold(r, &ev);
    }
    return bad;
}

int sg_rolling_rebuild(struct sg_rolling *r, struct sg_user_state *u, const struct sg_model *m,
                       struct sg_store *st, const char *user, struct sg_arena *arena,
                       int *partial)
{
    sg_features_init(&r->f);
    r->n = 0;
    r->first_ts = r->last_ts = 0;
    struct scan sc = {0};
    sg_buf_init(&sc.text);
    struct sg_store_query q = {.from_ms = m->history_first_ms, .user = user, .kind = -1,
                               .limit = 1000};
    struct sg_buf cursor;
    sg_buf_init(&cursor);
    int rc;
    for (;;) {
        rc = sg_store_query_events(st, &q, scan_row, &sc, &cursor);
        if (rc != SG_OK || !cursor.len)
            break;
        q.cursor = cursor.data;
    }
    uint32_t bad = rc == SG_OK ? fold_rows(r, &sc, arena) : 0;
    sg_buf_release(&cursor);
    sg_buf_release(&sc.text);
    free(sc.rows);
    if (rc != SG_OK)
        return rc == SG_ERR_INVALID ? SG_ERR_STORE : rc;
    if (bad)
        sg_log_ratelimited(SG_LOG_WARN, 1, "%u stored events of user '%s' do not decode", bad,
                           user);
    int same = u->roll_model == m->id;
    *partial = same && r->n != u->roll_n;
    u->roll_n = r->n;
    if (!same) {
        u->roll_model = m->id;
        rescore(r, u, m);
    }
    return SG_OK;
}

int sg_rolling_add(struct sg_rolling *r, struct sg_user_state *u, const struct sg_model *m,
                   const struct sg_event *ev)
{
    if (ev->ts_ms < m->history_first_ms)
        return 0;
    fold(r, ev);
    u->roll_n = r->n;
    if (r->n % SG_ROLLING_EVERY == 0)
        rescore(r, u, m);
    return 1;
}
