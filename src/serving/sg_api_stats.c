/* sg_api_stats: GET /api/stats - totals by event type, severity and reason, live rates, top
 * users. The document is rebuilt by the refresh thread (sg_api_stats_refresh) and served from
 * a cache, so a request costs one copy. Sources: the speed layer's counters in the store
 * (names below), sampled over time for the rates; and a bounded scan of the most recent day
 * of anomalies (by event time, at most RECENT_MAX rows) for the top users and, when the
 * counters are absent, the severity/reason breakdown. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_event.h"
#include "core/sg_hash.h"
#include "core/sg_time.h"
#include "serving/sg_api.h"

/* Counter names the serving layer reads (written by the speed layer with put_stat):
 *   events, users, duplicates (also accepted with a _total suffix), anomalies_total
 *   events.<event_type>, anomalies.<severity>, anomaly_reason.<reason>, invalid.<reason>
 * Totals that are absent are the sums of their breakdowns. */
#define RECENT_WINDOW_MS INT64_C(86400000)
#define RECENT_MAX 5000
#define RATE_WINDOW_MS 10000
#define TOP_USERS 10
#define USERS_EVERY_MS 30000
#define MAX_NAMES 64

static const char *const severities[] = {"low", "medium", "high", "critical"};

struct named {
    char name[64];
    uint64_t v;
    double max_score;
};

struct tally {
    struct named item[MAX_NAMES];
    size_t n;
};

static struct named *tally_add(struct tally *t, const char *name, size_t len, uint64_t v)
{
    if (len >= sizeof t->item[0].name)
        len = sizeof t->item[0].name - 1;
    for (size_t i = 0; i < t->n; i++) {
        if (strlen(t->item[i].name) == len && memcmp(t->item[i].name, name, len) == 0) {
            t->item[i].v += v;
            return &t->item[i];
        }
    }
    if (t->n == MAX_NAMES)
        return NULL; /* bounded: further distinct names are not broken down */
    struct named *x = &t->item[t->n++];
    memcpy(x->name, name, len);
    x->name[len] = '\0';
    x->v = v;
    x->max_score = 0;
    return x;
}

static void put_tally(struct sg_buf *b, const char *key, const struct tally *t)
{
    sg_buf_printf(b, ",\"%s\":{", key);
    for (size_t i = 0; i < t->n; i++) {
        if (i)
            sg_buf_putc(b, ',');
        sg_buf_json_str(b, t->item[i].name, strlen(t->item[i].name));
        sg_buf_printf(b, ":%llu", (unsigned long long)t->item[i].v);
    }
    sg_buf_putc(b, '}');
}

struct counters {
    uint64_t events, anomalies, invalid, users, duplicates;
    int has_events, has_anomalies, has_users, has_invalid;
    struct tally by_type, by_sev, by_reason, invalid_by;
    struct sg_buf raw; /* every counter as a JSON map body */
};

static void on_counter(void *ctx, const char *name, uint64_t v)
{
    struct counters *c = ctx;
    if (c->raw.len)
        sg_buf_putc(&c->raw, ',');
    sg_buf_json_str(&c->raw, name, strlen(name));
    sg_buf_printf(&c->raw, ":%llu", (unsigned long long)v);
    if (!strcmp(name, "events_total") || !strcmp(name, "events")) {
        c->events = v;
        c->has_events = 1;
    } else if (!strcmp(name, "anomalies_total")) {
        c->anomalies = v;
        c->has_anomalies = 1;
    } else if (!strcmp(name, "invalid_total")) {
        c->invalid = v;
        c->has_invalid = 1;
    } else if (!strcmp(name, "duplicates_total") || !strcmp(name, "duplicates")) {
        c->duplicates = v;
    } else if (!strcmp(name, "users_total") || !strcmp(name, "users")) {
        c->users = v;
        c->has_users = 1;
    } else if (!strncmp(name, "events.", 7) && sg_event_type_parse(name + 7, strlen(name + 7)) >= 0) {
        tally_add(&c->by_type, name + 7, strlen(name + 7), v);
    } else if (!strncmp(name, "anomaly_reason.", 15)) {
        tally_add(&c->by_reason, name + 15, strlen(name + 15), v);
    } else if (!strncmp(name, "anomalies.", 10)) {
        tally_add(&c->by_sev, name + 10, strlen(name + 10), v);
    } else if (!strncmp(name, "invalid.", 8)) {
        tally_add(&c->invalid_by, name + 8, strlen(name + 8), v);
    }
}

