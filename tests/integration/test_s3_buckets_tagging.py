"""Bucket calls (S8: ListBuckets, HeadBucket, GetBucketLocation, GetBucketVersioning; S13: CreateBucket and
DeleteBucket for credentials allowed to create buckets, kept in the store across restarts) and object tagging
(S11), with boto3.

The config (s3env.write_config) has bucket `photos` with credentials RW (may create buckets), NC (read-write, may
not) and RO (read-only), and bucket `other` with OT (may create buckets). A credential sees its config bucket and
the buckets it created. Each test skips while the call it needs answers 501 NotImplemented.
"""

import urllib.parse

import pytest

from s3env import (  # noqa: F401  (fixtures)
    BUCKET, MOTO, NC, OT, OTHER_BUCKET, RO, RW, Env, env, error_of, fresh_env, module_env_fixture, unique,
    write_config,
)


def names(s3):
    return sorted(b["Name"] for b in s3.list_buckets()["Buckets"])


def tagset(s3, key, bucket=BUCKET):
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


def header_tags(tags):
    return "&".join(f"{urllib.parse.quote(k, safe='')}={urllib.parse.quote(v, safe='')}" for k, v in tags.items())


# --- ListBuckets ----------------------------------------------------------------------------------------------------

def test_list_buckets_shows_the_config_bucket(fresh_env):
    fresh_env.require("ListBuckets")
    fresh_env.s3orch_only("credentials are tied to buckets")
    for cred, want in ((RW, [BUCKET]), (NC, [BUCKET]), (RO, [BUCKET]), (OT, [OTHER_BUCKET])):
        r = fresh_env.client(cred).list_buckets()
        assert sorted(b["Name"] for b in r["Buckets"]) == want, cred[0]
        assert all(b.get("CreationDate") for b in r["Buckets"]), r["Buckets"]
        assert r["Owner"].get("ID"), r


def test_list_buckets_shows_own_created_buckets_only(fresh_env):
    fresh_env.require("ListBuckets", "CreateBucket")
    fresh_env.s3orch_only("credentials are tied to buckets")
    rw, ot = fresh_env.client(RW), fresh_env.client(OT)
    mine, theirs = unique("rw-made"), unique("ot-made")
    rw.create_bucket(Bucket=mine)
    ot.create_bucket(Bucket=theirs)
    assert names(rw) == sorted([BUCKET, mine]), "the config bucket and the buckets it created"
    assert names(ot) == sorted([OTHER_BUCKET, theirs])
    assert names(fresh_env.client(NC)) == [BUCKET], "a bucket belongs to the credential that created it"
    assert names(fresh_env.client(RO)) == [BUCKET]


# --- HeadBucket, location, versioning -------------------------------------------------------------------------------

def test_head_bucket(env):
    env.require("HeadBucket")
    s3 = env.client()
    assert s3.head_bucket(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert error_of(lambda: s3.head_bucket(Bucket="no-such-bucket-here")) == ("404", 404)
    assert env.client(RO).head_bucket(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 200
    env.s3orch_only("credentials are tied to buckets")
    assert error_of(lambda: s3.head_bucket(Bucket=OTHER_BUCKET)) == ("403", 403), "another credential's bucket"


def test_get_bucket_location(env):
    env.require("GetBucketLocation")
    s3 = env.client()
    r = s3.get_bucket_location(Bucket=BUCKET)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r.get("LocationConstraint") is None, "us-east-1 is an empty LocationConstraint"
    assert error_of(lambda: s3.get_bucket_location(Bucket="no-such-bucket-here")) == ("NoSuchBucket", 404)


def test_get_bucket_versioning_is_unversioned(env):
    env.require("GetBucketVersioning")
    r = env.client().get_bucket_versioning(Bucket=BUCKET)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Status" not in r and "MFADelete" not in r, r


# --- CreateBucket / DeleteBucket ------------------------------------------------------------------------------------

def test_create_use_and_delete_bucket(env):
    env.require("CreateBucket")
    s3 = env.client()
    name = unique("made")
    r = s3.create_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r.get("Location") == f"/{name}", r.get("Location")
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3.put_object(Bucket=name, Key="k ü", Body=b"in the new bucket")
    assert s3.get_object(Bucket=name, Key="k ü")["Body"].read() == b"in the new bucket"
    assert error_of(lambda: s3.get_object(Bucket=BUCKET, Key="k ü"))[1] == 404, "buckets do not share keys"
    env.require("ListObjectsV2")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["k ü"]

    assert error_of(lambda: s3.delete_bucket(Bucket=name)) == ("BucketNotEmpty", 409)
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3.delete_object(Bucket=name, Key="k ü")
    assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(lambda: s3.head_bucket(Bucket=name)) == ("404", 404)
    assert error_of(lambda: s3.put_object(Bucket=name, Key="k", Body=b"x")) == ("NoSuchBucket", 404)
    assert error_of(lambda: s3.delete_bucket(Bucket=name)) == ("NoSuchBucket", 404)
    s3.create_bucket(Bucket=name)  # the name is free again
    s3.delete_bucket(Bucket=name)


def test_create_bucket_with_location_constraint_body(env):
    """Clients configured for another region send a CreateBucketConfiguration body."""
    env.require("CreateBucket")
    s3 = env.client()
    name = unique("made-loc")
    code, status = error_of(lambda: s3.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}))
    # AWS refuses a constraint that differs from the endpoint's region; a single-region server may accept it.
    assert status in (200, 400), (code, status)
    if status == 200:
        s3.delete_bucket(Bucket=name)
    else:
        assert code in ("IllegalLocationConstraintException", "InvalidLocationConstraint"), code


