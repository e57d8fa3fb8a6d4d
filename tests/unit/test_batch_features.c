/* Unit tests of sg_features: hand-computed feature values for small event sequences (auth
 * streaks, intervals, time of day in the usual timezone, geo travel, DNS, process and file
 * signals), the distinct-count sketch (exact up to its bound, bounded error beyond), the
 * feature table and its hash. Events are built in C here, independent of the decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "batch/sg_features.h"

#define MON_0200 INT64_C(1796004000000) /* 2026-11-30T02:00:00Z, a Monday */
#define HOUR INT64_C(3600000)
#define DAY (24 * HOUR)

static struct sg_str S(const char *s) {
    struct sg_str r = {s, (uint32_t)strlen(s)};
    return r;
}

static struct sg_event
ev(enum sg_event_type t, int64_t ts, const char *ip)
{
    struct sg_event e;
    memset(&e, 0, sizeof e);
    e.event_id = S("evt_1");
    e.user = S("alice");
    e.source_ip = S(ip);
    e.destination_ip = e.hostname = e.geo_location = e.user_agent = e.session_id = S("");
    e.type = t;
    e.ts_ms = ts;
    switch (t) {
    case SG_EV_AUTH:
        e.d.auth.auth_type = e.d.auth.failure_reason = S("");
        e.d.auth.attempts_count = -1;
        break;
    case SG_EV_NETWORK:
        e.d.net.protocol = e.d.net.connection_state = S("");
        e.d.net.source_port = e.d.net.destination_port = -1;
        e.d.net.bytes_sent = e.d.net.bytes_received = e.d.net.duration_ms = -1;
        break;
    case SG_EV_FILE:
        e.d.file.file_path = e.d.file.operation = S("");
        e.d.file.file_size_bytes = -1;
        e.d.file.access_denied = e.d.file.permissions_changed = -1;
        break;
    case SG_EV_PROCESS:
        e.d.proc.process_name = e.d.proc.command_line = e.d.proc.user_privileges = S("");
        e.d.proc.process_id = e.d.proc.parent_process_id = -1;
        e.d.proc.is_signed = -1;
        break;
    case SG_EV_DNS:
        e.d.dns.query_name = e.d.dns.query_type = e.d.dns.response_code = S("");
        e.d.dns.ttl = -1;
        break;
    default: break;
    }
    return e;
}

static int idx(const char *name)
{
    const struct sg_feature_def *d = sg_features_defs();
    for (int i = 0; i < SG_FEAT_COUNT; i++)
        if (!strcmp(d[i].name, name))
            return i;
    fail_msg("no feature %s", name);
    return -1;
}

#define F(name) out[idx(name)]
#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void test_table(void **state)
{
    (void)state;
    const struct sg_feature_def *d = sg_features_defs();
    assert_true(SG_FEAT_COUNT >= 30);
    for (int i = 0; i < SG_FEAT_COUNT; i++) {
        assert_non_null(d[i].name);
        assert_true(strlen(d[i].help) > 5);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(d[i].name, d[j].name);
    }
    assert_true(sg_features_hash() == sg_features_hash());
    assert_true(sg_features_hash() != 0);
}

