/* sg_api_events: the events resource - GET /api/events (time range, type filter, pages),
 * GET /api/events/{event_id} (two point reads) and GET /api/users/{user}/events (the user's
 * index, a prefix scan). Events are served as the speed layer stored them: canonical JSON. */
#include <string.h>

#include "core/sg_err.h"
#include "core/sg_event.h"
#include "serving/sg_api.h"

#define CURSOR_EVENTS 1
#define CURSOR_USER_EVENTS 2

static const char *const list_params[] = {"since", "until", "type", "order", "limit", "cursor",
                                          NULL};
static const char *const user_params[] = {"since", "until", "type", "order", "limit", "cursor",
                                          NULL};

/* Parses ?type= into the store's type filter; answers 400 when unknown. */
static int type_param(const struct sg_http_req *req, struct sg_http_resp *r, int *type,
                      const char **text)
{
    const struct sg_http_param *p = sg_http_url_param(&req->url, "type");
    *type = -1;
    *text = NULL;
    if (!p)
        return SG_OK;
    *type = sg_event_type_parse(p->val.p, p->val.len);
    if (*type < 0) {
        sg_http_resp_error(r, 400, "bad_parameter", "type",
                           "expected auth_attempt, network_connection, file_access, "
                           "process_execution or dns_query");
        return SG_ERR_INVALID;
    }
    *text = p->val.p;
    return SG_OK;
}

void sg_api_events_list(const struct sg_http_req *req, struct sg_http_resp *r, void *ctx)
{
    static const struct sg_api_list l = {"events", 0, CURSOR_EVENTS, list_params};
    int type;
    const char *text;
    if (type_param(req, r, &type, &text) == SG_OK)
        sg_api_list(ctx, req, r, &l, NULL, type, text);
}

void sg_api_events_of_user(const struct sg_http_req *req, struct sg_http_resp *r, void *ctx)
{
    static const struct sg_api_list l = {"events", 0, CURSOR_USER_EVENTS, user_params};
    int type;
    const char *text;
    if (type_param(req, r, &type, &text) == SG_OK)
        sg_api_list(ctx, req, r, &l, &req->url.seg[2], type, text);
}

/* Event ids follow the contract: 1..128 bytes of [A-Za-z0-9_.:-]. */
static int valid_id(const struct sg_http_str *id)
{
    if (id->len < 1 || id->len > 128)
        return 0;
    for (size_t i = 0; i < id->len; i++) {
        char c = id->p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

void sg_api_events_get(const struct sg_http_req *req, struct sg_http_resp *r, void *ctx)
{
    struct sg_serve *s = ctx;
    static const char *const none[] = {NULL};
    struct sg_http_perr e;
    if (sg_http_url_check(&req->url, none, &e) != SG_OK) {
        sg_http_resp_perr(r, &e);
        return;
    }
    if (!valid_id(req->id)) {
        sg_http_resp_error(r, 400, "bad_parameter", "event_id",
                           "an event id is 1 to 128 characters of A-Z a-z 0-9 _ . : -");
        return;
    }
    struct sg_store *st = sg_api_store(s, r);
    if (!st)
        return;
    struct sg_api_scan sc;
    sg_api_scan_begin(&sc);
    sc.seeks = 2; /* the id index, then the event itself */
    int rc = sg_store_event_get(st, req->id->p, req->id->len, &r->body);
    sc.rows = rc == SG_OK;
    sg_api_scan_end(s, &sc, r);
    if (rc == SG_ERR_NOTFOUND)
        sg_http_resp_error(r, 404, "not_found", "event_id", "no event with this id");
    else if (rc != SG_OK)
        sg_http_resp_error(r, 500, "store_error", NULL, "%s", sg_strerror(rc));
    else
        sg_buf_putc(&r->body, '\n');
}
