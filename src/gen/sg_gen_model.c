/* sg_gen_model: places, roles, habits, a simulated user's rhythm and benign behaviour, and the
 * events-v1 JSON rendering of generated events. All randomness comes from the user's own
 * sg_rng stream, so a user's events do not depend on how users interleave. The JSON writer is
 * hand-rolled (no printf) because rendering is the generator's hot path: about 1M events/s. */
#include "gen/sg_gen_model.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "core/sg_rng.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Coordinates are the cities' centres; the /16 networks are synthetic stand-ins. */
const struct sg_gen_place sg_gen_places[] = {
    {"US-CA-San Francisco", "sfo", 37.7749, -122.4194, -480, 67, 169, SG_PLACE_OFFICE},
    {"US-NY-New York", "nyc", 40.7128, -74.0060, -300, 72, 229, SG_PLACE_OFFICE},
    {"US-TX-Austin", "aus", 30.2672, -97.7431, -360, 70, 112, SG_PLACE_OFFICE},
    {"GB-LND-London", "lon", 51.5074, -0.1278, 0, 81, 2, SG_PLACE_OFFICE},
    {"DE-BE-Berlin", "ber", 52.5200, 13.4050, 60, 91, 64, SG_PLACE_OFFICE},
    {"FR-IDF-Paris", "par", 48.8566, 2.3522, 60, 90, 84, SG_PLACE_OFFICE},
    {"IN-KA-Bangalore", "blr", 12.9716, 77.5946, 330, 49, 207, SG_PLACE_OFFICE},
    {"SG-SG-Singapore", "sin", 1.3521, 103.8198, 480, 116, 88, SG_PLACE_OFFICE},
    {"JP-13-Tokyo", "tyo", 35.6762, 139.6503, 540, 126, 72, SG_PLACE_OFFICE},
    {"AU-NSW-Sydney", "syd", -33.8688, 151.2093, 600, 101, 181, SG_PLACE_OFFICE},
    {"CA-ON-Toronto", "tor", 43.6532, -79.3832, -300, 99, 236, SG_PLACE_OFFICE},
    {"BR-SP-Sao Paulo", "sao", -23.5505, -46.6333, -180, 177, 32, SG_PLACE_OFFICE},
    {"ES-MD-Madrid", "mad", 40.4168, -3.7038, 60, 83, 44, SG_PLACE_TRAVEL},
    {"NL-NH-Amsterdam", "ams", 52.3676, 4.9041, 60, 145, 131, SG_PLACE_TRAVEL},
    {"US-IL-Chicago", "chi", 41.8781, -87.6298, -360, 73, 44, SG_PLACE_TRAVEL},
    {"AE-DU-Dubai", "dxb", 25.2048, 55.2708, 240, 94, 200, SG_PLACE_TRAVEL},
    {"US-WA-Seattle", "sea", 47.6062, -122.3321, -480, 71, 227, SG_PLACE_TRAVEL},
    {"RU-MOW-Moscow", "mow", 55.7558, 37.6173, 180, 95, 165, SG_PLACE_HOSTILE},
    {"CN-GD-Shenzhen", "szx", 22.5431, 114.0579, 480, 183, 12, SG_PLACE_HOSTILE},
    {"NG-LA-Lagos", "los", 6.5244, 3.3792, 60, 105, 112, SG_PLACE_HOSTILE},
    {"RO-B-Bucharest", "buh", 44.4268, 26.1025, 120, 86, 120, SG_PLACE_HOSTILE},
    {"VN-SG-Ho Chi Minh City", "sgn", 10.8231, 106.6297, 420, 113, 161, SG_PLACE_HOSTILE},
    {"KZ-ALA-Almaty", "ala", 43.2220, 76.8512, 360, 92, 46, SG_PLACE_HOSTILE},
    {"ID-JK-Jakarta", "jkt", -6.2088, 106.8456, 420, 36, 80, SG_PLACE_HOSTILE},
};
const size_t sg_gen_place_count = N_OF(sg_gen_places);

/* Share of users per office (same order as the first entries of sg_gen_places). */
static const double office_share[] = {18, 12, 8, 14, 10, 5, 14, 6, 4, 3, 4, 2};

static const char *const first_names[] = {
    "aisha", "ben",    "carla", "dmitri", "elena", "farid",  "grace",   "hiro",   "ines",  "jonas",
    "kavya", "liam",   "mei",   "nora",   "omar",  "priya",  "quentin", "rosa",   "sam",   "tariq",
    "uma",   "victor", "wen",   "xavier", "yara",  "zoe",    "amir",    "bianca", "chen",  "diego",
    "emma",  "felix",  "gita",  "hugo",   "isla",  "jack",   "kenji",   "lucia",  "marco", "nadia",
    "oscar", "paula",  "raj",   "sofia",  "tom",   "ursula", "vera",    "will"};
static const char *const last_names[] = {
    "nguyen",  "smith",     "muller",   "rossi",    "tanaka", "patel",   "garcia", "kowalski",
    "okafor",  "johansson", "dubois",   "kim",      "silva",  "ivanova", "brown",  "wang",
    "singh",   "lopez",     "schmidt",  "costa",    "haddad", "novak",   "mensah", "larsen",
    "fischer", "moreau",    "sato",     "reddy",    "hughes", "alvarez", "becker", "chopra",
    "dunn",    "eriksen",   "fong",     "gruber",   "hall",   "iyer",    "jensen", "kaur",
    "lee",     "meyer",     "nakamura", "oliveira", "perez",  "quinn",   "romero", "shah"};
static const char *const svc_names[] = {"backup",  "etl",  "ci",     "billing",
                                        "monitor", "sync", "deploy", "reports"};

