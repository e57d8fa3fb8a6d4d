/* sg_report: anomaly_report.json and anomaly_report.md (see sg_report.h). */
#include "batch/sg_report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_mem.h"
#include "core/sg_time.h"

size_t sg_report_top(const struct sg_batch_data *data, size_t top, size_t *idx)
{
    size_t m = 0;
    /* selection of the best `top` (top is small; n may be large: O(n * top)) */
    while (m < top) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < data->n; i++) {
            if (!data->anomalous[i])
                continue;
            int taken = 0;
            for (size_t k = 0; k < m && !taken; k++)
                taken = idx[k] == i;
            if (!taken && (best == SIZE_MAX || data->score[i] > data->score[best]))
                best = i;
        }
        if (best == SIZE_MAX)
            break;
        idx[m++] = best;
    }
    return m;
}

static void ts_str(int64_t ms, char *out, size_t cap)
{
    if (!sg_time_format_rfc3339(ms, out, cap))
        out[0] = 0;
}

static void json_num(struct sg_buf *b, const char *key, double v, int comma)
{
    sg_buf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    sg_buf_json_double(b, v);
}

static void json_anomaly(struct sg_buf *b, const struct sg_batch_data *data,
                         const struct sg_model *m, size_t i)
{
    const struct sg_user *u = data->users[i];
    const double *raw = data->raw + i * data->d, *z = data->z + i * data->d;
    char a[32], c[32];
    ts_str(u->f.first_ts, a, sizeof a);
    ts_str(u->f.last_ts, c, sizeof c);
    sg_buf_puts(b, "{\"user\":");
    sg_buf_json_str(b, u->name, u->len);
    json_num(b, "anomaly_score", data->score[i], 1);
    json_num(b, "iforest_score", data->iforest[i], 1);
    json_num(b, "kmeans_distance", data->kdist[i], 1);
    sg_buf_printf(b, ",\"cluster\":%d,\"events\":%u", data->cluster[i], u->f.n);
    json_num(b, "avg_threat_score", u->f.n ? u->f.threat_sum / u->f.n : 0, 1);
    sg_buf_printf(b, ",\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"top_features\":[", a, c);
    int idx[SG_BATCH_TOP_FEATURES];
    int k = sg_model_top_features(m, z, idx, SG_BATCH_TOP_FEATURES);
    for (int j = 0; j < k; j++) {
        const char *name = sg_features_defs()[idx[j]].name;
        sg_buf_puts(b, j ? ",{\"name\":" : "{\"name\":");
        sg_buf_json_str(b, name, strlen(name));
        json_num(b, "value", raw[idx[j]], 1);
        json_num(b, "z", z[idx[j]], 1);
        sg_buf_putc(b, '}');
    }
    sg_buf_puts(b, "]}");
}

/* Flagged users counted by the feature with their largest |z| (what made them stand out).
 * Needs every user's row, or the counts a distributed driver summed over its ranks. */
static void count_by_top_feature(const struct sg_batch_data *data, const struct sg_model *m,
                                 uint32_t *cnt)
{
    memset(cnt, 0, SG_FEAT_COUNT * sizeof *cnt);
    if (data->has_totals) { /* a distributed driver counted every rank's users */
        memcpy(cnt, data->total_by_top_feature, SG_FEAT_COUNT * sizeof *cnt);
        return;
    }
    for (size_t i = 0; i < data->n; i++) {
        int idx;
        if (data->anomalous[i] && sg_model_top_features(m, data->z + i * data->d, &idx, 1) == 1)
            cnt[idx]++;
    }
}

static size_t count_users(const struct sg_batch_data *data)
{
    return data->has_totals ? data->total_users : data->n;
}

static size_t count_anomalous(const struct sg_batch_data *data)
{
    if (data->has_totals)
        return data->total_anomalous;
    size_t a = 0;
    for (size_t i = 0; i < data->n; i++)
        a += data->anomalous[i];
    return a;
}

