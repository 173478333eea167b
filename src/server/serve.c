#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "s3/s3_error.h"
#include "s3/s3_location_cache.h"
#include "server/cpu.h"
#include "server/router.h"
#include "server/serve.h"
#include "store/store.h"
#include "util/log.h"
#include "util/wall_clock.h"
#include "worker/cleaner.h"
#include "worker/job.h"
#include "worker/reaper.h"
#include "worker/usage_flush.h"

void serve_options_default(struct serve_options *o)
{
    *o = (struct serve_options){
        .listen = "127.0.0.1:9000",
        .max_connections = 10000,
        .http =
            {
                .header_timeout = CORO_SEC(10),
                .idle_timeout = CORO_SEC(60),
                .shutdown_timeout = CORO_SEC(30),
                .limits = http_limits_default(),
            },
    };
}

enum thread_role { ROLE_REQUEST, ROLE_WORKER };

struct ring_thread {
    pthread_t tid;
    enum thread_role role;
    unsigned index;
    int cpu; /* -1: not pinned */
    int listen_fd;
    struct http_shared *shared;
    struct coro_sched *sched;
    struct http_server srv;
    struct coro_waitq stop_wait; /* worker: woken at shutdown */
    struct s3_service *svc;      /* worker: what its jobs work on; NULL without a config */
    bool run_jobs;               /* worker: the background jobs too, not only this instance's own chores */
    struct job_stats *job_stats; /* worker: STORE_JOB_COUNT of them */
    bool stop;
    int start_err;
    sem_t *started;
    atomic_bool *finished;
};

/* Runs on the thread the message was posted to. */
static void thread_stop(void *arg)
{
    struct ring_thread *t = arg;
    if (t->role == ROLE_REQUEST) {
        http_server_drain(&t->srv);
    } else {
        t->stop = true;
        coro_waitq_wake_all(&t->stop_wait);
    }
}

static void backend_states_refresh(void *arg)
{
    int err = s3_backend_states_load(arg);
    if (err < 0)
        log_warn("backend states not refreshed: %s", strerror(-err));
}

/* The background jobs that run on one instance at a time, each a coroutine of the worker ring. */
struct worker_job {
    struct ring_thread *t;
    struct job job;
    struct coro_wg *wg;
};
struct worker_jobs {
    struct cleaner cleaner;
    struct reaper reaper;
    struct worker_job slot[STORE_JOB_COUNT];
    struct coro_wg wg;
};

static void worker_job_main(void *arg)
{
    struct worker_job *w = arg;
    job_run(w->t->svc->store, &w->job, &w->t->stop, &w->t->stop_wait);
    coro_wg_done(w->wg);
}

static void worker_jobs_start(struct ring_thread *t, struct worker_jobs *w)
{
    const struct config_cleanup_queue *q = &t->svc->cfg->cleanup_queue;
    w->cleaner = (struct cleaner){t->svc, (int)q->concurrency, (int)q->max_attempts, q->retry_backoff / 1000000};
    w->reaper = (struct reaper){t->svc, q->pending_timeout / 1000000, wall_clock_ms()};
    w->wg = (struct coro_wg)CORO_WG_INIT;
    w->slot[STORE_JOB_CLEANER].job = (struct job){STORE_JOB_CLEANER, q->interval, cleaner_pass, &w->cleaner,
                                                  &t->job_stats[STORE_JOB_CLEANER]};
    w->slot[STORE_JOB_REAPER].job = (struct job){STORE_JOB_REAPER, q->interval, reaper_pass, &w->reaper,
                                                 &t->job_stats[STORE_JOB_REAPER]};
    for (int i = 0; i < STORE_JOB_COUNT; i++) {
        w->slot[i].t = t;
        w->slot[i].wg = &w->wg;
        coro_wg_add(&w->wg, 1);
        if (!coro_spawn(t->sched, worker_job_main, &w->slot[i])) {
            coro_wg_done(&w->wg);
            log_error("%s: cannot start it: out of memory", store_job_name(w->slot[i].job.id));
        }
    }
}