/* The recent-anomalies scan: per severity, reason and user. Each refresh walks the window
 * again (rows may arrive late, out of time order), but parses only the anomalies it has not
 * seen before: the fields it needs are memoised per row (key: hash of event id and time), and
 * the table of the previous refresh is the lookup for the next. Users are counted in a hash
 * table. Both tables are bounded by RECENT_MAX. */
#define TABLE_CAP 16384 /* power of two, > 2 * RECENT_MAX */
#define MAX_REASONS 6

struct summary {
    uint64_t key; /* 0 = empty slot */
    char user[64];
    double score;
    uint8_t nreasons;
    char reasons[MAX_REASONS][32];
};

struct sg_api_memo {
    struct summary slot[TABLE_CAP];
};

struct recent {
    struct tally sev, reason;
    struct named *users; /* TABLE_CAP slots, open addressing by name; name[0] = 0 is empty */
    size_t nusers;
    size_t scanned;
    const struct sg_api_memo *old; /* previous refresh's summaries (may be NULL) */
    struct sg_api_memo *cur;       /* this refresh's */
};

static size_t slot_of(uint64_t h)
{
    return (size_t)(h & (TABLE_CAP - 1));
}

static struct summary *memo_slot(const struct sg_api_memo *m, uint64_t key)
{
    size_t i = slot_of(key);
    while (m->slot[i].key && m->slot[i].key != key)
        i = (i + 1) & (TABLE_CAP - 1);
    return (struct summary *)&m->slot[i];
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Parses the fields the statistics use out of one anomaly record. */
static void summarise(const struct sg_store_row *row, struct summary *out)
{
    cJSON *j = cJSON_ParseWithLength(row->json, row->json_len);
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(j, "user");
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(j, "score");
    const cJSON *it;
    copy_str(out->user, sizeof out->user, cJSON_IsString(user) ? user->valuestring : "");
    out->score = cJSON_IsNumber(score) ? score->valuedouble : 0;
    out->nreasons = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "reasons"))
    {
        if (cJSON_IsString(it) && out->nreasons < MAX_REASONS)
            copy_str(out->reasons[out->nreasons++], sizeof out->reasons[0], it->valuestring);
    }
    cJSON_Delete(j);
}

static void count_user(struct recent *r, const struct summary *sm)
{
    if (!sm->user[0])
        return;
    size_t i = slot_of(sg_hash_bytes(sm->user, strlen(sm->user), 0));
    while (r->users[i].name[0] && strcmp(r->users[i].name, sm->user) != 0)
        i = (i + 1) & (TABLE_CAP - 1);
    struct named *u = &r->users[i];
    if (!u->name[0]) {
        copy_str(u->name, sizeof u->name, sm->user);
        r->nusers++;
    }
    u->v++;
    if (sm->score > u->max_score)
        u->max_score = sm->score;
}

static int on_recent(void *ctx, const struct sg_store_row *row)
{
    struct recent *r = ctx;
    r->scanned++;
    if (row->kind >= 0 && row->kind < 4)
        tally_add(&r->sev, severities[row->kind], strlen(severities[row->kind]), 1);
    uint64_t key = sg_hash_bytes(row->event_id, row->id_len, (uint64_t)row->ts_ms) | 1;
    struct summary *sm = memo_slot(r->cur, key);
    if (sm->key == key)
        return 0; /* the same row twice cannot happen in one scan; be safe */
    const struct summary *old = r->old ? memo_slot(r->old, key) : NULL;
    if (old && old->key == key)
        *sm = *old;
    else
        summarise(row, sm);
    sm->key = key;
    for (uint8_t i = 0; i < sm->nreasons; i++)
        tally_add(&r->reason, sm->reasons[i], strlen(sm->reasons[i]), 1);
    count_user(r, sm);
    return 0;
}

