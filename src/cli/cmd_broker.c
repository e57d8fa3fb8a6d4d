/* cmd_broker.c: `streamguard broker` - runs the in-memory development Kafka (src/kafka/
 * sg_broker) until SIGINT/SIGTERM, printing its bootstrap address and optionally writing it
 * to a file for scripts. Memory only; see docs/BROKER.md for its limits. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "kafka/sg_broker.h"

#define MAX_TOPICS 32

static void help(void)
{
    printf(
        "usage: streamguard broker [options]\n\n"
        "Runs an in-memory Kafka cluster (librdkafka mock) on 127.0.0.1 for development and\n"
        "tests. Prints the bootstrap address, then runs until SIGINT/SIGTERM. Memory only:\n"
        "each partition keeps about the last 5 MiB of compressed batches (docs/BROKER.md).\n\n"
        "  -p, --partitions N       partitions per topic (broker.partitions, default 16)\n"
        "  -b, --brokers N          brokers in the cluster (broker.brokers, default 2)\n"
        "  -t, --topics a,b         topics to create (default: topics.events, .anomalies, .dlq,\n"
        "                           .changelog)\n"
        "  -f, --bootstrap-file F   also write the bootstrap address to F (removed at exit)\n"
        "  -c, --config FILE        configuration file (default conf/streamguard.yaml)\n"
        "  -h, --help               this help\n");
}

/* Writes `text` to path atomically (temp file + rename) so a polling script never reads half. */
static int write_file(const char *path, const char *text)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int bad = fprintf(f, "%s\n", text) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Splits "a,b,c" in place into topics (pointers into `buf`); empty names are an error.
 * Returns the count or -1. */
static int split_topics(char *buf, const char **topics)
{
    int n = 0;
    for (char *t = buf;;) {
        char *comma = strchr(t, ',');
        if (comma)
            *comma = '\0';
        if (!*t || n == MAX_TOPICS)
            return -1;
        topics[n++] = t;
        if (!comma)
            return n;
        t = comma + 1;
    }
}

struct broker_args {
    const char *config, *file;
    char *topics;
    const char *partitions, *brokers;
};

static int parse_args(int argc, char **argv, struct broker_args *a)
{
    static const struct option opts[] = {
        {"partitions", required_argument, NULL, 'p'},
        {"brokers", required_argument, NULL, 'b'},
        {"topics", required_argument, NULL, 't'},
        {"bootstrap-file", required_argument, NULL, 'f'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:b:t:f:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': a->partitions = optarg; break;
        case 'b': a->brokers = optarg; break;
        case 't': a->topics = optarg; break;
        case 'f': a->file = optarg; break;
        case 'c': a->config = optarg; break;
        case 'h': help(); return -1;
        case ':': return cli_usage_error("broker", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("broker", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("broker", "unexpected argument '%s'", argv[optind]);
    return EXIT_OK;
}

int cmd_broker(int argc, char **argv)
{
    struct broker_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc == -1)
        return cli_finish(EXIT_OK);
    if (rc != EXIT_OK)
        return rc;
    struct sg_config cfg;
    sg_config_init(&cfg);
    struct sg_broker *b = NULL;
    char *topic_buf = NULL;
    const struct cli_flag_key flags[] = {
        {"broker.partitions", a.partitions},
        {"broker.brokers", a.brokers},
    };
    rc = cli_configure(&cfg, a.config, NULL, flags, sizeof flags / sizeof flags[0]);
    if (rc != EXIT_OK)
        goto out;
    const char *topics[MAX_TOPICS];
    int ntopics;
    if (a.topics) {
        topic_buf = sg_xstrdup(a.topics);
        ntopics = split_topics(topic_buf, topics);
        if (ntopics <= 0) {
            rc =
                cli_usage_error("broker", "--topics needs 1..%d comma-separated names", MAX_TOPICS);
            goto out;
        }
    } else {
        topics[0] = cfg.topics.events;
        topics[1] = cfg.topics.anomalies;
        topics[2] = cfg.topics.dlq;
        topics[3] = cfg.topics.changelog;
        ntopics = 4;
    }
    char err[512];
    b = sg_broker_new((int)cfg.broker.brokers, (int)cfg.broker.partitions, topics, (size_t)ntopics,
                      err, sizeof err);
    if (!b) {
        fprintf(stderr, "streamguard broker: %s\n", err);
        rc = EXIT_UNAVAIL;
        goto out;
    }
    volatile int *stop = cli_stop_flag();
    const char *boot = sg_broker_bootstraps(b);
    if (a.file && write_file(a.file, boot) != 0) {
        fprintf(stderr, "streamguard broker: cannot write %s: %s\n", a.file, strerror(errno));
        rc = EXIT_RUNTIME;
        goto out;
    }
    printf("%s\n", boot);
    fflush(stdout);
    fprintf(stderr,
            "broker: %lld broker(s) at %s, %d topic(s) x %lld partitions, memory only; "
            "stop with Ctrl-C\n",
            (long long)cfg.broker.brokers, boot, ntopics, (long long)cfg.broker.partitions);
    while (!*stop) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "broker: stopping\n");
    if (a.file)
        unlink(a.file);
out:
    sg_broker_free(b);
    free(topic_buf);
    sg_config_release(&cfg);
    return cli_finish(rc);
}
