/* How many CPUs this process may really use: its affinity mask, capped by a cgroup CPU quota (a Kubernetes pod's
 * limits.cpu shows up as cpu.max, not in the affinity mask). */
#ifndef S3ORCH_CPU_H
#define S3ORCH_CPU_H

#include <sched.h>

/* CPUs from "cpu.max" text ("max 100000" → -1, "150000 100000" → 2: a partial CPU still needs a thread). */
int cpu_quota_parse_v2(const char *cpu_max);
/* CPUs from cgroup v1 cfs_quota_us / cfs_period_us; -1 when unlimited. */
int cpu_quota_parse_v1(long quota_us, long period_us);
/* Usable CPU count (>= 1); *set receives the affinity mask for pinning. */
int cpu_usable(cpu_set_t *set);
/* The n-th CPU in set (wrapping), for pinning thread n. */
int cpu_nth(const cpu_set_t *set, int n);

#endif
