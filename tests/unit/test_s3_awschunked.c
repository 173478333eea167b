/* aws-chunked decoder: events and data under every way of splitting the input, the signed-chunk chain of AWS's
 * streaming example verified through the decoder, the trailer rules and the framing errors. Runs with cwd = repo
 * root (for the fuzz corpus). The chunk signatures are AWS's published ones (see test_s3_sigv4.c); the trailer
 * signature and CRC32 ("sK4Y7A==" over the example's 66560 'a' bytes) come from an independent Python script. */
#include "s3/s3_awschunked.h"

#include <dirent.h>
#include <errno.h>

#include "../fuzz/fuzz_awschunked_one.h"
#include "s3/s3_checksum.h"
#include "s3/s3_sigv4.h"
#include "unit.h"

#define SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
#define SIG1 "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
#define SIG2 "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
#define SIG3 "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
#define TRAILER_SIG "b7e68777f543fed4632a47c5c6d795bf31c94c73eead74b5d4e94574d26a6b75"
#define SCOPE "20130524/us-east-1/s3/aws4_request"
#define AMZ_DATE "20130524T000000Z"
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

/* What a decode produced. */
struct outcome {
    int err;                 /* decoder error, 0 */
    enum s3_sigv4_err sigerr; /* first signature failure */
    bool done;
    bool checksum_ok; /* the trailer's checksum matched the data */
    size_t consumed;
    char *data;
    size_t data_len, cap;
    int chunks;
    char sigs[8][65];
    char trailer_name[64], trailer_value[128], trailer_sig[65];
};

struct run_opts {
    const struct s3_awschunked_config *cfg;
    const uint8_t *key; /* verify chunk signatures when set */
    enum s3_checksum_alg ck;
};

static void outcome_free(struct outcome *o)
{
    free(o->data);
}

static bool handle_event(const struct run_opts *opt, struct outcome *o, const struct s3_awschunked_event *ev,
                         struct s3_sigv4_stream *st, struct s3_checksum *ck, char cur_sig[65])
{
    switch (ev->type) {
    case S3_AWSCHUNKED_CHUNK:
        if (ev->signature) {
            memcpy(cur_sig, ev->signature, 64);
            if (o->chunks < 8)
                memcpy(o->sigs[o->chunks], ev->signature, 65);
        }
        o->chunks++;
        if (opt->key)
            s3_sigv4_stream_chunk_begin(st);
        break;
    case S3_AWSCHUNKED_DATA:
        if (o->data_len + ev->data_len > o->cap) {
            o->cap = (o->data_len + ev->data_len) * 2;
            o->data = realloc(o->data, o->cap);
        }
        memcpy(o->data + o->data_len, ev->data, ev->data_len);
        o->data_len += ev->data_len;
        if (opt->key)
            s3_sigv4_stream_chunk_data(st, ev->data, ev->data_len);
        if (opt->ck)
            s3_checksum_update(ck, ev->data, ev->data_len);
        break;
    case S3_AWSCHUNKED_CHUNK_END:
        if (opt->key && !o->sigerr)
            o->sigerr = s3_sigv4_stream_chunk_end(st, cur_sig);
        break;
    case S3_AWSCHUNKED_TRAILER: {
        snprintf(o->trailer_name, sizeof(o->trailer_name), "%.*s", (int)ev->name_len, ev->name);
        snprintf(o->trailer_value, sizeof(o->trailer_value), "%.*s", (int)ev->value_len, ev->value);
        if (opt->key)
            s3_sigv4_stream_trailer_add(st, ev->name, ev->name_len, ev->value, ev->value_len);
        if (opt->ck) {
            uint8_t want[S3_CHECKSUM_MAX_SIZE], got[S3_CHECKSUM_MAX_SIZE];
            int n = s3_checksum_from_base64(opt->ck, ev->value, ev->value_len, want);
            size_t size = s3_checksum_final(ck, got);
            o->checksum_ok = n == (int)size && memcmp(want, got, size) == 0;
        }
        break;
    }
    case S3_AWSCHUNKED_TRAILER_SIGNATURE:
        memcpy(o->trailer_sig, ev->signature, 65);
        if (opt->key && !o->sigerr)
            o->sigerr = s3_sigv4_stream_trailer_end(st, ev->signature);
        break;
    case S3_AWSCHUNKED_DONE:
        o->done = true;
        break;
    case S3_AWSCHUNKED_NONE:
        return false;
    }
    return true;
}

