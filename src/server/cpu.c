#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/cpu.h"

int cpu_quota_parse_v1(long quota_us, long period_us)
{
    if (quota_us <= 0 || period_us <= 0)
        return -1;
    long n = (quota_us + period_us - 1) / period_us;
    return n < 1 ? 1 : (int)n;
}

int cpu_quota_parse_v2(const char *cpu_max)
{
    char quota[32];
    long period = 0;
    if (sscanf(cpu_max, "%31s %ld", quota, &period) != 2 || strcmp(quota, "max") == 0)
        return -1;
    char *end;
    long q = strtol(quota, &end, 10);
    if (*end)
        return -1;
    return cpu_quota_parse_v1(q, period);
}

static int read_small_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return (int)n;
}

/* The process's own cgroup v2 directory ("0::/kubepods/…" in /proc/self/cgroup), or "" when not found. */
static void cgroup_v2_dir(char *dir, size_t cap)
{
    char buf[4096];
    dir[0] = 0;
    if (read_small_file("/proc/self/cgroup", buf, sizeof(buf)) < 0)
        return;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "0::", 3) == 0) {
            snprintf(dir, cap, "/sys/fs/cgroup%s", line + 3);
            return;
        }
    }
}

static int cgroup_quota(void)
{
    char dir[2048], path[2200], buf[128];
    cgroup_v2_dir(dir, sizeof(dir));
    /* The limit may sit on any ancestor; the tightest one wins. */
    int best = -1;
    while (dir[0]) {
        snprintf(path, sizeof(path), "%s/cpu.max", dir);
        if (read_small_file(path, buf, sizeof(buf)) > 0) {
            int n = cpu_quota_parse_v2(buf);
            if (n > 0 && (best < 0 || n < best))
                best = n;
        }
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir || strcmp(dir, "/sys/fs/cgroup") == 0)
            break;
        *slash = 0;
    }
    if (best > 0)
        return best;

    long quota = 0, period = 0;
    if (read_small_file("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", buf, sizeof(buf)) > 0)
        quota = atol(buf);
    if (read_small_file("/sys/fs/cgroup/cpu/cpu.cfs_period_us", buf, sizeof(buf)) > 0)
        period = atol(buf);
    return cpu_quota_parse_v1(quota, period);
}

int cpu_usable(cpu_set_t *set)
{
    CPU_ZERO(set);
    int n;
    if (sched_getaffinity(0, sizeof(*set), set) == 0) {
        n = CPU_COUNT(set);
    } else {
        n = 1;
        CPU_SET(0, set);
    }
    int quota = cgroup_quota();
    if (quota > 0 && quota < n)
        n = quota;
    return n < 1 ? 1 : n;
}

int cpu_nth(const cpu_set_t *set, int n)
{
    int count = CPU_COUNT(set);
    if (count == 0)
        return -1;
    n %= count;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, set) && n-- == 0)
            return cpu;
    return -1;
}
