#!/usr/bin/env python3
"""The test origin for edgefn's integration tests.

A threaded HTTP/1.1 server (keep-alive, Expect: 100-continue, chunked request
bodies) that run.py starts on a free loopback port.  It prints the port it
listens on as one line on stdout once it accepts connections, and logs nothing
else there; unexpected errors go to stderr (--verbose logs every request too).

    python3 origin.py [--bind 127.0.0.1] [--port 0] [--verbose]

Endpoints (any method unless noted; the query string is parsed as name=value
pairs; HEAD answers the same status and headers as GET without the body):

/echo...            any path starting with /echo.  Reads the request body and
                    answers 200 application/json, one line, keys sorted:
                      method        the request method
                      path          the raw request-target, query included
                      http_version  "HTTP/1.1"
                      headers       {lower-cased name: value}; a repeated header's
                                    values are joined with ", " in arrival order
                      body_length   bytes of request body (after de-chunking)
                      body_sha256   hex sha256 of the request body
                      conn_id       this TCP connection's number (1, 2, ...)
                      conn_requests the number of this request on its connection
                      client        the peer's IP address
                    The response also carries x-echo-method and x-echo-path, so
                    HEAD requests can be checked.

/bytes/N            N bytes of a deterministic pattern (see pattern_bytes: byte i is
                    PATTERN[i % 65521]), application/octet-stream, streamed in
                    pieces and never built in memory.  Framing:
                      (default)   Content-Length: N
                      ?chunked=1  Transfer-Encoding: chunked (16000-byte chunks)
                      ?close=1    no length; Connection: close; the end of the body
                                  is the end of the connection
                      ?reset_after=M  send the headers and M bytes of the body, then
                                  reset the connection (RST); the peer gets at most
                                  M bytes (combine with chunked=1 or not)

/delay/MS           waits MS milliseconds, then 200 text/plain "done".

/stall              reads the request, then never answers: holds the connection
                    until the client closes it (or 60 s pass), then closes it.

/status/CODE        status CODE (200..599) with text/plain body "status CODE"
                    (no body for 204 and 304).  Other query pairs are added as
                    response headers, with the rules of /headers.

/headers?n=v&...    200 text/plain "ok", with each n: v added as a response header,
                    in order (a repeated name gives repeated headers).  Framing is
                    always the origin's, so:
                      content-length     refused (400)
                      transfer-encoding  only "chunked", which switches the body
                                         to chunked framing (so it is true)
                      connection         sent as given; if it names "close" the
                                         origin really closes after the response
                      content-type, server, date   replace the defaults
                    Every other name is sent as given, including hop-by-hop ones
                    such as keep-alive, proxy-connection, upgrade, te, trailer,
                    proxy-authenticate, or one named in connection (x-drop-me):
                    none of these changes how the body is framed.  Names must be
                    tokens; values must not contain CR, LF or NUL (400).

/reset              reads the request, then closes the connection with SO_LINGER 0
                    (the peer gets a TCP RST) without answering.

/garbage            reads the request, then writes bytes that are not HTTP and
                    closes the connection.

/cacheable/...      any path starting with /cacheable/: a response for cache tests.
                    Query pairs (all optional, any order):
                      h=NAME:VALUE   a response header (repeat h for more, or for a
                                     repeated header such as set-cookie), with the
                                     rules of /headers; e.g. h=cache-control:max-age=60,
                                     h=etag:%22v1%22, h=vary:accept-language
                      status=N       the status (200..599, default 200)
                      body=TEXT      the body (default "PATH #COUNT\n", where COUNT is
                                     how many requests this exact path+query has had,
                                     this one included, as requests_by_target says:
                                     a cached body is told from a fresh one by it)
                      size=N         the body padded with "." (or cut) to N bytes
                      delay=MS       wait MS milliseconds before answering
                      expires_in=S   an Expires header S seconds after now (S may be
                                     negative)
                    Conditional requests: If-None-Match matching the etag given with
                    h= (weak comparison, or "*") or, without If-None-Match,
                    If-Modified-Since at or after the last-modified given with h=,
                    answer 304 with the same headers and no body.  The conditional
                    headers received are echoed as x-origin-saw-if-none-match and
                    x-origin-saw-if-modified-since (on 304s and 200s alike).

/__stats            200 application/json, not counted itself:
                      requests             {path without query: count}
                      requests_by_target   {path with its query, as received: count}
                      bytes_written        {path without query: body bytes written}
                      total_requests, total_bytes_written
                      connections          connections that have carried a request
                                           other than /__stats, so far
                      open_connections     of those, the ones open now (not counting
                                           the one asking)
                    "Written" means handed to the kernel: a peer that stops reading
                    stops this number growing once the socket buffers are full.

Anything else       404 text/plain.

Every endpoint also honours ?idle_close_ms=MS: after this response, the origin
closes the connection if no next request arrives within MS milliseconds (to
test a proxy's handling of stale keep-alive connections).
"""

