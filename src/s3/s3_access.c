#include <errno.h>
#include <string.h>

#include "s3/s3_access.h"

const struct config_bucket *s3_config_bucket_find(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nbuckets; i++)
        if (strcmp(cfg->buckets[i].name, name) == 0)
            return &cfg->buckets[i];
    return NULL;
}

static int bucket_owner_check(const struct s3_service *svc, const struct s3_identity *id, const char *bucket)
{
    if (s3_config_bucket_find(svc->cfg, bucket))
        return strcmp(id->bucket->name, bucket) == 0 ? 0 : -EACCES;
    if (!svc->store)
        return -ENOENT;
    struct store_bucket b;
    int err = store_bucket_get(svc->store, bucket, &b);
    if (err < 0)
        return err;
    return strcmp(b.owner, id->cred->access_key_id) == 0 ? 0 : -EACCES;
}

int s3_bucket_access(const struct s3_service *svc, const struct s3_identity *id, const char *bucket, bool write)
{
    int err = bucket_owner_check(svc, id, bucket);
    if (err == 0 && write && id->cred->permission != CONFIG_PERM_READ_WRITE)
        err = -EACCES;
    return err;
}

void s3_access_fail(const struct s3_call *k, int err)
{
    if (err == -ENOENT)
        s3_fail(k, 404, "NoSuchBucket", "The specified bucket does not exist");
    else if (err == -EACCES)
        s3_fail(k, 403, "AccessDenied", "Access Denied");
    else
        s3_respond_store_error(k, err);
}
