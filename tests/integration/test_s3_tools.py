"""Real tools against s3orch (S6–S9, S13 through the clients people use): aws cli `s3 cp` of a big file
(multipart up, ranged GETs down), `s3 sync` of a tree (and a second sync that uploads nothing), `s3 ls`, `s3 rm
--recursive`; s3cmd put/get/ls/sync/del; rclone copy/ls/check/sync.

Sizes shrink under valgrind (S3ORCH_WRAPPER): the 200 MiB file to 24 MiB, the 500-file tree to 60 files. Every
subprocess has a timeout and runs without proxy variables. Each test skips while a call it needs answers 501.
"""

import hashlib
import json
import os
import random
import subprocess
import time
from pathlib import Path

from conftest import scaled
from s3env import (  # noqa: F401  (fixtures)
    BUCKET, MIB, RW, cli_env, env, error_of, heavy, module_env_fixture, tool,
)

BIG = heavy(200 * MIB, 24 * MIB)
N_FILES = heavy(500, 60)


def run(cmd, env_vars, timeout, ok=True):
    r = subprocess.run([str(c) for c in cmd], env=env_vars, capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    out, err = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
    if ok:
        assert r.returncode == 0, f"{cmd[0]} {cmd[1:4]} exited {r.returncode}\n--- stdout ---\n{out[-4000:]}\n" \
                                  f"--- stderr ---\n{err[-4000:]}"
    return out, err, r.returncode


def write_random(path, size, chunk=4 * MIB):
    """Writes size random bytes; returns (sha256 hex, [md5 of each 8 MiB piece])."""
    h, md5s, piece = hashlib.sha256(), [], hashlib.md5()
    in_piece = 0
    with open(path, "wb") as f:
        left = size
        while left:
            b = os.urandom(min(chunk, left))
            f.write(b)
            h.update(b)
            left -= len(b)
            # 8 MiB pieces are a multiple of the 4 MiB chunk.
            piece.update(b)
            in_piece += len(b)
            if in_piece == 8 * MIB or not left:
                md5s.append(piece.digest())
                piece, in_piece = hashlib.md5(), 0
    return h.hexdigest(), md5s


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(4 * MIB), b""):
            h.update(b)
    return h.hexdigest()


def make_tree(root, n, seed=4):
    """n small files in nested directories (a few with spaces and non-ASCII names), last modified an hour ago;
    returns {relative path: bytes}. (`aws s3 sync` uploads a file whose mtime is later than the object's
    LastModified, which S3 gives in whole seconds: files written in the second of their upload would go again.)"""
    rnd = random.Random(seed)
    past = time.time() - 3600
    files = {}
    for i in range(n):
        if i % 50 == 7:
            rel = f"d{i % 10}/with space ü {i}.txt"
        else:
            rel = f"d{i % 10}/e{i % 7}/f{i:04d}.txt"
        data = rnd.randbytes(rnd.randrange(1, 3000) if i != 5 else 0)  # one empty file
        p = Path(root) / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        os.utime(p, (past, past))
        files[rel] = data
    return files


def read_tree(root):
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def keys_under(s3, prefix):
    out, token = [], None
    for _ in range(1000):
        kw = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix, **kw)
        out += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            return out
        token = page["NextContinuationToken"]
    raise AssertionError("listing did not end")


# --- boto3's connection reuse ---------------------------------------------------------------------------------------

def test_boto3_connection_reuse_after_empty_put(env):
    """boto3 sends `Expect: 100-continue` on every PutObject, an empty body included. When a final answer comes
    without a 100 Continue, botocore 1.43 keeps that status line for the connection's next Expect request and parses
    the next answer's status line as a header, reading until the server closes. So an answer without 100 Continue
    that keeps the connection alive breaks the next PutObject on it: answer 100 Continue, or close the connection.
    (Sync tools meet this with any empty file.)"""
    s3 = env.client(max_pool_connections=1, read_timeout=scaled(15))
    s3.put_object(Bucket=BUCKET, Key="keepalive/empty", Body=b"")
    s3.put_object(Bucket=BUCKET, Key="keepalive/after-empty", Body=b"next on the same connection")
    assert s3.get_object(Bucket=BUCKET, Key="keepalive/after-empty")["Body"].read() == b"next on the same connection"
    # An early error on an empty body, then a PutObject with a body on the same connection.
    if not env.is_moto:  # moto has no key length limit
        code, status = error_of(lambda: s3.put_object(Bucket=BUCKET, Key="k" * 1025, Body=b""))
        assert (code, status) == ("KeyTooLongError", 400)
    s3.put_object(Bucket=BUCKET, Key="keepalive/after-error", Body=b"x")
    assert s3.head_object(Bucket=BUCKET, Key="keepalive/after-error")["ContentLength"] == 1


