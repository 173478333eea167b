"""Black-box HTTP tests of `s3orch serve` with real clients: http.client, raw sockets, curl and boto3.

Every test starts its own server (the `server` fixture in conftest.py); every loop is bounded in count and time.
Client-side waits and upper time bounds scale with S3ORCH_TIME_SCALE (e.g. under valgrind).
"""

import http.client
import json
import os
import random
import resource
import selectors
import signal
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import pytest

TIME_SCALE = float(os.environ.get("S3ORCH_TIME_SCALE", "1") or "1")


def scaled(seconds: float) -> float:
    return seconds * TIME_SCALE


# --------------------------------------------------------------------------------------------------------------------
# A minimal HTTP/1.1 response reader over raw sockets, so framing, ordering and closes can be checked exactly.


class Resp:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) as received
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def __repr__(self):
        return f"<Resp {self.status} {self.reason!r} headers={self.headers} body={self.body[:200]!r}>"


def parse_response(buf: bytes, eof: bool = False, head_request: bool = False):
    """Parses one response at the start of buf. Returns (Resp, bytes consumed), or None if more bytes are needed."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    raw_head = buf[: end + 4]
    lines = buf[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    assert len(parts) >= 2 and parts[0] in ("HTTP/1.1", "HTTP/1.0"), f"bad status line {lines[0]!r}"
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for ln in lines[1:]:
        name, sep, value = ln.partition(":")
        assert sep, f"bad header line {ln!r}"
        headers.append((name.strip(), value.strip()))
    resp = Resp(status, reason, headers, b"", raw_head)
    pos = end + 4
    if 100 <= status < 200 or status in (204, 304) or head_request:
        return resp, pos
    te = resp.header("transfer-encoding")
    cl = resp.header("content-length")
    if te is not None and "chunked" in te.lower():
        body = bytearray()
        while True:
            le = buf.find(b"\r\n", pos)
            if le < 0:
                return None
            size = int(buf[pos:le].split(b";")[0], 16)
            pos = le + 2
            if size == 0:
                te_end = buf.find(b"\r\n\r\n", pos - 2)
                if te_end < 0:
                    return None
                resp.body = bytes(body)
                return resp, te_end + 4
            if len(buf) < pos + size + 2:
                return None
            body += buf[pos : pos + size]
            pos += size + 2
    if cl is not None:
        n = int(cl)
        if len(buf) < pos + n:
            return None
        resp.body = bytes(buf[pos : pos + n])
        return resp, pos + n
    if not eof:
        return None
    resp.body = bytes(buf[pos:])
    return resp, len(buf)


class Closed(Exception):
    pass


class RawConn:
    def __init__(self, srv, timeout=None, nodelay=False):
        self.srv = srv
        self.sock = socket.create_connection((srv.host, srv.port), timeout=scaled(10) if timeout is None else timeout)
        if nodelay:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes):
        self.sock.sendall(data)

    def request(self, method, path, headers=None, body=b"", close=False):
        hdrs = {"Host": f"127.0.0.1:{self.srv.port}"}
        if body or method in ("PUT", "POST"):
            hdrs["Content-Length"] = str(len(body))
        if close:
            hdrs["Connection"] = "close"
        hdrs.update(headers or {})
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        self.send(head.encode("latin-1") + body)

    def _recv(self, deadline) -> bool:
        """Reads more into buf; False on EOF. Raises socket.timeout at the deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("deadline passed")
        self.sock.settimeout(remaining)
        data = self.sock.recv(1 << 20)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_response(self, timeout=None, head_request=False) -> Resp:
        deadline = time.monotonic() + (scaled(10) if timeout is None else timeout)
        for _ in range(1_000_000):
            parsed = parse_response(self.buf, eof=self.eof, head_request=head_request)
            if parsed:
                resp, used = parsed
                self.buf = self.buf[used:]
                return resp
            if self.eof:
                raise Closed(f"connection closed with {len(self.buf)} unparsed bytes: {self.buf[:300]!r}")
            self._recv(deadline)
        raise AssertionError("unreachable")

    def _take(self) -> bytes:
        data, self.buf = self.buf, b""
        return data

    def wait_closed(self, timeout):
        """Reads until EOF or reset. Returns (how, seconds waited, unread bytes received). Fails on timeout."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        for _ in range(1_000_000):
            if self.eof:
                return "eof", time.monotonic() - t0, self._take()
            try:
                self._recv(deadline)
            except (ConnectionResetError, BrokenPipeError):
                return "reset", time.monotonic() - t0, self._take()
            except socket.timeout:
                raise AssertionError(f"connection still open after {timeout:.1f}s (received {self.buf[:300]!r})")
        raise AssertionError("unreachable")


def http_conn(srv, timeout=None):
    return http.client.HTTPConnection(srv.host, srv.port, timeout=scaled(30) if timeout is None else timeout)


def get(srv, path, method="GET", body=None, headers=None):
    c = http_conn(srv)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def curl(*args, timeout=None):
    cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", str(int(scaled(60)))] + list(args)
    return subprocess.run(cmd, capture_output=True, timeout=scaled(90) if timeout is None else timeout)


def payload(n: int, seed: int = 1) -> bytes:
    return random.Random(seed * 1_000_003 + n).randbytes(n)


def assert_request_ids(headers):
    rid = headers.get("x-amz-request-id")
    assert rid, f"no x-amz-request-id in {headers}"
    assert headers.get("x-amz-id-2"), f"no x-amz-id-2 in {headers}"
    return rid


# --------------------------------------------------------------------------------------------------------------------
# Basic answers


def test_health_and_ready(server):
    srv = server()
    status, headers, body = get(srv, "/health")
    assert (status, body) == (200, b"ok")
    assert_request_ids(headers)
    status, headers, body = get(srv, "/health/ready")
    assert (status, body) == (200, b"ready")
    assert_request_ids(headers)
    # and with curl
    r = curl("-i", srv.url + "/health")
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), r.stdout
    assert body == b"ok"
    assert b"x-amz-request-id:" in head.lower()


@pytest.mark.parametrize("method,path", [("GET", "/some-bucket/some/key.txt"), ("DELETE", "/bkt"), ("GET", "/")])
def test_anonymous_request_gets_s3_xml_access_denied(server, method, path):
    srv = server()
    status, headers, body = get(srv, path, method=method)
    assert status == 403
    assert headers.get("content-type", "").startswith("application/xml"), headers
    rid = assert_request_ids(headers)
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error>'), body
    root = ET.fromstring(body)
    assert root.tag == "Error"
    assert root.findtext("Code") == "AccessDenied"
    assert root.find("Message") is not None
    assert root.findtext("Resource") == path
    assert root.findtext("RequestId") == rid
    assert int(headers["content-length"]) == len(body)


def test_request_ids_are_unique(server):
    srv = server()
    ids = set()
    c = RawConn(srv)
    for i in range(20):
        c.request("GET", "/health" if i % 2 else "/x")
        r = c.read_response()
        ids.add(r.header("x-amz-request-id"))
    c.close()
    assert len(ids) == 20 and None not in ids


def test_boto3_gets_s3_errors(server):
    boto3 = pytest.importorskip("boto3")
    from botocore.config import Config
    from botocore.exceptions import ClientError

    srv = server()
    s3 = boto3.client(
        "s3",
        endpoint_url=srv.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            retries={"total_max_attempts": 1},
            s3={"addressing_style": "path"},
            proxies={},
            connect_timeout=scaled(10),
            read_timeout=scaled(10),
        ),
    )
    for call in (
        lambda: s3.list_buckets(),
        lambda: s3.get_object(Bucket="bkt", Key="a/b.txt"),
        lambda: s3.put_object(Bucket="bkt", Key="k", Body=b"hello"),
    ):
        with pytest.raises(ClientError) as ei:
            call()
        err = ei.value.response
        assert err["Error"]["Code"] == "InvalidAccessKeyId", err
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert err["ResponseMetadata"]["RequestId"]


def test_head_request_has_no_body_and_keeps_framing(server):
    srv = server()
    c = RawConn(srv)
    c.request("HEAD", "/health")
    r = c.read_response(head_request=True)
    assert r.status == 200, r
    # If the server wrongly sent a body, it would be read as the start of the next response here.
    c.request("GET", "/health")
    r2 = c.read_response()
    assert (r2.status, r2.body) == (200, b"ok"), r2
    c.close()


def test_unread_request_body_is_skipped_or_connection_closed(server):
    """A body the handler never reads must not be parsed as the next request."""
    srv = server()
    c = RawConn(srv)
    body = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"  # looks like a request: must not be answered as one
    c.send(
        f"PUT /bkt/key HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
        + b"GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    r1 = c.read_response()
    assert r1.status == 403, r1
    if (r1.header("connection") or "").lower() == "close":
        c.wait_closed(scaled(5))
    else:
        r2 = c.read_response()
        assert (r2.status, r2.body) == (200, b"ready"), r2
    c.close()


def test_stderr_is_json_lines(server):
    srv = server()
    get(srv, "/health")
    get(srv, "/nope")
    srv.stop()
    lines = [ln for ln in srv.stderr().splitlines() if ln.strip() and not ln.startswith("==")]
    for ln in lines:
        obj = json.loads(ln)
        assert isinstance(obj, dict), ln


# --------------------------------------------------------------------------------------------------------------------
# Concurrency, keep-alive, pipelining


def _raise_nofile(want: int):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        pytest.skip(f"RLIMIT_NOFILE hard limit too low ({soft} < {want})")


def test_thousand_concurrent_keepalive_connections(server):
    n_conns, n_reqs = 1000, 3
    _raise_nofile(4096)  # inherited by the server, which holds as many sockets as we do
    srv = server("--threads", "2")
    paths = ["/health", "/health/ready", "/health"]
    expect = {"/health": b"ok", "/health/ready": b"ready"}

    def req(i):
        return f"GET {paths[i]} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()

    socks = []
    sel = selectors.DefaultSelector()
    try:
        t0 = time.monotonic()
        for _ in range(n_conns):
            socks.append(socket.create_connection((srv.host, srv.port), timeout=scaled(10)))
        # All connections are open before the first request goes out.
        state = {}
        for s in socks:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            state[s] = {"done": 0, "buf": b""}
        for s in socks:
            s.sendall(req(0))  # ~40 bytes: never blocks on a fresh socket
        finished = 0
        deadline = time.monotonic() + scaled(30)
        errors = []
        for _ in range(10_000_000):
            if finished == n_conns or time.monotonic() > deadline:
                break
            for key, _ in sel.select(timeout=0.5):
                s = key.fileobj
                st = state[s]
                try:
                    data = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionResetError:
                    data = b""
                if not data:
                    errors.append(f"connection closed after {st['done']} responses")
                    sel.unregister(s)
                    finished += 1
                    continue
                st["buf"] += data
                while True:
                    parsed = parse_response(st["buf"])
                    if not parsed:
                        break
                    resp, used = parsed
                    st["buf"] = st["buf"][used:]
                    want_body = expect[paths[st["done"]]]
                    if resp.status != 200 or resp.body != want_body:
                        errors.append(f"request {st['done']} got {resp!r}")
                    st["done"] += 1
                    if st["done"] == n_reqs:
                        sel.unregister(s)
                        finished += 1
                        break
                    s.sendall(req(st["done"]))
        elapsed = time.monotonic() - t0
        done = sum(1 for st in state.values() if st["done"] == n_reqs)
        assert not errors, f"{len(errors)} errors, first: {errors[:5]}"
        assert done == n_conns, f"only {done}/{n_conns} connections got all {n_reqs} responses in {elapsed:.1f}s"
    finally:
        sel.close()
        for s in socks:
            s.close()
    assert srv.proc.poll() is None


def test_pipelining_in_order(server):
    srv = server()
    c = RawConn(srv)
    c.send(
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /nosuch/thing HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    r1, r2, r3 = c.read_response(), c.read_response(), c.read_response()
    assert (r1.status, r1.body) == (200, b"ok"), r1
    assert r2.status == 403, r2
    assert ET.fromstring(r2.body).findtext("Resource") == "/nosuch/thing"
    assert (r3.status, r3.body) == (200, b"ready"), r3
    ids = {r.header("x-amz-request-id") for r in (r1, r2, r3)}
    assert len(ids) == 3
    # the connection is still usable
    c.request("GET", "/health")
    assert c.read_response().status == 200
    c.close()


def test_pipelining_with_connection_close_last(server):
    srv = server()
    c = RawConn(srv)
    c.send(
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    bodies = [c.read_response().body for _ in range(3)]
    assert bodies == [b"ok", b"ready", b"ok"]
    how, _, extra = c.wait_closed(scaled(5))
    assert extra == b"", extra
    c.close()


def test_deep_pipelining(server):
    """2,000 requests written by one thread while another reads the responses."""
    n = 2000
    srv = server()
    c = RawConn(srv)
    reqs = [b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /health/ready HTTP/1.1\r\nHost: x\r\n\r\n"]
    blob = b"".join(reqs[i % 2] for i in range(n))
    err = []

    def writer():
        try:
            c.sock.sendall(blob)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    bodies = []
    for i in range(n):
        r = c.read_response(timeout=scaled(10))
        bodies.append(r.body)
    t.join(scaled(10))
    assert not err, err
    assert bodies == [b"ok" if i % 2 == 0 else b"ready" for i in range(n)]
    c.close()


def test_absolute_form_target(server):
    """RFC 9112 section 3.2.2: a server MUST accept the absolute-form; /health is /health."""
    srv = server()
    c = RawConn(srv)
    c.send(f"GET http://127.0.0.1:{srv.port}/health HTTP/1.1\r\nHost: 127.0.0.1:{srv.port}\r\n\r\n".encode())
    r = c.read_response()
    assert (r.status, r.body) == (200, b"ok"), r
    c.close()


def test_http10_closes_by_default(server):
    srv = server()
    c = RawConn(srv)
    c.send(b"GET /health HTTP/1.0\r\n\r\n")
    r = c.read_response()
    assert (r.status, r.body) == (200, b"ok")
    c.wait_closed(scaled(5))
    c.close()


# --------------------------------------------------------------------------------------------------------------------
# Malformed requests: the right status, then the connection is closed.

_H = b"Host: x\r\n"
MALFORMED = [
    ("garbage_request_line", b"GARBAGE\r\n\r\n", 400),
    ("bad_method_char", b"G(T / HTTP/1.1\r\n" + _H + b"\r\n", 400),
    ("bad_protocol_name", b"GET / HTTX/1.1\r\n" + _H + b"\r\n", 400),
    ("missing_host_http11", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("space_before_colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    ("obs_fold", b"GET / HTTP/1.1\r\n" + _H + b"X-A: a\r\n b\r\n\r\n", 400),
    ("bare_lf", b"GET / HTTP/1.1\n" + _H + b"\r\n", 400),
    ("nul_in_header", b"GET / HTTP/1.1\r\n" + _H + b"X-A: a\x00b\r\n\r\n", 400),
    ("header_too_big", b"GET / HTTP/1.1\r\n" + _H + b"X-Big: " + b"a" * 40000 + b"\r\n\r\n", 431),
    ("too_many_headers", b"GET / HTTP/1.1\r\n" + _H + b"".join(b"X-H%d: v\r\n" % i for i in range(200)) + b"\r\n", 431),
    ("request_line_too_long", b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\n" + _H + b"\r\n", 414),
    ("version_2_0", b"GET / HTTP/2.0\r\n" + _H + b"\r\n", 505),
    ("version_3_0", b"GET / HTTP/3.0\r\n" + _H + b"\r\n", 505),
    (
        "content_length_and_chunked",
        b"POST / HTTP/1.1\r\n" + _H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    ("bad_content_length", b"PUT / HTTP/1.1\r\n" + _H + b"Content-Length: 12a\r\n\r\n", 400),
    ("conflicting_content_lengths", b"PUT / HTTP/1.1\r\n" + _H + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400),
    ("unknown_transfer_coding", b"PUT / HTTP/1.1\r\n" + _H + b"Transfer-Encoding: gzip\r\n\r\n", 501),
    ("bad_expect", b"PUT / HTTP/1.1\r\n" + _H + b"Content-Length: 1\r\nExpect: something\r\n\r\nx", 417),
]


@pytest.mark.parametrize("name,raw,status", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_request_rejected_and_closed(server, name, raw, status):
    srv = server()
    c = RawConn(srv)
    try:
        c.send(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before everything is sent; the answer should still be readable
    r = c.read_response()
    assert r.status == status, f"sent {raw[:80]!r}...: expected {status}, got {r!r}"
    assert r.header("x-amz-request-id")
    c.wait_closed(scaled(5))
    c.close()
    # the server is fine afterwards
    assert get(srv, "/health")[0] == 200


def test_malformed_after_good_request_on_same_connection(server):
    srv = server()
    c = RawConn(srv)
    c.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nNOT HTTP AT ALL\r\n\r\n")
    r1 = c.read_response()
    assert (r1.status, r1.body) == (200, b"ok")
    r2 = c.read_response()
    assert r2.status == 400, r2
    c.wait_closed(scaled(5))
    c.close()


# --------------------------------------------------------------------------------------------------------------------
# Slow clients and timeouts


def test_request_sent_one_byte_at_a_time(server):
    srv = server("--header-timeout", "5s")
    c = RawConn(srv, nodelay=True)
    raw = b"GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-but-fine\r\n\r\n"
    for i in range(len(raw)):
        c.send(raw[i : i + 1])
        time.sleep(0.005)
    r = c.read_response()
    assert (r.status, r.body) == (200, b"ready"), r
    # and a second request, also dribbled, on the same connection
    raw2 = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    for i in range(len(raw2)):
        c.send(raw2[i : i + 1])
        time.sleep(0.002)
    assert c.read_response().body == b"ok"
    c.close()


def assert_timeout_answer(received: bytes):
    """What a timed-out connection may get before the close: nothing, a 408, or S3's RequestTimeout (400)."""
    if received == b"":
        return
    parsed = parse_response(received, eof=True)
    assert parsed, f"unparsable data before close: {received[:300]!r}"
    r = parsed[0]
    assert r.status in (400, 408), r
    if r.status == 400:
        assert ET.fromstring(r.body).findtext("Code") == "RequestTimeout", r
    assert (r.header("connection") or "").lower() == "close", r


