/* sg_serve: the serving layer as one object - the HTTP server (sg_http) with the API routes
 * (sg_api_*.c), the dashboard, /health and /metrics, over a RocksDB secondary instance that
 * follows the speed layer's writes and over the batch layer's output directory, both refreshed
 * by a background thread. Not the CLI (src/cli/cmd_serve.c) and not the store (sg_store). */
#ifndef SG_SERVE_H
#define SG_SERVE_H

#include <stddef.h>
#include <stdint.h>

struct sg_serve;

struct sg_serve_opts {
    const char *db;        /* the speed layer's RocksDB directory (may not exist yet) */
    const char *batch_dir; /* the batch layer's output directory (may not exist yet) */
    const char *listen;    /* "HOST:PORT", port 0 = ephemeral */
    const char *token;     /* bearer token required off /health and the dashboard, or NULL */
    unsigned threads;      /* HTTP worker threads (default 2) */
    int64_t refresh_ms;    /* catch-up / batch reload period (default 500 ms) */
    int64_t retention_ms;  /* hide rows the speed layer considers expired (stream.retention;
                              <= 0: show everything stored) */
};

/* Opens what exists (a missing store or batch directory is retried by the refresh thread and
 * answered with 503 until then), starts the refresh thread and the HTTP server.
 * Returns SG_OK and *out, SG_ERR_CONFIG (bad listen address) or SG_ERR_UNAVAILABLE (port in
 * use), with errbuf. Ownership: sg_serve_stop frees it. */
int sg_serve_start(const struct sg_serve_opts *o, struct sg_serve **out, char *errbuf,
                   size_t errlen);

/* The bound address "HOST:PORT" and port. */
void sg_serve_address(const struct sg_serve *s, char *buf, size_t cap);
uint16_t sg_serve_port(const struct sg_serve *s);

/* Runs one refresh now (store catch-up, statistics, batch reload) instead of waiting for the
 * thread: tests use it to see writes deterministically. Returns SG_OK or the store's error.
 * Thread-safety: safe concurrently with requests and the refresh thread. */
int sg_serve_refresh(struct sg_serve *s);

/* Stops the HTTP server, then the refresh thread; closes the store. NULL-safe. */
void sg_serve_stop(struct sg_serve *s);

#endif