# --- aws cli --------------------------------------------------------------------------------------------------------

def aws(env_, tmp, *args, timeout=300, ok=True):
    tool("aws")
    vars_ = cli_env({
        "AWS_ACCESS_KEY_ID": RW[0], "AWS_SECRET_ACCESS_KEY": RW[1], "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(Path(tmp) / "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": str(Path(tmp) / "none"),
        "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard", "AWS_PAGER": "",
    })
    return run(["aws", "--endpoint-url", env_.url, "--cli-read-timeout", str(int(scaled(30))), *args], vars_,
               scaled(timeout), ok)


def test_aws_s3_cp_big_file(env, tmp_path):
    env.require("Multipart")
    src, dst = tmp_path / "big.bin", tmp_path / "big.out"
    digest, md5s = write_random(src, BIG)
    aws(env, tmp_path, "s3", "cp", src, f"s3://{BUCKET}/cli/big file.bin", "--only-show-errors", timeout=900)
    head = env.client().head_object(Bucket=BUCKET, Key="cli/big file.bin")
    assert head["ContentLength"] == BIG
    want_etag = '"%s-%d"' % (hashlib.md5(b"".join(md5s)).hexdigest(), len(md5s))
    assert head["ETag"] == want_etag, "aws cli uploads 8 MiB parts: md5-of-md5s-N"
    src.unlink()  # keep the disk use at one copy
    aws(env, tmp_path, "s3", "cp", f"s3://{BUCKET}/cli/big file.bin", dst, "--only-show-errors", timeout=900)
    assert dst.stat().st_size == BIG and file_sha(dst) == digest, "downloaded bytes identical"


def test_aws_s3_sync_ls_rm(env, tmp_path):
    env.require("ListObjectsV2", "ListObjects")
    s3 = env.client()
    tree = tmp_path / "tree"
    files = make_tree(tree, N_FILES)
    prefix = "sync/"
    out, _, _ = aws(env, tmp_path, "s3", "sync", tree, f"s3://{BUCKET}/{prefix}", "--no-progress", timeout=900)
    uploads = [ln for ln in out.splitlines() if ln.startswith("upload:")]
    assert len(uploads) == len(files), f"{len(uploads)} uploads for {len(files)} files"
    assert sorted(keys_under(s3, prefix)) == sorted(prefix + k for k in files)

    out, _, _ = aws(env, tmp_path, "s3", "sync", tree, f"s3://{BUCKET}/{prefix}", "--no-progress", timeout=900)
    again = [ln for ln in out.splitlines() if ln.startswith("upload:")]
    assert again == [], f"a second sync uploads nothing, got {again[:5]}"

    changed = sorted(files)[3]
    (tree / changed).write_bytes(b"changed, and of another size than before" * 101)
    out, _, _ = aws(env, tmp_path, "s3", "sync", tree, f"s3://{BUCKET}/{prefix}", "--no-progress")
    ups = [ln for ln in out.splitlines() if ln.startswith("upload:")]
    assert len(ups) == 1 and ups[0].endswith(f" to s3://{BUCKET}/{prefix}{changed}"), ups

    down = tmp_path / "down"
    aws(env, tmp_path, "s3", "sync", f"s3://{BUCKET}/{prefix}", down, "--no-progress", timeout=900)
    assert read_tree(down) == read_tree(tree), "a sync down gives back the tree"

    out, _, _ = aws(env, tmp_path, "s3", "ls", "--recursive", f"s3://{BUCKET}/{prefix}")
    lines = [ln for ln in out.splitlines() if ln.strip()]
    listed = {ln.split(None, 3)[3]: int(ln.split(None, 3)[2]) for ln in lines}
    assert len(lines) == len(files)
    assert listed == {prefix + k: len((tree / k).read_bytes()) for k in files}, "ls --recursive: keys and sizes"

    out, _, _ = aws(env, tmp_path, "s3", "ls", f"s3://{BUCKET}/{prefix}")
    pre = sorted(ln.split()[-1] for ln in out.splitlines() if ln.strip().startswith("PRE"))
    assert pre == [f"d{i}/" for i in range(10)], "ls without --recursive shows the directories"

    out, _, _ = aws(env, tmp_path, "s3", "rm", "--recursive", f"s3://{BUCKET}/{prefix}", "--only-show-errors",
                    timeout=900)
    assert keys_under(s3, prefix) == [], "rm --recursive leaves nothing"
    out, _, _ = aws(env, tmp_path, "s3", "ls", "--recursive", f"s3://{BUCKET}/{prefix}", ok=False)
    assert out.strip() == ""


