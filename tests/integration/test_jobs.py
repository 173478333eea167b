"""Background jobs (issue #7, M4; W5, W6) and run modes: the cleaner retries the deletes that failed and parks a
copy it cannot delete; the pending reaper undoes what a crash between a backend write and its commit left; each
job runs on one instance at a time, moving to another when its instance dies; `--mode api` runs no jobs and
`--mode worker` serves no S3 API. Every test runs on SQLite and again on PostgreSQL (S3ENV_STORE)."""

import json
import os
import time
import urllib.request

import pytest
from botocore.exceptions import BotoCoreError

from backends import find_backend_objects, moto_server, s3_backend_entry  # noqa: F401  (fixture)
from conftest import scaled
from picky_backend import picky  # noqa: F401  (fixture)
from s3env import BUCKET, error_of, files_under, make_client, write_config

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
NO_BREAKER = "backend_circuit_breaker: { enabled: false }\n"


def jobs_yaml(max_attempts=10, pending_timeout="1s"):
    return (f"cleanup_queue: {{ interval: 100ms, retry_backoff: 200ms, max_attempts: {max_attempts}, "
            f"pending_timeout: {pending_timeout} }}\n")


def stats(srv):
    with _NO_PROXY.open(srv.url + "/_debug/stats", timeout=scaled(10)) as r:
        return json.load(r)


def used(srv):
    return {k: v["used_bytes"] for k, v in stats(srv)["backends"].items()}


def job(srv, name):
    return stats(srv)["jobs"][name]


def post(srv, path):
    req = urllib.request.Request(srv.url + path, method="POST", data=b"")
    with _NO_PROXY.open(req, timeout=scaled(10)) as r:
        assert r.status == 200


def wait_for(what, check, timeout=10.0):
    deadline = time.monotonic() + scaled(timeout)
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def copies_of(p, key):
    return find_backend_objects([p.moto], BUCKET, key)


def overwrite_with_failing_delete(server, tmp_path, picky, max_attempts, *extra_args):
    """An instance over one backend that refuses DELETEs, and key `k` written twice: the first version's copy
    stays behind, queued for cleanup. Returns (instance, backend)."""
    p = picky(fail_deletes=True)
    cfg = write_config(tmp_path, backends=s3_backend_entry("b1", p), extra=jobs_yaml(max_attempts) + NO_BREAKER)
    srv = server("--config", str(cfg), "--debug-endpoints", *extra_args, listen=None)
    s3 = make_client(srv.url)
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"a" * 1000)
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"b" * 2000)
    return srv, p


def test_cleaner_retries_a_failed_delete_until_it_succeeds(server, tmp_path, picky):
    srv, p = overwrite_with_failing_delete(server, tmp_path, picky, 10)
    wait_for("the cleaner to fail a retry", lambda: job(srv, "cleaner")["failed"] >= 1)
    assert len(copies_of(p, "k")) == 2, "the displaced copy is still on the backend"
    p.fail_deletes = False
    wait_for("the displaced copy to be deleted", lambda: len(copies_of(p, "k")) == 1)
    wait_for("its bytes to be freed", lambda: stats(srv)["backends"]["b1"]["used_bytes"] == 2000)
    assert make_client(srv.url).get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"b" * 2000
    cleaner = job(srv, "cleaner")
    assert cleaner["holder"] and cleaner["done"] >= 1 and cleaner["parked"] == 0, cleaner
    store = stats(srv)["store"]
    assert store["requests"] >= store["transactions"] > 0 and store["max_batch"] >= 1, store


def test_cleaner_parks_a_copy_after_max_attempts(server, tmp_path, picky):
    """max_attempts 2: the request's own delete is the first attempt, the cleaner's the second; then the row is
    parked and not tried again, though the backend would now take the delete."""
    srv, p = overwrite_with_failing_delete(server, tmp_path, picky, 2)
    wait_for("the copy to be parked", lambda: job(srv, "cleaner")["parked"] == 1)
    p.fail_deletes = False
    passes = job(srv, "cleaner")["passes"]
    wait_for("three more cleaner passes", lambda: job(srv, "cleaner")["passes"] >= passes + 3)
    assert len(copies_of(p, "k")) == 2
    assert job(srv, "cleaner")["done"] == 0


def crash_at(srv, point, call, answered=False):
    """Arms a crash point, makes the call (which the crash cuts, unless it comes after the answer), and waits for
    the crash point's exit code."""
    post(srv, f"/_debug/crash?at={point}")
    if answered:
        call()
    else:
        with pytest.raises(BotoCoreError):
            call()
    assert srv.wait(scaled(10)) == 70, srv.stderr()
    srv.stopped = True


def test_reaper_undoes_a_put_cut_before_its_commit(server, tmp_path):
    """A crash after the backend write and before the commit leaves a copy and an intent. After a restart the
    reaper drops the intent and queues the copy, the cleaner deletes it, and its bytes are freed."""
    cfg = write_config(tmp_path, extra=jobs_yaml())
    srv = server("--config", str(cfg), "--debug-endpoints", listen=None)
    s3 = make_client(srv.url)
    s3.put_object(Bucket=BUCKET, Key="keep", Body=b"k" * 1000)
    crash_at(srv, "put-before-commit", lambda: s3.put_object(Bucket=BUCKET, Key="lost", Body=b"x" * 5000))
    assert len(files_under(tmp_path / "disk1")) == 2, "the cut PUT's copy is on the disk"

    srv = server("--config", str(cfg), "--debug-endpoints", listen=None)
    s3 = make_client(srv.url)
    wait_for("the copy to be deleted", lambda: len(files_under(tmp_path / "disk1")) == 1)
    wait_for("its bytes to be freed", lambda: stats(srv)["backends"]["disk1"]["used_bytes"] == 1000)
    assert job(srv, "reaper")["done"] == 1
    assert error_of(lambda: s3.head_object(Bucket=BUCKET, Key="lost")) == ("404", 404)
    assert s3.get_object(Bucket=BUCKET, Key="keep")["Body"].read() == b"k" * 1000
    srv.stop()
    srv = server("--config", str(cfg), "--debug-endpoints", listen=None)
    assert used(srv) == {"disk1": 1000}, "an intent or a cleanup row was left"


