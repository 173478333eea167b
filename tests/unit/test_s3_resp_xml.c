/* The XML bodies S3 backends answer with: as AWS documents them, as moto 5.2.1 sends them (captured from
 * moto_server, verbatim), as MinIO shapes them (Go's encoder: &#34; for quotes, Owner blocks), errors in a 200,
 * url-encoded keys, and every limit and refusal. */
#include <errno.h>

#include "backend/s3_resp_xml.h"
#include "s3/s3_request.h"
#include "unit.h"

#define NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""
#define LIST_HEAD "<ListBucketResult " NS "><IsTruncated>false</IsTruncated>"
#define LIST_TAIL "</ListBucketResult>"

/* A malloc'd body: head, then item formatted with 1, 2, ... n, then tail. */
static char *repeat_body(const char *head, const char *item, int n, const char *tail, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    fputs(head, f);
    for (int i = 1; i <= n; i++)
        fprintf(f, item, i);
    fputs(tail, f);
    fclose(f);
    return buf;
}

/* A malloc'd string of n copies of c. */
static char *filled(char c, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memset(s, c, n);
        s[n] = '\0';
    }
    return s;
}

/* A malloc'd body: fmt with one %s, filled in by n copies of c. */
static char *body_with(const char *fmt, char c, size_t n)
{
    char *fill = filled(c, n), *body = NULL;
    if (fill && asprintf(&body, fmt, fill) < 0)
        body = NULL;
    free(fill);
    return body;
}

static int list(const char *body, struct s3_resp_list *l)
{
    return s3_resp_parse_list(body, strlen(body), l);
}

static int error(const char *body, struct s3_resp_error *e)
{
    return s3_resp_parse_error(body, strlen(body), e);
}

static int etag(const char *body, const char *root, char out[S3_RESP_ETAG_MAX])
{
    return s3_resp_parse_etag(body, strlen(body), root, out);
}

static int initiate(const char *body, char out[S3_RESP_ID_MAX])
{
    return s3_resp_parse_initiate(body, strlen(body), out);
}

static bool is_error(const char *body)
{
    return s3_resp_is_error(body, strlen(body));
}

static bool is_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* The one key a listing of <Contents><Key>KEY_XML</Key></Contents> gives, url-decoded when url; its status. */
static int one_key(const char *key_xml, bool url, char *out, size_t cap)
{
    char *body = NULL;
    if (asprintf(&body, LIST_HEAD "<Contents><Key>%s</Key></Contents>%s" LIST_TAIL, key_xml,
                 url ? "<EncodingType>url</EncodingType>" : "") < 0)
        return -ENOMEM;
    struct s3_resp_list l;
    int err = list(body, &l);
    if (err == 0 && l.n == 1)
        snprintf(out, cap, "%s", l.v[0].key);
    s3_resp_list_free(&l);
    free(body);
    return err;
}

/* The modified_ms of one entry with <LastModified>TEXT</LastModified>; its status. */
static int one_time(const char *text, int64_t *ms)
{
    char body[512];
    snprintf(body, sizeof(body), LIST_HEAD "<Contents><Key>k</Key><LastModified>%s</LastModified></Contents>" LIST_TAIL,
             text);
    struct s3_resp_list l;
    int err = list(body, &l);
    *ms = err == 0 ? l.v[0].modified_ms : INT64_MIN;
    s3_resp_list_free(&l);
    return err;
}

static int one_size(const char *text, int64_t *size)
{
    char body[512];
    snprintf(body, sizeof(body), LIST_HEAD "<Contents><Key>k</Key><Size>%s</Size></Contents>" LIST_TAIL, text);
    struct s3_resp_list l;
    int err = list(body, &l);
    *size = err == 0 ? l.v[0].size : -1;
    s3_resp_list_free(&l);
    return err;
}

/* ---- AWS's documented examples ---- */

