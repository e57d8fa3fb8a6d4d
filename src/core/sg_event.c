/* sg_event: TEMPORARY stand-in decoder/encoder on the `speed` branch, built on cJSON, so the
 * speed layer can be tested before the real single-pass decoder (branch `events`) lands.
 * On merge, the `events` branch's version of this file wins entirely. It implements the
 * contract's main rules, not all of them (e.g. duplicate keys keep the FIRST value here). */
#include "core/sg_event.h"

#include <cJSON.h>
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_time.h"

static const char *const type_names[SG_EV_TYPE_COUNT] = {
    "auth_attempt", "network_connection", "file_access", "process_execution", "dns_query"};
static const char *const status_names[SG_STATUS_COUNT] = {"success", "failed", "blocked"};
static const char *const reason_names[SG_REASON_COUNT] = {
    "none",         "invalid_json", "invalid_utf8", "not_object",   "too_large",  "too_deep",
    "missing_field", "wrong_type",  "not_integral", "out_of_range", "bad_enum",   "bad_format"};

const char *sg_event_type_name(enum sg_event_type t)
{
    return (unsigned)t < SG_EV_TYPE_COUNT ? type_names[t] : "unknown";
}

int sg_event_type_parse(const char *s, size_t n)
{
    for (int i = 0; i < SG_EV_TYPE_COUNT; i++)
        if (strlen(type_names[i]) == n && memcmp(type_names[i], s, n) == 0)
            return i;
    return -1;
}

const char *sg_event_status_name(enum sg_event_status s)
{
    return (unsigned)s < SG_STATUS_COUNT ? status_names[s] : "unknown";
}

const char *sg_event_reason_name(enum sg_event_reason r)
{
    return (unsigned)r < SG_REASON_COUNT ? reason_names[r] : "unknown";
}

static void init_details(struct sg_event *ev)
{
    static const char empty[1] = "";
    struct sg_str e = {empty, 0};
    memset(&ev->d, 0, sizeof ev->d);
    switch (ev->type) {
    case SG_EV_AUTH:
        ev->d.auth.auth_type = ev->d.auth.failure_reason = e;
        ev->d.auth.attempts_count = -1;
        break;
    case SG_EV_NETWORK:
        ev->d.net.protocol = ev->d.net.connection_state = e;
        ev->d.net.source_port = ev->d.net.destination_port = -1;
        ev->d.net.bytes_sent = ev->d.net.bytes_received = ev->d.net.duration_ms = -1;
        break;
    case SG_EV_FILE:
        ev->d.file.file_path = ev->d.file.operation = e;
        ev->d.file.file_size_bytes = -1;
        ev->d.file.access_denied = ev->d.file.permissions_changed = -1;
        break;
    case SG_EV_PROCESS:
        ev->d.proc.process_name = ev->d.proc.command_line = ev->d.proc.user_privileges = e;
        ev->d.proc.process_id = ev->d.proc.parent_process_id = -1;
        ev->d.proc.is_signed = -1;
        break;
    case SG_EV_DNS:
    default:
        ev->d.dns.query_name = ev->d.dns.query_type = ev->d.dns.response_code = e;
        ev->d.dns.ttl = -1;
        break;
    }
}

void sg_event_init(struct sg_event *ev)
{
    memset(ev, 0, sizeof *ev);
    static const char empty[1] = "";
    struct sg_str e = {empty, 0};
    ev->event_id = ev->user = ev->source_ip = ev->destination_ip = e;
    ev->hostname = ev->geo_location = ev->user_agent = ev->session_id = e;
    ev->type = SG_EV_AUTH;
    init_details(ev);
}

struct ctx {
    struct sg_arena *arena;
    struct sg_event_error *err;
};

static int fail(struct ctx *c, enum sg_event_reason r, const char *field, const char *msg)
{
    if (c->err) {
        c->err->reason = r;
        snprintf(c->err->field, sizeof c->err->field, "%s", field);
        snprintf(c->err->message, sizeof c->err->message, "%s%s%s", field, *field ? ": " : "",
                 msg);
    }
    return SG_ERR_INVALID;
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
        if (k == 9 || i + k >= n + (k ? 0 : 1))
            return 0;
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

/* Optional string; required ones check presence separately. */
static int get_str(struct ctx *c, const cJSON *o, const char *key, const char *field,
                   struct sg_str *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v))
        return SG_OK;
    if (!cJSON_IsString(v))
        return fail(c, SG_REASON_WRONG_TYPE, field, "expected a string");
    size_t n = strlen(v->valuestring);
    out->p = sg_arena_strndup(c->arena, v->valuestring, n);
    out->len = (uint32_t)n;
    return SG_OK;
}

