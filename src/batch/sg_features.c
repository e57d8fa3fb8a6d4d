/* sg_features: per-user feature accumulator (see sg_features.h and docs/FEATURES.md).
 * Everything here is O(1) per event in fixed memory. The distinct counter (KMV) and the small
 * frequency table are hand-written because they must live inside a fixed-size, copyable struct
 * (a library sketch would allocate); both are a few lines. */
#include "batch/sg_features.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "core/sg_hash.h"
#include "core/sg_substr.h"

#define HSEED UINT64_C(0x53474645415431) /* "SGFEAT1" */
#define BURST_SECONDS 5.0
#define HIGH_THREAT 0.7
#define STREAK_FOR_TAKEOVER 3
#define RARE_COUNT 2 /* a key seen fewer times than this before is "rare" */
#define RARE_HOUR_SHARE 0.03
#define GEO_JITTER_KM 50.0
#define MIN_TRAVEL_HOURS (1.0 / 60.0)
#define MAX_SPEED_KMH 20000.0
#define IMPOSSIBLE_KMH 1000.0 /* faster than any airliner */
#define IMPOSSIBLE_MIN_KM 500.0
#define FAST_SWITCH_MS (2 * 3600 * 1000)
#define DNS_MIN_FOR_REGULARITY 10

static const struct sg_feature_def defs[SG_FEAT_COUNT] = {
    {"events", 1, "number of valid events"},
    {"active_days", 0, "distinct UTC days with at least one event"},
    {"events_per_day", 1, "events / active_days"},
    {"distinct_src_ips", 1, "distinct source IPs"},
    {"distinct_dst_ips", 1, "distinct destination IPs"},
    {"distinct_hosts", 1, "distinct metadata.hostname values"},
    {"distinct_locations", 0, "distinct metadata.geo_location values"},
    {"distinct_countries", 0, "distinct country codes of geo_location"},
    {"distinct_event_types", 0, "distinct event types (1..5)"},
    {"threat_mean", 0, "mean threat_score"},
    {"threat_max", 0, "max threat_score"},
    {"threat_high_rate", 0, "share of events with threat_score >= 0.7"},
    {"failed_rate", 0, "share of events with status failed"},
    {"blocked_rate", 0, "share of events with status blocked"},
    {"auth_failures", 1, "failed auth_attempt events"},
    {"max_fail_streak", 1, "longest run of consecutive failed auth attempts"},
    {"success_after_failures", 1, "successful auth right after >= 3 consecutive failures"},
    {"offhours_rate", 0, "share of events at 00:00-05:59 in the user's usual timezone"},
    {"hour_entropy", 0, "Shannon entropy (bits) of the hour-of-day distribution"},
    {"hour_spread", 0, "circular dispersion 1 - R of the hour of day"},
    {"rare_hour_rate", 0, "share of events in hours holding < 3% of the user's events"},
    {"weekend_ratio", 0, "share of events on Saturday/Sunday (usual timezone)"},
    {"top_ip_share", 0, "share of events from the most frequent source IP"},
    {"rare_ip_rate", 0, "share of events whose source IP was seen < 2 times before"},
    {"interval_mean", 1, "mean seconds between consecutive events"},
    {"interval_cv", 0, "stddev / mean of the inter-event intervals"},
    {"interval_min", 1, "smallest inter-event interval, seconds"},
    {"burst_rate", 0, "share of inter-event intervals shorter than 5 s"},
    {"auth_share", 0, "share of auth_attempt events"},
    {"network_share", 0, "share of network_connection events"},
    {"file_share", 0, "share of file_access events"},
    {"process_share", 0, "share of process_execution events"},
    {"dns_share", 0, "share of dns_query events"},
    {"bytes_out_total", 1, "sum of network bytes_sent"},
    {"bytes_out_max", 1, "largest single bytes_sent"},
    {"bytes_out_rare_dst", 1, "bytes_sent to destinations seen < 2 times before"},
    {"offhours_bytes_out", 1, "bytes_sent at 00:00-05:59 usual time"},
    {"distinct_dst_ports", 1, "distinct network destination ports"},
    {"dns_qlen_mean", 0, "mean DNS query_name length"},
    {"dns_qlen_max", 1, "longest DNS query_name"},
    {"dns_label_entropy", 0, "mean character entropy (bits) of the first DNS label"},
    {"dns_nxdomain_rate", 0, "share of DNS answers NXDOMAIN"},
    {"dns_distinct_ratio", 0, "distinct query names / DNS queries"},
    {"dns_regularity", 0, "1 / (1 + cv) of DNS inter-query intervals (>= 10 queries)"},
    {"privileged_proc_rate", 0, "share of processes run as admin or system"},
    {"unsigned_proc_rate", 0, "share of processes with is_signed false"},
    {"admin_tool_rate", 0, "share of processes that are admin / attack tools"},
    {"distinct_processes", 1, "distinct process names"},
    {"sensitive_file_rate", 0, "share of file accesses to sensitive paths"},
    {"access_denied_rate", 0, "share of file accesses denied"},
    {"perm_change_rate", 0, "share of file accesses changing permissions"},
    {"max_travel_kmh", 1, "largest implied speed between consecutive geo-located events"},
    {"fast_country_switches", 1, "country changes less than 2 h after the previous event"},
    {"impossible_travel_hops", 1, "consecutive geo-located events > 500 km apart at > 1000 km/h"},
};

