/* cmd_serve.c: `streamguard serve` - the HTTP API, dashboard and /metrics over the speed
 * layer's RocksDB (followed while `stream` writes) and the batch layer's output directory.
 * Runs until SIGINT/SIGTERM. The server itself is src/serving/sg_serve.c. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "serving/sg_serve.h"

static void help(void)
{
    printf("usage: streamguard serve [options]\n\n"
           "Serves the JSON API (docs/API.md), the dashboard at / and Prometheus /metrics.\n"
           "Reads the speed layer's store while `streamguard stream` writes it, and the\n"
           "latest output of `streamguard batch`. Stops cleanly on SIGINT/SIGTERM.\n\n"
           "  -d, --db DIR           speed layer RocksDB directory (serve.db, default "
           "data/stream.db)\n"
           "  -b, --batch-dir DIR    batch output directory (serve.batch_dir, default "
           "data/batch)\n"
           "  -l, --listen HOST:PORT address to bind (serve.listen, default 127.0.0.1:8080;\n"
           "                         port 0 picks a free port; the bound address is printed)\n"
           "  -t, --token-file FILE  require 'Authorization: Bearer <token>' with the token in\n"
           "                         FILE on every endpoint but /health and the dashboard page\n"
           "      --threads N        HTTP worker threads (default 2)\n"
           "  -c, --config FILE      configuration file (default conf/streamguard.yaml if "
           "present)\n"
           "      --set KEY=VALUE    override one configuration key (repeatable); rows older\n"
           "                         than stream.retention (as the speed layer sees them) are\n"
           "                         not served\n"
           "  -h, --help             this help\n\n"
           "exit codes: 0 stopped by a signal, 1 runtime failure, 2 usage or configuration\n"
           "error, 3 the port could not be bound\n");
}

/* Reads the token (first line, surrounding whitespace removed). Returns EXIT_OK or prints. */
static int read_token(const char *path, char **out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "streamguard serve: --token-file %s: %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    char line[1024];
    const char *got = fgets(line, sizeof line, f);
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0044))
        fprintf(stderr, "streamguard serve: warning: %s is readable by other users\n", path);
    fclose(f);
    size_t n = got ? strlen(line) : 0;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!got || strlen(p) < 8) {
        fprintf(stderr, "streamguard serve: --token-file %s: the token must be at least 8 "
                        "characters on the first line\n", path);
        return EXIT_USAGE;
    }
    *out = sg_xstrdup(p);
    return EXIT_OK;
}

struct serve_args {
    const char *config, *db, *batch_dir, *listen, *token_file;
    struct cli_sets sets;
    unsigned threads;
};

/* Parses the options; returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, struct serve_args *a)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},         {"batch-dir", required_argument, NULL, 'b'},
        {"listen", required_argument, NULL, 'l'},     {"token-file", required_argument, NULL, 't'},
        {"threads", required_argument, NULL, 'T'},    {"config", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:b:l:t:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': a->db = optarg; break;
        case 'b': a->batch_dir = optarg; break;
        case 'l': a->listen = optarg; break;
        case 't': a->token_file = optarg; break;
        case 'c': a->config = optarg; break;
        case 'T': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 64)
                return cli_usage_error("serve", "--threads must be 1..64, got '%s'", optarg);
            a->threads = (unsigned)n;
            break;
        }
        case 's':
            if (cli_sets_add(&a->sets, "serve", optarg) != EXIT_OK)
                return EXIT_USAGE;
            break;
        case 'h': help(); return cli_finish(EXIT_OK);
        case ':': return cli_usage_error("serve", "option '%s' needs a value", argv[optind - 1]);
        default: return cli_usage_error("serve", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    return -1;
}

static int apply_config(struct sg_config *cfg, const struct serve_args *a)
{
    const struct cli_flag_key flags[] = {
        {"serve.db", a->db},
        {"serve.batch_dir", a->batch_dir},
        {"serve.listen", a->listen},
        {"serve.token_file", a->token_file},
    };
    return cli_configure(cfg, a->config, &a->sets, flags, sizeof flags / sizeof flags[0]);
}

int cmd_serve(int argc, char **argv)
{
    struct serve_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    struct sg_config cfg;
    sg_config_init(&cfg);
    char *token = NULL;
    struct sg_serve *s = NULL;
    if ((rc = apply_config(&cfg, &a)) != EXIT_OK)
        goto out;
    if (cfg.serve.token_file[0] && (rc = read_token(cfg.serve.token_file, &token)) != EXIT_OK)
        goto out;
    volatile int *stop = cli_stop_flag();
    struct sg_serve_opts o = {.db = cfg.serve.db, .batch_dir = cfg.serve.batch_dir,
                              .listen = cfg.serve.listen, .token = token, .threads = a.threads,
                              .retention_ms = cfg.stream.retention_ms};
    char err[512];
    int src = sg_serve_start(&o, &s, err, sizeof err);
    if (src != SG_OK) {
        fprintf(stderr, "streamguard serve: %s\n", err);
        rc = src == SG_ERR_CONFIG ? EXIT_USAGE : src == SG_ERR_UNAVAILABLE ? EXIT_UNAVAIL
                                                                            : EXIT_RUNTIME;
        goto out;
    }
    char addr[128];
    sg_serve_address(s, addr, sizeof addr);
    printf("streamguard serve: listening on http://%s/ (store %s, batch %s%s)\n", addr,
           cfg.serve.db, cfg.serve.batch_dir, token ? ", token required" : "");
    if (cli_finish(EXIT_OK) != EXIT_OK) {
        rc = EXIT_RUNTIME;
        goto out;
    }
    while (!*stop) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    sg_log_info("serve: shutting down");
    rc = EXIT_OK;
out:
    sg_serve_stop(s);
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    sg_config_release(&cfg);
    return cli_finish(rc);
}
