/* Unit tests of src/gen: determinism, exact counts, time order, event contract (ids, fields),
 * ground truth consistent with the events, role-shaped behaviour, the noisy threat score, and
 * the signatures that make each attack scenario detectable (while benign novelty stays
 * physically plausible). Events are parsed back with cJSON, independently of the generator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <math.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_event.h"
#include "core/sg_mem.h"
#include "core/sg_time.h"
#include "gen/sg_gen.h"

#define START_MS INT64_C(1793491200000) /* 2026-11-01T00:00:00Z, a Sunday */

/* One generated event as read back from its JSON. */
struct rec {
    char id[40], user[48], src[48], qname[160], type[24], status[12], ua[128], host[48];
    int64_t ts;
    double score, lat, lon;
    int64_t bytes_sent;
    int scenario;     /* from sg_gen_meta: ground truth */
    const char *uptr; /* sg_gen_meta.user: the same pointer as sg_gen_user_info.name */
};

struct run {
    struct rec *r;
    size_t n;
    struct sg_buf json, truth;
    struct sg_gen *g;
};

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void copy(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

/* The project's own decoder must accept every generated event, and agree with cJSON. */
static struct sg_arena arena;

static int setup(void **state)
{
    (void)state;
    sg_arena_init(&arena, 1 << 16);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sg_arena_release(&arena);
    return 0;
}

static void decode_line(const char *line, size_t len, const struct rec *r)
{
    struct sg_event ev;
    struct sg_event_error err;
    if (sg_event_decode(line, len, &ev, &arena, &err) != SG_OK)
        fail_msg("sg_event_decode rejected a generated event (%s %s: %s): %.*s",
                 sg_event_reason_name(err.reason), err.field, err.message, (int)len, line);
    assert_int_equal(ev.ts_ms, r->ts);
    assert_string_equal(ev.user.p, r->user);
    assert_string_equal(ev.event_id.p, r->id);
    assert_string_equal(sg_event_type_name(ev.type), r->type);
    assert_true(ev.has_geo);
    assert_true(fabs(ev.threat_score - r->score) < 1e-12);
    sg_arena_reset(&arena);
}

static void parse_line(const char *line, size_t len, struct rec *r)
{
    cJSON *o = cJSON_ParseWithLength(line, len);
    assert_non_null(o);
    const char *ts = jstr(o, "timestamp");
    assert_non_null(ts);
    assert_int_equal(sg_time_parse_rfc3339(ts, strlen(ts), &r->ts), SG_OK);
    copy(r->id, sizeof r->id, jstr(o, "event_id"));
    copy(r->user, sizeof r->user, jstr(o, "user"));
    copy(r->src, sizeof r->src, jstr(o, "source_ip"));
    copy(r->type, sizeof r->type, jstr(o, "event_type"));
    copy(r->status, sizeof r->status, jstr(o, "status"));
    assert_true(r->src[0] && r->user[0] && r->type[0] && r->status[0]);
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(o, "threat_score");
    assert_true(cJSON_IsNumber(sc) && sc->valuedouble >= 0 && sc->valuedouble <= 1);
    r->score = sc->valuedouble;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(o, "metadata");
    assert_true(cJSON_IsObject(md));
    assert_non_null(jstr(md, "hostname"));
    copy(r->ua, sizeof r->ua, jstr(md, "user_agent"));
    copy(r->host, sizeof r->host, jstr(md, "hostname"));
    r->host[strcspn(r->host, "-")] = '\0'; /* keep the naming pattern: wks, DESKTOP, srv... */
    assert_non_null(jstr(md, "geo_location"));
    r->lat = cJSON_GetObjectItemCaseSensitive(md, "geo_lat")->valuedouble;
    r->lon = cJSON_GetObjectItemCaseSensitive(md, "geo_lon")->valuedouble;
    char dname[40];
    snprintf(dname, sizeof dname, "%.*s_details",
             (int)(strchr(r->type, '_') ? strchr(r->type, '_') - r->type : 0), r->type);
    if (!strcmp(r->type, "network_connection"))
        snprintf(dname, sizeof dname, "network_details");
    else if (!strcmp(r->type, "file_access"))
        snprintf(dname, sizeof dname, "file_details");
    else if (!strcmp(r->type, "process_execution"))
        snprintf(dname, sizeof dname, "process_details");
    else if (!strcmp(r->type, "dns_query"))
        snprintf(dname, sizeof dname, "dns_details");
    else
        snprintf(dname, sizeof dname, "auth_details");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, dname);
    assert_true(cJSON_IsObject(d));
    copy(r->qname, sizeof r->qname, jstr(d, "query_name"));
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(d, "bytes_sent");
    r->bytes_sent = cJSON_IsNumber(bs) ? (int64_t)bs->valuedouble : -1;
    cJSON_Delete(o);
    decode_line(line, len, r);
}

