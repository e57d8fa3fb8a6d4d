/* sg_hash: fast non-cryptographic hashing of byte strings (FNV-1a core with a 64-bit
 * finaliser) for hash tables, user->partition/rank assignment and sketches. Stable across
 * machines and versions: the value is part of on-disk and cross-rank contracts. */
#ifndef SG_HASH_H
#define SG_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t sg_hash_bytes(const void *p, size_t n, uint64_t seed);

#endif
