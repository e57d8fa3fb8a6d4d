/* bench_decode: throughput of sg_event_decode on NDJSON of realistic generated events, with
 * cJSON tree parsing (parse + extracting the same fields, no validation) as the baseline
 * measured in the same run. Prints MB/s and events/s (median of 5 runs each), the machine and
 * the date. The generator here is a standalone copy of the event shape (a mix of all five
 * kinds, metadata, detail objects, the duplicate event_type of the original generator; about
 * 530 bytes per event), not
 * the product's generator. Usage: bench_decode [events (default 200000)] [seed (default 42)]
 * [only: ours|cjson, to profile one side]. */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_event.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"
#include "core/sg_time.h"

#define RUNS 5

static const char *pick(struct sg_rng *r, const char *const *v, size_t n)
{
    return v[sg_rng_below(r, n)];
}
#define PICK(r, arr) pick(r, arr, sizeof arr / sizeof arr[0])

static void hex32(struct sg_rng *r, char out[33])
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++)
        out[i] = hx[sg_rng_below(r, 16)];
    out[32] = '\0';
}

static void gen_details(struct sg_rng *r, struct sg_buf *b, unsigned kind)
{
    static const char *const auth[] = {"password", "mfa", "sso", "api_key"};
    static const char *const proto[] = {"tcp", "udp", "icmp"};
    static const char *const ops[] = {"read", "write", "create", "delete", "modify"};
    static const char *const paths[] = {"/etc/shadow", "/var/log/auth.log",
                                        "C:\\\\Windows\\\\System32\\\\config\\\\SAM",
                                        "/home/alice/.ssh/id_rsa", "/srv/data/report.xlsx"};
    static const char *const procs[] = {"powershell.exe", "bash", "cmd.exe", "python3", "sshd"};
    static const char *const privs[] = {"system", "admin", "standard"};
    static const char *const qtypes[] = {"A", "AAAA", "MX", "TXT", "CNAME"};
    static const char *const rcodes[] = {"NOERROR", "NXDOMAIN", "SERVFAIL"};
    switch (kind) {
    case 0:
        sg_buf_printf(b,
                      ",\"auth_details\":{\"auth_type\":\"%s\",\"status\":\"success\","
                      "\"failure_reason\":null,\"attempts_count\":%u,"
                      "\"previous_success_timestamp\":null}",
                      PICK(r, auth), (unsigned)sg_rng_below(r, 6));
        break;
    case 1:
        sg_buf_printf(b,
                      ",\"network_details\":{\"protocol\":\"%s\",\"source_port\":%u,"
                      "\"destination_port\":%u,\"bytes_sent\":%u,\"bytes_received\":%u,"
                      "\"duration_ms\":%u,\"connection_state\":\"closed\"}",
                      PICK(r, proto), (unsigned)(1024 + sg_rng_below(r, 64511)),
                      (unsigned)sg_rng_below(r, 65536), (unsigned)sg_rng_below(r, 1 << 20),
                      (unsigned)sg_rng_below(r, 1 << 24), (unsigned)sg_rng_below(r, 60000));
        break;
    case 2:
        sg_buf_printf(b,
                      ",\"file_details\":{\"file_path\":\"%s\",\"operation\":\"%s\","
                      "\"file_size_bytes\":%u,\"access_denied\":%s,\"permissions_changed\":%s}",
                      PICK(r, paths), PICK(r, ops), (unsigned)sg_rng_below(r, 1 << 30),
                      sg_rng_below(r, 2) ? "true" : "false", sg_rng_below(r, 5) ? "false" : "true");
        break;
    case 3:
        sg_buf_printf(b,
                      ",\"process_details\":{\"process_name\":\"%s\",\"command_line\":\"%s "
                      "-c \\\"run task %u\\\"\",\"user_privileges\":\"%s\",\"process_id\":%u,"
                      "\"parent_process_id\":%u,\"is_signed\":%s}",
                      PICK(r, procs), PICK(r, procs), (unsigned)sg_rng_below(r, 1000),
                      PICK(r, privs), (unsigned)sg_rng_below(r, 1 << 22),
                      (unsigned)sg_rng_below(r, 1 << 16), sg_rng_below(r, 2) ? "true" : "false");
        break;
    default:
        sg_buf_printf(b,
                      ",\"dns_details\":{\"query_name\":\"%c%c%c%u.example.com\","
                      "\"query_type\":\"%s\",\"response_code\":\"%s\",\"ttl\":%u}",
                      'a' + (int)sg_rng_below(r, 26), 'a' + (int)sg_rng_below(r, 26),
                      'a' + (int)sg_rng_below(r, 26), (unsigned)sg_rng_below(r, 100000),
                      PICK(r, qtypes), PICK(r, rcodes), (unsigned)sg_rng_below(r, 86400));
        break;
    }
}

