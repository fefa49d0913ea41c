"""edgefn's Python runtime: the AWS Lambda Runtime API (2018-06-01) client loop and the
Lambda handler conventions, so that unmodified Lambda@Edge functions run under edgefn.
See ../README.md for the protocol, the conventions and where this differs from AWS.

Started by bootstrap.py. Start-up time matters, so this imports only built-in modules
(posix, _socket, _json, time); os, json, traceback and site come in only when needed.
One raw TCP connection with hand-written HTTP/1.1, kept alive and pipelined: a handler's
answer and the next long poll go out in one write.
"""
import sys
import posix
import _socket
from time import time as _now

_RUNTIME_FILE = __file__
_BASE = "/2018-06-01/runtime/"
_MAX_HEAD = 1 << 20


def _env(name, default=None):
    v = posix.environ.get(name.encode())
    return default if v is None else v.decode("utf-8", "surrogateescape")


def _setenv(name, value):
    # What os.environ[name] = value does (os.environ's data is posix.environ), without os.
    b = value.encode("utf-8", "surrogateescape")
    posix.putenv(name.encode(), b)
    posix.environ[name.encode()] = b


def _fatal(message):
    sys.stderr.write("edgefn runtime: %s\n" % message)
    sys.stderr.flush()
    sys.stdout.flush()
    posix._exit(1)


# ---- JSON: the json package's C accelerator, driven directly (json itself imports re: ~9 ms)


def _default(o):
    if type(o).__name__ == "Decimal":  # a number, as AWS's runtime writes it
        return int(o) if o == o.to_integral_value() else float(o)
    raise TypeError("Object of type %s is not JSON serializable" % o.__class__.__name__)


def _make_codec():
    try:
        import _json

        class _Ctx:  # the attributes the C scanner reads
            strict = True
            object_hook = None
            object_pairs_hook = None
            parse_float = float
            parse_int = int
            parse_constant = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.__getitem__

        scan = _json.make_scanner(_Ctx)
        markers = {}
        encode = _json.make_encoder(markers, _default, _json.encode_basestring, None, ":", ",", False, False, True)
        ws = " \t\n\r"

        def loads(data):
            s = data.decode("utf-8")
            start = len(s) - len(s.lstrip(ws))
            try:
                obj, end = scan(s, start)
            except StopIteration as e:
                raise ValueError("Expecting value: char %d" % e.value) from None
            if end != len(s) and s[end:].strip(ws):
                raise ValueError("Extra data: char %d" % end)
            return obj

        def dumps(obj):
            try:
                return "".join(encode(obj, 0))
            except BaseException:
                markers.clear()  # the C encoder leaves its circular-reference marks behind on errors
                raise

        if dumps(loads(b' {"a":[1,2.5,"\\u00e9",null,true]} ')) != '{"a":[1,2.5,"\xe9",null,true]}':
            raise ImportError("unexpected _json behaviour")
        return loads, dumps
    except Exception:
        import json

        return json.loads, json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_default).encode


# ---- the connection


class _Lost(Exception):
    pass