const struct sg_feature_def *sg_features_defs(void)
{
    return defs;
}

uint64_t sg_features_hash(void)
{
    uint64_t h = sg_hash_bytes("sgfeat", 6, SG_FEATURES_VERSION);
    for (size_t i = 0; i < SG_FEAT_COUNT; i++) {
        h = sg_hash_bytes(defs[i].name, strlen(defs[i].name), h);
        h = sg_hash_bytes(&defs[i].log1p, 1, h);
    }
    return h;
}

/* ---- KMV distinct counter ---- */

static void kmv_init(struct sg_kmv *k)
{
    k->n = 0;
    k->cap = SG_KMV_MAX;
    k->saturated = 0;
}

static void kmv_add(struct sg_kmv *k, uint64_t h)
{
    if (k->n == k->cap && h >= k->v[k->n - 1]) {
        if (h != k->v[k->n - 1])
            k->saturated = 1;
        return;
    }
    size_t lo = 0, hi = k->n; /* first index with v >= h */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (k->v[mid] < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < k->n && k->v[lo] == h)
        return;
    if (k->n == k->cap) {
        k->saturated = 1; /* the largest kept value drops out */
        k->n--;
    }
    memmove(&k->v[lo + 1], &k->v[lo], (k->n - lo) * sizeof k->v[0]);
    k->v[lo] = h;
    k->n++;
}

static double kmv_count(const struct sg_kmv *k)
{
    if (!k->saturated)
        return k->n;
    double u = ((double)k->v[k->n - 1] + 1.0) / 18446744073709551616.0;
    return (k->n - 1) / u;
}

static uint64_t hash_str(const struct sg_str *s)
{
    return sg_hash_bytes(s->p, s->len, HSEED);
}

static void kmv_str(struct sg_kmv *k, const struct sg_str *s)
{
    if (s->len)
        kmv_add(k, hash_str(s));
}

/* ---- frequency table ---- */

/* Counts `s`; returns how often it was seen before (0 for an untracked key). */
static uint32_t topk_add(struct sg_topk *t, uint64_t h, const char *p, size_t len)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (t->hash[i] == h)
            return t->count[i]++;
    if (t->n < SG_TOPK) {
        uint32_t i = t->n++;
        t->hash[i] = h;
        t->count[i] = 1;
        if (len < SG_TOPK_TEXT) {
            memcpy(t->text[i], p, len);
            t->text[i][len] = 0;
        } else {
            t->text[i][0] = 0;
        }
    }
    return 0;
}

static uint32_t topk_max(const struct sg_topk *t)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < t->n; i++)
        if (t->count[i] > m)
            m = t->count[i];
    return m;
}

/* ---- helpers ---- */

static pthread_once_t matchers_once = PTHREAD_ONCE_INIT;
static void build_matchers(void);

void sg_features_init(struct sg_features *f)
{
    pthread_once(&matchers_once, build_matchers);
    memset(f, 0, sizeof *f);
    struct sg_kmv *sets[] = {&f->days,      &f->src_ips, &f->dst_ips, &f->hosts, &f->locations,
                             &f->countries, &f->ports,   &f->qnames,  &f->procs};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        kmv_init(sets[i]);
    f->iv_min = -1;
}

void sg_features_release(struct sg_features *f)
{
    (void)f;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static double haversine_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0, d2r = M_PI / 180.0;
    double dlat = (lat2 - lat1) * d2r, dlon = (lon2 - lon1) * d2r;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * d2r) * cos(lat2 * d2r) * sin(dlon / 2) * sin(dlon / 2);
    if (a > 1)
        a = 1;
    return 2 * r * asin(sqrt(a));
}

