/* sg_det_new_entity: an established user appears from a source IP, host or country never seen
 * in its profile. The surprise is scaled by how stable the user has been: the Good-Turing
 * estimate of the chance of a new value, p_new = (distinct + 1) / (total + 2), is small for a
 * user who always uses the same few values, so score = 1 - p_new / p_max (clamped). A value
 * seen c < 5 times counts as new with the score scaled by (1 - c / 5). */
#include "speed/sg_detect.h"

#include <string.h>

#define RARE_COUNT 5

static double surprise(const struct sg_seen_set *s, double p_max)
{
    double p_new = ((double)s->distinct + 1.0) / ((double)s->total + 2.0);
    double sc = 1.0 - p_new / p_max;
    return sc < 0 ? 0 : sc;
}

static void check(const struct sg_seen *arr, const struct sg_seen_set *set, const char *v,
                  size_t n, const char *reason, const char *key, double weight, double p_max,
                  struct sg_findings *out)
{
    if (!n)
        return;
    const struct sg_seen *known = sg_user_seen_find(arr, set, v, n);
    /* a value seen only a few times is still new: the attacker's address on its 2nd..5th
     * event is as suspicious as on its first (score fades linearly over RARE_COUNT sightings) */
    if (known && known->count >= RARE_COUNT)
        return;
    double sc = surprise(set, p_max) * (known ? 1.0 - (double)known->count / RARE_COUNT : 1.0);
    if (sc <= 0)
        return;
    sg_findings_add(out, reason, sc, weight);
    sg_findings_str(out, key, v, n);
    sg_findings_num(out, "known_values", set->n);
    sg_findings_num(out, "p_new", ((double)set->distinct + 1.0) / ((double)set->total + 2.0));
}

void sg_det_new_entity(const struct sg_user_state *u, const struct sg_event *ev,
                       const struct sg_detect_params *p, struct sg_findings *out)
{
    if (!sg_detect_established(u, p))
        return;
    check(u->ips, &u->ip_set, ev->source_ip.p, ev->source_ip.len, "new_ip", "source_ip", 0.35,
          0.25, out);
    check(u->hosts, &u->host_set, ev->hostname.p, ev->hostname.len, "new_host", "hostname",
          0.35, 0.25, out);
    size_t cl;
    const char *cc = sg_user_country(ev, &cl);
    check(u->countries, &u->country_set, cc, cl, "new_country", "country", 0.75, 0.2, out);
}
