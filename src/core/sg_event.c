/* sg_event: decoder and encoder of the security event contract (../shared/spec/events-v1.md,
 * documented as implemented in docs/EVENTS.md). Not a general JSON library: unknown members are
 * validated and skipped, never built into a tree.
 *
 * Why hand-written instead of cJSON/yyjson: the decoder sits on the hot path of both layers
 * (target >= 250 MB/s per core on NDJSON). A tree parser allocates a node per value and then
 * needs a second walk with strcmp per key; here one pass reads each byte once, matches keys by
 * length + memcmp, copies strings that have no escapes with one memcpy into one arena block per
 * event, and validates the schema as it goes. bench/bench_decode.c measures it against cJSON. */
#include "core/sg_event.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_time.h"

/* ---------------------------------------------------------------------------------------
 * Names */

static const char *const type_names[SG_EV_TYPE_COUNT] = {
    "auth_attempt", "network_connection", "file_access", "process_execution", "dns_query"};
static const char *const detail_names[SG_EV_TYPE_COUNT] = {
    "auth_details", "network_details", "file_details", "process_details", "dns_details"};
static const char *const status_names[SG_STATUS_COUNT] = {"success", "failed", "blocked"};
static const char *const reason_names[SG_REASON_COUNT] = {
    "none",          "invalid_json", "invalid_utf8", "not_object",   "too_large", "too_deep",
    "missing_field", "wrong_type",   "not_integral", "out_of_range", "bad_enum",  "bad_format"};

const char *sg_event_type_name(enum sg_event_type t)
{
    return (unsigned)t < SG_EV_TYPE_COUNT ? type_names[t] : "unknown";
}

const char *sg_event_status_name(enum sg_event_status s)
{
    return (unsigned)s < SG_STATUS_COUNT ? status_names[s] : "unknown";
}

const char *sg_event_reason_name(enum sg_event_reason r)
{
    return (unsigned)r < SG_REASON_COUNT ? reason_names[r] : "unknown";
}

int sg_event_type_parse(const char *s, size_t n)
{
    int t;
    switch (n) {
    case 12: t = SG_EV_AUTH; break;
    case 18: t = SG_EV_NETWORK; break;
    case 11: t = SG_EV_FILE; break;
    case 17: t = SG_EV_PROCESS; break;
    case 9: t = SG_EV_DNS; break;
    default: return -1;
    }
    return memcmp(s, type_names[t], n) == 0 ? t : -1;
}

static int status_parse(const char *s, size_t n)
{
    int st = n == 7   ? (s[0] == 's' ? SG_STATUS_SUCCESS : SG_STATUS_BLOCKED)
             : n == 6 ? SG_STATUS_FAILED
                      : -1;
    return st >= 0 && memcmp(s, status_names[st], n) == 0 ? st : -1;
}

/* ---------------------------------------------------------------------------------------
 * Detail objects: one table per kind (field name, value kind, offset in the union). */

enum fkind { FK_STR, FK_UINT, FK_PORT, FK_BOOL };

struct dfield {
    const char *name;
    uint8_t kind;
    uint8_t len;
    uint16_t off;
};

#define DF(kind_, member, fk)                                                                      \
    {                                                                                              \
#member, fk, sizeof(#member) - 1, offsetof(union sg_event_details, kind_.member)           \
    }
static const struct dfield auth_fields[] = {DF(auth, auth_type, FK_STR),
                                            DF(auth, failure_reason, FK_STR),
                                            DF(auth, attempts_count, FK_UINT)};
static const struct dfield net_fields[] = {
    DF(net, protocol, FK_STR),          DF(net, source_port, FK_PORT),
    DF(net, destination_port, FK_PORT), DF(net, bytes_sent, FK_UINT),
    DF(net, bytes_received, FK_UINT),   DF(net, duration_ms, FK_UINT),
    DF(net, connection_state, FK_STR)};
static const struct dfield file_fields[] = {
    DF(file, file_path, FK_STR), DF(file, operation, FK_STR), DF(file, file_size_bytes, FK_UINT),
    DF(file, access_denied, FK_BOOL), DF(file, permissions_changed, FK_BOOL)};
static const struct dfield proc_fields[] = {
    DF(proc, process_name, FK_STR),       DF(proc, command_line, FK_STR),
    DF(proc, user_privileges, FK_STR),    DF(proc, process_id, FK_UINT),
    DF(proc, parent_process_id, FK_UINT), DF(proc, is_signed, FK_BOOL)};
static const struct dfield dns_fields[] = {DF(dns, query_name, FK_STR), DF(dns, query_type, FK_STR),
                                           DF(dns, response_code, FK_STR), DF(dns, ttl, FK_UINT)};
#undef DF

#define MAX_DFIELDS 8
static const struct dfield *const dtables[SG_EV_TYPE_COUNT] = {auth_fields, net_fields, file_fields,
                                                               proc_fields, dns_fields};
static const uint8_t dcounts[SG_EV_TYPE_COUNT] = {
    sizeof auth_fields / sizeof auth_fields[0], sizeof net_fields / sizeof net_fields[0],
    sizeof file_fields / sizeof file_fields[0], sizeof proc_fields / sizeof proc_fields[0],
    sizeof dns_fields / sizeof dns_fields[0]};

static const char empty_str[1] = "";

static void df_clear(union sg_event_details *u, const struct dfield *f)
{
    char *at = (char *)u + f->off;
    switch (f->kind) {
    case FK_STR: {
        struct sg_str s = {empty_str, 0};
        memcpy(at, &s, sizeof s);
        break;
    }
    case FK_UINT: {
        int64_t v = -1;
        memcpy(at, &v, sizeof v);
        break;
    }
    case FK_PORT: {
        int32_t v = -1;
        memcpy(at, &v, sizeof v);
        break;
    }
    default: {
        int8_t v = -1;
        memcpy(at, &v, sizeof v);
        break;
    }
    }
}

static void details_init(union sg_event_details *u, enum sg_event_type t)
{
    memset(u, 0, sizeof *u);
    for (unsigned i = 0; i < dcounts[t]; i++)
        df_clear(u, &dtables[t][i]);
}

void sg_event_set_type(struct sg_event *ev, enum sg_event_type t)
{
    ev->type = t;
    details_init(&ev->d, t);
}

