"""Multipart uploads as AWS S3 answers them (S9, S14, S7's UploadPartCopy, S6's partNumber), with boto3:
Create/UploadPart/Complete with the md5-of-md5s ETag, the Complete errors (InvalidPartOrder, InvalidPart,
EntityTooSmall), Abort (NoSuchUpload, nothing left on the backend's disk), ListParts and ListMultipartUploads paging,
multipart checksums (COMPOSITE and FULL_OBJECT for CRC32, CRC32C, CRC64NVME, computed here independently),
UploadPartCopy with ranges, re-uploaded parts, GetObject/HeadObject with partNumber, boto3's transfer manager.

Each test skips while the call it needs answers 501 NotImplemented.
"""

import base64
import hashlib
import io
import os
import zlib

import pytest
from boto3.s3.transfer import TransferConfig

from s3env import (  # noqa: F401  (fixtures)
    BUCKET, MIB, RO, env, error_of, md5_etag, module_env_fixture, multipart_etag, sha,
)

PART = 5 * MIB  # S3's smallest part but the last


# --- independent checksums ------------------------------------------------------------------------------------------

def _table(poly):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        t.append(c)
    return t


_T32C = _table(0x82F63B78)
_T64NVME = _table(0x9A6C9329AC4BC9B5)


def _crc_reflected(table, mask, data, crc=0):
    crc ^= mask
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ mask


class Crc:
    """Incremental CRC32 / CRC32C / CRC64NVME, big-endian digests as S3 sends them (base64)."""

    def __init__(self, alg):
        self.alg, self.value = alg, 0

    def update(self, data):
        if self.alg == "CRC32":
            self.value = zlib.crc32(data, self.value)
        elif self.alg == "CRC32C":
            self.value = _crc_reflected(_T32C, 0xFFFFFFFF, data, self.value)
        else:
            self.value = _crc_reflected(_T64NVME, (1 << 64) - 1, data, self.value)
        return self

    def digest(self):
        return self.value.to_bytes(8 if self.alg == "CRC64NVME" else 4, "big")

    def b64(self):
        return base64.b64encode(self.digest()).decode()


def crc_b64(alg, data):
    return Crc(alg).update(data).b64()


def test_checksum_helpers_match_known_values():
    assert Crc("CRC32").update(b"123456789").value == 0xCBF43926
    assert Crc("CRC32C").update(b"123456789").value == 0xE3069283
    assert Crc("CRC64NVME").update(b"123456789").value == 0xAE8B14860A799888
    assert Crc("CRC32C").update(b"1234").update(b"56789").value == 0xE3069283  # incremental
    from botocore.httpchecksum import Crc32Checksum

    c = Crc32Checksum()
    c.update(b"hello world")
    assert c.b64digest() == crc_b64("CRC32", b"hello world")


def composite(alg, parts):
    """S3's COMPOSITE checksum: base64(checksum(concat(raw part checksums)))-N."""
    return "%s-%d" % (crc_b64(alg, b"".join(Crc(alg).update(p).digest() for p in parts)), len(parts))


# --- helpers --------------------------------------------------------------------------------------------------------

def upload(s3, key, parts, **create):
    """Creates an upload and uploads parts (numbered from 1); returns (upload id, [{"ETag", "PartNumber"}])."""
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key, **create)["UploadId"]
    done = []
    for n, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=n, Body=p)
        assert r["ETag"] == md5_etag(p), f"part {n} ETag"
        done.append({"ETag": r["ETag"], "PartNumber": n})
    return uid, done


def complete(s3, key, uid, parts, **kw):
    return s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid, MultipartUpload={"Parts": parts}, **kw)


def body(s3, key, **kw):
    return s3.get_object(Bucket=BUCKET, Key=key, **kw)["Body"].read()


def get(s3, key, **kw):
    """GetObject with the body read at once (an unread body would hold the server's shutdown after a failure)."""
    r = s3.get_object(Bucket=BUCKET, Key=key, **kw)
    r["Data"] = r["Body"].read()
    return r


