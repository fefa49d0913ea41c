# process-environments.t: the execution environments behind process functions, seen
# from curl and the function's log file. `runtime: provided` runs the function's own
# bootstrap (a bash loop with curl as in AWS's tutorial, a python one); provisioned
# environments are up before the first request; a timeout, a crash, an init error, a
# function error and an out-of-memory kill are 503s that cost one request (the next one
# gets a new environment); reserved concurrency throttles, or queues for queue-timeout;
# idle environments are reaped after idle-timeout; and the Runtime API answers a
# misbehaving runtime as AWS's does (400 InvalidRequestID, 403 InvalidStateTransition,
# 413 RequestEntityTooLarge): the bootstrap prints the statuses it got to its log.
--- setup
mkdir -p flogs

# ---- provided: bash, as in AWS's tutorial (a bootstrap and function.sh)
mkdir -p bashfn
cat > bashfn/bootstrap <<'SH'
#!/bin/bash
set -euo pipefail
# Initialization - load the function handler
source "$LAMBDA_TASK_ROOT/$(echo "$_HANDLER" | cut -d. -f1).sh"
echo "bash bootstrap ready, handler $_HANDLER"
# what the process was started with: no blocked or ignored signal, a session of its own, stdin from /dev/null
# (a child's view: bash blocks SIGCHLD and ignores SIGQUIT for itself, not for what it runs)
grep -E '^Sig(Blk|Ign):' /proc/self/status | tr '\t' ' '
echo "session leader: $(( $(ps -o sid= -p $$) == $$ )), stdin: $(readlink /proc/$$/fd/0)"
# Processing
while true
do
  HEADERS="$(mktemp)"
  # Get an event. The HTTP request blocks until one is received
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  # Extract the request ID by scraping the response headers received above
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$HEADERS"
  # Run the handler function from the script
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")
  # Send the response
  curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" -d "$RESPONSE"
  echo
done
SH
cat > bashfn/function.sh <<'SH'
function handler () {
  EVENT_DATA=$1
  URI=$(printf '%s' "$EVENT_DATA" | sed -n 's/.*"uri":"\([^"]*\)".*/\1/p')
  echo "bash handler got $URI" 1>&2
  RESPONSE="{\"status\":\"200\",\"headers\":{\"content-type\":[{\"key\":\"Content-Type\",\"value\":\"text/plain\"}],\"x-bash\":[{\"key\":\"X-Bash\",\"value\":\"$AWS_LAMBDA_FUNCTION_NAME\"}]},\"body\":\"hello from bash for $URI\\n\"}"
  echo "$RESPONSE"
}
SH
chmod +x bashfn/bootstrap

# ---- provided: python, with http.client; it adds headers and sends the request on to /echo
mkdir -p pyprov
cat > pyprov/bootstrap <<'PY'
#!/usr/bin/python3
import http.client
import json
import os
import time

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port))
print("python bootstrap ready, initialization", os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], flush=True)
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    res = conn.getresponse()
    event = json.loads(res.read())
    rid = res.getheader("Lambda-Runtime-Aws-Request-Id")
    deadline = int(res.getheader("Lambda-Runtime-Deadline-Ms"))
    cf = event["Records"][0]["cf"]
    req = cf["request"]
    print("python handler got", req["uri"], flush=True)
    info = "id=%s arn=%s deadline=%s trace=%s" % (
        "ok" if rid == cf["config"]["requestId"] + "-" + cf["config"]["eventType"] else rid,
        res.getheader("Lambda-Runtime-Invoked-Function-Arn"),
        "future" if time.time() * 1000 < deadline < time.time() * 1000 + 6000 else deadline,
        "yes" if (res.getheader("Lambda-Runtime-Trace-Id") or "").startswith("Root=1-") else "no")
    req["headers"]["x-provided"] = [{"key": "X-Provided", "value": "python bootstrap"}]
    req["headers"]["x-runtime-info"] = [{"key": "X-Runtime-Info", "value": info}]
    req["uri"] = "/echo" + req["uri"]
    conn.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid, json.dumps(req),
                 {"Content-Type": "application/json"})
    r = conn.getresponse()
    print("posted the response:", r.status, r.read().decode(), flush=True)
PY
chmod +x pyprov/bootstrap

# ---- provided: a runtime that misbehaves on purpose, and prints what the Runtime API answered
mkdir -p rapi
cat > rapi/bootstrap <<'PY'
#!/usr/bin/python3
import http.client
import json
import os
import socket
import time

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
BASE = "/2018-06-01/runtime/"
MAX = 6291556
conn = http.client.HTTPConnection(host, int(port))

def call(method, path, body=None, headers={}, c=None):
    c = c or conn
    c.request(method, BASE + path, body, headers)
    r = c.getresponse()
    text = r.read().decode()
    try:
        kind = json.loads(text).get("errorType", "")
    except ValueError:
        kind = "(not json: %r)" % text[:40]
    return r.status, kind