static void test_auth_time_network_dns(void **state)
{
    (void)state;
    struct sg_features f;
    sg_features_init(&f);
    struct sg_event e[6];
    e[0] = ev(SG_EV_AUTH, MON_0200, "10.0.0.1");
    e[0].status = SG_STATUS_FAILED;
    e[0].threat_score = 0.2;
    e[1] = ev(SG_EV_AUTH, MON_0200 + 2000, "10.0.0.1");
    e[1].status = SG_STATUS_FAILED;
    e[1].threat_score = 0.8;
    e[2] = ev(SG_EV_AUTH, MON_0200 + 4000, "10.0.0.2");
    e[2].status = SG_STATUS_FAILED;
    e[3] = ev(SG_EV_AUTH, MON_0200 + 10000, "10.0.0.2");
    e[3].threat_score = 0.6;
    e[4] = ev(SG_EV_NETWORK, MON_0200 + DAY + 12 * HOUR, "10.0.0.1"); /* Tue 14:00 */
    e[4].destination_ip = S("8.8.8.8");
    e[4].d.net.destination_port = 443;
    e[4].d.net.bytes_sent = 1000;
    e[5] = ev(SG_EV_DNS, MON_0200 + 5 * DAY + 8 * HOUR, "10.0.0.1"); /* Sat 10:00 */
    e[5].d.dns.query_name = S("abcd.example.com");
    e[5].d.dns.response_code = S("NXDOMAIN");
    for (int i = 0; i < 6; i++)
        sg_features_add(&f, &e[i]);
    double out[SG_FEAT_COUNT];
    sg_features_finish(&f, out);
    NEAR(F("events"), 6);
    NEAR(F("active_days"), 3);
    NEAR(F("events_per_day"), 2);
    NEAR(F("distinct_src_ips"), 2);
    NEAR(F("distinct_dst_ips"), 1);
    NEAR(F("distinct_event_types"), 3);
    NEAR(F("threat_mean"), 1.6 / 6);
    NEAR(F("threat_max"), 0.8);
    NEAR(F("threat_high_rate"), 1.0 / 6);
    NEAR(F("failed_rate"), 0.5);
    NEAR(F("blocked_rate"), 0);
    NEAR(F("auth_failures"), 3);
    NEAR(F("max_fail_streak"), 3);
    NEAR(F("success_after_failures"), 1);
    NEAR(F("offhours_rate"), 4.0 / 6); /* no coordinates: UTC */
    NEAR(F("weekend_ratio"), 1.0 / 6);
    NEAR(F("hour_entropy"), -(4.0 / 6 * log2(4.0 / 6) + 2 * (1.0 / 6) * log2(1.0 / 6)));
    NEAR(F("rare_hour_rate"), 0);
    NEAR(F("top_ip_share"), 4.0 / 6); /* 10.0.0.1: events 1, 2, 5, 6 */
    NEAR(F("rare_ip_rate"), 4.0 / 6); /* 1st/2nd sighting of .1, of .2 */
    double iv[5] = {2, 2, 6, (double)(DAY + 12 * HOUR - 10000) / 1000,
                    (double)(4 * DAY - 4 * HOUR) / 1000};
    double m = (iv[0] + iv[1] + iv[2] + iv[3] + iv[4]) / 5, v = 0;
    for (int i = 0; i < 5; i++)
        v += (iv[i] - m) * (iv[i] - m) / 5;
    NEAR(F("interval_mean"), m);
    assert_true(fabs(F("interval_cv") - sqrt(v) / m) < 1e-6);
    NEAR(F("interval_min"), 2);
    NEAR(F("burst_rate"), 2.0 / 5);
    NEAR(F("auth_share"), 4.0 / 6);
    NEAR(F("network_share"), 1.0 / 6);
    NEAR(F("dns_share"), 1.0 / 6);
    NEAR(F("bytes_out_total"), 1000);
    NEAR(F("bytes_out_max"), 1000);
    NEAR(F("bytes_out_rare_dst"), 1000);
    NEAR(F("offhours_bytes_out"), 0);
    NEAR(F("distinct_dst_ports"), 1);
    NEAR(F("dns_qlen_mean"), 16);
    NEAR(F("dns_qlen_max"), 16);
    NEAR(F("dns_label_entropy"), 2); /* "abcd": 4 distinct chars */
    NEAR(F("dns_nxdomain_rate"), 1);
    NEAR(F("dns_distinct_ratio"), 1);
    NEAR(F("dns_regularity"), 0); /* fewer than 10 queries */
    NEAR(F("max_travel_kmh"), 0);
    sg_features_release(&f);
}

