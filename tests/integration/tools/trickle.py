#!/usr/bin/python3
"""An authenticated upload that trickles its body: the headers at once,
then one byte every INTERVAL seconds, for at most MAX_S seconds.

Prints one line: "closed after S s" when the server closed the
connection, "answered STATUS after S s" when it sent an answer, or
"never closed" when MAX_S passed with the connection still open.

usage: trickle.py PORT TOKEN INTERVAL MAX_S
"""
import socket
import sys
import time

port, token = int(sys.argv[1]), sys.argv[2]
interval, max_s = float(sys.argv[3]), float(sys.argv[4])

body = (b"------trickle\r\nContent-Disposition: form-data; name=\"video_file\"; "
        b"filename=\"a.mp4\"\r\nContent-Type: video/mp4\r\n\r\n\0\0\0\x20ftypisom")
body += b"\0" * 2000
head = (f"POST /api/videos/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: multipart/form-data; boundary=----trickle\r\n"
        "Content-Length: 1000000\r\n\r\n").encode()

start = time.monotonic()
s = socket.create_connection(("127.0.0.1", port), timeout=max_s + 5)


def verdict(data):
    took = time.monotonic() - start
    if data:
        line = data.split(b"\r\n", 1)[0].decode(errors="replace").split(" ")
        return "answered %s after %.1f s" % (line[1] if len(line) > 1 else "?", took)
    return "closed after %.1f s" % took


try:
    s.sendall(head)
    i = 0
    while time.monotonic() - start < max_s:
        s.sendall(body[i:i + 1])
        i += 1
        s.settimeout(interval)
        try:
            data = s.recv(4096)
            print(verdict(data))
            sys.exit(0)
        except socket.timeout:
            pass
    print("never closed")
except OSError:
    print(verdict(b""))
finally:
    s.close()
