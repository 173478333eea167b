#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_check.h"

int config_edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 64 };
    size_t n = strlen(a), m = strlen(b);
    if (n > MAXLEN || m > MAXLEN)
        return n > m ? (int)(n - m) + 3 : (int)(m - n) + 3; /* long words: never "close" */
    int d[MAXLEN + 1][MAXLEN + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int cost = a[i - 1] != b[j - 1];
            int best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m];
}

const char *config_suggest(const char *word, const char *const *names)
{
    const char *best = NULL;
    int best_d = 3;
    for (size_t i = 0; names[i]; i++) {
        if (!names[i][0])
            continue;
        int d = config_edit_distance(word, names[i]);
        if (d < best_d) {
            best = names[i];
            best_d = d;
        }
    }
    return best;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || is_digit(c); }
static bool is_name_char(char c) { return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-'; }

const char *config_check_listen_addr(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon)
        return "want host:port (e.g. 127.0.0.1:9000, [::1]:9000, 0.0.0.0:9000)";
    size_t hostlen = (size_t)(colon - s);
    if (hostlen == 0)
        return "host is missing (write 0.0.0.0:PORT for every interface)";
    if (s[0] == '[') {
        if (hostlen < 3 || s[hostlen - 1] != ']')
            return "an IPv6 host is written in brackets: [::1]:9000";
        char ip6[64];
        if (hostlen - 2 >= sizeof(ip6))
            return "bad IPv6 address";
        memcpy(ip6, s + 1, hostlen - 2);
        ip6[hostlen - 2] = 0;
        struct in6_addr a;
        if (inet_pton(AF_INET6, ip6, &a) != 1)
            return "bad IPv6 address";
    } else {
        if (memchr(s, ':', hostlen))
            return "an IPv6 host is written in brackets: [::1]:9000";
        for (size_t i = 0; i < hostlen; i++)
            if (!is_name_char(s[i]))
                return "bad host name";
    }
    const char *port = colon + 1;
    if (!*port || strlen(port) > 5)
        return "port must be a number from 0 to 65535";
    for (const char *p = port; *p; p++)
        if (!is_digit(*p))
            return "port must be a number from 0 to 65535";
    if (atoi(port) > 65535)
        return "port must be a number from 0 to 65535";
    return NULL;
}

const char *config_check_backend_name(const char *s)
{
    if (strlen(s) > 64)
        return "at most 64 characters";
    for (const char *p = s; *p; p++)
        if (!is_name_char(*p))
            return "use only letters, digits, '.', '_' and '-'";
    return NULL;
}

const char *config_check_access_key_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 128)
        return "must be 3 to 128 characters long";
    for (const char *p = s; *p; p++)
        if (!is_name_char(*p))
            return "use only letters, digits, '.', '_' and '-'";
    return NULL;
}

const char *config_check_secret(const char *s)
{
    size_t n = strlen(s);
    if (n < 8 || n > 128)
        return "must be 8 to 128 characters long";
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return "use printable ASCII characters without spaces";
    return NULL;
}

const char *config_check_cidr(const char *s)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof(addr))
        return "want an IP address or CIDR (e.g. 10.0.0.0/8, ::1)";
    memcpy(addr, s, n);
    addr[n] = 0;
    unsigned char buf[16];
    int max;
    if (inet_pton(AF_INET, addr, buf) == 1)
        max = 32;
    else if (inet_pton(AF_INET6, addr, buf) == 1)
        max = 128;
    else
        return "want an IP address or CIDR (e.g. 10.0.0.0/8, ::1)";
    if (slash) {
        const char *p = slash + 1;
        if (!*p || strlen(p) > 3)
            return "bad prefix length";
        for (const char *q = p; *q; q++)
            if (!is_digit(*q))
                return "bad prefix length";
        if (atoi(p) > max)
            return "prefix length too long for the address";
    }
    return NULL;
}

const char *config_check_domain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return "want a DNS name such as s3.example.com";
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        if (c == '.' || c == 0) {
            if (label == 0 || s[i - 1] == '-')
                return "want a DNS name such as s3.example.com (no empty labels, no leading or trailing '-')";
            label = 0;
            continue;
        }
        if (!isalnum((unsigned char)c) && c != '-')
            return "want a DNS name such as s3.example.com (letters, digits, '-' and dots; no port)";
        if (label == 0 && c == '-')
            return "want a DNS name such as s3.example.com (no empty labels, no leading or trailing '-')";
        if (++label > 63)
            return "a DNS label is at most 63 characters";
    }
    return NULL;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (is_digit(c))
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

const char *config_check_key_material(const char *s)
{
    static const char want[] = "want 32 bytes: 64 hex digits or 44 base64 characters (openssl rand -base64 32)";
    size_t n = strlen(s);
    if (n == 64) {
        for (size_t i = 0; i < n; i++)
            if (!isxdigit((unsigned char)s[i]))
                return want;
        return NULL;
    }
    /* 32 bytes in base64: 42 data characters, then one more whose low 2 bits are 0, then one '='. */
    if (n != 44 || s[43] != '=')
        return want;
    for (size_t i = 0; i < 43; i++)
        if (b64_value(s[i]) < 0)
            return want;
    if (b64_value(s[42]) & 3)
        return want;
    return NULL;
}

const char *config_check_bucket_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 63)
        return "a bucket name is 3 to 63 characters long";
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '.' && s[i] != '-')
            return "a bucket name uses only lowercase letters, digits, '.' and '-'";
    if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return "a bucket name begins and ends with a lowercase letter or digit";
    if (strstr(s, ".."))
        return "a bucket name has no two adjacent periods";
    if (strstr(s, ".-") || strstr(s, "-."))
        return "a bucket name has no '-' next to a '.'";
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) == 1)
        return "a bucket name is not formatted as an IP address";
    if (strncmp(s, "xn--", 4) == 0 || strncmp(s, "sthree-", 7) == 0 || strncmp(s, "amzn-s3-demo-", 13) == 0)
        return "a bucket name does not begin with 'xn--', 'sthree-' or 'amzn-s3-demo-'";
    static const char *const suffixes[] = {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        size_t k = strlen(suffixes[i]);
        if (n >= k && strcmp(s + n - k, suffixes[i]) == 0)
            return "a bucket name does not end with '-s3alias', '--ol-s3', '.mrap', '--x-s3' or '--table-s3'";
    }
    return NULL;
}
