/* Native multipart uploads on the local disk.
 *
 * An upload is a directory ROOT/%mpu/<id>/ holding one file per part, named by its number. A part is written in
 * %tmp and renamed in, so it replaces an earlier part of that number whole; once the directory is gone the rename
 * fails and the part is refused. complete splices the parts one after the other through a pipe into a temporary
 * file (no byte enters user space; memory stays bounded whatever the sizes), renames that over the object, and
 * only then drops the upload. A crash in the middle leaves the parts where they were, and at worst a temporary
 * file that the next open clears: the upload can still be completed, or aborted.
 *
 * Dropping an upload first renames its directory into %tmp, so that a put_part racing with the drop finds no
 * upload rather than adding a part behind the removal, and a crash halfway through leaves only what open clears. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/fs_internal.h"
#include "coro/coro.h"

#define MPU_ID_LEN 32 /* hex digits of 128 random bits */
#define MPU_PART_MAX 10000
#define MPU_PATH_MAX 64 /* "%mpu/<id>/<number>" */

/* Only ids of our own making pass, so that no id can lead out of %mpu. */
static int mpu_dir(const char *id, char out[MPU_PATH_MAX])
{
    size_t n = 0;
    for (; n <= MPU_ID_LEN && id[n]; n++)
        if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f')))
            return -ENOENT;
    if (n != MPU_ID_LEN)
        return -ENOENT;
    snprintf(out, MPU_PATH_MAX, "%s/%s", FS_MPU_DIR, id);
    return 0;
}

static int mpu_part_path(const char *id, int number, char out[MPU_PATH_MAX])
{
    int err = mpu_dir(id, out);
    if (err < 0)
        return err;
    if (number < 1 || number > MPU_PART_MAX)
        return -EINVAL;
    size_t n = strlen(out);
    snprintf(out + n, MPU_PATH_MAX - n, "/%d", number);
    return 0;
}

/* Names the file that holds a part: every put_part makes a new file, so a replaced part gets a new ETag even when
 * its size stays (an inode number alone could be reused by a later replacement; with its mtime, hardly). */
static void mpu_etag(const struct statx *stx, char etag[BACKEND_ETAG_MAX])
{
    snprintf(etag, BACKEND_ETAG_MAX, "%llx-%llx", (unsigned long long)stx->stx_ino,
             (unsigned long long)stx->stx_mtime.tv_sec * 1000000000ULL + stx->stx_mtime.tv_nsec);
}

/* 0 when the part at (dfd, path, flags) is the one listed; -EINVAL when it is missing or another. */
static int mpu_part_check(int dfd, const char *path, int flags, const struct backend_part *p)
{
    struct statx stx;
    int err = coro_statx(dfd, path, flags | AT_SYMLINK_NOFOLLOW, STATX_SIZE | STATX_INO | STATX_MTIME, &stx);
    if (err == -ENOENT)
        return -EINVAL;
    if (err < 0)
        return err;
    char etag[BACKEND_ETAG_MAX];
    mpu_etag(&stx, etag);
    return (int64_t)stx.stx_size == p->size && p->etag && strcmp(etag, p->etag) == 0 ? 0 : -EINVAL;
}

/* Empties and removes a dropped upload directory. Failures leave it in %tmp for the next open to clear. */
static void mpu_remove(struct fs_backend *fs, const char *gone)
{
    int fd = coro_openat(fs->root_fd, gone, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        coro_close(fd);
        return;
    }
    /* The ring has no op that lists a directory: readdir it is, a few getdents calls for 10,000 parts. */
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            coro_unlinkat(fd, e->d_name, 0);
    closedir(d);
    coro_unlinkat(fs->root_fd, gone, AT_REMOVEDIR);
}

static int mpu_drop(struct fs_backend *fs, const char *dir)
{
    char gone[FS_TMP_NAME_MAX];
    fs_tmp_name(fs, gone);
    int err = coro_renameat(fs->root_fd, dir, fs->root_fd, gone, 0);
    if (err == -ENOENT)
        return 0;
    if (err < 0)
        return err;
    if (fs->fsync)
        err = fs_sync_parent(fs, dir);
    mpu_remove(fs, gone);
    return err;
}

int fs_mpu_create(struct backend *b, const char *bkey, char upload_id[BACKEND_UPLOAD_ID_MAX])
{
    struct fs_backend *fs = fs_of(b);
    char rel[FS_PATH_MAX], dir[MPU_PATH_MAX];
    /* Checked now, so that complete cannot fail on the key after every part was sent. */
    int err = backend_fs_path(bkey, rel, sizeof(rel));
    if (err < 0)
        return err;
    unsigned char rnd[MPU_ID_LEN / 2];
    /* Does not block: open already drew from the ready pool. */
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return -EIO;
    for (size_t i = 0; i < sizeof(rnd); i++) {
        upload_id[2 * i] = "0123456789abcdef"[rnd[i] >> 4];
        upload_id[2 * i + 1] = "0123456789abcdef"[rnd[i] & 15];
    }
    upload_id[MPU_ID_LEN] = 0;
    mpu_dir(upload_id, dir);
    err = coro_mkdirat(fs->root_fd, dir, 0755);
    if (err < 0)
        return err;
    if (fs->fsync && (err = fs_sync_parent(fs, dir)) < 0)
        coro_unlinkat(fs->root_fd, dir, AT_REMOVEDIR);
    return err;
}

