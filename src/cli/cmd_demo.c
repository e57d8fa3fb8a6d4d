/* cmd_demo.c: `streamguard demo` - the whole Lambda loop on one machine. The development
 * broker runs in this process; every layer runs as a child process of this same binary with
 * exactly the command line a user would type (so the demo exercises the real commands):
 *   history -> broker -> stream (RocksDB) ; batch over the topic -> model -> stream reloads it ;
 *   live traffic -> broker -> stream ; serve (API + dashboard) over the store and batch output.
 * Children's logs go to DIR/logs/. It is not a supervisor for production use. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "cli/cli.h"
#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_httpc.h"
#include "core/sg_time.h"
#include "kafka/sg_broker.h"

extern char **environ;

struct demo_opts {
    const char *dir, *listen, *metrics_listen, *config;
    long users, days, events, partitions, live_rate, seed, duration;
    double attack_users;
};

struct child {
    const char *name;
    pid_t pid;
};

static void help(void)
{
    printf("usage: streamguard demo [options]\n\n"
           "Runs the whole pipeline on this machine: an in-memory Kafka broker, a few days of\n"
           "generated traffic with attacks, the speed layer, the batch layer over the topic, the\n"
           "batch model loaded back into the speed layer, live traffic, and the API + dashboard.\n"
           "Runs until Ctrl-C (or --duration). Data and logs go to --dir.\n\n"
           "  -d, --dir DIR            working directory (default data/demo); its previous demo\n"
           "                           data is replaced, a demo still running there is refused\n"
           "  -u, --users N            simulated users (default 2000)\n"
           "      --days N             days of history (default 3)\n"
           "  -n, --events N           history events (default 300000)\n"
           "  -a, --attack-users F     fraction of users attacked (default 0.03)\n"
           "  -s, --seed S             random seed (default 42)\n"
           "      --partitions N       partitions per topic (default 32)\n"
           "      --live-rate R        live events per second after the history (default: the\n"
           "                           history's own rate, events / (days x 86400), at least 1)\n"
           "  -l, --listen ADDR        API and dashboard address (default 127.0.0.1:8080)\n"
           "      --metrics-listen A   speed layer /metrics address (default 127.0.0.1:9108)\n"
           "  -t, --duration S         stop by itself after S seconds of live traffic (0 = run\n"
           "                           until Ctrl-C)\n"
           "  -c, --config FILE        configuration file passed to every layer\n"
           "  -h, --help               this help\n\n"
           "exit codes: 0 ok, 1 a layer failed (see DIR/logs/), 2 usage, 3 port or directory\n"
           "in use\n");
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_opts(int argc, char **argv, struct demo_opts *o)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},      {"users", required_argument, NULL, 'u'},
        {"days", required_argument, NULL, 'D'},     {"events", required_argument, NULL, 'n'},
        {"attack-users", required_argument, NULL, 'a'}, {"seed", required_argument, NULL, 's'},
        {"partitions", required_argument, NULL, 'P'}, {"live-rate", required_argument, NULL, 'r'},
        {"listen", required_argument, NULL, 'l'},   {"metrics-listen", required_argument, NULL, 'm'},
        {"duration", required_argument, NULL, 't'}, {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    *o = (struct demo_opts){.dir = "data/demo", .listen = "127.0.0.1:8080",
                            .metrics_listen = "127.0.0.1:9108", .users = 2000, .days = 3,
                            .events = 300000, .partitions = 32, .live_rate = -1, .seed = 42,
                            .attack_users = 0.03};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:u:n:a:s:l:t:c:h", opts, NULL)) != -1) {
        int bad = 0;
        char *end;
        switch (c) {
        case 'd': o->dir = optarg; break;
        case 'u': bad = parse_long(optarg, 1, 10000000, &o->users); break;
        case 'D': bad = parse_long(optarg, 1, 365, &o->days); break;
        case 'n': bad = parse_long(optarg, 1, 1000000000, &o->events); break;
        case 's': bad = parse_long(optarg, 0, 0x7fffffffL, &o->seed); break;
        case 'P': bad = parse_long(optarg, 1, 1000, &o->partitions); break;
        case 'r': bad = parse_long(optarg, 0, 1000000, &o->live_rate); break;
        case 't': bad = parse_long(optarg, 0, 100000000, &o->duration); break;
        case 'a':
            o->attack_users = strtod(optarg, &end);
            bad = *end || end == optarg || !(o->attack_users >= 0 && o->attack_users <= 1);
            break;
        case 'l': o->listen = optarg; break;
        case 'm': o->metrics_listen = optarg; break;
        case 'c': o->config = optarg; break;
        case 'h': help(); return -1;
        case ':': return cli_usage_error("demo", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("demo", "unknown option '%s'", argv[optind - 1]);
        }
        if (bad) {
            const char *name = "?";
            for (const struct option *op = opts; op->name; op++)
                if (op->val == c)
                    name = op->name;
            return cli_usage_error("demo", "bad value '%s' for --%s", optarg, name);
        }
    }
    if (optind < argc)
        return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
    return EXIT_OK;
}

/* Takes DIR/demo.lock; returns the fd (kept open for the demo's lifetime) or -1. */
static int lock_dir(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/demo.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "streamguard demo: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "?";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        if (n > 0)
            pid[n] = '\0';
        fprintf(stderr, "streamguard demo: another demo (pid %s) is running in %s; stop it or "
                        "use --dir\n", pid, dir);
        close(fd);
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d", (int)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        fprintf(stderr, "streamguard demo: cannot write %s\n", path);
        close(fd);
        return -1;
    }
    return fd;
}

