/* The ring thread's CURLM and what drives it: a coroutine per socket libcurl wants watched, polling it and
 * calling curl_multi_socket_action when it is ready, and one coroutine for libcurl's timer. Both run only while
 * a transfer is in the multi, so an idle thread has no coroutine left and its scheduler can finish; what libcurl
 * asked for meanwhile (sockets to watch, a timer) is remembered and acted on with the next transfer.
 *
 * libcurl's socket and timer callbacks run inside curl_multi_socket_action, curl_multi_add_handle and friends,
 * on whichever coroutine called them: they only record and wake or cancel, never yield. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include "http/http_curl_internal.h"

enum {
    EASY_SPARE = 16, /* easy handles a thread keeps for the next exchanges */
    IDLE_MAX = 32,   /* connections libcurl's cache keeps per thread */
};

struct poller;

/* A socket libcurl asked to be watched, with what for. */
struct sock_watch {
    curl_socket_t fd;
    int what;              /* CURL_POLL_IN, _OUT or _INOUT */
    struct poller *poller; /* the coroutine watching it now; NULL while parked */
    struct sock_watch *prev, *next;
};

/* One coroutine's watch over one socket for one set of events. A change of events cancels it and starts
 * another, since a poll in flight cannot be changed; the cancelled one only frees itself. */
struct poller {
    struct sock_watch *w; /* NULL once detached */
    struct coro *co;
    int fd;
    unsigned events;
};

struct curl_thread;

/* The timer coroutine's own state, so that it can outlive the thread's (freed by http_curl_thread_exit while
 * the coroutine has yet to run and see it should end). */
struct curl_timer {
    struct curl_thread *t; /* NULL once the thread's state is gone */
    struct coro_waitq q;   /* the coroutine, waiting for timer_at or a new timer */
};

struct curl_thread {
    CURLM *multi;
    size_t active; /* transfers in the multi */
    struct sock_watch *socks;
    bool timer_set;
    int64_t timer_at;
    struct curl_timer *timer; /* while its coroutine runs */
    CURL *spare[EASY_SPARE];
    size_t nspare;
};

static _Thread_local struct curl_thread *self;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static void collect_done(struct curl_thread *t);

/* Runs a socket or timeout action, then ends the transfers it finished. */
static void drive(struct curl_thread *t, curl_socket_t fd, int ev)
{
    int running;
    curl_multi_socket_action(t->multi, fd, ev, &running);
    collect_done(t);
}

static int curl_events(int revents, unsigned asked)
{
    int ev = 0;
    if ((asked & POLLIN) && (revents & (POLLIN | POLLHUP | POLLERR)))
        ev |= CURL_CSELECT_IN;
    if ((asked & POLLOUT) && (revents & (POLLOUT | POLLHUP | POLLERR)))
        ev |= CURL_CSELECT_OUT;
    if (revents & POLLERR)
        ev |= CURL_CSELECT_ERR;
    return ev;
}

static void poller_run(void *arg)
{
    struct poller *p = arg;
    while (p->w) {
        int r = coro_poll(p->fd, p->events, 0);
        if (!p->w)
            break;
        if (r == -ECANCELED)
            break; /* cancelled from elsewhere (shutdown): the socket goes unwatched until the next transfer */
        drive(self, p->fd, r < 0 ? CURL_CSELECT_ERR : curl_events(r, p->events));
        if (r < 0)
            break; /* a poll that fails would fail again at once: libcurl has been told, the deadline does the rest */
    }
    if (p->w)
        p->w->poller = NULL;
    free(p);
}

static int poller_start(struct sock_watch *w)
{
    struct poller *p = malloc(sizeof(*p));
    if (!p)
        return -ENOMEM;
    *p = (struct poller){.w = w, .fd = w->fd};
    p->events = (w->what & CURL_POLL_IN ? POLLIN : 0) | (w->what & CURL_POLL_OUT ? POLLOUT : 0);
    p->co = coro_spawn(coro_sched_self(), poller_run, p);
    if (!p->co) {
        free(p);
        return -ENOMEM;
    }
    w->poller = p;
    return 0;
}

static void poller_stop(struct sock_watch *w)
{
    struct poller *p = w->poller;
    if (!p)
        return;
    p->w = NULL;
    w->poller = NULL;
    /* The poller that is itself driving libcurl sees it is detached when the action returns. */
    if (p->co != coro_self())
        coro_cancel(p->co);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
    (void)easy;
    struct curl_thread *t = arg;
    struct sock_watch *w = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (!w)
            return 0;
        poller_stop(w);
        if (w->prev)
            w->prev->next = w->next;
        else
            t->socks = w->next;
        if (w->next)
            w->next->prev = w->prev;
        free(w);
        return 0;
    }
    if (!w) {
        w = calloc(1, sizeof(*w));
        if (!w)
            return -1;
        w->fd = fd;
        w->next = t->socks;
        if (t->socks)
            t->socks->prev = w;
        t->socks = w;
        curl_multi_assign(t->multi, fd, w);
    }
    if (w->what == what && w->poller)
        return 0;
    w->what = what;
    poller_stop(w);
    return t->active && poller_start(w) < 0 ? -1 : 0;
}

