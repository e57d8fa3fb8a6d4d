/* Unit tests of src/core/sg_event: every line of the shared spec examples (valid must decode,
 * invalid must be rejected with the reason its invalid-reasons.txt line describes), the rules
 * one by one (escapes, UTF-8, surrogates, duplicate keys, null, ranges, types, size, depth),
 * and the round-trip property decode(encode(e)) == e on seeded random events.
 * The spec directory is $STREAMGUARD_SPEC_DIR, else ../shared/spec or ../../shared/spec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_event.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"
#include "core/sg_time.h"
#include "gen/sg_gen.h"

static struct sg_arena arena;

static int setup(void **state)
{
    (void)state;
    sg_arena_init(&arena, 64 * 1024);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sg_arena_release(&arena);
    return 0;
}

/* ---- spec files */

static char *read_spec(const char *name, size_t *len)
{
    const char *env = getenv("STREAMGUARD_SPEC_DIR");
    const char *dirs[] = {env, "../shared/spec", "../../shared/spec"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i] || !*dirs[i])
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/examples/%s", dirs[i], name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        struct sg_buf b;
        sg_buf_init(&b);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            sg_buf_append(&b, chunk, n);
        fclose(f);
        *len = b.len;
        return sg_buf_steal(&b);
    }
    fail_msg("spec example %s not found (set STREAMGUARD_SPEC_DIR)", name);
    return NULL;
}

/* Splits text into lines (without "\n"); returns the count, fills starts/lens. */
static size_t split_lines(const char *text, size_t len, const char **starts, size_t *lens,
                          size_t cap)
{
    size_t n = 0, i = 0;
    while (i < len && n < cap) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - text) : len;
        starts[n] = text + i;
        lens[n] = e - i;
        n++;
        i = e + 1;
    }
    return n;
}

static int decode(const char *s, size_t n, struct sg_event *ev, struct sg_event_error *err)
{
    return sg_event_decode(s, n, ev, &arena, err);
}

static void assert_roundtrip(const struct sg_event *ev)
{
    struct sg_buf b;
    sg_buf_init(&b);
    sg_event_encode(ev, &b);
    struct sg_event back;
    struct sg_event_error err;
    int rc = decode(b.data, b.len, &back, &err);
    if (rc != SG_OK)
        fail_msg("re-decode failed (%s: %s): %s", sg_event_reason_name(err.reason), err.message,
                 b.data);
    if (!sg_event_equal(ev, &back))
        fail_msg("round trip changed the event: %s", b.data);
    sg_buf_release(&b);
}

static void test_spec_valid(void **state)
{
    (void)state;
    size_t len;
    char *text = read_spec("valid.ndjson", &len);
    const char *starts[64];
    size_t lens[64];
    size_t n = split_lines(text, len, starts, lens, 64);
    assert_true(n >= 8);
    for (size_t i = 0; i < n; i++) {
        struct sg_event ev;
        struct sg_event_error err;
        int rc = decode(starts[i], lens[i], &ev, &err);
        if (rc != SG_OK)
            fail_msg("valid.ndjson line %zu rejected: %s (%s)", i + 1,
                     sg_event_reason_name(err.reason), err.message);
        assert_int_equal(err.reason, SG_REASON_NONE);
        assert_roundtrip(&ev);
    }
    free(text);
}

/* One row per line of invalid-reasons.txt: the text is checked verbatim so that a changed
 * spec file fails here instead of silently shifting the mapping. */
static const struct {
    const char *text;
    enum sg_event_reason reason;
    const char *field;
} invalid_map[] = {
    {"missing required field event_id", SG_REASON_MISSING_FIELD, "event_id"},
    {"event_type not one of the five kinds", SG_REASON_BAD_ENUM, "event_type"},
    {"source_ip is not an IP address", SG_REASON_BAD_FORMAT, "source_ip"},
    {"threat_score outside 0..1", SG_REASON_OUT_OF_RANGE, "threat_score"},
    {"timestamp string is not RFC 3339", SG_REASON_BAD_FORMAT, "timestamp"},
    {"timestamp is not integral", SG_REASON_NOT_INTEGRAL, "timestamp"},
    {"user is empty", SG_REASON_BAD_FORMAT, "user"},
    {"event_id has a character outside [A-Za-z0-9_.:-]", SG_REASON_BAD_FORMAT, "event_id"},
    {"status not one of success, failed, blocked", SG_REASON_BAD_ENUM, "status"},
    {"network_details.destination_port outside 0..65535 (the later event_type makes it a "
     "network event)",
     SG_REASON_OUT_OF_RANGE, "network_details.destination_port"},
    {"required field user is null", SG_REASON_MISSING_FIELD, "user"},
    {"top-level value is not an object", SG_REASON_NOT_OBJECT, ""},
    {"truncated JSON", SG_REASON_INVALID_JSON, ""},
    {"timestamp below 0", SG_REASON_OUT_OF_RANGE, "timestamp"},
    {"threat_score is not a number", SG_REASON_WRONG_TYPE, "threat_score"},
    {"not valid UTF-8 / not JSON", SG_REASON_INVALID_UTF8, ""},
};

static void test_spec_invalid(void **state)
{
    (void)state;
    size_t len, rlen;
    char *text = read_spec("invalid.ndjson", &len);
    char *reasons = read_spec("invalid-reasons.txt", &rlen);
    const char *starts[64], *rstarts[64];
    size_t lens[64], rlens[64];
    size_t n = split_lines(text, len, starts, lens, 64);
    size_t rn = split_lines(reasons, rlen, rstarts, rlens, 64);
    assert_int_equal(n, rn);
    assert_int_equal(n, sizeof invalid_map / sizeof invalid_map[0]);
    for (size_t i = 0; i < n; i++) {
        if (strlen(invalid_map[i].text) != rlens[i] ||
            memcmp(invalid_map[i].text, rstarts[i], rlens[i]) != 0)
            fail_msg("invalid-reasons.txt line %zu changed: %.*s", i + 1, (int)rlens[i],
                     rstarts[i]);
        struct sg_event ev;
        struct sg_event_error err;
        int rc = decode(starts[i], lens[i], &ev, &err);
        if (rc != SG_ERR_INVALID)
            fail_msg("invalid.ndjson line %zu accepted", i + 1);
        if (err.reason != invalid_map[i].reason || strcmp(err.field, invalid_map[i].field) != 0)
            fail_msg("invalid.ndjson line %zu: got %s field '%s' (%s), want %s field '%s'", i + 1,
                     sg_event_reason_name(err.reason), err.field, err.message,
                     sg_event_reason_name(invalid_map[i].reason), invalid_map[i].field);
        assert_true(strlen(err.message) > 0);
        /* the message names the field for field problems */
        if (err.field[0])
            assert_non_null(strstr(err.message, err.field));
    }
    free(text);
    free(reasons);
}

