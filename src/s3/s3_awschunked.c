/* Size and trailer lines are gathered into d->line (bounded by max_line) and parsed when their CRLF arrives;
 * payload runs are skipped over in one step, their length being known from the size line. */
#include "s3/s3_awschunked.h"
#include "util/hex.h"

#include <string.h>
#include <strings.h>

static const struct {
    int status;
    const char *code;
    const char *message;
} awschunked_errors[] = {
    [-S3_AWSCHUNKED_ERR_FRAMING] = { 400, "InvalidRequest", "The aws-chunked body is malformed." },
    [-S3_AWSCHUNKED_ERR_LINE_TOO_LONG] = { 400, "InvalidRequest",
                                           "An aws-chunked size or trailer line is too long." },
    [-S3_AWSCHUNKED_ERR_CHUNK_TOO_BIG] = { 400, "InvalidRequest", "An aws-chunked chunk is too large." },
    [-S3_AWSCHUNKED_ERR_SIGNATURE] = { 403, "SignatureDoesNotMatch",
                                       "The request signature we calculated does not match the signature you "
                                       "provided. Check your key and signing method." },
    [-S3_AWSCHUNKED_ERR_TRAILER] = { 400, "MalformedTrailerError",
                                     "The request contained trailing data that was not well-formed or did not "
                                     "conform to our published schema." },
    [-S3_AWSCHUNKED_ERR_LENGTH] = { 400, "IncompleteBody",
                                    "You did not provide the number of bytes specified by the "
                                    "x-amz-decoded-content-length HTTP header." },
};

static bool err_known(int err)
{
    return err <= S3_AWSCHUNKED_ERR_FRAMING && err >= S3_AWSCHUNKED_ERR_LENGTH;
}

const char *s3_awschunked_err_code(int err)
{
    return err_known(err) ? awschunked_errors[-err].code : "InternalError";
}

int s3_awschunked_err_status(int err)
{
    return err_known(err) ? awschunked_errors[-err].status : 500;
}

const char *s3_awschunked_err_message(int err)
{
    return err_known(err) ? awschunked_errors[-err].message : "";
}

void s3_awschunked_init(struct s3_awschunked *d, const struct s3_awschunked_config *cfg)
{
    memset(d, 0, offsetof(struct s3_awschunked, line));
    d->cfg = *cfg;
    if (!d->cfg.max_chunk)
        d->cfg.max_chunk = S3_AWSCHUNKED_MAX_CHUNK_DEFAULT;
    if (!d->cfg.max_line || d->cfg.max_line > S3_AWSCHUNKED_LINE_MAX)
        d->cfg.max_line = S3_AWSCHUNKED_LINE_MAX;
    d->state = S3_AWSCHUNKED_SIZE_LINE;
}

static bool is_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hex_digit_value((unsigned char)p[i]) < 0)
            return false;
    return true;
}

static bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* What a field value may hold: VCHAR, SP, HTAB, obs-text. */
static bool is_field_char(unsigned char c)
{
    return c == '\t' || (c >= ' ' && c != 0x7f);
}

static const char sig_ext[] = ";chunk-signature=";

