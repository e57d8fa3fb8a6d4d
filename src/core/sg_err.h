/* sg_err: the one status-code enum of StreamGuard and its messages.
 * Every library function that can fail returns an `int` that is SG_OK or a negative
 * `enum sg_err`; third-party error styles are converted at their wrapper. */
#ifndef SG_ERR_H
#define SG_ERR_H

enum sg_err {
    SG_OK = 0,
    SG_ERR_INVALID = -1,     /* bad argument or bad input data */
    SG_ERR_IO = -2,          /* read/write/open failed (errno-style) */
    SG_ERR_CONFIG = -3,      /* configuration or usage error */
    SG_ERR_NOTFOUND = -4,    /* key, file or resource does not exist */
    SG_ERR_UNAVAILABLE = -5, /* dependency unreachable: broker, database, port */
    SG_ERR_FORMAT = -6,      /* file or message in an unexpected format/version */
    SG_ERR_RANGE = -7,       /* value outside its allowed range, buffer too small */
    SG_ERR_KAFKA = -8,       /* librdkafka reported an error */
    SG_ERR_STORE = -9,       /* RocksDB reported an error */
    SG_ERR_INTERRUPTED = -10, /* stopped by a signal or shutdown request */
    SG_ERR_NOSPACE = -11,    /* disk full (ENOSPC/EDQUOT) */
    SG_ERR_INTERNAL = -12,   /* a bug: an invariant did not hold */
};

/* Returns a static, human-readable description of `err` (never NULL). */
const char *sg_strerror(int err);

/* Maps an errno value to the closest sg_err (ENOSPC -> SG_ERR_NOSPACE, ENOENT -> NOTFOUND...). */
int sg_err_from_errno(int errnum);

#endif
