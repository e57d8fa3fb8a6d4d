/* sg_gen_run: pumps a generator into its sinks - an NDJSON file descriptor and/or a Kafka
 * producer keyed by user - optionally paced to a rate, stoppable by a flag, with a progress
 * callback. This is the one code path of `streamguard generate`, the demo and the tests.
 * It neither opens files nor creates producers: the caller owns both. */
#ifndef SG_GEN_RUN_H
#define SG_GEN_RUN_H

#include <stdint.h>

#include "gen/sg_gen.h"
#include "kafka/sg_producer.h"

struct sg_gen_run_opts {
    int fd;                   /* write NDJSON here; -1 for none */
    struct sg_producer *prod; /* produce here (key = user); NULL for none */
    int64_t rate;             /* events per second; 0 = as fast as possible */
    volatile int *stop;       /* checked often; may be NULL */
    /* Called about once a second (and not at all for short runs); may be NULL. */
    void (*progress)(int64_t done, void *arg);
    void *arg;
};

/* Runs `g` until it is exhausted or *stop is set. Sets *produced to the number of events
 * handed to the sinks. Returns SG_OK, SG_ERR_INTERRUPTED (stopped), SG_ERR_IO or
 * SG_ERR_NOSPACE (file write failed; errno kept), or the producer's error. Does not flush
 * the producer: call sg_producer_flush and read its stats for the delivery outcome. */
int sg_gen_run(struct sg_gen *g, const struct sg_gen_run_opts *o, int64_t *produced);

#endif