static int by_count(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? 1 : -1;
    if (x->max_score != y->max_score)
        return x->max_score < y->max_score ? 1 : -1;
    return strcmp(x->name, y->name);
}

static void scan_recent(struct sg_store *st, int64_t watermark, struct recent *r)
{
    struct sg_store_query q;
    memset(&q, 0, sizeof q);
    q.from_ms = watermark > RECENT_WINDOW_MS ? watermark - RECENT_WINDOW_MS : 0;
    q.kind = 0;
    q.newest_first = 1;
    q.limit = RECENT_MAX;
    struct sg_buf next;
    sg_buf_init(&next);
    sg_store_query_anomalies(st, &q, on_recent, r, &next);
    sg_buf_release(&next);
    size_t n = 0; /* compact the hash table's users to the front, then rank them */
    for (size_t i = 0; i < TABLE_CAP; i++)
        if (r->users[i].name[0])
            r->users[n++] = r->users[i];
    qsort(r->users, n, sizeof r->users[0], by_count);
}

/* Events and anomalies per second over the last RATE_WINDOW_MS of samples. */
static void rates(struct sg_api_stats_cache *c, int64_t now, uint64_t ev, uint64_t an,
                  double *evr, double *anr, double *window_s)
{
    c->t_ms[c->next] = now;
    c->events[c->next] = ev;
    c->anomalies[c->next] = an;
    c->next = (c->next + 1) % SG_API_RATE_SAMPLES;
    if (c->nsamples < SG_API_RATE_SAMPLES)
        c->nsamples++;
    size_t oldest = (c->next + SG_API_RATE_SAMPLES - c->nsamples) % SG_API_RATE_SAMPLES;
    for (size_t k = 0; k + 1 < c->nsamples; k++) {
        size_t i = (oldest + k) % SG_API_RATE_SAMPLES;
        if (now - c->t_ms[i] <= RATE_WINDOW_MS) {
            oldest = i;
            break;
        }
    }
    double dt = (double)(now - c->t_ms[oldest]) / 1000.0;
    *window_s = dt;
    *evr = dt > 0 && ev >= c->events[oldest] ? (double)(ev - c->events[oldest]) / dt : 0;
    *anr = dt > 0 && an >= c->anomalies[oldest] ? (double)(an - c->anomalies[oldest]) / dt : 0;
}

static void put_top_users(struct sg_buf *b, const struct recent *r)
{
    sg_buf_puts(b, ",\"top_users\":[");
    for (size_t i = 0; i < r->nusers && i < TOP_USERS; i++) {
        sg_buf_printf(b, "%s{\"user\":", i ? "," : "");
        sg_buf_json_str(b, r->users[i].name, strlen(r->users[i].name));
        sg_buf_printf(b, ",\"anomalies\":%llu,\"max_score\":", (unsigned long long)r->users[i].v);
        sg_buf_json_double(b, r->users[i].max_score);
        sg_buf_putc(b, '}');
    }
    sg_buf_putc(b, ']');
}

