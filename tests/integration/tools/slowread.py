#!/usr/bin/env python3
"""A client that stops reading, to prove back-pressure through edgefn.

    slowread.py --port P --origin-port OP [--path /bytes/209715200] [--http2]
                [--read-first 1048576] [--pause 3] [--max-origin-bytes 67108864]
                [--max-growth 4194304] [--rcvbuf 65536]

It asks edgefn (127.0.0.1:P) for --path, over HTTP/1.1 or, with --http2, HTTP/2
with prior knowledge; reads the status, the headers and --read-first bytes of the
body (with HTTP/2 at most the 65,535 bytes of the initial flow-control window,
which it does not replenish); then stops reading for --pause seconds.  It then
asks the origin (127.0.0.1:OP/__stats) how many body bytes it has written since
the request began, waits one second and asks again.  Then it reads the rest of
the body and checks its length and, for /bytes/N, its sha256 against the
origin's pattern.

It prints one `key=value` line per measurement on stdout and exits 0 when
  - the status is 200,
  - the origin had written at most --max-origin-bytes while the client paused,
  - the origin wrote at most --max-growth more during the extra second,
  - the whole body then arrived intact;
otherwise it prints `FAIL: ...` lines on stderr and exits 1.
"""

import argparse
import hashlib
import json
import os
import re
import socket
import struct
import sys
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import origin  # noqa: E402  (for pattern_sha256)


class EOF(Exception):
    pass


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def fill(self):
        data = self.sock.recv(262144)
        if not data:
            raise EOF("connection closed")
        self.buf += data

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def some(self, limit):
        if not self.buf:
            self.fill()
        out = bytes(self.buf[:limit])
        del self.buf[:limit]
        return out

    def line(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                out = bytes(self.buf[: i + 1])
                del self.buf[: i + 1]
                return out
            self.fill()


class H1:
    def __init__(self, sock, host, path):
        self.r = Reader(sock)
        sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, host)).encode())
        status_line = self.r.line().decode("latin-1")
        m = re.match(r"HTTP/1\.[01] (\d{3})", status_line)
        self.status = int(m.group(1)) if m else None
        self.headers = {}
        while True:
            line = self.r.line().decode("latin-1").rstrip("\r\n")
            if not line:
                break
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self.left = int(self.headers["content-length"]) if "content-length" in self.headers else None
        self.chunk_left = 0
        self.done = False

    def read(self, limit):
        """Up to `limit` body bytes; b"" at the end of the body."""
        if self.done:
            return b""
        if self.chunked:
            if self.chunk_left == 0:
                size = int(self.r.line().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.r.line() not in (b"\r\n", b"\n"):
                        pass
                    self.done = True
                    return b""
                self.chunk_left = size
            data = self.r.some(min(limit, self.chunk_left))
            self.chunk_left -= len(data)
            if self.chunk_left == 0:
                self.r.take(2)
            return data
        if self.left is not None:
            if self.left == 0:
                self.done = True
                return b""
            data = self.r.some(min(limit, self.left))
            self.left -= len(data)
            return data
        try:
            return self.r.some(limit)
        except EOF:
            self.done = True
            return b""

    def resume(self):
        pass


class H2:
    """Just enough HTTP/2 (RFC 9113) for one GET with a flow-control window we control."""

    DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
    STATIC_STATUS = {8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500}

    def __init__(self, sock, host, path):
        self.sock = sock
        self.r = Reader(sock)
        self.pending = bytearray()
        self.done = False
        settings = struct.pack(">HI", 0x2, 0) + struct.pack(">HI", 0x4, 65535)  # no push; window 65535
        block = b"\x82\x86" + b"\x04" + self.hstr(path) + b"\x01" + self.hstr(host)  # GET http :path :authority
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + self.frame(self.SETTINGS, 0, 0, settings) +
                     self.frame(self.HEADERS, 0x5, 1, block))  # END_STREAM | END_HEADERS
        self.status = None
        self.headers = {}
        while self.status is None:
            self.step()

    @staticmethod
    def hstr(s):
        b = s.encode()
        if len(b) < 127:
            return bytes([len(b)]) + b
        n, out = len(b) - 127, bytearray([127])
        while n >= 128:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        out.append(n)
        return bytes(out) + b

    @staticmethod
    def frame(ftype, flags, stream, payload):
        return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload

    def step(self):
        head = self.r.take(9)
        length = int.from_bytes(head[:3], "big")
        ftype, flags = head[3], head[4]
        stream = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
        payload = self.r.take(length)
        if ftype == self.SETTINGS and not flags & 0x1:
            self.sock.sendall(self.frame(self.SETTINGS, 0x1, 0, b""))
        elif ftype == self.PING and not flags & 0x1:
            self.sock.sendall(self.frame(self.PING, 0x1, 0, payload))
        elif ftype == self.GOAWAY and stream == 0:
            last = int.from_bytes(payload[:4], "big") & 0x7FFFFFFF
            if last < 1:
                raise EOF("GOAWAY before our stream was processed")
        elif ftype == self.RST_STREAM and stream == 1:
            raise EOF("RST_STREAM error code %d" % int.from_bytes(payload[:4], "big"))
        elif ftype in (self.HEADERS, self.CONTINUATION) and stream == 1:
            if ftype == self.HEADERS:
                if flags & 0x8:  # PADDED
                    pad = payload[0]
                    payload = payload[1 : len(payload) - pad]
                if flags & 0x20:  # PRIORITY
                    payload = payload[5:]
            if self.status is None:
                self.status = self.decode_status(payload)
            if flags & 0x1:
                self.done = True
        elif ftype == self.DATA and stream == 1:
            if flags & 0x8:
                pad = payload[0]
                payload = payload[1 : len(payload) - pad]
            self.pending += payload
            if flags & 0x1:
                self.done = True

    def decode_status(self, block):
        first = block[0]
        if first & 0x80:
            return self.STATIC_STATUS.get(first & 0x7F, -1)
        if first in (0x48, 0x08, 0x18) and len(block) >= 5 and not block[1] & 0x80:  # literal, name :status
            return int(block[2 : 2 + block[1]])
        return -1  # unknown encoding; reported as such

    def read(self, limit):
        while not self.pending and not self.done:
            self.step()
        out = bytes(self.pending[:limit])
        del self.pending[:limit]
        return out

    def resume(self):
        inc = 2**31 - 1 - 65535
        self.sock.sendall(self.frame(self.WINDOW_UPDATE, 0, 0, struct.pack(">I", inc)) +
                          self.frame(self.WINDOW_UPDATE, 0, 1, struct.pack(">I", inc)))


