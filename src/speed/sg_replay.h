/* sg_replay: feeds NDJSON (a file or stdin) through the speed pipeline - the `stream --input`
 * path used for tests, forensics and benchmarks. Line numbers play the role of Kafka offsets:
 * the next line to read is stored with every batch, so a killed replay of a regular file
 * resumes exactly where its last batch ended. Dead letters and anomalies go to NDJSON files.
 * Not a Kafka client. */
#ifndef SG_REPLAY_H
#define SG_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "speed/sg_pipeline.h"

struct sg_replay_opts {
    const char *path;        /* "-" = stdin */
    struct sg_pipeline_opts pipe; /* its alert/dlq/sink_ctx are set by sg_replay_run */
    size_t batch_size;
    FILE *dlq;               /* NULL = counted and logged only */
    FILE *alerts;            /* NULL = stored only */
    volatile int *stop;      /* set by a signal: finish the batch, write, return */
};

/* Runs to the end of the input (or until *stop). Returns SG_OK, SG_ERR_IO (input unreadable),
 * SG_ERR_NOSPACE/SG_ERR_STORE (write failed) or SG_ERR_INTERRUPTED (stopped; everything read
 * was written). Fills *totals. */
int sg_replay_run(const struct sg_replay_opts *o, struct sg_pipeline_totals *totals,
                  char *errbuf, size_t errlen);

/* The dead-letter record shared by the file and Kafka sinks' logging: appends
 * {"reason","field","message","source","partition","offset","original","original_base64"}.
 * The file sink adds "truncated":true,"original_size":N when the line was longer than the
 * 1 MiB + 1 byte prefix the reader keeps (original_base64 then holds that prefix). */
void sg_replay_dlq_record(struct sg_buf *out, const struct sg_msg *m,
                          const struct sg_event_error *err);

#endif
