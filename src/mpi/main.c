/* main.c: build/streamguard-mpi, `streamguard batch` across the ranks of an MPI job:
 *   mpirun -np N build/streamguard-mpi batch --input DIR --output OUT [options]
 * A separate binary (built with mpicc from libstreamguard.a + src/mpi) so that the plain
 * `streamguard` never needs MPI at run time. Phases: shuffle-ingest (sg_mpi_shuffle) ->
 * features (sg_batch_features, local) -> fit (sg_mpi_fit) -> write (sg_mpi_write).
 * Exit codes as streamguard's: 0 ok, 1 runtime failure, 2 usage. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/sg_batch.h"
#include "batch/sg_batch_opts.h"
#include "batch/sg_ksource.h"
#include "core/sg_buf.h"
#include "core/sg_config.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_time.h"
#include "mpi/sg_mpi.h"
#include "mpi/sg_mpi_fit.h"
#include "mpi/sg_mpi_shuffle.h"
#include "mpi/sg_mpi_write.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_UNAVAIL = 3 };

static int g_rank;

static void help(void)
{
    printf(
        "usage: mpirun -np N streamguard-mpi batch [--input PATH... | --brokers H:P] [options]\n\n"
        "`streamguard batch` across the ranks of an MPI job: the input is split into pieces\n"
        "read by every rank, events are shuffled to the rank that owns their user, features\n"
        "are computed there, and the models are fitted collectively. Same output, same\n"
        "results as one `streamguard batch` process with the same seed.\n\n"
        "input:\n"
        "  -i, --input PATH        NDJSON file or directory of them (repeatable; on a file\n"
        "                          system every rank sees; not stdin, not .gz/.zst)\n"
        "      --chunk-kb N        input piece per rank and round, KiB (8192): bounds the\n"
        "                          memory of the shuffle (about 3 pieces per rank)\n"
        "  -b, --brokers HOST:PORT read a Kafka topic up to its end at start; its partitions\n"
        "                          are divided among the ranks (8192 messages per rank/round;\n"
        "                          default without --input: kafka.bootstrap.servers)\n"
        "  -t, --topic T           topic (default: topics.events)\n"
        "  -g, --group G           start from G's committed offsets; commit after the output\n"
        "  -n, --max-events N      stop after N messages\n"
        "      --max-invalid-ratio R  fail if more than R of the messages are invalid (0.01)\n\n"
        "model:\n%s"
        "  -j, --threads N         threads per rank, 0 = cores / ranks on the node (0)\n\n"
        "output and general:\n"
        "  -o, --output DIR        output directory, shared by all ranks (batch.output)\n"
        "%s\n"
        "exit codes: 0 ok, 1 failure (a dead rank ends the job: mpirun exits non-zero and\n"
        "nothing is committed), 2 usage, 3 broker unavailable\n",
        sg_batch_opts_help_model, sg_batch_opts_help_general);
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    if (g_rank == 0) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "streamguard-mpi batch: ");
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see 'streamguard-mpi batch --help')\n");
    }
    return EXIT_USAGE;
}

static int load_config(struct sg_config *cfg, struct sg_batch_opts *o)
{
    char err[512];
    const char *p = o->config;
    if (!p && access("conf/streamguard.yaml", R_OK) == 0)
        p = "conf/streamguard.yaml";
    if (p && sg_config_load(cfg, p, err, sizeof err) != SG_OK)
        return usage_error("%s", err);
    if (sg_batch_opts_apply(o, cfg, err, sizeof err) != SG_OK)
        return usage_error("%s", err);
    sg_log_set_level_name(cfg->log.level); /* the key's table checked the name */
    if (sg_batch_opts_resolve(o, cfg, err, sizeof err) != SG_OK)
        return usage_error("%s", err);
    return EXIT_OK;
}

