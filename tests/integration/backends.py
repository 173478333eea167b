"""Real S3 backends for s3orch's `type: s3` driver (issue #5): moto S3 servers on loopback ports, an nginx TLS proxy
in front of one (self-signed CA made with the openssl CLI), the config entries that point s3orch at them, and a
starter that skips a test while s3orch still refuses `type: s3` at start.

Fixtures (import them into a test module: `from backends import moto_server, tls_moto`):
  moto_server   factory: moto_server(n=1) -> [MotoServer, …], each serving the bucket BACKEND_BUCKET; stopped at
                teardown. A handle's stop() / start() takes its server down and brings it back on the same port
                (moto keeps everything in memory: the restarted server is empty, start() recreates the bucket).
  tls_moto      one moto behind nginx on https://127.0.0.1:PORT: TlsMoto(endpoint, ca_file, wrong_ca_file, moto).

Everything listens on 127.0.0.1; every wait is bounded (scaled by S3ORCH_TIME_SCALE).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import namedtuple
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402

import s3env  # noqa: E402  (also puts 127.0.0.1 in NO_PROXY)
from conftest import Server, scaled  # noqa: E402

BACKEND_BUCKET = "s3orch-backend"
BACKEND_KEYS = ("test", "test")
REGION = "us-east-1"

_RUNNING_ON = re.compile(rb"Running on http://127\.0\.0\.1:(\d+)")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _child_env():
    """The environment of a backend process: no proxy variables, no AWS_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith("AWS_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _have_moto():
    try:
        import moto.server  # noqa: F401
        import flask  # noqa: F401  (moto[server])
    except ImportError:
        return False
    return True


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def backend_client(url, ca_file=None, **cfg):
    """A boto3 client for a backend itself (moto, directly or through the TLS proxy), with the backend keys."""
    cfg.setdefault("retries", {"total_max_attempts": 1})
    cfg.setdefault("connect_timeout", scaled(10))
    cfg.setdefault("read_timeout", scaled(120))
    cfg.setdefault("s3", {"addressing_style": "path"})
    return boto3.client(
        "s3", endpoint_url=url, region_name=REGION, aws_access_key_id=BACKEND_KEYS[0],
        aws_secret_access_key=BACKEND_KEYS[1], verify=ca_file if ca_file else True, config=Config(**cfg),
    )


# --- moto -----------------------------------------------------------------------------------------------------------

class MotoServer:
    """One moto S3 server (`python -m moto.server`, the moto_server entry point) on 127.0.0.1. The first start()
    takes a free port (moto binds port 0 and prints it); later starts reuse that port."""

    def __init__(self, log_dir, name="moto", bucket=BACKEND_BUCKET):
        self.name = name
        self.bucket = bucket
        self.log_path = Path(log_dir) / f"{name}.log"
        self.port = None
        self.proc = None
        self._log = None
        self._log_from = 0

    ca_file = None  # plain HTTP

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    endpoint = url

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _spawn(self):
        assert not self.running, f"{self.name} is already running"
        if not _have_moto():
            pytest.skip("moto[server] is not installed")
        self._log = open(self.log_path, "ab")
        self._log_from = self._log.tell()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port or 0)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=_child_env(),
        )

    def _log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_from)
                return f.read()
        except OSError:
            return b""

    def _wait_ready(self, timeout=None):
        """Waits (bounded) until the server printed its port and answers GET / (ListBuckets)."""
        deadline = time.monotonic() + (scaled(30) if timeout is None else timeout)
        while True:
            if self.port is None:
                m = _RUNNING_ON.search(self._log_text())
                if m:
                    self.port = int(m.group(1))
            if self.port is not None:
                try:
                    with _NO_PROXY.open(self.url + "/", timeout=2) as r:
                        if r.status == 200:
                            return
                except OSError:
                    pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                text = self._log_text().decode(errors="replace")[-4000:]
                self.stop(kill=True)
                raise AssertionError(f"moto server {self.name} did not start (port {self.port}):\n{text}")
            time.sleep(0.05)

    def create_bucket(self):
        self.client().create_bucket(Bucket=self.bucket)

    def start(self):
        """Starts the server (on the same port as before, if it ran before) and creates the backend bucket."""
        self._spawn()
        self._wait_ready()
        self.create_bucket()
        return self

    def stop(self, kill=False):
        """Stops the server: SIGKILL with kill=True (a crash: connections die mid-body), else SIGTERM. Bounded."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout=scaled(10))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self):
        self.stop()
        return self.start()

    def client(self, **cfg):
        return backend_client(self.url, **cfg)

    def keys(self, prefix=""):
        """Every key in the backend bucket under prefix."""
        out = []
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out += [o["Key"] for o in page.get("Contents", [])]
        return out

    def uploads(self, prefix=""):
        """(key, upload id) of every multipart upload in progress in the backend bucket under prefix."""
        r = self.client().list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        return [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]

    def read(self, key):
        return self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def __repr__(self):
        return f"MotoServer({self.name}, {self.url})"


@pytest.fixture
def moto_server(tmp_path):
    """Factory: moto_server(n=1, bucket=BACKEND_BUCKET) starts n moto servers (in parallel) and answers the list of
    MotoServer handles, each with its bucket created. All are stopped at teardown."""
    started = []

    def start(n=1, bucket=BACKEND_BUCKET):
        batch = [MotoServer(tmp_path, f"moto{len(started) + i}", bucket) for i in range(n)]
        started.extend(batch)
        for m in batch:
            m._spawn()
        for m in batch:
            m._wait_ready()
            m.create_bucket()
        return batch

    yield start
    for m in started:
        m.stop()


# --- TLS: a CA, a certificate for 127.0.0.1, nginx in front of moto -------------------------------------------------

def _openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, timeout=60)
    assert r.returncode == 0, f"openssl {' '.join(args)}: {r.stderr.decode(errors='replace')}"


def make_ca(dir_, name):
    """A self-signed CA (EC P-256) as dir_/name.pem and dir_/name.key. Returns (cert path, key path)."""
    dir_ = Path(dir_)
    dir_.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "3", "-subj", f"/CN=s3orch test {name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=dir_)
    return dir_ / f"{name}.pem", dir_ / f"{name}.key"


def make_server_cert(dir_, ca, name="server", ip="127.0.0.1"):
    """A server certificate for IP `ip` (SAN IP:ip) signed by ca=(cert, key). Returns (cert path, key path)."""
    dir_ = Path(dir_)
    (dir_ / f"{name}.ext").write_text(
        f"subjectAltName=IP:{ip}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
    )
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={ip}", cwd=dir_)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-CAcreateserial",
             "-out", f"{name}.pem", "-days", "3", "-extfile", f"{name}.ext", cwd=dir_)
    return dir_ / f"{name}.pem", dir_ / f"{name}.key"


def _nginx():
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not path:
        pytest.skip("nginx is not installed")
    return path


class TlsProxy:
    """nginx (foreground, `daemon off;`, everything under dir_) terminating TLS on https://127.0.0.1:PORT and
    proxying to an http upstream without buffering either body."""

    def __init__(self, dir_, upstream_port, cert, key):
        self.dir = Path(dir_)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.upstream_port, self.cert, self.key = upstream_port, cert, key
        self.port = None
        self.proc = None
        self.error_log = self.dir / "error.log"

    @property
    def endpoint(self):
        return f"https://127.0.0.1:{self.port}"

    def _conf(self, port):
        d = self.dir
        # As root, nginx's workers would drop to `nobody` and lose access to the 0700 pytest tmp dirs.
        user = "user root root;\n" if os.geteuid() == 0 else ""
        return f"""{user}daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {self.error_log} info;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {self.cert};
        ssl_certificate_key {self.key};
        ssl_protocols TLSv1.2 TLSv1.3;
        keepalive_requests 10000;
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_read_timeout 600s;
        proxy_send_timeout 600s;
        location / {{
            proxy_pass http://127.0.0.1:{self.upstream_port};
            proxy_set_header Host $http_host;
            proxy_set_header Connection "";
        }}
    }}
}}
"""

    def start(self):
        """Starts nginx on a free port (a few tries: the port is probed, then bound by nginx) and waits (bounded)
        until it accepts connections."""
        nginx = _nginx()
        for _ in range(3):
            port = self.port or _free_port()
            conf = self.dir / "nginx.conf"
            conf.write_text(self._conf(port))
            log_from = self.error_log.stat().st_size if self.error_log.exists() else 0
            self.proc = subprocess.Popen(
                [nginx, "-p", str(self.dir), "-c", str(conf), "-e", str(self.error_log)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_child_env(),
            )
            deadline = time.monotonic() + scaled(15)
            while self.proc.poll() is None and time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    self.port = port
                    return self
                except OSError:
                    time.sleep(0.05)
            self.stop()
            err = self.error_log.read_bytes()[log_from:].decode(errors="replace") if self.error_log.exists() else ""
            if "Address already in use" not in err or self.port:
                raise AssertionError(f"nginx did not start on 127.0.0.1:{port}:\n{err[-4000:]}")
        raise AssertionError("nginx found no free port in 3 tries")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful; SIGTERM is a fast shutdown
            try:
                self.proc.wait(timeout=scaled(10))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class TlsMoto(namedtuple("TlsMoto", "endpoint ca_file wrong_ca_file moto proxy")):
    """A moto server behind the TLS proxy: endpoint (https://127.0.0.1:PORT), the CA that signed the proxy's
    certificate, a CA that did not, the MotoServer and the TlsProxy."""

    @property
    def url(self):
        return self.endpoint

    @property
    def bucket(self):
        return self.moto.bucket

    def client(self, **cfg):
        """A boto3 client for the backend through the proxy, verifying its certificate with ca_file."""
        return backend_client(self.endpoint, ca_file=str(self.ca_file), **cfg)


@pytest.fixture
def tls_moto(moto_server, tmp_path):
    """One moto server behind nginx on https://127.0.0.1:PORT, with a certificate for IP 127.0.0.1 from a CA made
    for this test (ca_file), and another CA that did not sign it (wrong_ca_file)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    _nginx()
    pki = tmp_path / "pki"
    ca = make_ca(pki, "ca")
    wrong = make_ca(pki, "wrong-ca")
    cert, key = make_server_cert(pki, ca)
    [m] = moto_server(1)
    proxy = TlsProxy(tmp_path / "nginx", m.port, cert, key).start()
    try:
        yield TlsMoto(proxy.endpoint, ca[0], wrong[0], m, proxy)
    finally:
        proxy.stop()


# --- s3orch configs with s3 backends ---------------------------------------------------------------------------------

def _target(t):
    """(endpoint, bucket, ca_file) of a MotoServer, a TlsMoto or a plain endpoint URL."""
    if isinstance(t, str):
        return t, BACKEND_BUCKET, None
    return t.endpoint, t.bucket, getattr(t, "ca_file", None)


def _yaml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return '"%s"' % str(v).replace("\\", "\\\\").replace('"', '\\"')


def s3_backend_entry(name, target, ca_file=None, **opts):
    """The YAML of one `backends:` list entry of type s3 for target (a MotoServer, a TlsMoto or an endpoint URL):
    the backend keys, region us-east-1, force_path_style true, ca_file (the target's unless given; "" for none),
    and any other backend key given as a keyword (unsigned_payload=True, quota_bytes="1GiB", …)."""
    endpoint, bucket, own_ca = _target(target)
    ca = own_ca if ca_file is None else ca_file
    # moto checks no payload hash, Content-MD5 or checksum: saying so makes s3orch check them itself, so a bad
    # body is refused on this backend as on any other (bodies that claim nothing still go through zero-copy).
    fields = {
        "endpoint": endpoint, "region": REGION, "bucket": bucket, "access_key_id": BACKEND_KEYS[0],
        "secret_access_key": BACKEND_KEYS[1], "force_path_style": True, "unsigned_payload": True,
        "disable_checksum": True,
    }
    if ca:
        fields["ca_file"] = str(ca)
    fields.update(opts)
    lines = [f"  - name: {name}", "    type: s3"] + [f"    {k}: {_yaml_value(v)}" for k, v in fields.items()]
    return "\n".join(lines) + "\n"


def write_s3_config(dir_, targets, names=None, ca_file=None, server_keys=None, extra="", **opts):
    """Writes dir_/s3orch.yaml as s3env.write_config does (buckets `photos` and `other`, their credentials, SQLite in
    dir_), with one s3 backend per target (names b1, b2, … unless given) instead of the fs backend. ca_file and
    **opts go to every backend entry; server_keys (a dict) into `server:`; extra (YAML text) is appended at the top
    level, e.g. a backend_circuit_breaker section. Returns the path."""
    names = names or [f"b{i + 1}" for i in range(len(targets))]
    entries = "".join(s3_backend_entry(n, t, ca_file=ca_file, **opts) for n, t in zip(names, targets))
    return s3env.write_config(dir_, backends=entries, server_keys=server_keys, extra=extra)


# --- starting s3orch on s3 backends ---------------------------------------------------------------------------------

_S3_REFUSED = re.compile(r"type:? s3\b[^\n]*not (yet )?(implemented|supported)|s3 backends? [^\n]*not (yet )?"
                         r"(implemented|supported)", re.I)


def s3_refused(text):
    """Whether s3orch's output says it does not support `type: s3` backends yet."""
    return bool(_S3_REFUSED.search(text))


def _skip_if_refused(err):
    if s3_refused(str(err)):
        pytest.skip("s3orch refuses `type: s3` backends at start (issue #5 driver not built yet)")
    raise err


@pytest.fixture(scope="session")
def s3_driver(tmp_path_factory):
    """Whether s3orch accepts `type: s3` backends: None when it does, else why not. Probed once per session by
    starting s3orch on an s3 backend that nobody listens on (cheap: no moto needed to find out)."""
    tmp = tmp_path_factory.mktemp("s3-driver-probe")
    cfg = s3env.write_config(tmp, backends=s3_backend_entry("probe", "http://127.0.0.1:9"))
    try:
        srv = Server(["--config", str(cfg)], tmp, 0)
    except AssertionError as e:
        # Refused: the reason. Another failure at start: let the tests themselves show it.
        return "s3orch refuses `type: s3` backends at start (issue #5 driver not built yet)" if s3_refused(str(e)) \
            else None
    srv.send_signal()
    if srv.wait(scaled(10)) is None:
        srv.kill()
    return None


def start_s3orch(server, cfg, *args):
    """Starts s3orch with the server fixture's factory: `serve --config cfg *args`. Skips the test while s3orch
    exits at start because it does not support type s3 yet."""
    try:
        return server("--config", str(cfg), *args, listen=None)
    except AssertionError as e:
        _skip_if_refused(e)


def start_s3orch_server(cfg, tmp, index=0, *args):
    """As start_s3orch, for a Server outside the server fixture (the caller stops it)."""
    try:
        return Server(["--config", str(cfg), *args], Path(tmp), index)
    except AssertionError as e:
        _skip_if_refused(e)


def find_backend_objects(motos, bucket, key):
    """[(moto, backend key)] of every object named for s3orch's `bucket`/`key` on the given moto servers: the
    backend key layout is `<bucket>/<key>#<16 hex>`."""
    prefix = f"{bucket}/{key}#"
    return [(m, k) for m in motos for k in m.keys(prefix) if k.startswith(prefix)]
