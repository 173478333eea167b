/* XML request bodies (DeleteObjects, CompleteMultipartUpload, PutObjectTagging, CreateBucket) and the
 * x-amz-tagging header form: what S3 clients send, text kept byte-exact, and every limit and refusal. */
#include "s3/s3_xml_parse.h"
#include "unit.h"

#define NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

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

static enum s3_xml_parse_err del(const char *body, struct s3_delete_request *r)
{
    return s3_xml_parse_delete(body, strlen(body), r);
}

static enum s3_xml_parse_err cmp(const char *body, struct s3_complete_request *r)
{
    return s3_xml_parse_complete(body, strlen(body), r);
}

static enum s3_xml_parse_err tag(const char *body, struct s3_tagging *t)
{
    return s3_xml_parse_tagging(body, strlen(body), t);
}

static enum s3_xml_parse_err tagq(const char *q, struct s3_tagging *t)
{
    return s3_tagging_from_query(q, strlen(q), t);
}

/* The delete error for <Delete><Object><Key>KEY</Key></Object></Delete>, key kept in r on success. */
static enum s3_xml_parse_err del_key(const char *key_xml, struct s3_delete_request *r)
{
    char body[8192];
    snprintf(body, sizeof(body), "<Delete " NS "><Object><Key>%s</Key></Object></Delete>", key_xml);
    return del(body, r);
}

static bool is_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static void test_delete_boto3(void)
{
    struct s3_delete_request r;
    /* As botocore 1.43 serializes delete_objects. */
    const char *body = "<Delete " NS "><Object><Key>a b&amp;c&lt;d&gt;</Key></Object><Object><Key>x</Key>"
                       "<VersionId>v1</VersionId></Object><Quiet>true</Quiet></Delete>";
    CHECK_EQ(del(body, &r), S3_XML_OK);
    CHECK_EQ(r.n, 2);
    CHECK(r.quiet);
    CHECK_MEM(r.objects[0].key, r.objects[0].key_len, "a b&c<d>");
    CHECK(r.objects[0].version_id == NULL);
    CHECK_MEM(r.objects[1].key, r.objects[1].key_len, "x");
    CHECK_STR(r.objects[1].version_id, "v1");
    s3_delete_request_free(&r);
    CHECK(is_zero(&r, sizeof(r)));

    /* No namespace, an XML declaration, indentation, a prefixed namespace: all the same request. */
    CHECK_EQ(del("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete>\n  <Object>\n    <Key>k</Key>\n  </Object>\n"
                 "</Delete>\n",
                 &r),
             S3_XML_OK);
    CHECK_EQ(r.n, 1);
    CHECK(!r.quiet);
    CHECK_MEM(r.objects[0].key, r.objects[0].key_len, "k");
    s3_delete_request_free(&r);
    CHECK_EQ(del("<s3:Delete xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\"><s3:Object><s3:Key>k</s3:Key>"
                 "</s3:Object></s3:Delete>",
                 &r),
             S3_XML_OK);
    CHECK_EQ(r.n, 1);
    s3_delete_request_free(&r);
    /* A namespace URI holding the separator expat is given: expat refuses it (CVE-2022-25236). */
    CHECK_EQ(del("<Delete xmlns=\"urn:a&#10;b\"><Object><Key>k</Key></Object></Delete>", &r), S3_XML_MALFORMED);
    /* An encoding declaration other than UTF-8 does not matter for ASCII. */
    CHECK_EQ(del("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Delete><Object><Key>k</Key></Object></Delete>", &r),
             S3_XML_OK);
    s3_delete_request_free(&r);
}

