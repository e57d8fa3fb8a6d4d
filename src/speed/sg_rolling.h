/* sg_rolling: a user's rolling behaviour features in the speed layer, and the batch model's
 * score of them (docs/DETECTION.md, "Batch model score"). The window is the model's training
 * history extended to now: every stored event of the user from the model's history start on,
 * folded through the batch layer's own feature accumulator (batch/sg_features.h), so the score
 * is what the next batch run would say of the user if it ran now. Not a detector: it sets
 * u->model_score, which sg_det_model reads.
 *
 * Determinism (kill -9 + restart must rebuild the same store): events are folded in arrival
 * order, as the batch layer folds them. The store keeps each event's arrival number among the
 * user's events in the by-user index (sg_store_batch_put_event's `seq`), so a rebuild reads
 * the user's events and folds them sorted by it: the same sequence the live path folded.
 * Scores are computed at fixed fold counts, never on the clock. */
#ifndef SG_ROLLING_H
#define SG_ROLLING_H

#include <stdint.h>

#include "batch/sg_model.h"
#include "core/sg_event.h"
#include "core/sg_mem.h"
#include "speed/sg_user.h"
#include "storage/sg_store.h"

/* The model is asked for its opinion every SG_ROLLING_EVERY folded events, once the window
 * holds SG_ROLLING_MIN events and spans at least half of the model's training history. */
#define SG_ROLLING_EVERY 16
#define SG_ROLLING_MIN 16

struct sg_rolling;

/* Ownership: free with sg_rolling_free (NULL ok). One per cached user; not thread-safe. */
struct sg_rolling *sg_rolling_new(void);
void sg_rolling_free(struct sg_rolling *r);

/* Rebuilds r from the store for `user` (NUL-terminated): its events with time >= the model's
 * history start, in arrival order. When u's window followed another model (u->roll_model !=
 * m->id), it now follows m and the user is rescored at once; otherwise u's score stands.
 * `arena` is scratch (reset here).
 * Sets *partial when the store held fewer events than u->roll_n says were folded (expired by
 * retention). Must only be called when every event of the user is in the store (nothing of it
 * pending or in flight). Returns SG_OK or SG_ERR_STORE. */
int sg_rolling_rebuild(struct sg_rolling *r, struct sg_user_state *u, const struct sg_model *m,
                       struct sg_store *st, const char *user, struct sg_arena *arena,
                       int *partial);

/* Folds a new event of the user (valid, not a duplicate, the profile already updated) and
 * rescores every SG_ROLLING_EVERY events. Returns 1 if folded, 0 if it is older than the
 * window. */
int sg_rolling_add(struct sg_rolling *r, struct sg_user_state *u, const struct sg_model *m,
                   const struct sg_event *ev);

/* The model's anomaly_score mapped to [0,1] with the model's threshold at 0.5: below it
 * linearly onto [0, 0.5), above it onto [0.5, 1]. Pure. */
double sg_rolling_calibrate(const struct sg_model *m, double anomaly_score);

#endif