/* Shannon entropy in bits of the bytes of s[0..n). */
static double char_entropy(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    uint32_t c[256] = {0};
    for (size_t i = 0; i < n; i++)
        c[(unsigned char)s[i]]++;
    double e = 0;
    for (int i = 0; i < 256; i++)
        if (c[i]) {
            double p = (double)c[i] / (double)n;
            e -= p * log2(p);
        }
    return e;
}

/* sg_substr_any() over the first 512 bytes, memoised per user by the string's hash (seeded per
 * needle list). */
static int matches(struct sg_features *f, const struct sg_str *s, const struct sg_substr_set *mt,
                   uint64_t seed)
{
    if (!s->len)
        return 0;
    uint64_t h = sg_hash_bytes(s->p, s->len, seed) | 1;
    unsigned slot = (unsigned)(h >> 60);
    if (f->memo_key[slot] == h)
        return f->memo_val[slot];
    int r = sg_substr_any(mt, s->p, s->len < 512 ? s->len : 512);
    f->memo_key[slot] = h;
    f->memo_val[slot] = (uint8_t)r;
    return r;
}

static const char *const sensitive_paths[] = {"/etc/shadow",
                                              "/etc/passwd",
                                              "/etc/sudoers",
                                              "/.ssh/",
                                              "id_rsa",
                                              "/root/",
                                              ".aws/credentials",
                                              "\\system32\\config",
                                              "\\sam",
                                              "ntds.dit",
                                              ".kdbx",
                                              "secret",
                                              "password",
                                              "credential",
                                              "payroll",
                                              "confidential",
                                              "/etc/kubernetes",
                                              ".pem",
                                              ".key",
                                              NULL};

static const char *const admin_tools[] = {
    "psexec",    "mimikatz", "wmic",      "procdump", "nltest", "bloodhound",   "sharphound",
    "rubeus",    "net user", "net group", "net.exe",  "whoami", "certutil",     "vssadmin",
    "rundll32",  "ncat",     "netcat",    "nmap",     "lsass",  "crackmapexec", "secretsdump",
    "bitsadmin", "schtasks", "-enc",      NULL};

static struct sg_substr_set sensitive_m, tools_m;

static void build_matchers(void)
{
    sg_substr_build(&sensitive_m, sensitive_paths);
    sg_substr_build(&tools_m, admin_tools);
}

static void add_time(struct sg_features *f, const struct sg_event *ev)
{
    int64_t days = floor_div(ev->ts_ms, 86400000);
    int64_t hour = floor_div(ev->ts_ms, 3600000) - days * 24;
    int64_t wd = ((days + 4) % 7 + 7) % 7; /* 1970-01-01 was a Thursday */
    f->week_hour[wd * 24 + hour]++;
    if (f->n == 0 || days != floor_div(f->last_ts, 86400000)) /* same day as before: known */
        kmv_add(&f->days, sg_hash_bytes(&days, sizeof days, HSEED));
    if (ev->type == SG_EV_NETWORK && ev->d.net.bytes_sent > 0)
        f->bytes_hour[hour] += (double)ev->d.net.bytes_sent;
    if (f->n > 0) {
        double dt = (double)(ev->ts_ms - f->last_ts) / 1000.0;
        if (dt < 0)
            dt = -dt; /* out-of-order input: documented, counted as a gap */
        f->iv_n++;
        f->iv_sum += dt;
        f->iv_sumsq += dt * dt;
        if (f->iv_min < 0 || dt < f->iv_min)
            f->iv_min = dt;
        if (dt < BURST_SECONDS)
            f->iv_bursts++;
    }
}

