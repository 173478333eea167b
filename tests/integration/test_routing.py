"""Write routing over several fs backends (issue #6, O1/O2): `pack` fills backends in config order, `spread` keeps
their utilisation even, `weighted` follows the weights; a write that fits nowhere gets 507 InsufficientStorage before
its body is read; space is reserved for writes in flight, so racing writers never pass a quota; deletes give space
back, and a restart starts from what the store records."""

import concurrent.futures
import os
import socket
import time

from conftest import scaled
from s3env import BUCKET, error_of, files_under, make_client, signed_head, write_config

KIB = 1024
MIB = 1024 * KIB


def fs_backends(dir_, quotas, weights=None):
    out = ""
    for i, q in enumerate(quotas):
        out += f"  - name: disk{i + 1}\n    type: fs\n    path: {dir_}/disk{i + 1}\n    quota_bytes: {q}\n"
        if weights:
            out += f"    weight: {weights[i]}\n"
    return out


def start(server, tmp_path, quotas, strategy="pack", weights=None):
    cfg = write_config(tmp_path, backends=fs_backends(tmp_path, quotas, weights),
                       extra=f"routing_strategy: {strategy}\n")
    return server("--config", str(cfg), listen=None)


def counts(tmp_path, n):
    """Objects on each backend (one file each)."""
    return [len(files_under(tmp_path / f"disk{i + 1}")) for i in range(n)]


def put(s3, key, size):
    return s3.put_object(Bucket=BUCKET, Key=key, Body=os.urandom(size))


def code_of_put(s3, key, size):
    return error_of(lambda: put(s3, key, size))


def test_pack_fills_backends_in_order_then_spills(server, tmp_path):
    srv = start(server, tmp_path, [100 * KIB, 100 * KIB, 0])
    s3 = make_client(srv.url)
    for i in range(3):
        put(s3, f"pack/{i}", 30 * KIB)
    assert counts(tmp_path, 3) == [3, 0, 0]
    put(s3, "pack/3", 30 * KIB)  # 10 KiB left on disk1
    assert counts(tmp_path, 3) == [3, 1, 0]
    put(s3, "pack/4", 10 * KIB)  # exactly fills disk1
    assert counts(tmp_path, 3) == [4, 1, 0]
    put(s3, "pack/big", 150 * KIB)  # too big for either limited backend
    assert counts(tmp_path, 3) == [4, 1, 1]


def test_spread_keeps_backends_even(server, tmp_path):
    srv = start(server, tmp_path, [MIB, 2 * MIB, MIB], strategy="spread")
    s3 = make_client(srv.url)
    for i in range(8):
        put(s3, f"spread/{i}", 10 * KIB)
    assert counts(tmp_path, 3) == [2, 4, 2]


def test_weighted_follows_the_weights(server, tmp_path):
    srv = start(server, tmp_path, [0, 0], strategy="weighted", weights=[3, 1])
    s3 = make_client(srv.url)
    for i in range(200):
        put(s3, f"w/{i}", 1)
    c = counts(tmp_path, 2)
    # 150 ± 6 (one sd) expected on disk1.
    assert 120 <= c[0] <= 180 and c[0] + c[1] == 200, c


