# protocols.t: one plain listener speaks HTTP/1.0, HTTP/1.1 (keep-alive, pipelining),
# HTTP/2 with prior knowledge (h2c) and HTTP/2 by Upgrade: h2c. Multiplexing is
# tested with nghttp and h2load: curl 7.88 mishandles h2c reuse with -Z (curl#10634).
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app

=== HTTP/1.1
--- run
curl -sS -i --http1.1 http://127.0.0.1:$PORT/echo/h1
--- stdout ~ \AHTTP/1\.1 200
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- body ~ "path": "/echo/h1"

=== HTTP/1.0
--- run
curl -sS -i --http1.0 http://127.0.0.1:$PORT/echo/h10
--- stdout ~ \AHTTP/1\.[01] 200
--- body ~ "path": "/echo/h10"

=== HTTP/1.1 keeps the client connection alive
--- run
curl -sS -o /dev/null -o /dev/null -w '%{num_connects}\n' http://127.0.0.1:$PORT/echo/ka1 http://127.0.0.1:$PORT/echo/ka2
--- stdout
1
0

=== HTTP/1.1 pipelined requests are answered in order
--- run
exec 3<>/dev/tcp/127.0.0.1/$PORT
printf 'GET /echo/p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo/p2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
timeout 10 cat <&3
--- stdout ~ (?s)\AHTTP/1\.1 200.*"path": "/echo/p1".*HTTP/1\.1 200.*"path": "/echo/p2"

=== HTTP/2 with prior knowledge
--- run
curl -sS -i --http2-prior-knowledge http://127.0.0.1:$PORT/echo/h2
--- stdout ~ \AHTTP/2 200
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- body ~ "path": "/echo/h2"

=== HTTP/2 by Upgrade: h2c
--- run
curl -sS -i --http2 http://127.0.0.1:$PORT/echo/upgrade
--- stdout ~ \AHTTP/1\.1 101
--- stdout ~ (?m)^HTTP/2 200
--- body ~ "path": "/echo/upgrade"

=== HTTP/2 request body reaches the origin intact
--- run
head -c 1000000 /dev/urandom > h2post.bin
want=$(sha256sum < h2post.bin | cut -c1-64)
curl -sS --http2-prior-knowledge -o h2post.json --data-binary @h2post.bin http://127.0.0.1:$PORT/echo/h2post
got=$($PYTHON $TOOLS/jget.py body_length body_sha256 < h2post.json | tr '\n' ' ')
echo "sent sha256 $want"
echo "origin got $got"
[ "$got" = "1000000 $want " ] && echo "body intact"
--- stdout ~ (?m)^body intact$

=== HTTP/2 20 MB response arrives byte-identical
--- run
direct=$(curl -sS http://127.0.0.1:$ORIGIN_PORT/bytes/20971520 | sha256sum | cut -c1-64)
proxied=$(curl -sS --http2-prior-knowledge http://127.0.0.1:$PORT/bytes/20971520 | sha256sum | cut -c1-64)
echo "direct $direct proxied $proxied"
[ "$direct" = "$proxied" ] && echo identical
--- stdout ~ (?m)^identical$

=== HTTP/2 HEAD
--- run
curl -sS -I --http2-prior-knowledge http://127.0.0.1:$PORT/bytes/4321
--- stdout ~ \AHTTP/2 200
--- header: content-length: 4321
--- body ~ \A\Z

=== h2load: 200 requests on 4 connections, 10 streams each, none fail
--- run
h2load -n 200 -c 4 -m 10 http://127.0.0.1:$PORT/echo/load
--- stdout ~ requests: 200 total, 200 started, 200 done, 200 succeeded, 0 failed, 0 errored, 0 timeout
--- stdout ~ status codes: 200 2xx

=== h2load over HTTP/1.1: 200 requests, none fail
--- run
h2load --h1 -n 200 -c 4 http://127.0.0.1:$PORT/echo/load1
--- stdout ~ 200 succeeded, 0 failed, 0 errored
--- stdout ~ status codes: 200 2xx

=== HTTP/2 streams on one connection run concurrently
--- run
# five 1 s requests on one connection: about 1 s together, 5 s if served one by one
start=$(date +%s%N)
nghttp -nv http://127.0.0.1:$PORT/delay/1000 http://127.0.0.1:$PORT/delay/1001 http://127.0.0.1:$PORT/delay/1002 \
    http://127.0.0.1:$PORT/delay/1003 http://127.0.0.1:$PORT/delay/1004 > nghttp.out
echo "nghttp exit $?"
echo "elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))"
echo "responses=$(grep -c ':status: 200' nghttp.out)"
echo "connections=$(grep -c 'Connected' nghttp.out)"
--- stdout ~ (?m)^nghttp exit 0$
--- stdout ~ (?m)^elapsed_ms=[1-3]\d{3}$
--- stdout ~ (?m)^responses=5$
--- stdout ~ (?m)^connections=1$
