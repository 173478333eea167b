"""Black-box tests of the configuration commands: `s3orch validate`, `s3orch init`, and `s3orch serve --config` /
`--data-dir` (the embedded default).

The binary is S3ORCH_BIN or zig-out/bin/s3orch (built by `scripts/zig build`); servers are started through the
`server` fixture of conftest.py, which stops them with SIGTERM and checks exit code 0 and a clean stderr.
"""

import os
import re
import socket
import stat
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, scaled

BIN = os.environ.get("S3ORCH_BIN") or str(REPO / "zig-out" / "bin" / "s3orch")

VALID = """\
server:
  listen_addr: "127.0.0.1:0"
  threads: 2
database:
  driver: sqlite
  path: {tmp}/meta.db
buckets:
  - name: photos
    credentials:
      - access_key_id: PHOTOSKEY
        secret_access_key: "${{PHOTOS_SECRET:-photos-secret}}"
backends:
  - name: disk1
    type: fs
    path: {tmp}/disk1
"""

# Line numbers matter: the test checks them.
BAD = """\
server:
  listen_addr: nowhere
  threds: 2
buckets:
  - name: Photos
    credentials:
      - access_key_id: PHOTOSKEY
        secret_access_key: "${S3ORCH_TEST_SURELY_UNSET}"
backends:
  - name: d
    type: fs
    path: /d
    quota_bytes: 10XB
  - name: d
    type: s3
routing_strategy: packk
replication:
  factor: 3
"""

BAD_EXPECTED = [
    (2, "server.listen_addr", "want host:port"),
    (3, "server.threds", "unknown key (did you mean 'threads'?)"),
    (5, "buckets[0].name", "lowercase"),
    (8, "buckets[0].credentials[0].secret_access_key", "environment variable S3ORCH_TEST_SURELY_UNSET is not set"),
    (13, "backends[0].quota_bytes", "bad size '10XB'"),
    (14, "backends[1].name", "duplicate backend name 'd'"),
    (14, "backends[1].endpoint", "required for type s3"),
    (16, "routing_strategy", "did you mean 'pack'?"),
    (18, "replication.factor", "3 copies need at least 3 backends"),
]


