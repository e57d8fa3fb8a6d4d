/* sg_config: StreamGuard's configuration, one declarative table (sg_config.c) that drives
 * defaults, YAML parsing (libyaml), validation, command-line overrides, `config dump`,
 * conf/streamguard.yaml and docs/CONFIG.md. Keys are dotted paths of nested YAML mappings
 * ("batch.trees"); keys under "kafka." are passed to librdkafka verbatim. */
#ifndef SG_CONFIG_H
#define SG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"

#define SG_CONFIG_MAX_KAFKA 64

struct sg_config {
    struct {
        char *level;
    } log;
    struct {
        char *events, *anomalies, *dlq, *changelog;
    } topics;
    struct {
        int64_t users, events, days, rate, seed;
        double attack_users;
        char *start;
    } generate;
    struct {
        int64_t partitions, brokers;
    } broker;
    struct {
        char *group, *db, *metrics_listen, *model;
        int64_t retention_ms, batch_size, alerts;
        int64_t broker_timeout_ms;
        int64_t changelog, changelog_interval_ms, changelog_dedup_messages;
    } stream;
    struct {
        char *algorithm, *k, *output, *group;
        int64_t trees, sample_size, seed, threads, max_events;
        double contamination, max_invalid_ratio;
    } batch;
    struct {
        char *listen, *db, *batch_dir, *token_file;
    } serve;
    struct {
        char *compression;
        int64_t row_group_rows, page_bytes;
    } parquet;
    /* librdkafka properties from the kafka: section, in file order ("bootstrap.servers"). */
    size_t kafka_count;
    char *kafka_keys[SG_CONFIG_MAX_KAFKA];
    char *kafka_values[SG_CONFIG_MAX_KAFKA];
};

/* Fills every key with its default. Ownership: release with sg_config_release. */
void sg_config_init(struct sg_config *c);
void sg_config_release(struct sg_config *c);

/* Loads a YAML file over the current values. Unknown keys, bad values and YAML syntax errors
 * fail with "file:line: message" in errbuf. Returns SG_OK, SG_ERR_NOTFOUND or SG_ERR_CONFIG. */
int sg_config_load(struct sg_config *c, const char *path, char *errbuf, size_t errlen);

/* Sets one key from text (used for files and command-line flags), validating type and range.
 * Returns SG_OK or SG_ERR_CONFIG with a message in errbuf. */
int sg_config_set(struct sg_config *c, const char *key, const char *value, char *errbuf,
                  size_t errlen);

/* Returns the librdkafka value for `key` ("bootstrap.servers") or NULL. Borrowed. */
const char *sg_config_kafka_get(const struct sg_config *c, const char *key);

/* Appends the current values as YAML; with `comments`, each key's help and default too
 * (this is how conf/streamguard.yaml is produced). */
void sg_config_dump(const struct sg_config *c, int comments, struct sg_buf *out);

/* Appends docs/CONFIG.md's reference table (Markdown). */
void sg_config_docs(struct sg_buf *out);

#endif