def test_create_bucket_needs_permission(env):
    env.require("CreateBucket")
    env.s3orch_only("credentials are tied to buckets")
    name = unique("denied")
    for cred in (NC, RO):
        assert error_of(lambda: env.client(cred).create_bucket(Bucket=name)) == ("AccessDenied", 403), cred[0]
    assert error_of(lambda: env.client().head_bucket(Bucket=name)) == ("404", 404), "nothing was created"


def test_create_existing_bucket(env):
    env.require("CreateBucket")
    s3 = env.client()
    name = unique("twice")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="keep", Body=b"kept")
    # us-east-1 answers 200 to re-creating a bucket you own, other regions 409 BucketAlreadyOwnedByYou.
    assert error_of(lambda: s3.create_bucket(Bucket=name)) in ((None, 200), ("BucketAlreadyOwnedByYou", 409))
    assert s3.get_object(Bucket=name, Key="keep")["Body"].read() == b"kept", "re-creating leaves the bucket as is"
    env.s3orch_only("credentials are tied to buckets")
    assert error_of(lambda: env.client(OT).create_bucket(Bucket=name)) == ("BucketAlreadyExists", 409)
    assert error_of(lambda: s3.create_bucket(Bucket=OTHER_BUCKET)) == ("BucketAlreadyExists", 409), \
        "another credential's config bucket"
    # The credential's own config bucket: rclone creates the bucket before its first upload and accepts only
    # success or BucketAlreadyOwnedByYou.
    s3.put_object(Bucket=BUCKET, Key="config-bucket-keep", Body=b"kept")
    assert error_of(lambda: s3.create_bucket(Bucket=BUCKET)) in ((None, 200), ("BucketAlreadyOwnedByYou", 409))
    assert s3.get_object(Bucket=BUCKET, Key="config-bucket-keep")["Body"].read() == b"kept"
    if env.has("ListBuckets"):
        assert names(s3).count(BUCKET) == 1


@pytest.mark.parametrize("name", ["ab", "a" * 64, "UpperCase", "under_score", "-start", "end-", "a..b",
                                  "192.168.1.1", ".dot"])
def test_invalid_bucket_name(env, name):
    env.require("CreateBucket")
    env.moto_differs("moto checks no bucket names")
    assert error_of(lambda: env.client().create_bucket(Bucket=name)) == ("InvalidBucketName", 400)


