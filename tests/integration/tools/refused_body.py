#!/usr/bin/python3
"""Send a request the server refuses, body and all, the way a browser
does (no Expect: 100-continue), then read the answer.

A server that answers and closes before the body is in makes the
client's write fail (EPIPE, a reset) or the answer vanish, so this sends
the whole body before reading, TRIES times, and prints one line per try:
the status code, or the error the client saw.

usage: refused_body.py PORT METHOD PATH SIZE CONTENT_TYPE TRIES [HEADER...]
"""
import socket
import sys

port, method, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
size, ctype, tries = int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
extra = sys.argv[7:]

body = bytes((i * 7) & 0xFF for i in range(size))
head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: {ctype}\r\nContent-Length: {size}\r\n" +
        "".join(h + "\r\n" for h in extra) + "Connection: close\r\n\r\n")

for _ in range(tries):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(head.encode() + body)
        answer = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            answer += piece
        line = answer.split(b"\r\n", 1)[0].decode(errors="replace")
        print(line.split(" ")[1] if line.startswith("HTTP/1.1 ") else "no answer")
    except OSError as e:
        print(type(e).__name__)
    finally:
        s.close()
