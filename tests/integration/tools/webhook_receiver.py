"""A webhook receiver for the tests: logs every request as one JSON line
(time, path, headers with lowercase names, body) to LOG, and answers as
the path says:

  /ok/...         200
  /flaky/N/...    500 to the first N requests of each webhook-id, then 200
  /gone/...       410
  /slow/S/...     waits S seconds (after logging), then 200

Usage: webhook_receiver.py PORT LOG
"""
import http.server
import json
import sys
import threading
import time

LOG = sys.argv[2]
lock = threading.Lock()
seen = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        parts = self.path.strip("/").split("/")
        key = (self.path, headers.get("webhook-id"))
        with lock:
            seen[key] = seen.get(key, 0) + 1
            count = seen[key]
            with open(LOG, "a") as f:
                f.write(json.dumps({"t": time.time(), "path": self.path,
                                    "headers": headers, "body": body}) + "\n")
        status = 200
        if parts[0] == "flaky" and count <= int(parts[1]):
            status = 500
        elif parts[0] == "gone":
            status = 410
        elif parts[0] == "slow":
            time.sleep(float(parts[1]))
        data = b"{}"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:
            pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
