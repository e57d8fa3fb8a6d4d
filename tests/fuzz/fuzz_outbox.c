/* libFuzzer target for the outbox record decoder (sg_outbox_decode reads records back from
 * RocksDB at start, which a corrupt or foreign database can fill with anything): arbitrary
 * bytes must decode or be refused without crashing or reading past them; a decoded record
 * must encode to exactly the bytes it came from (the format has one encoding per record when
 * lengths use their shortest varints) or at least decode again to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "speed/sg_outbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int eq(const char *a, size_t al, const char *b, size_t bl)
{
    return al == bl && (al == 0 || memcmp(a, b, al) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_outbox_rec r, d;
    if (sg_outbox_decode(data, size, &r) != SG_OK)
        return 0;
    struct sg_buf b;
    sg_buf_init(&b);
    sg_outbox_encode(&r, &b);
    if (sg_outbox_decode(b.data, b.len, &d) != SG_OK)
        abort();
    if (d.kind != r.kind || !eq(d.key, d.kl, r.key, r.kl) || d.nh != r.nh ||
        !eq(d.value, d.vl, r.value, r.vl))
        abort();
    for (size_t i = 0; i < r.nh; i++)
        if (!eq(d.h[i].name, d.h[i].nl, r.h[i].name, r.h[i].nl) ||
            !eq(d.h[i].value, d.h[i].vl, r.h[i].value, r.h[i].vl))
            abort();
    if (b.len > size) /* re-encoding never grows: shortest varints */
        abort();
    sg_buf_release(&b);
    return 0;
}
