/* sg_rng: a small, seeded, reproducible PRNG (xoshiro256** seeded through splitmix64).
 * Every random choice in StreamGuard goes through one of these, so the same seed gives the
 * same output on every machine. Not cryptographic. One state per thread. */
#ifndef SG_RNG_H
#define SG_RNG_H

#include <stdint.h>

struct sg_rng {
    uint64_t s[4];
};

void sg_rng_seed(struct sg_rng *r, uint64_t seed);
/* Derives an independent stream (e.g. per user, per tree) from a seed and a stream id. */
void sg_rng_seed2(struct sg_rng *r, uint64_t seed, uint64_t stream);
uint64_t sg_rng_next(struct sg_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double sg_rng_double(struct sg_rng *r);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t sg_rng_below(struct sg_rng *r, uint64_t n);
/* Standard normal (Box-Muller, no cached second value so state stays a pure function). */
double sg_rng_normal(struct sg_rng *r);
/* Exponential with the given mean. */
double sg_rng_exp(struct sg_rng *r, double mean);
/* splitmix64 finaliser: a good 64-bit mixing function. */
uint64_t sg_rng_mix64(uint64_t x);

#endif
