/* sg_user: profile update and the compact binary encoding (format version 3: a version byte,
 * the partition + 1 (0 = unknown), then varints, zigzag varints for signed values and 8-byte
 * little-endian doubles, in field order; sets store only their used entries. Version 2 lacks
 * the partition, version 1 also the trailing rolling-feature fields; both are still read). */
#include "speed/sg_user.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "batch/sg_features.h"
#include "core/sg_hash.h"
#include "core/sg_time.h"
#include "core/sg_varint.h"
#include "speed/sg_detect.h"

#define FORMAT_VERSION 3
#define HASH_SEED 0x5347u

void sg_user_init(struct sg_user_state *u)
{
    memset(u, 0, sizeof *u);
    u->partition = -1;
    u->model_score = -1;
}

void sg_ewma_add(struct sg_ewma *e, double x, double alpha)
{
    if (e->n == 0) {
        e->mean = x;
        e->var = 0;
    } else {
        double d = x - e->mean;
        e->mean += alpha * d;
        e->var = (1 - alpha) * (e->var + alpha * d * d);
    }
    if (e->n < UINT32_MAX)
        e->n++;
}

int sg_user_hour_of_week(int64_t ms)
{
    if (ms < 0)
        ms = 0; /* the contract has no time before 1970; never index out of the week */
    int64_t hours = ms / 3600000;
    int64_t days = hours / 24;
    int dow = (int)((days + 3) % 7); /* 1970-01-01 was a Thursday: Monday = 0 */
    return dow * 24 + (int)(hours % 24);
}

const char *sg_user_country(const struct sg_event *ev, size_t *n)
{
    const char *p = ev->geo_location.p;
    const char *dash = memchr(p, '-', ev->geo_location.len);
    *n = dash ? (size_t)(dash - p) : ev->geo_location.len;
    return p;
}

static size_t cap_of(const struct sg_seen_set *set, const struct sg_user_state *u)
{
    if (set == &u->ip_set)
        return SG_USER_IPS;
    if (set == &u->host_set)
        return SG_USER_HOSTS;
    if (set == &u->country_set)
        return SG_USER_COUNTRIES;
    return SG_USER_PROCS;
}

const struct sg_seen *sg_user_seen_find(const struct sg_seen *arr, const struct sg_seen_set *set,
                                        const char *v, size_t n)
{
    uint64_t h = sg_hash_bytes(v, n, HASH_SEED);
    for (size_t i = 0; i < set->n; i++)
        if (arr[i].hash == h)
            return &arr[i];
    return NULL;
}

static void seen_add(struct sg_user_state *u, struct sg_seen *arr, struct sg_seen_set *set,
                     const char *v, size_t n, int64_t ts)
{
    if (!n)
        return;
    uint64_t h = sg_hash_bytes(v, n, HASH_SEED);
    set->total++;
    for (size_t i = 0; i < set->n; i++) {
        if (arr[i].hash == h) {
            if (arr[i].count < UINT32_MAX)
                arr[i].count++;
            if (ts > arr[i].last_ms)
                arr[i].last_ms = ts;
            return;
        }
    }
    set->distinct++;
    size_t slot = set->n;
    if (set->n == cap_of(set, u)) { /* evict the least frequent, the oldest on ties */
        slot = 0;
        for (size_t i = 1; i < set->n; i++)
            if (arr[i].count < arr[slot].count ||
                (arr[i].count == arr[slot].count && arr[i].last_ms < arr[slot].last_ms))
                slot = i;
    } else {
        set->n++;
    }
    struct sg_seen *s = &arr[slot];
    memset(s, 0, sizeof *s);
    s->hash = h;
    s->count = 1;
    s->last_ms = ts;
    size_t k = n < SG_USER_NAME - 1 ? n : SG_USER_NAME - 1;
    memcpy(s->name, v, k);
}

