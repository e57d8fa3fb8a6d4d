/* sg_log: timestamped, levelled lines on stderr. */
#include "core/sg_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_time.h"

int sg_log_level_current = SG_LOG_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};

void sg_log_set_level(enum sg_log_level level)
{
    sg_log_level_current = (int)level;
}

int sg_log_set_level_name(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            sg_log_set_level((enum sg_log_level)i);
            return SG_OK;
        }
    }
    return SG_ERR_INVALID;
}

/* Copies the message with control characters escaped as \xNN: C0 controls and DEL, and the
 * UTF-8 forms of the C1 controls (NEL among them) and of U+2028/U+2029. Messages quote what
 * arrives from outside - user names, Kafka keys, file names - and a name holding a line break
 * must not forge a log line of its own. Other bytes, UTF-8 included, are kept. */
static void escape_controls(const char *in, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)in;
    size_t o = 0, len = strlen(in);
    for (size_t i = 0; i < len && o + 5 < cap; i++) {
        /* bytes of a code point to escape */
        size_t n = s[i] < 0x20 || s[i] == 0x7f ? 1 : sg_utf8_break_len(in + i, len - i);
        if (!n) {
            out[o++] = (char)s[i];
            continue;
        }
        if (o + 4 * n + 1 > cap)
            break;
        for (size_t k = 0; k < n; k++, i++) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[s[i] >> 4];
            out[o++] = hex[s[i] & 15];
        }
        i--;
    }
    out[o] = 0;
}

void sg_log_write(enum sg_log_level level, const char *file, int line, const char *fmt, ...)
{
    char raw[1024], msg[4 * sizeof raw];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    escape_controls(raw, msg, sizeof msg);
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