def say(what, answer):
    print("rapi: %s -> %d %s" % (what, answer[0], answer[1]), flush=True)

def ok(rid, body="fine"):
    return call("POST", "invocation/%s/response" % rid, json.dumps({"status": "200", "body": body + "\n"}))

def padded(size):
    # a valid result of exactly `size` bytes: JSON, then spaces
    doc = json.dumps({"status": "200", "body": "big enough\n"})
    return (doc + " " * (size - len(doc))).encode()

say("GET invocation/next/extra", call("GET", "invocation/next/extra"))
while True:
    conn.request("GET", BASE + "invocation/next")
    res = conn.getresponse()
    event = json.loads(res.read())
    rid = res.getheader("Lambda-Runtime-Aws-Request-Id")
    what = event["Records"][0]["cf"]["request"]["querystring"]
    if what == "wrong-id":
        say("response for a wrong id", call("POST", "invocation/not-" + rid + "/response", "{}"))
        say("response for the right id", ok(rid, "answered after a wrong id"))
    elif what == "twice":
        say("first answer", ok(rid, "first answer"))
        say("second answer", ok(rid, "second answer"))
        say("error after the answer", call("POST", "invocation/%s/error" % rid, "{}"))
    elif what == "oversized":
        say("response of %d bytes" % (MAX + 1), call("POST", "invocation/%s/response" % rid, padded(MAX + 1)))
    elif what == "max":
        say("response of %d bytes" % MAX, call("POST", "invocation/%s/response" % rid, padded(MAX)))
    elif what == "late-init-error":
        say("init/error after init", call("POST", "init/error", json.dumps({"errorMessage": "late", "errorType": "Late"})))
        say("response", ok(rid, "answered after a late init error"))
    elif what == "methods":
        say("GET on the response path", call("GET", "invocation/%s/response" % rid))
        say("GET on a path that does not exist", call("GET", "nonsense"))
        say("POST on invocation/next", call("POST", "invocation/next", "{}"))
        say("response", ok(rid, "methods checked"))
    elif what == "error":
        say("error", call("POST", "invocation/%s/error" % rid,
                          json.dumps({"errorMessage": "custom failure in the provided runtime",
                                      "errorType": "CustomError", "stackTrace": []}),
                          {"Lambda-Runtime-Function-Error-Type": "CustomError",
                           # runtime clients send the X-Ray error cause in a header of a kilobyte or more
                           "Lambda-Runtime-Function-XRay-Error-Cause":
                               json.dumps({"working_directory": "/var/task", "exceptions": [
                                   {"type": "CustomError", "message": "x" * 1500}], "paths": []})}))
    elif what == "abandon":
        say("response", ok(rid, "answered; now a poll that is given up"))
        # a poll on a connection of its own, closed at once: the next event must not go there
        s = socket.create_connection((host, int(port)))
        s.sendall(("GET " + BASE + "invocation/next HTTP/1.1\r\nHost: x\r\n\r\n").encode())
        s.close()
        time.sleep(1.0)
        print("rapi: polling again on the first connection", flush=True)
    else:
        say("response", ok(rid, "plain " + what))
PY
chmod +x rapi/bootstrap

# ---- provided: a bootstrap that answers its first event and then never asks for another
mkdir -p once
cat > once/bootstrap <<'PY'
#!/usr/bin/python3
import http.client, json, os, time
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port))
conn.request("GET", "/2018-06-01/runtime/invocation/next")
res = conn.getresponse()
event = json.loads(res.read())
rid = res.getheader("Lambda-Runtime-Aws-Request-Id")
conn.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid,
             json.dumps({"status": "200", "body": "answered once\n"}))
conn.getresponse().read()
print("once: answered, now stuck", flush=True)
time.sleep(3600)
PY
chmod +x once/bootstrap

# ---- provided: a python bootstrap that takes 1s to start (slow provisioned environments)
mkdir -p slowinit
cat > slowinit/bootstrap <<'PY'
#!/usr/bin/python3
import http.client
import json
import os
import time

time.sleep(1)
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
conn = http.client.HTTPConnection(host, int(port))
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    res = conn.getresponse()
    res.read()
    rid = res.getheader("Lambda-Runtime-Aws-Request-Id")
    body = "served by a %s environment\n" % os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]
    conn.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid, json.dumps({"status": "200", "body": body}))
    conn.getresponse().read()
PY
chmod +x slowinit/bootstrap

