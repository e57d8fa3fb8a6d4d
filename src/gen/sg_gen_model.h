/* sg_gen_model: the generator's world model, internal to src/gen - places, roles and their
 * habits, one simulated user (identity, rhythm, novelty), a renderable event and its fast
 * events-v1 JSON rendering. sg_gen.c drives timelines; sg_gen_attack.c plans attacks.
 * Not a public API: only src/gen includes this header. */
#ifndef SG_GEN_MODEL_H
#define SG_GEN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"
#include "core/sg_rng.h"
#include "gen/sg_gen.h"

#define SG_GEN_HOUR_MS INT64_C(3600000)
#define SG_GEN_DAY_MS INT64_C(86400000)

enum sg_gen_place_kind { SG_PLACE_OFFICE = 0, SG_PLACE_TRAVEL, SG_PLACE_HOSTILE };

struct sg_gen_place {
    const char *geo;  /* "CC-ST-City" */
    const char *code; /* short code used in host names */
    double lat, lon;
    int tz_min;           /* UTC offset, minutes */
    uint8_t net_a, net_b; /* a public /16 that geolocates here (synthetic) */
    enum sg_gen_place_kind kind;
};

extern const struct sg_gen_place sg_gen_places[];
extern const size_t sg_gen_place_count;

/* Event types as numbers (same order as enum sg_event_type). */
enum { SG_GT_AUTH = 0, SG_GT_NET, SG_GT_FILE, SG_GT_PROC, SG_GT_DNS };
enum { SG_GS_SUCCESS = 0, SG_GS_FAILED, SG_GS_BLOCKED };

/* One event ready to render. Strings in fixed fields are generator-made; `path`, `cmd`
 * are escaped on output. Integers < 0 mean "absent". */
struct sg_gen_ev {
    int64_t ts;
    uint8_t type, status;
    int8_t scenario; /* -1 benign */
    uint16_t place;  /* index into sg_gen_places */
    double score;
    uint32_t session;
    char src_ip[16], dst_ip[16]; /* dst "" = absent */
    char host[32];
    const char *ua;
    const char *s1, *s2, *s3;   /* auth: type, failure | net: proto, state | file: op |
                                   proc: name, privileges | dns: qtype, rcode */
    int64_t n1, n2, n3, n4, n5; /* auth: attempts | net: sport, dport, sent, recv, dur |
                                   file: size | proc: pid, ppid | dns: ttl */
    int8_t b1, b2;              /* file: denied, perm_changed | proc: signed */
    char text[224];             /* file path | command line | dns query name */
};

struct sg_gen_user {
    struct sg_rng rng;
    uint32_t idx;
    char name[40];
    uint8_t name_len;
    uint8_t role;
    uint16_t home;
    int16_t tz_min;
    uint8_t work_start, work_len, remote; /* remote: works from home */
    uint8_t ua;
    uint16_t wks_no;
    double activity;
    /* habits: indices into the role's (and common) tables */
    uint8_t procs[6], domains[8], dirs[4], servers[3];
    /* benign novelty, as local-day numbers (days since 1970 in home time); -1 = none */
    int32_t trip_day, trip_len, laptop_day, late_day;
    uint16_t trip_place;
    int scenario; /* -1: not attacked */
};

/* Fills `u` (identity, role, home, habits, novelty) from the seed; deterministic in
 * (seed, idx). `first_lday`/`last_lday` bound the novelty days. */
void sg_gen_model_user_init(struct sg_gen_user *u, uint64_t seed, uint32_t idx, int64_t first_lday,
                            int64_t last_lday);

/* Relative activity of `u` in the hour starting at `t` (>= 0; 0 while flying). */
double sg_gen_model_hour_weight(const struct sg_gen_user *u, int64_t t);

/* Local day number of instant t for u (days since 1970-01-01 in home time). */
int64_t sg_gen_model_lday(const struct sg_gen_user *u, int64_t t);

/* Where u physically is at t (home or a trip destination). */
uint16_t sg_gen_model_place_at(const struct sg_gen_user *u, int64_t t);

/* Fills `ev` with a benign event of u at t, drawing from u->rng. */
void sg_gen_model_benign(struct sg_gen_user *u, int64_t t, struct sg_gen_ev *ev);

/* Common fields of an event of u at t at `place` (ips, host, ua, session, geo), type
 * not set: the base on which benign and attack events are built. */
void sg_gen_model_base(const struct sg_gen_user *u, int64_t t, uint16_t place,
                       struct sg_gen_ev *ev);

/* A threat score as a noisy sensor would give it; `attack` raises the mean. */
double sg_gen_model_score(struct sg_rng *r, int attack);

/* Appends a public IPv4 that geolocates to `place` ("a.b.c.d") into out[16]. */
void sg_gen_model_public_ip(uint16_t place, uint64_t h, char out[16]);

/* Appends ev as one events-v1 JSON object with the given 128-bit id. */
void sg_gen_model_render(const struct sg_gen_ev *ev, const struct sg_gen_user *u, uint64_t id_hi,
                         uint64_t id_lo, struct sg_buf *out);

/* Great-circle distance in km between two places. */
double sg_gen_model_km(uint16_t a, uint16_t b);

/* Small helpers shared with the attack planner. */
void sg_gen_model_ip4(char out[16], unsigned a, unsigned b, unsigned c, unsigned d);
int64_t sg_gen_model_lognormal(struct sg_rng *r, double median, double sigma);

#endif
