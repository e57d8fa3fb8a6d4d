/* sg_gen: drives the simulation - allocates the requested number of events over users,
 * unrolls each user's timeline one day at a time (following the user's hourly rhythm), merges
 * the planned attack events in, and hands events out in global time order through a min-heap
 * over users. Ground truth is collected as attack events are emitted. */
#include "gen/sg_gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_mem.h"
#include "core/sg_rng.h"
#include "gen/sg_gen_attack.h"
#include "gen/sg_gen_model.h"

static const char *const scenario_names[SG_SCN_COUNT] = {
    "brute_force",       "password_spraying", "account_takeover", "impossible_travel",
    "data_exfiltration", "lateral_movement",  "dns_tunneling",
};

const char *sg_gen_scenario_name(int scenario)
{
    if (scenario < 0)
        return "benign";
    return scenario < SG_SCN_COUNT ? scenario_names[scenario] : "unknown";
}

/* One user's position in its timeline. */
struct stream {
    struct sg_rng trng; /* timing draws (content draws use the user's own rng) */
    int64_t remaining;  /* benign events not yet placed on a day */
    double w_left;      /* activity weight of the days not yet opened */
    int64_t day;        /* next day to open, 0-based from the start */
    int64_t d0;         /* start of the open day */
    int64_t hcnt[24];   /* the open day's benign events per hour */
    int hour;           /* next hour of the open day to unroll; 24 = day done */
    int64_t *ts;        /* this hour's benign timestamps, sorted */
    size_t n, pos, cap;
    struct sg_gen_plan plan; /* attack events (and their benign context) */
    size_t apos;
    int64_t *seq; /* emission number of each plan event, -1 until emitted */
    int64_t next; /* timestamp of the next event, INT64_MAX when done */
};

/* Heap entries carry their key so sifting touches only the heap array. */
struct hnode {
    int64_t next;
    uint32_t user;
};

struct sg_gen {
    struct sg_gen_opts o;
    int64_t end_ms;
    struct sg_gen_user *users;
    struct stream *st;
    struct hnode *heap;
    size_t heap_n;
    int64_t count;
    size_t attackers;
    uint64_t salt;
    struct sg_gen_ev scratch;
};

/* ---- timelines ------------------------------------------------------------------------- */

