/* sg_det_admin_fanout: lateral movement - connections to remote-administration ports (SSH,
 * SMB, RDP, WinRM, RPC) spreading to many internal hosts. Counts the distinct destinations of
 * the user's admin-port connections in the hour before this one (the profile's ring of the
 * last 8) plus this one; from 5 distinct hosts on, "admin_fanout" with score
 * 0.6 + 0.1 (n - 5), weight 0.85. Everyday use - a few servers again and again - stays below. */
#include "speed/sg_detect.h"

#include "core/sg_hash.h"

#define WINDOW_MS (3600 * 1000)
#define MIN_HOSTS 5

void sg_det_admin_fanout(const struct sg_user_state *u, const struct sg_event *ev,
                         const struct sg_detect_params *p, struct sg_findings *out)
{
    (void)p;
    if (!sg_user_admin_port(ev) || !ev->destination_ip.len)
        return;
    uint64_t seen[SG_USER_ADMIN + 1];
    size_t n = 0;
    seen[n++] = sg_hash_bytes(ev->destination_ip.p, ev->destination_ip.len, 0x5347u);
    for (int i = 0; i < u->adm_n; i++) {
        if (u->adm_ms[i] > ev->ts_ms || ev->ts_ms - u->adm_ms[i] > WINDOW_MS)
            continue;
        int dup = 0;
        for (size_t k = 0; k < n; k++)
            dup |= seen[k] == u->adm_dst[i];
        if (!dup)
            seen[n++] = u->adm_dst[i];
    }
    if (n < MIN_HOSTS)
        return;
    sg_findings_add(out, "admin_fanout", 0.6 + 0.1 * (double)(n - MIN_HOSTS), 0.85);
    sg_findings_num(out, "distinct_hosts_last_hour", (double)n);
    sg_findings_num(out, "destination_port", ev->d.net.destination_port);
}
