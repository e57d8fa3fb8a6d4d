/* libFuzzer target for the speed layer's profile decoder (sg_user_decode reads blobs from
 * RocksDB, which a corrupt or foreign database can fill with anything): arbitrary bytes must
 * decode or be refused without crashing; the encoding of a decoded profile must decode again
 * and re-encode to the same bytes (a fixed point), and the profile must survive detection and
 * an update. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_event.h"
#include "core/sg_time.h"
#include "speed/sg_detect.h"
#include "speed/sg_user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_user_state u;
    if (sg_user_decode(&u, data, size) != SG_OK) {
        if (u.n_events != 0)
            abort(); /* a refused blob leaves a fresh profile */
        return 0;
    }
    struct sg_buf b, c;
    sg_buf_init(&b);
    sg_buf_init(&c);
    sg_user_encode(&u, &b);
    struct sg_user_state v;
    if (sg_user_decode(&v, b.data, b.len) != SG_OK)
        abort();
    sg_user_encode(&v, &c);
    if (b.len != c.len || memcmp(b.data, c.data, b.len) != 0)
        abort();
    sg_buf_release(&c);
    sg_buf_reset(&b);
    sg_user_to_json(&u, &b);
    struct sg_event ev;
    sg_event_init(&ev);
    static const char id[] = "evt_1", user[] = "u", ip[] = "10.0.0.1";
    ev.event_id.p = id;
    ev.event_id.len = 5;
    ev.user.p = user;
    ev.user.len = 1;
    ev.source_ip.p = ip;
    ev.source_ip.len = 8;
    ev.ts_ms = u.last_ms + 1000; /* decoded profiles only hold contract-valid times */
    struct sg_detect_params p;
    sg_detect_params_init(&p);
    struct sg_findings fs;
    sg_findings_init(&fs);
    sg_detect_run(&u, &ev, &p, &fs);
    double s = sg_detect_score(&fs);
    if (!(s >= 0 && s <= 1))
        abort();
    sg_user_update(&u, &ev);
    sg_findings_release(&fs);
    sg_buf_release(&b);
    return 0;
}