/* Threads per rank: the cores of this node shared by the ranks on it. */
static int default_threads(const struct sg_mpi *c)
{
    MPI_Comm node;
    int local = 1;
    if (MPI_Comm_split_type(c->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &local);
        MPI_Comm_free(&node);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long t = cores > 0 ? cores / local : 1;
    return t < 1 ? 1 : t > 64 ? 64 : (int)t;
}

static int make_params(const struct sg_mpi *c, const struct sg_config *cfg,
                       struct sg_batch_params *p)
{
    char err[256];
    if (sg_batch_opts_params(cfg, default_threads(c), p, err, sizeof err) != SG_OK)
        return usage_error("%s", err);
    return EXIT_OK;
}

static void config_json(const struct sg_config *cfg, const struct sg_batch_params *p, int ranks,
                        struct sg_buf *b)
{
    sg_buf_printf(b,
                  "{\"batch.algorithm\":\"%s\",\"batch.trees\":%d,\"batch.sample_size\":%d,"
                  "\"batch.k\":",
                  sg_model_algorithm_name(p->algorithm), p->trees, p->psi);
    sg_buf_json_str(b, cfg->batch.k, strlen(cfg->batch.k));
    sg_buf_puts(b, ",\"batch.contamination\":");
    sg_buf_json_double(b, p->contamination);
    sg_buf_printf(b, ",\"batch.seed\":%" PRIu64 ",\"batch.threads\":%d,\"mpi.ranks\":%d}", p->seed,
                  p->threads, ranks);
}

static int check_invalid(const struct sg_ingest_stats *st, double max_ratio)
{
    if (st->messages == 0 || st->valid == 0) {
        if (g_rank == 0)
            fprintf(stderr,
                    "streamguard-mpi batch: no valid events in the input (%" PRIu64
                    " messages read)\n",
                    st->messages);
        return EXIT_RUNTIME;
    }
    double ratio = (double)st->invalid / (double)st->messages;
    if (ratio <= max_ratio)
        return EXIT_OK;
    if (g_rank == 0)
        fprintf(stderr,
                "streamguard-mpi batch: %" PRIu64 " of %" PRIu64 " messages (%.2f%%) "
                "are invalid, more than --max-invalid-ratio %g; nothing written\n",
                st->invalid, st->messages, 100 * ratio, max_ratio);
    return EXIT_RUNTIME;
}

static double now_s(void)
{
    return (double)sg_time_mono_ns() / 1e9;
}

struct run {
    const struct sg_mpi *c;
    const struct sg_batch_opts *o;
    const struct sg_config *cfg;
    struct sg_batch_params p;
    struct sg_batch_timings t;
    struct sg_ingest_stats st;
    struct sg_mpi_comm_stats cs;
    uint64_t shuffled;
    struct sg_mpi_shuffle *sh;
};

/* Input piece per rank and round: --chunk-kb, 8 MiB by default. */
static size_t chunk_bytes(const struct sg_batch_opts *o)
{
    return (o->chunk_kb ? (size_t)o->chunk_kb : 8192) << 10;
}

/* Opens this rank's input: file pieces, or its share of the Kafka partitions. Returns NULL
 * with err on failure; *unavail is set when the broker could not be reached. */
static struct sg_mpi_shuffle *open_input(struct run *r, int *unavail, char *err, size_t errlen)
{
    *unavail = 0;
    if (!r->o->brokers)
        return sg_mpi_shuffle_new(r->c, r->o->inputs, (size_t)r->o->ninputs, chunk_bytes(r->o),
                                  r->p.max_events, err, errlen);
    struct sg_source *src = NULL;
    int rc = sg_ksource_open(r->cfg, r->o->brokers, r->cfg->topics.events, r->cfg->batch.group,
                             r->c->rank, r->c->size, &src, err, errlen);
    *unavail = rc == SG_ERR_UNAVAILABLE;
    return src ? sg_mpi_shuffle_new_kafka(r->c, src, 8192, r->p.max_events) : NULL;
}

/* Phase 1: returns this rank's users (NULL + exit code on failure, same on every rank). */
static struct sg_users *ingest(struct run *r, int *code)
{
    char err[512] = "";
    double t0 = now_s();
    int unavail;
    r->sh = open_input(r, &unavail, err, sizeof err);
    int bad = r->sh == NULL ? (unavail ? 2 : 1) : 0;
    SG_MPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, r->c->comm));
    if (bad) {
        if (g_rank == 0 || r->sh == NULL)
            fprintf(stderr, "streamguard-mpi batch: rank %d: %s\n", g_rank,
                    r->sh ? "another rank cannot open the input" : err);
        *code = bad == 2 ? EXIT_UNAVAIL : EXIT_RUNTIME;
        return NULL;
    }
    struct sg_users *users = sg_users_new(1); /* folded by this thread */
    int rc = sg_mpi_shuffle_run(r->sh, users, err, sizeof err);
    if (rc != SG_OK) /* the other ranks get the same error from the collective check */
        fprintf(stderr, "streamguard-mpi batch: rank %d: reading input: %s\n", g_rank, err);
    sg_mpi_fault_point(r->c, "read");
    sg_mpi_stats_merge(r->c, sg_mpi_shuffle_stats(r->sh), &r->st);
    r->shuffled = sg_mpi_shuffle_bytes_sent(r->sh);
    r->t.read_s = now_s() - t0;
    if (g_rank == 0 && !r->o->quiet)
        fprintf(stderr,
                "batch[mpi]: %d ranks read %" PRIu64 " messages (%.1f MB) in %zu rounds, "
                "%" PRIu64 " invalid, in %.3f s\n",
                r->c->size, r->st.messages, (double)r->st.bytes / 1e6, sg_mpi_shuffle_rounds(r->sh),
                r->st.invalid, r->t.read_s);
    *code = rc != SG_OK ? (rc == SG_ERR_UNAVAILABLE ? EXIT_UNAVAIL : EXIT_RUNTIME)
                        : check_invalid(&r->st, r->p.max_invalid_ratio);
    if (*code != EXIT_OK) {
        sg_users_free(users);
        return NULL;
    }
    return users;
}

