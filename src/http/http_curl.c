/* One exchange on libcurl: an easy handle set up from the request, the wait that feeds the request body to
 * libcurl while the coroutine waits for its callbacks, what a failed transfer means as -errno, and the end of
 * the exchange. The bodies are in http_curl_body.c, the head in http_curl_head.c, the multi and the coroutines
 * that drive it in http_curl_multi.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "http/http_curl_internal.h"
#include "http/http_parser.h"
#include "util/log.h"

static bool all_of(const char *s, bool (*ok)(unsigned char))
{
    for (; *s; s++)
        if (!ok((unsigned char)*s))
            return false;
    return true;
}

/* What a request target may hold without ending the request line early. */
static bool target_char(unsigned char c) { return c > ' ' && c != 0x7f; }

static bool tls_failure(CURLcode c)
{
    switch (c) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
        return true;
    default:
        return false;
    }
}

/* libcurl's error as -errno. A TLS failure is -EPROTO: the server cannot be talked to safely, which callers take
 * for the server being unavailable (a 503), not for a refusal of the request. */
static int curl_errno(CURLcode c, CURL *easy)
{
    long os = 0;
    if (tls_failure(c))
        return -EPROTO;
    switch (c) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os);
        return os == EHOSTUNREACH || os == ENETUNREACH || os == ETIMEDOUT ? -(int)os : -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
        return -EHOSTUNREACH;
    case CURLE_SEND_ERROR:
        return -EPIPE;
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:     /* the body ended short of its Content-Length */
    case CURLE_SEND_FAIL_REWIND: /* a reused connection died under a request whose body was already taken */
        return -ECONNRESET;
    case CURLE_OUT_OF_MEMORY:
        return -ENOMEM;
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return -EINVAL;
    case CURLE_UNSUPPORTED_PROTOCOL:
        return -EPROTONOSUPPORT;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return -EPROTO;
    default:
        return -EIO;
    }
}

int http_curl_result(const struct http_curl_xfer *x)
{
    if (x->err)
        return x->err;
    return x->finished ? curl_errno(x->result, x->easy) : -EIO;
}

/* A source checks its signature and checksums when it reaches its end: it must say so (read returns 0) before
 * the last bytes go to libcurl, or a body that fails its checks would be stored whole on the server. */
static int body_end_check(struct body_source *src)
{
    char extra;
    ssize_t n = body_source_read(src, &extra, 1);
    return n < 0 ? (int)n : (n > 0 ? -EMSGSIZE : 0);
}

/* Whether libcurl is (or soon will be) short of request body bytes. Nothing is read from the source before
 * libcurl first asks, so a server that cannot be reached or verified costs the client's body nothing. */
static bool body_wanted(const struct http_curl_xfer *x)
{
    return x->send_wanted && x->src_left > 0 && (x->send_paused || ring_free(&x->out) >= x->out.cap / 2);
}

/* One read from the source into the free part of x->out (yields; the read callback may take bytes meanwhile,
 * which only frees more). */
static int body_fill(struct http_curl_xfer *x)
{
    if (!x->out.p) {
        size_t cap = x->src_left < HTTP_CURL_BODY_BUF ? (size_t)x->src_left : HTTP_CURL_BODY_BUF;
        if (!(x->out.p = malloc(cap)))
            return -ENOMEM;
        x->out.cap = cap;
    }
    char *at;
    size_t room = ring_free_span(&x->out, &at);
    if ((uint64_t)room > (uint64_t)x->src_left)
        room = (size_t)x->src_left;
    ssize_t n = body_source_read(x->src, at, room);
    if (n <= 0)
        return n < 0 ? (int)n : -EPIPE;
    if (n == x->src_left) {
        int err = body_end_check(x->src);
        if (err < 0)
            return err;
    }
    x->src_left -= n;
    ring_commit(&x->out, (size_t)n);
    if (x->send_paused && x->in_multi) {
        x->send_paused = false;
        curl_easy_pause(x->easy, x->recv_paused ? CURLPAUSE_RECV : CURLPAUSE_CONT);
    }
    return 0;
}

int http_curl_wait(struct http_curl_xfer *x, bool (*ready)(const struct http_curl_xfer *x), int64_t deadline)
{
    for (;;) {
        if (x->err)
            return x->err;
        if (ready(x) || !x->in_multi)
            return 0;
        if (body_wanted(x)) {
            int err = body_fill(x);
            if (err < 0)
                return x->err = err;
            continue;
        }
        int err = coro_waitq_wait(&x->wq, deadline);
        if (err < 0)
            return err;
    }
}

static bool head_ready(const struct http_curl_xfer *x) { return x->head_done; }

/* The caller's fields as libcurl header lines, plus the Host that was signed, and none of libcurl's own
 * Expect (no 100-continue round trip) and Accept. An empty value is "name;" to libcurl ("name:" removes). */
static int headers_build(const struct http_curl_endpoint *ep, const struct http_client_request *req,
                         struct http_curl_xfer *x)
{
    char *line = malloc(HTTP_CLIENT_HEAD_MAX);
    if (!line)
        return -ENOMEM;
    size_t total = 0;
    int err = 0;
    for (size_t i = 0; i <= req->nheaders + 2 && err == 0; i++) {
        int n;
        if (i == req->nheaders)
            n = snprintf(line, HTTP_CLIENT_HEAD_MAX, "Host: %s", ep->host);
        else if (i > req->nheaders)
            n = snprintf(line, HTTP_CLIENT_HEAD_MAX, "%s", i == req->nheaders + 1 ? "Expect:" : "Accept:");
        else {
            const struct http_client_header *h = &req->headers[i];
            /* A CR or LF in a value would let it add fields of its own. */
            if (!*h->name || !all_of(h->name, http_is_tchar) || !all_of(h->value, http_is_field_char)) {
                err = -EINVAL;
                break;
            }
            n = snprintf(line, HTTP_CLIENT_HEAD_MAX, *h->value ? "%s: %s" : "%s;", h->name, h->value);
        }
        total += n > 0 ? (size_t)n + 2 : 0;
        if (n < 0 || total > HTTP_CLIENT_HEAD_MAX) {
            err = -E2BIG;
            break;
        }
        struct curl_slist *l = curl_slist_append(x->headers, line);
        if (!l)
            err = -ENOMEM;
        else
            x->headers = l;
    }
    free(line);
    return err;
}