/* Decodes body given in pieces: [0, cut), then pieces of `step` bytes (0: the rest at once). Each piece is a
 * fresh heap copy, so a read past it shows under ASan or valgrind. */
static void run_decode(const struct run_opts *opt, const char *body, size_t len, size_t cut, size_t step,
                       struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    struct s3_awschunked d;
    struct s3_sigv4_stream st;
    struct s3_checksum ck;
    char cur_sig[65] = { 0 };
    uint8_t zero_key[32] = { 0 };
    s3_awschunked_init(&d, opt->cfg);
    s3_sigv4_stream_init(&st, opt->key ? opt->key : zero_key, AMZ_DATE, SCOPE, strlen(SCOPE), SEED);
    if (opt->ck)
        s3_checksum_init(&ck, opt->ck);
    size_t pos = 0;
    while (pos <= len) {
        size_t piece = pos < cut ? cut - pos : step ? step : len - pos;
        if (piece > len - pos)
            piece = len - pos;
        char *copy = malloc(piece ? piece : 1);
        memcpy(copy, body + pos, piece);
        size_t off = 0;
        for (;;) {
            struct s3_awschunked_event ev;
            ssize_t r = s3_awschunked_feed(&d, copy + off, piece - off, &ev);
            if (r < 0) {
                o->err = (int)r;
                CHECK_EQ(s3_awschunked_feed(&d, copy, piece, &ev), r); /* sticky */
                free(copy);
                o->consumed = pos + off;
                return;
            }
            off += (size_t)r;
            if (!handle_event(opt, o, &ev, &st, &ck, cur_sig))
                break;
        }
        free(copy);
        pos += off;
        if (s3_awschunked_done(&d) || off < piece || pos == len)
            break;
    }
    o->consumed = pos;
    CHECK_EQ(o->done, s3_awschunked_done(&d));
}

/* The same decode under every two-piece split, byte at a time, and a few odd steps: each must equal the whole. */
static void check_all_splits(const struct run_opts *opt, const char *body, size_t len, const struct outcome *want,
                             bool every_split)
{
    struct outcome o;
    size_t steps[] = { 1, 3, 7, 64, 1000 };
    int bad = 0;
    for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
        run_decode(opt, body, len, 0, steps[s], &o);
        bad += o.err != want->err || o.sigerr != want->sigerr || o.done != want->done ||
               o.checksum_ok != want->checksum_ok || o.data_len != want->data_len ||
               (o.data_len && memcmp(o.data, want->data, o.data_len) != 0) || o.chunks != want->chunks ||
               strcmp(o.trailer_value, want->trailer_value) != 0 || strcmp(o.trailer_sig, want->trailer_sig) != 0;
        outcome_free(&o);
    }
    for (size_t cut = 0; every_split && cut <= len; cut++) {
        run_decode(opt, body, len, cut, 0, &o);
        bad += o.err != want->err || o.sigerr != want->sigerr || o.done != want->done ||
               o.checksum_ok != want->checksum_ok || o.data_len != want->data_len ||
               (o.data_len && memcmp(o.data, want->data, o.data_len) != 0) || o.chunks != want->chunks ||
               strcmp(o.trailer_value, want->trailer_value) != 0 || strcmp(o.trailer_sig, want->trailer_sig) != 0;
        outcome_free(&o);
    }
    CHECK_EQ(bad, 0);
}