/* hex-size [";chunk-signature=" 64-hex]: the extension is required in signed mode and refused otherwise. */
static int size_line(struct s3_awschunked *d, struct s3_awschunked_event *ev)
{
    const char *p = d->line;
    size_t n = d->line_len, i = 0;
    uint64_t size = 0;
    for (; i < n; i++) {
        int v = hex_digit_value((unsigned char)p[i]);
        if (v < 0)
            break;
        if (size > (UINT64_MAX >> 4))
            return S3_AWSCHUNKED_ERR_CHUNK_TOO_BIG;
        size = size << 4 | (uint64_t)v;
    }
    if (i == 0)
        return S3_AWSCHUNKED_ERR_FRAMING;
    size_t ext_len = sizeof(sig_ext) - 1;
    if (i < n) {
        if (n - i < ext_len || strncasecmp(p + i, sig_ext, ext_len) != 0)
            return S3_AWSCHUNKED_ERR_FRAMING;
        if (!d->cfg.signed_chunks)
            return S3_AWSCHUNKED_ERR_SIGNATURE;
        if (n - i - ext_len != 64 || !is_hex(p + i + ext_len, 64))
            return S3_AWSCHUNKED_ERR_FRAMING;
        memcpy(d->sig, p + i + ext_len, 64);
        d->sig[64] = '\0';
    } else if (d->cfg.signed_chunks) {
        return S3_AWSCHUNKED_ERR_SIGNATURE;
    }
    if (size > d->cfg.max_chunk)
        return S3_AWSCHUNKED_ERR_CHUNK_TOO_BIG;
    int64_t want = d->cfg.decoded_length;
    /* Checked at the size line, so an over-long body stops before its data is taken. */
    if (want >= 0 && (size > (uint64_t)want - d->decoded || (size == 0 && d->decoded != (uint64_t)want)))
        return S3_AWSCHUNKED_ERR_LENGTH;
    d->decoded += size;
    *ev = (struct s3_awschunked_event){ .type = S3_AWSCHUNKED_CHUNK, .size = size, .last = size == 0,
                                        .signature = d->cfg.signed_chunks ? d->sig : NULL };
    d->left = size;
    d->state = size ? S3_AWSCHUNKED_DATA_RUN : S3_AWSCHUNKED_LAST_END;
    return 0;
}

/* name OWS ":" OWS value OWS, the empty line that ends the body, or an error. */
static int trailer_line(struct s3_awschunked *d, struct s3_awschunked_event *ev)
{
    const struct s3_awschunked_config *cfg = &d->cfg;
    const char *p = d->line;
    size_t n = d->line_len;
    if (n == 0) {
        if ((cfg->trailer && !d->trailer_seen) || (cfg->signed_trailer && !d->trailer_sig_seen))
            return S3_AWSCHUNKED_ERR_TRAILER;
        ev->type = S3_AWSCHUNKED_DONE;
        d->state = S3_AWSCHUNKED_DONE_STATE;
        return 0;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p)
        return S3_AWSCHUNKED_ERR_TRAILER;
    size_t name_len = (size_t)(colon - p), vs = name_len + 1, ve = n;
    /* S3 takes spaces on either side of the colon. */
    while (name_len > 0 && is_ows((unsigned char)p[name_len - 1]))
        name_len--;
    if (name_len == 0)
        return S3_AWSCHUNKED_ERR_TRAILER;
    for (size_t i = 0; i < name_len; i++)
        if (!is_tchar((unsigned char)p[i]))
            return S3_AWSCHUNKED_ERR_TRAILER;
    for (size_t i = vs; i < n; i++)
        if (!is_field_char((unsigned char)p[i]))
            return S3_AWSCHUNKED_ERR_TRAILER;
    while (vs < ve && is_ows((unsigned char)p[vs]))
        vs++;
    while (ve > vs && is_ows((unsigned char)p[ve - 1]))
        ve--;

    static const char sig_name[] = "x-amz-trailer-signature";
    if (name_len == sizeof(sig_name) - 1 && strncasecmp(p, sig_name, name_len) == 0) {
        /* It signs the trailer before it, so it comes last, once. */
        if (!cfg->signed_trailer || d->trailer_sig_seen || (cfg->trailer && !d->trailer_seen) || ve - vs != 64 ||
            !is_hex(p + vs, 64))
            return S3_AWSCHUNKED_ERR_TRAILER;
        d->trailer_sig_seen = true;
        memcpy(d->sig, p + vs, 64);
        d->sig[64] = '\0';
        *ev = (struct s3_awschunked_event){ .type = S3_AWSCHUNKED_TRAILER_SIGNATURE, .signature = d->sig };
        return 0;
    }
    if (!cfg->trailer || d->trailer_seen || d->trailer_sig_seen || name_len != cfg->trailer_len ||
        strncasecmp(p, cfg->trailer, name_len) != 0)
        return S3_AWSCHUNKED_ERR_TRAILER;
    d->trailer_seen = true;
    *ev = (struct s3_awschunked_event){ .type = S3_AWSCHUNKED_TRAILER, .name = p, .name_len = name_len,
                                        .value = p + vs, .value_len = ve - vs };
    return 0;
}

