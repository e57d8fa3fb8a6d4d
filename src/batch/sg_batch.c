/* sg_batch: phases 2-4 of the batch pipeline (features, models, output); see sg_batch.h.
 * Every phase is deterministic for a seed and independent of the thread count. */
#include "batch/sg_batch.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/sg_report.h"
#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_time.h"
#include "storage/sg_parquet.h"

static double now_s(void)
{
    return (double)sg_time_mono_ns() / 1e9;
}

/* ---- phase 2: features ---- */

struct feat_job {
    struct sg_batch_data *data;
    size_t lo, hi;
};

static void *feat_worker(void *arg)
{
    struct feat_job *j = arg;
    for (size_t i = j->lo; i < j->hi; i++)
        sg_features_finish(&j->data->users[i]->f, j->data->raw + i * j->data->d);
    return NULL;
}

void sg_batch_features(struct sg_users *u, int threads, struct sg_batch_data *data)
{
    memset(data, 0, sizeof *data);
    data->users = sg_users_sorted(u, &data->n);
    data->d = SG_FEAT_COUNT;
    size_t n = data->n ? data->n : 1;
    data->raw = sg_xcalloc(n * data->d, sizeof(double));
    data->z = sg_xcalloc(n * data->d, sizeof(double));
    data->iforest = sg_xcalloc(n, sizeof(double));
    data->kdist = sg_xcalloc(n, sizeof(double));
    data->score = sg_xcalloc(n, sizeof(double));
    data->cluster = sg_xcalloc(n, sizeof(int));
    data->anomalous = sg_xcalloc(n, 1);
    int nt = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    pthread_t tid[64];
    struct feat_job jobs[64];
    int started[64] = {0};
    for (int i = 0; i < nt; i++)
        jobs[i] = (struct feat_job){data, data->n * (size_t)i / (size_t)nt,
                                    data->n * (size_t)(i + 1) / (size_t)nt};
    for (int i = 1; i < nt; i++)
        started[i] = pthread_create(&tid[i], NULL, feat_worker, &jobs[i]) == 0;
    feat_worker(&jobs[0]);
    for (int i = 1; i < nt; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            feat_worker(&jobs[i]);
    }
}

void sg_batch_data_release(struct sg_batch_data *data)
{
    free(data->users);
    free(data->raw);
    free(data->z);
    free(data->iforest);
    free(data->kdist);
    free(data->score);
    free(data->cluster);
    free(data->anomalous);
    memset(data, 0, sizeof *data);
}

/* ---- phase 3: models ---- */

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static double contamination_threshold(const double *score, size_t n, double contamination)
{
    if (n == 0)
        return INFINITY;
    double *s = sg_xmalloc(n * sizeof *s);
    memcpy(s, score, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_desc);
    size_t k = (size_t)llround(contamination * (double)n);
    double t = k == 0 ? nextafter(s[0], INFINITY) : s[k - 1];
    free(s);
    return t;
}

static void fit_kmeans(struct sg_batch_data *data, const struct sg_batch_params *p,
                       struct sg_model *m)
{
    struct sg_kmeans_params kp = {.k = p->k, .max_iter = 20, .tol = 1e-4, .seed = p->seed};
    if (p->k <= 0)
        kp.k = data->n >= 3 ? sg_kmeans_choose_k(data->z, data->n, data->d, 10, &kp, 1000) : 1;
    sg_kmeans_fit(&m->km, data->z, data->n ? data->n : 1, data->d, &kp);
    for (size_t i = 0; i < data->n; i++) {
        data->cluster[i] = sg_kmeans_nearest(&m->km, data->z + i * data->d, NULL);
        data->kdist[i] = sg_kmeans_score(&m->km, data->z + i * data->d);
    }
}

