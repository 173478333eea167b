/* The load itself: threads, their coroutines, and one request's life.
 *
 * Every thread goes through the same steps, kept in line with the main thread by two barriers:
 *   prepare (uploads of the key space, untimed) | A | timed phase | B | teardown
 * so the main thread can read the process's CPU time between them (RUSAGE_SELF also counts io_uring's kernel
 * workers, which a splice sink keeps busy). At the end of the timed phase each thread's timer coroutine tells the
 * workers to stop; a request in flight then is finished (so the server sees clean connections, not resets in the
 * middle of bodies) but not counted, so the window is exactly --duration. Workers still busy after --timeout more
 * are cancelled. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "coro/coro.h"
#include "s3/s3_checksum.h"
#include "s3/s3_sigv4.h"
#include "s3load.h"
#include "sign.h"

#define SCRATCH (256 * 1024) /* per thread: a GET body is read through it, up to this much per recv */

struct shared {
    const struct opts *o;
    const uint8_t *body; /* every PUT sends these bytes */
    char put_hash[65];   /* x-amz-content-sha256 of a PUT and of a GET */
    const char *get_hash;
    int devnull;
    unsigned nthreads;
    pthread_barrier_t phase;
    atomic_bool abort; /* a thread failed to start, or prepare failed: skip the timed phase */
    /* The start gate: threads wait until the main thread knows how many of them exist. */
    pthread_mutex_t gate_lock;
    pthread_cond_t gate;
    bool open;
    bool short_of_threads; /* set before the gate opens: then nobody starts work */
};

struct worker;

struct thread {
    struct shared *sh;
    unsigned index;
    long nworkers;
    pthread_t tid;
    struct coro_sched *sched;
    struct signer signer;
    struct hc_discard discard;
    char prefix[1100]; /* "/bucket/" and the percent-encoded key prefix */
    struct stats *st;  /* the phase being run: prep or run */
    struct stats *prep, *run;
    long next_key;     /* prepare: the next key this thread uploads */
    int64_t end;       /* timed phase: completions after this are not counted; 0 in prepare */
    int64_t interval;  /* open loop: between this thread's scheduled starts; 0 for a closed loop */
    int64_t next_start; /* open loop: the next request's scheduled start */
    bool stop;
    struct coro_wg live; /* workers not yet finished */
    struct worker *workers;
};

struct worker {
    struct thread *t;
    struct coro *co;
    bool done;
    uint64_t rng;
    struct hc_conn conn;
    char head[2048];
};

/* xorshift64*: keys and the GET/PUT draw; nothing here needs more. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static enum fail fail_of(int err)
{
    switch (err) {
    case -ETIMEDOUT: return FAIL_TIMEOUT;
    case -EPROTO:
    case -E2BIG: return FAIL_PROTOCOL;
    default: return FAIL_IO;
    }
}

/* Sends one request on w's connection (opening it if needed), reads the whole response, and counts the outcome
 * in the thread's current stats unless the phase ended first. Its latency counts from start (its scheduled start
 * in an open loop, which it may be late for when every connection was busy), or from now when start is 0. */
