/* sg_config: the declarative configuration table and everything it drives.
 * To add a key: add a field to struct sg_config and one row to `table` below; parsing,
 * validation, dump, conf/streamguard.yaml and docs/CONFIG.md follow (a unit test checks the
 * committed conf/ and docs/ files are up to date: regenerate with `streamguard config dump
 * --defaults > conf/streamguard.yaml` and `streamguard config docs > docs/CONFIG.md`). */
#include "core/sg_config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_time.h"

enum kind { K_STR, K_INT, K_DOUBLE, K_BOOL, K_DURATION };

struct key {
    const char *name;
    enum kind kind;
    const char *def;
    double min, max; /* numeric kinds only */
    const char *help;
    size_t off;
    const char *choices; /* K_STR only: "a|b|c" allowed values, NULL = free text */
};

#define F(field) offsetof(struct sg_config, field)
#define NOLIM 0, 0

/* Rows omit `choices` when a string is free text: allow the short form. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct key table[] = {
    {"log.level", K_STR, "info", NOLIM, "operator log level", F(log.level), "error|warn|info|debug"},

    {"topics.events", K_STR, "security-events", NOLIM, "Kafka topic the events arrive on", F(topics.events)},
    {"topics.anomalies", K_STR, "security-anomalies", NOLIM, "Kafka topic anomalies are published to", F(topics.anomalies)},
    {"topics.dlq", K_STR, "security-events-dlq", NOLIM, "dead-letter topic for invalid messages", F(topics.dlq)},
    {"topics.changelog", K_STR, "streamguard-profiles-changelog", NOLIM, "profile snapshots per partition (stream.changelog): as many partitions as topics.events, cleanup.policy=compact", F(topics.changelog)},

    {"generate.users", K_INT, "1000", 1, 10000000, "number of simulated users", F(generate.users)},
    {"generate.events", K_INT, "100000", 0, 1e12, "number of events to generate", F(generate.events)},
    {"generate.days", K_INT, "7", 1, 3650, "days of history the events span", F(generate.days)},
    {"generate.attack_users", K_DOUBLE, "0.02", 0, 1, "fraction of users that are attacked", F(generate.attack_users)},
    {"generate.rate", K_INT, "0", 0, 1e9, "events per second when producing live (0 = as fast as possible)", F(generate.rate)},
    {"generate.seed", K_INT, "42", 0, 9.2e18, "random seed: the same seed gives byte-identical output", F(generate.seed)},
    {"generate.start", K_STR, "2026-11-01T00:00:00Z", NOLIM, "RFC 3339 start of the generated history", F(generate.start)},

    {"broker.partitions", K_INT, "16", 1, 10000, "partitions per topic of the development broker", F(broker.partitions)},
    {"broker.brokers", K_INT, "2", 1, 16, "brokers in the development cluster (2 lets a producer compress on two threads)", F(broker.brokers)},

    {"stream.group", K_STR, "streamguard-stream", NOLIM, "Kafka consumer group of the speed layer", F(stream.group)},
    {"stream.db", K_STR, "data/stream.db", NOLIM, "RocksDB directory of the speed layer", F(stream.db)},
    {"stream.metrics_listen", K_STR, "127.0.0.1:9108", NOLIM, "address of /metrics and /health", F(stream.metrics_listen)},
    {"stream.model", K_STR, "", NOLIM, "batch model directory to load (empty = none)", F(stream.model)},
    {"stream.retention", K_DURATION, "7d", 60000, 9.2e18, "how long events and anomalies are kept", F(stream.retention_ms)},
    {"stream.batch_size", K_INT, "16000", 1, 1000000, "max messages per batch (one RocksDB write each); a live stream writes whenever a poll comes back empty, so this bounds the batches of a backlog or a replay", F(stream.batch_size)},
    {"stream.alerts", K_BOOL, "true", NOLIM, "publish anomalies to topics.anomalies", F(stream.alerts)},
    {"stream.changelog", K_BOOL, "false", NOLIM, "publish profile snapshots to topics.changelog; a partition this store never saw is restored from the last one instead of replayed from the beginning", F(stream.changelog)},
    {"stream.changelog_interval", K_DURATION, "30s", 1000, 9.2e18, "how often the owned partitions' snapshots are published (also when partitions are revoked)", F(stream.changelog_interval_ms)},
    {"stream.changelog_dedup_messages", K_INT, "100000", 0, 10000000, "after a restore from the changelog, the event ids of this many input messages before the snapshot go into the dedup index (a later duplicate of one of them is recognised; ~60 bytes of memory each during the restore)", F(stream.changelog_dedup_messages)},
    {"stream.broker_timeout", K_DURATION, "10s", 1000, 9.2e18, "/health turns 503 after this long without an answer from any Kafka broker (consumer), or with the alerts/DLQ producer's messages queued and no delivery report (or after its last failed delivery)", F(stream.broker_timeout_ms)},

    {"batch.algorithm", K_STR, "ensemble", NOLIM, "model: ensemble is the rank average of both", F(batch.algorithm), "iforest|kmeans|ensemble"},
    {"batch.trees", K_INT, "100", 1, 100000, "Isolation Forest trees", F(batch.trees)},
    {"batch.sample_size", K_INT, "256", 2, 1000000, "Isolation Forest subsample size (psi)", F(batch.sample_size)},
    {"batch.k", K_STR, "5", NOLIM, "K-Means clusters, or auto (chosen by silhouette)", F(batch.k)},
    {"batch.contamination", K_DOUBLE, "0.1", 0, 0.5, "fraction of users labelled anomalous", F(batch.contamination)},
    {"batch.max_invalid_ratio", K_DOUBLE, "0.01", 0, 1, "fail the run if more of the input is invalid", F(batch.max_invalid_ratio)},
    {"batch.seed", K_INT, "7", 0, 9.2e18, "random seed of the models", F(batch.seed)},
    {"batch.threads", K_INT, "0", 0, 1024, "worker threads (0 = one per core)", F(batch.threads)},
    {"batch.output", K_STR, "data/batch", NOLIM, "output directory (replaced atomically)", F(batch.output)},
    {"batch.max_events", K_INT, "0", 0, 9.2e18, "stop reading after this many messages (0 = all)", F(batch.max_events)},
    {"batch.group", K_STR, "", NOLIM, "Kafka consumer group: start from its committed offsets (empty = earliest)", F(batch.group)},

    {"serve.listen", K_STR, "127.0.0.1:8080", NOLIM, "address of the HTTP API and dashboard", F(serve.listen)},
    {"serve.db", K_STR, "data/stream.db", NOLIM, "speed layer RocksDB to read", F(serve.db)},
    {"serve.batch_dir", K_STR, "data/batch", NOLIM, "batch output directory to read", F(serve.batch_dir)},
    {"serve.token_file", K_STR, "", NOLIM, "file holding a bearer token required by the API (empty = none)", F(serve.token_file)},

    {"parquet.compression", K_STR, "zstd", NOLIM, "Parquet compression codec", F(parquet.compression), "uncompressed|snappy|zstd"},
    {"parquet.row_group_rows", K_INT, "1000000", 1, 1e12, "max rows per row group", F(parquet.row_group_rows)},
    {"parquet.page_bytes", K_INT, "1048576", 4096, 1073741824, "target uncompressed page size", F(parquet.page_bytes)},
};

#pragma GCC diagnostic pop

#define NKEYS (sizeof table / sizeof table[0])

static const struct key *find(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

static int parse_bool(const char *v, int64_t *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
        *out = 1;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
        *out = 0;
    else
        return -1;
    return 0;
}

static int in_choices(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *c = choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && strncmp(c, v, n) == 0)
            return 1;
        c += len + (bar ? 1 : 0);
    }
    return 0;
}

/* Kafka's own rule for topic names. An empty one used to be accepted and every produce to it
 * failed at run time. */
