/* Unit tests of src/core utilities: time parsing/formatting, buffers/JSON strings, arena,
 * rng determinism, config table (YAML load, errors with file:line, overrides, committed
 * conf/ and docs/ in sync with the table). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/sg_buf.h"
#include "core/sg_config.h"
#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"
#include "core/sg_substr.h"
#include "core/sg_time.h"

static int64_t parse(const char *s)
{
    int64_t ms = -1;
    if (sg_time_parse_rfc3339(s, strlen(s), &ms) != SG_OK)
        return -1;
    return ms;
}

static void test_rfc3339(void **state)
{
    (void)state;
    assert_int_equal(parse("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse("2026-11-25T21:07:20.123Z"), INT64_C(1795640840123));
    assert_int_equal(parse("2026-11-25T22:07:20+01:00"), INT64_C(1795640840000));
    assert_int_equal(parse("2026-11-25T21:07:20.1239999Z"), INT64_C(1795640840123));
    assert_int_equal(parse("2024-02-29T00:00:00Z"), INT64_C(1709164800000));
    assert_int_equal(parse("9999-12-31T23:59:59.999Z"), SG_TIME_MAX_MS);
    assert_int_equal(parse("2023-02-29T00:00:00Z"), -1);  /* not a leap year */
    assert_int_equal(parse("2026-11-25 21:07:20Z"), -1);  /* space separator */
    assert_int_equal(parse("2026-11-25T21:07:20"), -1);   /* no offset */
    assert_int_equal(parse("2026-11-25T21:07:20.Z"), -1); /* empty fraction */
    assert_int_equal(parse("1969-12-31T23:59:59Z"), -1);  /* before the epoch */
    assert_int_equal(parse("2026-13-01T00:00:00Z"), -1);
    char out[32];
    assert_int_equal(sg_time_format_rfc3339(INT64_C(1795640840123), out, sizeof out), 24);
    assert_string_equal(out, "2026-11-25T21:07:20.123Z");
    /* format/parse round trip over a spread of instants */
    struct sg_rng r;
    sg_rng_seed(&r, 1);
    for (int i = 0; i < 10000; i++) {
        int64_t ms = (int64_t)sg_rng_below(&r, (uint64_t)SG_TIME_MAX_MS + 1);
        sg_time_format_rfc3339(ms, out, sizeof out);
        assert_int_equal(parse(out), ms);
    }
}

static void test_duration(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(sg_time_parse_duration("7d", &ms), SG_OK);
    assert_int_equal(ms, 7 * 86400000LL);
    assert_int_equal(sg_time_parse_duration("250ms", &ms), SG_OK);
    assert_int_equal(ms, 250);
    assert_int_equal(sg_time_parse_duration("30", &ms), SG_OK);
    assert_int_equal(ms, 30000);
    assert_int_equal(sg_time_parse_duration("7 days", &ms), SG_ERR_FORMAT);
    assert_int_equal(sg_time_parse_duration("-1s", &ms), SG_ERR_FORMAT);
}

static void test_json_str(void **state)
{
    (void)state;
    struct sg_buf b;
    sg_buf_init(&b);
    sg_buf_json_str(&b, "a\"b\\c\n\x01\xC3\xA9\xFF", 10);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\xC3\xA9\xEF\xBF\xBD\"");
    sg_buf_reset(&b);
    sg_buf_json_double(&b, 0.1);
    sg_buf_putc(&b, ' ');
    sg_buf_json_double(&b, 1.0 / 3.0);
    sg_buf_putc(&b, ' ');
    sg_buf_json_double(&b, 42);
    assert_string_equal(b.data, "0.1 0.3333333333333333 42");
    sg_buf_release(&b);
}

/* The reference of sg_buf_json_double: the shortest of %.15g/%.16g/%.17g that reads back as
 * the value, integers without a decimal point. */
