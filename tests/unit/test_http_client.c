/* The HTTP client against a scripted server on the same scheduler: keep-alive and the pool (reuse, idle age, a
 * connection the server closed, retries), response framing (Content-Length, chunked, to the close, HEAD, 204,
 * interim 1xx), bodies to sinks with and without splice, request bodies from read and splice sources, limits and
 * malformed heads, deadlines, refusal and cancellation; and splice_move on its own. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "coro/coro.h"
#include "http/http_client.h"
#include "unit.h"
#include "util/splice_move.h"

static struct coro_sched *sched;

#define MiB (1024 * 1024)
#define IO_DEADLINE CORO_SEC(10) /* what every test-side wait allows, so a bug fails a test instead of hanging */

/* The body bytes every test sends: offset-dependent beyond one period of 256, so a shifted block shows. */
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
        ssize_t n = coro_send(fd, (const char *)buf + done, len - done, 0, soon());
        if (n <= 0)
            return n < 0 ? (int)n : -EPIPE;
        done += (size_t)n;
    }
    return 0;
}

static int send_str(int fd, const char *s) { return send_all(fd, s, strlen(s)); }

/* --- the scripted server ---------------------------------------------------------------------------------------
 * One acceptor; a coroutine per connection reads requests and answers by target: "/len?n=N" a Content-Length body
 * of N pattern bytes, "/chunked?n=N" the same chunked, "/put" counts and checks the request body, and the rest
 * as written in server_answer(). */
static struct server {
    int lfd;
    struct http_endpoint ep;
    struct coro *acceptor;
    int accepts, requests, conns_open;
    int drop_once;        /* /drop-once: connections still to drop before answering */
    int64_t put_got;      /* request body bytes of the last request */
    long put_bad;         /* of which not the pattern */
    bool put_short;       /* the last request body ended early */
} srv;

struct sconn {
    int fd;
    size_t len;         /* bytes in buf, which is kept NUL-terminated for the string functions */
    char buf[16384 + 1];
};

static size_t query_n(const char *target)
{
    const char *n = strstr(target, "n=");
    return n ? strtoull(n + 2, NULL, 10) : 0;
}

/* Reads a request head; leaves its body's first bytes in c->buf behind it. Returns the head's length, 0 at EOF. */
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

