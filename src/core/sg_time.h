/* sg_time: clocks and timestamp text. Wall time is Unix epoch milliseconds (int64) everywhere
 * in StreamGuard; monotonic time is for measuring durations only. */
#ifndef SG_TIME_H
#define SG_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Largest timestamp the event contract allows: 9999-12-31T23:59:59.999Z. */
#define SG_TIME_MAX_MS INT64_C(253402300799999)

int64_t sg_time_now_ms(void);   /* wall clock, epoch ms */
int64_t sg_time_mono_ms(void);  /* monotonic, ms */
int64_t sg_time_mono_ns(void);  /* monotonic, ns */

/* Writes `ms` as "YYYY-MM-DDTHH:MM:SS.mmmZ" (NUL-terminated; needs 25 bytes).
 * Returns the length written, or 0 if `cap` is too small. */
size_t sg_time_format_rfc3339(int64_t ms, char *out, size_t cap);

/* Parses an RFC 3339 date-time ("2026-11-25T21:07:20.123Z", "...+01:00"; fraction of any
 * length, truncated to ms; 't'/'z' accepted). Returns SG_OK and sets *ms, or SG_ERR_FORMAT.
 * Not NUL-dependent: reads exactly n bytes. */
int sg_time_parse_rfc3339(const char *s, size_t n, int64_t *ms);

/* Days since 1970-01-01 for a proleptic Gregorian date (any year 0..9999). */
int64_t sg_time_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Parses a duration "500ms", "30s", "5m", "2h", "7d" (or a plain number of seconds) into
 * milliseconds. Returns SG_OK or SG_ERR_FORMAT. */
int sg_time_parse_duration(const char *s, int64_t *ms);

#endif