/* Binomial(n, p): exact for small n, Poisson for rare events, normal otherwise. */
static int64_t binomial(struct sg_rng *r, int64_t n, double p)
{
    if (p <= 0 || n <= 0)
        return 0;
    if (p >= 1)
        return n;
    int64_t k = 0;
    if (n <= 64) {
        for (int64_t i = 0; i < n; i++)
            k += sg_rng_double(r) < p;
        return k;
    }
    double mean = (double)n * p;
    if (mean < 20) {
        double u = sg_rng_double(r), q = exp(-mean), cum = q;
        while (u > cum && k < n) {
            k++;
            q *= mean / (double)k;
            cum += q;
        }
        return k;
    }
    double v = floor(mean + sqrt(mean * (1 - p)) * sg_rng_normal(r) + 0.5);
    return v < 0 ? 0 : (v > (double)n ? n : (int64_t)v);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void sort_small(int64_t *a, size_t n)
{
    if (n > 32) {
        qsort(a, n, sizeof *a, cmp_i64);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        int64_t x = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > x) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

/* Splits a day's k events over its hours by weight w (sum wd): sequential binomials. */
static void split_day(struct sg_rng *r, int64_t k, const double *w, double wd, int64_t *cnt)
{
    int64_t left = k;
    double wleft = wd;
    for (int h = 0; h < 24; h++) {
        if (h == 23)
            cnt[h] = left;
        else if (wleft > 0)
            cnt[h] = binomial(r, left, w[h] / wleft);
        else
            cnt[h] = binomial(r, left, 1.0 / (24 - h));
        wleft -= w[h];
        left -= cnt[h];
    }
}

/* Draws the next day's share of the user's events and its hour counts. Returns 0 when no
 * day is left. */
static int open_day(struct sg_gen *g, size_t i)
{
    struct stream *st = &g->st[i];
    const struct sg_gen_user *u = &g->users[i];
    if (st->remaining <= 0 || st->day >= g->o.days)
        return 0;
    st->d0 = g->o.start_ms + st->day * SG_GEN_DAY_MS;
    double w[24], wd = 0;
    for (int h = 0; h < 24; h++) {
        w[h] = sg_gen_model_hour_weight(u, st->d0 + h * SG_GEN_HOUR_MS);
        wd += w[h];
    }
    int last = st->day == g->o.days - 1 || st->w_left <= wd * (1 + 1e-9);
    int64_t k = last ? st->remaining : binomial(&st->trng, st->remaining, wd / st->w_left);
    st->w_left -= wd;
    st->remaining -= k;
    st->day++;
    split_day(&st->trng, k, w, wd, st->hcnt);
    st->hour = 0;
    return 1;
}

/* People work in sessions: an hour's c events cluster around 1-3 moments (spread of a few
 * minutes), which makes their activity bursty like real logs. Sorted on return. */
static void fill_sessions(struct sg_rng *r, int64_t h0, int64_t c, int64_t *out)
{
    int64_t centre[3];
    int m = 1 + (int)sg_rng_below(r, 3);
    for (int k = 0; k < m; k++)
        centre[k] = (int64_t)sg_rng_below(r, (uint64_t)SG_GEN_HOUR_MS);
    for (int64_t j = 0; j < c; j++) {
        int64_t t = centre[sg_rng_below(r, (uint64_t)m)] + (int64_t)(sg_rng_normal(r) * 240000.0);
        if (t < 0 || t >= SG_GEN_HOUR_MS) /* keep the hour's count: fold stragglers back in */
            t = (int64_t)sg_rng_below(r, (uint64_t)SG_GEN_HOUR_MS);
        out[j] = h0 + t;
    }
    sort_small(out, (size_t)c);
}

/* Refills the user's timestamp buffer with the next non-empty hour (sorted uniform instants
 * within it), opening days as needed; one hour at a time keeps memory small for huge runs. */
static void open_days(struct sg_gen *g, size_t i)
{
    struct stream *st = &g->st[i];
    while (st->pos == st->n) {
        while (st->hour < 24 && st->hcnt[st->hour] == 0)
            st->hour++;
        if (st->hour == 24) {
            if (!open_day(g, i))
                return;
            continue;
        }
        int64_t c = st->hcnt[st->hour], h0 = st->d0 + st->hour * SG_GEN_HOUR_MS;
        st->ts = sg_xgrow(st->ts, &st->cap, (size_t)c, sizeof *st->ts);
        if (g->users[i].role == SG_ROLE_SERVICE) {
            /* scheduled jobs: evenly spaced with a little jitter - benign periodicity that a
             * beacon detector must not mistake for command and control */
            int64_t step = SG_GEN_HOUR_MS / c;
            for (int64_t j = 0; j < c; j++)
                st->ts[j] =
                    h0 + j * step + (int64_t)sg_rng_below(&st->trng, (uint64_t)(step / 10 + 1));
        } else {
            fill_sessions(&st->trng, h0, c, st->ts);
        }
        st->n = (size_t)c;
        st->pos = 0;
        st->hour++;
    }
}

static void stream_peek(struct stream *st)
{
    int64_t b = st->pos < st->n ? st->ts[st->pos] : INT64_MAX;
    int64_t a = st->apos < st->plan.n ? st->plan.ev[st->apos].ts : INT64_MAX;
    st->next = a <= b ? a : b;
}

/* ---- the heap over users, keyed by (next timestamp, user index) ------------------------ */

static int before(const struct hnode *a, const struct hnode *b)
{
    return a->next < b->next || (a->next == b->next && a->user < b->user);
}

static void sift_down(struct sg_gen *g, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < g->heap_n && before(&g->heap[l], &g->heap[m]))
            m = l;
        if (r < g->heap_n && before(&g->heap[r], &g->heap[m]))
            m = r;
        if (m == i)
            return;
        struct hnode t = g->heap[i];
        g->heap[i] = g->heap[m];
        g->heap[m] = t;
        i = m;
    }
}

/* ---- construction -------------------------------------------------------------------- */

static int64_t plan_all(struct sg_gen *g, const uint32_t *who, size_t n, double scale)
{
    int64_t total = 0;
    for (size_t j = 0; j < n; j++) {
        struct sg_gen_user *u = &g->users[who[j]];
        struct stream *st = &g->st[who[j]];
        sg_gen_attack_release(&st->plan);
        sg_gen_attack_plan(u, u->scenario, scale, g->o.start_ms, g->end_ms, g->o.seed, &st->plan);
        total += (int64_t)st->plan.n;
    }
    return total;
}

/* Chooses the attacked users (people, not service accounts, when there are any), gives them
 * scenarios in rotation so every scenario appears, and plans the attacks within half of the
 * event budget. Returns the number of attack-plan events. */
