# functions-check.t: `edgefn check` on the functions: section and the hooks of
# behaviors. Each error is one `FILE:LINE:COLUMN: message` line on stderr and the exit
# status is 2; the position points at the key or value at fault. A Lua file that does
# not compile, or does not define its handler, is reported by `check`, not by the first
# request. Messages are asserted by position and key words.
--- setup
cat > hello.lua <<'LUA'
function handler(event)
  event.request.headers["x-hello"] = {value = "world"}
  return event.request
end
LUA
mkdir -p lib/util
cat > lib/index.lua <<'LUA'
local util = require("util.strings")

function handler(event)
  event.request.headers["x-lib"] = {value = util.shout("hi")}
  return event.request
end

function other(event)
  return event.request
end
LUA
cat > lib/util/strings.lua <<'LUA'
return {shout = function(s) return string.upper(s) end}
LUA
cat > syntax.lua <<'LUA'
function handler(event)
  local request = event.request

  if request.uri == "/" then
    request.uri = = "/index.html"
  end
  return request
end
LUA
cat > nohandler.lua <<'LUA'
function main(event)
  return event.request
end
LUA
cat > toplevel-error.lua <<'LUA'
local config = nil
local limit = config.limit

function handler(event)
  return event.request
end
LUA
cat > toplevel-loop.lua <<'LUA'
while true do end

function handler(event)
  return event.request
end
LUA
# just over the default max-code-size of 64KB: a comment, then a handler
{ printf -- '-- %s\n' "$(head -c 66000 /dev/zero | tr '\0' 'x')"; cat hello.lua; } > big.lua
# process functions: a code directory each
mkdir -p node/src py/pkg prov prov-noexec
cat > node/index.js <<'JS'
exports.handler = async (event) => event.Records[0].cf.request;
JS
cat > node/src/app.mjs <<'JS'
export const handler = async (event) => event.Records[0].cf.request;
JS
cat > py/index.py <<'PY'
def handler(event, context):
    return event["Records"][0]["cf"]["request"]
PY
cp py/index.py py/pkg/mod.py
printf '#!/bin/sh\nexit 0\n' > prov/bootstrap
chmod 755 prov/bootstrap
cp prov/bootstrap prov-noexec/bootstrap
chmod 644 prov-noexec/bootstrap

=== a good config with functions on every hook passes
--- run
cat > good.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
function-logs: stderr
functions:
  hello:
    runtime: lua
    code: hello.lua
  lib:
    runtime: lua
    code: lib/
  lib-other:
    runtime: lua
    code: lib
    handler: index.other
    memory: 4MB
    timeout: 20ms
    max-code-size: 10KB