static int mkdir_p(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* The previous demo's store and batch output belonged to a broker that no longer exists
 * (it is memory-only): their stored offsets would point into nothing. Start clean. */
static int reset_data(const char *dir)
{
    static const char *const olds[] = {"stream.db", "batch", "truth.jsonl", "logs"};
    for (size_t i = 0; i < sizeof olds / sizeof olds[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, olds[i]);
        if (access(path, F_OK) != 0)
            continue;
        pid_t pid = fork();
        if (pid == 0) {
            execlp("rm", "rm", "-rf", "--", path, (char *)NULL);
            _exit(127);
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
            fprintf(stderr, "streamguard demo: cannot remove old %s\n", path);
            return -1;
        }
    }
    char logs[4096];
    snprintf(logs, sizeof logs, "%s/logs", dir);
    return mkdir_p(logs);
}

/* Starts `self argv...` with stdout+stderr to DIR/logs/<name>.log. */
static int spawn(struct child *c, const char *self, const char *dir, const char *name,
                 char *const argv[])
{
    char log[4096];
    snprintf(log, sizeof log, "%s/logs/%s.log", dir, name);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    c->name = name;
    int rc = posix_spawn(&c->pid, self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "streamguard demo: cannot start %s: %s\n", name, strerror(rc));
        c->pid = 0;
        return -1;
    }
    return 0;
}

/* Exit code of a finished child, or -1 while it runs. */
static int reap(struct child *c)
{
    int st;
    if (c->pid <= 0)
        return -2;
    pid_t r = waitpid(c->pid, &st, WNOHANG);
    if (r != c->pid)
        return -1;
    c->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void stop_child(struct child *c)
{
    if (c->pid <= 0)
        return;
    kill(c->pid, SIGTERM);
    for (int i = 0; i < 100 && reap(c) == -1; i++)
        usleep(100 * 1000);
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        c->pid = 0;
    }
}

