/* sg_varint: LEB128 encode/decode over byte arrays (see sg_varint.h). Hand-written: ten lines
 * each, and the formats that use it (Thrift compact, our own codecs) fix the encoding. */
#include "core/sg_varint.h"

#include "core/sg_err.h"

size_t sg_varint_encode(uint64_t v, uint8_t out[SG_VARINT_MAX])
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

int sg_varint_decode(const void *p, size_t n, uint64_t *v)
{
    const uint8_t *b = p;
    uint64_t x = 0;
    *v = 0;
    for (size_t i = 0; i < SG_VARINT_MAX; i++) {
        if (i >= n)
            return SG_ERR_FORMAT;
        if (i == SG_VARINT_MAX - 1 && b[i] > 1)
            return SG_ERR_RANGE; /* continues past ten bytes, or bits beyond the 64th */
        x |= (uint64_t)(b[i] & 0x7f) << (7 * i);
        if (!(b[i] & 0x80)) {
            *v = x;
            return (int)i + 1;
        }
    }
    return SG_ERR_RANGE; /* not reached: the tenth byte returns above */
}

uint64_t sg_varint_read(const uint8_t **p, const uint8_t *end, int *bad)
{
    uint64_t v;
    int n = sg_varint_decode(*p, (size_t)(end - *p), &v);
    if (n < 0) {
        *bad = 1;
        *p = end;
        return 0;
    }
    *p += n;
    return v;
}

int sg_varint_read_bytes(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n)
{
    int bad = 0;
    uint64_t len = sg_varint_read(p, end, &bad);
    if (bad || len > (uint64_t)(end - *p))
        return 0;
    *s = *p;
    *n = (size_t)len;
    *p += len;
    return 1;
}
