"""A minimal SigV4 signer for GET requests, independent of botocore: for what real clients will not send (a
skewed clock, a virtual-host Host header on a loopback address)."""

import hashlib
import hmac
import urllib.error
import urllib.request


def signed_get(base_url, host, path, cred, when, region="us-east-1"):
    """GETs base_url + path with a Host header of `host`, signed with cred (key id, secret) at `when` (an aware
    datetime). Returns (status, body)."""
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    payload = hashlib.sha256(b"").hexdigest()
    headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    creq = "\n".join(["GET", path, "", "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed, payload])
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = ("AWS4" + cred[1]).encode()
    for part in (amz_date[:8], region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = f"AWS4-HMAC-SHA256 Credential={cred[0]}/{scope}, SignedHeaders={signed}, Signature={sig}"
    req = urllib.request.Request(base_url + path, headers={k.title(): v for k, v in headers.items()})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
