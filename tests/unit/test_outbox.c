/* Unit tests of sg_outbox: the record format round-trips a dead letter (key-less, with
 * headers, binary value) and an alert (key, no headers) field by field; every truncation of
 * an encoding and unknown kinds are refused; the tracker's "delivered below" mark only moves
 * over a gap-free prefix, whatever the order of the reports (shuffled reports against a
 * brute-force model, past the ring's growth), and counts what is still undelivered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_rng.h"
#include "speed/sg_outbox.h"

static void same(const char *a, size_t al, const char *b, size_t bl)
{
    assert_int_equal(al, bl);
    if (al)
        assert_memory_equal(a, b, al);
}

static void check_round_trip(const struct sg_outbox_rec *r)
{
    struct sg_buf b;
    sg_buf_init(&b);
    sg_outbox_encode(r, &b);
    struct sg_outbox_rec d;
    assert_int_equal(sg_outbox_decode(b.data, b.len, &d), SG_OK);
    assert_int_equal(d.kind, r->kind);
    same(d.key, d.kl, r->key, r->kl);
    assert_int_equal(d.nh, r->nh);
    for (size_t i = 0; i < r->nh; i++) {
        same(d.h[i].name, d.h[i].nl, r->h[i].name, r->h[i].nl);
        same(d.h[i].value, d.h[i].vl, r->h[i].value, r->h[i].vl);
    }
    same(d.value, d.vl, r->value, r->vl);
    /* every proper prefix that cuts into the key or the headers is refused (a cut in the
     * value decodes: the value is "the rest"), and nothing reads past the given length */
    size_t fixed = b.len - r->vl;
    for (size_t n = 0; n < fixed; n++) {
        char *cut = malloc(n ? n : 1);
        memcpy(cut, b.data, n);
        assert_int_equal(sg_outbox_decode(cut, n, &d), SG_ERR_FORMAT);
        free(cut);
    }
    sg_buf_release(&b);
}

static void test_round_trip(void **state)
{
    (void)state;
    static const char bin[] = {'n', 0, 'o', '\xff', 't', ' ', 'j', 's', 'o', 'n'};
    struct sg_outbox_rec dlq = {.kind = SG_OUTBOX_DLQ, .value = bin, .vl = sizeof bin};
    const char *names[] = {"reason", "field", "message", "source_topic", "source_offset"};
    const char *values[] = {"invalid_json", "", "invalid literal at byte 0", "security-events",
                            "12345678901"};
    for (size_t i = 0; i < 5; i++)
        dlq.h[dlq.nh++] = (struct sg_outbox_header){names[i], values[i], strlen(names[i]),
                                                    strlen(values[i])};
    check_round_trip(&dlq);

    char big[300]; /* lengths past one varint byte */
    memset(big, 'u', sizeof big);
    struct sg_outbox_rec alert = {.kind = SG_OUTBOX_ALERT, .key = big, .kl = sizeof big,
                                  .value = "{\"severity\":\"high\"}", .vl = 19};
    check_round_trip(&alert);
    struct sg_outbox_rec empty = {.kind = SG_OUTBOX_ALERT};
    check_round_trip(&empty);
}

static void test_refused(void **state)
{
    (void)state;
    struct sg_outbox_rec d;
    assert_int_equal(sg_outbox_decode("", 0, &d), SG_ERR_FORMAT);
    assert_int_equal(sg_outbox_decode("\x03\x00\x00", 3, &d), SG_ERR_FORMAT); /* kind 3 */
    assert_int_equal(sg_outbox_decode("\x00\x00\x00", 3, &d), SG_ERR_FORMAT); /* kind 0 */
    assert_int_equal(sg_outbox_decode("\x01\x05" "ab", 4, &d), SG_ERR_FORMAT); /* key > rest */
    assert_int_equal(sg_outbox_decode("\x01\x00\x11", 3, &d), SG_ERR_FORMAT); /* 17 headers */
    assert_int_equal(sg_outbox_decode("\x01\x00\x00", 3, &d), SG_OK);
    assert_int_equal(d.vl, 0);
}

/* Reports seqs [first, first + n) in a seeded random order; after each report the mark must
 * be the lowest seq not reported yet, and the undelivered count the number not reported. */
static void shuffled(uint64_t first, size_t n, uint64_t seed)
{
    struct sg_rng rng;
    sg_rng_seed(&rng, seed);
    uint64_t *order = malloc(n * sizeof *order);
    unsigned char *seen = calloc(n, 1);
    for (size_t i = 0; i < n; i++)
        order[i] = first + i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)sg_rng_below(&rng, i);
        uint64_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    struct sg_outbox_track t;
    sg_outbox_track_init(&t, first);
    size_t low = 0; /* brute force: the lowest index not seen */
    for (size_t i = 0; i < n; i++) {
        sg_outbox_track_done(&t, order[i]);
        seen[order[i] - first] = 1;
        while (low < n && seen[low])
            low++;
        assert_int_equal(sg_outbox_track_base(&t), first + low);
        assert_int_equal(sg_outbox_track_undelivered(&t, first + n), n - i - 1);
    }
    sg_outbox_track_done(&t, first); /* a repeated report changes nothing */
    assert_int_equal(sg_outbox_track_base(&t), first + n);
    assert_int_equal(sg_outbox_track_undelivered(&t, first + n), 0);
    sg_outbox_track_release(&t);
    free(order);
    free(seen);
}

static void test_tracker(void **state)
{
    (void)state;
    shuffled(0, 10, 1);
    shuffled(1000000, 5000, 2); /* 5000 outstanding: the 1024-slot ring grows */
    /* in order, with a gap that holds the mark until it is filled */
    struct sg_outbox_track t;
    sg_outbox_track_init(&t, 7);
    sg_outbox_track_done(&t, 8);
    sg_outbox_track_done(&t, 9);
    assert_int_equal(sg_outbox_track_base(&t), 7);
    assert_int_equal(sg_outbox_track_undelivered(&t, 10), 1);
    sg_outbox_track_done(&t, 3); /* below the start: ignored */
    assert_int_equal(sg_outbox_track_base(&t), 7);
    sg_outbox_track_done(&t, 7);
    assert_int_equal(sg_outbox_track_base(&t), 10);
    sg_outbox_track_done(&t, 10 + 4096); /* far ahead: grows the ring, holds the mark */
    assert_int_equal(sg_outbox_track_base(&t), 10);
    assert_int_equal(sg_outbox_track_undelivered(&t, 10 + 4097), 4096);
    sg_outbox_track_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_tracker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
