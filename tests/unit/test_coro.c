/* Coroutine runtime: scheduling, I/O calls, deadlines, cancellation, synchronisation, cross-thread messages,
 * and the stack guard page. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "coro/coro.h"
#include "unit.h"

static struct coro_sched *sched;

/* Runs fn as the first coroutine of a fresh scheduler, until every coroutine has finished. */
static void run_main(coro_fn fn, void *arg)
{
    CHECK(coro_spawn(sched, fn, arg) != NULL);
    coro_sched_run(sched);
    CHECK_EQ(coro_count(), 0);
}

/* --- 100,000 coroutines ------------------------------------------------------------------------------- */
static long finished;

static void tiny(void *arg)
{
    (void)arg;
    coro_yield();
    finished++;
}

static void spawner(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        if (!coro_spawn(sched, tiny, NULL)) {
            CHECK(!"spawn failed");
            return;
        }
        /* Let each batch finish so live stacks (two mappings each) stay well under vm.max_map_count. */
        if (i % 1000 == 999)
            coro_yield();
    }
}

static void test_hundred_thousand(void)
{
    finished = 0;
    run_main(spawner, NULL);
    CHECK_EQ(finished, 100000);
}

/* --- work at the end of a round ------------------------------------------------------------------------- */
/* Three coroutines each log their step, register a round-end node and yield: the nodes run once all three have
 * run, before any is resumed, last registered first; and a node registered outside a coroutine runs at once. */
static char round_log[32];
static size_t round_len;

static void round_note(void *arg) { round_log[round_len++] = (char)(uintptr_t)arg; }

static void round_coro(void *arg)
{
    char id = (char)(uintptr_t)arg;
    struct coro_round_end node = {.fn = round_note, .arg = (void *)(uintptr_t)(id - 'a' + 'A')};
    round_note(arg);
    coro_at_round_end(&node);
    coro_yield();
    round_note(arg);
}

static void test_round_end(void)
{
    round_len = 0;
    for (char id = 'a'; id <= 'c'; id++)
        CHECK(coro_spawn(sched, round_coro, (void *)(uintptr_t)id) != NULL);
    coro_sched_run(sched);
    round_log[round_len] = 0;
    CHECK_STR(round_log, "abcCBAabc");

    round_len = 0;
    struct coro_round_end node = {.fn = round_note, .arg = (void *)(uintptr_t)'x'};
    coro_at_round_end(&node); /* no coroutine runs: there is no round to wait for */
    CHECK_EQ(round_len, 1);
}

/* --- deep stack ------------------------------------------------------------------------------------------ */
static unsigned long deep(int depth)
{
    volatile unsigned char frame[1024];
    for (size_t i = 0; i < sizeof(frame); i++)
        frame[i] = (unsigned char)(depth + i);
    unsigned long sum = depth ? deep(depth - 1) : 0;
    for (size_t i = 0; i < sizeof(frame); i++)
        sum += frame[i];
    return sum;
}

static void deep_coro(void *arg)
{
    coro_yield(); /* switch away and back with a deep stack in use below */
    *(unsigned long *)arg = deep(180);
}

static void test_deep_stack(void)
{
    unsigned long a = 0, b = 0;
    CHECK(coro_spawn(sched, deep_coro, &a));
    CHECK(coro_spawn(sched, deep_coro, &b));
    coro_sched_run(sched);
    CHECK(a != 0);
    CHECK_EQ(a, deep(180));
    CHECK_EQ(a, b);
}

/* --- sleep ordering ---------------------------------------------------------------------------------------- */
static int order[5], norder;

static void sleeper(void *arg)
{
    int ms = (int)(intptr_t)arg;
    int64_t t0 = coro_now();
    CHECK_EQ(coro_sleep(CORO_MS(ms)), 0);
    CHECK(coro_now() - t0 >= CORO_MS(ms));
    order[norder++] = ms;
}

static void test_sleep_order(void)
{
    static const int ms[] = {50, 10, 40, 20, 30};
    norder = 0;
    for (int i = 0; i < 5; i++)
        coro_spawn(sched, sleeper, (void *)(intptr_t)ms[i]);
    coro_sched_run(sched);
    CHECK_EQ(norder, 5);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(order[i], (i + 1) * 10);
}

