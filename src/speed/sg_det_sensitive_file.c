/* sg_det_sensitive_file: access to credential and system files (shadow/passwd, SSH keys,
 * cloud credentials, the Windows SAM/NTDS, browser password stores) by a user who seldom
 * touches them. score = 1 - 5 k / (f + 5) for k earlier sensitive accesses among f file
 * events (1 for a user who never did, 0 from one in five); denied or permission-changing
 * accesses add 0.2. Bulk collection - the 3rd and later sensitive access within one hour -
 * is "sensitive_burst", score 0.6 + 0.05 per further access, weight 0.8. */
#include "speed/sg_detect.h"

#include <string.h>
#include <strings.h>

int sg_det_sensitive_path(const char *path, size_t n)
{
    static const char *const pats[] = {"/etc/shadow", "/etc/sudoers", "/.ssh/id_", "/.ssh/authorized_keys",
                                       "/.aws/credentials", "/.kube/config", "\\config\\sam",
                                       "\\ntds.dit", "/etc/passwd", "login data", "/root/",
                                       "\\system32\\config\\", "/.gnupg/", "id_rsa",
                                       "api-keys", "api_keys", "customers.sql", "payroll",
                                       "credentials", "secrets", "lsass"};
    /* The patterns are lower case: fold the path once (ASCII, as strncasecmp does in the C
     * locale) and let memmem scan for each, instead of a strncasecmp at every offset. */
    char low[1024];
    if (n <= sizeof low) {
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)path[k];
            low[k] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++)
            if (memmem(low, n, pats[i], strlen(pats[i])))
                return 1;
        return 0;
    }
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        size_t pl = strlen(pats[i]);
        for (size_t k = 0; k + pl <= n; k++)
            if (strncasecmp(path + k, pats[i], pl) == 0)
                return 1;
    }
    return 0;
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
