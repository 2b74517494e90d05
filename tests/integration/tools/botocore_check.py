#!/usr/bin/python3
"""Cross-check the project's SigV4 signer against botocore's, byte for byte.

Generates N random S3 requests (seeded: keys with unicode, spaces and
reserved characters, query parameters, extra headers, session tokens,
HTTP and HTTPS, dates and regions), signs each with botocore's
S3SigV4Auth (Authorization header) and S3SigV4QueryAuth (presigned URL),
and N random browser-based POST policies with S3SigV4PostAuth (what
generate_presigned_post signs with), runs the same through SIGNER (a
program reading JSON lines), and prints every mismatch.  Exit 0 when all
of them are equal.

usage: botocore_check.py SIGNER N SEED
"""
import datetime
import json
import random
import subprocess
import sys
import types

import botocore.auth as auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence

SIGNER, N, SEED = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(SEED)

ALPHABET = ("abcXYZ019-_.~ +=&$@,;:?#%!*'()[]\"<>{}|^`\\" +
            "é", "ñ", "ß", "ビデオ", "😀", "Ω", "ü")
ALPHABET = list(ALPHABET[0]) + list(ALPHABET[1:])


class FixedClock(datetime.datetime):
    now_value = None

    @classmethod
    def utcnow(cls):
        return cls.now_value


# botocore reads the clock through `datetime.datetime.utcnow()` in auth.py
auth.datetime = types.SimpleNamespace(datetime=FixedClock)


def text(lo, hi):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(lo, hi)))