/* --- deadlines ------------------------------------------------------------------------------------------------ */
static void deadline_coro(void *arg)
{
    (void)arg;
    int sv[2];
    char c;
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);

    int64_t t0 = coro_now();
    CHECK_EQ(coro_recv(sv[0], &c, 1, 0, t0 + CORO_MS(30)), -ETIMEDOUT);
    CHECK(coro_now() - t0 >= CORO_MS(30));

    /* Data that is there before the deadline wins over the deadline. */
    CHECK_EQ(write(sv[1], "x", 1), 1);
    CHECK_EQ(coro_recv(sv[0], &c, 1, 0, coro_deadline_in(CORO_MS(30))), 1);
    CHECK_EQ(c, 'x');

    struct coro_waitq q = CORO_WAITQ_INIT;
    t0 = coro_now();
    CHECK_EQ(coro_waitq_wait(&q, t0 + CORO_MS(20)), -ETIMEDOUT);
    CHECK(coro_now() - t0 >= CORO_MS(20));
    CHECK(q.head == NULL);

    void *slot[1], *v;
    struct coro_chan ch;
    coro_chan_init(&ch, slot, 1);
    CHECK_EQ(coro_chan_recv(&ch, &v, coro_deadline_in(CORO_MS(10))), -ETIMEDOUT);
    CHECK_EQ(coro_poll(sv[0], POLLIN, coro_deadline_in(CORO_MS(10))), -ETIMEDOUT);
    close(sv[0]);
    close(sv[1]);
}

static void test_deadlines(void) { run_main(deadline_coro, NULL); }

/* --- cancellation --------------------------------------------------------------------------------------------- */
struct cancel_case {
    int fd;
    struct coro_waitq q;
    int recv_res, again_res, sleep_res, wait_res, close_res;
};

static void blocked_reader(void *arg)
{
    struct cancel_case *cc = arg;
    char c;
    cc->recv_res = (int)coro_recv(cc->fd, &c, 1, 0, 0);
    cc->again_res = (int)coro_recv(cc->fd, &c, 1, 0, 0);
    int dup_fd = dup(cc->fd);
    cc->close_res = coro_close(dup_fd);
}

static void blocked_sleeper(void *arg)
{
    struct cancel_case *cc = arg;
    cc->sleep_res = coro_sleep(CORO_SEC(60));
}

static void blocked_waiter(void *arg)
{
    struct cancel_case *cc = arg;
    cc->wait_res = coro_waitq_wait(&cc->q, 0);
}

static void canceller(void *arg)
{
    struct cancel_case *cc = arg;
    struct coro *r = coro_spawn(sched, blocked_reader, cc);
    struct coro *s = coro_spawn(sched, blocked_sleeper, cc);
    struct coro *w = coro_spawn(sched, blocked_waiter, cc);
    coro_sleep(CORO_MS(10));
    coro_cancel(r);
    coro_cancel(s);
    coro_cancel(w);
}

static void test_cancel(void)
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct cancel_case cc = {.fd = sv[0], .recv_res = 1, .sleep_res = 1, .wait_res = 1, .close_res = 1};
    int64_t t0 = coro_now();
    run_main(canceller, &cc);
    CHECK(coro_now() - t0 < CORO_SEC(10));
    CHECK_EQ(cc.recv_res, -ECANCELED);
    CHECK_EQ(cc.again_res, -ECANCELED);
    CHECK_EQ(cc.close_res, 0);
    CHECK_EQ(cc.sleep_res, -ECANCELED);
    CHECK_EQ(cc.wait_res, -ECANCELED);
    close(sv[0]);
    close(sv[1]);
}

/* --- channel and wait group ----------------------------------------------------------------------------------- */
struct chan_case {
    struct coro_chan ch;
    void *slots[4];
    long got[1000];
    int ngot, closed_res;
    struct coro_wg wg;
};

