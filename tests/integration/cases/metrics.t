# metrics.t: GET /metrics on the admin listener, Prometheus' text format 0.0.4, read with
# the Prometheus client library's own parser (tools/metric): the values after a known
# sequence of requests: responses by status class, what the cache did, collapsed
# requests, origin fetch durations and errors by kind, requests in flight; the token.
--- setup
printf 's3cret-token\n' > admin.token
ln -s "$TOOLS/metric" metric
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
behaviors:
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