/* The worker ring: the background jobs (unless --mode api), and this instance's own chores, the usage flusher
 * and the backend states' refresh, until shutdown. */
static void worker_main(void *arg)
{
    struct ring_thread *t = arg;
    if (!t->svc || !t->svc->usage) {
        while (!t->stop)
            coro_waitq_wait(&t->stop_wait, 0);
        return;
    }
    struct worker_jobs jobs = {.wg = CORO_WG_INIT};
    if (t->run_jobs)
        worker_jobs_start(t, &jobs);
    const struct config_usage_flush *f = &t->svc->cfg->usage_flush;
    struct usage_flush_config fc = {
        .interval_ns = f->interval,
        .adaptive = f->adaptive_enabled,
        .threshold = f->adaptive_threshold,
        .fast_interval_ns = f->fast_interval,
        .after = backend_states_refresh,
        .after_arg = t->svc,
    };
    usage_flush_run(t->svc->usage, t->svc->store, &fc, &t->stop, &t->stop_wait);
    while (coro_wg_wait(&jobs.wg, 0) == -ECANCELED && jobs.wg.count) /* they use jobs */
        coro_yield();
}

static void *thread_main(void *arg)
{
    struct ring_thread *t = arg;
    char name[16];
    snprintf(name, sizeof(name), t->role == ROLE_REQUEST ? "s3orch-req-%u" : "s3orch-worker", t->index);
    pthread_setname_np(pthread_self(), name);
    if (t->cpu >= 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(t->cpu, &one);
        pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
    }
    t->start_err = coro_sched_create(&t->sched, NULL);
    if (t->start_err == 0) {
        if (t->role == ROLE_REQUEST)
            t->start_err = http_server_start(&t->srv, t->shared, t->listen_fd, t->index);
        else if (!coro_spawn(t->sched, worker_main, t))
            t->start_err = -ENOMEM;
    }
    sem_post(t->started);
    if (t->start_err == 0)
        coro_sched_run(t->sched);
    s3_location_clear();
    if (t->sched)
        coro_sched_free(t->sched);
    atomic_store(t->finished, true);
    return NULL;
}

static int split_host_port(const char *listen, char *host, size_t cap, const char **port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || !colon[1])
        return -EINVAL;
    size_t n = (size_t)(colon - listen);
    if (listen[0] == '[' && colon[-1] == ']') {
        listen++;
        n -= 2;
    }
    if (n >= cap)
        return -EINVAL;
    memcpy(host, listen, n);
    host[n] = 0;
    *port = colon + 1;
    return 0;
}

/* One SO_REUSEPORT listener; with port 0 the first picks the port and the others reuse it. */
static int listener_open(const struct addrinfo *ai, int *port_inout)
{
    struct sockaddr_storage ss;
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    if (ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)*port_inout);
    else
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)*port_inout);

    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    /* Accepted sockets inherit TCP_NODELAY: responses are written whole, so Nagle only adds latency. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, ai->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    socklen_t len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *port_inout = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                 : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static int listeners_open(const char *listen, int n, int *fds, char *shown, size_t shown_cap)
{
    char host[256];
    const char *port_str;
    if (split_host_port(listen, host, sizeof(host), &port_str) < 0) {
        log_error("bad listen address '%s' (want host:port)", listen);
        return -EINVAL;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai;
    int gai = getaddrinfo(host[0] ? host : NULL, port_str, &hints, &ai);
    if (gai != 0) {
        log_error("cannot resolve listen address '%s': %s", listen, gai_strerror(gai));
        return -EINVAL;
    }
    int port = atoi(port_str), err = 0;
    for (int i = 0; i < n; i++) {
        fds[i] = listener_open(ai, &port);
        if (fds[i] < 0) {
            err = fds[i];
            log_error("cannot listen on %s: %s", listen, strerror(-err));
            while (i-- > 0)
                close(fds[i]);
            break;
        }
    }
    if (!err) {
        char addr[INET6_ADDRSTRLEN];
        getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
        snprintf(shown, shown_cap, ai->ai_family == AF_INET6 ? "[%s]:%d" : "%s:%d", addr, port);
    }
    freeaddrinfo(ai);
    return err;
}

static int thread_count(const struct serve_options *o, cpu_set_t *cpus, bool *pin)
{
    int usable = cpu_usable(cpus);
    int n = o->threads > 0 ? o->threads : usable;
    /* Pin only when each thread gets a CPU of its own; oversubscribed threads are better left to the kernel. */
    *pin = n <= CPU_COUNT(cpus);
    return n;
}

