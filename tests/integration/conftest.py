"""Fixtures for the black-box tests of the s3orch binary.

Environment:
  S3ORCH_BIN         the binary (default: <repo>/zig-out/bin/s3orch)
  S3ORCH_WRAPPER     a command prefixed to it, e.g. "valgrind -q --error-exitcode=99" (valgrind needs a build
                     without sanitizers for a baseline CPU: scripts/zig build -Dsanitize=off -Dcpu=baseline
                     --prefix DIR, then S3ORCH_BIN=DIR/bin/s3orch)
  S3ORCH_TIME_SCALE  multiplier for every client-side wait and upper time bound (default 1; use more under valgrind)
  S3ENV_STORE        `sqlite` (default) or `postgres`: the metadata store of the servers the S3 suites start
                     (database_yaml); postgres needs S3ORCH_TEST_PG_DSN, a keyword=value libpq string of a server
                     where its user may create databases (scripts/pg-start prints one)
"""

import os
import re
import secrets
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TIME_SCALE = float(os.environ.get("S3ORCH_TIME_SCALE", "1") or "1")

# What a sanitizer or the Zig UBSan runtime prints when it fires.
_SANITIZER_MARKERS = ("runtime error", "panic:", "Sanitizer", "ERROR: LeakSanitizer")
_LISTEN_RE = re.compile(r"^(?:listening on http://127\.0\.0\.1:(\d+)|running without a listener)\s*$", re.M)


def scaled(seconds: float) -> float:
    return seconds * TIME_SCALE


STORE = os.environ.get("S3ENV_STORE", "") or "sqlite"
if STORE not in ("sqlite", "postgres"):
    raise ValueError(f"S3ENV_STORE={STORE!r}: expected sqlite or postgres")


def database_yaml(dir_) -> str:
    """The `database:` section of a server's config, ending in a newline: SQLite in dir_/meta.db, or under
    S3ENV_STORE=postgres a database of its own, created here, so that every server starts on an empty store as it
    does with SQLite."""
    if STORE == "sqlite":
        return f"database:\n  path: {dir_}/meta.db\n"
    admin = os.environ.get("S3ORCH_TEST_PG_DSN", "")
    if not admin:
        raise RuntimeError("S3ENV_STORE=postgres needs S3ORCH_TEST_PG_DSN (scripts/pg-start)")
    name = f"s3orch_it_{secrets.token_hex(6)}"
    subprocess.run(["psql", "-qX", "-v", "ON_ERROR_STOP=1", "-d", admin, "-c", f"CREATE DATABASE {name}"],
                   check=True, stdin=subprocess.DEVNULL, capture_output=True)
    # In a keyword=value string the last dbname wins.
    return f'database:\n  driver: postgres\n  dsn: "{admin} dbname={name}"\n'


def _binary() -> str:
    return os.environ.get("S3ORCH_BIN") or str(REPO / "zig-out" / "bin" / "s3orch")


def _wrapper() -> list:
    return shlex.split(os.environ.get("S3ORCH_WRAPPER", ""))


class Server:
    """One running s3orch process. stdout and stderr go to files under the test's tmp_path."""

    def __init__(self, args, tmp_path: Path, index: int):
        self.args = list(args)
        self.stdout_path = tmp_path / f"s3orch-{index}.stdout"
        self.stderr_path = tmp_path / f"s3orch-{index}.stderr"
        self.cmd = _wrapper() + [_binary(), "serve"] + self.args
        self.host = "127.0.0.1"
        self.port = None
        self.stopped = False
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=str(tmp_path))
        self._wait_listening(scaled(15.0))

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = _LISTEN_RE.search(self.stdout_path.read_text(errors="replace"))
            if m:
                self.port = int(m.group(1)) if m.group(1) else None
                return
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"s3orch exited with {self.proc.returncode} before listening: {shlex.join(self.cmd)}\n"
                    f"--- stdout ---\n{self.stdout()}\n--- stderr ---\n{self.stderr()}"
                )
            time.sleep(0.01)
        self.kill()
        raise AssertionError(
            f"s3orch printed no 'listening on' line within {timeout:.1f}s: {shlex.join(self.cmd)}\n"
            f"--- stdout ---\n{self.stdout()}\n--- stderr ---\n{self.stderr()}"
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stdout(self) -> str:
        try:
            return self.stdout_path.read_text(errors="replace")
        except OSError:
            return ""

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def sanitizer_report(self) -> str:
        """The stderr lines that look like a sanitizer/UBSan report, or ''."""
        lines = [ln for ln in self.stderr().splitlines() if any(m in ln for m in _SANITIZER_MARKERS)]
        return "\n".join(lines)

    def send_signal(self, sig=signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float):
        """Waits for exit; returns the exit code, or None if it is still running after timeout."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def check_clean(self) -> None:
        report = self.sanitizer_report()
        assert not report, f"sanitizer/UBSan report in s3orch stderr:\n{report}\n--- full stderr ---\n{self.stderr()}"

    def stop(self, sig=signal.SIGTERM, timeout: float = None) -> float:
        """Sends sig, waits (bounded) for the exit, asserts exit code 0 and a clean stderr.
        Returns the seconds from the signal to the exit."""
        timeout = scaled(10.0) if timeout is None else timeout
        self.stopped = True
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.wait(timeout)
        elapsed = time.monotonic() - t0
        if rc is None:
            self.kill()
            raise AssertionError(
                f"s3orch did not exit within {timeout:.1f}s of {signal.Signals(sig).name}\n--- stderr ---\n{self.stderr()}"
            )
        assert rc == 0, f"s3orch exited with {rc} (expected 0)\n--- stderr ---\n{self.stderr()}"
        self.check_clean()
        return elapsed


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    # Attach every server's stderr to a failing test's report (before fixture teardown kills the servers).
    if rep.failed:
        for srv in getattr(item, "_s3orch_servers", []):
            text = srv.stderr()
            if len(text) > 20000:
                text = "...\n" + text[-20000:]
            rep.sections.append((f"s3orch stderr ({shlex.join(srv.cmd)})", text))


@pytest.fixture
def server(request, tmp_path):
    """Factory: server(*args) starts `s3orch serve --listen 127.0.0.1:0 *args` and returns a Server once it listens.

    At teardown a server that is still running is stopped with SIGTERM; exit code 0 is asserted only when the test
    itself passed (after a failure it is killed if it does not exit). A sanitizer report fails the test either way.
    """
    servers = []
    request.node._s3orch_servers = servers

    def start(*args, listen="127.0.0.1:0"):
        argv = list(args)
        if listen is not None and "--listen" not in argv:
            argv = ["--listen", listen] + argv
        srv = Server(argv, tmp_path, len(servers))
        servers.append(srv)
        return srv

    yield start

    call_rep = getattr(request.node, "rep_call", None)
    test_passed = call_rep is not None and call_rep.passed
    errors = []
    for srv in servers:
        if srv.proc.poll() is None:
            if test_passed and not srv.stopped:
                try:
                    srv.stop()
                except AssertionError as e:
                    errors.append(str(e))
            else:
                srv.send_signal(signal.SIGTERM)
                if srv.wait(scaled(5.0)) is None:
                    srv.kill()
        elif test_passed and not srv.stopped and srv.proc.returncode != 0:
            errors.append(f"s3orch exited on its own with {srv.proc.returncode}\n--- stderr ---\n{srv.stderr()}")
        report = srv.sanitizer_report()
        if report:
            errors.append(f"sanitizer/UBSan report in s3orch stderr:\n{report}")
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)