/* Sum of the given counters on the stream's /metrics; -1 when it can't be read. */
static double scrape(const char *addr, const char *const *series, size_t n)
{
    struct sg_buf body;
    sg_buf_init(&body);
    int status = 0;
    double sum = -1;
    if (sg_httpc_get(addr, "/metrics", 2000, 16 << 20, &status, &body) == SG_OK &&
        status == 200) {
        sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += sg_httpc_prom_sum(body.data ? body.data : "", series[i]);
    }
    sg_buf_release(&body);
    return sum;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

struct demo {
    struct demo_opts o;
    char self[4096];
    struct sg_broker *broker;
    const char *bootstrap;
    struct child stream, serve, live, job;
    volatile int *stop;
    char db[4096], batch[4096], model[4096], truth[4096];
};

/* Waits for a one-shot child (generate, batch) while watching the long-running ones. */
static int wait_job(struct demo *d, struct child *c)
{
    for (;;) {
        int rc = reap(c);
        if (rc >= 0)
            return rc;
        if (*d->stop) {
            stop_child(c);
            return -1;
        }
        if (reap(&d->stream) >= 0 || reap(&d->serve) >= 0) {
            fprintf(stderr, "streamguard demo: a layer exited early; see %s/logs/\n", d->o.dir);
            stop_child(c);
            return -1;
        }
        sleep_ms(100);
    }
}

/* Waits until the stream has taken `target` messages (stored, duplicate or dead-lettered). */
static int wait_ingested(struct demo *d, double target)
{
    static const char *const series[] = {"streamguard_stream_events_total",
                                         "streamguard_stream_invalid_total",
                                         "streamguard_stream_duplicates_total"};
    int64_t t0 = sg_time_mono_ms(), last_print = 0;
    double last = -1;
    int64_t last_change = t0;
    while (!*d->stop) {
        double got = scrape(d->o.metrics_listen, series, 3);
        int64_t now = sg_time_mono_ms();
        if (got != last) {
            last = got;
            last_change = now;
        }
        if (now - last_print >= 1000) {
            fprintf(stderr, "demo: speed layer ingested %.0f / %.0f events\n", got < 0 ? 0 : got,
                    target);
            last_print = now;
        }
        if (got >= target)
            return 0;
        if (reap(&d->stream) >= 0) {
            fprintf(stderr, "streamguard demo: the speed layer exited; see %s/logs/stream.log\n",
                    d->o.dir);
            return -1;
        }
        if (now - last_change > 60000) {
            fprintf(stderr, "streamguard demo: the speed layer made no progress for 60 s; see "
                            "%s/logs/stream.log\n", d->o.dir);
            return -1;
        }
        sleep_ms(200);
    }
    return -1;
}

/* Starts the speed layer; with_model: warm-started from the batch model (and reloading it
 * whenever a newer one is written). */
static int start_stream(struct demo *d, int with_model)
{
    /* A short session timeout: the development broker only notices that a restarted
     * stream's previous consumer left when its session expires (librdkafka's default: 45 s). */
    char *argv[16] = {"streamguard", "stream", "--brokers", (char *)d->bootstrap, "--db", d->db,
                      "--metrics-listen", (char *)d->o.metrics_listen,
                      "--set", "kafka.session.timeout.ms=6000"};
    int n = 10;
    if (with_model) {
        argv[n++] = "--model";
        argv[n++] = d->model;
    }
    if (d->o.config) {
        argv[n++] = "--config";
        argv[n++] = (char *)d->o.config;
    }
    argv[n] = NULL;
    return spawn(&d->stream, d->self, d->o.dir, "stream", argv);
}

static int start_long_running(struct demo *d)
{
    char *serve_argv[] = {"streamguard", "serve", "--db", d->db, "--batch-dir", d->batch,
                          "--listen", (char *)d->o.listen, NULL, NULL, NULL};
    if (d->o.config) {
        serve_argv[8] = "--config";
        serve_argv[9] = (char *)d->o.config;
    }
    if (start_stream(d, 0) != 0)
        return -1;
    /* serve follows the store the stream creates: give the stream a moment to create it */
    for (int i = 0; i < 100 && access(d->db, F_OK) != 0; i++)
        sleep_ms(100);
    return spawn(&d->serve, d->self, d->o.dir, "serve", serve_argv);
}

/* The speed layer takes the first model at a restart (its state and offsets are in RocksDB,
 * so a restart loses and repeats nothing); later models it reloads by itself. */
static int restart_stream_with_model(struct demo *d)
{
    fprintf(stderr, "demo: restarting the speed layer with the batch model (%s)\n", d->model);
    stop_child(&d->stream);
    return start_stream(d, 1);
}

static int run_history(struct demo *d)
{
    char events[32], users[32], days[32], seed[32], attack[32], start[40];
    snprintf(events, sizeof events, "%ld", d->o.events);
    snprintf(users, sizeof users, "%ld", d->o.users);
    snprintf(days, sizeof days, "%ld", d->o.days);
    snprintf(seed, sizeof seed, "%ld", d->o.seed);
    snprintf(attack, sizeof attack, "%g", d->o.attack_users);
    int64_t start_ms = (sg_time_now_ms() / 86400000 - d->o.days) * 86400000;
    sg_time_format_rfc3339(start_ms, start, sizeof start);
    char *argv[] = {"streamguard", "generate", "--brokers", (char *)d->bootstrap, "--events",
                    events, "--users", users, "--days", days, "--seed", seed, "--attack-users",
                    attack, "--start", start, "--truth", d->truth, "--quiet", NULL};
    fprintf(stderr, "demo: generating %ld events of %ld days for %ld users (%.0f%% attacked)\n",
            d->o.events, d->o.days, d->o.users, d->o.attack_users * 100);
    if (spawn(&d->job, d->self, d->o.dir, "generate", argv) != 0)
        return -1;
    int rc = wait_job(d, &d->job);
    if (rc != 0) {
        fprintf(stderr, "streamguard demo: generate failed (%d); see %s/logs/generate.log\n", rc,
                d->o.dir);
        return -1;
    }
    return wait_ingested(d, (double)d->o.events);
}

static int run_batch(struct demo *d)
{
    char *argv[] = {"streamguard", "batch", "--brokers", (char *)d->bootstrap, "--output",
                    d->batch, "--quiet", NULL, NULL, NULL};
    if (d->o.config) {
        argv[7] = "--config";
        argv[8] = (char *)d->o.config;
    }
    fprintf(stderr, "demo: batch layer learning every user's behaviour from the topic\n");
    if (spawn(&d->job, d->self, d->o.dir, "batch", argv) != 0)
        return -1;
    int rc = wait_job(d, &d->job);
    if (rc != 0) {
        fprintf(stderr, "streamguard demo: batch failed (%d); see %s/logs/batch.log\n", rc,
                d->o.dir);
        return -1;
    }
    return 0;
}

/* Live traffic has the history's density per user: as many events per simulated day as the
 * history had (--events over --days 30 below). With the default rate (the history's own,
 * ~1.2 events/s for 300,000 events in 3 days) simulated time also keeps pace with the clock.
 * Until 2026-11-26 the live generator spread 10^9 events over 30 days - each user 330 times
 * as busy as in the history - and the speed layer rightly flagged most live events as rate
 * spikes. A faster --live-rate runs simulated time ahead of the clock instead. */
static int start_live(struct demo *d)
{
    long r = d->o.live_rate;
    if (r < 0) {
        r = lround((double)d->o.events / ((double)d->o.days * 86400.0));
        if (r < 1)
            r = 1;
    }
    if (r == 0)
        return 0;
    double per_day = (double)d->o.events / (double)d->o.days;
    long live_events = lround(per_day * 30.0);
    if (live_events < 1)
        live_events = 1;
    if (live_events > 1000000000L)
        live_events = 1000000000L;
    char rate[32], users[32], seed[32], attack[32], nev[32];
    snprintf(rate, sizeof rate, "%ld", r);
    snprintf(nev, sizeof nev, "%ld", live_events);
    snprintf(users, sizeof users, "%ld", d->o.users);
    /* same seed: the same simulated people; a fresh id salt so no event id repeats history */
    snprintf(seed, sizeof seed, "%ld", d->o.seed);
    snprintf(attack, sizeof attack, "%g", d->o.attack_users);
    char *argv[] = {"streamguard", "generate", "--brokers", (char *)d->bootstrap, "--rate", rate,
                    "--events", nev, "--users", users, "--seed", seed, "--id-salt",
                    "live", "--attack-users", attack, "--start", "now", "--days", "30",
                    "--quiet", NULL};
    return spawn(&d->live, d->self, d->o.dir, "live", argv);
}

static cJSON *fetch_json(const char *addr, const char *path)
{
    struct sg_buf body;
    sg_buf_init(&body);
    int status = 0;
    cJSON *j = NULL;
    if (sg_httpc_get(addr, path, 3000, 4 << 20, &status, &body) == SG_OK && status == 200 &&
        body.data)
        j = cJSON_ParseWithLength(body.data, body.len);
    sg_buf_release(&body);
    return j;
}

static cJSON *read_json_file(const char *path)
{
    struct sg_buf b;
    sg_buf_init(&b);
    cJSON *j = NULL;
    if (sg_buf_read_file(&b, path, 64 << 20) == SG_OK && b.data)
        j = cJSON_ParseWithLength(b.data, b.len);
    sg_buf_release(&b);
    return j;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Speed layer: totals and anomalies by severity, from the running API. */
static void summary_speed(struct demo *d)
{
    /* serve follows the store a moment behind the writer: wait (briefly) until it has
     * caught up with the history, so the numbers below are complete */
    cJSON *st = NULL;
    for (int i = 0; i < 50; i++) {
        cJSON_Delete(st);
        st = fetch_json(d->o.listen, "/api/stats");
        if (st && num(st, "events_total") + num(st, "invalid_total") >= (double)d->o.events)
            break;
        sleep_ms(200);
    }
    if (!st) {
        printf("  speed layer:     (the API did not answer; see %s/logs/serve.log)\n", d->o.dir);
        return;
    }
    const cJSON *sev = cJSON_GetObjectItemCaseSensitive(st, "anomalies_by_severity");
    printf("  speed layer:     %.0f events stored, %.0f invalid (dead-lettered), %.0f duplicates\n",
           num(st, "events_total"), num(st, "invalid_total"), num(st, "duplicates_total"));
    printf("                   %.0f anomalies: %.0f critical, %.0f high, %.0f medium, %.0f low\n",
           num(st, "anomalies_total"), num(sev, "critical"), num(sev, "high"), num(sev, "medium"),
           num(sev, "low"));
    const cJSON *top = cJSON_GetObjectItemCaseSensitive(st, "top_users");
    const cJSON *u;
    int i = 0;
    cJSON_ArrayForEach(u, top)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(u, "user");
        if (i++ == 5 || !cJSON_IsString(name))
            break;
        printf("%s%s (%.0f)", i == 1 ? "                   most anomalies: " : ", ",
               name->valuestring, num(u, "anomalies"));
    }
    if (i)
        printf("\n");
    cJSON_Delete(st);
}

/* Batch layer: anomalous users and the top of the ranking, from the report. */
static void summary_batch(struct demo *d)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/anomaly_report.json", d->batch);
    cJSON *r = read_json_file(path);
    if (!r) {
        printf("  batch layer:     (no report at %s)\n", path);
        return;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "totals");
    printf("  batch layer:     %.0f users, %.0f flagged anomalous; top users by anomaly score:\n",
           num(t, "users"), num(t, "anomalous_users"));
    const cJSON *a;
    int i = 0;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(r, "top_anomalies"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(a, "user");
        const cJSON *feats = cJSON_GetObjectItemCaseSensitive(a, "top_features");
        const cJSON *f0 = cJSON_GetArrayItem(feats, 0);
        const cJSON *fname = f0 ? cJSON_GetObjectItemCaseSensitive(f0, "name") : NULL;
        if (i++ == 5 || !cJSON_IsString(name))
            break;
        printf("                   %-22s score %.3f  %5.0f events  driven by %s\n",
               name->valuestring, num(a, "anomaly_score"), num(a, "events"),
               cJSON_IsString(fname) ? fname->valuestring : "?");
    }
    cJSON_Delete(r);
}

