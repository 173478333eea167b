/* Internal to src/config: checks of single values (names, addresses, keys) and the "did you mean" suggestion.
 * Each check returns NULL when the value is fine, else a reason that reads after "path: ". */
#ifndef S3ORCH_CONFIG_CHECK_H
#define S3ORCH_CONFIG_CHECK_H

#include <stddef.h>

/* Edit distance with adjacent transpositions counted as one edit ("qoutas" is one from "quotas"). */
int config_edit_distance(const char *a, const char *b);
/* The candidate closest to word within 2 edits (ties: the first), or NULL. names is NULL-terminated; empty entries
 * are skipped. */
const char *config_suggest(const char *word, const char *const *names);

/* "host:port" with a numeric port 0-65535; an IPv6 host in brackets. */
const char *config_check_listen_addr(const char *s);
/* Backend names appear in metrics labels, admin URLs and logs: letters, digits, '.', '_', '-'; at most 64. */
const char *config_check_backend_name(const char *s);
/* SigV4 puts the key id in "Credential=ID/date/...": letters, digits, '.', '_', '-'; 3 to 128 characters. */
const char *config_check_access_key_id(const char *s);
/* 8 to 128 printable characters without spaces. */
const char *config_check_secret(const char *s);
/* An IPv4 or IPv6 address, optionally with a /prefix. */
const char *config_check_cidr(const char *s);
/* A DNS name for virtual-host addressing: labels of letters, digits and '-', joined by dots. */
const char *config_check_domain(const char *s);
/* A 256-bit key: 64 hex digits or standard base64 of 32 bytes. */
const char *config_check_key_material(const char *s);

#endif
