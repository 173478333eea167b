/* The driver's exchange on either transport: each call goes to the ring's HTTP client (http://) or to libcurl
 * (https://), whichever s3b_send used. */
#include "backend/backend_s3_internal.h"

const char *s3b_header(const struct s3b_exchange *ex, const char *name)
{
    return ex->tls ? http_curl_header(&ex->u.curl, name) : http_client_header(&ex->u.plain, name);
}

ssize_t s3b_body_read(struct s3b_exchange *ex, void *buf, size_t len)
{
    return ex->tls ? http_curl_body_read(&ex->u.curl, buf, len) : http_client_body_read(&ex->u.plain, buf, len);
}

int s3b_body_to_sink(struct s3b_exchange *ex, struct body_sink *sink)
{
    return ex->tls ? http_curl_body_to_sink(&ex->u.curl, sink) : http_client_body_to_sink(&ex->u.plain, sink);
}

int s3b_body_discard(struct s3b_exchange *ex, size_t limit)
{
    return ex->tls ? http_curl_body_discard(&ex->u.curl, limit) : http_client_body_discard(&ex->u.plain, limit);
}

void s3b_done(struct s3b_exchange *ex)
{
    if (ex->tls)
        http_curl_done(&ex->u.curl);
    else
        http_client_done(&ex->u.plain);
}