static void fail_push(struct sg_user_state *u, const struct sg_event *ev)
{
    const struct sg_str *t = ev->destination_ip.len ? &ev->destination_ip : &ev->hostname;
    u->fail_ms[u->fail_head] = ev->ts_ms;
    u->fail_target[u->fail_head] = sg_hash_bytes(t->p, t->len, HASH_SEED);
    u->fail_head = (uint8_t)((u->fail_head + 1) % SG_USER_FAILS);
    if (u->fail_n < SG_USER_FAILS)
        u->fail_n++;
    u->n_failures++;
}

int sg_user_admin_port(const struct sg_event *ev)
{
    if (ev->type != SG_EV_NETWORK)
        return 0;
    switch (ev->d.net.destination_port) {
    case 22: case 135: case 139: case 445: case 3389: case 5985: case 5986: return 1;
    default: return 0;
    }
}

static void admin_push(struct sg_user_state *u, const struct sg_event *ev)
{
    u->adm_ms[u->adm_head] = ev->ts_ms;
    u->adm_dst[u->adm_head] = sg_hash_bytes(ev->destination_ip.p, ev->destination_ip.len,
                                            HASH_SEED);
    u->adm_head = (uint8_t)((u->adm_head + 1) % SG_USER_ADMIN);
    if (u->adm_n < SG_USER_ADMIN)
        u->adm_n++;
}

static void rate_add(struct sg_user_state *u, int64_t ts)
{
    int64_t minute = ts / 60000;
    if (minute == u->rate_minute) {
        u->rate_count++;
    } else if (minute > u->rate_minute) {
        if (u->rate_count)
            sg_ewma_add(&u->rate, u->rate_count, 0.1);
        u->rate_minute = minute;
        u->rate_count = 1;
    } /* older than the current minute: out of order, not counted in the rate */
}

static uint32_t share_count(double share, uint32_t pseudo)
{
    long c = lround(share * pseudo);
    return c < 1 ? 1 : (uint32_t)c;
}

void sg_user_warm_start(struct sg_user_state *u, const struct sg_baseline *b, int64_t ts,
                        uint32_t pseudo)
{
    int64_t start = ts - 7 * 24 * 3600000LL;
    for (int h = 0; h < 24; h++) {
        int utc = ((h - b->tz_hours) % 24 + 24) % 24;
        long c = lround(b->hour_share[h] * pseudo);
        for (int d = 0; d < 7; d++)
            u->how[d * 24 + utc] = (uint16_t)(c > UINT16_MAX ? UINT16_MAX : c);
    }
    for (int i = 0; i < b->n_ips; i++) {
        uint32_t c = share_count(b->ip_share[i], pseudo);
        for (uint32_t k = 0; k < c; k++)
            seen_add(u, u->ips, &u->ip_set, b->ips[i], strlen(b->ips[i]), start);
    }
    for (int i = 0; i < b->n_locs; i++) {
        const char *loc = b->locs[i];
        const char *dash = strchr(loc, '-');
        size_t cl = dash ? (size_t)(dash - loc) : strlen(loc);
        uint32_t c = share_count(b->loc_share[i], pseudo);
        for (uint32_t k = 0; k < c; k++)
            seen_add(u, u->countries, &u->country_set, loc, cl, start);
    }
    if (b->bytes_per_event > 0) {
        u->volume.mean = log1p(b->bytes_per_event);
        u->volume.var = 1.0;
        u->volume.n = 20;
    }
    u->n_events = pseudo;
    u->first_ms = start;
    u->last_ms = start;
}

void sg_user_note_anomaly(struct sg_user_state *u, int64_t ts, double score)
{
    if (ts >= u->risk_ms) {
        u->risk_ms = ts;
        u->risk = score;
    }
}

