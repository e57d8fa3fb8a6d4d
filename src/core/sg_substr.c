/* sg_substr: case-insensitive "contains any keyword" for short fixed lists (see the header).
 * Hand-written: libc has no multi-needle search, and one memmem per needle over a lowered
 * copy of the path was ~5 % of the speed layer's pipeline thread. */
#include "core/sg_substr.h"

#include <stdlib.h>
#include <string.h>

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

void sg_substr_build(struct sg_substr_set *s, const char *const *needles)
{
    memset(s, 0, sizeof *s);
    s->needles = needles;
    for (size_t i = 0; needles[i]; i++) {
        size_t l = strlen(needles[i]);
        if (i >= SG_SUBSTR_MAX || l < 2 || l > 255)
            abort();
        s->len[i] = (uint8_t)l;
        unsigned bg = (unsigned char)needles[i][0] | (unsigned)(unsigned char)needles[i][1] << 8;
        s->bigram[bg / 64] |= UINT64_C(1) << (bg % 64);
        s->n = i + 1;
    }
}

int sg_substr_any(const struct sg_substr_set *s, const char *str, size_t n)
{
    const unsigned char *p = (const unsigned char *)str;
    if (n < 2)
        return 0;
    unsigned c0 = lower(p[0]);
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned c1 = lower(p[i + 1]), bg = c0 | c1 << 8;
        c0 = c1;
        if (!(s->bigram[bg / 64] >> (bg % 64) & 1))
            continue;
        for (size_t k = 0; k < s->n; k++) {
            size_t l = s->len[k];
            const unsigned char *nd = (const unsigned char *)s->needles[k];
            if (l > n - i)
                continue;
            size_t j = 0;
            while (j < l && lower(p[i + j]) == nd[j])
                j++;
            if (j == l)
                return 1;
        }
    }
    return 0;
}
