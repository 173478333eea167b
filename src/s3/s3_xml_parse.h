/* Parsing the XML bodies S3 clients send (DeleteObjects, CompleteMultipartUpload, PutObjectTagging,
 * CreateBucket) with expat, under limits: a body over its cap, nesting deeper than S3_XML_PARSE_DEPTH, a DOCTYPE
 * or an entity declaration (no billion laughs), or an element of the wrong name is refused.
 *
 * Element names are matched without their namespace, as S3 does (clients send xmlns=".../2006-03-01/" or none).
 * Unknown elements inside a known one are ignored, as S3 ignores them. Results own their memory: free them with
 * the matching *_free(), which is fine on a zeroed or already freed result. A failed parse leaves it zeroed. */
#ifndef S3ORCH_S3_XML_PARSE_H
#define S3ORCH_S3_XML_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "s3/s3_checksum.h"

enum {
    S3_XML_PARSE_DEPTH = 16,
    S3_DELETE_MAX_KEYS = 1000,
    S3_DELETE_BODY_MAX = 6 * 1024 * 1024,  /* 1000 keys of 1024 bytes, each escaped up to 5-fold, with markup */
    S3_COMPLETE_BODY_MAX = 4 * 1024 * 1024, /* 10000 parts with ETags and checksums */
    S3_TAGGING_BODY_MAX = 64 * 1024,
    S3_BUCKET_CONFIG_BODY_MAX = 64 * 1024,
    S3_TAGS_MAX = 10,         /* tags on an object */
    S3_TAG_KEY_MAX = 128,     /* characters (UTF-8 code points) */
    S3_TAG_VALUE_MAX = 256,
};

/* What went wrong, each with its S3 error: s3_xml_parse_status() and s3_xml_parse_code(). */
enum s3_xml_parse_err {
    S3_XML_OK,
    S3_XML_MALFORMED,      /* 400 MalformedXML: not well-formed, wrong root or element, a required field missing,
                              a number that is not one, limits exceeded */
    S3_XML_TOO_LARGE,      /* 400 MalformedXML as well, but said apart for logs and tests */
    S3_XML_INVALID_TAG,    /* 400 InvalidTag: a key or value too long, a key repeated or empty */
    S3_XML_TOO_MANY_TAGS,  /* 400 BadRequest: more than S3_TAGS_MAX tags (S3's code for it) */
    S3_XML_INVALID_PART,   /* 400 InvalidPart: a part number outside 1..10000 */
    S3_XML_INVALID_ORDER,  /* 400 InvalidPartOrder: part numbers not strictly ascending */
    S3_XML_NOMEM,          /* 500 InternalError */
};
int s3_xml_parse_status(enum s3_xml_parse_err err);
const char *s3_xml_parse_code(enum s3_xml_parse_err err);
const char *s3_xml_parse_message(enum s3_xml_parse_err err);

/* <Delete><Quiet>true</Quiet><Object><Key>k</Key><VersionId>v</VersionId></Object>…</Delete>: 1..1000 objects,
 * each with a Key (may be empty text: the handler reports it per key) of at most 1024 bytes, kept byte for byte;
 * VersionId optional (NULL). */
struct s3_delete_object {
    char *key;
    size_t key_len; /* keys may hold any byte XML allows, but never NUL */
    char *version_id;
};
struct s3_delete_request {
    struct s3_delete_object *objects;
    size_t n;
    bool quiet;
};
enum s3_xml_parse_err s3_xml_parse_delete(const char *body, size_t len, struct s3_delete_request *out);
void s3_delete_request_free(struct s3_delete_request *r);

/* <CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"…"</ETag><ChecksumCRC32>…</ChecksumCRC32>
 * </Part>…</CompleteMultipartUpload>: 1..10000 parts, strictly ascending. The ETag is kept as sent (quotes or
 * not) but for surrounding whitespace, which numbers and checksums lose too. A checksum element is kept with its
 * algorithm (at most one per part; NONE when absent). */
struct s3_complete_part {
    int number;
    char *etag;
    enum s3_checksum_alg checksum_alg;
    char *checksum; /* base64 as sent, NULL when absent */
};
struct s3_complete_request {
    struct s3_complete_part *parts;
    size_t n;
};
enum s3_xml_parse_err s3_xml_parse_complete(const char *body, size_t len, struct s3_complete_request *out);
void s3_complete_request_free(struct s3_complete_request *r);

/* A tag set: from <Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>…</TagSet></Tagging> or from the
 * x-amz-tagging header's URL-encoded form ("k1=v1&k2=v2"). Rules (S3's for objects): at most S3_TAGS_MAX tags,
 * key 1..128 and value 0..256 code points, keys unique. */
struct s3_tag {
    char *key;
    char *value;
};
struct s3_tagging {
    struct s3_tag tags[S3_TAGS_MAX];
    size_t n;
};
enum s3_xml_parse_err s3_xml_parse_tagging(const char *body, size_t len, struct s3_tagging *out);
/* The header form; an empty string is an empty set. Form-decoded ("+" is a space); a pair without "=" has an empty
 * value; a bad escape, a NUL, or bytes that are not UTF-8 of characters XML can carry are S3_XML_INVALID_TAG. */
enum s3_xml_parse_err s3_tagging_from_query(const char *q, size_t len, struct s3_tagging *out);
/* The header form of a tag set (keys and values percent-encoded, RFC 3986 unreserved kept), malloc'd; NULL for an
 * empty set or out of memory (*nomem tells which; nomem may be NULL). */
char *s3_tagging_to_query(const struct s3_tagging *t, bool *nomem);
void s3_tagging_free(struct s3_tagging *t);

/* <CreateBucketConfiguration><LocationConstraint>r</LocationConstraint></CreateBucketConfiguration>; an empty
 * body is fine (location ""). The location is copied into location[0..cap) (truncated names are refused as
 * S3_XML_MALFORMED). */
enum s3_xml_parse_err s3_xml_parse_create_bucket(const char *body, size_t len, char *location, size_t cap);

#endif