/* Reads and checks a request body of cl bytes; false when it ended early. */
static bool read_body(struct sconn *c, size_t head_len, int64_t cl)
{
    unsigned char *buf = malloc(65536);
    size_t have = c->len - head_len < (size_t)cl ? c->len - head_len : (size_t)cl;
    srv.put_got = (int64_t)have;
    srv.put_bad = pat_bad((unsigned char *)c->buf + head_len, 0, have);
    while (srv.put_got < cl) {
        size_t want = (size_t)(cl - srv.put_got) < 65536 ? (size_t)(cl - srv.put_got) : 65536;
        ssize_t n = coro_recv(c->fd, buf, want, 0, soon());
        if (n <= 0)
            break;
        srv.put_bad += pat_bad(buf, (size_t)srv.put_got, (size_t)n);
        srv.put_got += n;
    }
    free(buf);
    srv.put_short = srv.put_got < cl;
    c->len = 0;
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
        snprintf(line, sizeof(line), i % 3 ? "%zx\r\n" : "%zX;ext=\"v\"\r\n", k);
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

/* Waits for the client to close (or the test deadline). */
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
    if (strncmp(target, "/len", 4) == 0) {
        char head[128];
        size_t n = query_n(target);
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nX-Case: Len\r\n\r\n", n);
        return send_str(fd, head) == 0 && send_pattern(fd, n) == 0;
    }
    if (strncmp(target, "/chunked", 8) == 0)
        return send_chunked(fd, query_n(target)) == 0;
    if (strcmp(target, "/put") == 0) {
        char head[160];
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nX-Got: %lld\r\nX-Bad: %ld\r\nContent-Length: 0\r\n\r\n",
                 (long long)srv.put_got, srv.put_bad);
        return send_str(fd, head) == 0;
    }
    if (strcmp(target, "/head") == 0)
        return send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n") == 0;
    if (strcmp(target, "/204") == 0)
        return send_str(fd, "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n") == 0;
    if (strcmp(target, "/continue") == 0) {
        /* The interim head alone first, so the client reads it before the final one exists. */
        if (send_str(fd, "HTTP/1.1 100 Continue\r\n\r\n") < 0 || coro_sleep(CORO_MS(20)) < 0)
            return false;
        return send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") == 0;
    }
    if (strcmp(target, "/continue2") == 0)
        return send_str(fd, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"
                            "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok") == 0;
    if (strcmp(target, "/close-after") == 0) {
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye");
        return false;
    }
    if (strcmp(target, "/conn-close") == 0)
        return send_str(fd, "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 2\r\n\r\nok") == 0;
    if (strcmp(target, "/http10") == 0)
        return send_str(fd, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok") == 0;
    if (strcmp(target, "/drop-once") == 0) {
        if (srv.drop_once > 0) {
            srv.drop_once--;
            return false;
        }
        return send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") == 0;
    }
    if (strncmp(target, "/to-close", 9) == 0) {
        if (send_str(fd, "HTTP/1.1 200 OK\r\n\r\n") == 0)
            send_pattern(fd, query_n(target));
        return false;
    }
    if (strcmp(target, "/short") == 0) {
        if (send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n") == 0)
            send_pattern(fd, 50);
        return false;
    }
    if (strcmp(target, "/half") == 0) { /* more than fits behind the head: the splice path */
        if (send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 40000\r\n\r\n") == 0)
            send_pattern(fd, 20000);
        wait_eof(fd);
        return false;
    }
    if (strcmp(target, "/half-small") == 0) { /* fits behind the head: received whole before the sink */
        if (send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n") == 0)
            send_pattern(fd, 1000);
        wait_eof(fd);
        return false;
    }
    if (strcmp(target, "/extra") == 0) /* two bytes more than announced */
        return send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokXX") == 0;
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
        wait_eof(fd);
        return false;
    }
    if (strcmp(target, "/bad-status") == 0)
        send_str(fd, "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n");
    else if (strcmp(target, "/obs-fold") == 0)
        send_str(fd, "HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 0\r\n\r\n");
    else if (strcmp(target, "/bare-lf") == 0)
        send_str(fd, "HTTP/1.1 200 OK\nContent-Length: 0\n\n");
    else if (strcmp(target, "/two-lengths") == 0)
        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok");
    else if (strcmp(target, "/bad-chunk") == 0)
        send_str(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokzz\r\n");
    wait_eof(fd); /* "/stall" and the malformed answers: the client gives up first */
    return false;
}

static void server_conn(void *arg)
{
    struct sconn *c = malloc(sizeof(*c));
    c->fd = (int)(intptr_t)arg;
    c->len = 0;
    srv.conns_open++;
    for (;;) {
        size_t head_len = read_head(c);
        if (!head_len)
            break;
        srv.requests++;
        char target[256] = "";
        sscanf(c->buf, "%*s %255s", target);
        const char *cl = strcasestr(c->buf, "\r\nContent-Length:");
        if (cl && cl < c->buf + head_len && !read_body(c, head_len, strtoll(cl + 17, NULL, 10)))
            break;
        if (!cl)
            c->len = 0;
        if (!server_answer(c, target))
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
    char port[16];
    snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
    CHECK_EQ(http_endpoint_resolve(&srv.ep, "127.0.0.1", port), 0);
    srv.acceptor = coro_spawn(sched, server_accept, NULL);
}

/* Runs client_fn as a client coroutine against a fresh server, until the server has seen every connection close. */
static void (*client_fn)(void);

static void client_main(void *arg)
{
    (void)arg;
    client_fn();
    http_client_pools_close();
    splice_move_pipes_close();
    coro_cancel(srv.acceptor);
}

static void with_server(void (*fn)(void))
{
    server_start();
    client_fn = fn;
    coro_spawn(sched, client_main, NULL);
    coro_sched_run(sched);
    CHECK_EQ(coro_count(), 0);
    CHECK_EQ(srv.conns_open, 0);
}

/* --- client helpers ---------------------------------------------------------------------------------------------- */
static int get(const char *method, const char *target, struct http_client_exchange *ex, bool idempotent)
{
    struct http_client_request req = {
        .method = method, .target = target, .content_length = -1, .idempotent = idempotent,
        .head = strcmp(method, "HEAD") == 0};
    return http_client_request(&srv.ep, &req, ex, soon());
}

/* Reads the whole body step bytes at a time and checks it is the pattern; the byte count or -errno. */
static int64_t read_all(struct http_client_exchange *ex, size_t step, long *bad)
{
    unsigned char *buf = malloc(step);
    int64_t got = 0;
    ssize_t n;
    *bad = 0;
    while ((n = http_client_body_read(ex, buf, step)) > 0) {
        *bad += pat_bad(buf, (size_t)got, (size_t)n);
        got += n;
    }
    free(buf);
    return n < 0 ? n : got;
}

/* A whole GET: its status or -errno; the body must be expect_len bytes of the pattern. */
static int fetch(const char *target, int64_t expect_len)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    int r = get("GET", target, ex, true);
    if (r == 0) {
        long bad;
        int64_t n = read_all(ex, 4096, &bad);
        CHECK_EQ(n, expect_len);
        CHECK_EQ(bad, 0);
        r = ex->status;
        http_client_done(ex);
    }
    free(ex);
    return r;
}

/* --- keep-alive and the pool -------------------------------------------------------------------------------------- */
static void keepalive_client(void)
{
    CHECK_EQ(fetch("/len?n=1000", 1000), 200);
    CHECK_EQ(fetch("/len?n=0", 0), 200);
    CHECK_EQ(fetch("/len?n=70000", 70000), 200);
    CHECK_EQ(srv.accepts, 1);
    CHECK_EQ(srv.requests, 3);
}

static void test_keepalive_reuse(void) { with_server(keepalive_client); }

static void idle_age_client(void)
{
    srv.ep.idle_ns = CORO_MS(30);
    CHECK_EQ(fetch("/len?n=10", 10), 200);
    CHECK_EQ(fetch("/len?n=10", 10), 200);
    CHECK_EQ(srv.accepts, 1);
    coro_sleep(CORO_MS(60));
    CHECK_EQ(fetch("/len?n=10", 10), 200);
    CHECK_EQ(srv.accepts, 2);
}

static void test_idle_too_old(void) { with_server(idle_age_client); }

/* The server closed the pooled connection while it sat idle: seen before sending, so even a request that may not
 * be retried goes out on a new connection. */
static void server_closed_idle_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    CHECK_EQ(get("GET", "/close-after", ex, true), 0);
    char b[8];
    CHECK_EQ(http_client_body_read(ex, b, sizeof(b)), 3);
    CHECK_EQ(http_client_body_read(ex, b, sizeof(b)), 0);
    http_client_done(ex);
    coro_sleep(CORO_MS(20)); /* the server's FIN arrives */
    CHECK_EQ(get("POST", "/len?n=5", ex, false), 0);
    CHECK_EQ(ex->status, 200);
    CHECK_EQ(http_client_body_discard(ex, 100), 0);
    http_client_done(ex);
    CHECK_EQ(srv.accepts, 2);
    free(ex);
}

static void test_server_closed_idle(void) { with_server(server_closed_idle_client); }

/* The server drops a reused connection as the request arrives: an idempotent request goes again on a new one, a
 * non-idempotent one fails. */
static void retry_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    CHECK_EQ(fetch("/len?n=10", 10), 200);
    srv.drop_once = 1;
    CHECK_EQ(get("GET", "/drop-once", ex, true), 0);
    CHECK_EQ(ex->status, 200);
    CHECK_EQ(http_client_body_discard(ex, 100), 0);
    http_client_done(ex);
    CHECK_EQ(srv.accepts, 2);

    srv.drop_once = 1;
    CHECK_EQ(get("POST", "/drop-once", ex, false), -ECONNRESET);
    CHECK_EQ(srv.accepts, 2);
    /* A new connection is not retried either: the server really did drop the request. */
    srv.drop_once = 1;
    CHECK_EQ(get("GET", "/drop-once", ex, true), -ECONNRESET);
    CHECK_EQ(srv.accepts, 3);
    free(ex);
}

static void test_retry_idempotent(void) { with_server(retry_client); }

/* max_idle = 1: of two connections finishing together, one is kept. */
static void max_idle_client(void)
{
    srv.ep.max_idle = 1;
    struct http_client_exchange *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    for (int round = 0; round < 2; round++) {
        CHECK_EQ(get("GET", "/len?n=3", a, true), 0);
        CHECK_EQ(get("GET", "/len?n=3", b, true), 0);
        CHECK_EQ(http_client_body_discard(a, 10), 0);
        CHECK_EQ(http_client_body_discard(b, 10), 0);
        http_client_done(a);
        http_client_done(b);
    }
    CHECK_EQ(srv.accepts, 3);
    free(a);
    free(b);
}

static void test_max_idle(void) { with_server(max_idle_client); }

/* --- response framing ---------------------------------------------------------------------------------------------- */
static void content_length_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    size_t steps[] = {1, 7, 1000, 65536, 200000};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        CHECK_EQ(get("GET", "/len?n=100000", ex, true), 0);
        CHECK_EQ(ex->status, 200);
        CHECK_EQ(ex->content_length, 100000);
        CHECK(http_client_header(ex, "x-CASE") && strcmp(http_client_header(ex, "x-CASE"), "Len") == 0);
        CHECK(http_client_header(ex, "X-Missing") == NULL);
        long bad;
        CHECK_EQ(read_all(ex, steps[i], &bad), 100000);
        CHECK_EQ(bad, 0);
        http_client_done(ex);
        http_client_done(ex); /* twice is harmless */
    }
    CHECK_EQ(srv.accepts, 1);
    free(ex);
}

