/* libFuzzer target for sg_zread, the input decompression of `batch --input` and `stream
 * --input` (any file an operator points them at): the first byte picks the format (plain,
 * gzip, zstd), the rest is the file. Reading must end - at the end of the data or with an
 * error - without crashing; plain input must come back byte for byte. Output is read in small
 * pieces (many calls, as a large file would need) and capped, so that a decompression bomb
 * ends the run instead of taking minutes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/sg_zread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum sg_zkind kind = data[0] % 3 == 0 ? SG_Z_PLAIN : data[0] % 3 == 1 ? SG_Z_GZIP : SG_Z_ZSTD;
    data++;
    size--;
    int fd = memfd_create("fuzz_zread", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    lseek(fd, 0, SEEK_SET);
    char err[256];
    struct sg_zread *z = sg_zread_new(fd, kind, "fuzz", err, sizeof err);
    if (!z)
        return 0; /* closed the descriptor */
    char out[1000];
    size_t total = 0;
    for (;;) {
        ssize_t n = sg_zread_read(z, out, sizeof out, err, sizeof err);
        if (n < 0) {
            if (kind == SG_Z_PLAIN || !strstr(err, "fuzz: "))
                abort(); /* plain never fails on a memfd; errors name the input */
            break;
        }
        if (n == 0)
            break;
        if ((size_t)n > sizeof out)
            abort();
        if (kind == SG_Z_PLAIN &&
            (total + (size_t)n > size || memcmp(out, data + total, (size_t)n)))
            abort();
        total += (size_t)n;
        if (total > (64u << 20))
            break;
    }
    if (kind == SG_Z_PLAIN && total != size)
        abort();
    sg_zread_free(z);
    return 0;
}