static void test_unsigned_trailer(void)
{
    /* boto3's form: bare sizes, a CRC32 trailer, the closing CRLF. */
    static const char body[] = "6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    size_t len = sizeof(body) - 1;
    struct s3_awschunked_config cfg = { .trailer = "x-amz-checksum-crc32", .trailer_len = 20,
                                        .decoded_length = 11 };
    struct run_opts opt = { .cfg = &cfg, .ck = S3_CK_CRC32 };
    struct outcome o;
    run_decode(&opt, body, len, 0, 0, &o);
    CHECK_EQ(o.err, 0);
    CHECK(o.done);
    CHECK_EQ(o.consumed, len);
    CHECK_MEM(o.data, o.data_len, "hello world");
    CHECK_EQ(o.chunks, 3);
    CHECK_STR(o.trailer_name, "x-amz-checksum-crc32");
    CHECK_STR(o.trailer_value, "DUoRhQ==");
    CHECK(o.checksum_ok);
    check_all_splits(&opt, body, len, &o, true);
    outcome_free(&o);

    /* Without a declared length, and with the name in another case and spaces around the value. */
    static const char body2[] = "3\r\nabc\r\n0\r\nX-Amz-Checksum-SHA256:  ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0= "
                                "\r\n\r\n";
    struct s3_awschunked_config cfg2 = { .trailer = "x-amz-checksum-sha256", .trailer_len = 21,
                                         .decoded_length = -1 };
    struct run_opts opt2 = { .cfg = &cfg2, .ck = S3_CK_SHA256 };
    run_decode(&opt2, body2, sizeof(body2) - 1, 0, 0, &o);
    CHECK_EQ(o.err, 0);
    CHECK(o.done && o.checksum_ok);
    CHECK_STR(o.trailer_value, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    check_all_splits(&opt2, body2, sizeof(body2) - 1, &o, true);
    outcome_free(&o);

    /* Spaces before the colon too, as S3 accepts. */
    static const char body4[] = "3\r\nabc\r\n0\r\nx-amz-checksum-crc32 \t: NSRBwg==\r\n\r\n";
    cfg.decoded_length = 3;
    run_decode(&opt, body4, sizeof(body4) - 1, 0, 0, &o);
    CHECK(o.done && o.checksum_ok);
    CHECK_STR(o.trailer_name, "x-amz-checksum-crc32");
    CHECK_STR(o.trailer_value, "NSRBwg==");
    outcome_free(&o);

    /* A wrong checksum decodes fine: judging it is the caller's part. */
    static const char body3[] = "3\r\nabc\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    cfg.decoded_length = 3;
    run_decode(&opt, body3, sizeof(body3) - 1, 0, 0, &o);
    CHECK(o.done && !o.checksum_ok);
    outcome_free(&o);
}

/* AWS's streaming example: 66560 bytes of 'a' in a 64 KiB chunk, a 1 KiB chunk and the final one. */
static char *example_body(size_t *len, bool trailer, const char *sig1, char flip)
{
    size_t cap = 70000;
    char *b = malloc(cap);
    size_t n = 0;
    n += (size_t)sprintf(b + n, "10000;chunk-signature=%s\r\n", sig1);
    memset(b + n, 'a', 65536);
    if (flip)
        b[n + 1000] = flip;
    n += 65536;
    n += (size_t)sprintf(b + n, "\r\n400;chunk-signature=" SIG2 "\r\n");
    memset(b + n, 'a', 1024);
    n += 1024;
    n += (size_t)sprintf(b + n, "\r\n0;chunk-signature=" SIG3 "\r\n");
    if (trailer)
        n += (size_t)sprintf(b + n, "x-amz-checksum-crc32:sK4Y7A==\r\nx-amz-trailer-signature:" TRAILER_SIG "\r\n");
    n += (size_t)sprintf(b + n, "\r\n");
    *len = n;
    return b;
}

static void test_signed_example(void)
{
    uint8_t key[32];
    s3_sigv4_signing_key(S3_SECRET, strlen(S3_SECRET), "20130524", "us-east-1", 9, "s3", 2, key);
    size_t len;
    char *body = example_body(&len, false, SIG1, 0);
    CHECK_EQ(len, 66824); /* the example's Content-Length */
    struct s3_awschunked_config cfg = { .signed_chunks = true, .decoded_length = 66560 };
    struct run_opts opt = { .cfg = &cfg, .key = key };
    struct outcome o;
    run_decode(&opt, body, len, 0, 0, &o);
    CHECK_EQ(o.err, 0);
    CHECK_EQ(o.sigerr, S3_SIGV4_OK);
    CHECK(o.done);
    CHECK_EQ(o.data_len, 66560);
    CHECK_EQ(o.chunks, 3);
    CHECK_STR(o.sigs[0], SIG1);
    CHECK_STR(o.sigs[2], SIG3);
    check_all_splits(&opt, body, len, &o, false);
    /* Cuts around every boundary of the framing. */
    struct outcome c;
    int bad = 0;
    for (size_t cut = 0; cut < 120; cut++) {
        size_t cuts[] = { cut, 65536 + 80 + cut, len - 120 + cut };
        for (int k = 0; k < 3; k++) {
            run_decode(&opt, body, len, cuts[k], 0, &c);
            bad += c.err || c.sigerr || !c.done || c.data_len != 66560;
            outcome_free(&c);
        }
    }
    CHECK_EQ(bad, 0);
    outcome_free(&o);
    free(body);

    /* One byte of data changed: the first chunk's signature fails, and the chain stays failed. */
    body = example_body(&len, false, SIG1, 'b');
    run_decode(&opt, body, len, 0, 0, &o);
    CHECK_EQ(o.err, 0);
    CHECK_EQ(o.sigerr, S3_SIGV4_ERR_SIGNATURE_MISMATCH);
    outcome_free(&o);
    free(body);
    /* Another chunk's signature in its place. */
    body = example_body(&len, false, SIG2, 0);
    run_decode(&opt, body, len, 0, 0, &o);
    CHECK_EQ(o.sigerr, S3_SIGV4_ERR_SIGNATURE_MISMATCH);
    outcome_free(&o);
    free(body);
    /* The wrong seed (another request's signature). */
    body = example_body(&len, false, SIG1, 0);
    uint8_t other_key[32];
    s3_sigv4_signing_key("other", 5, "20130524", "us-east-1", 9, "s3", 2, other_key);
    struct run_opts wrong = { .cfg = &cfg, .key = other_key };
    run_decode(&wrong, body, len, 0, 0, &o);
    CHECK_EQ(o.sigerr, S3_SIGV4_ERR_SIGNATURE_MISMATCH);
    outcome_free(&o);
    /* Declared lengths that disagree. */
    struct s3_awschunked_config shorter = cfg, longer = cfg;
    shorter.decoded_length = 66559;
    longer.decoded_length = 66561;
    struct run_opts o_short = { .cfg = &shorter }, o_long = { .cfg = &longer };
    run_decode(&o_short, body, len, 0, 0, &o);
    CHECK_EQ(o.err, S3_AWSCHUNKED_ERR_LENGTH);
    CHECK(o.data_len == 65536); /* stopped at the second size line, before its data */
    outcome_free(&o);
    run_decode(&o_long, body, len, 0, 0, &o);
    CHECK_EQ(o.err, S3_AWSCHUNKED_ERR_LENGTH);
    CHECK(o.data_len == 66560);
    outcome_free(&o);
    /* Unsigned mode refuses the signatures. */
    struct s3_awschunked_config unsigned_cfg = { .decoded_length = -1 };
    struct run_opts o_unsigned = { .cfg = &unsigned_cfg };
    run_decode(&o_unsigned, body, len, 0, 0, &o);
    CHECK_EQ(o.err, S3_AWSCHUNKED_ERR_SIGNATURE);
    outcome_free(&o);
    free(body);
}

static void test_signed_trailer(void)
{
    uint8_t key[32];
    s3_sigv4_signing_key(S3_SECRET, strlen(S3_SECRET), "20130524", "us-east-1", 9, "s3", 2, key);
    size_t len;
    char *body = example_body(&len, true, SIG1, 0);
    struct s3_awschunked_config cfg = { .signed_chunks = true, .signed_trailer = true,
                                        .trailer = "x-amz-checksum-crc32", .trailer_len = 20,
                                        .decoded_length = 66560 };
    struct run_opts opt = { .cfg = &cfg, .key = key, .ck = S3_CK_CRC32 };
    struct outcome o;
    run_decode(&opt, body, len, 0, 0, &o);
    CHECK_EQ(o.err, 0);
    CHECK_EQ(o.sigerr, S3_SIGV4_OK);
    CHECK(o.done && o.checksum_ok);
    CHECK_STR(o.trailer_value, "sK4Y7A==");
    CHECK_STR(o.trailer_sig, TRAILER_SIG);
    check_all_splits(&opt, body, len, &o, false);
    outcome_free(&o);
    /* A trailer signature that does not match. */
    char *p = strstr(body, "x-amz-trailer-signature:");
    p[24] = p[24] == '0' ? '1' : '0';
    run_decode(&opt, body, len, 0, 0, &o);
    CHECK_EQ(o.err, 0);
    CHECK_EQ(o.sigerr, S3_SIGV4_ERR_SIGNATURE_MISMATCH);
    outcome_free(&o);
    free(body);
}

/* A small signed body made here with the signing side of s3_sigv4_stream (whose chain the example checks), so
 * every split point of a signed body with a trailer can be tried. */
static void test_signed_small_every_split(void)
{
    uint8_t key[32];
    s3_sigv4_signing_key(S3_SECRET, strlen(S3_SECRET), "20130524", "us-east-1", 9, "s3", 2, key);
    static const char *const parts[] = { "hello", " ", "world", "" };
    struct s3_sigv4_stream st;
    s3_sigv4_stream_init(&st, key, AMZ_DATE, SCOPE, strlen(SCOPE), SEED);
    char body[1024];
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        s3_sigv4_stream_chunk_data(&st, parts[i], strlen(parts[i]));
        s3_sigv4_stream_chunk_end(&st, NULL);
        n += (size_t)sprintf(body + n, "%zx;chunk-signature=%s\r\n%s%s", strlen(parts[i]), st.prev_sig, parts[i],
                             *parts[i] ? "\r\n" : "");
    }
    s3_sigv4_stream_trailer_add(&st, "x-amz-checksum-crc32", 20, "DUoRhQ==", 8);
    s3_sigv4_stream_trailer_end(&st, NULL);
    n += (size_t)sprintf(body + n, "x-amz-checksum-crc32:DUoRhQ==\r\nx-amz-trailer-signature:%s\r\n\r\n", st.prev_sig);
    struct s3_awschunked_config cfg = { .signed_chunks = true, .signed_trailer = true,
                                        .trailer = "x-amz-checksum-crc32", .trailer_len = 20,
                                        .decoded_length = 11 };
    struct run_opts opt = { .cfg = &cfg, .key = key, .ck = S3_CK_CRC32 };
    struct outcome o;
    run_decode(&opt, body, n, 0, 0, &o);
    CHECK_EQ(o.err, 0);
    CHECK_EQ(o.sigerr, S3_SIGV4_OK);
    CHECK(o.done && o.checksum_ok);
    CHECK_MEM(o.data, o.data_len, "hello world");
    check_all_splits(&opt, body, n, &o, true);
    outcome_free(&o);
}