void sg_user_update(struct sg_user_state *u, const struct sg_event *ev)
{
    int64_t ts = ev->ts_ms;
    if (u->n_events == 0 || ts < u->first_ms)
        u->first_ms = ts;
    if (ts > u->last_ms)
        u->last_ms = ts;
    u->n_events++;
    int h = sg_user_hour_of_week(ts);
    if (u->how[h] == UINT16_MAX)
        for (int i = 0; i < SG_USER_HOW; i++)
            u->how[i] /= 2;
    u->how[h]++;
    u->type_count[ev->type]++;
    seen_add(u, u->ips, &u->ip_set, ev->source_ip.p, ev->source_ip.len, ts);
    seen_add(u, u->hosts, &u->host_set, ev->hostname.p, ev->hostname.len, ts);
    size_t cl;
    const char *cc = sg_user_country(ev, &cl);
    seen_add(u, u->countries, &u->country_set, cc, cl, ts);
    if (ev->status != SG_STATUS_SUCCESS)
        fail_push(u, ev);
    if (sg_user_admin_port(ev) && ev->destination_ip.len)
        admin_push(u, ev);
    rate_add(u, ts);
    if (ev->type == SG_EV_NETWORK && ev->d.net.bytes_sent >= 0)
        sg_ewma_add(&u->volume, log1p((double)ev->d.net.bytes_sent), 0.05);
    if (ev->type == SG_EV_DNS && ev->d.dns.query_name.len)
        sg_ewma_add(&u->dns_len, (double)ev->d.dns.query_name.len, 0.05);
    if (ev->type == SG_EV_PROCESS)
        seen_add(u, u->procs, &u->proc_set, ev->d.proc.process_name.p,
                 ev->d.proc.process_name.len, ts);
    if (ev->type == SG_EV_FILE &&
        sg_det_sensitive_path(ev->d.file.file_path.p, ev->d.file.file_path.len)) {
        u->sensitive_n++;
        if (ts - u->sens_win_ms > 3600000 || ts < u->sens_win_ms) {
            u->sens_win_ms = ts;
            u->sens_win_n = 0;
        }
        u->sens_win_n++;
    }
    if (ev->has_geo && ts >= u->loc_ms) {
        u->has_loc = 1;
        u->lat = ev->geo_lat;
        u->lon = ev->geo_lon;
        u->loc_ms = ts;
    }
}

/* ---- encoding --------------------------------------------------------------------------- */

/* The encoder writes through a cursor into space reserved once (see sg_user_encode): one
 * bounds-checked append per field was most of its cost, and it runs for every changed
 * profile of every batch. */
static uint8_t *put_u(uint8_t *o, uint64_t v)
{
    return o + sg_varint_encode(v, o);
}

static uint8_t *put_i(uint8_t *o, int64_t v)
{
    return put_u(o, sg_varint_zigzag(v));
}

static uint8_t *put_d(uint8_t *o, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    for (int i = 0; i < 8; i++)
        o[i] = (uint8_t)(v >> (8 * i));
    return o + 8;
}

static uint8_t *put_ewma(uint8_t *o, const struct sg_ewma *e)
{
    o = put_u(o, e->n);
    o = put_d(o, e->mean);
    return put_d(o, e->var);
}

static uint8_t *put_set(uint8_t *o, const struct sg_seen *arr, const struct sg_seen_set *s)
{
    o = put_u(o, s->n);
    o = put_u(o, s->distinct);
    o = put_u(o, s->total);
    for (size_t i = 0; i < s->n; i++) {
        o = put_u(o, arr[i].hash);
        o = put_u(o, arr[i].count);
        o = put_i(o, arr[i].last_ms);
        size_t l = strlen(arr[i].name);
        o = put_u(o, l);
        memcpy(o, arr[i].name, l);
        o += l;
    }
    return o;
}