/* Field values of the richer valid examples. */
static void test_spec_valid_values(void **state)
{
    (void)state;
    size_t len;
    char *text = read_spec("valid.ndjson", &len);
    const char *s[64];
    size_t l[64];
    split_lines(text, len, s, l, 64);
    struct sg_event ev;
    assert_int_equal(decode(s[1], l[1], &ev, NULL), SG_OK);
    assert_string_equal(ev.event_id.p, "evt_faab8a2e110446988e610acec34fbf3d");
    assert_int_equal(ev.ts_ms, INT64_C(1795641199680));
    assert_int_equal(ev.type, SG_EV_AUTH);
    assert_string_equal(ev.user.p, "analyst");
    assert_string_equal(ev.destination_ip.p, "192.168.1.70");
    assert_true(ev.threat_score == 0.05013226516832672);
    assert_string_equal(ev.geo_location.p, "US-WA-Seattle");
    assert_int_equal(ev.session_id.len, 0);
    assert_string_equal(ev.d.auth.auth_type.p, "mfa");
    assert_int_equal(ev.d.auth.failure_reason.len, 0);
    assert_int_equal(ev.d.auth.attempts_count, 1);

    assert_int_equal(decode(s[2], l[2], &ev, NULL), SG_OK);
    assert_int_equal(ev.ts_ms, INT64_C(1795640840123));
    assert_int_equal(ev.type, SG_EV_NETWORK);
    assert_true(ev.has_geo);
    assert_true(ev.geo_lat == 40.71 && ev.geo_lon == -74.0);
    assert_int_equal(ev.d.net.source_port, 50122);
    assert_int_equal(ev.d.net.destination_port, 443);
    assert_int_equal(ev.d.net.bytes_received, 912311);
    assert_string_equal(ev.d.net.connection_state.p, "closed");

    assert_int_equal(decode(s[3], l[3], &ev, NULL), SG_OK);
    assert_int_equal(ev.ts_ms, INT64_C(1795640840000)); /* 22:07:20+01:00 */
    assert_int_equal(ev.status, SG_STATUS_BLOCKED);
    assert_true(ev.threat_score == 1.0);
    assert_int_equal(ev.d.file.access_denied, 1);
    assert_int_equal(ev.d.file.permissions_changed, 0);
    assert_int_equal(ev.d.file.file_size_bytes, 1024);

    assert_int_equal(decode(s[4], l[4], &ev, NULL), SG_OK);
    assert_int_equal(ev.d.proc.process_id, 4242);
    assert_int_equal(ev.d.proc.is_signed, 0);
    assert_string_equal(ev.d.proc.user_privileges.p, "admin");

    assert_int_equal(decode(s[5], l[5], &ev, NULL), SG_OK);
    assert_string_equal(ev.user.p, "Zo\xc3\xab \xc3\x9cnicode");
    assert_int_equal(ev.destination_ip.len, 0);
    assert_int_equal(ev.d.dns.ttl, 60);
    assert_string_equal(ev.d.dns.response_code.p, "NXDOMAIN");

    /* auth event carrying a network_details object: the auth details count, not the other */
    assert_int_equal(decode(s[6], l[6], &ev, NULL), SG_OK);
    assert_int_equal(ev.type, SG_EV_AUTH);
    assert_int_equal(ev.status, SG_STATUS_FAILED);
    assert_int_equal(ev.d.auth.attempts_count, 3);

    assert_int_equal(decode(s[7], l[7], &ev, NULL), SG_OK);
    assert_int_equal(ev.ts_ms, 0);
    assert_string_equal(ev.source_ip.p, "::1");
    free(text);
}

/* ---- own cases */

#define HEAD                                                                                       \
    "{\"event_id\":\"e1\",\"timestamp\":1000,\"event_type\":\"auth_attempt\",\"user\":\"u\""
#define SRC ",\"source_ip\":\"10.0.0.1\""
#define BASE HEAD SRC

struct tcase {
    const char *json;
    enum sg_event_reason reason; /* SG_REASON_NONE = must be accepted */
    const char *field;
};

