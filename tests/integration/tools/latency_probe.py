#!/usr/bin/python3
"""Time unrelated requests against the API while something else is slow.

Opens CONCURRENCY keep-alive connections and warms each with a request,
the way a load balancer or a browser holds its connections (so they are
spread over the server's event loops before anything stalls), writes
READY (a file) if given, waits for GO (a file) if given, then sends COUNT
requests over them, round robin over GET /health/live, GET
/api/public/rankings and POST /api/auth/login (EMAIL, PASSWORD; none when
EMAIL is "-"), one at a time per connection, each with a TIMEOUT-second
ceiling (a connection that fails is opened again).  Prints one JSON
object: how many were answered 200, the other outcomes, and the latency
percentiles overall and by path, in milliseconds.

usage: latency_probe.py PORT COUNT CONCURRENCY EMAIL PASSWORD
                        [--timeout S] [--ready FILE] [--go FILE]
"""
import http.client
import json
import math
import os
import sys
import threading
import time

port, count, conc = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
email, password = sys.argv[4], sys.argv[5]


def opt(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


timeout = float(opt("--timeout", "30"))
ready, go = opt("--ready"), opt("--go")
login = json.dumps({"email": email, "password": password})
kinds = [("GET", "/health/live", None), ("GET", "/api/public/rankings", None)]
if email != "-":
    kinds.append(("POST", "/api/auth/login", login))


def request(conn, method, path, body):
    headers = {"Content-Type": "application/json"} if body else {}
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    r.read()
    if r.getheader("Connection", "").lower() == "close":
        conn.close()
    return str(r.status)


conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
         for _ in range(conc)]
for c in conns:
    request(c, "GET", "/health/live", None)
if ready:
    open(ready, "w").close()
while go and not os.path.exists(go):
    time.sleep(0.05)

results = []
lock = threading.Lock()


def worker(k):
    conn = conns[k]
    for i in range(k, count, conc):
        method, path, body = kinds[i % len(kinds)]
        started = time.monotonic()
        try:
            outcome = request(conn, method, path, body)
        except Exception as e:  # a timeout is an outcome too
            outcome = type(e).__name__
            conn.close()
        with lock:
            results.append((path, outcome, (time.monotonic() - started) * 1000.0))


threads = [threading.Thread(target=worker, args=(k,)) for k in range(conc)]
for t in threads:
    t.start()
for t in threads:
    t.join()


def pct(values, p):
    v = sorted(values)
    return round(v[max(0, math.ceil(p / 100.0 * len(v)) - 1)], 1) if v else None


ms = [r[2] for r in results]
outcomes = {}
for _, o, _ in results:
    outcomes[o] = outcomes.get(o, 0) + 1
by_path = {}
for path in sorted({r[0] for r in results}):
    v = [r[2] for r in results if r[0] == path]
    by_path[path] = {"n": len(v), "p50_ms": pct(v, 50), "p99_ms": pct(v, 99),
                     "max_ms": round(max(v), 1)}
print(json.dumps({"sent": count, "ok": outcomes.get("200", 0), "outcomes": outcomes,
                  "p50_ms": pct(ms, 50), "p99_ms": pct(ms, 99),
                  "max_ms": round(max(ms), 1), "by_path": by_path}))
