#!/usr/bin/python3
"""Recording HTTP proxy in front of the local S3 server, for tests.

Forwards every request unchanged (Host header included, so signatures
still verify upstream) and appends one line per request to LOG:

    EPOCH METHOD PATH?QUERY STATUS ACCESS_KEY_ID

--fail-part N answers UploadPart number N itself with a permanent error
(HTTP 400, InvalidRequest), to make a multipart upload fail part-way.
--delay-get PREFIX SECONDS holds every GET of a key under PREFIX that long
before relaying it (a slow S3, as a worker sees it during a download).
--delay-all SECONDS holds every request that long, once its body is in,
before relaying it (an S3 that stalls everyone).

usage: s3_proxy.py PORT UPSTREAM_PORT LOG [--fail-part N]
                   [--delay-get PREFIX SECONDS] [--delay-all SECONDS]
"""
import http.client
import http.server
import re
import sys
import threading
import time

PORT, UPSTREAM, LOG = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
FAIL_PART = sys.argv[sys.argv.index("--fail-part") + 1] if "--fail-part" in sys.argv else None
DELAY = None
if "--delay-get" in sys.argv:
    i = sys.argv.index("--delay-get")
    DELAY = (sys.argv[i + 1], float(sys.argv[i + 2]))
DELAY_ALL = float(sys.argv[sys.argv.index("--delay-all") + 1]) if "--delay-all" in sys.argv else 0
lock = threading.Lock()


def record(line):
    with lock, open(LOG, "a", encoding="utf-8") as f:
        f.write(line + "\n")


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def relay(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        started = time.time()
        auth = self.headers.get("Authorization", "")
        m = re.search(r"Credential=([^/]+)/", auth)
        akid = m.group(1) if m else "-"
        if FAIL_PART and self.command == "PUT" and re.search(
                r"[?&]partNumber=%s(&|$)" % FAIL_PART, self.path):
            payload = (b'<?xml version="1.0" encoding="UTF-8"?><Error>'
                       b"<Code>InvalidRequest</Code><Message>injected failure"
                       b"</Message></Error>")
            self.send_response(400)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            record("%.3f %s %s %d %s" % (started, self.command, self.path, 400, akid))
            return
        if DELAY_ALL:
            time.sleep(DELAY_ALL)
        if DELAY and self.command == "GET" and \
                self.path.split("?")[0].split("/", 2)[-1].startswith(DELAY[0]):
            time.sleep(DELAY[1])
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        conn.putrequest(self.command, self.path, skip_host=True,
                        skip_accept_encoding=True)
        for name, value in self.headers.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for name, value in resp.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()
        record("%.3f %s %s %d %s" % (started, self.command, self.path, resp.status, akid))

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = relay


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Proxy).serve_forever()
