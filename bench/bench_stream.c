/* bench_stream: speed-layer throughput and latency on generated events (`streamguard
 * generate`, seeded): (1) replay from file through the full pipeline with RocksDB
 * persistence (the `stream --input` path), events/s; (2) per-event detection latency
 * (detectors + profile update, in memory), exact p50/p99/p99.9; baselines in the same run:
 * decode-only throughput and the pipeline without the store's work measured separately; (3)
 * the storage floor: the same rows the pipeline writes (events with their two index entries,
 * each batch's changed profiles, offsets), prepared untimed, written by one thread with the
 * same store options and batch size - what RocksDB alone costs per event with this schema.
 * Medians of SG_BENCH_REPS runs (default 3). Prints the machine and the date. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sg_config.h"
#include "core/sg_err.h"
#include "core/sg_event.h"
#include "core/sg_hash.h"
#include "core/sg_mem.h"
#include "core/sg_metrics.h"
#include "core/sg_time.h"
#include "speed/sg_detect.h"
#include "speed/sg_replay.h"
#include "speed/sg_user.h"
#include "storage/sg_store.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static void machine(void)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                snprintf(model, sizeof model, "%s", c + 2);
                model[strcspn(model, "\n")] = 0;
            }
            break;
        }
    }
    if (f)
        fclose(f);
    char date[32];
    sg_time_format_rfc3339(sg_time_now_ms(), date, sizeof date);
    double load[3] = {0};
    getloadavg(load, 3);
    printf("machine: %ld cpus, %s; load average %.2f; date %s\n", sysconf(_SC_NPROCESSORS_ONLN),
           model, load[0], date);
}

/* Reads the file's lines into memory. */
static char **read_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char **v = NULL;
    size_t cap = 0, k = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t r;
    while ((r = getline(&line, &lcap, f)) > 0) {
        v = sg_xgrow(v, &cap, k + 1, sizeof *v);
        v[k++] = sg_xstrndup(line, (size_t)r - (line[r - 1] == '\n'));
    }
    free(line);
    fclose(f);
    *n = k;
    return v;
}

static double bench_decode(char **lines, size_t n)
{
    struct sg_arena ar;
    sg_arena_init(&ar, 1 << 20);
    int64_t t0 = sg_time_mono_ns();
    for (size_t i = 0; i < n; i++) {
        struct sg_event ev;
        sg_event_decode(lines[i], strlen(lines[i]), &ev, &ar, NULL);
        if (i % 1000 == 999)
            sg_arena_reset(&ar);
    }
    double s = (double)(sg_time_mono_ns() - t0) / 1e9;
    sg_arena_release(&ar);
    return (double)n / s;
}

/* Detection latency: profiles in a simple map, detectors + update timed per event. */
struct prof {
    uint64_t h;
    struct sg_user_state st;
};

/* The slot of the event's user in an open-addressed map of `cap` (a power of two) profiles,
 * initialised when new (*fresh = 1). */
static size_t prof_slot(struct prof *map, size_t cap, const struct sg_event *ev, int *fresh)
{
    uint64_t h = sg_hash_bytes(ev->user.p, ev->user.len, 1) | 1;
    size_t j = h & (cap - 1);
    while (map[j].h && map[j].h != h)
        j = (j + 1) & (cap - 1);
    *fresh = !map[j].h;
    if (*fresh) {
        map[j].h = h;
        sg_user_init(&map[j].st);
    }
    return j;
}

static void bench_detect(char **lines, size_t n, double *p50, double *p99, double *p999,
                         double *eps)
{
    size_t cap = 1 << 16;
    struct prof *map = sg_xcalloc(cap, sizeof *map);
    double *lat = sg_xmalloc(n * sizeof *lat);
    struct sg_detect_params p;
    sg_detect_params_init(&p);
    struct sg_findings fs;
    sg_findings_init(&fs);
    struct sg_arena ar;
    sg_arena_init(&ar, 1 << 20);
    size_t m = 0;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        struct sg_event ev;
        if (sg_event_decode(lines[i], strlen(lines[i]), &ev, &ar, NULL) != SG_OK)
            continue;
        int fresh;
        size_t j = prof_slot(map, cap, &ev, &fresh);
        int64_t t0 = sg_time_mono_ns();
        sg_detect_run(&map[j].st, &ev, &p, &fs);
        (void)sg_detect_score(&fs);
        sg_user_update(&map[j].st, &ev);
        double d = (double)(sg_time_mono_ns() - t0);
        lat[m++] = d;
        total += d;
        if (i % 1000 == 999)
            sg_arena_reset(&ar);
    }
    qsort(lat, m, sizeof *lat, cmp_d);
    *p50 = lat[m / 2] / 1000;
    *p99 = lat[(size_t)((double)m * 0.99)] / 1000;
    *p999 = lat[(size_t)((double)m * 0.999)] / 1000;
    *eps = (double)m / (total / 1e9);
    free(lat);
    free(map);
    sg_findings_release(&fs);
    sg_arena_release(&ar);
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The rows of one event, as the pipeline stages them. */
struct row {
    int64_t ts;
    char *id, *user, *json;
    size_t idl, ul, jl;
    int type;
    uint64_t seq;
    size_t prof; /* index of the user's profile slot */
};

