"""Degraded mode (issue #6, O7): with the metadata store unreachable (for SQLite, the fault switch
POST /_debug/store-fault), reads are still served — from the thread's location cache, else by asking every backend
for the key (one after the other, or all at once with circuit_breaker.parallel_broadcast) — while writes and
listings answer 503 ServiceUnavailable; once the store is back, the breaker closes by itself."""

import os
import time
import urllib.request

import pytest

from backends import moto_server, s3_backend_entry, start_s3orch  # noqa: F401  (fixture)
from conftest import scaled
from s3env import BUCKET, error_of, make_client, write_config

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def breaker(parallel):
    return ("circuit_breaker:\n  failure_threshold: 2\n  open_timeout: 1s\n  cache_ttl: 60s\n"
            f"  parallel_broadcast: {'true' if parallel else 'false'}\n")


def fault(srv, down):
    req = urllib.request.Request(f"{srv.url}/_debug/store-fault?down={1 if down else 0}", method="POST", data=b"")
    with _NO_PROXY.open(req, timeout=scaled(10)) as r:
        assert r.status == 200


def fs_entries(dir_):
    return "".join(f"  - name: disk{i}\n    type: fs\n    path: {dir_}/disk{i}\n" for i in (1, 2))


def scenario(srv):
    s3 = make_client(srv.url)
    a, b, c = os.urandom(3000), os.urandom(200 * 1024), os.urandom(10)
    s3.put_object(Bucket=BUCKET, Key="dg/a", Body=a, ContentType="text/plain", Metadata={"m": "1"})
    s3.put_object(Bucket=BUCKET, Key="dg/b", Body=b)
    s3.put_object(Bucket=BUCKET, Key="dg/b", Body=c)  # b's older version may still be on the backend: c wins
    s3.put_object(Bucket=BUCKET, Key="dg/b#x", Body=b"not b")  # a key that starts like b's backend keys
    assert s3.get_object(Bucket=BUCKET, Key="dg/a")["Body"].read() == a  # now in the cache

    fault(srv, True)
    got = s3.get_object(Bucket=BUCKET, Key="dg/a")  # from the cache, with the headers the store had
    assert got["Body"].read() == a and got["ContentType"] == "text/plain" and got["Metadata"] == {"m": "1"}
    assert s3.get_object(Bucket=BUCKET, Key="dg/b")["Body"].read() == c  # by broadcast
    assert s3.get_object(Bucket=BUCKET, Key="dg/b", Range="bytes=2-5")["Body"].read() == c[2:6]
    assert s3.head_object(Bucket=BUCKET, Key="dg/b")["ContentLength"] == len(c)
    assert error_of(lambda: s3.get_object(Bucket=BUCKET, Key="dg/none")) == ("NoSuchKey", 404)
    for call in (lambda: s3.put_object(Bucket=BUCKET, Key="dg/new", Body=b"x"),
                 lambda: s3.list_objects_v2(Bucket=BUCKET),
                 lambda: s3.delete_object(Bucket=BUCKET, Key="dg/a")):
        assert error_of(call) == ("ServiceUnavailable", 503)

    fault(srv, False)
    deadline = time.monotonic() + scaled(15)
    while error_of(lambda: s3.put_object(Bucket=BUCKET, Key="dg/new", Body=b"x"))[0] is not None:
        assert time.monotonic() < deadline, "writes did not come back after the store did"
        time.sleep(0.2)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="dg/")["Contents"]] == \
        ["dg/a", "dg/b", "dg/b#x", "dg/new"]


@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "parallel"])
def test_reads_go_on_while_the_store_is_down_fs(server, tmp_path, parallel):
    cfg = write_config(tmp_path, backends=fs_entries(tmp_path), extra=breaker(parallel) + "routing_strategy: spread\n")
    scenario(server("--config", str(cfg), "--debug-endpoints", "--threads", "1", listen=None))


def test_reads_go_on_while_the_store_is_down_s3(server, tmp_path, moto_server):
    motos = moto_server(2)
    backends = "".join(s3_backend_entry(f"b{i + 1}", m) for i, m in enumerate(motos))
    cfg = write_config(tmp_path, backends=backends, extra=breaker(True) + "routing_strategy: spread\n")
    scenario(start_s3orch(server, cfg, "--debug-endpoints", "--threads", "1"))
