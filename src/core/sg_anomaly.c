/* sg_anomaly: the shared anomaly record header. */
#include "core/sg_anomaly.h"

#include "core/sg_time.h"

void sg_anomaly_header(struct sg_buf *out, const char *layer, int64_t ts_ms, const char *user,
                       size_t user_len, const char *event_id, size_t id_len)
{
    char t[32];
    sg_time_format_rfc3339(ts_ms, t, sizeof t);
    sg_buf_printf(out, "{\"schema\":\"streamguard.anomaly.v1\",\"layer\":\"%s\",\"timestamp\":%lld,"
                       "\"time\":\"%s\",\"user\":",
                  layer, (long long)ts_ms, t);
    sg_buf_json_str(out, user, user_len);
    if (event_id) {
        sg_buf_puts(out, ",\"event_id\":");
        sg_buf_json_str(out, event_id, id_len);
    }
}
