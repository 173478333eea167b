/* DeleteObjects: up to 1000 keys in one request, each reported deleted (deleting a missing key is no error) or
 * with its own error; quiet mode reports only the errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coro/coro.h"
#include "s3/s3_ops.h"
#include "s3/s3_xml.h"
#include "s3/s3_xml_parse.h"

/* What became of one key: deleted (code NULL) or an S3 error. */
struct delete_outcome {
    const char *code, *message;
};

static struct delete_outcome delete_one(const struct s3_call *k, const struct s3_delete_object *o)
{
    if (o->key_len == 0 || o->key_len > S3_KEY_MAX)
        return o->key_len ? (struct delete_outcome){"KeyTooLongError", "Your key is too long"}
                          : (struct delete_outcome){"InvalidArgument", "The key must not be empty."};
    /* Our buckets are unversioned: their one version of each object is "null". */
    if (o->version_id && *o->version_id && strcmp(o->version_id, "null") != 0)
        return (struct delete_outcome){"NoSuchVersion", "The specified version does not exist."};
    struct store_cleanup_list displaced = {0};
    int err = store_object_delete(k->svc->store, k->r->bucket, o->key, &displaced);
    if (err == -EBUSY)
        return (struct delete_outcome){"SlowDown", "Please reduce your request rate."};
    if (err < 0)
        return (struct delete_outcome){"InternalError", "We encountered an internal error."};
    s3_delete_displaced(k->svc, &displaced);
    return (struct delete_outcome){0};
}

/* Why the keys are deleted by several coroutines at once: the store runs the requests queued together in one
 * transaction, so DELETE_WORKERS deletes in flight cost about one commit where one at a time cost one each. */
enum { DELETE_WORKERS = 16 };

struct delete_run {
    const struct s3_call *k;
    const struct s3_delete_request *d;
    struct delete_outcome *out;
    size_t next;
    struct coro_wg wg;
};

static void delete_worker(void *arg)
{
    struct delete_run *run = arg;
    while (run->next < run->d->n) {
        size_t i = run->next++;
        run->out[i] = delete_one(run->k, &run->d->objects[i]);
    }
    coro_wg_done(&run->wg);
}

static void delete_all(const struct s3_call *k, const struct s3_delete_request *d, struct delete_outcome *out)
{
    struct delete_run run = {.k = k, .d = d, .out = out, .wg = CORO_WG_INIT};
    for (size_t i = 1; i < d->n && i < DELETE_WORKERS; i++) {
        coro_wg_add(&run.wg, 1);
        if (!coro_spawn(coro_sched_self(), delete_worker, &run))
            coro_wg_done(&run.wg); /* no memory for another: the ones running share the keys */
    }
    coro_wg_add(&run.wg, 1);
    delete_worker(&run);
    /* The workers use run and out: wait for every one, even when this coroutine is cancelled. */
    while (coro_wg_wait(&run.wg, 0) == -ECANCELED && run.wg.count)
        coro_yield();
}

/* One key's entry in the answer: <Deleted> (left out when quiet) or <Error>. */
static void xml_key_outcome(struct s3_xml *x, const struct s3_delete_object *o, const struct delete_outcome *out,
                            bool quiet)
{
    if (!out->code && quiet)
        return;
    s3_xml_open(x, out->code ? "Error" : "Deleted");
    s3_xml_element_n(x, "Key", o->key, o->key_len);
    if (o->version_id)
        s3_xml_element(x, "VersionId", o->version_id);
    if (out->code) {
        s3_xml_element(x, "Code", out->code);
        s3_xml_element(x, "Message", out->message);
    }
    s3_xml_close(x, out->code ? "Error" : "Deleted");
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
    struct delete_outcome *out = calloc(d.n ? d.n : 1, sizeof(*out));
    if (!out) {
        s3_delete_request_free(&d);
        s3_fail(k, 500, "InternalError", "We encountered an internal error. Please try again.");
        return;
    }
    delete_all(k, &d, out);
    struct s3_xml x;
    s3_xml_init(&x);
    s3_xml_declaration(&x);
    s3_xml_open_ns(&x, "DeleteResult", S3_XML_NS);
    for (size_t i = 0; i < d.n; i++)
        xml_key_outcome(&x, &d.objects[i], &out[i], d.quiet);
    s3_xml_close(&x, "DeleteResult");
    free(out);
    s3_delete_request_free(&d);
    s3_respond_xml(k, &x);
    s3_xml_free(&x);
}