/* One byte of a size or trailer line. Returns 1 when the line ended (and was handled), 0 to go on, or an error. */
static int line_byte(struct s3_awschunked *d, unsigned char b, struct s3_awschunked_event *ev)
{
    if (d->cr) {
        if (b != '\n')
            return S3_AWSCHUNKED_ERR_FRAMING;
        d->cr = false;
        int rc = d->state == S3_AWSCHUNKED_SIZE_LINE ? size_line(d, ev) : trailer_line(d, ev);
        d->line_len = 0;
        return rc < 0 ? rc : 1;
    }
    if (b == '\r') {
        d->cr = true;
        return 0;
    }
    if (b == '\n')
        return S3_AWSCHUNKED_ERR_FRAMING; /* a bare LF */
    if (d->line_len == d->cfg.max_line)
        return S3_AWSCHUNKED_ERR_LINE_TOO_LONG;
    d->line[d->line_len++] = (char)b;
    return 0;
}

static ssize_t fail(struct s3_awschunked *d, int err)
{
    d->state = S3_AWSCHUNKED_ERROR;
    d->error = err;
    return err;
}

ssize_t s3_awschunked_feed(struct s3_awschunked *d, const char *in, size_t len, struct s3_awschunked_event *ev)
{
    *ev = (struct s3_awschunked_event){ .type = S3_AWSCHUNKED_NONE };
    if (d->state == S3_AWSCHUNKED_ERROR)
        return d->error;
    if (d->state == S3_AWSCHUNKED_LAST_END) {
        *ev = (struct s3_awschunked_event){ .type = S3_AWSCHUNKED_CHUNK_END, .last = true };
        d->state = S3_AWSCHUNKED_TRAILER_LINE;
        return 0;
    }
    for (size_t i = 0; i < len;) {
        switch (d->state) {
        case S3_AWSCHUNKED_DATA_RUN: {
            size_t n = d->left < len - i ? (size_t)d->left : len - i;
            *ev = (struct s3_awschunked_event){ .type = S3_AWSCHUNKED_DATA, .data = in + i, .data_len = n };
            s3_awschunked_skip(d, n);
            return (ssize_t)(i + n);
        }
        case S3_AWSCHUNKED_DATA_CR:
            if (in[i++] != '\r')
                return fail(d, S3_AWSCHUNKED_ERR_FRAMING);
            d->state = S3_AWSCHUNKED_DATA_LF;
            break;
        case S3_AWSCHUNKED_DATA_LF:
            if (in[i++] != '\n')
                return fail(d, S3_AWSCHUNKED_ERR_FRAMING);
            d->state = S3_AWSCHUNKED_SIZE_LINE;
            *ev = (struct s3_awschunked_event){ .type = S3_AWSCHUNKED_CHUNK_END };
            return (ssize_t)i;
        case S3_AWSCHUNKED_SIZE_LINE:
        case S3_AWSCHUNKED_TRAILER_LINE: {
            int rc = line_byte(d, (unsigned char)in[i++], ev);
            if (rc < 0)
                return fail(d, rc);
            if (rc > 0)
                return (ssize_t)i;
            break;
        }
        default: /* done: what follows the body is not ours */
            return 0;
        }
    }
    return (ssize_t)len;
}

bool s3_awschunked_done(const struct s3_awschunked *d)
{
    return d->state == S3_AWSCHUNKED_DONE_STATE;
}

uint64_t s3_awschunked_data_left(const struct s3_awschunked *d)
{
    return d->state == S3_AWSCHUNKED_DATA_RUN ? d->left : 0;
}

void s3_awschunked_skip(struct s3_awschunked *d, uint64_t n)
{
    if (d->state != S3_AWSCHUNKED_DATA_RUN)
        return;
    d->left -= n < d->left ? n : d->left;
    if (d->left == 0)
        d->state = S3_AWSCHUNKED_DATA_CR;
}
