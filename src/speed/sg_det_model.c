/* sg_det_model: the batch layer's opinion of the user. When the model's score of the user's
 * rolling features (sg_rolling.c) is m > 0.5 (mapped so that 0.5 is the model's own threshold),
 * every event of the user gets a "batch_model" finding of score 2(m - 0.5) with weight 0.3:
 * alone it stays below the alert threshold, but it pushes borderline speed-layer findings over
 * it. */
#include "speed/sg_detect.h"

void sg_det_model(const struct sg_user_state *u, const struct sg_event *ev,
                  const struct sg_detect_params *p, struct sg_findings *out)
{
    (void)ev;
    (void)p;
    if (u->model_score <= 0.5)
        return;
    sg_findings_add(out, "batch_model", 2 * (u->model_score - 0.5), 0.3);
    sg_findings_num(out, "model_score", u->model_score);
}
