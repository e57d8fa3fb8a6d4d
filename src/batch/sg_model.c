/* sg_model: model assembly, scoring of one vector, and the JSON model format (docs/MODEL.md).
 * JSON because the model is small (a 100-tree forest is ~1 MB), diffable and readable by any
 * tool; cJSON parses it on load. */
#include "batch/sg_model.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_hash.h"
#include "core/sg_mem.h"
#include "core/sg_time.h"

struct sg_model_base {
    uint64_t hash; /* 0 = empty slot */
    char *user;
    struct sg_baseline b;
};

static const char *const alg_names[] = {"iforest", "kmeans", "ensemble"};

int sg_model_algorithm_parse(const char *s, enum sg_algorithm *out)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, alg_names[i])) {
            *out = (enum sg_algorithm)i;
            return SG_OK;
        }
    return SG_ERR_INVALID;
}

const char *sg_model_algorithm_name(enum sg_algorithm a)
{
    return (unsigned)a < 3 ? alg_names[a] : "unknown";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void sg_model_quantiles(const double *v, size_t n, double *q)
{
    if (n == 0) {
        memset(q, 0, SG_MODEL_QUANTILES * sizeof *q);
        return;
    }
    double *s = sg_xmalloc(n * sizeof *s);
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    for (int i = 0; i < SG_MODEL_QUANTILES; i++) {
        double pos = (double)i / (SG_MODEL_QUANTILES - 1) * (double)(n - 1);
        size_t lo = (size_t)pos;
        double fr = pos - (double)lo;
        q[i] = lo + 1 < n ? s[lo] + fr * (s[lo + 1] - s[lo]) : s[n - 1];
    }
    free(s);
}

double sg_model_cdf(const double *q, double x)
{
    const int last = SG_MODEL_QUANTILES - 1;
    if (x < q[0])
        return 0;
    if (x >= q[last])
        return 1;
    int lo = 0, hi = last; /* first index with q > x */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (q[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    double a = q[lo - 1], b = q[lo];
    double fr = b > a ? (x - a) / (b - a) : 0;
    return (lo - 1 + fr) / last;
}

double sg_model_combine(const struct sg_model *m, double iforest, double kmeans_dist)
{
    switch (m->algorithm) {
    case SG_ALG_IFOREST: return iforest;
    case SG_ALG_KMEANS: return sg_model_cdf(m->q_kmeans, kmeans_dist);
    default:
        return 0.5 * (sg_model_cdf(m->q_iforest, iforest) + sg_model_cdf(m->q_kmeans, kmeans_dist));
    }
}

void sg_model_score(const struct sg_model *m, const double *raw, double *z,
                    struct sg_model_score *out)
{
    double tmp[SG_FEAT_COUNT];
    double *v = z ? z : tmp;
    sg_scaler_row(&m->scaler, raw, v);
    out->iforest = sg_iforest_score_one(m->forest, v);
    out->cluster = sg_kmeans_nearest(&m->km, v, NULL);
    out->kmeans_dist = sg_kmeans_score(&m->km, v);
    out->anomaly_score = sg_model_combine(m, out->iforest, out->kmeans_dist);
    out->is_anomaly = out->anomaly_score >= m->threshold;
}

int sg_model_top_features(const struct sg_model *m, const double *z, int *idx, int k)
{
    int n = 0;
    uint8_t used[SG_FEAT_COUNT] = {0};
    while (n < k) {
        int best = -1;
        /* near-ties (relative 1e-9) go to the lower index and |z| < 1e-9 counts as 0, so the
         * choice does not hinge on the last bits of z (an MPI run's sums differ there) */
        for (size_t j = 0; j < m->d && j < SG_FEAT_COUNT; j++)
            if (!used[j] && fabs(z[j]) > 1e-9 &&
                (best < 0 || fabs(z[j]) > fabs(z[best]) * (1 + 1e-9)))
                best = (int)j;
        if (best < 0)
            break;
        used[best] = 1;
        idx[n++] = best;
    }
    return n;
}

/* ---- save ---- */

static void put_array(struct sg_buf *b, const double *v, size_t n)
{
    sg_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            sg_buf_putc(b, ',');
        sg_buf_json_double(b, v[i]);
    }
    sg_buf_putc(b, ']');
}

/* Baselines are descriptive statistics: 6 significant digits are plenty, and one snprintf per
 * number is several times cheaper than the shortest round-trip form (10K users x 35 numbers). */
static void num6(struct sg_buf *b, double v)
{
    if (!isfinite(v)) {
        sg_buf_puts(b, "null");
        return;
    }
    if (v == 0) {
        sg_buf_putc(b, '0');
        return;
    }
    sg_buf_printf(b, "%.6g", v);
}

static void put_array6(struct sg_buf *b, const double *v, size_t n)
{
    sg_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            sg_buf_putc(b, ',');
        num6(b, v[i]);
    }
    sg_buf_putc(b, ']');
}

static int write_file(const char *path, const struct sg_buf *b, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return sg_err_from_errno(errno);
    }
    size_t w = fwrite(b->data ? b->data : "", 1, b->len, f);
    int bad = w != b->len || fflush(f) != 0 || ferror(f);
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(e));
        return sg_err_from_errno(e);
    }
    return SG_OK;
}

