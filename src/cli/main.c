/* main.c: `streamguard <command> [options]` - the sorted command table and the global
 * options. Each command lives in cmd_<name>.c. */
#include "cli/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

/* Sorted by name. */
static const struct command commands[] = {
    {"batch", cmd_batch, "learn user behaviour from the event history, flag anomalous users"},
    {"broker", cmd_broker, "run an in-memory development Kafka (librdkafka mock)"},
    {"config", cmd_config, "show, check or document the configuration"},
    {"demo", cmd_demo, "run the whole pipeline on this machine (broker, stream, batch, serve)"},
    {"generate", cmd_generate, "generate realistic security events with labelled attacks"},
    {"serve", cmd_serve, "HTTP API, dashboard and /metrics over the store and batch output"},
    {"stream", cmd_stream, "speed layer: detect anomalies in the event stream in real time"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: streamguard [--version] [--help] <command> [options]\n\n"
               "Real-time and batch security analytics over a Kafka stream of security "
               "events.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'streamguard <command> --help' describes a command's options.\n\n"
               "exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error,\n"
               "            3 dependency unavailable (broker, port, database)\n");
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "streamguard%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'streamguard %s%s--help')\n", cmd ? cmd : "", cmd ? " " : "");
    return EXIT_USAGE;
}

int cli_finish(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "streamguard: error writing to standard output: %s\n", strerror(errno));
        return code == EXIT_OK ? EXIT_RUNTIME : code;
    }
    return code;
}

static volatile int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

volatile int *cli_stop_flag(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* a closed terminal: stop as cleanly as on SIGTERM rather than die mid-batch */
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return &stop_flag;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return cli_finish(EXIT_OK);
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("streamguard %s\n", SG_VERSION);
        return cli_finish(EXIT_OK);
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    if (cmd[0] == '-')
        return cli_usage_error(NULL, "unknown option '%s'", cmd);
    return cli_usage_error(NULL, "unknown command '%s'", cmd);
}
