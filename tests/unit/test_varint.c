/* Unit tests of sg_varint, the one LEB128 codec behind Thrift/Parquet, the user profiles and
 * the store's arrival numbers: exact bytes at the 7-bit boundaries (0, 127, 128, 2^63,
 * UINT64_MAX and the examples of the LEB128 literature), seeded round trips of every length,
 * truncated and over-long inputs rejected with distinct errors, the cursor form, zigzag. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/sg_err.h"
#include "core/sg_rng.h"
#include "core/sg_varint.h"

struct golden {
    uint64_t v;
    size_t n;
    uint8_t b[SG_VARINT_MAX];
};

static const struct golden golden[] = {
    {0, 1, {0x00}},
    {1, 1, {0x01}},
    {127, 1, {0x7f}},
    {128, 2, {0x80, 0x01}},
    {300, 2, {0xac, 0x02}},
    {16383, 2, {0xff, 0x7f}},
    {16384, 3, {0x80, 0x80, 0x01}},
    {624485, 3, {0xe5, 0x8e, 0x26}},
    {UINT64_C(1) << 63, 10, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}},
    {UINT64_MAX, 10, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
};

static void test_golden(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        const struct golden *g = &golden[i];
        uint8_t out[SG_VARINT_MAX + 1];
        memset(out, 0xaa, sizeof out);
        assert_int_equal(sg_varint_encode(g->v, out), g->n);
        assert_memory_equal(out, g->b, g->n);
        assert_int_equal(out[g->n], 0xaa); /* nothing written past its length */
        uint64_t v = 12345;
        assert_int_equal(sg_varint_decode(g->b, g->n, &v), (int)g->n);
        assert_true(v == g->v);
    }
}

/* Values of every bit length: the shortest encoding, ceil(bits / 7) bytes, decodes back. */
static void test_round_trip(void **state)
{
    (void)state;
    struct sg_rng r;
    sg_rng_seed(&r, 42);
    for (int bits = 0; bits <= 64; bits++) {
        for (int k = 0; k < 200; k++) {
            uint64_t v = bits == 0 ? 0 : sg_rng_next(&r) >> (64 - bits) | UINT64_C(1) << (bits - 1);
            uint8_t b[SG_VARINT_MAX + 3] = {0};
            size_t n = sg_varint_encode(v, b);
            assert_int_equal(n, bits == 0 ? 1 : (size_t)(bits + 6) / 7);
            b[n] = 0x7f; /* trailing bytes are not looked at */
            uint64_t back;
            assert_int_equal(sg_varint_decode(b, n + 3, &back), (int)n);
            assert_true(back == v);
        }
    }
}

static void test_truncated(void **state)
{
    (void)state;
    uint64_t v = 1;
    assert_int_equal(sg_varint_decode("", 0, &v), SG_ERR_FORMAT);
    assert_true(v == 0);
    const uint8_t one[] = {0x80};
    assert_int_equal(sg_varint_decode(one, 1, &v), SG_ERR_FORMAT);
    const struct golden *max = &golden[sizeof golden / sizeof golden[0] - 1];
    for (size_t n = 0; n < max->n; n++) /* every proper prefix of UINT64_MAX */
        assert_int_equal(sg_varint_decode(max->b, n, &v), SG_ERR_FORMAT);
}

static void test_overlong(void **state)
{
    (void)state;
    uint64_t v = 1;
    /* a tenth byte with bits beyond the 64th */
    const uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    assert_int_equal(sg_varint_decode(big, sizeof big, &v), SG_ERR_RANGE);
    assert_true(v == 0);
    /* eleven bytes (zero padding that never ends), whatever follows */
    uint8_t pad[16];
    memset(pad, 0x80, sizeof pad);
    pad[10] = 0x00;
    assert_int_equal(sg_varint_decode(pad, sizeof pad, &v), SG_ERR_RANGE);
    assert_int_equal(sg_varint_decode(pad, 10, &v), SG_ERR_RANGE); /* tenth byte continues */
    /* redundant zero groups within ten bytes are a valid (non-shortest) encoding */
    const uint8_t zero2[] = {0x80, 0x00};
    assert_int_equal(sg_varint_decode(zero2, 2, &v), 2);
    assert_true(v == 0);
    pad[9] = 0x01;
    assert_int_equal(sg_varint_decode(pad, 10, &v), 10);
    assert_true(v == UINT64_C(1) << 63);
}

static void test_cursor(void **state)
{
    (void)state;
    const uint8_t buf[] = {0x05, 0xac, 0x02, 0x00, 0x80, 0x80};
    const uint8_t *p = buf, *end = buf + sizeof buf;
    int bad = 0;
    assert_true(sg_varint_read(&p, end, &bad) == 5);
    assert_true(sg_varint_read(&p, end, &bad) == 300);
    assert_true(sg_varint_read(&p, end, &bad) == 0);
    assert_int_equal(bad, 0);
    assert_ptr_equal(p, buf + 4);
    assert_true(sg_varint_read(&p, end, &bad) == 0); /* 0x80 0x80 then the end */
    assert_int_equal(bad, 1);
    assert_ptr_equal(p, end);
    assert_true(sg_varint_read(&p, end, &bad) == 0); /* at the end: still bad, no overrun */
    assert_int_equal(bad, 1);
}

static void test_zigzag(void **state)
{
    (void)state;
    const int64_t s[] = {0, -1, 1, -2, 2, -64, 63, INT64_MAX, INT64_MIN};
    const uint64_t u[] = {0, 1, 2, 3, 4, 127, 126, UINT64_MAX - 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        assert_true(sg_varint_zigzag(s[i]) == u[i]);
        assert_true(sg_varint_unzigzag(u[i]) == s[i]);
    }
}

/* Length-prefixed strings: read in sequence, an empty one, and refused when the length is
 * truncated or the bytes run past the end. */
static void test_read_bytes(void **state)
{
    (void)state;
    const uint8_t buf[] = {3, 'a', 'b', 'c', 0, 2, 'x'};
    const uint8_t *p = buf, *end = buf + sizeof buf, *s;
    size_t n;
    assert_int_equal(sg_varint_read_bytes(&p, end, &s, &n), 1);
    assert_int_equal(n, 3);
    assert_memory_equal(s, "abc", 3);
    assert_int_equal(sg_varint_read_bytes(&p, end, &s, &n), 1);
    assert_int_equal(n, 0);
    assert_ptr_equal(p, buf + 5);
    assert_int_equal(sg_varint_read_bytes(&p, end, &s, &n), 0); /* 2 bytes announced, 1 left */
    const uint8_t cut[] = {0x80}; /* the length itself is truncated */
    p = cut;
    assert_int_equal(sg_varint_read_bytes(&p, cut + 1, &s, &n), 0);
    p = buf;
    assert_int_equal(sg_varint_read_bytes(&p, buf, &s, &n), 0); /* nothing at all */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),     cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncated),  cmocka_unit_test(test_overlong),
        cmocka_unit_test(test_cursor),     cmocka_unit_test(test_zigzag),
        cmocka_unit_test(test_read_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