static void gen_run(struct run *run, uint64_t seed, int64_t events, int64_t users, double attack,
                    int64_t days)
{
    memset(run, 0, sizeof *run);
    struct sg_gen_opts o = {seed, events, users, attack, days, START_MS, 0};
    char err[256];
    run->g = sg_gen_new(&o, err, sizeof err);
    assert_non_null(run->g);
    sg_buf_init(&run->json);
    sg_buf_init(&run->truth);
    run->r = calloc((size_t)events + 1, sizeof *run->r);
    struct sg_gen_meta meta;
    struct sg_buf one;
    sg_buf_init(&one);
    while (sg_gen_next(run->g, &one, &meta)) {
        assert_true(run->n < (size_t)events);
        struct rec *r = &run->r[run->n++];
        parse_line(one.data, one.len, r);
        assert_int_equal(r->ts, meta.ts_ms);
        assert_string_equal(r->user, meta.user);
        r->scenario = meta.scenario;
        r->uptr = meta.user;
        sg_buf_append(&run->json, one.data, one.len);
        sg_buf_putc(&run->json, '\n');
        sg_buf_reset(&one);
    }
    sg_buf_release(&one);
    sg_gen_truth(run->g, &run->truth);
}

static void run_free(struct run *run)
{
    free(run->r);
    sg_buf_release(&run->json);
    sg_buf_release(&run->truth);
    sg_gen_free(run->g);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_determinism(void **state)
{
    (void)state;
    struct run a, b, c;
    gen_run(&a, 42, 20000, 200, 0.1, 3);
    gen_run(&b, 42, 20000, 200, 0.1, 3);
    gen_run(&c, 43, 20000, 200, 0.1, 3);
    assert_int_equal(a.json.len, b.json.len);
    assert_memory_equal(a.json.data, b.json.data, a.json.len);
    assert_int_equal(a.truth.len, b.truth.len);
    assert_memory_equal(a.truth.data, b.truth.data, a.truth.len);
    assert_true(a.json.len != c.json.len || memcmp(a.json.data, c.json.data, a.json.len) != 0);
    assert_true(strcmp(a.r[0].id, c.r[0].id) != 0);
    run_free(&a);
    run_free(&b);
    run_free(&c);
}

static void check_count(uint64_t seed, int64_t events, int64_t users, double attack, int64_t days)
{
    struct run a;
    gen_run(&a, seed, events, users, attack, days);
    assert_int_equal((int64_t)a.n, events);
    assert_int_equal(sg_gen_count(a.g), events);
    struct sg_buf extra;
    sg_buf_init(&extra);
    assert_int_equal(sg_gen_next(a.g, &extra, NULL), 0); /* exhausted stays exhausted */
    assert_int_equal(extra.len, 0);
    sg_buf_release(&extra);
    int64_t end = START_MS + days * 86400000;
    for (size_t i = 0; i < a.n; i++) {
        assert_true(a.r[i].ts >= START_MS && a.r[i].ts < end);
        if (i)
            assert_true(a.r[i - 1].ts <= a.r[i].ts); /* global order implies per-user order */
    }
    run_free(&a);
}

static void test_counts_and_order(void **state)
{
    (void)state;
    check_count(1, 0, 10, 0.5, 1);
    check_count(2, 1, 10, 0.5, 1);
    check_count(3, 37, 1000, 0.2, 2); /* fewer events than users, attacks must shrink */
    check_count(4, 5000, 50, 1.0, 1); /* every person attacked, one-day window */
    check_count(5, 30000, 300, 0.05, 14);
}

static int cmp_idp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Many small random option sets: exact counts, order, window and decodable events every
 * time (catches the edge cases of allocation and attack budgeting). */
static void test_random_options(void **state)
{
    (void)state;
    uint64_t x = 12345;
    for (int k = 0; k < 60; k++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t events = (int64_t)((x >> 33) % 3000);
        int64_t users = 1 + (int64_t)((x >> 17) % 300);
        double attack = (double)((x >> 9) % 101) / 100.0;
        int64_t days = 1 + (int64_t)((x >> 3) % 30);
        check_count(x, events, users, attack, days);
    }
}

static void test_ids_unique_and_well_formed(void **state)
{
    (void)state;
    struct run a;
    gen_run(&a, 9, 30000, 300, 0.05, 7);
    char **ids = malloc(a.n * sizeof *ids);
    for (size_t i = 0; i < a.n; i++) {
        const char *id = a.r[i].id;
        assert_int_equal(strlen(id), 36);
        assert_memory_equal(id, "evt_", 4);
        for (int k = 4; k < 36; k++)
            assert_non_null(strchr("0123456789abcdef", id[k]));
        ids[i] = a.r[i].id;
    }
    qsort(ids, a.n, sizeof *ids, cmp_idp);
    for (size_t i = 1; i < a.n; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) != 0);
    free(ids);
    run_free(&a);
}

