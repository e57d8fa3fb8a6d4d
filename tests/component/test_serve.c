/* Component test of the serving layer: a real RocksDB store in a temp dir written through
 * sg_store (as the speed layer does), a real batch output (report + Parquet dataset written
 * with sg_parquet), and sg_serve on 127.0.0.1:0 queried over real HTTP with a tiny socket
 * client. Covers every endpoint, 400s naming the parameter, 404s, 405, token auth, limits,
 * HEAD, pagination that returns every row exactly once (also while rows are being added),
 * keep-alive, and new writes becoming visible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "../support/http_client.h"
#include "core/sg_err.h"
#include "core/sg_event.h"
#include "core/sg_mem.h"
#include "serving/sg_serve.h"
#include "speed/sg_user.h"
#include "storage/sg_parquet.h"
#include "storage/sg_store.h"

#define T0 INT64_C(1795000000000)
#define NEV 600
#define NUSERS 12
#define TOKEN "s3cret-token-for-tests"

static const char *const types[] = {"auth_attempt", "network_connection", "file_access",
                                    "process_execution", "dns_query"};
static const char *const sevs[] = {"low", "medium", "high", "critical"};

struct fx {
    char dir[64], db[96], batch[96];
    struct sg_store *st;
    struct sg_serve *sv;
    uint16_t port;
};

/* Event i: user u<i % NUSERS>, type i % 5, one second apart; every 5th is an anomaly. */
static void put_event(struct sg_store_batch *b, int i)
{
    char id[32], user[16], json[256];
    snprintf(id, sizeof id, "evt_%05d", i);
    snprintf(user, sizeof user, "u%d", i % NUSERS);
    int64_t ts = T0 + (int64_t)i * 1000;
    int n = snprintf(json, sizeof json,
                     "{\"event_id\":\"%s\",\"timestamp\":%lld,\"event_type\":\"%s\","
                     "\"user\":\"%s\",\"source_ip\":\"10.0.0.%d\"}",
                     id, (long long)ts, types[i % 5], user, i % 250);
    sg_store_batch_put_event(b, ts, id, strlen(id), user, strlen(user), i % 5, (uint64_t)i + 1,
                             json, (size_t)n);
    if (i % 5 == 0) {
        int sev = (i / 5) % 4;
        n = snprintf(json, sizeof json,
                     "{\"event_id\":\"%s\",\"timestamp\":%lld,\"user\":\"%s\",\"severity\":\"%s\","
                     "\"score\":%.2f,\"reasons\":[\"%s\"]}",
                     id, (long long)ts, user, sevs[sev], 0.4 + 0.15 * sev,
                     sev >= 2 ? "failed_burst" : "new_ip");
        sg_store_batch_put_anomaly(b, ts, id, strlen(id), user, strlen(user), sev, json,
                                   (size_t)n);
    }
}

/* The speed layer's profiles of the users, kept up to date as events are written. */
static struct sg_user_state profiles[NUSERS];

static void write_store(struct fx *f, int from, int to)
{
    struct sg_store_batch *b = sg_store_batch_new(f->st);
    struct sg_arena a;
    sg_arena_init(&a, 4096);
    for (int i = from; i < to; i++) {
        put_event(b, i);
        char json[256];
        int n = snprintf(json, sizeof json,
                         "{\"event_id\":\"evt_%05d\",\"timestamp\":%lld,\"event_type\":\"%s\","
                         "\"user\":\"u%d\",\"source_ip\":\"10.0.0.%d\"}",
                         i, (long long)(T0 + (int64_t)i * 1000), types[i % 5], i % NUSERS, i % 250);
        struct sg_event ev;
        assert_int_equal(sg_event_decode(json, (size_t)n, &ev, &a, NULL), SG_OK);
        if (i == 0)
            for (int u = 0; u < NUSERS; u++)
                sg_user_init(&profiles[u]);
        sg_user_update(&profiles[i % NUSERS], &ev);
        sg_arena_reset(&a);
    }
    sg_arena_release(&a);
    for (int u = 0; u < NUSERS; u++) {
        char name[16];
        struct sg_buf blob;
        sg_buf_init(&blob);
        sg_user_encode(&profiles[u], &blob);
        snprintf(name, sizeof name, "u%d", u);
        sg_store_batch_put_user(b, name, strlen(name), blob.data, blob.len);
        sg_buf_release(&blob);
    }
    sg_store_batch_put_stat(b, "events_total", (uint64_t)to);
    sg_store_batch_put_stat(b, "anomalies_total", (uint64_t)(to + 4) / 5);
    sg_store_batch_watermark(b, T0 + (int64_t)(to - 1) * 1000);
    assert_int_equal(sg_store_write(f->st, b, 0), SG_OK);
    sg_store_batch_free(b);
}

