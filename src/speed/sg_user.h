/* sg_user: the speed layer's per-user behaviour profile - fixed-size, bounded memory - its
 * update with one event, and its compact, deterministic binary form stored in RocksDB (and a
 * JSON view for the serving layer). Detectors read it (src/speed/sg_det_*.c); it does not
 * detect anything itself. Only event time is used, never the wall clock, so replaying the
 * same events always yields the same bytes. */
#ifndef SG_USER_H
#define SG_USER_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"
#include "core/sg_event.h"

#define SG_USER_IPS 16
#define SG_USER_HOSTS 8
#define SG_USER_COUNTRIES 8
#define SG_USER_PROCS 16
#define SG_USER_FAILS 16      /* failures remembered for the burst window */
#define SG_USER_ADMIN 8       /* admin-port connections remembered for the fan-out window */
#define SG_USER_NAME 32       /* bytes of a remembered value kept for display */
#define SG_USER_HOW 168       /* hours in a week */

/* One remembered value (an IP, host, country or process) with how often and when last seen. */
struct sg_seen {
    uint64_t hash;  /* identity: sg_hash of the full value */
    uint32_t count;
    int64_t last_ms;
    char name[SG_USER_NAME]; /* the value, truncated, NUL-terminated */
};

/* A bounded set: when full, the least frequent value (oldest on ties) is evicted; `distinct`
 * counts every value ever added, evicted or not (it estimates the chance of a new value). */
struct sg_seen_set {
    uint8_t n;
    uint32_t distinct;
    uint32_t total;
};

/* An exponentially weighted mean and variance. */
struct sg_ewma {
    double mean, var;
    uint32_t n;
};

struct sg_user_state {
    /* the Kafka partition of the user's events (events are keyed by user), -1 = unknown: the
     * changelog (speed/sg_changelog.h) publishes a partition's profiles by it */
    int32_t partition;
    int64_t first_ms, last_ms;
    uint64_t n_events;
    uint16_t how[SG_USER_HOW];           /* hour-of-week activity (UTC), halved when full */
    uint32_t type_count[SG_EV_TYPE_COUNT];
    struct sg_seen_set ip_set, host_set, country_set, proc_set;
    struct sg_seen ips[SG_USER_IPS], hosts[SG_USER_HOSTS], countries[SG_USER_COUNTRIES],
        procs[SG_USER_PROCS];
    /* failures: ring of (time, target hash) */
    int64_t fail_ms[SG_USER_FAILS];
    uint64_t fail_target[SG_USER_FAILS];
    uint8_t fail_head, fail_n;
    uint64_t n_failures;
    /* connections to remote-administration ports: ring of (time, destination hash) */
    int64_t adm_ms[SG_USER_ADMIN];
    uint64_t adm_dst[SG_USER_ADMIN];
    uint8_t adm_head, adm_n;
    /* activity rate: events in the current minute, EWMA over active minutes */
    int64_t rate_minute;
    uint32_t rate_count;
    struct sg_ewma rate;
    /* data volume: log1p(bytes_sent) of network events */
    struct sg_ewma volume;
    /* DNS: query name length */
    struct sg_ewma dns_len;
    /* last location */
    int has_loc;
    double lat, lon;
    int64_t loc_ms;
    /* sensitive file accesses seen, and those in the current one-hour window */
    uint32_t sensitive_n;
    int64_t sens_win_ms;
    uint32_t sens_win_n;
    /* batch model: the user's anomaly score in [0,1], 0.5 = the model's own threshold
     * (negative = no model opinion); computed by sg_rolling from the rolling features */
    double model_score;
    /* rolling features (speed/sg_rolling.h): the model whose window they follow (its id, 0 =
     * none) and how many events they folded */
    uint64_t roll_model;
    uint32_t roll_n;
    /* the user's last anomaly: time and composite score (0 = none) */
    int64_t risk_ms;
    double risk;
};

/* Initialises an empty profile. */
void sg_user_init(struct sg_user_state *u);

/* The partition recorded in an encoded profile without decoding the rest: -1 when unknown
 * (format versions 1 and 2, replays of files record 0) or when the blob is not a profile. */
int32_t sg_user_blob_partition(const void *blob, size_t len);

/* Folds the event into the profile (after the detectors looked at it). */
void sg_user_update(struct sg_user_state *u, const struct sg_event *ev);

struct sg_baseline;

/* Warm start: seeds a brand-new profile from the batch layer's baseline of the user (usual
 * local hours, top IPs and locations with their shares, bytes per event) as if `pseudo`
 * events had been seen over the week before `ts`, so the user is established at once. */
void sg_user_warm_start(struct sg_user_state *u, const struct sg_baseline *b, int64_t ts,
                        uint32_t pseudo);

/* Remembers that the event at `ts` was an anomaly with composite `score`. */
void sg_user_note_anomaly(struct sg_user_state *u, int64_t ts, double score);

/* Looks a value up in a set; returns its entry or NULL. */
const struct sg_seen *sg_user_seen_find(const struct sg_seen *arr, const struct sg_seen_set *set,
                                        const char *v, size_t n);

/* Country code of a geo_location "CC-ST-City" (the part before the first '-'); sets *n. */
const char *sg_user_country(const struct sg_event *ev, size_t *n);

/* 1 for a network event to a remote-administration port (SSH, SMB, RDP, WinRM, RPC). */
int sg_user_admin_port(const struct sg_event *ev);

/* Hour of week (0 = Monday 00:00 UTC .. 167) of an epoch-ms time. */
int sg_user_hour_of_week(int64_t ms);

/* Appends the compact binary form (varints, only used entries). Deterministic. */
void sg_user_encode(const struct sg_user_state *u, struct sg_buf *out);
/* Decodes a blob written by sg_user_encode. Returns SG_OK or SG_ERR_FORMAT (then `u` is
 * re-initialised: a corrupt profile restarts learning rather than stopping the stream). */
int sg_user_decode(struct sg_user_state *u, const void *blob, size_t len);
/* Appends a JSON view of the profile (for the serving layer and debugging). */
void sg_user_to_json(const struct sg_user_state *u, struct sg_buf *out);

/* EWMA update with smoothing factor alpha (the first sample sets the mean). */
void sg_ewma_add(struct sg_ewma *e, double x, double alpha);

#endif
