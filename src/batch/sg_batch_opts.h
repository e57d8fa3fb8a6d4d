/* sg_batch_opts: the command-line options shared by `streamguard batch` (src/cli/cmd_batch.c)
 * and `streamguard-mpi batch` (src/mpi/main.c): one getopt_long table, the flag -> config key
 * map, --set, and the choice of input (files, --brokers, or kafka.bootstrap.servers from the
 * configuration). It parses and reports errors as text; printing, exit codes and the --help
 * texts stay with each binary, except the lines of the options both parse the same way. */
#ifndef SG_BATCH_OPTS_H
#define SG_BATCH_OPTS_H

#include <stddef.h>

#include "batch/sg_batch.h"
#include "core/sg_config.h"

#define SG_BATCH_OPTS_INPUTS 256
#define SG_BATCH_OPTS_SETS 64

/* What sg_batch_opts_parse accepts beyond the common options. */
enum { SG_BATCH_OPTS_MPI = 1 }; /* --chunk-kb N */

struct sg_batch_opts {
    const char *inputs[SG_BATCH_OPTS_INPUTS]; /* --input paths (borrowed from argv) */
    int ninputs;
    const char *brokers; /* --brokers; after sg_batch_opts_resolve also the config's */
    const char *config;  /* --config FILE or NULL */
    char *sets_key[SG_BATCH_OPTS_SETS]; /* config overrides in order: flags and --set */
    const char *sets_val[SG_BATCH_OPTS_SETS];
    unsigned char sets_flag[SG_BATCH_OPTS_SETS]; /* 1: from a flag (--seed), 0: --set */
    int nsets;
    int quiet, help;
    long chunk_kb; /* --chunk-kb (MPI only), 0 = not given */
};

/* --help lines of the options both binaries share word for word: the model's (without -j,
 * whose default differs) and the general ones (-c, --set, -q, -h). */
extern const char sg_batch_opts_help_model[];
extern const char sg_batch_opts_help_general[];

/* Parses argv (argv[0] is the command name) into `o` (zeroed here). Returns SG_OK - with
 * o->help set when --help was given (the caller prints its help) - or SG_ERR_CONFIG with a
 * one-line message in errbuf (unknown option, missing value, bad --chunk-kb, --input with
 * --brokers, ...). Ownership: release `o` with sg_batch_opts_release in both cases. */
int sg_batch_opts_parse(struct sg_batch_opts *o, int argc, char **argv, unsigned flags,
                        char *errbuf, size_t errlen);

/* Applies the overrides to `cfg` after its file was loaded, as every streamguard command
 * does: the --set values in order, then the flags that stand for keys (--seed wins over
 * --set batch.seed=...). Returns SG_OK or SG_ERR_CONFIG with errbuf. */
int sg_batch_opts_apply(const struct sg_batch_opts *o, struct sg_config *cfg, char *errbuf,
                        size_t errlen);

/* Chooses the input once the configuration is final: --input files; else --brokers; else the
 * configuration's kafka.bootstrap.servers (o->brokers then points into cfg, which must
 * outlive its use). Returns SG_OK or SG_ERR_CONFIG ("no input ...") with errbuf. */
int sg_batch_opts_resolve(struct sg_batch_opts *o, const struct sg_config *cfg, char *errbuf,
                          size_t errlen);

/* The model parameters of the effective configuration (algorithm, k or "auto", trees, psi,
 * contamination, seed, limits, Parquet codec, version); threads = batch.threads, or
 * `default_threads` when it is 0. Returns SG_OK or SG_ERR_CONFIG with a one-line message
 * (bad algorithm, bad k). */
int sg_batch_opts_params(const struct sg_config *cfg, int default_threads,
                         struct sg_batch_params *p, char *errbuf, size_t errlen);

void sg_batch_opts_release(struct sg_batch_opts *o);

#endif
