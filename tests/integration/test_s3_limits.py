"""Limits and failure paths of the single-object calls: the object size cap, virtual-host addressing, HEAD served
from the store alone, and a client that vanishes mid-upload."""

import datetime
import socket
import time

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from conftest import scaled  # noqa: E402
from sigv4_client import signed_get  # noqa: E402

RW = ("AKIALIMITSLIMITSLIMI", "limits-secret-0123456789abcdefghijklmnopq")


@pytest.fixture
def srv(server, tmp_path):
    cfg = tmp_path / "s3orch.yaml"
    cfg.write_text(
        f"""
server:
  listen_addr: "127.0.0.1:0"
  max_object_size: 1MiB
  virtual_host_domains: ["s3.test"]
database:
  path: {tmp_path}/meta.db
buckets:
  - name: photos
    credentials:
      - access_key_id: {RW[0]}
        secret_access_key: "{RW[1]}"
backends:
  - name: disk1
    type: fs
    path: {tmp_path}/disk1
"""
    )
    s = server("--config", str(cfg), listen=None)
    s.disk = tmp_path / "disk1"
    return s


def client(srv):
    return boto3.client(
        "s3", endpoint_url=srv.url, region_name="us-east-1", aws_access_key_id=RW[0], aws_secret_access_key=RW[1],
        config=Config(retries={"total_max_attempts": 1}),
    )


def code_of(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def test_object_size_cap(srv):
    s3 = client(srv)
    assert code_of(lambda: s3.put_object(Bucket="photos", Key="big", Body=b"x" * (1024 * 1024 + 1))) == "EntityTooLarge"
    assert code_of(lambda: s3.head_object(Bucket="photos", Key="big")) == "404"
    s3.put_object(Bucket="photos", Key="max", Body=b"x" * (1024 * 1024))
    assert s3.head_object(Bucket="photos", Key="max")["ContentLength"] == 1024 * 1024


def test_virtual_host_addressing(srv):
    client(srv).put_object(Bucket="photos", Key="cat.jpg", Body=b"meow")
    now = datetime.datetime.now(datetime.timezone.utc)
    status, body = signed_get(srv.url, f"photos.s3.test:{srv.port}", "/cat.jpg", RW, now)
    assert (status, body) == (200, b"meow")
    status, body = signed_get(srv.url, f"nosuch.s3.test:{srv.port}", "/cat.jpg", RW, now)
    assert status == 404 and b"<Code>NoSuchBucket</Code>" in body, body


def test_head_needs_no_backend(srv):
    """Metadata lives in the store: with the object's bytes gone from the disk, HEAD still answers; GET cannot."""
    s3 = client(srv)
    s3.put_object(Bucket="photos", Key="k", Body=b"12345", ContentType="text/plain")
    files = [p for p in srv.disk.rglob("*") if p.is_file()]
    assert len(files) == 1
    files[0].unlink()
    head = s3.head_object(Bucket="photos", Key="k")
    assert head["ContentLength"] == 5 and head["ContentType"] == "text/plain"
    with pytest.raises(Exception):
        s3.get_object(Bucket="photos", Key="k")["Body"].read()


def test_client_vanishing_mid_upload_changes_nothing(srv):
    s3 = client(srv)
    s3.put_object(Bucket="photos", Key="k", Body=b"old")
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    # Unsigned payload: the server starts storing at once; the client then disappears after 100 KiB of 1 MiB.
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"{srv.url}/photos/k"
    aws = AWSRequest(method="PUT", url=url, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD",
                                                      "Content-Length": str(1024 * 1024)})
    SigV4Auth(Credentials(*RW), "s3", "us-east-1").add_auth(aws)
    head = f"PUT /photos/k HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in aws.headers.items()) + "\r\n"
    sock.sendall(head.encode() + b"y" * (100 * 1024))
    time.sleep(0.2)
    sock.close()
    deadline = time.monotonic() + scaled(10)
    while time.monotonic() < deadline:
        leftovers = [p for p in (srv.disk / "%tmp").iterdir()]
        if not leftovers:
            break
        time.sleep(0.05)
    assert not leftovers, leftovers
    assert s3.get_object(Bucket="photos", Key="k")["Body"].read() == b"old"
    assert len([p for p in srv.disk.rglob("*") if p.is_file()]) == 1