static void put_features(struct sg_buf *b)
{
    const struct sg_feature_def *defs = sg_features_defs();
    sg_buf_printf(b, "\"features_version\":%d,\"feature_hash\":\"%016" PRIx64 "\",\"features\":[",
                  SG_FEATURES_VERSION, sg_features_hash());
    for (int i = 0; i < SG_FEAT_COUNT; i++) {
        sg_buf_printf(b, "%s{\"name\":", i ? "," : "");
        sg_buf_json_str(b, defs[i].name, strlen(defs[i].name));
        sg_buf_printf(b, ",\"log1p\":%s}", defs[i].log1p ? "true" : "false");
    }
    sg_buf_puts(b, "],\n");
}

int sg_model_save(const struct sg_model *m, const char *dir, const char *meta_json, char *errbuf,
                  size_t errlen)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
        return sg_err_from_errno(errno);
    }
    struct sg_buf b;
    sg_buf_init(&b);
    sg_buf_printf(&b, "{\"format\":\"streamguard-model\",\"version\":%d,\n",
                  SG_MODEL_FORMAT_VERSION);
    put_features(&b);
    sg_buf_printf(&b,
                  "\"algorithm\":\"%s\",\"contamination\":", sg_model_algorithm_name(m->algorithm));
    sg_buf_json_double(&b, m->contamination);
    sg_buf_puts(&b, ",\"threshold\":");
    sg_buf_json_double(&b, m->threshold);
    sg_buf_printf(&b, ",\"seed\":\"%" PRIu64 "\",\n\"scaler\":{\"log1p\":[", m->seed);
    for (size_t j = 0; j < m->d; j++)
        sg_buf_printf(&b, "%s%d", j ? "," : "", m->scaler.log1p[j]);
    sg_buf_puts(&b, "],\"mean\":");
    put_array(&b, m->scaler.mean, m->d);
    sg_buf_puts(&b, ",\"std\":");
    put_array(&b, m->scaler.std, m->d);
    sg_buf_printf(&b, "},\n\"kmeans\":{\"k\":%d,\"centroids\":[", m->km.k);
    for (int c = 0; c < m->km.k; c++) {
        if (c)
            sg_buf_putc(&b, ',');
        put_array(&b, m->km.c + (size_t)c * m->d, m->d);
    }
    sg_buf_puts(&b, "],\"sizes\":[");
    for (int c = 0; c < m->km.k; c++)
        sg_buf_printf(&b, "%s%" PRIu64, c ? "," : "", m->km.size[c]);
    sg_buf_puts(&b, "]},\n\"quantiles\":{\"iforest\":");
    put_array(&b, m->q_iforest, SG_MODEL_QUANTILES);
    sg_buf_puts(&b, ",\"kmeans\":");
    put_array(&b, m->q_kmeans, SG_MODEL_QUANTILES);
    sg_buf_puts(&b, "},\n\"training\":");
    sg_buf_puts(&b, meta_json ? meta_json : "{}");
    sg_buf_puts(&b, ",\n\"iforest\":");
    sg_iforest_write_json(m->forest, &b);
    sg_buf_puts(&b, "}\n");
    char path[4096];
    snprintf(path, sizeof path, "%s/model.json", dir);
    int rc = write_file(path, &b, errbuf, errlen);
    sg_buf_release(&b);
    return rc;
}

