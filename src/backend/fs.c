/* The local-disk backend: one file per object under the backend's root.
 *
 * A put writes a temporary file in ROOT/%tmp, fsyncs it (durability: fsync), and renames it over the object's
 * path, so readers see the old object or the new one, whole. A crash leaves at worst a temporary file, removed at
 * the next open. A copy is a hard link: object files never change once renamed into place (every put writes a new
 * file), so two names for one file are two independent objects. All I/O after open goes through the ring.
 * Multipart uploads: fs_multipart.c; listing: fs_list.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/fs_internal.h"
#include "coro/coro.h"
#include "util/splice_move.h"

#define FS_SEGMENT_MAX 240 /* bytes of an encoded segment before it continues in a sub-directory */

static bool fs_safe_byte(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

struct path_buf {
    char *p;
    size_t n, cap;
    bool overflow;
};

static void path_put(struct path_buf *b, const char *s, size_t n)
{
    if (b->n + n >= b->cap) {
        b->overflow = true;
        return;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void path_segment(struct path_buf *b, const char *seg, size_t n)
{
    if (n == 0) {
        path_put(b, "%", 1);
        return;
    }
    if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
        path_put(b, n == 1 ? "%2E" : "%2E%2E", n * 3);
        return;
    }
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)seg[i];
        char esc[4];
        size_t w = 1;
        if (fs_safe_byte(c)) {
            esc[0] = (char)c;
        } else {
            snprintf(esc, sizeof(esc), "%%%02X", c);
            w = 3;
        }
        if (run + w > FS_SEGMENT_MAX) {
            path_put(b, "%+/", 3);
            run = 0;
        }
        path_put(b, esc, w);
        run += w;
    }
}

int backend_fs_path(const char *bkey, char *out, size_t cap)
{
    struct path_buf b = {out, 0, cap, false};
    if (!*bkey || cap == 0)
        return -EINVAL;
    out[0] = 0;
    for (const char *seg = bkey;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        path_segment(&b, seg, n);
        if (!slash)
            break;
        path_put(&b, "/", 1);
        seg = slash + 1;
    }
    path_put(&b, "@", 1);
    return b.overflow ? -ENAMETOOLONG : 0;
}

static int fs_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1; /* lower case included: the encoder never writes it */
}

/* Strict: only what path_segment writes decodes, so a foreign file (and %tmp, %mpu) is no object, and no two
 * names decode to the same key. */
