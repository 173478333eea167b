"""Thread layout: one pinned request thread per usable CPU (affinity mask and cgroup CPU quota), --threads
overrides, plus one worker thread."""

import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import _binary, scaled

LISTEN_RE = re.compile(r"^listening on http://127\.0\.0\.1:(\d+)\s*$", re.M)


def start(tmp_path, prefix=(), args=()):
    out, err = tmp_path / "out", tmp_path / "err"
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(
            list(prefix) + [_binary(), "serve", "--listen", "127.0.0.1:0", *args],
            stdout=o,
            stderr=e,
            stdin=subprocess.DEVNULL,
            cwd=str(tmp_path),  # the embedded default makes its data dir here
        )
    deadline = time.monotonic() + scaled(15)
    while time.monotonic() < deadline and not LISTEN_RE.search(out.read_text()):
        assert proc.poll() is None, err.read_text()
        time.sleep(0.01)
    assert LISTEN_RE.search(out.read_text()), err.read_text()
    return proc


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=scaled(10)) == 0


def threads_of(pid):
    """{thread name: allowed CPU list} for every thread of pid."""
    result = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        name = (task / "comm").read_text().strip()
        cpus = re.search(r"Cpus_allowed_list:\s*(\S+)", (task / "status").read_text()).group(1)
        result[name] = cpus
    return result


def request_threads(pid):
    return {n: c for n, c in threads_of(pid).items() if n.startswith("s3orch-req-")}


def test_one_request_thread_per_cpu_plus_worker(tmp_path):
    proc = start(tmp_path)
    try:
        t = threads_of(proc.pid)
        req = request_threads(proc.pid)
        assert len(req) == len(os.sched_getaffinity(0))
        assert "s3orch-worker" in t
        # Pinned: each request thread on one CPU of its own.
        cpus = sorted(req.values())
        assert all(re.fullmatch(r"\d+", c) for c in cpus), req
        assert len(set(cpus)) == len(cpus)
    finally:
        stop(proc)


def test_affinity_mask_is_respected(tmp_path):
    if not shutil.which("taskset"):
        pytest.skip("taskset not installed")
    cpu = sorted(os.sched_getaffinity(0))[-1]
    proc = start(tmp_path, prefix=["taskset", "-c", str(cpu)])
    try:
        assert request_threads(proc.pid) == {"s3orch-req-0": str(cpu)}
    finally:
        stop(proc)


def test_threads_flag_overrides(tmp_path):
    proc = start(tmp_path, args=["--threads", "3"])
    try:
        assert len(request_threads(proc.pid)) == 3
    finally:
        stop(proc)


def _make_quota_cgroup():
    """A cgroup limited to half a CPU; (cgroup.procs path, cleanup) or None when this machine cannot make one."""
    name = f"s3orch-test-{uuid.uuid4().hex[:8]}"
    v1 = Path("/sys/fs/cgroup/cpu")
    v2 = Path("/sys/fs/cgroup")
    try:
        if (v1 / "cpu.cfs_quota_us").exists():
            d = v1 / name
            d.mkdir()
            (d / "cpu.cfs_quota_us").write_text("50000")
        elif (v2 / "cgroup.controllers").exists() and "cpu" in (v2 / "cgroup.subtree_control").read_text():
            d = v2 / name
            d.mkdir()
            (d / "cpu.max").write_text("50000 100000")
        else:
            return None
    except OSError:
        return None
    return d / "cgroup.procs", lambda: d.rmdir()


def test_cgroup_cpu_quota_caps_threads(tmp_path):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs 2 CPUs to see the quota take effect")
    cg = _make_quota_cgroup()
    if cg is None:
        pytest.skip("cannot create a cgroup with a CPU quota here")
    procs, cleanup = cg
    proc = None
    try:
        proc = start(tmp_path, prefix=["sh", "-c", f'echo $$ > {procs} && exec "$0" "$@"'])
        assert len(request_threads(proc.pid)) == 1
    finally:
        if proc:
            stop(proc)
        cleanup()