static const struct tcase cases[] = {
    /* accepted */
    {BASE "}", SG_REASON_NONE, ""},
    {" \t\r\n" BASE "} \r\n\t", SG_REASON_NONE, ""},
    {BASE "}\r", SG_REASON_NONE, ""},
    {BASE ",\"timestamp\":253402300799999}", SG_REASON_NONE, ""},
    {BASE ",\"timestamp\":0}", SG_REASON_NONE, ""},
    {BASE ",\"timestamp\":1.0}", SG_REASON_NONE, ""},
    {BASE ",\"timestamp\":1e3}", SG_REASON_NONE, ""},
    {BASE ",\"timestamp\":-0}", SG_REASON_NONE, ""},
    {BASE ",\"timestamp\":\"9999-12-31T23:59:59.999Z\"}", SG_REASON_NONE, ""},
    {BASE ",\"timestamp\":\"1970-01-01T00:00:00Z\"}", SG_REASON_NONE, ""},
    {BASE ",\"threat_score\":0}", SG_REASON_NONE, ""},
    {BASE ",\"threat_score\":1.0}", SG_REASON_NONE, ""},
    {BASE ",\"threat_score\":1e-300}", SG_REASON_NONE, ""},
    {BASE ",\"threat_score\":-0.0}", SG_REASON_NONE, ""},
    {BASE ",\"destination_ip\":null,\"metadata\":null,\"auth_details\":null}", SG_REASON_NONE, ""},
    {BASE ",\"destination_ip\":\"fe80::1:2\"}", SG_REASON_NONE, ""},
    {BASE ",\"destination_ip\":\"::ffff:1.2.3.4\"}", SG_REASON_NONE, ""},
    {BASE ",\"x\":{\"a\":[1,2.5e10,-0.1,true,false,null,\"s\",{\"b\":[[]]}],\"c\":{}}}",
     SG_REASON_NONE, ""},
    {BASE ",\"x\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u00e9\\ud83d\\ude00\"}", SG_REASON_NONE, ""},
    {BASE ",\"network_details\":{\"source_port\":\"x\"}}", SG_REASON_NONE, ""}, /* not its kind */
    {BASE ",\"file_details\":5,\"dns_details\":[1]}", SG_REASON_NONE, ""},
    {BASE ",\"auth_details\":{\"attempts_count\":-1},\"auth_details\":{\"attempts_count\":2}}",
     SG_REASON_NONE, ""},
    {BASE ",\"auth_details\":{\"attempts_count\":-1,\"attempts_count\":2}}", SG_REASON_NONE, ""},
    {BASE ",\"user\":5,\"user\":\"v\"}", SG_REASON_NONE, ""},
    {BASE ",\"event_type\":\"login\",\"event_type\":\"dns_query\"}", SG_REASON_NONE, ""},
    {BASE ",\"event_\\u0069d\":\"e2\"}", SG_REASON_NONE, ""},
    {BASE ",\"user\":\"\\u00e9\\u4e2d\\ud834\\udd1e\"}", SG_REASON_NONE, ""},
    {BASE ",\"user\":\"\xf0\x9f\x98\x80\"}", SG_REASON_NONE, ""},
    {BASE ",\"status\":\"bl\\u006fcked\"}", SG_REASON_NONE, ""},
    {BASE ",\"metadata\":{\"geo_location\":\"DE-BER-Berlin\",\"geo_lat\":90,\"geo_lon\":-180}}",
     SG_REASON_NONE, ""},
    {BASE ",\"metadata\":{\"geo_lat\":91},\"metadata\":{}}", SG_REASON_NONE, ""},
    {BASE ",\"metadata\":{\"unknown\":{\"x\":[]},\"hostname\":\"h\"}}", SG_REASON_NONE, ""},
    {HEAD ",\"event_type\":\"network_connection\"" SRC
          ",\"network_details\":{\"source_port\":0,\"destination_port\":65535,"
          "\"bytes_sent\":9223372036854775807,\"duration_ms\":0}}",
     SG_REASON_NONE, ""},
    {HEAD ",\"event_type\":\"file_access\"" SRC
          ",\"file_details\":{\"access_denied\":null,\"permissions_changed\":true}}",
     SG_REASON_NONE, ""},
    {"{\"event_id\":\"" /* 128 id bytes */
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"timestamp\":1,\"event_type\":\"dns_query\","
     "\"user\":\"u\",\"source_ip\":\"1.2.3.4\"}",
     SG_REASON_NONE, ""},

    /* syntax and encoding */
    {"", SG_REASON_INVALID_JSON, ""},
    {"   ", SG_REASON_INVALID_JSON, ""},
    {BASE, SG_REASON_INVALID_JSON, ""},
    {BASE ",}", SG_REASON_INVALID_JSON, ""},
    {BASE "}}", SG_REASON_INVALID_JSON, ""},
    {BASE "} x", SG_REASON_INVALID_JSON, ""},
    {BASE "}\n{}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":01}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":1.}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":.5}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":+1}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":1e}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":NaN}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":tru}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":[1,]}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":'s'}", SG_REASON_INVALID_JSON, ""},
    {BASE ",x:1}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\"1}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":\"a\tb\"}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":\"\\x\"}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":\"\\u12g4\"}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":\"\\ud800\"}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":\"\\udc00\\ud800\"}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":\"\\ud800\\u0041\"}", SG_REASON_INVALID_JSON, ""},
    {BASE ",\"x\":\"abc}", SG_REASON_INVALID_JSON, ""},
    {"\xef\xbb\xbf" BASE "}", SG_REASON_INVALID_JSON, ""}, /* BOM is not JSON */
    {BASE ",\"x\":\"\xc3\"}", SG_REASON_INVALID_UTF8, ""},
    {BASE ",\"x\":\"\xc0\xaf\"}", SG_REASON_INVALID_UTF8, ""},         /* overlong */
    {BASE ",\"x\":\"\xed\xa0\x80\"}", SG_REASON_INVALID_UTF8, ""},     /* surrogate */
    {BASE ",\"x\":\"\xf4\x90\x80\x80\"}", SG_REASON_INVALID_UTF8, ""}, /* > U+10FFFF */
    {BASE ",\"x\":\"\xff\"}", SG_REASON_INVALID_UTF8, ""},
    {BASE "}\xff", SG_REASON_INVALID_UTF8, ""},
    {"[]", SG_REASON_NOT_OBJECT, ""},
    {"\"s\"", SG_REASON_NOT_OBJECT, ""},
    {"42", SG_REASON_NOT_OBJECT, ""},
    {"null", SG_REASON_NOT_OBJECT, ""},
    {"[1,2", SG_REASON_INVALID_JSON, ""},
    {"false[\"x\"]", SG_REASON_INVALID_JSON, ""}, /* found by fuzz_event: had no reason */
    {"[] x", SG_REASON_INVALID_JSON, ""},
    {"1 2", SG_REASON_INVALID_JSON, ""},

    /* required fields */
    {"{}", SG_REASON_MISSING_FIELD, "event_id"},
    {HEAD "}", SG_REASON_MISSING_FIELD, "source_ip"},
    {BASE ",\"timestamp\":null}", SG_REASON_MISSING_FIELD, "timestamp"},
    {BASE ",\"event_type\":null}", SG_REASON_MISSING_FIELD, "event_type"},
    {BASE ",\"source_ip\":null}", SG_REASON_MISSING_FIELD, "source_ip"},

    /* wrong types */
    {BASE ",\"event_id\":1}", SG_REASON_WRONG_TYPE, "event_id"},
    {BASE ",\"timestamp\":true}", SG_REASON_WRONG_TYPE, "timestamp"},
    {BASE ",\"timestamp\":[1]}", SG_REASON_WRONG_TYPE, "timestamp"},
    {BASE ",\"event_type\":3}", SG_REASON_WRONG_TYPE, "event_type"},
    {BASE ",\"user\":{}}", SG_REASON_WRONG_TYPE, "user"},
    {BASE ",\"source_ip\":167772161}", SG_REASON_WRONG_TYPE, "source_ip"},
    {BASE ",\"destination_ip\":[]}", SG_REASON_WRONG_TYPE, "destination_ip"},
    {BASE ",\"status\":false}", SG_REASON_WRONG_TYPE, "status"},
    {BASE ",\"threat_score\":\"0.5\"}", SG_REASON_WRONG_TYPE, "threat_score"},
    {BASE ",\"metadata\":\"x\"}", SG_REASON_WRONG_TYPE, "metadata"},
    {BASE ",\"metadata\":{\"hostname\":1}}", SG_REASON_WRONG_TYPE, "metadata.hostname"},
    {BASE ",\"metadata\":{\"geo_lat\":\"1\"}}", SG_REASON_WRONG_TYPE, "metadata.geo_lat"},
    {BASE ",\"auth_details\":[]}", SG_REASON_WRONG_TYPE, "auth_details"},
    {BASE ",\"auth_details\":{\"auth_type\":1}}", SG_REASON_WRONG_TYPE, "auth_details.auth_type"},
    {BASE ",\"auth_details\":{\"attempts_count\":\"3\"}}", SG_REASON_WRONG_TYPE,
     "auth_details.attempts_count"},
    {HEAD ",\"event_type\":\"file_access\"" SRC ",\"file_details\":{\"access_denied\":1}}",
     SG_REASON_WRONG_TYPE, "file_details.access_denied"},
    {HEAD ",\"event_type\":\"process_execution\"" SRC
          ",\"process_details\":{\"is_signed\":\"no\"}}",
     SG_REASON_WRONG_TYPE, "process_details.is_signed"},
    {HEAD ",\"event_type\":\"dns_query\"" SRC ",\"dns_details\":{\"ttl\":{}}}",
     SG_REASON_WRONG_TYPE, "dns_details.ttl"},

    /* integers and ranges */
    {BASE ",\"timestamp\":253402300800000}", SG_REASON_OUT_OF_RANGE, "timestamp"},
    {BASE ",\"timestamp\":-1}", SG_REASON_OUT_OF_RANGE, "timestamp"},
    {BASE ",\"timestamp\":1e300}", SG_REASON_OUT_OF_RANGE, "timestamp"},
    {BASE ",\"timestamp\":99999999999999999999999}", SG_REASON_OUT_OF_RANGE, "timestamp"},
    {BASE ",\"timestamp\":1.5}", SG_REASON_NOT_INTEGRAL, "timestamp"},
    {BASE ",\"timestamp\":15e-1}", SG_REASON_NOT_INTEGRAL, "timestamp"},
    {BASE ",\"timestamp\":\"1969-12-31T23:59:59Z\"}", SG_REASON_BAD_FORMAT, "timestamp"},
    {BASE ",\"timestamp\":\"2026-11-25T21:07:20\"}", SG_REASON_BAD_FORMAT, "timestamp"},
    {BASE ",\"timestamp\":\"\"}", SG_REASON_BAD_FORMAT, "timestamp"},
    {BASE ",\"threat_score\":1.0000001}", SG_REASON_OUT_OF_RANGE, "threat_score"},
    {BASE ",\"threat_score\":-0.1}", SG_REASON_OUT_OF_RANGE, "threat_score"},
    {BASE ",\"threat_score\":1e400}", SG_REASON_OUT_OF_RANGE, "threat_score"},
    {BASE ",\"metadata\":{\"geo_lon\":180.5}}", SG_REASON_OUT_OF_RANGE, "metadata.geo_lon"},
    {HEAD ",\"event_type\":\"network_connection\"" SRC
          ",\"network_details\":{\"source_port\":65536}}",
     SG_REASON_OUT_OF_RANGE, "network_details.source_port"},
    {HEAD ",\"event_type\":\"network_connection\"" SRC ",\"network_details\":{\"source_port\":-1}}",
     SG_REASON_OUT_OF_RANGE, "network_details.source_port"},
    {HEAD ",\"event_type\":\"network_connection\"" SRC ",\"network_details\":{\"bytes_sent\":1.5}}",
     SG_REASON_NOT_INTEGRAL, "network_details.bytes_sent"},
    {HEAD ",\"event_type\":\"network_connection\"" SRC
          ",\"network_details\":{\"bytes_sent\":9223372036854775808}}",
     SG_REASON_OUT_OF_RANGE, "network_details.bytes_sent"},
    {HEAD ",\"event_type\":\"process_execution\"" SRC ",\"process_details\":{\"process_id\":-7}}",
     SG_REASON_OUT_OF_RANGE, "process_details.process_id"},
    {BASE ",\"auth_details\":{\"attempts_count\":1},\"auth_details\":{\"attempts_count\":-2}}",
     SG_REASON_OUT_OF_RANGE, "auth_details.attempts_count"},

    /* enums and formats */
    {BASE ",\"event_type\":\"Auth_attempt\"}", SG_REASON_BAD_ENUM, "event_type"},
    {BASE ",\"event_type\":\"\"}", SG_REASON_BAD_ENUM, "event_type"},
    {BASE ",\"status\":\"SUCCESS\"}", SG_REASON_BAD_ENUM, "status"},
    {BASE ",\"event_id\":\"\"}", SG_REASON_BAD_FORMAT, "event_id"},
    {BASE ",\"event_id\":\"a/b\"}", SG_REASON_BAD_FORMAT, "event_id"},
    {BASE ",\"event_id\":\"\xc3\xa9\"}", SG_REASON_BAD_FORMAT, "event_id"},
    {BASE ",\"user\":\"a\\nb\"}", SG_REASON_BAD_FORMAT, "user"},
    {BASE ",\"user\":\"a\\u007f\"}", SG_REASON_BAD_FORMAT, "user"},
    {BASE ",\"user\":\"a\\u0085\"}", SG_REASON_BAD_FORMAT, "user"},
    {BASE ",\"user\":\"\\u0000\"}", SG_REASON_BAD_FORMAT, "user"},
    {BASE ",\"source_ip\":\"1.2.3\"}", SG_REASON_BAD_FORMAT, "source_ip"},
    {BASE ",\"source_ip\":\"1.2.3.4 \"}", SG_REASON_BAD_FORMAT, "source_ip"},
    {BASE ",\"source_ip\":\"01.2.3.4\"}", SG_REASON_BAD_FORMAT, "source_ip"},
    {BASE ",\"source_ip\":\"1.2.3.4\\u0000\"}", SG_REASON_BAD_FORMAT, "source_ip"},
    {BASE ",\"source_ip\":\"2001:db8:::1\"}", SG_REASON_BAD_FORMAT, "source_ip"},
    {BASE ",\"source_ip\":\"\"}", SG_REASON_BAD_FORMAT, "source_ip"},
    {BASE ",\"source_ip\":\"0000:0000:0000:0000:0000:0000:0000:0000:0000\"}", SG_REASON_BAD_FORMAT,
     "source_ip"},
    {BASE ",\"destination_ip\":\"host.example\"}", SG_REASON_BAD_FORMAT, "destination_ip"},
    {BASE ",\"metadata\":{\"geo_location\":\"Berlin\"}}", SG_REASON_BAD_FORMAT,
     "metadata.geo_location"},
    {BASE ",\"metadata\":{\"geo_location\":\"DE-BERL-Berlin\"}}", SG_REASON_BAD_FORMAT,
     "metadata.geo_location"},
    {BASE ",\"metadata\":{\"geo_location\":\"DE-BER-\"}}", SG_REASON_BAD_FORMAT,
     "metadata.geo_location"},
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct tcase *c = &cases[i];
        struct sg_event ev;
        struct sg_event_error err;
        int rc = decode(c->json, strlen(c->json), &ev, &err);
        if (c->reason == SG_REASON_NONE) {
            if (rc != SG_OK)
                fail_msg("case %zu rejected (%s, %s): %s", i, sg_event_reason_name(err.reason),
                         err.message, c->json);
            assert_roundtrip(&ev);
            continue;
        }
        if (rc != SG_ERR_INVALID || err.reason != c->reason || strcmp(err.field, c->field) != 0)
            fail_msg("case %zu: got rc %d %s field '%s' (%s), want %s field '%s': %s", i, rc,
                     sg_event_reason_name(err.reason), err.field, err.message,
                     sg_event_reason_name(c->reason), c->field, c->json);
    }
}

