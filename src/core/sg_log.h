/* sg_log: operator logs on stderr (events and anomalies are data and go elsewhere).
 * Level-checked do{}while(0) macros with printf-format checking; SG_LOG_RATELIMITED for hot
 * paths. Thread-safe: each line is written with one fprintf under stdio's lock. */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <stdint.h>

enum sg_log_level { SG_LOG_ERROR = 0, SG_LOG_WARN = 1, SG_LOG_INFO = 2, SG_LOG_DEBUG = 3 };

extern int sg_log_level_current;

void sg_log_set_level(enum sg_log_level level);
/* Sets the level by name, "error|warn|info|debug" (log.level); SG_OK, or SG_ERR_INVALID and
 * the level unchanged. Every command applies its configuration with it. */
int sg_log_set_level_name(const char *name);
void sg_log_write(enum sg_log_level level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* True at most `per_sec` times per second for the given call-site state. */
int sg_log_allow(int64_t *window_start_ms, int *count, int per_sec);

#define SG_LOG_(lvl, ...)                                                                    \
    do {                                                                                     \
        if ((int)(lvl) <= sg_log_level_current)                                              \
            sg_log_write((lvl), __FILE__, __LINE__, __VA_ARGS__);                            \
    } while (0)

#define sg_log_error(...) SG_LOG_(SG_LOG_ERROR, __VA_ARGS__)
#define sg_log_warn(...) SG_LOG_(SG_LOG_WARN, __VA_ARGS__)
#define sg_log_info(...) SG_LOG_(SG_LOG_INFO, __VA_ARGS__)
#define sg_log_debug(...) SG_LOG_(SG_LOG_DEBUG, __VA_ARGS__)

/* At most `per_sec` lines a second from this call site (not thread-exact; good enough). */
#define sg_log_ratelimited(lvl, per_sec, ...)                                                \
    do {                                                                                     \
        static int64_t rl_start_;                                                            \
        static int rl_count_;                                                                \
        if ((int)(lvl) <= sg_log_level_current && sg_log_allow(&rl_start_, &rl_count_, per_sec)) \
            sg_log_write((lvl), __FILE__, __LINE__, __VA_ARGS__);                            \
    } while (0)

#endif
