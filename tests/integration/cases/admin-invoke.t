# admin-invoke.t: POST /functions/NAME/invocations on the admin listener, Lambda's Invoke.
# RequestResponse (the default): the handler gets the JSON body as its event (Lua: as Lua
# values) and its return value comes back as JSON, with X-Edgefn-Executed-Version and a
# request id; a failure is still a 200 with X-Edgefn-Function-Error: Unhandled and
# {errorType, errorMessage} (node Error, python ValueError, LuaError, Sandbox.Timedout,
# Runtime.OutOfMemory, Runtime.ExitError, an init error as its runtime posted it,
# Runtime.MarshalError, Runtime.Unknown for an error that is not JSON); a full
# reserved concurrency is a 429; X-Edgefn-Log-Type: Tail gives the last 4 KB of the
# invocation's log lines; the function's log file and /metrics know the invocation as hook
# "invoke". Event: 202 at once, run soon after; a failure is retried async.retries times
# after retry-delay, then twice that, then written to the function's on-failure directory
# as a destination record (or dropped with a [warn]); async.queue-directory keeps queued
# events across a restart (three cases: one stops edgefn, the next gets a new one), leaves
# a queue file that is not its own alone, and keeps an event whose record cannot be
# written. DryRun: 204. Errors: 404, 405, 400 InvalidRequestContent / InvalidArgument, 413, 401.
--- setup
printf 's3cret-token\n' > admin.token
mkdir -p flogs failed failed0 failedf queue queue-bad gone queue-gone failed-raw
# a queued event whose id is not its file's name (edgefn would remove, or write, another file): left alone
printf '{"id":"aaaaaaaaaaaaaaaaaaaa","function":"n-bad-file","enqueuedAt":1,"invocations":0,"failures":0,"payload":{"tag":"bogus"}}\n' \
  > queue-bad/bbbbbbbbbbbbbbbbbbbb.json
# a provided runtime that posts an error that is not JSON
mkdir -p rawerr
cat > rawerr/bootstrap <<'SH'
#!/bin/bash
while true; do
  HEADERS=$(mktemp)
  curl -sS -o /dev/null -D "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next"
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  rm -f "$HEADERS"
  curl -sS -o /dev/null -X POST --data-binary 'oops: not json' "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/error"
done
SH
chmod +x rawerr/bootstrap
ln -s "$TOOLS/metric" metric