void sg_model_baseline_line(const char *user, size_t len, const struct sg_features *f,
                            struct sg_buf *out)
{
    struct sg_baseline b;
    sg_features_baseline(f, &b);
    sg_buf_puts(out, "{\"user\":");
    sg_buf_json_str(out, user, len);
    sg_buf_printf(out, ",\"events\":%u,\"tz_hours\":%d,\"hour_share\":", f->n, b.tz_hours);
    put_array6(out, b.hour_share, 24);
    sg_buf_puts(out, ",\"events_per_day\":");
    num6(out, b.events_per_day);
    sg_buf_puts(out, ",\"bytes_per_event\":");
    num6(out, b.bytes_per_event);
    sg_buf_puts(out, ",\"failed_rate\":");
    num6(out, b.failed_rate);
    sg_buf_puts(out, ",\"ips\":[");
    for (int i = 0; i < b.n_ips; i++) {
        sg_buf_puts(out, i ? ",[" : "[");
        sg_buf_json_str(out, b.ips[i], strlen(b.ips[i]));
        sg_buf_putc(out, ',');
        num6(out, b.ip_share[i]);
        sg_buf_putc(out, ']');
    }
    sg_buf_puts(out, "],\"locations\":[");
    for (int i = 0; i < b.n_locs; i++) {
        sg_buf_puts(out, i ? ",[" : "[");
        sg_buf_json_str(out, b.locs[i], strlen(b.locs[i]));
        sg_buf_putc(out, ',');
        num6(out, b.loc_share[i]);
        sg_buf_putc(out, ']');
    }
    sg_buf_puts(out, "]}\n");
}

/* ---- load ---- */

static char *read_all(const char *path, size_t *len, char *errbuf, size_t errlen)
{
    struct sg_buf b;
    sg_buf_init(&b);
    if (sg_buf_read_file(&b, path, 0) != SG_OK) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    *len = b.len;
    return sg_buf_steal(&b);
}

static int get_doubles(const cJSON *arr, double *out, size_t n)
{
    if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != n)
        return -1;
    size_t i = 0;
    for (const cJSON *x = arr->child; x; x = x->next, i++) {
        if (!cJSON_IsNumber(x))
            return -1;
        out[i] = x->valuedouble;
    }
    return 0;
}

/* Checks the model's feature list against this build's; fills errbuf on mismatch. */
static int check_features(const cJSON *root, char *errbuf, size_t errlen)
{
    const cJSON *feats = cJSON_GetObjectItemCaseSensitive(root, "features");
    const cJSON *hash = cJSON_GetObjectItemCaseSensitive(root, "feature_hash");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "features_version");
    if (!cJSON_IsArray(feats) || !cJSON_IsString(hash)) {
        snprintf(errbuf, errlen, "model.json has no feature list");
        return -1;
    }
    char mine[17];
    snprintf(mine, sizeof mine, "%016" PRIx64, sg_features_hash());
    const struct sg_feature_def *defs = sg_features_defs();
    int i = 0, differs = 0;
    const char *theirs = "(none)", *ours = "(none)";
    for (const cJSON *f = feats->child;; f = f->next, i++) {
        const cJSON *nm = f ? cJSON_GetObjectItemCaseSensitive(f, "name") : NULL;
        const char *t = cJSON_IsString(nm) ? nm->valuestring : NULL;
        const char *o = i < SG_FEAT_COUNT ? defs[i].name : NULL;
        if (!t && !o)
            break;
        const cJSON *lg = f ? cJSON_GetObjectItemCaseSensitive(f, "log1p") : NULL;
        if (!t || !o || strcmp(t, o) || (o && cJSON_IsTrue(lg) != (defs[i].log1p != 0))) {
            theirs = t ? t : "(end of list)";
            ours = o ? o : "(end of list)";
            differs = 1;
            break;
        }
        if (!f)
            break;
    }
    /* the names and flags are compared one by one; the hash also covers the version */
    if (!differs && !strcmp(hash->valuestring, mine))
        return 0;
    snprintf(errbuf, errlen,
             "model was trained with a different feature list: model has %d features "
             "(version %d, hash %s), this build has %d (version %d, hash %s); first "
             "difference at #%d: model '%s' vs build '%s' - retrain with `streamguard batch`",
             cJSON_GetArraySize(feats), cJSON_IsNumber(ver) ? ver->valueint : -1, hash->valuestring,
             SG_FEAT_COUNT, SG_FEATURES_VERSION, mine, i, theirs, ours);
    return -1;
}