void sg_event_init(struct sg_event *ev)
{
    memset(ev, 0, sizeof *ev);
    struct sg_str e = {empty_str, 0};
    ev->event_id = ev->user = ev->source_ip = ev->destination_ip = e;
    ev->hostname = ev->geo_location = ev->user_agent = ev->session_id = e;
    ev->status = SG_STATUS_SUCCESS;
    ev->threat_score = 0;
    ev->has_geo = 0;
    sg_event_set_type(ev, SG_EV_AUTH);
}

/* ---------------------------------------------------------------------------------------
 * Decoder state. Syntax-level problems (JSON, UTF-8, depth) are "hard" and stop the pass at
 * once. Schema problems are recorded per field slot and only reported after the whole object
 * has been read, because a later duplicate key replaces an earlier (possibly bad) value and a
 * later event_type decides which detail object counts. */

enum { ST_ABSENT = 0, ST_NULL, ST_OK, ST_ERR };

struct slot {
    uint8_t st;
    uint8_t reason;
    const char *sub; /* nested member name for metadata/detail errors, else NULL */
    const char *msg;
};

struct dec {
    const unsigned char *p, *end, *base;
    char *out; /* next free byte of this event's string area (input length + 1 bytes) */
    int depth;
    uint8_t hard;
    const char *hard_msg;
    size_t hard_at;
};

struct raw {
    const unsigned char *s;
    size_t n;
    int esc;
};

static int fail_at(struct dec *d, const unsigned char *at, enum sg_event_reason r, const char *msg)
{
    if (!d->hard) {
        d->hard = (uint8_t)r;
        d->hard_msg = msg;
        d->hard_at = (size_t)(at - d->base);
    }
    return -1;
}

static int fail(struct dec *d, enum sg_event_reason r, const char *msg)
{
    return fail_at(d, d->p, r, msg);
}

static void set_err(struct slot *s, enum sg_event_reason r, const char *msg)
{
    s->st = ST_ERR;
    s->reason = (uint8_t)r;
    s->sub = NULL;
    s->msg = msg;
}

static inline void skip_ws(struct dec *d)
{
    const unsigned char *p = d->p;
    while (p < d->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    d->p = p;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid/truncated: no overlongs,
 * no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))
            return 0;
        return 3;
    }
    if (c < 0xF5) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

static int hexval(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    return -1;
}

/* Reads the 4 hex digits after "\u" at p (p points at the backslash). Returns the code unit or
 * -1. */
static long hex4(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Validates the escape at *pp (a backslash) and advances past it. */
static int check_escape(struct dec *d, const unsigned char **pp)
{
    const unsigned char *p = *pp;
    if (d->end - p < 2)
        return fail_at(d, p, SG_REASON_INVALID_JSON, "unterminated string");
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't': *pp = p + 2; return 0;
    case 'u': break;
    default: return fail_at(d, p, SG_REASON_INVALID_JSON, "invalid escape in string");
    }
    long cu = hex4(p, d->end);
    if (cu < 0)
        return fail_at(d, p, SG_REASON_INVALID_JSON, "invalid \\u escape in string");
    if (cu >= 0xDC00 && cu <= 0xDFFF)
        return fail_at(d, p, SG_REASON_INVALID_JSON, "lone low surrogate in \\u escape");
    if (cu >= 0xD800 && cu <= 0xDBFF) {
        long lo = hex4(p + 6, d->end);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail_at(d, p, SG_REASON_INVALID_JSON, "lone high surrogate in \\u escape");
        *pp = p + 12;
        return 0;
    }
    *pp = p + 6;
    return 0;
}

/* Nonzero if any byte of w is '"', '\\', < 0x20 or >= 0x80 (exact for "any", which is all the
 * scanner needs; the byte loop then finds which). */
static inline uint64_t special8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t zq = (q - ones) & ~q, zb = (b - ones) & ~b, lt = (w - ones * 0x20) & ~w;
    return (zq | zb | lt | w) & high;
}

/* Scans a string whose opening quote is at d->p: validates escapes, UTF-8 and control bytes;
 * sets r to the raw bytes between the quotes and leaves d->p after the closing quote. */
static int lex_str(struct dec *d, struct raw *r)
{
    const unsigned char *p = d->p + 1, *end = d->end;
    r->s = p;
    r->esc = 0;
    for (;;) {
        while (end - p >= 8) {
            uint64_t w, m;
            memcpy(&w, p, 8);
            m = special8(w);
            if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                /* the lowest flagged byte is exact (borrows only run upwards): jump to it */
                p += (unsigned)__builtin_ctzll(m) >> 3;
#endif
                break;
            }
            p += 8;
        }
        if (p >= end)
            return fail_at(d, p, SG_REASON_INVALID_JSON, "unterminated string");
        unsigned c = *p;
        if (c == '"')
            break;
        if (c == '\\') {
            r->esc = 1;
            if (check_escape(d, &p) < 0)
                return -1;
        } else if (c < 0x20) {
            return fail_at(d, p, SG_REASON_INVALID_JSON, "control character in string");
        } else if (c >= 0x80) {
            size_t n = utf8_len(p, end);
            if (!n)
                return fail_at(d, p, SG_REASON_INVALID_UTF8, "invalid UTF-8 in string");
            p += n;
        } else {
            p++;
        }
    }
    r->n = (size_t)(p - r->s);
    d->p = p + 1;
    return 0;
}

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Unescapes an already validated raw string into o (never longer than the raw bytes). */
static size_t unescape(const unsigned char *s, size_t n, char *o)
{
    const unsigned char *end = s + n;
    char *start = o;
    while (s < end) {
        const unsigned char *bs = memchr(s, '\\', (size_t)(end - s));
        size_t run = (size_t)((bs ? bs : end) - s);
        memcpy(o, s, run);
        o += run;
        s += run;
        if (!bs)
            break;
        char c;
        switch (s[1]) {
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            unsigned long cp = (unsigned long)hex4(s, end);
            s += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned long lo = (unsigned long)hex4(s, end);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            }
            o += put_utf8(o, cp);
            continue;
        }
        default: c = (char)s[1]; break; /* " \ / */
        }
        *o++ = c;
        s += 2;
    }
    return (size_t)(o - start);
}