static int get_int(struct ctx *c, const cJSON *o, const char *key, const char *field,
                   int64_t lo, int64_t hi, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v))
        return SG_OK;
    if (!cJSON_IsNumber(v))
        return fail(c, SG_REASON_WRONG_TYPE, field, "expected an integer");
    double d = v->valuedouble;
    if (d != floor(d))
        return fail(c, SG_REASON_NOT_INTEGRAL, field, "must be an integer");
    if (d < (double)lo || d > (double)hi)
        return fail(c, SG_REASON_OUT_OF_RANGE, field, "out of range");
    *out = (int64_t)d;
    return SG_OK;
}

static int get_bool(struct ctx *c, const cJSON *o, const char *key, const char *field,
                    int8_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v))
        return SG_OK;
    if (!cJSON_IsBool(v))
        return fail(c, SG_REASON_WRONG_TYPE, field, "expected true or false");
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return SG_OK;
}

static int is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int decode_details(struct ctx *c, const cJSON *root, struct sg_event *ev)
{
    static const char *const names[SG_EV_TYPE_COUNT] = {
        "auth_details", "network_details", "file_details", "process_details", "dns_details"};
    init_details(ev);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, names[ev->type]);
    if (!d || cJSON_IsNull(d))
        return SG_OK;
    if (!cJSON_IsObject(d))
        return fail(c, SG_REASON_WRONG_TYPE, names[ev->type], "expected an object");
    int rc = SG_OK;
    int64_t t;
    switch (ev->type) {
    case SG_EV_AUTH:
        rc = get_str(c, d, "auth_type", "auth_details.auth_type", &ev->d.auth.auth_type);
        if (!rc)
            rc = get_str(c, d, "failure_reason", "auth_details.failure_reason",
                         &ev->d.auth.failure_reason);
        if (!rc)
            rc = get_int(c, d, "attempts_count", "auth_details.attempts_count", 0, INT64_MAX / 2,
                         &ev->d.auth.attempts_count);
        break;
    case SG_EV_NETWORK:
        rc = get_str(c, d, "protocol", "network_details.protocol", &ev->d.net.protocol);
        if (!rc)
            rc = get_str(c, d, "connection_state", "network_details.connection_state",
                         &ev->d.net.connection_state);
        t = -1;
        if (!rc)
            rc = get_int(c, d, "source_port", "network_details.source_port", 0, 65535, &t);
        ev->d.net.source_port = (int32_t)t;
        t = -1;
        if (!rc)
            rc = get_int(c, d, "destination_port", "network_details.destination_port", 0, 65535,
                         &t);
        ev->d.net.destination_port = (int32_t)t;
        if (!rc)
            rc = get_int(c, d, "bytes_sent", "network_details.bytes_sent", 0, INT64_MAX / 2,
                         &ev->d.net.bytes_sent);
        if (!rc)
            rc = get_int(c, d, "bytes_received", "network_details.bytes_received", 0,
                         INT64_MAX / 2, &ev->d.net.bytes_received);
        if (!rc)
            rc = get_int(c, d, "duration_ms", "network_details.duration_ms", 0, INT64_MAX / 2,
                         &ev->d.net.duration_ms);
        break;
    case SG_EV_FILE:
        rc = get_str(c, d, "file_path", "file_details.file_path", &ev->d.file.file_path);
        if (!rc)
            rc = get_str(c, d, "operation", "file_details.operation", &ev->d.file.operation);
        if (!rc)
            rc = get_int(c, d, "file_size_bytes", "file_details.file_size_bytes", 0,
                         INT64_MAX / 2, &ev->d.file.file_size_bytes);
        if (!rc)
            rc = get_bool(c, d, "access_denied", "file_details.access_denied",
                          &ev->d.file.access_denied);
        if (!rc)
            rc = get_bool(c, d, "permissions_changed", "file_details.permissions_changed",
                          &ev->d.file.permissions_changed);
        break;
    case SG_EV_PROCESS:
        rc = get_str(c, d, "process_name", "process_details.process_name",
                     &ev->d.proc.process_name);
        if (!rc)
            rc = get_str(c, d, "command_line", "process_details.command_line",
                         &ev->d.proc.command_line);
        if (!rc)
            rc = get_str(c, d, "user_privileges", "process_details.user_privileges",
                         &ev->d.proc.user_privileges);
        if (!rc)
            rc = get_int(c, d, "process_id", "process_details.process_id", 0, INT64_MAX / 2,
                         &ev->d.proc.process_id);
        if (!rc)
            rc = get_int(c, d, "parent_process_id", "process_details.parent_process_id", 0,
                         INT64_MAX / 2, &ev->d.proc.parent_process_id);
        if (!rc)
            rc = get_bool(c, d, "is_signed", "process_details.is_signed", &ev->d.proc.is_signed);
        break;
    case SG_EV_DNS:
    default:
        rc = get_str(c, d, "query_name", "dns_details.query_name", &ev->d.dns.query_name);
        if (!rc)
            rc = get_str(c, d, "query_type", "dns_details.query_type", &ev->d.dns.query_type);
        if (!rc)
            rc = get_str(c, d, "response_code", "dns_details.response_code",
                         &ev->d.dns.response_code);
        if (!rc)
            rc = get_int(c, d, "ttl", "dns_details.ttl", 0, INT64_MAX / 2, &ev->d.dns.ttl);
        break;
    }
    return rc;
}