static int load_scaler_kmeans(struct sg_model *m, const cJSON *root, char *errbuf, size_t errlen)
{
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(root, "scaler");
    const cJSON *km = cJSON_GetObjectItemCaseSensitive(root, "kmeans");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "quantiles");
    sg_scaler_init(&m->scaler, m->d);
    double lg[SG_FEAT_COUNT];
    if (get_doubles(cJSON_GetObjectItemCaseSensitive(sc, "log1p"), lg, m->d) ||
        get_doubles(cJSON_GetObjectItemCaseSensitive(sc, "mean"), m->scaler.mean, m->d) ||
        get_doubles(cJSON_GetObjectItemCaseSensitive(sc, "std"), m->scaler.std, m->d)) {
        snprintf(errbuf, errlen, "model.json: malformed scaler");
        return -1;
    }
    for (size_t j = 0; j < m->d; j++)
        m->scaler.log1p[j] = lg[j] != 0;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(km, "k");
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(km, "centroids");
    if (!cJSON_IsNumber(k) || k->valueint < 1 || cJSON_GetArraySize(cs) != k->valueint) {
        snprintf(errbuf, errlen, "model.json: malformed kmeans");
        return -1;
    }
    m->km.k = k->valueint;
    m->km.d = m->d;
    m->km.c = sg_xcalloc((size_t)m->km.k * m->d, sizeof(double));
    int c = 0;
    for (const cJSON *row = cs->child; row; row = row->next, c++)
        if (get_doubles(row, m->km.c + (size_t)c * m->d, m->d)) {
            snprintf(errbuf, errlen, "model.json: malformed centroid %d", c);
            return -1;
        }
    double sizes[1000];
    if (m->km.k > 1000 ||
        get_doubles(cJSON_GetObjectItemCaseSensitive(km, "sizes"), sizes, (size_t)m->km.k)) {
        snprintf(errbuf, errlen, "model.json: malformed kmeans sizes");
        return -1;
    }
    m->km.size = sg_xcalloc((size_t)m->km.k, sizeof *m->km.size);
    m->km.large = sg_xcalloc((size_t)m->km.k, 1);
    for (int i = 0; i < m->km.k; i++)
        m->km.size[i] = sizes[i] > 0 ? (uint64_t)sizes[i] : 0;
    sg_kmeans_mark_large(&m->km);
    if (get_doubles(cJSON_GetObjectItemCaseSensitive(q, "iforest"), m->q_iforest,
                    SG_MODEL_QUANTILES) ||
        get_doubles(cJSON_GetObjectItemCaseSensitive(q, "kmeans"), m->q_kmeans,
                    SG_MODEL_QUANTILES)) {
        snprintf(errbuf, errlen, "model.json: malformed quantiles");
        return -1;
    }
    return 0;
}

/* "training": {"history": {"first_ms": A, "last_ms": B}, ...}; absent in older models (then
 * both stay 0). Present but malformed is an error. */
static int load_history(struct sg_model *m, const cJSON *training, char *errbuf, size_t errlen)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(training, "history");
    if (!h)
        return 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(h, "first_ms");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(h, "last_ms");
    /* event times are epoch ms; 2^53 keeps the double -> int64 conversion exact and defined */
    if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || !(a->valuedouble >= 0) ||
        !(b->valuedouble >= a->valuedouble) || b->valuedouble > 9007199254740992.0) {
        snprintf(errbuf, errlen, "model.json: malformed training.history");
        return -1;
    }
    m->history_first_ms = (int64_t)a->valuedouble;
    m->history_last_ms = (int64_t)b->valuedouble;
    return 0;
}

