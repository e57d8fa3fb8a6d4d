/* Unit tests of the speed layer's profile and detectors: binary profile round trip and
 * corruption handling, bounded sets evicting the least frequent value, warm-up gating, each
 * detector firing on its attack and staying quiet on the user's normal behaviour, the noisy-OR
 * composite score and severity bands. Events are built in code from a seeded RNG. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_event.h"
#include "core/sg_rng.h"
#include "speed/sg_consumer.h"
#include "speed/sg_detect.h"
#include "speed/sg_user.h"

#define T0 INT64_C(1793577600000) /* Monday 2026-11-02 00:00 UTC */
#define HOUR INT64_C(3600000)

static struct sg_str S(const char *s)
{
    struct sg_str r = {s, (uint32_t)strlen(s)};
    return r;
}

/* A normal event of `alice`: office hours, her IPs/host/country in Berlin. */
static void normal(struct sg_event *ev, struct sg_rng *r, int64_t day, enum sg_event_type t)
{
    static const char *ips[] = {"10.0.0.5", "10.0.0.6"};
    sg_event_init(ev);
    sg_event_set_type(ev, t);
    ev->event_id = S("evt_x");
    ev->user = S("alice");
    ev->ts_ms = T0 + day * 24 * HOUR + 9 * HOUR + (int64_t)sg_rng_below(r, 8 * HOUR);
    ev->source_ip = S(ips[sg_rng_below(r, 2)]);
    ev->hostname = S("ws-alice");
    ev->geo_location = S("DE-BER-Berlin");
    ev->has_geo = 1;
    ev->geo_lat = 52.52;
    ev->geo_lon = 13.40;
    if (t == SG_EV_NETWORK)
        ev->d.net.bytes_sent = 5000 + (int64_t)sg_rng_below(r, 5000);
    if (t == SG_EV_DNS)
        ev->d.dns.query_name = S("www.example.com");
    if (t == SG_EV_PROCESS) {
        ev->d.proc.process_name = S(sg_rng_below(r, 2) ? "chrome" : "bash");
        ev->d.proc.user_privileges = S("standard");
        ev->d.proc.is_signed = 1;
    }
}

/* Alice after 10 days x 40 events of normal behaviour (not an attacker). */
static void baseline(struct sg_user_state *u, struct sg_detect_params *p)
{
    struct sg_rng r;
    sg_rng_seed(&r, 5);
    sg_user_init(u);
    sg_detect_params_init(p);
    struct sg_findings fs;
    sg_findings_init(&fs);
    int fired = 0;
    for (int d = 0; d < 10; d++) {
        for (int i = 0; i < 40; i++) {
            struct sg_event ev;
            normal(&ev, &r, d, (enum sg_event_type)(i % SG_EV_TYPE_COUNT));
            sg_detect_run(u, &ev, p, &fs);
            if (sg_detect_severity(sg_detect_score(&fs), p->threshold) >= 0)
                fired++;
            sg_user_update(u, &ev);
        }
    }
    sg_findings_release(&fs);
    assert_int_equal(fired, 0); /* no alert on normal behaviour */
    assert_true(sg_detect_established(u, p));
}

static int has_reason(const struct sg_findings *fs, const char *reason)
{
    for (size_t i = 0; i < fs->n; i++)
        if (!strcmp(fs->f[i].reason, reason))
            return 1;
    return 0;
}

/* A partition resumed past its stored offset: only offsets below the log's start are lost
 * (retention); a jump within the log (a transaction marker at the resume point, an aborted
 * transaction) is none - a real broker writes such markers, the development broker does not,
 * so this case is tested here and the retention case also end to end
 * (tests/e2e/stream_topic_checks.sh). */
