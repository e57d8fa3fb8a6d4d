/* sg_det_failure_burst: many failed/blocked events in a short window (brute force), and the
 * same spread across many targets (password spraying). Counts the failures in the profile's
 * ring within fail_window_ms before this event, plus this event when it failed. A successful
 * login right after such a burst (>= fail_burst failures in the window) is the brute force
 * succeeding: "success_after_failures", score 0.9. */
#include "speed/sg_detect.h"

#include "core/sg_hash.h"

void sg_det_failure_burst(const struct sg_user_state *u, const struct sg_event *ev,
                          const struct sg_detect_params *p, struct sg_findings *out)
{
    if (ev->status == SG_STATUS_SUCCESS) {
        if (ev->type != SG_EV_AUTH)
            return;
        uint32_t k = 0;
        for (int i = 0; i < u->fail_n; i++)
            if (u->fail_ms[i] <= ev->ts_ms && ev->ts_ms - u->fail_ms[i] <= p->fail_window_ms)
                k++;
        if (k >= p->fail_burst) {
            sg_findings_add(out, "success_after_failures", 0.9, 0.9);
            sg_findings_num(out, "failures_in_window", k);
        }
        return;
    }
    uint64_t targets[SG_USER_FAILS + 1];
    size_t nt = 0;
    uint32_t n = 1;
    const struct sg_str *t = ev->destination_ip.len ? &ev->destination_ip : &ev->hostname;
    targets[nt++] = sg_hash_bytes(t->p, t->len, 0x5347u);
    for (int i = 0; i < u->fail_n; i++) {
        int64_t ts = u->fail_ms[i];
        if (ts > ev->ts_ms || ev->ts_ms - ts > p->fail_window_ms)
            continue;
        n++;
        int dup = 0;
        for (size_t k = 0; k < nt; k++)
            dup |= targets[k] == u->fail_target[i];
        if (!dup)
            targets[nt++] = u->fail_target[i];
    }
    if (n < p->fail_burst)
        return;
    double sc = 0.6 + 0.4 * (double)(n - p->fail_burst) / (double)p->fail_burst;
    if (nt >= p->spray_targets) {
        sg_findings_add(out, "password_spraying", sc, 0.9);
        sg_findings_num(out, "distinct_targets", (double)nt);
    } else {
        sg_findings_add(out, "failed_burst", sc, 0.9);
    }
    sg_findings_num(out, "failures_in_window", n);
    sg_findings_num(out, "window_s", (double)p->fail_window_ms / 1000.0);
}