static void request(struct worker *w, enum op op, long key, int64_t start)
{
    struct thread *t = w->t;
    const struct shared *sh = t->sh;
    const struct opts *o = sh->o;
    int64_t now = coro_now(), t0 = start ? start : now, deadline = now + o->timeout_ns;
    struct hc_resp r = {0};
    enum fail fail = FAIL_IO;
    int64_t got = 0;
    int err = 0;

    if (w->conn.fd < 0) {
        err = hc_connect(&w->conn, (const struct sockaddr *)&o->addr, o->addrlen, o->sink, deadline);
        if (err < 0) {
            fail = err == -ETIMEDOUT ? FAIL_TIMEOUT : FAIL_CONNECT;
            goto out;
        }
    }
    char path[1200];
    snprintf(path, sizeof(path), "%skey-%ld", t->prefix, key);
    ssize_t n = signer_head(&t->signer, w->head, sizeof(w->head), op == OP_PUT ? "PUT" : "GET", path,
                            op == OP_PUT ? sh->put_hash : sh->get_hash, op == OP_PUT ? o->size : -1,
                            o->keep_alive);
    if (n < 0) {
        err = (int)n;
        goto out;
    }
    err = hc_send(&w->conn, w->head, (size_t)n, op == OP_PUT ? sh->body : NULL, op == OP_PUT ? (size_t)o->size : 0,
                  deadline);
    /* A server may answer (403, 413...) and close without reading the whole body: its answer is the outcome. */
    if (err == -EPIPE || err == -ECONNRESET)
        err = hc_read_head(&w->conn, &r, deadline) == 0 ? 0 : err;
    else if (err == 0)
        err = hc_read_head(&w->conn, &r, deadline);
    if (err == 0) {
        got = hc_discard_body(&w->conn, &r, &t->discard, deadline);
        err = got < 0 ? (int)got : 0;
    }
    fail = fail_of(err);

out:;
    int64_t t1 = coro_now();
    if (err < 0 || r.close || !o->keep_alive)
        hc_close(&w->conn);
    struct stats *st = t->st;
    /* Cut off by the end of the phase: neither a success nor a failure. */
    if (err == -ECANCELED || (t->end && t1 > t->end)) {
        st->late++;
        return;
    }
    if (err < 0) {
        st->fail[fail]++;
        /* A refused or dead server would otherwise be hammered in a tight loop. */
        if (!t->stop)
            coro_sleep(CORO_MS(10));
        return;
    }
    bool ok = op == OP_PUT ? r.status / 100 == 2 : r.status == 200;
    if (!ok) {
        st->status[r.status < 600 ? r.status : 599]++;
        return;
    }
    if (op == OP_GET && got != o->size) {
        st->fail[FAIL_LENGTH]++;
        return;
    }
    st->ok[op]++;
    st->bytes[op] += (uint64_t)o->size;
    hist_record(&st->lat[op], (uint64_t)(t1 - t0));
}

static void worker_done(struct worker *w)
{
    hc_close(&w->conn);
    w->done = true;
    coro_wg_done(&w->t->live);
}

static void prepare_main(void *arg)
{
    struct worker *w = arg;
    struct thread *t = w->t;
    while (!t->stop && t->next_key < t->sh->o->keys) {
        long key = t->next_key;
        t->next_key += t->sh->nthreads;
        request(w, OP_PUT, key, 0);
    }
    worker_done(w);
}

static void load_main(void *arg)
{
    struct worker *w = arg;
    struct thread *t = w->t;
    const struct opts *o = t->sh->o;
    /* 53 random bits as a double in [0, 1), for the GET/PUT draw of a mixed load. */
    const double unit = 1.0 / (double)(1ULL << 53);
    while (!t->stop) {
        /* Open loop: the free worker takes the next slot of the schedule and waits for it. */
        int64_t start = 0;
        if (t->interval) {
            start = t->next_start;
            t->next_start += t->interval;
            if (start >= t->end || (start > coro_now() && coro_sleep_until(start) < 0) || t->stop)
                break;
        }
        enum op op = o->work == WORK_GET   ? OP_GET
                     : o->work == WORK_PUT ? OP_PUT
                     : (double)(rnd(&w->rng) >> 11) * unit < o->get_ratio ? OP_GET
                                                                            : OP_PUT;
        request(w, op, (long)(rnd(&w->rng) % (uint64_t)o->keys), start);
    }
    worker_done(w);
}

static void timer_main(void *arg)
{
    struct thread *t = arg;
    coro_sleep_until(t->end);
    t->stop = true;
    if (coro_wg_wait(&t->live, t->end + t->sh->o->timeout_ns) == 0)
        return;
    for (long i = 0; i < t->nworkers; i++)
        if (t->workers[i].co && !t->workers[i].done)
            coro_cancel(t->workers[i].co);
}

