/* sg_http_params: request-target parsing, parameter values and the pagination cursor.
 * Everything here treats its input as hostile bytes: bounded, no NUL-dependence, no allocation
 * outside the caller's arena. */
#include "serving/sg_http_params.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_hash.h"
#include "core/sg_time.h"

int sg_http_perr_set(struct sg_http_perr *err, const char *param, const char *fmt, ...)
{
    if (!err)
        return SG_ERR_INVALID;
    err->status = 400;
    snprintf(err->param, sizeof err->param, "%s", param ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return SG_ERR_INVALID;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into the arena; `plus` turns '+' into ' ' (query strings only).
 * Returns 0, or -1 on a bad escape or a decoded NUL. */
static int decode(const char *s, size_t n, int plus, struct sg_arena *a, struct sg_http_str *out)
{
    char *d = sg_arena_alloc(a, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval((unsigned char)s[i + 1]);
            int lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (c == 0)
            return -1;
        d[j++] = (char)c;
    }
    d[j] = '\0';
    out->p = d;
    out->len = j;
    return 0;
}

static int parse_path(const char *p, size_t n, struct sg_arena *a, struct sg_http_url *u,
                      struct sg_http_perr *err)
{
    if (n == 0 || p[0] != '/')
        return sg_http_perr_set(err, "", "the request target must start with '/'");
    size_t i = 0;
    while (i < n) {
        while (i < n && p[i] == '/')
            i++;
        size_t start = i;
        while (i < n && p[i] != '/')
            i++;
        if (i == start)
            break;
        if (u->nseg == SG_HTTP_MAX_SEGMENTS) {
            sg_http_perr_set(err, "", "no such resource");
            err->status = 404;
            return SG_ERR_INVALID;
        }
        if (decode(p + start, i - start, 0, a, &u->seg[u->nseg]) != 0)
            return sg_http_perr_set(err, "", "bad percent-encoding or NUL byte in the path");
        u->nseg++;
    }
    return SG_OK;
}

static int add_param(const char *s, size_t n, struct sg_arena *a, struct sg_http_url *u,
                     struct sg_http_perr *err)
{
    const char *eq = memchr(s, '=', n);
    size_t kl = eq ? (size_t)(eq - s) : n;
    struct sg_http_param prm;
    if (decode(s, kl, 1, a, &prm.key) != 0)
        return sg_http_perr_set(err, "", "bad percent-encoding or NUL byte in a parameter name");
    if (prm.key.len == 0)
        return sg_http_perr_set(err, "", "empty parameter name in the query string");
    if (eq) {
        if (decode(eq + 1, n - kl - 1, 1, a, &prm.val) != 0)
            return sg_http_perr_set(err, prm.key.len < 40 ? prm.key.p : "",
                                    "bad percent-encoding or NUL byte in the value");
    } else {
        prm.val.p = "";
        prm.val.len = 0;
    }
    if (sg_http_url_param(u, prm.key.p))
        return sg_http_perr_set(err, prm.key.len < 40 ? prm.key.p : "",
                                "parameter given more than once");
    if (u->nparam == SG_HTTP_MAX_PARAMS)
        return sg_http_perr_set(err, "", "more than %d query parameters", SG_HTTP_MAX_PARAMS);
    u->param[u->nparam++] = prm;
    return SG_OK;
}

int sg_http_url_parse(const char *uri, size_t n, struct sg_arena *a, struct sg_http_url *u,
                      struct sg_http_perr *err)
{
    memset(u, 0, sizeof *u);
    if (n > SG_HTTP_MAX_URI) {
        sg_http_perr_set(err, "", "request target longer than %d bytes", SG_HTTP_MAX_URI);
        err->status = 414;
        return SG_ERR_INVALID;
    }
    const char *q = memchr(uri, '?', n);
    const char *hash = memchr(uri, '#', n);
    if (hash && (!q || hash < q))
        n = (size_t)(hash - uri);
    size_t plen = q && q < uri + n ? (size_t)(q - uri) : n;
    int rc = parse_path(uri, plen, a, u, err);
    if (rc != SG_OK || plen == n)
        return rc;
    const char *s = uri + plen + 1, *end = uri + n;
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *e = amp ? amp : end;
        if (e > s && (rc = add_param(s, (size_t)(e - s), a, u, err)) != SG_OK)
            return rc;
        s = e + 1;
    }
    return SG_OK;
}

const struct sg_http_param *sg_http_url_param(const struct sg_http_url *u, const char *key)
{
    for (size_t i = 0; i < u->nparam; i++)
        if (strcmp(u->param[i].key.p, key) == 0)
            return &u->param[i];
    return NULL;
}

int sg_http_url_check(const struct sg_http_url *u, const char *const *allowed,
                      struct sg_http_perr *err)
{
    for (size_t i = 0; i < u->nparam; i++) {
        const char *k = u->param[i].key.p;
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, k) == 0;
        if (!ok)
            return sg_http_perr_set(err, u->param[i].key.len < 40 ? k : "",
                                    "unknown parameter");
    }
    return SG_OK;
}

