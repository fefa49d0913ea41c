# backpressure.t: a client that stops reading makes edgefn stop reading from the
# origin, so a slow client costs bounded memory. tools/slowread.py reads 1 MB (32 KB
# over HTTP/2) of a 200 MB body, pauses 3 s, and checks that the origin wrote at most
# 64 MB meanwhile and nothing more in a further second; then it reads the rest and
# checks it against the origin's pattern.
--- timeout: 60
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app

=== HTTP/1.1: a paused client pauses the origin, then gets the whole body
--- run
$PYTHON $TOOLS/slowread.py --port $PORT --origin-port $ORIGIN_PORT --path /bytes/209715200
--- stdout ~ (?m)^status=200$
--- stdout ~ (?m)^body_intact=yes$

=== HTTP/1.1 with a chunked origin body: the same
--- run
$PYTHON $TOOLS/slowread.py --port $PORT --origin-port $ORIGIN_PORT --path '/bytes/209715200?chunked=1'
--- stdout ~ (?m)^body_intact=yes$

=== HTTP/2: a stream whose window is not replenished pauses the origin
--- run
$PYTHON $TOOLS/slowread.py --http2 --port $PORT --origin-port $ORIGIN_PORT --path /bytes/209715200
--- stdout ~ (?m)^status=200$
--- stdout ~ (?m)^body_intact=yes$

=== a client that goes away mid-body makes edgefn drop the origin connection
--- config
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
stats() { curl -sS http://127.0.0.1:$ORIGIN_PORT/__stats | $PYTHON $TOOLS/jget.py open_connections 'bytes_written.[/bytes/209715201]'; }
curl -sS http://127.0.0.1:$PORT/bytes/209715201 2>/dev/null | head -c 1000000 > /dev/null
sleep 2
echo "2s after the client left: open origin connections, bytes written: $(stats | tr '\n' ' ')"
sleep 1
echo "1s later: $(stats | tr '\n' ' ')"
--- stdout ~ (?m)^2s after the client left: open origin connections, bytes written: 0 (\d{1,7}|[1-5]\d{7}|6[0-6]\d{6}) $
--- stdout ~ (?m)^1s later: 0 