/* Prepared input of the storage floor: rows, and the encoded profile of every user changed in
 * each batch as of the batch's end (what sg_pipeline_flush stages). */
struct floor_in {
    struct row *rows;
    size_t n;
    struct sg_buf *blobs; /* per batch: concatenated [u32 profile slot][u32 len][blob] */
    size_t nbatches;
    char **users;
};

static void floor_prepare(char **lines, size_t n, size_t batch, struct floor_in *in)
{
    size_t cap = 1 << 16;
    struct prof *map = sg_xcalloc(cap, sizeof *map);
    char **users = sg_xcalloc(cap, sizeof *users);
    uint8_t *dirty = sg_xcalloc(cap, 1);
    in->rows = sg_xcalloc(n, sizeof *in->rows);
    in->nbatches = (n + batch - 1) / batch;
    in->blobs = sg_xcalloc(in->nbatches, sizeof *in->blobs);
    struct sg_arena ar;
    sg_arena_init(&ar, 1 << 20);
    struct sg_buf js, ub;
    sg_buf_init(&js);
    sg_buf_init(&ub);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        struct sg_event ev;
        if (sg_event_decode(lines[i], strlen(lines[i]), &ev, &ar, NULL) == SG_OK) {
            int fresh;
            size_t j = prof_slot(map, cap, &ev, &fresh);
            if (fresh)
                users[j] = sg_xstrndup(ev.user.p, ev.user.len);
            sg_buf_reset(&js);
            sg_event_encode(&ev, &js);
            struct row *r = &in->rows[m++];
            *r = (struct row){ev.ts_ms, sg_xstrndup(ev.event_id.p, ev.event_id.len),
                              users[j], sg_xstrndup(js.data, js.len), ev.event_id.len,
                              ev.user.len, js.len, (int)ev.type, map[j].st.n_events + 1, j};
            sg_user_update(&map[j].st, &ev);
            dirty[j] = 1;
        }
        if ((i + 1) % batch == 0 || i + 1 == n) {
            struct sg_buf *b = &in->blobs[i / batch];
            sg_buf_init(b);
            for (size_t j = 0; j < cap; j++) {
                if (!dirty[j])
                    continue;
                dirty[j] = 0;
                sg_buf_reset(&ub);
                sg_user_encode(&map[j].st, &ub);
                uint32_t hdr[2] = {(uint32_t)j, (uint32_t)ub.len};
                sg_buf_append(b, hdr, sizeof hdr);
                sg_buf_append(b, ub.data, ub.len);
            }
            sg_arena_reset(&ar);
        }
    }
    in->n = m;
    in->users = users;
    sg_buf_release(&js);
    sg_buf_release(&ub);
    sg_arena_release(&ar);
    free(dirty);
    free(map);
}

static void floor_free(struct floor_in *in)
{
    for (size_t i = 0; i < in->n; i++) {
        free(in->rows[i].id);
        free(in->rows[i].json);
    }
    for (size_t b = 0; b < in->nbatches; b++)
        sg_buf_release(&in->blobs[b]);
    for (size_t j = 0; j < (1 << 16); j++)
        free(in->users[j]);
    free(in->users);
    free(in->blobs);
    free(in->rows);
}

/* A fresh store in a temporary directory `dir` (a mkdtemp template), opened as `stream
 * --input` opens it without a model (append-only memtables); NULL on failure. */
static struct sg_store *temp_store(char *dir)
{
    if (!mkdtemp(dir))
        return NULL;
    struct sg_store *st;
    char err[512];
    if (sg_store_open(dir, SG_STORE_PRIMARY_APPEND, NULL, 0, &st, err, sizeof err) != SG_OK) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    return st;
}