static void write_batch(struct fx *f)
{
    char path[256];
    mkdir(f->batch, 0755);
    for (int a = 0; a <= 1; a++) {
        snprintf(path, sizeof path, "%s/is_anomaly=%d", f->batch, a);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/is_anomaly=%d/part-00000.parquet", f->batch, a);
        static const struct sg_pq_column cols[] = {
            {"user", SG_PQ_STRING, 0}, {"events_total", SG_PQ_INT64, 0},
            {"anomaly_score", SG_PQ_DOUBLE, 0}, {"cluster", SG_PQ_INT32, 0}};
        char names[NUSERS][16];
        struct sg_pq_str users[NUSERS];
        int64_t evs[NUSERS];
        double score[NUSERS];
        int32_t cl[NUSERS];
        size_t n = 0;
        for (int u = 0; u < NUSERS; u++) {
            if ((u < 3) != a) /* u0, u1, u2 are the batch's anomalous users */
                continue;
            snprintf(names[n], sizeof names[n], "u%d", u);
            users[n] = (struct sg_pq_str){names[n], (uint32_t)strlen(names[n])};
            evs[n] = NEV / NUSERS;
            score[n] = a ? 0.9 - 0.1 * u : 0.1 + 0.01 * u;
            cl[n] = u % 3;
            n++;
        }
        char err[256];
        struct sg_pq_writer *w = sg_pq_writer_new(path, cols, 4, NULL, err, sizeof err);
        assert_non_null(w);
        const void *v[] = {users, evs, score, cl};
        assert_int_equal(sg_pq_write_batch(w, v, NULL, n), SG_OK);
        assert_int_equal(sg_pq_writer_close(w, err, sizeof err), SG_OK);
    }
    snprintf(path, sizeof path, "%s/anomaly_report.json", f->batch);
    FILE *fp = fopen(path, "w");
    fputs("{\"totals\":{\"users\":12,\"anomalous_users\":3},\"algorithm\":\"ensemble\"}\n", fp);
    fclose(fp);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sg_serve_test_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/db", f->dir);
    snprintf(f->batch, sizeof f->batch, "%s/batch", f->dir);
    char err[512];
    assert_int_equal(sg_store_open(f->db, SG_STORE_PRIMARY, NULL, 0, &f->st, err, sizeof err),
                     SG_OK);
    write_store(f, 0, NEV);
    write_batch(f);
    struct sg_serve_opts o = {.db = f->db, .batch_dir = f->batch, .listen = "127.0.0.1:0",
                              .token = TOKEN, .refresh_ms = 60000};
    int rc = sg_serve_start(&o, &f->sv, err, sizeof err);
    if (rc != SG_OK)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, SG_OK);
    f->port = sg_serve_port(f->sv);
    assert_int_equal(sg_serve_refresh(f->sv), SG_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    sg_serve_stop(f->sv);
    sg_store_close(f->st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* GET with the token; returns the parsed body (caller frees) and checks the status. */
static cJSON *get_json(struct fx *f, const char *target, int want)
{
    struct http_reply r;
    int st = http_get(f->port, target, TOKEN, &r);
    if (st != want)
        fprintf(stderr, "GET %s: %d %s\n", target, st, r.body ? r.body : "");
    assert_int_equal(st, want);
    char ct[128];
    assert_non_null(http_header(&r, "Content-Type", ct, sizeof ct));
    assert_non_null(strstr(ct, "application/json"));
    cJSON *j = cJSON_Parse(r.body);
    assert_non_null(j);
    http_reply_free(&r);
    return j;
}

/* Expects a 400 whose error names `param`. */
static void expect_400(struct fx *f, const char *target, const char *param)
{
    cJSON *j = get_json(f, target, 400);
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    const cJSON *p = cJSON_GetObjectItem(e, "parameter");
    assert_non_null(p);
    if (strcmp(p->valuestring, param) != 0)
        fprintf(stderr, "%s: parameter %s, wanted %s\n", target, p->valuestring, param);
    assert_string_equal(p->valuestring, param);
    assert_int_equal(cJSON_GetObjectItem(e, "status")->valueint, 400);
    cJSON_Delete(j);
}

/* Follows next_cursor from `first` to the end; fills seen[] with each event index listed
 * (counts), checks the order and returns the number of rows. */
static int walk(struct fx *f, const char *first, const char *member, int *seen, int desc)
{
    char target[1024];
    snprintf(target, sizeof target, "%s", first);
    int rows = 0;
    long long prev = desc ? INT64_MAX : -1;
    for (int pages = 0; pages < 10000; pages++) {
        cJSON *j = get_json(f, target, 200);
        const cJSON *arr = cJSON_GetObjectItem(j, member), *it;
        assert_int_equal(cJSON_GetArraySize(arr), cJSON_GetObjectItem(j, "count")->valueint);
        cJSON_ArrayForEach(it, arr)
        {
            const char *id = cJSON_GetObjectItem(it, "event_id")->valuestring;
            long long ts = (long long)cJSON_GetObjectItem(it, "timestamp")->valuedouble;
            assert_true(desc ? ts < prev : ts > prev);
            prev = ts;
            seen[atoi(id + 4)]++;
            rows++;
        }
        const cJSON *next = cJSON_GetObjectItem(j, "next_cursor");
        if (cJSON_IsNull(next)) {
            cJSON_Delete(j);
            return rows;
        }
        const char *q = strchr(first, '?');
        snprintf(target, sizeof target, "%s%scursor=%s", first, q ? "&" : "?",
                 next->valuestring);
        cJSON_Delete(j);
    }
    fail();
    return rows;
}

static void test_events_pagination(void **state)
{
    struct fx *f = *state;
    int seen[NEV];
    memset(seen, 0, sizeof seen);
    assert_int_equal(walk(f, "/api/events?limit=37", "events", seen, 1), NEV);
    for (int i = 0; i < NEV; i++)
        assert_int_equal(seen[i], 1); /* every event exactly once */
    memset(seen, 0, sizeof seen);
    assert_int_equal(walk(f, "/api/events?limit=1000&order=asc", "events", seen, 0), NEV);
    /* one user's index */
    memset(seen, 0, sizeof seen);
    assert_int_equal(walk(f, "/api/users/u5/events?limit=9", "events", seen, 1), NEV / NUSERS);
    for (int i = 0; i < NEV; i++)
        assert_int_equal(seen[i], i % NUSERS == 5);
    /* time range, as RFC 3339 and as epoch ms: [T0+100s, T0+200s) */
    memset(seen, 0, sizeof seen);
    assert_int_equal(walk(f, "/api/events?since=2026-11-18T11:08:20Z&until=1795000200000&limit=7",
                          "events", seen, 1), 100);
    for (int i = 0; i < NEV; i++)
        assert_int_equal(seen[i], i >= 100 && i < 200);
    /* type filter */
    memset(seen, 0, sizeof seen);
    assert_int_equal(walk(f, "/api/events?type=dns_query&limit=50", "events", seen, 1), NEV / 5);
    for (int i = 0; i < NEV; i++)
        assert_int_equal(seen[i], i % 5 == 4);
}

static void test_anomalies(void **state)
{
    struct fx *f = *state;
    int seen[NEV];
    memset(seen, 0, sizeof seen);
    assert_int_equal(walk(f, "/api/anomalies?limit=13", "anomalies", seen, 1), NEV / 5);
    memset(seen, 0, sizeof seen);
    int n = walk(f, "/api/anomalies?severity=high&limit=1000", "anomalies", seen, 1);
    assert_int_equal(n, NEV / 10);
    for (int i = 0; i < NEV; i++)
        assert_int_equal(seen[i], i % 5 == 0 && (i / 5) % 4 >= 2);
    memset(seen, 0, sizeof seen);
    n = walk(f, "/api/users/u0/anomalies?limit=3", "anomalies", seen, 1);
    for (int i = 0; i < NEV; i++)
        assert_int_equal(seen[i], i % 5 == 0 && i % NUSERS == 0);
    assert_int_equal(n, NEV / 60);
    expect_400(f, "/api/anomalies?severity=severe", "severity");
}

static void test_event_by_id(void **state)
{
    struct fx *f = *state;
    cJSON *j = get_json(f, "/api/events/evt_00042", 200);
    assert_string_equal(cJSON_GetObjectItem(j, "user")->valuestring, "u6");
    assert_string_equal(cJSON_GetObjectItem(j, "event_type")->valuestring, "file_access");
    cJSON_Delete(j);
    j = get_json(f, "/api/events/evt_99999", 404);
    cJSON_Delete(j);
    expect_400(f, "/api/events/evt%20x", "event_id");
    expect_400(f, "/api/events/evt_00042?pretty=1", "pretty");
}

static void test_bad_params(void **state)
{
    struct fx *f = *state;
    expect_400(f, "/api/events?limit=0", "limit");
    expect_400(f, "/api/events?limit=1001", "limit");
    expect_400(f, "/api/events?limit=ten", "limit");
    expect_400(f, "/api/events?since=yesterday", "since");
    expect_400(f, "/api/events?since=2026-11-18T11:08:20Z&until=2026-11-18T11:08:20Z", "until");
    expect_400(f, "/api/events?type=login", "type");
    expect_400(f, "/api/events?order=random", "order");
    expect_400(f, "/api/events?limt=5", "limt");
    expect_400(f, "/api/events?limit=5&limit=6", "limit");
    expect_400(f, "/api/events?cursor=not-a-cursor", "cursor");
    expect_400(f, "/api/batch/users?anomalous=maybe", "anomalous");
    /* a cursor is bound to its listing and its filters */
    cJSON *j = get_json(f, "/api/events?limit=5", 200);
    char target[512];
    const char *c = cJSON_GetObjectItem(j, "next_cursor")->valuestring;
    snprintf(target, sizeof target, "/api/anomalies?cursor=%s", c);
    expect_400(f, target, "cursor");
    snprintf(target, sizeof target, "/api/events?type=dns_query&cursor=%s", c);
    expect_400(f, target, "cursor");
    snprintf(target, sizeof target, "/api/users/u1/events?cursor=%s", c);
    expect_400(f, target, "cursor");
    snprintf(target, sizeof target, "/api/events?cursor=%.*sA", (int)strlen(c) - 1, c);
    if (strcmp(target + strlen(target) - 1, c + strlen(c) - 1) != 0)
        expect_400(f, target, "cursor");
    cJSON_Delete(j);
}

static void test_users(void **state)
{
    struct fx *f = *state;
    cJSON *j = get_json(f, "/api/users/u1", 200);
    assert_string_equal(cJSON_GetObjectItem(j, "user")->valuestring, "u1");
    const cJSON *st = cJSON_GetObjectItem(j, "state"); /* the speed layer's profile */
    assert_int_equal(cJSON_GetObjectItem(st, "events")->valueint, NEV / NUSERS);
    const cJSON *le = cJSON_GetObjectItem(j, "latest_event");
    assert_string_equal(cJSON_GetObjectItem(le, "event_id")->valuestring, "evt_00589");
    const cJSON *b = cJSON_GetObjectItem(j, "batch");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(b, "is_anomaly")));
    assert_true(cJSON_GetObjectItem(b, "anomaly_score")->valuedouble > 0.79);
    assert_int_equal(cJSON_GetObjectItem(b, "events_total")->valueint, NEV / NUSERS);
    cJSON_Delete(j);
    j = get_json(f, "/api/users/nobody", 404);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "code")->valuestring,
                        "not_found");
    cJSON_Delete(j);
    cJSON_Delete(get_json(f, "/api/users/nobody/events", 404));
    cJSON_Delete(get_json(f, "/api/users/nobody/anomalies", 404));
    expect_400(f, "/api/users/a%01b", "user");
}

