/* Job locks on SQLite: an flock() on "<database>-job-<name>.lock". SQLite has no lock that outlives a statement,
 * and a row with a lease would need a clock and a renewal; a file lock goes with the process that held it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "store/sqlite_impl.h"

int store_sqlite_job_lock(struct store_sqlite *ss, struct store_req *req)
{
    enum store_job job = req->u.job.job;
    if (ss->job_fd[job] >= 0) {
        *req->u.job.held = true;
        return 0;
    }
    char path[4096];
    if (snprintf(path, sizeof(path), "%s-job-%s.lock", ss->path, store_job_name(job)) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        close(fd);
        if (err != EWOULDBLOCK)
            return -err;
        *req->u.job.held = false;
        return 0;
    }
    ss->job_fd[job] = fd;
    *req->u.job.held = true;
    return 0;
}

int store_sqlite_job_unlock(struct store_sqlite *ss, struct store_req *req)
{
    enum store_job job = req->u.job.job;
    if (ss->job_fd[job] >= 0)
        close(ss->job_fd[job]); /* the lock goes with the last descriptor of the open file */
    ss->job_fd[job] = -1;
    return 0;
}