/* Copies a lexed string into the event's string area (one memcpy when it has no escapes). */
static void take_str(struct dec *d, const struct raw *r, struct sg_str *o)
{
    char *dst = d->out;
    size_t n = r->n;
    if (r->esc)
        n = unescape(r->s, r->n, dst);
    else if (n)
        memcpy(dst, r->s, n);
    dst[n] = '\0';
    d->out += n + 1;
    o->p = dst;
    o->len = (uint32_t)n;
}

struct num {
    const unsigned char *s;
    size_t n;
    int plain; /* only digits (and a sign): no fraction or exponent */
};

static int digits(struct dec *d)
{
    const unsigned char *p = d->p;
    while (p < d->end && *p >= '0' && *p <= '9')
        p++;
    if (p == d->p)
        return fail(d, SG_REASON_INVALID_JSON, "expected a digit");
    d->p = p;
    return 0;
}

/* Lexes a JSON number at d->p (strict RFC 8259 grammar). */
static int lex_num(struct dec *d, struct num *nm)
{
    nm->s = d->p;
    nm->plain = 1;
    if (*d->p == '-')
        d->p++;
    if (d->p < d->end && *d->p == '0')
        d->p++;
    else if (digits(d) < 0)
        return -1;
    if (d->p < d->end && *d->p == '.') {
        d->p++;
        nm->plain = 0;
        if (digits(d) < 0)
            return -1;
    }
    if (d->p < d->end && (*d->p == 'e' || *d->p == 'E')) {
        d->p++;
        nm->plain = 0;
        if (d->p < d->end && (*d->p == '+' || *d->p == '-'))
            d->p++;
        if (digits(d) < 0)
            return -1;
    }
    nm->n = (size_t)(d->p - nm->s);
    return 0;
}

/* Exact fast path (Clinger): a decimal with at most 19 significant digits whose mantissa m
 * fits in 53 bits and whose power of ten |k| <= 22 is m * 10^k or m / 10^-k, both operands
 * exact doubles, so the one IEEE operation is correctly rounded, the same as strtod. Covers
 * scores like 0.05013226516832672 and coordinates; anything else goes to strtod. */
static int num_fast(const struct num *nm, double *out)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const unsigned char *p = nm->s, *end = nm->s + nm->n;
    int neg = *p == '-';
    p += neg;
    uint64_t m = 0;
    int nd = 0, k = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        if (m == 0 && *p == '0')
            continue;
        if (++nd > 19)
            return 0;
        m = m * 10 + (uint64_t)(*p - '0');
    }
    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
            k--;
            if (m == 0 && *p == '0')
                continue;
            if (++nd > 19)
                return 0;
            m = m * 10 + (uint64_t)(*p - '0');
        }
    }
    if (p != end || m > (UINT64_C(1) << 53) || k < -22)
        return 0; /* exponent part or out of the exact range */
    double v = k ? (double)m / p10[-k] : (double)m;
    *out = neg ? -v : v;
    return 1;
}

/* strtod on a length-bounded token: copies it to a NUL-terminated buffer first. strtod is
 * locale-dependent; StreamGuard never calls setlocale, so the decimal point is '.'. */
static double num_value(const struct num *nm)
{
    double v;
    if (num_fast(nm, &v))
        return v;
    char small[64];
    char *buf = nm->n < sizeof small ? small : sg_xmalloc(nm->n + 1);
    memcpy(buf, nm->s, nm->n);
    buf[nm->n] = '\0';
    v = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    return v;
}

static int bad_byte(struct dec *d, const char *msg)
{
    if (d->p >= d->end)
        return fail(d, SG_REASON_INVALID_JSON, "truncated JSON");
    if (*d->p >= 0x80 && !utf8_len(d->p, d->end))
        return fail(d, SG_REASON_INVALID_UTF8, "invalid UTF-8");
    return fail(d, SG_REASON_INVALID_JSON, msg);
}

static int literal(struct dec *d, const char *lit, size_t n)
{
    if ((size_t)(d->end - d->p) < n || memcmp(d->p, lit, n) != 0)
        return bad_byte(d, "invalid literal");
    d->p += n;
    return 0;
}

static int skip_value(struct dec *d);

/* Object member iteration: call with *first = 1 after the '{' was consumed. Returns 1 with
 * the key in k and d->p at the value, 0 after the closing '}', -1 on error. */
static int obj_next(struct dec *d, struct raw *k, int *first)
{
    skip_ws(d);
    if (d->p >= d->end)
        return fail(d, SG_REASON_INVALID_JSON, "truncated JSON");
    if (*d->p == '}' && *first) {
        d->p++;
        d->depth--;
        return 0;
    }
    if (!*first) {
        if (*d->p == '}') {
            d->p++;
            d->depth--;
            return 0;
        }
        if (*d->p != ',')
            return bad_byte(d, "expected ',' or '}' in object");
        d->p++;
        skip_ws(d);
    }
    *first = 0;
    if (d->p >= d->end || *d->p != '"')
        return bad_byte(d, "expected a string key in object");
    if (lex_str(d, k) < 0)
        return -1;
    skip_ws(d);
    if (d->p >= d->end || *d->p != ':')
        return bad_byte(d, "expected ':' after key");
    d->p++;
    skip_ws(d);
    if (d->p >= d->end)
        return fail(d, SG_REASON_INVALID_JSON, "truncated JSON");
    return 1;
}

static int enter(struct dec *d)
{
    if (++d->depth > SG_EVENT_MAX_DEPTH)
        return fail(d, SG_REASON_TOO_DEEP, "nesting deeper than 64 levels");
    d->p++;
    return 0;
}

static int skip_array(struct dec *d)
{
    if (enter(d) < 0)
        return -1;
    skip_ws(d);
    if (d->p < d->end && *d->p == ']') {
        d->p++;
        d->depth--;
        return 0;
    }
    for (;;) {
        skip_ws(d);
        if (skip_value(d) < 0)
            return -1;
        skip_ws(d);
        if (d->p < d->end && *d->p == ',') {
            d->p++;
            continue;
        }
        if (d->p < d->end && *d->p == ']') {
            d->p++;
            d->depth--;
            return 0;
        }
        return bad_byte(d, "expected ',' or ']' in array");
    }
}

