/* What every driver's list shares: freeing a page, and walking all pages one entry at a time. */
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
