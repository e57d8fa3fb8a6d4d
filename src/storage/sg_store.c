/* sg_store: RocksDB behind the key schema documented in sg_store.h. RocksDB's errptr strings
 * are converted to sg_err codes here and nowhere else. Not thread-safe for writes. */
#include "storage/sg_store.h"

#include <dirent.h>
#include <errno.h>
#include <rocksdb/c.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_time.h"
#include "core/sg_varint.h"
#include "storage/sg_crc32c.h"

enum cf {
    CF_META = 0,
    CF_EVENTS,
    CF_EVENTS_USER,
    CF_EVENT_IDS,
    CF_ANOM,
    CF_ANOM_USER,
    CF_USERS,
    CF_OFFSETS,
    CF_STATS,
    CF_COUNT
};

static const char *const cf_names[CF_COUNT] = {
    "default", "events", "events_by_user", "event_ids", "anomalies",
    "anomalies_by_user", "users", "offsets", "stats",
};

/* How the timestamp of a row is found, for expiry. */
enum ts_at { TS_NONE, TS_KEY_PREFIX, TS_AFTER_USER, TS_VALUE };
static const enum ts_at cf_ts[CF_COUNT] = {
    TS_NONE, TS_KEY_PREFIX, TS_AFTER_USER, TS_VALUE, TS_KEY_PREFIX,
    TS_AFTER_USER, TS_NONE, TS_NONE, TS_NONE,
};

#define RANGE_DELETE_EVERY 256 /* writes between retention range deletes */
#define WAL_CAP_BYTES (256u << 20) /* bytes of WAL before the oldest is forced out */

struct filter_state {
    struct sg_store *st;
    enum cf cf;
};

struct sg_store {
    rocksdb_t *db;
    enum sg_store_mode mode;
    rocksdb_options_t *opts;
    rocksdb_options_t *cf_opts[CF_COUNT];
    rocksdb_compactionfilter_t *filters[CF_COUNT];
    struct filter_state fstate[CF_COUNT];
    rocksdb_block_based_table_options_t *bbt;
    rocksdb_filterpolicy_t *bloom; /* owned by bbt once set */
    rocksdb_column_family_handle_t *cf[CF_COUNT];
    rocksdb_writeoptions_t *wopts, *wopts_sync;
    rocksdb_readoptions_t *ropts;
    int64_t retention_ms;
    _Atomic int64_t watermark; /* read by compaction threads */
    int64_t range_cut;         /* cutoff of the last range delete */
    uint64_t writes;
    char *secondary_dir;       /* created by us (removed on close) */
};

/* A put of a randomly keyed CF, held back until sg_store_write (see add_deferred). */
struct dput {
    uint64_t head; /* the key's first 8 bytes, big-endian, zero-padded: most compares end here */
    uint32_t cf, seq;
    size_t off; /* key then value in the batch's `defer` buffer */
    uint32_t kl, vl;
};

struct sg_store_batch {
    struct sg_store *st;
    rocksdb_writebatch_t *wb;
    size_t count;
    int64_t watermark;
    struct sg_buf defer;  /* keys and values of the deferred puts */
    struct dput *dputs, *dtmp; /* dtmp: merge buffer of sort_dputs */
    size_t ndputs, dcap, dtcap;
};

/* ---- helpers ---------------------------------------------------------------------------- */

static void be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static int conv_err(char *e, const char *what, char *errbuf, size_t errlen)
{
    int rc = SG_ERR_STORE;
    if (strstr(e, "No space left") || strstr(e, "quota"))
        rc = SG_ERR_NOSPACE;
    else if (strstr(e, "lock") || strstr(e, "Resource temporarily unavailable") ||
             strstr(e, "does not exist") || strstr(e, "No such file"))
        rc = SG_ERR_UNAVAILABLE;
    if (errbuf)
        snprintf(errbuf, errlen, "%s: %s", what, e);
    rocksdb_free(e);
    return rc;
}

static int64_t cutoff_of(const struct sg_store *st)
{
    int64_t wm = atomic_load_explicit(&st->watermark, memory_order_relaxed);
    if (st->retention_ms <= 0 || wm <= st->retention_ms)
        return 0;
    return wm - st->retention_ms;
}

/* Timestamp of a row of column family `cf`, or -1 when rows of that CF never expire. */
static int64_t row_ts(enum cf cf, const char *k, size_t kl, const char *v, size_t vl)
{
    switch (cf_ts[cf]) {
    case TS_KEY_PREFIX:
        return kl >= 8 ? (int64_t)rd64((const unsigned char *)k) : -1;
    case TS_AFTER_USER: {
        const char *nul = memchr(k, 0, kl);
        if (!nul || (size_t)(k + kl - nul - 1) < 8)
            return -1;
        return (int64_t)rd64((const unsigned char *)nul + 1);
    }
    case TS_VALUE:
        return vl >= 8 ? (int64_t)rd64((const unsigned char *)v) : -1;
    case TS_NONE:
        break;
    }
    return -1;
}

static unsigned char filter_fn(void *state, int level, const char *k, size_t kl, const char *v,
                               size_t vl, char **nv, size_t *nvl, unsigned char *changed)
{
    (void)level;
    (void)nv;
    (void)nvl;
    *changed = 0;
    struct filter_state *fs = state;
    int64_t cut = cutoff_of(fs->st);
    int64_t ts = row_ts(fs->cf, k, kl, v, vl);
    return cut > 0 && ts >= 0 && ts < cut;
}

static void filter_destroy(void *state)
{
    (void)state; /* the state lives inside struct sg_store */
}

static const char *filter_name(void *state)
{
    (void)state;
    return "streamguard-retention";
}

/* ---- open / close ----------------------------------------------------------------------- */

static int is_primary(const struct sg_store *st)
{
    return st->mode == SG_STORE_PRIMARY || st->mode == SG_STORE_PRIMARY_APPEND;
}

/* SG_STORE_PRIMARY_APPEND: CFs this process only writes get an unsorted vector memtable (an
 * append per insert instead of a skiplist search, sorted once by the flush thread). Not in a
 * plain primary: the speed layer with a model reads a user's events back (rolling features),
 * and a vector memtable sorts a copy of itself for every read. Secondary instances have their
 * own (skiplist) memtables. */
static int vector_memtable(const struct sg_store *st, enum cf cf)
{
    return st->mode == SG_STORE_PRIMARY_APPEND &&
           (cf == CF_EVENTS || cf == CF_EVENTS_USER || cf == CF_ANOM_USER);
}