def exists(s3, key):
    return error_of(lambda: s3.head_object(Bucket=BUCKET, Key=key))[1] == 200


def disk(e):
    """What s3orch's backend holds: the fs backend's files or the moto backend's keys and uploads (empty when
    the tests run against moto itself)."""
    return set() if e.is_moto else e.backend_keys()


def assert_one_new_file(e, before, what):
    """After completing an upload to a new key: exactly one new file (the object), no part left over."""
    if not e.is_moto:
        new = disk(e) - before
        assert len(new) == 1, f"{what}: expected the object's file alone, found {sorted(new)}"


@pytest.fixture(scope="module")
def three_parts(module_env_fixture):
    """An object of three parts (5 MiB, 5 MiB, 1 MiB) and what completing it answered."""
    e = module_env_fixture
    e.require("Multipart")
    s3 = e.client()
    parts = [os.urandom(PART), os.urandom(PART), os.urandom(MIB)]
    before = disk(e)
    uid, done = upload(s3, "mpu/three", parts)
    r = complete(s3, "mpu/three", uid, done)
    return parts, r, before


# --- the happy path -------------------------------------------------------------------------------------------------

def test_three_parts_round_trip(env, three_parts):
    parts, r, before = three_parts
    s3 = env.client()
    data = b"".join(parts)
    assert r["ETag"] == multipart_etag(parts), "ETag is md5 of the part md5s, then -N"
    assert r["Key"] == "mpu/three" and r["Bucket"] == BUCKET
    head = s3.head_object(Bucket=BUCKET, Key="mpu/three")
    assert head["ContentLength"] == len(data) and head["ETag"] == multipart_etag(parts)
    got = get(s3, "mpu/three")
    assert got["ETag"] == multipart_etag(parts)
    assert sha(got["Data"]) == sha(data), "bytes identical"
    ranged = body(s3, "mpu/three", Range=f"bytes={PART - 10}-{PART + 9}")
    assert ranged == data[PART - 10:PART + 10], "a range across a part boundary"
    assert_one_new_file(env, before, "three parts")


def test_multipart_object_in_listing(env, three_parts):
    env.require("ListObjectsV2")
    parts = three_parts[0]
    (o,) = env.client().list_objects_v2(Bucket=BUCKET, Prefix="mpu/three")["Contents"]
    assert o["Size"] == sum(map(len, parts)) and o["ETag"] == multipart_etag(parts)


def test_single_small_part_is_fine(env):
    env.require("Multipart")
    s3 = env.client()
    uid, done = upload(s3, "mpu/one", [b"tiny"])
    assert complete(s3, "mpu/one", uid, done)["ETag"] == multipart_etag([b"tiny"])
    assert body(s3, "mpu/one") == b"tiny"


def test_multipart_overwrites_existing_key(env):
    env.require("Multipart")
    s3 = env.client()
    s3.put_object(Bucket=BUCKET, Key="mpu/over", Body=b"old", Metadata={"old": "1"})
    uid, done = upload(s3, "mpu/over", [b"new"], ContentType="text/x-mpu", Metadata={"new": "2"})
    assert body(s3, "mpu/over") == b"old", "the old object stays until Complete"
    complete(s3, "mpu/over", uid, done)
    got = s3.get_object(Bucket=BUCKET, Key="mpu/over")
    assert got["Body"].read() == b"new" and got["ContentType"] == "text/x-mpu" and got["Metadata"] == {"new": "2"}


# --- Complete errors ------------------------------------------------------------------------------------------------