static void test_stats_and_batch(void **state)
{
    struct fx *f = *state;
    cJSON *j = get_json(f, "/api/stats", 200);
    assert_int_equal(cJSON_GetObjectItem(j, "events_total")->valueint, NEV);
    assert_int_equal(cJSON_GetObjectItem(j, "anomalies_total")->valueint, NEV / 5);
    assert_int_equal(cJSON_GetObjectItem(j, "users_total")->valueint, NUSERS);
    assert_int_equal(cJSON_GetObjectItem(j, "watermark_ms")->valuedouble, T0 + (NEV - 1) * 1000);
    const cJSON *sev = cJSON_GetObjectItem(j, "anomalies_by_severity");
    assert_int_equal(cJSON_GetObjectItem(sev, "critical")->valueint, NEV / 20);
    const cJSON *top = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "top_users"), 0);
    assert_int_equal(cJSON_GetObjectItem(top, "anomalies")->valueint, NEV / 60);
    cJSON_Delete(j);
    j = get_json(f, "/api/batch/report", 200);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "totals"), "anomalous_users")
                         ->valueint, 3);
    cJSON_Delete(j);
    j = get_json(f, "/api/batch/users?anomalous=true", 200);
    const cJSON *users = cJSON_GetObjectItem(j, "users");
    assert_int_equal(cJSON_GetArraySize(users), 3);
    for (int i = 0; i < 3; i++) { /* ranked by anomaly_score */
        char name[16];
        snprintf(name, sizeof name, "u%d", i);
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(users, i), "user")->valuestring,
                            name);
    }
    cJSON_Delete(j);
    /* pages of 2 over all users: each exactly once */
    int seen[NUSERS] = {0}, total = 0;
    char target[256] = "/api/batch/users?limit=2";
    for (;;) {
        j = get_json(f, target, 200);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "users"))
        {
            seen[atoi(cJSON_GetObjectItem(it, "user")->valuestring + 1)]++;
            total++;
        }
        const cJSON *nc = cJSON_GetObjectItem(j, "next_cursor");
        if (cJSON_IsNull(nc)) {
            cJSON_Delete(j);
            break;
        }
        snprintf(target, sizeof target, "/api/batch/users?limit=2&cursor=%s", nc->valuestring);
        cJSON_Delete(j);
    }
    assert_int_equal(total, NUSERS);
    for (int u = 0; u < NUSERS; u++)
        assert_int_equal(seen[u], 1);
}

