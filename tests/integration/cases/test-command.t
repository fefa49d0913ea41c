# test-command.t: `edgefn test FUNCTION --event HOOK` runs one function once, offline,
# and prints a JSON report on stdout: the outcome ("request" goes on, "response" is
# sent, "error" is a 503, "invalid" a 502), the request or response, the error, the
# function's log lines, the duration and the budget used. Exit 0 when the function
# ran, 1 when it failed, 2 on bad usage or a bad config. No server is started.

--- setup
mkdir -p fn/lib
cat > fn/headers.lua <<'LUA'
function handler(event)
    local r = event.response
    r.headers["x-frame-options"] = { value = "DENY" }
    r.cookies["session"] = { value = "abc", attributes = "Path=/; Secure" }
    console.log("status was", r.statusCode)
    return r
end
LUA
cat > fn/router.lua <<'LUA'
function handler(event)
    local req = event.request
    if req.uri == "/old" then
        return { statusCode = 301, headers = { location = { value = "https://example.com/new" } } }
    end
    req.uri = "/v2" .. req.uri
    req.headers["x-seen-method"] = { value = req.method }
    req.headers["x-seen-host"] = { value = req.headers.host and req.headers.host.value or "none" }
    req.headers["x-seen-ip"] = { value = event.viewer.ip }
    req.headers["x-seen-type"] = { value = event.context.eventType }
    if req.querystring.a then
        req.headers["x-seen-a"] = { value = #req.querystring.a.multiValue .. " values" }
    end
    if req.cookies.user then
        req.headers["x-seen-user"] = { value = req.cookies.user.value }
    end
    print("routed", req.uri)
    return req
end
LUA
cat > fn/broken.lua <<'LUA'
function handler(event)
    local t = nil
    return t.field
end
LUA
cat > fn/invalid.lua <<'LUA'
function handler(event)
    return { statusCode = 200, headers = { connection = { value = "close" } } }
end
LUA
cat > fn/spin.lua <<'LUA'
function handler(event)
    while true do end
end
LUA
cat > fn/syntax.lua <<'LUA'
function handler(event)
    return event.request
-- the end is missing
LUA
cat > edgefn.yaml <<'YAML'
listen: [ { port: 1, address: 127.0.0.1 } ]
origins:
  app: { url: "http://127.0.0.1:1" }
functions:
  headers: { runtime: lua, code: fn/headers.lua }
  router: { runtime: lua, code: fn/router.lua }
  broken: { runtime: lua, code: fn/broken.lua }
  invalid: { runtime: lua, code: fn/invalid.lua }
  spin: { runtime: lua, code: fn/spin.lua, timeout: 20ms }
behaviors:
  - path: "*"
    origin: app
    viewer-request: router
    viewer-response: headers
YAML
cat > syntax.yaml <<'YAML'
listen: [ { port: 1 } ]
origins:
  app: { url: "http://127.0.0.1:1" }
functions:
  syntax: { runtime: lua, code: fn/syntax.lua }
behaviors:
  - path: "*"
    origin: app
YAML

=== a viewer-response function: the response it returns, its log lines and its budget
--- run
$EDGEFN test headers --event viewer-response > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py function eventType outcome response.statusCode response.headers.x-frame-options.value \
    response.cookies.session.value response.cookies.session.attributes logs.1 memoryLimitBytes < out.json
$PYTHON -c 'import json,sys; r=json.load(open("out.json")); print("duration ok" if 0 < r["durationMs"] < 1000 else r["durationMs"]); print("utilization ok" if 0 <= r["computeUtilization"] <= 100 else r["computeUtilization"]); print("memory ok" if 0 < r["memoryUsedBytes"] < r["memoryLimitBytes"] else r["memoryUsedBytes"])'
--- stdout
exit 0
headers
viewer-response
response
200
DENY
abc
Path=/; Secure
status was	200
2097152
duration ok
utilization ok
memory ok

=== a viewer-request function that rewrites the request sees --request, -H and the defaults
--- run
$EDGEFN test router --event viewer-request --request 'POST /items?a=1&a=2' -H 'Cookie: user=ada' -H 'X-Custom: 1' > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome request.method request.uri request.querystring.a.multiValue.1.value request.headers.x-seen-method.value \
    request.headers.x-seen-host.value request.headers.x-seen-ip.value request.headers.x-seen-type.value \
    request.headers.x-seen-a.value request.headers.x-seen-user.value request.headers.x-custom.value request.cookies.user.value logs.1 < out.json
--- stdout
exit 0
request
POST
/v2/items
2
POST
localhost
127.0.0.1
viewer-request
2 values
ada
1
ada
routed	/v2/items

=== a -H Host replaces the default host
--- run
$EDGEFN test router --event origin-request -H 'Host: www.example.com' | $PYTHON $TOOLS/jget.py request.headers.x-seen-host.value request.headers.x-seen-type.value
--- stdout
www.example.com
origin-request

=== a generated response at viewer-request is the outcome, with the reason filled in
--- run
$EDGEFN test router --event viewer-request --request /old | $PYTHON $TOOLS/jget.py outcome response.statusCode response.statusDescription response.headers.location.value
--- stdout
response
301
Moved Permanently
https://example.com/new

=== an event file in the CloudFront Functions shape, with its eventType
--- run
cat > event.json <<'JSON'
{
  "version": "1.0",
  "context": { "eventType": "viewer-request" },
  "viewer": { "ip": "203.0.113.7" },
  "request": {
    "method": "GET",
    "uri": "/index.html",
    "querystring": { "a": { "value": "1", "multiValue": [ { "value": "1" }, { "value": "3" }, { "value": "5" } ] } },
    "headers": { "host": { "value": "shop.example" } },
    "cookies": { "user": { "value": "grace" } }
  }
}
JSON
$EDGEFN test router --event-file event.json | $PYTHON $TOOLS/jget.py request.uri request.headers.x-seen-ip.value request.headers.x-seen-host.value request.headers.x-seen-a.value request.headers.x-seen-user.value request.querystring.a.multiValue.2.value
--- stdout
/v2/index.html
203.0.113.7
shop.example
3 values
grace
5

=== an event file in the Lambda@Edge shape, or the short form, runs the same (a Lua function sees it as CloudFront Functions')
--- run
cat > lambda.json <<'JSON'
{"Records": [{"cf": {"config": {"eventType": "viewer-request"},
  "request": {"clientIp": "203.0.113.9", "method": "GET", "uri": "/index.html", "querystring": "a=1&a=2",
              "headers": {"host": [{"key": "Host", "value": "lambda.example"}], "cookie": [{"key": "Cookie", "value": "user=ada"}]}}}}]}
JSON
cat > short.json <<'JSON'
{"hook": "viewer-request", "uri": "/index.html?a=7&a=8&a=9", "headers": {"cookie": "user=lin"}}
JSON
for f in lambda.json short.json; do
  $EDGEFN test router --event-file $f | $PYTHON $TOOLS/jget.py eventType request.uri request.headers.x-seen-ip.value request.headers.x-seen-host.value request.headers.x-seen-a.value request.headers.x-seen-user.value
done
--- stdout
viewer-request
/v2/index.html
203.0.113.9
lambda.example
2 values
ada
viewer-request
/v2/index.html
127.0.0.1
localhost
3 values
lin

=== a response event file gives the response hook its status and headers
--- run
cat > response.json <<'JSON'
{ "response": { "statusCode": 404, "statusDescription": "Not Found", "headers": { "content-type": { "value": "text/html" } } } }
JSON
$EDGEFN test headers --event origin-response --event-file response.json | $PYTHON $TOOLS/jget.py response.statusCode response.headers.content-type.value response.headers.x-frame-options.value logs.1
--- stdout
404
text/html
DENY
status was	404

=== a function that raises: outcome error, status 503, the traceback in its logs, exit 1
--- run
$EDGEFN test broken --event viewer-request > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome status error < out.json
$PYTHON $TOOLS/jget.py logs.1 < out.json | head -2
--- stdout
exit 1
error
503
broken.lua:3: attempt to index a nil value (local 't')
broken.lua:3: attempt to index a nil value (local 't')
stack traceback:

=== an invalid return value: outcome invalid, status 502, the reason, exit 1
--- run
$EDGEFN test invalid --event viewer-request > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome status error < out.json
--- stdout ~ \Aexit 1\ninvalid\n502\n.*"connection".*hop-by-hop

=== a runaway function is stopped at its CPU budget: all of it used, exit 1
--- run
$EDGEFN test spin --event viewer-request > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome status error computeUtilization < out.json
--- stdout
exit 1
error
503
CPU budget of 20ms exceeded
100

=== the function's log lines go to the report, not to stderr
--- run
$EDGEFN test headers --event viewer-response > /dev/null
--- stderr ~ \A\Z

=== a function that does not compile is a config error: exit 2, with the file and line
--- run
$EDGEFN test syntax -c syntax.yaml --event viewer-request
--- exit: 2
--- stderr ~ syntax\.lua:\d+: .*'end' expected
--- stdout ~ \A\Z

=== an unknown function: exit 2, naming the ones there are
--- run
$EDGEFN test nope --event viewer-request
--- exit: 2
--- stderr ~ no function "nope" \(it has: headers, router, broken, invalid, spin\)

=== no function named: exit 2 with usage
--- run
$EDGEFN test --event viewer-request
--- exit: 2
--- stderr ~ (?i)usage
--- stderr ~ which function

=== no event type: exit 2
--- run
$EDGEFN test router
--- exit: 2
--- stderr ~ --event is required

=== an unknown event type: exit 2
--- run
$EDGEFN test router --event viewer-requests
--- exit: 2
--- stderr ~ "viewer-requests" is not a hook

=== a header without a colon: exit 2
--- run
$EDGEFN test router --event viewer-request -H 'X-Broken'
--- exit: 2
--- stderr ~ expected 'name: value'

=== a request line without a path: exit 2
--- run
$EDGEFN test router --event viewer-request --request 'GET items'
--- exit: 2
--- stderr ~ METHOD /path

=== an event file that is not JSON: exit 2, with its line and column
--- run
printf '{\n  "request": { "uri": "/x", }\n}\n' > bad.json
$EDGEFN test router --event viewer-request --event-file bad.json
--- exit: 2
--- stderr ~ bad\.json:2:\d+:

=== an event file with a wrong field: exit 2, naming it
--- run
echo '{ "request": { "headers": { "x": { "value": 1 } } } }' > wrong.json
$EDGEFN test router --event viewer-request --event-file wrong.json
--- exit: 2
--- stderr ~ header "x": expected \{"value": "\.\.\."\}

=== a bad config: exit 2, with every error
--- run
printf 'listen: [ { port: 1 } ]\norigins: { app: { url: "http://127.0.0.1:1" } }\nfunctions: { f: { runtime: lua } }\nbehaviors: [ { path: "*", origin: app } ]\n' > bad.yaml
$EDGEFN test f -c bad.yaml --event viewer-request
--- exit: 2
--- stderr ~ bad\.yaml:3:\d+: .*code