static void build(struct sg_serve *s, struct sg_store *st, struct counters *c, struct recent *r,
                  struct sg_buf *b)
{
    int64_t wm = sg_store_watermark(st);
    uint64_t ev = c->events, an = c->anomalies;
    if (!c->has_events)
        for (size_t i = 0; i < c->by_type.n; i++)
            ev += c->by_type.item[i].v;
    if (!c->has_anomalies)
        for (size_t i = 0; i < c->by_sev.n; i++)
            an += c->by_sev.item[i].v;
    double evr, anr, win;
    rates(&s->stats, sg_time_mono_ms(), ev, an, &evr, &anr, &win);
    sg_buf_printf(b, "{\"watermark_ms\":%lld,\"events_total\":%llu,\"anomalies_total\":%llu",
                  (long long)wm, (unsigned long long)ev, (unsigned long long)an);
    uint64_t inv = c->invalid;
    if (!c->has_invalid)
        for (size_t i = 0; i < c->invalid_by.n; i++)
            inv += c->invalid_by.item[i].v;
    sg_buf_printf(b, ",\"invalid_total\":%llu,\"duplicates_total\":%llu,\"users_total\":%llu",
                  (unsigned long long)inv, (unsigned long long)c->duplicates,
                  (unsigned long long)c->users);
    put_tally(b, "events_by_type", &c->by_type);
    int from_counters = c->by_sev.n > 0;
    put_tally(b, "anomalies_by_severity", from_counters ? &c->by_sev : &r->sev);
    put_tally(b, "anomalies_by_reason", c->by_reason.n ? &c->by_reason : &r->reason);
    put_tally(b, "invalid_by_reason", &c->invalid_by);
    sg_buf_printf(b, ",\"breakdown_source\":\"%s\"", from_counters ? "counters" : "recent_window");
    sg_buf_puts(b, ",\"rates\":{\"window_s\":");
    sg_buf_json_double(b, win);
    sg_buf_puts(b, ",\"events_per_s\":");
    sg_buf_json_double(b, evr);
    sg_buf_puts(b, ",\"anomalies_per_s\":");
    sg_buf_json_double(b, anr);
    sg_buf_printf(b, "},\"recent\":{\"window_ms\":%lld,\"anomalies_scanned\":%zu,\"truncated\":%s",
                  (long long)RECENT_WINDOW_MS, r->scanned, r->scanned >= RECENT_MAX ? "true" : "false");
    put_tally(b, "anomalies_by_severity", &r->sev);
    put_tally(b, "anomalies_by_reason", &r->reason);
    sg_buf_putc(b, '}');
    put_top_users(b, r);
    sg_buf_printf(b, ",\"counters\":{%s}}\n", c->raw.data ? c->raw.data : "");
}

static void count_user_row(void *ctx, const char *u, size_t ul, const void *blob, size_t bl)
{
    (void)u;
    (void)ul;
    (void)blob;
    (void)bl;
    (*(uint64_t *)ctx)++;
}

void sg_api_stats_refresh(struct sg_serve *s, struct sg_store *st)
{
    struct counters c;
    memset(&c, 0, sizeof c);
    sg_buf_init(&c.raw);
    sg_store_stats_each(st, on_counter, &c);
    if (!c.has_users) { /* O(users): on the refresh thread only, at most every 30 s */
        int64_t now = sg_time_mono_ms();
        if (!s->users_at_ms || now - s->users_at_ms >= USERS_EVERY_MS) {
            s->users_counted = 0;
            sg_store_users_each(st, NULL, SIZE_MAX, count_user_row, &s->users_counted);
            s->users_at_ms = now;
        }
        c.users = s->users_counted;
    }
    struct recent r;
    memset(&r, 0, sizeof r);
    r.users = sg_xcalloc(TABLE_CAP, sizeof *r.users);
    r.old = s->stats_memo;
    r.cur = sg_xcalloc(1, sizeof *r.cur);
    scan_recent(st, sg_store_watermark(st), &r);
    free(s->stats_memo); /* the refresh thread's own: no lock needed */
    s->stats_memo = r.cur;
    struct sg_buf b;
    sg_buf_init(&b);
    build(s, st, &c, &r, &b);
    char *json = sg_buf_steal(&b);
    pthread_mutex_lock(&s->lock);
    char *old = s->stats.json;
    s->stats.json = json;
    pthread_mutex_unlock(&s->lock);
    free(old);
    free(r.users);
    sg_buf_release(&c.raw);
}

void sg_api_stats_release(struct sg_serve *s)
{
    free(s->stats.json);
    s->stats.json = NULL;
    free(s->stats_memo);
    s->stats_memo = NULL;
}

void sg_api_stats_get(const struct sg_http_req *req, struct sg_http_resp *r, void *ctx)
{
    struct sg_serve *s = ctx;
    static const char *const none[] = {NULL};
    struct sg_http_perr e;
    if (sg_http_url_check(&req->url, none, &e) != SG_OK) {
        sg_http_resp_perr(r, &e);
        return;
    }
    if (!sg_api_store(s, r))
        return;
    pthread_mutex_lock(&s->lock);
    if (s->stats.json)
        sg_buf_puts(&r->body, s->stats.json);
    pthread_mutex_unlock(&s->lock);
    if (r->body.len == 0)
        sg_http_resp_error(r, 503, "not_ready", NULL, "statistics are being computed");
}
