"""Shared helpers for the S3 API tests of issue #4 (listing, multipart, copy and batch delete, buckets and tagging,
real tools): a config writer, boto3 client factories, a module-scoped server, per-feature probes that skip a test
while the server answers 501 NotImplemented for the call it needs, and a raw SigV4-signed request for what clients
will not send.

Environment:
  S3ENV_MOTO=1   run the boto3-level tests against a moto server instead of s3orch (to check what the tests expect
                 of S3). moto knows nothing of s3orch's credentials model, its disk layout or restarts: the tests of
                 those skip under moto. AWS is the reference where moto differs; the tests note such spots.
  S3ENV_BACKEND  `fs` (default): s3orch stores on one fs backend. `moto`: s3orch stores on one `type: s3` backend, a
                 moto server started beside it (backends.py), so the same suites drive the s3 driver. Tests that
                 look at the fs backend's files skip then (Env.fs_only; Env.backend_root skips by itself).
  S3ORCH_WRAPPER set (valgrind pass): heavy tests shrink their sizes (see `heavy`).
  S3ENV_STORE    `sqlite` (default) or `postgres`: the metadata store s3orch runs on (conftest.database_yaml).
"""

import contextlib
import hashlib
import http.client
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections import namedtuple
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from conftest import Server, database_yaml, scaled  # noqa: E402

# Clients talk to 127.0.0.1 directly, never through a proxy set in the environment.
_LOOPBACK = "127.0.0.1,localhost"
for _name in ("NO_PROXY", "no_proxy"):
    _cur = os.environ.get(_name, "")
    if "127.0.0.1" not in _cur:
        os.environ[_name] = f"{_cur},{_LOOPBACK}" if _cur else _LOOPBACK

MOTO = os.environ.get("S3ENV_MOTO", "") not in ("", "0")
BACKEND = os.environ.get("S3ENV_BACKEND", "") or "fs"
if BACKEND not in ("fs", "moto"):
    raise ValueError(f"S3ENV_BACKEND={BACKEND!r}: expected fs or moto")
UNDER_WRAPPER = bool(os.environ.get("S3ORCH_WRAPPER"))
MIB = 1 << 20

# Two config buckets. `photos` has a read-write credential allowed to create buckets (RW), a read-write one that is
# not (NC) and a read-only one (RO); `other` belongs to OT, also allowed to create buckets.
BUCKET = "photos"
OTHER_BUCKET = "other"
RW = ("AKIAISSUE4RWRWRWRWRW", "issue4-rw-secret/with+odd=chars0123456789")
NC = ("AKIAISSUE4NCNCNCNCNC", "issue4-nc-secret-0123456789abcdefghijklmn")
RO = ("AKIAISSUE4ROROROROR0", "issue4-ro-secret-0123456789abcdefghijklmn")
OT = ("AKIAISSUE4OTOTOTOTOT", "issue4-ot-secret-0123456789abcdefghijklmn")


def heavy(normal, light):
    """The size a heavy test uses: `normal` in the normal pass, `light` under valgrind (S3ORCH_WRAPPER)."""
    return light if UNDER_WRAPPER else normal


def md5_etag(b):
    return '"%s"' % hashlib.md5(b).hexdigest()


def multipart_etag(parts):
    """S3's ETag of a multipart object: hex(md5(concat(binary md5 of each part)))-N, quoted."""
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(), len(parts))


def sha(b):
    return hashlib.sha256(b).hexdigest()


def unique(prefix="b"):
    """A fresh bucket-name-safe word."""
    return f"{prefix}-{secrets.token_hex(4)}"


# --- configuration --------------------------------------------------------------------------------------------------

