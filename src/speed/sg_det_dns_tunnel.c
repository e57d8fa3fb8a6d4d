/* sg_det_dns_tunnel: DNS queries that carry data in their names. The subdomain part (the name
 * without its last two labels) of a tunnelling query is long and random: with length L and
 * Shannon entropy H (bits/char), L >= 30 and H >= 3.5 flag, score = 0.5 + (L - 30) / 60 +
 * (H - 3.5) / 2; TXT/NULL query types add 0.1. A name far longer than the user's EWMA of
 * query lengths (z > 4) also counts when L >= 30 and H >= 3 (long but repetitive names, e.g.
 * CDN hashes of one letter, are not data). */
#include "speed/sg_detect.h"

#include <math.h>
#include <string.h>

static size_t subdomain_len(const char *q, size_t n)
{
    while (n && q[n - 1] == '.')
        n--;
    int dots = 0;
    for (size_t i = n; i-- > 0;)
        if (q[i] == '.' && ++dots == 2)
            return i;
    return 0;
}

void sg_det_dns_tunnel(const struct sg_user_state *u, const struct sg_event *ev,
                       const struct sg_detect_params *p, struct sg_findings *out)
{
    (void)p;
    if (ev->type != SG_EV_DNS || !ev->d.dns.query_name.len)
        return;
    const char *q = ev->d.dns.query_name.p;
    size_t L = subdomain_len(q, ev->d.dns.query_name.len);
    if (L < 30)
        return;
    double H = sg_det_entropy(q, L);
    double z = 0;
    if (u->dns_len.n >= 20)
        z = ((double)ev->d.dns.query_name.len - u->dns_len.mean) / sqrt(u->dns_len.var + 4);
    if (H < 3.5 && (z <= 4 || H < 3.0))
        return;
    double sc = 0.5 + ((double)L - 30) / 60 + (H - 3.5) / 2;
    const struct sg_str *qt = &ev->d.dns.query_type;
    if ((qt->len == 3 && !memcmp(qt->p, "TXT", 3)) || (qt->len == 4 && !memcmp(qt->p, "NULL", 4)))
        sc += 0.1;
    sg_findings_add(out, "dns_tunneling", sc < 0.5 ? 0.5 : sc, 0.85);
    sg_findings_num(out, "subdomain_length", (double)L);
    sg_findings_num(out, "entropy_bits", H);
    sg_findings_str(out, "query_type", qt->p, qt->len);
}