static void test_delete_key_bytes(void)
{
    struct s3_delete_request r;
    static const struct {
        const char *xml, *key;
    } cases[] = {
        { "a&amp;b&lt;c&gt;d&quot;e&apos;f", "a&b<c>d\"e'f" },
        { "&#x41;&#66;&#xe9;", "AB\xc3\xa9" },
        { "<![CDATA[<x>&amp;]]>", "<x>&amp;" },
        { "pre<![CDATA[mid]]>post&amp;", "premidpost&" },
        { " a ", " a " },
        { "\n\t a\t\n", "\n\t a\t\n" },
        { "   ", "   " },
        { "\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80/x", "\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80/x" },
        { "a&#13;b", "a\rb" },
        { "a<!-- note -->b<?pi x?>c", "abc" },
        { "", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ(del_key(cases[i].xml, &r), S3_XML_OK);
        if (r.n == 1)
            CHECK_MEM(r.objects[0].key, r.objects[0].key_len, cases[i].key);
        s3_delete_request_free(&r);
    }
    CHECK_EQ(del("<Delete><Object><Key/></Object></Delete>", &r), S3_XML_OK);
    CHECK_EQ(r.objects[0].key_len, 0);
    CHECK_STR(r.objects[0].key, "");
    s3_delete_request_free(&r);
    /* Attributes are no part of the key. */
    CHECK_EQ(del("<Delete><Object a=\"1\"><Key b=\"2\">k</Key></Object></Delete>", &r), S3_XML_OK);
    CHECK_MEM(r.objects[0].key, r.objects[0].key_len, "k");
    s3_delete_request_free(&r);
}

/* expat hands text over in pieces at each entity: a key of 1024 of them is gathered whole, one more is too long. */
static void test_delete_key_split(void)
{
    struct s3_delete_request r;
    size_t len;
    char *body = repeat_body("<Delete><Object><Key>", "&amp;", 1024, "</Key></Object></Delete>", &len);
    CHECK(body != NULL);
    CHECK_EQ(s3_xml_parse_delete(body, len, &r), S3_XML_OK);
    CHECK_EQ(r.n, 1);
    CHECK_EQ(r.objects[0].key_len, 1024);
    CHECK(r.objects[0].key && r.objects[0].key[0] == '&' && r.objects[0].key[1023] == '&' && !r.objects[0].key[1024]);
    s3_delete_request_free(&r);
    free(body);

    body = repeat_body("<Delete><Object><Key>x", "&amp;", 1024, "</Key></Object></Delete>", &len);
    CHECK_EQ(s3_xml_parse_delete(body, len, &r), S3_XML_MALFORMED);
    CHECK(is_zero(&r, sizeof(r)));
    free(body);

    /* Alternating text, entities, character references and CDATA. */
    body = repeat_body("<Delete><Object><Key>", "a&lt;&#x62;<![CDATA[c]]>%d", 50, "</Key></Object></Delete>", &len);
    CHECK_EQ(s3_xml_parse_delete(body, len, &r), S3_XML_OK);
    char *want = repeat_body("", "a<bc%d", 50, "", &len);
    CHECK(r.n == 1 && want && r.objects[0].key_len == len && memcmp(r.objects[0].key, want, len) == 0);
    free(want);
    free(body);
    s3_delete_request_free(&r);

    char key[1100];
    memset(key, 'k', 1024);
    key[1024] = '\0';
    CHECK_EQ(del_key(key, &r), S3_XML_OK);
    CHECK_EQ(r.objects[0].key_len, 1024);
    s3_delete_request_free(&r);
    strcpy(key + 1024, "k");
    CHECK_EQ(del_key(key, &r), S3_XML_MALFORMED);
}

static void test_delete_quiet(void)
{
    struct s3_delete_request r;
    static const struct {
        const char *quiet;
        enum s3_xml_parse_err err;
        bool value;
    } cases[] = {
        { "<Quiet>true</Quiet>", S3_XML_OK, true },
        { "<Quiet>TRUE</Quiet>", S3_XML_OK, true },
        { "<Quiet> True\n</Quiet>", S3_XML_OK, true },
        { "<Quiet>false</Quiet>", S3_XML_OK, false },
        { "<Quiet>False</Quiet>", S3_XML_OK, false },
        { "", S3_XML_OK, false },
        { "<Quiet>yes</Quiet>", S3_XML_MALFORMED, false },
        { "<Quiet>1</Quiet>", S3_XML_MALFORMED, false },
        { "<Quiet></Quiet>", S3_XML_MALFORMED, false },
        { "<Quiet>tr<![CDATA[ue]]></Quiet>", S3_XML_OK, true },
        { "<Quiet>true</Quiet><Quiet>true</Quiet>", S3_XML_MALFORMED, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[256];
        snprintf(body, sizeof(body), "<Delete>%s<Object><Key>k</Key></Object></Delete>", cases[i].quiet);
        CHECK_EQ(del(body, &r), cases[i].err);
        CHECK_EQ(r.quiet, cases[i].value);
        s3_delete_request_free(&r);
    }
}

static void test_delete_version_ids(void)
{
    struct s3_delete_request r;
    CHECK_EQ(del("<Delete><Object><VersionId>3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY</VersionId><Key>k</Key></Object>"
                 "<Object><Key>k</Key><VersionId>null</VersionId></Object><Object><Key>k</Key><VersionId/></Object>"
                 "<Object><Key>k</Key></Object></Delete>",
                 &r),
             S3_XML_OK);
    CHECK_EQ(r.n, 4);
    if (r.n == 4) {
        CHECK_STR(r.objects[0].version_id, "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");
        CHECK_STR(r.objects[1].version_id, "null");
        CHECK_STR(r.objects[2].version_id, "");
        CHECK(r.objects[3].version_id == NULL);
    }
    s3_delete_request_free(&r);
    CHECK_EQ(del("<Delete><Object><Key>k</Key><VersionId>a</VersionId><VersionId>b</VersionId></Object></Delete>", &r),
             S3_XML_MALFORMED);
}

static void test_delete_counts(void)
{
    struct s3_delete_request r;
    size_t len;
    char *body = repeat_body("<Delete " NS "><Quiet>true</Quiet>", "<Object><Key>key-%d</Key></Object>", 1000,
                             "</Delete>", &len);
    CHECK_EQ(s3_xml_parse_delete(body, len, &r), S3_XML_OK);
    CHECK_EQ(r.n, 1000);
    if (r.n == 1000)
        CHECK_MEM(r.objects[999].key, r.objects[999].key_len, "key-1000");
    s3_delete_request_free(&r);
    free(body);
    body = repeat_body("<Delete " NS ">", "<Object><Key>key-%d</Key></Object>", 1001, "</Delete>", &len);
    CHECK_EQ(s3_xml_parse_delete(body, len, &r), S3_XML_MALFORMED);
    CHECK(is_zero(&r, sizeof(r)));
    free(body);

    CHECK_EQ(del("<Delete/>", &r), S3_XML_MALFORMED);
    CHECK_EQ(del("<Delete><Quiet>true</Quiet></Delete>", &r), S3_XML_MALFORMED);
}

static void test_delete_refused(void)
{
    struct s3_delete_request r;
    static const char *const bodies[] = {
        "",
        "   ",
        "not xml",
        "<Delete><Object><Key>k</Key></Object>",
        "<Delete><Object><Key>k</Key></Object></Delet>",
        "<Delete><Object><Key>k</Key></Object></Delete><Delete/>",
        "<Delete><Object><Key>k</Key></Object></Delete>trailing",
        "<Deletes><Object><Key>k</Key></Object></Deletes>",
        "<delete><Object><Key>k</Key></Object></delete>",
        "<Tagging><Object><Key>k</Key></Object></Tagging>",
        "<Delete><Object></Object></Delete>",
        "<Delete><Object><VersionId>v</VersionId></Object></Delete>",
        "<Delete><Object><key>k</key></Object></Delete>",
        "<Delete><Key>k</Key></Delete>",
        "<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>",
        "<Delete><Object><Key>a<b/>c</Key></Object></Delete>",
        "<Delete><Object><Key>a&bogus;</Key></Object></Delete>",
        "<Delete><Object><Key>a&#0;</Key></Object></Delete>",
        "<Delete><Object><Key>a\x01</Key></Object></Delete>",
        "<Delete><Object><Key>\xff</Key></Object></Delete>",
        "<Delete><Object><Key>\xc0\xaf</Key></Object></Delete>",
        "<x:Delete><Object><Key>k</Key></Object></x:Delete>",
        "<Delete><Object><Key>k</Key></Object><Unknown><Object></Unknown></Object></Delete>",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        memset(&r, 0x5a, sizeof(r));
        enum s3_xml_parse_err err = del(bodies[i], &r);
        if (err != S3_XML_MALFORMED)
            fprintf(stderr, "    body %zu: %d\n", i, err);
        CHECK_EQ(err, S3_XML_MALFORMED);
        CHECK(is_zero(&r, sizeof(r)));
    }
    CHECK_EQ(s3_xml_parse_delete(NULL, 0, &r), S3_XML_MALFORMED);

    /* Elements S3 does not know are skipped with what they hold, Keys included. */
    CHECK_EQ(del("<Delete><Extra><Object><Key>no</Key></Object></Extra><Object><ETag>e</ETag><Key>k</Key>"
                 "<Size>1</Size><Deep><Key>no</Key></Deep></Object></Delete>",
                 &r),
             S3_XML_OK);
    CHECK_EQ(r.n, 1);
    CHECK_MEM(r.objects[0].key, r.objects[0].key_len, "k");
    s3_delete_request_free(&r);
}

/* Nesting: 16 levels are fine (unknown ones included), 17 are not. */
static void test_depth(void)
{
    struct s3_delete_request r;
    size_t len;
    char *ok = repeat_body("<Delete><Object><Key>k</Key></Object>", "<a>", 15, "", &len);
    char *body = repeat_body(ok, "</a>", 15, "</Delete>", &len);
    CHECK_EQ(s3_xml_parse_delete(body, len, &r), S3_XML_OK);
    s3_delete_request_free(&r);
    free(body);
    free(ok);
    char *deep = repeat_body("<Delete><Object><Key>k</Key></Object>", "<a>", 16, "", &len);
    body = repeat_body(deep, "</a>", 16, "</Delete>", &len);
    CHECK_EQ(s3_xml_parse_delete(body, len, &r), S3_XML_MALFORMED);
    free(body);
    free(deep);
    /* Far deeper than expat would care about. */
    deep = repeat_body("<Delete>", "<a>", 100000, "", &len);
    body = repeat_body(deep, "</a>", 100000, "</Delete>", &len);
    CHECK_EQ(s3_xml_parse_delete(body, len, &r), S3_XML_MALFORMED);
    free(body);
    free(deep);
}

/* DTDs are refused outright: no entity expansion, no external entities. */
static void test_doctype(void)
{
    struct s3_delete_request r;
    struct s3_tagging t;
    static const char *const bodies[] = {
        "<!DOCTYPE Delete><Delete><Object><Key>k</Key></Object></Delete>",
        "<!DOCTYPE Delete [<!ENTITY e \"k\">]><Delete><Object><Key>&e;</Key></Object></Delete>",
        "<!DOCTYPE Delete [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
        "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
        "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
        "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\"><!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">]>"
        "<Delete><Object><Key>&h;</Key></Object></Delete>",
        "<!DOCTYPE Delete SYSTEM \"file:///etc/passwd\"><Delete><Object><Key>k</Key></Object></Delete>",
        ("<!DOCTYPE Delete [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Delete><Object><Key>&x;</Key></Object>"
         "</Delete>"),
        "<!DOCTYPE Delete [<!ENTITY % p \"x\">]><Delete><Object><Key>k</Key></Object></Delete>",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        CHECK_EQ(del(bodies[i], &r), S3_XML_MALFORMED);
        CHECK(is_zero(&r, sizeof(r)));
    }
    CHECK_EQ(tag("<!DOCTYPE Tagging [<!ENTITY k \"key\">]><Tagging><TagSet><Tag><Key>&k;</Key><Value/></Tag></TagSet>"
                 "</Tagging>",
                 &t),
             S3_XML_MALFORMED);
}

static void test_body_caps(void)
{
    struct s3_delete_request r;
    struct s3_complete_request c;
    struct s3_tagging t;
    char loc[64];
    size_t len;
    /* A well-formed body one byte over its cap, padded with whitespace; and the length alone decides. */
    char *body = repeat_body("<Delete><Object><Key>k</Key></Object></Delete>", " ", S3_DELETE_BODY_MAX, "", &len);
    CHECK_EQ(s3_xml_parse_delete(body, S3_DELETE_BODY_MAX, &r), S3_XML_OK);
    s3_delete_request_free(&r);
    CHECK_EQ(s3_xml_parse_delete(body, S3_DELETE_BODY_MAX + 1, &r), S3_XML_TOO_LARGE);
    CHECK(is_zero(&r, sizeof(r)));
    free(body);
    body = repeat_body("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part>"
                       "</CompleteMultipartUpload>",
                       " ", S3_COMPLETE_BODY_MAX, "", &len);
    CHECK_EQ(s3_xml_parse_complete(body, S3_COMPLETE_BODY_MAX, &c), S3_XML_OK);
    s3_complete_request_free(&c);
    CHECK_EQ(s3_xml_parse_complete(body, S3_COMPLETE_BODY_MAX + 1, &c), S3_XML_TOO_LARGE);
    free(body);
    body = repeat_body("<Tagging><TagSet/></Tagging>", " ", S3_TAGGING_BODY_MAX, "", &len);
    CHECK_EQ(s3_xml_parse_tagging(body, S3_TAGGING_BODY_MAX, &t), S3_XML_OK);
    CHECK_EQ(s3_xml_parse_tagging(body, S3_TAGGING_BODY_MAX + 1, &t), S3_XML_TOO_LARGE);
    free(body);
    body = repeat_body("<CreateBucketConfiguration/>", " ", S3_BUCKET_CONFIG_BODY_MAX, "", &len);
    CHECK_EQ(s3_xml_parse_create_bucket(body, S3_BUCKET_CONFIG_BODY_MAX, loc, sizeof(loc)), S3_XML_OK);
    CHECK_EQ(s3_xml_parse_create_bucket(body, S3_BUCKET_CONFIG_BODY_MAX + 1, loc, sizeof(loc)), S3_XML_TOO_LARGE);
    free(body);
}

static void test_complete_boto3(void)
{
    struct s3_complete_request c;
    /* As botocore 1.43 serializes complete_multipart_upload. */
    const char *body = "<CompleteMultipartUpload " NS "><Part><PartNumber>1</PartNumber><ETag>\"abc\"</ETag>"
                       "<ChecksumCRC32>DUoRhQ==</ChecksumCRC32></Part><Part><PartNumber>2</PartNumber>"
                       "<ETag>\"def\"</ETag></Part></CompleteMultipartUpload>";
    CHECK_EQ(cmp(body, &c), S3_XML_OK);
    CHECK_EQ(c.n, 2);
    if (c.n == 2) {
        CHECK_EQ(c.parts[0].number, 1);
        CHECK_STR(c.parts[0].etag, "\"abc\"");
        CHECK_EQ(c.parts[0].checksum_alg, S3_CK_CRC32);
        CHECK_STR(c.parts[0].checksum, "DUoRhQ==");
        CHECK_EQ(c.parts[1].number, 2);
        CHECK_STR(c.parts[1].etag, "\"def\"");
        CHECK_EQ(c.parts[1].checksum_alg, S3_CK_NONE);
        CHECK(c.parts[1].checksum == NULL);
    }
    s3_complete_request_free(&c);
    CHECK(is_zero(&c, sizeof(c)));

    /* No namespace, pretty-printed, numbers and ETags trimmed, quotes optional, gaps in the numbering fine. */
    CHECK_EQ(cmp("<CompleteMultipartUpload>\n <Part>\n  <ETag>\n   abc\n  </ETag>\n  <PartNumber>\n   3\n"
                 "  </PartNumber>\n </Part>\n <Part><PartNumber>0007</PartNumber><ETag>&quot;d&quot;</ETag></Part>"
                 "<Part><PartNumber>+9</PartNumber><ETag/></Part></CompleteMultipartUpload>",
                 &c),
             S3_XML_OK);
    CHECK_EQ(c.n, 3);
    if (c.n == 3) {
        CHECK_EQ(c.parts[0].number, 3);
        CHECK_STR(c.parts[0].etag, "abc");
        CHECK_EQ(c.parts[1].number, 7);
        CHECK_STR(c.parts[1].etag, "\"d\"");
        CHECK_EQ(c.parts[2].number, 9);
        CHECK_STR(c.parts[2].etag, "");
    }
    s3_complete_request_free(&c);
}

static enum s3_xml_parse_err one_part(const char *inner, struct s3_complete_request *c)
{
    char body[1024];
    snprintf(body, sizeof(body), "<CompleteMultipartUpload><Part>%s</Part></CompleteMultipartUpload>", inner);
    return cmp(body, c);
}

static void test_complete_numbers(void)
{
    struct s3_complete_request c;
    static const struct {
        const char *number;
        enum s3_xml_parse_err err;
    } cases[] = {
        { "1", S3_XML_OK },
        { "10000", S3_XML_OK },
        { "0", S3_XML_INVALID_PART },
        { "10001", S3_XML_INVALID_PART },
        { "-1", S3_XML_INVALID_PART },
        { "-0", S3_XML_INVALID_PART },
        { "99999999999999999999999", S3_XML_INVALID_PART },
        { "abc", S3_XML_MALFORMED },
        { "", S3_XML_MALFORMED },
        { "  ", S3_XML_MALFORMED },
        { "-", S3_XML_MALFORMED },
        { "1 2", S3_XML_MALFORMED },
        { "1.0", S3_XML_MALFORMED },
        { "0x10", S3_XML_MALFORMED },
        { "1e3", S3_XML_MALFORMED },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char inner[256];
        snprintf(inner, sizeof(inner), "<PartNumber>%s</PartNumber><ETag>e</ETag>", cases[i].number);
        enum s3_xml_parse_err err = one_part(inner, &c);
        if (err != cases[i].err)
            fprintf(stderr, "    part number \"%s\": %d\n", cases[i].number, err);
        CHECK_EQ(err, cases[i].err);
        s3_complete_request_free(&c);
    }
    CHECK_EQ(one_part("<ETag>e</ETag>", &c), S3_XML_MALFORMED);
    CHECK_EQ(one_part("<PartNumber>1</PartNumber>", &c), S3_XML_MALFORMED);
    CHECK_EQ(one_part("<PartNumber>1</PartNumber><PartNumber>1</PartNumber><ETag>e</ETag>", &c), S3_XML_MALFORMED);
    CHECK_EQ(one_part("<PartNumber>1</PartNumber><ETag>e</ETag><ETag>e</ETag>", &c), S3_XML_MALFORMED);
    CHECK_EQ(cmp("<CompleteMultipartUpload/>", &c), S3_XML_MALFORMED);
    CHECK_EQ(cmp("<CompleteMultipartUpload " NS "></CompleteMultipartUpload>", &c), S3_XML_MALFORMED);
    CHECK_EQ(cmp("<Complete><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></Complete>", &c), S3_XML_MALFORMED);
    CHECK(is_zero(&c, sizeof(c)));
}

static void test_complete_order(void)
{
    struct s3_complete_request c;
    CHECK_EQ(cmp("<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part>"
                 "<Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>",
                 &c),
             S3_XML_INVALID_ORDER);
    CHECK(is_zero(&c, sizeof(c)));
    CHECK_EQ(cmp("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>"
                 "<Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>",
                 &c),
             S3_XML_INVALID_ORDER);
    CHECK_EQ(cmp("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>"
                 "<Part><PartNumber>3</PartNumber><ETag>b</ETag></Part><Part><PartNumber>2</PartNumber>"
                 "<ETag>c</ETag></Part></CompleteMultipartUpload>",
                 &c),
             S3_XML_INVALID_ORDER);

    size_t len;
    char *body = repeat_body("<CompleteMultipartUpload " NS ">",
                             "<Part><PartNumber>%d</PartNumber><ETag>\"0123456789abcdef0123456789abcdef\"</ETag>"
                             "<ChecksumSHA256>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</ChecksumSHA256></Part>",
                             10000, "</CompleteMultipartUpload>", &len);
    CHECK(len <= S3_COMPLETE_BODY_MAX);
    CHECK_EQ(s3_xml_parse_complete(body, len, &c), S3_XML_OK);
    CHECK_EQ(c.n, 10000);
    if (c.n == 10000)
        CHECK_EQ(c.parts[9999].number, 10000);
    s3_complete_request_free(&c);
    free(body);
    body = repeat_body("<CompleteMultipartUpload>", "<Part><PartNumber>%d</PartNumber><ETag>e</ETag></Part>", 10001,
                       "</CompleteMultipartUpload>", &len);
    CHECK_EQ(s3_xml_parse_complete(body, len, &c), S3_XML_MALFORMED);
    free(body);
}

static void test_complete_checksums(void)
{
    struct s3_complete_request c;
    static const struct {
        const char *name;
        enum s3_checksum_alg alg;
    } algs[] = {
        { "ChecksumCRC32", S3_CK_CRC32 },         { "ChecksumCRC32C", S3_CK_CRC32C },
        { "ChecksumCRC64NVME", S3_CK_CRC64NVME }, { "ChecksumSHA1", S3_CK_SHA1 },
        { "ChecksumSHA256", S3_CK_SHA256 },
    };
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char inner[512];
        snprintf(inner, sizeof(inner), "<PartNumber>1</PartNumber><ETag>e</ETag><%s> c2Vlbg== </%s>", algs[i].name,
                 algs[i].name);
        CHECK_EQ(one_part(inner, &c), S3_XML_OK);
        if (c.n == 1) {
            CHECK_EQ(c.parts[0].checksum_alg, algs[i].alg);
            CHECK_STR(c.parts[0].checksum, "c2Vlbg==");
        }
        s3_complete_request_free(&c);
    }
    /* Not validated here: the handler compares it with the part's. */
    CHECK_EQ(one_part("<PartNumber>1</PartNumber><ETag>e</ETag><ChecksumCRC32>!!</ChecksumCRC32>", &c), S3_XML_OK);
    s3_complete_request_free(&c);
    CHECK_EQ(one_part("<PartNumber>1</PartNumber><ETag>e</ETag><ChecksumCRC32>a</ChecksumCRC32>"
                      "<ChecksumSHA1>b</ChecksumSHA1>",
                      &c),
             S3_XML_MALFORMED);
    CHECK_EQ(one_part("<PartNumber>1</PartNumber><ETag>e</ETag><ChecksumCRC32>a</ChecksumCRC32>"
                      "<ChecksumCRC32>a</ChecksumCRC32>",
                      &c),
             S3_XML_MALFORMED);
    CHECK_EQ(one_part("<PartNumber>1</PartNumber><ETag>e</ETag><ChecksumCrc32>a</ChecksumCrc32>", &c), S3_XML_OK);
    CHECK_EQ(c.parts[0].checksum_alg, S3_CK_NONE); /* names are case-sensitive: an unknown element */
    s3_complete_request_free(&c);
    char inner[512];
    snprintf(inner, sizeof(inner), "<PartNumber>1</PartNumber><ETag>e</ETag><ChecksumSHA256>%065d</ChecksumSHA256>",
             0);
    CHECK_EQ(one_part(inner, &c), S3_XML_MALFORMED);
    snprintf(inner, sizeof(inner), "<PartNumber>1</PartNumber><ETag>e</ETag><ChecksumSHA256>%064d</ChecksumSHA256>",
             0);
    CHECK_EQ(one_part(inner, &c), S3_XML_OK);
    s3_complete_request_free(&c);
}