static void test_http_rules(void **state)
{
    struct fx *f = *state;
    struct http_reply r, h;
    char v[256];
    /* token: required on the API, not on /health */
    assert_int_equal(http_get(f->port, "/api/events", NULL, &r), 401);
    assert_non_null(http_header(&r, "WWW-Authenticate", v, sizeof v));
    http_reply_free(&r);
    assert_int_equal(http_get(f->port, "/api/events", "s3cret-token-for-testX", &r), 401);
    http_reply_free(&r);
    assert_int_equal(http_get(f->port, "/metrics", NULL, &r), 401);
    http_reply_free(&r);
    assert_int_equal(http_get(f->port, "/health", NULL, &r), 200);
    assert_non_null(strstr(r.body, "\"status\":\"ok\""));
    http_reply_free(&r);
    /* only GET and HEAD */
    assert_int_equal(http_request(f->port, "POST", "/api/events",
                                  "Authorization: Bearer " TOKEN "\r\nContent-Length: 0\r\n", &r), 0);
    assert_int_equal(r.status, 405);
    assert_string_equal(http_header(&r, "Allow", v, sizeof v), "GET, HEAD");
    http_reply_free(&r);
    assert_int_equal(http_request(f->port, "DELETE", "/api/events/evt_00001",
                                  "Authorization: Bearer " TOKEN "\r\n", &r), 0);
    assert_int_equal(r.status, 405);
    http_reply_free(&r);
    /* HEAD: same headers as GET, no body */
    assert_int_equal(http_get(f->port, "/api/events/evt_00007", TOKEN, &r), 200);
    assert_int_equal(http_request(f->port, "HEAD", "/api/events/evt_00007",
                                  "Authorization: Bearer " TOKEN "\r\n", &h), 0);
    assert_int_equal(h.status, 200);
    assert_int_equal(h.body_len, 0);
    snprintf(v, sizeof v, "%zu", r.body_len);
    char cl[32];
    assert_string_equal(http_header(&h, "Content-Length", cl, sizeof cl), v);
    http_reply_free(&r);
    http_reply_free(&h);
    /* unknown paths, limits */
    cJSON_Delete(get_json(f, "/api/nothing", 404));
    cJSON_Delete(get_json(f, "/api/events/a/b/c/d/e/f/g/h/i", 404));
    static char longt[6000];
    memset(longt, 'a', sizeof longt - 1);
    memcpy(longt, "/api/events?x=", 14);
    assert_int_equal(http_get(f->port, longt, TOKEN, &r), 414);
    http_reply_free(&r);
    static char bighdr[40000];
    memset(bighdr, 'x', sizeof bighdr);
    memcpy(bighdr, "X-Big: ", 7);
    memcpy(bighdr + sizeof bighdr - 3, "\r\n", 3);
    int st = http_request(f->port, "GET", "/health", bighdr, &r) == 0 ? r.status : -1;
    assert_true(st == 431 || st == 413 || st == 400 || st == -1); /* refused, never served */
    http_reply_free(&r);
    /* dashboard and assets are public */
    assert_int_equal(http_get(f->port, "/", NULL, &r), 200);
    assert_non_null(http_header(&r, "Content-Type", v, sizeof v));
    assert_non_null(strstr(v, "text/html"));
    assert_non_null(strstr(r.body, "StreamGuard"));
    http_reply_free(&r);
    assert_int_equal(http_get(f->port, "/assets/app.js", NULL, &r), 200);
    assert_non_null(strstr(http_header(&r, "Content-Type", v, sizeof v), "javascript"));
    http_reply_free(&r);
    assert_int_equal(http_get(f->port, "/assets/nope.js", NULL, &r), 404);
    http_reply_free(&r);
}