static void test_content_length(void) { with_server(content_length_client); }

static void chunked_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    size_t steps[] = {1, 13, 4096, 65536};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        CHECK_EQ(get("GET", "/chunked?n=200000", ex, true), 0);
        CHECK_EQ(ex->content_length, -1);
        long bad;
        CHECK_EQ(read_all(ex, steps[i], &bad), 200000);
        CHECK_EQ(bad, 0);
        http_client_done(ex);
    }
    CHECK_EQ(fetch("/chunked?n=0", 0), 200);
    CHECK_EQ(srv.accepts, 1);
    /* Framing that breaks mid-body. */
    CHECK_EQ(get("GET", "/bad-chunk", ex, true), 0);
    char b[64];
    ssize_t n = http_client_body_read(ex, b, sizeof(b));
    if (n == 2)
        n = http_client_body_read(ex, b, sizeof(b));
    CHECK_EQ(n, -EPROTO);
    http_client_done(ex);
    free(ex);
}

static void test_chunked(void) { with_server(chunked_client); }

static void bodiless_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    char b[16];
    CHECK_EQ(get("HEAD", "/head", ex, true), 0);
    CHECK_EQ(ex->status, 200);
    CHECK_EQ(ex->content_length, 1234);
    CHECK_EQ(http_client_body_read(ex, b, sizeof(b)), 0);
    http_client_done(ex);
    CHECK_EQ(get("GET", "/204", ex, true), 0);
    CHECK_EQ(ex->status, 204);
    CHECK_EQ(http_client_body_read(ex, b, sizeof(b)), 0);
    http_client_done(ex);
    CHECK_EQ(fetch("/len?n=5", 5), 200);
    CHECK_EQ(srv.accepts, 1);
    free(ex);
}

static void test_head_and_204(void) { with_server(bodiless_client); }