/* Closes and deletes a temp_store; 0 or -1. */
static int drop_store(struct sg_store *st, const char *dir)
{
    sg_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Writes the prepared rows batch by batch (one thread, no overlap); events/s and events per
 * CPU-second of the process (RocksDB's flush threads included). */
static int bench_floor(const struct floor_in *in, size_t batch, size_t nlines, double *eps,
                       double *cpu_eps)
{
    char dir[] = "/tmp/bench_floor_XXXXXX";
    struct sg_store *st = temp_store(dir);
    if (!st)
        return -1;
    struct sg_store_batch *b = sg_store_batch_new(st);
    int64_t t0 = sg_time_mono_ns();
    double c0 = cpu_s();
    int rc = SG_OK;
    size_t r = 0;
    for (size_t k = 0; k < in->nbatches && rc == SG_OK; k++) {
        size_t end_line = (k + 1) * batch; /* rows of the lines of this batch */
        for (; r < in->n && r < end_line; r++) {
            const struct row *w = &in->rows[r];
            sg_store_batch_put_event(b, w->ts, w->id, w->idl, w->user, w->ul, w->type, w->seq,
                                     w->json, w->jl);
        }
        const struct sg_buf *bl = &in->blobs[k];
        for (size_t off = 0; off < bl->len;) {
            uint32_t hdr[2];
            memcpy(hdr, bl->data + off, sizeof hdr);
            off += sizeof hdr;
            const char *u = in->users[hdr[0]];
            sg_store_batch_put_user(b, u, strlen(u), bl->data + off, hdr[1]);
            off += hdr[1];
        }
        sg_store_batch_put_offset(b, "bench", 0, (int64_t)(end_line < nlines ? end_line : nlines));
        rc = sg_store_write(st, b, 0);
    }
    double s = (double)(sg_time_mono_ns() - t0) / 1e9;
    double c = cpu_s() - c0;
    sg_store_batch_free(b);
    if (drop_store(st, dir) != 0)
        return -1;
    *eps = (double)in->n / s;
    *cpu_eps = (double)in->n / c;
    return rc;
}

static int bench_replay(const char *path, size_t batch, double *eps, double *p99_us,
                        double *cpu_eps)
{
    char dir[] = "/tmp/bench_stream_XXXXXX";
    struct sg_store *st = temp_store(dir);
    if (!st)
        return -1;
    char err[512];
    struct sg_metrics *m = sg_metrics_new();
    struct sg_replay_opts o = {0};
    o.path = path;
    o.pipe.store = st;
    o.pipe.metrics = m;
    sg_detect_params_init(&o.pipe.params);
    o.batch_size = batch;
    struct sg_pipeline_totals t;
    int64_t t0 = sg_time_mono_ns();
    double c0 = cpu_s();
    int rc = sg_replay_run(&o, &t, err, sizeof err);
    double s = (double)(sg_time_mono_ns() - t0) / 1e9;
    double c = cpu_s() - c0; /* all threads: the pipeline and RocksDB's flushes/compactions */
    sg_metrics_free(m);
    if (drop_store(st, dir) != 0)
        return -1;
    *eps = (double)(t.events + t.invalid + t.duplicates) / s;
    *cpu_eps = (double)(t.events + t.invalid + t.duplicates) / c;
    *p99_us = t.processing_p99_s * 1e6;
    return rc;
}

int main(void)
{
    const char *bin = getenv("STREAMGUARD_BIN") ? getenv("STREAMGUARD_BIN") : "build/streamguard";
    long n = getenv("SG_BENCH_EVENTS") ? atol(getenv("SG_BENCH_EVENTS")) : 200000;
    int reps = getenv("SG_BENCH_REPS") ? atoi(getenv("SG_BENCH_REPS")) : 3;
    struct sg_config defaults; /* the default batch size is the stream's */
    sg_config_init(&defaults);
    size_t batch = getenv("SG_BENCH_BATCH") ? (size_t)atol(getenv("SG_BENCH_BATCH"))
                                            : (size_t)defaults.stream.batch_size;
    sg_config_release(&defaults);
    if (reps < 1 || reps > 50)
        reps = 3;
    char path[] = "/tmp/bench_stream_in_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s generate -n %ld -u 2000 -s 5 -q -o %s", bin, n, path);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_stream: cannot run %s generate\n", bin);
        return 1;
    }
    machine();
    size_t nl;
    char **lines = read_lines(path, &nl);
    if (!lines)
        return 1;
    printf("input: %zu generated events (2000 users, seed 5), batch size %zu, %d repetitions\n",
           nl, batch, reps);
    double dec[50], rep[50], rep_p99[50], d50[50], d99[50], d999[50], deps[50], rcpu[50];
    double fl[50], flcpu[50];
    struct floor_in fin;
    floor_prepare(lines, nl, batch, &fin);
    for (int r = 0; r < reps; r++) {
        dec[r] = bench_decode(lines, nl);
        bench_detect(lines, nl, &d50[r], &d99[r], &d999[r], &deps[r]);
        if (bench_floor(&fin, batch, nl, &fl[r], &flcpu[r]) != SG_OK)
            return 1;
        if (bench_replay(path, batch, &rep[r], &rep_p99[r], &rcpu[r]) != SG_OK)
            return 1;
    }
    floor_free(&fin);
    printf("baseline decode only:                 %10.0f events/s\n", median(dec, reps));
    printf("detection only (in memory):           %10.0f events/s\n", median(deps, reps));
    printf("storage floor (same rows, store only): %9.0f events/s, %.0f events/CPU-s\n",
           median(fl, reps), median(flcpu, reps));
    printf("replay, full pipeline + RocksDB:      %10.0f events/s   (target >= 250000)\n",
           median(rep, reps));
    printf("  the same per CPU-second (all threads): %10.0f events/CPU-s\n", median(rcpu, reps));
    printf("per-event detection latency:          p50 %.2f us, p99 %.2f us, p99.9 %.2f us "
           "(target p99 <= 20 us)\n", median(d50, reps), median(d99, reps), median(d999, reps));
    printf("pipeline processing p99 (histogram):  %.1f us (decode + dedup + detect + stage)\n",
           median(rep_p99, reps));
    for (size_t i = 0; i < nl; i++)
        free(lines[i]);
    free(lines);
    unlink(path);
    return 0;
}
