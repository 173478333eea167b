"""Synchronous replication on write (issue #6, O5): with `replication.factor: N` and `mode: sync` the body goes to N
distinct backends at once and the client hears 200 only once the copies (or `write_quorum` of them) are stored; a
read fails over to another copy when one backend is gone; a body that fails its checks leaves nothing anywhere."""

import base64
import hashlib
import os
import time

import pytest

from backends import find_backend_objects, moto_server, s3_backend_entry, start_s3orch  # noqa: F401  (fixture)
from conftest import scaled
from s3env import BUCKET, error_of, files_under, make_client, raw, sha, write_config, xml_code

KIB = 1024
MIB = 1024 * KIB


def replication(factor, quorum=0):
    return f"replication:\n  factor: {factor}\n  mode: sync\n  write_quorum: {quorum}\n"


def fs_entries(dir_, n):
    return "".join(f"  - name: disk{i + 1}\n    type: fs\n    path: {dir_}/disk{i + 1}\n" for i in range(n))


def on_disks(tmp_path, n):
    return [len(files_under(tmp_path / f"disk{i + 1}")) for i in range(n)]


def start_moto_orch(server, tmp_path, motos, factor, quorum=0, breaker=""):
    backends = "".join(s3_backend_entry(f"b{i + 1}", m) for i, m in enumerate(motos))
    cfg = write_config(tmp_path, backends=backends, extra=replication(factor, quorum) + breaker,
                       server_keys={"backend_timeout": "5s"})
    return start_s3orch(server, cfg)


def holders(motos, key):
    return [m for m in motos if m.running and find_backend_objects([m], BUCKET, key)]


def test_factor_two_on_fs_backends(server, tmp_path):
    cfg = write_config(tmp_path, backends=fs_entries(tmp_path, 3), extra=replication(2) + "routing_strategy: spread\n")
    srv = server("--config", str(cfg), listen=None)
    s3 = make_client(srv.url)
    data = os.urandom(3 * MIB + 17)
    r = s3.put_object(Bucket=BUCKET, Key="rep/a", Body=data)
    assert r["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    assert sorted(on_disks(tmp_path, 3)) == [0, 1, 1], "two copies on two distinct backends"
    for i in range(1, 6):
        s3.put_object(Bucket=BUCKET, Key=f"rep/{i}", Body=os.urandom(1000))
    assert sum(on_disks(tmp_path, 3)) == 12 and max(on_disks(tmp_path, 3)) <= 6
    assert sha(s3.get_object(Bucket=BUCKET, Key="rep/a")["Body"].read()) == sha(data)
    # Every copy holds the same bytes.
    copies = [p for i in range(3) for p in (tmp_path / f"disk{i + 1}" / BUCKET / "rep").glob("a%23*")]
    assert len(copies) == 2 and all(sha(p.read_bytes()) == sha(data) for p in copies), copies
    s3.delete_object(Bucket=BUCKET, Key="rep/a")
    # The copies go right after the answer: wait for them (bounded).
    deadline = time.monotonic() + scaled(10)
    while sum(on_disks(tmp_path, 3)) != 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sum(on_disks(tmp_path, 3)) == 10


def test_bad_body_leaves_no_copy_anywhere(server, tmp_path):
    cfg = write_config(tmp_path, backends=fs_entries(tmp_path, 2), extra=replication(2))
    srv = server("--config", str(cfg), listen=None)
    data = os.urandom(600 * KIB)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    r = raw(srv, "PUT", f"/{BUCKET}/rep/bad", data, {"Content-MD5": wrong})
    assert r.status == 400 and xml_code(r) == "BadDigest", (r.status, r.body[:300])
    assert on_disks(tmp_path, 2) == [0, 0]
    assert error_of(lambda: make_client(srv.url).head_object(Bucket=BUCKET, Key="rep/bad")) == ("404", 404)


def test_a_copy_survives_its_backend_dying(server, tmp_path, moto_server):
    m1, m2 = moto_server(2)
    srv = start_moto_orch(server, tmp_path, [m1, m2], 2)
    s3 = make_client(srv.url)
    data = os.urandom(2 * MIB + 3)
    s3.put_object(Bucket=BUCKET, Key="rep/x", Body=data)
    assert holders([m1, m2], "rep/x") == [m1, m2]
    m1.stop(kill=True)  # right after the 200
    for _ in range(3):
        assert sha(s3.get_object(Bucket=BUCKET, Key="rep/x")["Body"].read()) == sha(data)
    got = s3.get_object(Bucket=BUCKET, Key="rep/x", Range="bytes=100-199")["Body"].read()
    assert got == data[100:200]


def test_write_quorum(server, tmp_path, moto_server):
    """factor 3, quorum 2: with one backend down a PUT still succeeds on the other two; with quorum 3 (all) it
    fails cleanly and leaves no copy behind on the backends that took one."""
    motos = moto_server(3)
    motos[2].stop(kill=True)
    srv = start_moto_orch(server, tmp_path, motos, 3, 2)
    s3 = make_client(srv.url)
    data = os.urandom(300 * KIB)
    s3.put_object(Bucket=BUCKET, Key="q/ok", Body=data)
    assert holders(motos, "q/ok") == motos[:2]
    assert sha(s3.get_object(Bucket=BUCKET, Key="q/ok")["Body"].read()) == sha(data)
    srv.stop()

    (tmp_path / "all").mkdir()
    srv = start_moto_orch(server, tmp_path / "all", motos, 3, 0)
    s3 = make_client(srv.url)
    code, status = error_of(lambda: s3.put_object(Bucket=BUCKET, Key="q/all", Body=data))
    assert status == 503, (code, status)
    assert holders(motos, "q/all") == [], "a failed PUT left copies behind"
    assert error_of(lambda: s3.head_object(Bucket=BUCKET, Key="q/all")) == ("404", 404)


@pytest.mark.parametrize("size", [0, 1, 5 * MIB + 1])
def test_sizes(server, tmp_path, size):
    cfg = write_config(tmp_path, backends=fs_entries(tmp_path, 2), extra=replication(2))
    srv = server("--config", str(cfg), listen=None)
    s3 = make_client(srv.url)
    data = os.urandom(size)
    s3.put_object(Bucket=BUCKET, Key="rep/s", Body=data)
    assert on_disks(tmp_path, 2) == [1, 1]
    assert s3.get_object(Bucket=BUCKET, Key="rep/s")["Body"].read() == data