class _Connection:
    """One keep-alive connection to the Runtime API. exchange() writes pipelined requests in
    one write and reads their responses in order. The server frames bodies with
    Content-Length; chunked bodies and bodies ended by close are accepted too. If the server
    closes the connection, the requests still unanswered are sent again on a new one (once)."""

    def __init__(self, api):
        host, _, port = api.rpartition(":")
        if host.startswith("["):
            host = host[1:-1]
        self.family = _socket.AF_INET6 if ":" in host else _socket.AF_INET
        self.addr = (host, int(port))
        self.sock = None
        self.buf = b""

    def open(self):
        s = _socket.socket(self.family, _socket.SOCK_STREAM)
        try:
            s.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            s.connect(self.addr)
        except OSError as e:
            s.close()
            raise _Lost(str(e))
        self.sock = s
        self.buf = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def exchange(self, reqs):
        """Sends the requests (bytes) and returns their responses, [(status, headers, body)]."""
        out = []
        retried = False
        while True:
            try:
                if self.sock is None:
                    self.open()
                pending = reqs[len(out) :]
                self.sock.sendall(pending[0] if len(pending) == 1 else b"".join(pending))
                while len(out) < len(reqs):
                    out.append(self.read())
                    retried = False
                return out
            except (OSError, _Lost) as e:
                self.close()
                if retried:
                    _fatal("lost the connection to the Runtime API at %s:%d: %s" % (self.addr[0], self.addr[1], e))
                retried = True

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise _Lost("connection closed")
        self.buf += chunk

    def read(self):
        buf = self.buf
        i = buf.find(b"\r\n\r\n")
        while i < 0:
            if len(buf) > _MAX_HEAD:
                _fatal("a Runtime API response head is over 1 MB")
            self.fill()
            buf = self.buf
            i = buf.find(b"\r\n\r\n")
        lines = buf[:i].decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(None, 2)[1])
        except (IndexError, ValueError):
            _fatal("bad status line from the Runtime API: %r" % lines[0])
        headers = {}
        for line in lines[1:]:
            k, sep, v = line.partition(":")
            if sep:
                headers[k.strip().lower()] = v.strip()
        start = i + 4
        cl = headers.get("content-length")
        te = headers.get("transfer-encoding")
        if cl is not None and te is None and 200 <= status:
            if not cl.isdigit():
                _fatal("bad Content-Length in a Runtime API response: %r" % cl)
            end = start + int(cl)
            if len(buf) >= end:
                self.buf = buf[end:]
                return status, headers, buf[start:end]
            n = end - start
            body = bytearray(n)
            mv = memoryview(body)
            have = len(buf) - start
            mv[:have] = memoryview(buf)[start:]
            self.buf = b""
            recv_into = self.sock.recv_into
            while have < n:
                k = recv_into(mv[have:])
                if not k:
                    raise _Lost("connection closed")
                have += k
            return status, headers, body
        self.buf = buf[start:]
        if status < 200:  # an interim response
            return self.read()
        if te is not None and te.lower() != "identity":
            return status, headers, self.read_chunked()
        if status in (204, 304):
            return status, headers, b""
        parts = [self.buf]  # no length: the body ends with the connection
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            parts.append(chunk)
        self.close()
        return status, headers, b"".join(parts)

    def readline(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2 :]
                return line
            self.fill()

    def readexact(self, n):
        while len(self.buf) < n:
            self.fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_chunked(self):
        parts = []
        while True:
            size = int(self.readline().split(b";", 1)[0].strip(), 16)
            if size == 0:
                while self.readline():  # trailers, then an empty line
                    pass
                return b"".join(parts)
            parts.append(self.readexact(size))
            self.readexact(2)


# ---- errors, as AWS's Python runtime shapes them


class _Fault(Exception):
    def __init__(self, error_type, message, trace=None):
        self.error_type, self.message, self.trace = error_type, message, trace


def _error(message, error_type, trace):
    return {"errorMessage": message, "errorType": error_type, "stackTrace": trace if trace is not None else []}


def _error_from_exception(e):
    import traceback

    tb = traceback.extract_tb(e.__traceback__)
    i = 0
    while i < len(tb) and tb[i].filename == _RUNTIME_FILE:
        i += 1
    return _error(str(e), type(e).__name__, traceback.format_list(tb[i:]))


def _log_error(err):
    text = "[ERROR]"
    if err.get("errorType"):
        text += " " + err["errorType"]
    if err.get("errorMessage"):
        if err.get("errorType"):
            text += ":"
        text += " " + err["errorMessage"]
    lines = [text]
    if err.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in err["stackTrace"]:
            lines.extend(element.splitlines() if element else [""])
    sys.stdout.flush()
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()


# ---- loading the handler, as AWS's runtime resolves it


class _SiteFinder:
    """Under `python3 -S`, the site-packages directories are added only when an import
    fails without them: most functions never need them, and site costs ~4 ms at start."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if path is not None:
            return None
        sys.meta_path.remove(cls)
        import site
        from importlib.machinery import PathFinder

        site.main()
        return PathFinder.find_spec(name, None, target)


def _load_handler(spec):
    try:
        modname, fname = spec.rsplit(".", 1)
    except ValueError as e:
        raise _Fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (spec, e))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise _Fault("Runtime.BuiltInModuleConflict", "Cannot use built-in module %s as a handler module" % modname)
        name = modname.replace("/", ".")
        __import__(name)
        module = sys.modules[name]
    except ImportError as e:
        raise _Fault("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, (e.text or "").strip("\n"))]
        raise _Fault("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e), trace)
    try:
        fn = getattr(module, fname)
    except AttributeError:
        raise _Fault("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname))
    if not callable(fn):
        raise _Fault("Runtime.HandlerNotFound", "Handler '%s' on module '%s' is not callable" % (fname, modname))
    return fn


# ---- the context


class _Object:
    def __init__(self, fields):
        self.__dict__.update(fields)


def _header_object(loads, text):
    """Lambda-Runtime-Client-Context / -Cognito-Identity as an object with the JSON's fields."""
    if text is None:
        return None
    try:
        fields = loads(text.encode("latin-1"))  # the head was decoded as latin-1
    except ValueError:
        fields = None
    return _Object(fields if isinstance(fields, dict) else {})


