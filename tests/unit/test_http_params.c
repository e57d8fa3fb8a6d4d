/* Unit tests of src/serving/sg_http_params: request-target parsing (segments, %-escapes,
 * query parameters), parameter values (timestamps, integers, booleans), base64url and the
 * pagination cursor (round trip, tampering, binding to a listing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"
#include "serving/sg_http_params.h"

static int parse(struct sg_arena *a, const char *s, struct sg_http_url *u, struct sg_http_perr *e)
{
    return sg_http_url_parse(s, strlen(s), a, u, e);
}

static void test_url(void **state)
{
    (void)state;
    struct sg_arena a;
    sg_arena_init(&a, 4096);
    struct sg_http_url u;
    struct sg_http_perr e;
    assert_int_equal(parse(&a, "/api/users/a%2Fb/events?limit=5&since=2026-11-25T21%3A07%3A20Z",
                           &u, &e), SG_OK);
    assert_int_equal(u.nseg, 4);
    assert_string_equal(u.seg[2].p, "a/b"); /* %2F stays inside its segment */
    assert_int_equal(u.nparam, 2);
    assert_string_equal(sg_http_url_param(&u, "since")->val.p, "2026-11-25T21:07:20Z");
    assert_null(sg_http_url_param(&u, "type"));
    assert_int_equal(parse(&a, "//api//events/?q=a+b%20c", &u, &e), SG_OK);
    assert_int_equal(u.nseg, 2);
    assert_string_equal(sg_http_url_param(&u, "q")->val.p, "a b c");
    assert_int_equal(parse(&a, "/", &u, &e), SG_OK);
    assert_int_equal(u.nseg, 0);
    /* refusals */
    assert_int_equal(parse(&a, "/a%2", &u, &e), SG_ERR_INVALID);
    assert_int_equal(e.status, 400);
    assert_int_equal(parse(&a, "/a%zz", &u, &e), SG_ERR_INVALID);
    assert_int_equal(parse(&a, "/a%00b", &u, &e), SG_ERR_INVALID);
    assert_int_equal(parse(&a, "/a?limit=1&limit=2", &u, &e), SG_ERR_INVALID);
    assert_string_equal(e.param, "limit");
    assert_int_equal(parse(&a, "/a?=1", &u, &e), SG_ERR_INVALID);
    assert_int_equal(parse(&a, "/a?x=%G1", &u, &e), SG_ERR_INVALID);
    assert_string_equal(e.param, "x");
    assert_int_equal(parse(&a, "a/b", &u, &e), SG_ERR_INVALID);
    assert_int_equal(parse(&a, "/1/2/3/4/5/6/7/8/9", &u, &e), SG_ERR_INVALID);
    assert_int_equal(e.status, 404);
    char big[SG_HTTP_MAX_URI + 10];
    memset(big, 'a', sizeof big - 1);
    big[0] = '/';
    big[sizeof big - 1] = '\0';
    assert_int_equal(parse(&a, big, &u, &e), SG_ERR_INVALID);
    assert_int_equal(e.status, 414);
    /* unknown parameters are named */
    assert_int_equal(parse(&a, "/x?limit=1&limt=2", &u, &e), SG_OK);
    const char *allowed[] = {"limit", "cursor", NULL};
    assert_int_equal(sg_http_url_check(&u, allowed, &e), SG_ERR_INVALID);
    assert_string_equal(e.param, "limt");
    sg_arena_release(&a);
}

static struct sg_http_str S(const char *s)
{
    struct sg_http_str v = {s, strlen(s)};
    return v;
}