def test_reaper_keeps_the_copies_of_a_committed_put(server, tmp_path):
    """A replicated PUT that crashed after its commit (the client heard 200), before dropping its second copy's
    intent: that copy is live, so the reaper drops only the intent; both copies stay and the object reads whole."""
    fs = "".join(f"  - name: disk{i}\n    type: fs\n    path: {tmp_path}/disk{i}\n" for i in (1, 2))
    cfg = write_config(tmp_path, backends=fs,
                       extra=jobs_yaml() + "replication:\n  factor: 2\n  mode: sync\n")
    srv = server("--config", str(cfg), "--debug-endpoints", listen=None)
    s3 = make_client(srv.url)
    data = os.urandom(3000)
    crash_at(srv, "replicated-after-commit", lambda: s3.put_object(Bucket=BUCKET, Key="two", Body=data),
             answered=True)

    srv = server("--config", str(cfg), "--debug-endpoints", listen=None)
    s3 = make_client(srv.url)
    wait_for("the reaper to resolve the intent", lambda: job(srv, "reaper")["done"] == 1)
    passes = job(srv, "cleaner")["passes"]
    wait_for("two more cleaner passes", lambda: job(srv, "cleaner")["passes"] >= passes + 2)
    assert [len(files_under(tmp_path / d)) for d in ("disk1", "disk2")] == [1, 1]
    assert used(srv) == {"disk1": 3000, "disk2": 3000}
    assert s3.get_object(Bucket=BUCKET, Key="two")["Body"].read() == data
    # A restart counts the bytes afresh from the store: no intent and no cleanup row may be left to count.
    srv.stop()
    srv = server("--config", str(cfg), "--debug-endpoints", listen=None)
    assert used(srv) == {"disk1": 3000, "disk2": 3000}


def test_api_and_worker_instances_split_the_work(server, tmp_path, picky):
    """--mode api serves S3 and runs no job; --mode worker runs the jobs on the same store and refuses S3."""
    api, p = overwrite_with_failing_delete(server, tmp_path, picky, 10, "--mode", "api")
    worker = server("--config", str(tmp_path / "s3orch.yaml"), "--debug-endpoints", "--mode", "worker")
    assert error_of(lambda: make_client(worker.url).head_object(Bucket=BUCKET, Key="k")) == ("503", 503)
    wait_for("the worker's cleaner to fail a retry", lambda: job(worker, "cleaner")["failed"] >= 1)
    p.fail_deletes = False
    wait_for("the worker to delete the displaced copy", lambda: len(copies_of(p, "k")) == 1)
    cleaner = job(api, "cleaner")
    assert cleaner["passes"] == 0 and cleaner["skipped"] == 0 and not cleaner["holder"], cleaner
    assert make_client(api.url).get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"b" * 2000


def test_a_worker_without_a_listener(server, tmp_path):
    cfg = write_config(tmp_path, extra=jobs_yaml())
    srv = server("--config", str(cfg), "--mode", "worker", listen=None)
    assert srv.port is None
    assert "running without a listener" in srv.stdout()
    time.sleep(0.3)  # a few job passes
    srv.stop()


def test_one_instance_runs_each_job_and_another_takes_over(server, tmp_path):
    """Two instances on one store: each job's lock is held by one of them; when that one is killed, the other
    takes the job over at its next interval."""
    cfg = write_config(tmp_path, extra=jobs_yaml())
    a = server("--config", str(cfg), "--debug-endpoints", listen=None)
    b = server("--config", str(cfg), "--debug-endpoints", listen=None)
    for name in ("cleaner", "reaper"):
        wait_for(f"one {name} to be skipped a few times",
                 lambda: max(job(a, name)["skipped"], job(b, name)["skipped"]) >= 3)
        ja, jb = job(a, name), job(b, name)
        assert ja["holder"] != jb["holder"], (ja, jb)
        waiting = jb if ja["holder"] else ja
        assert waiting["passes"] == 0, waiting
    holder, other = (a, b) if job(a, "cleaner")["holder"] else (b, a)
    holder.kill()
    holder.stopped = True
    wait_for("the other instance to take the cleaner over", lambda: job(other, "cleaner")["holder"])
    wait_for("the other instance's cleaner to run", lambda: job(other, "cleaner")["passes"] >= 2)


def test_a_stop_during_a_pass_is_not_missed(server, tmp_path):
    """SIGTERM just after start lands while the jobs run their first pass (store calls that yield); with an
    interval of an hour, a job that then waited out its interval would hold the exit for an hour."""
    cfg = write_config(tmp_path, extra="cleanup_queue: { interval: 1h }\n")
    for _ in range(5):
        srv = server("--config", str(cfg), listen=None)
        srv.stop()
