/* sg_batch_opts: one option table for both batch drivers. Flags that set a configuration key
 * are recorded as overrides next to the --set values, and applied after them. */
#include "batch/sg_batch_opts.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_version.h"

const char sg_batch_opts_help_model[] =
    "  -a, --algorithm A       iforest, kmeans or ensemble (default ensemble)\n"
    "      --trees N           Isolation Forest trees (100)\n"
    "      --sample-size N     Isolation Forest subsample psi (256)\n"
    "  -k, --k N|auto          K-Means clusters, or auto by silhouette (5)\n"
    "      --contamination F   fraction of users flagged (0.1)\n"
    "      --seed S            random seed (7)\n";

const char sg_batch_opts_help_general[] =
    "  -c, --config FILE       configuration file (default conf/streamguard.yaml)\n"
    "      --set KEY=VALUE     override a configuration key (repeatable)\n"
    "  -q, --quiet             no progress on stderr\n"
    "  -h, --help              this help\n";

static const struct option longopts[] = {
    {"input", required_argument, NULL, 'i'},
    {"brokers", required_argument, NULL, 'b'},
    {"topic", required_argument, NULL, 't'},
    {"group", required_argument, NULL, 'g'},
    {"max-events", required_argument, NULL, 'n'},
    {"max-invalid-ratio", required_argument, NULL, 'R'},
    {"algorithm", required_argument, NULL, 'a'},
    {"trees", required_argument, NULL, 'T'},
    {"sample-size", required_argument, NULL, 'S'},
    {"k", required_argument, NULL, 'k'},
    {"contamination", required_argument, NULL, 'C'},
    {"seed", required_argument, NULL, 's'},
    {"threads", required_argument, NULL, 'j'},
    {"output", required_argument, NULL, 'o'},
    {"config", required_argument, NULL, 'c'},
    {"set", required_argument, NULL, 'E'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"chunk-kb", required_argument, NULL, 'M'}, /* SG_BATCH_OPTS_MPI only */
    {NULL, 0, NULL, 0},
};

/* Flags that are shorthands for a configuration key. */
static const struct {
    int c;
    const char *key;
} keymap[] = {
    {'g', "batch.group"},     {'n', "batch.max_events"},    {'R', "batch.max_invalid_ratio"},
    {'a', "batch.algorithm"}, {'T', "batch.trees"},         {'S', "batch.sample_size"},
    {'k', "batch.k"},         {'C', "batch.contamination"}, {'s', "batch.seed"},
    {'j', "batch.threads"},   {'o', "batch.output"},        {'t', "topics.events"},
};

static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
    return SG_ERR_CONFIG;
}

static int add_set(struct sg_batch_opts *o, const char *key, size_t kl, const char *val,
                   int flag, char *errbuf, size_t errlen)
{
    if (o->nsets == SG_BATCH_OPTS_SETS)
        return fail(errbuf, errlen, "too many options");
    o->sets_key[o->nsets] = sg_xstrndup(key, kl);
    o->sets_flag[o->nsets] = (unsigned char)flag;
    o->sets_val[o->nsets++] = val;
    return SG_OK;
}

/* One option that is not a plain configuration shorthand. */
static int one(struct sg_batch_opts *o, int c, const char *arg, const char *opt, unsigned flags,
               char *errbuf, size_t errlen)
{
    switch (c) {
    case 'i':
        if (o->ninputs == SG_BATCH_OPTS_INPUTS)
            return fail(errbuf, errlen, "too many --input paths");
        o->inputs[o->ninputs++] = arg;
        return SG_OK;
    case 'b': o->brokers = arg; return SG_OK;
    case 'c': o->config = arg; return SG_OK;
    case 'q': o->quiet = 1; return SG_OK;
    case 'h': o->help = 1; return SG_OK;
    case 'E': {
        const char *eq = strchr(arg, '=');
        if (!eq)
            return fail(errbuf, errlen, "--set needs KEY=VALUE");
        return add_set(o, arg, (size_t)(eq - arg), eq + 1, 0, errbuf, errlen);
    }
    case 'M': {
        if (!(flags & SG_BATCH_OPTS_MPI))
            return fail(errbuf, errlen, "unknown option '--chunk-kb'");
        char *end;
        long kb = strtol(arg, &end, 10);
        if (*end || end == arg || kb < 4 || kb > (1L << 20))
            return fail(errbuf, errlen, "bad --chunk-kb '%s' (4..1048576)", arg);
        o->chunk_kb = kb;
        return SG_OK;
    }
    case ':': return fail(errbuf, errlen, "option '%s' needs a value", opt);
    case '?': return fail(errbuf, errlen, "unknown option '%s'", opt);
    default: return SG_OK;
    }
}

