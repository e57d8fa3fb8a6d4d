/* sg_metrics_http: GET /metrics and GET /health over libmicrohttpd's internal polling
 * thread. Everything else is 404 (405 for other methods). */
#include "core/sg_metrics_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"

struct sg_metrics_http {
    struct MHD_Daemon *d;
    struct sg_metrics *m;
    sg_health_fn health;
    void *ctx;
    int port;
};

int sg_metrics_http_parse_listen(const char *listen, void *sa, unsigned *salen)
{
    char host[128];
    const char *colon;
    memset(sa, 0, sizeof(struct sockaddr_storage));
    if (listen[0] == '[') {
        const char *rb = strchr(listen, ']');
        if (!rb || rb[1] != ':' || (size_t)(rb - listen - 1) >= sizeof host)
            return SG_ERR_CONFIG;
        memcpy(host, listen + 1, (size_t)(rb - listen - 1));
        host[rb - listen - 1] = '\0';
        colon = rb + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof host)
            return SG_ERR_CONFIG;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || port < 0 || port > 65535)
        return SG_ERR_CONFIG;
    struct sockaddr_in *v4 = sa;
    struct sockaddr_in6 *v6 = sa;
    if (inet_pton(AF_INET, host[0] ? host : "127.0.0.1", &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *salen = sizeof *v4;
        return SG_OK;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *salen = sizeof *v6;
        return SG_OK;
    }
    return SG_ERR_CONFIG;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *ctype,
                             struct sg_buf *body)
{
    size_t len = body->len;
    char *data = sg_buf_steal(body);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    struct sg_metrics_http *h = cls;
    struct sg_buf body;
    sg_buf_init(&body);
    int known = !strcmp(url, "/metrics") || !strcmp(url, "/health");
    if (known && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        sg_buf_puts(&body, "{\"error\":\"method not allowed\"}\n");
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "application/json", &body);
    }
    if (!strcmp(url, "/metrics")) {
        sg_metrics_encode(h->m, &body);
        return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &body);
    }
    if (!strcmp(url, "/health")) {
        int ok = 1;
        if (h->health)
            ok = h->health(h->ctx, &body);
        else
            sg_buf_puts(&body, "{\"status\":\"ok\"}");
        sg_buf_putc(&body, '\n');
        return reply(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
                     &body);
    }
    sg_buf_puts(&body, "{\"error\":\"not found\"}\n");
    return reply(conn, MHD_HTTP_NOT_FOUND, "application/json", &body);
}

struct sg_metrics_http *sg_metrics_http_start(const char *listen, struct sg_metrics *m,
                                              sg_health_fn health, void *ctx, char *errbuf,
                                              size_t errlen, int *err_out)
{
    struct sockaddr_storage ss;
    unsigned salen;
    int dummy;
    if (!err_out)
        err_out = &dummy;
    if (sg_metrics_http_parse_listen(listen, &ss, &salen) != SG_OK) {
        snprintf(errbuf, errlen, "bad listen address '%s' (expected host:port)", listen);
        *err_out = SG_ERR_CONFIG;
        return NULL;
    }
    struct sg_metrics_http *h = sg_xcalloc(1, sizeof *h);
    h->m = m;
    h->health = health;
    h->ctx = ctx;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 64u,
                            MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!h->d) {
        snprintf(errbuf, errlen, "cannot listen on %s (address in use or not permitted)",
                 listen);
        *err_out = SG_ERR_UNAVAILABLE;
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : 0;
    (void)salen;
    return h;
}

int sg_metrics_http_port(const struct sg_metrics_http *h)
{
    return h->port;
}

void sg_metrics_http_stop(struct sg_metrics_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}
