/* bench_iforest: Isolation Forest fit + score of 100,000 x 30 (100 trees, psi 256), median of
 * 5 runs, 1 thread and all cores, against scikit-learn's IsolationForest on the same data
 * (Debian python3-sklearn, fit + score_samples timed inside Python, median of 3) as the
 * baseline. Prints the machine and date. Usage: build/bench/bench_iforest [rows] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch/sg_iforest.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"
#include "core/sg_time.h"

#define D 30
#define REPS 5

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void machine(void)
{
    char line[256], model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            const char *c = strchr(line, ':');
            snprintf(model, sizeof model, "%s", c ? c + 2 : line);
            model[strcspn(model, "\n")] = 0;
            break;
        }
    if (f)
        fclose(f);
    time_t t = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&t));
    printf("machine: %ld cores, %s; date %s\n", sysconf(_SC_NPROCESSORS_ONLN), model, date);
}

static double run(const double *X, size_t n, int threads, double *out)
{
    int64_t t0 = sg_time_mono_ns();
    struct sg_iforest_params p = {.trees = 100, .psi = 256, .seed = 1, .threads = threads};
    struct sg_iforest *f = sg_iforest_fit(X, n, D, &p);
    sg_iforest_score(f, X, n, out, threads);
    double s = (double)(sg_time_mono_ns() - t0) / 1e9;
    sg_iforest_free(f);
    return s;
}

static double sklearn(const double *X, size_t n)
{
    char csv[] = "/tmp/bench-iforest-XXXXXX";
    int fd = mkstemp(csv);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < D; j++)
            fprintf(f, "%.9g%c", X[i * D + j], j == D - 1 ? '\n' : ',');
    fclose(f);
    double t[3];
    int ok = 0;
    for (int r = 0; r < 3; r++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 tests/iforest_sklearn.py %s %s.out 100 %d --time", csv, csv, r);
        FILE *p = popen(cmd, "r");
        if (p && fscanf(p, "%lf", &t[ok]) == 1)
            ok++;
        if (p)
            pclose(p);
    }
    char out[64];
    snprintf(out, sizeof out, "%s.out", csv);
    unlink(out);
    unlink(csv);
    return ok ? median(t, ok) : -1;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 100000;
    double *X = sg_xmalloc(n * D * sizeof *X), *s = sg_xmalloc(n * sizeof *s);
    struct sg_rng r;
    sg_rng_seed(&r, 2024);
    for (size_t i = 0; i < n * D; i++)
        X[i] = sg_rng_normal(&r) + (i / D % 100 == 0 ? 6 : 0); /* 1% shifted rows */
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    machine();
    double t1[REPS], tn[REPS];
    for (int i = 0; i < REPS; i++) {
        t1[i] = run(X, n, 1, s);
        tn[i] = run(X, n, cores, s);
    }
    double base = sklearn(X, n);
    printf("iforest fit+score %zu x %d, 100 trees, psi 256 (median of %d):\n", n, D, REPS);
    printf("  streamguard 1 thread : %.4f s\n", median(t1, REPS));
    printf("  streamguard %d threads: %.4f s\n", cores, median(tn, REPS));
    if (base > 0)
        printf("  scikit-learn 1.2 (baseline, same data): %.4f s  -> %.1fx faster\n", base,
               base / median(tn, REPS));
    else
        printf("  scikit-learn baseline unavailable (python3-sklearn missing)\n");
    free(X);
    free(s);
    return 0;
}
