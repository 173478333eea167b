"""Monthly usage limits per backend (issue #6, O2/O3): a backend at its API-call or ingress limit takes no more
writes (they go to the next backend), one at its API-call or egress limit serves no more reads while another copy
exists, and a request every candidate of which is over its limits gets 429 SlowDown. The counts survive a restart
(flushed to the store at shutdown, read back at start)."""

import json
import os
import urllib.request

from conftest import scaled
from s3env import BUCKET, error_of, files_under, make_client, write_config

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fs_entry(dir_, name, **limits):
    return f"  - name: {name}\n    type: fs\n    path: {dir_}/{name}\n" + "".join(
        f"    {k}: {v}\n" for k, v in limits.items())


def start(server, tmp_path, backends, extra=""):
    cfg = write_config(tmp_path, backends=backends, extra=extra)
    return server("--config", str(cfg), "--debug-endpoints", listen=None)


def usage(srv):
    with _NO_PROXY.open(srv.url + "/_debug/stats", timeout=scaled(10)) as r:
        return json.load(r)["backends"]


def test_writes_leave_a_backend_at_its_api_call_limit(server, tmp_path):
    srv = start(server, tmp_path, fs_entry(tmp_path, "d1", api_request_limit=6) + fs_entry(tmp_path, "d2"))
    s3 = make_client(srv.url)
    for i in range(10):
        s3.put_object(Bucket=BUCKET, Key=f"api/{i}", Body=b"x" * 10)
    assert len(files_under(tmp_path / "d1")) == 6 and len(files_under(tmp_path / "d2")) == 4
    assert usage(srv)["d1"]["api_calls"] == 6 and usage(srv)["d1"]["ingress_bytes"] == 60


def test_reads_skip_a_copy_over_its_limit_then_429(server, tmp_path):
    backends = fs_entry(tmp_path, "d1", api_request_limit=4) + fs_entry(tmp_path, "d2", egress_byte_limit=2500)
    srv = start(server, tmp_path, backends, "replication:\n  factor: 2\n  mode: sync\n")
    s3 = make_client(srv.url)
    data = os.urandom(1000)
    s3.put_object(Bucket=BUCKET, Key="r/x", Body=data)  # one call on each
    # Reads go to either copy (the faster first) while it is under its limits: d1 has 3 calls left, d2 room for
    # 2 reads of 1000 bytes; whichever order they come in, 5 reads succeed and the 6th finds every copy over.
    for _ in range(5):
        assert s3.get_object(Bucket=BUCKET, Key="r/x")["Body"].read() == data
    u = usage(srv)
    assert u["d1"]["api_calls"] == 4 and u["d2"]["egress_bytes"] == 2000, u
    assert error_of(lambda: s3.get_object(Bucket=BUCKET, Key="r/x")) == ("SlowDown", 429)
    # HEAD answers from the store: no backend is asked.
    assert s3.head_object(Bucket=BUCKET, Key="r/x")["ContentLength"] == 1000


def test_writes_get_429_when_every_backend_is_at_a_limit_and_counts_survive_a_restart(server, tmp_path):
    srv = start(server, tmp_path, fs_entry(tmp_path, "d1", ingress_byte_limit=1500))
    s3 = make_client(srv.url)
    s3.put_object(Bucket=BUCKET, Key="in/a", Body=os.urandom(1000))
    assert error_of(lambda: s3.put_object(Bucket=BUCKET, Key="in/b", Body=os.urandom(1000))) == ("SlowDown", 429)
    s3.put_object(Bucket=BUCKET, Key="in/c", Body=os.urandom(500))  # still fits
    srv.stop()

    srv = server("--config", str(tmp_path / "s3orch.yaml"), "--debug-endpoints", listen=None)
    assert usage(srv)["d1"]["ingress_bytes"] == 1500
    s3 = make_client(srv.url)
    assert error_of(lambda: s3.put_object(Bucket=BUCKET, Key="in/d", Body=b"z")) == ("SlowDown", 429)
