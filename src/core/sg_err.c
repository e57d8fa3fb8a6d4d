/* sg_err: messages for the status codes in sg_err.h. */
#include "core/sg_err.h"

#include <errno.h>

const char *sg_strerror(int err)
{
    switch (err) {
    case SG_OK: return "ok";
    case SG_ERR_INVALID: return "invalid argument or input";
    case SG_ERR_IO: return "input/output error";
    case SG_ERR_CONFIG: return "configuration error";
    case SG_ERR_NOTFOUND: return "not found";
    case SG_ERR_UNAVAILABLE: return "dependency unavailable";
    case SG_ERR_FORMAT: return "unexpected format or version";
    case SG_ERR_RANGE: return "value out of range";
    case SG_ERR_KAFKA: return "kafka error";
    case SG_ERR_STORE: return "storage error";
    case SG_ERR_INTERRUPTED: return "interrupted";
    case SG_ERR_NOSPACE: return "no space left on device";
    case SG_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}

int sg_err_from_errno(int errnum)
{
    switch (errnum) {
    case 0: return SG_OK;
    case ENOSPC:
    case EDQUOT: return SG_ERR_NOSPACE;
    case ENOENT: return SG_ERR_NOTFOUND;
    case EINTR: return SG_ERR_INTERRUPTED;
    case EINVAL: return SG_ERR_INVALID;
    case ECONNREFUSED:
    case EADDRINUSE:
    case EADDRNOTAVAIL: return SG_ERR_UNAVAILABLE;
    default: return SG_ERR_IO;
    }
}