class LambdaContext:
    function_name = _env("AWS_LAMBDA_FUNCTION_NAME")
    function_version = _env("AWS_LAMBDA_FUNCTION_VERSION")
    memory_limit_in_mb = _env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    log_group_name = _env("AWS_LAMBDA_LOG_GROUP_NAME")
    log_stream_name = _env("AWS_LAMBDA_LOG_STREAM_NAME")

    def __init__(self, aws_request_id, deadline_ms, invoked_function_arn, client_context, identity):
        self.aws_request_id = aws_request_id
        self.invoked_function_arn = invoked_function_arn
        self.client_context = client_context
        self.identity = identity
        self._epoch_deadline_time_in_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        delta = self._epoch_deadline_time_in_ms - int(_now() * 1000)
        return delta if delta > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "%s([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,memory_limit_in_mb=%s,"
            "function_version=%s,invoked_function_arn=%s,client_context=%s,identity=%s])"
            % (self.__class__.__name__, self.aws_request_id, self.log_group_name, self.log_stream_name,
               self.function_name, self.memory_limit_in_mb, self.function_version, self.invoked_function_arn,
               self.client_context, self.identity)
        )


# ---- the loop


def _post(path, body, error_type=None):
    head = "POST %s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n" % (_BASE, path, _API)
    if error_type is not None:
        head += "Lambda-Runtime-Function-Error-Type: %s\r\n" % "".join(c for c in error_type if " " <= c <= "~")
    return b"%sContent-Length: %d\r\n\r\n%s" % (head.encode("latin-1", "replace"), len(body), body)


def _error_request(path, err, dumps):
    return _post(path, dumps(err).encode("utf-8", "replace"), err["errorType"])


_API = _env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")


def main():
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    task_root = _env("LAMBDA_TASK_ROOT") or posix.getcwd()
    runtime_dir = _RUNTIME_FILE.rpartition("/")[0] or "."
    sys.path[:] = [p for p in sys.path if p not in (runtime_dir, "")]
    sys.path.insert(0, task_root)
    if sys.flags.no_site:
        sys.meta_path.append(_SiteFinder)
    sys.modules.pop("edgefn_runtime", None)  # a function may have a module of that name

    loads, dumps = _make_codec()
    conn = _Connection(_API)
    next_req = ("GET %sinvocation/next HTTP/1.1\r\nHost: %s\r\n\r\n" % (_BASE, _API)).encode("latin-1")

    try:
        handler = _load_handler(_env("_HANDLER", ""))
    except _Fault as f:
        err = _error(f.message, f.error_type, f.trace)
    except Exception as e:
        err = _error_from_exception(e)
    else:
        err = None
    if err is not None:
        _log_error(err)
        status = conn.exchange([_error_request("init/error", err, dumps)])[0][0]
        if status != 202:
            sys.stderr.write("edgefn runtime: the Runtime API answered %d to init/error\n" % status)
        sys.stdout.flush()
        posix._exit(1)

    flush_out = sys.stdout.flush
    flush_err = sys.stderr.flush
    last_trace = None
    reqs = [next_req]
    while True:
        res = conn.exchange(reqs)
        if len(res) > 1 and res[0][0] != 202:
            sys.stderr.write("edgefn runtime: the Runtime API answered %d: %s\n" % (res[0][0], bytes(res[0][2]).decode("utf-8", "replace")))
        status, h, body = res[-1]
        if status != 200:
            _fatal("GET invocation/next answered %d: %s" % (status, bytes(body).decode("utf-8", "replace")))
        rid = h.get("lambda-runtime-aws-request-id")
        if rid is None:
            _fatal("GET invocation/next answered without Lambda-Runtime-Aws-Request-Id")
        trace = h.get("lambda-runtime-trace-id")
        if trace is not None and trace != last_trace:
            _setenv("_X_AMZN_TRACE_ID", trace)
            last_trace = trace
        deadline = h.get("lambda-runtime-deadline-ms", "")
        ctx = LambdaContext(
            rid,
            int(deadline) if deadline.isdigit() else 0,
            h.get("lambda-runtime-invoked-function-arn"),
            _header_object(loads, h.get("lambda-runtime-client-context")),
            _header_object(loads, h.get("lambda-runtime-cognito-identity")),
        )
        err = None
        try:
            result = handler(loads(body), ctx)
        except Exception as e:
            err = _error_from_exception(e)
        else:
            try:
                out = dumps(result).encode("utf-8")
            except Exception as e:
                err = _error("Unable to marshal response: %s" % e, "Runtime.MarshalError", None)
        result = None
        if err is None:
            flush_out()
            flush_err()
            reqs = [_post("invocation/%s/response" % rid, out), next_req]
        else:
            _log_error(err)
            reqs = [_error_request("invocation/%s/error" % rid, err, dumps), next_req]
