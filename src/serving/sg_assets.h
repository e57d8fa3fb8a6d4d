/* sg_assets: the dashboard's files (src/serving/assets/), compiled into the binary by
 * scripts/embed_assets.sh (the Makefile writes $(BUILD)/gen/sg_assets_data.c). Lookup by file
 * name and the Content-Type to serve each with. Read-only data; thread-safe. */
#ifndef SG_ASSETS_H
#define SG_ASSETS_H

#include <stddef.h>

struct sg_asset {
    const char *name;           /* file name, e.g. "app.js" */
    const unsigned char *data;  /* contents (followed by a NUL not counted in len) */
    size_t len;
};

/* Defined in the generated file. */
extern const struct sg_asset sg_assets_table[];
extern const unsigned long sg_assets_count;

/* Returns the asset called `name` (n bytes) or NULL. Borrowed, static lifetime. */
const struct sg_asset *sg_assets_find(const char *name, size_t n);

/* Content-Type for a file name by its extension ("application/octet-stream" if unknown). */
const char *sg_assets_content_type(const char *name);

#endif
