/* sg_anomaly: the one builder of the common header of anomaly records (EVE-style: every
 * anomaly JSON, from the speed or the batch layer, starts with the same fields in the same
 * order). The layers append their own fields and close the object. Not a JSON parser. */
#ifndef SG_ANOMALY_H
#define SG_ANOMALY_H

#include <stddef.h>
#include <stdint.h>

#include "core/sg_buf.h"

/* Appends `{"schema":"streamguard.anomaly.v1","layer":<layer>,"timestamp":<ts_ms>,
 * "time":"<RFC 3339>","user":<user>` and, when event_id is non-NULL, `,"event_id":<id>`.
 * The caller appends `,"field":value...` and the closing `}`. Deterministic: event time only,
 * no wall clock, so replays reproduce the same records. */
void sg_anomaly_header(struct sg_buf *out, const char *layer, int64_t ts_ms, const char *user,
                       size_t user_len, const char *event_id, size_t id_len);

#endif
