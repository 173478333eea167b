/* Internal to src/config: the one table that names every key of the file, its type, its default and its bounds,
 * and the generic operations over it. Loading, defaults, validation and freeing all walk this table, so a key is
 * added in one place. */
#ifndef S3ORCH_CONFIG_SCHEMA_H
#define S3ORCH_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

enum config_kind {
    CONFIG_KIND_STRING,   /* char *, owned */
    CONFIG_KIND_BOOL,     /* bool */
    CONFIG_KIND_INT,      /* int64_t */
    CONFIG_KIND_FLOAT,    /* double */
    CONFIG_KIND_SIZE,     /* int64_t bytes */
    CONFIG_KIND_DURATION, /* int64_t ns */
    CONFIG_KIND_ENUM,     /* an enum, stored as int */
    CONFIG_KIND_STRINGS,  /* struct config_strings */
    CONFIG_KIND_LABELS,   /* struct config_labels */
    CONFIG_KIND_SECTION,  /* a nested struct */
    CONFIG_KIND_LIST,     /* pointer to an array of structs, with a size_t count elsewhere in the parent */
};

struct config_schema;

struct config_field {
    const char *name;
    enum config_kind kind;
    size_t offset;       /* of the value; LIST: of the items pointer */
    size_t count_offset; /* LIST: of the size_t count */
    const char *def;     /* default, spelled as the file would write it; NULL = empty / zero / false / unset */
    const char *const *names; /* ENUM: spelling of each value, indexed by value, NULL-terminated; "" = no spelling */
    /* INT/SIZE/DURATION: inclusive bounds checked by validation; max 0 = no upper bound. */
    int64_t min, max;
    /* FLOAT: the same, as doubles. */
    double fmin, fmax;
    const struct config_schema *sub; /* SECTION, LIST */
};

struct config_schema {
    const struct config_field *fields;
    size_t nfields;
    size_t size; /* of the struct it describes (a LIST's element) */
};

extern const struct config_schema config_schema_root;

const struct config_field *config_schema_find(const struct config_schema *s, const char *name);

/* --- config_field.c: operations on one value, addressed as base + field->offset --------------------------- */

/* Parses `text` into the field (scalar kinds only). 0, -ENOMEM, or -EINVAL/-ERANGE with a reason in why[]. */
int config_field_set(const struct config_field *f, void *base, const char *text, char *why, size_t whylen);
/* Fills every field of the struct at base with its default; lists, string lists and label maps start empty. */
int config_schema_apply_defaults(const struct config_schema *s, void *base);
/* Frees what the struct at base owns (not base itself). */
void config_schema_free(const struct config_schema *s, void *base);

/* Typed access to the raw slots; keeps the pointer-punning in one place. */
static inline void *config_slot(void *base, size_t offset) { return (char *)base + offset; }
static inline const void *config_cslot(const void *base, size_t offset) { return (const char *)base + offset; }
void *config_list_items(const void *base, const struct config_field *f);
size_t config_list_count(const void *base, const struct config_field *f);
void config_list_set(void *base, const struct config_field *f, void *items, size_t n);

/* The spelling of an enum value, or "?" */
const char *config_enum_name(const struct config_field *f, int value);

#endif
