/* cmd_batch.c: `streamguard batch` - read the event history (NDJSON files or a Kafka topic),
 * compute per-user features, fit Isolation Forest + K-Means, and write the Parquet dataset,
 * the report and the model to --output atomically. The pipeline lives in src/batch/. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/sg_batch.h"
#include "batch/sg_batch_opts.h"
#include "batch/sg_ksource.h"
#include "batch/sg_source.h"
#include "cli/cli.h"
#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_time.h"

static void help(void)
{
    printf("usage: streamguard batch [--input PATH... | --brokers HOST:PORT] [options]\n\n"
           "Learns every user's behaviour from the whole event history, flags the anomalous\n"
           "users, and writes to --output (atomically: a crash leaves the previous output):\n"
           "  is_anomaly=0|1/part-*.parquet   one row per user: features + scores\n"
           "  anomaly_report.json / .md      totals, invalid events by reason, top anomalies\n"
           "  model/                         model.json + baselines.ndjson for the speed layer\n\n"
           "input:\n"
           "  -i, --input PATH        NDJSON file, directory of files (not its subdirectories),\n"
           "                          or - for stdin (plain or gzip); .gz and .zst files are\n"
           "                          decompressed (repeatable)\n"
           "  -b, --brokers HOST:PORT read a Kafka topic up to its end at start, then stop\n"
           "                          (default without --input: kafka.bootstrap.servers)\n"
           "  -t, --topic T           topic (default: topics.events)\n"
           "  -g, --group G           start from G's committed offsets (default: earliest);\n"
           "                          offsets are committed after the output is written\n"
           "  -n, --max-events N      stop after N messages\n"
           "      --max-invalid-ratio R  fail if more than R of the messages are invalid (0.01)\n\n"
           "model:\n%s"
           "  -j, --threads N         worker threads, 0 = one per core (0)\n\n"
           "output and general:\n"
           "  -o, --output DIR        output directory (batch.output, default data/batch)\n"
           "%s\n"
           "Flags override the batch.* keys of the configuration file.\n"
           "exit codes: 0 ok, 1 failure (also: too many invalid events), 2 usage, 3 broker down\n",
           sg_batch_opts_help_model, sg_batch_opts_help_general);
}

/* Builds the model parameters from the effective configuration (default: one thread per
 * core, at most 64). */
static int make_params(const struct sg_config *cfg, struct sg_batch_params *p)
{
    char err[256];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (sg_batch_opts_params(cfg, cores > 0 ? (int)cores : 1, p, err, sizeof err) != SG_OK)
        return cli_usage_error("batch", "%s", err);
    if (p->threads > 64)
        p->threads = 64;
    return EXIT_OK;
}

static void config_json(const struct sg_config *cfg, const struct sg_batch_params *p,
                        struct sg_buf *b)
{
    sg_buf_printf(b,
                  "{\"batch.algorithm\":\"%s\",\"batch.trees\":%d,\"batch.sample_size\":%d,"
                  "\"batch.k\":",
                  sg_model_algorithm_name(p->algorithm), p->trees, p->psi);
    sg_buf_json_str(b, cfg->batch.k, strlen(cfg->batch.k));
    sg_buf_puts(b, ",\"batch.contamination\":");
    sg_buf_json_double(b, p->contamination);
    sg_buf_printf(b,
                  ",\"batch.seed\":%" PRIu64 ",\"batch.threads\":%d,\"batch.max_events\":%" PRIu64
                  ",\"batch.max_invalid_ratio\":",
                  p->seed, p->threads, p->max_events);
    sg_buf_json_double(b, p->max_invalid_ratio);
    sg_buf_puts(b, ",\"parquet.compression\":");
    sg_buf_json_str(b, cfg->parquet.compression, strlen(cfg->parquet.compression));
    sg_buf_putc(b, '}');
}

static void progress(const struct sg_ingest_stats *st, size_t users, int final, void *ctx)
{
    if (*(int *)ctx)
        return;
    fprintf(stderr, "batch: %s %" PRIu64 " messages (%.1f MB), %" PRIu64 " invalid, %zu users\n",
            final ? "read" : "reading...", st->messages, (double)st->bytes / 1e6, st->invalid,
            users);
}

static int check_invalid(const struct sg_ingest_stats *st, double max_ratio)
{
    if (st->messages == 0 || st->valid == 0) {
        fprintf(stderr,
                "streamguard batch: no valid events in the input (%" PRIu64 " messages read)\n",
                st->messages);
        return EXIT_RUNTIME;
    }
    double ratio = (double)st->invalid / (double)st->messages;
    if (ratio <= max_ratio)
        return EXIT_OK;
    fprintf(stderr,
            "streamguard batch: %" PRIu64 " of %" PRIu64 " messages (%.2f%%) are "
            "invalid, more than --max-invalid-ratio %g; nothing written. Reasons:\n",
            st->invalid, st->messages, 100 * ratio, max_ratio);
    for (int r = 1; r < SG_REASON_COUNT; r++)
        if (st->by_reason[r])
            fprintf(stderr, "  %-14s %10" PRIu64 "  first at message %" PRIu64 ": %s\n",
                    sg_event_reason_name(r), st->by_reason[r], st->example_at[r], st->example[r]);
    return EXIT_RUNTIME;
}

static int err_exit(int rc)
{
    return rc == SG_ERR_UNAVAILABLE ? EXIT_UNAVAIL : EXIT_RUNTIME;
}

static void input_desc(const struct sg_batch_opts *o, const struct sg_config *cfg,
                       struct sg_buf *b)
{
    if (o->brokers) {
        sg_buf_printf(b, "kafka topic %s at %s%s%s", cfg->topics.events, o->brokers,
                      cfg->batch.group[0] ? ", group " : "", cfg->batch.group);
        return;
    }
    sg_buf_puts(b, "ndjson ");
    for (int i = 0; i < o->ninputs; i++)
        sg_buf_printf(b, "%s%s", i ? ", " : "", o->inputs[i]);
}