static int valid_topic(const char *v)
{
    size_t len = strlen(v);
    if (len == 0 || len > 249 || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
        return 0;
    for (const char *c = v; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-')
            return 0;
    return 1;
}

static int set_key(struct sg_config *c, const struct key *k, const char *v, char *err, size_t n)
{
    char *base = (char *)c + k->off;
    char *end;
    switch (k->kind) {
    case K_STR: {
        if (k->choices && !in_choices(k->choices, v)) {
            snprintf(err, n, "%s: '%s' is not one of %s", k->name, v, k->choices);
            return SG_ERR_CONFIG;
        }
        if (strncmp(k->name, "topics.", 7) == 0 && !valid_topic(v)) {
            snprintf(err, n, "%s: '%s' is not a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)",
                     k->name, v);
            return SG_ERR_CONFIG;
        }
        char **p = (char **)(void *)base;
        free(*p);
        *p = sg_xstrdup(v);
        return SG_OK;
    }
    case K_BOOL: {
        if (parse_bool(v, (int64_t *)(void *)base) != 0) {
            snprintf(err, n, "%s: expected true or false, got '%s'", k->name, v);
            return SG_ERR_CONFIG;
        }
        return SG_OK;
    }
    case K_INT: {
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno || end == v || *end) {
            snprintf(err, n, "%s: expected an integer, got '%s'", k->name, v);
            return SG_ERR_CONFIG;
        }
        if ((double)x < k->min || (double)x > k->max) {
            snprintf(err, n, "%s: %lld is outside %.0f..%.0f", k->name, x, k->min, k->max);
            return SG_ERR_CONFIG;
        }
        *(int64_t *)(void *)base = x;
        return SG_OK;
    }
    case K_DOUBLE: {
        double x = strtod(v, &end);
        if (end == v || *end || !isfinite(x)) {
            snprintf(err, n, "%s: expected a number, got '%s'", k->name, v);
            return SG_ERR_CONFIG;
        }
        if (x < k->min || x > k->max) {
            snprintf(err, n, "%s: %g is outside %g..%g", k->name, x, k->min, k->max);
            return SG_ERR_CONFIG;
        }
        *(double *)(void *)base = x;
        return SG_OK;
    }
    case K_DURATION: {
        int64_t ms;
        if (sg_time_parse_duration(v, &ms) != SG_OK) {
            snprintf(err, n, "%s: expected a duration like 30s, 5m, 7d, got '%s'", k->name, v);
            return SG_ERR_CONFIG;
        }
        if ((double)ms < k->min || (double)ms > k->max) {
            snprintf(err, n, "%s: '%s' is out of range", k->name, v);
            return SG_ERR_CONFIG;
        }
        *(int64_t *)(void *)base = ms;
        return SG_OK;
    }
    }
    return SG_ERR_INTERNAL;
}

static int set_kafka(struct sg_config *c, const char *key, const char *v, char *err, size_t n)
{
    if (strlen(key) > 200) { /* librdkafka names are short; YAML keys are capped at 1024 */
        snprintf(err, n, "kafka: property name longer than 200 bytes");
        return SG_ERR_CONFIG;
    }
    for (size_t i = 0; i < c->kafka_count; i++) {
        if (strcmp(c->kafka_keys[i], key) == 0) {
            free(c->kafka_values[i]);
            c->kafka_values[i] = sg_xstrdup(v);
            return SG_OK;
        }
    }
    if (c->kafka_count == SG_CONFIG_MAX_KAFKA) {
        snprintf(err, n, "kafka: more than %d properties", SG_CONFIG_MAX_KAFKA);
        return SG_ERR_CONFIG;
    }
    c->kafka_keys[c->kafka_count] = sg_xstrdup(key);
    c->kafka_values[c->kafka_count] = sg_xstrdup(v);
    c->kafka_count++;
    return SG_OK;
}

int sg_config_set(struct sg_config *c, const char *key, const char *value, char *err, size_t n)
{
    if (strncmp(key, "kafka.", 6) == 0 && key[6])
        return set_kafka(c, key + 6, value, err, n);
    const struct key *k = find(key);
    if (!k) {
        snprintf(err, n, "unknown configuration key '%s'", key);
        return SG_ERR_CONFIG;
    }
    return set_key(c, k, value, err, n);
}

const char *sg_config_kafka_get(const struct sg_config *c, const char *key)
{
    for (size_t i = 0; i < c->kafka_count; i++)
        if (strcmp(c->kafka_keys[i], key) == 0)
            return c->kafka_values[i];
    return NULL;
}

void sg_config_init(struct sg_config *c)
{
    char err[256];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NKEYS; i++)
        if (set_key(c, &table[i], table[i].def, err, sizeof err) != SG_OK)
            abort(); /* a default that fails its own rule is a bug in the table */
}

