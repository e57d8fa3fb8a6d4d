/* sg_http: the libmicrohttpd daemon, request lifecycle and routing.
 * Lifecycle: the URI-log callback (called once per request with the raw, still-escaped target)
 * allocates the request context; the access handler answers on its first call; the completion
 * callback frees the context. We parse the raw target ourselves (sg_http_params) because
 * libmicrohttpd unescapes the path before splitting it, which would turn a user named "a/b"
 * (sent as a%2Fb) into two segments. */
#include "serving/sg_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_time.h"

#define ARENA_BLOCK 4096 /* a request target is at most 4 KiB; larger asks get own blocks */

struct sg_http {
    struct MHD_Daemon *d;
    const struct sg_http_route *routes;
    size_t nroutes;
    void *ctx;
    char *token;
    sg_http_observer observe;
    char host[64];
    uint16_t port;
};

struct reqctx {
    struct sg_arena arena;
    char *uri; /* raw request target, in the arena */
    size_t uri_len;
    int answered;
    int calls; /* access-handler calls so far */
};

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)cls;
    (void)con;
    struct reqctx *r = sg_xmalloc(sizeof *r);
    sg_arena_init(&r->arena, ARENA_BLOCK);
    r->uri_len = strlen(uri);
    r->uri = sg_arena_strndup(&r->arena, uri, r->uri_len);
    r->answered = 0;
    r->calls = 0;
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    struct reqctx *r = *con_cls;
    if (r) {
        sg_arena_release(&r->arena);
        free(r);
        *con_cls = NULL;
    }
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt,
                                                             va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    sg_log_ratelimited(SG_LOG_WARN, 5, "http: %s", msg);
}

int sg_http_token_equal(const char *expected, const char *given, size_t given_len)
{
    size_t n = strlen(expected);
    unsigned diff = given_len != n;
    for (size_t i = 0; i < n; i++) {
        unsigned char g = i < given_len ? (unsigned char)given[i] : 0;
        diff |= (unsigned)(g ^ (unsigned char)expected[i]);
    }
    return diff == 0;
}

void sg_http_resp_error(struct sg_http_resp *r, int status, const char *code, const char *param,
                        const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->status = status;
    r->content_type = "application/json";
    r->static_body = NULL;
    sg_buf_reset(&r->body);
    sg_buf_printf(&r->body, "{\"error\":{\"status\":%d,\"code\":", status);
    sg_buf_json_str(&r->body, code, strlen(code));
    if (param && *param) {
        sg_buf_puts(&r->body, ",\"parameter\":");
        sg_buf_json_str(&r->body, param, strlen(param));
    }
    sg_buf_puts(&r->body, ",\"message\":");
    sg_buf_json_str(&r->body, msg, strlen(msg));
    sg_buf_puts(&r->body, "}}\n");
}

void sg_http_resp_perr(struct sg_http_resp *r, const struct sg_http_perr *e)
{
    const char *code = e->status == 404   ? "not_found"
                       : e->status == 414 ? "uri_too_long"
                       : *e->param        ? "bad_parameter"
                                          : "bad_request";
    sg_http_resp_error(r, e->status, code, e->param, "%s", e->message);
}

/* Matches the url's segments against a pattern; sets *id for a '*' segment. */
static int route_match(const char *pattern, const struct sg_http_url *u,
                       const struct sg_http_str **id)
{
    size_t i = 0;
    const char *p = pattern;
    *id = NULL;
    while (*p == '/')
        p++;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (i >= u->nseg)
            return 0;
        if (len == 1 && p[0] == '*')
            *id = &u->seg[i];
        else if (u->seg[i].len != len || memcmp(u->seg[i].p, p, len) != 0)
            return 0;
        i++;
        p += len;
        while (*p == '/')
            p++;
    }
    return i == u->nseg;
}

static int authorized(const struct sg_http *h, struct MHD_Connection *con)
{
    if (!h->token)
        return 1;
    const char *a = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!a || strncasecmp(a, "Bearer ", 7) != 0)
        return 0;
    a += 7;
    while (*a == ' ')
        a++;
    return sg_http_token_equal(h->token, a, strlen(a));
}

/* Routes and runs the handler; returns the matched route pattern for the observer. */
static const char *dispatch(struct sg_http *h, struct MHD_Connection *con, struct reqctx *rc,
                            int head, struct sg_http_resp *resp)
{
    struct sg_http_req req;
    struct sg_http_perr perr;
    memset(&req, 0, sizeof req);
    req.head = head;
    req.arena = &rc->arena;
    if (sg_http_url_parse(rc->uri, rc->uri_len, &rc->arena, &req.url, &perr) != SG_OK) {
        sg_http_resp_perr(resp, &perr);
        return "unmatched";
    }
    for (size_t i = 0; i < h->nroutes; i++) {
        const struct sg_http_route *rt = &h->routes[i];
        if (!route_match(rt->pattern, &req.url, &req.id))
            continue;
        if (!rt->public && !authorized(h, con)) {
            sg_http_resp_error(resp, 401, "unauthorized", NULL,
                               "a valid 'Authorization: Bearer <token>' header is required");
            return rt->pattern;
        }
        rt->fn(&req, resp, h->ctx);
        return rt->pattern;
    }
    sg_http_resp_error(resp, 404, "not_found", NULL, "no such resource");
    return "unmatched";
}

