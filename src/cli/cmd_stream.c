/* cmd_stream.c: `streamguard stream` - the speed layer: consume security events from Kafka
 * (or replay NDJSON with --input), detect anomalies per user, store everything in RocksDB with
 * exactly-once effects, publish anomalies, serve /metrics and /health. Also `--dump-store`
 * (canonical store content, for comparisons). The work is in src/speed; this file is options. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_metrics.h"
#include "core/sg_metrics_http.h"
#include "kafka/sg_kafka_health.h"
#include "core/sg_time.h"
#include "speed/sg_consumer.h"
#include "speed/sg_modelwatch.h"
#include "speed/sg_replay.h"
#include "storage/sg_store.h"

static void help(void)
{
    printf("usage: streamguard stream [options]\n\n"
           "Consumes security events, detects anomalies per user and stores events, anomalies,\n"
           "user profiles and consumed offsets in RocksDB, one atomic write per batch.\n\n"
           "  -b, --brokers LIST      Kafka bootstrap servers (default: kafka.bootstrap.servers)\n"
           "  -t, --topic NAME        input topic (default: topics.events)\n"
           "  -g, --group NAME        consumer group (default: stream.group)\n"
           "  -i, --input FILE|-      replay NDJSON instead of consuming Kafka (same pipeline);\n"
           "                          FILE.gz and FILE.zst are decompressed\n"
           "  -d, --db DIR            RocksDB directory (default: stream.db)\n"
           "      --retention DUR     keep events/anomalies this long, e.g. 7d (stream.retention)\n"
           "      --batch-size N      messages per batch / store write (stream.batch_size)\n"
           "      --metrics-listen A  /metrics and /health address, 'off' to disable\n"
           "                          (default: stream.metrics_listen, 127.0.0.1:9108)\n"
           "      --no-alerts         do not publish anomalies to topics.anomalies\n"
           "      --changelog         publish profile snapshots to topics.changelog and restore\n"
           "                          newly assigned partitions from it (stream.changelog)\n"
           "      --alerts-file FILE  with --input: write anomalies as NDJSON to FILE\n"
           "      --dlq FILE          with --input: write dead letters as NDJSON to FILE\n"
           "      --max-users N       user profiles cached in memory (default 100000)\n"
           "      --model DIR         batch model (model.json + baselines.ndjson): new users are\n"
           "                          warm-started from their baselines; reloaded on change\n"
           "      --idle-exit DUR     stop after DUR without messages (Kafka; tests, benchmarks)\n"
           "      --sync              fsync every batch (survives power loss, slower)\n"
           "      --dump-store        print the store's canonical content and exit\n"
           "  -c, --config FILE       configuration file (default conf/streamguard.yaml)\n"
           "      --set KEY=VALUE     override a configuration key (repeatable)\n"
           "  -h, --help              this help\n\n"
           "SIGINT/SIGTERM/SIGHUP finish the current batch, write it, commit and exit 0.\n"
           "Prints a JSON summary line on stdout at the end.\n");
}

struct args {
    const char *config, *brokers, *topic, *group, *input, *db, *listen, *alerts_file, *dlq_file;
    const char *retention, *batch_size, *max_users, *idle_exit, *model;
    int no_alerts, sync, dump, changelog;
    struct cli_sets sets;
};

enum { O_RETENTION = 256, O_BATCH, O_LISTEN, O_NOALERTS, O_ALERTSFILE, O_DLQ, O_MAXUSERS,
       O_IDLE, O_SYNC, O_DUMP, O_SET, O_MODEL, O_CHANGELOG };

static int parse(int argc, char **argv, struct args *a)
{
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'}, {"topic", required_argument, NULL, 't'},
        {"group", required_argument, NULL, 'g'},   {"input", required_argument, NULL, 'i'},
        {"db", required_argument, NULL, 'd'},      {"config", required_argument, NULL, 'c'},
        {"retention", required_argument, NULL, O_RETENTION},
        {"batch-size", required_argument, NULL, O_BATCH},
        {"metrics-listen", required_argument, NULL, O_LISTEN},
        {"no-alerts", no_argument, NULL, O_NOALERTS},
        {"alerts-file", required_argument, NULL, O_ALERTSFILE},
        {"dlq", required_argument, NULL, O_DLQ},
        {"max-users", required_argument, NULL, O_MAXUSERS},
        {"idle-exit", required_argument, NULL, O_IDLE},
        {"sync", no_argument, NULL, O_SYNC},
        {"dump-store", no_argument, NULL, O_DUMP},
        {"set", required_argument, NULL, O_SET},
        {"model", required_argument, NULL, O_MODEL},
        {"changelog", no_argument, NULL, O_CHANGELOG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:t:g:i:d:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'b': a->brokers = optarg; break;
        case 't': a->topic = optarg; break;
        case 'g': a->group = optarg; break;
        case 'i': a->input = optarg; break;
        case 'd': a->db = optarg; break;
        case 'c': a->config = optarg; break;
        case O_RETENTION: a->retention = optarg; break;
        case O_BATCH: a->batch_size = optarg; break;
        case O_LISTEN: a->listen = optarg; break;
        case O_NOALERTS: a->no_alerts = 1; break;
        case O_ALERTSFILE: a->alerts_file = optarg; break;
        case O_DLQ: a->dlq_file = optarg; break;
        case O_MAXUSERS: a->max_users = optarg; break;
        case O_IDLE: a->idle_exit = optarg; break;
        case O_SYNC: a->sync = 1; break;
        case O_DUMP: a->dump = 1; break;
        case O_MODEL: a->model = optarg; break;
        case O_CHANGELOG: a->changelog = 1; break;
        case O_SET:
            if (cli_sets_add(&a->sets, "stream", optarg) != EXIT_OK)
                return EXIT_USAGE;
            break;
        case 'h': help(); return -1;
        case ':': return cli_usage_error("stream", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("stream", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("stream", "unexpected argument '%s'", argv[optind]);
    return EXIT_OK;
}

/* Applies the file, --set and the flags that are config keys; validation is the table's. */
static int configure(struct sg_config *cfg, const struct args *a)
{
    const struct cli_flag_key flags[] = {
        {"stream.retention", a->retention},
        {"stream.batch_size", a->batch_size},
        {"stream.db", a->db},
        {"stream.group", a->group},
        {"topics.events", a->topic},
        {"stream.metrics_listen", a->listen},
        {"stream.model", a->model},
        {"stream.alerts", a->no_alerts ? "false" : NULL},
        {"stream.changelog", a->changelog ? "true" : NULL},
    };
    return cli_configure(cfg, a->config, &a->sets, flags, sizeof flags / sizeof flags[0]);
}