def test_complete_errors_keep_the_upload(env):
    env.require("Multipart")
    env.moto_differs("moto completes parts listed out of order")
    s3 = env.client()
    p1, p2 = os.urandom(PART), os.urandom(PART)  # both big enough: only the error under test applies
    uid, done = upload(s3, "mpu/errs", [p1, p2])
    wrong_etag = [{"ETag": md5_etag(b"other"), "PartNumber": 1}, done[1]]
    cases = [
        ([done[1], done[0]], "InvalidPartOrder"),
        (wrong_etag, "InvalidPart"),
        (done + [{"ETag": md5_etag(b"never"), "PartNumber": 3}], "InvalidPart"),  # a part never uploaded
        ([done[0], {"ETag": done[1]["ETag"], "PartNumber": 4}], "InvalidPart"),
    ]
    for parts, code in cases:
        assert error_of(lambda: complete(s3, "mpu/errs", uid, parts)) == (code, 400), parts
        assert not exists(s3, "mpu/errs"), "a failed Complete makes no object"
    assert complete(s3, "mpu/errs", uid, done)["ETag"] == multipart_etag([p1, p2]), "the upload survived the errors"
    assert body(s3, "mpu/errs") == p1 + p2


def test_complete_with_a_subset_of_parts(env):
    """Parts uploaded but not listed in Complete are dropped; the object is the listed parts only."""
    env.require("Multipart")
    s3 = env.client()
    p1, p2, p3 = os.urandom(PART), os.urandom(10), os.urandom(PART)
    before = disk(env)
    uid, done = upload(s3, "mpu/subset", [p1, p2, p3])
    r = complete(s3, "mpu/subset", uid, [done[0], done[1]])
    assert r["ETag"] == multipart_etag([p1, p2])
    assert body(s3, "mpu/subset") == p1 + p2
    assert_one_new_file(env, before, "the part left out of Complete")


def test_entity_too_small(env):
    env.require("Multipart")
    s3 = env.client()
    small = [os.urandom(MIB), os.urandom(MIB)]
    uid, done = upload(s3, "mpu/small", small)
    assert error_of(lambda: complete(s3, "mpu/small", uid, done)) == ("EntityTooSmall", 400)
    assert not exists(s3, "mpu/small")
    s3.abort_multipart_upload(Bucket=BUCKET, Key="mpu/small", UploadId=uid)


def test_empty_complete_body(env):
    env.require("Multipart")
    s3 = env.client()
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="mpu/noparts")["UploadId"]
    code, status = error_of(lambda: complete(s3, "mpu/noparts", uid, []))
    assert (code, status) == ("MalformedXML", 400)
    s3.abort_multipart_upload(Bucket=BUCKET, Key="mpu/noparts", UploadId=uid)


def test_part_number_limits(env):
    env.require("Multipart")
    env.moto_differs("moto answers NoSuchUpload for part number 0")
    s3 = env.client()
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="mpu/limits")["UploadId"]
    for n in (0, 10001):
        code, status = error_of(lambda: s3.upload_part(Bucket=BUCKET, Key="mpu/limits", UploadId=uid, PartNumber=n,
                                                       Body=b"x"))
        assert status == 400, (n, code)
    assert s3.upload_part(Bucket=BUCKET, Key="mpu/limits", UploadId=uid, PartNumber=10000, Body=b"x")["ETag"]
    s3.abort_multipart_upload(Bucket=BUCKET, Key="mpu/limits", UploadId=uid)


# --- Abort and unknown uploads --------------------------------------------------------------------------------------

def test_abort_leaves_nothing(env):
    env.require("Multipart")
    s3 = env.client()
    before = disk(env)
    uid, done = upload(s3, "mpu/abort", [os.urandom(PART), os.urandom(MIB)])
    r = s3.abort_multipart_upload(Bucket=BUCKET, Key="mpu/abort", UploadId=uid)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    if not env.is_moto:  # moto answers 500
        assert error_of(lambda: s3.upload_part(Bucket=BUCKET, Key="mpu/abort", UploadId=uid, PartNumber=3,
                                               Body=b"x")) == ("NoSuchUpload", 404)
    assert error_of(lambda: s3.list_parts(Bucket=BUCKET, Key="mpu/abort", UploadId=uid)) == ("NoSuchUpload", 404)
    if not env.is_moto:  # moto answers 500
        assert error_of(lambda: complete(s3, "mpu/abort", uid, done)) == ("NoSuchUpload", 404)
    assert not exists(s3, "mpu/abort")
    after = disk(env)
    assert after <= before, f"files left on the backend after Abort: {sorted(after - before)}"
    assert not [f for f in after - before if f.startswith("%mpu")], "parts left in %mpu"


