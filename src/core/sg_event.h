/* sg_event: the security event of ../shared/spec/events-v1.md as a C struct, its decoder
 * (JSON bytes -> struct, with a machine-readable reason when invalid) and its encoder
 * (struct -> canonical JSON). The decoder is schema-aware and single-pass: it is on the hot
 * path of both layers. It is not a general JSON parser. */
#ifndef SG_EVENT_H
#define SG_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"
#include "core/sg_mem.h"

#define SG_EVENT_MAX_BYTES (1024 * 1024) /* larger messages are invalid (too_large) */
#define SG_EVENT_MAX_DEPTH 64            /* deeper nesting of containers is too_deep */

enum sg_event_type {
    SG_EV_AUTH = 0,   /* auth_attempt */
    SG_EV_NETWORK,    /* network_connection */
    SG_EV_FILE,       /* file_access */
    SG_EV_PROCESS,    /* process_execution */
    SG_EV_DNS,        /* dns_query */
    SG_EV_TYPE_COUNT
};

enum sg_event_status { SG_STATUS_SUCCESS = 0, SG_STATUS_FAILED, SG_STATUS_BLOCKED, SG_STATUS_COUNT };

/* Why an event is invalid. The code's name (sg_event_reason_name) is the machine-readable
 * reason used in counters, metric labels, DLQ headers and reports. */
enum sg_event_reason {
    SG_REASON_NONE = 0,
    SG_REASON_INVALID_JSON,   /* not JSON / truncated / syntax error */
    SG_REASON_INVALID_UTF8,   /* bytes are not valid UTF-8 */
    SG_REASON_NOT_OBJECT,     /* top-level value is not an object */
    SG_REASON_TOO_LARGE,      /* message larger than SG_EVENT_MAX_BYTES */
    SG_REASON_TOO_DEEP,       /* nesting deeper than the decoder's limit */
    SG_REASON_MISSING_FIELD,  /* a required field is absent or null */
    SG_REASON_WRONG_TYPE,     /* a field has the wrong JSON type */
    SG_REASON_NOT_INTEGRAL,   /* a number where an integer is required has a fraction */
    SG_REASON_OUT_OF_RANGE,   /* a number outside its range */
    SG_REASON_BAD_ENUM,       /* a string not in its allowed set */
    SG_REASON_BAD_FORMAT,     /* a string that breaks its format rule (ip, id, timestamp...) */
    SG_REASON_COUNT
};

/* A decoded string: NUL-terminated, `len` bytes, never NULL (absent = "" with len 0 and the
 * matching has_ flag clear where the field is optional). */
struct sg_str {
    const char *p;
    uint32_t len;
};

struct sg_event {
    struct sg_str event_id;
    int64_t ts_ms;                 /* epoch milliseconds, UTC */
    enum sg_event_type type;
    struct sg_str user;
    struct sg_str source_ip;
    struct sg_str destination_ip;  /* len 0 when absent */
    enum sg_event_status status;   /* default success */
    double threat_score;           /* default 0 */

    /* metadata (all optional) */
    struct sg_str hostname, geo_location, user_agent, session_id;
    int has_geo;                   /* geo_lat and geo_lon both present */
    double geo_lat, geo_lon;

    /* Details of the event's own kind only; integers are -1 when absent, booleans -1/0/1,
     * strings len 0. Which member is meaningful (and initialised) follows `type`: change the
     * type of an initialised event with sg_event_set_type, which resets the details. */
    union sg_event_details {
        struct {
            struct sg_str auth_type, failure_reason;
            int64_t attempts_count;
        } auth;
        struct {
            struct sg_str protocol, connection_state;
            int32_t source_port, destination_port;
            int64_t bytes_sent, bytes_received, duration_ms;
        } net;
        struct {
            struct sg_str file_path, operation;
            int64_t file_size_bytes;
            int8_t access_denied, permissions_changed;
        } file;
        struct {
            struct sg_str process_name, command_line, user_privileges;
            int64_t process_id, parent_process_id;
            int8_t is_signed;
        } proc;
        struct {
            struct sg_str query_name, query_type, response_code;
            int64_t ttl;
        } dns;
    } d;
};

/* Details of a rejection: the reason code, the field it concerns ("" for whole-message
 * problems, "network_details.destination_port" for nested ones) and a one-line message. */
struct sg_event_error {
    enum sg_event_reason reason;
    char field[64];
    char message[160];
};

/* Decodes one JSON event of `len` bytes (need not be NUL-terminated; a trailing "\r" or
 * whitespace is fine). Strings are unescaped into `arena` and live until it is reset; each
 * call takes one block of len + 1 bytes (rounded up to 16) from the arena, accepted or not,
 * and never mallocs otherwise (except a temporary for a number token over 63 characters).
 * Returns SG_OK and fills `ev`, or SG_ERR_INVALID and fills `err` (if non-NULL; reason,
 * field, message - see docs/EVENTS.md) and leaves `ev` as sg_event_init made it.
 * Thread-safety: reentrant; one arena per thread. */
int sg_event_decode(const char *json, size_t len, struct sg_event *ev, struct sg_arena *arena,
                    struct sg_event_error *err);

/* Appends `ev` as one canonical JSON object (no newline) to `out`: only set fields, the
 * detail object named `<kind>_details`, timestamp as integer ms. decode(encode(e)) == e. */
void sg_event_encode(const struct sg_event *ev, struct sg_buf *out);

/* Initialises `ev` to an empty event of type SG_EV_AUTH with every optional field
 * absent/default (strings "" with len 0, integers -1, booleans -1, status success, score 0). */
void sg_event_init(struct sg_event *ev);

/* Sets ev->type to `t` and resets ev->d to "all absent" for that kind (the union members
 * overlap, so an event initialised for one kind does not read as empty for another). */
void sg_event_set_type(struct sg_event *ev, enum sg_event_type t);

/* Field-by-field equality of two events (strings by content, doubles by ==, details of the
 * shared type only). Used by round-trip tests and the fuzz oracle. Returns 1 if equal. */
int sg_event_equal(const struct sg_event *a, const struct sg_event *b);

const char *sg_event_type_name(enum sg_event_type t);     /* "auth_attempt", ... */
int sg_event_type_parse(const char *s, size_t n);         /* type or -1 */
const char *sg_event_status_name(enum sg_event_status s); /* "success", ... */
const char *sg_event_reason_name(enum sg_event_reason r); /* "missing_field", ... */

#endif
