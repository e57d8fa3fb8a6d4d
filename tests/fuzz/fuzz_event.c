/* fuzz_event: libFuzzer target for sg_event_decode/sg_event_encode, differential against
 * cJSON 1.7 (cJSON_ParseWithLengthOpts, NUL-terminated, no trailing garbage). Not a test of
 * cJSON. The assertions are properties that hold for every input:
 *  1. the error report is well-formed: SG_OK <=> reason none; a rejection has a message.
 *  2. decoder accepts => cJSON parses the input and gets an object (our grammar is stricter
 *     than cJSON's everywhere: cJSON also takes any byte <= 0x20 as whitespace, a BOM, raw
 *     control characters in strings, invalid UTF-8, "01"/"+1"/".5" numbers). Equivalently:
 *     cJSON rejects => decoder rejects.
 *  3. decoder rejects for a schema reason (anything but invalid_json, invalid_utf8, too_deep,
 *     too_large) => the input is syntactically valid JSON, so cJSON parses it too; an object
 *     unless the reason is not_object.
 *  4. accepted => event_id, event_type, user, source_ip and a numeric timestamp/threat_score
 *     equal the LAST occurrence of that key in cJSON's tree (duplicate keys keep the last).
 *  5. accepted => encode, decode again: accepted, sg_event_equal, and encoding again gives the
 *     same bytes (canonical); cJSON parses the encoding as an object.
 * The other direction (cJSON accepts => we accept) does not hold and is not asserted: the
 * schema, UTF-8 and grammar strictness above all reject inputs cJSON takes.
 * Exceptions, because cJSON 1.7.15 itself deviates from RFC 8259: it reads at most 63
 * characters of a number (longer valid numbers fail), so properties 2-4 are skipped when the
 * input has a run of >= 63 number characters; and it truncates strings at an escaped \u0000,
 * so property 4 is skipped when the input contains "\u0000". */
#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_event.h"
#include "core/sg_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_event: property failed: %s: ", #cond);                           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int long_number_run(const uint8_t *d, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        int numc = (d[i] >= '0' && d[i] <= '9') || d[i] == '.' || d[i] == '-' || d[i] == '+' ||
                   d[i] == 'e' || d[i] == 'E';
        run = numc ? run + 1 : 0;
        if (run >= 63)
            return 1;
    }
    return 0;
}

static const cJSON *last_item(const cJSON *obj, const char *key)
{
    const cJSON *found = NULL;
    for (const cJSON *c = obj->child; c; c = c->next)
        if (c->string && strcmp(c->string, key) == 0)
            found = c;
    return found;
}

static void check_str(const cJSON *root, const char *key, const struct sg_str *s)
{
    const cJSON *it = last_item(root, key);
    CHECK(it && cJSON_IsString(it), "%s missing in cJSON tree", key);
    CHECK(strlen(it->valuestring) == s->len && memcmp(it->valuestring, s->p, s->len) == 0,
          "%s: ours '%s' cJSON '%s'", key, s->p, it->valuestring);
}

static void check_fields(const cJSON *root, const struct sg_event *ev)
{
    check_str(root, "event_id", &ev->event_id);
    check_str(root, "user", &ev->user);
    check_str(root, "source_ip", &ev->source_ip);
    const cJSON *t = last_item(root, "event_type");
    CHECK(t && cJSON_IsString(t) && strcmp(t->valuestring, sg_event_type_name(ev->type)) == 0,
          "event_type differs");
    const cJSON *ts = last_item(root, "timestamp");
    CHECK(ts != NULL, "timestamp missing in cJSON tree");
    if (cJSON_IsNumber(ts))
        CHECK((double)ev->ts_ms == ts->valuedouble, "timestamp ours %lld cJSON %.17g",
              (long long)ev->ts_ms, ts->valuedouble);
    const cJSON *sc = last_item(root, "threat_score");
    if (sc && cJSON_IsNumber(sc))
        CHECK(ev->threat_score == sc->valuedouble, "threat_score ours %.17g cJSON %.17g",
              ev->threat_score, sc->valuedouble);
}

static void check_roundtrip(const struct sg_event *ev, struct sg_arena *arena)
{
    struct sg_buf a, b;
    sg_buf_init(&a);
    sg_buf_init(&b);
    sg_event_encode(ev, &a);
    struct sg_event back;
    struct sg_event_error err;
    int rc = sg_event_decode(a.data, a.len, &back, arena, &err);
    CHECK(rc == SG_OK, "encoding rejected (%s): %s", err.message, a.data);
    CHECK(sg_event_equal(ev, &back), "round trip changed the event: %s", a.data);
    sg_event_encode(&back, &b);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "encoding not canonical: %s",
          a.data);
    cJSON *cj = cJSON_ParseWithLength(a.data, a.len);
    CHECK(cj && cJSON_IsObject(cj), "cJSON rejects our encoding: %s", a.data);
    cJSON_Delete(cj);
    sg_buf_release(&a);
    sg_buf_release(&b);
}

static int syntax_reason(enum sg_event_reason r)
{
    return r == SG_REASON_INVALID_JSON || r == SG_REASON_INVALID_UTF8 || r == SG_REASON_TOO_DEEP ||
           r == SG_REASON_TOO_LARGE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sg_arena arena;
    static int ready;
    if (!ready) {
        sg_arena_init(&arena, 64 * 1024);
        ready = 1;
    }
    struct sg_event ev;
    struct sg_event_error err;
    int rc = sg_event_decode((const char *)data, size, &ev, &arena, &err);
    CHECK(rc == SG_OK || rc == SG_ERR_INVALID, "rc %d", rc);
    CHECK((rc == SG_OK) == (err.reason == SG_REASON_NONE), "reason %d with rc %d", err.reason, rc);
    CHECK(rc == SG_OK || (err.message[0] && err.reason < SG_REASON_COUNT), "empty message");

    char *z = sg_xmalloc(size + 1);
    memcpy(z, data, size);
    z[size] = '\0';
    cJSON *cj = cJSON_ParseWithLengthOpts(z, size + 1, NULL, 1);
    int cj_exempt = long_number_run(data, size);
    if (rc == SG_OK) {
        CHECK(cj || cj_exempt, "we accept, cJSON rejects");
        if (cj) {
            CHECK(cJSON_IsObject(cj), "we accept a non-object");
            if (!memmem(data, size, "\\u0000", 6))
                check_fields(cj, &ev);
        }
        check_roundtrip(&ev, &arena);
    } else if (!syntax_reason(err.reason)) {
        CHECK(cj || cj_exempt, "schema rejection (%s: %s) of input cJSON cannot parse",
              sg_event_reason_name(err.reason), err.message);
        if (cj)
            CHECK(cJSON_IsObject(cj) == (err.reason != SG_REASON_NOT_OBJECT),
                  "not_object disagrees with cJSON (%s)", err.message);
    }
    cJSON_Delete(cj);
    free(z);
    sg_arena_reset(&arena);
    return 0;
}
