/* One expat pass steered by a table (xml_walk.h). The walk keeps a stack of open elements; text is gathered only
 * inside known text elements, into one buffer sized for the table's largest, because expat hands it over in
 * pieces (around entities, CDATA sections and its own buffer edges). */
#include "util/xml_walk.h"

#include <expat.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Between a namespace URI and the local name expat reports: names cannot hold it, and expat refuses a URI that
 * does, so what follows the last one is the local name. */
#define XW_NS_SEP '\n'

struct xw_frame {
    int node;      /* -1: an element the table does not know, or inside one */
    uint32_t seen; /* children met so far, by node index */
};

struct xw {
    const struct xml_walk_type *type;
    void *out;
    XML_Parser parser;
    int err;
    int depth;
    struct xw_frame stack[XML_WALK_DEPTH];
    size_t text_len;
    char *text; /* room for the table's largest max and a NUL */
};

_Static_assert(XML_WALK_NODES <= 32, "a frame's seen has a bit per node");

static void xw_check(struct xw *x, int err)
{
    if (err == 0)
        return;
    x->err = err;
    XML_StopParser(x->parser, XML_FALSE);
}

static int xw_child(const struct xml_walk_type *t, int parent, const char *name)
{
    for (int i = 1; i < t->nnodes; i++)
        if (t->nodes[i].parent == parent && strcmp(t->nodes[i].name, name) == 0)
            return i;
    return -1;
}

static int xw_open(struct xw *x, const char *name)
{
    const struct xml_walk_type *t = x->type;
    if (x->depth == XML_WALK_DEPTH)
        return t->malformed;
    const char *sep = strrchr(name, XW_NS_SEP);
    const char *local = sep ? sep + 1 : name;
    int node = 0;
    if (x->depth == 0) {
        if (strcmp(local, t->nodes[0].name) != 0)
            return t->malformed;
    } else {
        struct xw_frame *parent = &x->stack[x->depth - 1];
        /* Text elements hold text only: markup inside a key would make its bytes a guess. */
        if (parent->node >= 0 && t->nodes[parent->node].max)
            return t->malformed;
        node = parent->node < 0 ? -1 : xw_child(t, parent->node, local);
        if (node >= 0) {
            uint32_t bit = UINT32_C(1) << node;
            if ((t->nodes[node].flags & XW_ONCE) && (parent->seen & bit))
                return t->malformed;
            parent->seen |= bit;
        }
    }
    if (node >= 0) {
        x->text_len = 0;
        int err = t->start ? t->start(x->out, node) : 0;
        if (err)
            return err;
    }
    x->stack[x->depth++] = (struct xw_frame){ node, 0 };
    return 0;
}

static bool xw_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int xw_close(struct xw *x)
{
    const struct xml_walk_type *t = x->type;
    const struct xw_frame f = x->stack[--x->depth];
    if (f.node < 0)
        return 0;
    for (int i = 1; i < t->nnodes; i++)
        if (t->nodes[i].parent == f.node && (t->nodes[i].flags & XW_REQUIRED) && !(f.seen & (UINT32_C(1) << i)))
            return t->malformed;
    const struct xml_walk_node *d = &t->nodes[f.node];
    if (!d->max)
        return t->end ? t->end(x->out, f.node, NULL, 0) : 0;
    char *text = x->text;
    size_t len = x->text_len;
    if (d->flags & XW_TRIM) {
        while (len && xw_is_space(text[len - 1]))
            len--;
        while (len && xw_is_space(*text)) {
            text++;
            len--;
        }
    }
    text[len] = '\0';
    return t->end ? t->end(x->out, f.node, text, len) : 0;
}

static void XMLCALL xw_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    struct xw *x = data;
    (void)attrs;
    if (x->err == 0)
        xw_check(x, xw_open(x, name));
}

static void XMLCALL xw_end(void *data, const XML_Char *name)
{
    struct xw *x = data;
    (void)name;
    if (x->err == 0)
        xw_check(x, xw_close(x));
}

static void XMLCALL xw_text(void *data, const XML_Char *s, int n)
{
    struct xw *x = data;
    if (x->err != 0 || x->depth == 0)
        return;
    int node = x->stack[x->depth - 1].node;
    if (node < 0 || !x->type->nodes[node].max)
        return; /* whitespace between elements, or text the document type ignores */
    const struct xml_walk_node *d = &x->type->nodes[node];
    if ((size_t)n > d->max - x->text_len) {
        xw_check(x, d->over);
        return;
    }
    memcpy(x->text + x->text_len, s, (size_t)n);
    x->text_len += (size_t)n;
}

/* No DTD at all: it is where entity expansion (billion laughs) and external entities (reading files) live. */
static void XMLCALL xw_doctype(void *data, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal_subset)
{
    struct xw *x = data;
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    xw_check(x, x->type->malformed);
}

/* Declarations come only inside a DOCTYPE, which xw_doctype stops at; this holds should that ever change. */
static void XMLCALL xw_entity_decl(void *data, const XML_Char *name, int is_parameter, const XML_Char *value,
                                   int value_len, const XML_Char *base, const XML_Char *sysid,
                                   const XML_Char *pubid, const XML_Char *notation)
{
    struct xw *x = data;
    (void)name, (void)is_parameter, (void)value, (void)value_len, (void)base, (void)sysid, (void)pubid;
    (void)notation;
    xw_check(x, x->type->malformed);
}

int xml_walk(const struct xml_walk_type *type, void *out, const char *body, size_t len)
{
    /* XML_Parse takes an int length. */
    if (len > type->body_max || len > INT_MAX)
        return type->too_large;
    if (len == 0)
        return type->malformed;
    size_t text_max = 0;
    for (int i = 0; i < type->nnodes; i++)
        if (type->nodes[i].max > text_max)
            text_max = type->nodes[i].max;
    struct xw x = { .type = type, .out = out };
    int err = type->nomem;
    x.text = malloc(text_max + 1);
    if (!x.text)
        goto out;
    /* UTF-8 whatever the declaration says: S3 bodies are UTF-8, and the text caps count its bytes. */
    x.parser = XML_ParserCreateNS("UTF-8", XW_NS_SEP);
    if (!x.parser)
        goto out;
    XML_SetUserData(x.parser, &x);
    XML_SetElementHandler(x.parser, xw_start, xw_end);
    XML_SetCharacterDataHandler(x.parser, xw_text);
    XML_SetStartDoctypeDeclHandler(x.parser, xw_doctype);
    XML_SetEntityDeclHandler(x.parser, xw_entity_decl);
    if (XML_Parse(x.parser, body, (int)len, XML_TRUE) != XML_STATUS_OK && x.err == 0)
        x.err = XML_GetErrorCode(x.parser) == XML_ERROR_NO_MEMORY ? type->nomem : type->malformed;
    err = x.err;
out:
    if (x.parser)
        XML_ParserFree(x.parser);
    free(x.text);
    return err;
}
