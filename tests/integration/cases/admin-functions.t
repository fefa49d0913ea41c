# admin-functions.t: the admin API's functions endpoints. GET /functions and
# GET /functions/NAME answer each function's configuration, where it is bound and its
# counters per hook; GET /functions/NAME/logs finds the lines of one request (by its
# x-edgefn-request-id) or since a time in the function's log files; errors are JSON.
--- setup
printf 's3cret-token\n' > admin.token
mkdir -p flogs
cat > hdr.lua <<'LUA'
function handler(event)
  console.log("adding x-a to " .. event.request.uri)
  event.response.headers["x-a"] = {value = "1"}
  return event.response
end
LUA
cat > boom.lua <<'LUA'
function handler(event) error("boom") end
LUA
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
function-logs: flogs
functions:
  hdr: { runtime: lua, code: hdr.lua }
  boom: { runtime: lua, code: boom.lua, memory: 1MB }
behaviors:
  - path: /boom/*
    origin: app
    viewer-request: boom
  - path: /*
    origin: app
    viewer-response: hdr

=== GET /functions lists every function with its runtime, where it is bound and its counters
--- run
curl -sS -o /dev/null http://127.0.0.1:$PORT/echo/1
curl -sS -o /dev/null http://127.0.0.1:$PORT/boom/1
curl -sS -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/functions | $PYTHON -c '
import json, sys
for f in json.load(sys.stdin)["functions"]:
    for hook, c in f["hooks"].items():
        print(f["name"], f["runtime"], f["memory"], [b["behavior"] for b in f["bound"]], hook, c["invocations"],
              {k: v for k, v in c["errors"].items() if v})'
--- stdout
hdr lua 2097152 ['/*'] viewer-response 1 {}
boom lua 1048576 ['/boom/*'] viewer-request 1 {'runtime': 1}

=== GET /functions/NAME answers one; an unknown name is a 404 NoSuchFunction
--- run
curl -sS -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/functions/boom | $PYTHON -c '
import json, sys; f = json.load(sys.stdin); print(f["name"], f["handler"], f["bound"])'
curl -sS -i -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/functions/nope
--- stdout ~ \Aboom handler \[\{'behavior': '/boom/\*', 'hook': 'viewer-request'\}\]\n
--- status: 404
--- header: content-type: application/json
--- body
{"error":"NoSuchFunction","message":"no function \"nope\" in the config"}

=== GET /functions/NAME/logs?request-id= finds that request's lines, and only them
--- run
for i in 1 2 3; do curl -sS -o /dev/null -D h$i http://127.0.0.1:$PORT/echo/r$i; done
id=$(tr -d '\r' < h2 | sed -n 's/^x-edgefn-request-id: //p')
curl -sS -H 'Authorization: Bearer s3cret-token' "http://127.0.0.1:$ADMIN_PORT/functions/hdr/logs?request-id=$id" | $PYTHON -c '
import json, sys
r = json.load(sys.stdin)
print(r["function"], r["truncated"], len(r["lines"]))
for line in r["lines"]:
    print(line.split(" ", 3)[1:3], line.split(" ", 3)[3].split("\t")[0])' | sed "s/$id/ID/g"
--- stdout
hdr False 4
['hdr:$LATEST', 'viewer-response'] ID START RequestId: ID-viewer-response Version: $LATEST
['hdr:$LATEST', 'viewer-response'] ID adding x-a to /echo/r2
['hdr:$LATEST', 'viewer-response'] ID END RequestId: ID-viewer-response
['hdr:$LATEST', 'viewer-response'] ID REPORT RequestId: ID-viewer-response

=== GET /functions/NAME/logs?since= takes a time or a duration, limit= a count; a bad one is a 400
--- run
sleep 1.1
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
curl -sS -o /dev/null http://127.0.0.1:$PORT/boom/late
A='Authorization: Bearer s3cret-token'
curl -sS -H "$A" "http://127.0.0.1:$ADMIN_PORT/functions/boom/logs?since=$start" | $PYTHON -c 'import json, sys; print(len(json.load(sys.stdin)["lines"]), "line since", "the start")'
curl -sS -H "$A" "http://127.0.0.1:$ADMIN_PORT/functions/boom/logs?since=1h&limit=1" | $PYTHON -c 'import json, sys; r = json.load(sys.stdin); print(len(r["lines"]), "line with limit=1, truncated:", r["truncated"])'
curl -sS -H "$A" "http://127.0.0.1:$ADMIN_PORT/functions/boom/logs?limit=0"; echo
curl -sS -i -H "$A" "http://127.0.0.1:$ADMIN_PORT/functions/boom/logs?since=yesterday"
--- stdout ~ \A4 line since the start\n1 line with limit=1, truncated: True\n\{"error":"InvalidArgument","message":"limit=0 is not a number of lines from 1 to 10000"\}\n
--- status: 400
--- body ~ "error":"InvalidArgument".*since=yesterday is neither a time

=== a function whose log goes to stderr has no log file to search: 404 NoLogFile; other methods are 405
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  hdr: { runtime: lua, code: hdr.lua }
behaviors:
  - path: /*
    origin: app
    viewer-response: hdr
--- run
curl -sS -o /dev/null -w '%{http_code}\n' -X POST http://127.0.0.1:$ADMIN_PORT/functions
curl -sS -i http://127.0.0.1:$ADMIN_PORT/functions/hdr/logs
--- stdout ~ \A405\n
--- status: 404
--- body ~ "error":"NoLogFile","message":"function \\"hdr\\" logs to stderr

=== function-log-format: json writes one JSON object a line, and the log search finds a request's lines in them
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
  token-file: admin.token
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
function-logs: flogs
function-log-format: json
functions:
  boom: { runtime: lua, code: boom.lua }
behaviors:
  - path: /*
    origin: app
    viewer-request: boom
--- run
id=$(curl -sS -o /dev/null -D - http://127.0.0.1:$PORT/json/1 | tr -d '\r' | sed -n 's/^x-edgefn-request-id: //p')
curl -sS -o /dev/null http://127.0.0.1:$PORT/json/2
curl -sS -H 'Authorization: Bearer s3cret-token' "http://127.0.0.1:$ADMIN_PORT/functions/boom/logs?request-id=$id&since=10m" | $PYTHON -c '
import json, sys
lines = json.load(sys.stdin)["lines"]
print(len(lines), "lines:", ", ".join(json.loads(l)["message"].split(" ")[0] for l in lines))
line = json.loads(lines[1])
print(sorted(line), line["function"], line["version"], line["hook"], line["message"].splitlines()[0])'
--- stdout
4 lines: START, boom.lua:1:, END, REPORT
['function', 'hook', 'message', 'request_id', 'time', 'version'] boom $LATEST viewer-request boom.lua:1: boom

=== GET /cost: per function, invocations, GB-seconds, and their price at Lambda@Edge and CloudFront Functions (pricing: in config)
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  hdr: { runtime: lua, code: hdr.lua, memory: 1MB }
behaviors:
  - path: /*
    origin: app
    viewer-response: hdr
pricing:
  lambda-edge-request: 0.001
  lambda-edge-gb-second: 1000
  cloudfront-functions-invocation: 0.5
function-logs: off
--- run
for i in 1 2 3 4; do curl -sS -o /dev/null http://127.0.0.1:$PORT/echo/$i; done
curl -sS http://127.0.0.1:$ADMIN_PORT/cost | $PYTHON -c '
import json, sys
r = json.load(sys.stdin)
f = r["functions"][0]
gb_s = f["gb_seconds"]
# each of 4 invocations of 1 MB billed at least 1 ms: at least 4 MB-ms
print(f["function"], f["version"], f["runtime"], f["invocations"], gb_s >= 4 / 1024 / 1000)
print(round(f["lambda_edge_usd"] - 4 * 0.001 - gb_s * 1000, 9), f["cloudfront_functions_usd"], r["total"]["cloudfront_functions_usd"])
print(r["prices"])'
--- stdout
hdr $LATEST lua 4 True
0.0 2.0 2.0
{'lambda_edge_request': 0.001, 'lambda_edge_gb_second': 1000.0, 'cloudfront_functions_invocation': 0.5}

=== a price that is not a number is an error at its value
--- run
cat > badprice.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
pricing:
  lambda-edge-request: cheap
YAML
$EDGEFN check -c badprice.yaml
--- exit: 2
--- stderr ~ (?m)^badprice\.yaml:10:24: pricing\.lambda-edge-request: expected a price in US dollars \(a number such as 0\.0000006\), found "cheap"$
