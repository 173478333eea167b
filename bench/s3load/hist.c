#include <string.h>

#include "hist.h"

#define HALF (1u << (HIST_SUB_BITS - 1))

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min_ns = UINT64_MAX;
}

/* Values below 2^SUB_BITS index themselves. Above, the value keeps its top SUB_BITS bits: shift s drops the rest,
 * the mantissa lands in [HALF, 2 * HALF), and each shift adds HALF buckets after the linear 2 * HALF. */
static unsigned bucket_of(uint64_t v)
{
    if (v < 2 * HALF)
        return (unsigned)v;
    unsigned s = (unsigned)(63 - __builtin_clzll(v)) - (HIST_SUB_BITS - 1);
    unsigned i = 2 * HALF + (s - 1) * HALF + (unsigned)((v >> s) - HALF);
    return i < HIST_BUCKETS ? i : HIST_BUCKETS - 1;
}

/* The highest value that maps to bucket i. */
static uint64_t bucket_top(unsigned i)
{
    if (i < 2 * HALF)
        return i;
    unsigned s = (i - 2 * HALF) / HALF + 1;
    uint64_t mant = HALF + (i - 2 * HALF) % HALF;
    return ((mant + 1) << s) - 1;
}

void hist_record(struct hist *h, uint64_t ns)
{
    h->bucket[bucket_of(ns)]++;
    h->count++;
    h->sum_ns += ns;
    if (ns < h->min_ns)
        h->min_ns = ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

void hist_merge(struct hist *into, const struct hist *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->bucket[i] += from->bucket[i];
    into->count += from->count;
    into->sum_ns += from->sum_ns;
    if (from->min_ns < into->min_ns)
        into->min_ns = from->min_ns;
    if (from->max_ns > into->max_ns)
        into->max_ns = from->max_ns;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    if (!h->count)
        return 0;
    /* The rank of the sample wanted, 1-based: p99 of 1000 samples is the 990th. */
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            /* The last bucket also holds everything beyond the range: only the maximum bounds it. */
            uint64_t top = i == HIST_BUCKETS - 1 ? h->max_ns : bucket_top(i);
            return top < h->max_ns ? top : h->max_ns;
        }
    }
    return h->max_ns;
}