/* One event in the shape of the original (Java) generator, ~300-500 bytes. */
static void gen_event(struct sg_rng *r, struct sg_buf *b, int64_t ts)
{
    static const char *const users[] = {"alice",   "bob",        "carol",        "dave",
                                        "analyst", "svc_backup", "j\\u00fcrgen", "admin"};
    static const char *const hosts[] = {"server01", "server02", "laptop-bob", "db-prod-3",
                                        "ws-042"};
    static const char *const geos[] = {"US-WA-Seattle", "US-NY-New York", "DE-BER-Berlin",
                                       "GB-LND-London", "JP-13-Tokyo"};
    static const char *const agents[] = {
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "curl/8.5.0",
        "python-requests/2.31"};
    static const char *const types[] = {"auth_attempt", "network_connection", "file_access",
                                        "process_execution", "dns_query"};
    static const char *const status[] = {"success", "success", "success", "failed", "blocked"};
    unsigned kind = (unsigned)sg_rng_below(r, 5);
    char id[33], sess[33];
    hex32(r, id);
    hex32(r, sess);
    sg_buf_printf(b,
                  "{\"event_type\":\"%s\",\"event_id\":\"evt_%s\",\"timestamp\":%lld,"
                  "\"event_type\":\"%s\",\"source_ip\":\"10.%u.%u.%u\",",
                  types[kind], id, (long long)ts, types[kind], (unsigned)sg_rng_below(r, 256),
                  (unsigned)sg_rng_below(r, 256), (unsigned)sg_rng_below(r, 256));
    if (sg_rng_below(r, 10) < 7)
        sg_buf_printf(b, "\"destination_ip\":\"192.168.%u.%u\",", (unsigned)sg_rng_below(r, 256),
                      (unsigned)sg_rng_below(r, 256));
    sg_buf_printf(b,
                  "\"user\":\"%s\",\"threat_score\":%.17g,\"status\":\"%s\","
                  "\"metadata\":{\"hostname\":\"%s\",\"geo_location\":\"%s\",",
                  PICK(r, users), sg_rng_double(r), PICK(r, status), PICK(r, hosts), PICK(r, geos));
    if (sg_rng_below(r, 10) < 3)
        sg_buf_printf(b, "\"geo_lat\":%.4f,\"geo_lon\":%.4f,", sg_rng_double(r) * 180 - 90,
                      sg_rng_double(r) * 360 - 180);
    if (sg_rng_below(r, 10) < 4)
        sg_buf_printf(b, "\"user_agent\":\"%s\",", PICK(r, agents));
    sg_buf_puts(b, "\"session_id\":");
    if (sg_rng_below(r, 3) == 0)
        sg_buf_printf(b, "\"%.16s\"}", sess);
    else
        sg_buf_puts(b, "null}");
    gen_details(r, b, kind);
    sg_buf_puts(b, "}\n");
}

struct lines {
    const char **p;
    size_t *n;
    size_t count;
};

static void split(const struct sg_buf *b, struct lines *l, size_t cap)
{
    l->p = sg_xmalloc(cap * sizeof *l->p);
    l->n = sg_xmalloc(cap * sizeof *l->n);
    l->count = 0;
    size_t i = 0;
    while (i < b->len && l->count < cap) {
        const char *nl = memchr(b->data + i, '\n', b->len - i);
        size_t e = nl ? (size_t)(nl - b->data) : b->len;
        l->p[l->count] = b->data + i;
        l->n[l->count++] = e - i;
        i = e + 1;
    }
}

static volatile uint64_t sink;

static double run_ours(const struct lines *l)
{
    struct sg_arena a;
    sg_arena_init(&a, 1 << 20);
    uint64_t acc = 0;
    int64_t t0 = sg_time_mono_ns();
    for (size_t i = 0; i < l->count; i++) {
        struct sg_event ev;
        struct sg_event_error err;
        if (sg_event_decode(l->p[i], l->n[i], &ev, &a, &err) != SG_OK) {
            fprintf(stderr, "bench_decode: line %zu rejected: %s\n", i + 1, err.message);
            exit(1);
        }
        acc += (uint64_t)ev.ts_ms + ev.user.len + (uint64_t)ev.type;
        if ((i & 1023) == 1023)
            sg_arena_reset(&a);
    }
    int64_t t1 = sg_time_mono_ns();
    sink += acc;
    sg_arena_release(&a);
    return (double)(t1 - t0) / 1e9;
}

