/* sg_det_volume_spike: a network event sending far more data than the user usually does
 * (exfiltration). The baseline is an EWMA (alpha 0.05) of x = ln(1 + bytes_sent); with at
 * least 20 samples, z = (x - mean) / sqrt(var + 0.25); z > 3 and bytes_sent > 1 MB flag,
 * score = 0.5 + (z - 3) / 6; at 200 MB and more z > 2 is enough (the user's history of large
 * transfers widens the variance, but a few hundred MB in one connection stays rare). With
 * fewer samples (no baseline yet) an absolute rule applies: bytes_sent >= 100 MB scores 0.7. */
#include "speed/sg_detect.h"

#include <math.h>

void sg_det_volume_spike(const struct sg_user_state *u, const struct sg_event *ev,
                         const struct sg_detect_params *p, struct sg_findings *out)
{
    (void)p;
    if (ev->type != SG_EV_NETWORK || ev->d.net.bytes_sent < 1000000)
        return;
    if (u->volume.n < 20) {
        if (ev->d.net.bytes_sent >= 100000000) {
            sg_findings_add(out, "volume_spike", 0.7, 0.8);
            sg_findings_num(out, "bytes_sent", (double)ev->d.net.bytes_sent);
            sg_findings_num(out, "baseline_samples", u->volume.n);
        }
        return;
    }
    double x = log1p((double)ev->d.net.bytes_sent);
    double z = (x - u->volume.mean) / sqrt(u->volume.var + 0.25);
    int huge = ev->d.net.bytes_sent >= 200000000;
    if (z <= (huge ? 2 : 3))
        return;
    double sc = 0.5 + (z - 3) / 6;
    sg_findings_add(out, "volume_spike", huge && sc < 0.65 ? 0.65 : sc, 0.8);
    sg_findings_num(out, "bytes_sent", (double)ev->d.net.bytes_sent);
    sg_findings_num(out, "typical_bytes", expm1(u->volume.mean));
    sg_findings_num(out, "z", z);
}