static const struct rec *find_id(struct rec **sorted, size_t n, const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(sorted[mid]->id, id);
        if (!c)
            return sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int cmp_recp(const void *a, const void *b)
{
    return strcmp((*(struct rec *const *)a)->id, (*(struct rec *const *)b)->id);
}

static void test_truth_matches_events(void **state)
{
    (void)state;
    struct run a;
    gen_run(&a, 11, 40000, 300, 0.1, 7);
    size_t attackers = sg_gen_attacker_count(a.g);
    assert_int_equal(attackers, 30);
    struct rec **sorted = malloc(a.n * sizeof *sorted);
    for (size_t i = 0; i < a.n; i++)
        sorted[i] = &a.r[i];
    qsort(sorted, a.n, sizeof *sorted, cmp_recp);
    int seen[SG_SCN_COUNT] = {0};
    size_t lines = 0, truth_ids = 0;
    for (char *line = a.truth.data, *nl; line && *line; line = nl + 1) {
        nl = strchr(line, '\n');
        assert_non_null(nl);
        cJSON *o = cJSON_ParseWithLength(line, (size_t)(nl - line));
        assert_non_null(o);
        const char *user = jstr(o, "user"), *scn = jstr(o, "scenario");
        assert_non_null(user);
        assert_non_null(scn);
        int s = -1;
        for (int k = 0; k < SG_SCN_COUNT; k++)
            if (!strcmp(scn, sg_gen_scenario_name(k)))
                s = k;
        assert_true(s >= 0);
        seen[s]++;
        int64_t start = (int64_t)cJSON_GetObjectItem(o, "start_ms")->valuedouble;
        int64_t end = (int64_t)cJSON_GetObjectItem(o, "end_ms")->valuedouble;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        const cJSON *id;
        cJSON_ArrayForEach(id, cJSON_GetObjectItem(o, "event_ids"))
        {
            const struct rec *r = find_id(sorted, a.n, id->valuestring);
            assert_non_null(r);                 /* the id exists in the output */
            assert_string_equal(r->user, user); /* and belongs to that user */
            assert_int_equal(r->scenario, s);
            lo = r->ts < lo ? r->ts : lo;
            hi = r->ts > hi ? r->ts : hi;
            truth_ids++;
        }
        assert_int_equal(lo, start);
        assert_int_equal(hi, end);
        cJSON_Delete(o);
        lines++;
    }
    assert_int_equal(lines, attackers); /* every attacker, once */
    for (int k = 0; k < SG_SCN_COUNT; k++)
        assert_true(seen[k] >= 1);
    size_t labelled = 0; /* and no attack event is missing from the truth */
    for (size_t i = 0; i < a.n; i++)
        labelled += a.r[i].scenario >= 0;
    assert_int_equal(labelled, truth_ids);
    free(sorted);
    run_free(&a);
}

static const struct sg_gen *cmp_gen;

static int cmp_user_idx(const void *a, const void *b)
{
    struct sg_gen_user_info x, y;
    sg_gen_user_info(cmp_gen, *(const size_t *)a, &x);
    sg_gen_user_info(cmp_gen, *(const size_t *)b, &y);
    return strcmp(x.name, y.name);
}

/* Looks a user up by name in `order` (user indices sorted by name). */
static void user_by_name(const struct sg_gen *g, const size_t *order, const char *name,
                         struct sg_gen_user_info *out)
{
    size_t lo = 0, hi = sg_gen_user_count(g);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        sg_gen_user_info(g, order[mid], out);
        int c = strcmp(out->name, name);
        if (!c)
            return;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    fail_msg("unknown user %s", name);
}

static void test_roles_shape_behaviour(void **state)
{
    (void)state;
    struct run a;
    gen_run(&a, 5, 50000, 200, 0.0, 7);
    double type_n[SG_ROLE_COUNT][5] = {{0}}, tot[SG_ROLE_COUNT] = {0}, night[SG_ROLE_COUNT] = {0};
    static const char *const types[] = {"auth_attempt", "network_connection", "file_access",
                                        "process_execution", "dns_query"};
    size_t *order = malloc(sg_gen_user_count(a.g) * sizeof *order);
    for (size_t i = 0; i < sg_gen_user_count(a.g); i++)
        order[i] = i;
    cmp_gen = a.g;
    qsort(order, sg_gen_user_count(a.g), sizeof *order, cmp_user_idx);
    int in_hours = 0, human = 0;
    for (size_t i = 0; i < a.n; i++) {
        struct sg_gen_user_info info;
        user_by_name(a.g, order, a.r[i].user, &info);
        int role = (int)info.role;
        for (int t = 0; t < 5; t++)
            type_n[role][t] += !strcmp(a.r[i].type, types[t]);
        tot[role]++;
        int64_t local = a.r[i].ts + (int64_t)info.tz_offset_min * 60000;
        int hod = (int)((local / 3600000) % 24);
        night[role] += hod < 5;
        if (role != SG_ROLE_SERVICE) {
            human++;
            int rel = (hod - info.work_start_hour + 24) % 24;
            in_hours += rel < info.work_hours + 2 || rel == 23;
        }
    }
    for (int r = 0; r < SG_ROLE_COUNT; r++)
        assert_true(tot[r] > 100); /* every role is present */
    /* finance lives in files, admins in processes, services on the network, around the clock */
    assert_true(type_n[SG_ROLE_FINANCE][2] / tot[SG_ROLE_FINANCE] >
                2 * type_n[SG_ROLE_FINANCE][3] / tot[SG_ROLE_FINANCE]);
    assert_true(type_n[SG_ROLE_ADMIN][3] / tot[SG_ROLE_ADMIN] >
                2 * type_n[SG_ROLE_FINANCE][3] / tot[SG_ROLE_FINANCE]);
    assert_true(type_n[SG_ROLE_SERVICE][1] / tot[SG_ROLE_SERVICE] > 0.4);
    assert_true(night[SG_ROLE_SERVICE] / tot[SG_ROLE_SERVICE] > 0.15);
    assert_true(night[SG_ROLE_ENGINEER] / tot[SG_ROLE_ENGINEER] < 0.05);
    assert_true((double)in_hours / human > 0.75); /* people keep their working hours */
    free(order);
    run_free(&a);
}

/* Mean over (user, hour) of the coefficient of variation of the gaps between the user's
 * consecutive events in that hour (hours with at least 4 gaps), for users of `role`. */
static double hourly_gap_cv(const struct run *a, int role)
{
    double cv_sum = 0;
    int groups = 0;
    for (size_t u = 0; u < sg_gen_user_count(a->g); u++) {
        struct sg_gen_user_info info;
        sg_gen_user_info(a->g, u, &info);
        if ((int)info.role != role)
            continue;
        int64_t prev = -1;
        double sum = 0, sq = 0, n = 0;
        for (size_t i = 0; i <= a->n; i++) {
            if (i < a->n && a->r[i].uptr != info.name)
                continue;
            int64_t t = i < a->n ? a->r[i].ts : -1;
            if (prev >= 0 && t / 3600000 == prev / 3600000) {
                double g = (double)(t - prev);
                sum += g;
                sq += g * g;
                n++;
            } else if (n >= 4) { /* the hour is over: fold it in */
                double mean = sum / n;
                cv_sum += sqrt(fmax(0, sq / n - mean * mean)) / mean;
                groups++;
                sum = sq = n = 0;
            } else {
                sum = sq = n = 0;
            }
            prev = t;
        }
    }
    assert_true(groups > 20);
    return cv_sum / groups;
}

static void test_service_accounts_are_periodic(void **state)
{
    (void)state;
    struct run a;
    gen_run(&a, 8, 30000, 60, 0.0, 3);
    double svc = hourly_gap_cv(&a, SG_ROLE_SERVICE), eng = hourly_gap_cv(&a, SG_ROLE_ENGINEER);
    print_message("gap cv: service %.2f engineer %.2f\n", svc, eng);
    assert_true(svc < 0.4); /* scheduled jobs */
    assert_true(eng > 0.7); /* people are bursty/random */
    run_free(&a);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_threat_score_is_noisy(void **state)
{
    (void)state;
    struct run a;
    gen_run(&a, 21, 40000, 300, 0.1, 7);
    double *benign = malloc(a.n * sizeof *benign), *attack = malloc(a.n * sizeof *attack);
    size_t nb = 0, na = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (a.r[i].scenario >= 0)
            attack[na++] = a.r[i].score;
        else
            benign[nb++] = a.r[i].score;
    }
    assert_true(na > 500);
    qsort(benign, nb, sizeof *benign, cmp_double);
    qsort(attack, na, sizeof *attack, cmp_double);
    double mb = 0, ma = 0;
    for (size_t i = 0; i < nb; i++)
        mb += benign[i] / (double)nb;
    for (size_t i = 0; i < na; i++)
        ma += attack[i] / (double)na;
    assert_true(ma > mb + 0.15); /* elevated on average */
    double b90 = benign[nb * 9 / 10], a_median = attack[na / 2];
    size_t below = 0, above = 0;
    for (size_t i = 0; i < na; i++)
        below += attack[i] < b90;
    for (size_t i = 0; i < nb; i++)
        above += benign[i] > a_median;
    assert_true((double)below / (double)na > 0.15); /* many attack events look harmless */
    assert_true(above > 100);                       /* and some benign ones look alarming */
    free(benign);
    free(attack);
    run_free(&a);
}

static double km(double la1, double lo1, double la2, double lo2)
{
    const double rad = 3.14159265358979323846 / 180;
    double dla = (la2 - la1) * rad, dlo = (lo2 - lo1) * rad;
    double h =
        sin(dla / 2) * sin(dla / 2) + cos(la1 * rad) * cos(la2 * rad) * sin(dlo / 2) * sin(dlo / 2);
    return 2 * 6371 * asin(sqrt(h));
}

/* Max speed (km/h) between consecutive events of `user`, considering only events with
 * scenario in the allowed set (benign only if `benign_only`). */
static double max_speed(const struct run *a, const char *user, int benign_only)
{
    const struct rec *prev = NULL;
    double best = 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct rec *r = &a->r[i];
        if (r->uptr != user || (benign_only && r->scenario >= 0))
            continue;
        if (prev && (r->lat != prev->lat || r->lon != prev->lon)) {
            double hours = (double)(r->ts - prev->ts) / 3.6e6 + 1e-6;
            double v = km(prev->lat, prev->lon, r->lat, r->lon) / hours;
            best = v > best ? v : best;
        }
        prev = r;
    }
    return best;
}