def write_config(dir_, max_object_size=None, backends=None, server_keys=None, extra=""):
    """Writes dir_/s3orch.yaml: buckets `photos` (RW, NC, RO) and `other` (OT), SQLite in dir_/meta.db (or a fresh
    PostgreSQL database: conftest.database_yaml), one fs backend at dir_/disk1. Returns the path.

    backends: YAML text of the `backends:` list entries to use instead of the fs backend (see
    backends.s3_backend_entry); server_keys: a dict of further `server:` keys; extra: YAML text appended at the top
    level (e.g. a backend_circuit_breaker section)."""
    dir_ = Path(dir_)
    server_extra = f"\n  max_object_size: {max_object_size}" if max_object_size else ""
    server_extra += "".join(f"\n  {k}: {v}" for k, v in (server_keys or {}).items())
    if backends is None:
        backends = f"""  - name: disk1
    type: fs
    path: {dir_}/disk1
"""
    cfg = dir_ / "s3orch.yaml"
    cfg.write_text(
        f"""
server:
  listen_addr: "127.0.0.1:0"{server_extra}
{database_yaml(dir_)}buckets:
  - name: {BUCKET}
    credentials:
      - access_key_id: {RW[0]}
        secret_access_key: "{RW[1]}"
        permission: read-write
        create_buckets: true
      - access_key_id: {NC[0]}
        secret_access_key: "{NC[1]}"
        permission: read-write
      - access_key_id: {RO[0]}
        secret_access_key: "{RO[1]}"
        permission: read-only
  - name: {OTHER_BUCKET}
    credentials:
      - access_key_id: {OT[0]}
        secret_access_key: "{OT[1]}"
        permission: read-write
        create_buckets: true
backends:
{backends}{extra}"""
    )
    return cfg


def make_client(url, cred=RW, **cfg):
    cfg.setdefault("retries", {"total_max_attempts": 1})
    cfg.setdefault("connect_timeout", scaled(10))
    cfg.setdefault("read_timeout", scaled(120))
    cfg.setdefault("max_pool_connections", 16)
    return boto3.client(
        "s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=cred[0], aws_secret_access_key=cred[1],
        config=Config(**cfg),
    )


def error_of(call):
    """(error code, HTTP status) of a boto3 call; (None, status) when it succeeds."""
    try:
        r = call()
    except ClientError as e:
        return e.response["Error"].get("Code"), e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, (r or {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 200)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Moto:
    """A moto_server on a free loopback port, with the config buckets created."""

    def __init__(self, tmp):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(tmp) / "moto.log", "wb")
        self.proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 30
        while True:
            try:
                opener.open(self.url + "/moto-api/", timeout=2).read()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError("moto_server did not start")
                time.sleep(0.1)
        for b, cred in ((BUCKET, RW), (OTHER_BUCKET, OT)):
            make_client(self.url, cred).create_bucket(Bucket=b)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


# --- probes ---------------------------------------------------------------------------------------------------------

def _probe_copy(s3):
    s3.put_object(Bucket=BUCKET, Key="s3env-probe/copy-src", Body=b"probe")
    s3.copy_object(Bucket=BUCKET, Key="s3env-probe/copy-dst",
                   CopySource={"Bucket": BUCKET, "Key": "s3env-probe/copy-src"})
    s3.delete_object(Bucket=BUCKET, Key="s3env-probe/copy-src")
    s3.delete_object(Bucket=BUCKET, Key="s3env-probe/copy-dst")


def _probe_multipart(s3):
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="s3env-probe/mpu")
    s3.abort_multipart_upload(Bucket=BUCKET, Key="s3env-probe/mpu", UploadId=up["UploadId"])


def _probe_upload_part_copy(s3):
    s3.put_object(Bucket=BUCKET, Key="s3env-probe/upc-src", Body=b"probe")
    up = s3.create_multipart_upload(Bucket=BUCKET, Key="s3env-probe/upc")
    try:
        s3.upload_part_copy(Bucket=BUCKET, Key="s3env-probe/upc", UploadId=up["UploadId"], PartNumber=1,
                            CopySource={"Bucket": BUCKET, "Key": "s3env-probe/upc-src"}, CopySourceRange="bytes=0-1")
    finally:
        s3.abort_multipart_upload(Bucket=BUCKET, Key="s3env-probe/upc", UploadId=up["UploadId"])
        s3.delete_object(Bucket=BUCKET, Key="s3env-probe/upc-src")