# ---- node functions: sleep, crash, throw, allocate, tell their pid
mkdir -p misc
cat > misc/slow.js <<'JS'
exports.handler = async (event) => {
  const q = new URLSearchParams(event.Records[0].cf.request.querystring);
  const ms = Number(q.get('ms') || 0);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { status: '200', headers: { 'x-pid': [{ key: 'X-Pid', value: String(process.pid) }] }, body: 'slept ' + ms + '\n' };
};
JS
cat > misc/crash.js <<'JS'
exports.handler = async (event) => {
  if (event.Records[0].cf.request.querystring === 'crash') {
    console.log('about to exit');
    process.exit(1);
  }
  return { status: '200', headers: { 'x-pid': [{ key: 'X-Pid', value: String(process.pid) }] }, body: 'alive\n' };
};
JS
cat > misc/throw.js <<'JS'
exports.handler = async (event) => {
  if (event.Records[0].cf.request.querystring === 'ok') return { status: '200', body: 'no throw\n' };
  throw new Error('kaboom at ' + event.Records[0].cf.request.uri);
};
JS
cat > misc/hog.js <<'JS'
exports.handler = async (event) => {
  if (event.Records[0].cf.request.querystring === 'ok') return { status: '200', body: 'small\n' };
  const big = Buffer.alloc(300 * 1024 * 1024, 1);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return { status: '200', body: 'allocated ' + big.length + '\n' };
};
JS
cat > misc/pid.js <<'JS'
const loadedAt = Date.now();
exports.handler = async (event) => {
  const q = event.Records[0].cf.request.querystring;
  if (q.startsWith('ms=')) await new Promise((resolve) => setTimeout(resolve, Number(q.slice(3))));
  return {
    status: '200',
    headers: { 'x-pid': [{ key: 'X-Pid', value: String(process.pid) }] },
    body: 'pid ' + process.pid + ' ' + process.env.AWS_LAMBDA_INITIALIZATION_TYPE + ' loaded ' + (Date.now() - loadedAt) + ' ms ago\n',
  };
};
JS
cat > misc/marker.js <<'JS'
const fs = require('fs');
exports.handler = async (event) => {
  const name = '/tmp/marker-' + event.Records[0].cf.request.querystring;
  fs.writeFileSync(name, 'here');
  return { status: '200', body: 'marked ' + name + '\n' };
};
JS
mkdir -p initboom
cat > initboom/index.js <<'JS'
console.log('loading a module that throws');
throw new Error('the module failed to load');
JS

# ---- python functions
mkdir -p pmisc pinitboom
cat > pmisc/throw.py <<'PY'
def handler(event, context):
    raise ValueError("python kaboom at " + event["Records"][0]["cf"]["request"]["uri"])
PY
cat > pmisc/hog.py <<'PY'
import time

def handler(event, context):
    big = b"\x01" * (300 << 20)
    time.sleep(1)
    return {"status": "200", "body": "allocated %d\n" % len(big)}
PY
cat > pmisc/slow.py <<'PY'
import time

def handler(event, context):
    time.sleep(2)
    return {"status": "200", "body": "slept\n"}
PY
cat > pinitboom/index.py <<'PY'
import no_such_module_anywhere

def handler(event, context):
    return event["Records"][0]["cf"]["request"]
PY

--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
function-logs: flogs
functions:
  bash: { runtime: provided, code: bashfn/, handler: function.handler }
  pyprov: { runtime: provided, code: pyprov/ }
  rapi: { runtime: provided, code: rapi/, timeout: 3s }
  once: { runtime: provided, code: once/, timeout: 1s }
  prov:
    runtime: nodejs
    code: misc/
    handler: pid.handler
    concurrency: { reserved: 2, provisioned: 2 }
  slow: { runtime: nodejs, code: misc/, handler: slow.handler, timeout: 300ms }
  p-slow: { runtime: python, code: pmisc/, handler: slow.handler, timeout: 300ms }
  crash: { runtime: nodejs, code: misc/, handler: crash.handler, timeout: 10s }
  thrower: { runtime: nodejs, code: misc/, handler: throw.handler }
  p-thrower: { runtime: python, code: pmisc/, handler: throw.handler }
  hog: { runtime: nodejs, code: misc/, handler: hog.handler, memory: 128MB, timeout: 10s }
  p-hog: { runtime: python, code: pmisc/, handler: hog.handler, timeout: 10s }
  init-boom: { runtime: nodejs, code: initboom/ }
  no-export: { runtime: nodejs, code: misc/, handler: pid.nosuch }
  p-init-boom: { runtime: python, code: pinitboom/ }
  single:
    runtime: nodejs
    code: misc/
    handler: slow.handler
    concurrency: { reserved: 1 }
  queued:
    runtime: nodejs
    code: misc/
    handler: slow.handler
    concurrency: { reserved: 1 }
    queue-timeout: 5s
  short-queue:
    runtime: nodejs
    code: misc/
    handler: slow.handler
    concurrency: { reserved: 1 }
    queue-timeout: 200ms
  idle: { runtime: nodejs, code: misc/, handler: pid.handler, idle-timeout: 1s }
  marker-$PORT: { runtime: nodejs, code: misc/, handler: marker.handler, idle-timeout: 1s }