static void test_travel_plausible_attacks_not(void **state)
{
    (void)state;
    struct run a;
    gen_run(&a, 31, 40000, 300, 0.1, 10);
    int it = 0, moved = 0;
    for (size_t i = 0; i < sg_gen_user_count(a.g); i++) {
        struct sg_gen_user_info info;
        sg_gen_user_info(a.g, i, &info);
        double benign = max_speed(&a, info.name, 1);
        assert_true(benign < 1000); /* benign trips respect flight times */
        moved += benign > 0;
        if (info.scenario == SG_SCN_IMPOSSIBLE_TRAVEL) {
            assert_true(max_speed(&a, info.name, 0) > 2000);
            it++;
        }
    }
    assert_true(it >= 1);
    assert_true(moved >= 3); /* benign novelty exists: some people do travel */
    run_free(&a);
}

static void test_scenario_signatures(void **state)
{
    (void)state;
    struct run a;
    gen_run(&a, 41, 40000, 300, 0.1, 7);
    for (size_t u = 0; u < sg_gen_user_count(a.g); u++) {
        struct sg_gen_user_info info;
        sg_gen_user_info(a.g, u, &info);
        if (info.scenario < 0)
            continue;
        size_t fails = 0, big = 0, dns = 0, n = 0;
        int64_t first = -1, last = -1, prev = -1;
        double gap_sum = 0, gap_sq = 0;
        size_t gaps = 0;
        for (size_t i = 0; i < a.n; i++) {
            const struct rec *r = &a.r[i];
            if (r->scenario != info.scenario || r->uptr != info.name)
                continue;
            n++;
            first = first < 0 ? r->ts : first;
            last = r->ts;
            fails += !strcmp(r->type, "auth_attempt") && strcmp(r->status, "success");
            big += r->bytes_sent > 50000000;
            if (!strcmp(r->type, "dns_query")) {
                dns++;
                size_t label = strcspn(r->qname, ".");
                if (info.scenario == SG_SCN_DNS_TUNNEL) {
                    assert_true(label >= 32);
                    if (prev >= 0) {
                        double g = (double)(r->ts - prev);
                        gap_sum += g;
                        gap_sq += g * g;
                        gaps++;
                    }
                    prev = r->ts;
                }
            }
        }
        assert_true(n >= 1);
        switch (info.scenario) {
        case SG_SCN_BRUTE_FORCE:
            assert_true(fails >= 20);
            assert_true(last - first < 4 * 3600000); /* a burst */
            break;
        case SG_SCN_PASSWORD_SPRAY: assert_true(fails >= 2 && fails <= 6); break;
        case SG_SCN_ACCOUNT_TAKEOVER: assert_true(fails >= 2 && n > fails + 3); break;
        case SG_SCN_EXFILTRATION: assert_true(big >= 1); break;
        case SG_SCN_DNS_TUNNEL: {
            assert_true(gaps >= 9);
            double mean = gap_sum / (double)gaps;
            double sd = sqrt(gap_sq / (double)gaps - mean * mean);
            assert_true(sd / mean < 0.2); /* periodic beacons */
            break;
        }
        default: break;
        }
    }
    run_free(&a);
}