static const char *const user_agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/118.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/119.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 13_5) AppleWebKit/605.1.15 Version/16.6 "
    "Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 Version/17.1 "
    "Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:118.0) Gecko/20100101 Firefox/118.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:119.0) Gecko/20100101 Firefox/119.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:119.0) Gecko/20100101 Firefox/119.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Edg/119.0",
    "Go-http-client/1.1",
    "python-requests/2.31.0",
};
#define UA_SERVICE 8
/* Occasional benign agents; some also appear in attacks, so no string is a label. */
static const char *const misc_uas[] = {
    "curl/8.4.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/119.0 Mobile Safari/537.36",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029)",
    "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 Chrome/96.0 Safari/537.36",
};

struct proc {
    const char *name, *cmd, *priv;
};
struct role {
    const char *name;
    double mix[5]; /* auth, network, file, process, dns */
    double share, activity;
    double sent_median, file_median;
    const struct proc *procs;
    size_t nprocs;
    const char *const *dirs;
    size_t ndirs;
    const char *const *domains;
    size_t ndomains;
    const char *const *files;
    size_t nfiles;
};

static const struct proc eng_procs[] = {
    {"bash", "/bin/bash -l", "standard"},
    {"git", "git pull --rebase origin main", "standard"},
    {"code", "/usr/share/code/code --unity-launch", "standard"},
    {"python3", "python3 -m pytest -q tests/", "standard"},
    {"make", "make -j8 all", "standard"},
    {"docker", "docker compose up -d db", "standard"},
    {"ssh", "ssh build-runner-03.internal.corp", "standard"},
    {"node", "node scripts/build.js --prod", "standard"},
    {"gcc", "gcc -O2 -c src/main.c -o build/main.o", "standard"},
    {"kubectl", "kubectl get pods -n staging", "standard"},
};
static const struct proc admin_procs[] = {
    {"powershell.exe", "powershell.exe -NoProfile Get-Service", "admin"},
    {"ssh", "ssh -J bastion.internal.corp db-primary-01", "standard"},
    {"sudo", "sudo systemctl restart nginx", "admin"},
    {"systemctl", "systemctl status postgresql", "admin"},
    {"kubectl", "kubectl rollout status deploy/api -n prod", "standard"},
    {"ansible-playbook", "ansible-playbook -i inventory/prod patch.yml", "standard"},
    {"mmc.exe", "mmc.exe C:\\Windows\\system32\\dsa.msc", "admin"},
    {"terraform", "terraform plan -out=tfplan", "standard"},
    {"journalctl", "journalctl -u sshd --since today", "admin"},
};
static const struct proc fin_procs[] = {
    {"EXCEL.EXE", "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE\"", "standard"},
    {"OUTLOOK.EXE", "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\"",
     "standard"},
    {"chrome.exe", "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\"", "standard"},
    {"AcroRd32.exe", "\"C:\\Program Files\\Adobe\\Acrobat Reader DC\\AcroRd32.exe\" invoice.pdf",
     "standard"},
    {"Teams.exe", "Teams.exe --system-initiated", "standard"},
    {"WINWORD.EXE", "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE\"",
     "standard"},
};
static const struct proc contr_procs[] = {
    {"chrome.exe", "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\"", "standard"},
    {"Slack.exe", "Slack.exe --startup", "standard"},
    {"Zoom.exe", "Zoom.exe --url=zoommtg://zoom.us/join", "standard"},
    {"Teams.exe", "Teams.exe --system-initiated", "standard"},
    {"figma_agent.exe", "figma_agent.exe", "standard"},
    {"code", "code .", "standard"},
};
static const struct proc svc_procs[] = {
    {"java", "java -Xmx2g -jar /opt/app/service.jar", "standard"},
    {"python3", "python3 /opt/etl/run.py --incremental", "standard"},
    {"node", "node /srv/worker/index.js", "standard"},
    {"backup-agent", "/usr/local/bin/backup-agent --schedule nightly", "system"},
    {"logrotate", "/usr/sbin/logrotate /etc/logrotate.conf", "system"},
    {"cron", "/usr/sbin/cron -f", "system"},
};

static const char *const eng_dirs[] = {"/home/%u/src/api",     "/home/%u/src/web", "/home/%u/.ssh",
                                       "/srv/build/artifacts", "/home/%u/notes",   "/etc/nginx"};
static const char *const admin_dirs[] = {"/etc/ssh",          "/var/log",
                                         "/etc/kubernetes",   "C:\\Windows\\System32\\config",
                                         "/opt/vault/config", "/home/%u/runbooks"};
static const char *const fin_dirs[] = {"C:\\Users\\%u\\Documents\\Finance",
                                       "\\\\fs01\\finance\\Reports", "C:\\Users\\%u\\Downloads",
                                       "\\\\fs01\\finance\\Payroll", "C:\\Users\\%u\\Desktop"};
static const char *const contr_dirs[] = {"C:\\Users\\%u\\Documents", "C:\\Users\\%u\\Downloads",
                                         "\\\\fs01\\shared\\Projects", "C:\\Users\\%u\\Desktop"};
static const char *const svc_dirs[] = {"/var/lib/app/data", "/var/log/app", "/srv/exports",
                                       "/backup/daily", "/tmp"};

static const char *const eng_files[] = {"main.c",         "handler.go", "README.md", "config.yaml",
                                        "id_ed25519.pub", "build.log",  "index.ts",  "Dockerfile"};
static const char *const admin_files[] = {"sshd_config", "syslog",      "kubeconfig", "SAM",
                                          "vault.hcl",   "patching.md", "auth.log"};