static int dump_store(const char *db, int64_t retention_ms)
{
    struct sg_store *st;
    char err[512];
    int rc = sg_store_open(db, SG_STORE_READONLY, NULL, retention_ms, &st, err, sizeof err);
    if (rc != SG_OK) {
        fprintf(stderr, "streamguard stream: %s\n", err);
        return rc == SG_ERR_UNAVAILABLE ? EXIT_UNAVAIL : EXIT_RUNTIME;
    }
    rc = sg_store_dump(st, stdout);
    sg_store_close(st);
    return cli_finish(rc == SG_OK ? EXIT_OK : EXIT_RUNTIME);
}

struct health {
    struct sg_store *store;
    struct sg_kafka_health *kafka;    /* the consumer's, NULL with --input */
    struct sg_kafka_health *producer; /* the alerts/DLQ producer's, NULL with --input */
};

/* 200 {"status":"ok","kafka":"up","consumer":"up","alerts_producer":"up",...} or 503
 * {"status":"degraded","kafka":"down",...,"reason":"alerts producer: ..."}: "kafka" is down
 * when either client is; the reason names each client that is down ("; " between them). */
static int health_fn(void *ctx, struct sg_buf *body)
{
    struct health *h = ctx;
    char rc[160] = "", rp[160] = "";
    int cok = !h->kafka || sg_kafka_health_check(h->kafka, rc, sizeof rc);
    int pok = !h->producer || sg_kafka_health_check(h->producer, rp, sizeof rp);
    int ok = cok && pok;
    sg_buf_printf(body, "{\"status\":\"%s\"", ok ? "ok" : "degraded");
    if (h->kafka)
        sg_buf_printf(body, ",\"kafka\":\"%s\",\"consumer\":\"%s\"", ok ? "up" : "down",
                      cok ? "up" : "down");
    if (h->producer)
        sg_buf_printf(body, ",\"alerts_producer\":\"%s\"", pok ? "up" : "down");
    if (!ok) {
        char reason[336];
        snprintf(reason, sizeof reason, "%s%s%s", rc, rc[0] && rp[0] ? "; " : "", rp);
        sg_buf_puts(body, ",\"reason\":");
        sg_buf_json_str(body, reason, strlen(reason));
    }
    sg_buf_printf(body, ",\"watermark\":%lld}", (long long)sg_store_watermark(h->store));
    return ok;
}

