"""The PostgreSQL metadata store going away and coming back under load (issues #6 O7 and #7): while the server is
down, reads are served in degraded mode and writes and listings fail cleanly with 503; once it is back, s3orch
reconnects by itself — no restart — and everything written before is there. The server is a private one
(scripts/pg-start), so stopping it disturbs no other test."""

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import REPO, scaled
from s3env import BUCKET, error_of, make_client

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name)


class PrivatePg:
    """scripts/pg-start's server, with stop() and start() on the same data dir and port."""

    def __init__(self):
        out = subprocess.run([str(REPO / "scripts" / "pg-start")], check=True, capture_output=True, text=True).stdout
        self.dsn = re.search(r"S3ORCH_TEST_PG_DSN='([^']*)'", out).group(1)
        self.dir = re.search(r"S3ORCH_PG_DIR='([^']*)'", out).group(1)
        self.port = re.search(r"port=(\d+)", self.dsn).group(1)
        self.bin = PG_BIN[-1]

    def _pg_ctl(self, *args):
        cmd = [str(self.bin / "pg_ctl"), "-D", f"{self.dir}/data", *args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def stop(self):
        self._pg_ctl("-m", "fast", "-w", "-t", "30", "stop")

    def start(self):
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        self._pg_ctl("-l", f"{self.dir}/server.log", "-o", opts, "-w", "-t", "30", "start")

    def destroy(self):
        subprocess.run([str(REPO / "scripts" / "pg-start"), "--stop", self.dir], capture_output=True)


@pytest.fixture
def private_pg():
    if not PG_BIN or not shutil.which("psql"):
        pytest.skip("PostgreSQL is not installed (scripts/setup installs it)")
    pg = PrivatePg()
    yield pg
    pg.destroy()


def write_pg_config(tmp_path, dsn):
    cfg = tmp_path / "s3orch.yaml"
    cfg.write_text(f"""
server:
  listen_addr: "127.0.0.1:0"
database:
  driver: postgres
  dsn: "{dsn}"
buckets:
  - name: {BUCKET}
    credentials:
      - access_key_id: AKIDRW0000000000
        secret_access_key: "rw-secret-0000000000000000000000000000"
        permission: read-write
backends:
  - {{ name: disk1, type: fs, path: {tmp_path}/disk1 }}
  - {{ name: disk2, type: fs, path: {tmp_path}/disk2 }}
routing_strategy: spread
circuit_breaker: {{ failure_threshold: 2, open_timeout: 1s, cache_ttl: 60s, parallel_broadcast: true }}
""")
    return cfg


CRED = ("AKIDRW0000000000", "rw-secret-0000000000000000000000000000")


def test_store_outage_under_load(server, tmp_path, private_pg):
    srv = server("--config", str(write_pg_config(tmp_path, private_pg.dsn)), "--threads", "2", listen=None)
    s3 = make_client(srv.url, CRED)
    data = {f"pg/{i}": os.urandom(1000 + i) for i in range(20)}
    for k, v in data.items():
        s3.put_object(Bucket=BUCKET, Key=k, Body=v)

    # Readers run through the whole outage: every answer is the object or a clean 503, never a 500 or a hang.
    stop = threading.Event()
    seen, bad = [], []

    def reader(n):
        c = make_client(srv.url, CRED)
        keys = list(data)
        i = n
        while not stop.is_set():
            k = keys[i % len(keys)]
            i += 1
            try:
                ok = c.get_object(Bucket=BUCKET, Key=k)["Body"].read() == data[k]
                status = 200 if ok else "wrong bytes"
            except ClientError as e:
                status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            except Exception as e:  # noqa: BLE001  (a reset or a timeout is a failure too)
                status = repr(e)
            seen.append(status)
            if status not in (200, 503):
                bad.append((k, status))
            time.sleep(0.01)

    threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        private_pg.stop()
        # Down: reads go on (cache or broadcast); writes and listings fail cleanly.
        for k in ("pg/0", "pg/7"):
            assert s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() == data[k]
        assert error_of(lambda: s3.put_object(Bucket=BUCKET, Key="pg/new", Body=b"x"))[1] == 503
        assert error_of(lambda: s3.list_objects_v2(Bucket=BUCKET))[1] == 503
        time.sleep(1.0)
        private_pg.start()
        deadline = time.monotonic() + scaled(30)
        while error_of(lambda: s3.put_object(Bucket=BUCKET, Key="pg/new", Body=b"x"))[0] is not None:
            assert time.monotonic() < deadline, "s3orch did not reconnect to PostgreSQL after it came back"
            time.sleep(0.25)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=scaled(30))
    assert not bad, bad[:5]
    assert seen.count(200) > 0, "no read succeeded"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="pg/")["Contents"]]
    assert sorted(keys) == sorted(list(data) + ["pg/new"])
    for k in ("pg/3", "pg/19"):
        assert s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() == data[k]
