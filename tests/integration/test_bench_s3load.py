"""bench/s3load against a live s3orch: a short mixed run after --prepare succeeds with no errors, and wrong
credentials come back as 403 errors with a non-zero exit. A smoke test of the load generator, not a benchmark: runs
last 2 s (1 s under valgrind, S3ORCH_WRAPPER) at a small concurrency.

S3LOAD_BIN overrides the binary (default <repo>/zig-out/bench/s3load, built by `zig build`)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, scaled
from s3env import BUCKET, RW, UNDER_WRAPPER, env, module_env_fixture  # noqa: F401  (fixtures)

S3LOAD = Path(os.environ.get("S3LOAD_BIN") or REPO / "zig-out" / "bench" / "s3load")
DURATION = "1s" if UNDER_WRAPPER else "2s"


def s3load(e, *args, cred=RW):
    """Runs s3load --json against e; returns (exit code, the JSON report, stderr)."""
    if not S3LOAD.exists():
        pytest.skip(f"{S3LOAD} is not built (zig build)")
    cmd = [str(S3LOAD), "--endpoint", e.url, "--bucket", BUCKET, "--access-key", cred[0], "--secret-key", cred[1],
           "--threads", "2", "--concurrency", "8", "--duration", DURATION, "--timeout", f"{scaled(10):g}s",
           "--json", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=scaled(60), stdin=subprocess.DEVNULL,
                       env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
    assert "runtime error" not in r.stderr and "panic:" not in r.stderr, r.stderr
    try:
        report = json.loads(r.stdout)
    except ValueError:
        raise AssertionError(f"s3load printed no JSON (exit {r.returncode})\n{r.stdout}\n{r.stderr}")
    return r.returncode, report, r.stderr


RACE_LOG = "No such file or directory"


def race_lines(e):
    """s3orch's log lines of a GET that found its object's file gone."""
    return sum(1 for ln in e.srv.stderr().splitlines() if '"get ' in ln and RACE_LOG in ln) if e.srv else 0


def test_mixed_after_prepare(env):
    races_before = race_lines(env)
    rc, rep, err = s3load(env, "--prepare", "--op", "mixed", "--size", "4KiB", "--keys", "50")
    assert rep["phase"] == "run", rep
    assert rep["prepare"]["ops"] == 50 and rep["prepare"]["errors"] == 0, rep["prepare"]
    assert rep["by_op"]["get"]["ops"] > 0 and rep["by_op"]["put"]["ops"] > 0, rep
    # Known server race: a GET reads the object's metadata, a PUT of the same key commits and deletes the file it
    # displaced, and the GET's backend open finds nothing (logged as "get ... No such file or directory"). s3orch
    # answers 503, or cuts the connection ("io") when the 200 head was already out; S3 would serve the old or the
    # new object. Only errors that many log lines account for make this an expected failure.
    errors, races = rep["errors_by_status"], race_lines(env) - races_before
    if errors and set(errors) <= {"io", "503"} and rep["errors"] <= races:
        pytest.xfail(f"GET racing an overwriting PUT of the same key: {errors} (s3orch fs backend)")
    assert rc == 0 and rep["ops"] > 0 and rep["errors"] == 0, (rep, err)
    lat = rep["latency_ms"]
    assert 0 < lat["p50"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat


def test_get_checks_length(env):
    """PUTs, then GETs of the same objects (no overwrite racing them: errors must be none), then GETs asking for
    another size: every object is there, but none has the length asked for."""
    rc, rep, _ = s3load(env, "--prepare", "--op", "put", "--size", "1000", "--keys", "5", "--prefix", "len/",
                        "--duration", "200ms")
    assert rc == 0 and rep["by_op"]["put"]["ops"] > 0, rep
    rc, rep, _ = s3load(env, "--op", "get", "--size", "1000", "--keys", "5", "--prefix", "len/", "--duration", "200ms")
    assert rc == 0 and rep["by_op"]["get"]["ops"] > 0 and rep["errors"] == 0, rep
    rc, rep, _ = s3load(env, "--op", "get", "--size", "1001", "--keys", "5", "--prefix", "len/", "--duration", "200ms")
    assert rc == 1 and rep["ops"] == 0 and rep["errors_by_status"].get("length", 0) > 0, rep


def test_wrong_credentials(env):
    env.s3orch_only("moto does not check signatures")
    rc, rep, _ = s3load(env, "--prepare", "--op", "mixed", "--keys", "5", cred=(RW[0], "not-the-secret"))
    assert rc == 1, rep
    # prepare failed, so its figures are the report and the timed phase never ran
    assert rep["phase"] == "prepare" and rep["ops"] == 0, rep
    assert rep["errors"] == 5 and rep["errors_by_status"] == {"403": 5}, rep
    rc, rep, _ = s3load(env, "--op", "get", "--keys", "5", "--duration", "200ms", cred=(RW[0], "not-the-secret"))
    assert rc == 1 and rep["ops"] == 0 and rep["errors"] > 0 and set(rep["errors_by_status"]) == {"403"}, rep


def test_open_loop_keeps_to_its_rate(env):
    """--rate starts requests on a schedule: never more than the schedule holds, whatever the server's speed."""
    rc, rep, err = s3load(env, "--prepare", "--op", "get", "--size", "1000", "--keys", "5", "--prefix", "rate/",
                          "--rate", "100")
    seconds = float(DURATION.rstrip("s"))
    assert rc == 0 and rep["errors"] == 0 and rep["rate"] == 100, (rep, err)
    assert 0 < rep["ops"] <= 100 * seconds, rep
    assert rep["ops"] >= 100 * seconds / 4, f"far behind its schedule: {rep}"
    lat = rep["latency_ms"]
    assert 0 < lat["p50"] <= lat["p99"] <= lat["max"], lat