behaviors:
  - path: /bash*
    origin: app
    viewer-request: bash
  - path: /pyprov*
    origin: app
    viewer-request: pyprov
  - path: /rapi*
    origin: app
    viewer-request: rapi
  - path: /once*
    origin: app
    viewer-request: once
  - path: /prov*
    origin: app
    viewer-request: prov
  - path: /slow*
    origin: app
    viewer-request: slow
  - path: /p-slow*
    origin: app
    viewer-request: p-slow
  - path: /crash*
    origin: app
    viewer-request: crash
  - path: /throw*
    origin: app
    viewer-request: thrower
  - path: /p-throw*
    origin: app
    origin-request: p-thrower
  - path: /hog*
    origin: app
    viewer-request: hog
  - path: /p-hog*
    origin: app
    viewer-request: p-hog
  - path: /init-boom*
    origin: app
    viewer-request: init-boom
  - path: /no-export*
    origin: app
    viewer-request: no-export
  - path: /p-init-boom*
    origin: app
    viewer-request: p-init-boom
  - path: /single*
    origin: app
    viewer-request: single
  - path: /queued*
    origin: app
    viewer-request: queued
  - path: /short-queue*
    origin: app
    viewer-request: short-queue
  - path: /idle*
    origin: app
    viewer-request: idle
  - path: /marker*
    origin: app
    viewer-request: marker-$PORT

# ---- provisioned concurrency (first: the environments were started with edgefn)

=== provisioned: both environments are up before the first request, and serve it warm
--- run
sleep 1
echo "before any request:"
grep -c 'INIT_START Runtime Version: nodejs.*(provisioned-concurrency)' flogs/prov-$TODAY.log
grep -c 'START RequestId' flogs/prov-$TODAY.log
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/prov/first'
--- stdout ~ \Abefore any request:\n2\n0\n
--- status: 200
--- body ~ \Apid \d+ provisioned-concurrency loaded (\d{4,}|[5-9]\d\d) ms ago\n\Z
--- log[flogs/prov-$TODAY.log] ~ ^\S+ prov:\$LATEST viewer-request ${header:x-edgefn-request-id} REPORT RequestId: ${header:x-edgefn-request-id}-viewer-request\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB$
--- log[flogs/prov-$TODAY.log] !~ INIT_START[^\n]*on-demand|Init Duration

=== provisioned: two requests at once are served by the two provisioned environments, none started on demand
--- run
curl -sS --max-time 10 'http://127.0.0.1:$PORT/prov/a?ms=400' > a.txt &
curl -sS --max-time 10 'http://127.0.0.1:$PORT/prov/b?ms=400' > b.txt
wait
cat a.txt b.txt
pa=$(cut -d' ' -f2 a.txt); pb=$(cut -d' ' -f2 b.txt)
test -n "$pa" && test "$pa" != "$pb" && echo "two processes"
echo "on-demand starts: $(grep -c 'INIT_START.*on-demand' flogs/prov-$TODAY.log)"
--- stdout ~ \Apid \d+ provisioned-concurrency loaded \d+ ms ago\npid \d+ provisioned-concurrency loaded \d+ ms ago\n
--- stdout ~ two processes
--- stdout ~ on-demand starts: 0\n

=== provisioned: a request that comes while the provisioned environments still start waits for them
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
function-logs: flogs
functions:
  prov-only: { runtime: provided, code: slowinit/, concurrency: { reserved: 1, provisioned: 1 } }
  prov-more: { runtime: provided, code: slowinit/, concurrency: { provisioned: 1 } }
behaviors:
  - path: /only
    origin: app
    viewer-request: prov-only
  - path: /more
    origin: app
    viewer-request: prov-more
--- run
curl -sS --max-time 10 -w '%{http_code}\n' 'http://127.0.0.1:$PORT/only' > only.txt &
curl -sS --max-time 10 -w '%{http_code}\n' 'http://127.0.0.1:$PORT/more'
wait
cat only.txt
echo "on-demand starts: $(cat flogs/prov-only-$TODAY.log flogs/prov-more-$TODAY.log | grep -c 'INIT_START.*on-demand')"
--- stdout ~ \Aserved by a provisioned-concurrency environment\n200\nserved by a provisioned-concurrency environment\n200\non-demand starts: 0\n\Z

# ---- provided runtimes