static void test_values(void **state)
{
    (void)state;
    struct sg_http_perr e;
    int64_t x;
    struct sg_http_str v = S("1795640840123");
    assert_int_equal(sg_http_parse_time("since", &v, &x, &e), SG_OK);
    assert_int_equal(x, INT64_C(1795640840123));
    v = S("2026-11-25T22:07:20.123+01:00");
    assert_int_equal(sg_http_parse_time("since", &v, &x, &e), SG_OK);
    assert_int_equal(x, INT64_C(1795640840123));
    const char *bad[] = {"", "-1", "12a", "2026-11-25", "253402300800000", "yesterday"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = S(bad[i]);
        assert_int_equal(sg_http_parse_time("until", &v, &x, &e), SG_ERR_INVALID);
        assert_string_equal(e.param, "until");
        assert_int_equal(e.status, 400);
    }
    v = S("1000");
    assert_int_equal(sg_http_parse_int("limit", &v, 1, 1000, &x, &e), SG_OK);
    assert_int_equal(x, 1000);
    v = S("1001");
    assert_int_equal(sg_http_parse_int("limit", &v, 1, 1000, &x, &e), SG_ERR_INVALID);
    assert_string_equal(e.param, "limit");
    v = S("0");
    assert_int_equal(sg_http_parse_int("limit", &v, 1, 1000, &x, &e), SG_ERR_INVALID);
    v = S("99999999999999999999999");
    assert_int_equal(sg_http_parse_int("limit", &v, 1, 1000, &x, &e), SG_ERR_INVALID);
    int b;
    v = S("true");
    assert_int_equal(sg_http_parse_bool("anomalous", &v, &b, &e), SG_OK);
    assert_int_equal(b, 1);
    v = S("0");
    assert_int_equal(sg_http_parse_bool("anomalous", &v, &b, &e), SG_OK);
    assert_int_equal(b, 0);
    v = S("yes please");
    assert_int_equal(sg_http_parse_bool("anomalous", &v, &b, &e), SG_ERR_INVALID);
}

static void test_b64_cursor(void **state)
{
    (void)state;
    struct sg_rng r;
    sg_rng_seed(&r, 3);
    unsigned char in[300], out[300];
    char txt[512];
    for (int i = 0; i < 2000; i++) {
        size_t n = (size_t)sg_rng_below(&r, sizeof in);
        for (size_t k = 0; k < n; k++)
            in[k] = (unsigned char)sg_rng_below(&r, 256);
        size_t tl = sg_http_b64url_encode(in, n, txt, sizeof txt);
        assert_true(tl > 0 || n == 0);
        assert_null(strpbrk(txt, "+/="));
        assert_int_equal(sg_http_b64url_decode(txt, tl, out, sizeof out), (long)n);
        assert_memory_equal(in, out, n);
    }
    assert_int_equal(sg_http_b64url_decode("Zm9v", 4, out, sizeof out), 3);
    assert_memory_equal(out, "foo", 3);
    assert_int_equal(sg_http_b64url_decode("Zm8", 3, out, sizeof out), 2);
    assert_int_equal(sg_http_b64url_decode("Zm9", 3, out, sizeof out), -1); /* non-canonical */
    assert_int_equal(sg_http_b64url_decode("Zm9=", 4, out, sizeof out), -1);
    assert_int_equal(sg_http_b64url_decode("Z", 1, out, sizeof out), -1);

    const char key[] = "e\x00\x00\x01\x9b\xaa\x01user";
    char cur[256];
    size_t cl = sg_http_cursor_encode(2, 77, key, sizeof key, cur, sizeof cur);
    assert_true(cl > 0);
    struct sg_http_str v = {cur, cl};
    char back[SG_HTTP_MAX_CURSOR_KEY];
    size_t bl = 0;
    struct sg_http_perr e;
    assert_int_equal(sg_http_cursor_decode(&v, 2, 77, back, &bl, &e), SG_OK);
    assert_int_equal(bl, sizeof key);
    assert_memory_equal(back, key, bl);
    /* another listing or other filters */
    assert_int_equal(sg_http_cursor_decode(&v, 3, 77, back, &bl, &e), SG_ERR_INVALID);
    assert_string_equal(e.param, "cursor");
    assert_int_equal(sg_http_cursor_decode(&v, 2, 78, back, &bl, &e), SG_ERR_INVALID);
    /* every single-character alteration is refused */
    for (size_t i = 0; i < cl; i++) {
        char saved = cur[i];
        cur[i] = saved == 'A' ? 'B' : 'A';
        assert_int_equal(sg_http_cursor_decode(&v, 2, 77, back, &bl, &e), SG_ERR_INVALID);
        cur[i] = saved;
    }
    v.len = cl - 1;
    assert_int_equal(sg_http_cursor_decode(&v, 2, 77, back, &bl, &e), SG_ERR_INVALID);
    char huge[SG_HTTP_MAX_CURSOR_KEY + 1] = {0};
    assert_int_equal(sg_http_cursor_encode(1, 1, huge, sizeof huge, txt, sizeof txt), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_b64_cursor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