def test_unknown_upload_id(env):
    env.require("Multipart")
    env.moto_differs("moto answers 500 for unknown upload ids")
    s3 = env.client()
    bogus = "no-such-upload-id-123"
    assert error_of(lambda: s3.upload_part(Bucket=BUCKET, Key="mpu/unknown", UploadId=bogus, PartNumber=1,
                                           Body=b"x")) == ("NoSuchUpload", 404)
    assert error_of(lambda: s3.list_parts(Bucket=BUCKET, Key="mpu/unknown", UploadId=bogus)) == ("NoSuchUpload", 404)
    assert error_of(lambda: complete(s3, "mpu/unknown", bogus, [{"ETag": md5_etag(b"x"), "PartNumber": 1}])) == (
        "NoSuchUpload", 404)
    assert error_of(lambda: s3.abort_multipart_upload(Bucket=BUCKET, Key="mpu/unknown", UploadId=bogus)) == (
        "NoSuchUpload", 404)
    # An upload id is bound to its key.
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="mpu/owner-key")["UploadId"]
    assert error_of(lambda: s3.upload_part(Bucket=BUCKET, Key="mpu/other-key", UploadId=uid, PartNumber=1,
                                           Body=b"x")) == ("NoSuchUpload", 404)
    s3.abort_multipart_upload(Bucket=BUCKET, Key="mpu/owner-key", UploadId=uid)


def test_read_only_credential_cannot_upload(env):
    env.require("Multipart")
    env.s3orch_only("credentials are tied to buckets")
    ro = env.client(RO)
    assert error_of(lambda: ro.create_multipart_upload(Bucket=BUCKET, Key="mpu/ro")) == ("AccessDenied", 403)
    uid = env.client().create_multipart_upload(Bucket=BUCKET, Key="mpu/ro")["UploadId"]
    assert error_of(lambda: ro.upload_part(Bucket=BUCKET, Key="mpu/ro", UploadId=uid, PartNumber=1,
                                           Body=b"x")) == ("AccessDenied", 403)
    env.client().abort_multipart_upload(Bucket=BUCKET, Key="mpu/ro", UploadId=uid)


# --- ListParts and ListMultipartUploads -----------------------------------------------------------------------------

def test_list_parts_pagination(env):
    env.require("Multipart")
    s3 = env.client()
    parts = [os.urandom(n + 1) for n in range(12)]
    uid, done = upload(s3, "mpu/lp", parts)
    seen, marker = [], 0
    for _ in range(10):
        kw = {"PartNumberMarker": marker} if marker else {}
        r = s3.list_parts(Bucket=BUCKET, Key="mpu/lp", UploadId=uid, MaxParts=5, **kw)
        assert r["Key"] == "mpu/lp" and r["UploadId"] == uid and r["MaxParts"] == 5
        assert r.get("PartNumberMarker", 0) == marker
        for p in r["Parts"]:
            n = p["PartNumber"]
            assert p["ETag"] == md5_etag(parts[n - 1]) and p["Size"] == len(parts[n - 1]), p
            assert p["LastModified"], p
        seen += [p["PartNumber"] for p in r["Parts"]]
        if not r["IsTruncated"]:
            break
        assert r["NextPartNumberMarker"] == r["Parts"][-1]["PartNumber"]
        marker = r["NextPartNumberMarker"]
    assert seen == list(range(1, 13)), "every part once, in order"
    r = s3.list_parts(Bucket=BUCKET, Key="mpu/lp", UploadId=uid, PartNumberMarker=7)
    assert [p["PartNumber"] for p in r["Parts"]] == [8, 9, 10, 11, 12] and not r["IsTruncated"]
    r = s3.list_parts(Bucket=BUCKET, Key="mpu/lp", UploadId=uid)
    assert len(r["Parts"]) == 12 and r.get("StorageClass", "STANDARD") == "STANDARD"
    assert r["Initiator"].get("ID") and r["Owner"].get("ID")
    s3.abort_multipart_upload(Bucket=BUCKET, Key="mpu/lp", UploadId=uid)


