/* fault_shim: an LD_PRELOAD library for fault tests. It lets the first $FAULT_WRITE_LIMIT
 * bytes written to files (fd > 2) through, makes the write that crosses the limit short, and
 * fails every later write with $FAULT_ERRNO (ENOSPC default, or EIO) - a disk filling up.
 * $FAULT_FSYNC=1 fails fsync with EIO, $FAULT_RENAME=1 fails rename with EXDEV.
 * Built by tests/fault/shim.sh for the fault tests; not part of the library. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long long limit = -1, used;

static void init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    const char *l = getenv("FAULT_WRITE_LIMIT");
    if (l)
        limit = atoll(l);
}

static int fault_errno(void)
{
    const char *e = getenv("FAULT_ERRNO");
    return e && strcmp(e, "EIO") == 0 ? EIO : ENOSPC;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    init();
    if (fd > 2 && limit >= 0) {
        long long room = limit - used;
        if (room <= 0) {
            errno = fault_errno();
            return -1;
        }
        if ((long long)n > room)
            n = (size_t)room; /* short write */
    }
    ssize_t k = real(fd, buf, n);
    if (k > 0 && fd > 2)
        used += k;
    return k;
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    const char *f = getenv("FAULT_FSYNC");
    if (f && *f == '1') {
        errno = EIO;
        return -1;
    }
    return real(fd);
}

int rename(const char *a, const char *b)
{
    static int (*real)(const char *, const char *);
    if (!real)
        real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    const char *f = getenv("FAULT_RENAME");
    if (f && *f == '1') {
        errno = EXDEV;
        return -1;
    }
    return real(a, b);
}
