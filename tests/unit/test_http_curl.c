/* The libcurl transport against a scripted plain-HTTP server on the same scheduler (libcurl speaks http:// as
 * well; TLS itself is the integration tests' business): bodies both ways much larger than the buffers between
 * libcurl's callbacks and the coroutine, through slow sinks and sources so that both directions pause and
 * resume; chunked and HEAD responses, interim heads, the head limits, the request as sent (Host, no Expect),
 * body sources that fail or run short or long, keep-alive, several transfers at once, a stalled server, a
 * refused connection and cancellation. Every test ends with no coroutine and no connection left. */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "coro/coro.h"
#include "http/http_curl.h"
#include "http/http_curl_internal.h"
#include "unit.h"

static struct coro_sched *sched;

#define MiB (1024 * 1024)
#define IO_DEADLINE CORO_SEC(10) /* what every wait allows, so a bug fails a test instead of hanging */

static unsigned char pat(size_t i) { return (unsigned char)(i * 131 + 7 + (i >> 13)); }

static void pat_fill(unsigned char *buf, size_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pat(off + i);
}

static long pat_bad(const unsigned char *buf, size_t off, size_t n)
{
    long bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += buf[i] != pat(off + i);
    return bad;
}

static int64_t soon(void) { return coro_deadline_in(IO_DEADLINE); }

static int send_all(int fd, const void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = coro_send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL, soon());
        if (n <= 0)
            return n < 0 ? (int)n : -EPIPE;
        done += (size_t)n;
    }
    return 0;
}

static int send_str(int fd, const char *s) { return send_all(fd, s, strlen(s)); }

/* --- the scripted server ----------------------------------------------------------------------------------------
 * A coroutine per connection reads a request head and, when it has a Content-Length, its body (checked against
 * the pattern), then answers by target as server_answer() says. */
static struct server {
    int lfd;
    char port[16];
    struct coro *acceptor;
    int accepts, requests, conns_open;
    bool put_short; /* the last request body ended early */
} srv;

static struct http_curl_endpoint ep;

struct sconn {
    int fd;
    size_t len, head_len;
    int64_t put_got; /* the last request body: bytes, and how many of them were not the pattern */
    long put_bad;
    char buf[16384 + 1];
};

static size_t query_n(const char *target)
{
    const char *n = strstr(target, "n=");
    return n ? strtoull(n + 2, NULL, 10) : 0;
}

static size_t read_head(struct sconn *c)
{
    for (;;) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (end)
            return (size_t)(end + 4 - c->buf);
        if (c->len == sizeof(c->buf) - 1)
            return 0;
        ssize_t n = coro_recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0, soon());
        if (n <= 0)
            return 0;
        c->len += (size_t)n;
        c->buf[c->len] = '\0';
    }
}

static bool read_body(struct sconn *c, int64_t cl)
{
    unsigned char *buf = malloc(65536);
    size_t have = c->len - c->head_len < (size_t)cl ? c->len - c->head_len : (size_t)cl;
    c->put_got = (int64_t)have;
    c->put_bad = pat_bad((unsigned char *)c->buf + c->head_len, 0, have);
    while (c->put_got < cl) {
        size_t want = (size_t)(cl - c->put_got) < 65536 ? (size_t)(cl - c->put_got) : 65536;
        ssize_t n = coro_recv(c->fd, buf, want, 0, soon());
        if (n <= 0)
            break;
        c->put_bad += pat_bad(buf, (size_t)c->put_got, (size_t)n);
        c->put_got += n;
    }
    free(buf);
    srv.put_short = c->put_got < cl;
    return !srv.put_short;
}

static int send_pattern(int fd, size_t n)
{
    unsigned char *buf = malloc(65536);
    int err = 0;
    for (size_t off = 0; off < n && !err;) {
        size_t k = n - off < 65536 ? n - off : 65536;
        pat_fill(buf, off, k);
        err = send_all(fd, buf, k);
        off += k;
    }
    free(buf);
    return err;
}

static int send_chunked(int fd, size_t n)
{
    static const size_t sizes[] = {1, 7, 300, 4096, 65536, 3, 20000};
    unsigned char *buf = malloc(65536);
    int err = send_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t off = 0, i = 0; off < n && !err; i++) {
        size_t k = sizes[i % 7] < n - off ? sizes[i % 7] : n - off;
        char line[64];
        snprintf(line, sizeof(line), "%zx\r\n", k);
        pat_fill(buf, off, k);
        err = send_str(fd, line);
        if (!err)
            err = send_all(fd, buf, k);
        if (!err)
            err = send_str(fd, "\r\n");
        off += k;
    }
    if (!err)
        err = send_str(fd, "0\r\nX-Trailer: yes\r\n\r\n");
    free(buf);
    return err;
}

