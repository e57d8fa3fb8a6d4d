/* sg_detect: findings bookkeeping, the detector list, the composite score and severities. */
#include "speed/sg_detect.h"

#include <math.h>
#include <string.h>

void sg_detect_params_init(struct sg_detect_params *p)
{
    p->warmup_events = 20;
    p->warmup_ms = 12 * 3600 * 1000LL;
    p->threshold = 0.5;
    p->fail_window_ms = 15 * 60 * 1000;
    p->fail_burst = 3;
    p->spray_targets = 4;
    p->travel_kmh = 900;
    p->travel_min_km = 500;
}

void sg_findings_init(struct sg_findings *fs)
{
    fs->n = 0;
    sg_buf_init(&fs->detail);
}

void sg_findings_reset(struct sg_findings *fs)
{
    fs->n = 0;
    sg_buf_reset(&fs->detail);
}

void sg_findings_release(struct sg_findings *fs)
{
    sg_buf_release(&fs->detail);
    fs->n = 0;
}

void sg_findings_add(struct sg_findings *fs, const char *reason, double score, double weight)
{
    if (fs->n == SG_FINDINGS_MAX)
        return;
    struct sg_finding *f = &fs->f[fs->n++];
    f->reason = reason;
    f->score = !(score > 0) ? 0 : score > 1 ? 1 : score; /* NaN counts as 0 */
    f->weight = weight;
    f->detail_off = fs->detail.len;
    f->detail_len = 0;
}

static struct sg_finding *current(struct sg_findings *fs)
{
    return fs->n ? &fs->f[fs->n - 1] : NULL;
}

/* `,"key":` (no comma before the first); keys are our own identifiers, never escaped. */
static void detail_key(struct sg_findings *fs, const struct sg_finding *f, const char *key)
{
    if (f->detail_len)
        sg_buf_putc(&fs->detail, ',');
    sg_buf_putc(&fs->detail, '"');
    sg_buf_puts(&fs->detail, key);
    sg_buf_append(&fs->detail, "\":", 2);
}

void sg_findings_num(struct sg_findings *fs, const char *key, double v)
{
    struct sg_finding *f = current(fs);
    if (!f)
        return;
    detail_key(fs, f, key);
    sg_buf_json_double(&fs->detail, v);
    f->detail_len = fs->detail.len - f->detail_off;
}

void sg_findings_str(struct sg_findings *fs, const char *key, const char *s, size_t n)
{
    struct sg_finding *f = current(fs);
    if (!f)
        return;
    detail_key(fs, f, key);
    sg_buf_json_str(&fs->detail, s, n);
    f->detail_len = fs->detail.len - f->detail_off;
}

int sg_detect_established(const struct sg_user_state *u, const struct sg_detect_params *p)
{
    return u->n_events >= p->warmup_events && u->last_ms - u->first_ms >= p->warmup_ms;
}

void sg_detect_run(const struct sg_user_state *u, const struct sg_event *ev,
                   const struct sg_detect_params *p, struct sg_findings *out)
{
    sg_findings_reset(out);
    sg_det_new_entity(u, ev, p, out);
    sg_det_unusual_hour(u, ev, p, out);
    sg_det_failure_burst(u, ev, p, out);
    sg_det_impossible_travel(u, ev, p, out);
    sg_det_volume_spike(u, ev, p, out);
    sg_det_process(u, ev, p, out);
    sg_det_sensitive_file(u, ev, p, out);
    sg_det_dns_tunnel(u, ev, p, out);
    sg_det_rate_spike(u, ev, p, out);
    sg_det_admin_fanout(u, ev, p, out);
    sg_det_model(u, ev, p, out);
    sg_det_followup(u, ev, p, out);
}

double sg_detect_score(const struct sg_findings *fs)
{
    double keep = 1.0;
    for (size_t i = 0; i < fs->n; i++)
        keep *= 1.0 - fs->f[i].weight * fs->f[i].score;
    double s = 1.0 - keep;
    return s < 0 ? 0 : s > 1 ? 1 : s;
}

int sg_detect_severity(double score, double threshold)
{
    if (score < threshold)
        return -1;
    if (score >= 0.9)
        return SG_SEV_CRITICAL;
    if (score >= 0.75)
        return SG_SEV_HIGH;
    if (score >= 0.6)
        return SG_SEV_MEDIUM;
    return SG_SEV_LOW;
}

const char *sg_detect_severity_name(int sev)
{
    static const char *const names[SG_SEV_COUNT] = {"low", "medium", "high", "critical"};
    return sev >= 0 && sev < SG_SEV_COUNT ? names[sev] : "none";
}

double sg_det_entropy(const char *s, size_t n)
{
    if (!n)
        return 0;
    unsigned counts[256] = {0};
    for (size_t i = 0; i < n; i++)
        counts[(unsigned char)s[i]]++;
    double h = 0;
    for (int i = 0; i < 256; i++) {
        if (!counts[i])
            continue;
        double q = (double)counts[i] / (double)n;
        h -= q * log2(q);
    }
    return h;
}

double sg_det_haversine_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(sqrt(a < 1 ? a : 1));
}