def origin_bytes(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/__stats" % port, timeout=10) as res:
        return json.load(res)["total_bytes_written"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--origin-port", type=int, required=True)
    ap.add_argument("--path", default="/bytes/209715200")
    ap.add_argument("--http2", action="store_true")
    ap.add_argument("--read-first", type=int, default=1 << 20)
    ap.add_argument("--pause", type=float, default=3.0)
    ap.add_argument("--max-origin-bytes", type=int, default=64 << 20)
    ap.add_argument("--max-growth", type=int, default=4 << 20)
    ap.add_argument("--rcvbuf", type=int, default=65536)
    args = ap.parse_args()
    fails = []

    def out(key, value):
        print("%s=%s" % (key, value), flush=True)

    before = origin_bytes(args.origin_port)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    sock.settimeout(30)
    sock.connect((args.host, args.port))
    authority = "%s:%d" % (args.host, args.port)
    conn = H2(sock, authority, args.path) if args.http2 else H1(sock, authority, args.path)
    out("status", conn.status)
    if conn.status != 200:
        fails.append("status %s, expected 200" % conn.status)

    h = hashlib.sha256()
    got = 0
    first = min(args.read_first, 32768) if args.http2 else args.read_first
    while got < first:
        data = conn.read(first - got)
        if not data:
            break
        h.update(data)
        got += len(data)
    out("read_before_pause", got)

    time.sleep(args.pause)
    paused = origin_bytes(args.origin_port) - before
    time.sleep(1.0)
    paused2 = origin_bytes(args.origin_port) - before
    out("origin_bytes_while_paused", paused)
    out("origin_bytes_growth_in_1s", paused2 - paused)
    if paused2 > args.max_origin_bytes:
        fails.append("the origin wrote %d bytes while the client read %d and paused; at most %d expected "
                     "(edgefn keeps reading from the origin: no back-pressure)" % (paused2, got, args.max_origin_bytes))
    if paused2 - paused > args.max_growth:
        fails.append("the origin kept writing while the client paused: %d bytes in 1s (at most %d expected)"
                     % (paused2 - paused, args.max_growth))

    conn.resume()
    try:
        while True:
            data = conn.read(1 << 20)
            if not data:
                break
            h.update(data)
            got += len(data)
    except (EOF, OSError) as e:
        fails.append("the body was cut short after %d bytes: %s" % (got, e))
    out("body_bytes", got)
    m = re.match(r"^/bytes/(\d+)(\?|$)", args.path)
    if m:
        want = int(m.group(1))
        if got != want:
            fails.append("got %d body bytes, expected %d" % (got, want))
        else:
            ok = h.hexdigest() == origin.pattern_sha256(want)
            out("body_intact", "yes" if ok else "no")
            if not ok:
                fails.append("the body differs from the origin's pattern (sha256 mismatch)")
    sock.close()
    for f in fails:
        print("FAIL: " + f, file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
