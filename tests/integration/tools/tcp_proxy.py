#!/usr/bin/python3
"""TCP proxy for the resumable upload tests: a bad mobile network, or a
load balancer in front of several API instances.

Each client connection goes to the next upstream port in turn (round
robin).  With --cut-bytes N a connection is closed, both ways, once N
bytes from its client have been relayed (the client's next write fails:
a dropped connection mid-upload); --cut-bytes 0 never cuts.  With
--armed FILE too, only bytes relayed while FILE exists count, and the
first cut removes FILE: one cut, when a test asks for it.  Appends one
line per connection to LOG when it ends:

    UPSTREAM_PORT BYTES_FROM_CLIENT cut|closed

usage: tcp_proxy.py PORT UPSTREAM_PORT[,UPSTREAM_PORT...] LOG [--cut-bytes N [--armed FILE]]
"""
import asyncio
import os
import sys

PORT = int(sys.argv[1])
UPSTREAMS = [int(p) for p in sys.argv[2].split(",")]
LOG = sys.argv[3]
CUT = int(sys.argv[sys.argv.index("--cut-bytes") + 1]) if "--cut-bytes" in sys.argv else 0
ARMED = sys.argv[sys.argv.index("--armed") + 1] if "--armed" in sys.argv else None
turn = 0


def record(line):
    with open(LOG, "a", encoding="utf-8") as f:
        f.write(line + "\n")


async def pipe(reader, writer, state, count):
    try:
        while True:
            want = 65536
            if count and CUT:
                want = min(want, CUT - state["up"])
                if want <= 0:
                    state["cut"] = True
                    return
            data = await reader.read(want)
            if not data:
                return
            if count and (ARMED is None or os.path.exists(ARMED)):
                state["up"] += len(data)
                if ARMED and state["up"] >= CUT:
                    try:
                        os.unlink(ARMED)
                    except FileNotFoundError:
                        pass
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        return


async def handle(client_r, client_w):
    global turn
    port = UPSTREAMS[turn % len(UPSTREAMS)]
    turn += 1
    try:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        client_w.close()
        record("%d 0 refused" % port)
        return
    state = {"up": 0, "cut": False}
    tasks = [asyncio.ensure_future(pipe(client_r, up_w, state, True)),
             asyncio.ensure_future(pipe(up_r, client_w, state, False))]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for t in tasks:
        t.cancel()
    for w in (client_w, up_w):
        try:
            if state["cut"]:
                w.transport.abort()   # a reset, as a dropped network gives
            else:
                w.close()
        except (ConnectionError, OSError):
            pass
    record("%d %d %s" % (port, state["up"], "cut" if state["cut"] else "closed"))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    async with server:
        await server.serve_forever()


asyncio.run(main())
