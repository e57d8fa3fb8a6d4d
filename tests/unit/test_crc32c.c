/* test_crc32c: the CRC32C RocksDB's WAL and table checksums are wrapped to
 * (storage/sg_crc32c.c) equals RocksDB's own function bit for bit - a mismatch would make
 * every store written by one unreadable by the other - on the standard check value and on
 * random data of every length up to 300 bytes at every alignment, continued from random
 * CRCs; and RocksDB's calls really reach it (a WAL written and read back through the wrap).
 * Linking this test also fails if the Makefile's --wrap flag is gone or RocksDB renamed the
 * function (__real_ then does not resolve). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/sg_err.h"
#include "core/sg_rng.h"
#include "storage/sg_crc32c.h"
#include "storage/sg_store.h"

/* RocksDB's own (the wrap's __real_ name: resolves only when linked with the Makefile's
 * --wrap flag, and only while RocksDB has a function of that name). */
uint32_t __real__ZN7rocksdb6crc32c6ExtendEjPKcm(uint32_t crc, const char *buf, size_t n);
uint32_t __wrap__ZN7rocksdb6crc32c6ExtendEjPKcm(uint32_t crc, const char *buf, size_t n);

static void test_check_value(void **state)
{
    (void)state;
    /* the CRC-32C check value (RFC 3720 and every CRC catalogue): "123456789" */
    assert_int_equal(sg_crc32c_extend(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(__real__ZN7rocksdb6crc32c6ExtendEjPKcm(0, "123456789", 9), 0xe3069283u);
    /* continuing a CRC equals computing it in one go */
    assert_int_equal(sg_crc32c_extend(sg_crc32c_extend(0, "1234", 4), "56789", 5), 0xe3069283u);
}

static void test_equals_rocksdb(void **state)
{
    (void)state;
    unsigned char buf[320];
    struct sg_rng rng;
    sg_rng_seed(&rng, 7);
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)sg_rng_next(&rng);
    int checked = 0;
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= 300; n++) {
            uint32_t init = (uint32_t)sg_rng_next(&rng);
            const char *p = (const char *)buf + off;
            uint32_t want = __real__ZN7rocksdb6crc32c6ExtendEjPKcm(init, p, n);
            assert_int_equal(sg_crc32c_extend(init, p, n), want);
            assert_int_equal(__wrap__ZN7rocksdb6crc32c6ExtendEjPKcm(init, p, n), want);
            checked++;
        }
    assert_true(checked > 2000);
    printf("# crc32c: %d cases equal RocksDB's own; instruction: %s\n", checked,
           sg_crc32c_hw() ? "SSE 4.2" : "none (software fallback)");
}

/* RocksDB's own calls reach the wrap: writing a batch (a WAL record) and reopening the store
 * (reading the WAL back, verifying its checksums) both go through it. */
static void test_rocksdb_calls_it(void **state)
{
    (void)state;
    char dir[] = "/tmp/sg-test-crc32c-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char err[256];
    struct sg_store *st;
    uint64_t c0 = sg_crc32c_wrapped_calls();
    assert_int_equal(sg_store_open(dir, SG_STORE_PRIMARY, NULL, 0, &st, err, sizeof err), SG_OK);
    struct sg_store_batch *b = sg_store_batch_new(st);
    sg_store_batch_put_offset(b, "t", 0, 42);
    assert_int_equal(sg_store_write(st, b, 0), SG_OK);
    sg_store_batch_free(b);
    sg_store_close(st);
    uint64_t c1 = sg_crc32c_wrapped_calls();
    assert_true(c1 > c0);
    assert_int_equal(sg_store_open(dir, SG_STORE_PRIMARY, NULL, 0, &st, err, sizeof err), SG_OK);
    int64_t next = -1;
    assert_int_equal(sg_store_offset_get(st, "t", 0, &next), SG_OK);
    assert_int_equal(next, 42); /* the WAL's record verified and replayed */
    sg_store_close(st);
    assert_true(sg_crc32c_wrapped_calls() > c1);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_value),
        cmocka_unit_test(test_equals_rocksdb),
        cmocka_unit_test(test_rocksdb_calls_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