static void add_geo(struct sg_features *f, const struct sg_event *ev)
{
    const struct sg_str *loc = &ev->geo_location;
    if (loc->len) {
        uint64_t lh = hash_str(loc);
        kmv_add(&f->locations, lh);
        topk_add(&f->loc_top, lh, loc->p, loc->len);
        const char *dash = memchr(loc->p, '-', loc->len);
        size_t cl = dash ? (size_t)(dash - loc->p) : loc->len;
        uint64_t c = sg_hash_bytes(loc->p, cl, HSEED);
        kmv_add(&f->countries, c);
        if (f->last_country && c != f->last_country && f->n > 0 &&
            ev->ts_ms - f->last_ts < FAST_SWITCH_MS)
            f->fast_country_switch++;
        f->last_country = c;
    }
    if (!ev->has_geo)
        return;
    int zone = (int)lround(ev->geo_lon / 15.0);
    if (zone >= -12 && zone <= 14)
        f->tz_votes[zone + 12]++;
    if (f->has_last_geo) {
        double km = haversine_km(f->last_lat, f->last_lon, ev->geo_lat, ev->geo_lon);
        double h = (double)(ev->ts_ms - f->last_geo_ts) / 3600000.0;
        if (h < 0)
            h = -h;
        if (h < MIN_TRAVEL_HOURS)
            h = MIN_TRAVEL_HOURS;
        double v = km < GEO_JITTER_KM ? 0 : km / h;
        if (km >= IMPOSSIBLE_MIN_KM && v > IMPOSSIBLE_KMH)
            f->impossible_hops++;
        if (v > MAX_SPEED_KMH)
            v = MAX_SPEED_KMH;
        if (v > f->max_speed)
            f->max_speed = v;
    }
    f->has_last_geo = 1;
    f->last_lat = ev->geo_lat;
    f->last_lon = ev->geo_lon;
    f->last_geo_ts = ev->ts_ms;
}

static void add_auth(struct sg_features *f, const struct sg_event *ev)
{
    if (ev->status == SG_STATUS_FAILED) {
        f->auth_failed++;
        if (++f->fail_streak > f->max_fail_streak)
            f->max_fail_streak = f->fail_streak;
    } else {
        if (ev->status == SG_STATUS_SUCCESS && f->fail_streak >= STREAK_FOR_TAKEOVER)
            f->success_after_fail++;
        f->fail_streak = 0;
    }
}

static void add_network(struct sg_features *f, const struct sg_event *ev)
{
    double b = ev->d.net.bytes_sent > 0 ? (double)ev->d.net.bytes_sent : 0;
    f->bytes_total += b;
    if (b > f->bytes_max)
        f->bytes_max = b;
    if (ev->d.net.destination_port >= 0) {
        int32_t port = ev->d.net.destination_port;
        kmv_add(&f->ports, sg_hash_bytes(&port, sizeof port, HSEED));
    }
    if (ev->destination_ip.len) {
        uint64_t h = hash_str(&ev->destination_ip);
        kmv_add(&f->dst_ips, h);
        uint32_t seen = topk_add(&f->dst_top, h, ev->destination_ip.p, ev->destination_ip.len);
        if (seen < RARE_COUNT)
            f->bytes_rare += b;
    }
}

static void add_dns(struct sg_features *f, const struct sg_event *ev)
{
    const struct sg_str *q = &ev->d.dns.query_name;
    f->dns_n++;
    f->dns_qlen_sum += q->len;
    if (q->len > f->dns_qlen_max)
        f->dns_qlen_max = q->len;
    const char *dot = q->len ? memchr(q->p, '.', q->len) : NULL;
    f->dns_entropy_sum += char_entropy(q->p, dot ? (size_t)(dot - q->p) : q->len);
    kmv_str(&f->qnames, q);
    if (ev->d.dns.response_code.len && !strcasecmp(ev->d.dns.response_code.p, "NXDOMAIN"))
        f->dns_nx++;
    if (f->dns_n > 1) {
        double dt = fabs((double)(ev->ts_ms - f->dns_last_ts)) / 1000.0;
        f->dns_iv_n++;
        f->dns_iv_sum += dt;
        f->dns_iv_sumsq += dt * dt;
    }
    f->dns_last_ts = ev->ts_ms;
}

static void add_process(struct sg_features *f, const struct sg_event *ev)
{
    const struct sg_str *pr = &ev->d.proc.user_privileges;
    if (pr->len && (!strcasecmp(pr->p, "admin") || !strcasecmp(pr->p, "system")))
        f->proc_priv++;
    if (ev->d.proc.is_signed == 0)
        f->proc_unsigned++;
    if (matches(f, &ev->d.proc.process_name, &tools_m, 1) ||
        matches(f, &ev->d.proc.command_line, &tools_m, 1))
        f->proc_tool++;
    kmv_str(&f->procs, &ev->d.proc.process_name);
}

static void add_file(struct sg_features *f, const struct sg_event *ev)
{
    if (matches(f, &ev->d.file.file_path, &sensitive_m, 2))
        f->file_sensitive++;
    if (ev->d.file.access_denied == 1)
        f->file_denied++;
    if (ev->d.file.permissions_changed == 1)
        f->file_perm++;
}

