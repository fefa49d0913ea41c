#!/usr/bin/env python3
"""Runs one edgefn integration-test file (tests/integration/cases/*.t).

    python3 run.py --edgefn PATH [--filter REGEX] [--keep] [-v] [--list] FILE.t

The .t format is described in README.md next to this file.  For each file the
harness makes a private temp dir ($TMP), picks free ports, starts the test origin
(origin.py), writes and starts edgefn when the file or a case has a `--- config`
block, runs every case's `--- run` script with bash and checks its expectations.
Output is TAP: `ok N - title` / `not ok N - title` followed by `#` lines saying
what differed.  Exit status: 0 all cases passed, 1 a case failed, 2 the file (or
the command line) is malformed or the harness itself failed.

Every process the harness starts is killed by PID when it ends, also on errors,
Ctrl-C and SIGTERM; the origin and edgefn also get PR_SET_PDEATHSIG, so even a
SIGKILLed harness leaves nothing behind.  Only the Python standard library is used.
"""

import argparse
import ctypes
import errno
import fcntl
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))

DEFAULT_CASE_TIMEOUT = 30.0  # s, per --- run script
START_TIMEOUT = 10.0  # s, for edgefn to accept on every listen port
LOG_WAIT = 3.0  # s, for --- log ~ to come true
EXIT_WAIT = 15.0  # s, for --- edgefn-exit
STOP_GRACE = 5.0  # s between SIGTERM and SIGKILL
OUTPUT_LIMIT = 6000  # characters of stdout/stderr shown on failure
EDGEFN_TAIL = 40  # lines of edgefn's stderr shown on failure

PORT_VARS = ("PORT", "PORT2", "TLS_PORT", "ADMIN_PORT")  # edgefn listens on these when its config names them
VAR_NAMES = PORT_VARS + (
    "ORIGIN_PORT", "DEAD_PORT", "EDGEFN_PID", "EDGEFN", "TMP", "SRC", "CERT", "KEY", "TOOLS", "PYTHON", "TODAY")
VAR_RE = re.compile(
    r"\$(?:\{(%s)\}|(%s)(?![A-Za-z0-9_]))" % ("|".join(VAR_NAMES), "|".join(sorted(VAR_NAMES, key=len, reverse=True))))
HEADER_REF_RE = re.compile(r"\$\{header:([A-Za-z0-9!#$%&'*+.^_`|~-]+)\}")
SANITIZER_RE = re.compile(
    r"^(==\d+==ERROR: (Address|Leak|Memory|Thread)Sanitizer|SUMMARY: (Address|Undefined|Leak)Sanitizer|"
    r"[^\s:]+\.[ch]:\d+:\d+: runtime error: )", re.M)

FILE_SECTIONS = {"config", "setup", "timeout"}
CASE_SECTIONS = {
    "config", "setup", "run", "timeout", "skip", "exit", "status", "header", "no-header",
    "body", "stdout", "stderr", "log", "edgefn-exit"}
SINGLE_SECTIONS = {"config", "setup", "run", "timeout", "skip", "exit", "status", "edgefn-exit"}
BLOCK_SECTIONS = {"config", "setup", "run", "body", "stdout", "stderr", "log"}  # may take a block value
SECTION_RE = re.compile(r"^--- ([a-z][a-z0-9-]*)(?:\[([^\]]*)\])?(?:\s*(:|!~|~)(?: (.*)|$)|\s*$)")
HEADER_SPEC_RE = re.compile(r"^([A-Za-z0-9!#$%&'*+.^_`|-]+)\s*(?::\s?(.*)|(!~|~)\s?(.*))$")
STATUS_LINE_RE = re.compile(r"HTTP/(\d(?:\.\d)?) (\d{3})(?: ([^\r\n]*))?\r?$", re.M)


class FormatError(Exception):
    pass


class HarnessError(Exception):
    pass


# --- the .t format ---------------------------------------------------------------------


class Section:
    def __init__(self, name, arg, op, value, block, lineno):
        self.name, self.arg, self.op, self.value, self.block, self.lineno = name, arg, op, value, block, lineno

    def __repr__(self):
        return "--- %s%s %s %r" % (self.name, "[%s]" % self.arg if self.arg is not None else "", self.op, self.value)


class Case:
    def __init__(self, number, title, lineno):
        self.number, self.title, self.lineno = number, title, lineno
        self.sections = []

    def one(self, name):
        for s in self.sections:
            if s.name == name:
                return s
        return None

    def all(self, name):
        return [s for s in self.sections if s.name == name]


