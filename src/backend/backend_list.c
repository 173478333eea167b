/* What every driver shares: freeing a list page, walking all pages one entry at a time, and deleting many keys
 * where the driver has no batch delete of its own. */
#include <errno.h>
#include <stdlib.h>

#include "backend/backend.h"

void backend_list_page_free(struct backend_list_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].bkey);
    free(p->v);
    *p = (struct backend_list_page){0};
}

void backend_list_iter_init(struct backend_list_iter *it, struct backend *b, const char *prefix, size_t page_max)
{
    *it = (struct backend_list_iter){.b = b, .prefix = prefix, .page_max = page_max};
}

int backend_list_iter_next(struct backend_list_iter *it, const struct backend_list_entry **out)
{
    while (it->i == it->page.n) {
        if (it->started && !it->page.truncated)
            return 0;
        if (it->started && it->page.n == 0)
            return -EPROTO; /* truncated yet empty: paging would start over */
        struct backend_list_page next = {0};
        int err = backend_list(it->b, it->prefix, it->page.next_start_after, it->page_max, &next);
        if (err < 0) {
            backend_list_page_free(&next);
            return err;
        }
        backend_list_page_free(&it->page);
        it->page = next;
        it->i = 0;
        it->started = true;
    }
    *out = &it->page.v[it->i++];
    return 1;
}

void backend_list_iter_free(struct backend_list_iter *it) { backend_list_page_free(&it->page); }

int backend_del_many(struct backend *b, const char *const *bkeys, size_t n, int *errs)
{
    if (n == 0 || n > BACKEND_DEL_MANY_MAX)
        return -EINVAL;
    if (b->ops->del_many)
        return b->ops->del_many(b, bkeys, n, errs);
    for (size_t i = 0; i < n; i++)
        errs[i] = backend_del(b, bkeys[i]);
    return 0;
}
