/* sg_modelwatch: the batch model the speed layer uses (`stream --model DIR`): loads
 * DIR/model.json + DIR/baselines.ndjson through src/batch/sg_model.h and reloads them, without
 * a restart, when model.json changes (checked at most every few seconds, between batches). A
 * model that fails to load keeps the previous one in service. Not a file watcher daemon. */
#ifndef SG_MODELWATCH_H
#define SG_MODELWATCH_H

#include <stddef.h>

struct sg_model;
struct sg_modelwatch;

/* Loads the model in `dir`. Returns NULL with errbuf when it cannot be loaded.
 * Ownership: free with sg_modelwatch_free. Thread-safety: one thread. */
struct sg_modelwatch *sg_modelwatch_new(const char *dir, char *errbuf, size_t errlen);
void sg_modelwatch_free(struct sg_modelwatch *w);

/* The model in service (borrowed: valid until the next sg_modelwatch_poll that returns 1). */
const struct sg_model *sg_modelwatch_get(const struct sg_modelwatch *w);

/* Reloads when model.json's modification time or size changed since the last load (checked
 * at most every `interval_ms`). Returns 1 when a new model is in service, 0 otherwise. */
int sg_modelwatch_poll(struct sg_modelwatch *w, long interval_ms);

/* Number of successful (re)loads so far. */
unsigned sg_modelwatch_generation(const struct sg_modelwatch *w);

#endif
