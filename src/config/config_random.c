#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "config/config_random.h"

static int fill_random(unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        got += (size_t)n;
    }
    return 0;
}

/* Picks len characters from alphabet (n characters) uniformly: bytes at or above the largest multiple of n are
 * drawn again, so no character is likelier than another. */
static int random_string(char *out, size_t len, const char *alphabet, unsigned n)
{
    unsigned limit = 256 - 256 % n;
    size_t filled = 0;
    while (filled < len) {
        unsigned char buf[64];
        int err = fill_random(buf, sizeof(buf));
        if (err < 0)
            return err;
        for (size_t i = 0; i < sizeof(buf) && filled < len; i++)
            if (buf[i] < limit)
                out[filled++] = alphabet[buf[i] % n];
    }
    out[len] = 0;
    return 0;
}

int config_generate_credential(char *key_id, char *secret)
{
    static const char upper_alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static const char base64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int err = random_string(key_id, CONFIG_GEN_KEY_ID_LEN, upper_alnum, sizeof(upper_alnum) - 1);
    if (err == 0)
        err = random_string(secret, CONFIG_GEN_SECRET_LEN, base64, sizeof(base64) - 1);
    return err;
}