void sg_batch_fit(struct sg_batch_data *data, const struct sg_batch_params *p, struct sg_model *m,
                  struct sg_batch_timings *t)
{
    size_t n = data->n, d = data->d;
    const double zero_row[SG_FEAT_COUNT] = {0};
    const double *fitX = n ? data->raw : zero_row; /* an empty run still yields a model */
    size_t fitn = n ? n : 1;
    int lg[SG_FEAT_COUNT];
    for (size_t j = 0; j < d; j++)
        lg[j] = sg_features_defs()[j].log1p;
    double t0 = now_s();
    m->d = d;
    m->feature_hash = sg_features_hash();
    m->algorithm = p->algorithm;
    m->contamination = p->contamination;
    m->seed = p->seed;
    sg_scaler_fit(&m->scaler, fitX, fitn, d, lg);
    memcpy(data->z, data->raw, n * d * sizeof(double));
    sg_scaler_apply(&m->scaler, data->z, n);
    double t1 = now_s();
    struct sg_iforest_params ip = {
        .trees = p->trees, .psi = p->psi, .seed = p->seed, .threads = p->threads};
    m->forest = sg_iforest_fit(n ? data->z : zero_row, fitn, d, &ip);
    sg_iforest_score(m->forest, data->z, n, data->iforest, p->threads);
    double t2 = now_s();
    fit_kmeans(data, p, m);
    double t3 = now_s();
    sg_model_quantiles(data->iforest, n, m->q_iforest);
    sg_model_quantiles(data->kdist, n, m->q_kmeans);
    for (size_t i = 0; i < n; i++)
        data->score[i] = sg_model_combine(m, data->iforest[i], data->kdist[i]);
    m->threshold = contamination_threshold(data->score, n, p->contamination);
    for (size_t i = 0; i < n; i++)
        data->anomalous[i] = data->score[i] >= m->threshold;
    if (t) {
        t->scale_s = t1 - t0;
        t->iforest_s = t2 - t1;
        t->kmeans_s = t3 - t2 + (now_s() - t3);
    }
}

/* ---- phase 4: output ---- */

static void features_json(struct sg_buf *b)
{
    const struct sg_feature_def *defs = sg_features_defs();
    sg_buf_printf(b, "{\"version\":%d,\"hash\":\"%016" PRIx64 "\",\"features\":[",
                  SG_FEATURES_VERSION, sg_features_hash());
    for (int i = 0; i < SG_FEAT_COUNT; i++) {
        sg_buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        sg_buf_json_str(b, defs[i].name, strlen(defs[i].name));
        sg_buf_printf(b, ",\"log1p\":%s,\"help\":", defs[i].log1p ? "true" : "false");
        sg_buf_json_str(b, defs[i].help, strlen(defs[i].help));
        sg_buf_putc(b, '}');
    }
    sg_buf_puts(b, "]}");
}

static struct sg_pq_column *make_columns(size_t *ncols)
{
    size_t d = SG_FEAT_COUNT, n = d + 8, c = 0;
    struct sg_pq_column *cols = sg_xcalloc(n, sizeof *cols);
    cols[c++] = (struct sg_pq_column){"user", SG_PQ_STRING, 0};
    for (size_t j = 0; j < d; j++)
        cols[c++] = (struct sg_pq_column){sg_features_defs()[j].name, SG_PQ_DOUBLE, 0};
    cols[c++] = (struct sg_pq_column){"iforest_score", SG_PQ_DOUBLE, 0};
    cols[c++] = (struct sg_pq_column){"kmeans_distance", SG_PQ_DOUBLE, 0};
    cols[c++] = (struct sg_pq_column){"cluster", SG_PQ_INT32, 0};
    cols[c++] = (struct sg_pq_column){"anomaly_score", SG_PQ_DOUBLE, 0};
    cols[c++] = (struct sg_pq_column){"first_seen", SG_PQ_TIMESTAMP_MS, 0};
    cols[c++] = (struct sg_pq_column){"last_seen", SG_PQ_TIMESTAMP_MS, 0};
    cols[c++] = (struct sg_pq_column){"top_features", SG_PQ_STRING, 0};
    *ncols = c;
    return cols;
}

/* "name:+z,name:+z,name:+z": the features with the largest standardised deviations. */
static void top_features_text(const struct sg_model *m, const double *z, struct sg_buf *out)
{
    int idx[SG_BATCH_TOP_FEATURES];
    int k = sg_model_top_features(m, z, idx, SG_BATCH_TOP_FEATURES);
    for (int j = 0; j < k; j++)
        sg_buf_printf(out, "%s%s:%+.2f", j ? "," : "", sg_features_defs()[idx[j]].name, z[idx[j]]);
}