static void wait_eof(int fd)
{
    char b[256];
    while (coro_recv(fd, b, sizeof(b), 0, soon()) > 0)
        ;
}

/* Answers one request; false to close the connection. */
static bool server_answer(struct sconn *c, const char *target)
{
    int fd = c->fd;
    char head[256];
    if (strncmp(target, "/len", 4) == 0) {
        size_t n = query_n(target);
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nX-Case: Len\r\n\r\n", n);
        return send_str(fd, head) == 0 && send_pattern(fd, n) == 0;
    }
    if (strncmp(target, "/chunked", 8) == 0)
        return send_chunked(fd, query_n(target)) == 0;
    if (strncmp(target, "/echo", 5) == 0) {
        /* The request head as the body, and what came of the request body. */
        snprintf(head, sizeof(head), "HTTP/1.1 201 Created\r\nX-Got: %lld\r\nX-Bad: %ld\r\nEtag:  \"e\"  \r\n"
                                     "Content-Length: %zu\r\n\r\n",
                 (long long)c->put_got, c->put_bad, c->head_len);
        return send_str(fd, head) == 0 && send_all(fd, c->buf, c->head_len) == 0;
    }
    if (strcmp(target, "/head") == 0)
        return send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n") == 0;
    if (strcmp(target, "/continue") == 0)
        return send_str(fd, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") == 0;
    if (strcmp(target, "/short") == 0) {
        if (send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n") == 0)
            send_pattern(fd, 50);
        return false;
    }
    if (strcmp(target, "/body-stall") == 0) {
        if (send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n") == 0)
            send_pattern(fd, 1000);
        wait_eof(fd);
        return false;
    }
    if (strcmp(target, "/big-head") == 0 || strcmp(target, "/many-headers") == 0) {
        /* 40 fields of 500 bytes are over HTTP_CLIENT_HEAD_MAX; 65 small ones over HTTP_CLIENT_HEADERS_MAX. */
        bool big = strcmp(target, "/big-head") == 0;
        char value[501];
        memset(value, 'v', sizeof(value));
        value[big ? 500 : 1] = '\0';
        int err = send_str(fd, "HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < (big ? 40 : 65) && !err; i++) {
            char line[600];
            snprintf(line, sizeof(line), "X-H%d: %s\r\n", i, value);
            err = send_str(fd, line);
        }
        if (!err)
            send_str(fd, "Content-Length: 0\r\n\r\n");
    }
    wait_eof(fd); /* "/stall" and the rest: the client gives up first */
    return false;
}

static void server_conn(void *arg)
{
    struct sconn *c = malloc(sizeof(*c));
    c->fd = (int)(intptr_t)arg;
    c->len = 0;
    srv.conns_open++;
    for (;;) {
        c->head_len = read_head(c);
        if (!c->head_len)
            break;
        srv.requests++;
        c->put_got = c->put_bad = 0;
        char target[256] = "";
        sscanf(c->buf, "%*s %255s", target);
        const char *cl = strcasestr(c->buf, "\r\nContent-Length:");
        if (cl && cl < c->buf + c->head_len && !read_body(c, strtoll(cl + 17, NULL, 10)))
            break;
        bool keep = server_answer(c, target);
        /* Pipelined bytes are not something libcurl sends: the next request starts afresh. */
        c->len = 0;
        if (!keep)
            break;
    }
    coro_close(c->fd);
    srv.conns_open--;
    free(c);
}

static void server_accept(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = coro_accept(srv.lfd, NULL, NULL, SOCK_CLOEXEC, 0);
        if (fd < 0)
            break;
        srv.accepts++;
        coro_spawn(sched, server_conn, (void *)(intptr_t)fd);
    }
    coro_close(srv.lfd);
}

static void server_start(void)
{
    memset(&srv, 0, sizeof(srv));
    srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    CHECK_EQ(bind(srv.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CHECK_EQ(listen(srv.lfd, 64), 0);
    CHECK_EQ(getsockname(srv.lfd, (struct sockaddr *)&sa, &len), 0);
    snprintf(srv.port, sizeof(srv.port), "%u", ntohs(sa.sin_port));
    CHECK_EQ(http_curl_endpoint_init(&ep, "http", "127.0.0.1", srv.port, NULL), 0);
    srv.acceptor = coro_spawn(sched, server_accept, NULL);
}

static void (*client_fn)(void);

static void client_main(void *arg)
{
    (void)arg;
    client_fn();
    http_curl_thread_exit(); /* closes libcurl's cached connections: the server sees them go */
    coro_cancel(srv.acceptor);
}

/* Runs fn as a client coroutine against a fresh server, until every coroutine (ours and the transport's) ended. */
static void with_server(void (*fn)(void))
{
    server_start();
    client_fn = fn;
    coro_spawn(sched, client_main, NULL);
    coro_sched_run(sched);
    CHECK_EQ(coro_count(), 0);
    CHECK_EQ(srv.conns_open, 0);
    http_curl_endpoint_free(&ep);
}

/* --- client helpers ---------------------------------------------------------------------------------------------- */

/* A body source of len pattern bytes, step at a time, that yields on every read (a client slower than libcurl)
 * and ends with end_err (0, or a failure of its checks) or with extra bytes more than it promised. */
struct slow_source {
    struct body_source src;
    int64_t len, off;
    size_t step;
    int end_err;
    size_t extra;
    struct http_curl_exchange *ex;
    bool saw_pause;
    size_t max_cap;
};

static ssize_t slow_read(struct body_source *src, void *buf, size_t len)
{
    struct slow_source *s = (struct slow_source *)src;
    struct http_curl_xfer *x = s->ex->x;
    if (x) {
        /* Once, the source holds back until libcurl has run dry and paused. */
        for (int i = 0; i < 5000 && s->off > 0 && !s->saw_pause && !x->send_paused && x->in_multi; i++)
            coro_sleep(CORO_MS(1));
        s->saw_pause |= x->send_paused;
        s->max_cap = x->out.cap > s->max_cap ? x->out.cap : s->max_cap;
    }
    coro_yield();
    if (s->off == s->len + (int64_t)s->extra)
        return s->end_err;
    size_t n = (size_t)(s->len + (int64_t)s->extra - s->off);
    n = n < len ? n : len;
    n = n < s->step ? n : s->step;
    pat_fill(buf, (size_t)s->off, n);
    s->off += (int64_t)n;
    return (ssize_t)n;
}

/* A sink that checks the pattern and sleeps now and then (a client slower than the backend). */
struct slow_sink {
    struct body_sink sink;
    int64_t got;
    long bad;
    unsigned calls;
    bool started;
    struct http_curl_exchange *ex;
    bool saw_pause;
    size_t max_cap;
};

static ssize_t slow_write(struct body_sink *sink, const void *buf, size_t len)
{
    struct slow_sink *s = (struct slow_sink *)sink;
    s->bad += pat_bad(buf, (size_t)s->got, len);
    s->got += (int64_t)len;
    struct http_curl_xfer *x = s->ex->x;
    /* Once, the sink holds back until the buffer is full and libcurl paused. */
    for (int i = 0; i < 5000 && !s->saw_pause && !x->recv_paused && x->in_multi; i++)
        coro_sleep(CORO_MS(1));
    s->saw_pause |= x->recv_paused;
    s->max_cap = x->in.cap > s->max_cap ? x->in.cap : s->max_cap;
    if (++s->calls % 2 == 0)
        coro_sleep(CORO_MS(1));
    return (ssize_t)len;
}

static int slow_start(struct body_sink *sink)
{
    ((struct slow_sink *)sink)->started = true;
    return 0;
}

static void slow_sink_init(struct slow_sink *s, struct http_curl_exchange *ex)
{
    *s = (struct slow_sink){.sink = {.write = slow_write, .splice_fd = -1, .start = slow_start}, .ex = ex};
}

static int request(const char *method, const char *target, int64_t cl, struct body_source *body,
                   struct http_curl_exchange *ex, int64_t deadline)
{
    static const struct http_client_header hs[] = {{"x-test", "v 1"}, {"x-empty", ""}};
    struct http_client_request req = {.method = method, .target = target, .headers = hs, .nheaders = 2,
                                      .content_length = cl, .body = body, .head = strcmp(method, "HEAD") == 0};
    return http_curl_request(&ep, &req, ex, deadline);
}

static int64_t read_all(struct http_curl_exchange *ex, size_t step, long *bad)
{
    unsigned char *buf = malloc(step);
    int64_t got = 0;
    ssize_t n;
    *bad = 0;
    while ((n = http_curl_body_read(ex, buf, step)) > 0) {
        *bad += pat_bad(buf, (size_t)got, (size_t)n);
        got += n;
    }
    free(buf);
    return n < 0 ? n : got;
}

/* A whole GET read step bytes at a time: its status or -errno; the body must be expect_len pattern bytes. */
static int fetch(const char *target, int64_t expect_len, size_t step)
{
    struct http_curl_exchange *ex = malloc(sizeof(*ex));
    int r = request("GET", target, -1, NULL, ex, soon());
    if (r == 0) {
        long bad;
        CHECK_EQ(read_all(ex, step, &bad), expect_len);
        CHECK_EQ(bad, 0);
        r = ex->status;
        http_curl_done(ex);
    }
    free(ex);
    return r;
}

/* --- tests ---------------------------------------------------------------------------------------------------- */

static void test_endpoint(void)
{
    struct http_curl_endpoint e;
    CHECK_EQ(http_curl_endpoint_init(&e, "https", "localhost", "8443", "/tmp/ca.pem"), 0);
    CHECK_STR(e.host, "localhost:8443");
    CHECK_STR(e.base, "https://localhost:8443");
    CHECK_STR(e.ca_file, "/tmp/ca.pem");
    CHECK(e.resolve && strncmp(e.resolve->data, "localhost:8443:", 15) == 0);
    http_curl_endpoint_free(&e);
    CHECK_EQ(http_curl_endpoint_init(&e, "https", "127.0.0.1", "443", ""), 0);
    CHECK_STR(e.host, "127.0.0.1"); /* the default port is left out, as libcurl leaves it out */
    CHECK(!e.resolve && !e.ca_file);
    http_curl_endpoint_free(&e);
    CHECK_EQ(http_curl_endpoint_init(&e, "http", "127.0.0.1", "80", NULL), 0);
    CHECK_STR(e.base, "http://127.0.0.1");
    http_curl_endpoint_free(&e);
    CHECK_EQ(http_curl_endpoint_init(&e, "ftp", "127.0.0.1", "21", NULL), -EINVAL);
    CHECK_EQ(http_curl_endpoint_init(&e, "https", "no-such-host.invalid", "443", NULL), -ENOENT);
}

static void big_get_client(void)
{
    size_t n = 8 * MiB + 3;
    char target[64];
    snprintf(target, sizeof(target), "/len?n=%zu", n);
    CHECK_EQ(fetch(target, (int64_t)n, 1000), 200);

    struct http_curl_exchange *ex = malloc(sizeof(*ex));
    CHECK_EQ(request("GET", target, -1, NULL, ex, soon()), 0);
    CHECK_EQ(ex->content_length, (int64_t)n);
    CHECK_STR(http_curl_header(ex, "x-case"), "Len");
    struct slow_sink s;
    slow_sink_init(&s, ex);
    CHECK_EQ(http_curl_body_to_sink(ex, &s.sink), 0);
    CHECK_EQ(s.got, (int64_t)n);
    CHECK_EQ(s.bad, 0);
    CHECK(s.started);
    CHECK(s.saw_pause); /* the sink was slower than the server: libcurl was held back */
    CHECK(s.max_cap <= HTTP_CURL_BODY_BUF);
    http_curl_done(ex);
    free(ex);
    CHECK_EQ(srv.accepts, 1);
}

static void test_big_get(void) { with_server(big_get_client); }

static void chunked_client(void)
{
    CHECK_EQ(fetch("/chunked?n=300000", 300000, 777), 200);
    CHECK_EQ(fetch("/chunked?n=0", 0, 100), 200);
    CHECK_EQ(fetch("/len?n=0", 0, 100), 200);
}

static void test_chunked(void) { with_server(chunked_client); }

static void keepalive_client(void)
{
    CHECK_EQ(fetch("/len?n=1000", 1000, 4096), 200);
    CHECK_EQ(fetch("/len?n=70000", 70000, 4096), 200);
    CHECK_EQ(srv.accepts, 1);
    /* Left unread: the transfer is aborted and its connection closed, not reused. */
    struct http_curl_exchange *ex = malloc(sizeof(*ex));
    CHECK_EQ(request("GET", "/len?n=5000000", -1, NULL, ex, soon()), 0);
    http_curl_done(ex);
    http_curl_done(ex); /* twice is harmless */
    CHECK_EQ(fetch("/len?n=10", 10, 4096), 200);
    CHECK_EQ(srv.accepts, 2);
    /* A small body discarded whole keeps the connection; a large one is not waited for. */
    CHECK_EQ(request("GET", "/len?n=3000", -1, NULL, ex, soon()), 0);
    CHECK_EQ(http_curl_body_discard(ex, 64 * 1024), 0);
    http_curl_done(ex);
    CHECK_EQ(request("GET", "/len?n=3000000", -1, NULL, ex, soon()), 0);
    CHECK_EQ(http_curl_body_discard(ex, 64 * 1024), 0);
    http_curl_done(ex);
    CHECK_EQ(srv.accepts, 2);
    CHECK_EQ(fetch("/len?n=10", 10, 4096), 200);
    CHECK_EQ(srv.accepts, 3);
    free(ex);
}

static void test_keepalive(void) { with_server(keepalive_client); }

/* The request as the server saw it: Host as the endpoint says, the caller's fields, no Expect or Accept. */
static void check_echo(struct http_curl_exchange *ex, const char *method, int64_t cl)
{
    char *body = calloc(1, 16385);
    ssize_t n, got = 0;
    while ((n = http_curl_body_read(ex, body + got, 16384 - (size_t)got)) > 0)
        got += n;
    CHECK_EQ(n, 0);
    CHECK(strncmp(body, method, strlen(method)) == 0 && body[strlen(method)] == ' ');
    char host[400], length[64];
    snprintf(host, sizeof(host), "\r\nHost: %s\r\n", ep.host);
    snprintf(length, sizeof(length), "\r\nContent-Length: %lld\r\n", (long long)cl);
    CHECK(strstr(body, host));
    CHECK(strstr(body, "\r\nx-test: v 1\r\n"));
    CHECK(strstr(body, "\r\nx-empty:"));
    CHECK(cl < 0 ? !strcasestr(body, "Content-Length") : strstr(body, length) != NULL);
    CHECK(!strcasestr(body, "\r\nExpect:"));
    CHECK(!strcasestr(body, "\r\nAccept:"));
    CHECK(!strcasestr(body, "Transfer-Encoding"));
    free(body);
}

static void put_client(void)
{
    struct http_curl_exchange *ex = malloc(sizeof(*ex));
    int64_t n = 5 * MiB + 7;
    struct slow_source s = {.src = {.read = slow_read, .length = n}, .len = n, .step = 7000, .ex = ex};
    CHECK_EQ(request("PUT", "/echo?big", n, &s.src, ex, soon()), 0);
    CHECK_EQ(ex->status, 201);
    CHECK_STR(http_curl_header(ex, "x-got"), "5242887");
    CHECK_STR(http_curl_header(ex, "x-bad"), "0");
    CHECK_STR(http_curl_header(ex, "ETAG"), "\"e\"");
    CHECK(s.saw_pause); /* libcurl outran the source and waited for it */
    CHECK(s.max_cap <= HTTP_CURL_BODY_BUF);
    check_echo(ex, "PUT", n);
    http_curl_done(ex);

    /* A small POST, bytes handed over in one read. */
    s = (struct slow_source){.src = {.read = slow_read, .length = 300}, .len = 300, .step = 1 << 20, .ex = ex};
    CHECK_EQ(request("POST", "/echo", 300, &s.src, ex, soon()), 0);
    CHECK_STR(http_curl_header(ex, "x-got"), "300");
    check_echo(ex, "POST", 300);
    http_curl_done(ex);

    /* An empty body still says Content-Length: 0 (S3's copy and create-upload calls). */
    CHECK_EQ(request("PUT", "/echo", 0, NULL, ex, soon()), 0);
    check_echo(ex, "PUT", 0);
    http_curl_done(ex);
    CHECK_EQ(request("POST", "/echo?uploads=", 0, NULL, ex, soon()), 0);
    check_echo(ex, "POST", 0);
    http_curl_done(ex);
    CHECK_EQ(request("DELETE", "/echo", -1, NULL, ex, soon()), 0);
    check_echo(ex, "DELETE", -1);
    http_curl_done(ex);
    CHECK_EQ(srv.accepts, 1);
    free(ex);
}

static void test_put(void) { with_server(put_client); }

/* The source's verdict at its end comes before its last bytes go: the server never gets a whole bad body. */
static void put_source_fail_client(void)
{
    struct http_curl_exchange *ex = malloc(sizeof(*ex));
    int64_t n = 600000;
    struct slow_source s = {.src = {.read = slow_read, .length = n}, .len = n, .step = 65536, .end_err = -EBADMSG,
                            .ex = ex};
    CHECK_EQ(request("PUT", "/echo", n, &s.src, ex, soon()), -EBADMSG);
    CHECK(!ex->x);
    coro_sleep(CORO_MS(20));
    CHECK(srv.put_short);

    s = (struct slow_source){.src = {.read = slow_read, .length = n}, .len = n - 10, .step = 65536, .ex = ex};
    CHECK_EQ(request("PUT", "/echo", n, &s.src, ex, soon()), -EPIPE);
    s = (struct slow_source){.src = {.read = slow_read, .length = n}, .len = n, .step = 65536, .extra = 1,
                             .ex = ex};
    CHECK_EQ(request("PUT", "/echo", n, &s.src, ex, soon()), -EMSGSIZE);
    coro_sleep(CORO_MS(20));
    CHECK(srv.put_short);
    free(ex);
}

static void test_put_source_fail(void) { with_server(put_source_fail_client); }

static void head_client(void)
{
    struct http_curl_exchange *ex = malloc(sizeof(*ex));
    CHECK_EQ(request("HEAD", "/head", -1, NULL, ex, soon()), 0);
    CHECK_EQ(ex->status, 200);
    CHECK_EQ(ex->content_length, 1234);
    char b[8];
    CHECK_EQ(http_curl_body_read(ex, b, sizeof(b)), 0);
    http_curl_done(ex);
    CHECK_EQ(request("GET", "/continue", -1, NULL, ex, soon()), 0);
    CHECK_EQ(ex->status, 200); /* the interim heads skipped, and their fields forgotten */
    CHECK_EQ(ex->nheaders, 1);
    CHECK_EQ(http_curl_body_read(ex, b, sizeof(b)), 2);
    CHECK(memcmp(b, "ok", 2) == 0);
    CHECK_EQ(http_curl_body_read(ex, b, sizeof(b)), 0);
    http_curl_done(ex);
    CHECK_EQ(srv.accepts, 1);
    free(ex);
}

static void test_head_and_interim(void) { with_server(head_client); }

static void limits_client(void)
{
    struct http_curl_exchange *ex = malloc(sizeof(*ex));
    CHECK_EQ(request("GET", "/big-head", -1, NULL, ex, soon()), -E2BIG);
    CHECK_EQ(request("GET", "/many-headers", -1, NULL, ex, soon()), -E2BIG);
    struct http_client_header bad[] = {{"x-a", "b\r\nx-evil: 1"}};
    struct http_client_request req = {.method = "GET", .target = "/len", .headers = bad, .nheaders = 1,
                                      .content_length = -1};
    CHECK_EQ(http_curl_request(&ep, &req, ex, soon()), -EINVAL);
    req = (struct http_client_request){.method = "GE T", .target = "/len", .content_length = -1};
    CHECK_EQ(http_curl_request(&ep, &req, ex, soon()), -EINVAL);
    req = (struct http_client_request){.method = "GET", .target = "/a b", .content_length = -1};
    CHECK_EQ(http_curl_request(&ep, &req, ex, soon()), -EINVAL);
    free(ex);
}

static void test_limits(void) { with_server(limits_client); }

static void stall_client(void)
{
    struct http_curl_exchange *ex = malloc(sizeof(*ex));
    int64_t t0 = coro_now();
    CHECK_EQ(request("GET", "/stall", -1, NULL, ex, coro_deadline_in(CORO_MS(300))), -ETIMEDOUT);
    CHECK(coro_now() - t0 < CORO_SEC(2));
    CHECK_EQ(request("GET", "/body-stall", -1, NULL, ex, coro_deadline_in(CORO_MS(300))), 0);
    long bad;
    CHECK_EQ(read_all(ex, 4096, &bad), -ETIMEDOUT);
    CHECK_EQ(bad, 0);
    http_curl_done(ex);
    CHECK_EQ(request("GET", "/short", -1, NULL, ex, soon()), 0);
    CHECK_EQ(read_all(ex, 4096, &bad), -ECONNRESET);
    http_curl_done(ex);
    free(ex);
}

static void test_stall_and_short(void) { with_server(stall_client); }

static void refused_client(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd); /* bound, never listening: nobody there */
    char port[16];
    snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
    struct http_curl_endpoint nobody;
    CHECK_EQ(http_curl_endpoint_init(&nobody, "http", "127.0.0.1", port, NULL), 0);
    struct http_curl_exchange *ex = malloc(sizeof(*ex));
    struct http_client_request req = {.method = "GET", .target = "/", .content_length = -1};
    CHECK_EQ(http_curl_request(&nobody, &req, ex, soon()), -ECONNREFUSED);
    http_curl_endpoint_free(&nobody);
    free(ex);
}

static void test_refused(void) { with_server(refused_client); }

/* Several transfers at once on the thread's one CURLM, each held back by its own slow sink or source. */
struct par_case {
    int kind, result;
    struct coro_wg *wg;
};

static void par_one(void *arg)
{
    struct par_case *c = arg;
    struct http_curl_exchange *ex = malloc(sizeof(*ex));
    if (c->kind == 0) {
        c->result = request("GET", "/len?n=2000001", -1, NULL, ex, soon());
        struct slow_sink s;
        slow_sink_init(&s, ex);
        if (c->result == 0)
            c->result = http_curl_body_to_sink(ex, &s.sink);
        if (c->result == 0 && (s.got != 2000001 || s.bad))
            c->result = -EBADMSG;
    } else {
        int64_t n = 1500000;
        struct slow_source s = {.src = {.read = slow_read, .length = n}, .len = n, .step = 9000, .ex = ex};
        c->result = request("PUT", "/echo", n, &s.src, ex, soon());
        if (c->result == 0 && strcmp(http_curl_header(ex, "x-got"), "1500000") != 0)
            c->result = -EBADMSG;
    }
    http_curl_done(ex);
    free(ex);
    coro_wg_done(c->wg);
}

static void parallel_client(void)
{
    struct coro_wg wg = CORO_WG_INIT;
    struct par_case cases[6];
    for (int i = 0; i < 6; i++) {
        cases[i] = (struct par_case){.kind = i % 2, .result = 1, .wg = &wg};
        coro_wg_add(&wg, 1);
        coro_spawn(sched, par_one, &cases[i]);
    }
    CHECK_EQ(coro_wg_wait(&wg, soon()), 0);
    for (int i = 0; i < 6; i++)
        CHECK_EQ(cases[i].result, 0);
    CHECK(srv.accepts >= 2);
}

static void test_parallel(void) { with_server(parallel_client); }

struct cancel_case {
    struct coro *co;
    int result;
    bool done;
};

static void cancel_victim(void *arg)
{
    struct cancel_case *c = arg;
    struct http_curl_exchange *ex = malloc(sizeof(*ex));
    c->result = request("GET", "/stall", -1, NULL, ex, 0);
    c->done = true;
    free(ex);
}

static void cancel_client(void)
{
    struct cancel_case c = {0};
    c.co = coro_spawn(sched, cancel_victim, &c);
    coro_sleep(CORO_MS(50));
    CHECK(!c.done);
    coro_cancel(c.co);
    while (!c.done)
        coro_sleep(CORO_MS(1));
    CHECK_EQ(c.result, -ECANCELED);
    coro_sleep(CORO_MS(20));
    CHECK_EQ(srv.conns_open, 0); /* the aborted transfer's connection was closed */
    CHECK_EQ(fetch("/len?n=10", 10, 100), 200);
}

static void test_cancel(void) { with_server(cancel_client); }

static int fds_open(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (coro_sched_create(&sched, NULL) < 0)
        return UNIT_SKIP;
    int fds_before = fds_open();
    RUN(test_endpoint);
    RUN(test_big_get);
    RUN(test_chunked);
    RUN(test_keepalive);
    RUN(test_put);
    RUN(test_put_source_fail);
    RUN(test_head_and_interim);
    RUN(test_limits);
    RUN(test_stall_and_short);
    RUN(test_refused);
    RUN(test_parallel);
    RUN(test_cancel);
    unit_current = "descriptors";
    CHECK_EQ(fds_open(), fds_before);
    coro_sched_free(sched);
    return unit_finish("http_curl");
}