struct error_case {
    const char *name;
    struct s3_awschunked_config cfg;
    const char *body;
    int err;
};

#define SIG64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CRC_TRAILER .trailer = "x-amz-checksum-crc32", .trailer_len = 20

static void test_errors(void)
{
    static const struct error_case cases[] = {
        { "bad hex", { .decoded_length = -1 }, "zz\r\n", S3_AWSCHUNKED_ERR_FRAMING },
        { "hex then junk", { .decoded_length = -1 }, "3x\r\nabc\r\n", S3_AWSCHUNKED_ERR_FRAMING },
        { "empty size line", { .decoded_length = -1 }, "\r\n", S3_AWSCHUNKED_ERR_FRAMING },
        { "space after size", { .decoded_length = -1 }, "3 \r\nabc\r\n0\r\n\r\n", S3_AWSCHUNKED_ERR_FRAMING },
        { "missing CRLF after data", { .decoded_length = -1 }, "3\r\nabcX\r\n0\r\n\r\n", S3_AWSCHUNKED_ERR_FRAMING },
        { "LF only after data", { .decoded_length = -1 }, "3\r\nabc\n0\r\n\r\n", S3_AWSCHUNKED_ERR_FRAMING },
        { "bare LF in size line", { .decoded_length = -1 }, "3\nabc\r\n", S3_AWSCHUNKED_ERR_FRAMING },
        { "CR without LF", { .decoded_length = -1 }, "3\rabc\r\n", S3_AWSCHUNKED_ERR_FRAMING },
        { "bare LF closing", { .decoded_length = -1 }, "0\r\n\n", S3_AWSCHUNKED_ERR_FRAMING },
        { "size line too long", { .decoded_length = -1, .max_line = 8 }, "000000003\r\nabc\r\n",
          S3_AWSCHUNKED_ERR_LINE_TOO_LONG },
        { "size overflows", { .decoded_length = -1 }, "10000000000000000\r\n", S3_AWSCHUNKED_ERR_CHUNK_TOO_BIG },
        { "chunk over the default", { .decoded_length = -1 }, "4000001\r\n", S3_AWSCHUNKED_ERR_CHUNK_TOO_BIG },
        { "chunk over max_chunk", { .decoded_length = -1, .max_chunk = 2 }, "3\r\nabc\r\n",
          S3_AWSCHUNKED_ERR_CHUNK_TOO_BIG },
        { "signed without signature", { .signed_chunks = true, .decoded_length = -1 }, "3\r\nabc\r\n",
          S3_AWSCHUNKED_ERR_SIGNATURE },
        { "signed final without signature", { .signed_chunks = true, .decoded_length = -1 },
          "3;chunk-signature=" SIG64 "\r\nabc\r\n0\r\n\r\n", S3_AWSCHUNKED_ERR_SIGNATURE },
        { "unsigned with signature", { .decoded_length = -1 }, "3;chunk-signature=" SIG64 "\r\nabc\r\n",
          S3_AWSCHUNKED_ERR_SIGNATURE },
        { "short signature", { .signed_chunks = true, .decoded_length = -1 }, "3;chunk-signature=abcd\r\nabc\r\n",
          S3_AWSCHUNKED_ERR_FRAMING },
        { "non-hex signature", { .signed_chunks = true, .decoded_length = -1 },
          "3;chunk-signature=" "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" "\r\nabc\r\n",
          S3_AWSCHUNKED_ERR_FRAMING },
        { "other extension", { .decoded_length = -1 }, "3;foo=bar\r\nabc\r\n", S3_AWSCHUNKED_ERR_FRAMING },
        { "missing trailer", { CRC_TRAILER, .decoded_length = -1 }, "3\r\nabc\r\n0\r\n\r\n",
          S3_AWSCHUNKED_ERR_TRAILER },
        { "wrong trailer name", { CRC_TRAILER, .decoded_length = -1 },
          "0\r\nx-amz-checksum-crc32c:AAAAAA==\r\n\r\n", S3_AWSCHUNKED_ERR_TRAILER },
        { "trailer twice", { CRC_TRAILER, .decoded_length = -1 },
          "0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", S3_AWSCHUNKED_ERR_TRAILER },
        { "undeclared trailer", { .decoded_length = -1 }, "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
          S3_AWSCHUNKED_ERR_TRAILER },
        { "trailer without colon", { CRC_TRAILER, .decoded_length = -1 }, "0\r\nx-amz-checksum-crc32\r\n\r\n",
          S3_AWSCHUNKED_ERR_TRAILER },
        { "trailer with empty name", { CRC_TRAILER, .decoded_length = -1 }, "0\r\n:AAAAAA==\r\n\r\n",
          S3_AWSCHUNKED_ERR_TRAILER },
        { "trailer name with a space", { CRC_TRAILER, .decoded_length = -1 },
          "0\r\nx-amz checksum-crc32:AAAAAA==\r\n\r\n", S3_AWSCHUNKED_ERR_TRAILER },
        { "trailer name after a space", { CRC_TRAILER, .decoded_length = -1 },
          "0\r\n x-amz-checksum-crc32:AAAAAA==\r\n\r\n", S3_AWSCHUNKED_ERR_TRAILER },
        { "trailer value with a control", { CRC_TRAILER, .decoded_length = -1 },
          "0\r\nx-amz-checksum-crc32:AA\x01" "AAA==\r\n\r\n", S3_AWSCHUNKED_ERR_TRAILER },
        { "trailer line too long", { CRC_TRAILER, .decoded_length = -1, .max_line = 30 },
          "0\r\nx-amz-checksum-crc32:AAAAAAAAAAAAAAAAAAAAA==\r\n\r\n", S3_AWSCHUNKED_ERR_LINE_TOO_LONG },
        { "trailer signature unsigned", { CRC_TRAILER, .decoded_length = -1 },
          "0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:" SIG64 "\r\n\r\n",
          S3_AWSCHUNKED_ERR_TRAILER },
        { "trailer signature first", { CRC_TRAILER, .signed_trailer = true, .decoded_length = -1 },
          "0\r\nx-amz-trailer-signature:" SIG64 "\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
          S3_AWSCHUNKED_ERR_TRAILER },
        { "trailer signature missing", { CRC_TRAILER, .signed_trailer = true, .decoded_length = -1 },
          "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", S3_AWSCHUNKED_ERR_TRAILER },
        { "trailer signature twice", { CRC_TRAILER, .signed_trailer = true, .decoded_length = -1 },
          "0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:" SIG64 "\r\nx-amz-trailer-signature:" SIG64
          "\r\n\r\n",
          S3_AWSCHUNKED_ERR_TRAILER },
        { "trailer signature short", { CRC_TRAILER, .signed_trailer = true, .decoded_length = -1 },
          "0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:abc\r\n\r\n", S3_AWSCHUNKED_ERR_TRAILER },
        { "decoded length short", { .decoded_length = 4 }, "3\r\nabc\r\n0\r\n\r\n", S3_AWSCHUNKED_ERR_LENGTH },
        { "decoded length long", { .decoded_length = 2 }, "3\r\nabc\r\n0\r\n\r\n", S3_AWSCHUNKED_ERR_LENGTH },
        { "decoded length zero", { .decoded_length = 0 }, "1\r\na\r\n0\r\n\r\n", S3_AWSCHUNKED_ERR_LENGTH },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run_opts opt = { .cfg = &cases[i].cfg };
        struct outcome o;
        size_t len = strlen(cases[i].body);
        run_decode(&opt, cases[i].body, len, 0, 0, &o);
        if (o.err != cases[i].err)
            fprintf(stderr, "    %s: %d, want %d\n", cases[i].name, o.err, cases[i].err);
        CHECK_EQ(o.err, cases[i].err);
        CHECK(!o.done);
        check_all_splits(&opt, cases[i].body, len, &o, true);
        outcome_free(&o);
        CHECK(s3_awschunked_err_code(cases[i].err)[0] != '\0');
    }
    CHECK_STR(s3_awschunked_err_code(S3_AWSCHUNKED_ERR_TRAILER), "MalformedTrailerError");
    CHECK_EQ(s3_awschunked_err_status(S3_AWSCHUNKED_ERR_TRAILER), 400);
    CHECK_STR(s3_awschunked_err_code(S3_AWSCHUNKED_ERR_LENGTH), "IncompleteBody");
    CHECK_STR(s3_awschunked_err_code(S3_AWSCHUNKED_ERR_SIGNATURE), "SignatureDoesNotMatch");
    CHECK_EQ(s3_awschunked_err_status(-99), 500);
}

