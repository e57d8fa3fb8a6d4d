/* sg_log: timestamped, levelled lines on stderr. */
#include "core/sg_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/sg_err.h"
#include "core/sg_time.h"

int sg_log_level_current = SG_LOG_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};

void sg_log_set_level(enum sg_log_level level)
{
    sg_log_level_current = (int)level;
}

int sg_log_parse_level(const char *s, enum sg_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum sg_log_level)i;
            return SG_OK;
        }
    }
    return SG_ERR_INVALID;
}

void sg_log_write(enum sg_log_level level, const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char ts[40];
    sg_time_format_rfc3339(sg_time_now_ms(), ts, sizeof ts);
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    if (level == SG_LOG_DEBUG)
        fprintf(stderr, "%s %-5s %s (%s:%d)\n", ts, names[level], msg, base, line);
    else
        fprintf(stderr, "%s %-5s %s\n", ts, names[level], msg);
}

int sg_log_allow(int64_t *window_start_ms, int *count, int per_sec)
{
    int64_t now = sg_time_mono_ms();
    if (now - *window_start_ms >= 1000) {
        *window_start_ms = now;
        *count = 0;
    }
    return (*count)++ < per_sec;
}