/* Nothing but behaviour gives an attack away: every user agent and host naming pattern seen
 * in attack events also occurs in benign ones. */
static int in_sorted(char **v, size_t n, const char *s)
{
    return bsearch(&s, v, n, sizeof *v, cmp_idp) != NULL;
}

static void test_no_label_artefacts(void **state)
{
    (void)state;
    struct run a;
    gen_run(&a, 51, 40000, 300, 0.1, 7);
    char **uas = malloc(a.n * sizeof *uas), **hosts = malloc(a.n * sizeof *hosts);
    size_t nb = 0;
    for (size_t i = 0; i < a.n; i++)
        if (a.r[i].scenario < 0) {
            uas[nb] = a.r[i].ua;
            hosts[nb++] = a.r[i].host;
        }
    qsort(uas, nb, sizeof *uas, cmp_idp);
    qsort(hosts, nb, sizeof *hosts, cmp_idp);
    size_t attack = 0;
    for (size_t i = 0; i < a.n; i++) {
        if (a.r[i].scenario < 0)
            continue;
        attack++;
        if (!in_sorted(uas, nb, a.r[i].ua))
            fail_msg("attack-only user agent '%s'", a.r[i].ua);
        if (!in_sorted(hosts, nb, a.r[i].host))
            fail_msg("attack-only host pattern '%s'", a.r[i].host);
    }
    assert_true(attack > 500);
    free(uas);
    free(hosts);
    run_free(&a);
}

