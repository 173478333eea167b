"""Two s3orch instances on one PostgreSQL database and the same backends (issue #7): what one writes the other
reads, and 1,000 mixed operations spread over both, racing on a small set of keys, leave the store and the
backends consistent — a checker lists every backend and compares it with the database: no copy the store names is
missing, and every object on a backend is a live copy or known to the cleanup queue (or an intent or upload)."""

import concurrent.futures
import hashlib
import json
import os
import random
import threading
import time
import secrets
import subprocess
import urllib.parse
import urllib.request

import pytest

from conftest import scaled
from s3env import BUCKET, error_of, make_client

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
CRED = ("AKIDTWO000000000", "two-secret-00000000000000000000000000")


@pytest.fixture
def pg_database():
    admin = os.environ.get("S3ORCH_TEST_PG_DSN")
    if not admin:
        pytest.skip("S3ORCH_TEST_PG_DSN is not set (scripts/pg-start; scripts/test sets it)")
    name = f"s3orch_two_{secrets.token_hex(6)}"
    subprocess.run(["psql", "-qX", "-v", "ON_ERROR_STOP=1", "-d", admin, "-c", f"CREATE DATABASE {name}"],
                   check=True, capture_output=True)
    return f"{admin} dbname={name}"


def psql_rows(dsn, sql):
    out = subprocess.run(["psql", "-qXAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def write_config(path, dsn, root):
    path.write_text(f"""
server: {{ listen_addr: "127.0.0.1:0" }}
database: {{ driver: postgres, dsn: "{dsn}" }}
buckets:
  - name: {BUCKET}
    credentials: [ {{ access_key_id: {CRED[0]}, secret_access_key: "{CRED[1]}", permission: read-write }} ]
backends:
  - {{ name: disk1, type: fs, path: {root}/disk1 }}
  - {{ name: disk2, type: fs, path: {root}/disk2 }}
  - {{ name: disk3, type: fs, path: {root}/disk3 }}
routing_strategy: spread
""")
    return path


def backend_keys(srv, backend):
    """Every key on a backend, paged through /_debug/backend-list."""
    keys, after = set(), ""
    for _ in range(10000):
        q = urllib.parse.urlencode({"backend": backend, "max": 500, "start-after": after})
        with _NO_PROXY.open(f"{srv.url}/_debug/backend-list?{q}", timeout=scaled(30)) as r:
            page = json.load(r)
        keys |= {e["key"] for e in page["entries"]}
        if not page["truncated"]:
            return keys
        after = page["next_start_after"]
    raise AssertionError("backend listing did not end")


def check_consistent(srv, dsn):
    hexs = "encode({}, 'hex')"
    live = {(bytes.fromhex(b).decode(), bytes.fromhex(k).decode()) for b, k in psql_rows(
        dsn, f"SELECT {hexs.format('backend')}, {hexs.format('backend_key')} FROM copies")}
    known = set(live)
    for table in ("cleanup", "intents", "uploads"):
        known |= {(bytes.fromhex(b).decode(), bytes.fromhex(k).decode()) for b, k in psql_rows(
            dsn, f"SELECT {hexs.format('backend')}, {hexs.format('backend_key')} FROM {table}")}
    on_backends = {(b, k) for b in ("disk1", "disk2", "disk3") for k in backend_keys(srv, b)}
    missing = live - on_backends
    untracked = on_backends - known
    assert not missing, f"copies the store names but no backend holds: {sorted(missing)[:5]}"
    assert not untracked, f"objects on backends the store does not know of: {sorted(untracked)[:5]}"
    return live


def test_two_instances_share_one_database(server, tmp_path, pg_database):
    cfg = write_config(tmp_path / "s3orch.yaml", pg_database, tmp_path)
    a = server("--config", str(cfg), "--debug-endpoints", listen=None)
    b = server("--config", str(cfg), "--debug-endpoints", listen=None)
    sa, sb = make_client(a.url, CRED), make_client(b.url, CRED)

    sa.put_object(Bucket=BUCKET, Key="two/x", Body=b"from a")
    assert sb.get_object(Bucket=BUCKET, Key="two/x")["Body"].read() == b"from a"
    sb.put_object(Bucket=BUCKET, Key="two/x", Body=b"from b")
    assert sa.get_object(Bucket=BUCKET, Key="two/x")["Body"].read() == b"from b"
    sb.delete_object(Bucket=BUCKET, Key="two/x")
    assert error_of(lambda: sa.head_object(Bucket=BUCKET, Key="two/x")) == ("404", 404)

    keys = [f"mix/{i}" for i in range(40)]
    clients = {}

    def client(url):
        # one client per (thread, instance): botocore clients are not to be shared across threads carelessly
        k = (threading.get_ident(), url)
        if k not in clients:
            clients[k] = make_client(url, CRED)
        return clients[k]

    def op(i):
        r = random.Random(i)
        s3 = client(rng_choice(r, (a.url, b.url)))
        key = rng_choice(r, keys)
        kind = r.random()
        try:
            if kind < 0.45:
                s3.put_object(Bucket=BUCKET, Key=key, Body=os.urandom(r.randint(0, 20000)))
            elif kind < 0.7:
                body = s3.get_object(Bucket=BUCKET, Key=key)
                data = body["Body"].read()
                etag = body["ETag"].strip('"')
                assert "-" in etag or etag == hashlib.md5(data).hexdigest()  # multipart ETags are not an MD5
            elif kind < 0.85:
                s3.delete_object(Bucket=BUCKET, Key=key)
            elif kind < 0.95:
                dst = rng_choice(r, [k for k in keys if k != key])  # onto itself is InvalidRequest, as in S3
                s3.copy_object(Bucket=BUCKET, Key=dst, CopySource={"Bucket": BUCKET, "Key": key})
            else:
                uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
                part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=os.urandom(1000))
                if r.random() < 0.5:
                    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload={
                        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
                else:
                    s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)
            return "ok"
        except Exception as e:  # noqa: BLE001
            code = getattr(e, "response", {}).get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404", "NoSuchUpload"):
                return "absent"  # another operation deleted it first: fine
            return f"{type(e).__name__}: {code or e}"

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(op, range(1000)))
    unexpected = [r for r in results if r not in ("ok", "absent")]
    assert not unexpected, unexpected[:10]
    assert results.count("ok") > 700, results.count("ok")

    live = check_consistent(a, pg_database)
    assert live, "nothing left to compare"
    # The checker can fail: a file nobody recorded is caught.
    stray = tmp_path / "disk2" / BUCKET / "stray%230000000000000000@"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"?")
    with pytest.raises(AssertionError, match="does not know of"):
        check_consistent(a, pg_database)
    stray.unlink()
    # Both instances serve the same bytes for every key.
    for key in keys:
        ea, eb = error_of(lambda: sa.head_object(Bucket=BUCKET, Key=key)), \
            error_of(lambda: sb.head_object(Bucket=BUCKET, Key=key))
        assert ea == eb, (key, ea, eb)
        if ea[0] is None:
            assert sa.get_object(Bucket=BUCKET, Key=key)["Body"].read() == \
                sb.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def rng_choice(r, seq):
    return seq[int(r.random() * len(seq))]


