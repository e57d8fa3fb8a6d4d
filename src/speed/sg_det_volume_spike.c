/* sg_det_volume_spike: a network event sending far more data than the user usually does
 * (exfiltration). The baseline is an EWMA (alpha 0.05) of x = ln(1 + bytes_sent); with at
 * least 20 samples, z = (x - mean) / sqrt(var + 0.25); z > 3 and bytes_sent > 1 MB flag,
 * score = 0.5 + (z - 3) / 6; at 200 MB and more z > 2 is enough (the user's history of large
 * transfers widens the variance, but a few hundred MB in one connection stays rare). Until 20
 * network events of the user were actually OBSERVED an absolute rule applies as well:
 * bytes_sent >= 100 MB scores at least 0.7. A warm start (sg_user_warm_start) seeds the EWMA
 * with pseudo samples from the batch baseline; that prior adds the z rule early but is no
 * evidence that large transfers are usual, so it never switches the absolute rule off. */
#include "speed/sg_detect.h"

#include <math.h>

#define MIN_SAMPLES 20
#define ABSOLUTE_BYTES 100000000
#define ABSOLUTE_SCORE 0.7

/* Network transfers the profile has really seen: the volume EWMA's count, capped by the
 * network events folded in (a warm start adds pseudo samples to the former only). */
static uint32_t observed(const struct sg_user_state *u)
{
    uint32_t net = u->type_count[SG_EV_NETWORK];
    return u->volume.n < net ? u->volume.n : net;
}

void sg_det_volume_spike(const struct sg_user_state *u, const struct sg_event *ev,
                         const struct sg_detect_params *p, struct sg_findings *out)
{
    (void)p;
    if (ev->type != SG_EV_NETWORK || ev->d.net.bytes_sent < 1000000)
        return;
    uint32_t seen = observed(u);
    double sc = 0, z = 0;
    if (seen < MIN_SAMPLES && ev->d.net.bytes_sent >= ABSOLUTE_BYTES)
        sc = ABSOLUTE_SCORE;
    int has_z = u->volume.n >= MIN_SAMPLES;
    if (has_z) {
        z = (log1p((double)ev->d.net.bytes_sent) - u->volume.mean) / sqrt(u->volume.var + 0.25);
        int huge = ev->d.net.bytes_sent >= 200000000;
        if (z > (huge ? 2 : 3)) {
            double zs = 0.5 + (z - 3) / 6;
            if (huge && zs < 0.65)
                zs = 0.65;
            if (zs > sc)
                sc = zs;
        }
    }
    if (sc <= 0)
        return;
    sg_findings_add(out, "volume_spike", sc, 0.8);
    sg_findings_num(out, "bytes_sent", (double)ev->d.net.bytes_sent);
    if (seen < MIN_SAMPLES)
        sg_findings_num(out, "baseline_samples", seen);
    if (has_z) {
        sg_findings_num(out, "typical_bytes", expm1(u->volume.mean));
        sg_findings_num(out, "z", z);
    }
}