static void tune(struct sg_store *st)
{
    rocksdb_options_t *o = st->opts;
    rocksdb_options_set_create_if_missing(o, 1);
    rocksdb_options_set_create_missing_column_families(o, 1);
    /* RocksDB's own LOG file gets fatal errors only. Debian's librocksdb is built with its
     * assertions on: once an append to LOG has failed (the disk is full), the next append
     * asserts and aborts the process (WritableFileWriter::AssertFalseAndGetStatusForPrevError),
     * and the write error RocksDB then reports is itself logged at error level. At this level
     * a full disk is the clear error of the failed write (exit 1, tests/e2e/stream_disk_full.sh);
     * at WARN it was an abort. Nothing here reads LOG: write stalls, flushes and compactions
     * are in the store's properties (/metrics). */
    rocksdb_options_set_info_log_level(o, 4 /* FATAL */);
    rocksdb_options_set_keep_log_file_num(o, 2);
    rocksdb_options_set_max_background_jobs(o, 2);
    rocksdb_options_set_compression(o, rocksdb_lz4_compression);
    rocksdb_options_set_write_buffer_size(o, 64u << 20);
    rocksdb_options_set_max_open_files(o, -1); /* required by secondary instances */
    /* Flushes and L0->L1 compactions write uncompressed (LZ4 was ~6 % of a replay's CPU in
     * the flush thread); the levels below, where the data stays, are LZ4. */
    static const int per_level[7] = {rocksdb_no_compression, rocksdb_no_compression,
                                     rocksdb_lz4_compression, rocksdb_lz4_compression,
                                     rocksdb_lz4_compression, rocksdb_lz4_compression,
                                     rocksdb_lz4_compression};
    rocksdb_options_set_compression_per_level(o, per_level, 7);
    /* The WAL can only be deleted once every CF with data in it has flushed; the small CFs
     * (offsets, stats, meta) rarely fill a memtable, so without a cap the WAL grew to
     * 4 x the sum of all memtables (3.86 GB seen in a 3.5M-event replay). Past this size
     * RocksDB flushes the CFs that pin the oldest WAL file. */
    rocksdb_options_set_max_total_wal_size(o, WAL_CAP_BYTES);
    /* One writer thread: concurrent memtable inserts buy nothing, and the vector memtables
     * of SG_STORE_PRIMARY_APPEND do not support them. */
    rocksdb_options_set_allow_concurrent_memtable_write(o, 0);
    st->bbt = rocksdb_block_based_options_create();
    st->bloom = rocksdb_filterpolicy_create_bloom_full(10);
    rocksdb_block_based_options_set_filter_policy(st->bbt, st->bloom);
    for (int i = 0; i < CF_COUNT; i++) {
        st->cf_opts[i] = rocksdb_options_create_copy(o);
        if (i == CF_EVENT_IDS || i == CF_USERS || i == CF_OFFSETS || i == CF_EVENTS)
            rocksdb_options_set_block_based_table_factory(st->cf_opts[i], st->bbt);
        /* Randomly keyed CFs get small memtables: skiplist inserts stay cache-friendly. */
        if (i == CF_EVENT_IDS || i == CF_EVENTS_USER || i == CF_USERS)
            rocksdb_options_set_write_buffer_size(st->cf_opts[i], 8u << 20);
        /* Most dedup lookups miss: a memtable bloom filter answers them without a skiplist
         * walk. Only the CFs read by point lookups need one (it costs a hash per insert). */
        if (i == CF_EVENT_IDS || i == CF_USERS) {
            rocksdb_options_set_memtable_whole_key_filtering(st->cf_opts[i], 1);
            rocksdb_options_set_memtable_prefix_bloom_size_ratio(st->cf_opts[i], 0.05);
        }
        if (vector_memtable(st, (enum cf)i))
            rocksdb_options_set_memtable_vector_rep(st->cf_opts[i]);
        /* A writer's profiles CF gets a hash-indexed memtable: a bucket per user (the no-op
         * prefix transform: the whole key) instead of a skiplist whose every insert searches
         * from the top - live batches of ~20 events rewrite ~20 profiles scattered over the
         * key space. At 20K events/s live it cut the median time from a message's arrival
         * to its batch being stored by about a quarter; replays (batches of 4000, profiles
         * sorted) were unchanged. Its only reader here is Get; an iteration over a hash
         * memtable needs total-order reads (set in sg_store_open) and sorts a copy, so
         * readers (serve, dumps) keep skiplists, and so does event_ids: the same change there
         * cost a replay ~12 % (its flushes sort ~100K keys). */
        if (is_primary(st) && i == CF_USERS) {
            rocksdb_options_set_prefix_extractor(st->cf_opts[i],
                                                 rocksdb_slicetransform_create_noop());
            rocksdb_options_set_hash_link_list_rep(st->cf_opts[i], 1u << 16);
        }
        if (cf_ts[i] != TS_NONE && is_primary(st)) {
            st->fstate[i].st = st;
            st->fstate[i].cf = (enum cf)i;
            st->filters[i] = rocksdb_compactionfilter_create(&st->fstate[i], filter_destroy, filter_fn,
                                                             filter_name);
            rocksdb_options_set_compaction_filter(st->cf_opts[i], st->filters[i]);
        }
    }
}

static char *make_secondary_dir(void)
{
    char tmpl[] = "/tmp/streamguard-secondary-XXXXXX";
    if (!mkdtemp(tmpl))
        return NULL;
    return sg_xstrdup(tmpl);
}

static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(path);
}

static int load_watermark(struct sg_store *st)
{
    char *err = NULL;
    size_t vl;
    char *v = rocksdb_get_cf(st->db, st->ropts, st->cf[CF_META], "watermark", 9, &vl, &err);
    if (err)
        return conv_err(err, "read watermark", NULL, 0);
    if (v && vl == 8)
        atomic_store(&st->watermark, (int64_t)rd64((unsigned char *)v));
    rocksdb_free(v);
    return SG_OK;
}