static int64_t choose_attackers(struct sg_gen *g)
{
    size_t U = (size_t)g->o.users, ncand = 0;
    uint32_t *cand = sg_xmalloc(U * sizeof *cand);
    for (size_t i = 0; i < U; i++)
        if (g->users[i].role != SG_ROLE_SERVICE)
            cand[ncand++] = (uint32_t)i;
    if (!ncand)
        for (size_t i = 0; i < U; i++)
            cand[ncand++] = (uint32_t)i;
    size_t n = (size_t)llround((double)U * g->o.attack_users);
    if (n > ncand)
        n = ncand;
    struct sg_rng r;
    sg_rng_seed2(&r, g->o.seed, UINT64_C(0x6174746b));
    for (size_t j = 0; j < n; j++) { /* partial Fisher-Yates */
        size_t k = j + (size_t)sg_rng_below(&r, ncand - j);
        uint32_t t = cand[j];
        cand[j] = cand[k];
        cand[k] = t;
    }
    int off = (int)sg_rng_below(&r, SG_SCN_COUNT);
    for (size_t j = 0; j < n; j++)
        g->users[cand[j]].scenario = (int)((j + (size_t)off) % SG_SCN_COUNT);
    int64_t budget = g->o.events / 2;
    int64_t total = plan_all(g, cand, n, 1.0);
    if (total > budget) {
        double scale = fmax(0.05, (double)budget / (double)total);
        total = plan_all(g, cand, n, scale);
        while (n > 0 && total > budget) { /* still too many: fewer attackers */
            n--;
            struct stream *st = &g->st[cand[n]];
            total -= (int64_t)st->plan.n;
            sg_gen_attack_release(&st->plan);
            g->users[cand[n]].scenario = -1;
        }
    }
    g->attackers = n;
    free(cand);
    return total;
}

/* Spreads `benign` events over users in proportion to their activity, exactly. */
static void allocate(struct sg_gen *g, int64_t benign)
{
    size_t U = (size_t)g->o.users;
    double tot = 0, cum = 0;
    for (size_t i = 0; i < U; i++)
        tot += g->users[i].activity;
    int64_t prev = 0;
    for (size_t i = 0; i < U; i++) {
        cum += g->users[i].activity;
        double frac = i + 1 == U ? 1.0 : cum / tot;
        int64_t upto = (int64_t)floor((double)benign * frac + 0.5);
        if (upto > benign)
            upto = benign;
        if (upto < prev)
            upto = prev;
        g->st[i].remaining = upto - prev;
        prev = upto;
    }
}

static void start_streams(struct sg_gen *g)
{
    size_t U = (size_t)g->o.users;
    g->heap = sg_xmalloc(U * sizeof *g->heap);
    for (size_t i = 0; i < U; i++) {
        struct stream *st = &g->st[i];
        const struct sg_gen_user *u = &g->users[i];
        sg_rng_seed2(&st->trng, g->o.seed ^ UINT64_C(0x74696d65), i);
        for (int64_t d = 0; st->remaining > 0 && d < g->o.days; d++) /* idle users: skip */
            for (int h = 0; h < 24; h++)
                st->w_left += sg_gen_model_hour_weight(u, g->o.start_ms + d * SG_GEN_DAY_MS +
                                                              h * SG_GEN_HOUR_MS);
        if (st->plan.n) {
            st->seq = sg_xmalloc(st->plan.n * sizeof *st->seq);
            for (size_t k = 0; k < st->plan.n; k++)
                st->seq[k] = -1;
        }
        open_days(g, i);
        stream_peek(st);
        if (st->next != INT64_MAX)
            g->heap[g->heap_n++] = (struct hnode){st->next, (uint32_t)i};
    }
    for (size_t i = g->heap_n / 2; i-- > 0;)
        sift_down(g, i);
}

struct sg_gen *sg_gen_new(const struct sg_gen_opts *o, char *errbuf, size_t errlen)
{
    if (o->users < 1 || o->users > 100000000 || o->events < 0 || o->days < 1 || o->days > 3650 ||
        !(o->attack_users >= 0 && o->attack_users <= 1) || o->start_ms < 0 ||
        o->start_ms + o->days * SG_GEN_DAY_MS > INT64_C(253402300799999)) {
        snprintf(errbuf, errlen,
                 "generator options out of range (users 1..1e8, events >= 0, "
                 "days 1..3650, attack fraction 0..1, start within 1970..9999)");
        return NULL;
    }
    struct sg_gen *g = sg_xcalloc(1, sizeof *g);
    g->o = *o;
    g->end_ms = o->start_ms + o->days * SG_GEN_DAY_MS;
    g->salt = sg_rng_mix64(o->seed ^ UINT64_C(0x65766964)) ^ sg_rng_mix64(o->id_salt);
    size_t U = (size_t)o->users;
    g->users = sg_xmalloc(U * sizeof *g->users);
    g->st = sg_xcalloc(U, sizeof *g->st);
    int64_t first = o->start_ms / SG_GEN_DAY_MS - 1, last = g->end_ms / SG_GEN_DAY_MS;
    for (size_t i = 0; i < U; i++)
        sg_gen_model_user_init(&g->users[i], o->seed, (uint32_t)i, first, last);
    int64_t attack = choose_attackers(g);
    allocate(g, o->events - attack);
    start_streams(g);
    return g;
}

