#!/usr/bin/python3
"""A local stand-in for CloudWatch's PutMetricData that checks SigV4, for tests.

Each POST is signed again by botocore (SigV4Auth, service "monitoring")
with the same keys, region, time (the request's X-Amz-Date) and signed
headers; a matching Authorization gets 200 and its form body appended to
LOG as one line of JSON, anything else 403 with the expected value.

usage: cloudwatch_stub.py PORT REGION ACCESS_KEY SECRET_KEY LOG
"""
import datetime
import http.server
import json
import sys
import types
import urllib.parse

from botocore import auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import stubhttp

PORT, REGION, AK, SK, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
when = {"t": None}


class FixedClock(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return when["t"]


# botocore reads the clock through `datetime.datetime.utcnow()` in auth.py
auth.datetime = types.SimpleNamespace(datetime=FixedClock)


class Stub(stubhttp.Handler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        when["t"] = datetime.datetime.strptime(self.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        names = ["content-type", "x-amz-date", "x-amz-security-token"]
        headers = {n: self.headers[n] for n in names if self.headers.get(n) is not None}
        req = AWSRequest(method="POST", url="http://%s%s" % (self.headers["Host"], self.path),
                         data=body, headers=headers)
        auth.SigV4Auth(Credentials(AK, SK), "monitoring", REGION).add_auth(req)
        want = req.headers["Authorization"]
        if self.headers.get("Authorization") != want:
            self.reply(403, "SignatureDoesNotMatch: want %s" % want)
            return
        with open(LOG, "a") as f:
            f.write(json.dumps(dict(urllib.parse.parse_qsl(body.decode()))) + "\n")
        self.reply(200, "<PutMetricDataResponse/>")


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Stub).serve_forever()