/* Every nested member with a value of each wrong JSON type: wrong_type naming the member;
 * and null for every member is accepted as absent. */
static void test_nested_wrong_types(void **state)
{
    (void)state;
    static const struct {
        const char *type, *object;
        const char *members[8];
        const char *kinds; /* per member: s string, i integer, b boolean, n number */
    } objs[] = {
        {"auth_attempt",
         "metadata",
         {"hostname", "geo_location", "geo_lat", "geo_lon", "user_agent", "session_id"},
         "ssnnss"},
        {"auth_attempt", "auth_details", {"auth_type", "failure_reason", "attempts_count"}, "ssi"},
        {"network_connection",
         "network_details",
         {"protocol", "source_port", "destination_port", "bytes_sent", "bytes_received",
          "duration_ms", "connection_state"},
         "siiiiis"},
        {"file_access",
         "file_details",
         {"file_path", "operation", "file_size_bytes", "access_denied", "permissions_changed"},
         "ssibb"},
        {"process_execution",
         "process_details",
         {"process_name", "command_line", "user_privileges", "process_id", "parent_process_id",
          "is_signed"},
         "sssiib"},
        {"dns_query", "dns_details", {"query_name", "query_type", "response_code", "ttl"}, "sssi"},
    };
    static const struct {
        char kind; /* the member kinds this value is wrong for */
        const char *json;
    } wrong[] = {{'s', "1"},     {'s', "true"},  {'s', "[]"},   {'s', "{}"}, {'i', "\"1\""},
                 {'i', "false"}, {'i', "[1]"},   {'i', "{}"},   {'b', "0"},  {'b', "\"true\""},
                 {'b', "[]"},    {'n', "\"1\""}, {'n', "true"}, {'n', "{}"}};
    char json[512];
    int checked = 0;
    for (size_t o = 0; o < sizeof objs / sizeof objs[0]; o++) {
        for (size_t m = 0; objs[o].members[m]; m++) {
            char kind = objs[o].kinds[m];
            char field[64];
            snprintf(field, sizeof field, "%s.%s", objs[o].object, objs[o].members[m]);
            for (size_t w = 0; w < sizeof wrong / sizeof wrong[0]; w++) {
                if (wrong[w].kind != kind)
                    continue;
                int n = snprintf(json, sizeof json,
                                 HEAD ",\"event_type\":\"%s\"" SRC ",\"%s\":{\"%s\":%s}}",
                                 objs[o].type, objs[o].object, objs[o].members[m], wrong[w].json);
                struct sg_event ev;
                struct sg_event_error err;
                int rc = decode(json, (size_t)n, &ev, &err);
                if (rc != SG_ERR_INVALID || err.reason != SG_REASON_WRONG_TYPE ||
                    strcmp(err.field, field) != 0)
                    fail_msg("%s: got %s '%s'", json, sg_event_reason_name(err.reason), err.field);
                checked++;
            }
            int n = snprintf(json, sizeof json,
                             HEAD ",\"event_type\":\"%s\"" SRC ",\"%s\":{\"%s\":null}}",
                             objs[o].type, objs[o].object, objs[o].members[m]);
            struct sg_event ev, empty;
            assert_int_equal(decode(json, (size_t)n, &ev, NULL), SG_OK);
            /* null member = absent: same event as without the object */
            n = snprintf(json, sizeof json, HEAD ",\"event_type\":\"%s\"" SRC "}", objs[o].type);
            assert_int_equal(decode(json, (size_t)n, &empty, NULL), SG_OK);
            assert_true(sg_event_equal(&ev, &empty));
        }
    }
    assert_true(checked >= 100);
    sg_arena_reset(&arena);
}