def test_no_room_is_507_before_the_body(server, tmp_path):
    srv = start(server, tmp_path, [64 * KIB])
    s3 = make_client(srv.url)
    assert code_of_put(s3, "full/big", 100 * KIB) == ("InsufficientStorage", 507)

    # A client that waits for 100-continue is refused without sending a byte of its body.
    size = 100 * KIB
    head = signed_head(srv, "PUT", f"/{BUCKET}/full/expect",
                       {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD", "Content-Length": str(size)},
                       unsigned="Expect: 100-continue\r\n")
    with socket.create_connection((srv.host, srv.port), timeout=scaled(10)) as s:
        s.sendall(head)
        got = b""
        while b"\r\n\r\n" not in got:
            d = s.recv(4096)
            if not d:
                break
            got += d
    assert got.startswith(b"HTTP/1.1 507"), got[:200]
    assert files_under(tmp_path / "disk1") == set()
    assert error_of(lambda: s3.head_object(Bucket=BUCKET, Key="full/expect")) == ("404", 404)
    put(s3, "full/fits", 64 * KIB)


def test_racing_writers_never_pass_the_quota(server, tmp_path):
    srv = start(server, tmp_path, [MIB])
    size = 100 * KIB

    def one(i):
        s3 = make_client(srv.url)
        try:
            put(s3, f"race/{i}", size)
            return "ok"
        except Exception as e:  # noqa: BLE001  (the code is what counts)
            return getattr(e, "response", {}).get("Error", {}).get("Code", repr(e))

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        results = list(pool.map(one, range(50)))
    assert results.count("ok") == MIB // size, results
    assert set(results) == {"ok", "InsufficientStorage"}, results
    stored = sum(os.path.getsize(tmp_path / "disk1" / f) for f in files_under(tmp_path / "disk1"))
    assert stored <= MIB and len(files_under(tmp_path / "disk1")) == MIB // size


def test_deletes_free_space_and_a_restart_keeps_the_account(server, tmp_path):
    srv = start(server, tmp_path, [100 * KIB])
    s3 = make_client(srv.url)
    put(s3, "acct/a", 60 * KIB)
    assert code_of_put(s3, "acct/b", 60 * KIB) == ("InsufficientStorage", 507)
    s3.delete_object(Bucket=BUCKET, Key="acct/a")
    # The copy is deleted right after the answer, beside the next request: its bytes come back within moments.
    deadline = time.monotonic() + scaled(10)
    while code_of_put(s3, "acct/b", 60 * KIB)[0] is not None:
        assert time.monotonic() < deadline, "the deleted object's bytes never came back"
        time.sleep(0.05)
    srv.stop()

    srv = server("--config", str(tmp_path / "s3orch.yaml"), listen=None)
    s3 = make_client(srv.url)
    assert code_of_put(s3, "acct/c", 60 * KIB) == ("InsufficientStorage", 507), "the restart forgot acct/b's bytes"
    put(s3, "acct/c", 40 * KIB)


def test_multipart_parts_reserve_on_their_backend(server, tmp_path):
    srv = start(server, tmp_path, [12 * MIB, 0])
    s3 = make_client(srv.url)
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="mpu/a")["UploadId"]
    part = os.urandom(5 * MIB)
    for n in (1, 2):
        s3.upload_part(Bucket=BUCKET, Key="mpu/a", UploadId=uid, PartNumber=n, Body=part)
    # The upload lives on disk1 (pack): a third part does not fit there, and parts never move.
    assert error_of(lambda: s3.upload_part(Bucket=BUCKET, Key="mpu/a", UploadId=uid, PartNumber=3,
                                           Body=part)) == ("InsufficientStorage", 507)
    s3.abort_multipart_upload(Bucket=BUCKET, Key="mpu/a", UploadId=uid)
    put(s3, "mpu/after-abort", 10 * MIB)  # the parts' space came back
    assert counts(tmp_path, 2) == [1, 0]
    got = s3.get_object(Bucket=BUCKET, Key="mpu/after-abort")
    assert got["ContentLength"] == 10 * MIB


def used_bytes(srv):
    import json
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(srv.url + "/_debug/stats", timeout=scaled(10)) as r:
        return {k: v["used_bytes"] for k, v in json.load(r)["backends"].items()}


def test_client_gone_mid_upload_leaves_nothing(server, tmp_path):
    """A client that disconnects halfway through its body: no visible object, no file left on the backend (its
    temporary file included), and the reservation given back."""
    cfg = write_config(tmp_path, backends=fs_backends(tmp_path, [10 * MIB]))
    srv = server("--config", str(cfg), "--debug-endpoints", listen=None)
    s3 = make_client(srv.url)
    put(s3, "gone/before", 1000)
    assert used_bytes(srv) == {"disk1": 1000}
    size = 4 * MIB
    head = signed_head(srv, "PUT", f"/{BUCKET}/gone/half",
                       {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD", "Content-Length": str(size)})
    with socket.create_connection((srv.host, srv.port), timeout=scaled(10)) as s:
        s.sendall(head + os.urandom(size // 2))
        time.sleep(0.3)
    deadline = time.monotonic() + scaled(10)
    while used_bytes(srv) != {"disk1": 1000} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert used_bytes(srv) == {"disk1": 1000}, "the reservation of the abandoned PUT was not given back"
    assert error_of(lambda: s3.head_object(Bucket=BUCKET, Key="gone/half")) == ("404", 404)
    left = {str(p.relative_to(tmp_path)) for p in (tmp_path / "disk1").rglob("*") if p.is_file()}
    assert len(left) == 1 and all("before" in p for p in left), left
    put(s3, "gone/after", 9 * MIB)  # the whole quota but `before` is free again


def backend_state(srv, backend, state):
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(f"{srv.url}/_debug/backend-state?backend={backend}&state={state}", method="POST",
                                 data=b"")
    with opener.open(req, timeout=scaled(10)) as r:
        assert r.status == 200


def test_a_draining_backend_takes_no_new_objects(server, tmp_path):
    cfg = write_config(tmp_path, backends=fs_backends(tmp_path, [0, 0]))
    srv = server("--config", str(cfg), "--debug-endpoints", listen=None)
    s3 = make_client(srv.url)
    put(s3, "drain/a", 100)
    assert counts(tmp_path, 2) == [1, 0]
    backend_state(srv, "disk1", "draining")
    put(s3, "drain/b", 100)
    s3.copy_object(Bucket=BUCKET, Key="drain/a2", CopySource={"Bucket": BUCKET, "Key": "drain/a"})
    assert counts(tmp_path, 2) == [1, 2], "a new object (or a copy) went to the draining backend"
    assert s3.get_object(Bucket=BUCKET, Key="drain/a")["ContentLength"] == 100  # its copies stay readable
    srv.stop()

    srv = server("--config", str(cfg), "--debug-endpoints", listen=None)  # the state is in the store
    s3 = make_client(srv.url)
    put(s3, "drain/c", 100)
    assert counts(tmp_path, 2) == [1, 3]
    backend_state(srv, "disk1", "active")
    put(s3, "drain/d", 100)
    assert counts(tmp_path, 2) == [2, 3]