void sg_config_release(struct sg_config *c)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (table[i].kind == K_STR)
            free(*(char **)(void *)((char *)c + table[i].off));
    for (size_t i = 0; i < c->kafka_count; i++) {
        free(c->kafka_keys[i]);
        free(c->kafka_values[i]);
    }
    memset(c, 0, sizeof *c);
}

/* YAML walk: nested mappings of scalars become dotted keys. */
#define MAX_DEPTH 8

int sg_config_load(struct sg_config *c, const char *path, char *err, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, n, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? SG_ERR_NOTFOUND : SG_ERR_CONFIG;
    }
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    char *stack[MAX_DEPTH] = {0};
    int depth = 0;       /* number of open mappings */
    int want_key[MAX_DEPTH + 1] = {0};
    int rc = SG_OK;
    int done = 0;
    while (!done && rc == SG_OK) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            snprintf(err, n, "%s:%zu: YAML error: %s", path, p.problem_mark.line + 1,
                     p.problem ? p.problem : "syntax error");
            rc = SG_ERR_CONFIG;
            break;
        }
        size_t line = ev.start_mark.line + 1;
        switch (ev.type) {
        case YAML_MAPPING_START_EVENT:
            if (depth >= MAX_DEPTH) {
                snprintf(err, n, "%s:%zu: nesting too deep", path, line);
                rc = SG_ERR_CONFIG;
                break;
            }
            if (depth > 0 && want_key[depth]) {
                snprintf(err, n, "%s:%zu: a mapping cannot be a key", path, line);
                rc = SG_ERR_CONFIG;
                break;
            }
            if (depth > 0)
                want_key[depth] = 1; /* the value of stack[depth-1] is this mapping */
            depth++;
            want_key[depth] = 1;
            break;
        case YAML_MAPPING_END_EVENT:
            depth--;
            if (depth > 0) {
                free(stack[depth - 1]);
                stack[depth - 1] = NULL;
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
            snprintf(err, n, "%s:%zu: lists are not supported here", path, line);
            rc = SG_ERR_CONFIG;
            break;
        case YAML_SCALAR_EVENT: {
            const char *s = (const char *)ev.data.scalar.value;
            if (depth == 0) {
                snprintf(err, n, "%s:%zu: expected a mapping of keys", path, line);
                rc = SG_ERR_CONFIG;
            } else if (want_key[depth]) {
                free(stack[depth - 1]);
                stack[depth - 1] = sg_xstrdup(s);
                want_key[depth] = 0;
            } else {
                struct sg_buf key;
                sg_buf_init(&key);
                for (int i = 0; i < depth; i++) {
                    if (i)
                        sg_buf_putc(&key, '.');
                    sg_buf_puts(&key, stack[i]);
                }
                char msg[256];
                int is_null = ev.data.scalar.plain_implicit && (!strcmp(s, "~") || !strcmp(s, "null") || !*s);
                if (is_null && !(strncmp(key.data, "kafka.", 6) == 0)) {
                    const struct key *k = find(key.data);
                    if (k && k->kind == K_STR) {
                        rc = set_key(c, k, "", msg, sizeof msg);
                    } else if (!k) {
                        snprintf(msg, sizeof msg, "unknown configuration key '%s'", key.data);
                        rc = SG_ERR_CONFIG;
                    } else {
                        snprintf(msg, sizeof msg, "%s: a value is required", key.data);
                        rc = SG_ERR_CONFIG;
                    }
                } else {
                    rc = sg_config_set(c, key.data, s, msg, sizeof msg);
                }
                if (rc != SG_OK)
                    snprintf(err, n, "%s:%zu: %s", path, line, msg);
                sg_buf_release(&key);
                want_key[depth] = 1;
            }
            break;
        }
        case YAML_ALIAS_EVENT:
            snprintf(err, n, "%s:%zu: aliases are not supported", path, line);
            rc = SG_ERR_CONFIG;
            break;
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    for (int i = 0; i < MAX_DEPTH; i++)
        free(stack[i]);
    yaml_parser_delete(&p);
    fclose(f);
    return rc;
}

/* Appends s as a YAML double-quoted scalar that loads back to s. A JSON string almost is one;
 * but YAML 1.1 (libyaml) takes NEL, LS and PS (U+0085, U+2028, U+2029) as line breaks,
 * folding them (and the spaces before them) when it reads the scalar back, and refuses the
 * other C1 controls and U+FFFE/U+FFFF as unprintable. Those the JSON writer copies raw are
 * escaped here (\uXXXX, an escape both have); everything else is the JSON writer's. */
static void yaml_str(struct sg_buf *out, const char *s)
{
    struct sg_buf j;
    sg_buf_init(&j);
    sg_buf_json_str(&j, s, strlen(s));
    const unsigned char *u = (const unsigned char *)j.data;
    size_t run = 0;
    for (size_t i = 0; i < j.len;) {
        size_t len = sg_utf8_break_len(j.data + i, j.len - i);
        if (!len && i + 2 < j.len && u[i] == 0xEF && u[i + 1] == 0xBF &&
            (u[i + 2] == 0xBE || u[i + 2] == 0xBF))
            len = 3; /* U+FFFE, U+FFFF */
        if (!len) {
            i++;
            continue;
        }
        unsigned cp = len == 2
                          ? u[i + 1]
                          : ((unsigned)(u[i] & 0x0F) << 12) | ((unsigned)(u[i + 1] & 0x3F) << 6) |
                                (unsigned)(u[i + 2] & 0x3F);
        sg_buf_append(out, j.data + run, i - run);
        sg_buf_printf(out, "\\u%04x", cp);
        i += len;
        run = i;
    }
    sg_buf_append(out, j.data + run, j.len - run);
    sg_buf_release(&j);
}

static void value_text(const struct sg_config *c, const struct key *k, struct sg_buf *out)
{
    const char *base = (const char *)c + k->off;
    switch (k->kind) {
    case K_STR: {
        const char *s = *(char *const *)(const void *)base;
        yaml_str(out, s);
        break;
    }
    case K_INT: sg_buf_printf(out, "%lld", (long long)*(const int64_t *)(const void *)base); break;
    case K_BOOL: sg_buf_puts(out, *(const int64_t *)(const void *)base ? "true" : "false"); break;
    case K_DOUBLE: sg_buf_json_double(out, *(const double *)(const void *)base); break;
    case K_DURATION: {
        int64_t ms = *(const int64_t *)(const void *)base;
        if (ms % 86400000 == 0) sg_buf_printf(out, "%lldd", (long long)(ms / 86400000));
        else if (ms % 3600000 == 0) sg_buf_printf(out, "%lldh", (long long)(ms / 3600000));
        else if (ms % 60000 == 0) sg_buf_printf(out, "%lldm", (long long)(ms / 60000));
        else if (ms % 1000 == 0) sg_buf_printf(out, "%llds", (long long)(ms / 1000));
        else sg_buf_printf(out, "%lldms", (long long)ms);
        break;
    }
    }
}

static size_t section_len(const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? (size_t)(dot - name) : 0;
}

void sg_config_dump(const struct sg_config *c, int comments, struct sg_buf *out)
{
    if (comments)
        sg_buf_puts(out, "# StreamGuard configuration: every key with its default.\n"
                         "# Generated by `streamguard config dump --defaults`; see docs/CONFIG.md.\n"
                         "# Command-line flags override these values.\n");
    const char *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &table[i];
        size_t sl = section_len(k->name);
        if (!prev || sl != prev_len || strncmp(prev, k->name, sl) != 0) {
            sg_buf_printf(out, "%s%.*s:\n", comments ? "\n" : "", (int)sl, k->name);
            prev = k->name;
            prev_len = sl;
        }
        if (comments)
            sg_buf_printf(out, "  # %s (default: %s)\n", k->help, k->def);
        sg_buf_printf(out, "  %s: ", k->name + sl + 1);
        value_text(c, k, out);
        sg_buf_putc(out, '\n');
    }
    if (comments)
        sg_buf_puts(out, "\n# librdkafka properties, passed through verbatim "
                         "(see librdkafka's CONFIGURATION.md).\n");
    if (c->kafka_count == 0) {
        /* The documented file shows the one property everybody sets; a plain dump shows
         * exactly what is configured. */
        sg_buf_puts(out, comments ? "kafka:\n  \"bootstrap.servers\": \"127.0.0.1:9092\"\n"
                                  : "kafka: {}\n");
        return;
    }
    sg_buf_puts(out, "kafka:\n");
    for (size_t i = 0; i < c->kafka_count; i++) {
        sg_buf_puts(out, "  ");
        yaml_str(out, c->kafka_keys[i]);
        sg_buf_puts(out, ": ");
        yaml_str(out, c->kafka_values[i]);
        sg_buf_putc(out, '\n');
    }
}