void sg_gen_free(struct sg_gen *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < (size_t)g->o.users; i++) {
        free(g->st[i].ts);
        free(g->st[i].seq);
        sg_gen_attack_release(&g->st[i].plan);
    }
    free(g->st);
    free(g->users);
    free(g->heap);
    free(g);
}

/* ---- output -------------------------------------------------------------------------------- */

static void event_id(const struct sg_gen *g, int64_t seq, uint64_t *hi, uint64_t *lo)
{
    /* mix64 is a bijection, so distinct emission numbers give distinct ids. */
    *hi = sg_rng_mix64((uint64_t)seq + g->salt);
    *lo = sg_rng_mix64(*hi ^ (g->salt * 0x9e3779b97f4a7c15ULL));
}

int sg_gen_next(struct sg_gen *g, struct sg_buf *json_out, struct sg_gen_meta *meta)
{
    if (g->count >= g->o.events || g->heap_n == 0)
        return 0;
    uint32_t i = g->heap[0].user;
    struct stream *st = &g->st[i];
    struct sg_gen_user *u = &g->users[i];
    const struct sg_gen_ev *ev;
    int64_t b = st->pos < st->n ? st->ts[st->pos] : INT64_MAX;
    if (st->apos < st->plan.n && st->plan.ev[st->apos].ts <= b) {
        st->seq[st->apos] = g->count;
        ev = &st->plan.ev[st->apos++];
    } else {
        sg_gen_model_benign(u, b, &g->scratch);
        ev = &g->scratch;
        if (++st->pos == st->n)
            open_days(g, i);
    }
    uint64_t hi, lo;
    event_id(g, g->count, &hi, &lo);
    sg_gen_model_render(ev, u, hi, lo, json_out);
    if (meta) {
        meta->user = u->name;
        meta->user_len = u->name_len;
        meta->ts_ms = ev->ts;
        meta->scenario = ev->scenario;
    }
    g->count++;
    stream_peek(st);
    if (st->next == INT64_MAX)
        g->heap[0] = g->heap[--g->heap_n];
    else
        g->heap[0].next = st->next;
    sift_down(g, 0);
    return 1;
}

int64_t sg_gen_count(const struct sg_gen *g)
{
    return g->count;
}

static void put_id(const struct sg_gen *g, int64_t seq, struct sg_buf *out)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t w[2];
    event_id(g, seq, &w[0], &w[1]);
    char s[38] = "\"evt_";
    for (int k = 0; k < 32; k++)
        s[5 + k] = hex[(w[k / 16] >> (60 - 4 * (k % 16))) & 15];
    sg_buf_append(out, s, 37);
    sg_buf_putc(out, '"');
}

void sg_gen_truth(const struct sg_gen *g, struct sg_buf *out)
{
    for (size_t i = 0; i < (size_t)g->o.users; i++) {
        const struct stream *st = &g->st[i];
        const struct sg_gen_user *u = &g->users[i];
        int64_t first = -1, last = -1;
        size_t nids = 0;
        for (size_t k = 0; k < st->plan.n; k++) {
            if (st->seq[k] < 0 || st->plan.ev[k].scenario < 0)
                continue;
            if (first < 0)
                first = st->plan.ev[k].ts;
            last = st->plan.ev[k].ts;
            nids++;
        }
        if (!nids)
            continue;
        sg_buf_puts(out, "{\"user\":");
        sg_buf_json_str(out, u->name, u->name_len);
        sg_buf_printf(out, ",\"scenario\":\"%s\",\"start_ms\":%lld,\"end_ms\":%lld,\"event_ids\":[",
                      sg_gen_scenario_name(u->scenario), (long long)first, (long long)last);
        size_t w = 0;
        for (size_t k = 0; k < st->plan.n; k++) {
            if (st->seq[k] < 0 || st->plan.ev[k].scenario < 0)
                continue;
            if (w++)
                sg_buf_putc(out, ',');
            put_id(g, st->seq[k], out);
        }
        sg_buf_puts(out, "]}\n");
    }
}

size_t sg_gen_user_count(const struct sg_gen *g)
{
    return (size_t)g->o.users;
}

size_t sg_gen_attacker_count(const struct sg_gen *g)
{
    return g->attackers;
}

void sg_gen_user_info(const struct sg_gen *g, size_t i, struct sg_gen_user_info *out)
{
    const struct sg_gen_user *u = &g->users[i];
    out->name = u->name;
    out->role = (enum sg_gen_role)u->role;
    out->home = sg_gen_places[u->home].geo;
    out->tz_offset_min = u->tz_min;
    out->work_start_hour = u->work_start;
    out->work_hours = u->work_len;
    out->scenario = u->scenario;
}