/* Phases 2-4. */
static int model_and_write(struct run *r, struct sg_users *users)
{
    struct sg_batch_data data;
    struct sg_model model;
    memset(&model, 0, sizeof model);
    double t0 = now_s();
    sg_batch_features(users, r->p.threads, &data);
    uint64_t *gidx, ng;
    sg_mpi_directory(r->c, &data, &gidx, &ng, &r->cs);
    r->t.features_s = now_s() - t0;
    if (g_rank == 0 && !r->o->quiet)
        fprintf(stderr, "batch[mpi]: %" PRIu64 " users x %d features in %.3f s; fitting\n", ng,
                SG_FEAT_COUNT, r->t.features_s);
    sg_mpi_fit(r->c, gidx, ng, &data, &r->p, &model, &r->t, &r->cs);
    sg_mpi_fault_point(r->c, "fit");
    char err[512] = "";
    int rc = sg_mpi_write(r->c, r->cfg->batch.output, &data, &model, &r->p, &r->st, ng, &r->t, err,
                          sizeof err);
    int code = EXIT_OK;
    if (rc != SG_OK) {
        fprintf(stderr, "streamguard-mpi batch: rank %d: writing %s: %s\n", g_rank,
                r->cfg->batch.output, err);
        code = EXIT_RUNTIME;
    } else if (g_rank == 0 && !r->o->quiet) {
        fprintf(stderr,
                "batch[mpi]: wrote %s in %.3f s (read %.3f, features %.3f, scale %.3f, "
                "iforest %.3f, kmeans %.3f)\n",
                r->cfg->batch.output, r->t.write_s, r->t.read_s, r->t.features_s, r->t.scale_s,
                r->t.iforest_s, r->t.kmeans_s);
    }
    if (getenv("STREAMGUARD_MPI_COMM_STATS")) /* per-rank received bytes, for bench/ */
        fprintf(stderr,
                "comm rank=%d shuffle_sent=%" PRIu64 " directory=%" PRIu64 " scaler=%" PRIu64
                " iforest_rows=%" PRIu64 " iforest_trees=%" PRIu64 " kmeans=%" PRIu64
                " quantiles=%" PRIu64 "\n",
                g_rank, r->shuffled, r->cs.directory, r->cs.scaler, r->cs.iforest_rows,
                r->cs.iforest_trees, r->cs.kmeans, r->cs.quantiles);
    free(gidx);
    sg_scaler_release(&model.scaler);
    sg_iforest_free(model.forest);
    sg_kmeans_release(&model.km);
    sg_batch_data_release(&data);
    return code;
}