/* Decoded values for the escape, duplicate and null rules. */
static void test_values(void **state)
{
    (void)state;
    struct sg_event ev;
    /* every escape (user would reject the control characters, so hostname) */
    const char *j =
        BASE ",\"metadata\":{\"hostname\":\"\\\"q\\\\\\/\\b\\f\\n\\r\\tx\\u00e9\\ud83d\\ude00\"}}";
    assert_int_equal(decode(j, strlen(j), &ev, NULL), SG_OK);
    assert_string_equal(ev.hostname.p, "\"q\\/\b\f\n\r\tx\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(ev.hostname.len, strlen("\"q\\/\b\f\n\r\tx\xc3\xa9\xf0\x9f\x98\x80"));

    j = BASE ",\"metadata\":{\"hostname\":\"a\\u0000b\"}}";
    assert_int_equal(decode(j, strlen(j), &ev, NULL), SG_OK);
    assert_int_equal(ev.hostname.len, 3);
    assert_memory_equal(ev.hostname.p, "a\0b", 3);

    j = BASE ",\"user\":\"first\",\"user\":\"second\"}";
    assert_int_equal(decode(j, strlen(j), &ev, NULL), SG_OK);
    assert_string_equal(ev.user.p, "second");

    j = BASE ",\"destination_ip\":\"1.1.1.1\",\"destination_ip\":null}";
    assert_int_equal(decode(j, strlen(j), &ev, NULL), SG_OK);
    assert_int_equal(ev.destination_ip.len, 0);

    j = BASE ",\"status\":\"failed\",\"status\":null,\"threat_score\":0.5,\"threat_score\":null}";
    assert_int_equal(decode(j, strlen(j), &ev, NULL), SG_OK);
    assert_int_equal(ev.status, SG_STATUS_SUCCESS);
    assert_true(ev.threat_score == 0);

    j = BASE ",\"metadata\":{\"hostname\":\"h\",\"geo_lat\":1,\"geo_lon\":2},\"metadata\":{\"geo_"
             "lat\":3}}";
    assert_int_equal(decode(j, strlen(j), &ev, NULL), SG_OK);
    assert_int_equal(ev.hostname.len, 0); /* whole object replaced */
    assert_int_equal(ev.has_geo, 0);      /* only one coordinate */

    j = HEAD ",\"event_type\":\"network_connection\"" SRC
             ",\"network_details\":{\"source_port\":1,\"protocol\":\"tcp\"},"
             "\"network_details\":{\"destination_port\":2}}";
    assert_int_equal(decode(j, strlen(j), &ev, NULL), SG_OK);
    assert_int_equal(ev.d.net.source_port, -1);
    assert_int_equal(ev.d.net.destination_port, 2);
    assert_int_equal(ev.d.net.protocol.len, 0);
    assert_int_equal(ev.d.net.bytes_sent, -1);

    /* details of another kind than the final type are ignored; the final kind reads absent */
    j = BASE ",\"network_details\":{\"source_port\":1}}";
    assert_int_equal(decode(j, strlen(j), &ev, NULL), SG_OK);
    assert_int_equal(ev.type, SG_EV_AUTH);
    assert_int_equal(ev.d.auth.attempts_count, -1);
    assert_int_equal(ev.d.auth.auth_type.len, 0);

    j = BASE ",\"timestamp\":1.0e3,\"threat_score\":5e-1}";
    assert_int_equal(decode(j, strlen(j), &ev, NULL), SG_OK);
    assert_int_equal(ev.ts_ms, 1000);
    assert_true(ev.threat_score == 0.5);

    j = BASE ",\"timestamp\":\"2026-11-25T21:07:20.123\\u005a\"}"; /* escaped Z */
    assert_int_equal(decode(j, strlen(j), &ev, NULL), SG_OK);
    assert_int_equal(ev.ts_ms, INT64_C(1795640840123));

    /* not NUL-terminated: decoding a prefix of a longer buffer reads only len bytes */
    char buf[256];
    int n = snprintf(buf, sizeof buf, "%s}", BASE);
    memcpy(buf + n, "garbage", 8);
    assert_int_equal(decode(buf, (size_t)n, &ev, NULL), SG_OK);
    assert_int_equal(decode(buf, (size_t)n + 1, &ev, NULL), SG_ERR_INVALID);

    /* arena use per call: one block of len + 1 bytes, rounded up to 16 */
    sg_arena_reset(&arena);
    n = snprintf(buf, sizeof buf, "%s}", BASE);
    assert_int_equal(decode(buf, (size_t)n, &ev, NULL), SG_OK);
    assert_int_equal(arena.used_total, ((size_t)n + 1 + 15) & ~(size_t)15);

    /* a NULL err is allowed and a rejection leaves ev initialised */
    assert_int_equal(decode("{}", 2, &ev, NULL), SG_ERR_INVALID);
    assert_int_equal(ev.event_id.len, 0);
    assert_non_null(ev.event_id.p);
}