def test_aws_s3_ls_buckets(env, tmp_path):
    env.require("ListBuckets")
    out, _, _ = aws(env, tmp_path, "s3", "ls")
    assert BUCKET in [ln.split()[-1] for ln in out.splitlines() if ln.strip()]


def test_aws_s3api_list_objects_v2_pagination(env, tmp_path):
    env.require("ListObjectsV2")
    s3 = env.client()
    for i in range(23):
        s3.put_object(Bucket=BUCKET, Key=f"api/{i:02d}", Body=b"x")
    out, _, _ = aws(env, tmp_path, "--output", "json", "s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix",
                    "api/", "--page-size", "5")
    got = [o["Key"] for o in json.loads(out)["Contents"]]
    assert got == [f"api/{i:02d}" for i in range(23)], "the cli follows continuation tokens"


# --- s3cmd ----------------------------------------------------------------------------------------------------------

def s3cmd(env_, tmp, *args, timeout=300, ok=True):
    tool("s3cmd")
    cfg = Path(tmp) / "s3cfg"
    if not cfg.exists():
        cfg.write_text(
            "[default]\n"
            f"access_key = {RW[0]}\n"
            f"secret_key = {RW[1]}\n"
            f"host_base = 127.0.0.1:{env_.port}\n"
            f"host_bucket = 127.0.0.1:{env_.port}\n"
            "bucket_location = us-east-1\n"
            "use_https = False\n"
            "signature_v2 = False\n"
            "check_ssl_certificate = False\n"
            "proxy_host = \n"
            "proxy_port = 0\n"
            "multipart_chunk_size_mb = 5\n"
            "progress_meter = False\n"
        )
    return run(["s3cmd", "-c", cfg, "--no-progress", *args], cli_env({"HOME": str(tmp)}), scaled(timeout), ok)


def s3cmd_keys(out):
    """The s3:// URLs in `s3cmd ls` output (keys may hold spaces: everything from s3:// to the line end)."""
    return sorted(ln[ln.index("s3://"):] for ln in out.splitlines()
                  if "s3://" in ln and not ln.strip().startswith("DIR"))


def test_s3cmd_put_get_ls(env, tmp_path):
    env.require("ListObjects", "ListObjectsV2")
    small, big = tmp_path / "small.txt", tmp_path / "big.bin"
    small.write_bytes(b"hello s3cmd\n")
    digest, _ = write_random(big, 12 * MIB + 5)
    s3cmd(env, tmp_path, "put", small, f"s3://{BUCKET}/s3cmd/small file.txt")
    env.require("Multipart")
    s3cmd(env, tmp_path, "put", big, f"s3://{BUCKET}/s3cmd/big.bin")  # 5 MiB multipart chunks
    head = env.client().head_object(Bucket=BUCKET, Key="s3cmd/big.bin")
    assert head["ContentLength"] == 12 * MIB + 5 and head["ETag"].endswith('-3"'), head["ETag"]

    out, _, _ = s3cmd(env, tmp_path, "ls", f"s3://{BUCKET}/s3cmd/")
    assert s3cmd_keys(out) == [f"s3://{BUCKET}/s3cmd/big.bin", f"s3://{BUCKET}/s3cmd/small file.txt"]
    s3cmd(env, tmp_path, "get", f"s3://{BUCKET}/s3cmd/small file.txt", tmp_path / "small.out")
    s3cmd(env, tmp_path, "get", f"s3://{BUCKET}/s3cmd/big.bin", tmp_path / "big.out")
    assert (tmp_path / "small.out").read_bytes() == b"hello s3cmd\n"
    assert file_sha(tmp_path / "big.out") == digest


