/* sg_http_params: what a client puts in a request URL, parsed - path segments and the query
 * string (percent-decoded), timestamp / integer / boolean parameter values, and the opaque
 * pagination cursor (base64url). Pure functions over bytes, fuzzed by
 * tests/fuzz/fuzz_http_params.c. No I/O and no libmicrohttpd here (see sg_http). */
#ifndef SG_HTTP_PARAMS_H
#define SG_HTTP_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_mem.h"

#define SG_HTTP_MAX_URI 4096     /* longer request targets are refused (414) */
#define SG_HTTP_MAX_SEGMENTS 8   /* more path segments than any route has: 404 */
#define SG_HTTP_MAX_PARAMS 16    /* more query parameters: 400 */
#define SG_HTTP_MAX_CURSOR_KEY 600 /* largest store key a cursor can carry */

/* A decoded piece of the URL: NUL-terminated, `len` bytes, never contains NUL. */
struct sg_http_str {
    const char *p;
    size_t len;
};

struct sg_http_param {
    struct sg_http_str key, val;
};

struct sg_http_url {
    size_t nseg;
    struct sg_http_str seg[SG_HTTP_MAX_SEGMENTS];
    size_t nparam;
    struct sg_http_param param[SG_HTTP_MAX_PARAMS];
};

/* Why a URL or a value was refused; `param` names the query parameter ("" for the path). */
struct sg_http_perr {
    int status; /* HTTP status to answer: 400, 404 or 414 */
    char param[48];
    char message[160];
};

/* Parses a request target "/a/b%2Fc?x=1&y=%20" of n bytes: segments split on '/' (empty ones
 * dropped) and percent-decoded after splitting, so "%2F" stays inside a segment; the query split
 * on '&' and '=' with '+' as space. Strings are copied into `arena` (live until it is reset).
 * Refuses bad %-escapes, NUL bytes, repeated or empty parameter names, too many segments (404)
 * or parameters, and targets longer than SG_HTTP_MAX_URI (414).
 * Returns SG_OK, or SG_ERR_INVALID with `err` filled. Thread-safety: reentrant. */
int sg_http_url_parse(const char *uri, size_t n, struct sg_arena *arena, struct sg_http_url *out,
                      struct sg_http_perr *err);

/* Returns the parameter named `key` or NULL. Borrowed from `u`. */
const struct sg_http_param *sg_http_url_param(const struct sg_http_url *u, const char *key);

/* Checks every parameter is in the NULL-terminated `allowed` list. Returns SG_OK, or
 * SG_ERR_INVALID and a 400 in `err` naming the first unknown parameter. */
int sg_http_url_check(const struct sg_http_url *u, const char *const *allowed,
                      struct sg_http_perr *err);

/* A timestamp: epoch milliseconds (digits only) or RFC 3339. Returns SG_OK or SG_ERR_INVALID
 * (400 naming `name` in err). Range 0 .. SG_TIME_MAX_MS. */
int sg_http_parse_time(const char *name, const struct sg_http_str *v, int64_t *ms,
                       struct sg_http_perr *err);

/* A decimal integer in [min, max]. Returns SG_OK or SG_ERR_INVALID (400 naming `name`). */
int sg_http_parse_int(const char *name, const struct sg_http_str *v, int64_t min, int64_t max,
                      int64_t *out, struct sg_http_perr *err);

/* "true"/"1" or "false"/"0". Returns SG_OK or SG_ERR_INVALID (400 naming `name`). */
int sg_http_parse_bool(const char *name, const struct sg_http_str *v, int *out,
                       struct sg_http_perr *err);

/* Fills a 400 error naming `param`. Returns SG_ERR_INVALID, so handlers can `return` it. */
int sg_http_perr_set(struct sg_http_perr *err, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Cursor: the opaque position of a paginated listing. It carries the last store key returned,
 * the listing it belongs to (`kind`) and a hash of the listing's filters (`bind`), with a check
 * value, as unpadded base64url. A cursor from another listing or other filters, or one that was
 * altered, is refused.
 * sg_http_cursor_encode writes the NUL-terminated text into out (cap >= 2 * keylen + 32) and
 * returns its length, or 0 if keylen > SG_HTTP_MAX_CURSOR_KEY or cap is too small. */
size_t sg_http_cursor_encode(uint8_t kind, uint32_t bind, const void *key, size_t keylen,
                             char *out, size_t cap);

/* Decodes a cursor; `key` must hold SG_HTTP_MAX_CURSOR_KEY bytes. Returns SG_OK and the key,
 * or SG_ERR_INVALID (400 naming "cursor"). */
int sg_http_cursor_decode(const struct sg_http_str *v, uint8_t kind, uint32_t bind, void *key,
                          size_t *keylen, struct sg_http_perr *err);

/* base64url without padding (RFC 4648 section 5). Hand-written: none of our libraries exposes
 * it and it is 40 lines. encode writes NUL-terminated text (cap >= 4 * ceil(n/3) + 1) and
 * returns its length or 0 if cap is too small; decode returns the byte count or -1 on
 * any character outside the alphabet, an impossible length, or cap too small. */
size_t sg_http_b64url_encode(const void *p, size_t n, char *out, size_t cap);
long sg_http_b64url_decode(const char *s, size_t n, void *out, size_t cap);

#endif
