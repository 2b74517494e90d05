#!/usr/bin/python3
"""A local stand-in for the EC2 instance metadata service (IMDSv2), for tests.

PUT /latest/api/token (with X-aws-ec2-metadata-token-ttl-seconds) gives a
session token; the credential paths refuse requests without it (401).
Each fetch of the role's credentials hands out the next key pair of KEYS
(ACCESS:SECRET,...; round robin) with an Expiration LIFETIME seconds
ahead, and appends "EPOCH ACCESS_KEY EXPIRATION_EPOCH" to LOG.

usage: imds_stub.py PORT LIFETIME KEYS LOG
"""
import http.server
import itertools
import json
import sys
import threading
import time

import stubhttp

PORT, LIFETIME, LOG = int(sys.argv[1]), float(sys.argv[2]), sys.argv[4]
KEYS = itertools.cycle([k.split(":", 1) for k in sys.argv[3].split(",")])
TOKEN = "stub-imds-token"
ROLE = "showcase-worker"
lock = threading.Lock()


class Imds(stubhttp.Handler):
    def do_PUT(self):
        if self.path != "/latest/api/token" or \
                not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(400, "bad token request")
        self.reply(200, TOKEN)

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self.reply(401, "")
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            return self.reply(200, ROLE)
        if self.path != base + ROLE:
            return self.reply(404, "")
        with lock:
            access, secret = next(KEYS)
            now = time.time()
            expires = int(now + LIFETIME)
            with open(LOG, "a", encoding="utf-8") as f:
                f.write("%.3f %s %d\n" % (now, access, expires))
        self.reply(200, json.dumps({
            "Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": access,
            "SecretAccessKey": secret, "Token": "token-for-" + access,
            "Expiration": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
        }))


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Imds).serve_forever()
