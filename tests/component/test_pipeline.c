/* Component tests of sg_pipeline against a real RocksDB in a temporary directory: events go
 * through decode -> dedup -> store across batches written by the pipeline's writer thread,
 * and the end-to-end latency and the busy span are measured to the moment a batch is stored,
 * not to the moment the pipeline next looks at its writer. Detection itself is tested in test_speed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_metrics.h"
#include "core/sg_time.h"
#include "speed/sg_pipeline.h"
#include "speed/sg_user.h"
#include "storage/sg_store.h"

struct fixture {
    char dir[64];
    struct sg_store *st;
    struct sg_metrics *m;
    struct sg_pipeline *p;
};

/* Opens the store and a pipeline; `o` (may be NULL) supplies sinks and parameters. */
static void open_with(struct fixture *f, const struct sg_pipeline_opts *o_in)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/sg_pipeline_test_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char err[512];
    assert_int_equal(sg_store_open(f->dir, SG_STORE_PRIMARY, NULL, 0, &f->st, err, sizeof err),
                     SG_OK);
    f->m = sg_metrics_new();
    struct sg_pipeline_opts o = {0};
    if (o_in)
        o = *o_in;
    else
        sg_detect_params_init(&o.params);
    o.store = f->st;
    o.metrics = f->m;
    assert_int_equal(sg_pipeline_new(&o, &f->p), SG_OK);
}

static void open_all(struct fixture *f)
{
    open_with(f, NULL);
}

