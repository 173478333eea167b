#include <stdbool.h>
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

/* The tightest quota found in dir and its ancestors up to `root` (a limit may sit on any of them). v2 keeps it in
 * cpu.max, v1 in cpu.cfs_quota_us and cpu.cfs_period_us. */
static int quota_walk(const char *root, const char *cg_path, bool v2)
{
    char dir[2048], path[2200], buf[128];
    int best = -1;
    snprintf(dir, sizeof(dir), "%s%s", root, strcmp(cg_path, "/") == 0 ? "" : cg_path);
    for (;;) {
        int n = -1;
        if (v2) {
            snprintf(path, sizeof(path), "%s/cpu.max", dir);
            if (read_small_file(path, buf, sizeof(buf)) > 0)
                n = cpu_quota_parse_v2(buf);
        } else {
            long quota = 0, period = 0;
            snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
            if (read_small_file(path, buf, sizeof(buf)) > 0)
                quota = atol(buf);
            snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
            if (read_small_file(path, buf, sizeof(buf)) > 0)
                period = atol(buf);
            n = cpu_quota_parse_v1(quota, period);
        }
        if (n > 0 && (best < 0 || n < best))
            best = n;
        char *slash = strrchr(dir, '/');
        if (strlen(dir) <= strlen(root) || !slash)
            break;
        *slash = 0;
    }
    return best;
}

static bool controllers_have_cpu(const char *list)
{
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", list);
    char *save;
    for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
        if (strcmp(c, "cpu") == 0)
            return true;
    return false;
}

/* Reads /proc/self/cgroup ("0::/path" for v2, "N:cpu,cpuacct:/path" for v1) and looks where each hierarchy is
 * usually mounted: /sys/fs/cgroup (v2 alone), /sys/fs/cgroup/unified (hybrid), /sys/fs/cgroup/<controllers>. */
static int cgroup_quota(void)
{
    char buf[4096], root[512];
    int best = -1;
    if (read_small_file("/proc/self/cgroup", buf, sizeof(buf)) < 0)
        return -1;
    char *save;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = 0;
        const char *controllers = c1 + 1, *path = c2 + 1;
        int n = -1;
        if (!*controllers) {
            n = quota_walk("/sys/fs/cgroup", path, true);
            if (n < 0)
                n = quota_walk("/sys/fs/cgroup/unified", path, true);
        } else if (controllers_have_cpu(controllers)) {
            snprintf(root, sizeof(root), "/sys/fs/cgroup/%s", controllers);
            n = quota_walk(root, path, false);
            if (n < 0)
                n = quota_walk("/sys/fs/cgroup/cpu", path, false);
        }
        if (n > 0 && (best < 0 || n < best))
            best = n;
    }
    return best;
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