static enum MHD_Result answer(struct MHD_Connection *con, struct sg_http_resp *r)
{
    struct MHD_Response *m;
    if (r->static_body) {
        m = MHD_create_response_from_buffer(r->static_len, (void *)(uintptr_t)r->static_body,
                                            MHD_RESPMEM_PERSISTENT);
    } else {
        size_t len = r->body.len;
        char *data = sg_buf_steal(&r->body);
        m = MHD_create_response_from_buffer_with_free_callback(len, data, free);
        if (!m)
            free(data);
    }
    if (!m)
        return MHD_NO;
    MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL,
                            r->cache_control ? r->cache_control : "no-store");
    MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
    if (r->content_type && strncmp(r->content_type, "text/html", 9) == 0)
        MHD_add_response_header(m, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
    if (r->scan[0])
        MHD_add_response_header(m, "X-StreamGuard-Scan", r->scan);
    if (r->status == 405)
        MHD_add_response_header(m, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (r->status == 401)
        MHD_add_response_header(m, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Bearer realm=\"streamguard\"");
    enum MHD_Result ret = MHD_queue_response(con, (unsigned)r->status, m);
    MHD_destroy_response(m);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    (void)upload_data;
    struct sg_http *h = cls;
    struct reqctx *rc = *con_cls;
    if (!rc) /* no URI-log call (should not happen): fall back to the unescaped path */
        *con_cls = rc = on_uri(NULL, url, con);
    int head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    int allowed = head || strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    /* GET/HEAD are answered once the whole request is in (the call after the first one with
     * no upload data): answering on the first call makes libmicrohttpd close the connection,
     * as it cannot know whether a body follows, and costs every client a new TCP connection
     * per request. Other methods are refused at once (and the connection closed). */
    if (rc->answered || (allowed && (rc->calls++ == 0 || *upload_data_size != 0))) {
        *upload_data_size = 0; /* discard any request body */
        return MHD_YES;
    }
    rc->answered = 1;
    int64_t t0 = sg_time_mono_ns();
    struct sg_http_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.status = 200;
    sg_buf_init(&resp.body);
    const char *route;
    if (!allowed) {
        sg_http_resp_error(&resp, 405, "method_not_allowed", NULL,
                           "only GET and HEAD are supported");
        route = "unmatched";
    } else {
        route = dispatch(h, con, rc, head, &resp);
    }
    int status = resp.status;
    enum MHD_Result ret = answer(con, &resp);
    sg_buf_release(&resp.body);
    if (h->observe)
        h->observe(h->ctx, route, status, sg_time_mono_ns() - t0);
    return ret;
}

/* Parses "HOST:PORT" / "[V6]:PORT" into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, char *host, size_t hcap,
                        uint16_t *port, char *err, size_t errlen)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen) {
        snprintf(err, errlen, "listen address '%s' is not HOST:PORT", listen);
        return SG_ERR_CONFIG;
    }
    const char *h = listen;
    size_t hl = (size_t)(colon - listen);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (hl == 0 || hl >= hcap || *end || end == colon + 1 || p < 0 || p > 65535) {
        snprintf(err, errlen, "listen address '%s' is not HOST:PORT (port 0..65535)", listen);
        return SG_ERR_CONFIG;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int g = getaddrinfo(host, NULL, &hints, &ai);
    if (g != 0 || !ai) {
        snprintf(err, errlen, "listen address '%s': %s", listen, gai_strerror(g));
        return SG_ERR_CONFIG;
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)(void *)ss)->sin_port = htons((uint16_t)p);
    else
        ((struct sockaddr_in6 *)(void *)ss)->sin6_port = htons((uint16_t)p);
    *port = (uint16_t)p;
    return SG_OK;
}

int sg_http_start(const struct sg_http_opts *o, const struct sg_http_route *routes,
                  size_t nroutes, void *ctx, struct sg_http **out, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sg_http *h = sg_xcalloc(1, sizeof *h);
    int rc = parse_listen(o->listen ? o->listen : "127.0.0.1:8080", &ss, h->host,
                          sizeof h->host, &h->port, err, errlen);
    if (rc != SG_OK) {
        free(h);
        return rc;
    }
    h->routes = routes;
    h->nroutes = nroutes;
    h->ctx = ctx;
    h->observe = o->observe;
    h->token = o->token && *o->token ? sg_xstrdup(o->token) : NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO |
                     MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(
        flags, h->port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)(o->threads ? o->threads : 2), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(o->conn_memory_limit ? o->conn_memory_limit : 32768),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(o->timeout_s ? o->timeout_s : 10),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(o->max_connections ? o->max_connections : 1024),
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not permitted)",
                 o->listen);
        free(h->token);
        free(h);
        return SG_ERR_UNAVAILABLE;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info && info->port)
        h->port = info->port;
    *out = h;
    return SG_OK;
}

void sg_http_address(const struct sg_http *h, char *buf, size_t cap)
{
    if (strchr(h->host, ':'))
        snprintf(buf, cap, "[%s]:%u", h->host, (unsigned)h->port);
    else
        snprintf(buf, cap, "%s:%u", h->host, (unsigned)h->port);
}

uint16_t sg_http_port(const struct sg_http *h)
{
    return h->port;
}

void sg_http_stop(struct sg_http *h)
{
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    free(h->token);
    free(h);
}
