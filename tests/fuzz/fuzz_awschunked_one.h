/* One fuzz input through the aws-chunked decoder, shared by tests/fuzz/fuzz_awschunked.c and
 * tests/unit/test_s3_awschunked.c.
 *
 * The first byte picks the decoder's configuration, the rest is the body:
 *   bit 0  signed chunks          bits 2-3  declared trailer: none, x-amz-checksum-crc32, -sha256, -crc64nvme
 *   bit 1  signed trailer         bit 4     x-amz-decoded-content-length given by the next two bytes (LE)
 *   bit 5  tiny limits (24-byte lines, 64-byte chunks), so short inputs reach the limit paths
 * The body is decoded under three feeding schedules, as in fuzz_http_one.h:
 *   whole  - all bytes visible at once;
 *   bytes  - one more byte visible per call, so every split point is tried;
 *   moving - pseudo-random steps, each copied to the other of two buffers and the old copy scribbled over, with
 *            payload taken through s3_awschunked_data_left()/skip() instead of feed().
 * The visible bytes end just below an inaccessible page, so a read past them faults at once. Every result is
 * checked against the decoder's contract (event grammar, sizes, limits, sticky errors) and the three schedules
 * must give the same digest. Any violation abort()s, which is what the fuzzer counts as a crash.
 */
#ifndef S3ORCH_FUZZ_AWSCHUNKED_ONE_H
#define S3ORCH_FUZZ_AWSCHUNKED_ONE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "s3/s3_awschunked.h"

#define FUZZ_AWSCHUNKED_MAX_INPUT (1u << 20)

enum fuzz_ac_split { FUZZ_AC_WHOLE, FUZZ_AC_BYTES, FUZZ_AC_MOVING };

struct fuzz_ac_feed {
    const char *data;
    size_t len, avail;
    enum fuzz_ac_split split;
    uint32_t rng;
    int which;
    char *buf;
};

static void fuzz_ac_require(bool ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz_awschunked: invariant broken: %s\n", what);
    abort();
}

static uint64_t fuzz_ac_mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t fuzz_ac_mix_u64(uint64_t h, uint64_t v)
{
    return fuzz_ac_mix(h, &v, sizeof(v));
}

static char *fuzz_ac_guarded_end(int which)
{
    static char *ends[2];
    if (!ends[which]) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        size_t size = (FUZZ_AWSCHUNKED_MAX_INPUT + page - 1) / page * page;
        char *p = mmap(NULL, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fuzz_ac_require(p != MAP_FAILED, "mmap of the guarded buffer");
        fuzz_ac_require(mprotect(p + size, page, PROT_NONE) == 0, "mprotect of the guard page");
        ends[which] = p + size;
    }
    return ends[which];
}

static void fuzz_ac_feed_init(struct fuzz_ac_feed *f, const char *data, size_t len, enum fuzz_ac_split split)
{
    *f = (struct fuzz_ac_feed){ .data = data, .len = len, .split = split, .rng = 2166136261u ^ (uint32_t)len };
    f->rng ^= (uint32_t)fuzz_ac_mix(0, data, len < 64 ? len : 64);
    if (split == FUZZ_AC_MOVING) {
        f->buf = fuzz_ac_guarded_end(0);
        return;
    }
    f->buf = fuzz_ac_guarded_end(0) - len;
    memcpy(f->buf, data, len);
    f->avail = split == FUZZ_AC_WHOLE ? len : 0;
}

static bool fuzz_ac_feed_more(struct fuzz_ac_feed *f)
{
    if (f->avail == f->len)
        return false;
    if (f->split != FUZZ_AC_MOVING) {
        f->avail++;
        return true;
    }
    f->rng = f->rng * 1103515245u + 12345u;
    size_t step = 1 + (f->rng >> 8) % (16 + f->avail / 2);
    memset(f->buf, 0xa5, f->avail);
    f->avail = step < f->len - f->avail ? f->avail + step : f->len;
    f->which ^= 1;
    f->buf = fuzz_ac_guarded_end(f->which) - f->avail;
    memcpy(f->buf, f->data, f->avail);
    return true;
}

/* Where the event grammar stands: (CHUNK DATA* CHUNK_END)* CHUNK(last) CHUNK_END(last) [TRAILER]
 * [TRAILER_SIGNATURE] DONE. */
enum fuzz_ac_phase { FUZZ_AC_BETWEEN, FUZZ_AC_IN_CHUNK, FUZZ_AC_LAST_CHUNK, FUZZ_AC_TRAILERS, FUZZ_AC_OVER };

struct fuzz_ac_run {
    struct s3_awschunked d;
    const struct s3_awschunked_config *cfg;
    enum fuzz_ac_phase phase;
    uint64_t chunk_size, chunk_got, total;
    bool trailer, trailer_sig;
    uint64_t h;
};

static bool fuzz_ac_error_known(ssize_t r)
{
    return r <= S3_AWSCHUNKED_ERR_FRAMING && r >= S3_AWSCHUNKED_ERR_LENGTH;
}

