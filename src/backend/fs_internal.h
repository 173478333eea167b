/* Shared by the files of the local-disk backend (fs.c, fs_multipart.c, fs_list.c); not part of the backend
 * contract.
 *
 * Under ROOT, besides the objects: %tmp holds files being written (cleared at open) and %mpu holds multipart
 * uploads (kept across restarts). '%' followed by 't' or 'm' is no escape of backend_fs_path, so no encoded key
 * can name either. */
#ifndef S3ORCH_BACKEND_FS_INTERNAL_H
#define S3ORCH_BACKEND_FS_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend/backend.h"

#define FS_TMP_DIR "%tmp"
#define FS_MPU_DIR "%mpu"
#define FS_IO_CHUNK (256 * 1024)
#define FS_PATH_MAX 4096
#define FS_TMP_NAME_MAX 64

struct fs_backend {
    struct backend base;
    int root_fd;
    bool fsync;
    uint64_t tmp_salt;
    atomic_uint_fast64_t tmp_seq;
};

static inline struct fs_backend *fs_of(struct backend *b) { return (struct fs_backend *)b; }

/* What a file name in the tree that backend_fs_path makes stands for: an object's last segment ("…@"), a whole
 * segment followed by "/" (a directory "…"), or the start of a segment that goes on below (a directory "…%+"). */
enum fs_name_kind { FS_NAME_OBJECT, FS_NAME_SEGMENT, FS_NAME_CONTINUED };
/* Decodes one name (n bytes, no "/") into out: the key bytes it stands for, without the "/" a segment implies.
 * Returns their count, -EINVAL when backend_fs_path writes no such name (so also for %tmp and %mpu), or
 * -ENAMETOOLONG when cap is too small. */
ssize_t fs_name_decode(const char *name, size_t n, char *out, size_t cap, enum fs_name_kind *kind);

/* A name under %tmp that no other call of this process uses. */
void fs_tmp_name(struct fs_backend *fs, char out[FS_TMP_NAME_MAX]);
/* Writes exactly size bytes of src into a new file at tmp (a fs_tmp_name), fsynced per durability; on failure
 * nothing is left. */
int fs_write_tmp(struct fs_backend *fs, const char *tmp, struct body_source *src, int64_t size);
/* Renames tmp over the object path rel, creating rel's directories, then fsyncs rel's directory per durability.
 * tmp is removed when the rename fails. */
int fs_install(struct fs_backend *fs, const char *tmp, const char *rel);
int fs_sync_parent(struct fs_backend *fs, const char *rel);
/* A pipe for fs_splice, as large as the system lets us have. */
int fs_pipe_open(int p[2]);
/* Moves len bytes of fd from off to out_fd through the pipe p, never through user space. out_off: the position
 * in out_fd when it is a file (advanced), NULL for a socket or a pipe. sink, when given, bounds each step with
 * its deadline_step and hears of the bytes moved. A file shorter than off+len → -ERANGE. */
int fs_splice(const int p[2], int fd, int64_t off, int64_t len, int out_fd, int64_t *out_off, struct body_sink *sink);

int fs_mpu_create(struct backend *b, const char *bkey, char upload_id[BACKEND_UPLOAD_ID_MAX]);
int fs_mpu_put_part(struct backend *b, const char *bkey, const char *upload_id, int number, struct body_source *src,
                    int64_t size, char etag[BACKEND_ETAG_MAX]);
int fs_mpu_complete(struct backend *b, const char *bkey, const char *upload_id, const struct backend_part *parts,
                    size_t n);
int fs_mpu_abort(struct backend *b, const char *bkey, const char *upload_id);
/* fs_list.c */
int fs_list(struct backend *b, const char *prefix, const char *start_after, size_t max,
            struct backend_list_page *out);

#endif
