#!/usr/bin/env python3
"""Server-Sent Events clients for tests/integration/test_sse.sh.

follow URL OUT SECONDS [HEADER...]: read one stream for at most SECONDS,
    writing each message as a JSON line to OUT as it comes:
    {"event": ..., "id": ..., "data": {...}} or {"comment": "..."};
    the first line is {"status": N, "headers": {...}}.  Ends early when
    the server ends the response ({"end": true} is written then).
hold N URL OUT SECONDS [HEADER...]: open N streams one after the other
    (plain sockets, one thread), write "ready OK CODES" to OUT when every one has its headers,
    hold them SECONDS more, then write "keepalive K" (how many saw a
    ": keep-alive" comment) and "open M" (how many were still open).
"""
import asyncio
import json
import selectors
import socket
import sys
import time
import urllib.parse


def split_url(url):
    u = urllib.parse.urlsplit(url)
    path = u.path + ("?" + u.query if u.query else "")
    return u.hostname, u.port or 80, path


def request_bytes(host, port, path, headers):
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}",
             "Accept: text/event-stream"] + headers
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        if ":" in l:
            k, v = l.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return status, hdrs


async def chunks(reader, hdrs):
    """Yield the body's bytes (chunked or not) until it ends."""
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                return
            data = await reader.readexactly(size)
            await reader.readexactly(2)
            yield data
    else:
        n = int(hdrs.get("content-length", "-1"))
        if n >= 0:
            yield await reader.readexactly(n)
            return
        while True:
            data = await reader.read(65536)
            if not data:
                return
            yield data


def messages(buf):
    """Split complete messages off buf; returns (list, rest)."""
    out = []
    while b"\n\n" in buf:
        block, buf = buf.split(b"\n\n", 1)
        msg = {}
        for line in block.decode().split("\n"):
            if line.startswith(":"):
                out.append({"comment": line[1:].strip()})
                continue
            k, _, v = line.partition(":")
            v = v[1:] if v.startswith(" ") else v
            msg[k] = v
        if "data" in msg:
            try:
                msg["data"] = json.loads(msg["data"])
            except ValueError:
                pass
        if msg:
            out.append(msg)
    return out, buf


async def follow(url, out, seconds, headers):
    host, port, path = split_url(url)
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request_bytes(host, port, path, headers))
    with open(out, "w") as f:
        async def run():
            status, hdrs = await read_head(reader)
            f.write(json.dumps({"status": status, "headers": hdrs}) + "\n")
            f.flush()
            buf = b""
            async for data in chunks(reader, hdrs):
                buf += data
                msgs, buf = messages(buf)
                for m in msgs:
                    f.write(json.dumps(m) + "\n")
                f.flush()
            f.write(json.dumps({"end": True}) + "\n")
        try:
            await asyncio.wait_for(run(), seconds)
        except asyncio.TimeoutError:
            pass
    writer.close()


def hold(n, url, out, seconds, headers):
    """Plain sockets and one selector: connections opened one by one."""
    host, port, path = split_url(url)
    req = request_bytes(host, port, path, headers)
    sel = selectors.DefaultSelector()
    state = {}
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(req)
        s.setblocking(False)
        state[s] = {"buf": b"", "status": None, "keep": False, "open": True}
        sel.register(s, selectors.EVENT_READ)

    def pump(until, stop_when_heads):
        while time.monotonic() < until:
            if stop_when_heads and all(st["status"] is not None or not st["open"]
                                       for st in state.values()):
                return
            for key, _ in sel.select(timeout=0.2):
                s, st = key.fileobj, state[key.fileobj]
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    st["open"] = False
                    sel.unregister(s)
                    continue
                st["buf"] += data
                if st["status"] is None and b"\r\n\r\n" in st["buf"]:
                    st["status"] = int(st["buf"].split(b" ", 2)[1])
                if b": keep-alive" in st["buf"]:
                    st["keep"] = True
                st["buf"] = st["buf"][-64:] if st["status"] is not None else st["buf"]

    pump(time.monotonic() + 30, True)
    codes = {}
    for st in state.values():
        codes[st["status"]] = codes.get(st["status"], 0) + 1
    with open(out, "w") as f:
        f.write(f"ready {codes.get(200, 0)} {json.dumps({str(k): v for k, v in codes.items()})}\n")
    pump(time.monotonic() + seconds, False)
    keep = sum(1 for st in state.values() if st["keep"])
    still = sum(1 for st in state.values() if st["open"])
    with open(out, "a") as f:
        f.write(f"keepalive {keep}\nopen {still}\n")
    for s in state:
        s.close()


def main():
    mode = sys.argv[1]
    if mode == "follow":
        url, out, secs = sys.argv[2], sys.argv[3], float(sys.argv[4])
        asyncio.run(follow(url, out, secs, sys.argv[5:]))
    elif mode == "hold":
        n, url, out, secs = int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
        hold(n, url, out, secs, sys.argv[6:])
    else:
        sys.exit("usage: sse_client.py follow|hold ...")


if __name__ == "__main__":
    main()
