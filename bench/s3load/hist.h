/* Latency histogram, log-linear in the manner of HdrHistogram: exact below 2^HIST_SUB_BITS ns, then every power
 * of two split into 2^(HIST_SUB_BITS-1) equal buckets, so any value is known to within 1/512 of itself (three
 * significant digits) whatever the spread. Recording is an index computation and an increment; millions of samples
 * cost a fixed 130 KB per histogram and never a sort. One histogram per thread and op, merged at the end. */
#ifndef S3LOAD_HIST_H
#define S3LOAD_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 10
#define HIST_MAX_BITS 40 /* 2^40 ns is 18 minutes; longer samples land in the last bucket, read as the maximum */
#define HIST_BUCKETS ((HIST_MAX_BITS - HIST_SUB_BITS + 2) << (HIST_SUB_BITS - 1))

struct hist {
    uint64_t count, sum_ns, min_ns, max_ns;
    uint64_t bucket[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t ns);
void hist_merge(struct hist *into, const struct hist *from);
/* The value at quantile q (0..1) in ns: the highest value of the bucket holding it, capped by the exact maximum,
 * so a percentile never reads lower than some sample it stands for. 0 for an empty histogram. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