static const char *kind_name(enum kind k)
{
    switch (k) {
    case K_STR: return "string";
    case K_INT: return "integer";
    case K_DOUBLE: return "number";
    case K_BOOL: return "boolean";
    case K_DURATION: return "duration";
    }
    return "?";
}

void sg_config_docs(struct sg_buf *out)
{
    sg_buf_puts(out, "# Configuration reference\n\n"
                     "Generated by `streamguard config docs` from the table in "
                     "`src/core/sg_config.c`; do not edit by hand.\n\n"
                     "StreamGuard reads one YAML file (`--config FILE`, default "
                     "`conf/streamguard.yaml` when present). Nested mappings name the keys "
                     "below (`batch:` then `trees: 100` is `batch.trees`). Unknown keys are "
                     "errors reported as `file:line`. Command-line flags override the file. "
                     "Every key under `kafka:` is passed to librdkafka unchanged.\n\n"
                     "| key | type | default | range | meaning |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &table[i];
        sg_buf_printf(out, "| `%s` | %s | `%s` | ", k->name, kind_name(k->kind), k->def);
        if (k->choices)
            sg_buf_printf(out, "%s", k->choices);
        else if (k->kind == K_INT)
            sg_buf_printf(out, "%.0f..%.0f", k->min, k->max);
        else if (k->kind == K_DOUBLE)
            sg_buf_printf(out, "%g..%g", k->min, k->max);
        sg_buf_printf(out, " | %s |\n", k->help);
    }
    sg_buf_puts(out, "| `kafka.*` | string | | | any librdkafka property, e.g. "
                     "`kafka.bootstrap.servers`, `kafka.security.protocol`; given to every "
                     "client (consumers and producers alike), which ignores the other role's "
                     "properties (logged at debug) |\n");
}
