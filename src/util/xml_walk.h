/* A table-driven walk over one XML document with expat, shared by the parsers of the bodies S3 clients send
 * (s3/s3_xml_parse.c) and of those S3 backends answer with (backend/s3_resp_xml.c).
 *
 * A table names the elements a document type knows: each its parent, whether it holds text (and how many bytes at
 * most), whether it must appear and whether it may repeat. The walk refuses a DOCTYPE (where entity expansion and
 * external entities live), nesting deeper than XML_WALK_DEPTH, a root of another name, markup inside a text
 * element, a missing required or a repeated once-only element; it skips an element the table does not know with
 * all it holds. Names are matched on their local part (namespace ignored). Text is handed over whole, never cut:
 * beyond its element's max the walk stops with that node's `over` code.
 *
 * Codes are the caller's: 0 goes on, anything else stops the walk and is what xml_walk() returns. */
#ifndef S3ORCH_XML_WALK_H
#define S3ORCH_XML_WALK_H

#include <stddef.h>

enum {
    XML_WALK_DEPTH = 16, /* open elements at most, the root included */
    XML_WALK_NODES = 32, /* entries of one table at most: a frame keeps a bit per entry */
};

enum xml_walk_flag {
    XW_REQUIRED = 1, /* at least once in each parent */
    XW_ONCE = 2,     /* at most once in each parent */
    XW_TRIM = 4,     /* surrounding XML whitespace dropped before `end` sees the text (the cap counts it) */
};

struct xml_walk_node {
    const char *name; /* local name */
    int parent;       /* index in the same table; -1 for the root, which is entry 0 */
    unsigned flags;
    size_t max; /* bytes of text for an element that holds text; 0 for one that holds elements */
    int over;   /* the code for text beyond max */
};

struct xml_walk_type {
    const struct xml_walk_node *nodes;
    int nnodes; /* 1..XML_WALK_NODES */
    size_t body_max;
    int malformed; /* not well-formed, or against the table */
    int too_large; /* over body_max */
    int nomem;
    /* Both may be NULL. start: a known element opens. end: it closes, with text[0..len) and a NUL after it for
     * one that holds text, NULL and 0 for others. */
    int (*start)(void *out, int node);
    int (*end)(void *out, int node, const char *text, size_t len);
};

/* Walks body[0..len) (UTF-8 whatever its declaration says) through type's table, calling its hooks with out. 0 or
 * a code: type's own, or one a hook returned. An empty body is malformed. */
int xml_walk(const struct xml_walk_type *type, void *out, const char *body, size_t len);

#endif