/* Writes the rows with anomalous == flag as one part file. */
static int write_part(struct sg_pq_dataset *ds, const struct sg_batch_data *data,
                      const struct sg_model *m, int flag, int part_no,
                      const struct sg_pq_options *opt, char *errbuf, size_t errlen)
{
    size_t ncols, d = data->d, rows = 0;
    struct sg_pq_column *cols = make_columns(&ncols);
    for (size_t i = 0; i < data->n; i++)
        rows += data->anomalous[i] == flag;
    size_t r1 = rows ? rows : 1;
    struct sg_pq_str *user = sg_xmalloc(r1 * sizeof *user);
    double *dbl = sg_xmalloc(r1 * (d + 3) * sizeof *dbl); /* features, iforest, kdist, score */
    int32_t *cl = sg_xmalloc(r1 * sizeof *cl);
    int64_t *ts = sg_xmalloc(r1 * 2 * sizeof *ts);
    struct sg_pq_str *why = sg_xmalloc(r1 * sizeof *why);
    struct sg_buf text; /* all rows' top_features, offsets fixed up after the loop */
    sg_buf_init(&text);
    size_t *off = sg_xmalloc((r1 + 1) * sizeof *off);
    size_t r = 0;
    for (size_t i = 0; i < data->n; i++) {
        if (data->anomalous[i] != flag)
            continue;
        const struct sg_user *u = data->users[i];
        user[r] = (struct sg_pq_str){u->name, u->len};
        for (size_t j = 0; j < d; j++)
            dbl[j * r1 + r] = data->raw[i * d + j];
        dbl[d * r1 + r] = data->iforest[i];
        dbl[(d + 1) * r1 + r] = data->kdist[i];
        dbl[(d + 2) * r1 + r] = data->score[i];
        cl[r] = data->cluster[i];
        ts[r] = u->f.first_ts;
        ts[r1 + r] = u->f.last_ts;
        off[r] = text.len;
        top_features_text(m, data->z + i * d, &text);
        r++;
    }
    off[r] = text.len;
    for (size_t k = 0; k < r; k++)
        why[k] = (struct sg_pq_str){text.data ? text.data + off[k] : "",
                                    (uint32_t)(off[k + 1] - off[k])};
    const void **vals = sg_xmalloc(ncols * sizeof *vals);
    size_t c = 0;
    vals[c++] = user;
    for (size_t j = 0; j < d + 2; j++)
        vals[c++] = dbl + j * r1;
    vals[c++] = cl;
    vals[c++] = dbl + (d + 2) * r1;
    vals[c++] = ts;
    vals[c++] = ts + r1;
    vals[c++] = why;
    char part[32];
    snprintf(part, sizeof part, "is_anomaly=%d", flag);
    int rc = SG_OK;
    struct sg_pq_writer *w = sg_pq_dataset_part(ds, part, part_no, cols, ncols, opt, errbuf, errlen);
    if (!w) {
        rc = SG_ERR_IO;
    } else if ((rc = sg_pq_write_batch(w, vals, NULL, rows)) != SG_OK) {
        snprintf(errbuf, errlen, "%s", sg_pq_writer_error(w));
        sg_pq_writer_abort(w);
    } else {
        rc = sg_pq_writer_close(w, errbuf, errlen);
    }
    free(vals);
    free(user);
    free(dbl);
    free(cl);
    free(ts);
    free(why);
    free(off);
    sg_buf_release(&text);
    free(cols);
    return rc;
}

static int write_text(const char *dir, const char *name, const struct sg_buf *b, char *errbuf,
                      size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return sg_err_from_errno(errno);
    }
    int bad = fwrite(b->data ? b->data : "", 1, b->len, f) != b->len || fflush(f) != 0;
    int e = errno;
    bad |= fclose(f) != 0;
    if (bad) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(e ? e : EIO));
        return sg_err_from_errno(e ? e : EIO);
    }
    return SG_OK;
}

static int write_model(const char *tmp, const struct sg_batch_data *data, const struct sg_model *m,
                       const struct sg_batch_params *p, const struct sg_ingest_stats *st,
                       char *errbuf, size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/model", tmp);
    struct sg_buf meta, base;
    sg_buf_init(&meta);
    sg_buf_init(&base);
    int64_t first = INT64_MAX, last = 0;
    for (size_t i = 0; i < data->n; i++) {
        if (data->users[i]->f.first_ts < first)
            first = data->users[i]->f.first_ts;
        if (data->users[i]->f.last_ts > last)
            last = data->users[i]->f.last_ts;
    }
    if (first > last || first < 0) /* no users; or pre-1970 times the model cannot record */
        first = last = 0;
    sg_buf_printf(&meta,
                  "{\"users\":%zu,\"events\":%" PRIu64 ",\"trees\":%d,\"psi\":%d,"
                  "\"k\":%d,\"history\":{\"first_ms\":%" PRId64 ",\"last_ms\":%" PRId64
                  "},\"config\":%s}",
                  data->n, st->valid, p->trees, p->psi, m->km.k, first, last,
                  p->config_json ? p->config_json : "{}");
    int rc = sg_model_save(m, dir, meta.data, errbuf, errlen);
    for (size_t i = 0; rc == SG_OK && i < data->n; i++)
        sg_model_baseline_line(data->users[i]->name, data->users[i]->len, &data->users[i]->f,
                               &base);
    if (rc == SG_OK)
        rc = write_text(dir, "baselines.ndjson", &base, errbuf, errlen);
    sg_buf_release(&meta);
    sg_buf_release(&base);
    return rc;
}