static void producer(void *arg)
{
    struct chan_case *c = arg;
    for (long i = 0; i < 1000; i++)
        CHECK_EQ(coro_chan_send(&c->ch, (void *)(i + 1), 0), 0);
    coro_chan_close(&c->ch);
    coro_wg_done(&c->wg);
}

static void consumer(void *arg)
{
    struct chan_case *c = arg;
    void *v;
    int r;
    while ((r = coro_chan_recv(&c->ch, &v, 0)) == 0) {
        c->got[c->ngot++] = (long)v;
        if (c->ngot % 7 == 0)
            coro_sleep(CORO_MS(0));
    }
    c->closed_res = r;
    coro_wg_done(&c->wg);
}

static void chan_main(void *arg)
{
    struct chan_case *c = arg;
    coro_chan_init(&c->ch, c->slots, 4);
    coro_wg_add(&c->wg, 2);
    coro_spawn(sched, consumer, c);
    coro_spawn(sched, producer, c);
    CHECK_EQ(coro_wg_wait(&c->wg, coro_deadline_in(CORO_SEC(10))), 0);
    CHECK_EQ(c->wg.count, 0);
    CHECK_EQ(coro_chan_send(&c->ch, NULL, 0), -EPIPE);
}

static void test_chan_wg(void)
{
    static struct chan_case c;
    run_main(chan_main, &c);
    CHECK_EQ(c.ngot, 1000);
    for (int i = 0; i < c.ngot; i++)
        if (c.got[i] != i + 1) {
            CHECK_EQ(c.got[i], i + 1);
            break;
        }
    CHECK_EQ(c.closed_res, -EPIPE);
}