static void json_double_ref(double v, char *out, size_t n)
{
    if (fabs(v) < 1e15 && v == (double)(long long)v) {
        snprintf(out, n, "%lld", (long long)v);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

/* The printf-free fast paths (integers, short decimals) give exactly the reference's bytes
 * on seeded random short decimals, random bit patterns and the edges of the fast path. */
static void test_json_double_matches_printf(void **state)
{
    (void)state;
    static const double edge[] = {0.0, -0.0, 1e-4, -1e-4, 9.99999e-5, 0.1, 0.3, -48.8566,
                                  999999999999999.9, 123456789.123456, 0.000123456789, 1e15,
                                  -1e15 + 0.5, 5e-324, 1e300, 2.5, -0.5, 0.033, 1e-10};
    struct sg_rng r;
    sg_rng_seed(&r, 7);
    struct sg_buf b;
    sg_buf_init(&b);
    char ref[64];
    for (size_t i = 0; i < 300000 + sizeof edge / sizeof *edge; i++) {
        double v;
        if (i < sizeof edge / sizeof *edge) {
            v = edge[i];
        } else if (i % 3 == 0) {
            uint64_t u = sg_rng_next(&r);
            memcpy(&v, &u, sizeof v);
            if (!isfinite(v))
                continue;
        } else {
            int k = (int)sg_rng_below(&r, 11);
            int64_t m = (int64_t)(sg_rng_next(&r) >> (11 + sg_rng_below(&r, 50)));
            v = (double)m / pow(10, k) * (i % 2 ? -1 : 1);
        }
        sg_buf_reset(&b);
        sg_buf_json_double(&b, v);
        json_double_ref(v, ref, sizeof ref);
        if (strcmp(b.data, ref) != 0)
            fail_msg("%.17g: got %s, want %s", v, b.data, ref);
    }
    sg_buf_release(&b);
}

static void test_arena(void **state)
{
    (void)state;
    struct sg_arena a;
    sg_arena_init(&a, 128);
    char *s = sg_arena_strndup(&a, "hello", 5);
    char *big = sg_arena_alloc(&a, 1000); /* larger than a block */
    memset(big, 'x', 1000);
    assert_string_equal(s, "hello");
    assert_int_equal(((uintptr_t)big) % 16, 0);
    sg_arena_reset(&a);
    char *t = sg_arena_strndup(&a, "again", 5);
    assert_string_equal(t, "again");
    sg_arena_release(&a);
}

static void test_rng(void **state)
{
    (void)state;
    struct sg_rng a, b;
    sg_rng_seed(&a, 7);
    sg_rng_seed(&b, 7);
    for (int i = 0; i < 100; i++)
        assert_int_equal(sg_rng_next(&a), sg_rng_next(&b));
    sg_rng_seed(&b, 8);
    assert_int_not_equal(sg_rng_next(&a), sg_rng_next(&b));
    /* below(n) is in range and roughly uniform */
    int hist[10] = {0};
    for (int i = 0; i < 100000; i++)
        hist[sg_rng_below(&a, 10)]++;
    for (int i = 0; i < 10; i++)
        assert_true(hist[i] > 9500 && hist[i] < 10500);
}

static char *write_tmp(const char *text)
{
    char *path = strdup("/tmp/sg-test-cfg-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_config_load(void **state)
{
    (void)state;
    struct sg_config c;
    char err[256];
    sg_config_init(&c);
    assert_int_equal(c.batch.trees, 100);
    char *p = write_tmp("batch:\n  trees: 250\n  contamination: 0.05\nstream:\n  retention: 2d\n"
                        "kafka:\n  bootstrap.servers: \"h:9\"\n  security.protocol: ssl\n");
    assert_int_equal(sg_config_load(&c, p, err, sizeof err), SG_OK);
    assert_int_equal(c.batch.trees, 250);
    assert_true(c.batch.contamination == 0.05);
    assert_int_equal(c.stream.retention_ms, 2 * 86400000LL);
    assert_string_equal(sg_config_kafka_get(&c, "bootstrap.servers"), "h:9");
    assert_string_equal(sg_config_kafka_get(&c, "security.protocol"), "ssl");
    unlink(p);
    free(p);

    p = write_tmp("batch:\n  trees: 10\n  treez: 5\n");
    assert_int_equal(sg_config_load(&c, p, err, sizeof err), SG_ERR_CONFIG);
    assert_non_null(strstr(err, ":3: unknown configuration key 'batch.treez'"));
    unlink(p);
    free(p);

    p = write_tmp("batch:\n  contamination: 0.9\n");
    assert_int_equal(sg_config_load(&c, p, err, sizeof err), SG_ERR_CONFIG);
    assert_non_null(strstr(err, ":2: batch.contamination: 0.9 is outside"));
    unlink(p);
    free(p);

    p = write_tmp("batch:\n  trees: [1, 2\n");
    assert_int_equal(sg_config_load(&c, p, err, sizeof err), SG_ERR_CONFIG);
    unlink(p);
    free(p);

    assert_int_equal(sg_config_set(&c, "stream.alerts", "maybe", err, sizeof err), SG_ERR_CONFIG);
    assert_int_equal(sg_config_set(&c, "stream.alerts", "false", err, sizeof err), SG_OK);
    assert_int_equal(c.stream.alerts, 0);
    /* topic names follow Kafka's rule; an empty one is refused, not produced to */
    const char *bad_topics[] = {"", ".", "..", "a b", "alerts/x", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_topics / sizeof *bad_topics; i++) {
        assert_int_equal(sg_config_set(&c, "topics.dlq", bad_topics[i], err, sizeof err),
                         SG_ERR_CONFIG);
        assert_non_null(strstr(err, "not a Kafka topic name"));
    }
    assert_string_equal(c.topics.dlq, "security-events-dlq"); /* unchanged */
    char longest[250];
    memset(longest, 'x', 249);
    longest[249] = 0;
    assert_int_equal(sg_config_set(&c, "topics.dlq", longest, err, sizeof err), SG_OK);
    assert_int_equal(sg_config_set(&c, "topics.anomalies", "Sec_alerts.v-2", err, sizeof err), SG_OK);
    assert_string_equal(c.topics.anomalies, "Sec_alerts.v-2");
    char too_long[251];
    memset(too_long, 'x', 250);
    too_long[250] = 0;
    assert_int_equal(sg_config_set(&c, "topics.events", too_long, err, sizeof err), SG_ERR_CONFIG);
    assert_int_equal(sg_config_load(&c, "/nonexistent/x.yaml", err, sizeof err), SG_ERR_NOTFOUND);
    sg_config_release(&c);
}

static char *slurp(const char *path)
{
    struct sg_buf b;
    sg_buf_init(&b);
    if (sg_buf_read_file(&b, path, 0) != SG_OK)
        return NULL;
    return sg_buf_steal(&b);
}

static void test_read_file(void **state)
{
    (void)state;
    char *p = write_tmp("0123456789");
    struct sg_buf b;
    sg_buf_init(&b);
    sg_buf_puts(&b, "x:");
    assert_int_equal(sg_buf_read_file(&b, p, 0), SG_OK);
    assert_string_equal(b.data, "x:0123456789");
    assert_int_equal(sg_buf_read_file(&b, p, 9), SG_ERR_RANGE); /* too large: b unchanged */
    assert_string_equal(b.data, "x:0123456789");
    assert_int_equal(sg_buf_read_file(&b, p, 10), SG_OK);
    assert_int_equal(b.len, 22);
    assert_int_equal(sg_buf_read_file(&b, "/nonexistent/file", 0), SG_ERR_NOTFOUND);
    assert_int_equal(b.len, 22);
    sg_buf_release(&b);
    unlink(p);
    free(p);
}

/* A dump loads back to the same values: a value holding characters YAML 1.1 reads as line
 * breaks (NEL, LS, PS, folded with the space before them) or refuses (other C1 controls,
 * U+FFFF) must come back unchanged (a case the config fuzz target found). */
static void test_config_dump_round_trip(void **state)
{
    (void)state;
    static const char v[] = "a \xe2\x80\xa8"
                            "b \xe2\x80\xa9"
                            "c \xc2\x85"
                            "d\xc2\x81 \xef\xbf\xbf \xc3\xa9\t\"";
    struct sg_config c, d;
    char err[256];
    sg_config_init(&c);
    sg_config_init(&d);
    assert_int_equal(sg_config_set(&c, "kafka.client.rack", v, err, sizeof err), SG_OK);
    assert_int_equal(sg_config_set(&c, "topics.events", "ev", err, sizeof err), SG_OK);
    struct sg_buf a, b;
    sg_buf_init(&a);
    sg_buf_init(&b);
    sg_config_dump(&c, 0, &a);
    char *p = write_tmp(a.data);
    assert_int_equal(sg_config_load(&d, p, err, sizeof err), SG_OK);
    assert_string_equal(sg_config_kafka_get(&d, "client.rack"), v);
    sg_config_dump(&d, 0, &b);
    assert_string_equal(a.data, b.data);
    unlink(p);
    free(p);
    sg_buf_release(&a);
    sg_buf_release(&b);
    sg_config_release(&c);
    sg_config_release(&d);
}

/* The committed conf/streamguard.yaml and docs/CONFIG.md are generated from the table. */
static void test_config_files_in_sync(void **state)
{
    (void)state;
    struct sg_config c;
    sg_config_init(&c);
    struct sg_buf b;
    sg_buf_init(&b);
    sg_config_dump(&c, 1, &b);
    char *conf = slurp("conf/streamguard.yaml");
    assert_non_null(conf);
    assert_string_equal(conf, b.data);
    /* and the committed file loads back to the defaults */
    char err[256];
    assert_int_equal(sg_config_load(&c, "conf/streamguard.yaml", err, sizeof err), SG_OK);
    sg_buf_reset(&b);
    sg_config_docs(&b);
    char *docs = slurp("docs/CONFIG.md");
    assert_non_null(docs);
    assert_string_equal(docs, b.data);
    free(conf);
    free(docs);
    sg_buf_release(&b);
    sg_config_release(&c);
}

/* sg_substr_any against the obvious reference (strncasecmp at every offset, per needle) on
 * seeded random strings drawn mostly from the needles' own letters, so matches, near misses
 * and matches at both ends all occur. */
static int substr_reference(const char *const *needles, const char *str, size_t n)
{
    for (size_t k = 0; needles[k]; k++) {
        size_t l = strlen(needles[k]);
        for (size_t i = 0; i + l <= n; i++)
            if (strncasecmp(str + i, needles[k], l) == 0)
                return 1;
    }
    return 0;
}

/* A log line quotes outside data (user names, Kafka keys, file names): control characters
 * and Unicode line breaks come out escaped, so one call is one line. */
static void test_log_escapes_line_breaks(void **state)
{
    (void)state;
    char path[] = "/tmp/sg_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    assert_true(dup2(fd, 2) == 2);
    sg_log_warn("key '%s' end", "a\nb\r\x01\x7f\xc2\x85\xe2\x80\xa8\xc3\xa9");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[512] = {0};
    assert_true(pread(fd, buf, sizeof buf - 1, 0) > 0);
    close(fd);
    unlink(path);
    const char *m = strstr(buf, " warn  ");
    assert_non_null(m);
    assert_string_equal(
        m, " warn  key 'a\\x0ab\\x0d\\x01\\x7f\\xc2\\x85\\xe2\\x80\\xa8\xc3\xa9' end\n");
}

static void test_substr_any(void **state)
{
    (void)state;
    static const char *const needles[] = {"/etc/shadow", "id_rsa", "\\sam", "-enc", "ab", NULL};
    struct sg_substr_set set;
    sg_substr_build(&set, needles);
    assert_int_equal(sg_substr_any(&set, "x/ETC/Shadow", 12), 1);
    assert_int_equal(sg_substr_any(&set, "x/etc/shado", 11), 0);
    assert_int_equal(sg_substr_any(&set, "AB", 2), 1);      /* the whole string */
    assert_int_equal(sg_substr_any(&set, "AB", 1), 0);      /* the length bounds the match */
    assert_int_equal(sg_substr_any(&set, "", 0), 0);
    static const char alpha[] = "/etcshadowid_rsaSAM\\-ENCab.x";
    struct sg_rng r;
    sg_rng_seed(&r, 7);
    char buf[64];
    size_t hits = 0;
    for (int it = 0; it < 20000; it++) {
        size_t n = sg_rng_below(&r, sizeof buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = alpha[sg_rng_below(&r, sizeof alpha - 1)];
        int want = substr_reference(needles, buf, n);
        assert_int_equal(sg_substr_any(&set, buf, n), want);
        hits += (size_t)want;
    }
    assert_true(hits > 1000 && hits < 19000); /* both outcomes were exercised */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339),     cmocka_unit_test(test_duration),
        cmocka_unit_test(test_json_str),    cmocka_unit_test(test_json_double_matches_printf),
        cmocka_unit_test(test_arena),       cmocka_unit_test(test_rng),
        cmocka_unit_test(test_config_load), cmocka_unit_test(test_config_files_in_sync),
        cmocka_unit_test(test_read_file),   cmocka_unit_test(test_config_dump_round_trip),
        cmocka_unit_test(test_substr_any),  cmocka_unit_test(test_log_escapes_line_breaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
