/* cli_config.c: how every subcommand turns its command line into a struct sg_config - the
 * file (or conf/streamguard.yaml), then --set KEY=VALUE in order, then the flags that stand
 * for a key (flags win). Prints the error and returns the exit code; never exits itself.
 * The keys, their types and ranges are src/core/sg_config.c's table, not this file's. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_log.h"

int cli_load_config(struct sg_config *cfg, const char *path)
{
    char err[512];
    const char *p = path;
    if (!p) {
        if (access("conf/streamguard.yaml", R_OK) != 0)
            return EXIT_OK;
        p = "conf/streamguard.yaml";
    }
    if (sg_config_load(cfg, p, err, sizeof err) != SG_OK) {
        fprintf(stderr, "streamguard: %s\n", err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_set(struct sg_config *cfg, const char *key, const char *value)
{
    char err[512];
    if (sg_config_set(cfg, key, value, err, sizeof err) != SG_OK) {
        fprintf(stderr, "streamguard: %s\n", err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int cli_sets_add(struct cli_sets *s, const char *cmd, const char *arg)
{
    if (s->n == CLI_MAX_SETS || !strchr(arg, '='))
        return cli_usage_error(cmd, "--set needs KEY=VALUE");
    s->arg[s->n++] = arg;
    return EXIT_OK;
}

/* Applies one "KEY=VALUE" (checked for '=' by cli_sets_add). A key longer than the buffer
 * is cut, and the table then reports it as unknown. */
static int apply_set(struct sg_config *cfg, const char *arg)
{
    char key[256];
    const char *eq = strchr(arg, '=');
    snprintf(key, sizeof key, "%.*s", (int)(eq - arg), arg);
    return cli_set(cfg, key, eq + 1);
}

int cli_configure(struct sg_config *cfg, const char *path, const struct cli_sets *sets,
                  const struct cli_flag_key *flags, size_t nflags)
{
    int rc = cli_load_config(cfg, path);
    for (int i = 0; rc == EXIT_OK && sets && i < sets->n; i++)
        rc = apply_set(cfg, sets->arg[i]);
    for (size_t i = 0; rc == EXIT_OK && i < nflags; i++)
        if (flags[i].value)
            rc = cli_set(cfg, flags[i].key, flags[i].value);
    if (rc == EXIT_OK)
        sg_log_set_level_name(cfg->log.level); /* the key's table checked the name */
    return rc;
}
