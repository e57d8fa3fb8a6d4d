/* sg_det_rate_spike: a burst of activity far above the user's usual pace. The profile keeps
 * an EWMA (alpha 0.1) of events per active minute; an event making this minute's count c
 * exceed max(20, mean + 6 sd) scores 0.5 + (c - limit) / limit (established users only). */
#include "speed/sg_detect.h"

#include <math.h>

void sg_det_rate_spike(const struct sg_user_state *u, const struct sg_event *ev,
                       const struct sg_detect_params *p, struct sg_findings *out)
{
    if (!sg_detect_established(u, p) || u->rate.n < 10)
        return;
    int64_t minute = ev->ts_ms / 60000;
    double c = (minute == u->rate_minute ? u->rate_count : 0) + 1.0;
    double limit = u->rate.mean + 6 * sqrt(u->rate.var);
    if (limit < 20)
        limit = 20;
    if (c <= limit)
        return;
    sg_findings_add(out, "rate_spike", 0.5 + (c - limit) / limit, 0.7);
    sg_findings_num(out, "events_this_minute", c);
    sg_findings_num(out, "usual_per_minute", u->rate.mean);
}
