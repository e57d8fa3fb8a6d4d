/* cli.h: what the subcommands share: exit codes, the command table entry point of each
 * cmd_<name>.c, and the config-loading/option helpers. Only src/cli exits the process. */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stddef.h>

#include "core/sg_config.h"

#include "core/sg_version.h"

/* Documented exit codes (README and `streamguard --help`). */
enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1, /* the work failed at run time */
    EXIT_USAGE = 2,   /* bad option, bad value, bad configuration */
    EXIT_UNAVAIL = 3, /* a dependency (broker, port, database) was unavailable */
};

/* Each subcommand: argv[0] is the command name. Returns the process exit code. */
int cmd_batch(int argc, char **argv);
int cmd_broker(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_stream(int argc, char **argv);

/* Config from the command line (cli_config.c). The usual path is: cli_sets_add() for each
 * --set while parsing options, then one cli_configure() with the flags that stand for keys. */

/* Loads `path` (or conf/streamguard.yaml if path is NULL and that file exists) over the
 * defaults. Prints the error (file:line) and returns EXIT_USAGE on failure, EXIT_OK otherwise. */
int cli_load_config(struct sg_config *cfg, const char *path);

/* Applies one key (validated by the config table); prints and returns EXIT_USAGE on failure. */
int cli_set(struct sg_config *cfg, const char *key, const char *value);

#define CLI_MAX_SETS 64

/* The --set KEY=VALUE arguments of one command line, in order. Borrowed from argv. */
struct cli_sets {
    const char *arg[CLI_MAX_SETS];
    int n;
};

/* A flag that stands for a config key (--db for stream.db); value NULL: flag not given. */
struct cli_flag_key {
    const char *key, *value;
};

/* Records one --set argument. Returns EXIT_OK, or EXIT_USAGE after printing
 * "streamguard <cmd>: --set needs KEY=VALUE" (no '=', or more than CLI_MAX_SETS). */
int cli_sets_add(struct cli_sets *s, const char *cmd, const char *arg);

/* Loads the file (cli_load_config), applies `sets` in order (NULL: none), then each flag in
 * `flags` that has a value, so a flag wins over --set and --set over the file, then sets the
 * log level (log.level). Stops at the first error and prints it. Returns EXIT_OK or
 * EXIT_USAGE. */
int cli_configure(struct sg_config *cfg, const char *path, const struct cli_sets *sets,
                  const struct cli_flag_key *flags, size_t nflags);

/* Prints "streamguard <cmd>: <message>" plus a --help hint on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Flushes stdout and checks it (a full disk or closed pipe must not pass silently).
 * Returns `code`, or EXIT_RUNTIME if stdout failed. */
int cli_finish(int code);

/* Installs SIGINT/SIGTERM handlers that set the returned flag (SIGPIPE is ignored). */
volatile int *cli_stop_flag(void);

#endif