static int parse_digits(const struct sg_http_str *v, int neg_ok, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (neg_ok && v->len > 0 && v->p[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == v->len || v->len - i > 18)
        return -1;
    int64_t x = 0;
    for (; i < v->len; i++) {
        if (v->p[i] < '0' || v->p[i] > '9')
            return -1;
        x = x * 10 + (v->p[i] - '0');
    }
    *out = neg ? -x : x;
    return 0;
}

int sg_http_parse_time(const char *name, const struct sg_http_str *v, int64_t *ms,
                       struct sg_http_perr *err)
{
    int64_t x;
    if (parse_digits(v, 0, &x) == 0) {
        if (x > SG_TIME_MAX_MS)
            return sg_http_perr_set(err, name, "timestamp out of range");
        *ms = x;
        return SG_OK;
    }
    if (sg_time_parse_rfc3339(v->p, v->len, &x) == SG_OK && x >= 0 && x <= SG_TIME_MAX_MS) {
        *ms = x;
        return SG_OK;
    }
    return sg_http_perr_set(err, name,
                            "expected epoch milliseconds or an RFC 3339 timestamp "
                            "(2026-11-25T21:07:20Z)");
}

int sg_http_parse_int(const char *name, const struct sg_http_str *v, int64_t min, int64_t max,
                      int64_t *out, struct sg_http_perr *err)
{
    int64_t x;
    if (parse_digits(v, 1, &x) != 0 || x < min || x > max)
        return sg_http_perr_set(err, name, "expected an integer from %lld to %lld",
                                (long long)min, (long long)max);
    *out = x;
    return SG_OK;
}

int sg_http_parse_bool(const char *name, const struct sg_http_str *v, int *out,
                       struct sg_http_perr *err)
{
    if (!strcmp(v->p, "true") || !strcmp(v->p, "1"))
        *out = 1;
    else if (!strcmp(v->p, "false") || !strcmp(v->p, "0"))
        *out = 0;
    else
        return sg_http_perr_set(err, name, "expected true or false");
    return SG_OK;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t sg_http_b64url_encode(const void *p, size_t n, char *out, size_t cap)
{
    const unsigned char *s = p;
    size_t need = n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
    if (cap < need + 1)
        return 0;
    size_t j = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        size_t chars = i + 2 < n ? 4 : i + 1 < n ? 3 : 2;
        for (size_t k = 0; k < chars; k++)
            out[j++] = b64[(v >> (18 - 6 * k)) & 63];
    }
    out[j] = '\0';
    return j;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

long sg_http_b64url_decode(const char *s, size_t n, void *out, size_t cap)
{
    unsigned char *d = out;
    if (n % 4 == 1)
        return -1;
    size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (need > cap)
        return -1;
    size_t j = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            d[j++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical trailing bits: not a cursor we wrote */
        return -1;
    return (long)j;
}

/* Cursor bytes: version(1) kind(1) bind(4, LE) key(...) check(4, LE of a hash of the rest). */
#define CURSOR_VERSION 1
#define CURSOR_SEED 0x5347637572736f72ull /* "SGcursor" */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t sg_http_cursor_encode(uint8_t kind, uint32_t bind, const void *key, size_t keylen,
                             char *out, size_t cap)
{
    unsigned char raw[SG_HTTP_MAX_CURSOR_KEY + 10];
    if (keylen > SG_HTTP_MAX_CURSOR_KEY)
        return 0;
    raw[0] = CURSOR_VERSION;
    raw[1] = kind;
    put32(raw + 2, bind);
    memcpy(raw + 6, key, keylen);
    put32(raw + 6 + keylen, (uint32_t)sg_hash_bytes(raw, 6 + keylen, CURSOR_SEED));
    return sg_http_b64url_encode(raw, keylen + 10, out, cap);
}

int sg_http_cursor_decode(const struct sg_http_str *v, uint8_t kind, uint32_t bind, void *key,
                          size_t *keylen, struct sg_http_perr *err)
{
    unsigned char raw[SG_HTTP_MAX_CURSOR_KEY + 10];
    long n = sg_http_b64url_decode(v->p, v->len, raw, sizeof raw);
    if (n < 10)
        return sg_http_perr_set(err, "cursor", "not a cursor this server issued");
    size_t kl = (size_t)n - 10;
    if (raw[0] != CURSOR_VERSION ||
        get32(raw + 6 + kl) != (uint32_t)sg_hash_bytes(raw, 6 + kl, CURSOR_SEED))
        return sg_http_perr_set(err, "cursor", "not a cursor this server issued");
    if (raw[1] != kind || get32(raw + 2) != bind)
        return sg_http_perr_set(err, "cursor",
                                "cursor belongs to another listing or other filters");
    memcpy(key, raw + 6, kl);
    *keylen = kl;
    return SG_OK;
}