static void interim_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    const char *targets[] = {"/continue", "/continue2"};
    for (int i = 0; i < 2; i++) {
        char b[16];
        CHECK_EQ(get("GET", targets[i], ex, true), 0);
        CHECK_EQ(ex->status, i ? 201 : 200);
        CHECK(http_client_header(ex, "Link") == NULL);
        CHECK_EQ(http_client_body_read(ex, b, sizeof(b)), 2);
        CHECK_MEM(b, 2, "ok");
        http_client_done(ex);
    }
    CHECK_EQ(srv.accepts, 1);
    free(ex);
}

static void test_interim_1xx(void) { with_server(interim_client); }

/* Bodies that end the connection: to the close, Connection: close, HTTP/1.0, bytes past the body. */
static void not_reusable_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    long bad;
    CHECK_EQ(get("GET", "/to-close?n=300000", ex, true), 0);
    CHECK_EQ(ex->content_length, -1);
    CHECK_EQ(read_all(ex, 10000, &bad), 300000);
    CHECK_EQ(bad, 0);
    http_client_done(ex);
    int accepts = 1;
    const char *targets[] = {"/conn-close", "/http10", "/extra"};
    for (int i = 0; i < 3; i++) {
        char b[16];
        CHECK_EQ(get("GET", targets[i], ex, true), 0);
        CHECK_EQ(http_client_body_read(ex, b, sizeof(b)), 2);
        CHECK_EQ(http_client_body_read(ex, b, sizeof(b)), 0);
        http_client_done(ex);
        CHECK_EQ(srv.accepts, ++accepts);
    }
    CHECK_EQ(fetch("/len?n=1", 1), 200);
    CHECK_EQ(srv.accepts, accepts + 1);

    CHECK_EQ(get("GET", "/short", ex, true), 0);
    CHECK_EQ(read_all(ex, 4096, &bad), -ECONNRESET);
    http_client_done(ex);
    free(ex);
}

static void test_not_reusable(void) { with_server(not_reusable_client); }

/* Discarding a small body keeps the connection; a body over the limit closes it. */
static void discard_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    CHECK_EQ(get("GET", "/len?n=1000", ex, true), 0);
    CHECK_EQ(http_client_body_discard(ex, 4096), 0);
    http_client_done(ex);
    CHECK_EQ(get("GET", "/chunked?n=3000", ex, true), 0);
    CHECK_EQ(http_client_body_discard(ex, 4096), 0);
    http_client_done(ex);
    CHECK_EQ(srv.accepts, 1);
    CHECK_EQ(get("GET", "/len?n=100000", ex, true), 0);
    CHECK_EQ(http_client_body_discard(ex, 4096), 0);
    http_client_done(ex);
    CHECK_EQ(get("GET", "/chunked?n=100000", ex, true), 0);
    CHECK_EQ(http_client_body_discard(ex, 4096), 0);
    http_client_done(ex);
    CHECK_EQ(fetch("/len?n=1", 1), 200);
    CHECK_EQ(srv.accepts, 3);
    free(ex);
}

static void test_discard(void) { with_server(discard_client); }

/* --- bodies to sinks --------------------------------------------------------------------------------------------- */
struct test_sink {
    struct body_sink sink;
    int out;              /* where write() puts bytes: the same descriptor splices go to, or -1 to keep none */
    size_t written, spliced, max_write, calls;
    long bad;
};

static ssize_t tsink_write(struct body_sink *sink, const void *buf, size_t len)
{
    struct test_sink *t = (struct test_sink *)sink;
    if (t->out < 0) {
        t->bad += pat_bad(buf, t->written, len);
    } else {
        for (size_t done = 0; done < len;) {
            ssize_t n = coro_write(t->out, (const char *)buf + done, len - done, (uint64_t)-1, soon());
            if (n <= 0)
                return n < 0 ? n : -EPIPE;
            done += (size_t)n;
        }
    }
    t->written += len;
    t->max_write = len > t->max_write ? len : t->max_write;
    t->calls++;
    return (ssize_t)len;
}

static void tsink_spliced(struct body_sink *sink, size_t n) { ((struct test_sink *)sink)->spliced += n; }

/* Drains the other end of a sink's descriptor and checks it is the pattern. */
struct drain {
    int fd;
    size_t got;
    long bad;
    struct coro_wg wg;
};

static void drain_run(void *arg)
{
    struct drain *d = arg;
    unsigned char *buf = malloc(65536);
    ssize_t n;
    while ((n = coro_read(d->fd, buf, 65536, (uint64_t)-1, soon())) > 0) {
        d->bad += pat_bad(buf, d->got, (size_t)n);
        d->got += (size_t)n;
    }
    free(buf);
    coro_close(d->fd);
    coro_wg_done(&d->wg);
}

static void drain_start(struct drain *d, int fd)
{
    *d = (struct drain){.fd = fd, .wg = CORO_WG_INIT};
    coro_wg_add(&d->wg, 1);
    coro_spawn(sched, drain_run, d);
}