/* Waits for SIGTERM/SIGINT, drains, and waits for every thread; a second signal during the drain exits at once. */
static int serve_wait(struct ring_thread *threads, int n, atomic_bool *finished)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    bool draining = false;
    for (;;) {
        bool all_done = true;
        for (int i = 0; i < n; i++)
            all_done &= atomic_load(&finished[i]);
        if (all_done)
            return 0;

        struct timespec tick = {.tv_nsec = 50 * 1000000};
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGHUP) {
            log_info("SIGHUP: configuration reload is not implemented yet");
        } else if (sig == SIGTERM || sig == SIGINT) {
            if (draining) {
                log_warn("second signal during shutdown: exiting now");
                return 1;
            }
            draining = true;
            log_info("shutting down: draining connections");
            for (int i = 0; i < n; i++)
                coro_msg_post(threads[i].sched, thread_stop, &threads[i]);
        }
    }
}

static int backend_s3_driver_open(const struct config *cfg, const struct config_backend *b, struct backend **out)
{
    struct backend_s3_config sc = {
        .name = b->name,
        .endpoint = b->endpoint,
        .ca_file = b->ca_file,
        .region = b->region,
        .bucket = b->bucket,
        .access_key_id = b->access_key_id,
        .secret_access_key = b->secret_access_key,
        .force_path_style = b->force_path_style,
        .unsigned_payload = b->unsigned_payload,
        .disable_checksum = b->disable_checksum,
        .strip_sdk_headers = b->strip_sdk_headers,
        .timeout_ns = cfg->server.backend_timeout,
    };
    return backend_s3_open(out, &sc);
}

/* The driver a backend entry names, inside its usage counter and (s3) its circuit breaker: calls the open
 * breaker refuses never reach the counter, as they never reach the provider. */
static int backend_open_one(const struct config *cfg, const struct config_backend *b, struct usage *u, size_t index,
                            struct backend **out)
{
    struct backend *driver;
    int err = b->type == CONFIG_BACKEND_FS
                  ? backend_fs_open(&driver, b->name, b->path, b->durability == CONFIG_DURABILITY_FSYNC)
                  : backend_s3_driver_open(cfg, b, &driver);
    if (err == 0)
        err = backend_usage_wrap(&driver, driver, u, index);
    if (err < 0 || b->type == CONFIG_BACKEND_FS || !cfg->backend_circuit_breaker.enabled) {
        *out = driver;
        return err;
    }
    struct backend_breaker_config bc = {
        .threshold = (unsigned)cfg->backend_circuit_breaker.failure_threshold,
        .open_ns = cfg->backend_circuit_breaker.open_timeout,
    };
    return backend_breaker_wrap(out, driver, &bc);
}


/* The usage counters over the configured backends, starting from this month's totals in the store. */
static int usage_open(const struct config *cfg, struct s3_service *svc)
{
    const char *names[USAGE_MAX_BACKENDS];
    struct usage_limits limits[USAGE_MAX_BACKENDS];
    if (cfg->nbackends > USAGE_MAX_BACKENDS) {
        log_error("backends: at most %d are supported", USAGE_MAX_BACKENDS);
        return -E2BIG;
    }
    for (size_t i = 0; i < cfg->nbackends; i++) {
        const struct config_backend *b = &cfg->backends[i];
        names[i] = b->name;
        limits[i] = (struct usage_limits){b->api_request_limit, b->egress_byte_limit, b->ingress_byte_limit};
    }
    int err = usage_create(&svc->usage, names, limits, cfg->nbackends);
    if (err == 0)
        usage_flush(svc->usage, svc->store, wall_clock_ms(), &err);
    if (err < 0)
        log_error("cannot read the backends' usage counters: %s", strerror(-err));
    return err;
}

