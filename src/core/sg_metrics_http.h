/* sg_metrics_http: a tiny HTTP endpoint (libmicrohttpd, its own thread) serving GET /metrics
 * (the registry in Prometheus text format) and GET /health (a caller-supplied JSON verdict).
 * Used by long-running commands that have no other HTTP server; the serving layer mounts
 * sg_metrics_encode on its own server instead. Not a general web server. */
#ifndef SG_METRICS_HTTP_H
#define SG_METRICS_HTTP_H

#include <stddef.h>

#include "core/sg_buf.h"
#include "core/sg_metrics.h"

struct sg_metrics_http;

/* Health callback: appends a JSON body to `body` and returns 1 when healthy (HTTP 200) or
 * 0 when not (HTTP 503). Runs on the HTTP thread: it must only read atomics or take its own
 * locks. */
typedef int (*sg_health_fn)(void *ctx, struct sg_buf *body);

/* Starts serving on `listen` ("127.0.0.1:9108", "[::1]:9108", port 0 = any free port).
 * `health` may be NULL (always healthy, {"status":"ok"}). Returns the server, or NULL with a
 * message in errbuf (bad address -> the caller's usage error; bind failure -> unavailable;
 * *err_out receives SG_ERR_CONFIG or SG_ERR_UNAVAILABLE when non-NULL).
 * Ownership: stop with sg_metrics_http_stop before freeing the registry. */
struct sg_metrics_http *sg_metrics_http_start(const char *listen, struct sg_metrics *m,
                                              sg_health_fn health, void *ctx, char *errbuf,
                                              size_t errlen, int *err_out);

/* Returns the bound TCP port (useful after listening on port 0). */
int sg_metrics_http_port(const struct sg_metrics_http *h);

/* Stops the server and joins its thread. NULL is a no-op. */
void sg_metrics_http_stop(struct sg_metrics_http *h);

/* Parses "host:port" / "[v6]:port" into a socket address. Returns SG_OK or SG_ERR_CONFIG.
 * `sa` must point to a struct sockaddr_storage; *salen receives its length. */
int sg_metrics_http_parse_listen(const char *listen, void *sa, unsigned *salen);

#endif
