/* bench_serve_store: the serving benchmark's data and its in-process baseline.
 *   bench_serve_store --fill DIR [--events N] [--users U]
 *       writes N synthetic events (every 10th an anomaly) of U users into a new store at
 *       DIR/db through sg_store, as the speed layer would, and their ids to DIR/ids.txt
 *       (read by bench/wrk_event_ids.lua). Seeded: the same arguments give the same store.
 *   bench_serve_store [--events N]        (what `make bench` runs)
 *       fills a temporary store and measures sg_store_event_get from a secondary instance
 *       in-process: the floor under GET /api/events/{id} (bench/bench_serve.sh measures HTTP).
 * Prints the machine, the date and the median of 5 repetitions. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_rng.h"
#include "core/sg_time.h"
#include "storage/sg_store.h"

static const char *const types[] = {"auth_attempt", "network_connection", "file_access",
                                    "process_execution", "dns_query"};

static int fill(const char *dir, long events, long users)
{
    char path[1024], err[512];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/db", dir);
    struct sg_store *st;
    if (sg_store_open(path, SG_STORE_PRIMARY, NULL, 0, &st, err, sizeof err) != SG_OK) {
        fprintf(stderr, "bench_serve_store: %s\n", err);
        return 1;
    }
    snprintf(path, sizeof path, "%s/ids.txt", dir);
    FILE *ids = fopen(path, "w");
    if (!ids) {
        perror(path);
        sg_store_close(st);
        return 1;
    }
    struct sg_rng r;
    sg_rng_seed(&r, 42);
    struct sg_store_batch *b = sg_store_batch_new(st);
    int64_t t0 = INT64_C(1795000000000);
    char id[48], user[32], json[512];
    uint64_t by_type[5] = {0}, by_sev[4] = {0};
    for (long i = 0; i < events; i++) {
        uint64_t h = sg_rng_next(&r);
        snprintf(id, sizeof id, "evt_%016llx%016llx", (unsigned long long)h,
                 (unsigned long long)i);
        snprintf(user, sizeof user, "user%05llu", (unsigned long long)(h % (uint64_t)users));
        int64_t ts = t0 + i * 10;
        int type = (int)(h >> 40) % 5;
        int n = snprintf(json, sizeof json,
                         "{\"event_id\":\"%s\",\"timestamp\":%lld,\"event_type\":\"%s\","
                         "\"user\":\"%s\",\"source_ip\":\"10.%u.%u.%u\",\"status\":\"success\","
                         "\"threat_score\":0.12,\"metadata\":{\"hostname\":\"ws-%u\"}}",
                         id, (long long)ts, types[type], user, (unsigned)(h >> 8) & 255,
                         (unsigned)(h >> 16) & 255, (unsigned)(h >> 24) & 255,
                         (unsigned)(h >> 32) & 1023);
        sg_store_batch_put_event(b, ts, id, strlen(id), user, strlen(user), type,
                                 (uint64_t)i + 1, json, (size_t)n);
        if (i % 10 == 0) {
            int sev = (int)(h >> 50) % 4;
            n = snprintf(json, sizeof json,
                         "{\"event_id\":\"%s\",\"timestamp\":%lld,\"user\":\"%s\",\"severity\":"
                         "\"%s\",\"score\":0.8,\"reasons\":[\"new_ip\"]}",
                         id, (long long)ts, user,
                         (const char *[]){"low", "medium", "high", "critical"}[sev]);
            sg_store_batch_put_anomaly(b, ts, id, strlen(id), user, strlen(user), sev, json,
                                       (size_t)n);
        }
        fprintf(ids, "%s\n", id);
        by_type[type]++;
        if (i % 10 == 0)
            by_sev[(h >> 50) % 4]++;
        if ((i + 1) % 5000 == 0 || i == events - 1) {
            /* the counters the speed layer keeps (names read by /api/stats) */
            char k[64];
            sg_store_batch_put_stat(b, "events", (uint64_t)i + 1);
            for (int t = 0; t < 5; t++) {
                snprintf(k, sizeof k, "events.%s", types[t]);
                sg_store_batch_put_stat(b, k, by_type[t]);
            }
            uint64_t anomalies = 0;
            for (int v = 0; v < 4; v++) {
                snprintf(k, sizeof k, "anomalies.%s",
                         (const char *[]){"low", "medium", "high", "critical"}[v]);
                sg_store_batch_put_stat(b, k, by_sev[v]);
                anomalies += by_sev[v];
            }
            sg_store_batch_put_stat(b, "anomaly_reason.new_ip", anomalies);
            sg_store_batch_watermark(b, ts);
            if (sg_store_write(st, b, 0) != SG_OK) {
                fprintf(stderr, "bench_serve_store: write failed\n");
                break;
            }
        }
    }
    for (long u = 0; u < users; u++) {
        snprintf(user, sizeof user, "user%05ld", u);
        sg_store_batch_put_user(b, user, strlen(user), "{\"events\":1}", 12);
    }
    sg_store_batch_put_stat(b, "users", (uint64_t)users);
    int rc = sg_store_write(st, b, 1);
    sg_store_batch_free(b);
    fclose(ids);
    sg_store_close(st);
    /* Reopening recovers the WAL into SST files, as a long-running writer's flushes would:
     * otherwise a follower would hold the whole benchmark store in memtables. */
    snprintf(path, sizeof path, "%s/db", dir);
    if (rc == SG_OK && sg_store_open(path, SG_STORE_PRIMARY, NULL, 0, &st, err, sizeof err) == SG_OK)
        sg_store_close(st);
    return rc == SG_OK ? 0 : 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void machine(void)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    if (f)
        fclose(f);
    char date[64];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    printf("machine: %ld cores, %s; date %s\n", sysconf(_SC_NPROCESSORS_ONLN), model, date);
}