static int run_batch(const struct sg_mpi *c, const struct sg_batch_opts *o,
                     const struct sg_config *cfg)
{
    struct run r;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.o = o;
    r.cfg = cfg;
    int code = make_params(c, cfg, &r.p);
    if (code != EXIT_OK)
        return code;
    struct sg_buf cj, desc;
    sg_buf_init(&cj);
    sg_buf_init(&desc);
    config_json(cfg, &r.p, c->size, &cj);
    if (o->brokers) {
        sg_buf_printf(&desc, "kafka topic %s at %s%s%s", cfg->topics.events, o->brokers,
                      cfg->batch.group[0] ? ", group " : "", cfg->batch.group);
    } else {
        sg_buf_printf(&desc, "ndjson ");
        for (int i = 0; i < o->ninputs; i++)
            sg_buf_printf(&desc, "%s%s", i ? ", " : "", o->inputs[i]);
    }
    sg_buf_printf(&desc, " (MPI, %d ranks)", c->size);
    r.p.config_json = cj.data;
    r.p.input_desc = desc.data;
    double t0 = now_s();
    struct sg_users *users = ingest(&r, &code);
    if (users)
        code = model_and_write(&r, users);
    char err[512];
    if (code == EXIT_OK && o->brokers && /* each rank commits its partitions' offsets */
        sg_ksource_commit(sg_mpi_shuffle_kafka(r.sh), err, sizeof err) != SG_OK)
        fprintf(stderr, "streamguard-mpi batch: rank %d: warning: committing offsets: %s\n", g_rank,
                err);
    sg_mpi_shuffle_free(r.sh);
    r.t.total_s = now_s() - t0;
    sg_users_free(users);
    sg_buf_release(&cj);
    sg_buf_release(&desc);
    return code;
}

static int cmd_batch(const struct sg_mpi *c, int argc, char **argv)
{
    struct sg_batch_opts o;
    struct sg_config cfg;
    sg_config_init(&cfg);
    char err[512];
    int code;
    if (sg_batch_opts_parse(&o, argc, argv, SG_BATCH_OPTS_MPI, err, sizeof err) != SG_OK) {
        code = usage_error("%s", err);
    } else if (o.help) {
        if (g_rank == 0)
            help();
        code = EXIT_OK;
    } else if ((code = load_config(&cfg, &o)) == EXIT_OK) {
        code = run_batch(c, &o, &cfg);
    }
    sg_batch_opts_release(&o);
    sg_config_release(&cfg);
    return code;
}

int main(int argc, char **argv)
{
    int provided;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "streamguard-mpi: MPI_Init failed\n");
        return EXIT_RUNTIME;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    struct sg_mpi c = {.comm = MPI_COMM_WORLD};
    MPI_Comm_rank(c.comm, &c.rank);
    MPI_Comm_size(c.comm, &c.size);
    g_rank = c.rank;
    int code;
    if (argc >= 2 && !strcmp(argv[1], "batch")) {
        code = cmd_batch(&c, argc - 1, argv + 1);
    } else if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        if (c.rank == 0)
            printf("usage: mpirun -np N streamguard-mpi batch [options]\n"
                   "'streamguard-mpi batch --help' describes the options.\n");
        code = EXIT_OK;
    } else {
        code = usage_error("unknown or missing command (the only one is 'batch')");
    }
    if (fflush(stdout) != 0 && code == EXIT_OK)
        code = EXIT_RUNTIME;
    MPI_Finalize();
    return code;
}
