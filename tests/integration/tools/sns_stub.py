#!/usr/bin/python3
"""A local stand-in for SNS's Publish (query API) that checks SigV4, for tests.

Each POST is signed again by botocore (SigV4Auth, service "sns") with the
same keys, region, time (the request's X-Amz-Date) and signed headers; a
mismatch is answered 403 SignatureDoesNotMatch (an AWS ErrorResponse) and
recorded as {"t", "status": 403, "error": "SignatureDoesNotMatch"}.  A request with a valid signature is appended to LOG
as one line of JSON: {"t": time, "status": the answer, "form": the decoded
form}.  Its answer is the first line of PLAN, which is removed (a status:
500, 400 Throttling, ...), or 200 with a PublishResponse when PLAN is
empty or missing; a signed request that is not a Publish with a TopicArn
and a Message is answered 400 InvalidParameter.

usage: sns_stub.py PORT REGION ACCESS_KEY SECRET_KEY LOG PLAN
"""
import datetime
import http.server
import json
import os
import sys
import threading
import time
import types
import urllib.parse
import uuid

from botocore import auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import stubhttp

PORT, REGION, AK, SK, LOG, PLAN = (int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4],
                                   sys.argv[5], sys.argv[6])
when = {"t": None}
lock = threading.Lock()  # the fixed clock and the plan are shared


class FixedClock(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return when["t"]


# botocore reads the clock through `datetime.datetime.utcnow()` in auth.py
auth.datetime = types.SimpleNamespace(datetime=FixedClock)

ERROR = ('<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error>'
         '<Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>'
         '<RequestId>%s</RequestId></ErrorResponse>')
OK = ('<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>'
      '<MessageId>%s</MessageId></PublishResult><ResponseMetadata><RequestId>%s</RequestId>'
      '</ResponseMetadata></PublishResponse>')
CODES = {400: ("Sender", "Throttling", "Rate exceeded"),
         403: ("Sender", "AuthorizationError", "not authorized"),
         404: ("Sender", "NotFound", "Topic does not exist"),
         500: ("Receiver", "InternalError", "internal error")}


def next_status():
    try:
        with open(PLAN) as f:
            lines = f.read().split()
    except FileNotFoundError:
        return 200
    if not lines:
        return 200
    with open(PLAN + ".tmp", "w") as f:
        f.write("".join(x + "\n" for x in lines[1:]))
    os.replace(PLAN + ".tmp", PLAN)
    return int(lines[0])


class Stub(stubhttp.Handler):
    def error(self, status, kind, code, message):
        self.reply(status, ERROR % (kind, code, message, uuid.uuid4()),
                   [("Content-Type", "text/xml")])

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        names = ["content-type", "x-amz-date", "x-amz-security-token"]
        headers = {n: self.headers[n] for n in names if self.headers.get(n) is not None}
        with lock:
            try:
                when["t"] = datetime.datetime.strptime(self.headers["X-Amz-Date"],
                                                       "%Y%m%dT%H%M%SZ")
            except (KeyError, TypeError, ValueError):
                self.error(403, "Sender", "MissingAuthenticationToken", "no X-Amz-Date")
                return
            req = AWSRequest(method="POST", url="http://%s%s" % (self.headers["Host"], self.path),
                             data=body, headers=headers)
            auth.SigV4Auth(Credentials(AK, SK), "sns", REGION).add_auth(req)
            want = req.headers["Authorization"]
            if self.headers.get("Authorization") != want:
                with open(LOG, "a") as f:
                    f.write(json.dumps({"t": time.time(), "status": 403,
                                        "error": "SignatureDoesNotMatch"}) + "\n")
                self.error(403, "Sender", "SignatureDoesNotMatch",
                           "The request signature we calculated does not match: want %s" % want)
                return
            form = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
            valid = (form.get("Action") == "Publish" and form.get("Version") == "2010-03-31"
                     and form.get("TopicArn") and form.get("Message"))
            status = next_status() if valid else 400
            with open(LOG, "a") as f:
                f.write(json.dumps({"t": time.time(), "status": status, "form": form}) + "\n")
        if not valid:
            self.error(400, "Sender", "InvalidParameter", "not a Publish")
        elif status == 200:
            self.reply(200, OK % (uuid.uuid4(), uuid.uuid4()), [("Content-Type", "text/xml")])
        else:
            self.error(status, *CODES.get(status, ("Receiver", "ServiceUnavailable",
                                                   "unavailable")))

    def do_GET(self):
        self.reply(200, "sns stub\n")


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Stub).serve_forever()