static void json_totals(struct sg_buf *b, const struct sg_batch_data *data,
                        const struct sg_ingest_stats *st)
{
    size_t an = count_anomalous(data);
    sg_buf_printf(b,
                  "\"totals\":{\"messages\":%" PRIu64 ",\"valid\":%" PRIu64 ",\"invalid\":%" PRIu64,
                  st->messages, st->valid, st->invalid);
    json_num(b, "invalid_ratio", st->messages ? (double)st->invalid / st->messages : 0, 1);
    sg_buf_printf(b,
                  ",\"blank_lines\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"users\":%zu,"
                  "\"anomalous_users\":%zu",
                  st->blank_lines, st->bytes, count_users(data), an);
    json_num(b, "anomaly_rate", count_users(data) ? (double)an / count_users(data) : 0, 1);
    sg_buf_puts(b, "},\n\"invalid_by_reason\":{");
    int first = 1;
    for (int r = 1; r < SG_REASON_COUNT; r++) {
        if (!st->by_reason[r])
            continue;
        sg_buf_printf(
            b, "%s\"%s\":{\"count\":%" PRIu64 ",\"first_at_message\":%" PRIu64 ",\"first_error\":",
            first ? "" : ",", sg_event_reason_name(r), st->by_reason[r], st->example_at[r]);
        sg_buf_json_str(b, st->example[r], strlen(st->example[r]));
        sg_buf_putc(b, '}');
        first = 0;
    }
    sg_buf_puts(b, "},\n");
}

void sg_report_json(const struct sg_batch_data *data, const struct sg_model *m,
                    const struct sg_batch_params *p, const struct sg_ingest_stats *st,
                    const struct sg_batch_timings *t, size_t top, struct sg_buf *out)
{
    char now[32];
    ts_str(sg_time_now_ms(), now, sizeof now);
    sg_buf_printf(out,
                  "{\"report\":\"streamguard-batch\",\"streamguard_version\":\"%s\","
                  "\"generated_at\":\"%s\",\"input\":",
                  p->version ? p->version : "unknown", now);
    const char *in = p->input_desc ? p->input_desc : "";
    sg_buf_json_str(out, in, strlen(in));
    sg_buf_puts(out, ",\n");
    json_totals(out, data, st);
    sg_buf_printf(out,
                  "\"algorithm\":{\"name\":\"%s\",\"trees\":%d,\"psi\":%d,\"k\":%d,"
                  "\"k_auto\":%s,\"max_iter\":20,\"tol\":1e-4",
                  sg_model_algorithm_name(m->algorithm), sg_iforest_trees(m->forest),
                  sg_iforest_psi(m->forest), m->km.k, p->k <= 0 ? "true" : "false");
    json_num(out, "contamination", m->contamination, 1);
    json_num(out, "threshold", m->threshold, 1);
    sg_buf_printf(out,
                  ",\"seed\":\"%" PRIu64 "\",\"threads\":%d,\"features\":%d,"
                  "\"feature_hash\":\"%016" PRIx64 "\"},\n",
                  p->seed, p->threads, SG_FEAT_COUNT, m->feature_hash);
    sg_buf_puts(out, "\"timings_s\":{");
    if (t) {
        json_num(out, "read_decode_partition", t->read_s, 0);
        json_num(out, "features", t->features_s, 1);
        json_num(out, "scale", t->scale_s, 1);
        json_num(out, "iforest", t->iforest_s, 1);
        json_num(out, "kmeans", t->kmeans_s, 1);
        json_num(out, "write", t->write_s, 1);
    }
    sg_buf_puts(out, "},\n");
    uint32_t cnt[SG_FEAT_COUNT];
    count_by_top_feature(data, m, cnt);
    sg_buf_puts(out, "\"flagged_by_top_feature\":{");
    for (int j = 0, first = 1; j < SG_FEAT_COUNT; j++)
        if (cnt[j]) {
            sg_buf_printf(out, "%s\"%s\":%u", first ? "" : ",", sg_features_defs()[j].name,
                          cnt[j]);
            first = 0;
        }
    sg_buf_puts(out, "},\n");
    sg_buf_puts(out, "\"top_anomalies\":[");
    size_t *idx = sg_xmalloc((top ? top : 1) * sizeof *idx);
    size_t k = sg_report_top(data, top, idx);
    for (size_t j = 0; j < k; j++) {
        sg_buf_puts(out, j ? ",\n" : "\n");
        json_anomaly(out, data, m, idx[j]);
    }
    free(idx);
    sg_buf_puts(out, "]}\n");
}

/* A user name as a Markdown code span: nothing inside one is a link, an image, HTML or
 * emphasis, so a name an attacker chose (failed logins carry any user name) renders as the
 * text it is, and the raw file stays readable. The fence is one backtick longer than the
 * longest run in the name; a '|' is escaped, as GitHub tables require even in code spans. */
