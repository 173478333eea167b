/* S3 addressing: path-style and virtual-host-style, key decoding, query lookup, bucket names. */
#include <errno.h>

#include "s3/s3_request.h"
#include "unit.h"

static enum s3_request_err parse(struct s3_request *r, const char *target, const char *host)
{
    static const char *domains[] = {"s3.example.com", "localhost"};
    struct http_request req = {.method = HTTP_GET, .target = {target, strlen(target)}};
    if (host) {
        req.headers[0] = (struct http_header){{"Host", 4}, {host, strlen(host)}};
        req.nheaders = 1;
    }
    return s3_request_parse(r, &req, domains, 2);
}

static void test_path_style(void)
{
    struct s3_request r;
    CHECK_EQ(parse(&r, "/bkt/a%20b%2Bc/%C3%BC.txt", "127.0.0.1:9000"), S3_REQ_OK);
    CHECK_STR(r.bucket, "bkt");
    CHECK_STR(r.key, "a b+c/\xc3\xbc.txt");
    CHECK(!r.virtual_host);

    CHECK_EQ(parse(&r, "/bkt/a+b//c/", NULL), S3_REQ_OK);
    CHECK_STR(r.key, "a+b//c/"); /* '+' in a path is a plus; '//' and a trailing '/' are kept */
    CHECK_EQ(parse(&r, "/bkt/../x/./y", NULL), S3_REQ_OK);
    CHECK_STR(r.key, "../x/./y");

    CHECK_EQ(parse(&r, "/bkt?list-type=2&prefix=a%2Fb", NULL), S3_REQ_OK);
    CHECK_STR(r.bucket, "bkt");
    CHECK_STR(r.key, "");
    CHECK_EQ(parse(&r, "/bkt/", NULL), S3_REQ_OK);
    CHECK_STR(r.key, "");
    CHECK_EQ(parse(&r, "/", NULL), S3_REQ_OK);
    CHECK_STR(r.bucket, "");

    CHECK_EQ(parse(&r, "/bkt/bad%zz", NULL), S3_REQ_INVALID_URI);
    CHECK_EQ(parse(&r, "/bkt/nul%00", NULL), S3_REQ_INVALID_URI);
    CHECK_EQ(parse(&r, "/bkt/trunc%4", NULL), S3_REQ_INVALID_URI);
    CHECK_EQ(parse(&r, "*", NULL), S3_REQ_INVALID_URI);
    CHECK_EQ(parse(&r, "/B_ad/x", NULL), S3_REQ_BAD_BUCKET);
    CHECK_EQ(parse(&r, "/b%61d/x", NULL), S3_REQ_BAD_BUCKET);
    CHECK_EQ(parse(&r, "//foo", NULL), S3_REQ_BAD_BUCKET);

    char target[4000] = "/bkt/";
    memset(target + 5, 'k', 1024);
    CHECK_EQ(parse(&r, target, NULL), S3_REQ_OK);
    CHECK_EQ(r.key_len, 1024);
    target[5 + 1024] = 'k';
    CHECK_EQ(parse(&r, target, NULL), S3_REQ_KEY_TOO_LONG);
}

static void test_virtual_host(void)
{
    struct s3_request r;
    CHECK_EQ(parse(&r, "/photos/cat.jpg", "my-bucket.s3.example.com:9000"), S3_REQ_OK);
    CHECK(r.virtual_host);
    CHECK_STR(r.bucket, "my-bucket");
    CHECK_STR(r.key, "photos/cat.jpg");
    CHECK_EQ(parse(&r, "/", "bkt.localhost"), S3_REQ_OK);
    CHECK_STR(r.bucket, "bkt");
    CHECK_STR(r.key, "");
    /* The bare domain is path-style. */
    CHECK_EQ(parse(&r, "/bkt/k", "s3.example.com"), S3_REQ_OK);
    CHECK(!r.virtual_host);
    CHECK_STR(r.bucket, "bkt");
    CHECK_EQ(parse(&r, "/k", "bad_name.s3.example.com"), S3_REQ_BAD_BUCKET);
}

static void test_query(void)
{
    const char *q = "uploads&prefix=a%2Fb+c&max-keys=10&x%2Dy=z";
    struct http_str query = {q, strlen(q)};
    char v[64];
    CHECK_EQ(s3_query_get(query, "prefix", v, sizeof(v)), 0);
    CHECK_STR(v, "a/b c");
    CHECK_EQ(s3_query_get(query, "uploads", v, sizeof(v)), 0);
    CHECK_STR(v, "");
    CHECK_EQ(s3_query_get(query, "x-y", v, sizeof(v)), 0);
    CHECK_STR(v, "z");
    CHECK_EQ(s3_query_get(query, "missing", v, sizeof(v)), -ENOENT);
    CHECK_EQ(s3_query_get(query, "prefix", v, 3), -EINVAL);
    const char *nul = "uploadId%00junk=7&%00=x";
    struct http_str nq = {nul, strlen(nul)};
    CHECK_EQ(s3_query_get(nq, "uploadId", v, sizeof(v)), -ENOENT);
    CHECK_EQ(s3_query_get(nq, "", v, sizeof(v)), -ENOENT);
    CHECK_EQ(s3_percent_decode(v, 0, "", 0, false), -1);
    CHECK(s3_query_has(query, "max-keys"));
    CHECK(!s3_query_has(query, "max"));
}

static void test_bucket_names(void)
{
    CHECK(s3_bucket_name_valid("abc", 3));
    CHECK(s3_bucket_name_valid("my.bucket-1", 11));
    CHECK(!s3_bucket_name_valid("ab", 2));
    CHECK(!s3_bucket_name_valid("Abc", 3));
    CHECK(!s3_bucket_name_valid("-abc", 4));
    CHECK(!s3_bucket_name_valid("abc.", 4));
    CHECK(!s3_bucket_name_valid("a..b", 4));
    CHECK(!s3_bucket_name_valid("192.168.1.1", 11));
    CHECK(!s3_bucket_name_valid("a_b", 3));
}

int main(void)
{
    RUN(test_path_style);
    RUN(test_virtual_host);
    RUN(test_query);
    RUN(test_bucket_names);
    return unit_finish("s3_request");
}