/* Two requests on one connection: both answered, the connection is kept alive between them
 * (libmicrohttpd closes it if a response is queued too early - a per-request TCP handshake). */
static void test_keep_alive(void **state)
{
    struct fx *f = *state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(f->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    const char *req = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    char buf[8192];
    size_t len = 0;
    ssize_t k;
    while (len < sizeof buf - 1 && (k = recv(fd, buf + len, sizeof buf - 1 - len, 0)) > 0)
        len += (size_t)k;
    buf[len] = '\0';
    close(fd);
    int answers = 0;
    for (const char *p = buf; (p = strstr(p, "HTTP/1.1 200")); p++)
        answers++;
    assert_int_equal(answers, 2);
    const char *second = strstr(strstr(buf, "HTTP/1.1 200") + 1, "HTTP/1.1 200");
    char first_part[4096];
    snprintf(first_part, sizeof first_part, "%.*s", (int)(second - buf), buf);
    assert_null(strstr(first_part, "Connection: close"));
}

static void test_scans_and_metrics(void **state)
{
    struct fx *f = *state;
    struct http_reply r;
    char v[128];
    /* a user's page of 5 reads 5 rows through one seek of the user's index, not the table */
    assert_int_equal(http_get(f->port, "/api/users/u3/events?limit=5", TOKEN, &r), 200);
    assert_non_null(http_header(&r, "X-StreamGuard-Scan", v, sizeof v));
    unsigned long long seeks, rows, bytes;
    assert_int_equal(sscanf(v, "seeks=%llu rows=%llu key_compares=%llu", &seeks, &rows, &bytes), 3);
    assert_int_equal(seeks, 1);
    assert_int_equal(rows, 5);
    http_reply_free(&r);
    unsigned long long page_bytes = bytes;
    assert_int_equal(http_get(f->port, "/api/events?limit=1000", TOKEN, &r), 200);
    assert_non_null(http_header(&r, "X-StreamGuard-Scan", v, sizeof v));
    assert_int_equal(sscanf(v, "seeks=%llu rows=%llu key_compares=%llu", &seeks, &rows, &bytes), 3);
    assert_int_equal(rows, NEV);
    if (!(page_bytes * 5 < bytes))
        fprintf(stderr, "user page: %llu key compares, whole table %llu\n", page_bytes, bytes);
    assert_true(page_bytes * 5 < bytes); /* the page scanned a small part */
    http_reply_free(&r);
    assert_int_equal(http_get(f->port, "/metrics", TOKEN, &r), 200);
    assert_non_null(strstr(r.body, "streamguard_serve_requests_total{route=\"/api/users/*/events\",code=\"200\"}"));
    assert_non_null(strstr(r.body, "streamguard_serve_store_seeks_total "));
    assert_null(strstr(r.body, "streamguard_serve_store_seeks_total 0\n"));
    assert_non_null(strstr(r.body, "streamguard_serve_request_seconds_bucket"));
    assert_non_null(strstr(r.body, "\nstreamguard_batch_anomalous_users 3\n"));
    assert_non_null(strstr(r.body, "\nstreamguard_serve_batch_rows 12\n"));
    http_reply_free(&r);
}

static void test_follows_writer(void **state)
{
    struct fx *f = *state;
    cJSON_Delete(get_json(f, "/api/events/evt_00650", 404));
    write_store(f, NEV, NEV + 60);
    assert_int_equal(sg_serve_refresh(f->sv), SG_OK);
    cJSON *j = get_json(f, "/api/events/evt_00650", 200);
    assert_string_equal(cJSON_GetObjectItem(j, "user")->valuestring, "u2");
    cJSON_Delete(j);
    j = get_json(f, "/api/stats", 200);
    assert_int_equal(cJSON_GetObjectItem(j, "events_total")->valueint, NEV + 60);
    /* the recent-anomaly tallies (partly from the previous refresh's memo) see the new rows */
    const cJSON *top = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "top_users"), 0);
    assert_int_equal(cJSON_GetObjectItem(top, "anomalies")->valueint, (NEV + 60) / 60);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "recent"), "anomalies_scanned")
                         ->valueint, (NEV + 60) / 5);
    cJSON_Delete(j);
    /* a new batch run replaces the old one */
    char path[256];
    snprintf(path, sizeof path, "%s/anomaly_report.json", f->batch);
    FILE *fp = fopen(path, "w");
    fputs("{\"totals\":{\"users\":12,\"anomalous_users\":4},\"run\":2}\n", fp);
    fclose(fp);
    assert_int_equal(sg_serve_refresh(f->sv), SG_OK);
    j = get_json(f, "/api/batch/report", 200);
    assert_int_equal(cJSON_GetObjectItem(j, "run")->valueint, 2);
    cJSON_Delete(j);
}

