/* Building S3 XML response bodies: a growable buffer with element helpers that escape text. Parsing request
 * bodies is expat's job elsewhere. */
#ifndef S3ORCH_S3_XML_H
#define S3ORCH_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S3_XML_MAX (16u * 1024 * 1024)

struct s3_xml {
    char *buf;
    size_t len, cap;
    bool overflow; /* out of memory or over S3_XML_MAX: the document is unusable */
};

void s3_xml_init(struct s3_xml *x);
void s3_xml_free(struct s3_xml *x);
void s3_xml_declaration(struct s3_xml *x);
/* <name> or <name xmlns="ns"> */
void s3_xml_open(struct s3_xml *x, const char *name);
void s3_xml_open_ns(struct s3_xml *x, const char *name, const char *ns);
void s3_xml_close(struct s3_xml *x, const char *name);
/* <name>escaped text</name> */
void s3_xml_element(struct s3_xml *x, const char *name, const char *text);
void s3_xml_element_n(struct s3_xml *x, const char *name, const char *text, size_t n);
void s3_xml_text_n(struct s3_xml *x, const char *text, size_t n);
/* <name>2009-10-12T17:50:30.000Z</name> from milliseconds since the epoch. */
void s3_xml_element_time(struct s3_xml *x, const char *name, int64_t ms);
void s3_xml_element_int(struct s3_xml *x, const char *name, int64_t v);
void s3_xml_element_bool(struct s3_xml *x, const char *name, bool v);
/* <name>key</name>, the key percent-encoded when url (encoding-type=url): every byte but RFC 3986's unreserved
 * ones and '/' (clients decode with unquote_plus, so '+' and ' ' are encoded too). */
void s3_xml_element_key(struct s3_xml *x, const char *name, const char *key, bool url);
/* <element><ID>id</ID><DisplayName>id</DisplayName></element>: Owner, Initiator. */
void s3_xml_person(struct s3_xml *x, const char *element, const char *id);

#define S3_XML_NS "http://s3.amazonaws.com/doc/2006-03-01/"

#endif
