/* Job locks on PostgreSQL: session advisory locks on the connection kept for them (store_pg_acquire_locks), so a
 * lock lasts while that session does and goes with it when an instance dies or loses the database. */
#include <errno.h>
#include <string.h>

#include "store/postgres_impl.h"

int store_pg_job_lock(struct store_pg_call *k, struct store_req *req)
{
    PGresult *r;
    store_pg_param_int(k, req->u.job.job);
    int err = store_pg_exec(k, PG_JOB_LOCK, &r);
    if (err < 0)
        return err;
    *req->u.job.held = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return 0;
}

int store_pg_job_unlock(struct store_pg_call *k, struct store_req *req)
{
    PGresult *r;
    store_pg_param_int(k, req->u.job.job);
    int err = store_pg_exec(k, PG_JOB_UNLOCK, &r);
    if (err == 0)
        PQclear(r);
    return err;
}