static int write_reports(const char *tmp, const struct sg_batch_data *data,
                         const struct sg_model *m, const struct sg_batch_params *p,
                         const struct sg_ingest_stats *st, const struct sg_batch_timings *t,
                         char *errbuf, size_t errlen)
{
    struct sg_buf b;
    sg_buf_init(&b);
    sg_report_json(data, m, p, st, t, 20, &b);
    int rc = write_text(tmp, "anomaly_report.json", &b, errbuf, errlen);
    sg_buf_reset(&b);
    sg_report_md(data, m, p, st, t, 20, &b);
    if (rc == SG_OK)
        rc = write_text(tmp, "anomaly_report.md", &b, errbuf, errlen);
    sg_buf_release(&b);
    return rc;
}

int sg_batch_write_parts(struct sg_pq_dataset *ds, const struct sg_batch_data *data,
                         const struct sg_model *m, const struct sg_batch_params *p, int part,
                         char *errbuf, size_t errlen)
{
    struct sg_buf feats, seed;
    sg_buf_init(&feats);
    sg_buf_init(&seed);
    features_json(&feats);
    sg_buf_printf(&seed, "%" PRIu64, p->seed);
    struct sg_pq_kv kv[] = {
        {"streamguard.version", p->version ? p->version : "unknown"},
        {"streamguard.config", p->config_json ? p->config_json : "{}"},
        {"streamguard.seed", seed.data},
        {"streamguard.algorithm", sg_model_algorithm_name(m->algorithm)},
        {"streamguard.features", feats.data},
    };
    struct sg_pq_options opt;
    sg_pq_options_default(&opt);
    if (p->parquet_codec)
        sg_pq_codec_parse(p->parquet_codec, &opt.codec);
    opt.kv = kv;
    opt.kv_count = sizeof kv / sizeof kv[0];
    int rc = write_part(ds, data, m, 0, part, &opt, errbuf, errlen);
    if (rc == SG_OK)
        rc = write_part(ds, data, m, 1, part, &opt, errbuf, errlen);
    sg_buf_release(&feats);
    sg_buf_release(&seed);
    return rc;
}

int sg_batch_write(const char *dir, const struct sg_batch_data *data, const struct sg_model *m,
                   const struct sg_batch_params *p, const struct sg_ingest_stats *st,
                   struct sg_batch_timings *t, char *errbuf, size_t errlen)
{
    double t0 = now_s();
    struct sg_pq_dataset *ds = sg_pq_dataset_new(dir, errbuf, errlen);
    if (!ds)
        return SG_ERR_IO;
    const char *tmp = sg_pq_dataset_tmpdir(ds);
    int rc = sg_batch_write_parts(ds, data, m, p, 0, errbuf, errlen);
    /* Fault-injection hook for tests/e2e/batch.sh: hold the half-written output for a while so
     * a kill -9 is certain to land mid-write. Unset in production. */
    const char *hold = getenv("STREAMGUARD_TEST_HOLD_WRITE_MS");
    if (rc == SG_OK && hold)
        usleep((useconds_t)(atoi(hold) * 1000));
    if (rc == SG_OK)
        rc = write_model(tmp, data, m, p, st, errbuf, errlen);
    if (t) /* the report includes the write time up to this point */
        t->write_s = now_s() - t0;
    if (rc == SG_OK)
        rc = write_reports(tmp, data, m, p, st, t, errbuf, errlen);
    if (rc != SG_OK) {
        sg_pq_dataset_abort(ds);
        return rc;
    }
    rc = sg_pq_dataset_commit(ds, errbuf, errlen);
    if (t)
        t->write_s = now_s() - t0;
    return rc;
}