static int exit_code(int rc)
{
    switch (rc) {
    case SG_OK:
    case SG_ERR_INTERRUPTED: return EXIT_OK;
    case SG_ERR_CONFIG: return EXIT_USAGE;
    case SG_ERR_UNAVAILABLE: return EXIT_UNAVAIL;
    default: return EXIT_RUNTIME;
    }
}

/* The closing JSON line: counts, wall time, the busy span (first message to last write) and
 * the latency percentiles the benchmarks quote. */
static void summary(const struct sg_pipeline_totals *t, double secs)
{
    double busy = t->last_ns > t->first_ns ? (double)(t->last_ns - t->first_ns) / 1e9 : 0;
    uint64_t msgs = t->events + t->duplicates + t->invalid;
    struct sg_buf b;
    sg_buf_init(&b);
    sg_buf_printf(&b, "{\"events\":%llu,\"duplicates\":%llu,\"invalid\":%llu,\"anomalies\":%llu,"
                  "\"batches\":%llu,\"seconds\":%.3f,\"busy_seconds\":%.3f,\"messages_per_second\":",
                  (unsigned long long)t->events, (unsigned long long)t->duplicates,
                  (unsigned long long)t->invalid, (unsigned long long)t->anomalies,
                  (unsigned long long)t->batches, secs, busy);
    sg_buf_json_double(&b, busy > 0 ? (double)msgs / busy : 0);
    sg_buf_puts(&b, ",\"processing_p99_us\":");
    sg_buf_json_double(&b, t->processing_p99_s * 1e6);
    sg_buf_puts(&b, ",\"e2e_p50_ms\":");
    sg_buf_json_double(&b, t->e2e_p50_s * 1e3);
    sg_buf_puts(&b, ",\"e2e_p99_ms\":");
    sg_buf_json_double(&b, t->e2e_p99_s * 1e3);
    sg_buf_puts(&b, ",\"in_stream_p50_ms\":");
    sg_buf_json_double(&b, t->in_stream_p50_s * 1e3);
    sg_buf_puts(&b, ",\"in_stream_p99_ms\":");
    sg_buf_json_double(&b, t->in_stream_p99_s * 1e3);
    sg_buf_puts(&b, "}\n");
    fwrite(b.data, 1, b.len, stdout);
    sg_buf_release(&b);
}

