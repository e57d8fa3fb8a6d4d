/* sg_http: StreamGuard's HTTP server on libmicrohttpd - a route table of GET/HEAD handlers
 * (405 for other methods), optional bearer-token auth, request size/time limits, JSON errors,
 * and one bump arena per request. It knows nothing of the API's resources (sg_api_*.c) or of
 * the store; the serving app (sg_serve) supplies the routes. */
#ifndef SG_HTTP_H
#define SG_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"
#include "core/sg_mem.h"
#include "serving/sg_http_params.h"

struct sg_http;

/* One request as a handler sees it; everything lives until the handler returns. */
struct sg_http_req {
    int head;                     /* 1 for HEAD (answered like GET, body not sent) */
    struct sg_http_url url;       /* decoded path segments and query parameters */
    const struct sg_http_str *id; /* the route's '*' segment, or NULL */
    struct sg_arena *arena;       /* per-request scratch memory */
};

/* What a handler answers. `body` is preset empty; `content_type` defaults to JSON. A handler
 * may instead point `static_body` at memory that outlives the server (embedded assets). */
struct sg_http_resp {
    int status; /* default 200 */
    const char *content_type;
    const char *cache_control; /* default "no-store" */
    struct sg_buf body;
    const void *static_body;
    size_t static_len;
    char scan[96]; /* if set, sent as "X-StreamGuard-Scan" (store work done for the request) */
};

typedef void (*sg_http_handler)(const struct sg_http_req *req, struct sg_http_resp *resp,
                                void *ctx);

/* A route: a pattern of segments "/api/events/ *" (no space; '*' matches exactly one segment,
 * which the handler gets as req->id), the handler, and whether it is open without the token. */
struct sg_http_route {
    const char *pattern;
    sg_http_handler fn;
    int public;
};

/* Called once per answered request (from the server's threads) - for metrics. `route` is the
 * matched pattern or "unmatched"; `ns` is the time spent in the handler and encoding. */
typedef void (*sg_http_observer)(void *ctx, const char *route, int status, int64_t ns);

struct sg_http_opts {
    const char *listen;        /* "HOST:PORT" (IPv4 or [IPv6]); port 0 = ephemeral */
    const char *token;         /* bearer token required off public routes, or NULL */
    unsigned threads;          /* libmicrohttpd thread pool size (default 2) */
    size_t conn_memory_limit;  /* bytes per connection for headers (default 32 KiB) */
    unsigned timeout_s;        /* idle connection timeout (default 10 s) */
    unsigned max_connections;  /* default 1024 */
    sg_http_observer observe;  /* optional */
};

/* Starts serving `routes` (borrowed; must outlive the server) with `ctx` passed to handlers.
 * Returns SG_OK and *out, SG_ERR_CONFIG for a bad listen address, or SG_ERR_UNAVAILABLE when
 * the port cannot be bound; errbuf says why. Ownership: stop with sg_http_stop. */
int sg_http_start(const struct sg_http_opts *opts, const struct sg_http_route *routes,
                  size_t nroutes, void *ctx, struct sg_http **out, char *errbuf, size_t errlen);

/* The bound address as "HOST:PORT" (the real port when 0 was asked). */
void sg_http_address(const struct sg_http *h, char *buf, size_t cap);
uint16_t sg_http_port(const struct sg_http *h);

/* Stops accepting, waits for in-flight requests, frees everything. NULL-safe. */
void sg_http_stop(struct sg_http *h);

/* Sets an error answer: {"error":{"status":S,"code":"...","parameter":"...","message":"..."}}
 * (`parameter` omitted when param is NULL or ""). */
void sg_http_resp_error(struct sg_http_resp *r, int status, const char *code, const char *param,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Sets a 400/404/414 answer from a parameter error. */
void sg_http_resp_perr(struct sg_http_resp *r, const struct sg_http_perr *e);

/* Constant-time comparison of a presented token with the expected one (time depends only on
 * the expected token's length). Returns 1 if equal. */
int sg_http_token_equal(const char *expected, const char *given, size_t given_len);

#endif
