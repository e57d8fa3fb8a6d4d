/* pq_gen: test helper that writes Parquet files with sg_parquet plus a JSON sidecar of the
 * values it wrote, for the independent readers in tests/parquet/ (node scripts) (DuckDB,
 * hyparquet). Not a test by itself (it asserts nothing); exit 0 = written, 1 = the writer reported
 * an error (printed on stderr), 2 = usage.
 *
 *   pq_gen random OUTDIR SEED NCASES   random schemas/data/options: OUTDIR/case-K.{parquet,json}
 *   pq_gen big FILE ROWS CODEC          4 formula columns (see big()), many row groups
 *   pq_gen dataset DIR SEED ROWS        Hive dataset DIR/is_anomaly={0,1}/part-*.parquet + DIR.json
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sg_buf.h"
#include "core/sg_err.h"
#include "core/sg_mem.h"
#include "core/sg_rng.h"
#include "storage/sg_parquet.h"

static const char *type_name(enum sg_pq_type t)
{
    static const char *n[] = {"BOOLEAN", "INT8",   "INT16",  "INT32",
                              "INT64",   "DOUBLE", "STRING", "TIMESTAMP_MS"};
    return n[t];
}

static const char *codec_name(enum sg_pq_codec c)
{
    return c == SG_PQ_SNAPPY ? "SNAPPY" : c == SG_PQ_ZSTD ? "ZSTD" : "UNCOMPRESSED";
}

static int write_file(const char *path, const struct sg_buf *b)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "pq_gen: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

/* ---- random values ---------------------------------------------------------------------- */

static int64_t rand_int(struct sg_rng *r, int64_t lo, int64_t hi)
{
    /* extremes often, else uniform */
    switch (sg_rng_below(r, 10)) {
    case 0: return lo;
    case 1: return hi;
    case 2: return (int64_t)sg_rng_below(r, 5) - 2;
    default: {
        uint64_t span = (uint64_t)hi - (uint64_t)lo; /* unsigned: no overflow for full range */
        uint64_t x = span == UINT64_MAX ? sg_rng_next(r) : sg_rng_below(r, span + 1);
        return (int64_t)((uint64_t)lo + x);
    }
    }
}

static double rand_double(struct sg_rng *r)
{
    switch (sg_rng_below(r, 16)) {
    case 0: return NAN;
    case 1: return -0.0;
    case 2: return 0.0;
    case 3: return INFINITY;
    case 4: return -INFINITY;
    case 5: return DBL_MAX;
    case 6: return -DBL_MAX;
    case 7: return 4.9406564584124654e-324; /* smallest denormal */
    default: return sg_rng_normal(r) * pow(10, (double)sg_rng_below(r, 30) - 10);
    }
}

/* A random valid UTF-8 string into buf (cap >= 1200). Short vocabulary strings dominate so that
 * dictionaries pay off; some are long (> the 64-byte statistics limit) or multibyte. */
static uint32_t rand_string(struct sg_rng *r, char *buf, int vocab)
{
    static const char *cps[] = {"a",
                                "b",
                                "z",
                                "~",
                                "\x7f",
                                "\xc3\xa9",
                                "\xe2\x82\xac",
                                "\xf0\x9f\x98\x80",
                                "\xef\xbf\xbf",
                                "\x01",
                                " "};
    uint64_t k = sg_rng_below(r, 20);
    if (k == 0)
        return 0;
    if (k < 12 && vocab > 0) {
        int n = snprintf(buf, 64, "v%" PRIu64, sg_rng_below(r, (uint64_t)vocab));
        return (uint32_t)n;
    }
    size_t len = k == 19 ? 60 + sg_rng_below(r, 200) : sg_rng_below(r, 12);
    uint32_t n = 0;
    for (size_t i = 0; i < len; i++) {
        const char *c = cps[sg_rng_below(r, sizeof cps / sizeof *cps)];
        size_t cl = strlen(c);
        memcpy(buf + n, c, cl);
        n += (uint32_t)cl;
    }
    return n;
}