/* Pages walked while the writer adds rows (older and newer than the cursor): every row that
 * existed when the walk started comes exactly once, none twice. */
static void test_pagination_during_writes(void **state)
{
    struct fx *f = *state;
    static int seen[20000];
    memset(seen, 0, sizeof seen);
    char target[512] = "/api/events?order=asc&limit=64";
    struct sg_store_batch *b = sg_store_batch_new(f->st);
    int page = 0, next_id = 10000;
    for (;;) {
        cJSON *j = get_json(f, target, 200);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "events"))
            seen[atoi(cJSON_GetObjectItem(it, "event_id")->valuestring + 4)]++;
        const cJSON *nc = cJSON_GetObjectItem(j, "next_cursor");
        if (cJSON_IsNull(nc)) {
            cJSON_Delete(j);
            break;
        }
        snprintf(target, sizeof target, "/api/events?order=asc&limit=64&cursor=%s", nc->valuestring);
        cJSON_Delete(j);
        if (page++ < 5) { /* late events all over the range, and new ones after it */
            for (int k = 0; k < 10; k++, next_id++) {
                char id[32], json[160];
                int64_t ts = T0 + (int64_t)(k * 70) * 1000 + 500 + (k >= 8 ? 10000000 : 0);
                snprintf(id, sizeof id, "evt_%05d", next_id);
                int n = snprintf(json, sizeof json,
                                 "{\"event_id\":\"%s\",\"timestamp\":%lld,\"user\":\"u1\"}",
                                 id, (long long)ts);
                sg_store_batch_put_event(b, ts, id, strlen(id), "u1", 2, 0, 1, json, (size_t)n);
            }
            assert_int_equal(sg_store_write(f->st, b, 0), SG_OK);
            assert_int_equal(sg_serve_refresh(f->sv), SG_OK);
        }
    }
    sg_store_batch_free(b);
    for (int i = 0; i < NEV + 60; i++) /* the rows of the earlier tests */
        assert_int_equal(seen[i], 1);
    for (int i = 10000; i < next_id; i++)
        assert_true(seen[i] <= 1);
}

