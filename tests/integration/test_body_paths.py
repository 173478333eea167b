"""Which path object bodies take, read from the per-path byte counters at /_debug/stats (strace cannot see
io_uring's splices): a GET from the fs backend is spliced file → pipe → client socket, never copied through user
space; a PUT to the fs backend is read into user space (s3orch computes its MD5 and checksums on the way)."""

import json
import os
import urllib.request

from conftest import scaled  # noqa: F401
from s3env import BUCKET, make_client, write_config

MIB = 1 << 20


def stats(srv):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(srv.url + "/_debug/stats", timeout=10) as r:
        return json.load(r)["body_bytes"]


def test_fs_get_is_spliced_and_put_is_read(server, tmp_path):
    srv = server("--config", str(write_config(tmp_path)), "--debug-endpoints", listen=None)
    s3 = make_client(srv.url)
    data = os.urandom(3 * MIB + 7)
    before = stats(srv)
    s3.put_object(Bucket=BUCKET, Key="paths/obj", Body=data)
    mid = stats(srv)
    assert mid["put_copy"] - before["put_copy"] >= len(data), (before, mid)
    assert mid["get_splice"] == before["get_splice"] and mid["get_copy"] == before["get_copy"], (before, mid)

    assert s3.get_object(Bucket=BUCKET, Key="paths/obj")["Body"].read() == data
    ranged = s3.get_object(Bucket=BUCKET, Key="paths/obj", Range="bytes=100-199")["Body"].read()
    assert ranged == data[100:200]
    after = stats(srv)
    assert after["get_splice"] - mid["get_splice"] == len(data) + 100, (mid, after)
    assert after["get_copy"] == mid["get_copy"], ("a GET body went through user space", mid, after)


def test_debug_copy_bodies_forces_the_copy_path(server, tmp_path):
    """--debug-copy-bodies (for the splice-versus-copy benchmark) sends GET bodies through user space."""
    srv = server("--config", str(write_config(tmp_path)), "--debug-endpoints", "--debug-copy-bodies", listen=None)
    s3 = make_client(srv.url)
    data = os.urandom(MIB + 3)
    s3.put_object(Bucket=BUCKET, Key="paths/copy", Body=data)
    before = stats(srv)
    assert s3.get_object(Bucket=BUCKET, Key="paths/copy")["Body"].read() == data
    after = stats(srv)
    assert after["get_copy"] - before["get_copy"] == len(data), (before, after)
    assert after["get_splice"] == before["get_splice"], (before, after)
