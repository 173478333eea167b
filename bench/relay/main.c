/* relay: the least a proxy can do, as a baseline for bench/proxy-overhead. It knows nothing of HTTP: each client
 * connection gets one connection to the upstream and two threads, one a direction, each moving bytes with blocking
 * splice(2) through a pipe of its own. No parsing, no signing, no metadata: what it costs is what the kernel costs
 * to pass bytes through a process on loopback, the floor under s3orch and nginx alike.
 *
 *   relay LISTEN_PORT UPSTREAM_PORT      (both on 127.0.0.1; runs until killed)
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { PIPE_SIZE = 1 << 20, THREAD_STACK = 64 * 1024 };

struct pair;

struct link {
    int from, to;
    struct pair *pair;
};

/* A client connection and its upstream one: the last direction to finish closes both and frees the pair. */
struct pair {
    pthread_mutex_t lock;
    int open_dirs;
    struct link up, down;
};

static void link_done(struct link *l)
{
    struct pair *p = l->pair;
    pthread_mutex_lock(&p->lock);
    bool last = --p->open_dirs == 0;
    pthread_mutex_unlock(&p->lock);
    if (!last)
        return;
    close(p->up.from);
    close(p->up.to);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static void *pump(void *arg)
{
    struct link *l = arg;
    int p[2];
    if (pipe2(p, O_CLOEXEC) == 0) {
        fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE); /* the default 64 KiB still works, in more calls */
        for (;;) {
            ssize_t in = splice(l->from, NULL, p[1], NULL, PIPE_SIZE, SPLICE_F_MOVE);
            if (in <= 0)
                break;
            while (in > 0) {
                ssize_t out = splice(p[0], NULL, l->to, NULL, (size_t)in, SPLICE_F_MOVE);
                if (out <= 0)
                    goto drained;
                in -= out;
            }
        }
    drained:
        close(p[0]);
        close(p[1]);
    }
    shutdown(l->to, SHUT_WR); /* pass the end of this direction on, as a proxy would */
    shutdown(l->from, SHUT_RD);
    link_done(l);
    return NULL;
}

static struct sockaddr_in loopback(int port)
{
    return (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
}

static int upstream_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = loopback(port);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void serve(int client, int upstream_port, const pthread_attr_t *attr)
{
    int up = upstream_connect(upstream_port);
    struct pair *p = up >= 0 ? calloc(1, sizeof(*p)) : NULL;
    if (!p) {
        if (up >= 0)
            close(up);
        close(client);
        return;
    }
    int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    pthread_mutex_init(&p->lock, NULL);
    p->open_dirs = 2;
    p->up = (struct link){client, up, p};
    p->down = (struct link){up, client, p};
    pthread_t t;
    if (pthread_create(&t, attr, pump, &p->up) != 0) {
        close(client);
        close(up);
        free(p);
        return;
    }
    if (pthread_create(&t, attr, pump, &p->down) != 0) {
        shutdown(client, SHUT_RDWR); /* ends the first direction, which then finds itself the last */
        link_done(&p->down);
    }
}

int main(int argc, char **argv)
{
    int port = argc == 3 ? atoi(argv[1]) : 0, upstream = argc == 3 ? atoi(argv[2]) : 0;
    if (port <= 0 || port > 65535 || upstream <= 0 || upstream > 65535) {
        fprintf(stderr, "usage: relay LISTEN_PORT UPSTREAM_PORT   (both on 127.0.0.1)\n");
        return 2;
    }
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = loopback(port);
    if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 512) < 0) {
        fprintf(stderr, "relay: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    for (;;) {
        int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (c >= 0)
            serve(c, upstream, &attr);
        else if (errno != EINTR && errno != ECONNABORTED)
            usleep(10000); /* out of descriptors or memory: let connections finish */
    }
}