static void fuzz_ac_check_event(struct fuzz_ac_run *run, const struct s3_awschunked_event *ev, const char *in,
                                size_t consumed)
{
    const struct s3_awschunked_config *cfg = run->cfg;
    /* How often the input runs out, and so how DATA is cut, depends on the schedule: NONE does not go into the
     * digest, and DATA only by its bytes. */
    if (ev->type != S3_AWSCHUNKED_DATA && ev->type != S3_AWSCHUNKED_NONE)
        run->h = fuzz_ac_mix_u64(run->h, ev->type);
    switch (ev->type) {
    case S3_AWSCHUNKED_NONE:
        break;
    case S3_AWSCHUNKED_CHUNK:
        fuzz_ac_require(run->phase == FUZZ_AC_BETWEEN, "CHUNK between chunks");
        fuzz_ac_require(ev->last == (ev->size == 0), "last is the 0-size chunk");
        fuzz_ac_require(ev->size <= cfg->max_chunk || !cfg->max_chunk, "chunk within max_chunk");
        fuzz_ac_require(cfg->signed_chunks ? ev->signature && strlen(ev->signature) == 64 : !ev->signature,
                        "signature exactly in signed mode");
        run->total += ev->size;
        fuzz_ac_require(cfg->decoded_length < 0 || run->total <= (uint64_t)cfg->decoded_length,
                        "no more than the decoded length");
        fuzz_ac_require(!ev->last || cfg->decoded_length < 0 || run->total == (uint64_t)cfg->decoded_length,
                        "exactly the decoded length at the last chunk");
        run->phase = ev->last ? FUZZ_AC_LAST_CHUNK : FUZZ_AC_IN_CHUNK;
        run->chunk_size = ev->size;
        run->chunk_got = 0;
        run->h = fuzz_ac_mix_u64(run->h, ev->size);
        if (ev->signature)
            run->h = fuzz_ac_mix(run->h, ev->signature, 64);
        break;
    case S3_AWSCHUNKED_DATA:
        fuzz_ac_require(run->phase == FUZZ_AC_IN_CHUNK, "DATA inside a chunk");
        fuzz_ac_require(ev->data_len > 0 && ev->data >= in && (size_t)(ev->data - in) + ev->data_len <= consumed,
                        "DATA inside the consumed bytes");
        run->chunk_got += ev->data_len;
        fuzz_ac_require(run->chunk_got <= run->chunk_size, "DATA within the chunk size");
        run->h = fuzz_ac_mix(run->h, ev->data, ev->data_len);
        break;
    case S3_AWSCHUNKED_CHUNK_END:
        fuzz_ac_require(run->phase == FUZZ_AC_IN_CHUNK || run->phase == FUZZ_AC_LAST_CHUNK, "CHUNK_END after CHUNK");
        fuzz_ac_require(run->chunk_got == run->chunk_size, "CHUNK_END after all the data");
        fuzz_ac_require(ev->last == (run->phase == FUZZ_AC_LAST_CHUNK), "CHUNK_END last flag");
        run->phase = ev->last ? FUZZ_AC_TRAILERS : FUZZ_AC_BETWEEN;
        break;
    case S3_AWSCHUNKED_TRAILER:
        fuzz_ac_require(run->phase == FUZZ_AC_TRAILERS && !run->trailer && !run->trailer_sig && cfg->trailer,
                        "TRAILER once, declared, before its signature");
        fuzz_ac_require(ev->name_len == cfg->trailer_len && strncasecmp(ev->name, cfg->trailer, ev->name_len) == 0,
                        "TRAILER name is the declared one");
        run->trailer = true;
        run->h = fuzz_ac_mix(run->h, ev->value, ev->value_len);
        break;
    case S3_AWSCHUNKED_TRAILER_SIGNATURE:
        fuzz_ac_require(run->phase == FUZZ_AC_TRAILERS && cfg->signed_trailer && !run->trailer_sig &&
                            (run->trailer || !cfg->trailer),
                        "TRAILER_SIGNATURE once, last");
        fuzz_ac_require(ev->signature && strlen(ev->signature) == 64, "trailer signature length");
        run->trailer_sig = true;
        run->h = fuzz_ac_mix(run->h, ev->signature, 64);
        break;
    case S3_AWSCHUNKED_DONE:
        fuzz_ac_require(run->phase == FUZZ_AC_TRAILERS, "DONE after the last chunk");
        fuzz_ac_require(!cfg->trailer || run->trailer, "DONE only with the declared trailer");
        fuzz_ac_require(!cfg->signed_trailer || run->trailer_sig, "DONE only with the trailer signature");
        run->phase = FUZZ_AC_OVER;
        break;
    default:
        fuzz_ac_require(false, "event type");
    }
}