int sg_store_open(const char *dir, enum sg_store_mode mode, const char *secondary_dir,
                  int64_t retention_ms, struct sg_store **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    /* also what links the CRC32C that RocksDB's calls are wrapped to (storage/sg_crc32c.c) */
    sg_log_debug("store: WAL checksums (CRC32C) computed %s",
                 sg_crc32c_hw() ? "with the SSE 4.2 instruction" : "in software");
    struct sg_store *st = sg_xcalloc(1, sizeof *st);
    st->mode = mode;
    st->retention_ms = retention_ms;
    st->opts = rocksdb_options_create();
    tune(st);
    st->wopts = rocksdb_writeoptions_create();
    st->wopts_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(st->wopts_sync, 1);
    st->ropts = rocksdb_readoptions_create();
    rocksdb_readoptions_set_total_order_seek(st->ropts, 1); /* hash memtable: see tune() */
    char *err = NULL;
    if (is_primary(st)) {
        st->db = rocksdb_open_column_families(st->opts, dir, CF_COUNT, cf_names,
                                              (const rocksdb_options_t *const *)st->cf_opts,
                                              st->cf, &err);
    } else if (mode == SG_STORE_SECONDARY) {
        if (secondary_dir) {
            mkdir(secondary_dir, 0700);
        } else {
            st->secondary_dir = make_secondary_dir();
            if (!st->secondary_dir) {
                snprintf(errbuf, errlen, "cannot create a secondary directory: %s",
                         strerror(errno));
                sg_store_close(st);
                return SG_ERR_IO;
            }
            secondary_dir = st->secondary_dir;
        }
        st->db = rocksdb_open_as_secondary_column_families(
            st->opts, dir, secondary_dir, CF_COUNT, cf_names,
            (const rocksdb_options_t *const *)st->cf_opts, st->cf, &err);
    } else {
        st->db = rocksdb_open_for_read_only_column_families(
            st->opts, dir, CF_COUNT, cf_names, (const rocksdb_options_t *const *)st->cf_opts,
            st->cf, 0, &err);
    }
    if (err) {
        int rc = conv_err(err, dir, errbuf, errlen);
        st->db = NULL;
        sg_store_close(st);
        return rc;
    }
    int rc = load_watermark(st);
    if (rc != SG_OK) {
        snprintf(errbuf, errlen, "%s: cannot read the watermark", dir);
        sg_store_close(st);
        return rc;
    }
    st->range_cut = cutoff_of(st);
    *out = st;
    return SG_OK;
}

void sg_store_close(struct sg_store *st)
{
    if (!st)
        return;
    if (st->db) {
        for (int i = 0; i < CF_COUNT; i++)
            if (st->cf[i])
                rocksdb_column_family_handle_destroy(st->cf[i]);
        rocksdb_close(st->db);
    }
    for (int i = 0; i < CF_COUNT; i++) {
        if (st->cf_opts[i])
            rocksdb_options_destroy(st->cf_opts[i]);
        if (st->filters[i])
            rocksdb_compactionfilter_destroy(st->filters[i]);
    }
    rocksdb_block_based_options_destroy(st->bbt); /* also destroys the bloom policy */
    rocksdb_options_destroy(st->opts);
    rocksdb_writeoptions_destroy(st->wopts);
    rocksdb_writeoptions_destroy(st->wopts_sync);
    rocksdb_readoptions_destroy(st->ropts);
    if (st->secondary_dir) {
        remove_dir(st->secondary_dir);
        free(st->secondary_dir);
    }
    free(st);
}

int sg_store_catch_up(struct sg_store *st)
{
    if (st->mode != SG_STORE_SECONDARY)
        return SG_OK;
    char *err = NULL;
    rocksdb_try_catch_up_with_primary(st->db, &err);
    if (err)
        return conv_err(err, "catch up", NULL, 0);
    return load_watermark(st);
}

/* ---- writing ---------------------------------------------------------------------------- */

struct sg_store_batch *sg_store_batch_new(struct sg_store *st)
{
    struct sg_store_batch *b = sg_xcalloc(1, sizeof *b);
    b->st = st;
    b->wb = rocksdb_writebatch_create();
    sg_buf_init(&b->defer);
    return b;
}

void sg_store_batch_free(struct sg_store_batch *b)
{
    if (!b)
        return;
    rocksdb_writebatch_destroy(b->wb);
    sg_buf_release(&b->defer);
    free(b->dputs);
    free(b->dtmp);
    free(b);
}

void sg_store_batch_clear(struct sg_store_batch *b)
{
    rocksdb_writebatch_clear(b->wb);
    sg_buf_reset(&b->defer);
    b->ndputs = 0;
    b->count = 0;
    b->watermark = 0;
}

size_t sg_store_batch_count(const struct sg_store_batch *b)
{
    return b->count;
}

/* Key buffers: ids are <= 128 bytes and users <= 256 by the contract; longer input is
 * truncated to fit rather than overflowing (the decoder rejects it before this). */
#define KMAX 512

static size_t time_key(unsigned char *k, int64_t ts, const char *id, size_t idl)
{
    if (idl > KMAX - 8)
        idl = KMAX - 8;
    be64(k, (uint64_t)ts);
    memcpy(k + 8, id, idl);
    return 8 + idl;
}

static size_t user_key(unsigned char *k, const char *user, size_t ul, int64_t ts, const char *id,
                       size_t idl)
{
    if (ul > 300)
        ul = 300;
    if (idl > KMAX - ul - 9)
        idl = KMAX - ul - 9;
    memcpy(k, user, ul);
    k[ul] = 0;
    be64(k + ul + 1, (uint64_t)ts);
    memcpy(k + ul + 9, id, idl);
    return ul + 9 + idl;
}

/* Puts `tag | data` without a temporary copy (RocksDB's "parts" API concatenates). */
static void put_tagged(rocksdb_writebatch_t *wb, rocksdb_column_family_handle_t *cf,
                       const unsigned char *k, size_t kl, unsigned char tag, const char *data,
                       size_t dl)
{
    const char *kparts[1] = {(const char *)k};
    size_t kls[1] = {kl};
    const char *vparts[2] = {(const char *)&tag, data};
    size_t vls[2] = {1, dl};
    rocksdb_writebatch_putv_cf(wb, cf, 1, kparts, kls, 2, vparts, vls);
}

/* An event time further ahead of the wall clock than this does not move the watermark: one
 * future-dated event (a bad clock, or an attacker) would otherwise expire - and range-delete -
 * everything stored before it. Such events are stored; they just don't set the clock. */
#define FUTURE_TOLERANCE_MS (INT64_C(24) * 3600 * 1000)

static void note_ts(struct sg_store_batch *b, int64_t ts)
{
    if (ts > b->watermark && ts <= sg_time_now_ms() + FUTURE_TOLERANCE_MS)
        b->watermark = ts;
}

/* Puts of the randomly keyed CFs (by-user indexes, the id index, user state) are collected
 * here and added to the WriteBatch sorted by key at write time (add_deferred): RocksDB's
 * skiplist memtable remembers where its previous insert went, so a batch of sorted keys
 * costs a short walk per key instead of a search from the top for each. The stored content
 * is the same; only the order of the inserts inside the one atomic batch changes. */
static void defer_put(struct sg_store_batch *b, enum cf cf, const void *k, size_t kl,
                      const void *v, size_t vl)
{
    b->dputs = sg_xgrow(b->dputs, &b->dcap, b->ndputs + 1, sizeof *b->dputs);
    struct dput *d = &b->dputs[b->ndputs];
    unsigned char h[8] = {0};
    memcpy(h, k, kl < 8 ? kl : 8);
    d->head = rd64(h);
    d->cf = (uint32_t)cf;
    d->seq = (uint32_t)b->ndputs++;
    d->off = b->defer.len;
    d->kl = (uint32_t)kl;
    d->vl = (uint32_t)vl;
    sg_buf_append(&b->defer, k, kl);
    sg_buf_append(&b->defer, v, vl);
}

static inline int dput_cmp(const struct dput *a, const struct dput *c, const unsigned char *base)
{
    if (a->cf != c->cf)
        return a->cf < c->cf ? -1 : 1;
    if (a->head != c->head) /* = memcmp of the first 8 bytes (a shorter key is zero-padded, */
        return a->head < c->head ? -1 : 1; /* and sorts first when the padding ties) */
    size_t n = a->kl < c->kl ? a->kl : c->kl;
    int r = memcmp(base + a->off, base + c->off, n);
    if (r)
        return r;
    if (a->kl != c->kl)
        return a->kl < c->kl ? -1 : 1;
    return a->seq < c->seq ? -1 : a->seq > c->seq; /* same key twice: the later put wins */
}

/* Sorts a[0..n) by dput_cmp, stably: insertion-sorted runs of 16, then bottom-up merges
 * through tmp (n elements). Written out rather than qsort_r so that the comparison is inlined:
 * qsort_r's indirect call per comparison and element copies were ~8 % of the writer thread. */
static void sort_dputs(struct dput *a, size_t n, struct dput *tmp, const unsigned char *base)
{
    enum { RUN = 16 };
    for (size_t lo = 0; lo < n; lo += RUN) {
        size_t hi = lo + RUN < n ? lo + RUN : n;
        for (size_t i = lo + 1; i < hi; i++) {
            struct dput x = a[i];
            size_t j = i;
            for (; j > lo && dput_cmp(&x, &a[j - 1], base) < 0; j--)
                a[j] = a[j - 1];
            a[j] = x;
        }
    }
    struct dput *src = a, *dst = tmp;
    for (size_t w = RUN; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) /* the right run's element only when strictly smaller */
                dst[k++] = dput_cmp(&src[j], &src[i], base) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        struct dput *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}

/* Moves the deferred puts into the WriteBatch in (cf, key) order. */
static void add_deferred(struct sg_store_batch *b)
{
    if (!b->ndputs)
        return;
    b->dtmp = sg_xgrow(b->dtmp, &b->dtcap, b->ndputs, sizeof *b->dtmp);
    sort_dputs(b->dputs, b->ndputs, b->dtmp, (const unsigned char *)b->defer.data);
    for (size_t i = 0; i < b->ndputs; i++) {
        const struct dput *d = &b->dputs[i];
        const char *k = b->defer.data + d->off;
        rocksdb_writebatch_put_cf(b->wb, b->st->cf[d->cf], k, d->kl, k + d->kl, d->vl);
    }
    b->ndputs = 0;
    sg_buf_reset(&b->defer);
}

/* A put of a randomly keyed CF: deferred (sorted at write time) where the CF's memtable is a
 * skiplist; straight into the batch where it is a vector (vector_memtable), which sorts itself
 * once when flushed and gains nothing from sorted inserts - a third of the deferred puts and
 * of their sorting work. */
static void put_index(struct sg_store_batch *b, enum cf cf, const void *k, size_t kl, const void *v,
                      size_t vl)
{
    if (vector_memtable(b->st, cf))
        rocksdb_writebatch_put_cf(b->wb, b->st->cf[cf], k, kl, v, vl);
    else
        defer_put(b, cf, k, kl, v, vl);
}

void sg_store_batch_put_event(struct sg_store_batch *b, int64_t ts, const char *id, size_t idl,
                              const char *user, size_t ul, int type, uint64_t seq,
                              const char *json, size_t jl)
{
    unsigned char k[KMAX], sq[SG_VARINT_MAX];
    size_t kl = time_key(k, ts, id, idl);
    put_tagged(b->wb, b->st->cf[CF_EVENTS], k, kl, (unsigned char)type, json, jl);
    kl = user_key(k, user, ul, ts, id, idl);
    size_t sl = sg_varint_encode(seq, sq);
    put_index(b, CF_EVENTS_USER, k, kl, sq, sl);
    b->count += 2;
    sg_store_batch_put_event_id(b, ts, id, idl);
}

void sg_store_batch_put_event_id(struct sg_store_batch *b, int64_t ts, const char *id, size_t idl)
{
    unsigned char tsb[8];
    be64(tsb, (uint64_t)ts);
    defer_put(b, CF_EVENT_IDS, id, idl, tsb, 8);
    b->count++;
    note_ts(b, ts);
}

void sg_store_batch_put_anomaly(struct sg_store_batch *b, int64_t ts, const char *id,
                                size_t idl, const char *user, size_t ul, int severity,
                                const char *json, size_t jl)
{
    unsigned char k[KMAX];
    size_t kl = time_key(k, ts, id, idl);
    put_tagged(b->wb, b->st->cf[CF_ANOM], k, kl, (unsigned char)severity, json, jl);
    kl = user_key(k, user, ul, ts, id, idl);
    put_index(b, CF_ANOM_USER, k, kl, "", 0);
    b->count += 2;
    note_ts(b, ts);
}

void sg_store_batch_put_user(struct sg_store_batch *b, const char *user, size_t ul,
                             const void *blob, size_t bl)
{
    defer_put(b, CF_USERS, user, ul, blob, bl);
    b->count++;
}

static size_t offset_key(unsigned char *k, const char *source, int32_t partition)
{
    size_t sl = strlen(source);
    if (sl > KMAX - 5)
        sl = KMAX - 5;
    memcpy(k, source, sl);
    k[sl] = 0;
    uint32_t p = (uint32_t)partition;
    for (int i = 0; i < 4; i++)
        k[sl + 1 + i] = (unsigned char)(p >> (24 - 8 * i));
    return sl + 5;
}

void sg_store_batch_put_offset(struct sg_store_batch *b, const char *source, int32_t partition,
                               int64_t next_offset)
{
    unsigned char k[KMAX], v[8];
    size_t kl = offset_key(k, source, partition);
    be64(v, (uint64_t)next_offset);
    rocksdb_writebatch_put_cf(b->wb, b->st->cf[CF_OFFSETS], (const char *)k, kl,
                              (const char *)v, 8);
    b->count++;
}

void sg_store_batch_put_stat(struct sg_store_batch *b, const char *name, uint64_t value)
{
    unsigned char v[8];
    be64(v, value);
    rocksdb_writebatch_put_cf(b->wb, b->st->cf[CF_STATS], name, strlen(name), (const char *)v,
                              8);
    b->count++;
}

void sg_store_batch_watermark(struct sg_store_batch *b, int64_t ts_ms)
{
    note_ts(b, ts_ms);
}

/* ---- outbox ------------------------------------------------------------------------------ */

/* Outbox keys live in the meta CF: "outbox" | 0x00 | be64 seq (7 + 8 bytes): together, in
 * seq order, apart from the named meta keys ("schema", "watermark"). */
#define OUTBOX_PREFIX "outbox"
#define OUTBOX_PL 7 /* the prefix and its NUL */
#define OUTBOX_KL (OUTBOX_PL + 8)

static void outbox_key(unsigned char *k, uint64_t seq)
{
    memcpy(k, OUTBOX_PREFIX, OUTBOX_PL); /* copies the NUL too */
    be64(k + OUTBOX_PL, seq);
}

void sg_store_batch_put_outbox(struct sg_store_batch *b, uint64_t seq, const void *rec,
                               size_t len)
{
    unsigned char k[OUTBOX_KL];
    outbox_key(k, seq);
    rocksdb_writebatch_put_cf(b->wb, b->st->cf[CF_META], (const char *)k, OUTBOX_KL, rec, len);
    b->count++;
}

void sg_store_batch_del_outbox(struct sg_store_batch *b, uint64_t upto)
{
    unsigned char lo[OUTBOX_KL], hi[OUTBOX_KL];
    outbox_key(lo, 0);
    outbox_key(hi, upto + 1);
    rocksdb_writebatch_delete_range_cf(b->wb, b->st->cf[CF_META], (const char *)lo, OUTBOX_KL,
                                       (const char *)hi, OUTBOX_KL);
    b->count++;
}

size_t sg_store_outbox_each(struct sg_store *st,
                            void (*fn)(void *ctx, uint64_t seq, const void *rec, size_t len),
                            void *ctx)
{
    unsigned char lo[OUTBOX_KL];
    outbox_key(lo, 0);
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(st->db, st->ropts, st->cf[CF_META]);
    size_t n = 0;
    for (rocksdb_iter_seek(it, (const char *)lo, OUTBOX_KL); rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl);
        if (kl != OUTBOX_KL || memcmp(k, lo, OUTBOX_PL) != 0)
            break;
        const char *v = rocksdb_iter_value(it, &vl);
        if (fn)
            fn(ctx, rd64((const unsigned char *)k + OUTBOX_PL), v, vl);
        n++;
    }
    rocksdb_iter_destroy(it);
    return n;
}

/* Range-deletes expired rows of the time-prefixed CFs, in the same atomic batch. */
static void retention_delete(struct sg_store *st, struct sg_store_batch *b)
{
    int64_t cut = cutoff_of(st);
    if (cut <= st->range_cut || ++st->writes % RANGE_DELETE_EVERY != 0)
        return;
    unsigned char lo[8], hi[8];
    be64(lo, 0);
    be64(hi, (uint64_t)cut);
    rocksdb_writebatch_delete_range_cf(b->wb, st->cf[CF_EVENTS], (const char *)lo, 8,
                                       (const char *)hi, 8);
    rocksdb_writebatch_delete_range_cf(b->wb, st->cf[CF_ANOM], (const char *)lo, 8,
                                       (const char *)hi, 8);
    st->range_cut = cut;
}

int sg_store_write(struct sg_store *st, struct sg_store_batch *b, int sync)
{
    if (!is_primary(st))
        return SG_ERR_INVALID;
    int64_t old = atomic_load(&st->watermark);
    if (b->watermark > old) {
        unsigned char v[8];
        be64(v, (uint64_t)b->watermark);
        rocksdb_writebatch_put_cf(b->wb, st->cf[CF_META], "watermark", 9, (const char *)v, 8);
    }
    add_deferred(b);
    retention_delete(st, b);
    /* RocksDB counts every key comparison in a thread-local perf context unless told not
     * to (the level is per thread: set it in the writing thread); nothing reads them. */
    rocksdb_set_perf_level(rocksdb_disable);
    char *err = NULL;
    rocksdb_write(st->db, sync ? st->wopts_sync : st->wopts, b->wb, &err);
    if (err) {
        char msg[512];
        int rc = conv_err(err, "write", msg, sizeof msg);
        sg_log_ratelimited(SG_LOG_ERROR, 1, "store: %s", msg);
        return rc;
    }
    if (b->watermark > old)
        atomic_store(&st->watermark, b->watermark);
    sg_store_batch_clear(b);
    return SG_OK;
}

/* ---- point reads ------------------------------------------------------------------------ */

/* Gets a value into a malloc'd buffer; returns SG_OK, SG_ERR_NOTFOUND or SG_ERR_STORE. */
static int get_with(struct sg_store *st, const rocksdb_readoptions_t *ro, enum cf cf,
                    const void *k, size_t kl, char **v, size_t *vl)
{
    rocksdb_set_perf_level(rocksdb_disable); /* see sg_store_write */
    char *err = NULL;
    *v = rocksdb_get_cf(st->db, ro, st->cf[cf], k, kl, vl, &err);
    if (err) {
        char msg[512];
        int rc = conv_err(err, "read", msg, sizeof msg);
        sg_log_ratelimited(SG_LOG_ERROR, 1, "store: %s", msg);
        return rc;
    }
    return *v ? SG_OK : SG_ERR_NOTFOUND;
}

/* get_with the store's own read options. */
static int get(struct sg_store *st, enum cf cf, const void *k, size_t kl, char **v, size_t *vl)
{
    return get_with(st, st->ropts, cf, k, kl, v, vl);
}

int sg_store_outbox_get(struct sg_store *st, uint64_t seq, struct sg_buf *out)
{
    unsigned char k[OUTBOX_KL];
    outbox_key(k, seq);
    char *v;
    size_t vl;
    int rc = get(st, CF_META, k, OUTBOX_KL, &v, &vl);
    if (rc == SG_OK) {
        sg_buf_reset(out);
        sg_buf_append(out, v, vl);
        rocksdb_free(v);
    }
    return rc;
}

/* ---- sink positions -------------------------------------------------------------------- */

/* Meta CF: "sink" | 0x00 | name -> be64 dev | be64 ino | be64 length. */
#define SINK_PREFIX "sink"
#define SINK_PL 5 /* the prefix and its NUL */
#define SINK_NAME_MAX 32

static size_t sink_key(unsigned char *k, const char *name)
{
    size_t n = strnlen(name, SINK_NAME_MAX);
    memcpy(k, SINK_PREFIX, SINK_PL);
    memcpy(k + SINK_PL, name, n);
    return SINK_PL + n;
}

void sg_store_batch_put_sink(struct sg_store_batch *b, const char *name,
                             const struct sg_sink_pos *pos)
{
    unsigned char k[SINK_PL + SINK_NAME_MAX], v[24];
    size_t kl = sink_key(k, name);
    be64(v, pos->dev);
    be64(v + 8, pos->ino);
    be64(v + 16, pos->len);
    rocksdb_writebatch_put_cf(b->wb, b->st->cf[CF_META], (const char *)k, kl, (const char *)v,
                              sizeof v);
    b->count++;
}

void sg_store_batch_del_sink(struct sg_store_batch *b, const char *name)
{
    unsigned char k[SINK_PL + SINK_NAME_MAX];
    size_t kl = sink_key(k, name);
    rocksdb_writebatch_delete_cf(b->wb, b->st->cf[CF_META], (const char *)k, kl);
    b->count++;
}

int sg_store_sink_get(struct sg_store *st, const char *name, struct sg_sink_pos *pos)
{
    unsigned char k[SINK_PL + SINK_NAME_MAX];
    size_t kl = sink_key(k, name);
    char *v;
    size_t vl;
    int rc = get(st, CF_META, k, kl, &v, &vl);
    if (rc != SG_OK)
        return rc;
    if (vl == 24) {
        pos->dev = rd64((unsigned char *)v);
        pos->ino = rd64((unsigned char *)v + 8);
        pos->len = rd64((unsigned char *)v + 16);
    } else {
        rc = SG_ERR_FORMAT;
    }
    rocksdb_free(v);
    return rc;
}

static int is_sink_key(enum cf c, const char *k, size_t kl)
{
    return c == CF_META && kl >= SINK_PL && memcmp(k, SINK_PREFIX, SINK_PL) == 0;
}

/* A partition's stored next offset, read with `ro` (the store's options, or a view's). */
static int offset_read(struct sg_store *st, const rocksdb_readoptions_t *ro, const char *source,
                       int32_t partition, int64_t *next_offset)
{
    unsigned char k[KMAX];
    size_t kl = offset_key(k, source, partition);
    char *v;
    size_t vl;
    int rc = get_with(st, ro, CF_OFFSETS, k, kl, &v, &vl);
    if (rc == SG_OK && vl == 8)
        *next_offset = (int64_t)rd64((unsigned char *)v);
    else if (rc == SG_OK)
        rc = SG_ERR_FORMAT;
    rocksdb_free(v);
    return rc;
}

int sg_store_offset_get(struct sg_store *st, const char *source, int32_t partition,
                        int64_t *next_offset)
{
    return offset_read(st, st->ropts, source, partition, next_offset);
}

int sg_store_events_seen(struct sg_store *st, size_t n, const char *const *ids,
                         const size_t *id_lens, int *seen)
{
    enum { CHUNK = 128 };
    rocksdb_pinnableslice_t *vals[CHUNK];
    char *errs[CHUNK];
    int rc = SG_OK;
    int64_t cut = cutoff_of(st);
    rocksdb_set_perf_level(rocksdb_disable); /* see sg_store_write */
    for (size_t at = 0; at < n; at += CHUNK) {
        size_t k = n - at < CHUNK ? n - at : CHUNK;
        rocksdb_batched_multi_get_cf(st->db, st->ropts, st->cf[CF_EVENT_IDS], k, ids + at,
                                     id_lens + at, vals, errs, 0);
        for (size_t i = 0; i < k; i++) {
            seen[at + i] = 0;
            if (errs[i]) {
                char msg[512];
                int r = conv_err(errs[i], "read", msg, sizeof msg);
                if (rc == SG_OK) {
                    sg_log_ratelimited(SG_LOG_ERROR, 1, "store: %s", msg);
                    rc = r;
                }
            }
            if (!vals[i])
                continue;
            size_t vl;
            const char *v = rocksdb_pinnableslice_value(vals[i], &vl);
            seen[at + i] = row_ts(CF_EVENT_IDS, ids[at + i], id_lens[at + i], v, vl) >= cut;
            rocksdb_pinnableslice_destroy(vals[i]);
        }
    }
    return rc;
}

int sg_store_event_seen(struct sg_store *st, const char *id, size_t idl)
{
    int seen;
    int rc = sg_store_events_seen(st, 1, &id, &idl, &seen);
    return rc != SG_OK ? rc : seen;
}

int sg_store_user_get(struct sg_store *st, const char *user, size_t ul, struct sg_buf *out)
{
    char *v;
    size_t vl;
    int rc = get(st, CF_USERS, user, ul, &v, &vl);
    sg_buf_reset(out);
    if (rc == SG_OK)
        sg_buf_append(out, v, vl);
    rocksdb_free(v);
    return rc;
}

uint64_t sg_store_stat_get(struct sg_store *st, const char *name)
{
    char *v;
    size_t vl;
    uint64_t r = 0;
    if (get(st, CF_STATS, name, strlen(name), &v, &vl) == SG_OK && vl == 8)
        r = rd64((unsigned char *)v);
    rocksdb_free(v);
    return r;
}

void sg_store_stats_each(struct sg_store *st,
                         void (*fn)(void *ctx, const char *name, uint64_t value), void *ctx)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(st->db, st->ropts, st->cf[CF_STATS]);
    char name[256];
    for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl);
        const char *v = rocksdb_iter_value(it, &vl);
        if (vl != 8 || kl >= sizeof name)
            continue;
        memcpy(name, k, kl);
        name[kl] = 0;
        fn(ctx, name, rd64((const unsigned char *)v));
    }
    rocksdb_iter_destroy(it);
}

int64_t sg_store_watermark(struct sg_store *st)
{
    return atomic_load(&st->watermark);
}

int64_t sg_store_cutoff(struct sg_store *st)
{
    return cutoff_of(st);
}

int sg_store_event_get(struct sg_store *st, const char *id, size_t idl, struct sg_buf *out)
{
    char *v, *ev;
    size_t vl, evl;
    int rc = get(st, CF_EVENT_IDS, id, idl, &v, &vl);
    if (rc != SG_OK)
        return rc;
    int64_t ts = vl == 8 ? (int64_t)rd64((unsigned char *)v) : -1;
    rocksdb_free(v);
    if (ts < cutoff_of(st))
        return SG_ERR_NOTFOUND;
    unsigned char k[KMAX];
    size_t kl = time_key(k, ts, id, idl);
    rc = get(st, CF_EVENTS, k, kl, &ev, &evl);
    if (rc == SG_OK && evl >= 1) {
        sg_buf_reset(out);
        sg_buf_append(out, ev + 1, evl - 1);
    }
    rocksdb_free(ev);
    return rc;
}

uint64_t sg_store_size_bytes(struct sg_store *st)
{
    static const char *const props[] = {"rocksdb.total-sst-files-size",
                                        "rocksdb.cur-size-all-mem-tables"};
    uint64_t total = 0;
    for (int i = 0; i < CF_COUNT; i++) {
        for (size_t p = 0; p < sizeof props / sizeof *props; p++) {
            uint64_t v = 0;
            if (rocksdb_property_int_cf(st->db, st->cf[i], props[p], &v) == 0)
                total += v;
        }
    }
    return total;
}

int sg_store_write_stall(struct sg_store *st)
{
    uint64_t stopped = 0, rate = 0;
    if (rocksdb_property_int(st->db, "rocksdb.is-write-stopped", &stopped) == 0 && stopped)
        return 2;
    if (rocksdb_property_int(st->db, "rocksdb.actual-delayed-write-rate", &rate) == 0 && rate)
        return 1;
    return 0;
}

/* ---- queries ---------------------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int unhex(const char *s, unsigned char *out, size_t cap, size_t *n)
{
    size_t l = strlen(s);
    if (l % 2 || l / 2 > cap)
        return SG_ERR_INVALID;
    for (size_t i = 0; i < l / 2; i++) {
        int a = hexval(s[2 * i]), b = hexval(s[2 * i + 1]);
        if (a < 0 || b < 0)
            return SG_ERR_INVALID;
        out[i] = (unsigned char)(a * 16 + b);
    }
    *n = l / 2;
    return SG_OK;
}

static void put_hex(struct sg_buf *b, const void *p, size_t n)
{
    static const char dig[] = "0123456789abcdef";
    const unsigned char *s = p;
    sg_buf_reserve(b, 2 * n);
    for (size_t i = 0; i < n; i++) {
        b->data[b->len++] = dig[s[i] >> 4];
        b->data[b->len++] = dig[s[i] & 15];
    }
    b->data[b->len] = 0;
}

struct scan {
    struct sg_store *st;
    const struct sg_store_query *q;
    enum cf main_cf, index_cf;
    int is_anomaly;
    unsigned char lo[KMAX], hi[KMAX]; /* [lo, hi) in the scanned CF */
    size_t lol, hil;
    size_t prefix; /* bytes of user|0x00 in index keys */
    unsigned char lastkey[KMAX]; /* key of the last row examined (the next page's cursor) */
    size_t lastl;
};

static int key_cmp(const unsigned char *a, size_t al, const unsigned char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

/* Positions `it` on the first row of the page. */
static int scan_seek(struct scan *s, rocksdb_iterator_t *it)
{
    const struct sg_store_query *q = s->q;
    if (q->cursor && q->cursor[0]) {
        unsigned char c[KMAX];
        size_t cl;
        if (unhex(q->cursor, c, sizeof c, &cl) != SG_OK || cl < s->prefix + 8 ||
            memcmp(c, s->lo, s->prefix) != 0)
            return SG_ERR_INVALID;
        if (q->newest_first) {
            rocksdb_iter_seek_for_prev(it, (const char *)c, cl);
            if (rocksdb_iter_valid(it)) {
                size_t kl;
                const char *k = rocksdb_iter_key(it, &kl);
                if (key_cmp((const unsigned char *)k, kl, c, cl) == 0)
                    rocksdb_iter_prev(it);
            }
        } else {
            rocksdb_iter_seek(it, (const char *)c, cl);
            if (rocksdb_iter_valid(it)) {
                size_t kl;
                const char *k = rocksdb_iter_key(it, &kl);
                if (key_cmp((const unsigned char *)k, kl, c, cl) == 0)
                    rocksdb_iter_next(it);
            }
        }
        return SG_OK;
    }
    if (q->newest_first)
        rocksdb_iter_seek_for_prev(it, (const char *)s->hi, s->hil);
    else
        rocksdb_iter_seek(it, (const char *)s->lo, s->lol);
    return SG_OK;
}

static int in_range(const struct scan *s, const char *k, size_t kl)
{
    const unsigned char *u = (const unsigned char *)k;
    return key_cmp(u, kl, s->lo, s->lol) >= 0 && key_cmp(u, kl, s->hi, s->hil) < 0;
}

/* A LEB128 varint filling the whole of v[0..n), or 0 when it does not. */
static uint64_t varint(const char *v, size_t n)
{
    uint64_t x;
    int len = sg_varint_decode(v, n, &x);
    return len > 0 && (size_t)len == n ? x : 0;
}

/* Fetches the row's value (from the main CF for index scans) and applies the kind filter.
 * Returns 1 and fills row when it matches, 0 when filtered, <0 on error. `*val` must be
 * freed with rocksdb_free when non-NULL. */
static int load_row(struct scan *s, const char *k, size_t kl, const char *v, size_t vl,
                    struct sg_store_row *row, char **val)
{
    *val = NULL;
    const char *mk = k + s->prefix;
    size_t mkl = kl - s->prefix;
    row->seq = 0;
    if (s->index_cf == CF_EVENTS_USER) /* the arrival number; malformed or absent = 0 */
        row->seq = varint(v, vl);
    if (s->index_cf != s->main_cf) {
        int rc = get(s->st, s->main_cf, mk, mkl, val, &vl);
        if (rc == SG_ERR_NOTFOUND)
            return 0; /* main row expired/range-deleted before its index entry */
        if (rc != SG_OK)
            return rc;
        v = *val;
    }
    if (vl < 1 || mkl < 8)
        return 0;
    int kind = (unsigned char)v[0];
    if (s->is_anomaly ? kind < s->q->kind : (s->q->kind >= 0 && kind != s->q->kind))
        return 0;
    row->ts_ms = (int64_t)rd64((const unsigned char *)mk);
    row->event_id = mk + 8;
    row->id_len = mkl - 8;
    row->kind = kind;
    row->json = v + 1;
    row->json_len = vl - 1;
    return 1;
}

static int scan_run(struct scan *s, sg_store_row_fn fn, void *ctx, struct sg_buf *next)
{
    const struct sg_store_query *q = s->q;
    size_t limit = q->limit ? q->limit : 100, n = 0, examined = 0;
    if (q->capped)
        *q->capped = 0;
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->st->db, s->st->ropts,
                                                        s->st->cf[s->index_cf]);
    int rc = scan_seek(s, it);
    /* only now: q->cursor may point into `next` (one buffer for every page). Resetting it
     * before the seek emptied the cursor, and the rolling rebuild - which pages that way -
     * started over from the first page for ever once a user had more than one page of
     * events (until 2026-11-26: memory grew until the OOM killer stopped the stream). */
    sg_buf_reset(next);
    while (rc == SG_OK && rocksdb_iter_valid(it)) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl);
        if (!in_range(s, k, kl))
            break;
        int cap = q->max_scan && examined == q->max_scan;
        if (n == limit || cap) { /* there is at least one more row: hand out a cursor */
            put_hex(next, s->lastkey, s->lastl);
            if (cap && n < limit && q->capped)
                *q->capped = 1;
            break;
        }
        examined++;
        memcpy(s->lastkey, k, kl < KMAX ? kl : KMAX);
        s->lastl = kl < KMAX ? kl : KMAX;
        const char *v = rocksdb_iter_value(it, &vl);
        struct sg_store_row row;
        char *val;
        int m = load_row(s, k, kl, v, vl, &row, &val);
        if (m < 0)
            rc = m;
        if (m > 0) {
            n++;
            if (fn(ctx, &row) != 0)
                n = limit; /* the caller stopped; still report a cursor if more follow */
        }
        rocksdb_free(val);
        if (q->newest_first)
            rocksdb_iter_prev(it);
        else
            rocksdb_iter_next(it);
    }
    rocksdb_iter_destroy(it);
    return rc;
}