static void close_all(struct fixture *f)
{
    sg_pipeline_free(f->p);
    sg_metrics_free(f->m);
    sg_store_close(f->st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
}

/* Adds event number i (user u<i%5>), produced at msg_ts (ms, -1 = unknown). */
static void add(struct fixture *f, int i, int64_t msg_ts)
{
    char json[512];
    int n = snprintf(json, sizeof json,
                     "{\"event_id\":\"evt_%06d\",\"timestamp\":\"2026-11-01T00:%02d:%02d.000Z\","
                     "\"event_type\":\"auth_attempt\",\"user\":\"u%d\","
                     "\"source_ip\":\"10.0.0.%d\",\"status\":\"success\",\"threat_score\":0.1}",
                     i, i / 60 % 60, i % 60, i % 5, i % 250 + 1);
    struct sg_msg m = {
        .data = json, .len = (size_t)n, .source = "test", .offset = i, .msg_ts_ms = msg_ts};
    assert_int_equal(sg_pipeline_add(f->p, &m), SG_OK);
}

/* Adds failed login number i (user u<i%2>, a new source IP each, a second apart). */
static void add_failed_login(struct fixture *f, int i)
{
    char json[512];
    int n = snprintf(json, sizeof json,
                     "{\"event_id\":\"evt_%06d\",\"timestamp\":\"2026-11-01T00:%02d:%02d.000Z\","
                     "\"event_type\":\"auth_attempt\",\"user\":\"u%d\","
                     "\"source_ip\":\"10.0.0.%d\",\"status\":\"failed\"}",
                     i, i / 60, i % 60, i % 2, i + 1);
    struct sg_msg m = {
        .data = json, .len = (size_t)n, .source = "test", .offset = i, .msg_ts_ms = -1};
    assert_int_equal(sg_pipeline_add(f->p, &m), SG_OK);
}

static void test_batches_and_dedup(void **state)
{
    (void)state;
    struct fixture f;
    open_all(&f);
    for (int i = 0; i < 300; i++)
        add(&f, i, -1);
    assert_int_equal(sg_pipeline_flush(f.p), SG_OK);
    /* the next batch repeats 100 ids of the one being written, and one of its own */
    for (int i = 200; i < 400; i++)
        add(&f, i, -1);
    add(&f, 399, -1);
    assert_int_equal(sg_pipeline_flush(f.p), SG_OK);
    assert_int_equal(sg_pipeline_sync(f.p), SG_OK);
    struct sg_pipeline_totals t = sg_pipeline_totals(f.p);
    assert_int_equal(t.events, 400);
    assert_int_equal(t.duplicates, 101);
    assert_int_equal(t.batches, 2);
    struct sg_buf b;
    sg_buf_init(&b);
    assert_int_equal(sg_store_event_get(f.st, "evt_000399", 10, &b), SG_OK);
    assert_non_null(strstr(b.data, "\"user\":\"u4\""));
    assert_int_equal(sg_store_event_seen(f.st, "evt_000000", 10), 1);
    assert_int_equal(sg_store_event_seen(f.st, "evt_000400", 10), 0);
    sg_buf_release(&b);
    assert_int_equal(sg_store_stat_get(f.st, "duplicates"), 101);
    assert_int_equal(sg_store_stat_get(f.st, "events"), 400);
    assert_int_equal(sg_store_stat_get(f.st, "events.auth_attempt"), 400);
    /* counters that did not change are not rewritten, but are still there */
    add(&f, 5, -1);
    assert_int_equal(sg_pipeline_flush(f.p), SG_OK);
    assert_int_equal(sg_pipeline_sync(f.p), SG_OK);
    assert_int_equal(sg_store_stat_get(f.st, "duplicates"), 102);
    assert_int_equal(sg_store_stat_get(f.st, "events"), 400);
    close_all(&f);
}

static void test_e2e_latency_at_store_time(void **state)
{
    (void)state;
    struct fixture f;
    open_all(&f);
    for (int i = 0; i < 50; i++)
        add(&f, i, sg_time_now_ms());
    assert_int_equal(sg_pipeline_flush(f.p), SG_OK);
    /* nothing else arrives for a while; the batch is written meanwhile by the writer thread,
     * and only the sync below collects its metrics */
    struct timespec ts = {0, 400 * 1000 * 1000};
    nanosleep(&ts, NULL);
    assert_int_equal(sg_pipeline_sync(f.p), SG_OK);
    struct sg_pipeline_totals t = sg_pipeline_totals(f.p);
    assert_int_equal(t.events, 50);
    /* the write of 50 events takes milliseconds; 0.4 s would mean "measured at the sync" */
    assert_true(t.e2e_p99_s < 0.2);
    /* the busy span (first message to last batch stored: the stream's messages_per_second)
     * ends at the write too, not when the idle pipeline was synced */
    assert_true(t.last_ns > t.first_ns);
    assert_true(t.last_ns - t.first_ns < INT64_C(200000000));
    close_all(&f);
}

/* Duplicates of events stored by earlier (finished) batches are found by the batched store
 * lookup whatever their position among new and invalid messages, and the profiles the writer
 * thread encodes are those of the batch's end. */
static void test_stored_dups_and_profiles(void **state)
{
    (void)state;
    struct fixture f;
    open_all(&f);
    for (int i = 0; i < 200; i++)
        add(&f, i, -1);
    assert_int_equal(sg_pipeline_flush(f.p), SG_OK);
    assert_int_equal(sg_pipeline_sync(f.p), SG_OK);
    int per_user[5] = {40, 40, 40, 40, 40}, invalid = 0;
    for (int k = 0; k < 150; k++) {
        if (k % 10 == 9) {
            struct sg_msg m = {.data = "{\"event_id\":",
                               .len = 12,
                               .source = "test",
                               .offset = 5000 + k,
                               .msg_ts_ms = -1};
            assert_int_equal(sg_pipeline_add(f.p, &m), SG_OK);
            invalid++;
        } else if (k % 2) {
            add(&f, k * 3 % 200, -1); /* stored two batches ago */
        } else {
            add(&f, 1000 + k, -1);
            per_user[(1000 + k) % 5]++;
        }
    }
    assert_int_equal(sg_pipeline_flush(f.p), SG_OK);
    assert_int_equal(sg_pipeline_sync(f.p), SG_OK);
    struct sg_pipeline_totals t = sg_pipeline_totals(f.p);
    assert_int_equal(t.invalid, invalid);
    assert_int_equal(t.duplicates, 150 - invalid - 75);
    assert_int_equal(t.events, 200 + 75);
    struct sg_buf b;
    sg_buf_init(&b);
    for (int u = 0; u < 5; u++) {
        char name[16];
        snprintf(name, sizeof name, "u%d", u);
        assert_int_equal(sg_store_user_get(f.st, name, strlen(name), &b), SG_OK);
        struct sg_user_state st;
        assert_int_equal(sg_user_decode(&st, b.data, b.len), SG_OK);
        assert_int_equal(st.n_events, per_user[u]);
    }
    sg_buf_release(&b);
    close_all(&f);
}

/* Every alert of a batch reaches the sinks before the sink_flush callback that precedes the
 * batch's write (at-least-once: an alert is never lost for a stored batch), although the
 * pipeline processes messages in groups. */
struct sinkrec {
    int alerts, alerts_at_flush, flushes;
};

static void rec_alert(void *ctx, const char *user, size_t ul, const char *json, size_t len)
{
    (void)user;
    (void)ul;
    (void)json;
    (void)len;
    ((struct sinkrec *)ctx)->alerts++;
}

/* Also stages a sink position (what a file sink stores: its length) into the batch. */
static int rec_flush(void *ctx, struct sg_store_batch *batch)
{
    struct sinkrec *r = ctx;
    r->alerts_at_flush = r->alerts;
    r->flushes++;
    struct sg_sink_pos pos = {7, 8, (uint64_t)r->alerts};
    sg_store_batch_put_sink(batch, "alerts", &pos);
    return SG_OK;
}

static void test_alerts_before_write(void **state)
{
    (void)state;
    struct sinkrec r = {0};
    struct sg_pipeline_opts o = {0};
    sg_detect_params_init(&o.params);
    o.params.warmup_events = 0; /* every user is established: new source IPs are findings */
    o.params.warmup_ms = 0;
    o.params.threshold = 0.01;
    o.alert = rec_alert;
    o.sink_flush = rec_flush;
    o.sink_ctx = &r;
    struct fixture f;
    open_with(&f, &o);
    for (int i = 0; i < 100; i++) /* failed logins a second apart: a failure burst */
        add_failed_login(&f, i);
    assert_int_equal(sg_pipeline_flush(f.p), SG_OK);
    assert_int_equal(r.flushes, 1);
    assert_true(r.alerts > 0);
    assert_int_equal(r.alerts_at_flush, r.alerts);
    assert_int_equal(sg_pipeline_sync(f.p), SG_OK);
    assert_int_equal(sg_pipeline_totals(f.p).anomalies, r.alerts);
    /* what the callback staged was written with the batch; the dump leaves it out */
    struct sg_sink_pos pos;
    assert_int_equal(sg_store_sink_get(f.st, "alerts", &pos), SG_OK);
    assert_true(pos.dev == 7 && pos.ino == 8 && pos.len == (uint64_t)r.alerts);
    assert_int_equal(sg_store_sink_get(f.st, "dlq", &pos), SG_ERR_NOTFOUND);
    char *dump = NULL;
    size_t dump_len = 0;
    FILE *mf = open_memstream(&dump, &dump_len);
    assert_non_null(mf);
    assert_int_equal(sg_store_dump(f.st, mf), SG_OK);
    fclose(mf);
    assert_non_null(strstr(dump, "default\t"));       /* the meta rows are there... */
    assert_null(strstr(dump, "default\t73696e6b00")); /* ...but not "sink" | 0x00 */
    free(dump);
    close_all(&f);
}

/* The outbox: records a sink stages during a batch are written with it and handed to the
 * outbox_ready callback only once the batch is stored (the callback finds each one in the
 * store), in seq order from 0; a new pipeline over the same store continues the seqs after
 * the stored ones; "delivered below k" writes a batch of its own although no message is
 * pending, and removes exactly the records below k. */
struct obrec {
    struct sg_pipeline **p;
    struct sg_store *st;
    uint64_t ready[256];
    size_t nready, staged;
    int not_stored; /* records handed over before their batch was stored */
};

static void ob_alert(void *ctx, const char *user, size_t ul, const char *json, size_t len)
{
    (void)json;
    (void)len;
    struct obrec *r = ctx;
    r->staged++;
    assert_int_equal(sg_pipeline_outbox_put(*r->p, user, ul), r->staged - 1);
}

static void ob_ready(void *ctx, uint64_t seq, const void *rec, size_t len)
{
    struct obrec *r = ctx;
    struct sg_buf v;
    sg_buf_init(&v);
    if (sg_store_outbox_get(r->st, seq, &v) != SG_OK || v.len != len ||
        memcmp(v.data, rec, len) != 0)
        r->not_stored++;
    sg_buf_release(&v);
    if (r->nready < 256)
        r->ready[r->nready++] = seq;
}

static void test_outbox(void **state)
{
    (void)state;
    struct fixture f;
    struct obrec r = {.p = &f.p};
    struct sg_pipeline_opts o = {0};
    sg_detect_params_init(&o.params);
    o.params.warmup_events = 0;
    o.params.warmup_ms = 0;
    o.params.threshold = 0.01;
    o.alert = ob_alert;
    o.outbox_ready = ob_ready;
    o.sink_ctx = &r;
    open_with(&f, &o);
    r.st = f.st;
    assert_int_equal(sg_pipeline_outbox_next(f.p), 0);
    for (int i = 0; i < 100; i++) {
        add_failed_login(&f, i);
        if (i == 49)
            assert_int_equal(sg_pipeline_flush(f.p), SG_OK);
    }
    assert_int_equal(sg_pipeline_flush(f.p), SG_OK);
    assert_int_equal(sg_pipeline_sync(f.p), SG_OK);
    size_t n = r.staged;
    assert_true(n > 2 && n < 256);
    assert_int_equal(r.nready, n);
    assert_int_equal(r.not_stored, 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(r.ready[i], i);
    assert_int_equal(sg_store_outbox_each(f.st, NULL, NULL), n);

    /* a restart: seqs continue after the stored records */
    sg_pipeline_free(f.p);
    struct sg_metrics *m2 = sg_metrics_new();
    o.store = f.st;
    o.metrics = m2;
    assert_int_equal(sg_pipeline_new(&o, &f.p), SG_OK);
    assert_int_equal(sg_pipeline_outbox_next(f.p), n);
    assert_int_equal(sg_pipeline_outbox_below(f.p), 0); /* the first stored record */
    assert_false(sg_pipeline_outbox_due(f.p));
    assert_int_equal(sg_pipeline_flush(f.p), SG_OK); /* nothing to write */
    uint64_t batches = sg_pipeline_totals(f.p).batches;

    sg_pipeline_outbox_delivered(f.p, 2);
    assert_true(sg_pipeline_outbox_due(f.p));
    assert_int_equal(sg_pipeline_pending(f.p), 0);
    assert_int_equal(sg_pipeline_flush(f.p), SG_OK);
    assert_int_equal(sg_pipeline_sync(f.p), SG_OK);
    assert_false(sg_pipeline_outbox_due(f.p));
    assert_int_equal(sg_store_outbox_each(f.st, NULL, NULL), n - 2);
    assert_int_equal(sg_pipeline_outbox_below(f.p), 2);
    struct sg_buf v;
    sg_buf_init(&v);
    assert_int_equal(sg_store_outbox_get(f.st, 1, &v), SG_ERR_NOTFOUND);
    assert_int_equal(sg_store_outbox_get(f.st, 2, &v), SG_OK);
    sg_buf_release(&v);
    sg_pipeline_outbox_delivered(f.p, 1); /* an older mark changes nothing */
    assert_false(sg_pipeline_outbox_due(f.p));
    sg_pipeline_outbox_delivered(f.p, n);
    assert_int_equal(sg_pipeline_flush(f.p), SG_OK);
    assert_int_equal(sg_pipeline_sync(f.p), SG_OK);
    assert_int_equal(sg_store_outbox_each(f.st, NULL, NULL), 0);
    /* the deletes are not batches of messages */
    assert_int_equal(sg_pipeline_totals(f.p).batches, batches);
    sg_pipeline_free(f.p);
    f.p = NULL;
    sg_metrics_free(m2);
    sg_metrics_free(f.m);
    sg_store_close(f.st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f.dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_and_dedup),
        cmocka_unit_test(test_e2e_latency_at_store_time),
        cmocka_unit_test(test_stored_dups_and_profiles),
        cmocka_unit_test(test_alerts_before_write),
        cmocka_unit_test(test_outbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
