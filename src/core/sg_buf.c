/* sg_buf: growable buffer and JSON string/number emitters. */
#include "core/sg_buf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_varint.h"

void sg_buf_init(struct sg_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void sg_buf_release(struct sg_buf *b)
{
    free(b->data);
    sg_buf_init(b);
}

void sg_buf_reset(struct sg_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void sg_buf_reserve(struct sg_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->data = sg_xrealloc(b->data, cap);
    b->cap = cap;
}

void sg_buf_append(struct sg_buf *b, const void *p, size_t n)
{
    sg_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sg_buf_puts(struct sg_buf *b, const char *s)
{
    sg_buf_append(b, s, strlen(s));
}

void sg_buf_putc(struct sg_buf *b, char c)
{
    sg_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void sg_buf_vprintf(struct sg_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    sg_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sg_buf_printf(struct sg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sg_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

size_t sg_utf8_break_len(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n >= 2 && u[0] == 0xC2 && u[1] >= 0x80 && u[1] <= 0x9F)
        return 2;
    if (n >= 3 && u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9))
        return 3;
    return 0;
}

void sg_buf_json_str(struct sg_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    sg_buf_reserve(b, n + 2);
    sg_buf_putc(b, '"');
    size_t run = 0; /* start of the pending run of bytes copied verbatim */
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        size_t seq = c >= 0x80 ? utf8_seq(u + i, n - i) : 0;
        if (seq) {
            i += seq;
            continue;
        }
        sg_buf_append(b, s + run, i - run);
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            sg_buf_append(b, esc, 2);
        } else if (c == '\n') {
            sg_buf_append(b, "\\n", 2);
        } else if (c == '\t') {
            sg_buf_append(b, "\\t", 2);
        } else if (c == '\r') {
            sg_buf_append(b, "\\r", 2);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            sg_buf_append(b, esc, 6);
        } else {
            sg_buf_append(b, "\xEF\xBF\xBD", 3); /* invalid UTF-8 byte -> U+FFFD */
        }
        i++;
        run = i;
    }
    sg_buf_append(b, s + run, n - run);
    sg_buf_putc(b, '"');
}

/* Appends the decimal digits of n (no sign). */
static void put_u64(struct sg_buf *b, unsigned long long n)
{
    char d[24];
    int i = (int)sizeof d;
    do {
        d[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    sg_buf_append(b, d + i, sizeof d - (size_t)i);
}

/* Fast path for the common short decimals (coordinates, scores: 48.8566, 0.033): when
 * v == m / 10^k exactly (IEEE division is correctly rounded, like strtod) with m < 10^15,
 * that decimal has <= 15 significant digits and lies within half an ulp of v, so it is the
 * one "%.15g" prints (fixed notation for 1e-4 <= |v| < 1e15) and it reads back as v. Writes
 * it and returns 1, or returns 0 to leave v to the printf loop. Same bytes, no printf. */
static int json_short_decimal(struct sg_buf *b, double v)
{
    static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    static const unsigned long long u10[] = {1,      10,      100,      1000,      10000,
                                             100000, 1000000, 10000000, 100000000, 1000000000};
    double a = fabs(v);
    if (!(a >= 1e-4 && a < 1e15))
        return 0;
    for (int k = 1; k <= 9; k++) {
        double s = a * p10[k];
        if (s >= 1e15)
            return 0;
        /* s >= 0: rounding by adding 0.5 and truncating is inline (llround is a libm call per
         * try); where it differs from llround (s just below x.5) neither m passes the test. */
        unsigned long long m = (unsigned long long)(s + 0.5);
        if ((double)m / p10[k] != a)
            continue;
        unsigned long long ip = m / u10[k], fp = m % u10[k];
        if (fp == 0)
            return 0; /* integral: not expected here, leave it to the general path */
        int digits = k;
        while (fp % 10 == 0) {
            fp /= 10;
            digits--;
        }
        if (v < 0)
            sg_buf_putc(b, '-');
        put_u64(b, ip);
        sg_buf_putc(b, '.');
        char z[16];
        int nz = digits;
        for (unsigned long long t = fp; t; t /= 10)
            nz--;
        memset(z, '0', (size_t)nz);
        sg_buf_append(b, z, (size_t)nz); /* leading zeros of the fraction */
        put_u64(b, fp);
        return 1;
    }
    return 0;
}

void sg_buf_put_varint(struct sg_buf *b, uint64_t v)
{
    uint8_t t[SG_VARINT_MAX];
    sg_buf_append(b, t, sg_varint_encode(v, t));
}

void sg_buf_put_bytes(struct sg_buf *b, const void *p, size_t n)
{
    sg_buf_put_varint(b, n);
    sg_buf_append(b, p, n);
}

void sg_buf_json_double(struct sg_buf *b, double v)
{
    if (!isfinite(v)) {
        sg_buf_puts(b, "null");
        return;
    }
    /* range test first: the cast is undefined behaviour beyond long long */
    if (fabs(v) < 1e15 && v == (double)(long long)v) {
        long long n = (long long)v;
        if (n < 0)
            sg_buf_putc(b, '-');
        put_u64(b, n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n);
        return;
    }
    if (json_short_decimal(b, v))
        return;
    char tmp[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    sg_buf_puts(b, tmp);
}

int sg_buf_read_file(struct sg_buf *b, const char *path, size_t max_bytes)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_err_from_errno(errno);
    size_t start = b->len;
    char tmp[65536];
    size_t n;
    int rc = SG_OK;
    while (rc == SG_OK && (n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (max_bytes && b->len - start + n > max_bytes)
            rc = SG_ERR_RANGE;
        else
            sg_buf_append(b, tmp, n);
    }
    if (rc == SG_OK && ferror(f))
        rc = SG_ERR_IO;
    int saved = errno;
    fclose(f);
    if (rc != SG_OK) {
        b->len = start;
        if (b->data)
            b->data[start] = '\0';
        errno = saved;
    }
    return rc;
}

char *sg_buf_steal(struct sg_buf *b)
{
    char *d = b->data ? b->data : sg_xstrdup("");
    sg_buf_init(b);
    return d;
}
