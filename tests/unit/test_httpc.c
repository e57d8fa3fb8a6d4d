/* Unit tests of sg_httpc: GET against a real listening socket on 127.0.0.1 (a thread that
 * answers once), timeouts against a silent server, connection refused, and the Prometheus
 * text sum helper. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/sg_err.h"
#include "core/sg_httpc.h"

struct server {
    int fd;
    const char *reply; /* NULL: accept and stay silent */
    char request[1024];
};

static void *serve_once(void *arg)
{
    struct server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    ssize_t n = recv(c, s->request, sizeof s->request - 1, 0);
    s->request[n > 0 ? n : 0] = '\0';
    if (s->reply)
        (void)!write(c, s->reply, strlen(s->reply));
    else
        usleep(400 * 1000);
    close(c);
    return NULL;
}

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_get(void **state)
{
    (void)state;
    struct server s = {.reply = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello body"};
    int port;
    s.fd = listen_any(&port);
    pthread_t t;
    pthread_create(&t, NULL, serve_once, &s);
    char hp[64];
    snprintf(hp, sizeof hp, "127.0.0.1:%d", port);
    struct sg_buf body;
    sg_buf_init(&body);
    int status = 0;
    assert_int_equal(sg_httpc_get(hp, "/api/x?y=1", 2000, 1024, &status, &body), SG_OK);
    pthread_join(t, NULL);
    assert_int_equal(status, 200);
    assert_string_equal(body.data, "hello body");
    assert_non_null(strstr(s.request, "GET /api/x?y=1 HTTP/1.0\r\n"));
    sg_buf_release(&body);

    /* body larger than allowed */
    pthread_create(&t, NULL, serve_once, &s);
    sg_buf_init(&body);
    assert_int_equal(sg_httpc_get(hp, "/", 2000, 4, &status, &body), SG_ERR_RANGE);
    pthread_join(t, NULL);

    /* silent server: times out */
    s.reply = NULL;
    pthread_create(&t, NULL, serve_once, &s);
    assert_int_equal(sg_httpc_get(hp, "/", 100, 1024, &status, &body), SG_ERR_UNAVAILABLE);
    pthread_join(t, NULL);
    close(s.fd);
    /* nothing listening any more */
    assert_int_equal(sg_httpc_get(hp, "/", 500, 1024, &status, &body), SG_ERR_UNAVAILABLE);
    assert_int_equal(sg_httpc_get("nohostport", "/", 500, 1024, &status, &body), SG_ERR_INVALID);
    sg_buf_release(&body);
}

static void test_prom_sum(void **state)
{
    (void)state;
    const char *text = "# HELP a_total x\n# TYPE a_total counter\n"
                       "a_total{type=\"dns\"} 3\na_total{type=\"auth\"} 4.5\n"
                       "a_total_other 100\nb 7\nb_bucket{le=\"1\"} 9";
    assert_true(sg_httpc_prom_sum(text, "a_total") == 7.5);
    assert_true(sg_httpc_prom_sum(text, "a_total{type=\"dns\"}") == 3);
    assert_true(sg_httpc_prom_sum(text, "b") == 7);
    assert_true(sg_httpc_prom_sum(text, "b_bucket") == 9); /* last line without newline */
    assert_true(sg_httpc_prom_sum(text, "c") == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_prom_sum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
