"""Listing as AWS S3 answers it (feature S8): ListObjectsV2 and V1 with prefix, delimiter, paging (max-keys,
continuation tokens, start-after, marker/NextMarker), encoding-type=url, fetch-owner, the fields of each entry,
ListObjectVersions on an unversioned bucket, and the errors.

The big listing uses 2,500 keys (1,100 under valgrind) in bucket `other` (credential OT), which nothing else in
this module writes to, so the whole bucket is compared with what is expected. The other tests use their own
prefixes in `photos`. Each test skips while the call it needs answers 501 NotImplemented.
"""

import datetime
import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest

from s3env import (  # noqa: F401  (fixtures)
    BUCKET, OT, OTHER_BUCKET, RO, env, error_of, fresh_env, heavy, md5_etag, module_env_fixture, raw, xml_code,
)

N_KEYS = heavy(2500, 1100)
PAGE_LIMIT = 2000  # bound on the pages any listing loop reads


def big_keys(n=N_KEYS):
    """{key: body}: one key in ten at the top level, the rest in 23 directories of 3 subdirectories each."""
    out = {}
    for i in range(n):
        key = f"k{i:05d}" if i % 10 == 0 else f"d{i % 23:02d}/s{i % 3}/f{i:05d}"
        out[key] = b"x" * (i % 7 + 1)
    return out


def put_all(s3, bucket, objects, workers=8):
    """PUTs in parallel; the first failure cancels what has not started and is raised."""
    ex = ThreadPoolExecutor(workers)
    try:
        futures = [ex.submit(s3.put_object, Bucket=bucket, Key=k, Body=v) for k, v in objects.items()]
        for f in futures:
            f.result()
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def big(module_env_fixture):
    """Bucket `other` holding big_keys(); returns (client for OT, {key: body})."""
    e = module_env_fixture
    e.require("ListObjectsV2")
    s3 = e.client(OT)
    objects = big_keys()
    put_all(s3, OTHER_BUCKET, objects)
    return s3, objects


def expected_grouping(keys, prefix="", delimiter="/"):
    """(sorted keys, sorted common prefixes) S3 returns for prefix and delimiter."""
    entries, prefixes = set(), set()
    for k in keys:
        if not k.startswith(prefix):
            continue
        rest = k[len(prefix):]
        if delimiter and delimiter in rest:
            prefixes.add(prefix + rest[:rest.index(delimiter) + len(delimiter)])
        else:
            entries.add(k)
    return sorted(entries), sorted(prefixes)