/* GET target into a sink over a pipe (or socketpair) drained by another coroutine. */
static void sink_through(const char *target, size_t n, bool socket, bool expect_splice)
{
    int fds[2];
    CHECK_EQ(socket ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) : pipe2(fds, O_CLOEXEC), 0);
    int rd = socket ? fds[1] : fds[0], wr = socket ? fds[0] : fds[1];
    struct drain d;
    struct test_sink t = {
        .sink = {.write = tsink_write, .splice_fd = wr, .spliced = tsink_spliced, .deadline_step = CORO_SEC(5)},
        .out = wr};
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    drain_start(&d, rd);
    CHECK_EQ(get("GET", target, ex, true), 0);
    CHECK_EQ(http_client_body_to_sink(ex, &t.sink), 0);
    http_client_done(ex);
    coro_close(wr);
    CHECK_EQ(coro_wg_wait(&d.wg, soon()), 0);
    CHECK_EQ(d.got, n);
    CHECK_EQ(d.bad, 0);
    CHECK_EQ(t.written + t.spliced, n);
    CHECK(t.max_write <= 65536);
    if (expect_splice)
        CHECK(t.spliced > 0);
    else
        CHECK_EQ(t.spliced, 0);
    free(ex);
}

static void sink_splice_client(void)
{
    sink_through("/len?n=8388608", 8 * MiB, false, true);
    sink_through("/len?n=3000017", 3000017, true, true);
    sink_through("/chunked?n=1000000", 1000000, false, false); /* chunked: framing must be read, so copied */
    sink_through("/len?n=0", 0, false, false);
    /* Small enough to fit behind the response head: one write, however the sink could take a splice. */
    sink_through("/len?n=4096", 4096, true, false);
    CHECK_EQ(srv.accepts, 1);
}

static void test_sink_splice(void) { with_server(sink_splice_client); }

static void sink_copy_client(void)
{
    const char *targets[] = {"/len?n=8388608", "/chunked?n=8388608"};
    for (int i = 0; i < 2; i++) {
        struct test_sink t = {.sink = {.write = tsink_write, .splice_fd = -1}, .out = -1};
        struct http_client_exchange *ex = malloc(sizeof(*ex));
        CHECK_EQ(get("GET", targets[i], ex, true), 0);
        CHECK_EQ(http_client_body_to_sink(ex, &t.sink), 0);
        http_client_done(ex);
        CHECK_EQ(t.written, 8 * MiB);
        CHECK_EQ(t.bad, 0);
        CHECK(t.max_write <= 65536);
        free(ex);
    }
    CHECK_EQ(srv.accepts, 1);
}

static void test_sink_copy(void) { with_server(sink_copy_client); }

/* --- request bodies ---------------------------------------------------------------------------------------------- */
struct test_source {
    struct body_source src;
    size_t off, stop_at; /* the source ends (or fails) at stop_at */
    int fail;             /* returned at stop_at instead of the end */
    size_t max_read, splices;
    int pipe_rd;
};

static ssize_t tsrc_read(struct body_source *src, void *buf, size_t len)
{
    struct test_source *s = (struct test_source *)src;
    if (s->off == s->stop_at)
        return s->fail;
    size_t n = s->stop_at - s->off < len ? s->stop_at - s->off : len;
    s->max_read = len > s->max_read ? len : s->max_read;
    pat_fill(buf, s->off, n);
    s->off += n;
    return (ssize_t)n;
}

/* A splice source: the body sits in a pipe that a writer coroutine fills. */
static ssize_t tsrc_splice(struct body_source *src, int fd, size_t len)
{
    struct test_source *s = (struct test_source *)src;
    s->splices++;
    return coro_splice(s->pipe_rd, -1, fd, -1, len < MiB ? len : MiB, 0, soon());
}

static ssize_t tsrc_read_never(struct body_source *src, void *buf, size_t len)
{
    (void)src, (void)buf, (void)len;
    CHECK(!"read called on a splicing source");
    return -EIO;
}

struct pipe_writer {
    int fd;
    size_t n;
};

static void pipe_writer_run(void *arg)
{
    struct pipe_writer *w = arg;
    unsigned char *buf = malloc(65536);
    for (size_t off = 0; off < w->n;) {
        size_t k = w->n - off < 65536 ? w->n - off : 65536;
        pat_fill(buf, off, k);
        ssize_t n = coro_write(w->fd, buf, k, (uint64_t)-1, soon());
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    free(buf);
    coro_close(w->fd);
}

static int put(struct test_source *s, int64_t len, struct http_client_exchange *ex)
{
    s->src.length = len;
    struct http_client_header h[] = {{"Content-Type", "application/octet-stream"}, {"X-Amz-Meta-A", "b c"}};
    struct http_client_request req = {
        .method = "PUT", .target = "/put", .headers = h, .nheaders = 2, .content_length = len, .body = &s->src,
        .idempotent = true};
    return http_client_request(&srv.ep, &req, ex, soon());
}

static void put_expect(struct http_client_exchange *ex, int64_t len)
{
    const char *got = http_client_header(ex, "x-got"), *bad = http_client_header(ex, "x-bad");
    CHECK_EQ(ex->status, 200);
    CHECK(got && bad);
    CHECK_EQ(got ? strtoll(got, NULL, 10) : -1, len);
    CHECK_EQ(bad ? strtol(bad, NULL, 10) : -1, 0);
    CHECK_EQ(http_client_body_discard(ex, 0), 0);
    http_client_done(ex);
}

static void put_read_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    size_t sizes[] = {8 * MiB, 1, 100, 65536, 65537};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct test_source s = {.src = {.read = tsrc_read}, .stop_at = sizes[i]};
        CHECK_EQ(put(&s, (int64_t)sizes[i], ex), 0);
        put_expect(ex, (int64_t)sizes[i]);
        CHECK(s.max_read <= 65536);
    }
    struct test_source empty = {.src = {.read = tsrc_read_never}};
    CHECK_EQ(put(&empty, 0, ex), 0);
    put_expect(ex, 0);
    CHECK_EQ(srv.accepts, 1);
    free(ex);
}

