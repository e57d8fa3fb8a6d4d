/* sg_detect: the speed layer's detectors and how their findings combine into one score.
 * Each detector lives in its own file src/speed/sg_det_<name>.c and is declared here (one
 * header for the family keeps the detector files free of boilerplate); the maths of each is
 * in docs/DETECTION.md. Detectors compare ONE event with the user's profile as it was before
 * the event; they never modify the profile (sg_user_update does, afterwards). */
#ifndef SG_DETECT_H
#define SG_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"
#include "core/sg_event.h"
#include "speed/sg_user.h"

#define SG_FINDINGS_MAX 16

enum sg_severity { SG_SEV_LOW = 0, SG_SEV_MEDIUM, SG_SEV_HIGH, SG_SEV_CRITICAL, SG_SEV_COUNT };

/* Tunables (defaults from sg_detect_params_init). */
struct sg_detect_params {
    uint32_t warmup_events; /* a user is "established" after this many events ... */
    int64_t warmup_ms;      /* ... spanning at least this long */
    double threshold;       /* composite score from which an event is an anomaly */
    int64_t fail_window_ms; /* failure burst window */
    uint32_t fail_burst;    /* failures in the window that make a burst */
    uint32_t spray_targets; /* distinct targets among them that make spraying */
    double travel_kmh;      /* faster than this between two fixes is impossible */
    double travel_min_km;   /* ... if they are at least this far apart */
};

/* One detector's verdict: reason name, score in [0,1], weight in [0,1], and its contributing
 * values as a JSON object body (without braces) at [detail_off, detail_off+detail_len) of the
 * findings' detail buffer. */
struct sg_finding {
    const char *reason; /* static string: "new_country", "failed_burst", ... */
    double score, weight;
    size_t detail_off, detail_len;
};

struct sg_findings {
    size_t n;
    struct sg_finding f[SG_FINDINGS_MAX];
    struct sg_buf detail;
};

void sg_detect_params_init(struct sg_detect_params *p);

/* Findings: init once, reset per event, release at the end. */
void sg_findings_init(struct sg_findings *fs);
void sg_findings_reset(struct sg_findings *fs);
void sg_findings_release(struct sg_findings *fs);
/* Starts a finding; values added next belong to it. Ignored beyond SG_FINDINGS_MAX. */
void sg_findings_add(struct sg_findings *fs, const char *reason, double score, double weight);
void sg_findings_num(struct sg_findings *fs, const char *key, double v);
void sg_findings_str(struct sg_findings *fs, const char *key, const char *s, size_t n);

/* 1 when the profile has enough history for baseline detectors. */
int sg_detect_established(const struct sg_user_state *u, const struct sg_detect_params *p);

/* Runs every detector on `ev` against `u`, appending findings to `out` (reset first). */
void sg_detect_run(const struct sg_user_state *u, const struct sg_event *ev,
                   const struct sg_detect_params *p, struct sg_findings *out);

/* Composite score in [0,1]: 1 - prod(1 - weight_i * score_i) (a noisy-OR of the findings). */
double sg_detect_score(const struct sg_findings *fs);

/* Severity of a composite score, or -1 below the threshold:
 * [threshold, 0.6) low, [0.6, 0.75) medium, [0.75, 0.9) high, >= 0.9 critical. */
int sg_detect_severity(double score, double threshold);
const char *sg_detect_severity_name(int sev); /* "low" .. "critical" */

/* ---- the detectors (one file each) ------------------------------------------------------ */
void sg_det_new_entity(const struct sg_user_state *u, const struct sg_event *ev,
                       const struct sg_detect_params *p, struct sg_findings *out);
void sg_det_unusual_hour(const struct sg_user_state *u, const struct sg_event *ev,
                         const struct sg_detect_params *p, struct sg_findings *out);
void sg_det_failure_burst(const struct sg_user_state *u, const struct sg_event *ev,
                          const struct sg_detect_params *p, struct sg_findings *out);
void sg_det_impossible_travel(const struct sg_user_state *u, const struct sg_event *ev,
                              const struct sg_detect_params *p, struct sg_findings *out);
void sg_det_volume_spike(const struct sg_user_state *u, const struct sg_event *ev,
                         const struct sg_detect_params *p, struct sg_findings *out);
void sg_det_process(const struct sg_user_state *u, const struct sg_event *ev,
                    const struct sg_detect_params *p, struct sg_findings *out);
void sg_det_sensitive_file(const struct sg_user_state *u, const struct sg_event *ev,
                           const struct sg_detect_params *p, struct sg_findings *out);
void sg_det_dns_tunnel(const struct sg_user_state *u, const struct sg_event *ev,
                       const struct sg_detect_params *p, struct sg_findings *out);
void sg_det_rate_spike(const struct sg_user_state *u, const struct sg_event *ev,
                       const struct sg_detect_params *p, struct sg_findings *out);
void sg_det_admin_fanout(const struct sg_user_state *u, const struct sg_event *ev,
                         const struct sg_detect_params *p, struct sg_findings *out);
void sg_det_model(const struct sg_user_state *u, const struct sg_event *ev,
                  const struct sg_detect_params *p, struct sg_findings *out);
/* Runs last: looks at the findings the others produced for this event. */
void sg_det_followup(const struct sg_user_state *u, const struct sg_event *ev,
                     const struct sg_detect_params *p, struct sg_findings *out);

/* Helpers shared by detectors and the profile. */
int sg_det_sensitive_path(const char *path, size_t n); /* 1 for credential/system files */
double sg_det_entropy(const char *s, size_t n);        /* Shannon entropy, bits per byte */
double sg_det_haversine_km(double lat1, double lon1, double lat2, double lon2);

#endif