static void test_limits_and_tails(void)
{
    /* The default accepts chunks of 16 MiB and more. */
    struct s3_awschunked d;
    struct s3_awschunked_event ev;
    struct s3_awschunked_config cfg = { .decoded_length = -1 };
    s3_awschunked_init(&d, &cfg);
    CHECK_EQ(s3_awschunked_feed(&d, "1000000\r\n", 9, &ev), 9);
    CHECK_EQ(ev.type, S3_AWSCHUNKED_CHUNK);
    CHECK_EQ(ev.size, 16u << 20);
    CHECK_EQ(s3_awschunked_data_left(&d), 16u << 20);
    s3_awschunked_init(&d, &cfg);
    CHECK_EQ(s3_awschunked_feed(&d, "4000000\r\n", 9, &ev), 9);
    CHECK_EQ(ev.size, 64u << 20);

    /* A line exactly at max_line passes. */
    cfg.max_line = 9;
    s3_awschunked_init(&d, &cfg);
    CHECK_EQ(s3_awschunked_feed(&d, "000000003\r\n", 11, &ev), 11);
    CHECK_EQ(ev.size, 3);

    /* Bytes after the body are left alone; the decoder stays done. */
    static const char body[] = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
    cfg = (struct s3_awschunked_config){ .decoded_length = 3 };
    struct run_opts opt = { .cfg = &cfg };
    struct outcome o;
    run_decode(&opt, body, sizeof(body) - 1, 0, 0, &o);
    CHECK(o.done);
    CHECK_EQ(o.consumed, 13);
    outcome_free(&o);

    /* A body that stops early is neither done nor failed. */
    run_decode(&opt, body, 9, 0, 0, &o);
    CHECK(!o.done && o.err == 0);
    outcome_free(&o);

    /* Payload moved by the caller: data_left and skip. */
    s3_awschunked_init(&d, &cfg);
    CHECK_EQ(s3_awschunked_feed(&d, body, 3, &ev), 3);
    CHECK_EQ(ev.type, S3_AWSCHUNKED_CHUNK);
    CHECK_EQ(s3_awschunked_data_left(&d), 3);
    s3_awschunked_skip(&d, 2);
    CHECK_EQ(s3_awschunked_data_left(&d), 1);
    s3_awschunked_skip(&d, 5); /* clamped */
    CHECK_EQ(s3_awschunked_data_left(&d), 0);
    CHECK_EQ(s3_awschunked_feed(&d, "\r\n", 2, &ev), 2);
    CHECK_EQ(ev.type, S3_AWSCHUNKED_CHUNK_END);
    CHECK(!ev.last);
    CHECK_EQ(s3_awschunked_feed(&d, "0\r\n", 3, &ev), 3);
    CHECK(ev.type == S3_AWSCHUNKED_CHUNK && ev.last);
    CHECK_EQ(s3_awschunked_feed(&d, "", 0, &ev), 0); /* the owed CHUNK_END, with no input */
    CHECK(ev.type == S3_AWSCHUNKED_CHUNK_END && ev.last);
    CHECK_EQ(s3_awschunked_feed(&d, "\r", 1, &ev), 1);
    CHECK_EQ(ev.type, S3_AWSCHUNKED_NONE);
    CHECK_EQ(s3_awschunked_feed(&d, "\n", 1, &ev), 1);
    CHECK_EQ(ev.type, S3_AWSCHUNKED_DONE);
    CHECK(s3_awschunked_done(&d));
    CHECK_EQ(s3_awschunked_feed(&d, "x", 1, &ev), 0);
    CHECK_EQ(ev.type, S3_AWSCHUNKED_NONE);
    s3_awschunked_skip(&d, 1); /* harmless outside data */
    CHECK(s3_awschunked_done(&d));
}

static void test_fuzz_corpus(void)
{
    const char *dir = "tests/fuzz/corpus/awschunked";
    DIR *dp = opendir(dir);
    if (!dp) {
        fprintf(stderr, "    (no %s here: run from the repository root)\n", dir);
        CHECK(dp != NULL);
        return;
    }
    int n = 0;
    for (struct dirent *e; (e = readdir(dp));) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        CHECK_EQ(fuzz_awschunked_run_file(path), 0); /* aborts on a broken invariant */
        n++;
    }
    closedir(dp);
    CHECK(n > 0);
}

int main(void)
{
    RUN(test_unsigned_trailer);
    RUN(test_signed_example);
    RUN(test_signed_trailer);
    RUN(test_signed_small_every_split);
    RUN(test_errors);
    RUN(test_limits_and_tails);
    RUN(test_fuzz_corpus);
    return unit_finish("test_s3_awschunked");
}