behaviors:
  - path: /api/*
    origin: app
    viewer-request: hello
    origin-request: lib
    origin-response: hello
    viewer-response: lib-other
  - path: /*
    origin: app
    viewer-request: hello
YAML
$EDGEFN check -c good.yaml
--- exit: 0
--- stdout ~ good\.yaml: ok

=== function-logs: a directory passes, an off passes
--- run
mkdir -p flogs
for v in flogs off; do
cat > logs-$v.yaml <<YAML
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
function-logs: $v
functions:
  hello: { runtime: lua, code: hello.lua }
behaviors:
  - path: /*
    origin: app
    viewer-request: hello
YAML
$EDGEFN check -c logs-$v.yaml || echo "logs-$v.yaml failed"
done
--- exit: 0
--- stdout !~ failed

=== a behavior naming an undefined function, with the list of the defined ones
--- run
cat > undefined.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  hello: { runtime: lua, code: hello.lua }
  lib: { runtime: lua, code: lib/ }
behaviors:
  - path: /*
    origin: app
    viewer-response: helo
YAML
$EDGEFN check -c undefined.yaml
--- exit: 2
--- stderr ~ (?m)^undefined\.yaml:12:22: [^\n]*viewer-response[^\n]*"helo"[^\n]*not defined[^\n]*\(defined: hello, lib\)$

=== a behavior naming a function when none is defined
--- run
cat > none.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
    origin-request: auth
YAML
$EDGEFN check -c none.yaml
--- exit: 2
--- stderr ~ (?m)^none\.yaml:9:21: [^\n]*origin-request[^\n]*"auth"[^\n]*not defined[^\n]*no functions are defined

=== a syntax error in the Lua file names the function, the Lua file and its line
--- run
cat > syntax.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  hello: { runtime: lua, code: hello.lua }
  broken:
    runtime: lua
    code: syntax.lua
behaviors:
  - path: /*
    origin: app
    viewer-request: broken
YAML
$EDGEFN check -c syntax.yaml
--- exit: 2
--- stderr ~ (?m)^syntax\.yaml:8:3: [^\n]*"broken"[^\n]*syntax\.lua:5:[^\n]*'='
--- stderr !~ hello

=== a Lua file without the handler
--- run
cat > nohandler.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  nohandler:
    runtime: lua
    code: nohandler.lua
behaviors:
  - path: /*
    origin: app
    viewer-request: nohandler
YAML
$EDGEFN check -c nohandler.yaml
--- exit: 2
--- stderr ~ (?m)^nohandler\.yaml:7:3: [^\n]*"nohandler"[^\n]*nohandler\.lua[^\n]*"handler"

=== a handler named in the config that the file does not define
--- run
cat > handler-name.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  hello:
    runtime: lua
    code: hello.lua
    handler: onRequest
behaviors:
  - path: /*
    origin: app
    viewer-request: hello
YAML
$EDGEFN check -c handler-name.yaml
--- exit: 2
--- stderr ~ (?m)^handler-name\.yaml:7:3: [^\n]*"hello"[^\n]*hello\.lua[^\n]*"onRequest"

=== a code directory whose module does not define the handler
--- run
cat > dir-handler.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  lib:
    runtime: lua
    code: lib/
    handler: index.missing
behaviors:
  - path: /*
    origin: app
    viewer-request: lib
YAML
$EDGEFN check -c dir-handler.yaml
--- exit: 2
--- stderr ~ (?m)^dir-handler\.yaml:7:3: [^\n]*"lib"[^\n]*index\.lua[^\n]*"missing"

=== a code directory without the handler's module
--- run
cat > dir-module.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  lib:
    runtime: lua
    code: lib/
    handler: main.handler
behaviors:
  - path: /*
    origin: app
    viewer-request: lib
YAML
$EDGEFN check -c dir-module.yaml
--- exit: 2
--- stderr ~ (?m)^dir-module\.yaml:10:14: [^\n]*main\.lua[^\n]*(No such file|cannot read)

=== a module.function handler for a single file
--- run
cat > file-handler.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  hello:
    runtime: lua
    code: hello.lua
    handler: index.handler
behaviors:
  - path: /*
    origin: app
    viewer-request: hello
YAML
$EDGEFN check -c file-handler.yaml
--- exit: 2
--- stderr ~ (?m)^file-handler\.yaml:10:14: [^\n]*invalid handler "index\.handler"

=== a missing code file
--- run
cat > missing.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  gone:
    runtime: lua
    code: gone.lua
behaviors:
  - path: /*
    origin: app
    viewer-request: gone
YAML
$EDGEFN check -c missing.yaml
--- exit: 2
--- stderr ~ (?m)^missing\.yaml:9:11: [^\n]*gone\.lua[^\n]*No such file or directory

=== a function without code or runtime
--- run
cat > required.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  nocode:
    runtime: lua
  noruntime:
    code: hello.lua
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c required.yaml
--- exit: 2
--- stderr ~ (?m)^required\.yaml:\d+:\d+: [^\n]*"code"[^\n]*\n
--- stderr ~ (?m)^required\.yaml:\d+:\d+: [^\n]*"runtime"

=== an unknown runtime lists the four, and Lambda's identifiers get a hint
--- run
cat > runtime.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  node:
    runtime: nodejs20.x
    code: node
  cobol:
    runtime: cobol
    code: hello.lua
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c runtime.yaml
--- exit: 2
--- stderr ~ (?m)^runtime\.yaml:8:14: runtime: expected "lua", "nodejs", "python" or "provided", found "nodejs20\.x"; write "nodejs"[^\n]*whatever its version$
--- stderr ~ (?m)^runtime\.yaml:11:14: runtime: expected "lua", "nodejs", "python" or "provided", found "cobol"$

=== a nodejs, a python and a provided function pass check
--- run
cat > process-good.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  node:
    runtime: nodejs
    code: node/
  node-src:
    runtime: nodejs
    code: node
    handler: src/app.handler
    memory: 256MB
    timeout: 3s
    concurrency: { reserved: 4, provisioned: 1 }
    queue-timeout: 100ms
    idle-timeout: 10m
    environment: { TABLE: users, RETRIES: 3 }
    include-body: true
    body-limit: 8KB
  py:
    runtime: python
    code: py
    handler: pkg.mod.handler
  own:
    runtime: provided
    code: prov
behaviors:
  - path: /*
    origin: app
    viewer-request: node
    origin-request: py
    origin-response: own
    viewer-response: node-src
YAML
$EDGEFN check -c process-good.yaml
--- exit: 0
--- stdout ~ process-good\.yaml: ok

=== a process function's code must be a directory
--- run
cat > process-file.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  node:
    runtime: nodejs
    code: node/index.js
behaviors:
  - path: /*
    origin: app
    viewer-request: node
YAML
$EDGEFN check -c process-file.yaml
--- exit: 2
--- stderr ~ (?m)^process-file\.yaml:9:11: code: a nodejs function's code must be a directory \(its LAMBDA_TASK_ROOT\), found the file "[^"]*/node/index\.js"$
--- stderr ~ 1 error

