/* sg_modelwatch: load + reload-on-change of the batch model. */
#include "speed/sg_modelwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "batch/sg_model.h"
#include "core/sg_log.h"
#include "core/sg_mem.h"
#include "core/sg_time.h"

struct sg_modelwatch {
    char *dir;
    struct sg_model *model;
    struct timespec mtime;
    off_t size;
    int64_t last_check;
    unsigned gen;
};

static int stat_model(const char *dir, struct stat *st)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/model.json", dir);
    return stat(p, st);
}

struct sg_modelwatch *sg_modelwatch_new(const char *dir, char *errbuf, size_t errlen)
{
    struct stat st;
    if (stat_model(dir, &st) != 0) {
        snprintf(errbuf, errlen, "%s/model.json: no such model", dir);
        return NULL;
    }
    struct sg_model *m = sg_model_load(dir, errbuf, errlen);
    if (!m)
        return NULL;
    struct sg_modelwatch *w = sg_xcalloc(1, sizeof *w);
    w->dir = sg_xstrdup(dir);
    w->model = m;
    w->mtime = st.st_mtim;
    w->size = st.st_size;
    w->last_check = sg_time_mono_ms();
    w->gen = 1;
    return w;
}

void sg_modelwatch_free(struct sg_modelwatch *w)
{
    if (!w)
        return;
    sg_model_free(w->model);
    free(w->dir);
    free(w);
}

const struct sg_model *sg_modelwatch_get(const struct sg_modelwatch *w)
{
    return w->model;
}

unsigned sg_modelwatch_generation(const struct sg_modelwatch *w)
{
    return w->gen;
}

int sg_modelwatch_poll(struct sg_modelwatch *w, long interval_ms)
{
    int64_t now = sg_time_mono_ms();
    if (now - w->last_check < interval_ms)
        return 0;
    w->last_check = now;
    struct stat st;
    if (stat_model(w->dir, &st) != 0)
        return 0;
    if (st.st_mtim.tv_sec == w->mtime.tv_sec && st.st_mtim.tv_nsec == w->mtime.tv_nsec &&
        st.st_size == w->size)
        return 0;
    char err[512];
    struct sg_model *m = sg_model_load(w->dir, err, sizeof err);
    w->mtime = st.st_mtim; /* do not retry a broken file until it changes again */
    w->size = st.st_size;
    if (!m) {
        sg_log_warn("model reload from %s failed, keeping the previous model: %s", w->dir, err);
        return 0;
    }
    sg_model_free(w->model);
    w->model = m;
    w->gen++;
    sg_log_info("model reloaded from %s (generation %u)", w->dir, w->gen);
    return 1;
}
