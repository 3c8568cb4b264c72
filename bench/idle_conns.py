#!/usr/bin/env python3
"""Holds N idle keep-alive client connections: one request each, response read, then silence.

Usage: idle_conns.py HOST PORT N SOURCE_ADDRESS (bench/run starts it; prints "ready N" once all are held).
"""
import resource, signal, socket, sys
host, port, n, src = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
request = b"GET /1k HTTP/1.1\r\nHost: bench\r\n\r\n"
IP_BIND_ADDRESS_NO_PORT = 24  # pick the port at connect(): a distinct source address per proxy
held = []

def read_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = s.recv(65536)
        if not data:
            raise EOFError("closed before the response head")
        buf += data
    head, _, body = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        data = s.recv(65536)
        if not data:
            raise EOFError("closed mid-body")
        body += data

for start in range(0, n, 500):
    batch = []
    for _ in range(min(500, n - start)):
        s = socket.socket()
        s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((src, 0))
        s.settimeout(30)
        s.connect((host, port))
        s.sendall(request)
        batch.append(s)
    for s in batch:
        read_response(s)
    held.extend(batch)
print("ready", len(held), flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
signal.pause()