=== a handler whose module is missing names every file looked for
--- run
cat > process-module.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  node:
    runtime: nodejs
    code: node
    handler: src/main.handler
  py:
    runtime: python
    code: node
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c process-module.yaml
--- exit: 2
--- stderr ~ (?m)^process-module\.yaml:10:14: handler: cannot find the module of "src/main\.handler": looked for "[^"]*/node/src/main\.js", "[^"]*/node/src/main\.mjs" and "[^"]*/node/src/main\.cjs"$
--- stderr ~ (?m)^process-module\.yaml:13:11: code: cannot find the module of the default handler "index\.handler": looked for "[^"]*/node/index\.py" and "[^"]*/node/index/__init__\.py"$

=== a provided function needs an executable bootstrap
--- run
cat > bootstrap.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  noexec:
    runtime: provided
    code: prov-noexec
  none:
    runtime: provided
    code: node
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c bootstrap.yaml
--- exit: 2
--- stderr ~ (?m)^bootstrap\.yaml:9:11: code: provided function: "[^"]*/prov-noexec/bootstrap" is not executable \(chmod \+x it\)$
--- stderr ~ (?m)^bootstrap\.yaml:12:11: code: provided function: "[^"]*/node/bootstrap" is missing

=== a process function's limits are Lambda's
--- run
cat > process-limits.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  node:
    memory: 64MB
    timeout: 16m
    concurrency: { reserved: 2, provisioned: 3 }
    idle-timeout: 2d
    body-limit: 1MB
    runtime: nodejs
    code: node
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c process-limits.yaml
--- exit: 2
--- stderr ~ (?m)^process-limits\.yaml:8:13: memory: must be 128MB-10240MB for a nodejs function \(Lambda's range\), found "64MB"$
--- stderr ~ (?m)^process-limits\.yaml:9:14: timeout: must be at most 15m for a nodejs function \(Lambda's maximum\), found "16m"$
--- stderr ~ (?m)^process-limits\.yaml:10:46: concurrency\.provisioned: 3 is more than concurrency\.reserved, 2;
--- stderr ~ (?m)^process-limits\.yaml:11:19: idle-timeout: must be 1s-24h, found "2d"$
--- stderr ~ (?m)^process-limits\.yaml:12:5: body-limit: has no effect without include-body: true$
--- stderr ~ 5 errors

=== environment variables: Lambda's reserved names and invalid names are refused
--- run
cat > env.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  py:
    runtime: python
    code: py
    environment:
      TABLE: users
      AWS_REGION: us-east-1
      MY-VAR: x
      EMPTY:
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c env.yaml
--- exit: 2
--- stderr ~ (?m)^env\.yaml:12:7: environment: AWS_REGION is reserved: edgefn sets it, as Lambda does$
--- stderr ~ (?m)^env\.yaml:13:7: environment: invalid variable name "MY-VAR"
--- stderr ~ (?m)^env\.yaml:14:13: environment\.EMPTY: expected a value, found null
--- stderr ~ 3 errors

=== keys of the other kind of function are refused
--- run
cat > other-kind.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  hello:
    runtime: lua
    code: hello.lua
    concurrency: { reserved: 2 }
    include-body: true
  node:
    runtime: nodejs
    code: node
    max-code-size: 1MB
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c other-kind.yaml
--- exit: 2
--- stderr ~ (?m)^other-kind\.yaml:10:5: concurrency: applies to nodejs, python and provided functions only, not lua$
--- stderr ~ (?m)^other-kind\.yaml:11:5: include-body: applies to nodejs, python and provided functions only, not lua$
--- stderr ~ (?m)^other-kind\.yaml:15:5: max-code-size: applies to lua functions only, not nodejs$

=== memory out of range
--- run
cat > memory.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  huge:
    runtime: lua
    code: hello.lua
    memory: 2GB
  none:
    runtime: lua
    code: hello.lua
    memory: 0
  words:
    runtime: lua
    code: hello.lua
    memory: lots
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c memory.yaml
--- exit: 2
--- stderr ~ (?m)^memory\.yaml:10:13: [^\n]*memory[^\n]*1GB[^\n]*"2GB"
--- stderr ~ (?m)^memory\.yaml:14:13: [^\n]*memory
--- stderr ~ (?m)^memory\.yaml:18:13: [^\n]*memory[^\n]*"lots"

=== timeout out of range
--- run
cat > timeout.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  slow:
    runtime: lua
    code: hello.lua
    timeout: 2m
  zero:
    runtime: lua
    code: hello.lua
    timeout: 0
  unitless:
    runtime: lua
    code: hello.lua
    timeout: 5
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c timeout.yaml
--- exit: 2
--- stderr ~ (?m)^timeout\.yaml:10:14: [^\n]*timeout[^\n]*1m[^\n]*"2m"
--- stderr ~ (?m)^timeout\.yaml:14:14: [^\n]*timeout
--- stderr ~ (?m)^timeout\.yaml:18:14: [^\n]*timeout[^\n]*"5"

=== code over the default max-code-size (64KB)
--- run
cat > big.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  big:
    runtime: lua
    code: big.lua
behaviors:
  - path: /*
    origin: app
    viewer-request: big
YAML
$EDGEFN check -c big.yaml
--- exit: 2
--- stderr ~ (?m)^big\.yaml:7:3: [^\n]*"big"[^\n]*big\.lua[^\n]*max-code-size

=== code over a max-code-size given in the config
--- run
cat > small.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  hello:
    runtime: lua
    code: hello.lua
    max-code-size: 64B
behaviors:
  - path: /*
    origin: app
    viewer-request: hello
YAML
$EDGEFN check -c small.yaml
--- exit: 2
--- stderr ~ (?m)^small\.yaml:7:3: [^\n]*"hello"[^\n]*hello\.lua[^\n]*max-code-size

=== invalid function names
--- run
cat > names.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  "my func":
    runtime: lua
    code: hello.lua
  ../escape:
    runtime: lua
    code: hello.lua
  a-name-that-is-far-too-long-to-be-the-name-of-a-log-file-for-sure-xx:
    runtime: lua
    code: hello.lua
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c names.yaml
--- exit: 2
--- stderr ~ (?m)^names\.yaml:7:3: [^\n]*invalid function name "my func"
--- stderr ~ (?m)^names\.yaml:10:3: [^\n]*invalid function name "\.\./escape"
--- stderr ~ (?m)^names\.yaml:13:3: [^\n]*invalid function name [^\n]*64

=== a duplicate function name
--- run
cat > dup.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  hello: { runtime: lua, code: hello.lua }
  hello: { runtime: lua, code: hello.lua }
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c dup.yaml
--- exit: 2
--- stderr ~ (?m)^dup\.yaml:8:3: [^\n]*duplicate[^\n]*"hello"

=== a typo in a hook key is reported with the right spelling
--- run
cat > hook-typo.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  hello: { runtime: lua, code: hello.lua }
behaviors:
  - path: /*
    origin: app
    viewer-requets: hello
    origin_response: hello
YAML
$EDGEFN check -c hook-typo.yaml
--- exit: 2
--- stderr ~ (?m)^hook-typo\.yaml:11:5: [^\n]*"viewer-requets"[^\n]*"viewer-request"
--- stderr ~ (?m)^hook-typo\.yaml:12:5: [^\n]*"origin_response"[^\n]*"origin-response"

=== a typo in a function's key is reported with the right spelling
--- run
cat > key-typo.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  hello:
    runtime: lua
    code: hello.lua
    handlr: handler
    timeuot: 5ms
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c key-typo.yaml
--- exit: 2
--- stderr ~ (?m)^key-typo\.yaml:10:5: [^\n]*"handlr"[^\n]*"handler"
--- stderr ~ (?m)^key-typo\.yaml:11:5: [^\n]*"timeuot"[^\n]*"timeout"

=== a hook given a list instead of one function name
--- run
cat > hook-list.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  hello: { runtime: lua, code: hello.lua }
behaviors:
  - path: /*
    origin: app
    viewer-request: [hello, hello]
YAML
$EDGEFN check -c hook-list.yaml
--- exit: 2
--- stderr ~ (?m)^hook-list\.yaml:11:21: [^\n]*viewer-request

=== a module whose top level raises an error is reported with its line
--- run
cat > toplevel.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  broken:
    runtime: lua
    code: toplevel-error.lua
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c toplevel.yaml
--- exit: 2
--- stderr ~ (?m)^toplevel\.yaml:7:3: [^\n]*"broken"[^\n]*toplevel-error\.lua:2:

=== a module whose top level loops forever is reported, and check ends
--- timeout: 20
--- run
cat > toploop.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  spin:
    runtime: lua
    code: toplevel-loop.lua
behaviors:
  - path: /*
    origin: app
YAML
timeout 10 $EDGEFN check -c toploop.yaml
--- exit: 2
--- stderr ~ (?m)^toploop\.yaml:7:3: [^\n]*"spin"[^\n]*CPU budget

=== function-logs naming a directory that does not exist
--- run
cat > nologdir.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
function-logs: no/such/dir
functions:
  hello: { runtime: lua, code: hello.lua }
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c nologdir.yaml
--- exit: 2
--- stderr ~ (?m)^nologdir\.yaml:6:16: [^\n]*no/such/dir

=== function-log-format other than text or json is an error at its value
--- run
cat > logformat.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
function-log-format: xml
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c logformat.yaml
--- exit: 2
--- stderr ~ (?m)^logformat\.yaml:6:22: function-log-format: expected "text" or "json", found "xml"$

=== every error is reported at once, in position order
--- run
cat > many.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  one:
    runtime: lua
    code: gone.lua
  two:
    runtime: python
    code: hello.lua
  three:
    runtime: lua
    code: hello.lua
    memory: 5GB
behaviors:
  - path: /*
    origin: app
    viewer-request: four
YAML
$EDGEFN check -c many.yaml
--- exit: 2
--- stderr ~ (?s)\Amany\.yaml:9:11: .*\nmany\.yaml:12:11: [^\n]*python function's code must be a directory[^\n]*\nmany\.yaml:16:13: .*\nmany\.yaml:20:21: [^\n]*"four"[^\n]*\(defined: one, two, three\)\n
--- stderr ~ 4 errors

=== a server does not start with a broken function
--- run
cat > serve-broken.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  broken:
    runtime: lua
    code: syntax.lua
behaviors:
  - path: /*
    origin: app
    viewer-request: broken
YAML
timeout 10 $EDGEFN -c serve-broken.yaml
--- exit: 2
--- stderr ~ (?m)^serve-broken\.yaml:7:3: [^\n]*syntax\.lua:5:
