/* Unit tests of the speed layer's warm start (sg_user_warm_start) against the detectors: a
 * profile seeded from a batch baseline must never detect less than a cold profile fed the same
 * events - the safety nets meant for users without history (the volume detector's absolute
 * 100 MB rule) stay on until real evidence replaces them. Events are built in code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "batch/sg_features.h"
#include "core/sg_event.h"
#include "speed/sg_detect.h"
#include "speed/sg_user.h"

#define T0 INT64_C(1793577600000) /* Monday 2026-11-02 00:00 UTC */
#define MIN INT64_C(60000)
#define HOUR (60 * MIN)

static struct sg_str S(const char *s)
{
    struct sg_str r = {s, (uint32_t)strlen(s)};
    return r;
}

/* Bob's baseline as the batch layer writes it: Berlin office hours, two office addresses, and
 * `bytes` per event on average (a large mean: he moves big files now and then). */
static void bob_baseline(struct sg_baseline *b, double bytes)
{
    memset(b, 0, sizeof *b);
    b->tz_hours = 1;
    for (int h = 9; h < 17; h++)
        b->hour_share[h] = 1.0 / 8;
    b->events_per_day = 40;
    b->bytes_per_event = bytes;
    b->n_ips = 2;
    snprintf(b->ips[0], sizeof b->ips[0], "10.0.0.5");
    snprintf(b->ips[1], sizeof b->ips[1], "10.0.0.6");
    b->ip_share[0] = 0.6;
    b->ip_share[1] = 0.4;
    b->n_locs = 1;
    snprintf(b->locs[0], sizeof b->locs[0], "DE-BER-Berlin");
    b->loc_share[0] = 1.0;
}

static void event(struct sg_event *ev, enum sg_event_type t, int64_t ts)
{
    sg_event_init(ev);
    sg_event_set_type(ev, t);
    ev->event_id = S("evt_w");
    ev->user = S("bob");
    ev->ts_ms = ts;
    ev->source_ip = S("10.0.0.5");
    ev->hostname = S("ws-bob");
    ev->geo_location = S("DE-BER-Berlin");
}

static void upload(struct sg_event *ev, int64_t ts, int64_t bytes)
{
    event(ev, SG_EV_NETWORK, ts);
    ev->destination_ip = S("198.51.100.7");
    ev->d.net.destination_port = 443;
    ev->d.net.bytes_sent = bytes;
}

/* Score of `reason` among the findings, 0 when absent. */
static double finding(const struct sg_findings *fs, const char *reason)
{
    for (size_t i = 0; i < fs->n; i++)
        if (!strcmp(fs->f[i].reason, reason))
            return fs->f[i].score;
    return 0;
}

/* Runs `ev` through a cold and a warm profile; every finding of the cold one must be in the
 * warm one with at least its score. Returns the warm volume_spike score. Updates both. */
static double both(struct sg_user_state *cold, struct sg_user_state *warm,
                   const struct sg_event *ev, const struct sg_detect_params *p)
{
    struct sg_findings fc, fw;
    sg_findings_init(&fc);
    sg_findings_init(&fw);
    sg_detect_run(cold, ev, p, &fc);
    sg_detect_run(warm, ev, p, &fw);
    for (size_t i = 0; i < fc.n; i++) {
        double w = finding(&fw, fc.f[i].reason);
        if (w + 1e-9 < fc.f[i].score)
            fail_msg("warm start weakens %s: %.3f cold, %.3f warm", fc.f[i].reason,
                     fc.f[i].score, w);
    }
    double v = finding(&fw, "volume_spike");
    sg_findings_release(&fc);
    sg_findings_release(&fw);
    sg_user_update(cold, ev);
    sg_user_update(warm, ev);
    return v;
}

/* A warm-started user exfiltrating 300 MB x 8: every upload is flagged at least as the cold
 * user's absolute rule flags it (0.7), although the EWMA adapts to the uploads. Before the
 * fix the prior's 20 pseudo samples switched the absolute rule off and the later uploads went
 * unflagged. */