def test_delete_bucket_permissions(env):
    env.require("CreateBucket")
    env.s3orch_only("credentials are tied to buckets")
    rw, ot = env.client(RW), env.client(OT)
    theirs = unique("ot-own")
    ot.create_bucket(Bucket=theirs)
    assert error_of(lambda: rw.delete_bucket(Bucket=theirs)) == ("AccessDenied", 403)
    assert error_of(lambda: rw.head_bucket(Bucket=theirs)) == ("403", 403), "HeadBucket of another's bucket"
    assert error_of(lambda: rw.put_object(Bucket=theirs, Key="k", Body=b"x")) == ("AccessDenied", 403)
    assert ot.head_bucket(Bucket=theirs)["ResponseMetadata"]["HTTPStatusCode"] == 200
    mine = unique("rw-own")
    rw.create_bucket(Bucket=mine)
    assert error_of(lambda: env.client(NC).delete_bucket(Bucket=mine)) == ("AccessDenied", 403)
    # A config bucket is not deleted through the API.
    code, status = error_of(lambda: rw.delete_bucket(Bucket=BUCKET))
    assert 400 <= status < 500, (code, status)
    assert rw.head_bucket(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 200
    ot.delete_bucket(Bucket=theirs)
    rw.delete_bucket(Bucket=mine)


def test_created_bucket_survives_restart(server, tmp_path):
    if MOTO:
        pytest.skip("s3orch only: restarts s3orch")
    cfg = write_config(tmp_path)
    srv = server("--config", str(cfg), listen=None)
    e = Env(tmp_path, srv=srv)
    e.require("CreateBucket")
    name = unique("durable")
    s3 = e.client()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"survives")
    srv.stop()
    srv2 = server("--config", str(cfg), listen=None)
    e2 = Env(tmp_path, srv=srv2)
    s3 = e2.client()
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"survives"
    assert error_of(lambda: e2.client(OT).create_bucket(Bucket=name)) == (
        "BucketAlreadyExists", 409), "the owner survives the restart too"
    assert error_of(lambda: e2.client(OT).head_bucket(Bucket=name)) == ("403", 403)
    if e2.has("ListBuckets"):
        assert name in names(s3)


# --- tagging (S11) --------------------------------------------------------------------------------------------------

def test_tagging_header_on_put(env):
    env.require("Tagging", "TaggingHeader")
    s3 = env.client()
    s3.put_object(Bucket=BUCKET, Key="tg/a", Body=b"x", Tagging="a=1&b=x%20y")
    assert tagset(s3, "tg/a") == {"a": "1", "b": "x y"}
    got = s3.get_object(Bucket=BUCKET, Key="tg/a")
    assert got["TagCount"] == 2, "x-amz-tagging-count on GetObject"


def test_put_object_tagging_replaces(env):
    env.require("Tagging", "TaggingHeader")
    s3 = env.client()
    s3.put_object(Bucket=BUCKET, Key="tg/r", Body=b"x", Tagging="a=1&b=2")
    before = s3.head_object(Bucket=BUCKET, Key="tg/r")
    r = s3.put_object_tagging(Bucket=BUCKET, Key="tg/r", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert tagset(s3, "tg/r") == {"c": "3"}, "the whole set is replaced"
    assert s3.get_object(Bucket=BUCKET, Key="tg/r")["TagCount"] == 1
    after = s3.head_object(Bucket=BUCKET, Key="tg/r")
    assert (after["ETag"], after["LastModified"]) == (before["ETag"], before["LastModified"]), \
        "tagging changes neither ETag nor Last-Modified"


def test_delete_object_tagging(env):
    env.require("Tagging", "TaggingHeader")
    s3 = env.client()
    s3.put_object(Bucket=BUCKET, Key="tg/d", Body=b"x", Tagging="a=1")
    r = s3.delete_object_tagging(Bucket=BUCKET, Key="tg/d")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket=BUCKET, Key="tg/d")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=BUCKET, Key="tg/d"), "no tags, no x-amz-tagging-count"
    assert s3.get_object(Bucket=BUCKET, Key="tg/d")["Body"].read() == b"x", "the object stays"