# ---- helpers, sourced by the cases (. ./lib.sh)
cat > lib.sh <<'SH'
# invoke NAME [CURL ARGS...]: POST /functions/NAME/invocations with the token; prints the response as curl -i does,
# and keeps its headers in last.h and its body in last.body
invoke() {
  local name=$1
  shift
  curl -sS --max-time 10 -D last.h -o last.body -H 'Authorization: Bearer s3cret-token' \
    -H 'Content-Type: application/json' -X POST "$@" "http://127.0.0.1:$ADMIN_PORT/functions/$name/invocations"
  cat last.h last.body
}
# hdr NAME: that header's value in last.h
hdr() { tr -d '\r' < last.h | grep -i "^$1: " | tail -1 | cut -d' ' -f2-; }
# jnorm: the JSON on stdin on one line, keys sorted, integral numbers without ".0" (Lua may encode 14 as 14.0)
jnorm() {
  $PYTHON -c '
import json, sys
def norm(v):
    if isinstance(v, float) and v == int(v):
        return int(v)
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    return v
print(json.dumps(norm(json.load(sys.stdin)), sort_keys=True, ensure_ascii=False, separators=(",", ":")))'
}
# errinfo [stack]: errorType and errorMessage of last.body; with "stack", whether stackTrace is a list of strings
errinfo() {
  $PYTHON -c '
import json, sys
r = json.load(open("last.body"))
print("errorType:", r.get("errorType"))
print("errorMessage:", r.get("errorMessage"))
if sys.argv[1:] == ["stack"]:
    st = r.get("stackTrace")
    ok = isinstance(st, list) and len(st) > 0 and all(isinstance(x, str) for x in st)
    print("stackTrace:", "a list of strings" if ok else repr(st))
    print("stackTrace says:", " | ".join(st) if ok else "")' "$@"
}
# waitfor PATH [TENTHS]: until PATH exists, at most TENTHS tenths of a second (default 50: 5 s)
waitfor() {
  local i
  for ((i = 0; i < ${2:-50}; i++)); do
    [ -e "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
# lines FILE: its number of lines, 0 when it does not exist
lines() { if [ -e "$1" ]; then wc -l < "$1"; else echo 0; fi; }
SH

# ---- Lua functions
cat > lshape.lua <<'LUA'
-- builds its result from the payload: strings, numbers, booleans, null, arrays, nested objects
function handler(event)
  console.log("shaping for " .. event.name)
  local upper = {}
  for i, t in ipairs(event.tags) do upper[i] = string.upper(t) end
  return {
    greeting = "héllo " .. event.name .. " from " .. event.city .. " " .. event.emoji,
    emojiBytes = #event.emoji,
    chars = utf8.len(event.name .. event.city),
    sum = event.a + event.b,
    product = event.a * 2,
    flag = event.flag,
    notFlag = not event.flag,
    nothingIsNil = event.nothing == nil,
    count = #event.tags,
    tags = upper,
    deep = event.nested.deep,
    second = event.nested.deep.list[2][2],
    k = event.nested.deep.list[3].k,
    empty = {},
  }
end
LUA
cat > lecho.lua <<'LUA'
function handler(event) return event end
LUA
cat > lerror.lua <<'LUA'
function handler(event)
  error("lua failed on " .. event.what)
end
LUA
cat > lmarshal.lua <<'LUA'
function handler(event)
  return {f = function() end}
end
LUA
cat > lloop.lua <<'LUA'
function handler(event)
  while true do end
end
LUA
cat > lhog.lua <<'LUA'
function handler(event)
  local t = {}
  for i = 1, 1e8 do t[i] = i end
end
LUA
cat > lcount.lua <<'LUA'
function handler(event)
  console.log("counting " .. event.tag)
  if event.fail then error("asked to fail") end
  return {tag = event.tag}
end
LUA

# ---- Node.js functions
mkdir -p nshape nfail nlog nmark nasync
cat > nshape/index.js <<'JS'
exports.handler = async (event, context) => {
  return {
    echo: event,
    type: Array.isArray(event) ? 'array' : typeof event,
    fn: context.functionName,
    unicode: 'ünïcødé ✓ 日本',
    numbers: [0, -1, 2.5, 1e21],
    yes: true,
    no: false,
    none: null,
  };
};
JS
cat > nshape/len.js <<'JS'
exports.handler = async (event) => ({ length: JSON.stringify(event).length });
JS
cat > nfail/index.js <<'JS'
exports.handler = async (event) => {
  throw new Error('node failed on ' + event.what);
};
JS
cat > nfail/slow.js <<'JS'
exports.handler = async (event) => {
  await new Promise((r) => setTimeout(r, 3000));
  return 'too late';
};
JS
cat > nfail/exit.js <<'JS'
exports.handler = async (event) => {
  process.exit(3);
};
JS
mkdir -p ninit
cat > ninit/index.js <<'JS'
throw new Error('the module failed to load');
JS
cat > nlog/index.js <<'JS'
exports.handler = async (event) => {
  console.log('node says hello to ' + event.who);
  for (let i = 0; i < (event.lines || 0); i++) console.log('filler line ' + i + ' ' + 'x'.repeat(60));
  return 'logged';
};
JS
cat > nmark/index.js <<'JS'
// appends the event to the file it names (in the code directory, the function's cwd), after delayMs
const fs = require('fs');
exports.handler = async (event) => {
  if (event.delayMs) await new Promise((r) => setTimeout(r, event.delayMs));
  fs.appendFileSync(event.file, JSON.stringify(event) + '\n');
  return 'marked';
};
JS
cat > nasync/index.js <<'JS'
// each attempt appends "attempt N at MS" to attempts-TAG (in the code directory, the function's cwd);
// always fails every time, flaky fails twice then succeeds, once fails the first time; a success writes done-TAG
const fs = require('fs');
function attempt(event) {
  const file = 'attempts-' + event.tag;
  const n = (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').length - 1 : 0) + 1;
  fs.appendFileSync(file, 'attempt ' + n + ' at ' + Date.now() + '\n');
  return n;
}
function succeed(event, n) {
  fs.writeFileSync('done-' + event.tag, 'done on attempt ' + n + '\n');
  return 'done';
}
exports.always = async (event) => {
  const n = attempt(event);
  throw new Error('always fails: ' + event.tag + ' attempt ' + n);
};
exports.flaky = async (event) => {
  const n = attempt(event);
  if (n < 3) throw new Error('flaky attempt ' + n);
  return succeed(event, n);
};
exports.once = async (event) => {
  const n = attempt(event);
  if (n < 2) throw new Error('fails the first time');
  return succeed(event, n);
};
JS

# ---- Python functions
mkdir -p pshape praise
cat > pshape/lambda_function.py <<'PY'
def lambda_handler(event, context):
    print("python got", sorted(event) if isinstance(event, dict) else event)
    return {"echo": event, "type": type(event).__name__, "fn": context.function_name,
            "unicode": "ünïcødé ✓ 日本", "numbers": [0, -1, 2.5], "yes": True, "no": False, "none": None}
PY
cat > praise/index.py <<'PY'
def handler(event, context):
    raise ValueError("python failed on " + event["what"])
PY

# ---- payloads
cat > shape.json <<'JSON'
{"name": "Zoë", "city": "東京", "emoji": "\ud83d\ude00", "a": 7, "b": 2.5, "flag": true, "nothing": null,
 "tags": ["x", "y", "z"], "nested": {"deep": {"list": [1, [2, 3], {"k": "v"}]}}}
JSON
--- config
threads: 2
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
  token-file: admin.token
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
function-logs: flogs
async: { retry-delay: 200ms }
functions:
  l-shape: { runtime: lua, code: lshape.lua }
  l-echo: { runtime: lua, code: lecho.lua }
  l-error: { runtime: lua, code: lerror.lua }
  l-marshal: { runtime: lua, code: lmarshal.lua }
  l-loop: { runtime: lua, code: lloop.lua, timeout: 20ms }
  l-hog: { runtime: lua, code: lhog.lua, memory: 1MB, timeout: 1s }
  l-count: { runtime: lua, code: lcount.lua }
  l-metered: { runtime: lua, code: lcount.lua }
  n-shape: { runtime: nodejs, code: nshape/ }
  n-len: { runtime: nodejs, code: nshape/, handler: len.handler }
  n-throw: { runtime: nodejs, code: nfail/ }
  n-slow: { runtime: nodejs, code: nfail/, handler: slow.handler, timeout: 300ms }
  n-exit: { runtime: nodejs, code: nfail/, handler: exit.handler }
  n-init: { runtime: nodejs, code: ninit/ }
  n-log: { runtime: nodejs, code: nlog/ }
  n-mark: { runtime: nodejs, code: nmark/ }
  n-busy: { runtime: nodejs, code: nmark/, concurrency: { reserved: 1 } }
  n-always: { runtime: nodejs, code: nasync/, handler: index.always, async: { retries: 2, on-failure: failed/ } }
  n-once-only: { runtime: nodejs, code: nasync/, handler: index.always, async: { retries: 0, on-failure: failed0/ } }
  n-drop: { runtime: nodejs, code: nasync/, handler: index.always, async: { retries: 0 } }
  n-flaky: { runtime: nodejs, code: nasync/, handler: index.flaky, async: { on-failure: failedf/ } }
  p-shape: { runtime: python, code: pshape/, handler: lambda_function.lambda_handler }
  p-raise: { runtime: python, code: praise/ }

# ---- RequestResponse

=== Lua, RequestResponse by default: the payload reaches the handler as Lua values and its table comes back as JSON
--- run
. ./lib.sh
invoke l-shape --data-binary @shape.json > res.txt
cat > want.json <<'JSON'
{"greeting": "héllo Zoë from 東京 😀", "emojiBytes": 4, "chars": 5, "sum": 9.5, "product": 14, "flag": true,
 "notFlag": false, "nothingIsNil": true, "count": 3, "tags": ["X", "Y", "Z"],
 "deep": {"list": [1, [2, 3], {"k": "v"}]}, "second": 3, "k": "v", "empty": {}}
JSON
got=$(jnorm < last.body)
echo "got $got"
test "$got" = "$(jnorm < want.json)" && echo "the result is the expected JSON"
cat res.txt
--- stdout ~ (?m)^the result is the expected JSON$
--- status: 200
--- header: x-edgefn-executed-version: $LATEST
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- no-header: x-edgefn-function-error
--- no-header: x-edgefn-log-result

=== Lua: JSON values round-trip through a handler that returns its event; an empty body is {}, null is null
--- run
. ./lib.sh
for body in '{}' '[1,2,[3,{"a":[]}],"s"]' '"just a string"' '42' 'true' 'null' '{"o":{},"l":[{}]}'; do
  invoke l-echo --data-binary "$body" > /dev/null
  echo "$body -> $(cat last.body)"
done
invoke l-echo --data-binary '' > res.txt
echo "empty body -> $(cat last.body)"
invoke l-echo > /dev/null
echo "no body at all -> $(cat last.body)"
cat res.txt
--- stdout ~ (?m)^\{\} -> \{\}$
--- stdout ~ (?m)^\[1,2,\[3,\{"a":\[\]\}\],"s"\] -> \[1, ?2, ?\[3, ?\{"a": ?\{\}\}\], ?"s"\]$
--- stdout ~ (?m)^"just a string" -> "just a string"$
--- stdout ~ (?m)^42 -> 42$
--- stdout ~ (?m)^true -> true$
--- stdout ~ (?m)^null -> null$
--- stdout ~ (?m)^\{"o":\{\},"l":\[\{\}\]\} -> \{"(o|l)": ?(\{\}|\[\{\}\]), ?"(o|l)": ?(\{\}|\[\{\}\])\}$
--- stdout ~ (?m)^empty body -> \{\}$
--- stdout ~ (?m)^no body at all -> \{\}$
--- status: 200
--- header: x-edgefn-executed-version: $LATEST

=== Node.js, RequestResponse said explicitly: the event is the payload as is, the result comes back exactly
--- run
. ./lib.sh
invoke n-shape -H 'X-Edgefn-Invocation-Type: RequestResponse' --data-binary @shape.json > res.txt
got=$(jnorm < last.body)
want=$($PYTHON -c '
import json
print(json.dumps({"echo": json.load(open("shape.json")), "type": "object", "fn": "n-shape", "unicode": "ünïcødé ✓ 日本",
                  "numbers": [0, -1, 2.5, 1e21], "yes": True, "no": False, "none": None}))' | jnorm)
echo "got $got"
test "$got" = "$want" && echo "the result is the expected JSON"
cat res.txt
--- stdout ~ (?m)^the result is the expected JSON$
--- status: 200
--- header: x-edgefn-executed-version: $LATEST
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- no-header: x-edgefn-function-error

=== Node.js: an empty body is the event {}
--- run
. ./lib.sh
invoke n-shape --data-binary '' > res.txt
$PYTHON $TOOLS/jget.py echo type < last.body
cat res.txt
--- stdout ~ \A\{\}\nobject\n
--- status: 200
--- header: x-edgefn-executed-version: $LATEST

=== Python (lambda_function.lambda_handler): the event is the payload, the result comes back exactly
--- run
. ./lib.sh
invoke p-shape --data-binary @shape.json > res.txt
got=$(jnorm < last.body)
want=$($PYTHON -c '
import json
print(json.dumps({"echo": json.load(open("shape.json")), "type": "dict", "fn": "p-shape", "unicode": "ünïcødé ✓ 日本",
                  "numbers": [0, -1, 2.5], "yes": True, "no": False, "none": None}))' | jnorm)
echo "got $got"
test "$got" = "$want" && echo "the result is the expected JSON"
invoke p-shape --data-binary '' > /dev/null
echo "empty body: $($PYTHON $TOOLS/jget.py echo type < last.body | tr '\n' ' ')"
invoke p-shape --data-binary '[1, "two"]' > /dev/null
echo "an array: $($PYTHON $TOOLS/jget.py echo type < last.body | tr '\n' ' ')"
cat res.txt
--- stdout ~ (?m)^the result is the expected JSON$
--- stdout ~ (?m)^empty body: \{\} dict $
--- stdout ~ (?m)^an array: \[1, "two"\] list $
--- status: 200
--- header: x-edgefn-executed-version: $LATEST
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$

# ---- failures

=== Node.js throws: 200, X-Edgefn-Function-Error: Unhandled, errorType Error, its message and stack
--- run
. ./lib.sh
invoke n-throw --data-binary '{"what": "purpose"}' > res.txt
errinfo stack
cat res.txt
--- stdout ~ \AerrorType: Error\nerrorMessage: node failed on purpose\nstackTrace: a list of strings\nstackTrace says: Error: node failed on purpose \| +at 
--- status: 200
--- header: x-edgefn-function-error: Unhandled
--- header: x-edgefn-executed-version: $LATEST
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$

=== Python raises ValueError: 200, Unhandled, errorType ValueError, its message and stack
--- run
. ./lib.sh
invoke p-raise --data-binary '{"what": "purpose"}' > res.txt
errinfo stack
cat res.txt
--- stdout ~ \AerrorType: ValueError\nerrorMessage: python failed on purpose\nstackTrace: a list of strings\n
--- stdout ~ stackTrace says: [^\n]*index\.py
--- status: 200
--- header: x-edgefn-function-error: Unhandled
--- header: x-edgefn-executed-version: $LATEST

=== Lua error(): 200, Unhandled, errorType LuaError, the error's first line as the message, the traceback as stackTrace
--- run
. ./lib.sh
invoke l-error --data-binary '{"what": "purpose"}' > res.txt
errinfo stack
cat res.txt
--- stdout ~ \AerrorType: LuaError\nerrorMessage: lerror\.lua:2: lua failed on purpose\nstackTrace: a list of strings\n
--- stdout ~ stackTrace says: [^\n]*lerror\.lua:2
--- status: 200
--- header: x-edgefn-function-error: Unhandled
--- header: x-edgefn-executed-version: $LATEST

=== Node.js past its timeout (300ms): 200 within a second, Unhandled, errorType Sandbox.Timedout
--- run
. ./lib.sh
start=$(date +%s%N)
invoke n-slow --data-binary '{}' > res.txt
echo "answered after $(( ($(date +%s%N) - start) / 1000000 )) ms"
errinfo
cat res.txt
--- stdout ~ \Aanswered after ([3-9]\d\d|1[0-4]\d\d) ms\nerrorType: Sandbox\.Timedout\nerrorMessage: Task timed out after 300 ms\n
--- status: 200
--- header: x-edgefn-function-error: Unhandled

=== Lua past its CPU budget (20ms): 200, Unhandled, errorType Sandbox.Timedout
--- run
. ./lib.sh
invoke l-loop --data-binary '{}' > res.txt
errinfo
cat res.txt
--- stdout ~ \AerrorType: Sandbox\.Timedout\nerrorMessage: \S
--- status: 200
--- header: x-edgefn-function-error: Unhandled

=== Lua past its memory (1MB): 200, Unhandled, errorType Runtime.OutOfMemory
--- run
. ./lib.sh
invoke l-hog --data-binary '{}' > res.txt
errinfo
cat res.txt
--- stdout ~ \AerrorType: Runtime\.OutOfMemory\nerrorMessage: \S
--- status: 200
--- header: x-edgefn-function-error: Unhandled

=== Node.js exiting in its handler (process.exit): 200 at once, Unhandled, errorType Runtime.ExitError
--- run
. ./lib.sh
invoke n-exit --data-binary '{}' > res.txt
errinfo
cat res.txt
--- stdout ~ \AerrorType: Runtime\.ExitError\nerrorMessage: \S
--- status: 200
--- header: x-edgefn-function-error: Unhandled

=== Node.js whose module throws while loading: 200, Unhandled, the error as its runtime reported it (as Lambda)
--- run
. ./lib.sh
invoke n-init --data-binary '{}' > res.txt
errinfo
cat res.txt
--- stdout ~ \AerrorType: Error\nerrorMessage: the module failed to load\n
--- status: 200
--- header: x-edgefn-function-error: Unhandled

=== Lua returning a function (not JSON): 200, Unhandled, errorType Runtime.MarshalError
--- run
. ./lib.sh
invoke l-marshal --data-binary '{}' > res.txt
errinfo
cat res.txt
--- stdout ~ \AerrorType: Runtime\.MarshalError\nerrorMessage: \S
--- status: 200
--- header: x-edgefn-function-error: Unhandled
--- header: x-edgefn-executed-version: $LATEST

# ---- logs and metrics

=== X-Edgefn-Log-Type: Tail (Node.js): X-Edgefn-Log-Result is base64 of the log lines: what it printed, then REPORT
--- run
. ./lib.sh
invoke n-log -H 'X-Edgefn-Log-Type: Tail' --data-binary '{"who": "the tail"}' > res.txt
hdr x-edgefn-log-result | base64 -d | sed 's/^/tail| /'
cat res.txt
--- stdout ~ (?m)^tail\| [^\n]*node says hello to the tail$(?s:.*)^tail\| [^\n]*REPORT RequestId: 
--- status: 200
--- body: "logged"
--- header: x-edgefn-log-result ~ ^[A-Za-z0-9+/]+=*$

=== X-Edgefn-Log-Type: Tail (Lua): the console.log line; without the header there is no X-Edgefn-Log-Result
--- run
. ./lib.sh
invoke l-count -H 'X-Edgefn-Log-Type: Tail' --data-binary '{"tag": "tailed"}' > /dev/null
hdr x-edgefn-log-result | base64 -d | sed 's/^/tail| /'
invoke l-count --data-binary '{"tag": "untailed"}'
--- stdout ~ (?m)^tail\| [^\n]*counting tailed$
--- status: 200
--- no-header: x-edgefn-log-result

=== Tail keeps the last 4 KB of a long log: the last lines and REPORT, not the first line
--- run
. ./lib.sh
invoke n-log -H 'X-Edgefn-Log-Type: Tail' --data-binary '{"who": "a long log", "lines": 200}' > res.txt
hdr x-edgefn-log-result | base64 -d > tail.txt
echo "decoded $(wc -c < tail.txt) bytes"
grep -c 'node says hello' tail.txt
grep -o 'filler line 199 ' tail.txt
grep -o 'REPORT RequestId' tail.txt
cat res.txt
--- stdout ~ \Adecoded ([1-3]\d{3}|40[0-8]\d|409[0-6]) bytes\n0\nfiller line 199 \nREPORT RequestId\n
--- status: 200

=== the function's log file has the invocation's lines with hook "invoke" and its request id; /metrics counts them with hook="invoke"
--- run
. ./lib.sh
invoke l-metered --data-binary '{"tag": "one"}' > /dev/null
invoke l-metered --data-binary '{"tag": "two", "fail": true}' > /dev/null
echo "the failure: $(hdr x-edgefn-function-error)"
invoke l-metered --data-binary '{"tag": "three"}' > res.txt
M="./metric --token s3cret-token"
echo "invocations $($M edgefn_function_invocations_total function=l-metered hook=invoke)"
echo "runtime errors $($M edgefn_function_errors_total function=l-metered hook=invoke kind=runtime)"
cat res.txt
--- stdout ~ \Athe failure: Unhandled\ninvocations 3\nruntime errors 1\n
--- status: 200
--- log[flogs/l-metered-$TODAY.log] ~ ^\S+ l-metered(?::\$LATEST)? invoke ${header:x-edgefn-request-id} counting three$

=== a Node.js invocation's log lines (START, what it printed, END, REPORT) carry hook "invoke" and the request id
--- run
. ./lib.sh
invoke n-log --data-binary '{"who": "the log file"}'
--- status: 200
--- log[flogs/n-log-$TODAY.log] ~ ^\S+ n-log(?::\$LATEST)? invoke ${header:x-edgefn-request-id} START RequestId: [^\n]*Version: \$LATEST$
--- log[flogs/n-log-$TODAY.log] ~ ^\S+ n-log(?::\$LATEST)? invoke ${header:x-edgefn-request-id} [^\n]*node says hello to the log file$
--- log[flogs/n-log-$TODAY.log] ~ ^\S+ n-log(?::\$LATEST)? invoke ${header:x-edgefn-request-id} END RequestId: 
--- log[flogs/n-log-$TODAY.log] ~ ^\S+ n-log(?::\$LATEST)? invoke ${header:x-edgefn-request-id} REPORT RequestId: [^\n]*\tDuration: 

# ---- Event

=== Event: 202 at once with an empty body and a request id; the handler runs soon after with the payload
--- run
. ./lib.sh
start=$(date +%s%N)
invoke n-mark -H 'X-Edgefn-Invocation-Type: Event' --data-binary '{"file": "event-1", "delayMs": 800, "note": "ünï"}' > res.txt
echo "answered after $(( ($(date +%s%N) - start) / 1000000 )) ms"
echo "marker right after the answer: $(lines nmark/event-1)"
waitfor nmark/event-1 && echo "marker within 5 s: $(cat nmark/event-1)"
cat res.txt
--- stdout ~ \Aanswered after [1-4]?\d{1,2} ms\nmarker right after the answer: 0\nmarker within 5 s: \{"file":"event-1","delayMs":800,"note":"ünï"\}\n
--- status: 202
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- body ~ \A\Z

=== Event for a Lua function: it runs, and its log line has hook "invoke" and the request id of the 202
--- run
. ./lib.sh
invoke l-count -H 'X-Edgefn-Invocation-Type: Event' --data-binary '{"tag": "queued for lua"}'
--- status: 202
--- log[flogs/l-count-$TODAY.log] ~ ^\S+ l-count(?::\$LATEST)? invoke ${header:x-edgefn-request-id} counting queued for lua$

=== Event failing every time (retries: 2): 3 attempts, after retry-delay then twice that, then one destination record in on-failure
--- run
. ./lib.sh
cat > payload.json <<'JSON'
{"tag": "always-3", "order": {"id": 42, "items": ["a", "b"], "gift": false}, "note": "ünï ✓"}
JSON
invoke n-always -H 'X-Edgefn-Invocation-Type: Event' --data-binary @payload.json > res.txt
id=$(hdr x-edgefn-request-id)
for ((i = 0; i < 100; i++)); do ls failed/*.json > /dev/null 2>&1 && break; sleep 0.05; done
sleep 0.8
$PYTHON - "$id" >&2 <<'PY'
import glob, json, re, sys
rid = sys.argv[1]
print("files:", [f.replace(rid, "ID") for f in sorted(glob.glob("failed/*"))])
r = json.load(open("failed/%s.json" % rid))
rc = r["requestContext"]
print("version", r["version"])
print("timestamp", "ok" if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", r["timestamp"]) else r["timestamp"])
print("requestId", "ID" if rc["requestId"] == rid else rc["requestId"])
print("functionArn", "ok" if re.fullmatch(r"arn:aws:lambda:[^:]*:[^:]*:function:n-always:\$LATEST", rc["functionArn"]) else rc["functionArn"])
print("condition", rc["condition"])
print("approximateInvokeCount", rc["approximateInvokeCount"])
print("requestPayload", "same" if r["requestPayload"] == json.load(open("payload.json")) else r["requestPayload"])
print("responseContext", json.dumps(r["responseContext"], sort_keys=True))
print("responsePayload", r["responsePayload"]["errorType"], r["responsePayload"]["errorMessage"])
times = [int(l.split()[-1]) for l in open("nasync/attempts-always-3")]
print("attempts", len(times))
gaps = [b - a for a, b in zip(times, times[1:])]
print("back-off", "ok" if len(gaps) == 2 and gaps[0] >= 190 and gaps[1] >= 390 else gaps)
PY
cat res.txt
--- stderr
files: ['failed/ID.json']
version 1.0
timestamp ok
requestId ID
functionArn ok
condition RetriesExhausted
approximateInvokeCount 3
requestPayload same
responseContext {"executedVersion": "$LATEST", "functionError": "Unhandled", "statusCode": 200}
responsePayload Error always fails: always-3 attempt 3
attempts 3
back-off ok
--- status: 202

=== Event failing with retries: 0: it runs once, and its record says approximateInvokeCount 1
--- run
. ./lib.sh
invoke n-once-only -H 'X-Edgefn-Invocation-Type: Event' --data-binary '{"tag": "once-only"}' > res.txt
id=$(hdr x-edgefn-request-id)
waitfor failed0/$id.json && echo "the record is there"
sleep 0.8
echo "attempts $(lines nasync/attempts-once-only)"
echo "records $(ls failed0 | wc -l)"
$PYTHON $TOOLS/jget.py requestContext.condition requestContext.approximateInvokeCount responsePayload.errorMessage < failed0/$id.json
cat res.txt
--- stdout ~ \Athe record is there\nattempts 1\nrecords 1\nRetriesExhausted\n1\nalways fails: once-only attempt 1\n
--- status: 202

=== Event failing without on-failure: after its one attempt a [warn] line says the event was dropped
--- run
. ./lib.sh
invoke n-drop -H 'X-Edgefn-Invocation-Type: Event' --data-binary '{"tag": "dropped"}' > res.txt
waitfor nasync/attempts-dropped
sleep 0.8
echo "attempts $(lines nasync/attempts-dropped)"
cat res.txt
--- stdout ~ \Aattempts 1\n
--- status: 202
--- log ~ \[warn\][^\n]*n-drop[^\n]*
--- log ~ (?i)\[warn\][^\n]*(${header:x-edgefn-request-id}[^\n]*drop|drop[^\n]*${header:x-edgefn-request-id})

=== Event failing twice, then succeeding on its last retry: 3 attempts and nothing in on-failure
--- run
. ./lib.sh
invoke n-flaky -H 'X-Edgefn-Invocation-Type: Event' --data-binary '{"tag": "flaky"}' > res.txt
waitfor nasync/done-flaky && cat nasync/done-flaky
sleep 0.5
echo "attempts $(lines nasync/attempts-flaky)"
echo "records $(ls failedf | wc -l)"
cat res.txt
--- stdout ~ \Adone on attempt 3\nattempts 3\nrecords 0\n
--- status: 202

=== DryRun: 204 and nothing runs
--- run
. ./lib.sh
invoke n-mark -H 'X-Edgefn-Invocation-Type: DryRun' --data-binary '{"file": "dry-run"}' > res.txt
sleep 0.8
echo "ran: $(lines nmark/dry-run)"
cat res.txt
--- stdout ~ \Aran: 0\n
--- status: 204
--- body ~ \A\Z

=== reserved concurrency full (reserved: 1, no queue-timeout): a second RequestResponse is a 429 TooManyRequestsException
--- run
. ./lib.sh
curl -sS --max-time 10 -o first.txt -w '%{http_code}' -H 'Authorization: Bearer s3cret-token' -X POST \
  --data-binary '{"file": "busy-1", "delayMs": 1000}' http://127.0.0.1:$ADMIN_PORT/functions/n-busy/invocations > first.code &
sleep 0.5
invoke n-busy --data-binary '{"file": "busy-2"}' > res.txt
wait
echo "the first: $(cat first.code) $(cat first.txt)"
echo "ran: $(lines nmark/busy-1) $(lines nmark/busy-2)"
cat res.txt
--- stdout ~ \Athe first: 200 "marked"\nran: 1 0\n
--- status: 429
--- body ~ "error": ?"TooManyRequestsException"

# ---- errors

=== an unknown function is a 404 NoSuchFunction
--- run
. ./lib.sh
invoke nope --data-binary '{}'
--- status: 404
--- header: content-type: application/json
--- body ~ \A\{"error": ?"NoSuchFunction", ?"message": ?"[^\n]*nope

=== GET is a 405 with Allow: POST
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/functions/l-echo/invocations
--- status: 405
--- header: allow: POST

=== a body that is not JSON is a 400 InvalidRequestContent, and the function does not run
--- run
. ./lib.sh
invoke n-mark -H 'X-Edgefn-Invocation-Type: Event' --data-binary '{"file": "not-json", ' > /dev/null
echo "Event: $(head -1 last.h | tr -d '\r') $(cat last.body)"
invoke n-mark --data-binary '{"file": "not-json", ' > res.txt
sleep 0.3
echo "ran: $(lines nmark/not-json)"
cat res.txt
--- stdout ~ \AEvent: HTTP/1\.1 400 [^\n]*"error": ?"InvalidRequestContent"[^\n]*\nran: 0\n
--- status: 400
--- header: content-type: application/json
--- body ~ "error": ?"InvalidRequestContent"

=== an unknown invocation type is a 400 InvalidArgument
--- run
. ./lib.sh
invoke l-echo -H 'X-Edgefn-Invocation-Type: Bogus' --data-binary '{}'
--- status: 400
--- body ~ "error": ?"InvalidArgument"

=== an unknown log type is a 400 InvalidArgument
--- run
. ./lib.sh
invoke l-echo -H 'X-Edgefn-Log-Type: Everything' --data-binary '{}'
--- status: 400
--- body ~ "error": ?"InvalidArgument"

=== payload limits: an Event over 256 KB is a 413 RequestTooLarge; RequestResponse takes it, and refuses over 6 MB
--- run
. ./lib.sh
$PYTHON -c 'import json; print(json.dumps({"s": "x" * 300000}))' > big.json
$PYTHON -c 'import json; print(json.dumps({"s": "x" * 200000}))' > mid.json
$PYTHON -c 'import json; print(json.dumps({"s": "x" * 6400000}))' > huge.json
invoke n-len -H 'X-Edgefn-Invocation-Type: Event' --data-binary @mid.json > /dev/null
echo "Event 200 KB: $(head -1 last.h | tr -d '\r')"
invoke n-len --data-binary @big.json > /dev/null
echo "RequestResponse 300 KB: $(head -1 last.h | tr -d '\r') $(cat last.body)"
invoke n-len --data-binary @huge.json > /dev/null
echo "RequestResponse 6.4 MB: $(grep '^HTTP' last.h | tail -1 | tr -d '\r') $(cat last.body)"
invoke n-len -H 'X-Edgefn-Invocation-Type: Event' --data-binary @big.json
--- stdout ~ \AEvent 200 KB: HTTP/1\.1 202 Accepted\nRequestResponse 300 KB: HTTP/1\.1 200 OK \{"length": ?300008\}\nRequestResponse 6\.4 MB: HTTP/1\.1 413 [^\n]*"error": ?"RequestTooLarge"
--- status: 413
--- body ~ "error": ?"RequestTooLarge"

=== without the token (or with a wrong one) it is a 401, and nothing runs
--- run
curl -sS -o /dev/null -w '%{http_code}\n' -X POST -H 'Authorization: Bearer wrong' --data-binary '{"file": "no-token"}' http://127.0.0.1:$ADMIN_PORT/functions/n-mark/invocations
curl -sS -i -X POST --data-binary '{"file": "no-token"}' http://127.0.0.1:$ADMIN_PORT/functions/n-mark/invocations > res.txt
sleep 0.3
echo "ran: $(if [ -e nmark/no-token ]; then echo yes; else echo no; fi)"
cat res.txt
--- stdout ~ \A401\nran: no\n
--- status: 401

# ---- persistence: async.queue-directory keeps a queued event across a restart (the next case restarts edgefn)

=== queue-directory: an Event waiting for its retry is a file in queue/; after SIGTERM it is still there
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
  token-file: admin.token
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
function-logs: flogs
async: { queue-directory: queue/, retry-delay: 2s }
functions:
  n-persist: { runtime: nodejs, code: nasync/, handler: index.once }
--- run
. ./lib.sh
invoke n-persist -H 'X-Edgefn-Invocation-Type: Event' --data-binary '{"tag": "persist"}' > res.txt
waitfor nasync/attempts-persist && echo "the first attempt ran"
sleep 0.3
echo "queued while it waits for its retry: $(ls queue | wc -l)"
kill -TERM $EDGEFN_PID
# edgefn is the harness's child, so it stays a zombie until the harness reaps it
while [ -e /proc/$EDGEFN_PID ] && ! grep -q '^[0-9]* (.*) Z' /proc/$EDGEFN_PID/stat 2>/dev/null; do sleep 0.02; done
echo "attempts when edgefn stopped: $(lines nasync/attempts-persist)"
echo "queued after edgefn stopped: $(ls queue | wc -l)"
ls -l queue >&2
cat res.txt
--- stdout ~ \Athe first attempt ran\nqueued while it waits for its retry: 1\nattempts when edgefn stopped: 1\nqueued after edgefn stopped: 1\n
--- status: 202
--- edgefn-exit: 0

=== queue-directory: the restarted edgefn says it resumed 1 event, retries it (it succeeds), and queue/ is empty
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
  token-file: admin.token
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
function-logs: flogs
async: { queue-directory: queue/, retry-delay: 2s }
functions:
  n-persist: { runtime: nodejs, code: nasync/, handler: index.once }
--- run
. ./lib.sh
waitfor nasync/done-persist && cat nasync/done-persist
for ((i = 0; i < 40; i++)); do [ -z "$(ls queue)" ] && break; sleep 0.05; done
echo "attempts $(lines nasync/attempts-persist)"
echo "queued $(ls queue | wc -l)"
--- stdout
done on attempt 2
attempts 2
queued 0
--- log ~ (?i)\[info\][^\n]*resum[^\n]*\b1\b

=== queue-directory: the resumed event kept its schedule: its retry came retry-delay (2s) after the failed attempt, not at once
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
  token-file: admin.token
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
function-logs: flogs
async: { queue-directory: queue/, retry-delay: 2s }
functions:
  n-persist: { runtime: nodejs, code: nasync/, handler: index.once }
--- run
. ./lib.sh
cat nasync/attempts-persist >&2
gap=$(( $(sed -n 2p nasync/attempts-persist | cut -d' ' -f4) - $(sed -n 1p nasync/attempts-persist | cut -d' ' -f4) ))
echo "the retry came $gap ms after the first attempt"
if [ "$gap" -ge 1900 ]; then echo "at least the retry-delay"; fi
--- stdout ~ (?m)^at least the retry-delay$

=== a queued event file whose id is not its file's name is left where it is, with a warning, and does not run
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
  token-file: admin.token
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
function-logs: flogs
async: { queue-directory: queue-bad/, retry-delay: 200ms }
functions:
  n-bad-file: { runtime: nodejs, code: nasync/, handler: index.once }
--- run
. ./lib.sh
sleep 0.5
ls queue-bad
echo "attempts: $(lines nasync/attempts-bogus)"
--- stdout
bbbbbbbbbbbbbbbbbbbb.json
attempts: 0
--- log ~ \[warn\] async: [^\n]*queue-bad/bbbbbbbbbbbbbbbbbbbb\.json: its id "aaaaaaaaaaaaaaaaaaaa" is not its file's name; left as it is

=== a runtime's error that is not JSON is given as the errorMessage, in the answer and in the on-failure record
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
  token-file: admin.token
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
function-logs: flogs
async: { retry-delay: 100ms }
functions:
  raw-error: { runtime: provided, code: rawerr/, async: { retries: 0, on-failure: failed-raw/ } }
--- run
. ./lib.sh
invoke raw-error --data-binary '{"a": 1}' > /dev/null
echo "error: $(hdr x-edgefn-function-error)"
cat last.body; echo
invoke raw-error -H 'X-Edgefn-Invocation-Type: Event' --data-binary '{"b": 2}' > /dev/null
for i in $(seq 100); do [ -n "$(ls failed-raw)" ] && break; sleep 0.05; done
$PYTHON -c '
import glob, json
r = json.load(open(glob.glob("failed-raw/*.json")[0]))
print(r["requestPayload"], r["responsePayload"])'
--- stdout
error: Unhandled
{"errorType":"Runtime.Unknown","errorMessage":"oops: not json"}
{'b': 2} {'errorType': 'Runtime.Unknown', 'errorMessage': 'oops: not json'}

=== an event given up whose record cannot be written stays in the queue directory, and the error log says so
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
  token-file: admin.token
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
function-logs: flogs
async: { queue-directory: queue-gone/, retry-delay: 100ms }
functions:
  n-gone: { runtime: nodejs, code: nasync/, handler: index.always, async: { retries: 0, on-failure: gone/ } }
--- run
. ./lib.sh
rmdir gone
invoke n-gone -H 'X-Edgefn-Invocation-Type: Event' --data-binary '{"tag": "gone"}' > /dev/null
waitfor nasync/attempts-gone
sleep 0.5
echo "attempts: $(lines nasync/attempts-gone)"
echo "queued: $(ls queue-gone | wc -l)"
--- stdout
attempts: 1
queued: 1
--- log ~ \[error\] async: function "n-gone": event [0-9a-f]{20} given up \(RetriesExhausted\), and its record cannot be written: [^\n]*gone/[0-9a-f]{20}\.json: No such file or directory \(the event stays in the queue directory\)
