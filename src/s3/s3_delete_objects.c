/* DeleteObjects: up to 1000 keys in one request, each reported deleted (deleting a missing key is no error) or
 * with its own error; quiet mode reports only the errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3/s3_ops.h"
#include "s3/s3_xml.h"
#include "s3/s3_xml_parse.h"

static void xml_key_error(struct s3_xml *x, const struct s3_delete_object *o, const char *code, const char *message)
{
    s3_xml_open(x, "Error");
    s3_xml_element_n(x, "Key", o->key, o->key_len);
    if (o->version_id)
        s3_xml_element(x, "VersionId", o->version_id);
    s3_xml_element(x, "Code", code);
    s3_xml_element(x, "Message", message);
    s3_xml_close(x, "Error");
}

static void delete_one(const struct s3_call *k, const struct s3_delete_object *o, bool quiet, struct s3_xml *x)
{
    if (o->key_len == 0 || o->key_len > S3_KEY_MAX) {
        xml_key_error(x, o, o->key_len ? "KeyTooLongError" : "InvalidArgument",
                      o->key_len ? "Your key is too long" : "The key must not be empty.");
        return;
    }
    /* Our buckets are unversioned: their one version of each object is "null". */
    if (o->version_id && *o->version_id && strcmp(o->version_id, "null") != 0) {
        xml_key_error(x, o, "NoSuchVersion", "The specified version does not exist.");
        return;
    }
    struct store_cleanup_list displaced = {0};
    int err = store_object_delete(k->svc->store, k->r->bucket, o->key, &displaced);
    if (err < 0) {
        xml_key_error(x, o, err == -EBUSY ? "SlowDown" : "InternalError",
                      err == -EBUSY ? "Please reduce your request rate." : "We encountered an internal error.");
        return;
    }
    s3_delete_displaced(k->svc, &displaced);
    if (quiet)
        return;
    s3_xml_open(x, "Deleted");
    s3_xml_element_n(x, "Key", o->key, o->key_len);
    if (o->version_id)
        s3_xml_element(x, "VersionId", o->version_id);
    s3_xml_close(x, "Deleted");
}

/* S3 insists on an integrity check of the key list: Content-MD5 or an x-amz-checksum-* (header or trailer). */
static bool has_integrity_header(const struct http_request *req)
{
    if (http_request_header(req, "content-md5") || http_request_header(req, "x-amz-trailer"))
        return true;
    for (unsigned i = 0; i < req->nheaders; i++)
        if (s3_checksum_alg_from_header(req->headers[i].name.p, req->headers[i].name.n) != S3_CK_NONE)
            return true;
    return false;
}

void s3_op_delete_objects(const struct s3_call *k)
{
    char *body;
    size_t len;
    if (!has_integrity_header(k->req)) {
        s3_fail(k, 400, "InvalidRequest", "Missing required header for this request: Content-MD5");
        return;
    }
    if (s3_body_read_small(k, S3_DELETE_BODY_MAX, 0, &body, &len) < 0)
        return;
    struct s3_delete_request d = {0};
    enum s3_xml_parse_err perr = s3_xml_parse_delete(body, len, &d);
    free(body);
    if (perr != S3_XML_OK) {
        s3_fail(k, s3_xml_parse_status(perr), s3_xml_parse_code(perr), s3_xml_parse_message(perr));
        return;
    }
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "DeleteResult", S3_XML_NS);
    for (size_t i = 0; i < d.n; i++)
        delete_one(k, &d.objects[i], d.quiet, &x);
    s3_xml_close(&x, "DeleteResult");
    s3_delete_request_free(&d);
    s3_respond_xml(k, &x);
    s3_xml_free(&x);
}