/* Validates and skips any JSON value at d->p (which is not at whitespace). */
static int skip_value(struct dec *d)
{
    if (d->p >= d->end)
        return fail(d, SG_REASON_INVALID_JSON, "truncated JSON");
    switch (*d->p) {
    case '"': {
        struct raw r;
        return lex_str(d, &r);
    }
    case '{': {
        if (enter(d) < 0)
            return -1;
        struct raw k;
        int first = 1, rc;
        while ((rc = obj_next(d, &k, &first)) == 1)
            if (skip_value(d) < 0)
                return -1;
        return rc;
    }
    case '[': return skip_array(d);
    case 't': return literal(d, "true", 4);
    case 'f': return literal(d, "false", 5);
    case 'n': return literal(d, "null", 4);
    default:
        if (*d->p == '-' || (*d->p >= '0' && *d->p <= '9')) {
            struct num nm;
            return lex_num(d, &nm);
        }
        return bad_byte(d, "expected a JSON value");
    }
}

/* ---------------------------------------------------------------------------------------
 * Typed value readers. Each consumes one value; a null sets ST_NULL, a value of another JSON
 * type sets ST_ERR/wrong_type (after validating and skipping it). Return -1 only on hard
 * errors. */

static int other_type(struct dec *d, struct slot *s, const char *msg)
{
    if (*d->p == 'n') {
        if (literal(d, "null", 4) < 0)
            return -1;
        s->st = ST_NULL;
        return 0;
    }
    if (skip_value(d) < 0)
        return -1;
    set_err(s, SG_REASON_WRONG_TYPE, msg);
    return 0;
}

static int rd_str(struct dec *d, struct slot *s, struct sg_str *o)
{
    if (*d->p != '"')
        return other_type(d, s, "is not a string");
    struct raw r;
    if (lex_str(d, &r) < 0)
        return -1;
    take_str(d, &r, o);
    s->st = ST_OK;
    return 0;
}

/* Integer in [min, max]; `range_msg` explains the range ("outside 0..65535"). */
static int rd_int(struct dec *d, struct slot *s, int64_t min, int64_t max, const char *range_msg,
                  int64_t *o)
{
    unsigned c = *d->p;
    if (c != '-' && (c < '0' || c > '9'))
        return other_type(d, s, "is not an integer");
    struct num nm;
    if (lex_num(d, &nm) < 0)
        return -1;
    if (nm.plain) { /* exact integer path, no double rounding */
        int neg = nm.s[0] == '-';
        uint64_t u = 0;
        int over = 0;
        for (size_t i = (size_t)neg; i < nm.n; i++) {
            unsigned dg = (unsigned)(nm.s[i] - '0');
            if (u > (UINT64_MAX - dg) / 10)
                over = 1;
            else
                u = u * 10 + dg;
        }
        /* min/max are within int64; any |value| > 2^63 is out of range either way */
        int in =
            !over && (neg ? (u == 0 || (u <= (uint64_t)INT64_MAX + 1 && (int64_t)(0 - u) >= min))
                          : (u <= (uint64_t)INT64_MAX && (int64_t)u >= min && (int64_t)u <= max));
        if (!in) {
            set_err(s, SG_REASON_OUT_OF_RANGE, range_msg);
            return 0;
        }
        *o = neg ? (u == 0 ? 0 : (int64_t)(0 - u)) : (int64_t)u;
        s->st = ST_OK;
        return 0;
    }
    double v = num_value(&nm);
    if (isfinite(v) && v != floor(v)) {
        set_err(s, SG_REASON_NOT_INTEGRAL, "is not integral");
        return 0;
    }
    /* (double)max + 1 is exact for every max used here except INT64_MAX, where it rounds
     * to 2^63, which is still the right exclusive bound. */
    if (!(v >= (double)min && v < (double)max + 1.0)) {
        set_err(s, SG_REASON_OUT_OF_RANGE, range_msg);
        return 0;
    }
    *o = (int64_t)v;
    s->st = ST_OK;
    return 0;
}

static int rd_double(struct dec *d, struct slot *s, double lo, double hi, const char *range_msg,
                     double *o)
{
    unsigned c = *d->p;
    if (c != '-' && (c < '0' || c > '9'))
        return other_type(d, s, "is not a number");
    struct num nm;
    if (lex_num(d, &nm) < 0)
        return -1;
    double v = num_value(&nm);
    if (!(v >= lo && v <= hi)) { /* also catches overflow to infinity */
        set_err(s, SG_REASON_OUT_OF_RANGE, range_msg);
        return 0;
    }
    *o = v;
    s->st = ST_OK;
    return 0;
}

static int rd_bool(struct dec *d, struct slot *s, int8_t *o)
{
    if (*d->p == 't' || *d->p == 'f') {
        int t = *d->p == 't';
        if (literal(d, t ? "true" : "false", t ? 4 : 5) < 0)
            return -1;
        *o = (int8_t)t;
        s->st = ST_OK;
        return 0;
    }
    return other_type(d, s, "is not a boolean");
}

/* ---------------------------------------------------------------------------------------
 * Field rules */

static int id_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '-';
}

static void check_event_id(struct slot *s, const struct sg_str *v)
{
    if (s->st != ST_OK)
        return;
    if (v->len == 0 || v->len > 128) {
        set_err(s, SG_REASON_BAD_FORMAT, v->len ? "is longer than 128 bytes" : "is empty");
        return;
    }
    for (uint32_t i = 0; i < v->len; i++)
        if (!id_char((unsigned char)v->p[i])) {
            set_err(s, SG_REASON_BAD_FORMAT, "has a character outside [A-Za-z0-9_.:-]");
            return;
        }
}

/* The string is valid UTF-8 already (input validated, escapes re-encoded); rejects C0, DEL
 * and C1 control characters (U+0080..U+009F are C2 80..C2 9F). */
static void check_user(struct slot *s, const struct sg_str *v)
{
    if (s->st != ST_OK)
        return;
    if (v->len == 0 || v->len > 256) {
        set_err(s, SG_REASON_BAD_FORMAT, v->len ? "is longer than 256 bytes" : "is empty");
        return;
    }
    const unsigned char *u = (const unsigned char *)v->p;
    for (uint32_t i = 0; i < v->len; i++)
        if (u[i] < 0x20 || u[i] == 0x7F || (u[i] == 0xC2 && i + 1 < v->len && u[i + 1] < 0xA0)) {
            set_err(s, SG_REASON_BAD_FORMAT, "contains a control character");
            return;
        }
}

