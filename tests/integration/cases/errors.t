# errors.t: edgefn's own error responses. Each is text/plain; charset=utf-8 with the
# body "<status> <reason>: <cause>\nrequest id: <id>\n", where <id> equals the
# x-edgefn-request-id header: 404 when no behavior matches, 502 when the origin
# refuses, resets or answers garbage, 504 when it does not answer within `timeout`.
# The cause is checked by key words only. Also the request-body limit, and origin
# bodies cut short.
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app:
    url: "http://127.0.0.1:$ORIGIN_PORT"
    timeout: 1s
  dead:
    url: "http://127.0.0.1:$DEAD_PORT"
    connect-timeout: 2s
max-request-body: 1MB
behaviors:
  - path: /dead/*
    origin: dead
  - path: /echo*
    origin: app
  - path: /stall
    origin: app
  - path: /reset
    origin: app
  - path: /garbage
    origin: app
  - path: /delay/*
    origin: app
  - path: /status/*
    origin: app
  - path: /bytes/*
    origin: app

=== no matching behavior is a 404 in edgefn's error format
--- run
curl -sS -i 'http://127.0.0.1:$PORT/nope/x?q=1'
--- status: 404
--- header: content-type: text/plain; charset=utf-8
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- body ~ \A404 Not Found: [^\n]*no behavior matches /nope/x[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== HEAD with no matching behavior is a 404 without a body
--- run
curl -sS -I http://127.0.0.1:$PORT/nope
--- status: 404
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- body ~ \A\Z

=== the 404 is the same over HTTP/2
--- run
curl -sS -i --http2-prior-knowledge http://127.0.0.1:$PORT/nope/h2
--- stdout ~ \AHTTP/2 404
--- header: content-type: text/plain; charset=utf-8
--- body ~ \A404 Not Found: [^\n]*no behavior matches /nope/h2[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== an origin that refuses the connection is a 502 naming the origin
--- run
curl -sS -i http://127.0.0.1:$PORT/dead/x
--- status: 502
--- header: content-type: text/plain; charset=utf-8
--- body ~ \A502 Bad Gateway: [^\n]*origin "dead"[^\n]*(?i:refused)[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== many refused requests in a row are each a 502
--- run
for i in $(seq 20); do curl -sS -o /dev/null -w '%{http_code} ' http://127.0.0.1:$PORT/dead/$i; done
--- stdout ~ \A(502 ){20}\Z

=== an origin that resets the connection is a 502 naming the origin
--- run
curl -sS -i http://127.0.0.1:$PORT/reset
--- status: 502
--- header: content-type: text/plain; charset=utf-8
--- body ~ \A502 Bad Gateway: [^\n]*origin "app"[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== an origin that answers garbage is a 502 naming the origin
--- run
curl -sS -i http://127.0.0.1:$PORT/garbage
--- status: 502
--- header: content-type: text/plain; charset=utf-8
--- body ~ \A502 Bad Gateway: [^\n]*origin "app"[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== an origin that never answers is a 504 after `timeout`, naming the origin and the timeout
--- run
curl -sS -i --max-time 10 -w '%{stderr}took %{time_total}s\n' http://127.0.0.1:$PORT/stall
--- status: 504
--- header: content-type: text/plain; charset=utf-8
--- body ~ \A504 Gateway Timeout: [^\n]*origin "app"[^\n]*\b1s\b[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- stderr ~ took (0\.9|[123]\.)\d*s

=== an origin that cannot be reached at all is a 504 after `connect-timeout`
# tools/blackhole.py makes $DEAD_PORT drop SYNs, as a firewall would
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  hole:
    url: "http://127.0.0.1:$DEAD_PORT"
    connect-timeout: 300ms
behaviors:
  - path: /*
    origin: hole
--- run
$PYTHON $TOOLS/blackhole.py $DEAD_PORT 20 > hole.out &
hole=$!
for i in $(seq 50); do grep -q ready hole.out && break; sleep 0.1; done
curl -sS -i --max-time 10 -w '%{stderr}took %{time_total}s\n' http://127.0.0.1:$PORT/anything
kill $hole
--- status: 504
--- body ~ \A504 Gateway Timeout: connecting to origin "hole" \(127\.0\.0\.1:\d+\) timed out after 300ms\nrequest id: ${header:x-edgefn-request-id}\n\Z
# h2o's timers tick on a millisecond clock cached per loop turn: up to 1ms early
--- stderr ~ took 0\.(29|[3-9])\d*s

=== an origin that answers too late is a 504, and its late answer reaches no one
--- run
curl -sS -o /dev/null -w '%{http_code}\n' http://127.0.0.1:$PORT/delay/3000
curl -sS -i http://127.0.0.1:$PORT/echo/after-timeout
--- stdout ~ \A504\n
--- status: 200
--- body ~ "path": "/echo/after-timeout"

=== an origin's own 500 passes through untouched
--- run
curl -sS -i http://127.0.0.1:$PORT/status/500
--- status: 500
--- header: content-type: text/plain
--- body: status 500

=== a request body within max-request-body is forwarded
--- run
head -c 524288 /dev/zero > half.bin
curl -sS -i --data-binary @half.bin http://127.0.0.1:$PORT/echo/small
--- status: 200
--- body ~ "body_length": 524288

=== a request body over max-request-body is a 413
--- run
head -c 2097152 /dev/zero > big.bin
curl -sS -i --max-time 10 -H 'Expect: 100-continue' --data-binary @big.bin http://127.0.0.1:$PORT/echo/big
--- status: 413

=== an origin body cut short (with content-length) is an error at the client, not a short 200
--- run
curl -sS -o /dev/null 'http://127.0.0.1:$PORT/bytes/1000000?reset_after=500000'
echo "curl exit $?"
--- stdout ~ \Acurl exit (18|56|92)$

=== an origin body cut short (chunked) is an error at the client, not a short 200
--- run
curl -sS -o /dev/null 'http://127.0.0.1:$PORT/bytes/1000000?chunked=1&reset_after=500000'
echo "curl exit $?"
--- stdout ~ \Acurl exit (18|56|92)$

=== an origin body cut short is a stream error over HTTP/2
--- run
curl -sS -o /dev/null --http2-prior-knowledge 'http://127.0.0.1:$PORT/bytes/1000000?chunked=1&reset_after=500000'
echo "curl exit $?"
--- stdout ~ \Acurl exit (18|56|92)$