static void test_put_read_source(void) { with_server(put_read_client); }

static void put_splice_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    size_t sizes[] = {8 * MiB, 1, 70000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int p[2];
        CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
        struct pipe_writer w = {p[1], sizes[i]};
        coro_spawn(sched, pipe_writer_run, &w);
        struct test_source s = {.src = {.read = tsrc_read_never, .splice = tsrc_splice}, .pipe_rd = p[0]};
        CHECK_EQ(put(&s, (int64_t)sizes[i], ex), 0);
        put_expect(ex, (int64_t)sizes[i]);
        CHECK(s.splices > 0);
        coro_close(p[0]);
    }
    CHECK_EQ(srv.accepts, 1);
    free(ex);
}

static void test_put_splice_source(void) { with_server(put_splice_client); }

static size_t tsrc_buffered(struct body_source *src)
{
    struct test_source *s = (struct test_source *)src;
    return s->stop_at - s->off;
}

static ssize_t tsrc_splice_never(struct body_source *src, int fd, size_t len)
{
    (void)src, (void)fd, (void)len;
    CHECK(!"splice called on a body the source holds whole");
    return -EIO;
}

/* A source that could splice but holds the whole (small) body in memory is read, and the body goes with the head. */
static void put_buffered_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    struct test_source s = {.src = {.read = tsrc_read, .splice = tsrc_splice_never, .buffered = tsrc_buffered},
                            .stop_at = 4096};
    CHECK_EQ(put(&s, 4096, ex), 0);
    put_expect(ex, 4096);
    CHECK_EQ(s.off, 4096);
    CHECK_EQ(srv.accepts, 1);
    free(ex);
}

static void test_put_buffered_source(void) { with_server(put_buffered_client); }

/* A source that ends short or fails: the request fails with -EPIPE or the source's error, the connection closes
 * (the server sees a short body), and nothing is retried. */
static void put_short_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    struct test_source s = {.src = {.read = tsrc_read}, .stop_at = 70000};
    CHECK_EQ(put(&s, 100000, ex), -EPIPE);
    struct test_source f = {.src = {.read = tsrc_read}, .stop_at = 500, .fail = -EIO};
    CHECK_EQ(put(&f, 1000, ex), -EIO);
    int p[2];
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    struct pipe_writer w = {p[1], 5000};
    coro_spawn(sched, pipe_writer_run, &w);
    struct test_source sp = {.src = {.read = tsrc_read_never, .splice = tsrc_splice}, .pipe_rd = p[0]};
    CHECK_EQ(put(&sp, 9000, ex), -EPIPE);
    coro_close(p[0]);
    coro_sleep(CORO_MS(20));
    CHECK(srv.put_short);
    CHECK_EQ(srv.accepts, 3);
    CHECK_EQ(srv.conns_open, 0);
    free(ex);
}

static void test_put_short_source(void) { with_server(put_short_client); }

/* --- limits, malformed answers, deadlines, refusal, cancellation -------------------------------------------------- */
static void malformed_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    CHECK_EQ(get("GET", "/big-head", ex, true), -E2BIG);
    CHECK_EQ(get("GET", "/many-headers", ex, true), -E2BIG);
    CHECK_EQ(get("GET", "/bad-status", ex, true), -EPROTO);
    CHECK_EQ(get("GET", "/obs-fold", ex, true), -EPROTO);
    CHECK_EQ(get("GET", "/bare-lf", ex, true), -EPROTO);
    CHECK_EQ(get("GET", "/two-lengths", ex, true), -EPROTO);
    http_client_done(ex); /* nothing is left open after a failed request */

    /* Requests that would not survive their own head: nothing is sent. */
    int requests = srv.requests;
    struct http_client_header inject[] = {{"X-A", "b\r\nX-Evil: 1"}};
    struct http_client_request req = {.method = "GET", .target = "/len", .headers = inject, .nheaders = 1,
                                      .content_length = -1};
    CHECK_EQ(http_client_request(&srv.ep, &req, ex, soon()), -EINVAL);
    struct http_client_header bad_name[] = {{"X A", "b"}};
    req.headers = bad_name;
    CHECK_EQ(http_client_request(&srv.ep, &req, ex, soon()), -EINVAL);
    req.nheaders = 0;
    req.target = "/a b";
    CHECK_EQ(http_client_request(&srv.ep, &req, ex, soon()), -EINVAL);
    static char long_target[HTTP_CLIENT_HEAD_MAX + 10];
    memset(long_target, 'a', sizeof(long_target) - 1);
    long_target[0] = '/';
    req.target = long_target;
    CHECK_EQ(http_client_request(&srv.ep, &req, ex, soon()), -E2BIG);
    CHECK_EQ(srv.requests, requests);
    free(ex);
}

static void test_malformed(void) { with_server(malformed_client); }

static void stall_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    struct http_client_request req = {.method = "GET", .target = "/stall", .content_length = -1};
    int64_t t0 = coro_now();
    CHECK_EQ(http_client_request(&srv.ep, &req, ex, t0 + CORO_MS(200)), -ETIMEDOUT);
    int64_t took = coro_now() - t0;
    CHECK(took >= CORO_MS(190) && took < CORO_MS(1500));
    free(ex);
}