def test_odd_tag_characters_round_trip(env):
    env.require("Tagging", "TaggingHeader")
    s3 = env.client()
    # Only characters AWS allows in tags (letters, digits, spaces, + - = . _ : / @), but all needing encoding.
    tags = {"ü k": "v=+/ ü:@", "path/like": "", "a+b": "c-d_e.f"}
    s3.put_object(Bucket=BUCKET, Key="tg/odd", Body=b"x", Tagging=header_tags(tags))
    assert tagset(s3, "tg/odd") == tags, "header form"
    s3.put_object_tagging(Bucket=BUCKET, Key="tg/odd",
                          Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    assert tagset(s3, "tg/odd") == tags, "XML form"


def test_too_many_and_invalid_tags(env):
    env.require("Tagging", "TaggingHeader")
    s3 = env.client()
    s3.put_object(Bucket=BUCKET, Key="tg/inv", Body=b"x", Tagging="keep=1")
    eleven = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    ten = eleven[:10]
    # AWS answers 11 tags with 400 BadRequest "Object tags cannot be greater than 10"; Ceph's s3-tests expect
    # InvalidTag. Either code, status 400.
    assert error_of(lambda: s3.put_object_tagging(Bucket=BUCKET, Key="tg/inv", Tagging={"TagSet": eleven})) in (
        ("BadRequest", 400), ("InvalidTag", 400))
    bad_sets = [
        [{"Key": "k" * 129, "Value": "v"}],
        [{"Key": "k", "Value": "v" * 257}],
    ]
    if not env.is_moto:  # moto accepts a key twice; AWS: "Cannot provide multiple Tags with the same key"
        bad_sets.append([{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}])
    for tags in bad_sets:
        assert error_of(lambda: s3.put_object_tagging(Bucket=BUCKET, Key="tg/inv", Tagging={"TagSet": tags})) == (
            "InvalidTag", 400), tags[0]["Key"][:10]
    assert tagset(s3, "tg/inv") == {"keep": "1"}, "a refused tag set changes nothing"
    s3.put_object_tagging(Bucket=BUCKET, Key="tg/inv", Tagging={"TagSet": ten})
    assert len(tagset(s3, "tg/inv")) == 10, "ten tags are fine"
    s3.put_object_tagging(Bucket=BUCKET, Key="tg/inv",
                          Tagging={"TagSet": [{"Key": "k" * 128, "Value": "ü" * 256}]})  # limits count characters

    header = "&".join(f"k{i}=v" for i in range(11))
    assert error_of(lambda: s3.put_object(Bucket=BUCKET, Key="tg/inv-put", Body=b"x", Tagging=header)) in (
        ("BadRequest", 400), ("InvalidTag", 400))
    if not env.is_moto:  # moto stores the object, then refuses its tags
        assert error_of(lambda: s3.head_object(Bucket=BUCKET, Key="tg/inv-put"))[1] == 404, "nothing stored"


def test_tagging_missing_key(env):
    env.require("Tagging")
    s3 = env.client()
    assert error_of(lambda: s3.get_object_tagging(Bucket=BUCKET, Key="tg/none")) == ("NoSuchKey", 404)
    assert error_of(lambda: s3.put_object_tagging(Bucket=BUCKET, Key="tg/none",
                                                  Tagging={"TagSet": [{"Key": "a", "Value": "1"}]})) == (
        "NoSuchKey", 404)
    if not env.is_moto:  # moto answers 500
        assert error_of(lambda: s3.delete_object_tagging(Bucket=BUCKET, Key="tg/none")) == ("NoSuchKey", 404)
    assert error_of(lambda: s3.head_object(Bucket=BUCKET, Key="tg/none"))[1] == 404, "tagging creates no object"


def test_overwrite_drops_tags(env):
    env.require("Tagging", "TaggingHeader")
    s3 = env.client()
    s3.put_object(Bucket=BUCKET, Key="tg/ow", Body=b"v1", Tagging="a=1")
    s3.put_object(Bucket=BUCKET, Key="tg/ow", Body=b"v2")
    assert tagset(s3, "tg/ow") == {}, "a new version starts without tags"


def test_tagging_permissions(env):
    env.require("Tagging", "TaggingHeader")
    env.s3orch_only("credentials are tied to buckets")
    s3, ro = env.client(), env.client(RO)
    s3.put_object(Bucket=BUCKET, Key="tg/perm", Body=b"x", Tagging="a=1")
    assert tagset(ro, "tg/perm") == {"a": "1"}, "a read-only credential reads tags"
    assert error_of(lambda: ro.put_object_tagging(Bucket=BUCKET, Key="tg/perm",
                                                  Tagging={"TagSet": []})) == ("AccessDenied", 403)
    assert error_of(lambda: ro.delete_object_tagging(Bucket=BUCKET, Key="tg/perm")) == ("AccessDenied", 403)
    assert error_of(lambda: env.client(OT).get_object_tagging(Bucket=BUCKET, Key="tg/perm")) == ("AccessDenied", 403)
    assert tagset(s3, "tg/perm") == {"a": "1"}


def test_multipart_upload_with_tagging(env):
    env.require("Tagging", "Multipart")
    s3 = env.client()
    uid = s3.create_multipart_upload(Bucket=BUCKET, Key="tg/mpu", Tagging="m=1&n=two")["UploadId"]
    p = s3.upload_part(Bucket=BUCKET, Key="tg/mpu", UploadId=uid, PartNumber=1, Body=b"part")
    s3.complete_multipart_upload(Bucket=BUCKET, Key="tg/mpu", UploadId=uid,
                                 MultipartUpload={"Parts": [{"ETag": p["ETag"], "PartNumber": 1}]})
    assert tagset(s3, "tg/mpu") == {"m": "1", "n": "two"}
    assert s3.get_object(Bucket=BUCKET, Key="tg/mpu")["TagCount"] == 2