static void test_complete_etag_cap(void)
{
    struct s3_complete_request c;
    size_t len;
    char *body = repeat_body("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>", "e", 1024,
                             "</ETag></Part></CompleteMultipartUpload>", &len);
    CHECK_EQ(s3_xml_parse_complete(body, len, &c), S3_XML_OK);
    CHECK_EQ(c.n == 1 ? strlen(c.parts[0].etag) : 0, 1024);
    s3_complete_request_free(&c);
    free(body);
    body = repeat_body("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>", "e", 1025,
                       "</ETag></Part></CompleteMultipartUpload>", &len);
    CHECK_EQ(s3_xml_parse_complete(body, len, &c), S3_XML_MALFORMED);
    free(body);
}

static void test_tagging_boto3(void)
{
    struct s3_tagging t;
    /* As botocore 1.43 serializes put_object_tagging. */
    CHECK_EQ(tag("<Tagging " NS "><TagSet><Tag><Key>k1</Key><Value>v1</Value></Tag><Tag><Key>\xc3\xa9</Key>"
                 "<Value /></Tag></TagSet></Tagging>",
                 &t),
             S3_XML_OK);
    CHECK_EQ(t.n, 2);
    CHECK_STR(t.tags[0].key, "k1");
    CHECK_STR(t.tags[0].value, "v1");
    CHECK_STR(t.tags[1].key, "\xc3\xa9");
    CHECK_STR(t.tags[1].value, "");
    s3_tagging_free(&t);
    CHECK(is_zero(&t, sizeof(t)));

    CHECK_EQ(tag("<Tagging><TagSet><Tag><Value> v </Value><Key> k </Key></Tag></TagSet></Tagging>", &t), S3_XML_OK);
    CHECK_STR(t.tags[0].key, " k ");
    CHECK_STR(t.tags[0].value, " v ");
    s3_tagging_free(&t);
    CHECK_EQ(tag("<Tagging><TagSet/></Tagging>", &t), S3_XML_OK);
    CHECK_EQ(t.n, 0);
    s3_tagging_free(&t);
}

