/* cmd_generate.c: `streamguard generate` - synthetic security events (src/gen) to an NDJSON
 * file or stdout and/or a Kafka topic keyed by user, optionally paced, with the ground truth
 * written aside. Option parsing, output plumbing and reporting only; the model is in src/gen. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_hash.h"
#include "core/sg_time.h"
#include "gen/sg_gen.h"
#include "gen/sg_gen_run.h"
#include "kafka/sg_producer.h"

static void help(void)
{
    printf("usage: streamguard generate [options]\n\n"
           "Generates realistic security events (events-v1 JSON, one per line) from simulated\n"
           "users with stable habits, with attack scenarios injected into some of them.\n\n"
           "  -n, --events N         number of events (generate.events)\n"
           "  -u, --users U          number of users (generate.users)\n"
           "  -a, --attack-users F   fraction of users attacked, 0..1 (generate.attack_users)\n"
           "  -d, --days D           days of history (generate.days)\n"
           "      --start TIME       RFC 3339 start, or 'now' (generate.start)\n"
           "  -s, --seed S           random seed; same seed, same bytes (generate.seed)\n"
           "      --id-salt TEXT     vary event ids (and nothing else) for the same seed, e.g.\n"
           "                         to add live traffic of the same users to a history\n"
           "  -o, --out FILE|-       write NDJSON here (default: stdout unless --brokers)\n"
           "  -t, --truth FILE       write the ground truth (JSON Lines, one per attacked user)\n"
           "  -b, --brokers H:P      produce to Kafka (keyed by user, lz4 batches)\n"
           "      --topic T          Kafka topic (topics.events)\n"
           "  -r, --rate R           events per second, paced (generate.rate; 0 = max)\n"
           "  -c, --config FILE      configuration file (default conf/streamguard.yaml)\n"
           "  -q, --quiet            no progress line\n"
           "  -h, --help             this help\n\n"
           "exit codes: 0 ok, 1 write or delivery failure, 2 usage, 3 broker unreachable\n");
}

struct gen_args {
    const char *config, *out, *truth, *brokers, *topic, *id_salt;
    /* flags that stand for generate.* keys (NULL: not given) */
    const char *events, *users, *attack_users, *days, *start, *seed, *rate;
    int quiet;
};

struct out_state {
    int fd;           /* -1: no file output */
    const char *path; /* for messages */
    struct sg_producer *prod;
};

