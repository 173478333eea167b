"""The backend contract's list (a paged iterator over a backend's own objects), seen through
`GET /_debug/backend-list?backend=NAME&prefix=P&start-after=S&max=N` of `s3orch serve --debug-endpoints`: objects
PUT through s3orch are listed, page by page, exactly as the backend holds them, in byte order of their keys, on an
fs backend (compared with its files, decoded here independently of s3orch), on a moto backend over http (the native
client) and over https (libcurl, nginx in front of moto), compared with what moto itself lists.
"""

import http.client
import json
import time
import urllib.parse
from pathlib import Path

import pytest

from backends import moto_server, s3_driver, start_s3orch, tls_moto, write_s3_config  # noqa: F401  (fixtures)
from conftest import scaled
from s3env import BUCKET, files_under, make_client, write_config

# Keys whose byte order differs from their encoded order on disk, "a" beside "a/b", empty and dot segments, escapes
# that look like escapes, emoji, and segments long enough to be continued on disk.
KEYS = [
    "a", "a/b", "a b", "a+b", "a%", "a%25", "a#b", "a/", "a//b", "a!", "a~", "dir/./x", "dir/../y", "sp ace/%20",
    "emoji/\U0001F600", "emoji/\U0001F600/x", "\u00fcn\u00ef/c\u00f6d\u00e9", "k" * 300, "k" * 300 + "/z",
    "k" * 300 + "!", "\u20ac" * 100, "\u20ac" * 100 + "/x", "z", "tab\tkey",
    # An XML parser reads a raw CR as LF: only an encoded listing (encoding-type=url) keeps this key.
    "cr\rkey",
]
# A byte XML 1.0 cannot carry at all. Not on moto: asked to start after such a key, moto echoes it in StartAfter
# unencoded (AWS encodes it), which no XML parser accepts.
FS_ONLY_KEYS = ["ctl\x01key"]


def utf8_order(keys):
    return sorted(keys, key=lambda k: k.encode())


def debug_list(url, backend, prefix=None, start_after=None, max_=None):
    """(status, parsed JSON or the body text) of one GET /_debug/backend-list."""
    q = {"backend": backend}
    if prefix is not None:
        q["prefix"] = prefix
    if start_after is not None:
        q["start-after"] = start_after
    if max_ is not None:
        q["max"] = str(max_)
    return debug_get(url, "/_debug/backend-list?" + urllib.parse.urlencode(q, quote_via=urllib.parse.quote))


def debug_get(url, target):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=scaled(30))
    try:
        conn.request("GET", target)
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    if r.status != 200:
        return r.status, body.decode(errors="replace")
    return r.status, json.loads(body)


def list_all(url, backend, prefix=None, max_=3):
    """Every entry, paging with start-after = next_start_after; checks each page's shape on the way."""
    entries, after = [], None
    for _ in range(10000):
        status, page = debug_list(url, backend, prefix, after, max_)
        assert status == 200, page
        assert len(page["entries"]) <= max_
        entries += page["entries"]
        if not page["truncated"]:
            return entries
        assert page["entries"], "truncated yet empty"
        assert page["next_start_after"] == page["entries"][-1]["key"]
        after = page["next_start_after"]
    raise AssertionError("paging does not end")


def fs_key_of(rel):
    """The key the fs backend stores at rel: percent-encoded segments, "%+/" continuing a long one, "%" an empty
    segment, "@" after the object's name (see backend_fs_path)."""
    assert rel.endswith("@"), rel
    segs = rel[:-1].replace("%+/", "").split("/")
    return "/".join("" if s == "%" else urllib.parse.unquote(s, errors="strict") for s in segs)


def put_keys(client, keys):
    """PUTs each key with a body of its own (its UTF-8 bytes); answers {key: body}."""
    bodies = {}
    for k in keys:
        bodies[k] = k.encode() + b"!"
        client.put_object(Bucket=BUCKET, Key=k, Body=bodies[k])
    return bodies