/* Value of a metric line "name value" in /metrics (fails when absent). */
static double metric(struct fx *f, const char *name)
{
    struct http_reply r;
    assert_int_equal(http_get(f->port, "/metrics", TOKEN, &r), 200);
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(r.body, key);
    if (!p)
        fail_msg("%s not in /metrics", name);
    double v = strtod(p + strlen(key), NULL);
    http_reply_free(&r);
    return v;
}

static void restart_serve(struct fx *f)
{
    sg_serve_stop(f->sv);
    char err[512];
    struct sg_serve_opts o = {.db = f->db, .batch_dir = f->batch, .listen = "127.0.0.1:0",
                              .token = TOKEN, .refresh_ms = 60000};
    assert_int_equal(sg_serve_start(&o, &f->sv, err, sizeof err), SG_OK);
    f->port = sg_serve_port(f->sv);
    assert_int_equal(sg_serve_refresh(f->sv), SG_OK);
}

/* The batch age comes from the run, not from when serve loaded it: a restarted serve reports
 * the same (old) time for the same run, so StreamGuardBatchStale survives the restart. Reports
 * without generated_at (older runs) fall back to the report file's modification time. */
static void test_batch_age_survives_restart(void **state)
{
    struct fx *f = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/anomaly_report.json", f->batch);
    FILE *fp = fopen(path, "w");
    fputs("{\"generated_at\":\"2026-11-20T06:00:00.500Z\","
          "\"totals\":{\"users\":12,\"anomalous_users\":3}}\n", fp);
    fclose(fp);
    assert_int_equal(sg_serve_refresh(f->sv), SG_OK);
    const double gen = 1795154400.5; /* 2026-11-20T06:00:00.500Z */
    double loaded = metric(f, "streamguard_serve_batch_loaded_timestamp_seconds");
    assert_true(metric(f, "streamguard_batch_generated_timestamp_seconds") == gen);
    sleep(1);
    restart_serve(f);
    assert_true(metric(f, "streamguard_batch_generated_timestamp_seconds") == gen);
    assert_true(metric(f, "streamguard_serve_batch_loaded_timestamp_seconds") > loaded);
    /* no generated_at: the file's time (the batch renames a finished run into place) */
    fp = fopen(path, "w");
    fputs("{\"totals\":{\"users\":12,\"anomalous_users\":3}}\n", fp);
    fclose(fp);
    struct timespec ts[2] = {{1790000000, 0}, {1790000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    restart_serve(f);
    assert_true(metric(f, "streamguard_batch_generated_timestamp_seconds") == 1790000000.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_pagination),
        cmocka_unit_test(test_anomalies),
        cmocka_unit_test(test_event_by_id),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_users),
        cmocka_unit_test(test_stats_and_batch),
        cmocka_unit_test(test_http_rules),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_scans_and_metrics),
        cmocka_unit_test(test_follows_writer),
        cmocka_unit_test(test_pagination_during_writes),
        cmocka_unit_test(test_batch_age_survives_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
