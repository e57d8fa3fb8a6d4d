/* sg_rng: xoshiro256** (Blackman & Vigna) with splitmix64 seeding, written from the paper. */
#include "core/sg_rng.h"

#include <math.h>

uint64_t sg_rng_mix64(uint64_t x)
{
    x += UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

void sg_rng_seed(struct sg_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        x += UINT64_C(0x9E3779B97F4A7C15);
        r->s[i] = sg_rng_mix64(x);
    }
}

void sg_rng_seed2(struct sg_rng *r, uint64_t seed, uint64_t stream)
{
    sg_rng_seed(r, sg_rng_mix64(seed) ^ sg_rng_mix64(stream + UINT64_C(0x632BE59BD9B4E019)));
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sg_rng_next(struct sg_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sg_rng_double(struct sg_rng *r)
{
    return (double)(sg_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t sg_rng_below(struct sg_rng *r, uint64_t n)
{
    /* Lemire's multiply-shift with rejection. */
    __uint128_t m = (__uint128_t)sg_rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            m = (__uint128_t)sg_rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double sg_rng_normal(struct sg_rng *r)
{
    double u1 = sg_rng_double(r);
    double u2 = sg_rng_double(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double sg_rng_exp(struct sg_rng *r, double mean)
{
    return -mean * log1p(-sg_rng_double(r));
}