static const char *const fin_files[] = {"Q3-forecast.xlsx", "invoices-2026.xlsx", "budget.docx",
                                        "payroll-nov.csv",  "vendor-list.xlsx",   "expenses.pdf"};
static const char *const contr_files[] = {"design-v2.fig", "proposal.docx", "timesheet.xlsx",
                                          "mockups.zip", "brief.pdf"};
static const char *const svc_files[] = {"export.parquet", "service.log", "orders.csv",
                                        "snapshot.tar.gz", "state.db"};

static const char *const eng_domains[] = {
    "github.com",        "registry.npmjs.org",   "pypi.org",
    "stackoverflow.com", "registry-1.docker.io", "api.github.com",
    "s3.amazonaws.com",  "gitlab.internal.corp", "jira.internal.corp"};
static const char *const admin_domains[] = {
    "portal.azure.com",    "console.aws.amazon.com", "grafana.internal.corp",
    "vault.internal.corp", "ldap.internal.corp",     "events.pagerduty.com",
    "github.com"};
static const char *const fin_domains[] = {
    "sap.internal.corp",    "system.netsuite.com", "docusign.net",  "bloomberg.com",
    "login.salesforce.com", "expensify.com",       "sharepoint.com"};
static const char *const contr_domains[] = {"drive.google.com", "dropbox.com",    "notion.so",
                                            "figma.com",        "wetransfer.com", "zoom.us",
                                            "web.whatsapp.com"};
static const char *const svc_domains[] = {"s3.amazonaws.com",    "sqs.us-east-1.amazonaws.com",
                                          "kafka.internal.corp", "db.internal.corp",
                                          "api.stripe.com",      "hooks.slack.com"};
static const char *const common_domains[] = {
    "login.microsoftonline.com", "outlook.office365.com", "www.google.com", "slack.com", "zoom.us",
    "teams.microsoft.com",       "update.googleapis.com"};
static const char *const tail_domains[] = {
    "news.ycombinator.com", "en.wikipedia.org", "weather.com", "booking.com",
    "www.linkedin.com",     "www.reddit.com",   "medium.com",  "cdn.jsdelivr.net",
    "www.nytimes.com",      "maps.google.com",  "mega.nz",     "transfer.sh"};

#define ROLE(n, a, b, c, d, e, sh, act, sent, fsz, p, dr, dm, fl)                                  \
    {                                                                                              \
        n, {a, b, c, d, e}, sh, act, sent, fsz, p, N_OF(p), dr, N_OF(dr), dm, N_OF(dm), fl,        \
            N_OF(fl)                                                                               \
    }
static const struct role roles[SG_ROLE_COUNT] = {
    ROLE("engineer", .07, .30, .24, .22, .17, .45, 1.0, 40e3, 30e3, eng_procs, eng_dirs,
         eng_domains, eng_files),
    ROLE("admin", .12, .26, .14, .30, .18, .08, 1.3, 20e3, 20e3, admin_procs, admin_dirs,
         admin_domains, admin_files),
    ROLE("finance", .09, .24, .37, .08, .22, .18, 0.8, 15e3, 200e3, fin_procs, fin_dirs,
         fin_domains, fin_files),
    ROLE("contractor", .11, .31, .24, .10, .24, .15, 0.7, 25e3, 500e3, contr_procs, contr_dirs,
         contr_domains, contr_files),
    ROLE("service", .04, .52, .16, .08, .20, .14, 2.5, 200e3, 2e6, svc_procs, svc_dirs, svc_domains,
         svc_files),
};

static const char *const type_names[] = {"auth_attempt", "network_connection", "file_access",
                                         "process_execution", "dns_query"};
static const char *const detail_names[] = {"auth_details", "network_details", "file_details",
                                           "process_details", "dns_details"};
static const char *const status_names[] = {"success", "failed", "blocked"};

const char *sg_gen_role_name(int role)
{
    return role >= 0 && role < SG_ROLE_COUNT ? roles[role].name : "unknown";
}

/* ---- small helpers ------------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static size_t pick(struct sg_rng *r, size_t n)
{
    return (size_t)sg_rng_below(r, n);
}

/* Skewed pick: index 0 is the favourite, later ones progressively rarer. */
static size_t pick_skew(struct sg_rng *r, size_t n)
{
    double u = sg_rng_double(r);
    return (size_t)(u * u * (double)n);
}