static int load_root(struct sg_model *m, const cJSON *root, char *errbuf, size_t errlen)
{
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "streamguard-model") ||
        !cJSON_IsNumber(ver)) {
        snprintf(errbuf, errlen, "model.json is not a streamguard model");
        return -1;
    }
    if (ver->valueint != SG_MODEL_FORMAT_VERSION) {
        snprintf(errbuf, errlen, "model format version %d is not supported (this build reads %d)",
                 ver->valueint, SG_MODEL_FORMAT_VERSION);
        return -1;
    }
    if (check_features(root, errbuf, errlen))
        return -1;
    m->d = SG_FEAT_COUNT;
    m->feature_hash = sg_features_hash();
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(root, "algorithm");
    const cJSON *cont = cJSON_GetObjectItemCaseSensitive(root, "contamination");
    const cJSON *thr = cJSON_GetObjectItemCaseSensitive(root, "threshold");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(root, "seed");
    if (!cJSON_IsString(alg) || sg_model_algorithm_parse(alg->valuestring, &m->algorithm) ||
        !cJSON_IsNumber(cont) || !cJSON_IsNumber(thr)) {
        snprintf(errbuf, errlen, "model.json: malformed algorithm/contamination/threshold");
        return -1;
    }
    m->contamination = cont->valuedouble;
    m->threshold = thr->valuedouble;
    m->seed = cJSON_IsString(seed) ? strtoull(seed->valuestring, NULL, 10) : 0;
    if (load_scaler_kmeans(m, root, errbuf, errlen))
        return -1;
    m->forest =
        sg_iforest_from_json(cJSON_GetObjectItemCaseSensitive(root, "iforest"), errbuf, errlen);
    if (!m->forest)
        return -1;
    if (sg_iforest_dims(m->forest) != m->d) {
        snprintf(errbuf, errlen, "model.json: forest dimension differs from the feature list");
        return -1;
    }
    return load_history(m, cJSON_GetObjectItemCaseSensitive(root, "training"), errbuf, errlen);
}

static void base_put(struct sg_model *m, const char *user, const struct sg_baseline *b)
{
    if ((m->nbase + 1) * 2 > m->base_cap) {
        size_t cap = m->base_cap ? m->base_cap * 2 : 1024;
        struct sg_model_base *nb = sg_xcalloc(cap, sizeof *nb);
        for (size_t i = 0; i < m->base_cap; i++)
            if (m->base[i].hash) {
                size_t h = m->base[i].hash & (cap - 1);
                while (nb[h].hash)
                    h = (h + 1) & (cap - 1);
                nb[h] = m->base[i];
            }
        free(m->base);
        m->base = nb;
        m->base_cap = cap;
    }
    uint64_t hash = sg_hash_bytes(user, strlen(user), 1) | 1;
    size_t h = hash & (m->base_cap - 1);
    while (m->base[h].hash) {
        if (m->base[h].hash == hash && !strcmp(m->base[h].user, user)) {
            m->base[h].b = *b; /* duplicate line: last wins */
            return;
        }
        h = (h + 1) & (m->base_cap - 1);
    }
    m->base[h].hash = hash;
    m->base[h].user = sg_xstrdup(user);
    m->base[h].b = *b;
    m->nbase++;
}

static void copy_text(char *dst, const cJSON *s)
{
    dst[0] = 0;
    if (cJSON_IsString(s) && strlen(s->valuestring) < SG_TOPK_TEXT)
        memcpy(dst, s->valuestring, strlen(s->valuestring) + 1);
}