def test_list_multipart_uploads(env):
    env.require("Multipart", "ListMultipartUploads")
    s3 = env.client()
    keys = ["lmu/a/1", "lmu/a/1", "lmu/a/2", "lmu/b/1", "lmu/c"]
    ids = [(k, s3.create_multipart_upload(Bucket=BUCKET, Key=k)["UploadId"]) for k in keys]
    try:
        r = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="lmu/")
        got = [(u["Key"], u["UploadId"]) for u in r["Uploads"]]
        assert sorted(got) == sorted(ids) and [k for k, _ in got] == sorted(keys), "every upload, sorted by key"
        assert r.get("Prefix", "lmu/" if env.is_moto else None) == "lmu/" and not r["IsTruncated"]
        for u in r["Uploads"]:
            assert u["Initiated"] and u.get("StorageClass", "STANDARD") == "STANDARD", u
            assert u["Initiator"].get("ID") and u["Owner"].get("ID"), u

        if not env.is_moto:  # moto ignores the delimiter
            r = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="lmu/", Delimiter="/")
            assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["lmu/a/", "lmu/b/"]
            assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == [ids[4]]

        if not env.is_moto:  # moto includes the marker key's uploads
            r = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="lmu/", KeyMarker="lmu/a/1")
            assert sorted((u["Key"], u["UploadId"]) for u in r["Uploads"]) == sorted(ids[2:]), \
                "a key marker alone starts after every upload of that key"

        seen, km, um = [], None, None
        for _ in range(10):
            kw = {"KeyMarker": km, "UploadIdMarker": um} if km else {}
            r = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="lmu/", MaxUploads=2, **kw)
            seen += [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]
            if not r["IsTruncated"]:
                break
            km, um = r["NextKeyMarker"], r["NextUploadIdMarker"]
            assert (km, um) == seen[-1], "the next markers are the last upload returned"
        assert sorted(seen) == sorted(ids) and len(seen) == len(ids), "paging returns every upload once"
    finally:
        for k, uid in ids:
            s3.abort_multipart_upload(Bucket=BUCKET, Key=k, UploadId=uid)
    r = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="lmu/")
    assert not r.get("Uploads"), "aborted uploads are no longer listed"


def test_completed_upload_is_not_listed(env):
    env.require("Multipart", "ListMultipartUploads")
    s3 = env.client()
    uid, done = upload(s3, "lmu2/done", [b"x"])
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=BUCKET, Prefix="lmu2/").get("Uploads", [])] == [uid]
    complete(s3, "lmu2/done", uid, done)
    assert not s3.list_multipart_uploads(Bucket=BUCKET, Prefix="lmu2/").get("Uploads")


# --- parts replaced, copied, read back ------------------------------------------------------------------------------

def test_reuploading_a_part_replaces_it(env):
    env.require("Multipart")
    s3 = env.client()
    a, b, tail = os.urandom(PART), os.urandom(PART), os.urandom(100)
    before = disk(env)
    uid, done = upload(s3, "mpu/replace", [a, tail])
    r = s3.upload_part(Bucket=BUCKET, Key="mpu/replace", UploadId=uid, PartNumber=1, Body=b)
    assert r["ETag"] == md5_etag(b)
    parts = s3.list_parts(Bucket=BUCKET, Key="mpu/replace", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in parts] == [(1, md5_etag(b)), (2, md5_etag(tail))]
    assert error_of(lambda: complete(s3, "mpu/replace", uid, done)) == ("InvalidPart", 400), "the old ETag is gone"
    complete(s3, "mpu/replace", uid, [{"ETag": md5_etag(b), "PartNumber": 1}, done[1]])
    assert sha(body(s3, "mpu/replace")) == sha(b + tail)
    assert_one_new_file(env, before, "the replaced part")