/* Size limit (1 MiB) and nesting limit (64). */
static void test_limits(void **state)
{
    (void)state;
    struct sg_event ev;
    struct sg_event_error err;
    size_t cap = SG_EVENT_MAX_BYTES + 16;
    char *big = sg_xmalloc(cap);
    /* exactly 1 MiB: BASE + ,"pad":"xxxx..." + } */
    const char *pre = BASE ",\"pad\":\"";
    size_t pl = strlen(pre);
    memcpy(big, pre, pl);
    size_t fill = SG_EVENT_MAX_BYTES - pl - 2;
    memset(big + pl, 'x', fill);
    memcpy(big + pl + fill, "\"}", 2);
    assert_int_equal(decode(big, SG_EVENT_MAX_BYTES, &ev, &err), SG_OK);
    big[SG_EVENT_MAX_BYTES] = ' ';
    assert_int_equal(decode(big, SG_EVENT_MAX_BYTES + 1, &ev, &err), SG_ERR_INVALID);
    assert_int_equal(err.reason, SG_REASON_TOO_LARGE);
    free(big);
    sg_arena_reset(&arena);

    for (int depth = 62; depth <= 66; depth++) {
        struct sg_buf b;
        sg_buf_init(&b);
        sg_buf_puts(&b, BASE ",\"x\":");
        for (int i = 1; i < depth; i++)
            sg_buf_puts(&b, i % 2 ? "[" : "{\"k\":");
        sg_buf_putc(&b, '1');
        for (int i = depth - 1; i >= 1; i--)
            sg_buf_putc(&b, i % 2 ? ']' : '}');
        sg_buf_putc(&b, '}');
        int rc = decode(b.data, b.len, &ev, &err);
        if (depth <= SG_EVENT_MAX_DEPTH) {
            if (rc != SG_OK)
                fail_msg("depth %d rejected: %s", depth, err.message);
        } else {
            assert_int_equal(rc, SG_ERR_INVALID);
            assert_int_equal(err.reason, SG_REASON_TOO_DEEP);
        }
        sg_buf_release(&b);
    }
    /* far too deep must not overflow the stack */
    struct sg_buf b;
    sg_buf_init(&b);
    sg_buf_puts(&b, BASE ",\"x\":");
    for (int i = 0; i < 100000; i++)
        sg_buf_putc(&b, '[');
    assert_int_equal(decode(b.data, b.len, &ev, &err), SG_ERR_INVALID);
    assert_int_equal(err.reason, SG_REASON_TOO_DEEP);
    sg_buf_release(&b);
    sg_arena_reset(&arena);
}

/* ---- round-trip property on random events */

static void rand_str(struct sg_rng *r, struct sg_arena *a, struct sg_str *out, const char *alpha,
                     size_t min, size_t max)
{
    size_t n = min + (size_t)sg_rng_below(r, max - min + 1);
    size_t al = strlen(alpha);
    char *p = sg_arena_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++)
        p[i] = alpha[sg_rng_below(r, al)];
    p[n] = '\0';
    out->p = p;
    out->len = (uint32_t)n;
}

/* Any valid UTF-8 without control characters, mixing 1..4-byte sequences and JSON specials. */
static void rand_text(struct sg_rng *r, struct sg_arena *a, struct sg_str *out, size_t max_chars,
                      int allow_ctrl)
{
    static const char *const pieces[] = {"a",
                                         "Z",
                                         "9",
                                         " ",
                                         "\"",
                                         "\\",
                                         "/",
                                         "\xc3\xa9",
                                         "\xe4\xb8\xad",
                                         "\xf0\x9f\x98\x80",
                                         "\xef\xbf\xbf",
                                         "\xc2\xa0",
                                         "-",
                                         "_"};
    static const char *const ctrl[] = {"\n", "\t", "\x01", "\x7f"};
    size_t n = 1 + (size_t)sg_rng_below(r, max_chars);
    char *p = sg_arena_alloc(a, n * 4 + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = allow_ctrl && sg_rng_below(r, 10) == 0
                            ? ctrl[sg_rng_below(r, 4)]
                            : pieces[sg_rng_below(r, sizeof pieces / sizeof pieces[0])];
        size_t sl = strlen(s);
        memcpy(p + len, s, sl);
        len += sl;
    }
    p[len] = '\0';
    out->p = p;
    out->len = (uint32_t)len;
}