def _probe_part_number(s3):
    s3.put_object(Bucket=BUCKET, Key="s3env-probe/pn", Body=b"probe")
    try:
        s3.head_object(Bucket=BUCKET, Key="s3env-probe/pn", PartNumber=1)
    finally:
        s3.delete_object(Bucket=BUCKET, Key="s3env-probe/pn")


def _probe_tagging(s3):
    s3.put_object(Bucket=BUCKET, Key="s3env-probe/tag", Body=b"probe")
    s3.get_object_tagging(Bucket=BUCKET, Key="s3env-probe/tag")
    s3.put_object_tagging(Bucket=BUCKET, Key="s3env-probe/tag", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.delete_object(Bucket=BUCKET, Key="s3env-probe/tag")


def _probe_tagging_header(s3):
    s3.put_object(Bucket=BUCKET, Key="s3env-probe/tagh", Body=b"probe", Tagging="k=v")
    s3.delete_object(Bucket=BUCKET, Key="s3env-probe/tagh")


def _probe_create_bucket(s3):
    name = unique("s3env-probe")
    s3.create_bucket(Bucket=name)
    s3.delete_bucket(Bucket=name)


PROBES = {
    "ListObjectsV2": lambda s3: s3.list_objects_v2(Bucket=BUCKET, MaxKeys=1),
    "ListObjects": lambda s3: s3.list_objects(Bucket=BUCKET, MaxKeys=1),
    "ListObjectVersions": lambda s3: s3.list_object_versions(Bucket=BUCKET, MaxKeys=1),
    "DeleteObjects": lambda s3: s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "s3env-probe/none"}]}),
    "CopyObject": _probe_copy,
    "Multipart": _probe_multipart,
    "ListMultipartUploads": lambda s3: s3.list_multipart_uploads(Bucket=BUCKET, MaxUploads=1),
    "UploadPartCopy": _probe_upload_part_copy,
    "PartNumber": _probe_part_number,
    "Tagging": _probe_tagging,
    "TaggingHeader": _probe_tagging_header,
    "ListBuckets": lambda s3: s3.list_buckets(),
    "HeadBucket": lambda s3: s3.head_bucket(Bucket=BUCKET),
    "GetBucketLocation": lambda s3: s3.get_bucket_location(Bucket=BUCKET),
    "GetBucketVersioning": lambda s3: s3.get_bucket_versioning(Bucket=BUCKET),
    "CreateBucket": _probe_create_bucket,
}


def not_implemented(e):
    return e.response["Error"].get("Code") in ("NotImplemented", "501") or \
        e.response["ResponseMetadata"]["HTTPStatusCode"] == 501


# --- the environment a test module runs against ---------------------------------------------------------------------