def _dribble_until_closed(sock, first: bytes, byte: bytes, interval: float, limit: float):
    """Sends `first`, then `byte` every `interval` s until the peer closes. Returns (how, elapsed, received)."""
    t0 = time.monotonic()
    sock.sendall(first)
    next_send = t0 + interval
    received = b""
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    try:
        for _ in range(100_000):
            now = time.monotonic()
            if now - t0 > limit:
                raise AssertionError(f"connection still open {limit:.1f}s after the first byte (got {received[:200]!r})")
            if sel.select(timeout=max(0.0, min(next_send, t0 + limit) - now)):
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    return "reset", time.monotonic() - t0, received
                if not data:
                    return "eof", time.monotonic() - t0, received
                received += data
                continue
            if time.monotonic() >= next_send:
                try:
                    sock.send(byte)
                except (BrokenPipeError, ConnectionResetError):
                    return "send-failed", time.monotonic() - t0, received
                next_send += interval
        raise AssertionError("unreachable")
    finally:
        sel.close()


def test_slow_loris_head_is_cut_at_header_timeout(server):
    srv = server("--header-timeout", "1s", "--idle-timeout", "30s")
    c = RawConn(srv, nodelay=True)
    how, elapsed, received = _dribble_until_closed(
        c.sock, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", b"a", 0.3, scaled(5)
    )
    c.close()
    assert elapsed >= 0.9, f"closed too early ({how} after {elapsed:.2f}s)"
    assert elapsed < scaled(5)
    assert_timeout_answer(received)
    assert get(srv, "/health")[0] == 200


