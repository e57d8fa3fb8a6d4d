/* sg_ingest: phase 1 of the batch pipeline - read messages from a source, decode them in
 * parallel, route each valid event to its user's accumulator (partition = thread, in input
 * order, so results do not depend on the thread count), and count invalid ones by reason.
 * Not the model phase. */
#ifndef SG_INGEST_H
#define SG_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "batch/sg_source.h"
#include "batch/sg_users.h"
#include "core/sg_event.h"

struct sg_ingest_stats {
    uint64_t messages, valid, invalid, bytes, blank_lines;
    uint64_t by_reason[SG_REASON_COUNT];
    /* first rejection per reason: message ordinal (1-based) and "field: message" */
    uint64_t example_at[SG_REASON_COUNT];
    char example[SG_REASON_COUNT][240];
};

struct sg_ingest_opts {
    int threads;         /* decode/route threads including the caller's (>= 1) */
    uint64_t max_events; /* 0 = no cap (counts messages, valid or not) */
    volatile int *stop;  /* set by a signal handler: stop after the current batch */
    /* called from the calling thread about once a second and at the end (may be NULL) */
    void (*progress)(const struct sg_ingest_stats *st, size_t users, int final, void *ctx);
    void *ctx;
};

/* Runs phase 1 with o->threads threads (the caller's thread is one of them); any partition
 * count works (more partitions than threads balance better).
 * Returns SG_OK (also when stopped: check *stop), or the source's error with errbuf. */
int sg_ingest_run(struct sg_source *src, struct sg_users *u, const struct sg_ingest_opts *o,
                  struct sg_ingest_stats *st, char *errbuf, size_t errlen);

#endif