import argparse
import hashlib
import http
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATTERN_PERIOD = 65521  # a prime, so that pieces of any power-of-two size never line up with it
PATTERN = random.Random(20240601).randbytes(PATTERN_PERIOD)
_PATTERN2 = PATTERN * 2
PIECE = 65536
CHUNK = 16000
TOKEN_CHARS = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
CONN_IDLE_TIMEOUT = 120.0  # seconds an idle or silent connection is kept


def pattern_bytes(offset, length):
    """Returns `length` (at most PATTERN_PERIOD) bytes of the /bytes pattern from `offset`."""
    start = offset % PATTERN_PERIOD
    return _PATTERN2[start : start + length]


def pattern_sha256(total):
    """The hex sha256 of the first `total` bytes of the /bytes pattern."""
    h = hashlib.sha256()
    off = 0
    while off < total:
        n = min(PATTERN_PERIOD, total - off)
        h.update(pattern_bytes(off, n))
        off += n
    return h.hexdigest()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}
        self.requests_by_target = {}
        self.bytes_written = {}
        self.accepted = 0
        self.connections = 0
        self.open = set()

    def new_connection(self):
        with self.lock:
            self.accepted += 1
            return self.accepted

    def count_connection(self, conn_id):
        with self.lock:
            self.connections += 1
            self.open.add(conn_id)

    def close_connection(self, conn_id):
        with self.lock:
            self.open.discard(conn_id)

    def count_request(self, path, target):
        """Counts a request; returns how many `target` (path and query) has had, this one included."""
        with self.lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            self.bytes_written.setdefault(path, 0)
            n = self.requests_by_target[target] = self.requests_by_target.get(target, 0) + 1
            return n

    def count_bytes(self, path, n):
        with self.lock:
            self.bytes_written[path] = self.bytes_written.get(path, 0) + n

    def snapshot(self, asking_conn):
        with self.lock:
            return {
                "requests": dict(self.requests),
                "requests_by_target": dict(self.requests_by_target),
                "bytes_written": dict(self.bytes_written),
                "total_requests": sum(self.requests.values()),
                "total_bytes_written": sum(self.bytes_written.values()),
                "connections": self.connections,
                "open_connections": len(self.open - {asking_conn}),
            }