def test_idle_keepalive_closed_after_idle_timeout(server):
    srv = server("--idle-timeout", "1s", "--header-timeout", "30s")
    c = RawConn(srv)
    c.request("GET", "/health")
    assert c.read_response().status == 200
    how, elapsed, extra = c.wait_closed(scaled(5))
    c.close()
    assert 0.9 <= elapsed < 1.0 + scaled(2), f"idle connection closed ({how}) after {elapsed:.2f}s"
    assert extra == b"", f"unsolicited data on an idle keep-alive connection: {extra[:300]!r}"


def test_silent_new_connection_is_closed(server):
    srv = server("--idle-timeout", "1s", "--header-timeout", "1s")
    c = RawConn(srv)
    how, elapsed, extra = c.wait_closed(scaled(5))
    c.close()
    assert elapsed >= 0.9, f"closed ({how}) after only {elapsed:.2f}s"


def test_long_handler_is_not_cut_by_idle_timeout(server):
    srv = server("--idle-timeout", "1s", "--debug-endpoints")
    c = RawConn(srv)
    c.request("GET", "/_debug/sleep?ms=1500")
    r = c.read_response(timeout=scaled(10))
    assert (r.status, r.body) == (200, b"slept"), r
    c.close()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_stalled_body_is_aborted(server, framing):
    srv = server("--idle-timeout", "1s", "--header-timeout", "30s", "--debug-endpoints")
    c = RawConn(srv)
    if framing == "content-length":
        head = b"PUT /_debug/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
        part = b"x" * 500
    else:
        head = b"PUT /_debug/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        part = b"3e8\r\n" + b"x" * 500
    c.send(head + part)
    how, elapsed, extra = c.wait_closed(scaled(6))
    c.close()
    assert 0.8 <= elapsed < 1.0 + scaled(4), f"stalled body: closed ({how}) after {elapsed:.2f}s"
    # Whatever was sent back must not claim success.
    assert not extra.startswith(b"HTTP/1.1 200"), extra[:200]
    assert get(srv, "/health")[0] == 200


