# metrics.t: GET /metrics on the admin listener, Prometheus' text format 0.0.4, read with
# the Prometheus client library's own parser (tools/metric): the values after a known
# sequence of requests: responses by status class, what the cache did, collapsed
# requests, origin fetch durations and errors by kind, requests in flight; per function
# and hook: invocations, errors of each kind, durations, cold starts, GB-seconds, the
# Lua CPU budget's share; the token.
--- setup
printf 's3cret-token\n' > admin.token
ln -s "$TOOLS/metric" metric
cat > hdr.lua <<'LUA'
function handler(event)
  event.response.headers["x-a"] = {value = "1"}
  return event.response
end
LUA
cat > faulty.lua <<'LUA'
function handler(event)
  local what = event.request.uri:match("^/lua/(%w+)")
  if what == "raise" then error("boom") end
  if what == "loop" then while true do end end
  if what == "hog" then local t = {} for i = 1, 1e8 do t[i] = i end end
  if what == "invalid" then return {statusCode = "not a number"} end
  return event.request
end
LUA
mkdir -p node
cat > node/index.js <<'JS'
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri === "/node/exit") process.exit(3);
  if (request.uri === "/node/slow") await new Promise((r) => setTimeout(r, 600));
  return request;
};
JS
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
  dead: { url: "http://127.0.0.1:$DEAD_PORT" }
  slow: { url: "http://127.0.0.1:$ORIGIN_PORT", timeout: 300ms }
function-logs: off
access-log: access.log
functions:
  hdr: { runtime: lua, code: hdr.lua }
  faulty: { runtime: lua, code: faulty.lua, timeout: 50ms, memory: 1MB }
  nfn: { runtime: nodejs, code: node/, memory: 256MB, concurrency: { reserved: 1 } }
  prov: { runtime: nodejs, code: node/, concurrency: { reserved: 3, provisioned: 2 } }