static void test_resume_lost(void **state)
{
    (void)state;
    assert_int_equal(sg_consumer_resume_lost(100, 100, 0), 0);        /* resumed exactly */
    assert_int_equal(sg_consumer_resume_lost(100, 101, 0), 0);        /* commit marker at 100 */
    assert_int_equal(sg_consumer_resume_lost(100, 140, 100), 0);      /* an aborted transaction */
    assert_int_equal(sg_consumer_resume_lost(100, 5000, 4990), 4890); /* retention, then markers */
    assert_int_equal(sg_consumer_resume_lost(100, 5000, 5000), 4900); /* retention */
    assert_int_equal(sg_consumer_resume_lost(100, 5000, -1), 4900);   /* log start unknown */
    assert_int_equal(sg_consumer_resume_lost(100, 5000, 7000), 4900); /* start moved on since */
    assert_int_equal(sg_consumer_resume_lost(100, 50, 0), 0);         /* a rewind is not a loss */
}

static void test_profile_roundtrip(void **state)
{
    (void)state;
    struct sg_user_state u, v;
    struct sg_detect_params p;
    baseline(&u, &p);
    struct sg_buf a, b;
    sg_buf_init(&a);
    sg_buf_init(&b);
    sg_user_encode(&u, &a);
    assert_true(a.len < 2000); /* compact: varints, used entries only */
    assert_int_equal(sg_user_decode(&v, a.data, a.len), SG_OK);
    sg_user_encode(&v, &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(v.n_events, 400);
    assert_int_equal(v.ip_set.n, 2);
    /* truncated, extended or version-bumped blobs are refused and reset the profile */
    assert_int_equal(sg_user_decode(&v, a.data, a.len - 1), SG_ERR_FORMAT);
    assert_int_equal(v.n_events, 0);
    sg_buf_putc(&a, 0);
    assert_int_equal(sg_user_decode(&v, a.data, a.len), SG_ERR_FORMAT);
    a.data[0] = 9;
    assert_int_equal(sg_user_decode(&v, a.data, a.len - 1), SG_ERR_FORMAT);
    sg_buf_reset(&b);
    sg_user_to_json(&u, &b);
    assert_non_null(strstr(b.data, "\"events\":400"));
    assert_non_null(strstr(b.data, "\"value\":\"DE\""));
    /* the rolling-feature fields (format 2) round-trip ... */
    u.roll_model = UINT64_C(0x9e3779b97f4a7c15);
    u.roll_n = 77;
    sg_buf_reset(&a);
    sg_user_encode(&u, &a);
    assert_int_equal(sg_user_decode(&v, a.data, a.len), SG_OK);
    assert_true(v.roll_model == u.roll_model);
    assert_int_equal(v.roll_n, 77);
    /* the partition (format 3) round-trips and is readable without a full decode */
    assert_int_equal(v.partition, -1); /* baseline() never set one */
    assert_int_equal(sg_user_blob_partition(a.data, a.len), -1);
    u.partition = 5;
    sg_buf_reset(&a);
    sg_user_encode(&u, &a);
    assert_int_equal(sg_user_decode(&v, a.data, a.len), SG_OK);
    assert_int_equal(v.partition, 5);
    assert_int_equal(sg_user_blob_partition(a.data, a.len), 5);
    assert_int_equal(sg_user_blob_partition(a.data, 1), -1); /* truncated */
    assert_int_equal(sg_user_blob_partition("", 0), -1);
    /* ... a format-2 profile (no partition) still loads, with none ... */
    u.roll_model = 0;
    u.roll_n = 0;
    sg_buf_reset(&a);
    sg_user_encode(&u, &a); /* the partition and the two trailing varints: 1 byte each */
    assert_int_equal(a.data[0], 3);
    assert_int_equal(a.data[1], 6);
    memmove(a.data + 1, a.data + 2, a.len - 2);
    a.len--;
    a.data[0] = 2;
    assert_int_equal(sg_user_decode(&v, a.data, a.len), SG_OK);
    assert_int_equal(v.n_events, 400);
    assert_int_equal(v.partition, -1);
    assert_int_equal(sg_user_blob_partition(a.data, a.len), -1);
    /* ... and so does a format-1 one (no rolling-feature fields either) */
    a.data[0] = 1;
    assert_int_equal(sg_user_decode(&v, a.data, a.len - 2), SG_OK);
    assert_int_equal(v.n_events, 400);
    assert_true(v.roll_model == 0 && v.roll_n == 0);
    assert_int_equal(sg_user_decode(&v, a.data, a.len), SG_ERR_FORMAT); /* 1 + extra bytes */
    sg_buf_release(&a);
    sg_buf_release(&b);
}

static void test_bounded_sets(void **state)
{
    (void)state;
    struct sg_user_state u;
    sg_user_init(&u);
    struct sg_rng r;
    sg_rng_seed(&r, 1);
    struct sg_event ev;
    normal(&ev, &r, 0, SG_EV_AUTH);
    /* 10.0.0.1 seen 5 times, then 40 one-off IPs: the frequent one survives */
    for (int i = 0; i < 5; i++) {
        ev.source_ip = S("10.0.0.1");
        sg_user_update(&u, &ev);
    }
    char ip[40][24];
    for (int i = 0; i < 40; i++) {
        snprintf(ip[i], sizeof ip[i], "192.0.2.%d", i);
        ev.source_ip = S(ip[i]);
        ev.ts_ms += 1000;
        sg_user_update(&u, &ev);
    }
    assert_int_equal(u.ip_set.n, SG_USER_IPS);
    assert_int_equal(u.ip_set.distinct, 41);
    assert_int_equal(u.ip_set.total, 45);
    assert_non_null(sg_user_seen_find(u.ips, &u.ip_set, "10.0.0.1", 8));
    assert_non_null(sg_user_seen_find(u.ips, &u.ip_set, ip[39], strlen(ip[39])));
    assert_null(sg_user_seen_find(u.ips, &u.ip_set, ip[0], strlen(ip[0])));
}

static void test_warmup(void **state)
{
    (void)state;
    struct sg_user_state u;
    struct sg_detect_params p;
    sg_user_init(&u);
    sg_detect_params_init(&p);
    struct sg_rng r;
    sg_rng_seed(&r, 2);
    struct sg_event ev;
    for (int i = 0; i < 10; i++) {
        normal(&ev, &r, 0, SG_EV_AUTH);
        sg_user_update(&u, &ev);
    }
    /* a new country on day 0 of a new user: no baseline yet, no finding */
    normal(&ev, &r, 0, SG_EV_AUTH);
    ev.geo_location = S("BR-SP-Sao Paulo");
    ev.has_geo = 0;
    struct sg_findings fs;
    sg_findings_init(&fs);
    sg_detect_run(&u, &ev, &p, &fs);
    assert_false(has_reason(&fs, "new_country"));
    sg_findings_release(&fs);
}

/* Runs the detectors on `ev` against alice's baseline; returns the composite score. */
static double detect(const struct sg_user_state *u, const struct sg_detect_params *p,
                     const struct sg_event *ev, struct sg_findings *fs)
{
    sg_detect_run(u, ev, p, fs);
    return sg_detect_score(fs);
}

static void test_detectors(void **state)
{
    (void)state;
    struct sg_user_state u;
    struct sg_detect_params p;
    baseline(&u, &p);
    struct sg_rng r;
    sg_rng_seed(&r, 77);
    struct sg_findings fs;
    sg_findings_init(&fs);
    struct sg_event ev;
    int64_t day = 10;

    /* a normal event: nothing */
    normal(&ev, &r, day, SG_EV_NETWORK);
    assert_true(detect(&u, &p, &ev, &fs) < p.threshold);

    /* new country + IP + host from Moscow, 1 h after Berlin: impossible travel */
    normal(&ev, &r, day, SG_EV_AUTH);
    ev.ts_ms = u.loc_ms + HOUR;
    ev.source_ip = S("203.0.113.9");
    ev.hostname = S("kali");
    ev.geo_location = S("RU-MOW-Moscow");
    ev.geo_lat = 55.75;
    ev.geo_lon = 37.62;
    double s = detect(&u, &p, &ev, &fs);
    assert_true(has_reason(&fs, "new_country") && has_reason(&fs, "new_ip") &&
                has_reason(&fs, "impossible_travel") && has_reason(&fs, "new_host"));
    assert_int_equal(sg_detect_severity(s, p.threshold), SG_SEV_CRITICAL);
    assert_non_null(strstr(fs.detail.data, "\"country\":\"RU\""));

    /* 3 a.m. on a Sunday: unusual hour */
    normal(&ev, &r, 13, SG_EV_FILE);
    ev.ts_ms = T0 + 13 * 24 * HOUR + 3 * HOUR;
    detect(&u, &p, &ev, &fs);
    assert_true(has_reason(&fs, "unusual_hour"));

    /* exfiltration: 500 MB sent */
    normal(&ev, &r, day, SG_EV_NETWORK);
    ev.d.net.bytes_sent = 500000000;
    s = detect(&u, &p, &ev, &fs);
    assert_true(has_reason(&fs, "volume_spike"));
    assert_true(s >= p.threshold);

    /* DNS tunnelling: long random TXT subdomain */
    normal(&ev, &r, day, SG_EV_DNS);
    ev.d.dns.query_name = S("a9x7k2m4q8w1z5c3v6b0n7m2l4k8j1h5g3f6d9s.tunnel.example.net");
    ev.d.dns.query_type = S("TXT");
    s = detect(&u, &p, &ev, &fs);
    assert_true(has_reason(&fs, "dns_tunneling") && s >= p.threshold);
    /* ... but a long dictionary-like name with low entropy is not */
    ev.d.dns.query_name = S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.net");
    detect(&u, &p, &ev, &fs);
    assert_false(has_reason(&fs, "dns_tunneling"));

    /* attack tool, and a new unsigned process */
    normal(&ev, &r, day, SG_EV_PROCESS);
    ev.d.proc.process_name = S("Mimikatz.exe");
    s = detect(&u, &p, &ev, &fs);
    assert_true(has_reason(&fs, "suspicious_process") && s >= 0.75);
    ev.d.proc.process_name = S("updater_x.exe");
    ev.d.proc.is_signed = 0;
    detect(&u, &p, &ev, &fs);
    assert_true(has_reason(&fs, "unsigned_process"));
    ev.d.proc.process_name = S("chrome");
    detect(&u, &p, &ev, &fs);
    assert_false(has_reason(&fs, "unsigned_process")); /* known process */

    /* sensitive file for a user who never touches them */
    normal(&ev, &r, day, SG_EV_FILE);
    ev.d.file.file_path = S("/etc/shadow");
    detect(&u, &p, &ev, &fs);
    assert_true(has_reason(&fs, "sensitive_file"));
    sg_findings_release(&fs);
}

static void test_failure_burst_and_rate(void **state)
{
    (void)state;
    struct sg_user_state u;
    struct sg_detect_params p;
    baseline(&u, &p);
    struct sg_rng r;
    sg_rng_seed(&r, 9);
    struct sg_findings fs;
    sg_findings_init(&fs);
    struct sg_event ev;
    normal(&ev, &r, 11, SG_EV_AUTH);
    ev.status = SG_STATUS_FAILED;
    char dst[8][24];
    int burst_at = -1, spray = 0;
    for (int i = 0; i < 8; i++) {
        snprintf(dst[i], sizeof dst[i], "10.9.9.%d", i);
        ev.destination_ip = S(dst[i]);
        ev.ts_ms += 2000;
        detect(&u, &p, &ev, &fs);
        if (burst_at < 0 && (has_reason(&fs, "failed_burst") || has_reason(&fs, "password_spraying")))
            burst_at = i;
        spray |= has_reason(&fs, "password_spraying");
        sg_user_update(&u, &ev);
    }
    assert_int_equal(burst_at, (int)p.fail_burst - 1);
    assert_true(spray);
    /* rate spike: 60 events in one minute against ~1 per active minute */
    normal(&ev, &r, 12, SG_EV_FILE);
    int fired = 0;
    for (int i = 0; i < 60; i++) {
        ev.ts_ms = T0 + 12 * 24 * HOUR + 10 * HOUR + i * 900;
        detect(&u, &p, &ev, &fs);
        fired += has_reason(&fs, "rate_spike");
        sg_user_update(&u, &ev);
    }
    assert_true(fired >= 30);
    sg_findings_release(&fs);
}

static void test_sequences(void **state)
{
    (void)state;
    struct sg_user_state u;
    struct sg_detect_params p;
    baseline(&u, &p);
    struct sg_rng r;
    sg_rng_seed(&r, 21);
    struct sg_findings fs;
    sg_findings_init(&fs);
    struct sg_event ev;
    /* brute force then success: the success is flagged */
    normal(&ev, &r, 11, SG_EV_AUTH);
    ev.status = SG_STATUS_FAILED;
    for (int i = 0; i < 4; i++) {
        ev.ts_ms += 3000;
        sg_user_update(&u, &ev);
    }
    ev.status = SG_STATUS_SUCCESS;
    ev.ts_ms += 3000;
    double s = detect(&u, &p, &ev, &fs);
    assert_true(has_reason(&fs, "success_after_failures") && s >= p.threshold);
    sg_user_note_anomaly(&u, ev.ts_ms, s);
    sg_user_update(&u, &ev);
    /* the attacker's session: a new recon tool right after, then even a quiet event */
    normal(&ev, &r, 11, SG_EV_PROCESS);
    ev.ts_ms = u.risk_ms + 60000;
    ev.d.proc.process_name = S("whoami.exe");
    s = detect(&u, &p, &ev, &fs);
    assert_true(has_reason(&fs, "recon_tool") && has_reason(&fs, "follows_anomaly"));
    assert_true(s >= p.threshold);
    ev.d.proc.process_name = S("chrome");
    ev.ts_ms = u.risk_ms + 10 * 60000;
    detect(&u, &p, &ev, &fs);
    assert_true(has_reason(&fs, "follows_anomaly")); /* r >= 0.75: 30 min of inherited risk */
    ev.ts_ms = u.risk_ms + 45 * 60000;
    detect(&u, &p, &ev, &fs);
    assert_false(has_reason(&fs, "follows_anomaly")); /* quiet event after 30 min */
    ev.ts_ms = u.risk_ms + 2 * HOUR;
    ev.d.proc.process_name = S("mimikatz");
    detect(&u, &p, &ev, &fs);
    assert_false(has_reason(&fs, "follows_anomaly")); /* window over */
    /* bulk reads of sensitive files: from the 3rd in an hour a burst */
    normal(&ev, &r, 12, SG_EV_FILE);
    ev.d.file.file_path = S("/srv/exports/customers.sql");
    int bursts = 0;
    for (int i = 0; i < 6; i++) {
        ev.ts_ms += 60000;
        detect(&u, &p, &ev, &fs);
        bursts += has_reason(&fs, "sensitive_burst");
        sg_user_update(&u, &ev);
    }
    assert_int_equal(bursts, 4);
    /* lateral movement: RDP to one new internal host after another; the 5th is a fan-out,
     * while the same 2 servers again and again never are */
    normal(&ev, &r, 13, SG_EV_NETWORK);
    ev.d.net.destination_port = 3389;
    char hosts[8][24];
    int fan = -1, same = 0;
    for (int i = 0; i < 8; i++) {
        snprintf(hosts[i], sizeof hosts[i], "10.20.0.%d", i + 1);
        ev.destination_ip = S(hosts[i]);
        ev.ts_ms += 60000;
        detect(&u, &p, &ev, &fs);
        if (fan < 0 && has_reason(&fs, "admin_fanout"))
            fan = i;
        sg_user_update(&u, &ev);
    }
    assert_int_equal(fan, 4);
    normal(&ev, &r, 14, SG_EV_NETWORK);
    ev.d.net.destination_port = 22;
    for (int i = 0; i < 20; i++) {
        ev.destination_ip = S(hosts[i % 2]);
        ev.ts_ms += 60000;
        detect(&u, &p, &ev, &fs);
        same += has_reason(&fs, "admin_fanout");
        sg_user_update(&u, &ev);
    }
    assert_int_equal(same, 0);
    sg_findings_release(&fs);
}

static void test_score_and_severity(void **state)
{
    (void)state;
    struct sg_findings fs;
    sg_findings_init(&fs);
    assert_true(sg_detect_score(&fs) == 0.0);
    sg_findings_add(&fs, "a", 1.0, 0.5);
    assert_true(fabs(sg_detect_score(&fs) - 0.5) < 1e-12);
    sg_findings_add(&fs, "b", 0.5, 0.8); /* 1 - 0.5 * 0.6 = 0.7 */
    assert_true(fabs(sg_detect_score(&fs) - 0.7) < 1e-12);
    sg_findings_add(&fs, "c", 7.0, 1.0); /* scores are clamped to 1 */
    assert_true(sg_detect_score(&fs) == 1.0);
    assert_int_equal(sg_detect_severity(0.49, 0.5), -1);
    assert_int_equal(sg_detect_severity(0.5, 0.5), SG_SEV_LOW);
    assert_int_equal(sg_detect_severity(0.6, 0.5), SG_SEV_MEDIUM);
    assert_int_equal(sg_detect_severity(0.75, 0.5), SG_SEV_HIGH);
    assert_int_equal(sg_detect_severity(0.95, 0.5), SG_SEV_CRITICAL);
    assert_string_equal(sg_detect_severity_name(SG_SEV_HIGH), "high");
    sg_findings_release(&fs);
    assert_true(fabs(sg_det_haversine_km(52.52, 13.40, 55.75, 37.62) - 1608) < 10);
    assert_true(fabs(sg_det_entropy("abcd", 4) - 2.0) < 1e-12);
    assert_int_equal(sg_user_hour_of_week(T0 + 25 * HOUR), 25); /* Tuesday 01:00 */
}

/* Case-insensitive substring match of the sensitive-path patterns, for short paths (folded
 * copy) and paths longer than the fold buffer alike. */
static void test_sensitive_path(void **state)
{
    (void)state;
    static const char *const yes[] = {"/etc/shadow", "/ETC/SHADOW", "/home/a/.SSH/Id_rsa.pub",
                                      "C:\\Windows\\System32\\Config\\SAM",
                                      "/srv/Payroll", "x/customers.SQL", "/root/"};
    static const char *const no[] = {"", "/etc/hosts", "/etc/shado", "/home/a/.ssh/known_hosts",
                                     "/srv/pay roll", "/ro ot/"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        assert_int_equal(sg_det_sensitive_path(yes[i], strlen(yes[i])), 1);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        assert_int_equal(sg_det_sensitive_path(no[i], strlen(no[i])), 0);
    /* the length bounds the match: the pattern must lie inside the first n bytes */
    assert_int_equal(sg_det_sensitive_path("/etc/shadow", 10), 0);
    char longp[3000];
    memset(longp, 'a', sizeof longp);
    assert_int_equal(sg_det_sensitive_path(longp, sizeof longp), 0);
    memcpy(longp + 2000, "/ETC/Shadow", 11);
    assert_int_equal(sg_det_sensitive_path(longp, sizeof longp), 1);
    assert_int_equal(sg_det_sensitive_path(longp, 2005), 0);
    memcpy(longp + 500, "LSASS", 5); /* short prefix with a match too */
    assert_int_equal(sg_det_sensitive_path(longp, 600), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_lost),
        cmocka_unit_test(test_profile_roundtrip),
        cmocka_unit_test(test_sensitive_path),
        cmocka_unit_test(test_bounded_sets),
        cmocka_unit_test(test_warmup),
        cmocka_unit_test(test_detectors),
        cmocka_unit_test(test_failure_burst_and_rate),
        cmocka_unit_test(test_sequences),
        cmocka_unit_test(test_score_and_severity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