def test_upload_part_copy_with_ranges(env):
    env.require("Multipart", "UploadPartCopy")
    s3 = env.client()
    src = os.urandom(PART + 300_000)
    s3.put_object(Bucket=BUCKET, Key="upc/src", Body=src)
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="upc/dst")["UploadId"]
    ranges = [(0, PART - 1), (PART, len(src) - 1)]
    parts = []
    for n, (lo, hi) in enumerate(ranges, 1):
        r = s3.upload_part_copy(Bucket=BUCKET, Key="upc/dst", UploadId=uid, PartNumber=n,
                                CopySource={"Bucket": BUCKET, "Key": "upc/src"}, CopySourceRange=f"bytes={lo}-{hi}")
        assert r["CopyPartResult"]["ETag"] == md5_etag(src[lo:hi + 1]), f"part {n}"
        assert r["CopyPartResult"]["LastModified"]
        parts.append({"ETag": r["CopyPartResult"]["ETag"], "PartNumber": n})
    r = complete(s3, "upc/dst", uid, parts)
    assert r["ETag"] == multipart_etag([src[:PART], src[PART:]])
    assert sha(body(s3, "upc/dst")) == sha(src), "bytes equal to the source"


def test_upload_part_copy_whole_object_and_uploaded_part(env):
    env.require("Multipart", "UploadPartCopy")
    s3 = env.client()
    src, tail = os.urandom(PART + 1), os.urandom(4096)
    s3.put_object(Bucket=BUCKET, Key="upc/src2 ü", Body=src)
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="upc/dst2")["UploadId"]
    r = s3.upload_part_copy(Bucket=BUCKET, Key="upc/dst2", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": BUCKET, "Key": "upc/src2 ü"})
    assert r["CopyPartResult"]["ETag"] == md5_etag(src)
    p2 = s3.upload_part(Bucket=BUCKET, Key="upc/dst2", UploadId=uid, PartNumber=2, Body=tail)
    complete(s3, "upc/dst2", uid, [{"ETag": r["CopyPartResult"]["ETag"], "PartNumber": 1},
                                   {"ETag": p2["ETag"], "PartNumber": 2}])
    assert sha(body(s3, "upc/dst2")) == sha(src + tail)


def test_upload_part_copy_errors(env):
    env.require("Multipart", "UploadPartCopy")
    env.moto_differs("moto copies a range past the source's end")
    s3 = env.client()
    s3.put_object(Bucket=BUCKET, Key="upc/small", Body=b"0123456789")
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="upc/err")["UploadId"]
    src = {"Bucket": BUCKET, "Key": "upc/small"}
    code, status = error_of(lambda: s3.upload_part_copy(Bucket=BUCKET, Key="upc/err", UploadId=uid, PartNumber=1,
                                                        CopySource=src, CopySourceRange="bytes=5-20"))
    assert status in (400, 416), ("a range past the source's end", code, status)
    assert error_of(lambda: s3.upload_part_copy(Bucket=BUCKET, Key="upc/err", UploadId=uid, PartNumber=1,
                                                CopySource={"Bucket": BUCKET, "Key": "upc/none"})) == (
        "NoSuchKey", 404)
    r = s3.upload_part_copy(Bucket=BUCKET, Key="upc/err", UploadId=uid, PartNumber=1, CopySource=src,
                            CopySourceRange="bytes=2-4")
    assert r["CopyPartResult"]["ETag"] == md5_etag(b"234")
    s3.abort_multipart_upload(Bucket=BUCKET, Key="upc/err", UploadId=uid)


