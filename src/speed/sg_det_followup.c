/* sg_det_followup: attacks are sequences - a takeover is followed by reconnaissance, an
 * exfiltration by uploads, a lateral movement by hop after hop. An event that comes within
 * one hour after one of the user's anomalies AND has a finding of its own inherits the risk:
 * "follows_anomaly" with score r (1 - dt / 1 h), r the earlier anomaly's composite score,
 * weight 0.65. After a high or critical anomaly (r >= 0.75) every event of the next 30
 * minutes inherits it (the attacker's session), without a finding of its own. */
#include "speed/sg_detect.h"

#define WINDOW_MS (3600 * 1000)

void sg_det_followup(const struct sg_user_state *u, const struct sg_event *ev,
                     const struct sg_detect_params *p, struct sg_findings *out)
{
    if (u->risk < p->threshold || ev->ts_ms < u->risk_ms || ev->ts_ms - u->risk_ms > WINDOW_MS)
        return;
    if (out->n == 0 && (u->risk < 0.75 || ev->ts_ms - u->risk_ms > WINDOW_MS / 2))
        return;
    double dt = (double)(ev->ts_ms - u->risk_ms);
    sg_findings_add(out, "follows_anomaly", u->risk * (1.0 - dt / WINDOW_MS), 0.65);
    sg_findings_num(out, "previous_score", u->risk);
    sg_findings_num(out, "minutes_since", dt / 60000.0);
}