static int baseline(long events)
{
    char dir[] = "/tmp/sg_bench_serve_XXXXXX";
    if (!mkdtemp(dir) || fill(dir, events, 1000) != 0)
        return 1;
    char path[256], err[512];
    snprintf(path, sizeof path, "%s/ids.txt", dir);
    FILE *f = fopen(path, "r");
    char **ids = malloc(sizeof *ids * (size_t)events);
    long n = 0;
    char line[128];
    while (f && n < events && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        ids[n++] = strdup(line);
    }
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/db", dir);
    struct sg_store *st;
    if (sg_store_open(path, SG_STORE_SECONDARY, NULL, 0, &st, err, sizeof err) != SG_OK) {
        fprintf(stderr, "bench_serve_store: %s\n", err);
        return 1;
    }
    machine();
    struct sg_rng r;
    sg_rng_seed(&r, 7);
    struct sg_buf out;
    sg_buf_init(&out);
    double rates[5];
    const long lookups = 200000;
    for (int rep = 0; rep < 5; rep++) {
        int64_t t0 = sg_time_mono_ns();
        for (long i = 0; i < lookups; i++) {
            const char *id = ids[sg_rng_below(&r, (uint64_t)n)];
            if (sg_store_event_get(st, id, strlen(id), &out) != SG_OK)
                return 1;
        }
        rates[rep] = (double)lookups / ((double)(sg_time_mono_ns() - t0) / 1e9);
    }
    qsort(rates, 5, sizeof rates[0], cmp_double);
    printf("store baseline: sg_store_event_get from a secondary, %ld events: median %.0f "
           "lookups/s on 1 thread (5 runs, min %.0f, max %.0f)\n",
           n, rates[2], rates[0], rates[4]);
    sg_buf_release(&out);
    sg_store_close(st);
    for (long i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    return system(path) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"fill", required_argument, NULL, 'f'},
                                         {"events", required_argument, NULL, 'e'},
                                         {"users", required_argument, NULL, 'u'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    long events = 100000, users = 2000;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'f')
            dir = optarg;
        else if (c == 'e')
            events = atol(optarg);
        else if (c == 'u')
            users = atol(optarg);
        else
            return 2;
    }
    if (events < 1 || users < 1)
        return 2;
    return dir ? fill(dir, events, users) : baseline(events);
}