static int decode_required(struct ctx *c, const cJSON *root, struct sg_event *ev)
{
    static const char *const req[] = {"event_id", "timestamp", "event_type", "user", "source_ip"};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, req[i]);
        if (!v || cJSON_IsNull(v))
            return fail(c, SG_REASON_MISSING_FIELD, req[i], "required field is missing");
    }
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "timestamp");
    if (cJSON_IsString(ts)) {
        if (sg_time_parse_rfc3339(ts->valuestring, strlen(ts->valuestring), &ev->ts_ms) != SG_OK)
            return fail(c, SG_REASON_BAD_FORMAT, "timestamp", "not RFC 3339");
    } else if (get_int(c, root, "timestamp", "timestamp", 0, SG_TIME_MAX_MS, &ev->ts_ms) != SG_OK) {
        return SG_ERR_INVALID;
    }
    struct sg_str t = {0};
    if (get_str(c, root, "event_type", "event_type", &t) != SG_OK)
        return SG_ERR_INVALID;
    int type = sg_event_type_parse(t.p, t.len);
    if (type < 0)
        return fail(c, SG_REASON_BAD_ENUM, "event_type", "not one of the five kinds");
    ev->type = (enum sg_event_type)type;
    if (get_str(c, root, "event_id", "event_id", &ev->event_id) != SG_OK ||
        get_str(c, root, "user", "user", &ev->user) != SG_OK ||
        get_str(c, root, "source_ip", "source_ip", &ev->source_ip) != SG_OK)
        return SG_ERR_INVALID;
    if (ev->event_id.len < 1 || ev->event_id.len > 128 ||
        strspn(ev->event_id.p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789_.:-") != ev->event_id.len)
        return fail(c, SG_REASON_BAD_FORMAT, "event_id", "1..128 of [A-Za-z0-9_.:-]");
    if (ev->user.len < 1 || ev->user.len > 256)
        return fail(c, SG_REASON_BAD_FORMAT, "user", "1..256 bytes");
    for (uint32_t i = 0; i < ev->user.len; i++)
        if ((unsigned char)ev->user.p[i] < 0x20 || ev->user.p[i] == 0x7f)
            return fail(c, SG_REASON_BAD_FORMAT, "user", "control character");
    if (!is_ip(ev->source_ip.p))
        return fail(c, SG_REASON_BAD_FORMAT, "source_ip", "not an IP address");
    return SG_OK;
}

static int decode_optional(struct ctx *c, const cJSON *root, struct sg_event *ev)
{
    if (get_str(c, root, "destination_ip", "destination_ip", &ev->destination_ip) != SG_OK)
        return SG_ERR_INVALID;
    if (ev->destination_ip.len && !is_ip(ev->destination_ip.p))
        return fail(c, SG_REASON_BAD_FORMAT, "destination_ip", "not an IP address");
    struct sg_str s = {0};
    if (get_str(c, root, "status", "status", &s) != SG_OK)
        return SG_ERR_INVALID;
    if (s.p) {
        int found = -1;
        for (int i = 0; i < SG_STATUS_COUNT; i++)
            if (!strcmp(s.p, status_names[i]))
                found = i;
        if (found < 0)
            return fail(c, SG_REASON_BAD_ENUM, "status", "not success, failed or blocked");
        ev->status = (enum sg_event_status)found;
    }
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "threat_score");
    if (ts && !cJSON_IsNull(ts)) {
        if (!cJSON_IsNumber(ts))
            return fail(c, SG_REASON_WRONG_TYPE, "threat_score", "expected a number");
        if (!(ts->valuedouble >= 0 && ts->valuedouble <= 1))
            return fail(c, SG_REASON_OUT_OF_RANGE, "threat_score", "outside 0..1");
        ev->threat_score = ts->valuedouble;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    if (m && !cJSON_IsNull(m)) {
        if (!cJSON_IsObject(m))
            return fail(c, SG_REASON_WRONG_TYPE, "metadata", "expected an object");
        if (get_str(c, m, "hostname", "metadata.hostname", &ev->hostname) ||
            get_str(c, m, "geo_location", "metadata.geo_location", &ev->geo_location) ||
            get_str(c, m, "user_agent", "metadata.user_agent", &ev->user_agent) ||
            get_str(c, m, "session_id", "metadata.session_id", &ev->session_id))
            return SG_ERR_INVALID;
        const cJSON *la = cJSON_GetObjectItemCaseSensitive(m, "geo_lat");
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(m, "geo_lon");
        if (cJSON_IsNumber(la) && cJSON_IsNumber(lo)) {
            ev->has_geo = 1;
            ev->geo_lat = la->valuedouble;
            ev->geo_lon = lo->valuedouble;
        }
    }
    return decode_details(c, root, ev);
}

int sg_event_decode(const char *json, size_t len, struct sg_event *ev, struct sg_arena *arena,
                    struct sg_event_error *err)
{
    struct ctx c = {arena, err};
    sg_event_init(ev);
    if (err)
        memset(err, 0, sizeof *err);
    if (len > SG_EVENT_MAX_BYTES)
        return fail(&c, SG_REASON_TOO_LARGE, "", "message larger than 1 MiB");
    if (!valid_utf8((const unsigned char *)json, len))
        return fail(&c, SG_REASON_INVALID_UTF8, "", "not valid UTF-8");
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return fail(&c, SG_REASON_INVALID_JSON, "", "not valid JSON");
    int rc;
    if (!cJSON_IsObject(root))
        rc = fail(&c, SG_REASON_NOT_OBJECT, "", "top-level value is not an object");
    else {
        rc = decode_required(&c, root, ev);
        if (rc == SG_OK)
            rc = decode_optional(&c, root, ev);
    }
    cJSON_Delete(root);
    return rc;
}

static void kv_str(struct sg_buf *o, const char *k, struct sg_str s, int *first)
{
    if (!s.len)
        return;
    sg_buf_printf(o, "%s\"%s\":", *first ? "" : ",", k);
    sg_buf_json_str(o, s.p, s.len);
    *first = 0;
}

static void kv_int(struct sg_buf *o, const char *k, int64_t v, int *first)
{
    if (v < 0)
        return;
    sg_buf_printf(o, "%s\"%s\":%lld", *first ? "" : ",", k, (long long)v);
    *first = 0;
}

static void kv_bool(struct sg_buf *o, const char *k, int8_t v, int *first)
{
    if (v < 0)
        return;
    sg_buf_printf(o, "%s\"%s\":%s", *first ? "" : ",", k, v ? "true" : "false");
    *first = 0;
}

static void encode_details(const struct sg_event *ev, struct sg_buf *o)
{
    static const char *const names[SG_EV_TYPE_COUNT] = {
        "auth_details", "network_details", "file_details", "process_details", "dns_details"};
    size_t mark = o->len;
    sg_buf_printf(o, ",\"%s\":{", names[ev->type]);
    int first = 1;
    switch (ev->type) {
    case SG_EV_AUTH:
        kv_str(o, "auth_type", ev->d.auth.auth_type, &first);
        kv_str(o, "failure_reason", ev->d.auth.failure_reason, &first);
        kv_int(o, "attempts_count", ev->d.auth.attempts_count, &first);
        break;
    case SG_EV_NETWORK:
        kv_str(o, "protocol", ev->d.net.protocol, &first);
        kv_int(o, "source_port", ev->d.net.source_port, &first);
        kv_int(o, "destination_port", ev->d.net.destination_port, &first);
        kv_int(o, "bytes_sent", ev->d.net.bytes_sent, &first);
        kv_int(o, "bytes_received", ev->d.net.bytes_received, &first);
        kv_int(o, "duration_ms", ev->d.net.duration_ms, &first);
        kv_str(o, "connection_state", ev->d.net.connection_state, &first);
        break;
    case SG_EV_FILE:
        kv_str(o, "file_path", ev->d.file.file_path, &first);
        kv_str(o, "operation", ev->d.file.operation, &first);
        kv_int(o, "file_size_bytes", ev->d.file.file_size_bytes, &first);
        kv_bool(o, "access_denied", ev->d.file.access_denied, &first);
        kv_bool(o, "permissions_changed", ev->d.file.permissions_changed, &first);
        break;
    case SG_EV_PROCESS:
        kv_str(o, "process_name", ev->d.proc.process_name, &first);
        kv_str(o, "command_line", ev->d.proc.command_line, &first);
        kv_str(o, "user_privileges", ev->d.proc.user_privileges, &first);
        kv_int(o, "process_id", ev->d.proc.process_id, &first);
        kv_int(o, "parent_process_id", ev->d.proc.parent_process_id, &first);
        kv_bool(o, "is_signed", ev->d.proc.is_signed, &first);
        break;
    case SG_EV_DNS:
    default:
        kv_str(o, "query_name", ev->d.dns.query_name, &first);
        kv_str(o, "query_type", ev->d.dns.query_type, &first);
        kv_str(o, "response_code", ev->d.dns.response_code, &first);
        kv_int(o, "ttl", ev->d.dns.ttl, &first);
        break;
    }
    if (first) { /* no detail field set: leave the object out */
        o->len = mark;
        o->data[mark] = 0;
        return;
    }
    sg_buf_putc(o, '}');
}

void sg_event_encode(const struct sg_event *ev, struct sg_buf *o)
{
    sg_buf_puts(o, "{\"event_id\":");
    sg_buf_json_str(o, ev->event_id.p, ev->event_id.len);
    sg_buf_printf(o, ",\"timestamp\":%lld,\"event_type\":\"%s\",\"user\":", (long long)ev->ts_ms,
                  sg_event_type_name(ev->type));
    sg_buf_json_str(o, ev->user.p, ev->user.len);
    sg_buf_puts(o, ",\"source_ip\":");
    sg_buf_json_str(o, ev->source_ip.p, ev->source_ip.len);
    if (ev->destination_ip.len) {
        sg_buf_puts(o, ",\"destination_ip\":");
        sg_buf_json_str(o, ev->destination_ip.p, ev->destination_ip.len);
    }
    sg_buf_printf(o, ",\"status\":\"%s\",\"threat_score\":", sg_event_status_name(ev->status));
    sg_buf_json_double(o, ev->threat_score);
    if (ev->hostname.len || ev->geo_location.len || ev->user_agent.len || ev->session_id.len ||
        ev->has_geo) {
        sg_buf_puts(o, ",\"metadata\":{");
        int first = 1;
        kv_str(o, "hostname", ev->hostname, &first);
        kv_str(o, "geo_location", ev->geo_location, &first);
        if (ev->has_geo) {
            sg_buf_printf(o, "%s\"geo_lat\":", first ? "" : ",");
            sg_buf_json_double(o, ev->geo_lat);
            sg_buf_puts(o, ",\"geo_lon\":");
            sg_buf_json_double(o, ev->geo_lon);
            first = 0;
        }
        kv_str(o, "user_agent", ev->user_agent, &first);
        kv_str(o, "session_id", ev->session_id, &first);
        sg_buf_putc(o, '}');
    }
    encode_details(ev, o);
    sg_buf_putc(o, '}');
}
