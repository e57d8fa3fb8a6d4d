/* thrift_read.h: a small, bounds-checked Thrift compact protocol *reader* for tests (unit test
 * and fuzz target of sg_parquet): walks structs field by field, skips anything, never reads
 * past `end` (sets `bad` instead). Independent of src/storage/sg_thrift.c (the encoder) on
 * purpose. Header-only (static functions) so each test binary takes what it uses. */
#ifndef SG_TEST_THRIFT_READ_H
#define SG_TEST_THRIFT_READ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct trd {
    const uint8_t *p, *end;
    int bad;
};

static inline uint64_t trd_varint(struct trd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return 0;
}

static inline int64_t trd_zigzag(struct trd *r)
{
    uint64_t u = trd_varint(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static inline uint8_t trd_byte(struct trd *r)
{
    if (r->p >= r->end) {
        r->bad = 1;
        return 0;
    }
    return *r->p++;
}

/* Binary: returns a pointer to the bytes and their length (NULL on error). */
static inline const uint8_t *trd_binary(struct trd *r, size_t *n)
{
    uint64_t len = trd_varint(r);
    if (r->bad || len > (uint64_t)(r->end - r->p)) {
        r->bad = 1;
        *n = 0;
        return NULL;
    }
    const uint8_t *s = r->p;
    r->p += len;
    *n = (size_t)len;
    return s;
}

/* Next field of the current struct: returns its id (> 0) and type, or 0 at STOP / error. */
static inline int trd_field(struct trd *r, int16_t *last, int *type)
{
    uint8_t b = trd_byte(r);
    if (r->bad || b == 0)
        return 0;
    *type = b & 0x0F;
    int delta = b >> 4;
    int id = delta ? *last + delta : (int)trd_zigzag(r);
    if (id <= 0 || id > 32767) {
        r->bad = 1;
        return 0;
    }
    *last = (int16_t)id;
    return id;
}

/* List header: element type and count. */
static inline size_t trd_list(struct trd *r, int *elem)
{
    uint8_t b = trd_byte(r);
    *elem = b & 0x0F;
    size_t n = b >> 4;
    if (n == 15)
        n = (size_t)trd_varint(r);
    if (n > (size_t)(r->end - r->p)) /* every element takes >= 1 byte, except bools in lists */
        r->bad = 1;
    return r->bad ? 0 : n;
}

static inline void trd_skip(struct trd *r, int type, int depth);

static inline void trd_skip_struct(struct trd *r, int depth)
{
    int16_t last = 0;
    int type;
    while (!r->bad && trd_field(r, &last, &type))
        trd_skip(r, type, depth + 1);
}

/* Skips one value of `type` (bool fields carry their value in the type nibble). */
static inline void trd_skip(struct trd *r, int type, int depth)
{
    size_t n;
    int elem;
    if (depth > 32) {
        r->bad = 1;
        return;
    }
    switch (type) {
    case 1:
    case 2: break;              /* bool field */
    case 3: trd_byte(r); break; /* i8 */
    case 4:
    case 5:
    case 6: trd_varint(r); break; /* i16/i32/i64 */
    case 7:
        if (r->end - r->p < 8)
            r->bad = 1;
        else
            r->p += 8;
        break;
    case 8: trd_binary(r, &n); break;
    case 9:
    case 10:
        n = trd_list(r, &elem);
        for (size_t i = 0; i < n && !r->bad; i++) {
            if (elem == 1 || elem == 2)
                trd_byte(r); /* bools in lists take a byte */
            else
                trd_skip(r, elem, depth + 1);
        }
        break;
    case 12: trd_skip_struct(r, depth); break;
    default: r->bad = 1; /* maps are not used by Parquet metadata */
    }
}

#endif