static void md_code(struct sg_buf *out, const char *s, size_t n)
{
    size_t run = 0, longest = 0;
    for (size_t i = 0; i < n; i++) {
        run = s[i] == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    int pad = n && (s[0] == '`' || s[n - 1] == '`');
    for (size_t i = 0; i <= longest; i++)
        sg_buf_putc(out, '`');
    if (pad)
        sg_buf_putc(out, ' ');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '|')
            sg_buf_putc(out, '\\');
        sg_buf_putc(out, s[i]);
    }
    if (pad)
        sg_buf_putc(out, ' ');
    for (size_t i = 0; i <= longest; i++)
        sg_buf_putc(out, '`');
}

void sg_report_md(const struct sg_batch_data *data, const struct sg_model *m,
                  const struct sg_batch_params *p, const struct sg_ingest_stats *st,
                  const struct sg_batch_timings *t, size_t top, struct sg_buf *out)
{
    size_t an = count_anomalous(data);
    sg_buf_printf(out, "# StreamGuard batch report\n\nInput: %s\n\n",
                  p->input_desc ? p->input_desc : "");
    sg_buf_printf(out,
                  "| | |\n|---|---|\n| messages | %" PRIu64 " |\n| valid events | %" PRIu64
                  " |\n| invalid events | %" PRIu64 " |\n| users | %zu |\n"
                  "| anomalous users | %zu (%.2f%%) |\n\n",
                  st->messages, st->valid, st->invalid, count_users(data), an,
                  count_users(data) ? 100.0 * (double)an / (double)count_users(data) : 0);
    if (st->invalid) {
        sg_buf_puts(out,
                    "## Invalid events\n\n| reason | count | first example |\n|---|---|---|\n");
        for (int r = 1; r < SG_REASON_COUNT; r++)
            if (st->by_reason[r])
                sg_buf_printf(out, "| %s | %" PRIu64 " | message %" PRIu64 ": %s |\n",
                              sg_event_reason_name(r), st->by_reason[r], st->example_at[r],
                              st->example[r]);
        sg_buf_putc(out, '\n');
    }
    sg_buf_printf(out,
                  "## Model\n\nAlgorithm **%s**; Isolation Forest %d trees, psi %d; "
                  "K-Means k = %d%s; contamination %.3f -> threshold %.4f; seed %" PRIu64
                  "; %d features.\n\n",
                  sg_model_algorithm_name(m->algorithm), sg_iforest_trees(m->forest),
                  sg_iforest_psi(m->forest), m->km.k, p->k <= 0 ? " (auto, silhouette)" : "",
                  m->contamination, m->threshold, p->seed, SG_FEAT_COUNT);
    if (t)
        sg_buf_printf(out,
                      "Timings (s): read+decode %.3f, features %.3f, scale %.3f, "
                      "iforest %.3f, kmeans %.3f, write %.3f\n\n",
                      t->read_s, t->features_s, t->scale_s, t->iforest_s, t->kmeans_s, t->write_s);
    uint32_t cnt[SG_FEAT_COUNT];
    count_by_top_feature(data, m, cnt);
    sg_buf_puts(out, "## What the flagged users stand out by\n\n| strongest feature | users "
                     "|\n|---|---|\n");
    for (;;) { /* most frequent first */
        int best = -1;
        for (int j = 0; j < SG_FEAT_COUNT; j++)
            if (cnt[j] && (best < 0 || cnt[j] > cnt[best]))
                best = j;
        if (best < 0)
            break;
        sg_buf_printf(out, "| %s | %u |\n", sg_features_defs()[best].name, cnt[best]);
        cnt[best] = 0;
    }
    sg_buf_putc(out, '\n');
    sg_buf_puts(out, "## Top anomalies\n\n| user | score | events | avg threat | top features "
                     "(z) |\n|---|---|---|---|---|\n");
    size_t *idx = sg_xmalloc((top ? top : 1) * sizeof *idx);
    size_t k = sg_report_top(data, top, idx);
    for (size_t j = 0; j < k; j++) {
        size_t i = idx[j];
        const struct sg_user *u = data->users[i];
        sg_buf_puts(out, "| ");
        md_code(out, u->name, u->len);
        sg_buf_printf(out, " | %.4f | %u | %.3f | ", data->score[i], u->f.n,
                      u->f.n ? u->f.threat_sum / u->f.n : 0);
        int fi[SG_BATCH_TOP_FEATURES];
        int nf = sg_model_top_features(m, data->z + i * data->d, fi, SG_BATCH_TOP_FEATURES);
        for (int f = 0; f < nf; f++)
            sg_buf_printf(out, "%s%s (%+.1f)", f ? ", " : "", sg_features_defs()[fi[f]].name,
                          data->z[i * data->d + (size_t)fi[f]]);
        sg_buf_puts(out, " |\n");
    }
    free(idx);
}
