/* sg_httpc: tiny HTTP/1.0 GET over a TCP socket with poll() timeouts. */
#include "core/sg_httpc.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/sg_err.h"
#include "core/sg_time.h"

static int split_hostport(const char *hp, char *host, size_t hostcap, char *port, size_t portcap)
{
    const char *colon = strrchr(hp, ':');
    if (!colon || colon == hp || !colon[1])
        return SG_ERR_INVALID;
    size_t hl = (size_t)(colon - hp);
    if (hp[0] == '[' && hl >= 2 && hp[hl - 1] == ']') { /* [::1]:8080 */
        hp++;
        hl -= 2;
    }
    if (hl >= hostcap || strlen(colon + 1) >= portcap)
        return SG_ERR_INVALID;
    memcpy(host, hp, hl);
    host[hl] = '\0';
    snprintf(port, portcap, "%s", colon + 1);
    return SG_OK;
}

static int connect_to(const char *host, const char *port, int64_t deadline)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0 && errno != EINPROGRESS) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int left = (int)(deadline - sg_time_mono_ms());
    int err = 0;
    socklen_t len = sizeof err;
    if (left <= 0 || poll(&p, 1, left) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) ||
        err) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline)
{
    while (n) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int left = (int)(deadline - sg_time_mono_ms());
        if (left <= 0 || poll(&pfd, 1, left) != 1)
            return -1;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        }
    }
    return 0;
}

int sg_httpc_get(const char *hostport, const char *path, int timeout_ms, size_t max_bytes,
                 int *status, struct sg_buf *body)
{
    char host[256], port[16];
    if (split_hostport(hostport, host, sizeof host, port, sizeof port) != SG_OK)
        return SG_ERR_INVALID;
    int64_t deadline = sg_time_mono_ms() + timeout_ms;
    int fd = connect_to(host, port, deadline);
    if (fd < 0)
        return SG_ERR_UNAVAILABLE;
    struct sg_buf resp;
    sg_buf_init(&resp);
    sg_buf_printf(&resp, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", path,
                  hostport);
    int rc = send_all(fd, resp.data, resp.len, deadline) ? SG_ERR_UNAVAILABLE : SG_OK;
    sg_buf_reset(&resp);
    while (rc == SG_OK) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int left = (int)(deadline - sg_time_mono_ms());
        if (left <= 0 || poll(&pfd, 1, left) != 1) {
            rc = SG_ERR_UNAVAILABLE;
            break;
        }
        char tmp[16384];
        ssize_t r = recv(fd, tmp, sizeof tmp, 0);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno != EAGAIN && errno != EINTR)
                rc = SG_ERR_UNAVAILABLE;
            continue;
        }
        sg_buf_append(&resp, tmp, (size_t)r);
        if (resp.len > max_bytes + 65536)
            rc = SG_ERR_RANGE;
    }
    close(fd);
    if (rc == SG_OK) {
        char *sep = resp.data ? strstr(resp.data, "\r\n\r\n") : NULL;
        int code = 0;
        if (!sep || sscanf(resp.data, "HTTP/%*d.%*d %d", &code) != 1) {
            rc = SG_ERR_FORMAT;
        } else {
            size_t blen = resp.len - (size_t)(sep + 4 - resp.data);
            if (blen > max_bytes) {
                rc = SG_ERR_RANGE;
            } else {
                *status = code;
                sg_buf_append(body, sep + 4, blen);
            }
        }
    }
    sg_buf_release(&resp);
    return rc;
}

double sg_httpc_prom_sum(const char *text, const char *series)
{
    size_t n = strlen(series);
    double sum = 0;
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        if (line[0] != '#' && (size_t)(end - line) > n && strncmp(line, series, n) == 0) {
            char c = line[n];
            /* the series must end here or continue with labels */
            if (c == ' ' || c == '{' || c == ',' || series[n - 1] == ',' || series[n - 1] == '{') {
                const char *v = end;
                while (v > line && v[-1] != ' ' && v[-1] != '}')
                    v--;
                sum += strtod(v, NULL);
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return sum;
}