/* inet_pton needs a NUL-terminated string; the longest IPv6 text form is 45 bytes. */
static void check_ip(struct slot *s, const struct sg_str *v)
{
    if (s->st != ST_OK)
        return;
    char buf[48];
    unsigned char bin[16];
    if (v->len == 0 || v->len >= sizeof buf) {
        set_err(s, SG_REASON_BAD_FORMAT, "is not an IP address");
        return;
    }
    memcpy(buf, v->p, v->len);
    buf[v->len] = '\0';
    int af = memchr(buf, ':', v->len) ? AF_INET6 : AF_INET;
    if (memchr(buf, '\0', v->len) || inet_pton(af, buf, bin) != 1)
        set_err(s, SG_REASON_BAD_FORMAT, "is not an IP address");
}

static int alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* "CC-ST-City": 2 letters, '-', 1..3 letters/digits, '-', a non-empty city. */
static void check_geo_location(struct slot *s, const struct sg_str *v)
{
    if (s->st != ST_OK)
        return;
    const unsigned char *u = (const unsigned char *)v->p;
    uint32_t n = v->len, i = 3;
    int ok = n >= 6 && alpha(u[0]) && alpha(u[1]) && u[2] == '-';
    while (ok && i < n && i < 6 && (alpha(u[i]) || (u[i] >= '0' && u[i] <= '9')))
        i++;
    ok = ok && i > 3 && i < n - 1 && u[i] == '-';
    if (!ok)
        set_err(s, SG_REASON_BAD_FORMAT, "is not CC-ST-City (e.g. DE-BER-Berlin)");
}

static int rd_timestamp(struct dec *d, struct slot *s, int64_t *ms)
{
    static const char range[] = "outside 0..253402300799999 (epoch milliseconds)";
    if (*d->p != '"')
        return rd_int(d, s, 0, SG_TIME_MAX_MS, range, ms);
    struct raw r;
    if (lex_str(d, &r) < 0)
        return -1;
    s->st = ST_OK;
    char buf[64];
    const char *str = (const char *)r.s;
    size_t n = r.n;
    if (r.esc && n < sizeof buf) {
        n = unescape(r.s, r.n, buf);
        str = buf;
    }
    if (sg_time_parse_rfc3339(str, n, ms) != SG_OK)
        set_err(s, SG_REASON_BAD_FORMAT, "string is not an RFC 3339 date-time in 1970..9999");
    return 0;
}

static int rd_enum(struct dec *d, struct slot *s, int (*parse)(const char *, size_t),
                   const char *msg, int *o)
{
    if (*d->p != '"')
        return other_type(d, s, "is not a string");
    struct raw r;
    if (lex_str(d, &r) < 0)
        return -1;
    char buf[32];
    const char *str = (const char *)r.s;
    size_t n = r.n;
    if (r.esc) {
        if (n >= sizeof buf) {
            set_err(s, SG_REASON_BAD_ENUM, msg);
            return 0;
        }
        n = unescape(r.s, r.n, buf);
        str = buf;
    }
    int v = parse(str, n);
    if (v < 0) {
        set_err(s, SG_REASON_BAD_ENUM, msg);
        return 0;
    }
    *o = v;
    s->st = ST_OK;
    return 0;
}

/* Key text: raw bytes when unescaped (the common case), else unescaped into buf. Keys longer
 * than buf cannot be any known key; they come back as "" (unknown). */
static const char *key_text(const struct raw *k, char *buf, size_t cap, size_t *n)
{
    if (!k->esc) {
        *n = k->n;
        return (const char *)k->s;
    }
    if (k->n >= cap) {
        *n = 0;
        return "";
    }
    *n = unescape(k->s, k->n, buf);
    return buf;
}

/* Copies the first errored member (in table order), if any, to the parent slot. */
static void fold_errors(const struct slot *sub, const char *const *names, unsigned count,
                        struct slot *parent)
{
    for (unsigned i = 0; i < count; i++)
        if (sub[i].st == ST_ERR) {
            parent->st = ST_ERR;
            parent->reason = sub[i].reason;
            parent->sub = names[i];
            parent->msg = sub[i].msg;
            return;
        }
}

/* ---------------------------------------------------------------------------------------
 * metadata */

enum { M_HOST, M_GEO, M_LAT, M_LON, M_UA, M_SESSION, M_COUNT };
static const char *const meta_names[M_COUNT] = {"hostname", "geo_location", "geo_lat",
                                                "geo_lon",  "user_agent",   "session_id"};

static const uint8_t meta_lens[M_COUNT] = {8, 12, 7, 7, 10, 10};

static int meta_key(const char *k, size_t n)
{
    for (int i = 0; i < M_COUNT; i++)
        if (meta_lens[i] == n && memcmp(k, meta_names[i], n) == 0)
            return i;
    return -1;
}

static void meta_clear(struct sg_event *ev)
{
    struct sg_str e = {empty_str, 0};
    ev->hostname = ev->geo_location = ev->user_agent = ev->session_id = e;
    ev->has_geo = 0;
    ev->geo_lat = ev->geo_lon = 0;
}

static int meta_value(struct dec *d, struct sg_event *ev, int i, struct slot *s)
{
    switch (i) {
    case M_HOST: return rd_str(d, s, &ev->hostname);
    case M_GEO: {
        int rc = rd_str(d, s, &ev->geo_location);
        check_geo_location(s, &ev->geo_location);
        return rc;
    }
    case M_LAT: return rd_double(d, s, -90, 90, "outside -90..90", &ev->geo_lat);
    case M_LON: return rd_double(d, s, -180, 180, "outside -180..180", &ev->geo_lon);
    case M_UA: return rd_str(d, s, &ev->user_agent);
    default: return rd_str(d, s, &ev->session_id);
    }
}