static void test_stall_timeout(void) { with_server(stall_client); }

/* The server sends half a body and waits: a sink's step bound ends the splice, and the exchange deadline ends a
 * read. */
static void body_stall_client(void)
{
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    int fds[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    struct test_sink t = {
        .sink = {.write = tsink_write, .splice_fd = fds[0], .spliced = tsink_spliced, .deadline_step = CORO_MS(100)},
        .out = fds[0]};
    struct http_client_request req = {.method = "GET", .target = "/half", .content_length = -1};
    int64_t t0 = coro_now();
    CHECK_EQ(http_client_request(&srv.ep, &req, ex, t0 + CORO_SEC(5)), 0);
    CHECK_EQ(http_client_body_to_sink(ex, &t.sink), -ETIMEDOUT);
    CHECK(coro_now() - t0 < CORO_SEC(2));
    CHECK_EQ(t.written + t.spliced, 20000);
    http_client_done(ex);

    /* A small body waits whole under the same step bound, and nothing of it reaches the sink. */
    t.written = t.spliced = 0;
    struct http_client_request small = {.method = "GET", .target = "/half-small", .content_length = -1};
    t0 = coro_now();
    CHECK_EQ(http_client_request(&srv.ep, &small, ex, t0 + CORO_SEC(5)), 0);
    CHECK_EQ(http_client_body_to_sink(ex, &t.sink), -ETIMEDOUT);
    CHECK(coro_now() - t0 < CORO_SEC(2));
    CHECK_EQ(t.written + t.spliced, 0);
    http_client_done(ex);

    t0 = coro_now();
    CHECK_EQ(http_client_request(&srv.ep, &req, ex, t0 + CORO_MS(150)), 0);
    long bad;
    CHECK_EQ(read_all(ex, 4096, &bad), -ETIMEDOUT);
    CHECK(coro_now() - t0 < CORO_SEC(2));
    http_client_done(ex);
    close(fds[0]);
    close(fds[1]);
    free(ex);
}

static void test_body_stall(void) { with_server(body_stall_client); }

static void refused_client(void)
{
    /* A bound socket that does not listen: connections to its port are refused. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    CHECK_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CHECK_EQ(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    struct http_endpoint ep = {.id = 7};
    char port[16];
    snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
    CHECK_EQ(http_endpoint_resolve(&ep, "127.0.0.1", port), 0);
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    struct http_client_request req = {.method = "GET", .target = "/", .content_length = -1, .idempotent = true};
    CHECK_EQ(http_client_request(&ep, &req, ex, soon()), -ECONNREFUSED);
    coro_close(fd);
    free(ex);
}

static void test_refused(void) { with_server(refused_client); }

struct cancel_case {
    struct coro *co;
    int result;
    bool done;
};

static void cancel_victim(void *arg)
{
    struct cancel_case *c = arg;
    struct http_client_exchange *ex = malloc(sizeof(*ex));
    struct http_client_request req = {.method = "GET", .target = "/stall", .content_length = -1};
    c->result = http_client_request(&srv.ep, &req, ex, 0);
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
    CHECK_EQ(srv.conns_open, 0); /* the connection was closed */
}

static void test_cancel(void) { with_server(cancel_client); }

static void test_endpoint_resolve(void)
{
    struct http_endpoint ep;
    CHECK_EQ(http_endpoint_resolve(&ep, "127.0.0.1", "80"), 0);
    CHECK_STR(ep.host, "127.0.0.1");
    CHECK_EQ(ep.addr.ss_family, AF_INET);
    CHECK_EQ(http_endpoint_resolve(&ep, "127.0.0.1", "9000"), 0);
    CHECK_STR(ep.host, "127.0.0.1:9000");
    if (http_endpoint_resolve(&ep, "::1", "8080") == 0) /* without IPv6 there is no such address */
        CHECK_STR(ep.host, "[::1]:8080");
    CHECK_EQ(http_endpoint_resolve(&ep, "", "80"), -EINVAL);
}

/* --- splice_move ------------------------------------------------------------------------------------------------- */
struct move_case {
    size_t len, send;   /* bytes to move, bytes the writer provides */
    bool close_out;     /* the output's reader is gone from the start */
    ssize_t result;
    size_t moved;
    struct drain d;
};

static void count_moved(void *arg, size_t n) { *(size_t *)arg += n; }

static void move_main(void *arg)
{
    struct move_case *c = arg;
    int in[2], out[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in), 0);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out), 0);
    struct pipe_writer w = {in[0], c->send};
    coro_spawn(sched, pipe_writer_run, &w);
    if (c->close_out)
        coro_close(out[1]);
    else
        drain_start(&c->d, out[1]);
    struct splice_move how = {.deadline = soon(), .step_ns = CORO_SEC(5), .moved = count_moved, .arg = &c->moved};
    c->result = splice_move(in[1], out[0], c->len, &how);
    coro_close(in[1]);
    coro_close(out[0]);
}

static void move_run(struct move_case *c)
{
    coro_spawn(sched, move_main, c);
    coro_sched_run(sched);
    CHECK_EQ(coro_count(), 0);
}

/* A connected TCP pair on loopback with small buffers, so a splice of a few hundred KiB cannot fit: sv[0] the
 * connecting end. */
