# admin-test.t: POST /functions/NAME/test on the admin listener (CloudFront's TestFunction):
# one event, in the CloudFront Functions shape, the Lambda@Edge shape or the short form
# ({"hook", "method", "uri", "headers", "status", "responseHeaders"}), runs the function
# once, at the hook the event names, and the answer is a 200 with the JSON `edgefn test`
# prints (outcome request/response/error/invalid, the request or response, status and
# error, the log lines, durationMs, computeUtilization, memory), also when the function
# fails. Lua, Node.js and Python functions; nothing reaches the origin and the runs are not
# counted in /metrics nor /cost; the same event through `edgefn test --event-file` gives
# the same result; a bad request is a JSON 400/404/405, and the token is required.
--- setup
printf 's3cret-token\n' > admin.token
mkdir -p fn nfn pfn nthrow
# ---- Lua
cat > fn/rewrite.lua <<'LUA'
function handler(event)
  local req = event.request
  local old = req.uri
  local xm = req.headers["x-m"]
  req.uri = "/v2" .. old
  req.headers["x-added"] = { value = (xm and xm.multiValue and #xm.multiValue or 0) .. " x-m" }
  req.headers["x-host"] = { value = req.headers.host and req.headers.host.value or "(none)" }
  console.log("rewrote " .. old .. " to " .. req.uri)
  return req
end
LUA
cat > fn/headers.lua <<'LUA'
function handler(event)
  local res = event.response
  res.headers["x-frame-options"] = { value = "DENY" }
  res.headers["x-saw"] = { value = res.statusCode .. " " .. event.request.uri .. " on " .. event.request.headers.host.value }
  console.log("status was " .. res.statusCode)
  return res
end
LUA
cat > fn/gen.lua <<'LUA'
function handler(event)
  return { statusCode = 403, statusDescription = "Forbidden",
           headers = { ["content-type"] = { value = "text/plain" } },
           body = "no entry for " .. event.request.uri }
end
LUA
cat > fn/broken.lua <<'LUA'
function handler(event)
  local t = nil
  return t.field
end
LUA
cat > fn/spin.lua <<'LUA'
function handler(event)
  while true do end
end
LUA
cat > fn/nonsense.lua <<'LUA'
function handler(event)
  return 42
end
LUA
# ---- Node.js and Python (Lambda@Edge)
cat > nfn/index.js <<'JS'
exports.handler = async (event, context) => {
  const cf = event.Records[0].cf;
  const req = cf.request;
  console.log('node saw', cf.config.eventType, req.method, req.uri, req.querystring);
  if (cf.config.eventType === 'origin-response') {
    const res = cf.response;
    res.headers['x-node'] = [{ key: 'X-Node', value: 'saw ' + res.status + ' ' + res.statusDescription }];
    return res;
  }
  req.headers['x-node'] = [{ key: 'X-Node', value: 'from ' + req.clientIp + ' to ' + req.headers.host[0].value }];
  req.uri = '/node' + req.uri;
  return req;
};
JS
cat > pfn/lambda_function.py <<'PY'
def lambda_handler(event, context):
    cf = event["Records"][0]["cf"]
    hook = cf["config"]["eventType"]
    req = cf["request"]
    print("python saw", hook, req["method"], req["uri"])
    if hook == "origin-response":
        res = cf["response"]
        res["headers"]["x-python"] = [{"key": "X-Python", "value": "saw %s %s" % (res["status"], res["statusDescription"])}]
        return res
    req["headers"]["x-python"] = [{"key": "X-Python", "value": "from %s to %s" % (req["clientIp"], req["headers"]["host"][0]["value"])}]
    req["uri"] = "/python" + req["uri"]
    req["querystring"] = "from=python"
    return req
PY
cat > nthrow/index.js <<'JS'
exports.handler = async (event) => {
  throw new Error('node blew up at ' + event.Records[0].cf.request.uri);
};
JS
# ---- events
cat > short-vr.json <<'JSON'
{"hook": "viewer-request", "method": "POST", "uri": "/items/1?x=1",
 "headers": {"accept": "text/html", "x-m": ["a", "b"]}}
JSON
cat > cf-vresp.json <<'JSON'
{"version": "1.0", "context": {"eventType": "viewer-response"}, "viewer": {"ip": "198.51.100.9"},
 "request": {"method": "GET", "uri": "/page", "querystring": {}, "headers": {"host": {"value": "shop.example"}}, "cookies": {}},
 "response": {"statusCode": 404, "statusDescription": "Not Found",
              "headers": {"content-type": {"value": "text/html"}}, "cookies": {}}}
JSON
cat > le-oreq.json <<'JSON'
{"Records": [{"cf": {"config": {"eventType": "origin-request"},
  "request": {"clientIp": "203.0.113.5", "method": "GET", "uri": "/a", "querystring": "x=1",
              "headers": {"host": [{"key": "Host", "value": "shop.example"}]}}}}]}
JSON
cat > le-oresp.json <<'JSON'
{"Records": [{"cf": {"config": {"eventType": "origin-response"},
  "request": {"clientIp": "203.0.113.5", "method": "GET", "uri": "/a", "querystring": "",
              "headers": {"host": [{"key": "Host", "value": "shop.example"}]}},
  "response": {"status": "404", "statusDescription": "Not Found",
               "headers": {"content-type": [{"key": "Content-Type", "value": "text/html"}]}}}}]}
JSON
# ---- helpers
# post NAME FILE: POSTs FILE to /functions/NAME/test with the token; the answer's body goes to
# out.json, "STATUS CONTENT-TYPE" to stdout
cat > post <<'SH'
#!/bin/bash
curl -sS --max-time 20 -o out.json -w '%{http_code} %{content_type}\n' \
  -H 'Authorization: Bearer s3cret-token' -H 'Content-Type: application/json' \
  --data-binary "@$2" "http://127.0.0.1:$ADMIN_PORT/functions/$1/test"
SH
# origin-total: how many requests the test origin has had in all
cat > origin-total <<'SH'
#!/bin/bash
curl -sS --max-time 5 "http://127.0.0.1:$ORIGIN_PORT/__stats" | $PYTHON $TOOLS/jget.py total_requests
SH
# lambda-logs TEXT: says whether out.json's logs have START, END and REPORT lines with its
# requestId, and a line holding TEXT
cat > lambda-logs <<'SH'
#!/bin/bash
$PYTHON -c '
import json, sys
r = json.load(open("out.json"))
logs = r.get("logs", [])
for kind in ("START", "END", "REPORT"):
    lines = [l for l in logs if l.startswith(kind + " ")]
    print(kind, "with the request id" if lines and all(r["requestId"] in l for l in lines) else lines or logs)
print("printed" if any(sys.argv[1] in l for l in logs) else logs)
' "$1"
SH
chmod +x post origin-total lambda-logs
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
functions:
  rewrite: { runtime: lua, code: fn/rewrite.lua }
  headers: { runtime: lua, code: fn/headers.lua }
  gen: { runtime: lua, code: fn/gen.lua }
  broken: { runtime: lua, code: fn/broken.lua }
  spin: { runtime: lua, code: fn/spin.lua, timeout: 20ms }
  nonsense: { runtime: lua, code: fn/nonsense.lua }
  nfn: { runtime: nodejs, code: nfn/, handler: index.handler }
  pfn: { runtime: python, code: pfn/, handler: lambda_function.lambda_handler }
  nthrow: { runtime: nodejs, code: nthrow/ }
behaviors:
  - path: /lua/*
    origin: app
    viewer-request: rewrite
    viewer-response: headers
  - path: /gen/*
    origin: app
    viewer-request: gen
  - path: /bad/*
    origin: app
    viewer-request: broken
    origin-request: nthrow
  - path: /spin/*
    origin: app
    viewer-request: spin
  - path: /nonsense/*
    origin: app
    viewer-request: nonsense
  - path: /node/*
    origin: app
    origin-request: nfn
  - path: /python/*
    origin: app
    origin-request: pfn

=== Lua at viewer-request, short form: outcome request with the changed request, its log line, its budget, and no origin request
--- run
before=$(./origin-total)
./post rewrite short-vr.json
$PYTHON $TOOLS/jget.py function eventType outcome request.method request.uri request.querystring.x.value \
    request.headers.accept.value request.headers.x-m.multiValue.1.value request.headers.x-added.value logs.1 memoryLimitBytes < out.json
$PYTHON -c '
import json, re
r = json.load(open("out.json"))
print("framed" if re.match(r"START RequestId: \S+-viewer-request Version: \$LATEST$", r["logs"][0]) and r["logs"][2].startswith("END ") and r["logs"][3].startswith("REPORT ") and len(r["logs"]) == 4 else r["logs"])
print("requestId", "ok" if isinstance(r["requestId"], str) and r["requestId"] else r["requestId"])
print("durationMs", "ok" if 0 < r["durationMs"] < 1000 else r["durationMs"])
print("computeUtilization", "ok" if 0 <= r["computeUtilization"] <= 100 else r["computeUtilization"])
print("no error fields" if "error" not in r and "status" not in r and "response" not in r else r)
'
after=$(./origin-total)
test "$before" = "$after" && echo "origin requests: none" || echo "origin requests: $before before, $after after"
$TOOLS/origin-hits /v2/items/1
$TOOLS/origin-hits /items/1
--- stdout
200 application/json
rewrite
viewer-request
request
POST
/v2/items/1
1
text/html
b
2 x-m
rewrote /items/1 to /v2/items/1
2097152
framed
requestId ok
durationMs ok
computeUtilization ok
no error fields
origin requests: none
origin asked 0 times
origin asked 0 times

=== the short form's defaults: GET /, Host: localhost, also when other headers are given
--- run
echo '{"hook": "viewer-request"}' > ev.json
./post rewrite ev.json
$PYTHON $TOOLS/jget.py outcome request.method request.uri request.headers.x-host.value < out.json
echo '{"hook": "viewer-request", "uri": "/h", "headers": {"accept": "text/html"}}' > ev.json
./post rewrite ev.json
$PYTHON $TOOLS/jget.py outcome request.uri request.headers.accept.value request.headers.x-host.value < out.json
--- stdout
200 application/json
request
GET
/v2/
localhost
200 application/json
request
/v2/h
text/html
localhost

=== Lua at viewer-response, CloudFront Functions shape with a response: outcome response with the header it set
--- run
./post headers cf-vresp.json
$PYTHON $TOOLS/jget.py eventType outcome response.statusCode response.statusDescription response.headers.content-type.value \
    response.headers.x-frame-options.value response.headers.x-saw.value logs.1 < out.json
--- stdout
200 application/json
viewer-response
response
404
Not Found
text/html
DENY
404 /page on shop.example
status was 404

=== Lua generating a response at viewer-request: outcome response, its status and body
--- run
echo '{"hook": "viewer-request", "uri": "/secret"}' > ev.json
./post gen ev.json
$PYTHON $TOOLS/jget.py outcome response.statusCode response.statusDescription response.headers.content-type.value \
    response.body.encoding response.body.data < out.json
$PYTHON -c 'import json; r = json.load(open("out.json")); print("no request" if "request" not in r else r["request"])'
--- stdout
200 application/json
response
403
Forbidden
text/plain
text
no entry for /secret
no request

=== Lua that raises: still a 200, outcome error, status 503, the error, the traceback in the logs
--- run
echo '{"hook": "viewer-request"}' > ev.json
./post broken ev.json
$PYTHON $TOOLS/jget.py outcome status error < out.json
$PYTHON -c 'import json; print("\n".join(json.load(open("out.json"))["logs"]))' | grep -c '^stack traceback:'
--- stdout ~ \A200 application/json\nerror\n503\nbroken\.lua:3: attempt to index a nil value \(local 't'\)\n[1-9]\n\Z

=== Lua that loops: outcome error, status 503, its CPU budget exceeded, all of the budget used
--- run
echo '{"hook": "viewer-request", "uri": "/spin"}' > ev.json
./post spin ev.json
$PYTHON $TOOLS/jget.py outcome status error computeUtilization < out.json
--- stdout ~ \A200 application/json\nerror\n503\n[^\n]*CPU budget of 20ms[^\n]*\n100\n\Z

=== Lua that returns nonsense: outcome invalid, status 502, the reason
--- run
echo '{"hook": "viewer-request"}' > ev.json
./post nonsense ev.json
$PYTHON $TOOLS/jget.py outcome status error < out.json
--- stdout ~ \A200 application/json\ninvalid\n502\n[^\n]*returned number

=== Node.js, Lambda@Edge shape: at origin-request outcome request with its change, at origin-response its header; START/END/REPORT and its output in the logs
--- timeout: 20
--- run
./post nfn le-oreq.json
$PYTHON $TOOLS/jget.py function eventType outcome request.uri request.querystring.x.value request.headers.x-node.value < out.json
./lambda-logs 'node saw origin-request GET /a x=1'
./post nfn le-oresp.json
$PYTHON $TOOLS/jget.py eventType outcome response.statusCode response.statusDescription response.headers.content-type.value response.headers.x-node.value < out.json
./lambda-logs 'node saw origin-response GET /a'
--- stdout
200 application/json
nfn
origin-request
request
/node/a
1
from 203.0.113.5 to shop.example
START with the request id
END with the request id
REPORT with the request id
printed
200 application/json
origin-response
response
404
Not Found
text/html
saw 404 Not Found
START with the request id
END with the request id
REPORT with the request id
printed

=== Python, Lambda@Edge shape: at origin-request outcome request with its change, at origin-response its header; START/END/REPORT and its print in the logs
--- timeout: 20
--- run
./post pfn le-oreq.json
$PYTHON $TOOLS/jget.py function eventType outcome request.uri request.querystring.from.value request.headers.x-python.value < out.json
./lambda-logs 'python saw origin-request GET /a'
./post pfn le-oresp.json
$PYTHON $TOOLS/jget.py eventType outcome response.statusCode response.headers.content-type.value response.headers.x-python.value < out.json
./lambda-logs 'python saw origin-response GET /a'
--- stdout
200 application/json
pfn
origin-request
request
/python/a
python
from 203.0.113.5 to shop.example
START with the request id
END with the request id
REPORT with the request id
printed
200 application/json
origin-response
response
404
text/html
saw 404 Not Found
START with the request id
END with the request id
REPORT with the request id
printed

=== Node.js that throws: still a 200, outcome error, status 503, the error in the logs
--- timeout: 20
--- run
./post nthrow le-oreq.json
$PYTHON $TOOLS/jget.py outcome status < out.json
$PYTHON -c 'import json; r = json.load(open("out.json")); print("error given" if r.get("error") else r)'
./lambda-logs 'node blew up at /a'
--- stdout
200 application/json
error
503
error given
START with the request id
END with the request id
REPORT with the request id
printed

=== the same event through `edgefn test --event-file` gives the same outcome and request (Lua and Node.js)
--- timeout: 20
--- run
cat > cf-vr.json <<'JSON'
{"version": "1.0", "context": {"eventType": "viewer-request"}, "viewer": {"ip": "203.0.113.7"},
 "request": {"method": "GET", "uri": "/cmp", "querystring": {"a": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]}},
             "headers": {"host": {"value": "shop.example"}, "x-m": {"value": "a", "multiValue": [{"value": "a"}, {"value": "b"}, {"value": "c"}]}},
             "cookies": {"user": {"value": "ada"}}}}
JSON
sed 's/"viewer-request"/"origin-request"/' cf-vr.json > cf-or.json
for f in rewrite:cf-vr.json nfn:cf-or.json; do
  ./post ${f%%:*} ${f#*:} > /dev/null
  mv out.json endpoint.json
  $EDGEFN test ${f%%:*} --event-file ${f#*:} > cli.json
  echo "cli exit $?"
  $PYTHON -c '
import json, sys
a, b = json.load(open("endpoint.json")), json.load(open("cli.json"))
keys = ["function", "eventType", "outcome", "request", "response", "status", "error"]
pick = lambda r: {k: r.get(k) for k in keys}
print(sys.argv[1], a["outcome"], "same" if pick(a) == pick(b) else "differ:\n  endpoint %s\n  cli      %s" % (pick(a), pick(b)))
' ${f%%:*}
done
--- stdout
cli exit 0
rewrite request same
cli exit 0
nfn request same

=== test runs are not counted in /metrics nor /cost (a real request is)
--- run
curl -sS -o /dev/null http://127.0.0.1:$PORT/lua/counted
echo '{"hook": "viewer-request", "uri": "/lua/test"}' > ev.json
for i in 1 2 3; do ./post rewrite ev.json; done
echo "metrics: $($TOOLS/metric --token s3cret-token edgefn_function_invocations_total function=rewrite hook=viewer-request)"
curl -sS -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/cost | $PYTHON -c '
import json, sys
print("cost:", [f["invocations"] for f in json.load(sys.stdin)["functions"] if f["function"] == "rewrite"])'
--- stdout
200 application/json
200 application/json
200 application/json
metrics: 1
cost: [1]

=== an unknown function: 404 NoSuchFunction
--- run
echo '{"hook": "viewer-request"}' > ev.json
curl -sS -i -H 'Authorization: Bearer s3cret-token' --data-binary @ev.json http://127.0.0.1:$ADMIN_PORT/functions/nope/test
--- status: 404
--- header: content-type: application/json
--- body ~ \A\{"error":"NoSuchFunction","message":"[^\n]*nope[^\n]*"\}\n?\Z

=== GET is a 405 MethodNotAllowed with Allow: POST
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/functions/rewrite/test
--- status: 405
--- header: allow: POST
--- header: content-type: application/json
--- body ~ "error":"MethodNotAllowed"

=== no body: 400 MissingBody
--- run
curl -sS -i -X POST -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/functions/rewrite/test
--- status: 400
--- header: content-type: application/json
--- body ~ \A\{"error":"MissingBody","message":"[^"]

=== a body that is not JSON: 400 MalformedInput
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' --data-binary '{not json' http://127.0.0.1:$ADMIN_PORT/functions/rewrite/test
--- status: 400
--- header: content-type: application/json
--- body ~ \A\{"error":"MalformedInput","message":"[^"]

=== JSON that is not an event: 400 InvalidArgument naming the problem (unknown hook, no hook, headers not an object)
--- run
echo '{"hook": "nope"}' > bad1.json
echo '{}' > bad2.json
echo '{"hook": "viewer-request", "headers": [1]}' > bad3.json
for f in bad1 bad2 bad3; do
  ./post rewrite $f.json
  $PYTHON $TOOLS/jget.py error message < out.json
done
--- stdout ~ \A400 application/json\nInvalidArgument\n[^\n]*\bhook\b[^\n]*\n400 application/json\nInvalidArgument\n[^\n]*(?i:\bhook\b|eventType)[^\n]*\n400 application/json\nInvalidArgument\n[^\n]*headers[^\n]*\n\Z

=== no bearer token: 401, and the function does not run
--- run
echo '{"hook": "viewer-request"}' > ev.json
curl -sS -i --data-binary @ev.json http://127.0.0.1:$ADMIN_PORT/functions/rewrite/test
--- status: 401
--- header: www-authenticate ~ ^Bearer
--- log !~ rewrote
