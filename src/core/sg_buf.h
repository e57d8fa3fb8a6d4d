/* sg_buf: a length-carrying, growable byte buffer (always NUL-terminated for convenience).
 * Used to build JSON, Prometheus text, file contents. Not thread-safe. */
#ifndef SG_BUF_H
#define SG_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct sg_buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
};

void sg_buf_init(struct sg_buf *b);
void sg_buf_release(struct sg_buf *b);
void sg_buf_reset(struct sg_buf *b); /* len = 0, keeps the memory */
void sg_buf_reserve(struct sg_buf *b, size_t extra);
void sg_buf_append(struct sg_buf *b, const void *p, size_t n);
void sg_buf_puts(struct sg_buf *b, const char *s);
void sg_buf_putc(struct sg_buf *b, char c);
/* Binary records (outbox, changelog): a varint (sg_varint), and a varint length + the bytes. */
void sg_buf_put_varint(struct sg_buf *b, uint64_t v);
void sg_buf_put_bytes(struct sg_buf *b, const void *p, size_t n);
void sg_buf_printf(struct sg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sg_buf_vprintf(struct sg_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends `s` (n bytes) as a JSON string literal with quotes; invalid UTF-8 bytes become
 * U+FFFD so the output is always valid JSON. */
void sg_buf_json_str(struct sg_buf *b, const char *s, size_t n);
/* Bytes of the UTF-8 form of a C1 control (U+0080..U+009F, NEL among them) or of U+2028/U+2029
 * at s (n bytes readable), else 0. Readers take them as line breaks (or refuse them), and a
 * JSON string carries them raw: the log and the configuration dump escape them. */
size_t sg_utf8_break_len(const char *s, size_t n);
/* Appends a double as JSON (shortest round-trip form; NaN/Inf become null). */
void sg_buf_json_double(struct sg_buf *b, double v);
/* Appends the whole file at `path` (at most `max_bytes`; 0 = no limit). Returns SG_OK,
 * SG_ERR_NOTFOUND / SG_ERR_IO (errno-style, errno kept) or SG_ERR_RANGE (file larger than
 * max_bytes); on failure `b` is left as it was. */
int sg_buf_read_file(struct sg_buf *b, const char *path, size_t max_bytes);
/* Takes ownership of the data: returns it (never NULL) and leaves `b` empty. */
char *sg_buf_steal(struct sg_buf *b);

#endif