static void rand_ip(struct sg_rng *r, struct sg_arena *a, struct sg_str *out)
{
    char *p = sg_arena_alloc(a, 48);
    int n;
    if (sg_rng_below(r, 3))
        n = snprintf(p, 48, "%u.%u.%u.%u", (unsigned)sg_rng_below(r, 256),
                     (unsigned)sg_rng_below(r, 256), (unsigned)sg_rng_below(r, 256),
                     (unsigned)sg_rng_below(r, 256));
    else
        n = snprintf(p, 48, "2001:db8:%x::%x", (unsigned)sg_rng_below(r, 65536),
                     (unsigned)sg_rng_below(r, 65536));
    out->p = p;
    out->len = (uint32_t)n;
}

static int64_t rand_opt_int(struct sg_rng *r, int64_t max)
{
    if (sg_rng_below(r, 4) == 0)
        return -1;
    switch (sg_rng_below(r, 3)) {
    case 0: return 0;
    case 1: return max;
    default: return (int64_t)sg_rng_below(r, (uint64_t)max + 1);
    }
}

static void maybe_text(struct sg_rng *r, struct sg_arena *a, struct sg_str *s)
{
    if (sg_rng_below(r, 3))
        rand_text(r, a, s, 20, 1);
}

static void rand_event(struct sg_rng *r, struct sg_arena *a, struct sg_event *ev)
{
    sg_event_init(ev);
    sg_event_set_type(ev, (enum sg_event_type)sg_rng_below(r, SG_EV_TYPE_COUNT));
    rand_str(r, a, &ev->event_id, "abcdefXYZ0123456789_.:-", 1, 128);
    ev->ts_ms = sg_rng_below(r, 8) == 0 ? (sg_rng_below(r, 2) ? 0 : SG_TIME_MAX_MS)
                                        : (int64_t)sg_rng_below(r, (uint64_t)SG_TIME_MAX_MS + 1);
    rand_text(r, a, &ev->user, 60, 0);
    rand_ip(r, a, &ev->source_ip);
    if (sg_rng_below(r, 2))
        rand_ip(r, a, &ev->destination_ip);
    ev->status = (enum sg_event_status)sg_rng_below(r, SG_STATUS_COUNT);
    switch (sg_rng_below(r, 4)) {
    case 0: ev->threat_score = 0; break;
    case 1: ev->threat_score = 1; break;
    default: ev->threat_score = sg_rng_double(r); break;
    }
    maybe_text(r, a, &ev->hostname);
    if (sg_rng_below(r, 2))
        rand_str(r, a, &ev->geo_location, "ABCDEFG", 2, 2); /* completed below */
    if (ev->geo_location.len) {
        char *g = sg_arena_alloc(a, 32);
        int n = snprintf(g, 32, "%s-%s-City %u", ev->geo_location.p, "BE",
                         (unsigned)sg_rng_below(r, 100));
        ev->geo_location.p = g;
        ev->geo_location.len = (uint32_t)n;
    }
    if (sg_rng_below(r, 2)) {
        ev->has_geo = 1;
        ev->geo_lat = sg_rng_double(r) * 180 - 90;
        ev->geo_lon = sg_rng_below(r, 5) ? sg_rng_double(r) * 360 - 180 : 180;
    }
    maybe_text(r, a, &ev->user_agent);
    maybe_text(r, a, &ev->session_id);
    switch (ev->type) {
    case SG_EV_AUTH:
        maybe_text(r, a, &ev->d.auth.auth_type);
        maybe_text(r, a, &ev->d.auth.failure_reason);
        ev->d.auth.attempts_count = rand_opt_int(r, INT64_MAX);
        break;
    case SG_EV_NETWORK:
        maybe_text(r, a, &ev->d.net.protocol);
        maybe_text(r, a, &ev->d.net.connection_state);
        ev->d.net.source_port = (int32_t)rand_opt_int(r, 65535);
        ev->d.net.destination_port = (int32_t)rand_opt_int(r, 65535);
        ev->d.net.bytes_sent = rand_opt_int(r, INT64_MAX);
        ev->d.net.bytes_received = rand_opt_int(r, 1 << 30);
        ev->d.net.duration_ms = rand_opt_int(r, 100000);
        break;
    case SG_EV_FILE:
        maybe_text(r, a, &ev->d.file.file_path);
        maybe_text(r, a, &ev->d.file.operation);
        ev->d.file.file_size_bytes = rand_opt_int(r, INT64_MAX);
        ev->d.file.access_denied = (int8_t)((int)sg_rng_below(r, 3) - 1);
        ev->d.file.permissions_changed = (int8_t)((int)sg_rng_below(r, 3) - 1);
        break;
    case SG_EV_PROCESS:
        maybe_text(r, a, &ev->d.proc.process_name);
        maybe_text(r, a, &ev->d.proc.command_line);
        maybe_text(r, a, &ev->d.proc.user_privileges);
        ev->d.proc.process_id = rand_opt_int(r, 1 << 22);
        ev->d.proc.parent_process_id = rand_opt_int(r, 1 << 22);
        ev->d.proc.is_signed = (int8_t)((int)sg_rng_below(r, 3) - 1);
        break;
    default:
        maybe_text(r, a, &ev->d.dns.query_name);
        maybe_text(r, a, &ev->d.dns.query_type);
        maybe_text(r, a, &ev->d.dns.response_code);
        ev->d.dns.ttl = rand_opt_int(r, 86400);
        break;
    }
}

static void test_roundtrip_random(void **state)
{
    (void)state;
    struct sg_rng r;
    sg_rng_seed(&r, 20261125);
    struct sg_arena gen;
    sg_arena_init(&gen, 64 * 1024);
    struct sg_buf b;
    sg_buf_init(&b);
    for (int i = 0; i < 20000; i++) {
        struct sg_event ev, back, back2;
        struct sg_event_error err;
        rand_event(&r, &gen, &ev);
        sg_buf_reset(&b);
        sg_event_encode(&ev, &b);
        if (decode(b.data, b.len, &back, &err) != SG_OK)
            fail_msg("event %d: encoder output rejected (%s: %s): %s", i,
                     sg_event_reason_name(err.reason), err.message, b.data);
        if (!sg_event_equal(&ev, &back))
            fail_msg("event %d changed in the round trip: %s", i, b.data);
        /* canonical: encoding the decoded event gives the same bytes */
        struct sg_buf b2;
        sg_buf_init(&b2);
        sg_event_encode(&back, &b2);
        assert_int_equal(b2.len, b.len);
        assert_memory_equal(b2.data, b.data, b.len);
        assert_int_equal(decode(b2.data, b2.len, &back2, NULL), SG_OK);
        sg_buf_release(&b2);
        if (i % 256 == 255) {
            sg_arena_reset(&gen);
            sg_arena_reset(&arena);
        }
    }
    sg_buf_release(&b);
    sg_arena_release(&gen);
    sg_arena_reset(&arena);
}

