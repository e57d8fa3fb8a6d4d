/* http_client.h: a tiny blocking HTTP/1.1 client over a loopback socket for the component
 * tests (one request per connection, "Connection: close", reads to EOF). Header-only so each
 * test binary stays one file; not a general client (no chunked encoding, no TLS). */
#ifndef SG_TEST_HTTP_CLIENT_H
#define SG_TEST_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

struct http_reply {
    int status;
    char *headers; /* raw header block, NUL-terminated */
    char *body;    /* NUL-terminated */
    size_t body_len;
};

static void http_reply_free(struct http_reply *r)
{
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* Returns the value of header `name` (case-insensitive) copied into buf, or NULL. */
static const char *http_header(const struct http_reply *r, const char *name, char *buf,
                               size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, cap, "%.*s", (int)(len - (size_t)(v - p)), v);
            return buf;
        }
        p = eol ? eol + 2 : p + len;
    }
    return NULL;
}

/* Sends `method target` with optional extra header lines ("Authorization: Bearer x\r\n") and
 * fills *r. Returns 0, or -1 if the connection failed or the reply was not HTTP. */
static int http_request(uint16_t port, const char *method, const char *target,
                        const char *extra_headers, struct http_reply *r)
{
    memset(r, 0, sizeof *r);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    size_t cap = strlen(target) + (extra_headers ? strlen(extra_headers) : 0) + 256;
    char *req = malloc(cap);
    int n = snprintf(req, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n",
                     method, target, extra_headers ? extra_headers : "");
    ssize_t off = 0;
    while (off < n) {
        ssize_t w = send(fd, req + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += w;
    }
    free(req);
    size_t len = 0, rcap = 65536;
    char *buf = malloc(rcap + 1);
    for (;;) {
        if (len == rcap) {
            rcap *= 2;
            buf = realloc(buf, rcap + 1);
        }
        ssize_t k = recv(fd, buf + len, rcap - len, 0);
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    close(fd);
    buf[len] = '\0';
    char *sep = strstr(buf, "\r\n\r\n");
    if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || !sep) {
        free(buf);
        return -1;
    }
    r->status = atoi(buf + 9);
    r->headers = strndup(buf, (size_t)(sep - buf) + 2);
    r->body_len = len - (size_t)(sep + 4 - buf);
    r->body = malloc(r->body_len + 1);
    memcpy(r->body, sep + 4, r->body_len);
    r->body[r->body_len] = '\0';
    free(buf);
    return 0;
}

/* GET with an optional bearer token; returns the status (or -1). */
static int http_get(uint16_t port, const char *target, const char *token, struct http_reply *r)
{
    char hdr[512] = "";
    if (token)
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", token);
    if (http_request(port, "GET", target, hdr, r) != 0)
        return -1;
    return r->status;
}

#endif