static void tcp_pair(int sv[2])
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int small = 16384;
    CHECK_EQ(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
    CHECK_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CHECK_EQ(listen(lfd, 1), 0);
    CHECK_EQ(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
    sv[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_EQ(coro_connect(sv[0], (struct sockaddr *)&sa, sizeof(sa), soon()), 0);
    sv[1] = coro_accept(lfd, NULL, NULL, SOCK_CLOEXEC, soon());
    CHECK(sv[1] >= 0);
    CHECK_EQ(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
    coro_close(lfd);
}

/* Nothing arrives, or nothing is taken: each step's bound ends the move. */
struct stall_case {
    ssize_t no_input, no_reader;
    size_t moved;
};

static void stall_main(void *arg)
{
    struct stall_case *c = arg;
    int in[2], out[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in), 0);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out), 0);
    struct splice_move how = {.step_ns = CORO_MS(50)};
    int64_t t0 = coro_now();
    c->no_input = splice_move(in[1], out[0], 10, &how);
    CHECK(coro_now() - t0 < CORO_SEC(2));

    /* The output's reader stops: its buffer fills in the middle of a splice, where only the socket's own send
     * timeout ends the wait. */
    coro_close(out[0]);
    coro_close(out[1]);
    tcp_pair(out);
    struct pipe_writer w = {in[0], 8 * MiB};
    coro_spawn(sched, pipe_writer_run, &w);
    how = (struct splice_move){.step_ns = CORO_MS(100), .moved = count_moved, .arg = &c->moved};
    t0 = coro_now();
    c->no_reader = splice_move(in[1], out[0], 8 * MiB, &how);
    CHECK(coro_now() - t0 < CORO_SEC(2));
    struct timeval tv = {1, 1};
    socklen_t len = sizeof(tv);
    CHECK_EQ(getsockopt(out[0], SOL_SOCKET, SO_SNDTIMEO, &tv, &len), 0);
    CHECK(tv.tv_sec == 0 && tv.tv_usec == 0); /* the socket's own timeout is back as it was */
    coro_close(in[1]);
    coro_close(out[0]);
    coro_close(out[1]);
    splice_move_pipes_close();
}

static void test_splice_move(void)
{
    struct move_case whole = {.len = 3 * MiB + 17, .send = 3 * MiB + 17};
    move_run(&whole);
    CHECK_EQ(whole.result, 3 * MiB + 17);
    CHECK_EQ(whole.moved, 3 * MiB + 17);
    CHECK_EQ(whole.d.got, 3 * MiB + 17);
    CHECK_EQ(whole.d.bad, 0);

    /* The input ends first: the count says how far it got. */
    struct move_case early = {.len = 5000, .send = 1000};
    move_run(&early);
    CHECK_EQ(early.result, 1000);
    CHECK_EQ(early.d.got, 1000);
    CHECK_EQ(early.d.bad, 0);

    /* Nobody reads the output: the move fails with bytes left in its pipe, which must not reach the next move. */
    struct move_case broken = {.len = 300000, .send = 300000, .close_out = true};
    move_run(&broken);
    CHECK(broken.result == -EPIPE || broken.result == -ECONNRESET);
    struct move_case after = {.len = 70000, .send = 70000};
    move_run(&after);
    CHECK_EQ(after.result, 70000);
    CHECK_EQ(after.d.got, 70000);
    CHECK_EQ(after.d.bad, 0);

    struct move_case none = {.len = 0, .send = 0};
    move_run(&none);
    CHECK_EQ(none.result, 0);

    struct stall_case stalled = {0};
    coro_spawn(sched, stall_main, &stalled);
    coro_sched_run(sched);
    CHECK_EQ(stalled.no_input, -ETIMEDOUT);
    CHECK_EQ(stalled.no_reader, -ETIMEDOUT);
    CHECK(stalled.moved > 0 && stalled.moved < 8 * MiB);
}

static void pipes_close_main(void *arg)
{
    (void)arg;
    splice_move_pipes_close();
}

/* Descriptors open now: every test must leave as many as it found (closes go through the ring, where tools that
 * watch close() do not see them). */
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
    /* Splicing into a socket whose reader is gone raises SIGPIPE; the server ignores it the same way. */
    signal(SIGPIPE, SIG_IGN);
    if (coro_sched_create(&sched, NULL) < 0)
        return UNIT_SKIP;
    int fds_before = fds_open();
    RUN(test_endpoint_resolve);
    RUN(test_splice_move);
    RUN(test_keepalive_reuse);
    RUN(test_idle_too_old);
    RUN(test_server_closed_idle);
    RUN(test_retry_idempotent);
    RUN(test_max_idle);
    RUN(test_content_length);
    RUN(test_chunked);
    RUN(test_head_and_204);
    RUN(test_interim_1xx);
    RUN(test_not_reusable);
    RUN(test_discard);
    RUN(test_sink_splice);
    RUN(test_sink_copy);
    RUN(test_put_read_source);
    RUN(test_put_splice_source);
    RUN(test_put_buffered_source);
    RUN(test_put_short_source);
    RUN(test_malformed);
    RUN(test_stall_timeout);
    RUN(test_body_stall);
    RUN(test_refused);
    RUN(test_cancel);
    coro_spawn(sched, pipes_close_main, NULL);
    coro_sched_run(sched);
    unit_current = "descriptors";
    CHECK_EQ(fds_open(), fds_before);
    coro_sched_free(sched);
    return unit_finish("http_client");
}
