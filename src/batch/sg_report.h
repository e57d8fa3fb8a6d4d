/* sg_report: the batch run's report - anomaly_report.json (machine-readable: totals, invalid
 * events by reason, algorithm and parameters, timings per phase, top anomalies with their
 * driving features) and anomaly_report.md (the same for humans). Not the Parquet output. */
#ifndef SG_REPORT_H
#define SG_REPORT_H

#include "batch/sg_batch.h"
#include "core/sg_buf.h"

/* Appends the JSON report (one object) to out; `top` = how many anomalies to list. */
void sg_report_json(const struct sg_batch_data *data, const struct sg_model *m,
                    const struct sg_batch_params *p, const struct sg_ingest_stats *st,
                    const struct sg_batch_timings *t, size_t top, struct sg_buf *out);

/* Appends the Markdown report to out. */
void sg_report_md(const struct sg_batch_data *data, const struct sg_model *m,
                  const struct sg_batch_params *p, const struct sg_ingest_stats *st,
                  const struct sg_batch_timings *t, size_t top, struct sg_buf *out);

/* Indices of the `top` highest anomaly scores among flagged users, best first (ties by user
 * name order); returns the count written to idx. */
size_t sg_report_top(const struct sg_batch_data *data, size_t top, size_t *idx);

#endif