static void timer_run(void *arg)
{
    struct curl_timer *tm = arg;
    while (tm->t && tm->t->active) {
        struct curl_thread *t = tm->t;
        if (t->timer_set && coro_now() >= t->timer_at) {
            t->timer_set = false;
            drive(t, CURL_SOCKET_TIMEOUT, 0);
            continue;
        }
        if (coro_waitq_wait(&tm->q, t->timer_set ? t->timer_at : 0) == -ECANCELED)
            break;
    }
    if (tm->t)
        tm->t->timer = NULL;
    free(tm);
}

/* libcurl's docs ask for the action not to run inside this callback: the timer coroutine runs it. */
static int on_timer(CURLM *multi, long ms, void *arg)
{
    (void)multi;
    struct curl_thread *t = arg;
    t->timer_set = ms >= 0;
    t->timer_at = coro_now() + CORO_MS(ms > 0 ? ms : 0);
    if (t->timer)
        coro_waitq_wake_all(&t->timer->q);
    return 0;
}

/* The first transfer in: watch the remembered sockets again and run the timer. */
static int unpark(struct curl_thread *t)
{
    if (!t->timer) {
        struct curl_timer *tm = calloc(1, sizeof(*tm));
        if (!tm)
            return -ENOMEM;
        tm->t = t;
        if (!coro_spawn(coro_sched_self(), timer_run, tm)) {
            free(tm);
            return -ENOMEM;
        }
        t->timer = tm;
    }
    for (struct sock_watch *w = t->socks; w; w = w->next)
        if (!w->poller && poller_start(w) < 0)
            return -ENOMEM;
    return 0;
}

/* The last transfer out: no coroutine of ours stays behind to keep the scheduler running. */
static void park(struct curl_thread *t)
{
    for (struct sock_watch *w = t->socks; w; w = w->next)
        poller_stop(w);
    if (t->timer)
        coro_waitq_wake_all(&t->timer->q);
}

static void thread_free(void *arg)
{
    struct curl_thread *t = arg;
    if (!t)
        return;
    /* Nothing is in the multi, so no poller runs; a timer coroutine yet to end must not find t. */
    if (t->timer) {
        t->timer->t = NULL;
        t->timer = NULL;
    }
    while (t->nspare)
        curl_easy_cleanup(t->spare[--t->nspare]);
    /* Closes the cached connections; the socket callback frees what it remembered of them. */
    if (t->multi)
        curl_multi_cleanup(t->multi);
    while (t->socks) {
        struct sock_watch *w = t->socks;
        t->socks = w->next;
        free(w);
    }
    free(t);
}

static void exit_key_make(void) { pthread_key_create(&exit_key, thread_free); }

CURLM *http_curl_multi(void)
{
    if (self)
        return self->multi;
    struct curl_thread *t = calloc(1, sizeof(*t));
    if (!t || pthread_once(&exit_key_once, exit_key_make) != 0 || !(t->multi = curl_multi_init())) {
        free(t);
        return NULL;
    }
    curl_multi_setopt(t->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(t->multi, CURLMOPT_SOCKETDATA, t);
    curl_multi_setopt(t->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(t->multi, CURLMOPT_TIMERDATA, t);
    /* Idle connections kept, whatever the number of transfers in (libcurl's default follows that number). */
    curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, (long)IDLE_MAX);
    /* The thread's exit frees it: ring threads end without a call of ours. */
    pthread_setspecific(exit_key, t);
    self = t;
    return t->multi;
}

int http_curl_attach(struct http_curl_xfer *x)
{
    if (!http_curl_multi())
        return -ENOMEM;
    struct curl_thread *t = self;
    if (t->active++ == 0 && unpark(t) < 0) {
        if (--t->active == 0)
            park(t);
        return -ENOMEM;
    }
    if (curl_multi_add_handle(t->multi, x->easy) != CURLM_OK) {
        if (--t->active == 0)
            park(t);
        return -ENOMEM;
    }
    x->in_multi = true;
    return 0;
}

void http_curl_detach(struct http_curl_xfer *x)
{
    struct curl_thread *t = self;
    if (!x->in_multi)
        return;
    x->in_multi = false;
    /* Counted out first, so the socket callbacks the removal makes start no poller. */
    t->active--;
    curl_multi_remove_handle(t->multi, x->easy);
    if (t->active == 0)
        park(t);
}

/* Marks the transfers libcurl finished and takes them out, so their connections go back to its cache. */
static void collect_done(struct curl_thread *t)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(t->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle; /* m dies with the removal */
        CURLcode result = m->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        struct http_curl_xfer *x = (struct http_curl_xfer *)(void *)priv;
        if (!x)
            continue;
        x->finished = true;
        x->result = result;
        http_curl_detach(x);
        http_curl_wake(x);
    }
}

CURL *http_curl_easy_get(void)
{
    return self && self->nspare ? self->spare[--self->nspare] : curl_easy_init();
}

void http_curl_easy_put(CURL *easy)
{
    if (!easy)
        return;
    /* Reset now, so that a spare handle points at no freed exchange. */
    curl_easy_reset(easy);
    if (self && self->nspare < EASY_SPARE)
        self->spare[self->nspare++] = easy;
    else
        curl_easy_cleanup(easy);
}

void http_curl_thread_exit(void)
{
    struct curl_thread *t = self;
    if (!t)
        return;
    self = NULL;
    pthread_setspecific(exit_key, NULL);
    thread_free(t);
}
