/* Replays the config fuzz corpus (tests/fuzz/corpus/config) through the harness's checks, so every test run holds
 * the configuration loader to them under UBSan and valgrind, and checks each input gives back every byte it took
 * from the heap. glibc's count of bytes in use (mallinfo2) also counts the free chunks a thread keeps cached for
 * reuse, so each load runs in a thread of its own: its exit hands them back. Under valgrind the count is 0 and
 * valgrind's leak check (--leak-check=full) takes over. Runs with cwd = repo root. */
#include <dirent.h>
#include <malloc.h>
#include <pthread.h>

#include "../fuzz/fuzz_config_one.h"
#include "unit.h"

#define DIR_PATH "tests/fuzz/corpus/config"

struct load {
    const char *text;
    size_t len;
};

static void *load_thread(void *arg)
{
    const struct load *l = arg;
    fuzz_config_one(l->text, l->len); /* aborts on a broken invariant */
    return NULL;
}

/* Bytes held from malloc after loading text in a thread of its own, minus before; 0 under valgrind. */
static long long load_in_thread(const char *text, size_t len)
{
    struct load l = { text, len };
    pthread_t t;
    size_t before = mallinfo2().uordblks;
    if (pthread_create(&t, NULL, load_thread, &l) != 0)
        return -1;
    pthread_join(t, NULL);
    return (long long)mallinfo2().uordblks - (long long)before;
}

static void test_fuzz_corpus(void)
{
    DIR *dp = opendir(DIR_PATH);
    if (!dp) {
        fprintf(stderr, "    (no %s here: run from the repository root)\n", DIR_PATH);
        CHECK(dp != NULL);
        return;
    }
    load_in_thread("", 0); /* first-call allocations (stdio, the environment, the arena) are not leaks */
    int n = 0;
    for (struct dirent *e; (e = readdir(dp));) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", DIR_PATH, e->d_name);
        FILE *fp = fopen(path, "rb");
        CHECK(fp != NULL);
        if (!fp)
            continue;
        char *buf = malloc(FUZZ_CONFIG_MAX_INPUT);
        size_t len = buf ? fread(buf, 1, FUZZ_CONFIG_MAX_INPUT, fp) : 0;
        fclose(fp);
        CHECK(buf != NULL);
        long long grew = load_in_thread(buf, len);
        if (grew)
            fprintf(stderr, "    %s: %lld bytes more in use after loading\n", e->d_name, grew);
        CHECK_EQ(grew, 0);
        free(buf);
        CHECK_EQ(fuzz_config_run_file(path), 0);
        n++;
    }
    closedir(dp);
    CHECK(n >= 8);
}

/* Inputs at the edges: a lone "$", "${" at the very end, a NUL, and a text as long as the harness takes. */
static void test_edges(void)
{
    fuzz_config_one("$", 1);
    fuzz_config_one("a: ${", 5);
    fuzz_config_one("a: ${X:-", 8);
    fuzz_config_one("\0", 1);
    fuzz_config_one("a: \"\\", 5);
    char *big = malloc(FUZZ_CONFIG_MAX_INPUT);
    CHECK(big != NULL);
    if (!big)
        return;
    const char head[] = "server: { virtual_host_domains: [";
    memset(big, ' ', FUZZ_CONFIG_MAX_INPUT);
    memcpy(big, head, sizeof(head) - 1);
    for (size_t i = sizeof(head) - 1; i + 4 <= FUZZ_CONFIG_MAX_INPUT; i += 4)
        memcpy(big + i, "a.b,", 4);
    fuzz_config_one(big, FUZZ_CONFIG_MAX_INPUT);
    free(big);
}

int main(void)
{
    RUN(test_fuzz_corpus);
    RUN(test_edges);
    return unit_finish("test_fuzz_config_corpus");
}