static int parse_args(int argc, char **argv, struct gen_args *a)
{
    static const struct option opts[] = {
        {"events", required_argument, NULL, 'n'},
        {"users", required_argument, NULL, 'u'},
        {"attack-users", required_argument, NULL, 'a'},
        {"days", required_argument, NULL, 'd'},
        {"start", required_argument, NULL, 'S'},
        {"seed", required_argument, NULL, 's'},
        {"id-salt", required_argument, NULL, 'I'},
        {"out", required_argument, NULL, 'o'},
        {"truth", required_argument, NULL, 't'},
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 'T'},
        {"rate", required_argument, NULL, 'r'},
        {"config", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:u:a:d:s:o:t:b:r:c:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'n': a->events = optarg; break;
        case 'u': a->users = optarg; break;
        case 'a': a->attack_users = optarg; break;
        case 'd': a->days = optarg; break;
        case 'S': a->start = optarg; break;
        case 's': a->seed = optarg; break;
        case 'r': a->rate = optarg; break;
        case 'o': a->out = optarg; break;
        case 'I': a->id_salt = optarg; break;
        case 't': a->truth = optarg; break;
        case 'b': a->brokers = optarg; break;
        case 'T': a->topic = optarg; break;
        case 'c': a->config = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'h': help(); return -1;
        case ':': return cli_usage_error("generate", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("generate", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("generate", "unexpected argument '%s'", argv[optind]);
    if (a->brokers && !a->brokers[0])
        return cli_usage_error("generate", "--brokers needs HOST:PORT");
    return EXIT_OK;
}

/* Config file, then flags (validated by the config table), then the generator options. */
static int build_opts(const struct gen_args *a, struct sg_config *cfg, struct sg_gen_opts *o)
{
    const struct cli_flag_key flags[] = {
        {"generate.events", a->events},
        {"generate.users", a->users},
        {"generate.attack_users", a->attack_users},
        {"generate.days", a->days},
        {"generate.start", a->start},
        {"generate.seed", a->seed},
        {"generate.rate", a->rate},
    };
    int rc = cli_configure(cfg, a->config, NULL, flags, sizeof flags / sizeof flags[0]);
    if (rc != EXIT_OK)
        return rc;
    const char *start = cfg->generate.start;
    if (!strcmp(start, "now")) {
        o->start_ms = sg_time_now_ms() / 1000 * 1000;
    } else if (sg_time_parse_rfc3339(start, strlen(start), &o->start_ms) != SG_OK) {
        return cli_usage_error("generate", "--start '%s' is not an RFC 3339 time or 'now'", start);
    }
    o->seed = (uint64_t)cfg->generate.seed;
    if (a->id_salt)
        o->id_salt = sg_hash_bytes(a->id_salt, strlen(a->id_salt), 0) | 1; /* never 0 */
    o->events = cfg->generate.events;
    o->users = cfg->generate.users;
    o->attack_users = cfg->generate.attack_users;
    o->days = cfg->generate.days;
    return EXIT_OK;
}

static int write_truth(const char *path, const struct sg_gen *g)
{
    struct sg_buf b;
    sg_buf_init(&b);
    sg_gen_truth(g, &b);
    int rc = EXIT_OK;
    FILE *f = fopen(path, "w");
    if (!f || (b.len && fwrite(b.data, 1, b.len, f) != b.len) || fclose(f) != 0) {
        fprintf(stderr, "streamguard generate: writing %s: %s\n", path, strerror(errno));
        if (f && ferror(f))
            fclose(f);
        rc = EXIT_RUNTIME;
    }
    sg_buf_release(&b);
    return rc;
}

struct progress_state {
    int64_t total, t0_ns;
    int printed;
};

static void progress(int64_t done, void *arg)
{
    struct progress_state *ps = arg;
    double secs = (double)(sg_time_mono_ns() - ps->t0_ns) / 1e9;
    fprintf(stderr, "%sgenerate: %lld/%lld events (%.0f%%), %.0f events/s%s", isatty(2) ? "\r" : "",
            (long long)done, (long long)ps->total,
            ps->total ? 100.0 * (double)done / (double)ps->total : 100.0,
            secs > 0 ? (double)done / secs : 0, isatty(2) ? "" : "\n");
    ps->printed = 1;
}

/* The generation loop (sg_gen_run) plus reporting; returns an exit code. */
static int run(struct sg_gen *g, struct out_state *s, const struct sg_gen_opts *o, int64_t rate,
               int quiet)
{
    struct progress_state ps = {o->events, sg_time_mono_ns(), 0};
    struct sg_gen_run_opts ro = {s->fd, s->prod, rate, cli_stop_flag(), quiet ? NULL : progress,
                                 &ps};
    int64_t n = 0;
    int rc = sg_gen_run(g, &ro, &n);
    if (ps.printed && isatty(2))
        fputc('\n', stderr);
    if (rc == SG_ERR_INTERRUPTED) {
        fprintf(stderr, "streamguard generate: interrupted after %lld events\n", (long long)n);
        return EXIT_OK;
    }
    if (rc == SG_ERR_IO || rc == SG_ERR_NOSPACE || (rc != SG_OK && !s->prod)) {
        fprintf(stderr, "streamguard generate: writing %s: %s\n", s->path, strerror(errno));
        return EXIT_RUNTIME;
    }
    return rc == SG_OK ? EXIT_OK : EXIT_RUNTIME; /* producer errors: reported with the stats */
}

static int open_kafka(const struct gen_args *a, const struct sg_config *cfg, struct out_state *s)
{
    char err[512];
    const char *topic = a->topic ? a->topic : cfg->topics.events;
    s->prod = sg_producer_new(cfg, a->brokers, topic, err, sizeof err);
    if (!s->prod) {
        fprintf(stderr, "streamguard generate: %s\n", err);
        return EXIT_USAGE;
    }
    int rc = sg_producer_check(s->prod, 5000, err, sizeof err);
    if (rc == SG_OK)
        return EXIT_OK;
    fprintf(stderr, "streamguard generate: %s (brokers %s)\n", err, a->brokers);
    return rc == SG_ERR_UNAVAILABLE ? EXIT_UNAVAIL : EXIT_RUNTIME;
}

static int finish_kafka(struct out_state *s, int64_t t0_ns, int quiet)
{
    sg_producer_flush(s->prod, 60000);
    struct sg_producer_stats st;
    sg_producer_stats(s->prod, &st);
    double secs = (double)(sg_time_mono_ns() - t0_ns) / 1e9;
    if (!quiet || st.failed)
        fprintf(stderr, "generate: %llu events delivered in %.2f s (%.0f events/s), %llu failed\n",
                (unsigned long long)st.delivered, secs, secs > 0 ? (double)st.delivered / secs : 0,
                (unsigned long long)st.failed);
    if (st.failed || st.delivered != st.sent) {
        fprintf(stderr, "streamguard generate: %llu of %llu messages were not delivered: %s\n",
                (unsigned long long)(st.sent - st.delivered), (unsigned long long)st.sent,
                st.first_error[0] ? st.first_error : "unknown error");
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

int cmd_generate(int argc, char **argv)
{
    struct gen_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc == -1)
        return cli_finish(EXIT_OK);
    if (rc != EXIT_OK)
        return rc;
    struct sg_config cfg;
    sg_config_init(&cfg);
    struct sg_gen_opts o = {0};
    struct sg_gen *g = NULL;
    struct out_state s = {.fd = -1};
    if ((rc = build_opts(&a, &cfg, &o)) != EXIT_OK)
        goto out;
    char err[512];
    if (!(g = sg_gen_new(&o, err, sizeof err))) {
        rc = cli_usage_error("generate", "%s", err);
        goto out;
    }
    if (a.brokers && (rc = open_kafka(&a, &cfg, &s)) != EXIT_OK)
        goto out;
    if (a.out || !a.brokers) {
        s.path = a.out && strcmp(a.out, "-") ? a.out : "standard output";
        s.fd = a.out && strcmp(a.out, "-")
                   ? open(a.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                   : 1;
        if (s.fd < 0) {
            fprintf(stderr, "streamguard generate: cannot open %s: %s\n", a.out, strerror(errno));
            rc = EXIT_RUNTIME;
            goto out;
        }
    }
    int64_t t0 = sg_time_mono_ns();
    rc = run(g, &s, &o, cfg.generate.rate, a.quiet);
    if (s.prod) {
        int krc = finish_kafka(&s, t0, a.quiet);
        rc = rc != EXIT_OK ? rc : krc;
    }
    if (a.truth) {
        int trc = write_truth(a.truth, g);
        rc = rc != EXIT_OK ? rc : trc;
    }
    if (s.fd > 2 && close(s.fd) != 0 && rc == EXIT_OK) {
        fprintf(stderr, "streamguard generate: closing %s: %s\n", s.path, strerror(errno));
        rc = EXIT_RUNTIME;
    }
out:
    sg_producer_free(s.prod);
    sg_gen_free(g);
    sg_config_release(&cfg);
    return cli_finish(rc);
}
