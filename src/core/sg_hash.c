/* sg_hash: 8-bytes-at-a-time multiplicative hash, finalised with the splitmix64 mixer. */
#include "core/sg_hash.h"

#include <string.h>

#include "core/sg_rng.h"

uint64_t sg_hash_bytes(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = UINT64_C(0xcbf29ce484222325) ^ seed ^ ((uint64_t)n * UINT64_C(0x9E3779B97F4A7C15));
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * UINT64_C(0x100000001b3);
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, s, n);
    h = (h ^ tail) * UINT64_C(0x100000001b3);
    return sg_rng_mix64(h);
}
