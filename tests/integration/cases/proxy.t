# proxy.t: what a url origin does to requests and responses: paths, bodies, the
# forwarding headers, hop-by-hop headers, status and header pass-through, body
# framing, and origin keep-alive. threads: 1, so that origin connections are reused
# predictably.
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app:
    url: "http://127.0.0.1:$ORIGIN_PORT"
  prefixed:
    url: "http://127.0.0.1:$ORIGIN_PORT/echo"
  keep-host:
    url: "http://127.0.0.1:$ORIGIN_PORT"
    preserve-host: true
behaviors:
  - path: /p/*
    origin: prefixed
  - path: /echo/keep-host/*
    origin: keep-host
  - path: /*
    origin: app

=== a GET reaches the origin with its method, path and query
--- run
curl -sS -i 'http://127.0.0.1:$PORT/echo/hello?a=1&b=%20x'
--- status: 200
--- header: content-type: application/json
--- header: x-echo-method: GET
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- body ~ "method": "GET"
--- body ~ "path": "/echo/hello\?a=1&b=%20x"

=== request headers pass through, repeated ones in order
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/headers -H 'X-Custom: abc' -H 'X-Multi: 1' -H 'X-Multi: 2' -H 'User-Agent: edgefn-test'
--- status: 200
--- body ~ "x-custom": "abc"
--- body ~ "x-multi": "1, 2"
--- body ~ "user-agent": "edgefn-test"

=== every response has its own x-edgefn-request-id
--- run
a=$(curl -sS -D - -o /dev/null http://127.0.0.1:$PORT/echo/id1 | tr -d '\r' | sed -n 's/^x-edgefn-request-id: *//Ip')
b=$(curl -sS -D - -o /dev/null http://127.0.0.1:$PORT/status/404 | tr -d '\r' | sed -n 's/^x-edgefn-request-id: *//Ip')
echo "first=$a second=$b"
[ -n "$a" ] && [ "$a" != "$b" ] && echo distinct
--- stdout ~ first=[0-9a-f]{20} second=[0-9a-f]{20}
--- stdout ~ (?m)^distinct$

=== a url prefix is prepended to the request path
--- run
curl -sS -i 'http://127.0.0.1:$PORT/p/x?y=1'
--- status: 200
--- body ~ "path": "/echo/p/x\?y=1"

=== a POST body reaches the origin intact (1 MB)
--- run
head -c 1048576 /dev/urandom > post.bin
want=$(sha256sum < post.bin | cut -c1-64)
curl -sS -o post.json --data-binary @post.bin -H 'Content-Type: application/octet-stream' http://127.0.0.1:$PORT/echo/post
got=$($PYTHON $TOOLS/jget.py method body_length body_sha256 < post.json | tr '\n' ' ')
echo "sent sha256 $want"
echo "origin got $got"
[ "$got" = "POST 1048576 $want " ] && echo "body intact"
--- stdout ~ (?m)^body intact$

=== a chunked PUT upload reaches the origin intact
--- run
head -c 300000 /dev/urandom > put.bin
want=$(sha256sum < put.bin | cut -c1-64)
# -T - reads stdin and sends it with Transfer-Encoding: chunked
curl -sS -o put.json -T - http://127.0.0.1:$PORT/echo/put < put.bin
got=$($PYTHON $TOOLS/jget.py method body_length body_sha256 < put.json | tr '\n' ' ')
echo "sent sha256 $want"
echo "origin got $got"
[ "$got" = "PUT 300000 $want " ] && echo "body intact"
--- stdout ~ (?m)^body intact$

=== Expect: 100-continue gets a 100 and then the origin's answer
--- run
head -c 200000 /dev/zero > zeros.bin
curl -sS -i -H 'Expect: 100-continue' --data-binary @zeros.bin http://127.0.0.1:$PORT/echo/expect
--- stdout ~ \AHTTP/1\.1 100
--- status: 200
--- body ~ "body_length": 200000

=== other methods are forwarded as they are
--- run
curl -sS -i -X DELETE http://127.0.0.1:$PORT/echo/thing/1
--- status: 200
--- header: x-echo-method: DELETE

=== HEAD reaches the origin as HEAD and returns headers without a body
--- run
curl -sS -I http://127.0.0.1:$PORT/bytes/1234
--- status: 200
--- header: content-length: 1234
--- header: content-type: application/octet-stream
--- body ~ \A\Z

=== HEAD of an echo is a HEAD at the origin
--- run
curl -sS -I http://127.0.0.1:$PORT/echo/head
--- status: 200
--- header: x-echo-method: HEAD
--- body ~ \A\Z

=== x-forwarded-for is the client's address
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/xff
--- body ~ "x-forwarded-for": "127\.0\.0\.1"

=== x-forwarded-for gets the client's address appended
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/xff -H 'X-Forwarded-For: 203.0.113.7'
--- body ~ "x-forwarded-for": "203\.0\.113\.7, 127\.0\.0\.1"

=== via gets "1.1 edgefn"
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/via
--- body ~ "via": "1\.1 edgefn"

=== via gets "1.1 edgefn" appended to the client's
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/via -H 'Via: 1.0 corporate-proxy'
--- body ~ "via": "1\.0 corporate-proxy, 1\.1 edgefn"

=== x-forwarded-proto is http on a plain listener
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/proto
--- body ~ "x-forwarded-proto": "http"

=== the origin gets its own authority as Host, not the client's
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/host -H 'Host: www.example.test'
--- status: 200
--- body ~ "host": "127\.0\.0\.1:$ORIGIN_PORT"

=== preserve-host: true forwards the client's Host
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/keep-host/x -H 'Host: www.example.test'
--- status: 200
--- body ~ "path": "/echo/keep-host/x"
--- body ~ "host": "www\.example\.test"

=== hop-by-hop request headers are not forwarded, others are
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/hop \
    -H 'Connection: x-drop-me' -H 'X-Drop-Me: 1' -H 'Keep-Alive: timeout=5' \
    -H 'Proxy-Connection: keep-alive' -H 'Proxy-Authorization: Basic Zm9vOmJhcg==' \
    -H 'TE: trailers' -H 'Upgrade: foo' -H 'X-Keep-Me: 1'
--- status: 200
--- body ~ "x-keep-me": "1"
--- body !~ x-drop-me
--- body !~ "keep-alive":
--- body !~ "proxy-connection":
--- body !~ "proxy-authorization":
--- body !~ "te":
--- body !~ "upgrade":

=== hop-by-hop response headers are not passed on, others are
--- run
curl -sS -i 'http://127.0.0.1:$PORT/headers?connection=x-drop-me&x-drop-me=1&keep-alive=timeout%3D5&proxy-connection=keep-alive&proxy-authenticate=Basic&upgrade=foo&x-keep-me=1'
--- status: 200
--- header: x-keep-me: 1
--- no-header: x-drop-me
--- no-header: keep-alive
--- no-header: proxy-connection
--- no-header: proxy-authenticate
--- no-header: upgrade
--- header: connection !~ x-drop-me
--- body: ok

=== origin status codes pass through with the origin's body
--- run
for code in 201 202 400 403 404 410 500 503; do
    curl -sS -o body.txt -w "%{http_code} " http://127.0.0.1:$PORT/status/$code
    cat body.txt; echo
done
--- stdout
201 status 201
202 status 202
400 status 400
403 status 403
404 status 404
410 status 410
500 status 500
503 status 503

=== a 204 from the origin has no body
--- run
curl -sS -i http://127.0.0.1:$PORT/status/204
--- status: 204
--- body ~ \A\Z

=== a redirect from the origin passes through with its location
--- run
curl -sS -i 'http://127.0.0.1:$PORT/status/302?location=/elsewhere'
--- status: 302
--- header: location: /elsewhere
--- body: status 302

=== origin response headers pass through, repeated ones as separate lines
--- run
curl -sS -i 'http://127.0.0.1:$PORT/headers?x-custom=abc&cache-control=max-age%3D60&content-type=text/x-test&set-cookie=a%3D1&set-cookie=b%3D2'
--- status: 200
--- header: x-custom: abc
--- header: cache-control: max-age=60
--- header: content-type: text/x-test
--- header: set-cookie: a=1, b=2
--- stdout ~ (?mi)^set-cookie: a=1\r?$
--- stdout ~ (?mi)^set-cookie: b=2\r?$

=== a 20 MB body arrives byte-identical, with its content-length
--- run
direct=$(curl -sS http://127.0.0.1:$ORIGIN_PORT/bytes/20971520 | sha256sum | cut -c1-64)
proxied=$(curl -sS http://127.0.0.1:$PORT/bytes/20971520 | sha256sum | cut -c1-64)
echo "direct  $direct" >&2
echo "proxied $proxied" >&2
[ "$direct" = "$proxied" ] && echo "identical" >&2
curl -sS -D - -o /dev/null http://127.0.0.1:$PORT/bytes/20971520
--- stderr ~ (?m)^identical$
--- status: 200
--- header: content-length: 20971520

=== a chunked origin body arrives complete
--- run
direct=$(curl -sS 'http://127.0.0.1:$ORIGIN_PORT/bytes/5000000?chunked=1' | sha256sum | cut -c1-64)
proxied=$(curl -sS 'http://127.0.0.1:$PORT/bytes/5000000?chunked=1' | sha256sum | cut -c1-64)
length=$(curl -sS 'http://127.0.0.1:$PORT/bytes/5000000?chunked=1' | wc -c)
echo "direct $direct proxied $proxied length $length"
[ "$direct" = "$proxied" ] && [ "$length" = 5000000 ] && echo "identical"
--- stdout ~ (?m)^identical$

=== a small chunked origin response with a transfer-encoding header arrives intact
--- run
curl -sS -i 'http://127.0.0.1:$PORT/headers?transfer-encoding=chunked&x-a=1'
--- status: 200
--- header: x-a: 1
--- body: ok

=== a close-delimited origin body arrives complete
--- run
direct=$(curl -sS 'http://127.0.0.1:$ORIGIN_PORT/bytes/5000000?close=1' | sha256sum | cut -c1-64)
proxied=$(curl -sS 'http://127.0.0.1:$PORT/bytes/5000000?close=1' | sha256sum | cut -c1-64)
length=$(curl -sS 'http://127.0.0.1:$PORT/bytes/5000000?close=1' | wc -c)
echo "direct $direct proxied $proxied length $length"
[ "$direct" = "$proxied" ] && [ "$length" = 5000000 ] && echo "identical"
--- stdout ~ (?m)^identical$

=== origin connections are kept alive and reused
--- run
# /__stats counts the connections that carried a request, and the requests (not its own)
stats() { curl -sS http://127.0.0.1:$ORIGIN_PORT/__stats | $PYTHON $TOOLS/jget.py connections total_requests | tr '\n' ' '; }
read c0 r0 <<< "$(stats)"
for i in $(seq 20); do curl -sS -o /dev/null http://127.0.0.1:$PORT/echo/ka; done
read c1 r1 <<< "$(stats)"
echo "$((r1 - r0)) requests reached the origin over $((c1 - c0)) new connections"
--- stdout ~ ^20 requests reached the origin over [012] new connections$

=== a keep-alive connection the origin closed while idle is not a 502
--- run
curl -sS -o /dev/null -w '%{http_code}\n' 'http://127.0.0.1:$PORT/echo/first?idle_close_ms=100'
sleep 0.5
curl -sS -i http://127.0.0.1:$PORT/echo/after-idle-close
--- stdout ~ \A200\n
--- status: 200
--- body ~ "path": "/echo/after-idle-close"

=== a response the origin ends with Connection: close arrives whole
# the body comes in the same read as the head, and the connection is not kept:
# the bytes must outlive the connection
--- run
curl -sS -m 5 -i 'http://127.0.0.1:$PORT/headers?connection=close'
--- status: 200
--- header: content-length: 2
--- body: ok

=== a connection the origin closes with Connection: close is not reused
--- run
curl -sS -o /dev/null -w '%{http_code}\n' 'http://127.0.0.1:$PORT/headers?connection=close'
curl -sS -i http://127.0.0.1:$PORT/echo/after-close
--- stdout ~ \A200\n
--- status: 200
--- body ~ "path": "/echo/after-close"

=== keepalive-connections: 0 opens a new origin connection per request
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app:
    url: "http://127.0.0.1:$ORIGIN_PORT"
    keepalive-connections: 0
behaviors:
  - path: /*
    origin: app
--- run
stats() { curl -sS http://127.0.0.1:$ORIGIN_PORT/__stats | $PYTHON $TOOLS/jget.py connections; }
before=$(stats)
for i in 1 2 3 4 5; do curl -sS -o /dev/null http://127.0.0.1:$PORT/echo/noka; done
after=$(stats)
echo "5 requests used $((after - before)) origin connections"
--- stdout ~ ^5 requests used 5 origin connections$

=== keepalive-timeout closes idle origin connections
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app:
    url: "http://127.0.0.1:$ORIGIN_PORT"
    keepalive-timeout: 1s
behaviors:
  - path: /*
    origin: app
--- run
open() { curl -sS http://127.0.0.1:$ORIGIN_PORT/__stats | $PYTHON $TOOLS/jget.py open_connections; }
sleep 0.3   # connections of the previous edgefn are gone
curl -sS -o /dev/null http://127.0.0.1:$PORT/echo/kat
echo "open right after the request: $(open)"
sleep 2.5
echo "open 2.5s later: $(open)"
--- stdout ~ (?m)^open right after the request: [1-9]
--- stdout ~ (?m)^open 2\.5s later: 0$