static void json_value(struct sg_buf *j, enum sg_pq_type t, const void *vals, size_t i,
                       const char *strs)
{
    switch (t) {
    case SG_PQ_BOOLEAN: sg_buf_puts(j, ((const uint8_t *)vals)[i] ? "true" : "false"); break;
    case SG_PQ_INT8:
    case SG_PQ_INT16:
    case SG_PQ_INT32: sg_buf_printf(j, "%" PRId32, ((const int32_t *)vals)[i]); break;
    case SG_PQ_INT64:
    case SG_PQ_TIMESTAMP_MS: sg_buf_printf(j, "\"%" PRId64 "\"", ((const int64_t *)vals)[i]); break;
    case SG_PQ_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, (const double *)vals + i, 8);
        sg_buf_printf(j, "\"%016" PRIx64 "\"", bits);
        break;
    }
    case SG_PQ_STRING: {
        const struct sg_pq_str *s = (const struct sg_pq_str *)vals + i;
        (void)strs;
        sg_buf_json_str(j, s->p, s->len);
        break;
    }
    }
}

struct rcol {
    struct sg_pq_column def;
    double null_p;
    int vocab;
    char name[32];
    struct sg_buf json; /* the column's values as a JSON array body */
};

static void gen_value(struct sg_rng *r, struct rcol *c, void *vals, size_t i, struct sg_buf *sb)
{
    switch (c->def.type) {
    case SG_PQ_BOOLEAN: ((uint8_t *)vals)[i] = (uint8_t)sg_rng_below(r, 2); break;
    case SG_PQ_INT8: ((int32_t *)vals)[i] = (int32_t)rand_int(r, -128, 127); break;
    case SG_PQ_INT16: ((int32_t *)vals)[i] = (int32_t)rand_int(r, -32768, 32767); break;
    case SG_PQ_INT32: ((int32_t *)vals)[i] = (int32_t)rand_int(r, INT32_MIN, INT32_MAX); break;
    case SG_PQ_INT64: ((int64_t *)vals)[i] = rand_int(r, INT64_MIN, INT64_MAX); break;
    case SG_PQ_TIMESTAMP_MS:
        /* 0001-01-01 .. 9999-12-31: the range every reader's timestamp type holds */
        ((int64_t *)vals)[i] = rand_int(r, INT64_C(-62135596800000), INT64_C(253402300799999));
        break;
    case SG_PQ_DOUBLE: ((double *)vals)[i] = rand_double(r); break;
    case SG_PQ_STRING: {
        char tmp[1300];
        uint32_t n = rand_string(r, tmp, c->vocab);
        struct sg_pq_str *s = (struct sg_pq_str *)vals + i;
        s->len = n;
        s->p = (const char *)(uintptr_t)sb->len; /* offset; fixed up after the batch */
        sg_buf_append(sb, tmp, n);
        break;
    }
    }
}

static size_t type_size(enum sg_pq_type t)
{
    switch (t) {
    case SG_PQ_BOOLEAN: return 1;
    case SG_PQ_INT8:
    case SG_PQ_INT16:
    case SG_PQ_INT32: return 4;
    case SG_PQ_STRING: return sizeof(struct sg_pq_str);
    default: return 8;
    }
}

static void random_options(struct sg_rng *r, struct sg_pq_options *o, int k)
{
    sg_pq_options_default(o);
    o->codec = k % 3 == 0 ? SG_PQ_UNCOMPRESSED : k % 3 == 1 ? SG_PQ_SNAPPY : SG_PQ_ZSTD;
    o->zstd_level = 1 + (int)sg_rng_below(r, 5);
    if (sg_rng_below(r, 2))
        o->row_group_rows = 1 + (int64_t)sg_rng_below(r, 5000);
    if (sg_rng_below(r, 4) == 0)
        o->row_group_bytes = 1 + (int64_t)sg_rng_below(r, 200000);
    if (sg_rng_below(r, 2))
        o->page_bytes = 1 + sg_rng_below(r, 20000);
    if (sg_rng_below(r, 2))
        o->dict_max_bytes = sg_rng_below(r, 3000);
}

static size_t random_rows(struct sg_rng *r)
{
    switch (sg_rng_below(r, 8)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 2 + sg_rng_below(r, 20);
    case 3: return 20000 + sg_rng_below(r, 30000);
    default: return sg_rng_below(r, 5000);
    }
}

