/* libFuzzer target for the configuration parser: arbitrary bytes as a YAML file must load or
 * fail with a message, never crash or leak; a successful load must dump to YAML that loads
 * back to the same dump (the dump is a fixed point). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/sg_buf.h"
#include "core/sg_config.h"
#include "core/sg_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int load_bytes(struct sg_config *c, const void *p, size_t n, char *err, size_t errlen)
{
    int fd = memfd_create("cfg", 0);
    if (fd < 0)
        abort();
    if (n && write(fd, p, n) != (ssize_t)n)
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int rc = sg_config_load(c, path, err, errlen);
    close(fd);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sg_config c;
    char err[512];
    sg_config_init(&c);
    int rc = load_bytes(&c, data, size, err, sizeof err);
    if (rc != SG_OK && !err[0])
        abort(); /* a failure must say why */
    if (rc == SG_OK) {
        struct sg_buf a, b;
        sg_buf_init(&a);
        sg_buf_init(&b);
        sg_config_dump(&c, 0, &a);
        struct sg_config d;
        sg_config_init(&d);
        if (load_bytes(&d, a.data, a.len, err, sizeof err) != SG_OK)
            abort();
        sg_config_dump(&d, 0, &b);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
            abort();
        sg_config_release(&d);
        sg_buf_release(&a);
        sg_buf_release(&b);
    }
    sg_config_release(&c);
    return 0;
}