class Env:
    """One server (s3orch, or moto with S3ENV_MOTO=1) with the config of write_config(). With S3ENV_BACKEND=moto,
    s3orch stores on a moto server (backend_moto) through a `type: s3` backend instead of the fs backend.

    backend_moto, given with srv: the MotoServer that srv's config stores on (so is_fs is False)."""

    def __init__(self, tmp, srv=None, backend_moto=None):
        self.tmp = Path(tmp)
        self.moto = None
        self.backend_moto = backend_moto
        self.srv = srv
        self._owns_srv = srv is None
        self._probes = {}
        if srv is None:
            if MOTO:
                self.moto = _Moto(self.tmp)
            elif BACKEND == "moto":
                self._start_on_moto_backend()
            else:
                self.cfg = write_config(self.tmp)
                self.srv = Server(["--config", str(self.cfg)], self.tmp, 0)

    def _start_on_moto_backend(self):
        import backends  # here, not at the top: backends imports this module

        self.backend_moto = backends.MotoServer(self.tmp, "backend-moto").start()
        try:
            self.cfg = write_config(self.tmp, backends=backends.s3_backend_entry("moto1", self.backend_moto))
            self.srv = backends.start_s3orch_server(self.cfg, self.tmp)
        except BaseException:
            self.backend_moto.stop()
            raise

    @property
    def is_moto(self):
        return self.moto is not None

    @property
    def url(self):
        return self.moto.url if self.moto else self.srv.url

    @property
    def port(self):
        return self.moto.port if self.moto else self.srv.port

    @property
    def is_fs(self):
        """Whether this is s3orch storing on its fs backend (the default), whose files a test may look at."""
        return not self.is_moto and self.backend_moto is None

    @property
    def backend_root(self):
        """The fs backend's directory (s3orch only). Skips the calling test when s3orch stores on an s3 backend."""
        if self.backend_moto is not None:
            self.fs_only("looks at the fs backend's files")
        return self.tmp / "disk1"

    def backend_keys(self):
        """What the backend holds: the fs backend's files (files_under(backend_root)), or with an s3 backend the keys
        in its bucket plus `%upload/<key>/<upload id>` for each multipart upload in progress there. Compare two
        calls to see what a request left behind."""
        if self.backend_moto is None:
            return files_under(self.backend_root)
        m = self.backend_moto
        return set(m.keys()) | {f"%upload/{k}/{u}" for k, u in m.uploads()}

    def client(self, cred=RW, **cfg):
        return make_client(self.url, cred, **cfg)

    def resource(self, cred=RW):
        return boto3.resource(
            "s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=cred[0],
            aws_secret_access_key=cred[1], config=Config(retries={"total_max_attempts": 1}),
        )

    def s3orch_only(self, why):
        if self.is_moto:
            pytest.skip(f"s3orch only: {why}")

    def fs_only(self, why):
        """Skips the calling test unless s3orch stores on its fs backend (not under S3ENV_MOTO=1 nor with
        S3ENV_BACKEND=moto)."""
        if self.is_moto:
            pytest.skip(f"s3orch only: {why}")
        if self.backend_moto is not None:
            pytest.skip(f"fs backend only: {why}")

    def moto_differs(self, why):
        """Skips under moto where it is known to answer differently from AWS (the reference)."""
        if self.is_moto:
            pytest.skip(f"moto differs from AWS: {why}")

    def has(self, feature):
        """Whether the server implements a feature: its probe (PROBES) got an answer other than 501
        NotImplemented. Probed once per server."""
        if feature not in self._probes:
            try:
                PROBES[feature](self.client())
                self._probes[feature] = True
            except ClientError as e:
                self._probes[feature] = not not_implemented(e)
        return self._probes[feature]

    def require(self, *features):
        """Skips the calling test while the server answers 501 NotImplemented to any of these features' probes."""
        for f in features:
            if not self.has(f):
                pytest.skip(f"{f} not implemented yet")

    def check_clean(self):
        if self.srv is not None:
            self.srv.check_clean()

    def close(self):
        """Stops what this Env started: s3orch with SIGTERM, asserting exit code 0 and a clean stderr."""
        if self.moto:
            self.moto.stop()
        elif self._owns_srv and self.srv is not None:
            try:
                rc = self.srv.proc.poll()
                if rc is None:
                    try:
                        self.srv.stop()
                    finally:
                        self.srv.kill()
                elif not self.srv.stopped:
                    raise AssertionError(f"s3orch exited on its own with {rc}\n--- stderr ---\n{self.srv.stderr()}")
            finally:
                if self.backend_moto is not None:
                    self.backend_moto.stop()


@contextlib.contextmanager
def module_env(tmp):
    e = Env(tmp)
    try:
        yield e
    finally:
        e.close()


