/* sg_substr: "does this string contain any of these keywords?", ignoring ASCII case, for the
 * fixed keyword lists of the speed layer's detectors and the batch features (sensitive paths,
 * admin tools). Not a general multi-pattern matcher: for hundreds of needles Aho-Corasick
 * would be the tool; ours are ~20, and a bitmap of the needles' first two bytes skips almost
 * every position of a path. */
#ifndef SG_SUBSTR_H
#define SG_SUBSTR_H

#include <stddef.h>
#include <stdint.h>

#define SG_SUBSTR_MAX 64

struct sg_substr_set {
    const char *const *needles; /* borrowed: lower case, 2..255 bytes each */
    size_t n;
    uint8_t len[SG_SUBSTR_MAX];
    uint64_t bigram[65536 / 64]; /* bit (b0 | b1 << 8): some needle starts with b0 b1 */
};

/* Builds `s` from a NULL-terminated list of lower-case needles of 2..255 bytes, at most
 * SG_SUBSTR_MAX of them (a longer list, or a needle out of range, is a programming error:
 * abort). The list must outlive the set. */
void sg_substr_build(struct sg_substr_set *s, const char *const *needles);

/* Returns 1 if str[0..n) contains any needle, comparing ASCII letters case-insensitively,
 * else 0. Thread-safety: the set is read-only here. */
int sg_substr_any(const struct sg_substr_set *s, const char *str, size_t n);

#endif