void sg_user_encode(const struct sg_user_state *u, struct sg_buf *b)
{
    /* No field encodes to more than twice its size in the struct (a varint of a 1-8 byte
     * integer takes at most 2-10 bytes, a name 1 + up to 31): reserve that once. */
    const size_t bound = 2 * sizeof *u + 64;
    sg_buf_reserve(b, bound);
    uint8_t *start = (uint8_t *)b->data + b->len, *o = start;
    o = put_u(o, FORMAT_VERSION);
    o = put_u(o, (uint64_t)((int64_t)u->partition + 1));
    o = put_i(o, u->first_ms);
    o = put_i(o, u->last_ms);
    o = put_u(o, u->n_events);
    for (int i = 0; i < SG_USER_HOW; i++)
        o = put_u(o, u->how[i]);
    for (int i = 0; i < SG_EV_TYPE_COUNT; i++)
        o = put_u(o, u->type_count[i]);
    o = put_set(o, u->ips, &u->ip_set);
    o = put_set(o, u->hosts, &u->host_set);
    o = put_set(o, u->countries, &u->country_set);
    o = put_set(o, u->procs, &u->proc_set);
    o = put_u(o, u->fail_head);
    o = put_u(o, u->fail_n);
    o = put_u(o, u->n_failures);
    for (int i = 0; i < SG_USER_FAILS; i++) {
        o = put_i(o, u->fail_ms[i]);
        o = put_u(o, u->fail_target[i]);
    }
    o = put_u(o, u->adm_head);
    o = put_u(o, u->adm_n);
    for (int i = 0; i < u->adm_n; i++) {
        o = put_i(o, u->adm_ms[i]);
        o = put_u(o, u->adm_dst[i]);
    }
    o = put_i(o, u->rate_minute);
    o = put_u(o, u->rate_count);
    o = put_ewma(o, &u->rate);
    o = put_ewma(o, &u->volume);
    o = put_ewma(o, &u->dns_len);
    o = put_u(o, (uint64_t)u->has_loc);
    o = put_d(o, u->lat);
    o = put_d(o, u->lon);
    o = put_i(o, u->loc_ms);
    o = put_u(o, u->sensitive_n);
    o = put_i(o, u->sens_win_ms);
    o = put_u(o, u->sens_win_n);
    o = put_d(o, u->model_score);
    o = put_i(o, u->risk_ms);
    o = put_d(o, u->risk);
    o = put_u(o, u->roll_model);
    o = put_u(o, u->roll_n);
    size_t n = (size_t)(o - start);
    if (n > bound)
        abort(); /* cannot happen (see above); better than a silent overrun */
    b->len += n;
    b->data[b->len] = '\0';
}

struct rd {
    const unsigned char *p, *end;
    int bad;
};

static uint64_t get_u(struct rd *r)
{
    return sg_varint_read(&r->p, r->end, &r->bad);
}

static int64_t get_i(struct rd *r)
{
    return sg_varint_unzigzag(get_u(r));
}

static double get_d(struct rd *r)
{
    if (r->end - r->p < 8) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    double d;
    memcpy(&d, &v, 8);
    return d;
}

/* The format-3 partition field: the partition + 1, 0 = unknown (-1); past INT32_MAX is bad. */
static int32_t get_partition(struct rd *r)
{
    uint64_t pp = get_u(r);
    if (pp > (uint64_t)INT32_MAX) {
        r->bad = 1;
        return -1;
    }
    return (int32_t)pp - 1;
}

static void get_ewma(struct rd *r, struct sg_ewma *e)
{
    e->n = (uint32_t)get_u(r);
    e->mean = get_d(r);
    e->var = get_d(r);
}

static void get_set(struct rd *r, struct sg_seen *arr, struct sg_seen_set *s, size_t cap)
{
    uint64_t n = get_u(r);
    if (n > cap) {
        r->bad = 1;
        return;
    }
    s->n = (uint8_t)n;
    s->distinct = (uint32_t)get_u(r);
    s->total = (uint32_t)get_u(r);
    for (size_t i = 0; i < n && !r->bad; i++) {
        arr[i].hash = get_u(r);
        arr[i].count = (uint32_t)get_u(r);
        arr[i].last_ms = get_i(r);
        uint64_t l = get_u(r);
        if (l >= SG_USER_NAME || (uint64_t)(r->end - r->p) < l) {
            r->bad = 1;
            return;
        }
        memcpy(arr[i].name, r->p, l);
        arr[i].name[l] = 0;
        r->p += l;
    }
}

static int ok_ms(int64_t t)
{
    return t >= 0 && t <= SG_TIME_MAX_MS;
}