/* The short summary: numbers straight from the running API and the batch report. */
static void summary(struct demo *d)
{
    printf("\nStreamGuard demo is running.\n");
    summary_speed(d);
    summary_batch(d);
    printf("  dashboard:       http://%s/\n", d->o.listen);
    printf("  API:             http://%s/api/anomalies?severity=critical&limit=10\n", d->o.listen);
    printf("  metrics:         http://%s/metrics (speed layer), http://%s/metrics (serve)\n",
           d->o.metrics_listen, d->o.listen);
    printf("  Parquet dataset: %s/is_anomaly=*/*.parquet\n", d->batch);
    printf("  batch report:    %s/anomaly_report.md\n", d->batch);
    printf("  ground truth:    %s\n", d->truth);
    printf("  Kafka bootstrap: %s\n", d->bootstrap);
    printf("  logs:            %s/logs/\n", d->o.dir);
    printf("%s\n", d->o.duration ? "Stops by itself (--duration)." : "Ctrl-C stops it.");
    fflush(stdout);
}

static int run(struct demo *d)
{
    if (start_long_running(d) != 0 || run_history(d) != 0 || run_batch(d) != 0 ||
        restart_stream_with_model(d) != 0)
        return EXIT_RUNTIME;
    if (start_live(d) != 0)
        return EXIT_RUNTIME;
    summary(d);
    int64_t until = d->o.duration ? sg_time_mono_ms() + d->o.duration * 1000 : INT64_MAX;
    int64_t next_status = sg_time_mono_ms() + 10000;
    static const char *const events[] = {"streamguard_stream_events_total"};
    static const char *const anomalies[] = {"streamguard_stream_anomalies_total"};
    while (!*d->stop && sg_time_mono_ms() < until) {
        if (sg_time_mono_ms() >= next_status) { /* a heartbeat line, so progress stays visible */
            fprintf(stderr, "demo: live - speed layer has taken %.0f events, raised %.0f "
                            "anomalies since its restart\n",
                    scrape(d->o.metrics_listen, events, 1),
                    scrape(d->o.metrics_listen, anomalies, 1));
            next_status += 30000;
        }
        struct child *cs[] = {&d->stream, &d->serve, &d->live};
        for (size_t i = 0; i < 3; i++) {
            if (cs[i]->pid > 0 && reap(cs[i]) >= 0) {
                fprintf(stderr, "streamguard demo: %s exited; see %s/logs/%s.log\n",
                        cs[i]->name, d->o.dir, cs[i]->name);
                return EXIT_RUNTIME;
            }
        }
        sleep_ms(200);
    }
    return EXIT_OK;
}