/* --- I/O calls: accept/connect/send/recv, splice/tee, files --------------------------------------------------- */
static void io_main(void *arg)
{
    (void)arg;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    CHECK_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CHECK_EQ(listen(lfd, 8), 0);
    CHECK_EQ(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);

    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(coro_connect(cfd, (struct sockaddr *)&sa, sizeof(sa), coro_deadline_in(CORO_SEC(5))), 0);
    int afd = coro_accept(lfd, NULL, NULL, SOCK_CLOEXEC, coro_deadline_in(CORO_SEC(5)));
    CHECK(afd >= 0);

    /* client → pipe1 (splice), pipe1 → pipe2 (tee), pipe1 → file (splice), pipe2 → server socket (splice) */
    int p1[2], p2[2];
    CHECK_EQ(pipe(p1), 0);
    CHECK_EQ(pipe(p2), 0);
    CHECK_EQ(coro_send(cfd, "hello splice", 12, 0, 0), 12);
    CHECK_EQ(coro_splice(afd, -1, p1[1], -1, 12, 0, coro_deadline_in(CORO_SEC(5))), 12);
    CHECK_EQ(coro_tee(p1[0], p2[1], 12, 0, 0), 12);

    char path[] = "/tmp/s3orch-coro-XXXXXX";
    int tmp = mkstemp(path);
    CHECK(tmp >= 0);
    close(tmp);
    int fd = coro_openat(AT_FDCWD, path, O_RDWR | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_EQ(coro_splice(p1[0], -1, fd, 0, 12, 0, 0), 12);
    CHECK_EQ(coro_write(fd, "!", 1, 12, 0), 1);
    char buf[32] = {0};
    CHECK_EQ(coro_read(fd, buf, sizeof(buf), 0, 0), 13);
    CHECK_MEM(buf, 13, "hello splice!");
    CHECK_EQ(coro_fsync(fd, true), 0);
    CHECK_EQ(coro_close(fd), 0);

    char dir[64], moved[96];
    snprintf(dir, sizeof(dir), "%s.d", path);
    snprintf(moved, sizeof(moved), "%s/moved", dir);
    CHECK_EQ(coro_mkdirat(AT_FDCWD, dir, 0700), 0);
    CHECK_EQ(coro_mkdirat(AT_FDCWD, dir, 0700), -EEXIST);
    CHECK_EQ(coro_renameat(AT_FDCWD, path, AT_FDCWD, moved, 0), 0);
    struct statx stx;
    CHECK_EQ(coro_statx(AT_FDCWD, moved, 0, STATX_SIZE, &stx), 0);
    CHECK_EQ(stx.stx_size, 13);
    CHECK_EQ(coro_statx(AT_FDCWD, path, 0, STATX_SIZE, &stx), -ENOENT);

    /* A second name for the same file, then the first name gone: the bytes stay under the second. */
    char linked[96];
    snprintf(linked, sizeof(linked), "%s/linked", dir);
    int r = coro_linkat(AT_FDCWD, moved, AT_FDCWD, linked, 0);
    if (r == -ENOTSUP) {
        fprintf(stderr, "    no IORING_OP_LINKAT on this kernel: link checks skipped\n");
        CHECK_EQ(coro_unlinkat(AT_FDCWD, moved, 0), 0);
    } else {
        CHECK_EQ(r, 0);
        CHECK_EQ(coro_linkat(AT_FDCWD, moved, AT_FDCWD, linked, 0), -EEXIST);
        CHECK_EQ(coro_linkat(AT_FDCWD, path, AT_FDCWD, linked, 0), -ENOENT);
        CHECK_EQ(coro_statx(AT_FDCWD, linked, 0, STATX_NLINK, &stx), 0);
        CHECK_EQ(stx.stx_nlink, 2);
        CHECK_EQ(coro_unlinkat(AT_FDCWD, moved, 0), 0);
        memset(buf, 0, sizeof(buf));
        fd = coro_openat(AT_FDCWD, linked, O_RDONLY, 0);
        CHECK_EQ(coro_read(fd, buf, sizeof(buf), 0, 0), 13);
        CHECK_MEM(buf, 13, "hello splice!");
        CHECK_EQ(coro_close(fd), 0);
        CHECK_EQ(coro_unlinkat(AT_FDCWD, linked, 0), 0);
    }
    CHECK_EQ(coro_unlinkat(AT_FDCWD, dir, AT_REMOVEDIR), 0);

    CHECK_EQ(coro_splice(p2[0], -1, afd, -1, 12, 0, 0), 12);
    CHECK_EQ(coro_poll(cfd, POLLIN, coro_deadline_in(CORO_SEC(5))) & POLLIN, POLLIN);
    memset(buf, 0, sizeof(buf));
    CHECK_EQ(coro_recv(cfd, buf, sizeof(buf), 0, 0), 12);
    CHECK_MEM(buf, 12, "hello splice");

    struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    CHECK_EQ(coro_sendmsg(afd, &mh, 0, 0), 4);
    CHECK_EQ(coro_recv(cfd, buf, 4, MSG_WAITALL, 0), 4);
    CHECK_MEM(buf, 4, "abcd");

    for (int i = 0; i < 2; i++) {
        coro_close(p1[i]);
        coro_close(p2[i]);
    }
    coro_close(afd);
    coro_close(cfd);
    coro_close(lfd);
}

static void test_io(void) { run_main(io_main, NULL); }

/* --- cross-thread messages -------------------------------------------------------------------------------------- */
enum { ROUND_TRIPS = 1000 };

struct xthread {
    struct coro_sched *a, *b;
    struct coro_waitq a_wait, b_stop;
    long value, replies, from_plain_thread;
    bool b_ready, stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

static struct xthread xt;

static void on_reply(void *arg)
{
    xt.value = (long)arg;
    xt.replies++;
    coro_waitq_wake_one(&xt.a_wait);
}

static void on_request(void *arg)
{
    /* Runs on thread B; answer from B's ring. */
    coro_msg_post(xt.a, on_reply, (void *)((long)arg + 1));
}

static void on_stop(void *arg)
{
    (void)arg;
    xt.stop = true;
    coro_waitq_wake_all(&xt.b_stop);
}

static void b_keeper(void *arg)
{
    (void)arg;
    while (!xt.stop)
        coro_waitq_wait(&xt.b_stop, 0);
}

static void *thread_b(void *arg)
{
    (void)arg;
    struct coro_sched *s;
    if (coro_sched_create(&s, NULL) < 0)
        return NULL;
    coro_spawn(s, b_keeper, NULL);
    pthread_mutex_lock(&xt.lock);
    xt.b = s;
    xt.b_ready = true;
    pthread_cond_signal(&xt.cond);
    pthread_mutex_unlock(&xt.lock);
    coro_sched_run(s);
    coro_sched_free(s);
    return NULL;
}

static void on_plain(void *arg) { xt.from_plain_thread = (long)arg; coro_waitq_wake_one(&xt.a_wait); }

static void *plain_thread(void *arg)
{
    (void)arg;
    coro_msg_post(xt.a, on_plain, (void *)42L);
    return NULL;
}

static void a_main(void *arg)
{
    (void)arg;
    for (long i = 0; i < ROUND_TRIPS; i++) {
        long before = xt.replies;
        CHECK_EQ(coro_msg_post(xt.b, on_request, (void *)(i * 2)), 0);
        while (xt.replies == before)
            if (coro_waitq_wait(&xt.a_wait, coro_deadline_in(CORO_SEC(5))) < 0)
                break;
        if (xt.value != i * 2 + 1) {
            CHECK_EQ(xt.value, i * 2 + 1);
            break;
        }
    }
    pthread_t t;
    pthread_create(&t, NULL, plain_thread, NULL);
    while (!xt.from_plain_thread)
        if (coro_waitq_wait(&xt.a_wait, coro_deadline_in(CORO_SEC(5))) < 0)
            break;
    pthread_join(t, NULL);
    CHECK_EQ(xt.from_plain_thread, 42);
    coro_msg_post(xt.b, on_stop, NULL);
}

static void test_cross_thread(void)
{
    pthread_t b;
    pthread_mutex_init(&xt.lock, NULL);
    pthread_cond_init(&xt.cond, NULL);
    xt.a = sched;
    pthread_create(&b, NULL, thread_b, NULL);
    pthread_mutex_lock(&xt.lock);
    while (!xt.b_ready)
        pthread_cond_wait(&xt.cond, &xt.lock);
    pthread_mutex_unlock(&xt.lock);
    run_main(a_main, NULL);
    pthread_join(b, NULL);
    CHECK_EQ(xt.replies, ROUND_TRIPS);
}

/* --- guard page ------------------------------------------------------------------------------------------------ */
static volatile int forever = 1;

static int bottomless(int n)
{
    volatile char frame[4096];
    frame[0] = (char)n;
    return forever ? bottomless(n + 1) + frame[0] : 0;
}

static void overflow(void *arg)
{
    (void)arg;
    bottomless(0);
}

static void test_guard_page(void)
{
    int err[2];
    CHECK_EQ(pipe(err), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(err[1], STDERR_FILENO);
        struct coro_sched *s;
        coro_sched_create(&s, &(struct coro_sched_config){.stack_size = 64 * 1024});
        coro_spawn(s, overflow, NULL);
        coro_sched_run(s);
        _exit(0); /* reached only if the overflow went unnoticed */
    }
    close(err[1]);
    char msg[4096] = {0};
    size_t got = 0;
    ssize_t n;
    while (got < sizeof(msg) - 1 && (n = read(err[0], msg + got, sizeof(msg) - 1 - got)) > 0)
        got += (size_t)n;
    close(err[0]);
    int status;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFSIGNALED(status));
    if (WIFSIGNALED(status))
        CHECK_EQ(WTERMSIG(status), SIGSEGV);
    /* Under valgrind the fault is reported by valgrind itself before our handler runs. */
    if (!RUNNING_ON_VALGRIND)
        CHECK(strstr(msg, "coroutine stack overflow") != NULL);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    int err = coro_sched_create(&sched, NULL);
    if (err < 0) {
        fprintf(stderr, "io_uring unavailable (%s): skipping\n", strerror(-err));
        return UNIT_SKIP;
    }
    printf("scheduler: %s\n", coro_sched_describe(sched));
    RUN(test_hundred_thousand);
    RUN(test_round_end);
    RUN(test_deep_stack);
    RUN(test_sleep_order);
    RUN(test_deadlines);
    RUN(test_cancel);
    RUN(test_chan_wg);
    RUN(test_io);
    RUN(test_cross_thread);
    RUN(test_guard_page);
    coro_sched_free(sched);
    return unit_finish("coro");
}
