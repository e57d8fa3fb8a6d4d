/* sg_det_sensitive_file: access to credential and system files (shadow/passwd, SSH keys,
 * cloud credentials, the Windows SAM/NTDS, browser password stores) by a user who seldom
 * touches them. score = 1 - (sensitive accesses so far + 1) / (file events + 2) * 10, i.e.
 * high for users below ~1 sensitive access in 10 file events; denied or permission-changing
 * accesses add 0.2. */
#include "speed/sg_detect.h"

#include <string.h>
#include <strings.h>

int sg_det_sensitive_path(const char *path, size_t n)
{
    static const char *const pats[] = {"/etc/shadow", "/etc/sudoers", "/.ssh/id_", "/.ssh/authorized_keys",
                                       "/.aws/credentials", "/.kube/config", "\\config\\sam",
                                       "\\ntds.dit", "/etc/passwd", "login data", "/root/",
                                       "\\system32\\config\\", "/.gnupg/", "id_rsa"};
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
    double files = u->type_count[SG_EV_FILE];
    double rate = ((double)u->sensitive_n + 1.0) / (files + 2.0);
    double sc = 1.0 - rate * 10;
    if (ev->d.file.access_denied == 1 || ev->d.file.permissions_changed == 1)
        sc += 0.2;
    if (sc <= 0)
        return;
    sg_findings_add(out, "sensitive_file", sc, 0.6);
    sg_findings_str(out, "file_path", ev->d.file.file_path.p, ev->d.file.file_path.len);
    sg_findings_num(out, "previous_sensitive_accesses", u->sensitive_n);
}