def check_listing(url, backend, held, bodies, etags):
    """The listing of backend equals `held` (what the backend holds, by its own account) in byte order, whole and
    paged at several sizes, with each object's size, a plausible mtime and the ETag (etags True: the MD5)."""
    want = utf8_order(held)
    status, page = debug_list(url, backend)
    assert status == 200, page
    assert [e["key"] for e in page["entries"]] == want
    assert not page["truncated"]
    assert page["next_start_after"] == want[-1]
    for max_ in (1, 2, 5):
        assert [e["key"] for e in list_all(url, backend, max_=max_)] == want
    # Every object PUT through s3orch is there once, under `<bucket>/<key>#<16 hex>`, with its size.
    now_ms = time.time() * 1000
    for k, body in bodies.items():
        mine = [e for e in page["entries"] if e["key"].startswith(f"{BUCKET}/{k}#") and len(e["key"]) == len(
            f"{BUCKET}/{k}#") + 16]
        assert len(mine) == 1, (k, mine)
        e = mine[0]
        assert e["size"] == len(body)
        assert abs(e["mtime_ms"] - now_ms) < 3600 * 1000
        if etags:
            import hashlib

            assert e["etag"].strip('"') == hashlib.md5(body).hexdigest()
        else:
            assert e["etag"] == ""
    # A prefix, and start-after in the middle.
    for prefix in (f"{BUCKET}/a", f"{BUCKET}/emoji/", f"{BUCKET}/k", f"{BUCKET}/\u20ac", "nope"):
        got = [e["key"] for e in list_all(url, backend, prefix=prefix, max_=2)]
        assert got == [k for k in want if k.startswith(prefix)], prefix
    mid = want[len(want) // 2]
    status, page = debug_list(url, backend, start_after=mid, max_=4)
    assert status == 200, page
    assert [e["key"] for e in page["entries"]] == [k for k in want if k.encode() > mid.encode()][:4]


def check_refusals(url, backend):
    for target in ("/_debug/backend-list", "/_debug/backend-list?prefix=a",
                   f"/_debug/backend-list?backend={backend}&max=0",
                   f"/_debug/backend-list?backend={backend}&max=1001",
                   f"/_debug/backend-list?backend={backend}&max=abc",
                   f"/_debug/backend-list?backend={backend}&max=",
                   f"/_debug/backend-list?backend={backend}&prefix=%zz"):
        status, body = debug_get(url, target)
        assert status == 400, (target, status, body)
    status, body = debug_get(url, "/_debug/backend-list?backend=nope")
    assert status == 404, body


def test_fs_backend_list(server, tmp_path):
    cfg = write_config(tmp_path)
    srv = server("--config", str(cfg), "--debug-endpoints", listen=None)
    c = make_client(srv.url)
    status, page = debug_list(srv.url, "disk1")
    assert status == 200, page
    assert page == {"entries": [], "truncated": False, "next_start_after": None}

    keys = KEYS + FS_ONLY_KEYS
    bodies = put_keys(c, keys)
    # Staging and in-flight state must not show: a multipart upload with a part, left open.
    up = c.create_multipart_upload(Bucket=BUCKET, Key="open-upload")
    c.upload_part(Bucket=BUCKET, Key="open-upload", UploadId=up["UploadId"], PartNumber=1, Body=b"part")

    root = Path(tmp_path) / "disk1"
    held = {fs_key_of(rel) for rel in files_under(root) if not rel.startswith("%mpu/")}
    assert len(held) == len(keys)
    check_listing(srv.url, "disk1", held, bodies, etags=False)
    check_refusals(srv.url, "disk1")

    # A deleted object leaves the listing.
    c.delete_object(Bucket=BUCKET, Key="a b")
    keys = [e["key"] for e in list_all(srv.url, "disk1", max_=1000)]
    assert not any(k.startswith(f"{BUCKET}/a b#") for k in keys)
    assert len(keys) == len(KEYS + FS_ONLY_KEYS) - 1


@pytest.fixture
def orch_s3(s3_driver, server, tmp_path):
    """Factory: orch_s3(target) starts s3orch with --debug-endpoints on one s3 backend `b1` (a MotoServer or
    TlsMoto) and answers its Server. Skips while s3orch refuses type s3."""
    if s3_driver:
        pytest.skip(s3_driver)

    def start(target):
        return start_s3orch(server, write_s3_config(tmp_path, [target]), "--debug-endpoints")

    return start


def test_moto_backend_list_http(orch_s3, moto_server):
    [m] = moto_server(1)
    srv = orch_s3(m)
    status, page = debug_list(srv.url, "b1")
    assert status == 200, page
    assert page["entries"] == [] and not page["truncated"]
    bodies = put_keys(make_client(srv.url), KEYS)
    held = set(m.keys())
    assert len(held) == len(KEYS)
    check_listing(srv.url, "b1", held, bodies, etags=True)
    check_refusals(srv.url, "b1")


def test_moto_backend_list_https(orch_s3, tls_moto):
    srv = orch_s3(tls_moto)
    keys = ["a", "a b", "a/b", "emoji/\U0001F600", "k" * 300, "z"]
    bodies = put_keys(make_client(srv.url), keys)
    held = set(tls_moto.moto.keys())
    assert len(held) == len(keys)
    want = utf8_order(held)
    assert [e["key"] for e in list_all(srv.url, "b1", max_=2)] == want
    status, page = debug_list(srv.url, "b1", prefix=f"{BUCKET}/a")
    assert status == 200, page
    assert [e["key"] for e in page["entries"]] == [k for k in want if k.startswith(f"{BUCKET}/a")]
    for e in page["entries"]:
        assert e["size"] == len(bodies[e["key"].split("/", 1)[1].rsplit("#", 1)[0]])