ssize_t fs_name_decode(const char *name, size_t n, char *out, size_t cap, enum fs_name_kind *kind)
{
    if (n >= 1 && name[n - 1] == '@') {
        *kind = FS_NAME_OBJECT;
        n--;
    } else if (n >= 2 && name[n - 2] == '%' && name[n - 1] == '+') {
        *kind = FS_NAME_CONTINUED;
        n -= 2;
    } else {
        *kind = FS_NAME_SEGMENT;
    }
    if (n == 0 || (n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.'))
        return -EINVAL;
    if (*kind != FS_NAME_CONTINUED) {
        if (n == 1 && name[0] == '%')
            return 0;
        if ((n == 3 && memcmp(name, "%2E", 3) == 0) || (n == 6 && memcmp(name, "%2E%2E", 6) == 0)) {
            if (cap < n / 3)
                return -ENAMETOOLONG;
            memcpy(out, "..", n / 3);
            return (ssize_t)(n / 3);
        }
    }
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '%') {
            int hi = i + 2 < n ? fs_hex_digit(name[i + 1]) : -1, lo = i + 2 < n ? fs_hex_digit(name[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (unsigned char)(hi * 16 + lo);
            if (fs_safe_byte(c) || c == '/' || c == 0)
                return -EINVAL;
            i += 2;
        } else if (!fs_safe_byte(c)) {
            return -EINVAL;
        }
        if (len == cap)
            return -ENAMETOOLONG;
        out[len++] = (char)c;
    }
    return (ssize_t)len;
}

int backend_fs_key(const char *rel, char *out, size_t cap)
{
    size_t len = 0;
    enum fs_name_kind kind = FS_NAME_SEGMENT;
    for (const char *name = rel; kind != FS_NAME_OBJECT;) {
        const char *slash = strchr(name, '/');
        size_t n = slash ? (size_t)(slash - name) : strlen(name);
        ssize_t d = fs_name_decode(name, n, out + len, cap - len, &kind);
        if (d < 0)
            return (int)d;
        len += (size_t)d;
        /* An object's name ends the path; nothing else may. */
        if ((kind == FS_NAME_OBJECT) != !slash)
            return -EINVAL;
        if (kind == FS_NAME_SEGMENT) {
            if (len == cap)
                return -ENAMETOOLONG;
            out[len++] = '/';
        }
        name = slash ? slash + 1 : name;
    }
    if (len == 0)
        return -EINVAL;
    if (len == cap)
        return -ENAMETOOLONG;
    out[len] = 0;
    return 0;
}

/* Creates every directory above rel (rel itself is a file). */
static int fs_make_parents(struct fs_backend *fs, const char *rel)
{
    char dir[FS_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", rel);
    for (char *slash = strchr(dir, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = 0;
        int r = coro_mkdirat(fs->root_fd, dir, 0755);
        *slash = '/';
        if (r < 0 && r != -EEXIST)
            return r;
    }
    return 0;
}

/* Removes the now-empty directories above rel, deepest first; stops at the first that is not empty. */
static void fs_prune_parents(struct fs_backend *fs, const char *rel)
{
    char dir[FS_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", rel);
    for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
        *slash = 0;
        if (coro_unlinkat(fs->root_fd, dir, AT_REMOVEDIR) < 0)
            return;
    }
}

int fs_sync_parent(struct fs_backend *fs, const char *rel)
{
    char dir[FS_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", rel);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    int fd = coro_openat(fs->root_fd, slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    int r = coro_fsync(fd, false);
    coro_close(fd);
    return r;
}

static int write_all(int fd, const char *buf, size_t len, uint64_t off)
{
    while (len) {
        ssize_t n = coro_write(fd, buf, len, off, 0);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -EIO;
        buf += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* Copies the whole source into fd; reads to the source's end so that a trailing checksum gets checked. */
static int fs_copy_in(int fd, struct body_source *src, int64_t size)
{
    char *buf = malloc(FS_IO_CHUNK);
    if (!buf)
        return -ENOMEM;
    int64_t total = 0;
    int err = 0;
    for (;;) {
        ssize_t n = body_source_read(src, buf, FS_IO_CHUNK);
        if (n <= 0) {
            err = (int)n;
            break;
        }
        if (total + n > size) {
            err = -EMSGSIZE;
            break;
        }
        err = write_all(fd, buf, (size_t)n, (uint64_t)total);
        if (err < 0)
            break;
        total += n;
    }
    free(buf);
    if (err == 0 && total != size)
        err = -EPIPE;
    return err;
}

void fs_tmp_name(struct fs_backend *fs, char out[FS_TMP_NAME_MAX])
{
    snprintf(out, FS_TMP_NAME_MAX, "%s/%016llx.%llu", FS_TMP_DIR, (unsigned long long)fs->tmp_salt,
             (unsigned long long)atomic_fetch_add(&fs->tmp_seq, 1));
}

int fs_write_tmp(struct fs_backend *fs, const char *tmp, struct body_source *src, int64_t size)
{
    int fd = coro_openat(fs->root_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return fd;
    int err = fs_copy_in(fd, src, size);
    if (err == 0 && fs->fsync)
        err = coro_fsync(fd, true);
    int cerr = coro_close(fd);
    if (err == 0)
        err = cerr;
    if (err < 0)
        coro_unlinkat(fs->root_fd, tmp, 0);
    return err;
}

int fs_install(struct fs_backend *fs, const char *tmp, const char *rel)
{
    int err = 0;
    /* A delete may prune a parent between our mkdir and our rename: try again a few times. */
    for (int attempt = 0; attempt < 4; attempt++) {
        err = coro_renameat(fs->root_fd, tmp, fs->root_fd, rel, 0);
        if (err != -ENOENT)
            break;
        err = fs_make_parents(fs, rel);
        if (err < 0)
            break;
    }
    if (err < 0) {
        coro_unlinkat(fs->root_fd, tmp, 0);
        return err;
    }
    return fs->fsync ? fs_sync_parent(fs, rel) : 0;
}

static int fs_put(struct backend *b, const char *bkey, struct body_source *src, int64_t size)
{
    struct fs_backend *fs = fs_of(b);
    char rel[FS_PATH_MAX], tmp[FS_TMP_NAME_MAX];
    int err = backend_fs_path(bkey, rel, sizeof(rel));
    if (err < 0)
        return err;
    fs_tmp_name(fs, tmp);
    err = fs_write_tmp(fs, tmp, src, size);
    if (err < 0)
        return err;
    return fs_install(fs, tmp, rel);
}

static void fs_sink_spliced(struct body_sink *sink, size_t n)
{
    if (sink->spliced)
        sink->spliced(sink, n);
}

int fs_pipe_open(int p[2])
{
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    fcntl(p[1], F_SETPIPE_SZ, 1024 * 1024);
    return 0;
}

int fs_splice(const int p[2], int fd, int64_t off, int64_t len, int out_fd, int64_t *out_off, struct body_sink *sink)
{
    int err = 0;
    while (len > 0 && err == 0) {
        size_t want = len < FS_IO_CHUNK * 4 ? (size_t)len : FS_IO_CHUNK * 4;
        ssize_t in = coro_splice(fd, off, p[1], -1, want, 0, 0);
        if (in <= 0) {
            err = in < 0 ? (int)in : -ERANGE; /* the file shrank under us */
            break;
        }
        off += in;
        len -= in;
        while (in > 0) {
            ssize_t out = coro_splice(p[0], -1, out_fd, out_off ? *out_off : -1, (size_t)in, 0,
                                      sink ? coro_deadline_in(sink->deadline_step) : 0);
            if (out <= 0) {
                err = out < 0 ? (int)out : -EPIPE;
                break;
            }
            if (out_off)
                *out_off += out;
            if (sink)
                fs_sink_spliced(sink, (size_t)out);
            in -= out;
        }
    }
    return err;
}

static void fs_get_spliced(void *arg, size_t n) { fs_sink_spliced(arg, n); }

/* file → pipe → sink descriptor, each step bounded by the sink's stall bound: a client that stops reading is
 * dropped, not waited for. */
static int fs_get_splice(int fd, int64_t off, int64_t len, struct body_sink *sink)
{
    struct splice_move how = {.step_ns = sink->deadline_step, .moved = fs_get_spliced, .arg = sink, .in_off = &off};
    ssize_t n = splice_move(fd, sink->splice_fd, (size_t)len, &how);
    if (n < 0)
        return (int)n;
    return n < len ? -ERANGE : 0; /* the file shrank under us */
}

static int fs_get_copy(int fd, int64_t off, int64_t len, struct body_sink *sink)
{
    char *buf = malloc(FS_IO_CHUNK);
    if (!buf)
        return -ENOMEM;
    int err = 0;
    while (len > 0) {
        ssize_t n = coro_read(fd, buf, len < FS_IO_CHUNK ? (size_t)len : FS_IO_CHUNK, (uint64_t)off, 0);
        if (n <= 0) {
            err = n < 0 ? (int)n : -ERANGE;
            break;
        }
        ssize_t w = sink->write(sink, buf, (size_t)n);
        if (w < 0) {
            err = (int)w;
            break;
        }
        off += n;
        len -= n;
    }
    free(buf);
    return err;
}

static int fs_get(struct backend *b, const char *bkey, int64_t off, int64_t len, struct body_sink *sink)
{
    struct fs_backend *fs = fs_of(b);
    char rel[FS_PATH_MAX];
    int err = backend_fs_path(bkey, rel, sizeof(rel));
    if (err < 0)
        return err;
    if (off < 0 || len < 0)
        return -EINVAL;
    int fd = coro_openat(fs->root_fd, rel, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0 || off + len > st.st_size)
        err = -ERANGE;
    else if (len == 0)
        err = 0;
    else if ((err = body_sink_start(sink)) < 0)
        ;
    else if (sink->splice_fd >= 0)
        err = fs_get_splice(fd, off, len, sink);
    else
        err = fs_get_copy(fd, off, len, sink);
    coro_close(fd);
    return err;
}

static int fs_head(struct backend *b, const char *bkey, struct backend_object_info *out)
{
    struct fs_backend *fs = fs_of(b);
    char rel[FS_PATH_MAX];
    int err = backend_fs_path(bkey, rel, sizeof(rel));
    if (err < 0)
        return err;
    struct statx stx;
    err = coro_statx(fs->root_fd, rel, AT_SYMLINK_NOFOLLOW, STATX_SIZE | STATX_MTIME, &stx);
    if (err < 0)
        return err;
    out->size = (int64_t)stx.stx_size;
    out->mtime_ms = (int64_t)stx.stx_mtime.tv_sec * 1000 + stx.stx_mtime.tv_nsec / 1000000;
    return 0;
}

static int fs_del(struct backend *b, const char *bkey)
{
    struct fs_backend *fs = fs_of(b);
    char rel[FS_PATH_MAX];
    int err = backend_fs_path(bkey, rel, sizeof(rel));
    if (err < 0)
        return err;
    err = coro_unlinkat(fs->root_fd, rel, 0);
    if (err == -ENOENT)
        return 0;
    if (err == 0)
        fs_prune_parents(fs, rel);
    return err;
}

/* Links rather than copies, so the bytes are not even read: see the file comment. */
static int fs_copy(struct backend *b, const char *src_bkey, const char *dst_bkey)
{
    struct fs_backend *fs = fs_of(b);
    char src[FS_PATH_MAX], dst[FS_PATH_MAX], tmp[FS_TMP_NAME_MAX];
    int err = backend_fs_path(src_bkey, src, sizeof(src));
    if (err == 0)
        err = backend_fs_path(dst_bkey, dst, sizeof(dst));
    if (err < 0)
        return err;
    /* Linked in %tmp first and renamed over dst: linkat cannot replace, and readers must not see dst missing. */
    fs_tmp_name(fs, tmp);
    err = coro_linkat(fs->root_fd, src, fs->root_fd, tmp, 0);
    /* No hard links on this file system, or the file has too many: the caller streams instead. */
    if (err == -EPERM || err == -EMLINK || err == -EXDEV)
        return -ENOTSUP;
    if (err < 0)
        return err;
    err = fs_install(fs, tmp, dst);
    /* When dst already names src's file (dst is src, or an earlier copy of it) the rename does nothing and
     * leaves tmp behind. */
    if (err == 0)
        coro_unlinkat(fs->root_fd, tmp, 0);
    return err;
}

static void fs_free(struct backend *b)
{
    struct fs_backend *fs = fs_of(b);
    close(fs->root_fd);
    free(fs);
}

static const struct backend_ops fs_ops = {
    .put = fs_put,
    .get = fs_get,
    .head = fs_head,
    .del = fs_del,
    .copy = fs_copy,
    .mpu_create = fs_mpu_create,
    .mpu_put_part = fs_mpu_put_part,
    .mpu_complete = fs_mpu_complete,
    .mpu_abort = fs_mpu_abort,
    .list = fs_list,
    .free = fs_free,
};

static int mkdir_p(const char *path)
{
    char buf[FS_PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* Empties dir under dfd; with `descend`, also the directories it holds (one level), removing them. */
static void fs_clear_dir(int dfd, const char *dir, bool descend)
{
    int fd = openat(dfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        if (unlinkat(fd, e->d_name, 0) < 0 && errno == EISDIR && descend) {
            fs_clear_dir(fd, e->d_name, false);
            unlinkat(fd, e->d_name, AT_REMOVEDIR);
        }
    }
    closedir(d);
}

int backend_fs_open(struct backend **out, const char *name, const char *root, bool durability_fsync)
{
    int err = mkdir_p(root);
    if (err < 0)
        return err;
    struct fs_backend *fs = calloc(1, sizeof(*fs));
    if (!fs)
        return -ENOMEM;
    fs->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fs->root_fd < 0) {
        err = -errno;
        free(fs);
        return err;
    }
    /* Temporary files (and uploads being dropped) left by a crash belong to no object; uploads are kept. */
    if ((mkdirat(fs->root_fd, FS_TMP_DIR, 0755) < 0 && errno != EEXIST) ||
        (mkdirat(fs->root_fd, FS_MPU_DIR, 0755) < 0 && errno != EEXIST)) {
        err = -errno;
        close(fs->root_fd);
        free(fs);
        return err;
    }
    fs_clear_dir(fs->root_fd, FS_TMP_DIR, true);
    fs->base.ops = &fs_ops;
    snprintf(fs->base.name, sizeof(fs->base.name), "%s", name);
    fs->fsync = durability_fsync;
    getrandom(&fs->tmp_salt, sizeof(fs->tmp_salt), 0);
    *out = &fs->base;
    return 0;
}