static size_t pick_weighted(struct sg_rng *r, const double *w, size_t n)
{
    double tot = 0;
    for (size_t i = 0; i < n; i++)
        tot += w[i];
    double x = sg_rng_double(r) * tot;
    for (size_t i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

static char *put_u(char *p, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

void sg_gen_model_ip4(char out[16], unsigned a, unsigned b, unsigned c, unsigned d)
{
    char *p = out;
    p = put_u(p, a & 255);
    *p++ = '.';
    p = put_u(p, b & 255);
    *p++ = '.';
    p = put_u(p, c & 255);
    *p++ = '.';
    p = put_u(p, d & 255);
    *p = '\0';
}

void sg_gen_model_public_ip(uint16_t place, uint64_t h, char out[16])
{
    const struct sg_gen_place *pl = &sg_gen_places[place];
    sg_gen_model_ip4(out, pl->net_a, pl->net_b, (unsigned)(h >> 8) & 255, (unsigned)(h % 254) + 1);
}

int64_t sg_gen_model_lognormal(struct sg_rng *r, double median, double sigma)
{
    double v = median * exp(sigma * sg_rng_normal(r));
    return v < 1 ? 1 : (int64_t)v;
}

double sg_gen_model_km(uint16_t a, uint16_t b)
{
    const double rad = 3.14159265358979323846 / 180.0;
    double la1 = sg_gen_places[a].lat * rad, la2 = sg_gen_places[b].lat * rad;
    double dla = la2 - la1, dlo = (sg_gen_places[b].lon - sg_gen_places[a].lon) * rad;
    double h = sin(dla / 2) * sin(dla / 2) + cos(la1) * cos(la2) * sin(dlo / 2) * sin(dlo / 2);
    return 2 * 6371.0 * asin(sqrt(h));
}

double sg_gen_model_score(struct sg_rng *r, int attack)
{
    /* Log-normal sensor noise: benign median ~0.07, attack median ~0.30; both tails cross. */
    double mu = attack ? -1.2 : -2.65, sigma = attack ? 0.75 : 0.85;
    double s = exp(mu + sigma * sg_rng_normal(r));
    if (!attack && sg_rng_double(r) < 0.01) /* the sensor's false alarms */
        s = 0.4 + 0.5 * sg_rng_double(r);
    if (s > 1)
        s = 1;
    return floor(s * 1000 + 0.5) / 1000;
}

/* ---- users ----------------------------------------------------------------------------- */

static void user_name(struct sg_gen_user *u)
{
    uint32_t i = u->idx;
    char *p = u->name;
    if (u->role == SG_ROLE_SERVICE) {
        p = put_str(p, "svc-");
        p = put_str(p, svc_names[i % N_OF(svc_names)]);
        *p++ = '-';
        p = put_u(p, i);
    } else {
        size_t nf = N_OF(first_names), nl = N_OF(last_names);
        p = put_str(p, first_names[(i % nf) * 17 % nf]);
        *p++ = '.';
        p = put_str(p, last_names[(i / nf + 7 * (i % nf)) % nl]); /* (first, last) unique */
        if (i >= nf * nl)
            p = put_u(p, i / (nf * nl) + 1);
    }
    *p = '\0';
    u->name_len = (uint8_t)(p - u->name);
}

static void user_habits(struct sg_gen_user *u)
{
    const struct role *ro = &roles[u->role];
    struct sg_rng *r = &u->rng;
    for (size_t i = 0; i < N_OF(u->procs); i++)
        u->procs[i] = (uint8_t)pick(r, ro->nprocs);
    for (size_t i = 0; i < N_OF(u->domains); i++)
        u->domains[i] = (uint8_t)pick(r, ro->ndomains + N_OF(common_domains));
    for (size_t i = 0; i < N_OF(u->dirs); i++)
        u->dirs[i] = (uint8_t)pick(r, ro->ndirs);
    for (size_t i = 0; i < N_OF(u->servers); i++)
        u->servers[i] = (uint8_t)pick(r, 200);
}

static void user_novelty(struct sg_gen_user *u, int64_t first, int64_t last)
{
    struct sg_rng *r = &u->rng;
    int64_t span = last - first + 1;
    u->trip_day = u->laptop_day = u->late_day = -1;
    if (u->role == SG_ROLE_SERVICE)
        return;
    if (sg_rng_double(r) < 0.15) {
        /* A trip somewhere a plane reaches in the 14 hours the day of travel leaves free;
         * one trip in five goes anywhere, attackers' home countries included, so that a
         * foreign country alone is not a label. */
        uint16_t cand[32];
        size_t n = 0;
        int anywhere = sg_rng_double(r) < 0.2;
        for (size_t i = 0; i < sg_gen_place_count && n < N_OF(cand); i++)
            if ((anywhere || sg_gen_places[i].kind != SG_PLACE_HOSTILE) && i != u->home &&
                sg_gen_model_km(u->home, (uint16_t)i) < 10000)
                cand[n++] = (uint16_t)i;
        if (n) {
            u->trip_place = cand[pick(r, n)];
            u->trip_day = (int32_t)(first + (int64_t)pick(r, (uint64_t)span));
            u->trip_len = (int32_t)(2 + pick(r, 4));
        }
    }
    if (sg_rng_double(r) < 0.10)
        u->laptop_day = (int32_t)(first + (int64_t)pick(r, (uint64_t)span));
    if (sg_rng_double(r) < 0.20)
        u->late_day = (int32_t)(first + (int64_t)pick(r, (uint64_t)span));
}

void sg_gen_model_user_init(struct sg_gen_user *u, uint64_t seed, uint32_t idx, int64_t first_lday,
                            int64_t last_lday)
{
    memset(u, 0, sizeof *u);
    sg_rng_seed2(&u->rng, seed, idx);
    struct sg_rng *r = &u->rng;
    u->idx = idx;
    u->scenario = -1;
    double share[SG_ROLE_COUNT];
    for (int i = 0; i < SG_ROLE_COUNT; i++)
        share[i] = roles[i].share;
    u->role = (uint8_t)pick_weighted(r, share, SG_ROLE_COUNT);
    u->home = (uint16_t)pick_weighted(r, office_share, N_OF(office_share));
    u->tz_min = (int16_t)sg_gen_places[u->home].tz_min;
    user_name(u);
    if (u->role == SG_ROLE_SERVICE) {
        u->work_start = 0;
        u->work_len = 24;
        u->ua = (uint8_t)(UA_SERVICE + pick(r, 2));
    } else {
        u->work_start = (uint8_t)(u->role == SG_ROLE_CONTRACTOR ? 6 + pick(r, 6) : 7 + pick(r, 4));
        u->work_len = (uint8_t)(8 + pick(r, 3));
        u->remote = sg_rng_double(r) < 0.3;
        u->ua = (uint8_t)(2 * pick(r, 4)); /* even: older version; +1 after a new laptop */
    }
    u->wks_no = (uint16_t)(1 + pick(r, 9999));
    u->activity = roles[u->role].activity * exp(0.5 * sg_rng_normal(r));
    user_habits(u);
    user_novelty(u, first_lday, last_lday);
}

int64_t sg_gen_model_lday(const struct sg_gen_user *u, int64_t t)
{
    return floor_div(t + (int64_t)u->tz_min * 60000, SG_GEN_DAY_MS);
}

static int flying(const struct sg_gen_user *u, int64_t lday, int hod)
{
    if (u->trip_day < 0 || hod < 6 || hod >= 20)
        return 0;
    return lday == u->trip_day || lday == (int64_t)u->trip_day + u->trip_len;
}

double sg_gen_model_hour_weight(const struct sg_gen_user *u, int64_t t)
{
    int64_t lt = t + (int64_t)u->tz_min * 60000;
    int64_t lday = floor_div(lt, SG_GEN_DAY_MS);
    int hod = (int)((lt - lday * SG_GEN_DAY_MS) / SG_GEN_HOUR_MS);
    int wd = (int)((lday + 4) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    int weekend = wd == 0 || wd == 6;
    if (u->role == SG_ROLE_SERVICE)
        return hod == 2 ? 2.5 : (weekend ? 0.8 : 1.0); /* nightly batch at 02:00 */
    if (flying(u, lday, hod))
        return 0;
    if (lday == u->late_day && (hod >= 22 || hod < 3))
        return 0.6;
    int rel = (hod - u->work_start + 24) % 24;
    double w;
    if (!weekend) {
        if (rel < u->work_len)
            w = rel == 4 ? 0.6 : 1.0;
        else if (rel == 23 || rel < u->work_len + 2)
            w = 0.25;
        else if (hod >= 18 && hod <= 23)
            w = 0.04;
        else
            w = 0.006;
    } else {
        double day = u->role == SG_ROLE_ADMIN || u->role == SG_ROLE_CONTRACTOR ? 0.12 : 0.05;
        w = (hod >= 10 && hod < 20) ? day : 0.004;
    }
    return w;
}

uint16_t sg_gen_model_place_at(const struct sg_gen_user *u, int64_t t)
{
    if (u->trip_day < 0)
        return u->home;
    int64_t tz = (int64_t)u->tz_min * 60000;
    int64_t leave = (int64_t)u->trip_day * SG_GEN_DAY_MS + 13 * SG_GEN_HOUR_MS - tz;
    int64_t back = leave + (int64_t)u->trip_len * SG_GEN_DAY_MS;
    return t >= leave && t < back ? u->trip_place : u->home;
}

/* ---- events ------------------------------------------------------------------------------ */

static int in_office(const struct sg_gen_user *u, int64_t t, uint16_t place)
{
    if (u->remote || place != u->home)
        return 0;
    int64_t lt = t + (int64_t)u->tz_min * 60000;
    int64_t lday = floor_div(lt, SG_GEN_DAY_MS);
    int hod = (int)((lt - lday * SG_GEN_DAY_MS) / SG_GEN_HOUR_MS);
    int wd = (int)((lday + 4) % 7);
    int rel = (hod - u->work_start + 24) % 24;
    return wd != 0 && wd != 6 && rel < u->work_len;
}

void sg_gen_model_base(const struct sg_gen_user *u, int64_t t, uint16_t place, struct sg_gen_ev *ev)
{
    int64_t lday = sg_gen_model_lday(u, t);
    ev->ts = t;
    ev->status = SG_GS_SUCCESS;
    ev->scenario = -1;
    ev->place = place;
    ev->session = (uint32_t)sg_rng_mix64(((uint64_t)u->idx << 24) ^ (uint64_t)lday);
    ev->dst_ip[0] = '\0';
    ev->text[0] = '\0';
    ev->s1 = ev->s2 = ev->s3 = NULL;
    ev->n1 = ev->n2 = ev->n3 = ev->n4 = ev->n5 = -1;
    ev->b1 = ev->b2 = -1;
    int laptop = u->laptop_day >= 0 && lday >= u->laptop_day;
    ev->ua = user_agents[u->ua + (laptop && u->role != SG_ROLE_SERVICE)];
    const char *code = sg_gen_places[u->home].code;
    char *h = ev->host;
    if (u->role == SG_ROLE_SERVICE) {
        h = put_str(h, "app-");
        h = put_str(h, code);
        *h++ = '-';
        h = put_u(h, u->idx % 100);
        *h = '\0';
        sg_gen_model_ip4(ev->src_ip, 10, 200, u->idx / 250 % 250, u->idx % 250 + 1);
        return;
    }
    if (laptop) { /* a new machine, named the way Windows names fresh installs */
        static const char chars[] = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
        uint64_t x = sg_rng_mix64(u->idx ^ UINT64_C(0x6c6170746f70));
        h = put_str(h, "DESKTOP-");
        for (int k = 0; k < 7; k++, x /= (sizeof chars - 1))
            *h++ = chars[x % (sizeof chars - 1)];
    } else {
        h = put_str(h, "wks-");
        h = put_str(h, code);
        *h++ = '-';
        h = put_u(h, u->wks_no);
    }
    *h = '\0';
    if (in_office(u, t, place))
        sg_gen_model_ip4(ev->src_ip, 10, u->home + 1u, u->idx / 250 % 250, u->idx % 250 + 2);
    else if (place == u->home)
        sg_gen_model_public_ip(place, sg_rng_mix64(u->idx), ev->src_ip);
    else /* hotel network: one address per day */
        sg_gen_model_public_ip(place, sg_rng_mix64(u->idx ^ ((uint64_t)lday << 32)), ev->src_ip);
}

static const char *domain_of(const struct sg_gen_user *u, size_t k)
{
    const struct role *ro = &roles[u->role];
    size_t d = u->domains[k];
    return d < ro->ndomains ? ro->domains[d] : common_domains[d - ro->ndomains];
}

/* A stable IP for a domain name: internal names in 10.20/16, others spread over 3 ranges. */
static void domain_ip(const char *dom, char out[16])
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = dom; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = sg_rng_mix64(h);
    static const unsigned first[] = {13, 34, 104, 151};
    if (strstr(dom, ".internal.corp"))
        sg_gen_model_ip4(out, 10, 20, (unsigned)(h >> 16), (unsigned)(h % 254) + 1);
    else
        sg_gen_model_ip4(out, first[h % 4], (unsigned)(h >> 8), (unsigned)(h >> 16),
                         (unsigned)(h >> 24) % 254 + 1);
}

static void ev_auth(struct sg_gen_user *u, struct sg_gen_ev *ev)
{
    struct sg_rng *r = &u->rng;
    static const char *const types[] = {"sso", "sso", "sso", "mfa", "password"};
    ev->s1 = u->role == SG_ROLE_SERVICE ? "api_key" : types[pick(r, N_OF(types))];
    sg_gen_model_ip4(ev->dst_ip, 10, 0, 0, 10 + (unsigned)pick(r, 3));
    if (ev->src_ip[0] != '1' || ev->src_ip[1] != '0' || ev->src_ip[2] != '.')
        memcpy(ev->host, "vpn-gw-01", sizeof "vpn-gw-01"); /* remote logins land on the VPN */
    ev->n1 = 1;
    if (sg_rng_double(r) < 0.04) { /* typos, expired passwords, MFA timeouts */
        static const char *const why[] = {"invalid_password", "invalid_password", "mfa_timeout",
                                          "password_expired"};
        ev->status = SG_GS_FAILED;
        ev->s2 = why[pick(r, N_OF(why))];
        ev->n1 = 1 + (int64_t)pick(r, 3);
    }
}

static void ev_net(struct sg_gen_user *u, struct sg_gen_ev *ev)
{
    struct sg_rng *r = &u->rng;
    const struct role *ro = &roles[u->role];
    int internal = sg_rng_double(r) < 0.35;
    if (internal)
        sg_gen_model_ip4(ev->dst_ip, 10, 30, u->servers[pick_skew(r, N_OF(u->servers))], 10);
    else if (sg_rng_double(r) < 0.02)
        domain_ip(tail_domains[pick(r, N_OF(tail_domains))], ev->dst_ip);
    else
        domain_ip(domain_of(u, pick_skew(r, N_OF(u->domains))), ev->dst_ip);
    ev->s1 = sg_rng_double(r) < 0.92 ? "tcp" : "udp";
    ev->n1 = 49152 + (int64_t)pick(r, 16383);
    static const int int_ports[] = {443, 22, 5432, 8080, 6443};
    ev->n2 = internal ? int_ports[pick_skew(r, N_OF(int_ports))] : (ev->s1[0] == 'u' ? 53 : 443);
    if (ev->n2 == 53 && ev->s1[0] == 'u')
        ev->n2 = 443; /* QUIC */
    ev->n3 = sg_gen_model_lognormal(r, ro->sent_median, 1.1);
    if (u->role != SG_ROLE_SERVICE && sg_rng_double(r) < 0.003)
        ev->n3 = sg_gen_model_lognormal(r, 80e6, 0.8); /* a big legitimate upload */
    ev->n4 = sg_gen_model_lognormal(r, ro->sent_median * 6, 1.3);
    ev->n5 = sg_gen_model_lognormal(r, 800, 1.5);
    double x = sg_rng_double(r);
    ev->s2 = x < 0.9 ? "established" : (x < 0.97 ? "closed" : "reset");
}

static void ev_file(struct sg_gen_user *u, struct sg_gen_ev *ev)
{
    struct sg_rng *r = &u->rng;
    const struct role *ro = &roles[u->role];
    const char *dir = ro->dirs[u->dirs[pick_skew(r, N_OF(u->dirs))]];
    char *p = ev->text, *end = ev->text + sizeof ev->text - 48;
    int win = strchr(dir, '\\') != NULL;
    for (const char *s = dir; *s && p < end; s++) {
        if (s[0] == '%' && s[1] == 'u') {
            memcpy(p, u->name, u->name_len);
            p += u->name_len;
            s++;
        } else {
            *p++ = *s;
        }
    }
    *p++ = win ? '\\' : '/';
    p = put_str(p, ro->files[pick_skew(r, ro->nfiles)]);
    *p = '\0';
    double x = sg_rng_double(r);
    ev->s1 = x < 0.6    ? "read"
             : x < 0.85 ? "write"
             : x < 0.93 ? "create"
             : x < 0.97 ? "modify"
                        : "delete";
    ev->n1 = sg_gen_model_lognormal(r, ro->file_median, 1.4);
    ev->b1 = sg_rng_double(r) < 0.01;
    ev->b2 = sg_rng_double(r) < 0.004;
    if (ev->b1)
        ev->status = SG_GS_BLOCKED;
}

static void ev_proc(struct sg_gen_user *u, struct sg_gen_ev *ev)
{
    struct sg_rng *r = &u->rng;
    const struct role *ro = &roles[u->role];
    const struct proc *pr = &ro->procs[u->procs[pick_skew(r, N_OF(u->procs))]];
    ev->s1 = pr->name;
    ev->s2 = pr->priv;
    size_t n = strlen(pr->cmd);
    memcpy(ev->text, pr->cmd, n + 1);
    ev->n1 = 1000 + (int64_t)pick(r, 64000);
    ev->n2 = 1 + (int64_t)pick(r, 999);
    ev->b1 = sg_rng_double(r) < 0.985;
    if (u->role == SG_ROLE_ADMIN && sg_rng_double(r) < 0.3) { /* run on a server they manage */
        char *h = ev->host;
        h = put_str(h, "srv-");
        h = put_u(h, u->servers[pick_skew(r, N_OF(u->servers))]);
        h = put_str(h, "-10");
        *h = '\0';
    }
}

static void ev_dns(struct sg_gen_user *u, struct sg_gen_ev *ev)
{
    struct sg_rng *r = &u->rng;
    const char *dom = sg_rng_double(r) < 0.03 ? tail_domains[pick(r, N_OF(tail_domains))]
                                              : domain_of(u, pick_skew(r, N_OF(u->domains)));
    size_t n = strlen(dom);
    memcpy(ev->text, dom, n + 1);
    sg_gen_model_ip4(ev->dst_ip, 10, 0, 0, 53);
    double x = sg_rng_double(r);
    ev->s1 = x < 0.8 ? "A" : x < 0.95 ? "AAAA" : x < 0.98 ? "CNAME" : "MX";
    ev->s2 = sg_rng_double(r) < 0.97 ? "NOERROR" : "NXDOMAIN";
    static const int ttls[] = {60, 300, 300, 3600, 86400};
    ev->n1 = ttls[pick(r, N_OF(ttls))];
}

void sg_gen_model_benign(struct sg_gen_user *u, int64_t t, struct sg_gen_ev *ev)
{
    struct sg_rng *r = &u->rng;
    sg_gen_model_base(u, t, sg_gen_model_place_at(u, t), ev);
    ev->type = (uint8_t)pick_weighted(r, roles[u->role].mix, 5);
    switch (ev->type) {
    case SG_GT_AUTH: ev_auth(u, ev); break;
    case SG_GT_NET: ev_net(u, ev); break;
    case SG_GT_FILE: ev_file(u, ev); break;
    case SG_GT_PROC: ev_proc(u, ev); break;
    default: ev_dns(u, ev); break;
    }
    if (u->role != SG_ROLE_SERVICE && sg_rng_double(r) < 0.01)
        ev->ua = misc_uas[pick(r, N_OF(misc_uas))]; /* phone, scripts, an old browser */
    ev->score = sg_gen_model_score(r, 0);
    if (ev->status != SG_GS_SUCCESS)
        ev->score = ev->score + 0.05 > 1 ? 1 : ev->score + 0.05;
}

/* ---- rendering ------------------------------------------------------------------------ */

#define LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

static char *put_2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* Civil date from days since 1970 (the well-known era-based conversion). */
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* RFC 3339 with milliseconds, written digit by digit: sg_time_format_rfc3339 formats through
 * snprintf, which would be a fifth of the generator's time here. */
static char *put_ts(char *p, int64_t ms)
{
    int64_t days = floor_div(ms, SG_GEN_DAY_MS), rem = ms - days * SG_GEN_DAY_MS;
    int64_t y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    *p++ = '"';
    p = put_2(p, (unsigned)(y / 100));
    p = put_2(p, (unsigned)(y % 100));
    *p++ = '-';
    p = put_2(p, m);
    *p++ = '-';
    p = put_2(p, d);
    *p++ = 'T';
    p = put_2(p, (unsigned)(rem / 3600000));
    *p++ = ':';
    p = put_2(p, (unsigned)(rem / 60000 % 60));
    *p++ = ':';
    p = put_2(p, (unsigned)(rem / 1000 % 60));
    *p++ = '.';
    unsigned frac = (unsigned)(rem % 1000);
    *p++ = (char)('0' + frac / 100);
    p = put_2(p, frac % 100);
    *p++ = 'Z';
    *p++ = '"';
    return p;
}

/* Fixed-point decimal with `dec` (3 or 4) decimals; |v| < 1000. */
static char *put_fixed(char *p, double v, int dec)
{
    int64_t scale = dec == 3 ? 1000 : 10000;
    int64_t x = (int64_t)((v < 0 ? -v : v) * (double)scale + 0.5);
    if (v < 0 && x)
        *p++ = '-';
    p = put_u(p, (uint64_t)(x / scale));
    *p++ = '.';
    int64_t f = x % scale;
    for (int64_t s = scale / 10; s; s /= 10)
        *p++ = (char)('0' + f / s % 10);
    return p;
}

static char *put_qstr(char *p, const char *s)
{
    *p++ = '"';
    p = put_str(p, s);
    *p++ = '"';
    return p;
}

/* JSON string with escaping (paths and command lines carry quotes and backslashes). */
static char *put_esc(char *p, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    *p++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20) {
            p = LIT(p, "\\u00");
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    return p;
}

static char *put_hex(char *p, uint64_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--)
        *p++ = hex[(v >> (4 * i)) & 15];
    return p;
}

/* "key": with a leading comma unless first; `key` is a literal so its length is constant. */
static char *put_key(char *p, const char *key, size_t n, int *first)
{
    if (!*first)
        *p++ = ',';
    *first = 0;
    *p++ = '"';
    memcpy(p, key, n);
    p += n;
    *p++ = '"';
    *p++ = ':';
    return p;
}
#define KEY(p, k, f) put_key((p), (k), sizeof(k) - 1, (f))

static char *put_kv_int_(char *p, const char *key, size_t n, int64_t v, int *first)
{
    return v < 0 ? p : put_u(put_key(p, key, n, first), (uint64_t)v);
}

static char *put_kv_str_(char *p, const char *key, size_t n, const char *v, int *first)
{
    return v ? put_esc(put_key(p, key, n, first), v) : p;
}

static char *put_kv_bool_(char *p, const char *key, size_t n, int v, int *first)
{
    if (v < 0)
        return p;
    p = put_key(p, key, n, first);
    return v ? LIT(p, "true") : LIT(p, "false");
}
#define put_kv_int(p, k, v, f) put_kv_int_((p), (k), sizeof(k) - 1, (v), (f))
#define put_kv_str(p, k, v, f) put_kv_str_((p), (k), sizeof(k) - 1, (v), (f))
#define put_kv_bool(p, k, v, f) put_kv_bool_((p), (k), sizeof(k) - 1, (v), (f))

static char *put_details(char *p, const struct sg_gen_ev *ev)
{
    int f = 1;
    const char *text = ev->text[0] ? ev->text : NULL;
    switch (ev->type) {
    case SG_GT_AUTH:
        p = put_kv_str(p, "auth_type", ev->s1, &f);
        p = put_kv_str(p, "failure_reason", ev->s2, &f);
        p = put_kv_int(p, "attempts_count", ev->n1, &f);
        break;
    case SG_GT_NET:
        p = put_kv_str(p, "protocol", ev->s1, &f);
        p = put_kv_int(p, "source_port", ev->n1, &f);
        p = put_kv_int(p, "destination_port", ev->n2, &f);
        p = put_kv_int(p, "bytes_sent", ev->n3, &f);
        p = put_kv_int(p, "bytes_received", ev->n4, &f);
        p = put_kv_int(p, "duration_ms", ev->n5, &f);
        p = put_kv_str(p, "connection_state", ev->s2, &f);
        break;
    case SG_GT_FILE:
        p = put_kv_str(p, "file_path", text, &f);
        p = put_kv_str(p, "operation", ev->s1, &f);
        p = put_kv_int(p, "file_size_bytes", ev->n1, &f);
        p = put_kv_bool(p, "access_denied", ev->b1, &f);
        p = put_kv_bool(p, "permissions_changed", ev->b2, &f);
        break;
    case SG_GT_PROC:
        p = put_kv_str(p, "process_name", ev->s1, &f);
        p = put_kv_str(p, "command_line", text, &f);
        p = put_kv_str(p, "user_privileges", ev->s2, &f);
        p = put_kv_int(p, "process_id", ev->n1, &f);
        p = put_kv_int(p, "parent_process_id", ev->n2, &f);
        p = put_kv_bool(p, "is_signed", ev->b1, &f);
        break;
    default:
        p = put_kv_str(p, "query_name", text, &f);
        p = put_kv_str(p, "query_type", ev->s1, &f);
        p = put_kv_str(p, "response_code", ev->s2, &f);
        p = put_kv_int(p, "ttl", ev->n1, &f);
        break;
    }
    return p;
}

/* The metadata geo fields of every place, rendered once (they never change). */
#define MAX_PLACES 64
static char geo_json[MAX_PLACES][128];
static uint8_t geo_len[MAX_PLACES];
static pthread_once_t geo_once = PTHREAD_ONCE_INIT;

static void geo_init(void)
{
    for (size_t i = 0; i < sg_gen_place_count && i < MAX_PLACES; i++) {
        const struct sg_gen_place *pl = &sg_gen_places[i];
        char *p = geo_json[i];
        p = LIT(p, ",\"geo_location\":");
        p = put_qstr(p, pl->geo);
        p = LIT(p, ",\"geo_lat\":");
        p = put_fixed(p, pl->lat, 4);
        p = LIT(p, ",\"geo_lon\":");
        p = put_fixed(p, pl->lon, 4);
        geo_len[i] = (uint8_t)(p - geo_json[i]);
    }
}

void sg_gen_model_render(const struct sg_gen_ev *ev, const struct sg_gen_user *u, uint64_t id_hi,
                         uint64_t id_lo, struct sg_buf *out)
{
    /* Upper bound: fixed text < 1 KiB, escaped text <= 6 x 224, user agent < 128. */
    sg_buf_reserve(out, 4096);
    pthread_once(&geo_once, geo_init);
    char *p = out->data + out->len;
    p = LIT(p, "{\"event_id\":\"evt_");
    p = put_hex(p, id_hi, 16);
    p = put_hex(p, id_lo, 16);
    p = LIT(p, "\",\"timestamp\":");
    p = put_ts(p, ev->ts);
    p = LIT(p, ",\"event_type\":");
    p = put_qstr(p, type_names[ev->type]);
    p = LIT(p, ",\"user\":\"");
    memcpy(p, u->name, u->name_len);
    p += u->name_len;
    p = LIT(p, "\",\"source_ip\":");
    p = put_qstr(p, ev->src_ip);
    if (ev->dst_ip[0]) {
        p = LIT(p, ",\"destination_ip\":");
        p = put_qstr(p, ev->dst_ip);
    }
    p = LIT(p, ",\"status\":");
    p = put_qstr(p, status_names[ev->status]);
    p = LIT(p, ",\"threat_score\":");
    p = put_fixed(p, ev->score, 3);
    p = LIT(p, ",\"metadata\":{\"hostname\":");
    p = put_qstr(p, ev->host);
    memcpy(p, geo_json[ev->place], geo_len[ev->place]);
    p += geo_len[ev->place];
    p = LIT(p, ",\"user_agent\":");
    p = put_qstr(p, ev->ua);
    p = LIT(p, ",\"session_id\":\"s-");
    p = put_hex(p, ev->session, 8);
    p = LIT(p, "\"},\"");
    p = put_str(p, detail_names[ev->type]);
    p = LIT(p, "\":{");
    p = put_details(p, ev);
    p = LIT(p, "}}");
    out->len = (size_t)(p - out->data);
    out->data[out->len] = '\0';
}
