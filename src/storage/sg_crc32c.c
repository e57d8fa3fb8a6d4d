/* sg_crc32c: RocksDB's CRC32C with the CPU's crc32 instruction.
 *
 * Why this exists: RocksDB checksums every WAL record with CRC32C (not configurable), and
 * Debian builds librocksdb "portable", without SSE 4.2, so its rocksdb::crc32c::Extend is a
 * table-driven software loop: 7-9 % of a replay's CPU and ~5 % of a live stream's, the largest
 * single item in RocksDB's share (docs/BENCHMARKS.md, part 10). We link Debian's static
 * librocksdb.a, and the Makefile passes -Wl,--wrap=<Extend's mangled name> (ROCKSDB_LIBS):
 * every call RocksDB's other objects make to Extend then lands in the __wrap_ function below,
 * which computes the same function with the SSE 4.2 crc32 instruction - the instruction is
 * the CRC32C algorithm, so there is no library to use instead (Debian has no C CRC32C library;
 * libcrcutil is C++ and generic) - and calls RocksDB's own (__real_) on a CPU without it. The
 * checksums are bit-identical either way, so WALs and SST files written before or by another
 * build read back the same; tests/unit/test_crc32c.c compares the two on random input.
 * If a RocksDB upgrade renames or re-signs the function, every link fails (the fallback's
 * __real_ symbol no longer resolves): the signal to update the name here and in the Makefile. */
#include "storage/sg_crc32c.h"

#include <stdatomic.h>
#include <string.h>

/* rocksdb::crc32c::Extend(unsigned int, char const*, unsigned long), RocksDB 7.8 (Debian 12) */
uint32_t __real__ZN7rocksdb6crc32c6ExtendEjPKcm(uint32_t crc, const char *buf, size_t n);
uint32_t __wrap__ZN7rocksdb6crc32c6ExtendEjPKcm(uint32_t crc, const char *buf, size_t n);

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2"))) static uint32_t extend_hw(uint32_t crc, const unsigned char *p,
                                                            size_t n)
{
    uint64_t l = crc ^ 0xffffffffu; /* the pre- and post-inversion of crc32c::Extend */
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t v;
        memcpy(&v, p, 8); /* unaligned load, little-endian as the instruction expects */
        l = _mm_crc32_u64(l, v);
    }
    uint32_t s = (uint32_t)l;
    for (; n; p++, n--)
        s = _mm_crc32_u8(s, *p);
    return s ^ 0xffffffffu;
}

int sg_crc32c_hw(void)
{
    static int hw = -1; /* racing first calls compute the same value */
    if (hw < 0) {
        __builtin_cpu_init(); /* in case RocksDB's static constructors get here first */
        hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    }
    return hw;
}

uint32_t sg_crc32c_extend(uint32_t crc, const void *buf, size_t n)
{
    if (sg_crc32c_hw())
        return extend_hw(crc, buf, n);
    return __real__ZN7rocksdb6crc32c6ExtendEjPKcm(crc, buf, n);
}
#else
int sg_crc32c_hw(void)
{
    return 0;
}

uint32_t sg_crc32c_extend(uint32_t crc, const void *buf, size_t n)
{
    return __real__ZN7rocksdb6crc32c6ExtendEjPKcm(crc, buf, n);
}
#endif

static _Atomic uint64_t wrapped_calls; /* one per checksummed record or block: cheap */

uint64_t sg_crc32c_wrapped_calls(void)
{
    return atomic_load_explicit(&wrapped_calls, memory_order_relaxed);
}

uint32_t __wrap__ZN7rocksdb6crc32c6ExtendEjPKcm(uint32_t crc, const char *buf, size_t n)
{
    atomic_fetch_add_explicit(&wrapped_calls, 1, memory_order_relaxed);
    return sg_crc32c_extend(crc, buf, n);
}
