"""SigV4 authentication and authorisation at the S3 front door, with real clients (boto3, aws cli, curl on
presigned URLs) and a small independent signer for the cases clients will not produce (skewed clocks)."""

import datetime
import os
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

from sigv4_client import signed_get  # noqa: E402

AUTH_ERRORS = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "RequestTimeTooSkewed",
    "AuthorizationHeaderMalformed",
    "AuthorizationQueryParametersError",
}

RW = ("AKIARWRWRWRWRWRWRWRW", "rw-secret/with+odd=chars0123456789abcdefgh")
RO = ("AKIAROROROROROROROOO", "ro-secret-0123456789abcdefghijklmnopqrstu")
OTHER = ("AKIAOTHEROTHEROTHERX", "other-secret-0123456789abcdefghijklmnopq")


@pytest.fixture
def s3srv(server, tmp_path):
    cfg = tmp_path / "s3orch.yaml"
    cfg.write_text(
        f"""
server:
  listen_addr: "127.0.0.1:0"
database:
  path: {tmp_path}/meta.db
buckets:
  - name: photos
    credentials:
      - access_key_id: {RW[0]}
        secret_access_key: "{RW[1]}"
        permission: read-write
      - access_key_id: {RO[0]}
        secret_access_key: "{RO[1]}"
        permission: read-only
  - name: other
    credentials:
      - access_key_id: {OTHER[0]}
        secret_access_key: "{OTHER[1]}"
backends:
  - name: disk1
    type: fs
    path: {tmp_path}/disk1
"""
    )
    return server("--config", str(cfg), listen=None)


def client(srv, cred, **cfg):
    return boto3.client(
        "s3",
        endpoint_url=srv.url,
        region_name="us-east-1",
        aws_access_key_id=cred[0],
        aws_secret_access_key=cred[1],
        config=Config(retries={"total_max_attempts": 1}, **cfg),
    )


def error_of(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def test_valid_signature_passes_auth(s3srv):
    s3 = client(s3srv, RW)
    for call in (
        lambda: s3.put_object(Bucket="photos", Key="a b+c/ü.txt", Body=b"hello"),
        lambda: s3.get_object(Bucket="photos", Key="a b+c/ü.txt"),
        lambda: s3.head_object(Bucket="photos", Key="k"),
        lambda: s3.delete_object(Bucket="photos", Key="k"),
    ):
        code, status = error_of(call)
        assert code not in AUTH_ERRORS and status not in (400, 403), (code, status)


def test_when_required_checksums_pass_auth(s3srv):
    s3 = client(s3srv, RW, request_checksum_calculation="when_required")
    code, status = error_of(lambda: s3.put_object(Bucket="photos", Key="k", Body=b"x" * 1000))
    assert code not in AUTH_ERRORS and status not in (400, 403), (code, status)


def test_wrong_secret(s3srv):
    s3 = client(s3srv, (RW[0], "not-the-secret"))
    assert error_of(lambda: s3.get_object(Bucket="photos", Key="k"))[0] in ("SignatureDoesNotMatch", "403")
    code, status = error_of(lambda: s3.put_object(Bucket="photos", Key="k", Body=b"x"))
    assert (code, status) == ("SignatureDoesNotMatch", 403)


def test_unknown_access_key(s3srv):
    s3 = client(s3srv, ("AKIANOSUCHKEY0000000", "whatever"))
    assert error_of(lambda: s3.put_object(Bucket="photos", Key="k", Body=b"x")) == ("InvalidAccessKeyId", 403)


def test_read_only_credential_cannot_write(s3srv):
    s3 = client(s3srv, RO)
    assert error_of(lambda: s3.put_object(Bucket="photos", Key="k", Body=b"x")) == ("AccessDenied", 403)
    assert error_of(lambda: s3.delete_object(Bucket="photos", Key="k")) == ("AccessDenied", 403)
    code, status = error_of(lambda: s3.get_object(Bucket="photos", Key="k"))
    assert code not in AUTH_ERRORS, code


def test_credential_is_bound_to_its_bucket(s3srv):
    s3 = client(s3srv, OTHER)
    assert error_of(lambda: s3.put_object(Bucket="photos", Key="k", Body=b"x")) == ("AccessDenied", 403)
    assert error_of(lambda: s3.put_object(Bucket="nosuchbucket", Key="k", Body=b"x")) == ("NoSuchBucket", 404)


def test_sigv2_presigned_is_refused(s3srv):
    s3 = client(s3srv, RW)  # boto3 presigns with SigV2 unless told otherwise
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "photos", "Key": "k"}, ExpiresIn=300)
    assert "AWSAccessKeyId=" in url
    status, body = fetch(url)
    assert status == 400 and b"<Code>InvalidRequest</Code>" in body and b"AWS4-HMAC-SHA256" in body, body


def test_presigned_urls(s3srv):
    s3 = client(s3srv, RW, signature_version="s3v4")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "photos", "Key": "a b/ü"}, ExpiresIn=300)
    status, body = fetch(url)
    assert b"SignatureDoesNotMatch" not in body and status not in (400, 403), (status, body)

    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")[:-1]
    status, body = fetch(tampered)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body, body

    other_key = url.replace(urllib.parse.quote("a b/ü"), "other")
    status, body = fetch(other_key)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body, body

    expired = s3.generate_presigned_url("get_object", Params={"Bucket": "photos", "Key": "k"}, ExpiresIn=1)
    time.sleep(2.1)
    status, body = fetch(expired)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body and b"expired" in body, body


def fetch(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def sign_get(srv, path, cred, when):
    return signed_get(srv.url, f"127.0.0.1:{srv.port}", path, cred, when)


def test_independent_signer_and_clock_skew(s3srv):
    now = datetime.datetime.now(datetime.timezone.utc)
    status, body = sign_get(s3srv, "/photos/key", RW, now)
    assert status not in (400, 403), body
    status, body = sign_get(s3srv, "/photos/key", RW, now - datetime.timedelta(minutes=20))
    assert status == 403 and b"<Code>RequestTimeTooSkewed</Code>" in body, body
    status, body = sign_get(s3srv, "/photos/key", RW, now + datetime.timedelta(minutes=20))
    assert status == 403 and b"<Code>RequestTimeTooSkewed</Code>" in body, body
    status, body = sign_get(s3srv, "/photos/key", RW, now - datetime.timedelta(minutes=10))
    assert status not in (400, 403), body


def test_aws_cli_passes_auth(s3srv, tmp_path):
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID=RW[0],
        AWS_SECRET_ACCESS_KEY=RW[1],
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
    )
    src = tmp_path / "f.txt"
    src.write_bytes(b"hello")
    r = subprocess.run(
        ["aws", "--endpoint-url", s3srv.url, "s3api", "put-object", "--bucket", "photos", "--key", "k",
         "--body", str(src)],
        env=env, capture_output=True, timeout=60,
    )
    out = r.stdout + r.stderr
    for code in AUTH_ERRORS:
        assert code.encode() not in out, out
    env["AWS_SECRET_ACCESS_KEY"] = "wrong"
    r = subprocess.run(
        ["aws", "--endpoint-url", s3srv.url, "s3api", "put-object", "--bucket", "photos", "--key", "k",
         "--body", str(src)],
        env=env, capture_output=True, timeout=60,
    )
    assert r.returncode != 0 and b"SignatureDoesNotMatch" in r.stdout + r.stderr, r