/* Spawns the phase's workers (and the timer) and runs the scheduler until they are all gone. */
static int phase_run(struct thread *t, coro_fn fn, struct stats *st, int64_t end)
{
    t->st = st;
    t->end = end;
    t->stop = false;
    t->live = (struct coro_wg)CORO_WG_INIT;
    for (long i = 0; i < t->nworkers; i++) {
        struct worker *w = &t->workers[i];
        w->done = false;
        coro_wg_add(&t->live, 1);
        w->co = coro_spawn(t->sched, fn, w);
        if (!w->co) {
            t->stop = true; /* the ones already spawned finish their request and leave */
            coro_sched_run(t->sched);
            return -ENOMEM;
        }
    }
    if (end && !coro_spawn(t->sched, timer_main, t)) {
        t->stop = true;
        coro_sched_run(t->sched);
        return -ENOMEM;
    }
    coro_sched_run(t->sched);
    return 0;
}

static int thread_setup(struct thread *t)
{
    const struct opts *o = t->sh->o;
    unsigned ring = (unsigned)(t->nworkers * 2 + 64);
    struct coro_sched_config cfg = {.ring_entries = ring < 1024 ? 1024 : ring > 32768 ? 32768 : ring};
    int err = coro_sched_create(&t->sched, &cfg);
    if (err < 0)
        return err;
    t->workers = calloc((size_t)t->nworkers, sizeof(*t->workers));
    t->discard.scratch = malloc(SCRATCH);
    if (!t->workers || !t->discard.scratch)
        return -ENOMEM;
    t->discard.scratch_len = SCRATCH;
    t->discard.sink = o->sink;
    t->discard.devnull = t->sh->devnull;
    for (long i = 0; i < t->nworkers; i++) {
        t->workers[i].t = t;
        t->workers[i].rng = 0x9e3779b97f4a7c15ULL * (((uint64_t)t->index << 32) + (uint64_t)i + 1);
        hc_init(&t->workers[i].conn);
    }
    signer_init(&t->signer, o->access_key, o->secret_key, o->region, o->host);
    /* Keys are ours, but the prefix is the user's: encode it once, "/" kept. */
    int n = snprintf(t->prefix, sizeof(t->prefix), "/%s/", o->bucket);
    if (n < 0 || (size_t)n >= sizeof(t->prefix) ||
        s3_uri_encode(t->prefix + n, sizeof(t->prefix) - (size_t)n, o->prefix, strlen(o->prefix), false) < 0)
        return -ENAMETOOLONG;
    t->next_key = t->index;
    return 0;
}