/* Phases 2-4 after a successful ingest. */
static int model_and_write(struct sg_users *users, const struct sg_config *cfg,
                           const struct sg_batch_params *p, const struct sg_ingest_stats *st,
                           struct sg_batch_timings *t, int quiet)
{
    struct sg_batch_data data;
    struct sg_model model;
    memset(&model, 0, sizeof model);
    double t0 = (double)sg_time_mono_ns() / 1e9;
    sg_batch_features(users, p->threads, &data);
    t->features_s = (double)sg_time_mono_ns() / 1e9 - t0;
    if (!quiet)
        fprintf(stderr, "batch: %zu users x %d features in %.3f s; fitting models\n", data.n,
                SG_FEAT_COUNT, t->features_s);
    sg_batch_fit(&data, p, &model, t);
    char err[512];
    int rc = sg_batch_write(cfg->batch.output, &data, &model, p, st, t, err, sizeof err);
    int code = EXIT_OK;
    if (rc != SG_OK) {
        fprintf(stderr, "streamguard batch: writing %s: %s\n", cfg->batch.output, err);
        code = EXIT_RUNTIME;
    } else if (!quiet) {
        size_t an = 0;
        for (size_t i = 0; i < data.n; i++)
            an += data.anomalous[i];
        fprintf(stderr, "batch: %zu of %zu users anomalous (%s); wrote %s in %.3f s\n", an, data.n,
                sg_model_algorithm_name(p->algorithm), cfg->batch.output, t->write_s);
    }
    sg_scaler_release(&model.scaler);
    sg_iforest_free(model.forest);
    sg_kmeans_release(&model.km);
    sg_batch_data_release(&data);
    return code;
}

static int run(const struct sg_batch_opts *o, struct sg_config *cfg)
{
    struct sg_batch_params p;
    int code = make_params(cfg, &p);
    if (code != EXIT_OK)
        return code;
    struct sg_buf cj, desc;
    sg_buf_init(&cj);
    sg_buf_init(&desc);
    config_json(cfg, &p, &cj);
    input_desc(o, cfg, &desc);
    p.config_json = cj.data;
    p.input_desc = desc.data;
    char err[512] = "";
    struct sg_source *src = NULL;
    int orc = SG_OK;
    if (o->brokers) /* the ingest loop applies p.max_events across the partitions */
        orc = sg_ksource_open(cfg, o->brokers, cfg->topics.events, cfg->batch.group, 0, 1, &src,
                              err, sizeof err);
    else
        src = sg_source_ndjson_new(o->inputs, (size_t)o->ninputs, err, sizeof err);
    struct sg_users *users = NULL;
    if (!src) {
        fprintf(stderr, "streamguard batch: %s\n", err);
        code = orc == SG_ERR_UNAVAILABLE ? EXIT_UNAVAIL : EXIT_RUNTIME;
        goto out;
    }
    users = sg_users_new(p.threads * 4); /* finer than threads: dynamic balance */
    int quiet = o->quiet;
    struct sg_ingest_opts io = {.threads = p.threads,
                                .max_events = p.max_events,
                                .stop = cli_stop_flag(),
                                .progress = progress,
                                .ctx = &quiet};
    struct sg_ingest_stats st;
    struct sg_batch_timings t = {0};
    double t0 = (double)sg_time_mono_ns() / 1e9;
    int rc = sg_ingest_run(src, users, &io, &st, err, sizeof err);
    t.read_s = (double)sg_time_mono_ns() / 1e9 - t0;
    if (rc != SG_OK) {
        fprintf(stderr, "streamguard batch: reading input: %s\n", err);
        code = err_exit(rc);
    } else if (*io.stop) {
        fprintf(stderr, "streamguard batch: interrupted; nothing written\n");
        code = EXIT_RUNTIME;
    } else if ((code = check_invalid(&st, p.max_invalid_ratio)) == EXIT_OK) {
        code = model_and_write(users, cfg, &p, &st, &t, o->quiet);
        if (code == EXIT_OK && o->brokers && sg_ksource_commit(src, err, sizeof err) != SG_OK)
            fprintf(stderr, "streamguard batch: warning: committing offsets: %s\n", err);
    }
out:
    sg_users_free(users);
    sg_source_free(src);
    sg_buf_release(&cj);
    sg_buf_release(&desc);
    return code;
}

int cmd_batch(int argc, char **argv)
{
    struct sg_batch_opts o;
    struct sg_config cfg;
    sg_config_init(&cfg);
    char err[512];
    int code = EXIT_OK;
    if (sg_batch_opts_parse(&o, argc, argv, 0, err, sizeof err) != SG_OK) {
        code = cli_usage_error("batch", "%s", err);
        goto out;
    }
    if (o.help) {
        help();
        code = cli_finish(EXIT_OK);
        goto out;
    }
    if ((code = cli_load_config(&cfg, o.config)) != EXIT_OK)
        goto out;
    if (sg_batch_opts_apply(&o, &cfg, err, sizeof err) != SG_OK) {
        fprintf(stderr, "streamguard: %s\n", err);
        code = EXIT_USAGE;
        goto out;
    }
    sg_log_set_level_name(cfg.log.level);
    if (sg_batch_opts_resolve(&o, &cfg, err, sizeof err) != SG_OK) {
        code = cli_usage_error("batch", "%s", err);
        goto out;
    }
    code = cli_finish(run(&o, &cfg));
out:
    sg_batch_opts_release(&o);
    sg_config_release(&cfg);
    return code;
}