void sg_features_add(struct sg_features *f, const struct sg_event *ev)
{
    if (f->n == 0)
        f->first_ts = ev->ts_ms;
    add_time(f, ev);
    add_geo(f, ev);
    f->type_n[ev->type]++;
    f->status_n[ev->status]++;
    f->threat_sum += ev->threat_score;
    if (ev->threat_score > f->threat_max)
        f->threat_max = ev->threat_score;
    if (ev->threat_score >= HIGH_THREAT)
        f->threat_high++;
    uint64_t sh = hash_str(&ev->source_ip);
    if (topk_add(&f->src_top, sh, ev->source_ip.p, ev->source_ip.len) < RARE_COUNT)
        f->rare_ip_events++;
    kmv_add(&f->src_ips, sh);
    if (ev->type != SG_EV_NETWORK) /* network events count it in add_network */
        kmv_str(&f->dst_ips, &ev->destination_ip);
    kmv_str(&f->hosts, &ev->hostname);
    switch (ev->type) {
    case SG_EV_AUTH: add_auth(f, ev); break;
    case SG_EV_NETWORK: add_network(f, ev); break;
    case SG_EV_DNS: add_dns(f, ev); break;
    case SG_EV_PROCESS: add_process(f, ev); break;
    case SG_EV_FILE: add_file(f, ev); break;
    default: break;
    }
    if (ev->ts_ms < f->first_ts)
        f->first_ts = ev->ts_ms;
    f->last_ts = f->n == 0 || ev->ts_ms > f->last_ts ? ev->ts_ms : f->last_ts;
    f->n++;
}

