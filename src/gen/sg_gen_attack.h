/* sg_gen_attack: plans the events of one attack scenario against one simulated user (internal
 * to src/gen). The plan is a time-sorted array of renderable events; sg_gen.c merges it into
 * the user's benign timeline. What each scenario looks like is documented in
 * docs/SCENARIOS.md. Not a public API. */
#ifndef SG_GEN_ATTACK_H
#define SG_GEN_ATTACK_H

#include <stddef.h>
#include <stdint.h>

#include "gen/sg_gen_model.h"

struct sg_gen_plan {
    struct sg_gen_ev *ev; /* sorted by ts; events with scenario -1 are benign context */
    size_t n, cap;
};

/* Plans `scenario` against `u` inside [start_ms, end_ms). `scale` (0, 1] shrinks the event
 * counts when the requested total is small. Campaign-wide choices (the spraying window and
 * addresses) derive from `seed` alone so every sprayed user shares them. Deterministic in
 * (seed, user, scenario, scale); does not touch u->rng.
 * Ownership: fills `plan` (caller storage), release with sg_gen_attack_release. */
void sg_gen_attack_plan(struct sg_gen_user *u, int scenario, double scale, int64_t start_ms,
                        int64_t end_ms, uint64_t seed, struct sg_gen_plan *plan);
void sg_gen_attack_release(struct sg_gen_plan *plan);

#endif
