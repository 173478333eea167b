#include <stdlib.h>
#include <string.h>

#include "s3/s3_xml.h"

void s3_xml_init(struct s3_xml *x) { *x = (struct s3_xml){0}; }

void s3_xml_free(struct s3_xml *x)
{
    free(x->buf);
    *x = (struct s3_xml){0};
}

static void xml_put(struct s3_xml *x, const char *s, size_t n)
{
    if (x->overflow)
        return;
    if (x->len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 1024;
        while (cap < x->len + n + 1)
            cap *= 2;
        char *buf = cap <= S3_XML_MAX ? realloc(x->buf, cap) : NULL;
        if (!buf) {
            x->overflow = true;
            return;
        }
        x->buf = buf;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, s, n);
    x->len += n;
    x->buf[x->len] = 0;
}

static void xml_puts(struct s3_xml *x, const char *s) { xml_put(x, s, strlen(s)); }

void s3_xml_declaration(struct s3_xml *x) { xml_puts(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"); }

void s3_xml_open(struct s3_xml *x, const char *name)
{
    xml_puts(x, "<");
    xml_puts(x, name);
    xml_puts(x, ">");
}

void s3_xml_open_ns(struct s3_xml *x, const char *name, const char *ns)
{
    xml_puts(x, "<");
    xml_puts(x, name);
    xml_puts(x, " xmlns=\"");
    xml_puts(x, ns);
    xml_puts(x, "\">");
}

void s3_xml_close(struct s3_xml *x, const char *name)
{
    xml_puts(x, "</");
    xml_puts(x, name);
    xml_puts(x, ">");
}

void s3_xml_text_n(struct s3_xml *x, const char *text, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        const char *esc = NULL;
        switch (text[i]) {
        case '&': esc = "&amp;"; break;
        case '<': esc = "&lt;"; break;
        case '>': esc = "&gt;"; break;
        case '"': esc = "&quot;"; break;
        case '\'': esc = "&apos;"; break;
        case '\r': esc = "&#13;"; break;
        default: continue;
        }
        xml_put(x, text + run, i - run);
        xml_puts(x, esc);
        run = i + 1;
    }
    xml_put(x, text + run, n - run);
}

void s3_xml_element_n(struct s3_xml *x, const char *name, const char *text, size_t n)
{
    s3_xml_open(x, name);
    s3_xml_text_n(x, text, n);
    s3_xml_close(x, name);
}

void s3_xml_element(struct s3_xml *x, const char *name, const char *text)
{
    s3_xml_element_n(x, name, text, strlen(text));
}
