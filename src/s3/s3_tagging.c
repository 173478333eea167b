/* Get/Put/DeleteObjectTagging (S11). A tag set is stored in x-amz-tagging's URL-encoded form. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3/s3_ops.h"
#include "s3/s3_xml.h"
#include "s3/s3_xml_parse.h"

static void parse_failed(const struct s3_call *k, enum s3_xml_parse_err err)
{
    s3_fail(k, s3_xml_parse_status(err), s3_xml_parse_code(err), s3_xml_parse_message(err));
}

void s3_op_get_tagging(const struct s3_call *k)
{
    struct store_object o;
    int err = store_object_get(k->svc->store, k->r->bucket, k->r->key, &o);
    if (err < 0) {
        s3_respond_object_error(k, err);
        return;
    }
    struct s3_tagging t = {0};
    enum s3_xml_parse_err perr = o.tagging ? s3_tagging_from_query(o.tagging, strlen(o.tagging), &t) : S3_XML_OK;
    store_object_free(&o);
    if (perr != S3_XML_OK) {
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
        return;
    }
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "Tagging", S3_XML_NS);
    s3_xml_open(&x, "TagSet");
    for (size_t i = 0; i < t.n; i++) {
        s3_xml_open(&x, "Tag");
        s3_xml_element(&x, "Key", t.tags[i].key);
        s3_xml_element(&x, "Value", t.tags[i].value);
        s3_xml_close(&x, "Tag");
    }
    s3_xml_close(&x, "TagSet");
    s3_xml_close(&x, "Tagging");
    s3_tagging_free(&t);
    s3_respond_xml(k, &x);
    s3_xml_free(&x);
}

static void set_tagging(const struct s3_call *k, const char *tagging, int status)
{
    int err = store_object_set_tagging(k->svc->store, k->r->bucket, k->r->key, tagging);
    if (err < 0) {
        s3_respond_object_error(k, err);
        return;
    }
    s3_respond_empty(k, status);
}

void s3_op_put_tagging(const struct s3_call *k)
{
    char *body;
    size_t len;
    if (s3_body_read_small(k, S3_TAGGING_BODY_MAX, 0, &body, &len) < 0)
        return;
    struct s3_tagging t = {0};
    enum s3_xml_parse_err perr = s3_xml_parse_tagging(body, len, &t);
    free(body);
    if (perr != S3_XML_OK) {
        parse_failed(k, perr);
        return;
    }
    bool nomem = false;
    char *q = s3_tagging_to_query(&t, &nomem);
    s3_tagging_free(&t);
    if (nomem) {
        parse_failed(k, S3_XML_NOMEM);
        return;
    }
    set_tagging(k, q, 200);
    free(q);
}

void s3_op_delete_tagging(const struct s3_call *k) { set_tagging(k, NULL, 204); }