def test_get_and_head_part_number(env, three_parts):
    env.require("PartNumber")
    env.moto_differs("moto answers 200 without x-amz-mp-parts-count")
    parts = three_parts[0]
    s3 = env.client()
    total = sum(map(len, parts))
    offset = 0
    for n, p in enumerate(parts, 1):
        got = get(s3, "mpu/three", PartNumber=n)
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206, n
        assert got["PartsCount"] == 3 and got["ContentLength"] == len(p), n
        assert got["ContentRange"] == f"bytes {offset}-{offset + len(p) - 1}/{total}", n
        assert sha(got["Data"]) == sha(p), f"part {n} bytes"
        assert got["ETag"] == multipart_etag(parts)
        offset += len(p)
    head = s3.head_object(Bucket=BUCKET, Key="mpu/three", PartNumber=2)
    assert head["PartsCount"] == 3 and head["ContentLength"] == len(parts[1])
    assert error_of(lambda: s3.get_object(Bucket=BUCKET, Key="mpu/three", PartNumber=4)) == (
        "InvalidPartNumber", 416)


def test_transfer_manager(env, tmp_path):
    """boto3's upload_file / download_file: parallel parts up, parallel ranged GETs down."""
    env.require("Multipart")
    s3 = env.client()
    cfg = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB, max_concurrency=4)
    data = os.urandom(20 * MIB + 12345)
    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    src.write_bytes(data)
    s3.upload_file(str(src), BUCKET, "mpu/transfer", Config=cfg)
    head = s3.head_object(Bucket=BUCKET, Key="mpu/transfer")
    chunks = [data[i:i + 8 * MIB] for i in range(0, len(data), 8 * MIB)]
    assert head["ETag"] == multipart_etag(chunks) and head["ContentLength"] == len(data)
    s3.download_file(BUCKET, "mpu/transfer", str(dst), Config=cfg)
    assert sha(dst.read_bytes()) == sha(data)
    buf = io.BytesIO()
    s3.download_fileobj(BUCKET, "mpu/transfer", buf, Config=TransferConfig(multipart_chunksize=3 * MIB))
    assert sha(buf.getvalue()) == sha(data)


# --- checksums (S14) ------------------------------------------------------------------------------------------------

def test_composite_crc32(env):
    env.require("Multipart")
    env.moto_differs("moto keeps no multipart checksums")
    s3 = env.client()
    parts = [os.urandom(PART), os.urandom(PART), os.urandom(MIB)]
    key = "ck/composite"
    create = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="CRC32")
    assert create.get("ChecksumAlgorithm") == "CRC32"
    uid, done = create["UploadId"], []
    for n, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=n, Body=p, ChecksumAlgorithm="CRC32")
        assert r["ChecksumCRC32"] == crc_b64("CRC32", p), f"part {n} checksum"
        done.append({"ETag": r["ETag"], "PartNumber": n, "ChecksumCRC32": r["ChecksumCRC32"]})
    listed = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=uid)
    assert [p.get("ChecksumCRC32") for p in listed["Parts"]] == [d["ChecksumCRC32"] for d in done]
    r = complete(s3, key, uid, done)
    want = composite("CRC32", parts)
    assert r["ChecksumCRC32"] == want and r.get("ChecksumType") == "COMPOSITE", (r.get("ChecksumCRC32"), want)
    assert r["ETag"] == multipart_etag(parts)
    head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == want and head.get("ChecksumType") == "COMPOSITE"
    assert sha(body(s3, key)) == sha(b"".join(parts))


def test_composite_needs_every_part_checksum(env):
    env.require("Multipart")
    env.moto_differs("moto does not check part checksums at Complete")
    s3 = env.client()
    key = "ck/missing"
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="CRC32")["UploadId"]
    p = os.urandom(1000)
    r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=p, ChecksumAlgorithm="CRC32")
    code, status = error_of(lambda: complete(s3, key, uid, [{"ETag": r["ETag"], "PartNumber": 1}]))
    assert status == 400, ("a part's checksum missing from Complete", code)
    code, status = error_of(lambda: complete(s3, key, uid, [{"ETag": r["ETag"], "PartNumber": 1,
                                                            "ChecksumCRC32": crc_b64("CRC32", b"other")}]))
    assert status == 400, ("a part's checksum that differs", code)
    assert not exists(s3, key)
    s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)