static int run(const struct sg_config *cfg, const struct args *a, struct sg_store *store)
{
    struct sg_metrics *metrics = sg_metrics_new();
    struct sg_metrics_http *http = NULL;
    struct health h = {store, NULL, NULL};
    if (!a->input) {
        int64_t to = cfg->stream.broker_timeout_ms;
        h.kafka = sg_kafka_health_new("consumer", SG_KAFKA_CONSUMER, to);
        h.producer = sg_kafka_health_new("alerts_producer", SG_KAFKA_PRODUCER, to);
        sg_kafka_health_register(h.kafka, metrics);
        sg_kafka_health_register(h.producer, metrics);
    }
    char err[512] = "";
    int rc = SG_OK;
    FILE *dlq = NULL, *alerts = NULL;
    const char *listen = cfg->stream.metrics_listen;
    if (listen[0] && strcmp(listen, "off") != 0) {
        int hrc;
        http = sg_metrics_http_start(listen, metrics, health_fn, &h, err, sizeof err, &hrc);
        if (!http) {
            fprintf(stderr, "streamguard stream: metrics: %s\n", err);
            sg_metrics_free(metrics);
            sg_kafka_health_free(h.kafka);
            sg_kafka_health_free(h.producer);
            return hrc == SG_ERR_CONFIG ? EXIT_USAGE : EXIT_UNAVAIL;
        }
        sg_log_info("metrics on http://%s (port %d)", listen, sg_metrics_http_port(http));
    }
    struct sg_modelwatch *model = NULL;
    if (cfg->stream.model[0]) {
        model = sg_modelwatch_new(cfg->stream.model, err, sizeof err);
        if (!model) {
            fprintf(stderr, "streamguard stream: model: %s\n", err);
            sg_metrics_http_stop(http);
            sg_metrics_free(metrics);
            sg_kafka_health_free(h.kafka);
            sg_kafka_health_free(h.producer);
            return EXIT_RUNTIME;
        }
        err[0] = 0;
    }
    struct sg_pipeline_opts po = {0};
    po.model = model;
    po.store = store;
    po.metrics = metrics;
    sg_detect_params_init(&po.params);
    po.max_users = a->max_users ? (size_t)strtoull(a->max_users, NULL, 10) : 0;
    po.sync = a->sync;
    struct sg_pipeline_totals t;
    int64_t t0 = sg_time_mono_ns();
    volatile int *stop = cli_stop_flag();
    if (a->input) {
        if (cfg->stream.changelog) /* a replay owns no partitions: nothing to hand over */
            sg_log_warn("stream.changelog applies to Kafka consumption only: ignored with "
                        "--input");
        if (a->dlq_file && !(dlq = fopen(a->dlq_file, "ab"))) {
            snprintf(err, sizeof err, "%s: %s", a->dlq_file, strerror(errno));
            rc = SG_ERR_IO;
        }
        if (rc == SG_OK && a->alerts_file && !(alerts = fopen(a->alerts_file, "ab"))) {
            snprintf(err, sizeof err, "%s: %s", a->alerts_file, strerror(errno));
            rc = SG_ERR_IO;
        }
        struct sg_replay_opts ro = {a->input, po, (size_t)cfg->stream.batch_size, dlq, alerts,
                                    stop};
        if (rc == SG_OK)
            rc = sg_replay_run(&ro, &t, err, sizeof err);
    } else {
        int64_t idle = 0;
        if (a->idle_exit && sg_time_parse_duration(a->idle_exit, &idle) != SG_OK)
            idle = 0;
        struct sg_consumer_opts co = {cfg, a->brokers, cfg->topics.events, cfg->stream.group,
                                      cfg->stream.alerts ? cfg->topics.anomalies : NULL,
                                      cfg->topics.dlq, (size_t)cfg->stream.batch_size, idle,
                                      stop, po, h.kafka, h.producer,
                                      cfg->stream.changelog ? cfg->topics.changelog : NULL,
                                      cfg->stream.changelog_interval_ms};
        rc = sg_consumer_run(&co, &t, err, sizeof err);
    }
    double secs = (double)(sg_time_mono_ns() - t0) / 1e9;
    if (dlq && fclose(dlq) != 0 && rc == SG_OK)
        rc = SG_ERR_IO;
    if (alerts && fclose(alerts) != 0 && rc == SG_OK)
        rc = SG_ERR_IO;
    if (rc != SG_OK && rc != SG_ERR_INTERRUPTED)
        fprintf(stderr, "streamguard stream: %s\n", err[0] ? err : sg_strerror(rc));
    else
        summary(&t, secs);
    sg_metrics_http_stop(http);
    sg_metrics_free(metrics);
    sg_kafka_health_free(h.kafka);
    sg_kafka_health_free(h.producer);
    sg_modelwatch_free(model);
    return exit_code(rc);
}

int cmd_stream(int argc, char **argv)
{
    struct args a = {0};
    int rc = parse(argc, argv, &a);
    if (rc != EXIT_OK)
        return rc < 0 ? cli_finish(EXIT_OK) : rc;
    if (a.max_users && strtoll(a.max_users, NULL, 10) < 1)
        return cli_usage_error("stream", "--max-users must be a positive number");
    int64_t idle;
    if (a.idle_exit && sg_time_parse_duration(a.idle_exit, &idle) != SG_OK)
        return cli_usage_error("stream", "--idle-exit: bad duration '%s'", a.idle_exit);
    if ((a.dlq_file || a.alerts_file) && !a.input)
        return cli_usage_error("stream", "--dlq and --alerts-file need --input (Kafka mode uses topics)");
    struct sg_config cfg;
    sg_config_init(&cfg);
    if ((rc = configure(&cfg, &a)) != EXIT_OK)
        goto out;
    if (a.dump) {
        rc = dump_store(cfg.stream.db, cfg.stream.retention_ms);
        goto out;
    }
    struct sg_store *store;
    char err[512];
    /* Without a model nothing in this process reads events back (rolling features need
     * one): the store can give the write-only CFs append-only memtables. */
    enum sg_store_mode mode = cfg.stream.model[0] ? SG_STORE_PRIMARY : SG_STORE_PRIMARY_APPEND;
    int src = sg_store_open(cfg.stream.db, mode, NULL, cfg.stream.retention_ms, &store, err,
                            sizeof err);
    if (src != SG_OK) {
        fprintf(stderr, "streamguard stream: %s\n", err);
        rc = src == SG_ERR_UNAVAILABLE ? EXIT_UNAVAIL : EXIT_RUNTIME;
        goto out;
    }
    rc = run(&cfg, &a, store);
    sg_store_close(store);
    rc = cli_finish(rc);
out:
    sg_config_release(&cfg);
    return rc;
}