int sg_features_tz(const struct sg_features *f)
{
    uint32_t best = 0;
    int tz = 0;
    for (int i = 0; i < 27; i++)
        if (f->tz_votes[i] > best) {
            best = f->tz_votes[i];
            tz = i - 12;
        }
    return tz;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

/* Local (usual-timezone) hour histogram and weekend count. */
static void local_hours(const struct sg_features *f, double hours[24], double *weekend,
                        double *offhours_bytes)
{
    int tz = sg_features_tz(f);
    memset(hours, 0, 24 * sizeof hours[0]);
    *weekend = 0;
    *offhours_bytes = 0;
    for (int i = 0; i < 7 * 24; i++) {
        int l = ((i + tz) % 168 + 168) % 168;
        hours[l % 24] += f->week_hour[i];
        if (l / 24 == 0 || l / 24 == 6)
            *weekend += f->week_hour[i];
    }
    for (int h = 0; h < 24; h++) {
        int l = ((h + tz) % 24 + 24) % 24;
        if (l < 6)
            *offhours_bytes += f->bytes_hour[h];
    }
}

static void finish_time(const struct sg_features *f, double *o)
{
    double hours[24], weekend, offb;
    local_hours(f, hours, &weekend, &offb);
    double n = f->n, off = 0, ent = 0, cx = 0, sy = 0, rare = 0;
    for (int h = 0; h < 24; h++) {
        if (h < 6)
            off += hours[h];
        if (hours[h] > 0) {
            double p = hours[h] / n;
            ent -= p * log2(p);
            if (p < RARE_HOUR_SHARE)
                rare += hours[h];
        }
        cx += hours[h] * cos(2 * M_PI * h / 24);
        sy += hours[h] * sin(2 * M_PI * h / 24);
    }
    o[17] = ratio(off, n);
    o[18] = ent;
    o[19] = n > 0 ? 1 - sqrt(cx * cx + sy * sy) / n : 0;
    o[20] = ratio(rare, n);
    o[21] = ratio(weekend, n);
    o[36] = offb;
    double mean = ratio(f->iv_sum, f->iv_n);
    double var = f->iv_n ? f->iv_sumsq / f->iv_n - mean * mean : 0;
    o[24] = mean;
    o[25] = mean > 0 && var > 0 ? sqrt(var) / mean : 0;
    o[26] = f->iv_min > 0 ? f->iv_min : 0;
    o[27] = ratio(f->iv_bursts, f->iv_n);
}

static void finish_details(const struct sg_features *f, double *o)
{
    double n = f->n;
    double dn = f->type_n[SG_EV_DNS], pn = f->type_n[SG_EV_PROCESS], fn = f->type_n[SG_EV_FILE];
    for (int t = 0; t < SG_EV_TYPE_COUNT; t++)
        o[28 + t] = ratio(f->type_n[t], n);
    o[33] = f->bytes_total;
    o[34] = f->bytes_max;
    o[35] = f->bytes_rare;
    o[37] = kmv_count(&f->ports);
    o[38] = ratio(f->dns_qlen_sum, dn);
    o[39] = f->dns_qlen_max;
    o[40] = ratio(f->dns_entropy_sum, dn);
    o[41] = ratio(f->dns_nx, dn);
    o[42] = ratio(kmv_count(&f->qnames), dn);
    o[43] = 0;
    if (f->dns_n >= DNS_MIN_FOR_REGULARITY && f->dns_iv_n > 0) {
        double m = f->dns_iv_sum / f->dns_iv_n, v = f->dns_iv_sumsq / f->dns_iv_n - m * m;
        double cv = m > 0 && v > 0 ? sqrt(v) / m : 0;
        o[43] = 1.0 / (1.0 + cv);
    }
    o[44] = ratio(f->proc_priv, pn);
    o[45] = ratio(f->proc_unsigned, pn);
    o[46] = ratio(f->proc_tool, pn);
    o[47] = kmv_count(&f->procs);
    o[48] = ratio(f->file_sensitive, fn);
    o[49] = ratio(f->file_denied, fn);
    o[50] = ratio(f->file_perm, fn);
    o[51] = f->max_speed;
    o[52] = f->fast_country_switch;
    o[53] = f->impossible_hops;
}

void sg_features_finish(const struct sg_features *f, double *o)
{
    double n = f->n;
    double days = kmv_count(&f->days);
    int types = 0;
    for (int t = 0; t < SG_EV_TYPE_COUNT; t++)
        types += f->type_n[t] > 0;
    o[0] = n;
    o[1] = days;
    o[2] = ratio(n, days);
    o[3] = kmv_count(&f->src_ips);
    o[4] = kmv_count(&f->dst_ips);
    o[5] = kmv_count(&f->hosts);
    o[6] = kmv_count(&f->locations);
    o[7] = kmv_count(&f->countries);
    o[8] = types;
    o[9] = ratio(f->threat_sum, n);
    o[10] = f->threat_max;
    o[11] = ratio(f->threat_high, n);
    o[12] = ratio(f->status_n[SG_STATUS_FAILED], n);
    o[13] = ratio(f->status_n[SG_STATUS_BLOCKED], n);
    o[14] = f->auth_failed;
    o[15] = f->max_fail_streak;
    o[16] = f->success_after_fail;
    o[22] = ratio(topk_max(&f->src_top), n);
    o[23] = ratio(f->rare_ip_events, n);
    finish_time(f, o);
    finish_details(f, o);
}

/* Indices of the `k` largest counts of t (ties: first seen first). */
static int top_indices(const struct sg_topk *t, int *idx, int k)
{
    int m = 0;
    uint8_t used[SG_TOPK] = {0};
    while (m < k) {
        int best = -1;
        for (uint32_t i = 0; i < t->n; i++)
            if (!used[i] && (best < 0 || t->count[i] > t->count[best]))
                best = (int)i;
        if (best < 0)
            break;
        used[best] = 1;
        idx[m++] = best;
    }
    return m;
}

void sg_features_baseline(const struct sg_features *f, struct sg_baseline *b)
{
    memset(b, 0, sizeof *b);
    double hours[24], weekend, offb, n = f->n;
    local_hours(f, hours, &weekend, &offb);
    b->tz_hours = sg_features_tz(f);
    for (int h = 0; h < 24; h++)
        b->hour_share[h] = ratio(hours[h], n);
    b->events_per_day = ratio(n, kmv_count(&f->days));
    b->bytes_per_event = ratio(f->bytes_total, n);
    b->failed_rate = ratio(f->status_n[SG_STATUS_FAILED], n);
    int idx[SG_BASELINE_TOP];
    b->n_ips = top_indices(&f->src_top, idx, SG_BASELINE_TOP);
    for (int i = 0; i < b->n_ips; i++) {
        memcpy(b->ips[i], f->src_top.text[idx[i]], SG_TOPK_TEXT);
        b->ip_share[i] = ratio(f->src_top.count[idx[i]], n);
    }
    b->n_locs = top_indices(&f->loc_top, idx, SG_BASELINE_TOP);
    for (int i = 0; i < b->n_locs; i++) {
        memcpy(b->locs[i], f->loc_top.text[idx[i]], SG_TOPK_TEXT);
        b->loc_share[i] = ratio(f->loc_top.count[idx[i]], n);
    }
}