/* The router over the backends, starting from what the store says each holds. */
static int placement_open(const struct config *cfg, struct s3_service *svc)
{
    static const enum placement_strategy strategies[] = {
        [CONFIG_ROUTE_PACK] = PLACEMENT_PACK,
        [CONFIG_ROUTE_SPREAD] = PLACEMENT_SPREAD,
        [CONFIG_ROUTE_WEIGHTED] = PLACEMENT_WEIGHTED,
    };
    struct placement_backend_config pc[PLACEMENT_MAX_BACKENDS];
    if (svc->nbackends > PLACEMENT_MAX_BACKENDS) {
        log_error("backends: at most %d are supported", PLACEMENT_MAX_BACKENDS);
        return -E2BIG;
    }
    for (size_t i = 0; i < svc->nbackends; i++)
        pc[i] = (struct placement_backend_config){cfg->backends[i].quota_bytes, cfg->backends[i].weight};
    int err = placement_create(&svc->placement, svc->backends, pc, svc->nbackends,
                               strategies[cfg->routing_strategy], svc->usage);
    struct store_backend_usage_list usage = {0};
    if (!err)
        err = store_backend_usage(svc->store, &usage);
    if (err < 0) {
        log_error("cannot set up write routing: %s", strerror(-err));
        return err;
    }
    for (size_t i = 0; i < usage.n; i++)
        placement_add_held(svc->placement, usage.v[i].backend, usage.v[i].bytes);
    store_backend_usage_list_free(&usage);
    err = s3_backend_states_load(svc);
    if (err < 0)
        log_error("cannot read the backends' states: %s", strerror(-err));
    return err;
}

/* The metadata store and the backends the configuration names; opened on the main thread before any request. */
static int storage_open(const struct config *cfg, struct s3_service *svc)
{
    const struct config_database *db = &cfg->database;
    int err;
    if (db->driver == CONFIG_DB_POSTGRES) {
        err = store_pg_open(&svc->store, &(struct store_pg_config){
                                             .dsn = db->dsn,
                                             .max_conns_per_thread = (unsigned)db->max_conns_per_thread,
                                         });
    } else {
        err = store_sqlite_open(&svc->store, &(struct store_sqlite_config){.path = db->path});
    }
    if (err == 0)
        store_breaker_set(svc->store, &(struct store_breaker_config){
                                          .threshold = (unsigned)cfg->circuit_breaker.failure_threshold,
                                          .open_ns = cfg->circuit_breaker.open_timeout,
                                      });
    if (err < 0) {
        if (db->driver == CONFIG_DB_POSTGRES) /* not the DSN: it may hold a password */
            log_error("cannot open the PostgreSQL metadata store: %s", strerror(-err));
        else
            log_error("cannot open the metadata store %s: %s", db->path, strerror(-err));
        return err;
    }
    svc->backends = calloc(cfg->nbackends ? cfg->nbackends : 1, sizeof(*svc->backends));
    if (!svc->backends || (err = usage_open(cfg, svc)) < 0)
        return svc->backends ? err : -ENOMEM;
    for (size_t i = 0; i < cfg->nbackends; i++) {
        err = backend_open_one(cfg, &cfg->backends[i], svc->usage, i, &svc->backends[i]);
        if (err < 0) {
            log_error("backends[%zu] (%s): cannot use it: %s", i, cfg->backends[i].name, strerror(-err));
            return err;
        }
        svc->nbackends++;
    }
    err = placement_open(cfg, svc);
    return err < 0 ? err : s3_admission_create(&svc->admission, &cfg->admission, &cfg->rate_limit);
}

static void storage_close(struct s3_service *svc)
{
    s3_admission_free(svc->admission);
    placement_free(svc->placement);
    if (svc->usage && svc->store) {
        int err;
        usage_flush(svc->usage, svc->store, wall_clock_ms(), &err); /* what was counted since the last flush */
    }
    for (size_t i = 0; i < svc->nbackends; i++)
        backend_free(svc->backends[i]);
    free(svc->backends);
    usage_free(svc->usage);
    if (svc->store)
        store_close(svc->store);
}

