/* bench_parquet: write throughput of sg_parquet. Writes ROWS rows x 30 DOUBLE columns + one
 * STRING column (user ids, dictionary-friendly) with each codec, REPS times, and prints the
 * median wall time, MB/s (of raw input values) and rows/s. The data is a pre-generated block
 * of 1M rows cycled (so generation is not timed; no page ever sees repeated data). The DuckDB
 * reference run lives in bench/bench_parquet.sh (it needs node), which also prints the machine.
 *
 *   bench_parquet [--rows N] [--reps R] [--dir DIR] [--codec zstd|snappy|uncompressed|all]
 * Prints one line per codec: "sg <codec> rows=N median_s=S cpu_s=C mb_s=M rows_s=R bytes=B"
 * (median wall and CPU seconds of the runs; MB/s and rows/s from the wall time). */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"
#include "storage/sg_parquet.h"

#define NDOUBLE 30
#define BLOCK (1u << 20)
#define BATCH 8192

struct data {
    double *d[NDOUBLE];
    struct sg_pq_str *s;
    char *text;
    uint64_t input_bytes_per_block;
};

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Feature-like doubles: a mix of continuous values, rounded amounts, counts and ratios. */
static void generate(struct data *g)
{
    struct sg_rng r;
    sg_rng_seed(&r, 12345);
    for (int c = 0; c < NDOUBLE; c++) {
        g->d[c] = sg_xmalloc(BLOCK * sizeof(double));
        for (uint32_t i = 0; i < BLOCK; i++) {
            double x;
            switch (c % 4) {
            case 0: x = sg_rng_normal(&r) * 10 + c; break;             /* continuous */
            case 1: x = round(sg_rng_exp(&r, 100) * 100) / 100; break; /* amount, 2 dp */
            case 2: x = (double)sg_rng_below(&r, 1000); break;         /* count */
            default: x = sg_rng_double(&r); break;                     /* ratio */
            }
            g->d[c][i] = x;
        }
    }
    g->s = sg_xmalloc(BLOCK * sizeof *g->s);
    g->text = sg_xmalloc(BLOCK * 16);
    uint64_t sbytes = 0;
    for (uint32_t i = 0; i < BLOCK; i++) {
        char *t = g->text + (size_t)i * 16;
        int n = snprintf(t, 16, "user-%05" PRIu64, sg_rng_below(&r, 50000));
        g->s[i] = (struct sg_pq_str){t, (uint32_t)n};
        sbytes += (uint64_t)n;
    }
    g->input_bytes_per_block = (uint64_t)BLOCK * NDOUBLE * 8 + sbytes;
}

static int run(const struct data *g, const char *path, enum sg_pq_codec codec, int64_t rows,
               double *secs, double *cpu)
{
    struct sg_pq_column cols[NDOUBLE + 1];
    char names[NDOUBLE][16];
    for (int c = 0; c < NDOUBLE; c++) {
        snprintf(names[c], sizeof names[c], "f%02d", c);
        cols[c] = (struct sg_pq_column){names[c], SG_PQ_DOUBLE, 0};
    }
    cols[NDOUBLE] = (struct sg_pq_column){"user", SG_PQ_STRING, 0};
    struct sg_pq_options o;
    sg_pq_options_default(&o);
    o.codec = codec;
    char err[256];
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    struct sg_pq_writer *w = sg_pq_writer_new(path, cols, NDOUBLE + 1, &o, err, sizeof err);
    if (!w) {
        fprintf(stderr, "bench_parquet: %s\n", err);
        return 1;
    }
    const void *v[NDOUBLE + 1];
    for (int64_t done = 0; done < rows;) {
        size_t off = (size_t)(done % BLOCK);
        size_t n = BATCH;
        if (n > BLOCK - off)
            n = BLOCK - off;
        if ((int64_t)n > rows - done)
            n = (size_t)(rows - done);
        for (int c = 0; c < NDOUBLE; c++)
            v[c] = g->d[c] + off;
        v[NDOUBLE] = g->s + off;
        if (sg_pq_write_batch(w, v, NULL, n) != SG_OK) {
            fprintf(stderr, "bench_parquet: %s\n", sg_pq_writer_error(w));
            sg_pq_writer_abort(w);
            return 1;
        }
        done += (int64_t)n;
    }
    if (sg_pq_writer_close(w, err, sizeof err) != SG_OK) {
        fprintf(stderr, "bench_parquet: %s\n", err);
        return 1;
    }
    *secs = clock_s(CLOCK_MONOTONIC) - t0;
    *cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int64_t rows = 10000000;
    int reps = 3;
    const char *dir = "/dev/shm", *codec_arg = "all";
    static const struct option lo[] = {{"rows", required_argument, 0, 'r'},
                                       {"reps", required_argument, 0, 'n'},
                                       {"dir", required_argument, 0, 'd'},
                                       {"codec", required_argument, 0, 'c'},
                                       {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'r': rows = strtoll(optarg, NULL, 10); break;
        case 'n': reps = atoi(optarg); break;
        case 'd': dir = optarg; break;
        case 'c': codec_arg = optarg; break;
        default:
            fprintf(stderr, "usage: bench_parquet [--rows N] [--reps R] [--dir D] [--codec C]\n");
            return 2;
        }
    }
    if (rows < 1 || reps < 1 || reps > 50) {
        fprintf(stderr, "bench_parquet: bad --rows/--reps\n");
        return 2;
    }
    struct data g;
    generate(&g);
    uint64_t input = (uint64_t)(rows / BLOCK) * g.input_bytes_per_block;
    {
        /* the partial last block: its exact share of string bytes */
        uint64_t extra = (uint64_t)(rows % BLOCK) * NDOUBLE * 8;
        for (int64_t i = 0; i < rows % BLOCK; i++)
            extra += g.s[i].len;
        input += extra;
    }
    const char *names[] = {"uncompressed", "snappy", "zstd"};
    const enum sg_pq_codec codecs[] = {SG_PQ_UNCOMPRESSED, SG_PQ_SNAPPY, SG_PQ_ZSTD};
    printf("input rows=%" PRId64 " cols=%d doubles+1 string input_bytes=%" PRIu64 "\n", rows,
           NDOUBLE, input);
    int rc = 0;
    for (int k = 0; k < 3 && rc == 0; k++) {
        if (strcmp(codec_arg, "all") && strcmp(codec_arg, names[k]))
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/bench_sg_%s.parquet", dir, names[k]);
        double t[50], cpu[50];
        for (int i = 0; i < reps && rc == 0; i++)
            rc = run(&g, path, codecs[k], rows, &t[i], &cpu[i]);
        if (rc)
            break;
        qsort(t, (size_t)reps, sizeof *t, cmp_double);
        qsort(cpu, (size_t)reps, sizeof *cpu, cmp_double);
        double med = t[reps / 2], cmed = cpu[reps / 2];
        FILE *f = fopen(path, "rb");
        long size = -1;
        if (f && fseek(f, 0, SEEK_END) == 0)
            size = ftell(f);
        if (f)
            fclose(f);
        printf("sg %s rows=%" PRId64 " median_s=%.3f cpu_s=%.3f mb_s=%.1f rows_s=%.0f bytes=%ld\n",
               names[k], rows, med, cmed, (double)input / 1e6 / med, (double)rows / med, size);
        fflush(stdout);
    }
    for (int c = 0; c < NDOUBLE; c++)
        free(g.d[c]);
    free(g.s);
    free(g.text);
    return rc;
}
