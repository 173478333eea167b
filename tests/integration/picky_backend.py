"""A test backend of our own in front of a moto server, for what moto does not do on demand:
  - refuse the newer SDKs' headers (x-amz-checksum-*, x-amz-trailer, x-amz-sdk-checksum-algorithm, aws-chunked
    framing) with 400 InvalidArgument, as older S3 implementations do;
  - check the checksum trailer of an unsigned aws-chunked body (moto decodes the framing but checks nothing), and
    answer 400 BadDigest when it does not match, as AWS does;
  - drop the connection in the middle of a PUT's body (cut_puts), as a backend that crashes mid-write does;
  - answer every request `delay` seconds late, as a far-away backend does;
  - refuse DELETEs (and DeleteObjects) with 503 while `fail_deletes` is set (it may be changed at any time), as a backend in trouble
    does.
Every request is recorded (method, path, lower-cased headers, body length) so a test can see what s3orch sent.

The proxy runs on a thread of the test process, on 127.0.0.1, HTTP/1.1 with keep-alive; it reads each request body
whole (test objects are small) and passes the request on to moto unchanged (moto does not check signatures)."""

import base64
import http.client
import http.server
import socket
import threading
import time
import zlib
from collections import namedtuple

import pytest

SDK_HEADERS = ("x-amz-trailer", "x-amz-sdk-checksum-algorithm", "x-amz-decoded-content-length")

Recorded = namedtuple("Recorded", "method path headers body_len")


def _sdk_header(name, value):
    name = name.lower()
    if name.startswith("x-amz-checksum-") and name != "x-amz-checksum-mode":
        return True
    return name in SDK_HEADERS or (name == "content-encoding" and "aws-chunked" in value.lower())


def decode_unsigned_chunks(body):
    """(data, {trailer name: value}) of an unsigned aws-chunked body; raises ValueError when the framing is bad."""
    data, pos = bytearray(), 0
    while True:
        eol = body.index(b"\r\n", pos)
        size = int(body[pos:eol].split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            break
        data += body[pos:pos + size]
        if body[pos + size:pos + size + 2] != b"\r\n":
            raise ValueError("chunk data not followed by CRLF")
        pos += size + 2
    trailers = {}
    while True:
        eol = body.index(b"\r\n", pos)
        line = body[pos:eol]
        pos = eol + 2
        if not line:
            break
        name, _, value = line.partition(b":")
        trailers[name.strip().decode().lower()] = value.strip().decode()
    if pos != len(body):
        raise ValueError("bytes after the framing")
    return bytes(data), trailers


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


class PickyBackend:
    """PickyBackend(moto, refuse_sdk_headers=False, check_trailer=False).start() → a target for
    backends.s3_backend_entry (endpoint, bucket; no CA)."""

    ca_file = None

    def __init__(self, moto, refuse_sdk_headers=False, check_trailer=False, cut_puts=False, delay=0.0,
                 fail_deletes=False):
        self.moto = moto
        self.bucket = moto.bucket
        self.refuse_sdk_headers = refuse_sdk_headers
        self.check_trailer = check_trailer
        self.cut_puts = cut_puts
        self.delay = delay
        self.fail_deletes = fail_deletes
        self.requests = []
        self.batch_sizes = []  # keys of each DeleteObjects request, in order
        self._server = None

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self):
        picky = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, status, headers, body):
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                        self.send_header(k, v)
                length = dict((k.lower(), v) for k, v in headers).get("content-length", str(len(body)))
                self.send_header("Content-Length", length if self.command == "HEAD" else str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _error(self, status, code):
                xml = f"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>picky</Message></Error>".encode()
                self._answer(status, [("Content-Type", "application/xml")], xml)

            def _check(self, body):
                """The error this backend answers, or None."""
                if picky.refuse_sdk_headers and any(_sdk_header(k, v) for k, v in self.headers.items()):
                    return 400, "InvalidArgument"
                chunked = "aws-chunked" in self.headers.get("Content-Encoding", "").lower()
                if picky.check_trailer and chunked:
                    try:
                        data, trailers = decode_unsigned_chunks(body)
                    except ValueError:
                        return 400, "IncompleteBody"
                    if len(data) != int(self.headers.get("X-Amz-Decoded-Content-Length", -1)):
                        return 400, "IncompleteBody"
                    if trailers.get("x-amz-checksum-crc32") != crc32_b64(data):
                        return 400, "BadDigest"
                return None

            def _handle(self):
                n = int(self.headers.get("Content-Length", 0) or 0)
                if picky.cut_puts and self.command == "PUT" and n > 1:
                    self.rfile.read(n // 2)
                    picky.requests.append(Recorded(self.command, self.path, dict(self.headers.items()), n // 2))
                    self.connection.shutdown(socket.SHUT_RDWR)  # gone mid-body, no answer
                    self.close_connection = True
                    return
                body = self.rfile.read(n) if n else b""
                picky.requests.append(Recorded(self.command, self.path, {k.lower(): v for k, v in
                                                                         self.headers.items()}, len(body)))
                if picky.delay:
                    time.sleep(picky.delay)
                refused = self._check(body)
                batch_delete = self.command == "POST" and self.path.split("?", 1)[-1].startswith("delete")
                if batch_delete:
                    picky.batch_sizes.append(body.count(b"<Object>"))
                if picky.fail_deletes and (self.command == "DELETE" or batch_delete):
                    refused = 503, "ServiceUnavailable"
                if refused:
                    self._error(*refused)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", picky.moto.port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    r = conn.getresponse()
                    self._answer(r.status, r.getheaders(), r.read())
                finally:
                    conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # s3orch dropping a connection mid-request is part of the tests

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def puts(self):
        """The recorded PUT requests."""
        return [r for r in self.requests if r.method == "PUT"]


@pytest.fixture
def picky(moto_server):
    """Factory: picky(**PickyBackend options) → a started PickyBackend in front of a fresh moto; stopped at teardown.
    Import it beside backends.moto_server, which it uses."""
    started = []

    def start(**opts):
        [m] = moto_server(1)
        p = PickyBackend(m, **opts).start()
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()