/* --id-salt: the same people doing the same things at the same times, under new event ids. */
static void test_id_salt(void **state)
{
    (void)state;
    char err[256];
    struct sg_gen_opts o1 = {5, 3000, 50, 0.1, 2, START_MS, 0};
    struct sg_gen_opts o2 = o1;
    o2.id_salt = 77;
    struct sg_gen *g1 = sg_gen_new(&o1, err, sizeof err), *g2 = sg_gen_new(&o2, err, sizeof err);
    assert_non_null(g1);
    assert_non_null(g2);
    struct sg_buf j1, j2;
    sg_buf_init(&j1);
    sg_buf_init(&j2);
    struct sg_gen_meta m1, m2;
    int n = 0;
    while (sg_gen_next(g1, &j1, &m1)) {
        assert_int_equal(sg_gen_next(g2, &j2, &m2), 1);
        assert_string_equal(m1.user, m2.user);
        assert_int_equal(m1.ts_ms, m2.ts_ms);
        /* {"event_id":"evt_ is 17 bytes, then 32 hex digits: they differ, the rest is equal */
        assert_true(j1.len == j2.len && j1.len > 50);
        assert_memory_not_equal(j1.data + 17, j2.data + 17, 32);
        assert_memory_equal(j1.data + 49, j2.data + 49, j1.len - 49);
        sg_buf_reset(&j1);
        sg_buf_reset(&j2);
        n++;
    }
    assert_int_equal(n, 3000);
    sg_buf_release(&j1);
    sg_buf_release(&j2);
    sg_gen_free(g1);
    sg_gen_free(g2);
}

static void test_bad_options(void **state)
{
    (void)state;
    char err[256];
    struct sg_gen_opts o = {1, 10, 0, 0.1, 1, START_MS, 0};
    assert_null(sg_gen_new(&o, err, sizeof err));
    assert_true(strlen(err) > 10);
    o.users = 10;
    o.attack_users = 1.5;
    assert_null(sg_gen_new(&o, err, sizeof err));
    o.attack_users = 0.1;
    o.days = 0;
    assert_null(sg_gen_new(&o, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_counts_and_order),
        cmocka_unit_test(test_random_options),
        cmocka_unit_test(test_ids_unique_and_well_formed),
        cmocka_unit_test(test_truth_matches_events),
        cmocka_unit_test(test_roles_shape_behaviour),
        cmocka_unit_test(test_threat_score_is_noisy),
        cmocka_unit_test(test_service_accounts_are_periodic),
        cmocka_unit_test(test_travel_plausible_attacks_not),
        cmocka_unit_test(test_scenario_signatures),
        cmocka_unit_test(test_no_label_artefacts),
        cmocka_unit_test(test_id_salt),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