def test_stalled_body_gets_s3_request_timeout(server):
    """S3 answers a stalled upload with 400 RequestTimeout (which SDKs retry), not 500 InternalError."""
    srv = server("--idle-timeout", "1s", "--header-timeout", "30s", "--debug-endpoints")
    c = RawConn(srv)
    c.send(b"PUT /_debug/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"x" * 500)
    how, elapsed, extra = c.wait_closed(scaled(6))
    c.close()
    assert extra, f"closed ({how}) after {elapsed:.2f}s without an answer"
    assert_timeout_answer(extra)


def test_response_send_stall_is_cut(server):
    """A client that stops reading a large response: the send stalls and is cut after the idle timeout."""
    size = 7 << 20
    srv = server("--idle-timeout", "1s", "--debug-endpoints")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(scaled(10))
    s.connect((srv.host, srv.port))
    try:
        s.sendall(b"PUT /_debug/echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size + payload(size))
        time.sleep(1.0 + scaled(1.5))  # not reading: the server's send stalls
        got = 0
        how = None
        deadline = time.monotonic() + scaled(10)
        for _ in range(1_000_000):
            if time.monotonic() > deadline:
                break
            try:
                d = s.recv(1 << 20)
            except ConnectionResetError:
                how = "reset"
                break
            if not d:
                how = "eof"
                break
            got += len(d)
        assert how is not None, f"connection still open after reading {got} bytes"
        assert got < size, f"the whole {size}-byte response arrived ({got} bytes) though the client stalled past the idle timeout"
    finally:
        s.close()
    assert get(srv, "/health")[0] == 200


# --------------------------------------------------------------------------------------------------------------------
# Request bodies (debug echo endpoint)


@pytest.mark.parametrize("size", [0, 1, 1 << 20, 7 << 20], ids=["0B", "1B", "1MiB", "7MiB"])
@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_echo_content_length(server, size, method):
    srv = server("--debug-endpoints")
    data = payload(size)
    c = http_conn(srv)
    c.request(method, "/_debug/echo", body=data, headers={"Content-Length": str(size)})
    r = c.getresponse()
    got = r.read()
    assert r.status == 200
    assert r.getheader("x-body-length") == str(size)
    assert len(got) == size and got == data
    # keep-alive still fine after a large body
    c.request("GET", "/health")
    r2 = c.getresponse()
    assert (r2.status, r2.read()) == (200, b"ok")
    c.close()


def test_concurrent_echo_bodies_do_not_mix(server):
    srv = server("--debug-endpoints", "--threads", "2")
    n = 16
    results = [None] * n

    def worker(i):
        data = payload((1 << 20) + i * 977, seed=100 + i)
        try:
            status, headers, body = get(srv, "/_debug/echo", method="PUT", body=data)
            results[i] = (status, body == data, len(body))
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(scaled(60))
    for i, r in enumerate(results):
        assert isinstance(r, tuple) and r[0] == 200 and r[1], f"client {i}: {r!r}"


def test_early_final_response_to_expect_announces_close(server):
    """An error sent without reading an Expect: 100-continue body: if the server then closes the connection, the
    response must say Connection: close (RFC 9110 section 10.1.1); otherwise the connection must stay usable."""
    srv = server()
    c = RawConn(srv)
    c.send(
        b"PUT /bkt/key HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello"
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    r = c.read_response()
    if r.status == 100:
        r = c.read_response()
    assert r.status == 403, r
    if (r.header("connection") or "").lower() == "close":
        c.wait_closed(scaled(5))
    else:
        try:
            r2 = c.read_response(timeout=scaled(5))
        except (Closed, ConnectionResetError) as e:
            raise AssertionError(f"server closed the connection after a response without Connection: close: {r!r}") from e
        assert (r2.status, r2.body) == (200, b"ok"), r2
    c.close()


def test_echo_chunked_http_client(server):
    srv = server("--debug-endpoints")
    data = payload(300_000, seed=7)
    sizes = [1, 2, 100, 4096, 65536, 3, 65537, 17]
    chunks, pos, i = [], 0, 0
    while pos < len(data):
        n = sizes[i % len(sizes)]
        chunks.append(data[pos : pos + n])
        pos += n
        i += 1
    c = http_conn(srv)
    c.request("PUT", "/_debug/echo", body=iter(chunks), encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
    r = c.getresponse()
    got = r.read()
    assert r.status == 200
    assert r.getheader("x-body-length") == str(len(data))
    assert got == data
    c.close()


def test_echo_chunked_with_extensions_and_trailers(server):
    srv = server("--debug-endpoints")
    c = RawConn(srv)
    c.send(
        b"POST /_debug/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n"
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    r = c.read_response()
    assert (r.status, r.body) == (200, b"hello 0123456789"), r
    assert r.header("x-body-length") == "16"
    r2 = c.read_response()
    assert (r2.status, r2.body) == (200, b"ok"), r2
    c.close()


def test_echo_bad_chunked_framing(server):
    srv = server("--debug-endpoints")
    c = RawConn(srv)
    c.send(b"PUT /_debug/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
    try:
        r = c.read_response()
        assert r.status == 400, r
    except (Closed, ConnectionResetError):
        pass  # closing without an answer is acceptable too
    c.wait_closed(scaled(5))
    c.close()


def test_echo_chunked_curl(server, tmp_path):
    srv = server("--debug-endpoints")
    data = payload(2 << 20, seed=3)
    src, out, hdr = tmp_path / "in.bin", tmp_path / "out.bin", tmp_path / "headers.txt"
    src.write_bytes(data)
    r = curl(
        "-X", "PUT", "-H", "Transfer-Encoding: chunked", "--data-binary", f"@{src}",
        "-D", str(hdr), "-o", str(out), srv.url + "/_debug/echo",
    )
    assert r.returncode == 0, r.stderr
    assert "x-body-length: %d" % len(data) in hdr.read_text().lower()
    assert out.read_bytes() == data


def test_expect_100_continue_curl(server, tmp_path):
    srv = server("--debug-endpoints")
    data = payload(3 << 20, seed=5)
    src, out = tmp_path / "in.bin", tmp_path / "out.bin"
    src.write_bytes(data)
    # A long --expect100-timeout: curl must get the 100 from the server, not give up waiting and send anyway.
    r = curl(
        "-v", "-T", str(src), "-H", "Expect: 100-continue", "--expect100-timeout", str(int(scaled(20))),
        "-o", str(out), srv.url + "/_debug/echo",
    )
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode(errors="replace")
    assert "> Expect: 100-continue" in err, err
    assert "< HTTP/1.1 100" in err, err
    assert "< HTTP/1.1 200" in err, err
    assert out.read_bytes() == data


def test_expect_100_continue_raw(server):
    srv = server("--debug-endpoints")
    c = RawConn(srv)
    body = b"hello world"
    c.send(
        b"PUT /_debug/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
    )
    r100 = c.read_response(timeout=scaled(5))
    assert r100.status == 100, r100
    assert r100.raw_head.startswith(b"HTTP/1.1 100 Continue\r\n"), r100.raw_head
    c.send(body)
    r = c.read_response()
    assert (r.status, r.body) == (200, body), r
    assert r.header("x-body-length") == str(len(body))
    # A client that sends the body without waiting for the 100 works too (the 100 may or may not come).
    c.send(b"PUT /_debug/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc")
    r = c.read_response()
    if r.status == 100:
        r = c.read_response()
    assert (r.status, r.body) == (200, b"abc"), r
    c.close()


def test_expect_100_continue_without_body_still_gets_100_and_keeps_connection(server):
    """botocore sends Expect: 100-continue on every PutObject, empty ones too, and takes a final answer without a 100
    as an early response whose state then spoils the next response on the connection (it reads that response's
    status line as a header). S3 sends the 100 first; so do we, and the connection stays usable."""
    srv = server("--debug-endpoints")
    c = RawConn(srv)
    for _ in range(2):
        c.send(b"PUT /_debug/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n")
        r100 = c.read_response(timeout=scaled(5))
        assert r100.status == 100, r100
        r = c.read_response(timeout=scaled(5))
        assert (r.status, r.body) == (200, b""), r
        assert r.header("connection") != "close", r
    c.close()


# --------------------------------------------------------------------------------------------------------------------
# Connection limit


@pytest.mark.parametrize("threads", ["1", "2"])
def test_max_connections(server, threads):
    """The limit is global, whichever thread accepts."""
    srv = server("--max-connections", "5", "--threads", threads)
    conns = []
    for _ in range(5):
        c = RawConn(srv)
        c.request("GET", "/health")
        assert c.read_response().status == 200  # accepted and counted
        conns.append(c)

    extra = RawConn(srv)
    # The server may answer at once, or after reading a request: wait briefly, then send one.
    extra.sock.settimeout(1.0)
    try:
        first = extra.sock.recv(65536)
    except socket.timeout:
        first = None
    if first is None:
        try:
            extra.request("GET", "/health")
        except (BrokenPipeError, ConnectionResetError):
            pass
    else:
        extra.buf = first
        extra.eof = first == b""
    r = extra.read_response(timeout=scaled(5))
    assert r.status == 503, r
    root = ET.fromstring(r.body)
    assert root.findtext("Code") == "SlowDown", r.body
    extra.wait_closed(scaled(5))
    extra.close()

    # The five still work.
    for c in conns:
        c.request("GET", "/health/ready")
        assert c.read_response().body == b"ready"

    # Free one slot: a new connection is served again (once the server has noticed the close).
    conns.pop().close()
    deadline = time.monotonic() + scaled(5)
    last = None
    for _ in range(500):
        c = RawConn(srv)
        try:
            c.request("GET", "/health")
            last = c.read_response()
        except (BrokenPipeError, ConnectionResetError, Closed) as e:
            last = e
        finally:
            c.close()
        if isinstance(last, Resp) and last.status == 200:
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert isinstance(last, Resp) and last.status == 200, f"no slot after closing one connection: {last!r}"
    for c in conns:
        c.close()


# --------------------------------------------------------------------------------------------------------------------
# Graceful shutdown


def test_sigterm_drains_in_flight_requests(server):
    srv = server("--debug-endpoints", "--shutdown-timeout", "5s", "--threads", "2")

    idle = []
    for _ in range(3):
        c = RawConn(srv)
        c.request("GET", "/health")
        assert c.read_response().status == 200
        idle.append(c)

    results = [None] * 5
    sent = [threading.Event() for _ in range(5)]

    def worker(i):
        try:
            c = RawConn(srv, timeout=scaled(15))
            c.request("GET", "/_debug/sleep?ms=1500")
            sent[i].set()
            r = c.read_response(timeout=scaled(15))
            how, _, extra = c.wait_closed(scaled(5))
            c.close()
            results[i] = (r, extra)
        except BaseException as e:  # reported by the main thread
            sent[i].set()
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(5)]
    for t in threads:
        t.start()
    for ev in sent:
        assert ev.wait(scaled(5))
    time.sleep(0.5)  # sent is not yet received: on a loaded machine the server may take a moment to read them
    t_sig = time.monotonic()
    srv.send_signal(signal.SIGTERM)

    # Idle keep-alive connections are closed promptly (well before the sleeping requests end).
    idle_close = []
    for c in idle:
        remaining = t_sig + scaled(3) - time.monotonic()
        how, _, extra = c.wait_closed(max(remaining, 0.01))
        idle_close.append(time.monotonic() - t_sig)
        assert extra == b"", f"idle connection got data on shutdown: {extra[:200]!r}"
        c.close()

    # New connections are refused while the server is still draining.
    refused_while_alive = False
    probe_log = []
    deadline = time.monotonic() + scaled(2)
    for _ in range(1000):
        if time.monotonic() > deadline or srv.proc.poll() is not None:
            break
        try:
            s = socket.create_connection((srv.host, srv.port), timeout=1)
            s.close()
            probe_log.append("connected")
            time.sleep(0.02)
        except ConnectionRefusedError:
            refused_while_alive = srv.proc.poll() is None
            probe_log.append("refused")
            break
    t_refused = time.monotonic() - t_sig

    for t in threads:
        t.join(timeout=scaled(15))
    rc = srv.wait(max(scaled(3) - (time.monotonic() - t_sig), 0.01))
    t_exit = time.monotonic() - t_sig

    for i, res in enumerate(results):
        assert not isinstance(res, BaseException), f"in-flight request {i}: {res!r}"
        assert res is not None, f"in-flight request {i} did not finish"
        r, extra = res
        assert (r.status, r.body) == (200, b"slept"), f"in-flight request {i}: {r!r}"
        assert (r.header("connection") or "").lower() == "close", f"in-flight request {i} lacks Connection: close: {r!r}"
        assert extra == b""
    assert max(idle_close) < scaled(0.7), f"idle connections closed only after {idle_close} s"
    assert refused_while_alive, f"new connects were not refused while draining ({probe_log}, {t_refused:.2f}s)"
    assert rc is not None, f"server still running {t_exit:.1f}s after SIGTERM"
    assert rc == 0, f"exit code {rc}"
    assert t_exit < scaled(3), f"exit took {t_exit:.2f}s"
    srv.stopped = True
    srv.check_clean()


def test_sigterm_cuts_requests_at_shutdown_timeout(server):
    srv = server("--debug-endpoints", "--shutdown-timeout", "1s")
    c = RawConn(srv, timeout=scaled(15))
    c.request("GET", "/_debug/sleep?ms=30000")
    time.sleep(0.2)
    elapsed = srv.stop(signal.SIGTERM, timeout=scaled(10))
    assert 0.8 <= elapsed < 1.0 + scaled(1.5), f"exit {elapsed:.2f}s after SIGTERM with --shutdown-timeout 1s"
    how, _, extra = c.wait_closed(scaled(5))
    assert not extra.startswith(b"HTTP/1.1 200"), extra[:200]
    c.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_idle_server_exits_zero_quickly(server, sig):
    srv = server("--threads", "2")
    assert get(srv, "/health")[0] == 200
    elapsed = srv.stop(sig, timeout=scaled(5))
    assert elapsed < scaled(1.5)


def test_shutdown_with_partial_head_pending(server):
    """A connection that has sent part of a head when the drain starts: it is either closed or answered
    (then /health/ready must say 503 and close)."""
    srv = server("--debug-endpoints", "--shutdown-timeout", "3s")
    keep = RawConn(srv, timeout=scaled(15))
    keep.request("GET", "/_debug/sleep?ms=800")  # keeps the server draining for a while
    c = RawConn(srv)
    c.send(b"GET /health/ready HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.2)
    srv.send_signal(signal.SIGTERM)
    time.sleep(0.1)
    try:
        c.send(b"\r\n")
        r = c.read_response(timeout=scaled(5))
        assert r.status == 503, r
        assert (r.header("connection") or "").lower() == "close"
    except (Closed, ConnectionResetError, BrokenPipeError):
        pass
    c.close()
    r = keep.read_response(timeout=scaled(10))
    assert r.body == b"slept"
    keep.close()
    rc = srv.wait(scaled(5))
    assert rc == 0
    srv.stopped = True
    srv.check_clean()