static void test_exfil_after_warm_start(void **state)
{
    (void)state;
    struct sg_detect_params p;
    sg_detect_params_init(&p);
    struct sg_baseline b;
    bob_baseline(&b, 20e6);
    struct sg_user_state cold, warm;
    sg_user_init(&cold);
    sg_user_init(&warm);
    int64_t t = T0 + 2 * 24 * HOUR + 9 * HOUR;
    sg_user_warm_start(&warm, &b, t, 100);
    struct sg_event ev;
    for (int i = 0; i < 10; i++) { /* a morning of ordinary traffic */
        upload(&ev, t + i * 10 * MIN, 20000 + 1000 * i);
        both(&cold, &warm, &ev, &p);
        event(&ev, SG_EV_FILE, t + i * 10 * MIN + MIN);
        ev.d.file.file_path = S("/home/bob/notes.txt");
        both(&cold, &warm, &ev, &p);
    }
    t += 16 * HOUR; /* 01:00 local: the uploads */
    for (int i = 0; i < 8; i++) {
        upload(&ev, t + i * 3 * MIN, 300000000);
        double v = both(&cold, &warm, &ev, &p);
        if (v < 0.7)
            fail_msg("upload %d of 300 MB scored %.3f after a warm start", i, v);
    }
}

/* Once 20 network transfers were really observed, the evidence decides: a user whose real
 * transfers are ~150 MB is not flagged for one more, warm-started or not - the absolute rule
 * is a safety net for missing history, not a fixed limit. */
static void test_evidence_switches_absolute_rule_off(void **state)
{
    (void)state;
    struct sg_detect_params p;
    sg_detect_params_init(&p);
    struct sg_baseline b;
    bob_baseline(&b, 150e6);
    struct sg_user_state cold, warm;
    sg_user_init(&cold);
    sg_user_init(&warm);
    int64_t t = T0 + 9 * HOUR;
    sg_user_warm_start(&warm, &b, t, 100);
    struct sg_event ev;
    double first = 0, last = -1;
    for (int i = 0; i < 25; i++) {
        upload(&ev, t + i * 30 * MIN, 150000000 + 100000 * i);
        double v = both(&cold, &warm, &ev, &p);
        if (i == 0)
            first = v;
        last = v;
    }
    assert_true(first >= 0.7); /* no evidence yet: the absolute rule, even after warm start */
    assert_true(last == 0);    /* 24 observed transfers of that size: usual for bob */
    assert_int_equal(warm.type_count[SG_EV_NETWORK], 25);
}

/* Events of other types do not count as transfer evidence: a warm-started user with many
 * file events but fewer than 20 network events keeps the absolute rule. */
static void test_only_network_events_count(void **state)
{
    (void)state;
    struct sg_detect_params p;
    sg_detect_params_init(&p);
    struct sg_baseline b;
    bob_baseline(&b, 80e6);
    struct sg_user_state cold, warm;
    sg_user_init(&cold);
    sg_user_init(&warm);
    int64_t t = T0 + 9 * HOUR;
    sg_user_warm_start(&warm, &b, t, 100);
    struct sg_event ev;
    for (int i = 0; i < 50; i++) { /* 17 network events, 33 file events */
        event(&ev, i % 3 ? SG_EV_FILE : SG_EV_NETWORK, t + i * MIN);
        if (ev.type == SG_EV_FILE)
            ev.d.file.file_path = S("/srv/data/big.bin");
        else
            ev.d.net.bytes_sent = 50000000;
        both(&cold, &warm, &ev, &p);
    }
    assert_int_equal(warm.type_count[SG_EV_NETWORK], 17);
    upload(&ev, t + 2 * HOUR, 120000000);
    assert_true(both(&cold, &warm, &ev, &p) >= 0.7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exfil_after_warm_start),
        cmocka_unit_test(test_evidence_switches_absolute_rule_off),
        cmocka_unit_test(test_only_network_events_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
