/* SHA-256: the message padding and length here, the compression of whole 64-byte blocks in one of two functions,
 * portable C or the x86 SHA extensions, picked before main (see sha256_setup). */
#include "util/sha256.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t ror(uint32_t x, int n) { return x >> n | x << (32 - n); }

/* One round, with the eight working variables renamed instead of moved: each round's d and h are the ones it
 * updates, and eight rounds in a row bring the names back where they started. */
#define ROUND(a, b, c, d, e, f, g, h, t)                                                                        \
    do {                                                                                                        \
        uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[(t) & 15];     \
        d += t1;                                                                                                \
        h = t1 + (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));                         \
    } while (0)

/* The message schedule in a 16-word ring: W[t] replaces W[t-16]. */
static uint32_t schedule(uint32_t w[16], int t)
{
    uint32_t w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
    uint32_t s0 = ror(w15, 7) ^ ror(w15, 18) ^ (w15 >> 3), s1 = ror(w2, 17) ^ ror(w2, 19) ^ (w2 >> 10);
    return w[t & 15] += s0 + w[(t - 7) & 15] + s1;
}

static void blocks_portable(uint32_t st[8], const uint8_t *p, size_t nblocks)
{
    for (; nblocks; nblocks--, p += 64) {
        uint32_t w[16];
        for (int t = 0; t < 16; t++)
            w[t] = load_be32(p + 4 * t);
        uint32_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
        for (int t = 0; t < 64; t += 8) {
            if (t >= 16)
                for (int i = 0; i < 8; i++)
                    schedule(w, t + i);
            ROUND(a, b, c, d, e, f, g, h, t);
            ROUND(h, a, b, c, d, e, f, g, t + 1);
            ROUND(g, h, a, b, c, d, e, f, t + 2);
            ROUND(f, g, h, a, b, c, d, e, t + 3);
            ROUND(e, f, g, h, a, b, c, d, t + 4);
            ROUND(d, e, f, g, h, a, b, c, t + 5);
            ROUND(c, d, e, f, g, h, a, b, t + 6);
            ROUND(b, c, d, e, f, g, h, a, t + 7);
        }
        st[0] += a, st[1] += b, st[2] += c, st[3] += d, st[4] += e, st[5] += f, st[6] += g, st[7] += h;
    }
}

#if defined(__x86_64__)
/* The SHA extensions keep the state as two vectors, ABEF and CDGH; each sha256rnds2 runs two rounds, each
 * sha256msg1/msg2 pair extends the message schedule by four words. */
__attribute__((target("sha,sse4.1"))) static void blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1); /* CDAB */
    __m128i st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B); /* EFGH */
    __m128i st0 = _mm_alignr_epi8(tmp, st1, 8);                                       /* ABEF */
    st1 = _mm_blend_epi16(st1, tmp, 0xF0);                                             /* CDGH */

    for (; nblocks; nblocks--, p += 64) {
        __m128i abef = st0, cdgh = st1, m[4];
        for (int i = 0; i < 16; i++) {
            if (i < 4) {
                m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), bswap);
            } else {
                /* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]; m[i & 3] holds W[4i-16 .. 4i-13] here. */
                __m128i w = _mm_sha256msg1_epu32(m[i & 3], m[(i + 1) & 3]);
                w = _mm_add_epi32(w, _mm_alignr_epi8(m[(i + 3) & 3], m[(i + 2) & 3], 4));
                m[i & 3] = _mm_sha256msg2_epu32(w, m[(i + 3) & 3]);
            }
            __m128i wk = _mm_add_epi32(m[i & 3], _mm_loadu_si128((const __m128i *)&K[4 * i]));
            st1 = _mm_sha256rnds2_epu32(st1, st0, wk);
            st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(wk, 0x0E));
        }
        st0 = _mm_add_epi32(st0, abef);
        st1 = _mm_add_epi32(st1, cdgh);
    }

    tmp = _mm_shuffle_epi32(st0, 0x1B);                                        /* FEBA */
    st1 = _mm_shuffle_epi32(st1, 0xB1);                                        /* DCHG */
    _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(tmp, st1, 0xF0));      /* DCBA */
    _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(st1, tmp, 8));         /* HGFE */
}

static bool shani_detect(void)
{
    unsigned a, b, c, d;
    /* __builtin_cpu_supports would need libgcc's __cpu_model, which Zig's runtime does not provide. */
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3))
        return false;
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

static void (*blocks)(uint32_t h[8], const uint8_t *p, size_t nblocks) = blocks_portable;
static const char *impl_name = "portable";

static void pick(bool portable)
{
    blocks = blocks_portable;
    impl_name = "portable";
#if defined(__x86_64__)
    if (!portable && shani_detect()) {
        blocks = blocks_shani;
        impl_name = "sha-ni";
    }
#endif
}

/* Runs before main: the choice is fixed before any thread hashes. */
__attribute__((constructor)) static void sha256_setup(void) { pick(false); }

void sha256_force_portable(bool on) { pick(on); }

const char *sha256_impl(void) { return impl_name; }

bool sha256_hw(void) { return blocks != blocks_portable; }

void sha256_init(struct sha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof(iv));
    s->len = 0;
    s->nbuf = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    s->len += n;
    if (s->nbuf) {
        size_t k = 64 - s->nbuf < n ? 64 - s->nbuf : n;
        memcpy(s->buf + s->nbuf, p, k);
        s->nbuf += k;
        p += k;
        n -= k;
        if (s->nbuf < 64)
            return;
        blocks(s->h, s->buf, 1);
        s->nbuf = 0;
    }
    if (n >= 64) {
        blocks(s->h, p, n / 64);
        p += n & ~(size_t)63;
        n &= 63;
    }
    memcpy(s->buf, p, n);
    s->nbuf = n;
}

void sha256_final(struct sha256 *s, uint8_t out[32])
{
    uint64_t bits = s->len * 8;
    s->buf[s->nbuf++] = 0x80;
    if (s->nbuf > 56) {
        memset(s->buf + s->nbuf, 0, 64 - s->nbuf);
        blocks(s->h, s->buf, 1);
        s->nbuf = 0;
    }
    memset(s->buf + s->nbuf, 0, 56 - s->nbuf);
    store_be32(s->buf + 56, (uint32_t)(bits >> 32));
    store_be32(s->buf + 60, (uint32_t)bits);
    blocks(s->h, s->buf, 1);
    for (int i = 0; i < 8; i++)
        store_be32(out + 4 * i, s->h[i]);
}