static int random_case(const char *outdir, uint64_t seed, int k)
{
    struct sg_rng r;
    sg_rng_seed2(&r, seed, (uint64_t)k);
    /* mostly narrow; every 7th case wide (>= 15 schema elements: long-form thrift lists) */
    size_t ncols = k % 7 == 4 ? 15 + sg_rng_below(&r, 26) : 1 + sg_rng_below(&r, 10);
    struct rcol *cols = sg_xcalloc(ncols, sizeof *cols);
    struct sg_pq_column *defs = sg_xcalloc(ncols, sizeof *defs);
    static const double null_ps[] = {0, 0.1, 0.5, 0.97, 1.0};
    for (size_t c = 0; c < ncols; c++) {
        enum sg_pq_type t = (enum sg_pq_type)sg_rng_below(&r, 8);
        snprintf(cols[c].name, sizeof cols[c].name, "c%zu_%s", c, type_name(t));
        cols[c].def.name = cols[c].name;
        cols[c].def.type = t;
        cols[c].def.optional = (int)sg_rng_below(&r, 2);
        cols[c].null_p = cols[c].def.optional ? null_ps[sg_rng_below(&r, 5)] : 0;
        cols[c].vocab = sg_rng_below(&r, 3) == 0 ? 100000 : (int)sg_rng_below(&r, 50);
        sg_buf_init(&cols[c].json);
        defs[c] = cols[c].def;
    }
    struct sg_pq_options opt;
    random_options(&r, &opt, k);
    char seedstr[32];
    snprintf(seedstr, sizeof seedstr, "%" PRIu64, seed);
    struct sg_pq_kv kv[] = {
        {"streamguard.seed", seedstr}, {"streamguard.case", "random"}, {"empty", ""}};
    opt.kv = kv;
    opt.kv_count = 3;
    size_t nrows = random_rows(&r);

    char path[512];
    snprintf(path, sizeof path, "%s/case-%d.parquet", outdir, k);
    char err[256];
    struct sg_pq_writer *w = sg_pq_writer_new(path, defs, ncols, &opt, err, sizeof err);
    if (!w) {
        fprintf(stderr, "pq_gen: %s\n", err);
        return 1;
    }
    void **vals = sg_xcalloc(ncols, sizeof *vals);
    uint8_t **valid = sg_xcalloc(ncols, sizeof *valid);
    struct sg_buf sb;
    sg_buf_init(&sb);
    int rc = 0;
    for (size_t done = 0; done < nrows && rc == 0;) {
        size_t n = 1 + sg_rng_below(&r, 5000);
        if (n > nrows - done)
            n = nrows - done;
        sg_buf_reset(&sb);
        for (size_t c = 0; c < ncols; c++) {
            vals[c] = sg_xrealloc(vals[c], n * type_size(cols[c].def.type));
            valid[c] = cols[c].def.optional ? sg_xrealloc(valid[c], n) : NULL;
            for (size_t i = 0; i < n; i++) {
                gen_value(&r, &cols[c], vals[c], i, &sb);
                if (valid[c])
                    valid[c][i] = sg_rng_double(&r) >= cols[c].null_p;
            }
        }
        for (size_t c = 0; c < ncols; c++) {
            if (cols[c].def.type == SG_PQ_STRING)
                for (size_t i = 0; i < n; i++) {
                    struct sg_pq_str *s = (struct sg_pq_str *)vals[c] + i;
                    s->p = sb.data ? sb.data + (uintptr_t)s->p : "";
                }
            for (size_t i = 0; i < n; i++) {
                struct sg_buf *j = &cols[c].json;
                if (done + i)
                    sg_buf_putc(j, ',');
                if (valid[c] && !valid[c][i])
                    sg_buf_puts(j, "null");
                else
                    json_value(j, cols[c].def.type, vals[c], i, sb.data);
            }
        }
        rc = sg_pq_write_batch(w, (const void *const *)vals, (const uint8_t *const *)valid, n);
        done += n;
    }
    if (rc != SG_OK) {
        fprintf(stderr, "pq_gen: %s\n", sg_pq_writer_error(w));
        sg_pq_writer_abort(w);
    } else if ((rc = sg_pq_writer_close(w, err, sizeof err)) != SG_OK) {
        fprintf(stderr, "pq_gen: %s\n", err);
    }
    struct sg_buf j;
    sg_buf_init(&j);
    sg_buf_printf(&j,
                  "{\"file\":\"case-%d.parquet\",\"rows\":%zu,\"codec\":\"%s\","
                  "\"row_group_rows\":%" PRId64 ",\"row_group_bytes\":%" PRId64
                  ",\"seed\":\"%s\",\"columns\":[",
                  k, nrows, codec_name(opt.codec), opt.row_group_rows, opt.row_group_bytes,
                  seedstr);
    for (size_t c = 0; c < ncols; c++) {
        sg_buf_printf(&j, "%s{\"name\":\"%s\",\"type\":\"%s\",\"optional\":%s,\"values\":[%s]}",
                      c ? "," : "", cols[c].name, type_name(cols[c].def.type),
                      cols[c].def.optional ? "true" : "false",
                      cols[c].json.data ? cols[c].json.data : "");
    }
    sg_buf_puts(&j, "]}\n");
    snprintf(path, sizeof path, "%s/case-%d.json", outdir, k);
    if (rc == SG_OK)
        rc = write_file(path, &j);
    sg_buf_release(&j);
    sg_buf_release(&sb);
    for (size_t c = 0; c < ncols; c++) {
        free(vals[c]);
        free(valid[c]);
        sg_buf_release(&cols[c].json);
    }
    free(vals);
    free(valid);
    free(cols);
    free(defs);
    return rc ? 1 : 0;
}