static int scan_init(struct scan *s, struct sg_store *st, const struct sg_store_query *q,
                     int anomalies)
{
    memset(s, 0, sizeof *s);
    s->st = st;
    s->q = q;
    s->is_anomaly = anomalies;
    s->main_cf = anomalies ? CF_ANOM : CF_EVENTS;
    s->index_cf = s->main_cf;
    int64_t from = q->from_ms > cutoff_of(st) ? q->from_ms : cutoff_of(st);
    int64_t to = q->to_ms > 0 ? q->to_ms : INT64_MAX;
    if (from < 0)
        from = 0;
    if (q->user) {
        size_t ul = strlen(q->user);
        if (ul > 300)
            return SG_ERR_INVALID;
        s->index_cf = anomalies ? CF_ANOM_USER : CF_EVENTS_USER;
        s->prefix = ul + 1;
        memcpy(s->lo, q->user, ul);
        memcpy(s->hi, q->user, ul);
    }
    be64(s->lo + s->prefix, (uint64_t)from);
    be64(s->hi + s->prefix, (uint64_t)to);
    s->lol = s->hil = s->prefix + 8;
    return SG_OK;
}

int sg_store_query_events(struct sg_store *st, const struct sg_store_query *q,
                          sg_store_row_fn fn, void *ctx, struct sg_buf *next_cursor)
{
    struct scan s;
    int rc = scan_init(&s, st, q, 0);
    return rc == SG_OK ? scan_run(&s, fn, ctx, next_cursor) : rc;
}

int sg_store_query_anomalies(struct sg_store *st, const struct sg_store_query *q,
                             sg_store_row_fn fn, void *ctx, struct sg_buf *next_cursor)
{
    struct scan s;
    int rc = scan_init(&s, st, q, 1);
    return rc == SG_OK ? scan_run(&s, fn, ctx, next_cursor) : rc;
}

/* Calls fn for the users CF's rows from `after` (exclusive; NULL = the first), at most
 * `limit`, read with `ro` (the store's options, or a view's). */
static size_t users_each(struct sg_store *st, const rocksdb_readoptions_t *ro, const char *after,
                         size_t limit,
                         void (*fn)(void *ctx, const char *user, size_t user_len,
                                    const void *blob, size_t blob_len),
                         void *ctx)
{
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(st->db, ro, st->cf[CF_USERS]);
    size_t n = 0;
    if (after) {
        rocksdb_iter_seek(it, after, strlen(after));
        if (rocksdb_iter_valid(it)) {
            size_t kl;
            const char *k = rocksdb_iter_key(it, &kl);
            if (kl == strlen(after) && memcmp(k, after, kl) == 0)
                rocksdb_iter_next(it);
        }
    } else {
        rocksdb_iter_seek_to_first(it);
    }
    for (; rocksdb_iter_valid(it) && n < limit; rocksdb_iter_next(it), n++) {
        size_t kl, vl;
        const char *k = rocksdb_iter_key(it, &kl);
        const char *v = rocksdb_iter_value(it, &vl);
        fn(ctx, k, kl, v, vl);
    }
    rocksdb_iter_destroy(it);
    return n;
}

size_t sg_store_users_each(struct sg_store *st, const char *after, size_t limit,
                           void (*fn)(void *ctx, const char *user, size_t user_len,
                                      const void *blob, size_t blob_len),
                           void *ctx)
{
    return users_each(st, st->ropts, after, limit, fn, ctx);
}

struct sg_store_view {
    struct sg_store *st;
    const rocksdb_snapshot_t *snap;
    rocksdb_readoptions_t *ro;
};

struct sg_store_view *sg_store_view_new(struct sg_store *st)
{
    struct sg_store_view *v = sg_xcalloc(1, sizeof *v);
    v->st = st;
    v->snap = rocksdb_create_snapshot(st->db);
    v->ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_snapshot(v->ro, v->snap);
    rocksdb_readoptions_set_total_order_seek(v->ro, 1); /* hash memtable: see tune() */
    return v;
}

void sg_store_view_free(struct sg_store_view *v)
{
    if (!v)
        return;
    rocksdb_readoptions_destroy(v->ro);
    rocksdb_release_snapshot(v->st->db, v->snap);
    free(v);
}

int sg_store_view_offset(struct sg_store_view *v, const char *source, int32_t partition,
                         int64_t *next_offset)
{
    return offset_read(v->st, v->ro, source, partition, next_offset);
}

size_t sg_store_view_users_each(struct sg_store_view *v,
                                void (*fn)(void *ctx, const char *user, size_t user_len,
                                           const void *blob, size_t blob_len),
                                void *ctx)
{
    return users_each(v->st, v->ro, NULL, SIZE_MAX, fn, ctx);
}

int sg_store_dump(struct sg_store *st, FILE *f)
{
    struct sg_buf line;
    sg_buf_init(&line);
    int64_t cut = cutoff_of(st);
    int rc = SG_OK;
    for (int c = 0; c < CF_COUNT && rc == SG_OK; c++) {
        rocksdb_iterator_t *it = rocksdb_create_iterator_cf(st->db, st->ropts, st->cf[c]);
        for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
            size_t kl, vl;
            const char *k = rocksdb_iter_key(it, &kl);
            const char *v = rocksdb_iter_value(it, &vl);
            int64_t ts = row_ts((enum cf)c, k, kl, v, vl);
            if ((ts >= 0 && ts < cut) || is_sink_key((enum cf)c, k, kl))
                continue;
            sg_buf_reset(&line);
            sg_buf_printf(&line, "%s\t", cf_names[c]);
            put_hex(&line, k, kl);
            sg_buf_putc(&line, '\t');
            put_hex(&line, v, vl);
            sg_buf_putc(&line, '\n');
            if (fwrite(line.data, 1, line.len, f) != line.len) {
                rc = SG_ERR_IO;
                break;
            }
        }
        rocksdb_iter_destroy(it);
    }
    sg_buf_release(&line);
    return rc;
}
