/* sg_assets: lookup in the generated asset table (a handful of entries: a linear scan). */
#include "serving/sg_assets.h"

#include <string.h>

const struct sg_asset *sg_assets_find(const char *name, size_t n)
{
    for (unsigned long i = 0; i < sg_assets_count; i++) {
        const struct sg_asset *a = &sg_assets_table[i];
        if (strlen(a->name) == n && memcmp(a->name, name, n) == 0)
            return a;
    }
    return NULL;
}

const char *sg_assets_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}
