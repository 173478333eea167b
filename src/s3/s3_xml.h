/* Building S3 XML response bodies: a growable buffer with element helpers that escape text. Parsing request
 * bodies is expat's job elsewhere. */
#ifndef S3ORCH_S3_XML_H
#define S3ORCH_S3_XML_H

#include <stdbool.h>
#include <stddef.h>

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

#endif