@pytest.fixture(scope="module")
def module_env_fixture(tmp_path_factory, request):
    with module_env(tmp_path_factory.mktemp(request.module.__name__.replace("test_", ""))) as e:
        yield e


def _attach(request, e):
    """Lists e's server among the test's servers, whose stderr conftest adds to the report of a failing test."""
    if e.srv is not None:
        lst = getattr(request.node, "_s3orch_servers", None)
        if lst is None:
            request.node._s3orch_servers = lst = []
        lst.append(e.srv)


@pytest.fixture
def env(module_env_fixture, request):
    """The module's server for one test: its stderr goes into the report of a failing test, and a sanitizer report
    on it fails the test."""
    e = module_env_fixture
    _attach(request, e)
    yield e
    e.check_clean()


@pytest.fixture
def fresh_env(request, tmp_path):
    """A server of its own for one test (for exact bucket lists and the empty bucket)."""
    e = Env(tmp_path)
    _attach(request, e)
    try:
        yield e
    finally:
        e.close()


# --- raw signed requests --------------------------------------------------------------------------------------------

Resp = namedtuple("Resp", "status headers body")


class _S3Signer(SigV4Auth):
    def _normalize_url_path(self, path):  # S3 signs the path as sent
        return path


def raw(e, method, path, body=b"", headers=None, cred=RW, query=""):
    """One request signed with SigV4Auth. `path` is sent as given (already percent-encoded); `query` is the raw query
    string. The payload hash is the body's unless X-Amz-Content-SHA256 is given."""
    target = path + (f"?{query}" if query else "")
    headers = dict(headers or {})
    headers.setdefault("X-Amz-Content-SHA256", sha(body))
    req = AWSRequest(method=method, url=e.url + target, headers=headers)
    _S3Signer(Credentials(*cred), "s3", "us-east-1").add_auth(req)
    conn = http.client.HTTPConnection("127.0.0.1", e.port, timeout=scaled(60))
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for k, v in req.headers.items():
            conn.putheader(k, v)
        if body or method in ("PUT", "POST"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body)
        r = conn.getresponse()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def signed_head(e, method, path, headers=None, cred=RW, unsigned=""):
    """The head (bytes) of a SigV4-signed request to e (anything with url and port), for tests that drive the
    socket themselves: a stalled or cut body, a 100-continue wait. `path` is sent as given; `unsigned` holds raw
    header lines sent but not signed (e.g. "Expect: 100-continue\r\n")."""
    req = AWSRequest(method=method, url=e.url + path, headers=dict(headers or {}))
    _S3Signer(Credentials(*cred), "s3", "us-east-1").add_auth(req)
    lines = "".join(f"{k}: {v}\r\n" for k, v in req.headers.items() if k.lower() != "host")
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{e.port}\r\n{unsigned}{lines}\r\n".encode()


def xml_code(resp):
    """The <Code> of an S3 error body, or None."""
    if not resp.body:
        return None
    try:
        return ET.fromstring(resp.body).findtext("Code")
    except ET.ParseError:
        return None


def quote_key(key):
    return urllib.parse.quote(key, safe="/~")


# --- disk -----------------------------------------------------------------------------------------------------------

def files_under(root):
    """Relative paths of the regular files under root (empty when root does not exist), without s3orch's %tmp."""
    root = Path(root)
    if not root.exists():
        return set()
    out = set()
    for dirpath, _, names in os.walk(root):
        for n in names:
            rel = os.path.relpath(os.path.join(dirpath, n), root)
            if not rel.startswith("%tmp"):
                out.add(rel)
    return out


def tool(name):
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed")
    return path


def cli_env(extra=None):
    """The environment for a CLI subprocess: no proxy variables at all (not every tool honours NO_PROXY), and no
    inherited AWS_* settings (a machine's AWS_CA_BUNDLE makes rclone's SDK fail on plain HTTP; profiles and
    endpoint overrides would redirect the tools)."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy") and not k.startswith("AWS_")}
    env.update(extra or {})
    return env