def test_s3cmd_sync_and_recursive_delete(env, tmp_path):
    env.require("ListObjects", "ListObjectsV2")
    tree = tmp_path / "tree"
    files = make_tree(tree, 40, seed=7)
    s3cmd(env, tmp_path, "sync", f"{tree}/", f"s3://{BUCKET}/s3cmd-tree/", timeout=600)
    out, _, _ = s3cmd(env, tmp_path, "ls", "-r", f"s3://{BUCKET}/s3cmd-tree/")
    assert s3cmd_keys(out) == sorted(f"s3://{BUCKET}/s3cmd-tree/{k}" for k in files)
    out, _, _ = s3cmd(env, tmp_path, "sync", f"{tree}/", f"s3://{BUCKET}/s3cmd-tree/")
    assert not [ln for ln in out.splitlines() if "upload:" in ln], f"a second sync uploads nothing:\n{out}"
    down = tmp_path / "down"
    s3cmd(env, tmp_path, "sync", f"s3://{BUCKET}/s3cmd-tree/", f"{down}/", timeout=600)
    assert read_tree(down) == files
    env.require("DeleteObjects")
    s3cmd(env, tmp_path, "del", "--recursive", "--force", f"s3://{BUCKET}/s3cmd-tree/")
    assert keys_under(env.client(), "s3cmd-tree/") == []


# --- rclone ---------------------------------------------------------------------------------------------------------

def rclone(env_, tmp, *args, timeout=300, ok=True):
    tool("rclone")
    cfg = Path(tmp) / "rclone.conf"
    if not cfg.exists():
        cfg.write_text(
            "[s3o]\n"
            "type = s3\n"
            "provider = Other\n"
            "env_auth = false\n"
            f"access_key_id = {RW[0]}\n"
            f"secret_access_key = {RW[1]}\n"
            f"endpoint = http://127.0.0.1:{env_.port}\n"
            "region = us-east-1\n"
            "force_path_style = true\n"
        )
    return run(["rclone", "--config", cfg, "--retries", "1", "--low-level-retries", "1", "--contimeout",
                f"{int(scaled(10))}s", "--timeout", f"{int(scaled(60))}s", *args],
               cli_env({"HOME": str(tmp)}), scaled(timeout), ok)


def test_rclone_copy_ls_check_sync(env, tmp_path):
    env.require("ListObjects", "ListObjectsV2", "CreateBucket")
    tree = tmp_path / "tree"
    files = make_tree(tree, 40, seed=11)
    remote = f"s3o:{BUCKET}/rclone/tree"
    rclone(env, tmp_path, "copy", tree, remote, timeout=600)
    out, _, _ = rclone(env, tmp_path, "ls", remote)
    listed = {ln.strip().split(None, 1)[1]: int(ln.split()[0]) for ln in out.splitlines() if ln.strip()}
    assert listed == {k: len(v) for k, v in files.items()}, "rclone ls: paths and sizes"
    rclone(env, tmp_path, "check", tree, remote)  # sizes and MD5s (single-part ETags) agree
    down = tmp_path / "down"
    rclone(env, tmp_path, "copy", remote, down, timeout=600)
    assert read_tree(down) == files

    gone = sorted(files)[0]
    (tree / gone).unlink()
    rclone(env, tmp_path, "sync", tree, remote, timeout=600)
    keys = keys_under(env.client(), "rclone/tree/")
    assert sorted(keys) == sorted(f"rclone/tree/{k}" for k in files if k != gone), "sync removes the deleted file"
    rclone(env, tmp_path, "check", tree, remote)


def test_rclone_multipart(env, tmp_path):
    env.require("Multipart", "ListObjects", "ListObjectsV2", "CreateBucket")
    env.moto_differs("moto's Complete answers VersionId null, then moto refuses rclone's HEAD ?versionId=null")
    src = tmp_path / "up" / "big.bin"
    src.parent.mkdir()
    digest, _ = write_random(src, 12 * MIB + 1)
    rclone(env, tmp_path, "copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", src.parent,
           f"s3o:{BUCKET}/rclone/mp", timeout=600)
    head = env.client().head_object(Bucket=BUCKET, Key="rclone/mp/big.bin")
    assert head["ContentLength"] == 12 * MIB + 1 and head["ETag"].endswith('-3"'), head["ETag"]
    rclone(env, tmp_path, "check", src.parent, f"s3o:{BUCKET}/rclone/mp")  # rclone keeps the MD5 in metadata
    rclone(env, tmp_path, "copy", f"s3o:{BUCKET}/rclone/mp", tmp_path / "down", timeout=600)
    assert file_sha(tmp_path / "down" / "big.bin") == digest