/* Reads the metadata object at d->p (an '{') into ev; errors go to `parent`. */
static int parse_metadata(struct dec *d, struct sg_event *ev, struct slot *parent)
{
    struct slot sub[M_COUNT] = {{0}};
    struct raw k;
    int first = 1, rc;
    meta_clear(ev);
    if (enter(d) < 0)
        return -1;
    while ((rc = obj_next(d, &k, &first)) == 1) {
        char kb[16];
        size_t kn;
        const char *kt = key_text(&k, kb, sizeof kb, &kn);
        int i = meta_key(kt, kn);
        if ((i < 0 ? skip_value(d) : meta_value(d, ev, i, &sub[i])) < 0)
            return -1;
    }
    if (rc < 0)
        return -1;
    parent->st = ST_OK;
    fold_errors(sub, meta_names, M_COUNT, parent);
    struct sg_str e = {empty_str, 0};
    if (sub[M_HOST].st != ST_OK)
        ev->hostname = e;
    if (sub[M_GEO].st != ST_OK)
        ev->geo_location = e;
    if (sub[M_UA].st != ST_OK)
        ev->user_agent = e;
    if (sub[M_SESSION].st != ST_OK)
        ev->session_id = e;
    ev->has_geo = sub[M_LAT].st == ST_OK && sub[M_LON].st == ST_OK;
    if (!ev->has_geo)
        ev->geo_lat = ev->geo_lon = 0;
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * detail objects */

static int detail_value(struct dec *d, union sg_event_details *u, const struct dfield *f,
                        struct slot *s)
{
    char *at = (char *)u + f->off;
    switch (f->kind) {
    case FK_STR: {
        struct sg_str v;
        int rc = rd_str(d, s, &v);
        if (s->st == ST_OK)
            memcpy(at, &v, sizeof v);
        return rc;
    }
    case FK_UINT: {
        int64_t v = -1;
        int rc = rd_int(d, s, 0, INT64_MAX, "is negative or too large", &v);
        if (s->st == ST_OK)
            memcpy(at, &v, sizeof v);
        return rc;
    }
    case FK_PORT: {
        int64_t v = -1;
        int rc = rd_int(d, s, 0, 65535, "outside 0..65535", &v);
        int32_t p = (int32_t)v;
        if (s->st == ST_OK)
            memcpy(at, &p, sizeof p);
        return rc;
    }
    default: {
        int8_t v = -1;
        int rc = rd_bool(d, s, &v);
        if (s->st == ST_OK)
            memcpy(at, &v, sizeof v);
        return rc;
    }
    }
}

/* Reads a `<kind>_details` object at d->p (an '{') into u; errors go to `parent`. Every
 * kind's object is read schema-aware; only the one matching the final event_type is used. */
static int parse_details(struct dec *d, enum sg_event_type t, union sg_event_details *u,
                         struct slot *parent)
{
    const struct dfield *tab = dtables[t];
    unsigned cnt = dcounts[t];
    struct slot sub[MAX_DFIELDS] = {{0}};
    const char *names[MAX_DFIELDS];
    struct raw k;
    int first = 1, rc;
    details_init(u, t);
    if (enter(d) < 0)
        return -1;
    while ((rc = obj_next(d, &k, &first)) == 1) {
        char kb[24];
        size_t kn;
        const char *kt = key_text(&k, kb, sizeof kb, &kn);
        unsigned i = 0;
        while (i < cnt && !(tab[i].len == kn && memcmp(kt, tab[i].name, kn) == 0))
            i++;
        if ((i == cnt ? skip_value(d) : detail_value(d, u, &tab[i], &sub[i])) < 0)
            return -1;
    }
    if (rc < 0)
        return -1;
    for (unsigned i = 0; i < cnt; i++) {
        names[i] = tab[i].name;
        if (sub[i].st != ST_OK)
            df_clear(u, &tab[i]);
    }
    parent->st = ST_OK;
    fold_errors(sub, names, cnt, parent);
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * top level */

enum {
    T_ID,
    T_TS,
    T_TYPE,
    T_USER,
    T_SRC,
    T_DST,
    T_STATUS,
    T_SCORE,
    T_META,
    T_DET, /* +kind */
    T_COUNT = T_DET + SG_EV_TYPE_COUNT
};
static const char *const top_names[T_COUNT] = {
    "event_id",        "timestamp",    "event_type",      "user",       "source_ip",
    "destination_ip",  "status",       "threat_score",    "metadata",   "auth_details",
    "network_details", "file_details", "process_details", "dns_details"};

/* Maps a top-level key to its slot (switch on length, then one memcmp), or -1. */
static int top_key(const char *k, size_t n)
{
    int a = -1, b = -1, c = -1;
    switch (n) {
    case 4: a = T_USER; break;
    case 6: a = T_STATUS; break;
    case 8:
        a = T_ID;
        b = T_META;
        break;
    case 9:
        a = T_TS;
        b = T_SRC;
        break;
    case 10: a = T_TYPE; break;
    case 11: a = T_DET + SG_EV_DNS; break;
    case 12:
        a = T_SCORE;
        b = T_DET + SG_EV_AUTH;
        c = T_DET + SG_EV_FILE;
        break;
    case 14: a = T_DST; break;
    case 15:
        a = T_DET + SG_EV_NETWORK;
        b = T_DET + SG_EV_PROCESS;
        break;
    default: return -1;
    }
    if (memcmp(k, top_names[a], n) == 0)
        return a;
    if (b >= 0 && memcmp(k, top_names[b], n) == 0)
        return b;
    if (c >= 0 && memcmp(k, top_names[c], n) == 0)
        return c;
    return -1;
}

struct top {
    struct slot s[T_COUNT];
    union sg_event_details det[SG_EV_TYPE_COUNT];
    int type, status;
};

static int top_value(struct dec *d, struct sg_event *ev, struct top *t, int i)
{
    struct slot *s = &t->s[i];
    int rc;
    switch (i) {
    case T_ID:
        rc = rd_str(d, s, &ev->event_id);
        check_event_id(s, &ev->event_id);
        return rc;
    case T_TS: return rd_timestamp(d, s, &ev->ts_ms);
    case T_TYPE:
        return rd_enum(d, s, sg_event_type_parse, "is not one of the five event kinds", &t->type);
    case T_USER:
        rc = rd_str(d, s, &ev->user);
        check_user(s, &ev->user);
        return rc;
    case T_SRC:
    case T_DST:
        rc = rd_str(d, s, i == T_SRC ? &ev->source_ip : &ev->destination_ip);
        check_ip(s, i == T_SRC ? &ev->source_ip : &ev->destination_ip);
        return rc;
    case T_STATUS:
        return rd_enum(d, s, status_parse, "is not one of success, failed, blocked", &t->status);
    case T_SCORE: return rd_double(d, s, 0, 1, "outside 0..1", &ev->threat_score);
    case T_META:
        if (*d->p == '{')
            return parse_metadata(d, ev, s);
        return other_type(d, s, "is not an object");
    default:
        if (*d->p == '{')
            return parse_details(d, (enum sg_event_type)(i - T_DET), &t->det[i - T_DET], s);
        return other_type(d, s, "is not an object");
    }
}

static int parse_top(struct dec *d, struct sg_event *ev, struct top *t)
{
    struct raw k;
    int first = 1, rc;
    if (enter(d) < 0)
        return -1;
    while ((rc = obj_next(d, &k, &first)) == 1) {
        char kb[24];
        size_t kn;
        const char *kt = key_text(&k, kb, sizeof kb, &kn);
        int i = top_key(kt, kn);
        if ((i < 0 ? skip_value(d) : top_value(d, ev, t, i)) < 0)
            return -1;
    }
    return rc;
}

/* Fills err for a schema problem of one field ("<field>[.<sub>] <msg>"). */
static int reject_field(struct sg_event_error *err, enum sg_event_reason r, const char *field,
                        const char *sub, const char *msg)
{
    if (!err)
        return SG_ERR_INVALID;
    err->reason = r;
    snprintf(err->field, sizeof err->field, "%s%s%s", field, sub ? "." : "", sub ? sub : "");
    snprintf(err->message, sizeof err->message, "%s %s", err->field, msg);
    return SG_ERR_INVALID;
}

/* Fills err for a problem of the whole message (syntax, encoding, size, depth). */
static int reject_whole(struct sg_event_error *err, enum sg_event_reason r, const char *msg,
                        size_t at)
{
    if (!err)
        return SG_ERR_INVALID;
    err->reason = r;
    err->field[0] = '\0';
    snprintf(err->message, sizeof err->message, "%s at byte %zu", msg, at);
    return SG_ERR_INVALID;
}

/* Applies the final slot states to ev: first error in field order, then required fields,
 * then defaults for everything absent, null or superseded. */
static int finish(struct sg_event *ev, struct top *t, struct sg_event_error *err)
{
    struct sg_str e = {empty_str, 0};
    for (int i = T_ID; i < T_DET; i++) {
        struct slot *s = &t->s[i];
        if (s->st == ST_ERR)
            return reject_field(err, s->reason, top_names[i], s->sub, s->msg);
        if (i <= T_SRC && s->st != ST_OK)
            return reject_field(err, SG_REASON_MISSING_FIELD, top_names[i], NULL,
                                s->st == ST_NULL ? "is null (required field)"
                                                 : "is missing (required field)");
    }
    ev->type = (enum sg_event_type)t->type;
    struct slot *ds = &t->s[T_DET + t->type];
    if (ds->st == ST_ERR)
        return reject_field(err, ds->reason, top_names[T_DET + t->type], ds->sub, ds->msg);
    if (ds->st == ST_OK)
        ev->d = t->det[t->type];
    else
        details_init(&ev->d, ev->type);
    if (t->s[T_DST].st != ST_OK)
        ev->destination_ip = e;
    ev->status = t->s[T_STATUS].st == ST_OK ? (enum sg_event_status)t->status : SG_STATUS_SUCCESS;
    if (t->s[T_SCORE].st != ST_OK)
        ev->threat_score = 0;
    if (t->s[T_META].st != ST_OK)
        meta_clear(ev);
    return SG_OK;
}

int sg_event_decode(const char *json, size_t len, struct sg_event *ev, struct sg_arena *arena,
                    struct sg_event_error *err)
{
    if (err) {
        err->reason = SG_REASON_NONE;
        err->field[0] = err->message[0] = '\0';
    }
    sg_event_init(ev);
    if (len > SG_EVENT_MAX_BYTES)
        return reject_whole(err, SG_REASON_TOO_LARGE, "message larger than 1 MiB (limit)",
                            SG_EVENT_MAX_BYTES);
    struct dec d = {(const unsigned char *)json,
                    (const unsigned char *)json + len,
                    (const unsigned char *)json,
                    NULL,
                    0,
                    0,
                    NULL,
                    0};
    d.out = sg_arena_alloc(arena, len + 1);
    struct top t;
    memset(t.s, 0, sizeof t.s);
    t.type = 0;
    t.status = 0;
    skip_ws(&d);
    int rc;
    if (d.p < d.end && *d.p == '{') {
        rc = parse_top(&d, ev, &t);
    } else {
        rc = skip_value(&d);
        if (rc == 0) {
            skip_ws(&d);
            rc = d.p == d.end ? fail(&d, SG_REASON_NOT_OBJECT, "top-level value is not an object")
                              : bad_byte(&d, "unexpected data after the value");
        }
    }
    if (rc == 0) {
        skip_ws(&d);
        if (d.p != d.end)
            rc = bad_byte(&d, "unexpected data after the object");
    }
    if (rc < 0) {
        sg_event_init(ev);
        return reject_whole(err, (enum sg_event_reason)d.hard, d.hard_msg, d.hard_at);
    }
    rc = finish(ev, &t, err);
    if (rc != SG_OK)
        sg_event_init(ev);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * Encoder */

static void put_i64(struct sg_buf *b, int64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    sg_buf_append(b, tmp + i, sizeof tmp - i);
}

/* The encoder runs once per stored event (~10 % of the stream's main thread): the helpers
 * below reserve once per field and write in place instead of one sg_buf call per piece. */

/* Appends `,"key":` (or `{"key":` for the first member of an object). */
static void put_key(struct sg_buf *b, int *first, const char *key)
{
    size_t kl = strlen(key);
    sg_buf_reserve(b, kl + 4);
    char *o = b->data + b->len;
    *o++ = *first ? '{' : ',';
    *o++ = '"';
    memcpy(o, key, kl);
    o += kl;
    *o++ = '"';
    *o++ = ':';
    *o = '\0';
    b->len = (size_t)(o - b->data);
    *first = 0;
}

/* sg_buf_json_str with a fast path for the usual strings that need no escaping and have no
 * byte >= 0x80 (the same bytes either way). */
static void put_json_str(struct sg_buf *b, const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) { /* eight bytes per step, as the decoder's scanner */
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (special8(w)) {
            sg_buf_json_str(b, s, n);
            return;
        }
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) {
            sg_buf_json_str(b, s, n);
            return;
        }
    }
    sg_buf_reserve(b, n + 2);
    char *o = b->data + b->len;
    *o++ = '"';
    memcpy(o, s, n);
    o += n;
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->data);
}

static void put_str_field(struct sg_buf *b, int *first, const char *key, const struct sg_str *s)
{
    if (!s->p || !s->len)
        return;
    put_key(b, first, key);
    put_json_str(b, s->p, s->len);
}

static void encode_metadata(const struct sg_event *ev, struct sg_buf *b)
{
    int first = 1;
    put_str_field(b, &first, "hostname", &ev->hostname);
    put_str_field(b, &first, "geo_location", &ev->geo_location);
    if (ev->has_geo) {
        put_key(b, &first, "geo_lat");
        sg_buf_json_double(b, ev->geo_lat);
        put_key(b, &first, "geo_lon");
        sg_buf_json_double(b, ev->geo_lon);
    }
    put_str_field(b, &first, "user_agent", &ev->user_agent);
    put_str_field(b, &first, "session_id", &ev->session_id);
    if (!first)
        sg_buf_putc(b, '}');
}

static void encode_details(const struct sg_event *ev, struct sg_buf *b)
{
    const struct dfield *tab = dtables[ev->type];
    const char *base = (const char *)&ev->d;
    int first = 1;
    for (unsigned i = 0; i < dcounts[ev->type]; i++) {
        const struct dfield *f = &tab[i];
        if (f->kind == FK_STR) {
            struct sg_str s;
            memcpy(&s, base + f->off, sizeof s);
            put_str_field(b, &first, f->name, &s);
        } else if (f->kind == FK_UINT || f->kind == FK_PORT) {
            int64_t v;
            if (f->kind == FK_UINT) {
                memcpy(&v, base + f->off, sizeof v);
            } else {
                int32_t p;
                memcpy(&p, base + f->off, sizeof p);
                v = p;
            }
            if (v < 0)
                continue;
            put_key(b, &first, f->name);
            put_i64(b, v);
        } else {
            int8_t v;
            memcpy(&v, base + f->off, sizeof v);
            if (v < 0)
                continue;
            put_key(b, &first, f->name);
            sg_buf_puts(b, v ? "true" : "false");
        }
    }
    if (!first) {
        sg_buf_putc(b, '}');
    }
}

