/* sg_httpc: a minimal blocking HTTP/1.0 GET client for loopback use - the demo polls its own
 * services' /metrics and /api with it. Not a general client: no TLS, no redirects, no chunked
 * encoding (HTTP/1.0 responses are delimited by connection close), bounded response size.
 * Hand-written because pulling libcurl in for three local GETs is not worth a dependency. */
#ifndef SG_HTTPC_H
#define SG_HTTPC_H

#include <stddef.h>

#include "core/sg_buf.h"

/* GETs http://`hostport``path` ("127.0.0.1:8080", "/health") with a timeout in ms for the
 * whole exchange, at most `max_bytes` of body. On success fills *status and appends the body
 * to `body`. Returns SG_OK, SG_ERR_UNAVAILABLE (connect failed/timed out), SG_ERR_FORMAT
 * (not an HTTP response) or SG_ERR_RANGE (body too large). Thread-safety: reentrant. */
int sg_httpc_get(const char *hostport, const char *path, int timeout_ms, size_t max_bytes,
                 int *status, struct sg_buf *body);

/* Returns the value of the first Prometheus sample in `text` whose name and labels start with
 * `series` (e.g. "streamguard_stream_events_total" or "foo{type=\"dns_query\"}"), summed over
 * all matching lines; 0 when there is none. */
double sg_httpc_prom_sum(const char *text, const char *series);

#endif