int cmd_demo(int argc, char **argv)
{
    struct demo d;
    memset(&d, 0, sizeof d);
    int rc = parse_opts(argc, argv, &d.o);
    if (rc == -1)
        return cli_finish(EXIT_OK);
    if (rc != EXIT_OK)
        return rc;
    ssize_t n = readlink("/proc/self/exe", d.self, sizeof d.self - 1);
    if (n <= 0) {
        fprintf(stderr, "streamguard demo: cannot find my own executable\n");
        return EXIT_RUNTIME;
    }
    d.self[n] = '\0';
    if (mkdir_p(d.o.dir) != 0) {
        fprintf(stderr, "streamguard demo: cannot create %s: %s\n", d.o.dir, strerror(errno));
        return EXIT_RUNTIME;
    }
    int lock = lock_dir(d.o.dir);
    if (lock < 0)
        return EXIT_UNAVAIL;
    rc = EXIT_RUNTIME;
    if (reset_data(d.o.dir) != 0)
        goto out;
    snprintf(d.db, sizeof d.db, "%s/stream.db", d.o.dir);
    snprintf(d.batch, sizeof d.batch, "%s/batch", d.o.dir);
    snprintf(d.model, sizeof d.model, "%s/batch/model", d.o.dir);
    snprintf(d.truth, sizeof d.truth, "%s/truth.jsonl", d.o.dir);
    d.stop = cli_stop_flag();
    char err[512];
    static const char *const topics[] = {"security-events", "security-anomalies",
                                         "security-events-dlq"};
    d.broker = sg_broker_new(2, (int)d.o.partitions, topics, 3, err, sizeof err);
    if (!d.broker) {
        fprintf(stderr, "streamguard demo: development broker: %s\n", err);
        rc = EXIT_UNAVAIL;
        goto out;
    }
    d.bootstrap = sg_broker_bootstraps(d.broker);
    fprintf(stderr, "demo: development broker at %s, data in %s\n", d.bootstrap, d.o.dir);
    rc = run(&d);
    fprintf(stderr, "demo: stopping\n");
out:
    stop_child(&d.job);
    stop_child(&d.live);
    stop_child(&d.serve);
    stop_child(&d.stream);
    sg_broker_free(d.broker);
    close(lock);
    return cli_finish(rc);
}
