/* Internal to src/config: generated credentials, for the embedded default and `s3orch init`. */
#ifndef S3ORCH_CONFIG_RANDOM_H
#define S3ORCH_CONFIG_RANDOM_H

enum { CONFIG_GEN_KEY_ID_LEN = 20, CONFIG_GEN_SECRET_LEN = 40 };

/* An AWS-shaped pair from getrandom: a key id of 20 upper-case letters and digits, a secret of 40 characters from
 * the base64 alphabet. Buffers take the lengths above plus the NUL. 0 or -errno. */
int config_generate_credential(char *key_id, char *secret);

#endif