int fs_mpu_put_part(struct backend *b, const char *bkey, const char *upload_id, int number, struct body_source *src,
                    int64_t size, char etag[BACKEND_ETAG_MAX])
{
    (void)bkey; /* the id alone names the upload */
    struct fs_backend *fs = fs_of(b);
    char dir[MPU_PATH_MAX], part[MPU_PATH_MAX], tmp[FS_TMP_NAME_MAX];
    int err = mpu_part_path(upload_id, number, part);
    if (err < 0)
        return err;
    mpu_dir(upload_id, dir);
    /* Refused before the body is read and written when the upload is already gone. */
    struct statx stx;
    err = coro_statx(fs->root_fd, dir, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx);
    if (err < 0)
        return err;

    fs_tmp_name(fs, tmp);
    err = fs_write_tmp(fs, tmp, src, size);
    if (err < 0)
        return err;
    /* Stat'ed before the rename: after it, a put_part of the same number may already have replaced ours. */
    err = coro_statx(fs->root_fd, tmp, AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_MTIME, &stx);
    if (err == 0)
        err = coro_renameat(fs->root_fd, tmp, fs->root_fd, part, 0); /* -ENOENT: aborted meanwhile */
    if (err < 0) {
        coro_unlinkat(fs->root_fd, tmp, 0);
        return err;
    }
    if (fs->fsync && (err = fs_sync_parent(fs, part)) < 0)
        return err;
    mpu_etag(&stx, etag);
    return 0;
}

/* Every part is checked before any byte moves, so a wrong list costs no copying. */
static int mpu_check_list(struct fs_backend *fs, const char *id, const struct backend_part *parts, size_t n)
{
    if (n == 0)
        return -EINVAL;
    int prev = 0;
    for (size_t i = 0; i < n; i++) {
        char part[MPU_PATH_MAX];
        if (parts[i].number <= prev || mpu_part_path(id, parts[i].number, part) < 0)
            return -EINVAL;
        prev = parts[i].number;
        int err = mpu_part_check(fs->root_fd, part, 0, &parts[i]);
        if (err < 0)
            return err;
    }
    return 0;
}

static int mpu_concat(struct fs_backend *fs, const char *id, const struct backend_part *parts, size_t n, int out_fd)
{
    int p[2];
    int err = fs_pipe_open(p);
    if (err < 0)
        return err;
    int64_t out_off = 0;
    for (size_t i = 0; i < n && err == 0; i++) {
        char part[MPU_PATH_MAX];
        mpu_part_path(id, parts[i].number, part);
        int fd = coro_openat(fs->root_fd, part, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0) {
            err = fd == -ENOENT ? -EINVAL : fd;
            break;
        }
        /* Checked again on what we read: a put_part may have replaced the part since the list was checked. */
        err = mpu_part_check(fd, "", AT_EMPTY_PATH, &parts[i]);
        if (err == 0)
            err = fs_splice(p, fd, 0, parts[i].size, out_fd, &out_off, NULL);
        coro_close(fd);
    }
    close(p[0]);
    close(p[1]);
    return err;
}

int fs_mpu_complete(struct backend *b, const char *bkey, const char *upload_id, const struct backend_part *parts,
                    size_t n)
{
    struct fs_backend *fs = fs_of(b);
    char rel[FS_PATH_MAX], dir[MPU_PATH_MAX], tmp[FS_TMP_NAME_MAX];
    int err = mpu_dir(upload_id, dir);
    if (err == 0)
        err = backend_fs_path(bkey, rel, sizeof(rel));
    if (err < 0)
        return err;
    struct statx stx;
    err = coro_statx(fs->root_fd, dir, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx);
    if (err < 0)
        return err;
    err = mpu_check_list(fs, upload_id, parts, n);
    if (err < 0)
        return err;

    fs_tmp_name(fs, tmp);
    int fd = coro_openat(fs->root_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return fd;
    err = mpu_concat(fs, upload_id, parts, n, fd);
    if (err == 0 && fs->fsync)
        err = coro_fsync(fd, true);
    int cerr = coro_close(fd);
    if (err == 0)
        err = cerr;
    if (err < 0) {
        coro_unlinkat(fs->root_fd, tmp, 0);
        return err;
    }
    err = fs_install(fs, tmp, rel);
    if (err < 0)
        return err;
    /* The object is in place whatever happens now; an upload left behind is the caller's to abort. */
    mpu_drop(fs, dir);
    return 0;
}

int fs_mpu_abort(struct backend *b, const char *bkey, const char *upload_id)
{
    (void)bkey;
    char dir[MPU_PATH_MAX];
    int err = mpu_dir(upload_id, dir);
    if (err < 0)
        return err;
    return mpu_drop(fs_of(b), dir);
}