/* ---- big: formula columns, checkable without a sidecar ---------------------------------- */
/* Row i: id INT64 = i*7919 - 3, x DOUBLE = i*0.25 - 1000, s STRING optional = "k<i%1000>"
 * (null when i%7 == 3), flag BOOLEAN = (i%3 == 0). */
static int big(const char *path, int64_t rows, const char *codec)
{
    struct sg_pq_column cols[] = {{"id", SG_PQ_INT64, 0},
                                  {"x", SG_PQ_DOUBLE, 0},
                                  {"s", SG_PQ_STRING, 1},
                                  {"flag", SG_PQ_BOOLEAN, 0}};
    struct sg_pq_options opt;
    sg_pq_options_default(&opt);
    if (sg_pq_codec_parse(codec, &opt.codec) != SG_OK) {
        fprintf(stderr, "pq_gen: bad codec %s\n", codec);
        return 2;
    }
    opt.row_group_rows = 100000;
    char err[256];
    struct sg_pq_writer *w = sg_pq_writer_new(path, cols, 4, &opt, err, sizeof err);
    if (!w) {
        fprintf(stderr, "pq_gen: %s\n", err);
        return 1;
    }
    enum { B = 8192 };
    int64_t *id = sg_xmalloc(B * sizeof *id);
    double *x = sg_xmalloc(B * sizeof *x);
    struct sg_pq_str *s = sg_xmalloc(B * sizeof *s);
    uint8_t *sv = sg_xmalloc(B), *flag = sg_xmalloc(B);
    char *text = sg_xmalloc(B * 8);
    int rc = SG_OK;
    for (int64_t done = 0; done < rows && rc == SG_OK;) {
        size_t n = rows - done < B ? (size_t)(rows - done) : B;
        for (size_t k = 0; k < n; k++) {
            int64_t i = done + (int64_t)k;
            id[k] = i * 7919 - 3;
            x[k] = (double)i * 0.25 - 1000;
            s[k].p = text + k * 8;
            s[k].len = (uint32_t)snprintf(text + k * 8, 8, "k%d", (int)(i % 1000));
            sv[k] = i % 7 != 3;
            flag[k] = i % 3 == 0;
        }
        const void *v[] = {id, x, s, flag};
        const uint8_t *ok[] = {NULL, NULL, sv, NULL};
        rc = sg_pq_write_batch(w, v, ok, n);
        done += (int64_t)n;
    }
    if (rc != SG_OK) {
        fprintf(stderr, "pq_gen: %s (%s)\n", sg_pq_writer_error(w), sg_strerror(rc));
        sg_pq_writer_abort(w);
    } else if ((rc = sg_pq_writer_close(w, err, sizeof err)) != SG_OK) {
        fprintf(stderr, "pq_gen: %s (%s)\n", err, sg_strerror(rc));
    }
    free(id);
    free(x);
    free(s);
    free(sv);
    free(flag);
    free(text);
    return rc == SG_OK ? 0 : 1;
}