static const char *cj_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double cj_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Baseline: cJSON tree + reading the same fields our decoder fills (no rule checks). */
static uint64_t cj_extract(const cJSON *root)
{
    static const char *const det[] = {"auth_details", "network_details", "file_details",
                                      "process_details", "dns_details"};
    static const char *const det_fields[][8] = {
        {"auth_type", "failure_reason", "attempts_count"},
        {"protocol", "source_port", "destination_port", "bytes_sent", "bytes_received",
         "duration_ms", "connection_state"},
        {"file_path", "operation", "file_size_bytes", "access_denied", "permissions_changed"},
        {"process_name", "command_line", "user_privileges", "process_id", "parent_process_id",
         "is_signed"},
        {"query_name", "query_type", "response_code", "ttl"}};
    static const char *const top[] = {"event_id",  "event_type",     "user",
                                      "source_ip", "destination_ip", "status"};
    uint64_t acc = 0;
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        const char *s = cj_str(root, top[i]);
        acc += s ? strlen(s) : 0;
    }
    acc += (uint64_t)cj_num(root, "timestamp") + (uint64_t)(cj_num(root, "threat_score") * 100);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    if (cJSON_IsObject(m)) {
        acc += cj_str(m, "hostname") != NULL;
        acc += cj_str(m, "geo_location") != NULL;
        acc += cj_str(m, "user_agent") != NULL;
        acc += cj_str(m, "session_id") != NULL;
        acc += (uint64_t)(cj_num(m, "geo_lat") + cj_num(m, "geo_lon") + 400);
    }
    const char *type = cj_str(root, "event_type");
    int t = type ? sg_event_type_parse(type, strlen(type)) : -1;
    if (t >= 0) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, det[t]);
        for (int f = 0; f < 8 && det_fields[t][f] && cJSON_IsObject(d); f++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, det_fields[t][f]);
            acc += v ? (uint64_t)v->type : 0;
        }
    }
    return acc;
}

static double run_cjson(const struct lines *l)
{
    uint64_t acc = 0;
    int64_t t0 = sg_time_mono_ns();
    for (size_t i = 0; i < l->count; i++) {
        cJSON *root = cJSON_ParseWithLength(l->p[i], l->n[i]);
        if (!root) {
            fprintf(stderr, "bench_decode: cJSON rejected line %zu\n", i + 1);
            exit(1);
        }
        acc += cj_extract(root);
        cJSON_Delete(root);
    }
    int64_t t1 = sg_time_mono_ns();
    sink += acc;
    return (double)(t1 - t0) / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void print_machine(void)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    c += 2;
                    c[strcspn(c, "\n")] = '\0';
                    snprintf(model, sizeof model, "%s", c);
                }
                break;
            }
        }
        fclose(f);
    }
    char date[32];
    sg_time_format_rfc3339(sg_time_now_ms(), date, sizeof date);
    printf("machine: %s, nproc %ld\ndate: %s\n", model, sysconf(_SC_NPROCESSORS_ONLN), date);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
    if (n == 0) {
        fprintf(stderr, "usage: bench_decode [events] [seed]\n");
        return 2;
    }
    struct sg_rng r;
    sg_rng_seed(&r, seed);
    struct sg_buf b;
    sg_buf_init(&b);
    int64_t ts = INT64_C(1795641199680);
    for (size_t i = 0; i < n; i++)
        gen_event(&r, &b, ts + (int64_t)i * 7);
    struct lines l;
    split(&b, &l, n);
    double mb = (double)b.len / 1e6;
    print_machine();
    printf("events: %zu, %.1f MB NDJSON, %.0f bytes/event avg, seed %llu\n", l.count, mb,
           (double)b.len / (double)l.count, (unsigned long long)seed);
    const char *only = argc > 3 ? argv[3] : "";
    double ours[RUNS] = {0}, cj[RUNS] = {0};
    for (int i = 0; i < RUNS; i++) {
        if (strcmp(only, "cjson") != 0)
            ours[i] = run_ours(&l);
        if (strcmp(only, "ours") != 0)
            cj[i] = run_cjson(&l);
    }
    double mo = median(ours, RUNS), mc = median(cj, RUNS);
    if (mo > 0)
        printf("%-28s %9.1f MB/s %11.0f events/s  (median of %d)\n", "sg_event_decode", mb / mo,
               (double)l.count / mo, RUNS);
    if (mc > 0)
        printf("%-28s %9.1f MB/s %11.0f events/s  (median of %d)\n", "cJSON parse + extract",
               mb / mc, (double)l.count / mc, RUNS);
    if (mo > 0 && mc > 0)
        printf("speedup: %.2fx\n", mc / mo);
    if (getenv("BENCH_DECODE_SAMPLE")) /* print a few generated lines to eyeball the shape */
        fwrite(b.data, 1, (size_t)(l.p[l.count > 3 ? 3 : l.count - 1] - b.data), stdout);
    free(l.p);
    free(l.n);
    sg_buf_release(&b);
    return 0;
}