def run(*args, env=None, cwd=None, timeout=None):
    full_env = dict(os.environ)
    full_env.pop("S3ORCH_TEST_SURELY_UNSET", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [BIN, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout or scaled(30)
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def http_get(srv, path):
    with urllib.request.urlopen(srv.url + path, timeout=scaled(5)) as r:
        return r.status, r.read()


# --------------------------------------------------------------------------------------------------------------------
# validate


def test_validate_ok(tmp_path):
    cfg = write(tmp_path / "ok.yaml", VALID.format(tmp=tmp_path))
    r = run("validate", str(cfg))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{cfg}: ok\n"
    assert r.stderr == ""


def test_validate_reports_every_error_with_path_and_position(tmp_path):
    cfg = write(tmp_path / "bad.yaml", BAD)
    r = run("validate", str(cfg))
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    for line_no, path, needle in BAD_EXPECTED:
        pat = re.compile(rf"^{re.escape(str(cfg))}:{line_no}:\d+: {re.escape(path)}: .*{re.escape(needle)}")
        assert any(pat.search(ln) for ln in lines), f"no error line for {path} at line {line_no}:\n{r.stderr}"
    # One line per error plus the count; printed in file order.
    assert lines[-1] == f"{cfg}: {len(lines) - 1} errors"
    numbers = [int(m.group(1)) for ln in lines[:-1] if (m := re.match(rf"{re.escape(str(cfg))}:(\d+):", ln))]
    assert numbers == sorted(numbers)


def test_validate_env_variable(tmp_path):
    text = VALID.format(tmp=tmp_path).replace("${PHOTOS_SECRET:-photos-secret}", "${S3ORCH_TEST_SURELY_UNSET}")
    cfg = write(tmp_path / "env.yaml", text)
    r = run("validate", str(cfg))
    assert r.returncode == 1
    assert "buckets[0].credentials[0].secret_access_key: environment variable S3ORCH_TEST_SURELY_UNSET" in r.stderr
    r = run("validate", str(cfg), env={"S3ORCH_TEST_SURELY_UNSET": "a-secret-value"})
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{cfg}: ok\n"


def test_validate_yaml_syntax_error(tmp_path):
    cfg = write(tmp_path / "syntax.yaml", "server:\n  threads: 1\n bad: [\n")
    r = run("validate", str(cfg))
    assert r.returncode == 1
    assert re.search(rf"^{re.escape(str(cfg))}:\d+:\d+: YAML syntax: ", r.stderr, re.M), r.stderr


def test_validate_missing_file_and_usage(tmp_path):
    r = run("validate", str(tmp_path / "nope.yaml"))
    assert r.returncode == 1
    assert "nope.yaml: cannot read: No such file or directory" in r.stderr
    assert run("validate").returncode == 2
    assert run("validate", "a", "b").returncode == 2


# --------------------------------------------------------------------------------------------------------------------
# init


def test_init_stdout_validates(tmp_path):
    for args in (["init"], ["init", "-"]):
        r = run(*args)
        assert r.returncode == 0, r.stderr
        assert "server:" in r.stdout and "backends:" in r.stdout and "# " in r.stdout
        cfg = write(tmp_path / "from-stdout.yaml", r.stdout)
        v = run("validate", str(cfg))
        assert v.returncode == 0, v.stderr
        assert v.stdout == f"{cfg}: ok\n"


def test_init_file_keeps_existing_unless_forced(tmp_path):
    cfg = tmp_path / "s3orch.yaml"
    r = run("init", str(cfg))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600  # it holds a secret key
    first = cfg.read_text()
    assert run("validate", str(cfg)).returncode == 0

    r = run("init", str(cfg))
    assert r.returncode == 1
    assert "exists" in r.stderr and "--force" in r.stderr
    assert cfg.read_text() == first

    r = run("init", str(cfg), "--force")
    assert r.returncode == 0, r.stderr
    second = cfg.read_text()
    assert second != first  # a fresh credential
    assert run("validate", str(cfg)).returncode == 0


# --------------------------------------------------------------------------------------------------------------------
# serve --config


def test_serve_with_config_answers_health(server, tmp_path):
    cfg = write(tmp_path / "ok.yaml", VALID.format(tmp=tmp_path))
    srv = server("--config", str(cfg), listen=None)
    assert http_get(srv, "/health") == (200, b"ok")
    assert "2 request threads" in srv.stderr()  # server.threads from the file
    srv.stop()


def test_serve_flags_override_config(server, tmp_path):
    # The file asks for a port that cannot be bound and for one thread; the flags win.
    text = VALID.format(tmp=tmp_path).replace('"127.0.0.1:0"', '"127.0.0.1:1"').replace("threads: 2", "threads: 3")
    cfg = write(tmp_path / "ok.yaml", text)
    srv = server("--config", str(cfg), "--threads", "1")  # the fixture adds --listen 127.0.0.1:0
    assert http_get(srv, "/health") == (200, b"ok")
    assert "1 request threads" in srv.stderr()
    srv.stop()


def _silent_connection_lifetime(srv, limit):
    s = socket.create_connection((srv.host, srv.port), timeout=limit)
    t0 = time.monotonic()
    try:
        while True:
            try:
                if s.recv(4096) == b"":
                    break
            except socket.timeout:
                break
            except ConnectionResetError:
                break
    finally:
        s.close()
    return time.monotonic() - t0


def test_serve_config_timeouts_apply_and_flags_override(server, tmp_path):
    text = VALID.format(tmp=tmp_path).replace(
        "  threads: 2\n", "  threads: 1\n  header_timeout: 1s\n  idle_timeout: 1s\n"
    )
    cfg = write(tmp_path / "timeouts.yaml", text)
    srv = server("--config", str(cfg), listen=None)
    lifetime = _silent_connection_lifetime(srv, scaled(10))
    assert 0.8 <= lifetime < scaled(5), f"silent connection closed after {lifetime:.2f}s (config says 1s)"
    srv.stop()

    srv = server("--config", str(cfg), "--header-timeout", "30s", "--idle-timeout", "30s", listen=None)
    lifetime = _silent_connection_lifetime(srv, scaled(3))
    assert lifetime >= scaled(3) - 0.2, f"closed after {lifetime:.2f}s although the flags say 30s"
    srv.stop()


def test_serve_bad_config_exits_with_error_paths(tmp_path):
    cfg = write(tmp_path / "bad.yaml", BAD)
    r = run("serve", "--config", str(cfg), cwd=str(tmp_path), timeout=scaled(15))
    assert r.returncode != 0
    assert "listening on" not in r.stdout
    for _, path, _ in BAD_EXPECTED:
        assert f": {path}: " in r.stderr, f"{path} missing from stderr:\n{r.stderr}"


def test_serve_missing_config_file(tmp_path):
    r = run("serve", "--config", str(tmp_path / "nope.yaml"), cwd=str(tmp_path), timeout=scaled(15))
    assert r.returncode != 0
    assert "cannot read" in r.stderr


def test_serve_config_and_data_dir_conflict(tmp_path):
    cfg = write(tmp_path / "ok.yaml", VALID.format(tmp=tmp_path))
    r = run("serve", "--config", str(cfg), "--data-dir", str(tmp_path / "d"), cwd=str(tmp_path))
    assert r.returncode == 2
    assert "--data-dir" in r.stderr


# --------------------------------------------------------------------------------------------------------------------
# serve without --config: the embedded default


def _printed_credential(text):
    kid = re.search(r"^\s*access key id:\s+(\S+)$", text, re.M)
    sec = re.search(r"^\s*secret access key:\s+(\S+)$", text, re.M)
    assert kid and sec, text
    return kid.group(1), sec.group(1)


def test_embedded_default_credential_is_generated_once(server, tmp_path):
    srv = server()  # cwd is tmp_path: data lands in ./s3orch-data
    first = _printed_credential(srv.stdout())
    assert re.fullmatch(r"[A-Z0-9]{20}", first[0]) and len(first[1]) == 40
    creds = tmp_path / "s3orch-data" / "credentials"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert f"AWS_ACCESS_KEY_ID={first[0]}" in creds.read_text()
    assert http_get(srv, "/health") == (200, b"ok")
    srv.stop()

    srv = server()
    assert _printed_credential(srv.stdout()) == first
    srv.stop()


def test_embedded_default_data_dir(server, tmp_path):
    data = tmp_path / "elsewhere" / "data"
    srv = server("--data-dir", str(data))
    cred = _printed_credential(srv.stdout())
    assert f"AWS_SECRET_ACCESS_KEY={cred[1]}" in (data / "credentials").read_text()
    assert not (tmp_path / "s3orch-data").exists()
    srv.stop()


def test_embedded_default_refuses_foreign_credentials_file(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "credentials").write_text("not ours\n")
    r = run("serve", "--listen", "127.0.0.1:0", "--data-dir", str(data), cwd=str(tmp_path), timeout=scaled(15))
    assert r.returncode != 0
    assert "credentials" in r.stderr
    assert (data / "credentials").read_text() == "not ours\n"