class BadRequest(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "edgefn-test-origin"
    sys_version = ""
    timeout = CONN_IDLE_TIMEOUT

    # --- connection lifecycle -------------------------------------------------------

    def setup(self):
        super().setup()
        # without this, a response written as headers + body waits out the peer's delayed ACK (40 ms)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn_id = self.server.stats.new_connection()
        self.conn_requests = 0
        self.counted = False
        self.detached = False

    def finish(self):
        try:
            if not self.detached:
                super().finish()
        finally:
            self.server.stats.close_connection(self.conn_id)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("origin: %s %s\n" % (self.address_string(), fmt % args))

    def handle_one_request(self):
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline:
                self.close_connection = True
                return
            self.connection.settimeout(CONN_IDLE_TIMEOUT)
            if len(self.raw_requestline) > 65536:
                self.send_error(414)
                return
            if not self.parse_request():
                return
            self.conn_requests += 1
            self.dispatch()
            if not self.detached:
                self.wfile.flush()
        except (TimeoutError, ConnectionError, OSError):
            self.close_connection = True

    # --- helpers --------------------------------------------------------------------

    def read_body(self):
        """Reads the whole request body; returns (length, sha256 hex)."""
        h = hashlib.sha256()
        n = 0
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        line = self.rfile.readline(65537)
                        if line in (b"\r\n", b"\n", b""):
                            break
                    break
                while size:
                    data = self.rfile.read(min(size, PIECE))
                    if not data:
                        raise ConnectionError("eof in chunk")
                    h.update(data)
                    n += len(data)
                    size -= len(data)
                self.rfile.readline(8)  # CRLF after the chunk
        else:
            left = int(self.headers.get("Content-Length", "0") or "0")
            while left:
                data = self.rfile.read(min(left, PIECE))
                if not data:
                    raise ConnectionError("eof in body")
                h.update(data)
                n += len(data)
                left -= len(data)
        return n, h.hexdigest()

    def write_counted(self, data):
        self.wfile.write(data)
        if self.stat_path != "/__stats":
            self.server.stats.count_bytes(self.stat_path, len(data))

    def start(self, status, headers=(), content_type="text/plain", length=None, chunked=False, close=False):
        """Sends the status line and headers. `headers` are (name, value) pairs that may
        override content-type, server and date."""
        lower = {k.lower() for k, _ in headers}
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        out = ["HTTP/1.1 %d %s\r\n" % (status, reason)]
        if "server" not in lower:
            out.append("Server: %s\r\n" % self.server_version)
        if "date" not in lower:
            out.append("Date: %s\r\n" % formatdate(usegmt=True))
        if "content-type" not in lower and content_type and status not in (204, 304):
            out.append("Content-Type: %s\r\n" % content_type)
        for k, v in headers:
            out.append("%s: %s\r\n" % (k, v))
            if k.lower() == "connection" and "close" in [t.strip().lower() for t in v.split(",")]:
                close = True
        if status in (204, 304):
            pass  # no body, and no framing headers (RFC 9110 8.6)
        elif chunked:
            out.append("Transfer-Encoding: chunked\r\n")
        elif length is not None:
            out.append("Content-Length: %d\r\n" % length)
        else:
            close = True
        if self.request_version == "HTTP/1.0" and not close and self.close_connection:
            close = True
        if close:
            self.close_connection = True
            if "connection" not in lower:
                out.append("Connection: close\r\n")
        elif self.request_version == "HTTP/1.0":
            out.append("Connection: keep-alive\r\n")
        out.append("\r\n")
        self.wfile.write("".join(out).encode("latin-1"))
        self.log_request(status)

    def respond(self, status, body=b"", headers=(), content_type="text/plain", chunked=False):
        if isinstance(body, str):
            body = body.encode()
        no_body = self.command == "HEAD" or status in (204, 304)
        self.start(status, headers, content_type, None if chunked else len(body), chunked)
        if no_body:
            return
        if chunked:
            if body:
                self.write_counted(b"%x\r\n" % len(body) + body + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.write_counted(body)

    def extra_headers(self, query):
        """Validates the /headers query pairs; returns (headers, chunked)."""
        headers = []
        chunked = False
        for name, value in query:
            if name in ("idle_close_ms",):
                continue
            if not name or not set(name) <= TOKEN_CHARS:
                raise BadRequest("header name %r is not a token" % name)
            if any(c in value for c in "\r\n\0"):
                raise BadRequest("header value for %s contains CR, LF or NUL" % name)
            lname = name.lower()
            if lname == "content-length":
                raise BadRequest("content-length is set by the origin")
            if lname == "transfer-encoding":
                if value.strip().lower() != "chunked":
                    raise BadRequest("only transfer-encoding=chunked is supported")
                chunked = True
                continue
            headers.append((name, value))
        return headers, chunked

    def detach_with_rst(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        fd = self.connection.detach()
        os.close(fd)
        self.detached = True
        self.close_connection = True

    # --- dispatch -------------------------------------------------------------------

    def dispatch(self):
        target = self.path
        if target.startswith(("http://", "https://")):
            parts = urllib.parse.urlsplit(target)
            target = parts.path + ("?" + parts.query if parts.query else "")
        path, _, qs = target.partition("?")
        query = urllib.parse.parse_qsl(qs, keep_blank_values=True)
        q = dict(query)
        self.stat_path = path
        self.target_count = 0
        idle_close = q.get("idle_close_ms")
        if path != "/__stats":
            self.target_count = self.server.stats.count_request(path, target)
            if not self.counted:
                self.counted = True
                self.server.stats.count_connection(self.conn_id)
        try:
            self.route(path, q, query)
        except BadRequest as e:
            self.read_body_quietly()
            self.respond(400, "bad request: %s" % e)
        if idle_close and not self.detached and not self.close_connection:
            self.connection.settimeout(int(idle_close) / 1000.0)

    def read_body_quietly(self):
        try:
            self.read_body()
        except Exception:
            self.close_connection = True

    def route(self, path, q, query):
        if path.startswith("/echo"):
            length, sha = self.read_body()
            obj = {
                "method": self.command,
                "path": self.path,
                "http_version": self.request_version,
                "headers": {},
                "body_length": length,
                "body_sha256": sha,
                "conn_id": self.conn_id,
                "conn_requests": self.conn_requests,
                "client": self.client_address[0],
            }
            for k, v in self.headers.items():
                k = k.lower()
                obj["headers"][k] = obj["headers"][k] + ", " + v if k in obj["headers"] else v
            body = json.dumps(obj, sort_keys=True) + "\n"
            self.respond(
                200, body, [("X-Echo-Method", self.command), ("X-Echo-Path", self.path)], content_type="application/json"
            )
        elif path.startswith("/bytes/"):
            self.read_body()
            self.send_bytes(path, q)
        elif path.startswith("/delay/"):
            self.read_body()
            try:
                ms = int(path[len("/delay/") :])
            except ValueError:
                raise BadRequest("/delay/MS needs an integer")
            time.sleep(ms / 1000.0)
            self.respond(200, "done")
        elif path == "/stall":
            self.read_body()
            self.stall()
        elif path.startswith("/status/"):
            self.read_body()
            try:
                code = int(path[len("/status/") :])
            except ValueError:
                raise BadRequest("/status/CODE needs an integer")
            if not 200 <= code <= 599:
                raise BadRequest("status must be 200..599")
            headers, chunked = self.extra_headers(query)
            self.respond(code, "" if code in (204, 304) else "status %d" % code, headers, chunked=chunked)
        elif path == "/headers":
            self.read_body()
            headers, chunked = self.extra_headers(query)
            self.respond(200, "ok", headers, chunked=chunked)
        elif path == "/reset":
            self.read_body_quietly()
            self.detach_with_rst()
        elif path == "/garbage":
            self.read_body_quietly()
            self.wfile.write(b"this is not HTTP at all\r\n\r\n\x00\x01\x02 garbage garbage\r\n")
            self.close_connection = True
        elif path.startswith("/cacheable/"):
            self.read_body()
            self.cacheable(path, q, query)
        elif path == "/__stats":
            self.read_body()
            self.respond(200, json.dumps(self.server.stats.snapshot(self.conn_id), sort_keys=True) + "\n",
                         content_type="application/json")
        else:
            self.read_body_quietly()
            self.respond(404, "no such origin endpoint: %s" % path)

    def cacheable(self, path, q, query):
        def number(name, default, low, high):
            try:
                n = int(q.get(name, default))
            except ValueError:
                raise BadRequest("%s must be an integer" % name)
            if not low <= n <= high:
                raise BadRequest("%s must be %d..%d" % (name, low, high))
            return n

        status = number("status", 200, 200, 599)
        size = number("size", -1, -1, 100 << 20)
        delay = number("delay", 0, 0, 60000)
        pairs = []
        for name, value in query:
            if name == "h":
                hname, colon, hvalue = value.partition(":")
                if not colon:
                    raise BadRequest("h=%s: expected NAME:VALUE" % value)
                pairs.append((hname.strip(), hvalue.strip()))
        headers, chunked = self.extra_headers(pairs)
        if "expires_in" in q:
            when = time.time() + number("expires_in", 0, -10**9, 10**9)
            headers.append(("Expires", formatdate(when, usegmt=True)))
        saw = []
        for name in ("If-None-Match", "If-Modified-Since"):
            if self.headers.get(name) is not None:
                saw.append(("X-Origin-Saw-" + name, self.headers.get(name)))
        if delay:
            time.sleep(delay / 1000.0)
        if self.not_modified(headers):
            self.respond(304, "", headers + saw)
            return
        body = q["body"] if "body" in q else "%s #%d\n" % (path, self.target_count)
        body = body.encode()
        if size >= 0:
            body = body[:size] + b"." * (size - len(body))
        self.respond(status, body, headers + saw, chunked=chunked)

    def not_modified(self, headers):
        """Whether the request's If-None-Match or If-Modified-Since match the etag or
        last-modified among `headers` (RFC 9110 13.1: If-None-Match wins, weak comparison)."""
        mine = {k.lower(): v for k, v in headers}
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            etag = mine.get("etag")
            if etag is None:
                return False
            weak = lambda t: t.strip()[2:] if t.strip().startswith("W/") else t.strip()
            return any(t.strip() == "*" or weak(t) == weak(etag) for t in inm.split(","))
        ims = self.headers.get("If-Modified-Since")
        if ims is not None and "last-modified" in mine:
            try:
                return parsedate_to_datetime(ims) >= parsedate_to_datetime(mine["last-modified"])
            except (TypeError, ValueError):
                return False
        return False

    def send_bytes(self, path, q):
        try:
            total = int(path[len("/bytes/") :])
        except ValueError:
            raise BadRequest("/bytes/N needs an integer")
        chunked = q.get("chunked") == "1"
        close = q.get("close") == "1" and not chunked
        reset_after = int(q["reset_after"]) if "reset_after" in q else None
        self.start(200, (), "application/octet-stream", None if (chunked or close) else total, chunked, close)
        if self.command == "HEAD":
            return
        limit = total if reset_after is None else min(total, reset_after)
        off = 0
        piece = CHUNK if chunked else PIECE
        while off < limit:
            n = min(piece, limit - off, PATTERN_PERIOD)
            data = pattern_bytes(off, n)
            if chunked:
                self.wfile.write(b"%x\r\n" % n)
                self.write_counted(data)
                self.wfile.write(b"\r\n")
            else:
                self.write_counted(data)
            off += n
        if reset_after is not None:
            self.detach_with_rst()
            return
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def stall(self):
        self.close_connection = True
        deadline = time.monotonic() + 60
        sock = self.connection
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([sock], [], [], min(left, 1.0))
            if r:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, BrokenPipeError)):
            return
        sys.stderr.write("origin: error serving %s:\n" % (client_address,))
        traceback.print_exc(file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description="edgefn integration-test origin")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args()
    server = Server((args.bind, args.port), Handler)
    server.stats = Stats()
    server.verbose = args.verbose
    sys.stdout.write("%d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