static void *thread_main(void *arg)
{
    struct thread *t = arg;
    struct shared *sh = t->sh;
    char name[16];
    snprintf(name, sizeof(name), "s3load-%u", t->index);
    pthread_setname_np(pthread_self(), name);

    pthread_mutex_lock(&sh->gate_lock);
    while (!sh->open)
        pthread_cond_wait(&sh->gate, &sh->gate_lock);
    pthread_mutex_unlock(&sh->gate_lock);

    /* Not `abort`: another thread's failed prepare may already have set it, and this one must still do its share
     * so the prepare figures count every key. */
    int err = sh->short_of_threads ? -ECANCELED : thread_setup(t);
    if (err == 0 && sh->o->prepare)
        err = phase_run(t, prepare_main, t->prep, 0);
    if (err < 0 && err != -ECANCELED)
        fprintf(stderr, "s3load: thread %u: %s\n", t->index, strerror(-err));
    if (err < 0 || stats_errors(t->prep))
        atomic_store(&sh->abort, true);
    pthread_barrier_wait(&sh->phase); /* A */
    if (!atomic_load(&sh->abort)) {
        /* The threads' schedules interleave: thread i starts i/nthreads of an interval after thread 0. */
        int64_t now = coro_now();
        t->interval = sh->o->rate ? (int64_t)(1e9 * sh->nthreads / (double)sh->o->rate) : 0;
        t->next_start = now + t->interval * t->index / sh->nthreads;
        phase_run(t, load_main, t->run, now + sh->o->duration_ns);
    }
    pthread_barrier_wait(&sh->phase); /* B */

    if (t->sched)
        coro_sched_free(t->sched);
    free(t->workers);
    free(t->discard.scratch);
    return NULL;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The bytes every PUT sends: generated once, so requests cost no generation. Not compressible, not repeating. */
static uint8_t *body_make(int64_t size)
{
    uint8_t *b = malloc(size ? (size_t)size : 1);
    if (!b)
        return NULL;
    uint64_t s = 0x243f6a8885a308d3ULL ^ (uint64_t)coro_now();
    for (int64_t i = 0; i < size; i += 8) {
        uint64_t v = rnd(&s);
        memcpy(b + i, &v, size - i < 8 ? (size_t)(size - i) : 8);
    }
    return b;
}

int load_run(const struct opts *o, struct result *prep, struct result *run, bool *ran_timed)
{
    unsigned n = (unsigned)o->threads;
    struct thread *threads = calloc(n, sizeof(*threads));
    struct shared sh = {.o = o, .devnull = -1};
    unsigned created = 0;
    int err = -ENOMEM;
    pthread_mutex_init(&sh.gate_lock, NULL);
    pthread_cond_init(&sh.gate, NULL);

    sh.body = body_make(o->size);
    if (!threads || !sh.body)
        goto out;
    if (o->signed_payload) {
        s3_sha256_hex(sh.body, (size_t)o->size, sh.put_hash);
        sh.get_hash = S3_SIGV4_EMPTY_SHA256;
    } else {
        strcpy(sh.put_hash, "UNSIGNED-PAYLOAD");
        sh.get_hash = "UNSIGNED-PAYLOAD";
    }
    if (o->sink == HC_SINK_SPLICE && (sh.devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) {
        err = -errno;
        goto out;
    }

    for (unsigned i = 0; i < n; i++) {
        struct thread *t = &threads[i];
        t->sh = &sh;
        t->index = i;
        t->nworkers = o->concurrency / (long)n + ((long)i < o->concurrency % (long)n);
        /* Stats of its own per thread, merged at the end: no sharing on the hot path. */
        t->prep = malloc(sizeof(struct stats));
        t->run = malloc(sizeof(struct stats));
        if (!t->prep || !t->run)
            goto out;
        stats_init(t->prep);
        stats_init(t->run);
    }

    double cpu0 = cpu_seconds();
    int64_t t0 = coro_now();
    for (; created < n; created++)
        if (pthread_create(&threads[created].tid, NULL, thread_main, &threads[created]) != 0)
            break;
    if (created < n) {
        fprintf(stderr, "s3load: could only start %u of %u threads\n", created, n);
        sh.short_of_threads = true;
        atomic_store(&sh.abort, true);
    }
    sh.nthreads = created;
    pthread_barrier_init(&sh.phase, NULL, created + 1);
    pthread_mutex_lock(&sh.gate_lock);
    sh.open = true;
    pthread_cond_broadcast(&sh.gate);
    pthread_mutex_unlock(&sh.gate_lock);

    pthread_barrier_wait(&sh.phase); /* A: prepare done */
    double cpu1 = cpu_seconds();
    int64_t t1 = coro_now();
    *ran_timed = !atomic_load(&sh.abort);
    pthread_barrier_wait(&sh.phase); /* B: timed phase done */
    double cpu2 = cpu_seconds();
    for (unsigned i = 0; i < created; i++)
        pthread_join(threads[i].tid, NULL);
    pthread_barrier_destroy(&sh.phase);

    *prep = (struct result){.phase = "prepare", .seconds = (double)(t1 - t0) / 1e9, .cpu_seconds = cpu1 - cpu0};
    *run = (struct result){.phase = "run", .seconds = (double)o->duration_ns / 1e9, .cpu_seconds = cpu2 - cpu1};
    for (struct result *r = prep; r; r = r == prep ? run : NULL) {
        r->threads = created;
        r->concurrency = o->concurrency;
        stats_init(&r->st);
    }
    for (unsigned i = 0; i < created; i++) {
        stats_merge(&prep->st, threads[i].prep);
        stats_merge(&run->st, threads[i].run);
    }
    err = created == n ? 0 : -EAGAIN;

out:
    for (unsigned i = 0; threads && i < n; i++) {
        free(threads[i].prep);
        free(threads[i].run);
    }
    if (sh.devnull >= 0)
        close(sh.devnull);
    free((void *)sh.body);
    free(threads);
    pthread_cond_destroy(&sh.gate);
    pthread_mutex_destroy(&sh.gate_lock);
    return err;
}
