/* sg_det_sensitive_file: access to credential and system files (shadow/passwd, SSH keys,
 * cloud credentials, the Windows SAM/NTDS, browser password stores) by a user who seldom
 * touches them. score = 1 - 5 k / (f + 5) for k earlier sensitive accesses among f file
 * events (1 for a user who never did, 0 from one in five); denied or permission-changing
 * accesses add 0.2. Bulk collection - the 3rd and later sensitive access within one hour -
 * is "sensitive_burst", score 0.6 + 0.05 per further access, weight 0.8. */
#include "speed/sg_detect.h"

#include <pthread.h>

#include "core/sg_substr.h"

static const char *const sensitive_patterns[] = {
    "/etc/shadow", "/etc/sudoers", "/.ssh/id_", "/.ssh/authorized_keys", "/.aws/credentials",
    "/.kube/config", "\\config\\sam", "\\ntds.dit", "/etc/passwd", "login data", "/root/",
    "\\system32\\config\\", "/.gnupg/", "id_rsa", "api-keys", "api_keys", "customers.sql",
    "payroll", "credentials", "secrets", "lsass", NULL};
static struct sg_substr_set sensitive_set;
static pthread_once_t sensitive_once = PTHREAD_ONCE_INIT;

static void build_sensitive(void)
{
    sg_substr_build(&sensitive_set, sensitive_patterns);
}

int sg_det_sensitive_path(const char *path, size_t n)
{
    pthread_once(&sensitive_once, build_sensitive);
    return sg_substr_any(&sensitive_set, path, n);
}

void sg_det_sensitive_file(const struct sg_user_state *u, const struct sg_event *ev,
                           const struct sg_detect_params *p, struct sg_findings *out)
{
    (void)p;
    if (ev->type != SG_EV_FILE || !sg_det_sensitive_path(ev->d.file.file_path.p,
                                                         ev->d.file.file_path.len))
        return;
    uint32_t in_win = (ev->ts_ms >= u->sens_win_ms && ev->ts_ms - u->sens_win_ms <= 3600000)
                          ? u->sens_win_n + 1 : 1;
    if (in_win >= 3) {
        sg_findings_add(out, "sensitive_burst", 0.6 + 0.05 * (double)(in_win - 3), 0.8);
        sg_findings_num(out, "sensitive_accesses_this_hour", in_win);
    }
    double files = u->type_count[SG_EV_FILE];
    double sc = 1.0 - 5.0 * (double)u->sensitive_n / (files + 5.0);
    if (ev->d.file.access_denied == 1 || ev->d.file.permissions_changed == 1)
        sc += 0.2;
    if (sc <= 0)
        return;
    sg_findings_add(out, "sensitive_file", sc, 0.6);
    sg_findings_str(out, "file_path", ev->d.file.file_path.p, ev->d.file.file_path.len);
    sg_findings_num(out, "previous_sensitive_accesses", u->sensitive_n);
}
