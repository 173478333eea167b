/* Listing the local-disk backend: a walk of its tree in key order.
 *
 * Directory order is not key order: names are encoded ("a b" is "a%20b", which sorts before "a+b"'s "a%2Bb" but
 * after "a%"'s "a%25"), a segment implies a "/" after it, and a long segment goes on in a "…%+" directory whose
 * keys can sort before or after those of its "…/" sibling. So each directory is read whole, its names decoded
 * and sorted by the key bytes they stand for, and the walk goes depth first in that order. The page keeps the
 * max + 1 smallest keys found so far in a sorted array (max + 1 to know whether more follow); a subtree is
 * skipped without being read when every key in it would sort at or before start_after, outside prefix, or after
 * the page's last key once the page is full, and once a name sorts past all three bounds so do its later
 * siblings.
 *
 * Cost of a page: the directories whose key ranges meet [start_after, the page's end] within prefix, each read
 * whole (getdents) and sorted, plus one statx per key kept. A page deep in a large flat directory still reads
 * that whole directory; the tree itself is never read whole for one page. Memory: the names of the directories
 * on the current path, and the page. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend/fs_internal.h"
#include "coro/coro.h"

/* One entry of a directory being walked: its file name, and the key bytes it stands for right after it. */
struct fs_list_name {
    char *name; /* malloc'd; dec points into the same block */
    char *dec;
    size_t name_len, dec_len;
    enum fs_name_kind kind;
};

/* A directory on the walk's path, read and sorted. */
struct fs_list_dir {
    struct fs_list_name *v;
    size_t n, next;
    size_t key_len, path_len; /* of the walk's key and path at this directory */
};

struct fs_list_walk {
    struct fs_backend *fs;
    const char *prefix, *after;
    size_t prefix_len, after_len;
    struct backend_list_entry *v; /* sorted; room for want */
    size_t n, want;
    struct fs_list_dir *stack;
    size_t depth, stack_cap;
    char key[FS_PATH_MAX]; /* the key bytes the current name stands for (decoding never lengthens) */
    size_t key_len;
    char path[FS_PATH_MAX]; /* relative to the root; a directory's ends with "/" */
    size_t path_len;
};

/* memcmp order, shorter first on a tie. */
static int fs_key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

/* Compares only as far as the shorter goes: 0 when either is a prefix of the other. */
static int fs_prefix_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    return memcmp(a, b, an < bn ? an : bn);
}

static int fs_name_cmp(const void *a, const void *b)
{
    const struct fs_list_name *x = a, *y = b;
    return fs_key_cmp(x->dec, x->dec_len, y->dec, y->dec_len);
}

static void fs_list_dir_free(struct fs_list_dir *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].name);
    free(d->v);
}

/* Adds e's name if it is one of ours, of the type its name says. */
static int fs_list_dir_add(struct fs_list_dir *d, size_t *cap, const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    char *block = malloc(2 * n + 2);
    if (!block)
        return -ENOMEM;
    enum fs_name_kind kind;
    ssize_t dec = fs_name_decode(e->d_name, n, block + n + 1, n + 1, &kind);
    bool dir = kind != FS_NAME_OBJECT;
    if (dec < 0 || (e->d_type != DT_UNKNOWN && e->d_type != (dir ? DT_DIR : DT_REG))) {
        free(block);
        return 0;
    }
    if (d->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct fs_list_name *nv = realloc(d->v, ncap * sizeof(*nv));
        if (!nv) {
            free(block);
            return -ENOMEM;
        }
        d->v = nv;
        *cap = ncap;
    }
    memcpy(block, e->d_name, n + 1);
    d->v[d->n++] = (struct fs_list_name){block, block + n + 1, n, (size_t)dec, kind};
    return 0;
}

/* Reads the directory at the walk's path and pushes it. One that is gone (a delete pruned it) is empty. */
static int fs_list_push(struct fs_list_walk *w)
{
    if (w->depth == w->stack_cap) {
        size_t ncap = w->stack_cap ? w->stack_cap * 2 : 16;
        struct fs_list_dir *ns = realloc(w->stack, ncap * sizeof(*ns));
        if (!ns)
            return -ENOMEM;
        w->stack = ns;
        w->stack_cap = ncap;
    }
    struct fs_list_dir d = {.key_len = w->key_len, .path_len = w->path_len};
    int fd = coro_openat(w->fs->root_fd, w->path_len ? w->path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd == -ENOENT || fd == -ENOTDIR)
        fd = -1;
    else if (fd < 0)
        return fd;
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (fd >= 0 && !dir) {
        int err = -errno;
        coro_close(fd);
        return err;
    }
    int err = 0;
    size_t cap = 0;
    /* The ring has no op that lists a directory: readdir it is (blocking, as fs_multipart.c does), one directory
     * at a time. */
    errno = 0;
    for (struct dirent *e; dir && err == 0 && (e = readdir(dir));)
        err = fs_list_dir_add(&d, &cap, e);
    if (err == 0 && dir && errno)
        err = -errno;
    if (dir)
        closedir(dir);
    if (err < 0) {
        fs_list_dir_free(&d);
        return err;
    }
    if (d.n)
        qsort(d.v, d.n, sizeof(d.v[0]), fs_name_cmp);
    w->stack[w->depth++] = d;
    return 0;
}

static const struct backend_list_entry *fs_list_last(const struct fs_list_walk *w)
{
    return w->n == w->want ? &w->v[w->n - 1] : NULL;
}

enum fs_list_verdict { FS_LIST_ENTER, FS_LIST_SKIP, FS_LIST_STOP };