static void test_tagging_refused(void)
{
    struct s3_tagging t;
    static const struct {
        const char *body;
        enum s3_xml_parse_err err;
    } cases[] = {
        { "<Tagging/>", S3_XML_MALFORMED },
        { "<Tagging><TagSet/><TagSet/></Tagging>", S3_XML_MALFORMED },
        { "<TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>", S3_XML_MALFORMED },
        { "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>", S3_XML_MALFORMED },
        { "<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>", S3_XML_MALFORMED },
        { "<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag></TagSet></Tagging>", S3_XML_INVALID_TAG },
        { "<Tagging><TagSet><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag>"
          "</TagSet></Tagging>",
          S3_XML_INVALID_TAG },
        { "<Tagging><TagSet><Tag><Key>k</Key><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>",
          S3_XML_MALFORMED },
        { "<Tagging><TagSet><Tag><Key>K</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag>"
          "</TagSet></Tagging>",
          S3_XML_OK },
        { "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging", S3_XML_MALFORMED },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum s3_xml_parse_err err = tag(cases[i].body, &t);
        if (err != cases[i].err)
            fprintf(stderr, "    case %zu: %d\n", i, err);
        CHECK_EQ(err, cases[i].err);
        if (err != S3_XML_OK)
            CHECK(is_zero(&t, sizeof(t)));
        s3_tagging_free(&t);
    }

    size_t len;
    const char *item = "<Tag><Key>k%d</Key><Value>v</Value></Tag>";
    char *body = repeat_body("<Tagging><TagSet>", item, 10, "</TagSet></Tagging>", &len);
    CHECK_EQ(s3_xml_parse_tagging(body, len, &t), S3_XML_OK);
    CHECK_EQ(t.n, 10);
    s3_tagging_free(&t);
    free(body);
    body = repeat_body("<Tagging><TagSet>", item, 11, "</TagSet></Tagging>", &len);
    CHECK_EQ(s3_xml_parse_tagging(body, len, &t), S3_XML_TOO_MANY_TAGS);
    CHECK(is_zero(&t, sizeof(t)));
    free(body);
}