behaviors:
  - path: /lua/*
    origin: app
    viewer-request: faulty
    viewer-response: hdr
  - path: /node/*
    origin: app
    viewer-request: nfn
  - path: /prov/*
    origin: app
    viewer-request: prov
  - path: /echo/*
    origin: app
    cache: { default-ttl: 60s }
  - path: /delay/*
    origin: app
    cache: { default-ttl: 60s }
  - path: /status/*
    origin: app
  - path: /dead/*
    origin: dead
  - path: /stall
    origin: slow

=== the exposition parses with Prometheus' own parser, with HELP and TYPE for every family
--- run
./metric --token s3cret-token --check
curl -sS -i -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/metrics
--- stdout ~ \Aok \d+ families\n
--- status: 200
--- header: content-type: text/plain; version=0.0.4; charset=utf-8
--- body ~ (?m)^# TYPE edgefn_origin_duration_seconds histogram$
--- body ~ (?m)^edgefn_worker_threads 2$

=== without the token, /metrics is a 401
--- run
curl -sS -i http://127.0.0.1:$ADMIN_PORT/metrics
--- status: 401

=== a miss and two hits, a 404 and a 500: counted by behavior, status class and what the cache did
--- run
for p in /echo/m /echo/m /echo/m; do curl -sS -o /dev/null "http://127.0.0.1:$PORT$p"; done
curl -sS -o /dev/null http://127.0.0.1:$PORT/status/404
curl -sS -o /dev/null http://127.0.0.1:$PORT/status/500
M="./metric --token s3cret-token"
echo "echo 2xx $($M edgefn_responses_total behavior=/echo/* code=2xx)"
echo "echo miss $($M edgefn_cache_requests_total behavior=/echo/* result=miss)"
echo "echo hit $($M edgefn_cache_requests_total behavior=/echo/* result=hit)"
echo "status 4xx $($M edgefn_responses_total behavior=/status/* code=4xx)"
echo "status 5xx $($M edgefn_responses_total behavior=/status/* code=5xx)"
echo "status pass $($M edgefn_cache_requests_total behavior=/status/* result=pass)"
echo "objects $($M edgefn_cache_objects)"
echo "fetches $($M edgefn_origin_duration_seconds_count origin=app)"
--- stdout
echo 2xx 3
echo miss 1
echo hit 2
status 4xx 1
status 5xx 1
status pass 2
objects 1
fetches 3

=== requests that wait for another's fetch are counted as collapsed
--- run
for i in 1 2 3 4 5; do curl -sS -o /dev/null http://127.0.0.1:$PORT/delay/400 & done
wait
M="./metric --token s3cret-token"
echo "collapsed $($M edgefn_cache_collapsed_total behavior=/delay/*)"
echo "hits $($M edgefn_cache_requests_total behavior=/delay/* result=hit)"
--- stdout
collapsed 4
hits 4

=== origin errors by kind: refused, timeout; each an edgefn Error
--- run
curl -sS -o /dev/null -w '%{http_code}\n' http://127.0.0.1:$PORT/dead/x
curl -sS -o /dev/null -w '%{http_code}\n' http://127.0.0.1:$PORT/stall
M="./metric --token s3cret-token"
echo "refused $($M edgefn_origin_errors_total origin=dead kind=refused)"
echo "timeout $($M edgefn_origin_errors_total origin=slow kind=timeout)"
echo "reset $($M edgefn_origin_errors_total origin=slow kind=reset)"
echo "errors $($M edgefn_cache_requests_total behavior=/dead/* result=error)"
--- stdout
502
504
refused 1
timeout 1
reset 0
errors 1

=== a request under way is in flight, and no longer once it has ended
--- run
curl -sS -o /dev/null http://127.0.0.1:$PORT/status/200?x=1 &
curl -sS -o /dev/null "http://127.0.0.1:$PORT/delay/800?k=inflight" & sleep 0.4
M="./metric --token s3cret-token"
echo "during $($M edgefn_requests_in_flight)"
wait
echo "after $($M edgefn_requests_in_flight)"
--- stdout
during 1
after 0

=== Lua functions: invocations, errors by kind, durations, GB-seconds and the share of the CPU budget, per hook
--- run
for p in ok raise loop hog invalid ok; do curl -sS -o /dev/null -w '%{http_code} ' "http://127.0.0.1:$PORT/lua/$p"; done; echo
M="./metric --token s3cret-token"
F="function=faulty version=\$LATEST hook=viewer-request"
echo "faulty invocations $($M edgefn_function_invocations_total $F)"
for k in runtime validation timeout memory throttle crash; do echo "faulty $k $($M edgefn_function_errors_total $F kind=$k)"; done
echo "faulty durations $($M edgefn_function_duration_seconds_count $F)"
echo "faulty budget ratios $($M edgefn_function_compute_budget_ratio_count $F)"
# the loop used its whole budget (on a busy machine another may have too)
over=$(( $($M edgefn_function_compute_budget_ratio_count $F) - $($M edgefn_function_compute_budget_ratio_bucket $F le=1) ))
echo "faulty over budget: $([ $over -ge 1 ] && echo at least one)"
echo "hdr invocations $($M edgefn_function_invocations_total function=hdr hook=viewer-response)"
gb=$($M edgefn_function_gb_seconds_total $F)
python3 -c "import sys; print('faulty GB-s above 6 invocations of 1 MB for 1 ms:', float(sys.argv[1]) >= 6 * 1 / 1024 / 1000)" "$gb"
--- stdout
404 503 503 503 502 404 
faulty invocations 6
faulty runtime 1
faulty validation 1
faulty timeout 1
faulty memory 1
faulty throttle 0
faulty crash 0
faulty durations 6
faulty budget ratios 6
faulty over budget: at least one
hdr invocations 2
faulty GB-s above 6 invocations of 1 MB for 1 ms: True

=== a process function: one cold start with its init duration, then warm; a throttle; a crash
--- timeout: 30
--- run
M="./metric --token s3cret-token"
F="function=nfn version=\$LATEST hook=viewer-request"
curl -sS -o /dev/null -w '%{http_code} ' http://127.0.0.1:$PORT/node/a
curl -sS -o /dev/null -w '%{http_code} ' http://127.0.0.1:$PORT/node/b
echo
echo "cold starts $($M edgefn_function_cold_starts_total $F)"
echo "inits $($M edgefn_function_init_duration_seconds_count $F)"
# concurrency.reserved is 1: a second request while the first runs is throttled
curl -sS -o /dev/null http://127.0.0.1:$PORT/node/slow & sleep 0.3
echo "running $($M edgefn_function_concurrent_executions $F)"
curl -sS -o /dev/null -w '%{http_code}\n' http://127.0.0.1:$PORT/node/c
wait
echo "running after $($M edgefn_function_concurrent_executions $F)"
curl -sS -o /dev/null -w '%{http_code}\n' http://127.0.0.1:$PORT/node/exit
for k in throttle crash runtime; do echo "$k $($M edgefn_function_errors_total $F kind=$k)"; done
echo "invocations $($M edgefn_function_invocations_total $F)"
gb=$($M edgefn_function_gb_seconds_total $F)
python3 -c "import sys; print('GB-s at least 5 invocations of 256 MB for 1 ms:', float(sys.argv[1]) >= 5 * 0.25 / 1000)" "$gb"
--- stdout
404 404 
cold starts 1
inits 1
running 1
503
running after 0
503
throttle 1
crash 1
runtime 0
invocations 5
GB-s at least 5 invocations of 256 MB for 1 ms: True

=== the access log line of a request lists each function that ran: its hook, name, duration and outcome
--- run
id=$(curl -sS -o /dev/null -D - http://127.0.0.1:$PORT/lua/ok | tr -d '\r' | sed -n 's/^x-edgefn-request-id: //p')
$PYTHON $TOOLS/jsonl.py $TMP/access.log --where request_id=$id | $PYTHON -c '
import json, sys
for f in json.load(sys.stdin)["functions"]:
    print(f["hook"], f["function"], f["outcome"], "timed" if f["duration_ms"] > 0 else "untimed")'
id=$(curl -sS -o /dev/null -D - http://127.0.0.1:$PORT/lua/raise | tr -d '\r' | sed -n 's/^x-edgefn-request-id: //p')
$PYTHON $TOOLS/jsonl.py $TMP/access.log --where request_id=$id --check 'status == 503' | $PYTHON -c '
import json, sys
print(json.load(sys.stdin)["functions"])'
--- stdout ~ \Aviewer-request faulty ok timed\nviewer-response hdr ok timed\n\[\{'duration_ms': [0-9.]+, 'function': 'faulty', 'hook': 'viewer-request', 'outcome': 'runtime'\}\]\n\Z

=== an environment started for a request is busy while it runs it, then idle
--- run
M="./metric --token s3cret-token"
# the environment of the case before crashed: this request starts one (a cold start) and runs 600 ms in it
curl -sS -o /dev/null http://127.0.0.1:$PORT/node/slow &
for i in $(seq 60); do [ "$($M edgefn_function_environments function=nfn state=busy)" = 1 ] && break; sleep 0.05; done
echo "during: $($M edgefn_function_environments function=nfn state=starting) starting, $($M edgefn_function_environments function=nfn state=busy) busy"
wait
echo "after: $($M edgefn_function_environments function=nfn state=idle) idle, $($M edgefn_function_environments function=nfn state=busy) busy"
--- stdout
during: 0 starting, 1 busy
after: 1 idle, 0 busy

=== provisioned environments are a gauge per process function, as are its environments by state; a request to it is not a cold start
--- run
M="./metric --token s3cret-token"
echo "provisioned $($M edgefn_function_provisioned_environments function=prov)"
curl -sS -o /dev/null -w '%{http_code}\n' http://127.0.0.1:$PORT/prov/a
echo "cold starts $($M edgefn_function_cold_starts_total function=prov hook=viewer-request)"
echo "invocations $($M edgefn_function_invocations_total function=prov hook=viewer-request)"
for i in $(seq 50); do [ "$($M edgefn_function_environments function=prov state=idle)" = 2 ] && break; sleep 0.1; done
echo "environments: $($M edgefn_function_environments function=prov state=starting) starting, $($M edgefn_function_environments function=prov state=idle) idle, $($M edgefn_function_environments function=prov state=busy) busy"
curl -sS -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/functions/prov | $PYTHON -c '
import json, sys; f = json.load(sys.stdin); print("admin says", f["provisioned_environments"], f["environments"])'
--- stdout
provisioned 2
404
cold starts 0
invocations 1
environments: 0 starting, 2 idle, 0 busy
admin says 2 {'starting': 0, 'idle': 2, 'busy': 0}