def list_v2_all(s3, bucket, **kw):
    """Every page of ListObjectsV2; returns (keys in order, prefixes in order, pages)."""
    keys, prefixes, pages, token = [], [], [], None
    for _ in range(PAGE_LIMIT):
        args = dict(kw, Bucket=bucket)
        if token:
            args["ContinuationToken"] = token
        page = s3.list_objects_v2(**args)
        pages.append(page)
        got = [o["Key"] for o in page.get("Contents", [])]
        cps = [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert page["KeyCount"] == len(got) + len(cps), f"KeyCount {page['KeyCount']} for {len(got)}+{len(cps)}"
        keys += got
        prefixes += cps
        if not page["IsTruncated"]:
            assert "NextContinuationToken" not in page, "a last page carries no NextContinuationToken"
            return keys, prefixes, pages
        token = page.get("NextContinuationToken")
        assert token, "a truncated page must carry NextContinuationToken"
        assert got or cps, "a truncated page returned nothing"
    raise AssertionError(f"listing did not end within {PAGE_LIMIT} pages")


def list_v1_all(s3, bucket, **kw):
    """Every page of ListObjects (V1), continuing from NextMarker (or, without a delimiter, the last key)."""
    keys, prefixes, pages, marker = [], [], [], None
    for _ in range(PAGE_LIMIT):
        args = dict(kw, Bucket=bucket)
        if marker is not None:
            args["Marker"] = marker
        page = s3.list_objects(**args)
        pages.append(page)
        got = [o["Key"] for o in page.get("Contents", [])]
        cps = [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        keys += got
        prefixes += cps
        if not page["IsTruncated"]:
            return keys, prefixes, pages
        if kw.get("Delimiter"):
            assert page.get("NextMarker"), "a truncated V1 page with a delimiter must carry NextMarker"
            last = max(got[-1:] + cps[-1:])
            assert page["NextMarker"] == last, f"NextMarker {page['NextMarker']!r} is not the last item {last!r}"
            marker = page["NextMarker"]
        else:
            # AWS sends NextMarker only with a delimiter; clients then continue from the last key.
            assert page.get("NextMarker") in (None, got[-1]), page.get("NextMarker")
            marker = got[-1]
    raise AssertionError(f"listing did not end within {PAGE_LIMIT} pages")


# --- the big listing ------------------------------------------------------------------------------------------------

def test_v2_default_pages_of_1000(env, big):
    s3, objects = big
    keys, prefixes, pages = list_v2_all(s3, OTHER_BUCKET)
    assert keys == sorted(objects), "V2 must return every key once, in byte order"
    assert prefixes == []
    assert [p["KeyCount"] for p in pages] == [1000] * (len(objects) // 1000) + [len(objects) % 1000]
    assert all(p["MaxKeys"] == 1000 for p in pages)
    tokens = [p["NextContinuationToken"] for p in pages[:-1]]
    assert len(set(tokens)) == len(tokens), "continuation tokens repeat"
    for p in pages[:-1]:  # opaque: not the last key in clear (S8)
        assert p["NextContinuationToken"] != p["Contents"][-1]["Key"], "continuation token is the plain key"
    sizes = {o["Key"]: o["Size"] for p in pages for o in p["Contents"]}
    assert sizes == {k: len(v) for k, v in objects.items()}


def test_v2_max_keys_above_1000_is_capped(env, big):
    env.moto_differs("moto returns more than 1,000 keys")
    s3, objects = big
    page = s3.list_objects_v2(Bucket=OTHER_BUCKET, MaxKeys=5000)
    assert page["KeyCount"] == 1000 and page["IsTruncated"], "S3 returns at most 1,000 keys per page"


def test_v2_small_pages(env, big):
    s3, objects = big
    keys, prefixes, pages = list_v2_all(s3, OTHER_BUCKET, MaxKeys=7)
    assert keys == sorted(objects) and prefixes == []
    assert all(p["KeyCount"] == 7 for p in pages[:-1]) and 1 <= pages[-1]["KeyCount"] <= 7
    assert len(pages) == -(-len(objects) // 7)


@pytest.mark.parametrize("max_keys", [7, 1000])
def test_v2_delimiter(env, big, max_keys):
    s3, objects = big
    keys, prefixes, pages = list_v2_all(s3, OTHER_BUCKET, Delimiter="/", MaxKeys=max_keys)
    want_keys, want_prefixes = expected_grouping(objects)
    assert keys == want_keys, "top-level keys"
    assert prefixes == want_prefixes, "common prefixes, each once and in order"
    assert all(p["Delimiter"] == "/" for p in pages)
    # Entries and prefixes come merged in byte order: each page's items sort after the previous page's.
    for a, b in zip(pages, pages[1:]):
        last_a = max([o["Key"] for o in a.get("Contents", [])] + [c["Prefix"] for c in a.get("CommonPrefixes", [])])
        first_b = min([o["Key"] for o in b.get("Contents", [])] + [c["Prefix"] for c in b.get("CommonPrefixes", [])])
        assert last_a < first_b, (last_a, first_b)


def test_v2_prefix_and_delimiter(env, big):
    s3, objects = big
    for prefix in ("d03/", "d03/s1/", "d1", "k0001", "nothing/"):
        keys, prefixes, pages = list_v2_all(s3, OTHER_BUCKET, Prefix=prefix, Delimiter="/", MaxKeys=5)
        assert (keys, prefixes) == expected_grouping(objects, prefix), prefix
        assert all(p["Prefix"] == prefix for p in pages), "Prefix is echoed"
        keys, prefixes, _ = list_v2_all(s3, OTHER_BUCKET, Prefix=prefix)
        assert keys == sorted(k for k in objects if k.startswith(prefix)) and prefixes == [], prefix


def test_v2_start_after(env, big):
    s3, objects = big
    ordered = sorted(objects)
    for after in ("d05", ordered[100], "d22/s2/", "k", "zzz"):
        keys, _, _ = list_v2_all(s3, OTHER_BUCKET, StartAfter=after, MaxKeys=400)
        assert keys == [k for k in ordered if k > after], after
    # With a delimiter, a start-after equal to a common prefix moves past that whole group.
    keys, prefixes, _ = list_v2_all(s3, OTHER_BUCKET, StartAfter="d05/", Delimiter="/")
    want_keys, want_prefixes = expected_grouping(objects)
    assert prefixes == [p for p in want_prefixes if p > "d05/"] and keys == [k for k in want_keys if k > "d05/"]
    page = s3.list_objects_v2(Bucket=OTHER_BUCKET, StartAfter="d05", MaxKeys=1)
    assert page["StartAfter"] == "d05", "StartAfter is echoed"


def test_v1_marker_paging(env, big):
    env.require("ListObjects")
    env.moto_differs("moto's V1 NextMarker is an opaque token, AWS's is the last key")
    s3, objects = big
    keys, prefixes, pages = list_v1_all(s3, OTHER_BUCKET, MaxKeys=300)
    assert keys == sorted(objects) and prefixes == []
    keys, prefixes, _ = list_v1_all(s3, OTHER_BUCKET)
    assert keys == sorted(objects), "V1 with the default max-keys"


@pytest.mark.parametrize("max_keys", [7, 1000])
def test_v1_delimiter_next_marker(env, big, max_keys):
    env.require("ListObjects")
    env.moto_differs("moto's V1 NextMarker is an opaque token, AWS's is the last key or common prefix")
    s3, objects = big
    keys, prefixes, pages = list_v1_all(s3, OTHER_BUCKET, Delimiter="/", MaxKeys=max_keys)
    assert (keys, prefixes) == expected_grouping(objects)
    keys, prefixes, _ = list_v1_all(s3, OTHER_BUCKET, Prefix="d07/", Delimiter="/", MaxKeys=2)
    assert (keys, prefixes) == expected_grouping(objects, "d07/")
    page = s3.list_objects(Bucket=OTHER_BUCKET, Marker="d10/", MaxKeys=3)
    assert page["Marker"] == "d10/" and [o["Key"] for o in page["Contents"]] == [k for k in sorted(objects)
                                                                              if k > "d10/"][:3]


def test_paginator_walks_everything(env, big):
    """boto3's own paginator (what most programs use) over V2 with a delimiter."""
    s3, objects = big
    seen_keys, seen_prefixes = [], []
    for i, page in enumerate(s3.get_paginator("list_objects_v2").paginate(
            Bucket=OTHER_BUCKET, Delimiter="/", PaginationConfig={"PageSize": 50})):
        assert i < PAGE_LIMIT
        seen_keys += [o["Key"] for o in page.get("Contents", [])]
        seen_prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert (seen_keys, seen_prefixes) == expected_grouping(objects)


# --- entries, owner, counts -----------------------------------------------------------------------------------------

def test_entry_fields_and_fetch_owner(env):
    env.require("ListObjectsV2")
    s3 = env.client()
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    bodies = {"fields/b": b"hello", "fields/c/d": b"x" * 1000, "fields/a": b""}  # the empty body last
    for k, v in bodies.items():
        s3.put_object(Bucket=BUCKET, Key=k, Body=v)
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix="fields/")
    assert page["KeyCount"] == 3 and not page["IsTruncated"] and page["Name"] == BUCKET
    after = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    for o in page["Contents"]:
        assert o["Size"] == len(bodies[o["Key"]]), o
        assert o["ETag"] == md5_etag(bodies[o["Key"]]), o
        assert before < o["LastModified"] < after, o
        assert o["StorageClass"] == "STANDARD", o
        assert "Owner" not in o, "V2 sends Owner only with fetch-owner"
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix="fields/", FetchOwner=True)
    assert all(o.get("Owner", {}).get("ID") for o in page["Contents"]), page["Contents"]
    assert len({o["Owner"]["ID"] for o in page["Contents"]}) == 1


def test_v1_entries(env):
    env.require("ListObjects")
    s3 = env.client()
    s3.put_object(Bucket=BUCKET, Key="v1f/a", Body=b"abc")
    page = s3.list_objects(Bucket=BUCKET, Prefix="v1f/")
    (o,) = page["Contents"]
    assert (o["Key"], o["Size"], o["ETag"], o["StorageClass"]) == ("v1f/a", 3, md5_etag(b"abc"), "STANDARD")
    assert page["Prefix"] == "v1f/" and page["IsTruncated"] is False


def test_max_keys_zero(env):
    env.require("ListObjectsV2")
    s3 = env.client()
    s3.put_object(Bucket=BUCKET, Key="mk/a", Body=b"a")
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix="mk/", MaxKeys=0)
    assert page["KeyCount"] == 0 and "Contents" not in page and page["MaxKeys"] == 0


def test_invalid_max_keys(env):
    env.require("ListObjectsV2")
    env.moto_differs("moto accepts a negative max-keys")
    s3 = env.client()
    assert error_of(lambda: s3.list_objects_v2(Bucket=BUCKET, MaxKeys=-1)) == ("InvalidArgument", 400)
    for value in ("abc", "1x"):
        r = raw(env, "GET", f"/{BUCKET}", query=f"list-type=2&max-keys={value}")
        assert (r.status, xml_code(r)) == (400, "InvalidArgument"), (value, r)


def test_invalid_continuation_token(env):
    env.require("ListObjectsV2")
    env.moto_differs("moto answers 500")
    s3 = env.client()
    for token in ("not-a-token", "AAAA", "%%%"):
        assert error_of(lambda: s3.list_objects_v2(Bucket=BUCKET, ContinuationToken=token)) == (
            "InvalidArgument", 400), token


def test_empty_bucket(fresh_env):
    fresh_env.require("ListObjectsV2")
    s3 = fresh_env.client(OT)
    page = s3.list_objects_v2(Bucket=OTHER_BUCKET)
    assert page["KeyCount"] == 0 and "Contents" not in page and page["IsTruncated"] is False
    page = s3.list_objects_v2(Bucket=OTHER_BUCKET, Delimiter="/", Prefix="x/")
    assert page["KeyCount"] == 0 and "CommonPrefixes" not in page


def test_missing_bucket_and_other_credentials_bucket(env):
    env.require("ListObjectsV2")
    s3 = env.client()
    assert error_of(lambda: s3.list_objects_v2(Bucket="no-such-bucket-here")) == ("NoSuchBucket", 404)
    assert error_of(lambda: s3.list_objects(Bucket="no-such-bucket-here")) == ("NoSuchBucket", 404)
    assert error_of(lambda: s3.list_object_versions(Bucket="no-such-bucket-here")) == ("NoSuchBucket", 404)
    env.s3orch_only("credentials are tied to buckets")
    assert error_of(lambda: env.client(OT).list_objects_v2(Bucket=BUCKET)) == ("AccessDenied", 403)
    env.client(RO).list_objects_v2(Bucket=BUCKET, MaxKeys=1)  # a read-only credential lists


# --- keys that need encoding ----------------------------------------------------------------------------------------

ODD_KEYS = ["enc/sp ace", "enc/ü日本", "enc/a+b", "enc/100%", "enc/a&b=c", "enc/<x>", "enc/ctl\x01x",
            "enc/dir one/x", "enc/q\"'", "enc/tab\tx", "enc/~t"]


@pytest.fixture
def odd(env):
    env.require("ListObjectsV2")
    s3 = env.client()
    for k in ODD_KEYS:
        s3.put_object(Bucket=BUCKET, Key=k, Body=k.encode())
    return s3


def test_odd_keys_round_trip_through_boto3(odd):
    """boto3 asks for encoding-type=url unasked and decodes what comes back (client-wire.md)."""
    keys, prefixes, pages = list_v2_all(odd, BUCKET, Prefix="enc/")
    assert keys == sorted(ODD_KEYS, key=lambda k: k.encode())
    keys, prefixes, pages = list_v2_all(odd, BUCKET, Prefix="enc/", Delimiter="/", MaxKeys=3)
    assert prefixes == ["enc/dir one/"]
    assert keys == sorted((k for k in ODD_KEYS if k.count("/") == 1), key=lambda k: k.encode())


def test_encoding_type_url_v2(env, odd):
    """Asked explicitly, boto3 does not decode: every key, prefix and start-after comes back URL-encoded."""
    page = odd.list_objects_v2(Bucket=BUCKET, Prefix="enc/dir one/", EncodingType="url")
    assert page["EncodingType"] == "url"
    assert " " not in page["Prefix"] and urllib.parse.unquote_plus(page["Prefix"]) == "enc/dir one/"
    assert [urllib.parse.unquote_plus(o["Key"]) for o in page["Contents"]] == ["enc/dir one/x"]

    page = odd.list_objects_v2(Bucket=BUCKET, Prefix="enc/", Delimiter="/", EncodingType="url", StartAfter="enc/ ")
    assert urllib.parse.unquote_plus(page["StartAfter"]) == "enc/ "
    if not env.is_moto:  # moto echoes StartAfter unencoded; AWS encodes Delimiter, Prefix, Key and StartAfter
        assert " " not in page["StartAfter"], page["StartAfter"]
    raw_keys = [o["Key"] for o in page["Contents"]]
    for k in raw_keys:
        assert not set(k) & set(" <>&\"\x01\t") and "ü" not in k, f"not URL-encoded: {k!r}"
    decoded = sorted(urllib.parse.unquote_plus(k) for k in raw_keys)
    assert decoded == sorted(k for k in ODD_KEYS if k.count("/") == 1)
    assert [urllib.parse.unquote_plus(p["Prefix"]) for p in page["CommonPrefixes"]] == ["enc/dir one/"]


def test_encoding_type_url_v1(env, odd):
    env.require("ListObjects")
    page = odd.list_objects(Bucket=BUCKET, Prefix="enc/", Delimiter="/", EncodingType="url", MaxKeys=2,
                            Marker="enc/100%")
    assert page["EncodingType"] == "url" and page["IsTruncated"]
    if not env.is_moto:  # moto does not echo Marker
        assert urllib.parse.unquote_plus(page["Marker"]) == "enc/100%" and "%25" in page["Marker"]
    decoded = [urllib.parse.unquote_plus(o["Key"]) for o in page["Contents"]]
    want = sorted((k for k in ODD_KEYS if k.count("/") == 1 and k > "enc/100%"), key=lambda k: k.encode())
    assert decoded == want[:2]
    if not env.is_moto:  # moto's NextMarker is an opaque token
        assert urllib.parse.unquote_plus(page["NextMarker"]) == want[1] and "&" not in page["NextMarker"]


def test_xml_special_characters_without_encoding(env):
    """No encoding-type: keys go out XML-escaped, and an XML parser gets them back exactly."""
    env.require("ListObjectsV2")
    s3 = env.client()
    keys = ["xml/a&b", "xml/<tag>", "xml/q\"'", "xml/ü日本", "xml/sp ace", "xml/]]>"]
    for k in keys:
        s3.put_object(Bucket=BUCKET, Key=k, Body=b"x")
    r = raw(env, "GET", f"/{BUCKET}", query="list-type=2&prefix=xml%2F")
    assert r.status == 200, r.body
    root = ET.fromstring(r.body)
    ns = root.tag[:-len("ListBucketResult")]
    got = [c.findtext(f"{ns}Key") for c in root.findall(f"{ns}Contents")]
    assert got == sorted(keys, key=lambda k: k.encode())
    assert root.find(f"{ns}EncodingType") is None


# --- versions -------------------------------------------------------------------------------------------------------

def test_list_object_versions_on_unversioned_bucket(env):
    env.require("ListObjectVersions")
    s3 = env.client()
    bodies = {"ver/a": b"1", "ver/b": b"22", "ver/c/d": b"333"}
    for k, v in bodies.items():
        s3.put_object(Bucket=BUCKET, Key=k, Body=v)
    s3.put_object(Bucket=BUCKET, Key="ver/a", Body=b"1")  # an overwrite leaves one version
    page = s3.list_object_versions(Bucket=BUCKET, Prefix="ver/")
    versions = page["Versions"]
    assert [v["Key"] for v in versions] == sorted(bodies), "one version per object"
    for v in versions:
        assert v["VersionId"] == "null" and v["IsLatest"] is True, v
        assert v["Size"] == len(bodies[v["Key"]]) and v["ETag"] == md5_etag(bodies[v["Key"]]), v
        assert v["StorageClass"] == "STANDARD" and "LastModified" in v, v
    assert "DeleteMarkers" not in page and page["IsTruncated"] is False

    page = s3.list_object_versions(Bucket=BUCKET, Prefix="ver/", Delimiter="/")
    assert [v["Key"] for v in page["Versions"]] == ["ver/a", "ver/b"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["ver/c/"]

    seen = []
    marker = None
    for _ in range(10):
        kw = {"KeyMarker": marker} if marker else {}
        page = s3.list_object_versions(Bucket=BUCKET, Prefix="ver/", MaxKeys=1, **kw)
        seen += [v["Key"] for v in page.get("Versions", [])]
        if not page["IsTruncated"]:
            break
        marker = page["NextKeyMarker"]
        assert page.get("NextVersionIdMarker") in (None, "null")
    assert seen == sorted(bodies)


def test_bucket_emptying_with_object_versions(env):
    """What bucket-emptying tools do: list versions, then DeleteObjects with VersionId=null."""
    env.require("ListObjectVersions", "DeleteObjects")
    s3 = env.client()
    for i in range(25):
        s3.put_object(Bucket=BUCKET, Key=f"empty-me/{i:02d}", Body=b"x")
    bucket = env.resource().Bucket(BUCKET)
    bucket.object_versions.filter(Prefix="empty-me/").delete()
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="empty-me/")["KeyCount"] == 0
