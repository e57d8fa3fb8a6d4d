/* sg_gen: the synthetic security-traffic generator behind `streamguard generate` and the demo.
 * Simulates users with stable habits (home, timezone, working hours, usual IPs and hosts, a
 * role shaping what they do), benign novelty, and attack scenarios injected into a fraction of
 * users, with ground truth kept aside (nothing in an event says it is an attack). Output is
 * events-v1 JSON in global timestamp order; the same options give byte-identical output.
 * It is not a traffic replayer and models no real organisation. */
#ifndef SG_GEN_H
#define SG_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"

/* Attack scenarios (docs/SCENARIOS.md). */
enum sg_gen_scenario {
    SG_SCN_BRUTE_FORCE = 0,   /* many failed logins from one external IP */
    SG_SCN_PASSWORD_SPRAY,    /* few failures per user from a shared set of IPs */
    SG_SCN_ACCOUNT_TAKEOVER,  /* failures then success from a new country, then odd activity */
    SG_SCN_IMPOSSIBLE_TRAVEL, /* activity from two far-apart places within an hour or two */
    SG_SCN_EXFILTRATION,      /* off-hours bulk reads and large uploads to rare destinations */
    SG_SCN_LATERAL_MOVEMENT,  /* admin tools, privilege escalation, many internal hosts */
    SG_SCN_DNS_TUNNEL,        /* periodic beacons: long random subdomains of one domain */
    SG_SCN_COUNT
};

enum sg_gen_role {
    SG_ROLE_ENGINEER = 0,
    SG_ROLE_ADMIN,
    SG_ROLE_FINANCE,
    SG_ROLE_CONTRACTOR,
    SG_ROLE_SERVICE,
    SG_ROLE_COUNT
};

struct sg_gen_opts {
    uint64_t seed;
    int64_t events;      /* exact number of events to produce (>= 0) */
    int64_t users;       /* >= 1 */
    double attack_users; /* fraction of users that are attacked, 0..1 */
    int64_t days;        /* span of the history, >= 1 */
    int64_t start_ms;    /* epoch ms of the first instant of the history */
    uint64_t id_salt;    /* 0, or mixed into event ids only: same users/events, new ids */
};

/* What the caller learns about each event besides its JSON (for in-process consumers and
 * tests; `scenario` is ground truth and must not be fed to detectors). */
struct sg_gen_meta {
    const char *user; /* borrowed, NUL-terminated, valid until sg_gen_free */
    size_t user_len;
    int64_t ts_ms;
    int scenario; /* enum sg_gen_scenario, or -1 for benign */
};

/* A simulated user, as the generator sees it (for tests and docs). */
struct sg_gen_user_info {
    const char *name; /* borrowed until sg_gen_free */
    enum sg_gen_role role;
    const char *home;    /* "CC-ST-City" */
    int tz_offset_min;   /* home UTC offset in minutes (no DST) */
    int work_start_hour; /* local hour the working day starts */
    int work_hours;      /* length of the working day */
    int scenario;        /* injected scenario or -1 */
};

struct sg_gen;

/* Creates a generator. Validates the options (errors in errbuf, returns NULL). Cost is linear
 * in users x days; memory is about 1 KiB per user plus the planned attack events.
 * Ownership: free with sg_gen_free. Thread-safety: one generator per thread. */
struct sg_gen *sg_gen_new(const struct sg_gen_opts *opts, char *errbuf, size_t errlen);
void sg_gen_free(struct sg_gen *g);

/* Appends the next event (one JSON object, no newline) to `json_out` and fills `meta`
 * (may be NULL). Events come in non-decreasing timestamp order over all users.
 * Returns 1 when an event was appended, 0 when all opts.events have been produced. */
int sg_gen_next(struct sg_gen *g, struct sg_buf *json_out, struct sg_gen_meta *meta);

/* Number of events produced so far. */
int64_t sg_gen_count(const struct sg_gen *g);

/* Appends the ground truth as JSON Lines, one record per attacked user that has produced at
 * least one attack event so far, in user order:
 * {"user":..,"scenario":..,"start_ms":..,"end_ms":..,"event_ids":[..]}\n */
void sg_gen_truth(const struct sg_gen *g, struct sg_buf *out);

/* Number of simulated users / attacked users; details of user `i` (0 <= i < users). */
size_t sg_gen_user_count(const struct sg_gen *g);
size_t sg_gen_attacker_count(const struct sg_gen *g);
void sg_gen_user_info(const struct sg_gen *g, size_t i, struct sg_gen_user_info *out);

const char *sg_gen_scenario_name(int scenario); /* "brute_force", ...; "benign" for -1 */
const char *sg_gen_role_name(int role);         /* "engineer", ... */

#endif
