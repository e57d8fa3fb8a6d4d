/* sg_det_impossible_travel: two geolocated events of a user further apart than anyone can
 * travel in the time between them. Great-circle distance d (haversine) over elapsed time t
 * gives a speed v; when d >= travel_min_km and v > travel_kmh, score = 1 - travel_kmh / v
 * (twice the limit = 0.5, ten times = 0.9) raised to at least 0.6. The return leg of a trip
 * - arriving in a country that makes up at least 20% of the user's history - is the user
 * coming home, not the intrusion: its score is multiplied by 0.3. */
#include "speed/sg_detect.h"

void sg_det_impossible_travel(const struct sg_user_state *u, const struct sg_event *ev,
                              const struct sg_detect_params *p, struct sg_findings *out)
{
    if (!ev->has_geo || !u->has_loc || ev->ts_ms < u->loc_ms)
        return;
    double d = sg_det_haversine_km(u->lat, u->lon, ev->geo_lat, ev->geo_lon);
    if (d < p->travel_min_km)
        return;
    double hours = (double)(ev->ts_ms - u->loc_ms) / 3600000.0;
    double v = hours > 0 ? d / hours : 1e9;
    if (v <= p->travel_kmh)
        return;
    double sc = 1.0 - p->travel_kmh / v;
    if (sc < 0.6)
        sc = 0.6;
    size_t cl;
    const char *cc = sg_user_country(ev, &cl);
    const struct sg_seen *home = sg_user_seen_find(u->countries, &u->country_set, cc, cl);
    if (home && home->count * 5 >= u->country_set.total)
        sc *= 0.3;
    sg_findings_add(out, "impossible_travel", sc, 0.95);
    sg_findings_num(out, "distance_km", d);
    sg_findings_num(out, "speed_kmh", v > 1e8 ? 1e8 : v);
    sg_findings_num(out, "minutes_since_last", hours * 60);
}