/* Whether the keys under the current name may belong in the page. All of them start with w->key (a segment's
 * "/" included); the name itself stands for its first `bare` bytes, the order its siblings are walked in. */
static enum fs_list_verdict fs_list_judge(const struct fs_list_walk *w, enum fs_name_kind kind, size_t bare)
{
    const struct backend_list_entry *last = fs_list_last(w);
    /* Later siblings stand for keys at or after this name's: past prefix or the full page, so are they. */
    if (fs_prefix_cmp(w->key, bare, w->prefix, w->prefix_len) > 0 ||
        (last && fs_key_cmp(w->key, bare, last->bkey, strlen(last->bkey)) >= 0))
        return FS_LIST_STOP;
    size_t q = w->key_len;
    if (fs_prefix_cmp(w->key, q, w->prefix, w->prefix_len) != 0)
        return FS_LIST_SKIP;
    if (kind == FS_NAME_OBJECT)
        return q >= w->prefix_len && fs_key_cmp(w->key, q, w->after, w->after_len) > 0 ? FS_LIST_ENTER
                                                                                        : FS_LIST_SKIP;
    if (fs_prefix_cmp(w->key, q, w->after, w->after_len) < 0 ||
        (last && fs_key_cmp(w->key, q, last->bkey, strlen(last->bkey)) >= 0))
        return FS_LIST_SKIP;
    return FS_LIST_ENTER;
}

/* Puts the object at the walk's path (key w->key) in its place in the page, dropping the page's last key when
 * full; judge made sure it sorts before that one. */
static int fs_list_add(struct fs_list_walk *w)
{
    struct statx stx;
    int err = coro_statx(w->fs->root_fd, w->path, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_SIZE | STATX_MTIME, &stx);
    if (err == -ENOENT || (err == 0 && !S_ISREG(stx.stx_mode)))
        return 0; /* deleted meanwhile, or not a file of ours */
    if (err < 0)
        return err;
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (fs_key_cmp(w->v[mid].bkey, strlen(w->v[mid].bkey), w->key, w->key_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < w->n && fs_key_cmp(w->v[lo].bkey, strlen(w->v[lo].bkey), w->key, w->key_len) == 0)
        return 0;
    char *bkey = malloc(w->key_len + 1);
    if (!bkey)
        return -ENOMEM;
    memcpy(bkey, w->key, w->key_len);
    bkey[w->key_len] = 0;
    if (w->n == w->want)
        free(w->v[--w->n].bkey);
    memmove(&w->v[lo + 1], &w->v[lo], (w->n - lo) * sizeof(w->v[0]));
    w->v[lo] = (struct backend_list_entry){
        .bkey = bkey,
        .size = (int64_t)stx.stx_size,
        .mtime_ms = (int64_t)stx.stx_mtime.tv_sec * 1000 + stx.stx_mtime.tv_nsec / 1000000,
    };
    w->n++;
    return 0;
}

/* Appends s to buf (of FS_PATH_MAX) at *len; false when it does not fit. */
static bool fs_list_append(char *buf, size_t *len, const char *s, size_t n)
{
    if (*len + n >= FS_PATH_MAX)
        return false;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = 0;
    return true;
}

static int fs_list_walk_run(struct fs_list_walk *w)
{
    int err = fs_list_push(w);
    while (err == 0 && w->depth) {
        struct fs_list_dir *d = &w->stack[w->depth - 1];
        if (d->next == d->n) {
            fs_list_dir_free(&w->stack[--w->depth]);
            continue;
        }
        const struct fs_list_name *e = &d->v[d->next++];
        w->key_len = d->key_len;
        w->path_len = d->path_len;
        bool dir = e->kind != FS_NAME_OBJECT;
        size_t bare = w->key_len + e->dec_len;
        /* A segment's keys go on with "/"; an object is its key exactly. */
        if (!fs_list_append(w->key, &w->key_len, e->dec, e->dec_len) ||
            (e->kind == FS_NAME_SEGMENT && !fs_list_append(w->key, &w->key_len, "/", 1)) ||
            !fs_list_append(w->path, &w->path_len, e->name, e->name_len) ||
            (dir && !fs_list_append(w->path, &w->path_len, "/", 1)))
            continue; /* too deep for any key of ours */
        enum fs_list_verdict v = fs_list_judge(w, e->kind, bare);
        if (v == FS_LIST_STOP)
            d->next = d->n;
        if (v != FS_LIST_ENTER)
            continue;
        err = dir ? fs_list_push(w) : fs_list_add(w); /* d is stale after a push */
    }
    while (w->depth)
        fs_list_dir_free(&w->stack[--w->depth]);
    return err;
}

int fs_list(struct backend *b, const char *prefix, const char *start_after, size_t max,
            struct backend_list_page *out)
{
    *out = (struct backend_list_page){0};
    if (max < 1 || max > BACKEND_LIST_MAX)
        return -EINVAL;
    struct fs_list_walk *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->fs = fs_of(b);
    w->prefix = prefix ? prefix : "";
    w->after = start_after ? start_after : "";
    w->prefix_len = strlen(w->prefix);
    w->after_len = strlen(w->after);
    w->want = max + 1;
    w->v = calloc(w->want, sizeof(w->v[0]));
    int err = w->v ? fs_list_walk_run(w) : -ENOMEM;
    out->v = w->v;
    out->n = w->n;
    if (err == 0 && out->n > max) {
        free(out->v[--out->n].bkey);
        out->truncated = true;
    }
    if (err < 0)
        backend_list_page_free(out);
    else if (out->n)
        out->next_start_after = out->v[out->n - 1].bkey;
    free(w->stack);
    free(w);
    return err;
}