static void test_geo_tz(void **state)
{
    (void)state;
    struct sg_features f;
    sg_features_init(&f);
    const double blat = 52.52, blon = 13.405, nlat = 40.7128, nlon = -74.006;
    int64_t t0 = MON_0200 + 20 * HOUR; /* Mon 22:00 UTC = 23:00 Berlin */
    for (int i = 0; i < 3; i++) {
        struct sg_event e = ev(SG_EV_FILE, t0 + i * HOUR, "10.1.1.1"); /* 23:00, 00:00, 01:00 */
        e.geo_location = S("DE-BE-Berlin");
        e.has_geo = 1;
        e.geo_lat = blat;
        e.geo_lon = blon;
        e.d.file.file_path = S(i == 0 ? "/home/alice/.ssh/id_rsa" : "/home/alice/notes.txt");
        e.d.file.access_denied = i == 1;
        sg_features_add(&f, &e);
    }
    struct sg_event e = ev(SG_EV_PROCESS, t0 + 3 * HOUR, "203.0.113.9"); /* 1 h later in NY */
    e.geo_location = S("US-NY-NewYork");
    e.has_geo = 1;
    e.geo_lat = nlat;
    e.geo_lon = nlon;
    e.d.proc.process_name = S("PsExec64.exe");
    e.d.proc.user_privileges = S("admin");
    e.d.proc.is_signed = 0;
    sg_features_add(&f, &e);
    double out[SG_FEAT_COUNT];
    sg_features_finish(&f, out);
    assert_int_equal(sg_features_tz(&f), 1); /* 3 of 4 events at lon 13.4 -> UTC+1 */
    /* local hours: 23, 0, 1, 2 -> three of four in 00-05 */
    NEAR(F("offhours_rate"), 3.0 / 4);
    /* Berlin -> New York is ~6385 km (haversine, R = 6371 km) in 1 hour */
    assert_true(F("max_travel_kmh") > 6300 && F("max_travel_kmh") < 6450);
    NEAR(F("fast_country_switches"), 1);
    NEAR(F("impossible_travel_hops"), 1);
    NEAR(F("distinct_countries"), 2);
    NEAR(F("distinct_locations"), 2);
    NEAR(F("sensitive_file_rate"), 1.0 / 3);
    NEAR(F("access_denied_rate"), 1.0 / 3);
    NEAR(F("privileged_proc_rate"), 1);
    NEAR(F("unsigned_proc_rate"), 1);
    NEAR(F("admin_tool_rate"), 1);
    NEAR(F("distinct_processes"), 1);
    struct sg_baseline b;
    sg_features_baseline(&f, &b);
    assert_int_equal(b.tz_hours, 1);
    assert_int_equal(b.n_ips, 2);
    assert_string_equal(b.ips[0], "10.1.1.1");
    NEAR(b.ip_share[0], 0.75);
    assert_string_equal(b.locs[0], "DE-BE-Berlin");
    NEAR(b.hour_share[0], 0.25);
}

static void test_beacon_and_sketch(void **state)
{
    (void)state;
    struct sg_features f;
    sg_features_init(&f);
    char ip[32], q[64];
    for (int i = 0; i < 1000; i++) { /* DNS every 60 s exactly, each from a new IP and name */
        snprintf(ip, sizeof ip, "10.%d.%d.1", i / 256, i % 256);
        snprintf(q, sizeof q, "x%dq.tunnel.example", i);
        struct sg_event e = ev(SG_EV_DNS, MON_0200 + i * 60000, ip);
        e.d.dns.query_name = S(q);
        sg_features_add(&f, &e);
    }
    double out[SG_FEAT_COUNT];
    sg_features_finish(&f, out);
    NEAR(F("dns_regularity"), 1); /* cv = 0 */
    NEAR(F("interval_cv"), 0);
    /* 1000 distinct values through a 32-value KMV: error ~ 1/sqrt(30) = 18%, allow 3 sigma */
    assert_true(F("distinct_src_ips") > 450 && F("distinct_src_ips") < 1550);
    assert_true(fabs(F("dns_distinct_ratio") - 1) < 0.55);
    NEAR(F("rare_ip_rate"), 1);
    /* exact below the bound */
    sg_features_init(&f);
    for (int i = 0; i < 64; i++) {
        snprintf(ip, sizeof ip, "10.0.0.%d", i % 32);
        struct sg_event e = ev(SG_EV_AUTH, MON_0200 + i * 1000, ip);
        sg_features_add(&f, &e);
    }
    sg_features_finish(&f, out);
    NEAR(F("distinct_src_ips"), 32);
    NEAR(F("events"), 64);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_auth_time_network_dns),
        cmocka_unit_test(test_geo_tz),
        cmocka_unit_test(test_beacon_and_sketch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