void sg_event_encode(const struct sg_event *ev, struct sg_buf *out)
{
    int first = 1;
    enum sg_event_type t = (unsigned)ev->type < SG_EV_TYPE_COUNT ? ev->type : SG_EV_AUTH;
    put_key(out, &first, "event_id");
    put_json_str(out, ev->event_id.p ? ev->event_id.p : "", ev->event_id.len);
    put_key(out, &first, "timestamp");
    put_i64(out, ev->ts_ms);
    put_key(out, &first, "event_type");
    put_json_str(out, type_names[t], strlen(type_names[t]));
    put_key(out, &first, "user");
    put_json_str(out, ev->user.p ? ev->user.p : "", ev->user.len);
    put_key(out, &first, "source_ip");
    put_json_str(out, ev->source_ip.p ? ev->source_ip.p : "", ev->source_ip.len);
    put_str_field(out, &first, "destination_ip", &ev->destination_ip);
    put_key(out, &first, "status");
    put_json_str(out, sg_event_status_name(ev->status),
                 strlen(sg_event_status_name(ev->status)));
    put_key(out, &first, "threat_score");
    sg_buf_json_double(out, ev->threat_score);
    /* Nested objects are written into the same buffer and rolled back when empty. */
    size_t mark = out->len;
    sg_buf_puts(out, ",\"metadata\":");
    size_t inner = out->len;
    encode_metadata(ev, out);
    if (out->len == inner)
        out->len = mark;
    if (t == ev->type) {
        mark = out->len;
        sg_buf_append(out, ",\"", 2);
        sg_buf_puts(out, detail_names[t]);
        sg_buf_append(out, "\":", 2);
        inner = out->len;
        encode_details(ev, out);
        if (out->len == inner)
            out->len = mark;
    }
    sg_buf_putc(out, '}');
}

/* ---------------------------------------------------------------------------------------
 * Equality */

static int str_eq(const struct sg_str *a, const struct sg_str *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static int details_equal(const union sg_event_details *a, const union sg_event_details *b,
                         enum sg_event_type t)
{
    for (unsigned i = 0; i < dcounts[t]; i++) {
        const struct dfield *f = &dtables[t][i];
        const char *pa = (const char *)a + f->off, *pb = (const char *)b + f->off;
        if (f->kind == FK_STR) {
            struct sg_str sa, sb;
            memcpy(&sa, pa, sizeof sa);
            memcpy(&sb, pb, sizeof sb);
            if (!str_eq(&sa, &sb))
                return 0;
        } else {
            size_t n = f->kind == FK_UINT ? 8 : f->kind == FK_PORT ? 4 : 1;
            if (memcmp(pa, pb, n) != 0)
                return 0;
        }
    }
    return 1;
}

int sg_event_equal(const struct sg_event *a, const struct sg_event *b)
{
    if (!str_eq(&a->event_id, &b->event_id) || a->ts_ms != b->ts_ms || a->type != b->type ||
        !str_eq(&a->user, &b->user) || !str_eq(&a->source_ip, &b->source_ip) ||
        !str_eq(&a->destination_ip, &b->destination_ip) || a->status != b->status ||
        a->threat_score != b->threat_score)
        return 0;
    if (!str_eq(&a->hostname, &b->hostname) || !str_eq(&a->geo_location, &b->geo_location) ||
        !str_eq(&a->user_agent, &b->user_agent) || !str_eq(&a->session_id, &b->session_id) ||
        a->has_geo != b->has_geo)
        return 0;
    if (a->has_geo && (a->geo_lat != b->geo_lat || a->geo_lon != b->geo_lon))
        return 0;
    if ((unsigned)a->type >= SG_EV_TYPE_COUNT)
        return 1;
    return details_equal(&a->d, &b->d, a->type);
}
