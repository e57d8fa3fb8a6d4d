/* cmd_config.c: `streamguard config dump|check|docs` - the configuration as StreamGuard
 * sees it after the file and --set overrides. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/sg_buf.h"
#include "kafka/sg_kafka.h"

static void help(void)
{
    printf("usage: streamguard config <dump|check|docs> [--config FILE] [--defaults] "
           "[--set KEY=VALUE]...\n\n"
           "  dump        print the effective configuration as YAML\n"
           "  check       validate the file (kafka: keys with librdkafka too); exit 0 if it\n"
           "              is good, 2 with file:line (or the bad kafka property) if not\n"
           "  docs        print the Markdown reference (docs/CONFIG.md)\n\n"
           "  -c, --config FILE   configuration file (default conf/streamguard.yaml if present)\n"
           "      --defaults      dump the built-in defaults with help comments (ignores files)\n"
           "      --set KEY=VALUE override one key (repeatable)\n"
           "  -h, --help          this help\n");
}

/* `check` also hands the kafka: section to librdkafka's own validation (unknown properties,
 * bad values), which otherwise happens only when stream/batch/generate start. Errors that
 * librdkafka reports only when a client is created (e.g. an unsupported SASL mechanism) are
 * not caught here. */
static int check_kafka(const struct sg_config *cfg)
{
    char err[512];
    rd_kafka_conf_t *conf = sg_kafka_conf_new(cfg, NULL, err, sizeof err);
    if (!conf) {
        fprintf(stderr, "streamguard config: %s\n", err);
        return EXIT_USAGE;
    }
    rd_kafka_conf_destroy(conf);
    return EXIT_OK;
}

int cmd_config(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"defaults", no_argument, NULL, 'd'},
        {"set", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    int defaults = 0;
    struct sg_config cfg;
    sg_config_init(&cfg);
    int rc = EXIT_OK;
    struct cli_sets sets = {0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'd': defaults = 1; break;
        case 's':
            if ((rc = cli_sets_add(&sets, "config", optarg)) != EXIT_OK)
                goto out;
            break;
        case 'h': help(); rc = cli_finish(EXIT_OK); goto out;
        case ':': rc = cli_usage_error("config", "option '%s' needs a value", argv[optind - 1]); goto out;
        default: rc = cli_usage_error("config", "unknown option '%s'", argv[optind - 1]); goto out;
        }
    }
    if (optind >= argc) {
        rc = cli_usage_error("config", "missing action: dump, check or docs");
        goto out;
    }
    const char *action = argv[optind];
    if (strcmp(action, "dump") && strcmp(action, "check") && strcmp(action, "docs")) {
        rc = cli_usage_error("config", "unknown action '%s'", action);
        goto out;
    }
    if (!defaults && (rc = cli_configure(&cfg, path, &sets, NULL, 0)) != EXIT_OK)
        goto out;
    if (!strcmp(action, "check") && (rc = check_kafka(&cfg)) != EXIT_OK)
        goto out;
    struct sg_buf out;
    sg_buf_init(&out);
    if (!strcmp(action, "dump"))
        sg_config_dump(&cfg, defaults, &out);
    else if (!strcmp(action, "docs"))
        sg_config_docs(&out);
    else
        sg_buf_printf(&out, "configuration ok\n");
    fwrite(out.data, 1, out.len, stdout);
    sg_buf_release(&out);
    rc = cli_finish(EXIT_OK);
out:
    sg_config_release(&cfg);
    return rc;
}