static int ok_ewma(const struct sg_ewma *e)
{
    return isfinite(e->mean) && isfinite(e->var) && e->var >= 0;
}

/* Values a profile built from valid events can hold: a blob outside them is corrupt (and
 * would make the detectors' arithmetic overflow or produce NaN). */
static int plausible(const struct sg_user_state *u)
{
    if (!ok_ms(u->first_ms) || !ok_ms(u->last_ms) || !ok_ms(u->loc_ms) || !ok_ms(u->risk_ms) ||
        !ok_ms(u->sens_win_ms) || u->rate_minute < 0 || u->rate_minute > SG_TIME_MAX_MS / 60000)
        return 0;
    for (int i = 0; i < SG_USER_FAILS; i++)
        if (!ok_ms(u->fail_ms[i]))
            return 0;
    for (int i = 0; i < u->adm_n; i++)
        if (!ok_ms(u->adm_ms[i]))
            return 0;
    const struct sg_seen *sets[] = {u->ips, u->hosts, u->countries, u->procs};
    const struct sg_seen_set *ss[] = {&u->ip_set, &u->host_set, &u->country_set, &u->proc_set};
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < ss[k]->n; i++)
            if (!ok_ms(sets[k][i].last_ms))
                return 0;
    if (!ok_ewma(&u->rate) || !ok_ewma(&u->volume) || !ok_ewma(&u->dns_len))
        return 0;
    if (!(u->lat >= -90 && u->lat <= 90 && u->lon >= -180 && u->lon <= 180))
        return 0;
    return isfinite(u->model_score) && isfinite(u->risk) && u->risk >= 0 && u->risk <= 1;
}

int sg_user_decode(struct sg_user_state *u, const void *blob, size_t len)
{
    struct rd r = {blob, (const unsigned char *)blob + len, 0};
    sg_user_init(u);
    uint64_t version = get_u(&r);
    if (version < 1 || version > FORMAT_VERSION) {
        sg_user_init(u);
        return SG_ERR_FORMAT;
    }
    if (version >= 3)
        u->partition = get_partition(&r);
    u->first_ms = get_i(&r);
    u->last_ms = get_i(&r);
    u->n_events = get_u(&r);
    for (int i = 0; i < SG_USER_HOW; i++)
        u->how[i] = (uint16_t)get_u(&r);
    for (int i = 0; i < SG_EV_TYPE_COUNT; i++)
        u->type_count[i] = (uint32_t)get_u(&r);
    get_set(&r, u->ips, &u->ip_set, SG_USER_IPS);
    get_set(&r, u->hosts, &u->host_set, SG_USER_HOSTS);
    get_set(&r, u->countries, &u->country_set, SG_USER_COUNTRIES);
    get_set(&r, u->procs, &u->proc_set, SG_USER_PROCS);
    u->fail_head = (uint8_t)(get_u(&r) % SG_USER_FAILS);
    u->fail_n = (uint8_t)get_u(&r);
    if (u->fail_n > SG_USER_FAILS)
        r.bad = 1;
    u->n_failures = get_u(&r);
    for (int i = 0; i < SG_USER_FAILS; i++) {
        u->fail_ms[i] = get_i(&r);
        u->fail_target[i] = get_u(&r);
    }
    u->adm_head = (uint8_t)(get_u(&r) % SG_USER_ADMIN);
    u->adm_n = (uint8_t)get_u(&r);
    if (u->adm_n > SG_USER_ADMIN)
        r.bad = 1;
    for (int i = 0; i < u->adm_n && !r.bad; i++) {
        u->adm_ms[i] = get_i(&r);
        u->adm_dst[i] = get_u(&r);
    }
    u->rate_minute = get_i(&r);
    u->rate_count = (uint32_t)get_u(&r);
    get_ewma(&r, &u->rate);
    get_ewma(&r, &u->volume);
    get_ewma(&r, &u->dns_len);
    u->has_loc = get_u(&r) != 0;
    u->lat = get_d(&r);
    u->lon = get_d(&r);
    u->loc_ms = get_i(&r);
    u->sensitive_n = (uint32_t)get_u(&r);
    u->sens_win_ms = get_i(&r);
    u->sens_win_n = (uint32_t)get_u(&r);
    u->model_score = get_d(&r);
    u->risk_ms = get_i(&r);
    u->risk = get_d(&r);
    if (version >= 2) {
        u->roll_model = get_u(&r);
        u->roll_n = (uint32_t)get_u(&r);
    }
    if (!r.bad && !plausible(u))
        r.bad = 1;
    if (r.bad || r.p != r.end) {
        sg_user_init(u);
        return SG_ERR_FORMAT;
    }
    return SG_OK;
}

