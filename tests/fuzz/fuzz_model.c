/* libFuzzer target for the batch model loader (model.json, docs/MODEL.md): arbitrary bytes
 * must parse or fail with a message, never crash, leak or read out of bounds; a model that
 * loads must score vectors (zeros, huge values, NaN) to finite scores in range. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch/sg_features.h"
#include "batch/sg_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    struct sg_model *m = sg_model_parse((const char *)data, size, err, sizeof err);
    if (!m) {
        if (!err[0])
            abort(); /* a failure must say why */
        return 0;
    }
    double raw[SG_FEAT_COUNT];
    const double fills[] = {0, 1e300, -1e300, NAN};
    for (size_t f = 0; f < sizeof fills / sizeof fills[0]; f++) {
        for (int j = 0; j < SG_FEAT_COUNT; j++)
            raw[j] = fills[f];
        struct sg_model_score s;
        double z[SG_FEAT_COUNT];
        sg_model_score(m, raw, z, &s);
        if (!(s.iforest >= 0 && s.iforest <= 1) || s.cluster < 0 || s.cluster >= m->km.k)
            abort();
        int idx[3];
        sg_model_top_features(m, z, idx, 3);
    }
    sg_model_free(m);
    return 0;
}