def request(i):
    bucket = "showcase"
    key = "/".join(text(1, 10) for _ in range(rng.randint(1, 4)))
    scheme = rng.choice(["http", "https"])
    host = rng.choice(["127.0.0.1:9000", "s3.eu-west-1.amazonaws.com",
                       bucket + ".s3.us-east-1.amazonaws.com", "localhost:59000"])
    path = ("/" + bucket + "/" + key) if rng.random() < 0.5 else "/" + key
    names = ["uploadId", "partNumber", "prefix", "list-type", "response-content-type",
             "x-id", "a b", "ü", "continuation-token", "delimiter"]
    params = [(n, text(0, 12)) for n in rng.sample(names, rng.randint(0, 4))]
    headers = []
    if rng.random() < 0.4:
        headers.append(("Content-Type", rng.choice(["video/mp4", "application/xml",
                                                     "image/jpeg; charset=binary"])))
    if rng.random() < 0.3:
        headers.append(("Range", "bytes=%d-%d" % (rng.randint(0, 99), rng.randint(100, 10**9))))
    if rng.random() < 0.3:
        headers.append(("x-amz-meta-title", "  %s   %s  " % (text(1, 5), text(1, 5))))
    token = None
    if rng.random() < 0.5:
        token = "".join(rng.choice("ABCdef0123456789+/=") for _ in range(rng.randint(20, 300)))
    body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
    when = datetime.datetime(2020, 1, 1) + datetime.timedelta(seconds=rng.randint(0, 10**9 // 3))
    return {
        "method": rng.choice(["GET", "PUT", "HEAD", "DELETE", "POST"]),
        "scheme": scheme, "host": host, "path_decoded": path, "params": params,
        "headers": headers, "token": token, "body": body,
        "region": rng.choice(["us-east-1", "eu-west-1", "ap-southeast-2"]),
        "when": when, "expires": rng.randint(1, 604800),
        "access_key": "AKIA" + "".join(rng.choice("ABCDEFGHIJ0123456789") for _ in range(16)),
        "secret_key": "".join(rng.choice("abcdefABCDEF0123456789+/") for _ in range(40)),
    }


def botocore_sign(r, mode):
    FixedClock.now_value = r["when"]
    creds = Credentials(r["access_key"], r["secret_key"], r["token"])
    url = "%s://%s%s" % (r["scheme"], r["host"], percent_encode(r["path_decoded"], safe="/~"))
    params = r["params"]
    if mode == "query":
        params = list(dict(params).items())  # botocore presigns a dict
    if params:
        url += "?" + percent_encode_sequence(params)
    req = AWSRequest(method=r["method"], url=url, data=r["body"] if mode == "header" else b"")
    req.headers["Host"] = r["host"]
    for name, value in r["headers"]:
        req.headers[name] = value
    if mode == "header":
        auth.S3SigV4Auth(creds, "s3", r["region"]).add_auth(req)
        return req.headers["Authorization"], req, params
    auth.S3SigV4QueryAuth(creds, "s3", r["region"], expires=r["expires"]).add_auth(req)
    return req.url, req, params


def our_input(r, mode, req, params):
    d = {"mode": mode, "method": r["method"], "scheme": r["scheme"], "host": r["host"],
         "path": r["path_decoded"], "query": [list(p) for p in params],
         "region": r["region"], "when": int((r["when"] - datetime.datetime(1970, 1, 1)).total_seconds()),
         "access_key": r["access_key"], "secret_key": r["secret_key"],
         "token": r["token"] or "", "expires": r["expires"]}
    if mode == "header":
        d["headers"] = [[k, v] for k, v in req.headers.items()
                        if k.lower() not in ("authorization", "host")]
        if req.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD":
            d["payload_hash"] = "UNSIGNED-PAYLOAD"
        else:
            d["body_hex"] = r["body"].hex()
        d["payload_hash_botocore"] = req.headers["X-Amz-Content-SHA256"]
    else:
        d["headers"] = [[k, v] for k, v in req.headers.items() if k.lower() != "host"]
        d["payload_hash"] = "UNSIGNED-PAYLOAD"
    return d


cases = []
for i in range(N):
    r = request(i)
    for mode in ("header", "query"):
        if mode == "query":
            r["headers"] = []  # a presigned URL signs the host only
        want, req, params = botocore_sign(r, mode)
        cases.append((mode, want, our_input(r, mode, req, params)))

def post_case(i):
    """A random POST policy signed by botocore: (want, our input)."""
    when = datetime.datetime(2015 + rng.randint(0, 15), rng.randint(1, 12), rng.randint(1, 28),
                             rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
    FixedClock.now_value = when
    region = rng.choice(["us-east-1", "eu-west-1", "sa-east-1", "ap-northeast-1"])
    creds = Credentials("AKID" + str(i), text(10, 40), rng.choice([None, text(5, 60)]))
    conditions = [{"bucket": "showcase"}, {"key": "originals/" + text(1, 20)},
                  ["starts-with", "$Content-Type", rng.choice(["video/", "", text(0, 5)])],
                  ["content-length-range", rng.randint(0, 10), rng.randint(11, 1 << 33)]]
    rng.shuffle(conditions)
    req = AWSRequest(method="POST", url="https://s3.amazonaws.com/showcase")
    req.context["s3-presign-post-fields"] = {"key": "originals/x"}
    req.context["s3-presign-post-policy"] = {
        "expiration": (when + datetime.timedelta(seconds=rng.randint(1, 86400)))
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "conditions": conditions}
    auth.S3SigV4PostAuth(creds, "s3", region).add_auth(req)
    fields = req.context["s3-presign-post-fields"]
    return fields["x-amz-signature"], {
        "mode": "post", "policy": fields["policy"], "region": region,
        "when": int((when - datetime.datetime(1970, 1, 1)).total_seconds()),
        "access_key": creds.access_key, "secret_key": creds.secret_key}


for i in range(N):
    want, inp = post_case(i)
    cases.append(("post", want, inp))

proc = subprocess.run([SIGNER], input="".join(json.dumps(c[2]) + "\n" for c in cases),
                      capture_output=True, text=True)
got = proc.stdout.split("\n")
bad = 0
for (mode, want, inp), ours in zip(cases, got):
    if ours != want:
        bad += 1
        if bad <= 5:
            print("MISMATCH (%s)\n  input:    %s\n  botocore: %s\n  ours:     %s"
                  % (mode, json.dumps(inp, ensure_ascii=False), want, ours))
headers = sum(1 for c in cases if c[0] == "header")
posts = sum(1 for c in cases if c[0] == "post")
print("%d requests (seed %d): %d Authorization headers, %d presigned URLs and %d POST "
      "policies compared, %d differ" % (N, SEED, headers, len(cases) - headers - posts, posts, bad))
sys.exit(1 if bad or proc.returncode else 0)