=== provided: a bash bootstrap (curl loop, as in AWS's tutorial) answers the request
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/bash/hello'
--- status: 200
--- header: content-type: text/plain
--- header: x-bash: bash
--- body
hello from bash for /bash/hello
--- log[flogs/bash-$TODAY.log] ~ ^\S+ bash:\$LATEST - - bash bootstrap ready, handler function\.handler$
--- log[flogs/bash-$TODAY.log] ~ ^\S+ bash:\$LATEST - - SigBlk: 0000000000000000$
--- log[flogs/bash-$TODAY.log] ~ ^\S+ bash:\$LATEST - - SigIgn: 0000000000000000$
--- log[flogs/bash-$TODAY.log] ~ ^\S+ bash:\$LATEST - - session leader: 1, stdin: /dev/null$
--- log[flogs/bash-$TODAY.log] ~ ^\S+ bash:\$LATEST viewer-request ${header:x-edgefn-request-id} bash handler got /bash/hello$
--- log[flogs/bash-$TODAY.log] ~ ^\S+ bash:\$LATEST viewer-request ${header:x-edgefn-request-id} REPORT RequestId: ${header:x-edgefn-request-id}-viewer-request\t[^\n]*\tInit Duration: [\d.]+ ms$

=== provided: the bash environment is reused for the next request
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/bash/again'
--- status: 200
--- body
hello from bash for /bash/again
--- log[flogs/bash-$TODAY.log] ~ ^\S+ bash:\$LATEST viewer-request ${header:x-edgefn-request-id} REPORT RequestId: ${header:x-edgefn-request-id}-viewer-request\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB$
--- log[flogs/bash-$TODAY.log] !~ INIT_START

=== provided: a python bootstrap gets the event and the Lambda headers, and its request goes on to the origin
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/pyprov/page?x=1'
--- status: 200
--- header: x-echo-path: /echo/pyprov/page?x=1
--- body ~ "x-provided": "python bootstrap"
--- body ~ "x-runtime-info": "id=ok arn=arn:aws:lambda:us-east-1:000000000000:function:pyprov deadline=future trace=yes"
--- log[flogs/pyprov-$TODAY.log] ~ ^\S+ pyprov:\$LATEST - - python bootstrap ready, initialization on-demand$
--- log[flogs/pyprov-$TODAY.log] ~ ^\S+ pyprov:\$LATEST viewer-request ${header:x-edgefn-request-id} python handler got /pyprov/page$
--- log[flogs/pyprov-$TODAY.log] ~ posted the response: 202 \{"status":"OK"\}$

# ---- timeouts

=== timeout: a function that sleeps past its 300ms is a 503 at once, and the log says "Task timed out after 300 ms"
--- run
curl -sS -i --max-time 10 -w '%{stderr}took %{time_total}\n' 'http://127.0.0.1:$PORT/slow?ms=3000'
--- stderr ~ took (0\.[3-9]|1\.|2\.[0-4])
--- status: 503
--- header: content-type: text/plain; charset=utf-8
--- body ~ \A503 Service Unavailable: function "slow" \(viewer-request\) failed: [^\n]*timed out after 300 ms[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/slow-$TODAY.log] ~ ^\S+ slow:\$LATEST viewer-request ${header:x-edgefn-request-id} Task timed out after 300 ms$
--- log[flogs/slow-$TODAY.log] ~ ^\S+ slow:\$LATEST viewer-request ${header:x-edgefn-request-id} END RequestId: ${header:x-edgefn-request-id}-viewer-request\n\S+ slow:\$LATEST viewer-request ${header:x-edgefn-request-id} REPORT RequestId: ${header:x-edgefn-request-id}-viewer-request\tDuration: (29\d|3\d\d)\.\d\d ms
--- log ~ \[warn\] [^\n]*${header:x-edgefn-request-id}[^\n]*503[^\n]*function "slow"

=== timeout: the next request works, in a new environment (a cold start)
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/slow?ms=10'
--- status: 200
--- body
slept 10
--- log[flogs/slow-$TODAY.log] ~ ^\S+ slow:\$LATEST viewer-request ${header:x-edgefn-request-id} REPORT RequestId: [^\n]*\tInit Duration: [\d.]+ ms$

=== timeout: a python function that sleeps past its 300ms is a 503 too
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/p-slow'
--- status: 503
--- body ~ \A503 Service Unavailable: function "p-slow" \(viewer-request\) failed: [^\n]*timed out after 300 ms[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/p-slow-$TODAY.log] ~ ^\S+ p-slow:\$LATEST viewer-request ${header:x-edgefn-request-id} Task timed out after 300 ms$

# ---- crashes

=== crash: process.exit(1) in the handler is a 503 at once, not after the 10s timeout
--- run
curl -sS -o /dev/null --max-time 10 'http://127.0.0.1:$PORT/crash'
curl -sS -i --max-time 15 -w '%{stderr}took %{time_total}\n' 'http://127.0.0.1:$PORT/crash?crash'
--- stderr ~ took [01]\.
--- status: 503
--- body ~ \A503 Service Unavailable: function "crash" \(viewer-request\) failed: [^\n]*exit[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/crash-$TODAY.log] ~ ^\S+ crash:\$LATEST viewer-request ${header:x-edgefn-request-id} about to exit$
--- log[flogs/crash-$TODAY.log] ~ ^\S+ crash:\$LATEST viewer-request ${header:x-edgefn-request-id} Runtime exited with error: exit status 1 \(Runtime\.ExitError\)$
--- log[flogs/crash-$TODAY.log] ~ ^\S+ crash:\$LATEST viewer-request ${header:x-edgefn-request-id} REPORT RequestId: ${header:x-edgefn-request-id}-viewer-request\t

=== crash: the environment is replaced: the next request works, in another process
--- run
curl -sS -D h1.txt --max-time 10 'http://127.0.0.1:$PORT/crash'
curl -sS -o /dev/null --max-time 10 'http://127.0.0.1:$PORT/crash?crash'
curl -sS -D h2.txt --max-time 10 'http://127.0.0.1:$PORT/crash'
p1=$(grep -i '^x-pid' h1.txt | tr -d '\r' | cut -d' ' -f2)
p2=$(grep -i '^x-pid' h2.txt | tr -d '\r' | cut -d' ' -f2)
echo "pids $p1 $p2"
test -n "$p1" && test -n "$p2" && test "$p1" != "$p2" && echo "another process"
--- stdout ~ \Aalive\nalive\n
--- stdout ~ another process

# ---- function errors

=== a function error (throw) is a 503 that keeps the message from the client; the log has the error
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/throw/secret-path'
--- status: 503
--- body ~ \A503 Service Unavailable: function "thrower" \(viewer-request\) failed: [^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- body !~ kaboom|secret-path
--- log[flogs/thrower-$TODAY.log] ~ ^\S+ thrower:\$LATEST viewer-request ${header:x-edgefn-request-id} .*kaboom at /throw/secret-path
--- log ~ \[warn\] [^\n]*${header:x-edgefn-request-id}[^\n]*503[^\n]*function "thrower"

=== after a function error the same environment answers the next request
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/throw?ok'
--- status: 200
--- body
no throw
--- log[flogs/thrower-$TODAY.log] !~ INIT_START

=== a python function error (raise) at origin-request is a 503; the log has the traceback
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/p-throw/x'
--- status: 503
--- body ~ \A503 Service Unavailable: function "p-thrower" \(origin-request\) failed: [^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- body !~ kaboom
--- log[flogs/p-thrower-$TODAY.log] ~ ^\S+ p-thrower:\$LATEST origin-request ${header:x-edgefn-request-id} .*python kaboom at /p-throw/x

# ---- init errors

=== init error: a module that throws while loading is a 503 naming the failed initialization
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/init-boom'
--- status: 503
--- body ~ \A503 Service Unavailable: function "init-boom" \(viewer-request\) failed: [^\n]*initiali[sz][^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/init-boom-$TODAY.log] ~ loading a module that throws
--- log[flogs/init-boom-$TODAY.log] ~ INIT_REPORT Init Duration: [\d.]+ ms\s+Phase: init\s+Status: error\s+Error Type: [^\n]*the module failed to load
--- log ~ \[warn\] [^\n]*${header:x-edgefn-request-id}[^\n]*503[^\n]*function "init-boom"[^\n]*initiali[sz]

=== init error: the 503 does not show the client what the module threw
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/init-boom/again'
--- status: 503
--- body ~ \A503 Service Unavailable: function "init-boom" \(viewer-request\) failed: [^\n]*initiali[sz][^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- body !~ the module failed to load

=== init error: a handler the module does not export is a 503; the log names HandlerNotFound
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/no-export'
--- status: 503
--- body ~ \A503 Service Unavailable: function "no-export" \(viewer-request\) failed: [^\n]*initiali[sz][^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/no-export-$TODAY.log] ~ INIT_REPORT [^\n]*Status: error\s+Error Type: Runtime\.HandlerNotFound

=== init error: a python module whose import fails is a 503; the log names the import error
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/p-init-boom'
--- status: 503
--- body ~ \A503 Service Unavailable: function "p-init-boom" \(viewer-request\) failed: [^\n]*initiali[sz][^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/p-init-boom-$TODAY.log] ~ INIT_REPORT [^\n]*Status: error\s+Error Type: [^\n]*no_such_module_anywhere

=== init error: every request tries again, and fails the same way
--- run
for i in 1 2 3; do curl -sS -o /dev/null -w '%{http_code}\n' --max-time 10 'http://127.0.0.1:$PORT/init-boom'; done
--- stdout ~ \A503\n503\n503\n\Z

# ---- out of memory

=== memory: a node function allocating 300MB with memory: 128MB is killed: 503 "out of memory"
--- run
curl -sS -i --max-time 15 'http://127.0.0.1:$PORT/hog'
--- status: 503
--- body ~ \A503 Service Unavailable: function "hog" \(viewer-request\) failed: [^\n]*out of memory[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/hog-$TODAY.log] ~ ^\S+ hog:\$LATEST viewer-request ${header:x-edgefn-request-id} Runtime killed: out of memory: \d+ MB used of 128 MB$
--- log[flogs/hog-$TODAY.log] ~ ^\S+ hog:\$LATEST viewer-request ${header:x-edgefn-request-id} REPORT RequestId: [^\n]*Memory Size: 128 MB\tMax Memory Used: (129|1[3-9]\d|[2-9]\d\d) MB

=== memory: after the kill the function answers its next request
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/hog?ok'
--- status: 200
--- body
small

=== memory: a python function allocating 300MB with the default 128MB is killed too
--- run
curl -sS -i --max-time 15 'http://127.0.0.1:$PORT/p-hog'
--- status: 503
--- body ~ \A503 Service Unavailable: function "p-hog" \(viewer-request\) failed: [^\n]*out of memory[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/p-hog-$TODAY.log] ~ Runtime killed: out of memory: \d+ MB used of 128 MB$

# ---- concurrency

=== reserved: 1 with no queue-timeout: a second request while the first runs is throttled (503)
--- run
curl -sS -o first.txt -w '%{http_code}\n' --max-time 10 'http://127.0.0.1:$PORT/single?ms=1500' > first.code &
sleep 0.5
curl -sS -i --max-time 10 -w '%{stderr}took %{time_total}\n' 'http://127.0.0.1:$PORT/single?ms=0' > second.txt
wait
echo "first: $(cat first.code) $(cat first.txt)" >&2
cat second.txt
--- stderr ~ took 0\.
--- stderr ~ first: 200 slept 1500
--- status: 503
--- body ~ \A503 Service Unavailable: function "single" \(viewer-request\) failed: [^\n]*throttled[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== reserved: 1 with queue-timeout: 5s: the second request waits for the environment and succeeds
--- run
curl -sS -o first.txt -w '%{http_code}\n' --max-time 10 'http://127.0.0.1:$PORT/queued?ms=800' > first.code &
sleep 0.3
curl -sS -i --max-time 10 -w '%{stderr}took %{time_total}\n' 'http://127.0.0.1:$PORT/queued?ms=0' > second.txt
wait
echo "first: $(cat first.code) $(cat first.txt)" >&2
cat second.txt
--- stderr ~ first: 200 slept 800
--- stderr ~ took (0\.[2-9]|[1-4]\.)
--- status: 200
--- body
slept 0

=== reserved: 1 with queue-timeout: 200ms: the second request waits 200ms (give or take the loop's clock), then is throttled
--- run
curl -sS -o /dev/null --max-time 10 'http://127.0.0.1:$PORT/short-queue?ms=1500' &
sleep 0.3
curl -sS -i --max-time 10 -w '%{stderr}took %{time_total}\n' 'http://127.0.0.1:$PORT/short-queue?ms=0'
wait
--- stderr ~ took (0\.19|0\.[2-9]|1\.)
--- status: 503
--- body ~ \A503 Service Unavailable: function "short-queue" \(viewer-request\) failed: [^\n]*throttled[^\n]*200 ms[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

# ---- idle environments

=== idle-timeout: 1s: a request after 2s idle is a cold start again, in a new process
--- run
curl -sS -D h1.txt -o /dev/null --max-time 10 'http://127.0.0.1:$PORT/idle'
curl -sS -D h2.txt -o /dev/null --max-time 10 'http://127.0.0.1:$PORT/idle'
sleep 2
curl -sS -D h3.txt -o /dev/null --max-time 10 'http://127.0.0.1:$PORT/idle'
sleep 0.3
for h in h1 h2 h3; do
  id=$(grep -i '^x-edgefn-request-id' $h.txt | tr -d '\r' | cut -d' ' -f2)
  pid=$(grep -i '^x-pid' $h.txt | tr -d '\r' | cut -d' ' -f2)
  report=$(grep "REPORT RequestId: $id-viewer-request" flogs/idle-$TODAY.log)
  case "$report" in *"Init Duration"*) echo "$h pid $pid: cold" ;; "") echo "$h: no REPORT" ;; *) echo "$h pid $pid: warm" ;; esac
done
--- stdout ~ \Ah1 pid (\d+): cold\nh2 pid \1: warm\nh3 pid (?!\1\n)\d+: cold\n\Z

=== idle-timeout: the private /tmp of a reaped environment is removed
--- run
tag=$RANDOM$RANDOM
curl -sS --max-time 10 "http://127.0.0.1:$PORT/marker?$tag"
found() { ls -d /tmp/edgefn-marker-$PORT.*/*/marker-$tag 2>/dev/null | wc -l; }
echo "while it runs: $(found)"
sleep 2
echo "once reaped: $(found)"
--- stdout ~ \Amarked /tmp/marker-\d+\nwhile it runs: 1\nonce reaped: 0\n

# ---- the Runtime API's answers to a misbehaving runtime

=== Runtime API: a response for a wrong request id is 400 InvalidRequestID; the right one then works
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/rapi?wrong-id'
--- status: 200
--- body
answered after a wrong id
--- log[flogs/rapi-$TODAY.log] ~ rapi: response for a wrong id -> 400 InvalidRequestID$
--- log[flogs/rapi-$TODAY.log] ~ rapi: response for the right id -> 202 $

=== Runtime API: an unknown path is 404 (here the first thing the bootstrap asked)
--- run
grep 'GET invocation/next/extra' flogs/rapi-$TODAY.log | sed 's/.* rapi: //'
--- stdout
GET invocation/next/extra -> 404 NotFound

=== Runtime API: answering the same invocation twice is 403 InvalidStateTransition, and so is an error after it
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/rapi?twice'
--- status: 200
--- body
first answer
--- log[flogs/rapi-$TODAY.log] ~ rapi: second answer -> 403 InvalidStateTransition$
--- log[flogs/rapi-$TODAY.log] ~ rapi: error after the answer -> 403 InvalidStateTransition$

=== Runtime API: a response of 6291556 bytes (the most) is accepted
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/rapi?max'
--- status: 200
--- body
big enough
--- log[flogs/rapi-$TODAY.log] ~ rapi: response of 6291556 bytes -> 202 $

=== Runtime API: a response of 6291557 bytes is 413 RequestEntityTooLarge, and the request gets a 502
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/rapi?oversized'
--- status: 502
--- body ~ \A502 Bad Gateway: function "rapi" \(viewer-request\) [^\n]*6291557[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/rapi-$TODAY.log] ~ rapi: response of 6291557 bytes -> 413 RequestEntityTooLarge$

=== Runtime API: init/error after the first poll is 403 InvalidStateTransition; the invocation goes on
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/rapi?late-init-error'
--- status: 200
--- body
answered after a late init error
--- log[flogs/rapi-$TODAY.log] ~ rapi: init/error after init -> 403 InvalidStateTransition$

=== Runtime API: wrong methods are 405, unknown paths 404
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/rapi?methods'
--- status: 200
--- body
methods checked
--- log[flogs/rapi-$TODAY.log] ~ rapi: GET on the response path -> 405 \S+$
--- log[flogs/rapi-$TODAY.log] ~ rapi: GET on a path that does not exist -> 404 \S+$
--- log[flogs/rapi-$TODAY.log] ~ rapi: POST on invocation/next -> 405 \S+$

=== Runtime API: an error posted by a provided runtime is a 503, and its log has the errorType and errorMessage
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/rapi?error'
--- status: 503
--- body ~ \A503 Service Unavailable: function "rapi" \(viewer-request\) failed: [^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- body !~ custom failure
--- log[flogs/rapi-$TODAY.log] ~ rapi: error -> 202 $
--- log[flogs/rapi-$TODAY.log] ~ Invoke Error: CustomError: custom failure in the provided runtime
--- log[flogs/rapi-$TODAY.log] ~ ${header:x-edgefn-request-id} .*CustomError.*custom failure in the provided runtime

=== Runtime API: a poll whose connection is gone does not swallow the next event
--- run
curl -sS --max-time 10 'http://127.0.0.1:$PORT/rapi?abandon'
sleep 0.3
curl -sS -i --max-time 10 -w '%{stderr}took %{time_total}\n' 'http://127.0.0.1:$PORT/rapi?after-abandon'
--- stderr ~ took 0\.
--- status: 200
--- body
plain after-abandon
--- log[flogs/rapi-$TODAY.log] ~ rapi: polling again on the first connection

=== a warm environment that never asks for the next event: the request waits its timeout (1s), then 503
--- run
curl -sS -o /dev/null --max-time 10 'http://127.0.0.1:$PORT/once/first'
curl -sS -i --max-time 10 -w '%{stderr}took %{time_total}\n' 'http://127.0.0.1:$PORT/once/second'
--- status: 503
--- body ~ \A503 Service Unavailable: function "once" \(viewer-request\) failed: timed out after 1000 ms\n
--- stderr ~ took 1\.
--- log[flogs/once-$TODAY.log] ~ once: answered, now stuck
--- log[flogs/once-$TODAY.log] ~ ${header:x-edgefn-request-id} Task timed out after 1000 ms
