/* sg_det_process: process executions that are unusual for the user and risky: a process name
 * the established user has never run, executed with admin/system privileges or unsigned; and
 * names of well-known attack tools whatever the history; dual-use reconnaissance and
 * transfer tools (whoami, net, nltest, certutil, rclone, ...) the user never ran before.
 * Scores: attack tool 1 (weight 0.9); unsigned + new and recon tool + new: max(0.6, s),
 * weights 0.8 and 0.75; privileged + new: s, weight 0.7 - s the new-value surprise of the
 * user's process set (see sg_det_new_entity). */
#include "speed/sg_detect.h"

#include <string.h>
#include <strings.h>

static int is_attack_tool(const char *name, size_t n)
{
    static const char *const tools[] = {"mimikatz", "psexec", "procdump", "lazagne",
                                        "rubeus",   "bloodhound", "sharphound", "ncat",
                                        "netcat",   "nc.exe", "cobaltstrike", "meterpreter"};
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        size_t tl = strlen(tools[i]);
        for (size_t k = 0; k + tl <= n; k++)
            if (strncasecmp(name + k, tools[i], tl) == 0)
                return 1;
    }
    return 0;
}

static int is_recon_tool(const char *name, size_t n)
{
    static const char *const tools[] = {"whoami", "net.exe", "net1.exe", "nltest", "certutil",
                                        "rclone", "dsquery", "adfind", "bitsadmin", "wmic",
                                        "vssadmin", "klist"};
    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++) {
        size_t tl = strlen(tools[i]);
        if (n >= tl && strncasecmp(name, tools[i], tl) == 0)
            return 1;
    }
    return 0;
}

void sg_det_process(const struct sg_user_state *u, const struct sg_event *ev,
                    const struct sg_detect_params *p, struct sg_findings *out)
{
    if (ev->type != SG_EV_PROCESS || !ev->d.proc.process_name.len)
        return;
    const struct sg_str *name = &ev->d.proc.process_name;
    if (is_attack_tool(name->p, name->len)) {
        sg_findings_add(out, "suspicious_process", 1.0, 0.9);
        sg_findings_str(out, "process_name", name->p, name->len);
        return;
    }
    if (!sg_detect_established(u, p) || sg_user_seen_find(u->procs, &u->proc_set, name->p,
                                                          name->len))
        return;
    double p_new = ((double)u->proc_set.distinct + 1.0) / ((double)u->proc_set.total + 2.0);
    double surprise = 1.0 - p_new / 0.3;
    if (surprise < 0)
        surprise = 0;
    const struct sg_str *priv = &ev->d.proc.user_privileges;
    int privileged = (priv->len == 5 && !memcmp(priv->p, "admin", 5)) ||
                     (priv->len == 6 && !memcmp(priv->p, "system", 6));
    if (ev->d.proc.is_signed == 0)
        sg_findings_add(out, "unsigned_process", surprise > 0.6 ? surprise : 0.6, 0.8);
    else if (is_recon_tool(name->p, name->len))
        sg_findings_add(out, "recon_tool", surprise > 0.6 ? surprise : 0.6, 0.75);
    else if (privileged && surprise > 0)
        sg_findings_add(out, "rare_privileged_process", surprise, 0.7);
    else
        return;
    sg_findings_str(out, "process_name", name->p, name->len);
    sg_findings_str(out, "privileges", priv->p, priv->len);
    sg_findings_num(out, "p_new", p_new);
}