/* Every option, since a spare handle comes reset. */
static int easy_setup(const struct http_curl_endpoint *ep, const struct http_client_request *req,
                      struct http_curl_xfer *x)
{
    char url[sizeof(ep->base) + 4096];
    int n = snprintf(url, sizeof(url), "%s%s", ep->base, req->target);
    if (n < 0 || (size_t)n >= sizeof(url))
        return -E2BIG;
    int err = headers_build(ep, req, x);
    if (err < 0)
        return err;
    if (!(x->easy = http_curl_easy_get()))
        return -ENOMEM;
    CURL *e = x->easy;
    int64_t now = coro_now();
    if (x->deadline && x->deadline <= now)
        return -ETIMEDOUT;
    int64_t connect_ns = ep->connect_ns ? ep->connect_ns : CORO_SEC(5);

    CURLcode rc = CURLE_OK;
#define SET(opt, val) (rc = rc != CURLE_OK ? rc : curl_easy_setopt(e, opt, val))
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PRIVATE, (void *)x);
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_PROXY, ""); /* no proxy, whatever the environment says */
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    /* In place of libcurl's default bundle; its default CA directory (where built with one, as Debian's is)
     * still counts, so ca_file adds to the system's CAs as the config says. libcurl reads the file when it opens
     * a connection, then keeps the parsed store in the multi (its CA cache, a day by default): a ring thread
     * reads it about once. */
    if (ep->ca_file)
        SET(CURLOPT_CAINFO, ep->ca_file);
    if (ep->resolve)
        SET(CURLOPT_RESOLVE, ep->resolve);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)((connect_ns + 999999) / 1000000));
    SET(CURLOPT_MAXAGE_CONN, 30L); /* as http_client: a connection idle longer is likely closed by the server */
    if (x->deadline)
        SET(CURLOPT_TIMEOUT_MS, (long)((x->deadline - now + 999999) / 1000000));
    SET(CURLOPT_HTTPHEADER, x->headers);
    SET(CURLOPT_HEADERFUNCTION, http_curl_on_header);
    SET(CURLOPT_HEADERDATA, (void *)x);
    SET(CURLOPT_WRITEFUNCTION, http_curl_on_body);
    SET(CURLOPT_WRITEDATA, (void *)x);
    if (req->head) {
        SET(CURLOPT_NOBODY, 1L);
    } else {
        if (req->content_length >= 0) {
            SET(CURLOPT_UPLOAD, 1L);
            SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->content_length);
            SET(CURLOPT_READFUNCTION, http_curl_on_send);
            SET(CURLOPT_READDATA, (void *)x);
        }
        /* UPLOAD says PUT and no body says GET; anything else is named. */
        if (strcmp(req->method, req->content_length >= 0 ? "PUT" : "GET") != 0)
            SET(CURLOPT_CUSTOMREQUEST, req->method);
    }
#undef SET
    return rc == CURLE_OK ? 0 : rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
}

int http_curl_request(const struct http_curl_endpoint *ep, const struct http_client_request *req,
                      struct http_curl_exchange *ex, int64_t deadline)
{
    ex->status = 0;
    ex->nheaders = 0;
    ex->content_length = -1;
    ex->x = NULL;
    if (!*req->method || !all_of(req->method, http_is_tchar) || req->target[0] != '/' ||
        !all_of(req->target, target_char) || (req->content_length > 0 && !req->body))
        return -EINVAL;
    struct http_curl_xfer *x = calloc(1, sizeof(*x));
    if (!x)
        return -ENOMEM;
    ex->x = x;
    x->ex = ex;
    x->deadline = deadline;
    if (req->content_length > 0 && !req->head) {
        x->src = req->body;
        x->src_left = req->content_length;
    }
    int err = easy_setup(ep, req, x);
    if (err == 0)
        err = http_curl_attach(x);
    if (err == 0)
        err = http_curl_wait(x, head_ready, deadline);
    if (err == 0 && !x->head_done) {
        err = http_curl_result(x);
        if (err == 0)
            err = -EPROTO; /* finished well without a head: not HTTP as we know it */
        if (x->finished && tls_failure(x->result))
            log_warn("%s: %s", ep->base, x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result));
    }
    if (err < 0)
        http_curl_done(ex);
    return err;
}

const char *http_curl_header(const struct http_curl_exchange *ex, const char *name)
{
    for (size_t i = 0; i < ex->nheaders; i++)
        if (strcasecmp(ex->headers[i].name, name) == 0)
            return ex->headers[i].value;
    return NULL;
}

void http_curl_done(struct http_curl_exchange *ex)
{
    struct http_curl_xfer *x = ex->x;
    if (!x)
        return;
    /* An unfinished transfer is aborted here; libcurl then closes its connection rather than reuse it. */
    http_curl_detach(x);
    curl_slist_free_all(x->headers);
    http_curl_easy_put(x->easy);
    free(x->in.p);
    free(x->out.p);
    free(x);
    ex->x = NULL;
}