int32_t sg_user_blob_partition(const void *blob, size_t len)
{
    struct rd r = {blob, (const unsigned char *)blob + len, 0};
    uint64_t version = get_u(&r);
    if (r.bad || version < 3 || version > FORMAT_VERSION)
        return -1;
    int32_t part = get_partition(&r);
    return r.bad ? -1 : part;
}

static void json_set(struct sg_buf *b, const char *key, const struct sg_seen *arr,
                     const struct sg_seen_set *s)
{
    sg_buf_printf(b, ",\"%s\":{\"distinct\":%u,\"values\":[", key, s->distinct);
    for (size_t i = 0; i < s->n; i++) {
        sg_buf_puts(b, i ? ",{\"value\":" : "{\"value\":");
        sg_buf_json_str(b, arr[i].name, strlen(arr[i].name));
        sg_buf_printf(b, ",\"count\":%u,\"last_seen\":%lld}", arr[i].count,
                      (long long)arr[i].last_ms);
    }
    sg_buf_puts(b, "]}");
}

void sg_user_to_json(const struct sg_user_state *u, struct sg_buf *b)
{
    sg_buf_printf(b, "{\"events\":%llu,\"first_seen\":%lld,\"last_seen\":%lld,\"failures\":%llu",
                  (unsigned long long)u->n_events, (long long)u->first_ms,
                  (long long)u->last_ms, (unsigned long long)u->n_failures);
    sg_buf_puts(b, ",\"event_types\":{");
    for (int i = 0; i < SG_EV_TYPE_COUNT; i++)
        sg_buf_printf(b, "%s\"%s\":%u", i ? "," : "", sg_event_type_name((enum sg_event_type)i),
                      u->type_count[i]);
    sg_buf_puts(b, "},\"hour_of_week\":[");
    for (int i = 0; i < SG_USER_HOW; i++)
        sg_buf_printf(b, "%s%u", i ? "," : "", u->how[i]);
    sg_buf_putc(b, ']');
    json_set(b, "ips", u->ips, &u->ip_set);
    json_set(b, "hosts", u->hosts, &u->host_set);
    json_set(b, "countries", u->countries, &u->country_set);
    json_set(b, "processes", u->procs, &u->proc_set);
    sg_buf_puts(b, ",\"rate_per_active_minute\":");
    sg_buf_json_double(b, u->rate.mean);
    sg_buf_puts(b, ",\"bytes_sent_log_mean\":");
    sg_buf_json_double(b, u->volume.mean);
    sg_buf_puts(b, ",\"dns_query_length_mean\":");
    sg_buf_json_double(b, u->dns_len.mean);
    sg_buf_printf(b, ",\"sensitive_file_accesses\":%u", u->sensitive_n);
    if (u->has_loc) {
        sg_buf_puts(b, ",\"last_location\":{\"lat\":");
        sg_buf_json_double(b, u->lat);
        sg_buf_puts(b, ",\"lon\":");
        sg_buf_json_double(b, u->lon);
        sg_buf_printf(b, ",\"time\":%lld}", (long long)u->loc_ms);
    }
    if (u->model_score >= 0) {
        sg_buf_puts(b, ",\"model_score\":");
        sg_buf_json_double(b, u->model_score);
    }
    if (u->roll_model)
        sg_buf_printf(b, ",\"rolling_events\":%u", u->roll_n);
    sg_buf_putc(b, '}');
}