/* Numbers: the decoder's exact fast path and strtod must agree on every decimal form. */
static void test_numbers_match_strtod(void **state)
{
    (void)state;
    struct sg_rng r;
    sg_rng_seed(&r, 7);
    char json[256], num[64];
    for (int i = 0; i < 50000; i++) {
        double v = sg_rng_double(&r);
        if (i % 7 == 0)
            v = (double)sg_rng_below(&r, 1000) / 1000.0;
        int prec = 1 + (int)sg_rng_below(&r, 20);
        switch (i % 4) {
        case 0: snprintf(num, sizeof num, "%.*g", prec, v); break;
        case 1: snprintf(num, sizeof num, "%.*f", prec, v); break;
        case 2: snprintf(num, sizeof num, "%.*e", prec, v); break;
        default: snprintf(num, sizeof num, "%.*f000", prec, v); break;
        }
        double want = strtod(num, NULL);
        if (want > 1)
            continue;
        int n = snprintf(json, sizeof json, BASE ",\"threat_score\":%s}", num);
        struct sg_event ev;
        assert_int_equal(decode(json, (size_t)n, &ev, NULL), SG_OK);
        if (ev.threat_score != want)
            fail_msg("%s decoded as %.17g, strtod says %.17g", num, ev.threat_score, want);
        /* geo_lat exercises negative values and integer parts */
        double g = v * 180 - 90;
        snprintf(num, sizeof num, "%.*f", prec, g);
        want = strtod(num, NULL);
        n = snprintf(json, sizeof json, BASE ",\"metadata\":{\"geo_lat\":%s,\"geo_lon\":0}}", num);
        assert_int_equal(decode(json, (size_t)n, &ev, NULL), SG_OK);
        if (ev.geo_lat != want)
            fail_msg("%s decoded as %.17g, strtod says %.17g", num, ev.geo_lat, want);
        if (i % 1024 == 0)
            sg_arena_reset(&arena);
    }
    sg_arena_reset(&arena);
}

/* The product's generator speaks the contract: every event it writes decodes, carries the
 * user and timestamp the generator reports, and survives the round trip. */
static void test_generator_output(void **state)
{
    (void)state;
    struct sg_gen_opts o = {.seed = 99,
                            .events = 20000,
                            .users = 50,
                            .attack_users = 0.3,
                            .days = 3,
                            .start_ms = INT64_C(1795641199680)};
    char errbuf[256];
    struct sg_gen *g = sg_gen_new(&o, errbuf, sizeof errbuf);
    if (!g)
        fail_msg("sg_gen_new: %s", errbuf);
    struct sg_buf b;
    sg_buf_init(&b);
    struct sg_gen_meta meta;
    int kinds[SG_EV_TYPE_COUNT] = {0};
    int64_t n = 0;
    while (sg_gen_next(g, &b, &meta) == 1) {
        struct sg_event ev;
        struct sg_event_error err;
        if (decode(b.data, b.len, &ev, &err) != SG_OK)
            fail_msg("generated event %lld rejected (%s: %s): %s", (long long)n,
                     sg_event_reason_name(err.reason), err.message, b.data);
        assert_int_equal(ev.ts_ms, meta.ts_ms);
        assert_int_equal(ev.user.len, meta.user_len);
        assert_memory_equal(ev.user.p, meta.user, meta.user_len);
        kinds[ev.type]++;
        if (n % 10 == 0)
            assert_roundtrip(&ev);
        sg_buf_reset(&b);
        if (++n % 1024 == 0)
            sg_arena_reset(&arena);
    }
    assert_int_equal(n, o.events);
    for (int k = 0; k < SG_EV_TYPE_COUNT; k++)
        assert_true(kinds[k] > 0);
    sg_buf_release(&b);
    sg_gen_free(g);
    sg_arena_reset(&arena);
}

/* The encoder's shape: only set fields, <kind>_details, integer timestamp. */
static void test_encode_shape(void **state)
{
    (void)state;
    struct sg_event ev;
    sg_event_init(&ev);
    sg_event_set_type(&ev, SG_EV_NETWORK);
    ev.event_id = (struct sg_str){"e", 1};
    ev.ts_ms = 1795641199680;
    ev.user = (struct sg_str){"u", 1};
    ev.source_ip = (struct sg_str){"::1", 3};
    ev.d.net.destination_port = 443;
    struct sg_buf b;
    sg_buf_init(&b);
    sg_event_encode(&ev, &b);
    assert_string_equal(b.data, "{\"event_id\":\"e\",\"timestamp\":1795641199680,"
                                "\"event_type\":\"network_connection\",\"user\":\"u\","
                                "\"source_ip\":\"::1\",\"status\":\"success\",\"threat_score\":0,"
                                "\"network_details\":{\"destination_port\":443}}");
    sg_buf_reset(&b);
    sg_event_set_type(&ev, SG_EV_DNS);
    ev.hostname = (struct sg_str){"h", 1};
    ev.threat_score = 0.25;
    sg_event_encode(&ev, &b);
    assert_string_equal(b.data, "{\"event_id\":\"e\",\"timestamp\":1795641199680,"
                                "\"event_type\":\"dns_query\",\"user\":\"u\","
                                "\"source_ip\":\"::1\",\"status\":\"success\","
                                "\"threat_score\":0.25,\"metadata\":{\"hostname\":\"h\"}}");
    sg_buf_release(&b);
}

static void test_names(void **state)
{
    (void)state;
    for (int t = 0; t < SG_EV_TYPE_COUNT; t++) {
        const char *n = sg_event_type_name((enum sg_event_type)t);
        assert_int_equal(sg_event_type_parse(n, strlen(n)), t);
    }
    assert_int_equal(sg_event_type_parse("dns_quer", 8), -1);
    assert_int_equal(sg_event_type_parse("dns_querx", 9), -1);
    assert_string_equal(sg_event_type_name(SG_EV_TYPE_COUNT), "unknown");
    assert_string_equal(sg_event_status_name(SG_STATUS_BLOCKED), "blocked");
    assert_string_equal(sg_event_reason_name(SG_REASON_MISSING_FIELD), "missing_field");
    assert_string_equal(sg_event_reason_name(SG_REASON_BAD_FORMAT), "bad_format");
    assert_string_equal(sg_event_reason_name(SG_REASON_TOO_DEEP), "too_deep");
    /* names are unique */
    for (int i = 0; i < SG_REASON_COUNT; i++)
        for (int j = i + 1; j < SG_REASON_COUNT; j++)
            assert_string_not_equal(sg_event_reason_name((enum sg_event_reason)i),
                                    sg_event_reason_name((enum sg_event_reason)j));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_valid),
        cmocka_unit_test(test_spec_invalid),
        cmocka_unit_test(test_spec_valid_values),
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_encode_shape),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_nested_wrong_types),
        cmocka_unit_test(test_generator_output),
        cmocka_unit_test(test_numbers_match_strtod),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