static int parse_baseline(const cJSON *o, struct sg_baseline *b)
{
    memset(b, 0, sizeof *b);
    const cJSON *tz = cJSON_GetObjectItemCaseSensitive(o, "tz_hours");
    const cJSON *epd = cJSON_GetObjectItemCaseSensitive(o, "events_per_day");
    const cJSON *bpe = cJSON_GetObjectItemCaseSensitive(o, "bytes_per_event");
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(o, "failed_rate");
    if (!cJSON_IsNumber(tz) || !cJSON_IsNumber(epd) || !cJSON_IsNumber(bpe) ||
        !cJSON_IsNumber(fr) ||
        get_doubles(cJSON_GetObjectItemCaseSensitive(o, "hour_share"), b->hour_share, 24))
        return -1;
    b->tz_hours = tz->valueint;
    b->events_per_day = epd->valuedouble;
    b->bytes_per_event = bpe->valuedouble;
    b->failed_rate = fr->valuedouble;
    const cJSON *ips = cJSON_GetObjectItemCaseSensitive(o, "ips");
    const cJSON *locs = cJSON_GetObjectItemCaseSensitive(o, "locations");
    for (const cJSON *p = ips ? ips->child : NULL; p && b->n_ips < SG_BASELINE_TOP; p = p->next) {
        copy_text(b->ips[b->n_ips], cJSON_GetArrayItem(p, 0));
        const cJSON *sh = cJSON_GetArrayItem(p, 1);
        b->ip_share[b->n_ips++] = cJSON_IsNumber(sh) ? sh->valuedouble : 0;
    }
    for (const cJSON *p = locs ? locs->child : NULL; p && b->n_locs < SG_BASELINE_TOP;
         p = p->next) {
        copy_text(b->locs[b->n_locs], cJSON_GetArrayItem(p, 0));
        const cJSON *sh = cJSON_GetArrayItem(p, 1);
        b->loc_share[b->n_locs++] = cJSON_IsNumber(sh) ? sh->valuedouble : 0;
    }
    return 0;
}

static int load_baselines(struct sg_model *m, const char *dir, char *errbuf, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/baselines.ndjson", dir);
    struct stat st;
    if (stat(path, &st) != 0)
        return 0; /* optional */
    size_t len;
    char *text = read_all(path, &len, errbuf, errlen);
    if (!text)
        return -1;
    int line = 0, rc = 0;
    for (char *p = text, *nl; p < text + len && rc == 0; p = nl + 1) {
        line++;
        nl = memchr(p, '\n', (size_t)(text + len - p));
        if (!nl)
            nl = text + len;
        *nl = 0;
        if (p == nl)
            continue;
        cJSON *o = cJSON_Parse(p);
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "user");
        struct sg_baseline b;
        if (!cJSON_IsString(u) || parse_baseline(o, &b)) {
            snprintf(errbuf, errlen, "%s:%d: malformed baseline", path, line);
            rc = -1;
        } else {
            base_put(m, u->valuestring, &b);
        }
        cJSON_Delete(o);
    }
    free(text);
    return rc;
}

struct sg_model *sg_model_parse(const char *json, size_t len, char *errbuf, size_t errlen)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    struct sg_model *m = sg_xcalloc(1, sizeof *m);
    int bad = 0;
    if (!root) {
        snprintf(errbuf, errlen, "model.json: not valid JSON");
        bad = 1;
    } else if (load_root(m, root, errbuf, errlen)) {
        bad = 1;
    }
    cJSON_Delete(root);
    if (bad) {
        sg_model_free(m);
        return NULL;
    }
    m->id = sg_hash_bytes(json, len, 0x4d4f44454cu) | 1; /* never 0 = "no model" */
    return m;
}

struct sg_model *sg_model_load(const char *dir, char *errbuf, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.json", dir);
    size_t len;
    char *text = read_all(path, &len, errbuf, errlen);
    if (!text)
        return NULL;
    char err[400];
    struct sg_model *m = sg_model_parse(text, len, err, sizeof err);
    free(text);
    if (!m) {
        snprintf(errbuf, errlen, "%s: %s", dir, err);
        return NULL;
    }
    if (load_baselines(m, dir, errbuf, errlen)) {
        sg_model_free(m);
        return NULL;
    }
    return m;
}

void sg_model_free(struct sg_model *m)
{
    if (!m)
        return;
    if (m->scaler.mean)
        sg_scaler_release(&m->scaler);
    sg_iforest_free(m->forest);
    sg_kmeans_release(&m->km);
    for (size_t i = 0; i < m->base_cap; i++)
        free(m->base[i].user);
    free(m->base);
    free(m);
}

const struct sg_baseline *sg_model_baseline(const struct sg_model *m, const char *user, size_t len)
{
    if (!m->base_cap)
        return NULL;
    uint64_t hash = sg_hash_bytes(user, len, 1) | 1;
    size_t h = hash & (m->base_cap - 1);
    while (m->base[h].hash) {
        if (m->base[h].hash == hash && strlen(m->base[h].user) == len &&
            !memcmp(m->base[h].user, user, len))
            return &m->base[h].b;
        h = (h + 1) & (m->base_cap - 1);
    }
    return NULL;
}