int serve_run(const struct serve_options *o)
{
    cpu_set_t cpus;
    bool pin;
    /* A worker instance answers /health with one thread, if it listens at all. */
    int nreq = !o->listen ? 0 : o->mode == SERVE_MODE_WORKER ? 1 : thread_count(o, &cpus, &pin);
    int n = nreq + 1, exit_code = 1;
    if (nreq <= 1)
        pin = false;
    static struct job_stats job_stats[STORE_JOB_COUNT];
    struct ring_thread *threads = calloc((size_t)n, sizeof(*threads));
    atomic_bool *finished = calloc((size_t)n, sizeof(*finished));
    int *fds = calloc((size_t)nreq, sizeof(int));
    sem_t started;
    char shown[300];
    struct s3_service s3 = {.cfg = o->config};
    struct router router = {
        .debug_endpoints = o->debug_endpoints,
        .s3 = o->config ? &s3 : NULL,
        .api = o->mode != SERVE_MODE_WORKER,
        .job_stats = job_stats,
    };
    struct http_shared shared = {
        .cfg = o->http,
        .max_connections = o->max_connections,
        .handler = router_handle,
        .handler_ctx = &router,
        .reject = s3_error_reject,
    };
    getrandom(&shared.id_salt, sizeof(shared.id_salt), 0);
    sem_init(&started, 0, 0);

    /* Threads inherit the mask: only the main thread takes these signals, through sigtimedwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!threads || !finished || !fds || (o->config && storage_open(o->config, &s3) < 0) ||
        (nreq && listeners_open(o->listen, nreq, fds, shown, sizeof(shown)) < 0))
        goto out;

    int spawned = 0;
    for (int i = 0; i < n; i++) {
        struct ring_thread *t = &threads[i];
        t->role = i < nreq ? ROLE_REQUEST : ROLE_WORKER;
        t->index = (unsigned)i;
        t->cpu = pin && t->role == ROLE_REQUEST ? cpu_nth(&cpus, i) : -1;
        t->listen_fd = i < nreq ? fds[i] : -1;
        t->shared = &shared;
        t->svc = o->config ? &s3 : NULL;
        t->run_jobs = o->mode != SERVE_MODE_API;
        t->job_stats = job_stats;
        t->started = &started;
        t->finished = &finished[i];
        if (pthread_create(&t->tid, NULL, thread_main, t) != 0) {
            log_error("cannot start thread %d", i);
            break;
        }
        spawned++;
    }
    bool ok = spawned == n;
    for (int i = 0; i < spawned; i++)
        sem_wait(&started);
    for (int i = 0; i < spawned; i++)
        if (threads[i].start_err < 0) {
            log_error("thread %d failed to start: %s", i, strerror(-threads[i].start_err));
            ok = false;
        }
    if (ok) {
        static const char *const modes[] = {[SERVE_MODE_ALL] = "", [SERVE_MODE_API] = " (--mode api: no background jobs)",
                                            [SERVE_MODE_WORKER] = " (--mode worker: background jobs, no S3 API)"};
        if (nreq) {
            log_info("s3orch serving on %s: %d request threads%s, %s%s", shown, nreq, pin ? " (pinned)" : "",
                     coro_sched_describe(threads[0].sched), modes[o->mode]);
            printf("listening on http://%s\n", shown);
        } else {
            log_info("s3orch running without a listener%s, %s", modes[o->mode], coro_sched_describe(threads[0].sched));
            printf("running without a listener\n");
        }
        fflush(stdout);
        exit_code = serve_wait(threads, spawned, finished);
        if (exit_code != 0)
            return exit_code; /* forced: the threads still run and die with the process */
    } else {
        for (int i = 0; i < spawned; i++)
            if (threads[i].start_err == 0)
                coro_msg_post(threads[i].sched, thread_stop, &threads[i]);
    }
    for (int i = 0; i < spawned; i++)
        pthread_join(threads[i].tid, NULL);
    if (ok)
        log_info("stopped");
out:
    storage_close(&s3);
    free(threads);
    free(finished);
    free(fds);
    return exit_code;
}
