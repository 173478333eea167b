/* One hexadecimal digit's value, either case: 0..15, or -1 for any other byte. */
#ifndef S3ORCH_HEX_H
#define S3ORCH_HEX_H

static inline int hex_digit_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