@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "CRC64NVME"])
def test_full_object_checksum(env, alg):
    env.require("Multipart")
    env.moto_differs("moto keeps no multipart checksums")
    s3 = env.client()
    parts = [os.urandom(PART), os.urandom(1024)]
    key = f"ck/full-{alg}"
    create = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm=alg, ChecksumType="FULL_OBJECT")
    assert create.get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT"
    uid, done = create["UploadId"], []
    whole = Crc(alg)
    field = f"Checksum{alg}"
    for n, p in enumerate(parts, 1):
        value = crc_b64(alg, p)
        whole.update(p)
        r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=n, Body=p, **{field: value})
        assert r.get(field) == value, f"part {n}"
        done.append({"ETag": r["ETag"], "PartNumber": n, field: value})
    r = complete(s3, key, uid, done, **{field: whole.b64()}, ChecksumType="FULL_OBJECT")
    assert r.get(field) == whole.b64() and r.get("ChecksumType") == "FULL_OBJECT", (r.get(field), whole.b64())
    head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
    assert head.get(field) == whole.b64() and head.get("ChecksumType") == "FULL_OBJECT"
    got = get(s3, key, ChecksumMode="ENABLED")
    assert got.get(field) == whole.b64() and sha(got["Data"]) == sha(b"".join(parts))


def test_full_object_checksum_mismatch_at_complete(env):
    env.require("Multipart")
    env.moto_differs("moto does not verify the full-object checksum at Complete")
    s3 = env.client()
    key = "ck/full-bad"
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="CRC32",
                                     ChecksumType="FULL_OBJECT")["UploadId"]
    p = os.urandom(1000)
    r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=p, ChecksumCRC32=crc_b64("CRC32", p))
    parts = [{"ETag": r["ETag"], "PartNumber": 1, "ChecksumCRC32": crc_b64("CRC32", p)}]
    code, status = error_of(lambda: complete(s3, key, uid, parts, ChecksumCRC32=crc_b64("CRC32", b"other"),
                                             ChecksumType="FULL_OBJECT"))
    assert status == 400, ("a wrong full-object checksum at Complete", code)
    assert not exists(s3, key)
    s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)


def test_composite_crc32c_without_checksum_type(env):
    env.require("Multipart")
    env.moto_differs("moto computes no CRC32C")
    s3 = env.client()
    parts = [os.urandom(PART), os.urandom(77)]
    key = "ck/composite-c"
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="CRC32C")["UploadId"]
    done = []
    for n, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=n, Body=p,
                           ChecksumCRC32C=crc_b64("CRC32C", p))
        done.append({"ETag": r["ETag"], "PartNumber": n, "ChecksumCRC32C": crc_b64("CRC32C", p)})
    r = complete(s3, key, uid, done)
    assert r.get("ChecksumCRC32C") == composite("CRC32C", parts) and r.get("ChecksumType") == "COMPOSITE"


def test_wrong_part_checksum_is_refused(env):
    env.require("Multipart")
    env.moto_differs("moto does not check part checksums")
    s3 = env.client()
    key = "ck/badpart"
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="CRC32")["UploadId"]
    p = os.urandom(100_000)
    code, status = error_of(lambda: s3.upload_part(Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=p,
                                                   ChecksumCRC32=crc_b64("CRC32", p + b"!")))
    assert status == 400, ("BadDigest expected", code)
    assert not s3.list_parts(Bucket=BUCKET, Key=key, UploadId=uid).get("Parts"), "the refused part is not stored"
    # Content-MD5 is checked on parts too.
    code, status = error_of(lambda: s3.upload_part(
        Bucket=BUCKET, Key=key, UploadId=uid, PartNumber=1, Body=p,
        ContentMD5=base64.b64encode(hashlib.md5(b"other").digest()).decode()))
    assert (code, status) == ("BadDigest", 400)
    s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=uid)