/* n copies of s, for code point limits. */
static char *repeat(const char *s, int n)
{
    size_t len;
    char *buf = NULL;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    for (int i = 0; i < n; i++)
        fputs(s, f);
    fclose(f);
    return buf;
}

static enum s3_xml_parse_err tag_kv(const char *k, const char *v)
{
    struct s3_tagging t;
    size_t len;
    char *head = NULL;
    FILE *f = open_memstream(&head, &len);
    if (!f)
        return S3_XML_NOMEM;
    fprintf(f, "<Tagging><TagSet><Tag><Key>%s</Key><Value>%s</Value></Tag></TagSet></Tagging>", k, v);
    fclose(f);
    enum s3_xml_parse_err err = s3_xml_parse_tagging(head, len, &t);
    if (err == S3_XML_OK) {
        CHECK_STR(t.tags[0].key, k);
        CHECK_STR(t.tags[0].value, v);
    }
    s3_tagging_free(&t);
    free(head);
    return err;
}

static void test_tagging_lengths(void)
{
    static const char *const chars[] = { "a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
    for (size_t i = 0; i < sizeof(chars) / sizeof(chars[0]); i++) {
        char *k128 = repeat(chars[i], 128), *k129 = repeat(chars[i], 129);
        char *v256 = repeat(chars[i], 256), *v257 = repeat(chars[i], 257);
        CHECK_EQ(tag_kv(k128, v256), S3_XML_OK);
        CHECK_EQ(tag_kv(k129, "v"), S3_XML_INVALID_TAG);
        CHECK_EQ(tag_kv("k", v257), S3_XML_INVALID_TAG);
        free(k128);
        free(k129);
        free(v256);
        free(v257);
    }
    /* Far beyond any count: refused while gathering. */
    char *big = repeat("x", 5000);
    CHECK_EQ(tag_kv(big, "v"), S3_XML_INVALID_TAG);
    CHECK_EQ(tag_kv("k", big), S3_XML_INVALID_TAG);
    free(big);
}

static void test_tagging_query(void)
{
    struct s3_tagging t;
    CHECK_EQ(tagq("k1=v1&k2=v2", &t), S3_XML_OK);
    CHECK_EQ(t.n, 2);
    CHECK_STR(t.tags[0].key, "k1");
    CHECK_STR(t.tags[1].value, "v2");
    s3_tagging_free(&t);
    CHECK_EQ(tagq("", &t), S3_XML_OK);
    CHECK_EQ(t.n, 0);
    CHECK_EQ(tagq("&&", &t), S3_XML_OK);
    CHECK_EQ(t.n, 0);
    CHECK_EQ(tagq("a&b=&c=x=y&&d", &t), S3_XML_OK);
    CHECK_EQ(t.n, 4);
    if (t.n == 4) {
        CHECK_STR(t.tags[0].key, "a");
        CHECK_STR(t.tags[0].value, "");
        CHECK_STR(t.tags[1].value, "");
        CHECK_STR(t.tags[2].key, "c");
        CHECK_STR(t.tags[2].value, "x=y");
        CHECK_STR(t.tags[3].key, "d");
    }
    s3_tagging_free(&t);
    CHECK_EQ(tagq("a+b=c%20d%2Be%26f%3Dg%25h%c3%bc", &t), S3_XML_OK);
    CHECK_STR(t.tags[0].key, "a b");
    CHECK_STR(t.tags[0].value, "c d+e&f=g%h\xc3\xbc");
    s3_tagging_free(&t);

    static const char *const refused[] = {
        "=v", "%zz=v", "k=%4", "k=%", "k=%00", "%00=v", "k=%ff", "k=%c3", "k=%01", "k=%ef%bf%bf", "k=%ed%a0%80",
        "k=1&k=2", "k=v&=w",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        memset(&t, 0x5a, sizeof(t));
        enum s3_xml_parse_err err = tagq(refused[i], &t);
        if (err != S3_XML_INVALID_TAG)
            fprintf(stderr, "    \"%s\": %d\n", refused[i], err);
        CHECK_EQ(err, S3_XML_INVALID_TAG);
        CHECK(is_zero(&t, sizeof(t)));
    }
    CHECK_EQ(tagq("a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10", &t), S3_XML_OK);
    CHECK_EQ(t.n, 10);
    s3_tagging_free(&t);
    CHECK_EQ(tagq("a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11", &t), S3_XML_TOO_MANY_TAGS);

    char *k = repeat("%C3%A9", 128), *q = NULL;
    size_t len;
    FILE *f = open_memstream(&q, &len);
    fprintf(f, "%s=v", k);
    fclose(f);
    CHECK_EQ(tagq(q, &t), S3_XML_OK);
    s3_tagging_free(&t);
    free(q);
    f = open_memstream(&q, &len);
    fprintf(f, "%s%%C3%%A9=v", k);
    fclose(f);
    CHECK_EQ(tagq(q, &t), S3_XML_INVALID_TAG);
    free(q);
    free(k);
}

static void test_tagging_round_trip(void)
{
    struct s3_tagging t = { 0 }, back;
    bool nomem = true;
    CHECK(s3_tagging_to_query(&t, &nomem) == NULL);
    CHECK(!nomem);
    CHECK(s3_tagging_to_query(&t, NULL) == NULL);

    CHECK_EQ(tag("<Tagging><TagSet><Tag><Key>a&amp;b=c+d%e</Key><Value> x/y~z_-. </Value></Tag>"
                 "<Tag><Key>\xc3\xbc\xf0\x9f\x98\x80</Key><Value>&#9;\n</Value></Tag><Tag><Key>plain</Key><Value/>"
                 "</Tag></TagSet></Tagging>",
                 &t),
             S3_XML_OK);
    char *q = s3_tagging_to_query(&t, &nomem);
    CHECK(q != NULL && !nomem);
    if (q)
        CHECK_STR(q, "a%26b%3Dc%2Bd%25e=%20x%2Fy~z_-.%20&%C3%BC%F0%9F%98%80=%09%0A&plain=");
    CHECK_EQ(tagq(q ? q : "", &back), S3_XML_OK);
    CHECK_EQ(back.n, t.n);
    for (size_t i = 0; i < t.n && i < back.n; i++) {
        CHECK_STR(back.tags[i].key, t.tags[i].key);
        CHECK_STR(back.tags[i].value, t.tags[i].value);
    }
    free(q);
    s3_tagging_free(&back);
    s3_tagging_free(&t);
}

static enum s3_xml_parse_err bucket(const char *body, char *loc, size_t cap)
{
    return s3_xml_parse_create_bucket(body, strlen(body), loc, cap);
}

static void test_create_bucket(void)
{
    char loc[16];
    memset(loc, 'x', sizeof(loc));
    CHECK_EQ(s3_xml_parse_create_bucket(NULL, 0, loc, sizeof(loc)), S3_XML_OK);
    CHECK_STR(loc, "");
    /* As botocore 1.43 serializes create_bucket. */
    CHECK_EQ(bucket("<CreateBucketConfiguration " NS "><LocationConstraint>eu-west-1</LocationConstraint>"
                    "</CreateBucketConfiguration>",
                    loc, sizeof(loc)),
             S3_XML_OK);
    CHECK_STR(loc, "eu-west-1");
    CHECK_EQ(bucket("<CreateBucketConfiguration>\n  <LocationConstraint>\n    us-west-2\n  </LocationConstraint>\n"
                    "</CreateBucketConfiguration>",
                    loc, sizeof(loc)),
             S3_XML_OK);
    CHECK_STR(loc, "us-west-2");
    CHECK_EQ(bucket("<CreateBucketConfiguration/>", loc, sizeof(loc)), S3_XML_OK);
    CHECK_STR(loc, "");
    CHECK_EQ(bucket("<CreateBucketConfiguration><LocationConstraint/><Bucket><Type>Directory</Type></Bucket>"
                    "</CreateBucketConfiguration>",
                    loc, sizeof(loc)),
             S3_XML_OK);
    CHECK_STR(loc, "");
    /* 15 bytes and a NUL fit in 16; 16 do not. */
    CHECK_EQ(bucket("<CreateBucketConfiguration><LocationConstraint>ap-southeast-1</LocationConstraint>"
                    "</CreateBucketConfiguration>",
                    loc, sizeof(loc)),
             S3_XML_OK);
    CHECK_STR(loc, "ap-southeast-1");
    CHECK_EQ(bucket("<CreateBucketConfiguration><LocationConstraint>0123456789abcdef</LocationConstraint>"
                    "</CreateBucketConfiguration>",
                    loc, sizeof(loc)),
             S3_XML_MALFORMED);
    CHECK(is_zero(loc, sizeof(loc)));
    CHECK_EQ(bucket("<CreateBucketConfiguration><LocationConstraint>0123456789abcde</LocationConstraint>"
                    "</CreateBucketConfiguration>",
                    loc, sizeof(loc)),
             S3_XML_OK);
    static const char *const refused[] = {
        " ",
        "<CreateBucketConfig/>",
        ("<CreateBucketConfiguration><LocationConstraint>a</LocationConstraint><LocationConstraint>b"
         "</LocationConstraint></CreateBucketConfiguration>"),
        "<CreateBucketConfiguration><LocationConstraint>eu",
        "<!DOCTYPE x><CreateBucketConfiguration/>",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        memset(loc, 'x', sizeof(loc));
        CHECK_EQ(bucket(refused[i], loc, sizeof(loc)), S3_XML_MALFORMED);
        CHECK(is_zero(loc, sizeof(loc)));
    }
    CHECK_EQ(s3_xml_parse_create_bucket(NULL, 0, loc, 0), S3_XML_MALFORMED);

    size_t len;
    char big[2000];
    char *body = repeat_body("<CreateBucketConfiguration><LocationConstraint>", "r", 1025,
                             "</LocationConstraint></CreateBucketConfiguration>", &len);
    CHECK_EQ(s3_xml_parse_create_bucket(body, len, big, sizeof(big)), S3_XML_MALFORMED);
    free(body);
}

static void test_errors(void)
{
    static const struct {
        enum s3_xml_parse_err err;
        int status;
        const char *code;
    } cases[] = {
        { S3_XML_OK, 200, "" },
        { S3_XML_MALFORMED, 400, "MalformedXML" },
        { S3_XML_TOO_LARGE, 400, "MalformedXML" },
        { S3_XML_INVALID_TAG, 400, "InvalidTag" },
        { S3_XML_INVALID_PART, 400, "InvalidPart" },
        { S3_XML_INVALID_ORDER, 400, "InvalidPartOrder" },
        { S3_XML_NOMEM, 500, "InternalError" },
        { (enum s3_xml_parse_err)99, 500, "InternalError" },
        { (enum s3_xml_parse_err)-1, 500, "InternalError" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ(s3_xml_parse_status(cases[i].err), cases[i].status);
        CHECK_STR(s3_xml_parse_code(cases[i].err), cases[i].code);
        const char *m = s3_xml_parse_message(cases[i].err);
        CHECK(m != NULL && (cases[i].err == S3_XML_OK) == (m[0] == '\0'));
    }
}

static void test_free_twice(void)
{
    struct s3_delete_request r = { 0 };
    struct s3_complete_request c = { 0 };
    struct s3_tagging t = { 0 };
    s3_delete_request_free(&r);
    s3_complete_request_free(&c);
    s3_tagging_free(&t);
    CHECK_EQ(del_key("k", &r), S3_XML_OK);
    s3_delete_request_free(&r);
    s3_delete_request_free(&r);
    CHECK_EQ(one_part("<PartNumber>1</PartNumber><ETag>e</ETag>", &c), S3_XML_OK);
    s3_complete_request_free(&c);
    s3_complete_request_free(&c);
    CHECK_EQ(tagq("a=b", &t), S3_XML_OK);
    s3_tagging_free(&t);
    s3_tagging_free(&t);
    CHECK(is_zero(&r, sizeof(r)) && is_zero(&c, sizeof(c)) && is_zero(&t, sizeof(t)));
}

int main(void)
{
    RUN(test_delete_boto3);
    RUN(test_delete_key_bytes);
    RUN(test_delete_key_split);
    RUN(test_delete_quiet);
    RUN(test_delete_version_ids);
    RUN(test_delete_counts);
    RUN(test_delete_refused);
    RUN(test_depth);
    RUN(test_doctype);
    RUN(test_body_caps);
    RUN(test_complete_boto3);
    RUN(test_complete_numbers);
    RUN(test_complete_order);
    RUN(test_complete_checksums);
    RUN(test_complete_etag_cap);
    RUN(test_tagging_boto3);
    RUN(test_tagging_refused);
    RUN(test_tagging_lengths);
    RUN(test_tagging_query);
    RUN(test_tagging_round_trip);
    RUN(test_create_bucket);
    RUN(test_errors);
    RUN(test_free_twice);
    return unit_finish("test_s3_xml_parse");
}