int sg_batch_opts_parse(struct sg_batch_opts *o, int argc, char **argv, unsigned flags,
                        char *errbuf, size_t errlen)
{
    memset(o, 0, sizeof *o);
    int c, rc;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:b:t:g:n:a:k:j:o:c:qh", longopts, NULL)) != -1) {
        for (size_t m = 0; m < sizeof keymap / sizeof keymap[0]; m++)
            if (keymap[m].c == c &&
                (rc = add_set(o, keymap[m].key, strlen(keymap[m].key), optarg, 1, errbuf,
                              errlen)) != SG_OK)
                return rc;
        if ((rc = one(o, c, optarg, argv[optind - 1], flags, errbuf, errlen)) != SG_OK)
            return rc;
        if (o->help)
            return SG_OK;
    }
    if (optind < argc)
        return fail(errbuf, errlen, "unexpected argument '%s'", argv[optind]);
    if (o->ninputs && o->brokers)
        return fail(errbuf, errlen, "--input and --brokers are exclusive");
    return SG_OK;
}

int sg_batch_opts_apply(const struct sg_batch_opts *o, struct sg_config *cfg, char *errbuf,
                        size_t errlen)
{
    for (int pass = 0; pass <= 1; pass++) /* --set first, then the flags */
        for (int i = 0; i < o->nsets; i++)
            if (o->sets_flag[i] == pass &&
                sg_config_set(cfg, o->sets_key[i], o->sets_val[i], errbuf, errlen) != SG_OK)
                return SG_ERR_CONFIG;
    return SG_OK;
}

int sg_batch_opts_resolve(struct sg_batch_opts *o, const struct sg_config *cfg, char *errbuf,
                          size_t errlen)
{
    if (o->ninputs || o->brokers)
        return SG_OK;
    const char *bs = sg_config_kafka_get(cfg, "bootstrap.servers");
    if (bs && bs[0]) {
        o->brokers = bs;
        return SG_OK;
    }
    return fail(errbuf, errlen,
                "no input: give --input PATH, or --brokers HOST:PORT (or "
                "kafka.bootstrap.servers in the configuration)");
}

void sg_batch_opts_release(struct sg_batch_opts *o)
{
    for (int i = 0; i < o->nsets; i++)
        free(o->sets_key[i]);
    o->nsets = 0;
}

int sg_batch_opts_params(const struct sg_config *cfg, int default_threads,
                         struct sg_batch_params *p, char *errbuf, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (sg_model_algorithm_parse(cfg->batch.algorithm, &p->algorithm) != SG_OK) {
        snprintf(errbuf, errlen, "bad algorithm '%s' (iforest, kmeans or ensemble)",
                 cfg->batch.algorithm);
        return SG_ERR_CONFIG;
    }
    if (strcmp(cfg->batch.k, "auto") != 0) { /* "auto": k = 0, chosen by silhouette */
        char *end;
        long k = strtol(cfg->batch.k, &end, 10);
        if (*end || end == cfg->batch.k || k < 1 || k > 1000) {
            snprintf(errbuf, errlen, "bad k '%s' (1..1000 or auto)", cfg->batch.k);
            return SG_ERR_CONFIG;
        }
        p->k = (int)k;
    }
    p->trees = (int)cfg->batch.trees;
    p->psi = (int)cfg->batch.sample_size;
    p->contamination = cfg->batch.contamination;
    p->seed = (uint64_t)cfg->batch.seed;
    p->threads = cfg->batch.threads > 0 ? (int)cfg->batch.threads : default_threads;
    p->max_invalid_ratio = cfg->batch.max_invalid_ratio;
    p->max_events = (uint64_t)cfg->batch.max_events;
    p->parquet_codec = cfg->parquet.compression;
    p->version = SG_VERSION;
    return SG_OK;
}
