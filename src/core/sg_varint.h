/* sg_varint: unsigned LEB128 varints (7 bits a byte, low group first, high bit = more) and the
 * zigzag mapping of signed values onto them - the one implementation behind the Thrift compact
 * protocol (Parquet metadata, writer and reader), the user-profile codec and the store's
 * arrival numbers. Byte arrays only: no buffers, no streams. */
#ifndef SG_VARINT_H
#define SG_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* The longest encoding (UINT64_MAX: nine 0xff then 0x01). */
#define SG_VARINT_MAX 10

/* Writes v to out[0..) in the shortest encoding. Returns its length, 1..SG_VARINT_MAX. */
size_t sg_varint_encode(uint64_t v, uint8_t out[SG_VARINT_MAX]);

/* Reads one varint from the start of p[0..n) into *v. Returns the bytes it took (1..
 * SG_VARINT_MAX, bytes after it are not looked at), or, with *v = 0: SG_ERR_FORMAT when the
 * input ends inside it (n == 0, or the last byte says more follows: truncated), SG_ERR_RANGE
 * when it is over-long (a tenth byte that continues or carries more than the 64th bit).
 * Redundant high zero groups within ten bytes (0x80 0x00) are accepted, as other readers do. */
int sg_varint_decode(const void *p, size_t n, uint64_t *v);

/* Cursor form, for decoders that check for errors once at the end: reads the varint at *p
 * (input ends at `end`), moves *p past it and returns it; when it is truncated or over-long,
 * sets *bad = 1, moves *p to `end` and returns 0. */
uint64_t sg_varint_read(const uint8_t **p, const uint8_t *end, int *bad);

/* A length-prefixed byte string (varint length, then the bytes) at *p: returns 1 with *s and
 * *n set and *p moved past it, or 0 when the length is bad or the bytes do not fit before
 * `end` (*p is then unspecified). For the binary records read back from stores and topics. */
int sg_varint_read_bytes(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n);

/* Zigzag: 0, -1, 1, -2... <-> 0, 1, 2, 3... (small magnitudes stay short). */
static inline uint64_t sg_varint_zigzag(int64_t v)
{
    /* on unsigned: a left shift of a negative value is undefined behaviour */
    return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
}

static inline int64_t sg_varint_unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

#endif
