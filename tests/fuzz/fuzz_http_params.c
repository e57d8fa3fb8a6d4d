/* libFuzzer target: the serving layer's request-target, parameter-value and cursor parsers
 * (src/serving/sg_http_params.c) on arbitrary bytes. Checks invariants as well as crashes:
 * every decoded piece is NUL-free and NUL-terminated, and a cursor that decodes re-encodes to
 * the same text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "serving/sg_http_params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const struct sg_http_str *s)
{
    if (strlen(s->p) != s->len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_arena a;
    sg_arena_init(&a, 4096);
    struct sg_http_url u;
    struct sg_http_perr e;
    if (sg_http_url_parse((const char *)data, size, &a, &u, &e) == SG_OK) {
        for (size_t i = 0; i < u.nseg; i++)
            check_str(&u.seg[i]);
        for (size_t i = 0; i < u.nparam; i++) {
            const struct sg_http_param *p = &u.param[i];
            check_str(&p->key);
            check_str(&p->val);
            int64_t x;
            int b;
            sg_http_parse_time("t", &p->val, &x, &e);
            sg_http_parse_int("n", &p->val, -5, 1000, &x, &e);
            sg_http_parse_bool("b", &p->val, &b, &e);
            char key[SG_HTTP_MAX_CURSOR_KEY];
            size_t kl;
            if (sg_http_cursor_decode(&p->val, p->key.len ? (uint8_t)p->key.p[0] : 0, 0, key,
                                      &kl, &e) == SG_OK) {
                char txt[2 * SG_HTTP_MAX_CURSOR_KEY + 32];
                size_t tl = sg_http_cursor_encode(p->key.len ? (uint8_t)p->key.p[0] : 0, 0, key,
                                                  kl, txt, sizeof txt);
                if (tl != p->val.len || memcmp(txt, p->val.p, tl) != 0)
                    abort();
            }
        }
    } else if (e.status != 400 && e.status != 404 && e.status != 414) {
        abort();
    }
    /* raw bytes as a cursor too */
    char key[SG_HTTP_MAX_CURSOR_KEY];
    size_t kl;
    struct sg_http_str v = {(const char *)data, size};
    sg_http_cursor_decode(&v, 1, 2, key, &kl, &e);
    sg_arena_release(&a);
    return 0;
}