def parse_file(path):
    """Returns (file-level sections, [Case]). Raises FormatError naming file:line."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = []
    cases = []
    current = header  # list the next section goes to
    i = 0

    def err(lineno, msg):
        raise FormatError("%s:%d: %s" % (path, lineno, msg))

    while i < len(lines):
        line = lines[i].rstrip("\r")
        lineno = i + 1
        i += 1
        if line.startswith("==="):
            title = line[3:].strip()
            if not title:
                err(lineno, "a case needs a title after ===")
            case = Case(len(cases) + 1, title, lineno)
            cases.append(case)
            current = case.sections
            continue
        if line.startswith("--- ") or line == "---":
            m = SECTION_RE.match(line)
            if not m:
                err(lineno, "cannot parse section line %r (expected `--- name`, `--- name: value` or `--- name ~ regex`)"
                    % line)
            name, arg, op, value = m.group(1), m.group(2), m.group(3), m.group(4)
            allowed = FILE_SECTIONS if current is header else CASE_SECTIONS
            if name not in allowed:
                err(lineno, "unknown %s section `--- %s` (known: %s)%s" % (
                    "file-level" if current is header else "case", name, ", ".join(sorted(allowed)),
                    "; cases start with `=== title`" if current is header and name in CASE_SECTIONS else ""))
            if arg is not None and name != "log":
                err(lineno, "only `--- log[FILE]` takes an argument in brackets")
            if value is None or value == "":
                if name not in BLOCK_SECTIONS:
                    err(lineno, "`--- %s` needs an inline value" % name)
                block = []
                while i < len(lines):
                    nxt = lines[i].rstrip("\r")
                    if nxt.startswith("===") or SECTION_RE.match(nxt) or nxt.startswith("--- "):
                        break
                    block.append(nxt)
                    i += 1
                while block and not block[-1].strip():
                    block.pop()
                if not block:
                    err(lineno, "`--- %s` has neither an inline value nor a block" % name)
                if op in ("~", "!~"):
                    value = "\n".join(block)
                else:
                    value = "\n".join(block) + "\n"
                current.append(Section(name, arg, op, value, True, lineno))
            else:
                if name in ("config", "setup", "run"):
                    err(lineno, "`--- %s` takes a block (the lines below it), not an inline value" % name)
                current.append(Section(name, arg, op, value, False, lineno))
            continue
        if line.strip() == "" or line.lstrip().startswith("#"):
            continue
        err(lineno, "stray text outside a block: %r" % line)

    for s in header:
        if [t.name for t in header].count(s.name) > 1:
            err(s.lineno, "`--- %s` given twice at file level" % s.name)
    for case in cases:
        names = [s.name for s in case.sections]
        for s in case.sections:
            if s.name in SINGLE_SECTIONS and names.count(s.name) > 1:
                err(s.lineno, "`--- %s` given twice in case %r" % (s.name, case.title))
            if s.name in ("status", "exit", "edgefn-exit", "timeout") and s.op != ":" and not (
                    s.name == "status" and s.op in ("~", "!~")):
                err(s.lineno, "`--- %s` takes `: VALUE`" % s.name)
            if s.name in ("exit", "edgefn-exit") and not re.fullmatch(r"-?\d+", s.value.strip()):
                err(s.lineno, "`--- %s` needs an integer" % s.name)
            if s.name == "timeout" and not re.fullmatch(r"\d+(\.\d+)?", s.value.strip()):
                err(s.lineno, "`--- timeout` needs seconds")
            if s.name == "header":
                if s.op != ":" or not HEADER_SPEC_RE.match(s.value):
                    err(s.lineno, "expected `--- header: NAME: VALUE`, `--- header: NAME ~ REGEX` or "
                        "`--- header: NAME !~ REGEX`")
            if s.name == "no-header" and (s.op != ":" or not s.value.strip()):
                err(s.lineno, "expected `--- no-header: NAME`")
            if s.name in ("body", "stdout", "stderr") and s.op is None and not s.block:
                err(s.lineno, "expected `--- %s: TEXT`, `--- %s ~ REGEX` or a block" % (s.name, s.name))
            if s.name == "log" and s.op not in ("~", "!~"):
                err(s.lineno, "expected `--- log ~ REGEX` or `--- log !~ REGEX`")
            if s.op in ("~", "!~") and s.name not in ("header",):
                try:
                    re.compile(HEADER_REF_RE.sub("x", VAR_RE.sub("x", s.value)))
                except re.error as e:
                    err(s.lineno, "bad regex %r: %s" % (s.value, e))
        if case.one("run") is None:
            err(case.lineno, "case %r has no `--- run` block" % case.title)
    t = [s for s in header if s.name == "timeout"]
    if t and not re.fullmatch(r"\d+(\.\d+)?", t[0].value.strip()):
        err(t[0].lineno, "`--- timeout` needs seconds")
    return header, cases


# --- processes -------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _child_setup(parent_pid):
    def setup():
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the harness died before prctl
            os._exit(1)
    return setup


def spawn(argv, **kw):
    return subprocess.Popen(argv, start_new_session=True, preexec_fn=_child_setup(os.getpid()), **kw)


def stop_process(proc, grace=STOP_GRACE):
    """SIGTERM, then SIGKILL after `grace` seconds. Returns (returncode, was_killed)."""
    if proc.poll() is not None:
        return proc.returncode, False
    try:
        proc.send_signal(signal.SIGTERM)
        return proc.wait(grace), False
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(), True
    except ProcessLookupError:
        return proc.wait(), False


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def describe_exit(code):
    if code is None:
        return "still running"
    if code < 0:
        try:
            return "killed by %s" % signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exit code %d" % code


# --- ports -----------------------------------------------------------------------------


class PortPool:
    """Hands out loopback ports nobody listens on, reserved against other harness runs by
    an flock on a file per port. Ports come from below the kernel's ephemeral range, so
    that connections made meanwhile cannot take them."""

    def __init__(self):
        self.dir = os.path.join(tempfile.gettempdir(), "edgefn-it-ports")
        os.makedirs(self.dir, exist_ok=True)
        self.locks = []
        lo = 32768
        try:
            with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
                lo = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
        self.range = (10000, max(lo - 1, 10100)) if lo > 11000 else (lo // 2, lo - 1)

    def take(self):
        rng = random.SystemRandom()
        for _ in range(500):
            port = rng.randint(*self.range)
            fd = os.open(os.path.join(self.dir, str(port)), os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            if self._free(port):
                self.locks.append(fd)
                return port
            os.close(fd)
        raise HarnessError("no free port found")

    @staticmethod
    def _free(port):
        for family, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            s = socket.socket(family, socket.SOCK_STREAM)
            try:
                if family == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((addr, port))
            except OSError as e:
                if family == socket.AF_INET6 and e.errno in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL):
                    continue
                return False
            finally:
                s.close()
        return True

    def release(self):
        for fd in self.locks:
            os.close(fd)
        self.locks = []


def accepts(port, timeout=0.2):
    for host in ("127.0.0.1", "::1"):
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except OSError:
            pass
    return False


# --- text helpers ----------------------------------------------------------------------


def decode(b):
    return b.decode("utf-8", errors="replace")


def shown(text, limit=OUTPUT_LIMIT):
    """Text for a diagnostic: control characters escaped, long text cut in the middle."""
    text = "".join(c if (c == "\n" or c == "\t" or 32 <= ord(c) < 127 or ord(c) > 159) else repr(c)[1:-1]
                   for c in text)
    if len(text) > limit:
        text = text[: limit // 2] + "\n[... %d characters left out ...]\n" % (len(text) - limit) + text[-limit // 2:]
    return text


def indent(text, prefix="#     "):
    if text == "":
        return prefix + "(empty)"
    return "\n".join(prefix + line for line in text.rstrip("\n").split("\n"))


def read_from(path, offset):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            if size < offset:  # truncated or replaced: read it all
                offset = 0
            f.seek(offset)
            return decode(f.read())
    except FileNotFoundError:
        return None


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


# --- HTTP responses in stdout ----------------------------------------------------------


class Response:
    def __init__(self, version, status, reason, headers, body, raw_head):
        self.version, self.status, self.reason = version, status, reason
        self.headers = headers  # [(lower name, value)]
        self.body = body
        self.raw_head = raw_head

    def values(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def get(self, name):
        v = self.values(name)
        return ", ".join(v) if v else None


def _parse_head(text, pos):
    """Parses a status line and headers at `pos`. Returns (Response without body, end) or None."""
    m = STATUS_LINE_RE.match(text, pos)
    if not m:
        return None
    headers = []
    p = m.end() + 1 if m.end() < len(text) and text[m.end()] == "\n" else m.end()
    while True:
        nl = text.find("\n", p)
        if nl < 0:
            line, nxt = text[p:], len(text)
        else:
            line, nxt = text[p:nl], nl + 1
        line = line.rstrip("\r")
        if line == "":
            p = nxt
            break
        if line[0] in " \t" and headers:  # obsolete line folding
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
        else:
            name, colon, value = line.partition(":")
            if not colon:
                return None
            headers.append((name.strip().lower(), value.strip()))
        p = nxt
        if nl < 0:
            break
    return Response(m.group(1), int(m.group(2)), (m.group(3) or "").strip(), headers, "", text[pos:p]), p


def parse_last_response(text):
    """The last HTTP response in `text` (curl -i / -D - output): skips 1xx interim
    responses and earlier responses of a redirect chain or of several URLs. Returns None
    when `text` holds no status line."""
    m = re.search(r"^HTTP/\d(?:\.\d)? \d{3}", text, re.M)
    if not m:
        return None
    pos = m.start()
    last = None
    while True:
        parsed = _parse_head(text, pos)
        if parsed is None:
            break
        res, body_start = parsed
        last = res
        if 100 <= res.status < 200:
            pos = body_start
            continue
        rest = text[body_start:]
        nxt = None
        cl = res.get("content-length")
        if cl is not None and cl.isdigit() and text.startswith("HTTP/", body_start + int(cl)) and \
                STATUS_LINE_RE.match(text, body_start + int(cl)):
            nxt = body_start + int(cl)
        elif text.startswith("HTTP/", body_start) and STATUS_LINE_RE.match(text, body_start):
            nxt = body_start  # HEAD, 204, 304, or -D - with -o
        else:
            for m2 in re.finditer(r"(?<=\n)HTTP/\d(?:\.\d)? \d{3}", rest):
                cand = body_start + m2.start()
                p2 = _parse_head(text, cand)
                if p2 is not None and p2[0].headers:
                    nxt = cand
                    break
        if nxt is None:
            res.body = rest
            break
        res.body = text[body_start:nxt]
        pos = nxt
    return last


# --- running a file --------------------------------------------------------------------


class Runner:
    def __init__(self, args, path, header, cases):
        self.args = args
        self.path = os.path.abspath(path)
        self.header = {s.name: s for s in header}
        self.cases = cases
        self.tmp = None
        self.ports = PortPool()
        self.origin = None
        self.edgefn = None
        self.edgefn_config = None  # the text edgefn was started with
        self.edgefn_offset = 0  # where this edgefn's stderr starts in edgefn.stderr
        self.failed_configs = {}  # config text -> why it did not start
        self.case_proc = None
        self.vars = {}
        self.stopped_codes = []
        self.failures = 0

    # -- environment

    def setup_env(self):
        base = os.path.splitext(os.path.basename(self.path))[0]
        self.tmp = tempfile.mkdtemp(prefix="edgefn-it-%s-" % re.sub(r"[^A-Za-z0-9_-]", "_", base))
        v = self.vars
        for name in ("PORT", "PORT2", "TLS_PORT", "ADMIN_PORT", "DEAD_PORT"):
            v[name] = str(self.ports.take())
        v["EDGEFN"] = self.args.edgefn
        v["EDGEFN_PID"] = ""
        v["TMP"] = self.tmp
        v["SRC"] = SRC
        v["TOOLS"] = os.path.join(HERE, "tools")
        v["PYTHON"] = sys.executable
        v["CERT"] = os.path.join(self.tmp, "cert.pem")
        v["KEY"] = os.path.join(self.tmp, "key.pem")
        self.make_cert()
        self.start_origin()

    def make_cert(self):
        r = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", self.vars["KEY"], "-out", self.vars["CERT"]],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        if r.returncode != 0:
            raise HarnessError("openssl could not make a certificate:\n" + decode(r.stdout))

    def start_origin(self):
        err = open(os.path.join(self.tmp, "origin.stderr"), "wb")
        self.origin = spawn([sys.executable, os.path.join(HERE, "origin.py"), "--bind", "127.0.0.1", "--port", "0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, cwd=self.tmp)
        err.close()
        r, _, _ = select.select([self.origin.stdout], [], [], 15)
        line = self.origin.stdout.readline() if r else b""
        if not line.strip().isdigit():
            raise HarnessError("the test origin did not start:\n" + (read_from(err.name, 0) or ""))
        self.vars["ORIGIN_PORT"] = line.decode().strip()

    def today(self):
        """$TODAY: the UTC date, as in function log file names (NAME-YYYY-MM-DD.log); read when used."""
        self.vars["TODAY"] = time.strftime("%Y-%m-%d", time.gmtime())

    def env(self):
        self.today()
        env = dict(os.environ)
        for k in list(env):
            if k.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"):
                del env[k]
        env.update(self.vars)
        env["CURL_HOME"] = self.tmp  # no ~/.curlrc
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # the tools must not leave __pycache__ in the source tree
        env["LC_ALL"] = "C"
        return env

    def subst(self, text, regex=False):
        self.today()

        def var(m):
            value = self.vars.get(m.group(1) or m.group(2), "")
            return re.escape(value) if regex else value
        return VAR_RE.sub(var, text)

    # -- edgefn

    def edgefn_stderr_path(self):
        return os.path.join(self.tmp, "edgefn.stderr")

    def edgefn_tail(self, lines=EDGEFN_TAIL):
        text = read_from(self.edgefn_stderr_path(), self.edgefn_offset)
        if text is None:
            return "(no edgefn.stderr)"
        rows = text.rstrip("\n").split("\n") if text else []
        head = "" if len(rows) <= lines else "[... %d earlier lines ...]\n" % (len(rows) - lines)
        return head + shown("\n".join(rows[-lines:]))

    def edgefn_running(self):
        return self.edgefn is not None and self.edgefn.poll() is None

    def stop_edgefn(self):
        if self.edgefn is None:
            return
        code, killed = stop_process(self.edgefn)
        self.stopped_codes.append((code, killed))
        self.edgefn = None
        self.edgefn_config = None
        self.vars["EDGEFN_PID"] = ""

    def ensure_edgefn(self, config):
        """Makes edgefn run with `config` (None: not at all). Returns an error text or None."""
        if config is None:
            self.stop_edgefn()
            return None
        text = self.subst(config.value)
        if self.edgefn_running() and self.edgefn_config == text:
            return None
        self.stop_edgefn()
        if text in self.failed_configs:
            return "edgefn did not start with this config; see the first case that used it"
        if not os.path.exists(self.args.edgefn):
            why = "the edgefn binary %s does not exist" % self.args.edgefn
            self.failed_configs[text] = why
            return why
        conf_path = os.path.join(self.tmp, "edgefn.yaml")
        with open(conf_path, "w") as f:
            f.write(text)
        self.edgefn_offset = file_size(self.edgefn_stderr_path())
        with open(self.edgefn_stderr_path(), "ab") as err:
            self.edgefn = spawn([self.args.edgefn, "-c", conf_path], stdin=subprocess.DEVNULL, stdout=err,
                                stderr=err, cwd=self.tmp, env=self.env())
        self.edgefn_config = text
        self.vars["EDGEFN_PID"] = str(self.edgefn.pid)
        ports = [self.vars[n] for n in PORT_VARS if re.search(r"\$(\{%s\}|%s(?![A-Za-z0-9_]))" % (n, n), config.value)]
        deadline = time.monotonic() + START_TIMEOUT
        waiting = list(ports)
        while True:
            if self.edgefn.poll() is not None:
                why = "edgefn exited during start-up (%s) with this config:\n%s\nedgefn's stderr:\n%s" % (
                    describe_exit(self.edgefn.returncode), text, self.edgefn_tail())
                self.failed_configs[text] = why
                self.edgefn = None
                self.vars["EDGEFN_PID"] = ""
                return why
            waiting = [p for p in waiting if not accepts(int(p))]
            if not waiting:
                return None
            if time.monotonic() > deadline:
                why = "edgefn did not accept connections on port(s) %s within %gs; its stderr:\n%s" % (
                    ", ".join(waiting), START_TIMEOUT, self.edgefn_tail())
                self.failed_configs[text] = why
                self.stop_edgefn()
                return why
            time.sleep(0.05)

    # -- scripts

    def run_script(self, script, timeout, label):
        """Runs `script` with bash in $TMP. Returns (exit code or None on timeout, stdout, stderr)."""
        out_path = os.path.join(self.tmp, "%s.stdout" % label)
        err_path = os.path.join(self.tmp, "%s.stderr" % label)
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            self.case_proc = spawn(["bash", "-c", script], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   cwd=self.tmp, env=self.env())
        code = None
        try:
            code = self.case_proc.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            kill_group(self.case_proc.pid)  # also whatever it left in the background
            self.case_proc.wait()
            self.case_proc = None
        with open(out_path, "rb") as f:
            stdout = decode(f.read())
        with open(err_path, "rb") as f:
            stderr = decode(f.read())
        return code, stdout, stderr

    # -- one case

    def run_case(self, case):
        diags = []  # lines explaining a failure
        skip = case.one("skip")
        if skip:
            print("ok %d - %s # SKIP %s" % (case.number, case.title, skip.value))
            return True
        timeout = float((case.one("timeout") or self.header.get("timeout") or Section("", None, ":", str(
            DEFAULT_CASE_TIMEOUT), False, 0)).value)

        setup = case.one("setup")
        if setup:
            code, out, err = self.run_script(self.subst(setup.value), timeout, "case%d-setup" % case.number)
            if code != 0:
                return self.report(case, ["the case's --- setup failed (%s)" % (
                    "timed out" if code is None else describe_exit(code)), "stdout:", indent(shown(out)), "stderr:",
                    indent(shown(err))], None, None, None)

        if self.edgefn is not None and self.edgefn.poll() is not None:
            # it died after the previous case ended (a late crash): blame this case, loudly
            diags.append("edgefn had exited (%s) after the previous case; its stderr:" % describe_exit(
                self.edgefn.returncode))
            diags.append(indent(self.edgefn_tail()))
            self.edgefn = None
            self.edgefn_config = None
            self.vars["EDGEFN_PID"] = ""

        config = case.one("config") or self.header.get("config")
        before = self.edgefn
        why = self.ensure_edgefn(config)
        started_now = self.edgefn is not None and self.edgefn is not before
        if why:
            first, _, rest = why.partition("\n")
            return self.report(case, diags + ["edgefn is not running: " + first] + (
                [indent(rest, "#   ")] if rest else []), None, None, None)
        had_edgefn = self.edgefn_running()
        edgefn = self.edgefn

        # --- log looks at what was written during the case; for edgefn's stderr, also at what
        # an edgefn started for this case wrote while starting
        logs = {}
        for s in case.all("log"):
            p = self.log_path(s)
            logs[p] = self.edgefn_offset if p == self.edgefn_stderr_path() and started_now else file_size(p)

        started = time.monotonic()
        script = self.subst(case.one("run").value)
        code, stdout, stderr = self.run_script(script, timeout, "case%d" % case.number)
        elapsed = time.monotonic() - started

        if code is None:
            diags.append("the --- run script timed out after %gs (raise it with --- timeout: SECONDS)" % timeout)
        else:
            want = int((case.one("exit") or Section("exit", None, ":", "0", False, 0)).value)
            if code != want:
                diags.append("exit: expected %d, got %s" % (want, describe_exit(code)))

        response = parse_last_response(stdout)
        http_checks = [s for s in case.sections if s.name in ("status", "header", "no-header", "body")]
        needs_response = http_checks or any(HEADER_REF_RE.search(s.value) for s in case.sections if s.op)
        if needs_response and response is None:
            diags.append("expected an HTTP response in stdout (curl -i or -D -), found none")
        elif response is not None and http_checks:
            self.check_response(case, response, stdout, diags)

        m = SANITIZER_RE.search(stderr)
        if m:  # an edgefn the script ran itself (edgefn check, ...) reported a memory error or a leak
            diags.append("the script's stderr has a sanitizer report: %s" % stderr[m.start():m.start() + 200].split("\n")[0])
        for s in case.all("stdout"):
            self.check_text(s, "stdout", stdout, response, diags)
        for s in case.all("stderr"):
            self.check_text(s, "stderr", stderr, response, diags)

        for s in case.all("log"):
            self.check_log(s, logs, response, diags)

        exit_sec = case.one("edgefn-exit")
        if exit_sec:
            want = int(exit_sec.value)
            if edgefn is None:
                diags.append("edgefn-exit: edgefn was not running in this case")
            else:
                try:
                    got = edgefn.wait(EXIT_WAIT)
                except subprocess.TimeoutExpired:
                    got = None
                if got is None:
                    diags.append("edgefn-exit: expected edgefn to exit with %d within %gs, it is still running" % (
                        want, EXIT_WAIT))
                    self.stop_edgefn()
                elif got != want:
                    diags.append("edgefn-exit: expected %d, got %s" % (want, describe_exit(got)))
                if self.edgefn is edgefn and edgefn.poll() is not None:
                    self.edgefn = None
                    self.edgefn_config = None
                    self.vars["EDGEFN_PID"] = ""
        elif had_edgefn and edgefn.poll() is not None:
            diags.append("edgefn exited during the case (%s) and the case did not expect it (--- edgefn-exit)" %
                         describe_exit(edgefn.returncode))
            self.edgefn = None
            self.edgefn_config = None
            self.vars["EDGEFN_PID"] = ""

        if diags:
            diags.append("--- run script (%.2fs, %s):" % (elapsed, "timed out" if code is None else describe_exit(code)))
            diags.append(indent(script))
            diags.append("stdout:")
            diags.append(indent(shown(stdout)))
            diags.append("stderr:")
            diags.append(indent(shown(stderr)))
        return self.report(case, diags, config, had_edgefn, elapsed, stdout, stderr)

    def report(self, case, diags, config, had_edgefn, elapsed, stdout=None, stderr=None):
        if not diags:
            print("ok %d - %s%s" % (case.number, case.title, "" if elapsed is None else " (%.2fs)" % elapsed
                                    if self.args.verbose else ""))
            if self.args.verbose and stdout is not None:
                print("#   stdout:\n" + indent(shown(stdout)) + "\n#   stderr:\n" + indent(shown(stderr)))
            return True
        print("not ok %d - %s" % (case.number, case.title))
        print("#   at %s:%d" % (self.path, case.lineno))
        for d in diags:
            for line in d.split("\n"):
                print(line if line.startswith("#") else "#   " + line)
        if config is not None and had_edgefn is not None:
            print("#   edgefn's stderr (this instance, last %d lines):" % EDGEFN_TAIL)
            print(indent(self.edgefn_tail()))
        sys.stdout.flush()
        return False

    def log_path(self, s):
        if s.arg is None:
            return self.edgefn_stderr_path()
        p = self.subst(s.arg)
        return p if os.path.isabs(p) else os.path.join(self.tmp, p)

    def expand(self, text, response, regex, diags):
        """Substitutes variables and ${header:NAME} in an expectation."""
        text = self.subst(text, regex)

        def ref(m):
            v = response.get(m.group(1)) if response is not None else None
            if v is None:
                diags.append("${header:%s} is used, but the response has no such header" % m.group(1))
                return "\0no such header\0"
            return re.escape(v) if regex else v
        return HEADER_REF_RE.sub(ref, text)

    def match(self, s, what, actual, response, diags):
        """Checks `actual` against section `s` (exact or regex). Appends to diags."""
        if s.op in ("~", "!~"):
            pattern = self.expand(s.value, response, True, diags)
            found = re.search(pattern, actual) is not None
            if found != (s.op == "~"):
                diags.append("%s: expected %s match %s, got:" % (
                    what, "a" if s.op == "~" else "no", "/%s/" % pattern))
                diags.append(indent(shown(actual)))
        else:
            want = self.expand(s.value, response, False, diags)
            if actual != want:
                diags.append("%s: expected exactly:" % what)
                diags.append(indent(shown(want)))
                diags.append("got:")
                diags.append(indent(shown(actual)))
                if actual.rstrip() == want.rstrip():
                    diags.append("(they differ only in whitespace at the end: expected ...%r, got ...%r; an inline "
                                 "value has no newline at the end, a block has one)" % (want[-8:], actual[-8:]))

    def check_response(self, case, res, stdout, diags):
        s = case.one("status")
        if s:
            if s.op == ":":
                if str(res.status) != s.value.strip():
                    diags.append("status: expected %s, got %d" % (s.value.strip(), res.status))
            else:
                self.match(s, "status", str(res.status), res, diags)
        for s in case.all("header"):
            m = HEADER_SPEC_RE.match(s.value)
            name = m.group(1)
            values = res.values(name)
            actual = ", ".join(values)
            if m.group(3) is None:  # exact
                want = self.expand(m.group(2).strip(), res, False, diags)
                if not values:
                    diags.append("header %s: expected %r, but the response has no %s header" % (name, want, name))
                elif actual != want:
                    diags.append("header %s: expected %r, got %r" % (name, want, actual))
            else:
                op = m.group(3)
                pattern = self.expand(m.group(4), res, True, diags)
                if op == "~" and not values:
                    diags.append("header %s: expected a match for /%s/, but the response has no %s header" % (
                        name, pattern, name))
                elif (re.search(pattern, actual) is not None) != (op == "~"):
                    diags.append("header %s: expected %s match for /%s/, got %r" % (
                        name, "a" if op == "~" else "no", pattern, actual))
        for s in case.all("no-header"):
            name = s.value.strip()
            if res.values(name):
                diags.append("no-header %s: the response has %s: %r" % (name, name, res.get(name)))
        for s in case.all("body"):
            self.match(s, "body", res.body, res, diags)
        if any(d for d in diags if d.startswith(("status:", "header", "no-header", "body"))) and \
                res.raw_head + res.body != stdout:
            diags.append("the response these apply to (the last one in stdout):")
            diags.append(indent(shown(res.raw_head + res.body)))

    def check_text(self, s, what, actual, response, diags):
        self.match(s, what, actual, response, diags)

    def check_log(self, s, offsets, response, diags):
        path = self.log_path(s)
        pattern = self.expand(s.value, response, True, diags)
        rx = re.compile(pattern, re.M)
        shown_path = "edgefn's stderr" if s.arg is None else path
        if s.op == "~":
            deadline = time.monotonic() + LOG_WAIT
            while True:
                text = read_from(path, offsets[path])
                if text is not None and rx.search(text):
                    return
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            diags.append("log %s: expected a match for /%s/ within %gs in what was written during the case, got:" % (
                shown_path, pattern, LOG_WAIT))
            diags.append(indent(shown(text) if text is not None else "(the file does not exist)"))
        else:
            text = read_from(path, offsets[path]) or ""
            if rx.search(text):
                diags.append("log %s: expected no match for /%s/, got:" % (shown_path, pattern))
                diags.append(indent(shown(text)))

    # -- the whole file

    def run(self):
        selected = [c for c in self.cases if not self.args.filter or re.search(self.args.filter, c.title)]
        print("# %s (%d of %d cases), tmp %s" % (self.path, len(selected), len(self.cases), self.tmp))
        setup = self.header.get("setup")
        if setup:
            code, out, err = self.run_script(self.subst(setup.value), DEFAULT_CASE_TIMEOUT, "file-setup")
            if code != 0:
                print("not ok 0 - file-level --- setup (%s)" % ("timed out" if code is None else describe_exit(code)))
                print(indent(shown(out + err), "#   "))
                return False
        ok = True
        for case in selected:
            if not self.run_case(case):
                ok = False
                self.failures += 1
            sys.stdout.flush()
        self.stop_edgefn()
        text = read_from(self.edgefn_stderr_path(), 0) or ""
        m = SANITIZER_RE.search(text)
        if m:
            ok = False
            start = text.rfind("\n", 0, max(0, m.start() - 1)) + 1
            print("not ok %d - edgefn's stderr has no sanitizer reports" % (len(self.cases) + 1))
            print(indent(shown(text[start:start + 4000]), "#   "))
        for code, killed in self.stopped_codes:
            if killed:
                print("# note: edgefn did not exit within %gs of SIGTERM and was killed" % STOP_GRACE)
        total = len(selected)
        print("# %s: %d of %d cases passed" % (os.path.basename(self.path), total - self.failures, total))
        return ok

    def cleanup(self):
        if self.case_proc is not None:
            kill_group(self.case_proc.pid)
            try:
                self.case_proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if self.edgefn is not None:
            stop_process(self.edgefn)
            kill_group(self.edgefn.pid)
        if self.origin is not None:
            stop_process(self.origin)
            kill_group(self.origin.pid)
        self.ports.release()
        if self.tmp and not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp:
            print("# kept %s" % self.tmp)


def _on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main():
    ap = argparse.ArgumentParser(description="Run one edgefn integration-test file.")
    ap.add_argument("--edgefn", required=True, help="path to the edgefn binary")
    ap.add_argument("--filter", help="run only the cases whose title matches this regex")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir ($TMP) and print its path")
    ap.add_argument("--list", action="store_true", help="only parse the file and list its cases")
    ap.add_argument("-v", "--verbose", action="store_true", help="also show passing cases' output and times")
    ap.add_argument("file", help="the .t file")
    args = ap.parse_args()
    args.edgefn = os.path.abspath(args.edgefn)
    try:
        header, cases = parse_file(args.file)
    except (FormatError, OSError) as e:
        print("Bail out! %s" % e)
        return 2
    if not cases:
        print("Bail out! %s has no cases" % args.file)
        return 2
    if args.filter:
        try:
            re.compile(args.filter)
        except re.error as e:
            print("Bail out! bad --filter: %s" % e)
            return 2
    if args.list:
        for c in cases:
            if not args.filter or re.search(args.filter, c.title):
                print("%d - %s" % (c.number, c.title))
        return 0
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    runner = Runner(args, args.file, header, cases)
    try:
        runner.setup_env()
        ok = runner.run()
        return 0 if ok else 1
    except KeyboardInterrupt as e:
        print("Bail out! interrupted (%s)" % (e or "Ctrl-C"))
        return 130
    except HarnessError as e:
        print("Bail out! %s" % e)
        return 2
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        runner.cleanup()


if __name__ == "__main__":
    sys.exit(main())