/* Decodes the body under one schedule; returns the digest of what it saw. */
static uint64_t fuzz_ac_run_split(const struct s3_awschunked_config *cfg, const char *data, size_t len,
                                  enum fuzz_ac_split split)
{
    struct fuzz_ac_feed f;
    struct fuzz_ac_run run = { .cfg = cfg, .h = 14695981039346656037ull };
    size_t pos = 0;
    fuzz_ac_feed_init(&f, data, len, split);
    s3_awschunked_init(&run.d, cfg);
    for (;;) {
        if (s3_awschunked_done(&run.d)) {
            fuzz_ac_require(run.phase == FUZZ_AC_OVER, "done after DONE");
            struct s3_awschunked_event ev;
            fuzz_ac_require(s3_awschunked_feed(&run.d, f.buf + pos, f.avail - pos, &ev) == 0 &&
                                ev.type == S3_AWSCHUNKED_NONE,
                            "nothing past the end is taken");
            return fuzz_ac_mix_u64(run.h, pos);
        }
        const char *in = f.buf + pos;
        size_t n = f.avail - pos;
        uint64_t left = s3_awschunked_data_left(&run.d);
        if (split == FUZZ_AC_MOVING && left > 0 && n > 0) {
            size_t k = left < n ? (size_t)left : n;
            run.h = fuzz_ac_mix(run.h, in, k);
            run.chunk_got += k;
            s3_awschunked_skip(&run.d, k);
            fuzz_ac_require(s3_awschunked_data_left(&run.d) == left - k, "skip lowers data_left");
            pos += k;
            continue;
        }
        struct s3_awschunked_event ev;
        ssize_t r = s3_awschunked_feed(&run.d, in, n, &ev);
        if (r < 0) {
            fuzz_ac_require(fuzz_ac_error_known(r), "error is one the decoder documents");
            fuzz_ac_require(ev.type == S3_AWSCHUNKED_NONE, "no event with an error");
            fuzz_ac_require(s3_awschunked_feed(&run.d, in, n, &ev) == r, "errors are sticky");
            fuzz_ac_require(!s3_awschunked_done(&run.d) && s3_awschunked_data_left(&run.d) == 0, "error state");
            return fuzz_ac_mix_u64(run.h, (uint64_t)r);
        }
        fuzz_ac_require((size_t)r <= n, "consumed within the input");
        fuzz_ac_require(ev.type != S3_AWSCHUNKED_NONE || (size_t)r == n || s3_awschunked_done(&run.d),
                        "no event only when the input is used up");
        fuzz_ac_check_event(&run, &ev, in, (size_t)r);
        pos += (size_t)r;
        if (ev.type == S3_AWSCHUNKED_NONE && !fuzz_ac_feed_more(&f))
            return fuzz_ac_mix_u64(run.h, 0xffff); /* the input ended inside the body */
    }
}

static void fuzz_awschunked_one(const void *data, size_t len)
{
    static const char *const trailers[4] = { NULL, "x-amz-checksum-crc32", "x-amz-checksum-sha256",
                                             "x-amz-checksum-crc64nvme" };
    const unsigned char *p = data;
    if (len == 0)
        return;
    if (len > FUZZ_AWSCHUNKED_MAX_INPUT)
        len = FUZZ_AWSCHUNKED_MAX_INPUT;
    unsigned sel = p[0];
    size_t off = 1;
    struct s3_awschunked_config cfg = { .signed_chunks = sel & 1, .signed_trailer = sel >> 1 & 1,
                                        .trailer = trailers[sel >> 2 & 3], .decoded_length = -1 };
    cfg.trailer_len = cfg.trailer ? strlen(cfg.trailer) : 0;
    if (sel & 0x10) {
        if (len < 3)
            return;
        cfg.decoded_length = p[1] | p[2] << 8;
        off = 3;
    }
    if (sel & 0x20) {
        cfg.max_line = 24;
        cfg.max_chunk = 64;
    }
    /* The decoder fills in the defaults; the checks want the effective limits. */
    struct s3_awschunked probe;
    s3_awschunked_init(&probe, &cfg);
    cfg = probe.cfg;
    const char *body = (const char *)p + off;
    size_t n = len - off;
    uint64_t whole = fuzz_ac_run_split(&cfg, body, n, FUZZ_AC_WHOLE);
    fuzz_ac_require(fuzz_ac_run_split(&cfg, body, n, FUZZ_AC_BYTES) == whole,
                    "byte-at-a-time feeding gives the whole-input result");
    fuzz_ac_require(fuzz_ac_run_split(&cfg, body, n, FUZZ_AC_MOVING) == whole,
                    "moving-buffer feeding gives the whole-input result");
}

/* Runs the file at `path` through fuzz_awschunked_one(). Returns 0 or -errno. */
static int fuzz_awschunked_run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -errno;
    char *buf = malloc(FUZZ_AWSCHUNKED_MAX_INPUT);
    fuzz_ac_require(buf != NULL, "out of memory");
    size_t n = fread(buf, 1, FUZZ_AWSCHUNKED_MAX_INPUT, fp);
    int err = ferror(fp) ? -EIO : 0;
    fclose(fp);
    if (!err)
        fuzz_awschunked_one(buf, n);
    free(buf);
    return err;
}

#endif
