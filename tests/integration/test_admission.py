"""Admission control (issue #6, O8): split read/write pools and load shedding answer 503 SlowDown past the budget;
a per-client-IP rate limit answers 429 SlowDown, with X-Forwarded-For believed only from trusted proxies."""

import socket
import time

from conftest import scaled
from s3env import BUCKET, make_client, raw, signed_head, write_config, xml_code


def start(server, tmp_path, extra):
    return server("--config", str(write_config(tmp_path, extra=extra)), listen=None)


class HeldPut:
    """A PUT whose body stops after its first bytes: it holds its place in the budget until finish()."""

    def __init__(self, srv, key, size=1000):
        head = signed_head(srv, "PUT", f"/{BUCKET}/{key}",
                           {"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD", "Content-Length": str(size)})
        self.size = size
        self.sock = socket.create_connection(("127.0.0.1", srv.port), timeout=scaled(10))
        self.sock.sendall(head + b"x" * 10)
        time.sleep(0.2)  # the server has taken the request in

    def finish(self):
        self.sock.sendall(b"x" * (self.size - 10))
        got = self.sock.recv(4096)
        self.sock.close()
        return got


def status_of(r):
    return r.status, xml_code(r)


def eventually_status(call):
    """The (status, code) of call() once it is no longer 503 SlowDown (bounded)."""
    deadline = time.monotonic() + scaled(5)
    while True:
        got = status_of(call())
        if got != (503, "SlowDown") or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def test_write_pool_is_separate_from_reads(server, tmp_path):
    srv = start(server, tmp_path, "admission: { max_concurrent_writes: 1 }\n")
    make_client(srv.url).put_object(Bucket=BUCKET, Key="adm/r", Body=b"read me")
    held = HeldPut(srv, "adm/held")
    try:
        assert status_of(raw(srv, "PUT", f"/{BUCKET}/adm/second", b"y")) == (503, "SlowDown")
        assert status_of(raw(srv, "GET", f"/{BUCKET}/adm/r")) == (200, None)  # the read pool is not full
    finally:
        assert held.finish().startswith(b"HTTP/1.1 200")
    # The held request gives its place back as its handler ends, just after its answer went out.
    assert eventually_status(lambda: raw(srv, "PUT", f"/{BUCKET}/adm/second", b"y")) == (200, None)


def test_load_shedding_below_the_budget(server, tmp_path):
    srv = start(server, tmp_path, "admission: { max_concurrent_requests: 4, load_shed_threshold: 0.5 }\n")
    held = [HeldPut(srv, f"adm/h{i}") for i in range(2)]
    try:
        assert status_of(raw(srv, "GET", f"/{BUCKET}/adm/none")) == (503, "SlowDown")
    finally:
        for h in held:
            h.finish()
    assert eventually_status(lambda: raw(srv, "GET", f"/{BUCKET}/adm/none")) == (404, "NoSuchKey")


def burst(srv, n, headers=None):
    return [raw(srv, "GET", f"/{BUCKET}/rl/none", headers=headers).status for _ in range(n)]


def test_rate_limit_per_client(server, tmp_path):
    # A token every 4 s: a burst of 10 gets the 3 in the bucket (a 4th if it took over 4 s, as under valgrind).
    srv = start(server, tmp_path, "rate_limit: { enabled: true, requests_per_sec: 0.25, burst: 3 }\n")
    got = burst(srv, 10)
    assert 3 <= got.count(404) <= 4 and got.count(429) >= 6, got  # 404: admitted (no such key)
    r = raw(srv, "GET", f"/{BUCKET}/rl/none")
    assert r.status == 429 and xml_code(r) == "SlowDown"
    time.sleep(4.5)  # a token back
    assert burst(srv, 1) == [404]
    # Not from a trusted proxy: X-Forwarded-For is not believed, so a forged address buys nothing.
    assert set(burst(srv, 3, {"X-Forwarded-For": "198.51.100.7"})) == {429}


def test_rate_limit_behind_a_trusted_proxy(server, tmp_path):
    srv = start(server, tmp_path, 'rate_limit: { enabled: true, requests_per_sec: 0.01, burst: 1, '
                                  'trusted_proxies: ["127.0.0.0/8"] }\n')
    for i in range(8):  # each client its own bucket
        assert raw(srv, "GET", f"/{BUCKET}/rl/none", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status == 404
    # The nearest untrusted hop counts: a client cannot escape by prepending addresses.
    assert raw(srv, "GET", f"/{BUCKET}/rl/none",
               headers={"X-Forwarded-For": "192.0.2.1, 203.0.113.0"}).status == 429
    assert raw(srv, "GET", f"/{BUCKET}/rl/none",
               headers={"X-Forwarded-For": "203.0.113.50, 127.0.0.1"}).status == 404