/* ---- dataset: Hive partitions by is_anomaly ---------------------------------------------- */
static int dataset(const char *dir, uint64_t seed, int64_t rows)
{
    struct sg_rng r;
    sg_rng_seed(&r, seed);
    struct sg_pq_column cols[] = {
        {"id", SG_PQ_INT64, 0}, {"user", SG_PQ_STRING, 0}, {"score", SG_PQ_DOUBLE, 1}};
    char err[256];
    struct sg_pq_dataset *d = sg_pq_dataset_new(dir, err, sizeof err);
    if (!d) {
        fprintf(stderr, "pq_gen: %s\n", err);
        return 1;
    }
    struct sg_buf j;
    sg_buf_init(&j);
    sg_buf_printf(&j, "{\"seed\":\"%" PRIu64 "\",\"rows\":[", seed);
    int rc = SG_OK, first = 1;
    for (int part = 0; part < 4 && rc == SG_OK; part++) {
        int anomaly = part % 2;
        char pname[32];
        snprintf(pname, sizeof pname, "is_anomaly=%d", anomaly);
        struct sg_pq_writer *w = sg_pq_dataset_part(d, pname, part, cols, 3, NULL, err, sizeof err);
        if (!w) {
            fprintf(stderr, "pq_gen: %s\n", err);
            rc = SG_ERR_IO;
            break;
        }
        for (int64_t i = 0; i < rows && rc == SG_OK; i++) {
            int64_t id = part * rows + i;
            char user[32];
            struct sg_pq_str u = {
                user, (uint32_t)snprintf(user, sizeof user, "user-%" PRIu64, sg_rng_below(&r, 50))};
            double score = sg_rng_double(&r);
            uint8_t ok = sg_rng_below(&r, 10) != 0;
            const void *v[] = {&id, &u, &score};
            const uint8_t *vv[] = {NULL, NULL, &ok};
            rc = sg_pq_write_batch(w, v, vv, 1);
            uint64_t bits;
            memcpy(&bits, &score, 8);
            sg_buf_printf(&j,
                          "%s{\"id\":\"%" PRId64 "\",\"user\":\"%s\",\"score\":", first ? "" : ",",
                          id, user);
            if (ok)
                sg_buf_printf(&j, "\"%016" PRIx64 "\"", bits);
            else
                sg_buf_puts(&j, "null");
            sg_buf_printf(&j, ",\"is_anomaly\":%d}", anomaly);
            first = 0;
        }
        if (rc != SG_OK) {
            sg_pq_writer_abort(w);
            break;
        }
        if ((rc = sg_pq_writer_close(w, err, sizeof err)) != SG_OK)
            fprintf(stderr, "pq_gen: %s\n", err);
    }
    sg_buf_puts(&j, "]}\n");
    if (rc == SG_OK) {
        struct sg_buf p;
        sg_buf_init(&p);
        sg_buf_printf(&p, "%s/expected.json", sg_pq_dataset_tmpdir(d));
        rc = write_file(p.data, &j) ? SG_ERR_IO : SG_OK;
        sg_buf_release(&p);
    }
    if (rc == SG_OK) {
        if ((rc = sg_pq_dataset_commit(d, err, sizeof err)) != SG_OK)
            fprintf(stderr, "pq_gen: %s\n", err);
    } else {
        sg_pq_dataset_abort(d);
    }
    sg_buf_release(&j);
    return rc == SG_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "random")) {
        uint64_t seed = strtoull(argv[3], NULL, 10);
        int n = atoi(argv[4]);
        for (int k = 0; k < n; k++)
            if (random_case(argv[2], seed, k))
                return 1;
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "big"))
        return big(argv[2], strtoll(argv[3], NULL, 10), argv[4]);
    if (argc == 5 && !strcmp(argv[1], "dataset"))
        return dataset(argv[2], strtoull(argv[3], NULL, 10), strtoll(argv[4], NULL, 10));
    fprintf(stderr, "usage: pq_gen random OUTDIR SEED NCASES | big FILE ROWS CODEC | "
                    "dataset DIR SEED ROWS\n");
    return 2;
}
