/* sg_features: the per-user behaviour features of StreamGuard (docs/FEATURES.md defines each).
 * One accumulator per user: sg_features_add() folds events in (timestamp order per user, as
 * Kafka keyed by user and the generator deliver them) in O(1) time and fixed memory, and
 * sg_features_finish() turns the state into SG_FEAT_COUNT doubles. Used by the batch layer for
 * the whole history and by the speed layer for rolling windows. Not a model, not a scaler. */
#ifndef SG_FEATURES_H
#define SG_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_event.h"

/* Bump when a definition changes; it is part of sg_features_hash(). */
#define SG_FEATURES_VERSION 1
#define SG_FEAT_COUNT 54

struct sg_feature_def {
    const char *name; /* snake_case column name */
    int log1p;        /* 1: models see log1p(value) (heavy-tailed counts and sizes) */
    const char *help; /* one line; docs/FEATURES.md has the precise definition */
};

/* Distinct-value counter: exact while at most `cap` distinct values were seen, then a KMV
 * (k minimum values) estimate (K-1)/h_K over the kept hashes; relative error ~1/sqrt(K-2). */
#define SG_KMV_MAX 32
struct sg_kmv {
    uint16_t n, cap;
    uint8_t saturated;
    uint64_t v[SG_KMV_MAX]; /* sorted ascending, the n smallest hashes seen */
};

/* Frequency table: exact counts of the first `SG_TOPK` distinct keys; later keys are not
 * tracked (counted as "rare" by the features that ask). Keeps a short text copy for baselines. */
#define SG_TOPK 16
#define SG_TOPK_TEXT 40
struct sg_topk {
    uint32_t n;
    uint64_t hash[SG_TOPK];
    uint32_t count[SG_TOPK];
    char text[SG_TOPK][SG_TOPK_TEXT]; /* "" when the key was longer than SG_TOPK_TEXT-1 */
};

/* The accumulator. Plain data of fixed size (no heap): copyable, resettable with init.
 * Fields are private to sg_features.c. */
struct sg_features {
    uint32_t n;
    int64_t first_ts, last_ts;
    uint32_t type_n[SG_EV_TYPE_COUNT], status_n[SG_STATUS_COUNT];
    double threat_sum, threat_max;
    uint32_t threat_high;
    uint32_t week_hour[7 * 24]; /* events by UTC weekday (0 = Sunday) x hour */
    double bytes_hour[24];      /* bytes_sent by UTC hour */
    uint32_t tz_votes[27];      /* events by round(geo_lon / 15) + 12 */
    struct sg_kmv days, src_ips, dst_ips, hosts, locations, countries, ports, qnames, procs;
    struct sg_topk src_top, dst_top, loc_top;
    uint32_t rare_ip_events;
    /* auth */
    uint32_t auth_failed, fail_streak, max_fail_streak, success_after_fail;
    /* inter-event intervals, seconds */
    uint32_t iv_n, iv_bursts;
    double iv_sum, iv_sumsq, iv_min;
    /* network */
    double bytes_total, bytes_max, bytes_rare;
    /* dns */
    uint32_t dns_n, dns_nx, dns_qlen_max, dns_iv_n;
    double dns_qlen_sum, dns_entropy_sum, dns_iv_sum, dns_iv_sumsq;
    int64_t dns_last_ts;
    /* process / file */
    uint32_t proc_priv, proc_unsigned, proc_tool, file_sensitive, file_denied, file_perm;
    /* geo */
    int has_last_geo;
    double last_lat, last_lon;
    int64_t last_geo_ts;
    double max_speed;
    uint32_t impossible_hops;
    uint64_t last_country;
    uint32_t fast_country_switch;
    /* memo of keyword matches (process names, command lines, paths repeat): hash -> result */
    uint64_t memo_key[16];
    uint8_t memo_val[16];
};

/* The feature table (SG_FEAT_COUNT entries, static). */
const struct sg_feature_def *sg_features_defs(void);

/* A stable 64-bit hash of SG_FEATURES_VERSION, every name and every log1p flag, in order.
 * Models record it; loading a model with a different hash fails. */
uint64_t sg_features_hash(void);

void sg_features_init(struct sg_features *f);
/* Folds one valid event in. `ev` is only read during the call. Thread-safety: one
 * accumulator per thread at a time. */
void sg_features_add(struct sg_features *f, const struct sg_event *ev);
/* Writes SG_FEAT_COUNT raw feature values (before log1p/scaling) to `out`. Pure. */
void sg_features_finish(const struct sg_features *f, double *out);
/* Nothing to free today; call it anyway (the struct may gain heap state). */
void sg_features_release(struct sg_features *f);

/* The user's usual timezone offset in hours (from the longitudes of the events; 0 = UTC when
 * no event carried coordinates). */
int sg_features_tz(const struct sg_features *f);

/* Per-user baseline for the speed layer: usual local hours, top IPs, top locations, rates. */
#define SG_BASELINE_TOP 5
struct sg_baseline {
    int tz_hours;
    double hour_share[24]; /* share of events per local hour */
    double events_per_day;
    double bytes_per_event;
    double failed_rate;
    int n_ips, n_locs;
    char ips[SG_BASELINE_TOP][SG_TOPK_TEXT];
    double ip_share[SG_BASELINE_TOP];
    char locs[SG_BASELINE_TOP][SG_TOPK_TEXT];
    double loc_share[SG_BASELINE_TOP];
};
void sg_features_baseline(const struct sg_features *f, struct sg_baseline *b);

#endif
