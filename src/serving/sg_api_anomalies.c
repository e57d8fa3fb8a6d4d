/* sg_api_anomalies: the anomalies resource - GET /api/anomalies (time range, minimum severity,
 * pages) and GET /api/users/{user}/anomalies (the user's anomaly index, a prefix scan).
 * Anomalies are served as the speed layer stored them (JSON records). */
#include <string.h>

#include "core/sg_err.h"
#include "serving/sg_api.h"

#define CURSOR_ANOMALIES 3
#define CURSOR_USER_ANOMALIES 4

static const char *const params[] = {"since", "until", "severity", "order", "limit", "cursor",
                                     NULL};

/* Severity names in store order (0..3), shared with sg_api_stats.c through this list. */
static const char *const severities[] = {"low", "medium", "high", "critical"};

/* ?severity= is the minimum severity to list; answers 400 when unknown. */
static int severity_param(const struct sg_http_req *req, struct sg_http_resp *r, int *min,
                          const char **text)
{
    const struct sg_http_param *p = sg_http_url_param(&req->url, "severity");
    *min = 0;
    *text = NULL;
    if (!p)
        return SG_OK;
    for (int i = 0; i < 4; i++) {
        if (strcmp(p->val.p, severities[i]) == 0) {
            *min = i;
            *text = severities[i];
            return SG_OK;
        }
    }
    sg_http_resp_error(r, 400, "bad_parameter", "severity",
                       "expected low, medium, high or critical (the minimum severity)");
    return SG_ERR_INVALID;
}

void sg_api_anomalies_list(const struct sg_http_req *req, struct sg_http_resp *r, void *ctx)
{
    static const struct sg_api_list l = {"anomalies", 1, CURSOR_ANOMALIES, params};
    int min;
    const char *text;
    if (severity_param(req, r, &min, &text) == SG_OK)
        sg_api_list(ctx, req, r, &l, NULL, min, text);
}

void sg_api_anomalies_of_user(const struct sg_http_req *req, struct sg_http_resp *r, void *ctx)
{
    static const struct sg_api_list l = {"anomalies", 1, CURSOR_USER_ANOMALIES, params};
    int min;
    const char *text;
    if (severity_param(req, r, &min, &text) == SG_OK)
        sg_api_list(ctx, req, r, &l, &req->url.seg[2], min, text);
}
