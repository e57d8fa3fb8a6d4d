/* sg_det_unusual_hour: activity at an hour of the week the user is rarely active. The hour's
 * probability is a smoothed mix of the same hour of the week (weight 1), the neighbouring
 * hours (0.5) and the same hour of the other days (0.25), with a Laplace prior; compared with
 * the uniform 1/168 as a ratio r. Below r = 0.15 the score rises linearly to 1 at r = 0. */
#include "speed/sg_detect.h"

static double weight_at(const struct sg_user_state *u, int h)
{
    double w = u->how[h];
    w += 0.5 * (u->how[(h + 1) % SG_USER_HOW] + u->how[(h + SG_USER_HOW - 1) % SG_USER_HOW]);
    for (int d = 1; d < 7; d++)
        w += 0.25 * u->how[(h + 24 * d) % SG_USER_HOW];
    return w;
}

void sg_det_unusual_hour(const struct sg_user_state *u, const struct sg_event *ev,
                         const struct sg_detect_params *p, struct sg_findings *out)
{
    if (!sg_detect_established(u, p))
        return;
    int h = sg_user_hour_of_week(ev->ts_ms);
    uint32_t total = 0; /* exact, and the compiler vectorises it (a double sum cannot be) */
    for (int i = 0; i < SG_USER_HOW; i++)
        total += u->how[i];
    /* every hour's smoothed weight sums to 3.5 x the histogram */
    double prob = (weight_at(u, h) + 0.1) / (3.5 * total + 0.1 * SG_USER_HOW);
    double r = prob * SG_USER_HOW;
    if (r >= 0.15)
        return;
    sg_findings_add(out, "unusual_hour", 1.0 - r / 0.15, 0.45);
    sg_findings_num(out, "hour_of_week", h);
    sg_findings_num(out, "ratio_to_uniform", r);
}
