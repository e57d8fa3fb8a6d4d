/* sg_crc32c: CRC32C (Castagnoli) with the CPU's crc32 instruction, standing in for RocksDB's
 * own through a link-time wrap (see sg_crc32c.c for why). */
#ifndef SG_CRC32C_H
#define SG_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC32C of buf[0..n) continued from `crc` (the CRC of what came before; 0 to start),
 * with RocksDB's (and LevelDB's) conventions: crc32c::Extend. */
uint32_t sg_crc32c_extend(uint32_t crc, const void *buf, size_t n);
/* 1 if sg_crc32c_extend uses the SSE 4.2 instruction, 0 if it falls back to RocksDB's
 * software loop (a CPU without SSE 4.2). */
int sg_crc32c_hw(void);
/* How many times RocksDB called its CRC32C and got this one (the wrap applies). */
uint64_t sg_crc32c_wrapped_calls(void);

#endif