def test_drain_state_reaches_every_instance(server, tmp_path, pg_database):
    cfg = write_config(tmp_path / "s3orch.yaml", pg_database, tmp_path)
    cfg.write_text(cfg.read_text().replace("routing_strategy: spread", "routing_strategy: pack") +
                   "usage_flush: { interval: 1s, fast_interval: 1s }\n")
    a = server("--config", str(cfg), "--debug-endpoints", listen=None)
    b = server("--config", str(cfg), "--debug-endpoints", listen=None)
    sb = make_client(b.url, CRED)
    sb.put_object(Bucket=BUCKET, Key="dr/0", Body=b"x")
    assert len(backend_keys(a, "disk1")) == 1
    req = urllib.request.Request(f"{a.url}/_debug/backend-state?backend=disk1&state=draining", method="POST", data=b"")
    with _NO_PROXY.open(req, timeout=scaled(10)) as r:
        assert r.status == 200
    # b learns it from the database within its refresh interval; its writes then go elsewhere.
    deadline = time.monotonic() + scaled(15)
    i = 0
    while True:
        i += 1
        sb.put_object(Bucket=BUCKET, Key=f"dr/{i}", Body=b"x")
        if any(k.startswith(f"{BUCKET}/dr/{i}#") for k in backend_keys(a, "disk2")):
            break
        assert time.monotonic() < deadline, "the other instance kept writing to the draining backend"
        time.sleep(0.2)
    for j in range(i + 1, i + 4):
        sb.put_object(Bucket=BUCKET, Key=f"dr/{j}", Body=b"x")
    assert not any(k.startswith(f"{BUCKET}/dr/{j}#") for j in range(i, i + 4) for k in backend_keys(a, "disk1"))