static void test_aws_list(void)
{
    const char *body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<ListBucketResult " NS ">\n"
                       "    <Name>bucket</Name>\n"
                       "    <Prefix/>\n"
                       "    <KeyCount>205</KeyCount>\n"
                       "    <MaxKeys>1000</MaxKeys>\n"
                       "    <IsTruncated>false</IsTruncated>\n"
                       "    <Contents>\n"
                       "        <Key>my-image.jpg</Key>\n"
                       "        <LastModified>2009-10-12T17:50:30.000Z</LastModified>\n"
                       "        <ETag>\"fba9dede5f27731c9771645a39863328\"</ETag>\n"
                       "        <Size>434234</Size>\n"
                       "        <StorageClass>STANDARD</StorageClass>\n"
                       "    </Contents>\n"
                       "    <Contents>\n"
                       "        <Key>my-zipped-file.zip</Key>\n"
                       "        <LastModified>2009-10-12T17:50:30Z</LastModified>\n"
                       "        <ETag>&quot;fba9dede5f27731c9771645a39863328-2&quot;</ETag>\n"
                       "        <Size>\n  13\n  </Size>\n"
                       "        <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>"
                       "<DisplayName>mtd@amazon.com</DisplayName></Owner>\n"
                       "        <StorageClass>STANDARD</StorageClass>\n"
                       "    </Contents>\n"
                       "    <CommonPrefixes><Prefix>photos/</Prefix></CommonPrefixes>\n"
                       "</ListBucketResult>\n";
    struct s3_resp_list l;
    CHECK_EQ(list(body, &l), 0);
    CHECK_EQ(l.n, 2);
    CHECK(!l.truncated);
    CHECK_STR(l.next_token, "");
    CHECK_STR(l.v[0].key, "my-image.jpg");
    CHECK_EQ(l.v[0].size, 434234);
    CHECK_STR(l.v[0].etag, "\"fba9dede5f27731c9771645a39863328\"");
    CHECK_EQ(l.v[0].modified_ms, INT64_C(1255369830000));
    CHECK_STR(l.v[1].key, "my-zipped-file.zip");
    CHECK_EQ(l.v[1].size, 13);
    CHECK_STR(l.v[1].etag, "\"fba9dede5f27731c9771645a39863328-2\"");
    CHECK_EQ(l.v[1].modified_ms, INT64_C(1255369830000));
    s3_resp_list_free(&l);
    CHECK(is_zero(&l, sizeof(l)));
    s3_resp_list_free(&l); /* twice is fine */

    /* A truncated page and its token, as ListObjectsV2 documents it. */
    body = "<ListBucketResult " NS "><Name>quotes</Name><Prefix>E</Prefix><StartAfter>ExampleGuide.pdf</StartAfter>"
           "<KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated>"
           "<ContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</ContinuationToken>"
           "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
           "<Contents><Key>ExampleObject.txt</Key><LastModified>2013-09-17T18:07:53.000Z</LastModified>"
           "<ETag>\"599bab3ed2c697f1d26842727561fd94\"</ETag><Size>857</Size>"
           "<StorageClass>REDUCED_REDUNDANCY</StorageClass></Contents></ListBucketResult>";
    CHECK_EQ(list(body, &l), 0);
    CHECK(l.truncated);
    CHECK_STR(l.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    CHECK_EQ(l.n, 1);
    CHECK_STR(l.v[0].key, "ExampleObject.txt");
    s3_resp_list_free(&l);

    /* An empty listing: no Contents at all. */
    CHECK_EQ(list("<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount></ListBucketResult>", &l),
             0);
    CHECK_EQ(l.n, 0);
    CHECK(l.v == NULL);
    s3_resp_list_free(&l);
}

static void test_aws_results(void)
{
    char tag[S3_RESP_ETAG_MAX], id[S3_RESP_ID_MAX];
    CHECK_EQ(etag("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult " NS ">\n"
                  "  <Location>http://Example-Bucket.s3.us-east-1.amazonaws.com/Example-Object</Location>\n"
                  "  <Bucket>Example-Bucket</Bucket>\n  <Key>Example-Object</Key>\n"
                  "  <ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>\n</CompleteMultipartUploadResult>",
                  "CompleteMultipartUploadResult", tag),
             0);
    CHECK_STR(tag, "\"3858f62230ac3c915f300c664312c11f-9\"");
    CHECK_EQ(etag("<CopyObjectResult><LastModified>2009-10-28T22:32:00</LastModified>"
                  "<ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyObjectResult>",
                  "CopyObjectResult", tag),
             0);
    CHECK_STR(tag, "\"9b2cf535f27731c974343645a3985328\"");
    CHECK_EQ(etag("<CopyPartResult><LastModified>2011-04-11T20:34:56.000Z</LastModified>"
                  "<ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyPartResult>",
                  "CopyPartResult", tag),
             0);
    CHECK_STR(tag, "\"9b2cf535f27731c974343645a3985328\"");
    CHECK_EQ(initiate("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult " NS ">\n"
                      "  <Bucket>example-bucket</Bucket>\n  <Key>example-object</Key>\n"
                      "  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>\n"
                      "</InitiateMultipartUploadResult>",
                      id),
             0);
    CHECK_STR(id, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");

    /* Each document is only itself. */
    CHECK_EQ(etag("<CopyPartResult><ETag>\"e\"</ETag></CopyPartResult>", "CopyObjectResult", tag), -EPROTO);
    CHECK(is_zero(tag, sizeof(tag)));
    CHECK_EQ(etag("<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>", "CompleteMultipartUploadResult", tag),
             -EPROTO);
    CHECK_EQ(initiate("<InitiateMultipartUpload><UploadId>x</UploadId></InitiateMultipartUpload>", id), -EPROTO);
    CHECK(is_zero(id, sizeof(id)));
}

struct delete_errors {
    int n;
    char seen[256];
};

static void delete_error(void *arg, const char *key, const char *code)
{
    struct delete_errors *d = arg;
    size_t at = strlen(d->seen);
    snprintf(d->seen + at, sizeof(d->seen) - at, "%s%s=%s", d->n++ ? "," : "", key, code);
}

/* DeleteObjects' answer: quiet (errors only) as AWS writes it, verbose with Deleted entries (skipped), keys with
 * escapes kept byte for byte; an Error without its Code, or another document, is no answer. */
static void test_delete_result(void)
{
    static const char aws[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteResult " NS ">\n"
        "  <Deleted><Key>sample1.txt</Key></Deleted>\n"
        "  <Error>\n    <Key>sample2 &amp; &lt;x&gt;.txt</Key>\n    <Code>AccessDenied</Code>\n"
        "    <Message>Access Denied</Message>\n  </Error>\n"
        "  <Error><Key>\xc3\xbc</Key><Code> InternalError </Code></Error>\n</DeleteResult>";
    struct delete_errors d = {0};
    CHECK_EQ(s3_resp_parse_delete(aws, sizeof(aws) - 1, delete_error, &d), 0);
    CHECK_EQ(d.n, 2);
    CHECK_STR(d.seen, "sample2 & <x>.txt=AccessDenied,\xc3\xbc=InternalError");

    static const char quiet_ok[] = "<DeleteResult " NS "></DeleteResult>";
    d = (struct delete_errors){0};
    CHECK_EQ(s3_resp_parse_delete(quiet_ok, sizeof(quiet_ok) - 1, delete_error, &d), 0);
    CHECK_EQ(d.n, 0);

    static const char no_code[] = "<DeleteResult><Error><Key>k</Key></Error></DeleteResult>";
    CHECK_EQ(s3_resp_parse_delete(no_code, sizeof(no_code) - 1, delete_error, &d), -EPROTO);
    static const char other[] = "<Error><Code>SlowDown</Code></Error>";
    CHECK_EQ(s3_resp_parse_delete(other, sizeof(other) - 1, delete_error, &d), -EPROTO);
}

static void test_aws_error(void)
{
    struct s3_resp_error e;
    const char *body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>NoSuchKey</Code>\n"
                       "  <Message>The resource you requested does not exist</Message>\n"
                       "  <Resource>/mybucket/myfoto.jpg</Resource>\n  <RequestId>4442587FB7D0A2F9</RequestId>\n"
                       "</Error>";
    CHECK(is_error(body));
    CHECK_EQ(error(body, &e), 0);
    CHECK_STR(e.code, "NoSuchKey");
    CHECK_STR(e.message, "The resource you requested does not exist");

    /* Message is optional; Code is not, nor may it be empty. */
    CHECK_EQ(error("<Error><Code>SlowDown</Code></Error>", &e), 0);
    CHECK_STR(e.code, "SlowDown");
    CHECK_STR(e.message, "");
    CHECK_EQ(error("<Error><Message>no code</Message></Error>", &e), -EPROTO);
    CHECK(is_zero(&e, sizeof(e)));
    CHECK_EQ(error("<Error><Code> </Code></Error>", &e), -EPROTO);
    CHECK_EQ(error("<Error><Code>A</Code><Code>B</Code></Error>", &e), -EPROTO);
    CHECK_EQ(error("<ListBucketResult><Code>A</Code></ListBucketResult>", &e), -EPROTO);
    /* Whitespace around both is not theirs; entities are decoded. */
    CHECK_EQ(error("<Error>\n<Code>\n\tAccessDenied\n</Code><Message> Access &amp; Denied </Message></Error>", &e), 0);
    CHECK_STR(e.code, "AccessDenied");
    CHECK_STR(e.message, "Access & Denied");
}

/* CompleteMultipartUpload (and CopyObject) may answer 200 and put the failure in the body. */
static void test_error_in_200(void)
{
    const char *body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<Error><Code>InternalError</Code>"
                       "<Message>We encountered an internal error. Please try again.</Message>"
                       "<RequestId>656c76696e6727732072657175657374</RequestId>"
                       "<HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>";
    char tag[S3_RESP_ETAG_MAX];
    struct s3_resp_error e;
    CHECK(is_error(body));
    CHECK_EQ(etag(body, "CompleteMultipartUploadResult", tag), -EPROTO);
    CHECK_EQ(error(body, &e), 0);
    CHECK_STR(e.code, "InternalError");

    const char *ok = "<CompleteMultipartUploadResult " NS "><ETag>\"a-2\"</ETag></CompleteMultipartUploadResult>";
    CHECK(!is_error(ok));
    CHECK_EQ(error(ok, &e), -EPROTO);

    /* is_error looks at the root only: a namespace does not matter, what follows the start tag is not read, and
     * an Error anywhere but at the root is no error document. */
    CHECK(is_error("<Error " NS "><Code>X</Code></Error>"));
    CHECK(is_error("<p:Error xmlns:p=\"urn:x\">"));
    CHECK(is_error("  <Error><Code>truncated bo"));
    CHECK(!is_error("<ErrorX/>"));
    CHECK(!is_error("<error/>"));
    CHECK(!is_error("<Result><Error><Code>X</Code></Error></Result>"));
    CHECK(!is_error(""));
    CHECK(!is_error("not xml"));
    CHECK(!is_error("<!DOCTYPE Error><Error><Code>X</Code></Error>"));
}

/* ---- moto 5.2.1, captured from moto_server with boto3 (verbatim) ---- */

static const char moto_list_url[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><IsTruncated>false</IsTruncated><Contents>"
    "<Key>a.txt</Key><LastModified>2026-11-25T17:09:24.000Z</LastModified><ETag>\"5d41402abc4b2a76b9719d911017c592\""
    "</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>5</Size><StorageClass>STANDARD</StorageClass>"
    "</Contents><Contents><Key>dir/b%20c.txt</Key><LastModified>2026-11-25T17:09:24.000Z</LastModified><ETag>"
    "\"5d41402abc4b2a76b9719d911017c592\"</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>5</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents><Contents><Key>dir/x%2By%26z%3Cq%3E</Key><LastModified>"
    "2026-11-25T17:09:24.000Z</LastModified><ETag>\"5d41402abc4b2a76b9719d911017c592\"</ETag><ChecksumAlgorithm>"
    "CRC32</ChecksumAlgorithm><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>"
    "%C3%A9%20%C3%BC/%D0%BA%D0%BB%D1%8E%D1%87</Key><LastModified>2026-11-25T17:09:24.000Z</LastModified><ETag>"
    "\"5d41402abc4b2a76b9719d911017c592\"</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>5</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents><Name>bkt</Name><Prefix/><MaxKeys>1000</MaxKeys><EncodingType>"
    "url</EncodingType><KeyCount>4</KeyCount></ListBucketResult>";

static const char moto_list_raw_truncated[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><IsTruncated>true</IsTruncated><Contents>"
    "<Key>copy</Key><LastModified>2026-11-25T17:09:24.000Z</LastModified><ETag>\"5d41402abc4b2a76b9719d911017c592\""
    "</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>5</Size><StorageClass>STANDARD</StorageClass>"
    "</Contents><Name>bkt</Name><Prefix/><MaxKeys>1</MaxKeys><KeyCount>1</KeyCount><NextContinuationToken>"
    "12cba3ee81cf4a793796a51b6327c678</NextContinuationToken><StartAfter>a.txt</StartAfter></ListBucketResult>";

static const char moto_list_delimiter[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><IsTruncated>false</IsTruncated><Contents>"
    "<Key>a.txt</Key><LastModified>2026-11-25T17:09:24.000Z</LastModified><ETag>\"5d41402abc4b2a76b9719d911017c592\""
    "</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>5</Size><StorageClass>STANDARD</StorageClass>"
    "</Contents><Name>bkt</Name><Prefix/><Delimiter>/</Delimiter><MaxKeys>1000</MaxKeys><CommonPrefixes><Prefix>"
    "dir/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>%C3%A9%20%C3%BC/</Prefix></CommonPrefixes><EncodingType>"
    "url</EncodingType><KeyCount>3</KeyCount></ListBucketResult>";

static void test_moto_list(void)
{
    struct s3_resp_list l;
    CHECK_EQ(s3_resp_parse_list(moto_list_url, sizeof(moto_list_url) - 1, &l), 0);
    CHECK_EQ(l.n, 4);
    CHECK(!l.truncated);
    if (l.n == 4) {
        /* EncodingType comes after the keys: they are decoded all the same. */
        CHECK_STR(l.v[0].key, "a.txt");
        CHECK_STR(l.v[1].key, "dir/b c.txt");
        CHECK_STR(l.v[2].key, "dir/x+y&z<q>");
        CHECK_STR(l.v[3].key, "\xc3\xa9 \xc3\xbc/\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87");
        for (size_t i = 0; i < 4; i++) {
            CHECK_EQ(l.v[i].size, 5);
            CHECK_STR(l.v[i].etag, "\"5d41402abc4b2a76b9719d911017c592\"");
            CHECK_EQ(l.v[i].modified_ms, INT64_C(1795626564000));
        }
    }
    s3_resp_list_free(&l);

    /* Without encoding-type the keys are XML text; a page of one key, truncated, with its token. */
    CHECK_EQ(s3_resp_parse_list(moto_list_raw_truncated, sizeof(moto_list_raw_truncated) - 1, &l), 0);
    CHECK_EQ(l.n, 1);
    CHECK(l.truncated);
    CHECK_STR(l.next_token, "12cba3ee81cf4a793796a51b6327c678");
    CHECK_STR(l.v[0].key, "copy");
    s3_resp_list_free(&l);

    /* CommonPrefixes are not entries. */
    CHECK_EQ(s3_resp_parse_list(moto_list_delimiter, sizeof(moto_list_delimiter) - 1, &l), 0);
    CHECK_EQ(l.n, 1);
    CHECK_STR(l.v[0].key, "a.txt");
    s3_resp_list_free(&l);

    /* Keys that need escaping in XML, as moto sends them without encoding-type. */
    char key[64];
    CHECK_EQ(one_key("dir/x+y&amp;z&lt;q&gt;", false, key, sizeof(key)), 0);
    CHECK_STR(key, "dir/x+y&z<q>");
}

static void test_moto_results(void)
{
    char tag[S3_RESP_ETAG_MAX], id[S3_RESP_ID_MAX];
    struct s3_resp_error e;
    /* moto names Complete's document ...Response, not ...Result. */
    CHECK_EQ(etag("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<CompleteMultipartUploadResponse "
                  "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Location>http://bkt.s3.amazonaws.com/mp"
                  "</Location><Bucket>bkt</Bucket><Key>mp</Key><ETag>\"bfdfcf139a14be381f52a471f7239743-2\"</ETag>"
                  "</CompleteMultipartUploadResponse>",
                  "CompleteMultipartUploadResult", tag),
             0);
    CHECK_STR(tag, "\"bfdfcf139a14be381f52a471f7239743-2\"");
    /* ...only for Complete. */
    CHECK_EQ(etag("<CopyObjectResponse><ETag>\"e\"</ETag></CopyObjectResponse>", "CopyObjectResult", tag), -EPROTO);
    CHECK_EQ(etag("<CompleteMultipartUploadResponse><ETag>\"e\"</ETag></CompleteMultipartUploadResponse>",
                  "CopyObjectResult", tag),
             -EPROTO);

    CHECK_EQ(etag("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<CopyObjectResult "
                  "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><ETag>\"5d41402abc4b2a76b9719d911017c592\""
                  "</ETag><LastModified>2026-11-25T17:09:24.000Z</LastModified><ChecksumCRC32>NhCmhg==</ChecksumCRC32>"
                  "</CopyObjectResult>",
                  "CopyObjectResult", tag),
             0);
    CHECK_STR(tag, "\"5d41402abc4b2a76b9719d911017c592\"");
    CHECK_EQ(etag("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<CopyPartResult "
                  "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><ETag>\"5d41402abc4b2a76b9719d911017c592\""
                  "</ETag><LastModified>2026-11-25T17:09:24.000Z</LastModified></CopyPartResult>",
                  "CopyPartResult", tag),
             0);
    CHECK_EQ(initiate("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<InitiateMultipartUploadResult "
                      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>bkt</Bucket><Key>mp</Key><UploadId>"
                      "DvcfoV2640Tp2ML5zBfduAHfNwr7uyhvxLfpBSvxe2xhw1DLkfnkkw</UploadId>"
                      "</InitiateMultipartUploadResult>",
                      id),
             0);
    CHECK_STR(id, "DvcfoV2640Tp2ML5zBfduAHfNwr7uyhvxLfpBSvxe2xhw1DLkfnkkw");

    const char *nosuchkey = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Error><Code>NoSuchKey</Code><Message>"
                            "The specified key does not exist.</Message><Key>missing</Key><RequestId>"
                            "9nvDIz3DZ74g3WoTAR4G0kfdfxSluGKRdNGYWFsRmFTzq9a5TdoS</RequestId><HostId>"
                            "9Gjjt1m+cjU4OPvX9O9/8RuvnG41MRb/18Oux2o5H5MY7ISNTlXN+Dz9IG62/ILVxhAGI0qyPfg=</HostId>"
                            "</Error>";
    CHECK(is_error(nosuchkey));
    CHECK_EQ(error(nosuchkey, &e), 0);
    CHECK_STR(e.code, "NoSuchKey");
    CHECK_STR(e.message, "The specified key does not exist.");
    const char *invalid_part =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Error><Code>InvalidPart</Code><Message>One or more of the "
        "specified parts could not be found. The part might not have been uploaded, or the specified entity tag "
        "might not have matched the part's entity tag.</Message><RequestId>"
        "DOQHjPEOj11Y1L7gxo52fVPSuxzsxUZJlo7k4QBj3HsR5AHBZ5HV</RequestId><HostId>"
        "9Gjjt1m+cjU4OPvX9O9/8RuvnG41MRb/18Oux2o5H5MY7ISNTlXN+Dz9IG62/ILVxhAGI0qyPfg=</HostId></Error>";
    CHECK_EQ(error(invalid_part, &e), 0);
    CHECK_STR(e.code, "InvalidPart");

    /* moto answers Complete for an unknown upload id with a 500 and an HTML page: no error document. */
    const char *html = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
                       "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable "
                       "to complete your request. Either the server is overloaded or there is an error in the "
                       "application.</p>\n";
    CHECK(!is_error(html));
    CHECK_EQ(error(html, &e), -EPROTO);
    CHECK_EQ(etag(html, "CompleteMultipartUploadResult", tag), -EPROTO);
}

/* ---- MinIO's shapes: Go's encoder writes &#34; for quotes and Owner blocks; prefixed namespaces ---- */

static void test_minio(void)
{
    const char *body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult " NS "><Name>b</Name><Prefix></Prefix>"
        "<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><Delimiter></Delimiter><IsTruncated>false</IsTruncated>"
        "<Contents><Key>a</Key><LastModified>2024-02-29T12:00:00.678Z</LastModified>"
        "<ETag>&#34;d41d8cd98f00b204e9800998ecf8427e&#34;</ETag><Size>0</Size><Owner><ID>02d6176db174dc93cb1b899f7c6"
        "078f08654445fe8cf1b6ce98d8855f66bdbf4</ID><DisplayName>minio</DisplayName></Owner>"
        "<StorageClass>STANDARD</StorageClass></Contents>"
        "<Contents><Key>b/c</Key><LastModified>2024-02-29T12:00:00Z</LastModified>"
        "<ETag>&#34;0123-3&#34;</ETag><Size>15728640</Size><StorageClass>STANDARD</StorageClass></Contents>"
        "<EncodingType></EncodingType></ListBucketResult>";
    struct s3_resp_list l;
    CHECK_EQ(list(body, &l), 0);
    CHECK_EQ(l.n, 2);
    if (l.n == 2) {
        CHECK_STR(l.v[0].etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
        CHECK_EQ(l.v[0].size, 0);
        CHECK_EQ(l.v[0].modified_ms, INT64_C(1709208000678));
        CHECK_STR(l.v[1].key, "b/c");
        CHECK_EQ(l.v[1].size, 15728640);
        CHECK_EQ(l.v[1].modified_ms, INT64_C(1709208000000));
    }
    s3_resp_list_free(&l);

    /* A prefixed namespace, or another namespace altogether: local names are what count. */
    CHECK_EQ(list("<s3:ListBucketResult xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\"><s3:IsTruncated>true"
                  "</s3:IsTruncated><s3:Contents><s3:Key>k</s3:Key></s3:Contents></s3:ListBucketResult>",
                  &l),
             0);
    CHECK(l.truncated);
    CHECK_EQ(l.n, 1);
    s3_resp_list_free(&l);
    char tag[S3_RESP_ETAG_MAX];
    CHECK_EQ(etag("<CopyObjectResult xmlns=\"urn:other\"><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
                  "<ETag>&#34;e&#34;</ETag></CopyObjectResult>",
                  "CopyObjectResult", tag),
             0);
    CHECK_STR(tag, "\"e\"");

    struct s3_resp_error e;
    CHECK_EQ(error("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified "
                   "key does not exist.</Message><Key>x</Key><BucketName>b</BucketName><Resource>/b/x</Resource>"
                   "<RequestId>17A1B2C3D4E5F607</RequestId><HostId>dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b"
                   "658df7ac2e3e8</HostId></Error>",
                   &e),
             0);
    CHECK_STR(e.code, "NoSuchKey");
}

/* ---- keys ---- */

static void test_keys_exact(void)
{
    char key[64];
    /* Byte for byte: whitespace kept, entities, character references and CDATA decoded. */
    CHECK_EQ(one_key("  spaced \t key  ", false, key, sizeof(key)), 0);
    CHECK_STR(key, "  spaced \t key  ");
    CHECK_EQ(one_key("a&amp;b&#13;&#x41;<![CDATA[<c>]]>", false, key, sizeof(key)), 0);
    CHECK_STR(key, "a&b\rA<c>");
    CHECK_EQ(one_key("%41+b", false, key, sizeof(key)), 0);
    CHECK_STR(key, "%41+b"); /* not encoded: kept as it is */
    /* Not empty, no markup inside. */
    CHECK_EQ(one_key("", false, key, sizeof(key)), -EPROTO);
    CHECK_EQ(one_key("a<b/>c", false, key, sizeof(key)), -EPROTO);
    struct s3_resp_list l;
    CHECK_EQ(list(LIST_HEAD "<Contents><Size>1</Size></Contents>" LIST_TAIL, &l), -EPROTO);
    CHECK(is_zero(&l, sizeof(l)));
    CHECK_EQ(list(LIST_HEAD "<Contents><Key>a</Key><Key>b</Key></Contents>" LIST_TAIL, &l), -EPROTO);
    CHECK_EQ(list(LIST_HEAD "<Contents><Key>a</Key><Size>1</Size><Size>2</Size></Contents>" LIST_TAIL, &l),
             -EPROTO);
    /* Unknown elements, however deep, are skipped. */
    CHECK_EQ(list(LIST_HEAD "<Contents><Key>a</Key><Future><Key>x</Key><Size>no</Size></Future></Contents>"
                            "<Extra><Contents/></Extra>" LIST_TAIL,
                  &l),
             0);
    CHECK_EQ(l.n, 1);
    CHECK_STR(l.v[0].key, "a");
    CHECK_EQ(l.v[0].size, 0);
    CHECK_STR(l.v[0].etag, "");
    CHECK_EQ(l.v[0].modified_ms, 0);
    s3_resp_list_free(&l);
}

static void test_keys_url(void)
{
    char key[64];
    CHECK_EQ(one_key("a%20b+c%2Bd%2fe", true, key, sizeof(key)), 0);
    CHECK_STR(key, "a b c+d/e"); /* "+" is a space, as botocore's unquote_plus reads it */
    CHECK_EQ(one_key("%e2%82%AC", true, key, sizeof(key)), 0);
    CHECK_STR(key, "\xe2\x82\xac");
    CHECK_EQ(one_key("a%00b", true, key, sizeof(key)), -EPROTO); /* keys are C strings */
    CHECK_EQ(one_key("a%G0", true, key, sizeof(key)), -EPROTO);
    CHECK_EQ(one_key("a%4", true, key, sizeof(key)), -EPROTO);
    CHECK_EQ(one_key("a%", true, key, sizeof(key)), -EPROTO);

    /* EncodingType before the keys, in any case; an empty one is none; an unknown one cannot be read. */
    struct s3_resp_list l;
    CHECK_EQ(list("<ListBucketResult><EncodingType> URL </EncodingType><IsTruncated>false</IsTruncated>"
                  "<Contents><Key>%41</Key></Contents></ListBucketResult>",
                  &l),
             0);
    CHECK_STR(l.v[0].key, "A");
    s3_resp_list_free(&l);
    CHECK_EQ(list(LIST_HEAD "<EncodingType/><Contents><Key>%41</Key></Contents>" LIST_TAIL, &l), 0);
    CHECK_STR(l.v[0].key, "%41");
    s3_resp_list_free(&l);
    CHECK_EQ(list(LIST_HEAD "<EncodingType>base64</EncodingType><Contents><Key>QQ==</Key></Contents>" LIST_TAIL, &l),
             -EPROTO);
    CHECK_EQ(list(LIST_HEAD "<EncodingType>url</EncodingType><EncodingType>url</EncodingType>" LIST_TAIL, &l),
             -EPROTO);
}

/* Keys of S3_KEY_MAX bytes and one more, plain and url-encoded (three bytes a byte). */
static void test_key_limits(void)
{
    const char *plain = LIST_HEAD "<Contents><Key>%s</Key></Contents>" LIST_TAIL;
    const char *url = LIST_HEAD "<Contents><Key>%s</Key></Contents><EncodingType>url</EncodingType>" LIST_TAIL;
    struct s3_resp_list l;
    char *body = body_with(plain, 'k', S3_KEY_MAX);
    CHECK_EQ(list(body, &l), 0);
    CHECK_EQ(l.n == 1 ? strlen(l.v[0].key) : 0, S3_KEY_MAX);
    s3_resp_list_free(&l);
    free(body);
    body = body_with(plain, 'k', S3_KEY_MAX + 1);
    CHECK_EQ(list(body, &l), -EPROTO);
    free(body);

    /* "%7E" 1024 times decodes to 1024 bytes; an encoded key is allowed its three bytes a byte, no more. */
    char *enc = malloc(3 * (S3_KEY_MAX + 1) + 1);
    CHECK(enc != NULL);
    if (!enc)
        return;
    for (size_t i = 0; i <= S3_KEY_MAX; i++)
        memcpy(enc + 3 * i, "%7E", 3);
    enc[3 * S3_KEY_MAX] = '\0';
    CHECK(asprintf(&body, url, enc) > 0);
    CHECK_EQ(list(body, &l), 0);
    CHECK_EQ(l.n == 1 ? strlen(l.v[0].key) : 0, S3_KEY_MAX);
    CHECK(l.n == 1 && l.v[0].key[0] == '~' && l.v[0].key[S3_KEY_MAX - 1] == '~');
    s3_resp_list_free(&l);
    free(body);
    enc[3 * S3_KEY_MAX] = '%';
    enc[3 * (S3_KEY_MAX + 1)] = '\0';
    CHECK(asprintf(&body, url, enc) > 0);
    CHECK_EQ(list(body, &l), -EPROTO);
    free(body);
    /* Within the encoded cap but over S3_KEY_MAX decoded: bytes sent as they are count one each. */
    enc[3 * S3_KEY_MAX] = '\0';
    enc[0] = 'x', enc[1] = 'y', enc[2] = 'z'; /* 1026 bytes decoded */
    CHECK(asprintf(&body, url, enc) > 0);
    CHECK_EQ(list(body, &l), -EPROTO);
    free(body);
    free(enc);
}

/* ---- limits ---- */

static void test_entry_limit(void)
{
    const char *item = "<Contents><Key>key-%04d</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
                       "<ETag>\"e\"</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>";
    size_t len;
    struct s3_resp_list l;
    char *body = repeat_body(LIST_HEAD, item, S3_RESP_LIST_MAX, LIST_TAIL, &len);
    CHECK_EQ(s3_resp_parse_list(body, len, &l), 0);
    CHECK_EQ(l.n, S3_RESP_LIST_MAX);
    CHECK_STR(l.v[0].key, "key-0001");
    CHECK_STR(l.v[S3_RESP_LIST_MAX - 1].key, "key-1000");
    s3_resp_list_free(&l);
    free(body);
    body = repeat_body(LIST_HEAD, item, S3_RESP_LIST_MAX + 1, LIST_TAIL, &len);
    CHECK_EQ(s3_resp_parse_list(body, len, &l), -EPROTO);
    CHECK(is_zero(&l, sizeof(l)));
    free(body);
}

/* Each fixed-size field at its buffer's length less the NUL, then one byte more. */
static void test_field_limits(void)
{
    struct s3_resp_error e;
    char tag[S3_RESP_ETAG_MAX], id[S3_RESP_ID_MAX];
    struct s3_resp_list l;
    char *b;

    b = body_with("<Error><Code>%s</Code></Error>", 'C', S3_RESP_CODE_MAX - 1);
    CHECK_EQ(error(b, &e), 0);
    CHECK_EQ(strlen(e.code), S3_RESP_CODE_MAX - 1);
    free(b);
    b = body_with("<Error><Code>%s</Code></Error>", 'C', S3_RESP_CODE_MAX);
    CHECK_EQ(error(b, &e), -EPROTO);
    CHECK(is_zero(&e, sizeof(e)));
    free(b);

    b = body_with("<Error><Code>C</Code><Message>%s</Message></Error>", 'm', S3_RESP_MESSAGE_MAX - 1);
    CHECK_EQ(error(b, &e), 0);
    CHECK_EQ(strlen(e.message), S3_RESP_MESSAGE_MAX - 1);
    free(b);
    b = body_with("<Error><Code>C</Code><Message>%s</Message></Error>", 'm', S3_RESP_MESSAGE_MAX);
    CHECK_EQ(error(b, &e), -EPROTO);
    free(b);

    b = body_with("<InitiateMultipartUploadResult><UploadId>%s</UploadId></InitiateMultipartUploadResult>", 'u',
                  S3_RESP_ID_MAX - 1);
    CHECK_EQ(initiate(b, id), 0);
    CHECK_EQ(strlen(id), S3_RESP_ID_MAX - 1);
    free(b);
    b = body_with("<InitiateMultipartUploadResult><UploadId>%s</UploadId></InitiateMultipartUploadResult>", 'u',
                  S3_RESP_ID_MAX);
    CHECK_EQ(initiate(b, id), -EPROTO);
    CHECK(is_zero(id, sizeof(id)));
    free(b);

    b = body_with("<CopyPartResult><ETag>%s</ETag></CopyPartResult>", 'e', S3_RESP_ETAG_MAX - 1);
    CHECK_EQ(etag(b, "CopyPartResult", tag), 0);
    CHECK_EQ(strlen(tag), S3_RESP_ETAG_MAX - 1);
    free(b);
    b = body_with("<CopyPartResult><ETag>%s</ETag></CopyPartResult>", 'e', S3_RESP_ETAG_MAX);
    CHECK_EQ(etag(b, "CopyPartResult", tag), -EPROTO);
    free(b);

    b = body_with(LIST_HEAD "<Contents><Key>k</Key><ETag>%s</ETag></Contents>" LIST_TAIL, 'e', S3_RESP_ETAG_MAX - 1);
    CHECK_EQ(list(b, &l), 0);
    s3_resp_list_free(&l);
    free(b);
    b = body_with(LIST_HEAD "<Contents><Key>k</Key><ETag>%s</ETag></Contents>" LIST_TAIL, 'e', S3_RESP_ETAG_MAX);
    CHECK_EQ(list(b, &l), -EPROTO);
    free(b);

    b = body_with(LIST_HEAD "<NextContinuationToken>%s</NextContinuationToken>" LIST_TAIL, 't', S3_RESP_TOKEN_MAX - 1);
    CHECK_EQ(list(b, &l), 0);
    CHECK_EQ(strlen(l.next_token), S3_RESP_TOKEN_MAX - 1);
    s3_resp_list_free(&l);
    free(b);
    b = body_with(LIST_HEAD "<NextContinuationToken>%s</NextContinuationToken>" LIST_TAIL, 't', S3_RESP_TOKEN_MAX);
    CHECK_EQ(list(b, &l), -EPROTO);
    free(b);

    /* Ids and tokens are opaque: whitespace in them is kept, and counts. */
    CHECK_EQ(initiate("<InitiateMultipartUploadResult><UploadId> id </UploadId></InitiateMultipartUploadResult>", id),
             0);
    CHECK_STR(id, " id ");
    CHECK_EQ(initiate("<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>", id),
             -EPROTO);
    CHECK_EQ(initiate("<InitiateMultipartUploadResult><Bucket>b</Bucket></InitiateMultipartUploadResult>", id),
             -EPROTO);
    CHECK_EQ(etag("<CopyPartResult><ETag>  </ETag></CopyPartResult>", "CopyPartResult", tag), -EPROTO);
    CHECK_EQ(etag("<CopyPartResult><ETag>\"a\"</ETag><ETag>\"b\"</ETag></CopyPartResult>", "CopyPartResult", tag),
             -EPROTO);
}

static void test_depth(void)
{
    /* 16 open elements, the root included, is the most; unknown elements count. */
    char body[1024], tag[S3_RESP_ETAG_MAX];
    size_t n = (size_t)snprintf(body, sizeof(body), "<CopyObjectResult><ETag>e</ETag>");
    for (int i = 0; i < 15; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "<x>");
    for (int i = 0; i < 15; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "</x>");
    snprintf(body + n, sizeof(body) - n, "</CopyObjectResult>");
    CHECK_EQ(etag(body, "CopyObjectResult", tag), 0);
    n = (size_t)snprintf(body, sizeof(body), "<CopyObjectResult><ETag>e</ETag>");
    for (int i = 0; i < 16; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "<x>");
    for (int i = 0; i < 16; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "</x>");
    snprintf(body + n, sizeof(body) - n, "</CopyObjectResult>");
    CHECK_EQ(etag(body, "CopyObjectResult", tag), -EPROTO);
}

static void test_doctype(void)
{
    struct s3_resp_list l;
    struct s3_resp_error e;
    char tag[S3_RESP_ETAG_MAX];
    const char *laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                         "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
                         "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>\n"
                         "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>&lol3;</Key></Contents>"
                         "</ListBucketResult>";
    CHECK_EQ(list(laughs, &l), -EPROTO);
    CHECK_EQ(error("<!DOCTYPE Error SYSTEM \"file:///etc/passwd\"><Error><Code>X</Code></Error>", &e), -EPROTO);
    CHECK_EQ(etag("<!DOCTYPE CopyObjectResult><CopyObjectResult><ETag>e</ETag></CopyObjectResult>",
                  "CopyObjectResult", tag),
             -EPROTO);
    /* Undeclared entities are not well-formed anyway. */
    CHECK_EQ(error("<Error><Code>&xxe;</Code></Error>", &e), -EPROTO);
}

/* A document padded with whitespace to the cap parses; one byte more is -E2BIG for every parser. */
static void test_body_cap(void)
{
    const char *doc = "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key></Contents>"
                      "</ListBucketResult>";
    char *big = malloc(S3_RESP_BODY_MAX + 1);
    CHECK(big != NULL);
    if (!big)
        return;
    memset(big, ' ', S3_RESP_BODY_MAX + 1);
    memcpy(big, doc, strlen(doc));
    struct s3_resp_list l;
    CHECK_EQ(s3_resp_parse_list(big, S3_RESP_BODY_MAX, &l), 0);
    CHECK_EQ(l.n, 1);
    s3_resp_list_free(&l);
    CHECK_EQ(s3_resp_parse_list(big, S3_RESP_BODY_MAX + 1, &l), -E2BIG);
    CHECK(is_zero(&l, sizeof(l)));

    const char *err = "<Error><Code>X</Code></Error>";
    memset(big, ' ', S3_RESP_BODY_MAX + 1);
    memcpy(big, err, strlen(err));
    struct s3_resp_error e;
    CHECK(s3_resp_is_error(big, S3_RESP_BODY_MAX));
    CHECK_EQ(s3_resp_parse_error(big, S3_RESP_BODY_MAX, &e), 0);
    CHECK(!s3_resp_is_error(big, S3_RESP_BODY_MAX + 1));
    CHECK_EQ(s3_resp_parse_error(big, S3_RESP_BODY_MAX + 1, &e), -E2BIG);
    char tag[S3_RESP_ETAG_MAX], id[S3_RESP_ID_MAX];
    CHECK_EQ(s3_resp_parse_etag(big, S3_RESP_BODY_MAX + 1, "CopyObjectResult", tag), -E2BIG);
    CHECK_EQ(s3_resp_parse_initiate(big, S3_RESP_BODY_MAX + 1, id), -E2BIG);
    free(big);
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "",
        "not xml",
        "<ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated>",
        "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResul>",
        "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult><ListBucketResult/>",
        "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>trailing",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Contents></Key></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>\x80</Key></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>&#0;</Key></Contents></ListBucketResult>",
        "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>&#1;</Key></Contents></ListBucketResult>",
        "<ListBucketResult/>", /* IsTruncated is required */
        "<ListBucketResult><IsTruncated>false</IsTruncated><IsTruncated>true</IsTruncated></ListBucketResult>",
        "<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>",
        "<ListBucketResult><IsTruncated></IsTruncated></ListBucketResult>",
        ("<ListBucketResult><IsTruncated>false</IsTruncated><NextContinuationToken>a</NextContinuationToken>"
         "<NextContinuationToken>b</NextContinuationToken></ListBucketResult>"),
        "<ListVersionsResult><IsTruncated>false</IsTruncated></ListVersionsResult>",
        "<Error><Code>NoSuchBucket</Code></Error>",
    };
    struct s3_resp_list l;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = list(bad[i], &l);
        if (err != -EPROTO)
            fprintf(stderr, "    bad[%zu] = %d\n", i, err);
        CHECK_EQ(err, -EPROTO);
        CHECK(is_zero(&l, sizeof(l)));
    }
    /* A failure after entries were made frees them (valgrind sees to it). */
    CHECK_EQ(list(LIST_HEAD "<Contents><Key>a</Key></Contents><Contents><Key>b</Key><Size>x</Size></Contents>"
                            LIST_TAIL,
                  &l),
             -EPROTO);
    CHECK(is_zero(&l, sizeof(l)));
    CHECK_EQ(list(LIST_HEAD "<Contents><Key>a</Key></Contents><Contents><Key>b</Key></Contents>", &l), -EPROTO);
    CHECK(is_zero(&l, sizeof(l)));
    /* Truncated with true in any case, whitespace around it. */
    CHECK_EQ(list("<ListBucketResult><IsTruncated>\n TRUE \n</IsTruncated></ListBucketResult>", &l), 0);
    CHECK(l.truncated);
    s3_resp_list_free(&l);
    /* A declaration that names another encoding changes nothing: bodies are read as UTF-8. */
    CHECK_EQ(list("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><ListBucketResult><IsTruncated>false</IsTruncated>"
                  "<Contents><Key>\xc3\xa9</Key></Contents></ListBucketResult>",
                  &l),
             0);
    CHECK_STR(l.v[0].key, "\xc3\xa9");
    s3_resp_list_free(&l);
}

/* ---- numbers and dates ---- */

static void test_sizes(void)
{
    int64_t v;
    CHECK_EQ(one_size("0", &v), 0);
    CHECK_EQ(v, 0);
    CHECK_EQ(one_size(" \n\t42\r\n ", &v), 0);
    CHECK_EQ(v, 42);
    CHECK_EQ(one_size("0005", &v), 0);
    CHECK_EQ(v, 5);
    CHECK_EQ(one_size("5497558138880", &v), 0); /* 5 TiB, S3's largest object */
    CHECK_EQ(v, INT64_C(5497558138880));
    CHECK_EQ(one_size("9223372036854775807", &v), 0);
    CHECK_EQ(v, INT64_MAX);
    static const char *const bad[] = {
        "9223372036854775808", "18446744073709551616", "99999999999999999999999", "-1", "-0", "+1", "", " ",
        "1.5", "1e3", "0x10", "1 2", "12a",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int err = one_size(bad[i], &v);
        if (err != -EPROTO)
            fprintf(stderr, "    size \"%s\" = %d\n", bad[i], err);
        CHECK_EQ(err, -EPROTO);
    }
}

static void test_dates(void)
{
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = {
        { "1970-01-01T00:00:00Z", 0 },
        { "1970-01-01T00:00:00.001Z", 1 },
        { "1969-12-31T23:59:59.999Z", -1 },
        { "2009-10-12T17:50:30.000Z", INT64_C(1255369830000) },
        { "2009-10-12T17:50:30Z", INT64_C(1255369830000) },
        { " 2009-10-12T17:50:30.5Z\n", INT64_C(1255369830500) },
        { "2009-10-12T17:50:30.12Z", INT64_C(1255369830120) },
        { "2009-10-12T17:50:30.123456789Z", INT64_C(1255369830123) },
        { "2024-02-29T12:00:00.000Z", INT64_C(1709208000000) },
        { "2000-02-29T00:00:00Z", INT64_C(951782400000) },
        { "2000-03-01T00:00:00Z", INT64_C(951868800000) },
        { "1900-03-01T00:00:00Z", INT64_C(-2203891200000) },
        { "2026-11-25T17:09:24.000Z", INT64_C(1795626564000) },
        { "9999-12-31T23:59:59.999Z", INT64_C(253402300799999) },
        { "0001-01-01T00:00:00Z", INT64_C(-62135596800000) },
        { "0000-01-01T00:00:00Z", INT64_C(-62167219200000) },
        { "0000-03-01T00:00:00Z", INT64_C(-62162035200000) },
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int64_t ms;
        int err = one_time(good[i].text, &ms);
        if (err != 0 || ms != good[i].ms)
            fprintf(stderr, "    \"%s\": %d, %lld\n", good[i].text, err, (long long)ms);
        CHECK_EQ(err, 0);
        CHECK_EQ(ms, good[i].ms);
    }
    static const char *const bad[] = {
        "",
        "2009-10-12",
        "2009-10-12T17:50:30",       /* no zone: CopyObject's doc example, never a listing's */
        "2009-10-12T17:50:30.000",
        "2009-10-12T17:50:30+00:00",
        "2009-10-12T17:50:30.000+00:00",
        "2009-10-12T17:50:30z",
        "2009-10-12 17:50:30Z",
        "2009-10-12T17:50:30.Z",
        "2009-10-12T17:50:30.1234567890Z",
        "2009-10-12T17:50:30.12a4Z",
        "2009-10-12T17:50:30,000Z",
        "2009-13-12T17:50:30Z",
        "2009-00-12T17:50:30Z",
        "2009-10-00T17:50:30Z",
        "2009-10-32T17:50:30Z",
        "2009-04-31T17:50:30Z",
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2009-10-12T24:00:00Z",
        "2009-10-12T17:60:30Z",
        "2009-10-12T17:50:60Z",
        "-009-10-12T17:50:30Z",
        "+2009-10-12T17:50:30Z",
        "20091-10-12T17:50:30Z",
        "2009-1-12T17:50:30.00Z",
        "2009-10-12T17:50:3.000Z",
        "2009-10-12T17:50:30ZZ",
        "2009-10-12T17:50:30.000Z trailing",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms;
        int err = one_time(bad[i], &ms);
        if (err != -EPROTO)
            fprintf(stderr, "    date \"%s\" = %d\n", bad[i], err);
        CHECK_EQ(err, -EPROTO);
    }
}

int main(void)
{
    RUN(test_aws_list);
    RUN(test_aws_results);
    RUN(test_aws_error);
    RUN(test_delete_result);
    RUN(test_error_in_200);
    RUN(test_moto_list);
    RUN(test_moto_results);
    RUN(test_minio);
    RUN(test_keys_exact);
    RUN(test_keys_url);
    RUN(test_key_limits);
    RUN(test_entry_limit);
    RUN(test_field_limits);
    RUN(test_depth);
    RUN(test_doctype);
    RUN(test_body_cap);
    RUN(test_malformed);
    RUN(test_sizes);
    RUN(test_dates);
    return unit_finish("test_s3_resp_xml");
}
