/* Throughput of the checksums on one core: each algorithm over a 64 MiB buffer (so from memory), best of
 * BENCH_REPS runs (default 5), in GB/s (10^9 bytes per second); then CRC32C over a 1 MiB buffer read again and
 * again (so from cache), which is closer to checksumming data just received. Built and run by bench/checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "s3/s3_checksum.h"

#define SIZE (64u << 20)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Defeats dead-code elimination of the results. */
static volatile uint64_t sink;

static void run(const char *name, int reps, const uint8_t *buf, void (*fn)(const uint8_t *, size_t))
{
    double best = 1e9;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        fn(buf, SIZE);
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    printf("%-20s %6.2f GB/s\n", name, SIZE / best / 1e9);
}

static void crc32(const uint8_t *p, size_t n)
{
    sink += s3_crc32_update(0, p, n);
}

static void crc32c(const uint8_t *p, size_t n)
{
    sink += s3_crc32c_update(0, p, n);
}

static void crc32c_portable(const uint8_t *p, size_t n)
{
    sink += s3_crc32c_update_portable(0, p, n);
}

static void crc64nvme(const uint8_t *p, size_t n)
{
    sink += s3_crc64nvme_update(0, p, n);
}

static void digest(enum s3_checksum_alg alg, const uint8_t *p, size_t n)
{
    struct s3_checksum ck;
    uint8_t out[S3_CHECKSUM_MAX_SIZE];
    s3_checksum_init(&ck, alg);
    s3_checksum_update(&ck, p, n);
    s3_checksum_final(&ck, out);
    sink += out[0];
}

static void sha1(const uint8_t *p, size_t n)
{
    digest(S3_CK_SHA1, p, n);
}

static void sha256(const uint8_t *p, size_t n)
{
    digest(S3_CK_SHA256, p, n);
}

static void md5(const uint8_t *p, size_t n)
{
    struct s3_md5 m;
    uint8_t out[16];
    s3_md5_init(&m);
    s3_md5_update(&m, p, n);
    s3_md5_final(&m, out);
    sink += out[0];
}

int main(void)
{
    const char *env = getenv("BENCH_REPS");
    int reps = env && atoi(env) > 0 ? atoi(env) : 5;
    uint8_t *buf = malloc(SIZE);
    if (!buf)
        return 1;
    for (size_t i = 0; i < SIZE; i++)
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    printf("checksums over %u MiB, best of %d (crc32c path: %s)\n", SIZE >> 20, reps, s3_crc32c_impl());
    run("CRC32", reps, buf, crc32);
    run("CRC32C", reps, buf, crc32c);
    run("CRC32C (portable)", reps, buf, crc32c_portable);
    run("CRC64NVME", reps, buf, crc64nvme);
    run("SHA1 (wolfCrypt)", reps, buf, sha1);
    run("SHA256 (wolfCrypt)", reps, buf, sha256);
    run("MD5 (wolfCrypt)", reps, buf, md5);

    double best = 1e9;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        uint32_t c = 0;
        for (size_t done = 0; done < SIZE; done += 1u << 20)
            c = s3_crc32c_update(c, buf, 1u << 20);
        sink += c;
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    printf("%-20s %6.2f GB/s\n", "CRC32C (1 MiB, hot)", SIZE / best / 1e9);
    free(buf);
    return 0;
}
