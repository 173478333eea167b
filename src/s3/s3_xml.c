#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    char ref[8];
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
        default:
            if ((unsigned char)text[i] >= 0x20 || text[i] == '\t' || text[i] == '\n')
                continue;
            /* Not allowed in XML 1.0 even as a reference; S3 writes it so, and clients that care ask for
             * encoding-type=url. */
            snprintf(ref, sizeof(ref), "&#%d;", text[i]);
            esc = ref;
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

void s3_xml_element_time(struct s3_xml *x, const char *name, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[40];
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)(ms % 1000));
    s3_xml_element(x, name, buf);
}

void s3_xml_element_int(struct s3_xml *x, const char *name, int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    s3_xml_element(x, name, buf);
}

void s3_xml_element_bool(struct s3_xml *x, const char *name, bool v)
{
    s3_xml_element(x, name, v ? "true" : "false");
}

void s3_xml_element_key(struct s3_xml *x, const char *name, const char *key, bool url)
{
    if (!url) {
        s3_xml_element(x, name, key);
        return;
    }
    static const char hex[] = "0123456789ABCDEF";
    char buf[768];
    size_t n = 0;
    s3_xml_open(x, name);
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        if (n + 3 > sizeof(buf)) {
            xml_put(x, buf, n);
            n = 0;
        }
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
            *p == '_' || *p == '.' || *p == '~' || *p == '/') {
            buf[n++] = (char)*p;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[*p >> 4];
            buf[n++] = hex[*p & 15];
        }
    }
    xml_put(x, buf, n);
    s3_xml_close(x, name);
}

void s3_xml_person(struct s3_xml *x, const char *element, const char *id)
{
    s3_xml_open(x, element);
    s3_xml_element(x, "ID", id);
    s3_xml_element(x, "DisplayName", id);
    s3_xml_close(x, element);
}
