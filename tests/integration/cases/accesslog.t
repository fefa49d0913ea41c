# accesslog.t: with `access-log: PATH`, edgefn writes one JSON object per line per
# request, with at least time, request_id, client_ip, method, uri, status, bytes,
# duration_ms, behavior, origin and upstream_status (null when the origin was not
# contacted). request_id equals the response's x-edgefn-request-id. The path is
# relative to the config file, so access.log lands in $TMP.
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
  dead: { url: "http://127.0.0.1:$DEAD_PORT" }
behaviors:
  - path: /dead/*
    origin: dead
  - path: /echo/*
    origin: app
  - path: /delay/*
    origin: app
  - path: /status/*
    origin: app
  - path: /bytes/*
    origin: app
access-log: access.log

=== a proxied request is logged with every field
--- run
curl -sS -D headers.txt -o /dev/null 'http://127.0.0.1:$PORT/echo/logged?x=1'
id=$(tr -d '\r' < headers.txt | sed -n 's/^x-edgefn-request-id: *//Ip')
echo "request id: $id" >&2
$PYTHON $TOOLS/jsonl.py $TMP/access.log --where request_id=$id \
    --require time,request_id,client_ip,method,uri,status,bytes,duration_ms,behavior,origin,upstream_status \
    --check 'method == "GET"' --check 'uri == "/echo/logged?x=1"' --check 'status == 200' \
    --check 'upstream_status == 200' --check 'origin == "app"' --check 'client_ip == "127.0.0.1"' \
    --check 'behavior != null' --check 'bytes > 0' --check 'duration_ms >= 0' \
    --check 'time ~ ^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d'
--- stderr ~ request id: [0-9a-f]{20}

=== the request id in the log equals the response header
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/id
--- status: 200
--- log[$TMP/access.log] ~ "request_id": ?"${header:x-edgefn-request-id}"

=== each request is logged exactly once, each line a JSON object
--- run
for i in 1 2 3 4 5; do curl -sS -o /dev/null http://127.0.0.1:$PORT/echo/n$i; done
for i in 1 2 3 4 5; do
    $PYTHON $TOOLS/jsonl.py $TMP/access.log --where uri=/echo/n$i > /dev/null && echo "n$i logged once"
done
--- stdout
n1 logged once
n2 logged once
n3 logged once
n4 logged once
n5 logged once

=== a request no behavior matches is logged with a null upstream_status
--- run
curl -sS -D headers.txt -o /dev/null http://127.0.0.1:$PORT/unrouted
id=$(tr -d '\r' < headers.txt | sed -n 's/^x-edgefn-request-id: *//Ip')
$PYTHON $TOOLS/jsonl.py $TMP/access.log --where request_id=$id \
    --check 'status == 404' --check 'upstream_status == null' --check 'origin == null' --check 'uri == "/unrouted"'

=== a refused origin is logged as a 502 with the origin and a null upstream_status
--- run
curl -sS -D headers.txt -o /dev/null http://127.0.0.1:$PORT/dead/x
id=$(tr -d '\r' < headers.txt | sed -n 's/^x-edgefn-request-id: *//Ip')
$PYTHON $TOOLS/jsonl.py $TMP/access.log --where request_id=$id \
    --check 'status == 502' --check 'upstream_status == null' --check 'origin == "dead"'

=== an origin's error status is logged as both status and upstream_status
--- run
curl -sS -D headers.txt -o /dev/null http://127.0.0.1:$PORT/status/503
id=$(tr -d '\r' < headers.txt | sed -n 's/^x-edgefn-request-id: *//Ip')
$PYTHON $TOOLS/jsonl.py $TMP/access.log --where request_id=$id \
    --check 'status == 503' --check 'upstream_status == 503'

=== bytes counts at least the body sent
--- run
curl -sS -D headers.txt -o /dev/null http://127.0.0.1:$PORT/bytes/12345
id=$(tr -d '\r' < headers.txt | sed -n 's/^x-edgefn-request-id: *//Ip')
$PYTHON $TOOLS/jsonl.py $TMP/access.log --where request_id=$id --check 'bytes >= 12345' --check 'bytes < 20000'

=== duration_ms covers the time the origin took
--- run
curl -sS -D headers.txt -o /dev/null http://127.0.0.1:$PORT/delay/300
id=$(tr -d '\r' < headers.txt | sed -n 's/^x-edgefn-request-id: *//Ip')
$PYTHON $TOOLS/jsonl.py $TMP/access.log --where request_id=$id --check 'duration_ms >= 300' --check 'duration_ms < 5000'

=== a POST over HTTP/2 is logged too
--- run
curl -sS --http2-prior-knowledge -D headers.txt -o /dev/null -d a=1 http://127.0.0.1:$PORT/echo/h2
id=$(tr -d '\r' < headers.txt | sed -n 's/^x-edgefn-request-id: *//Ip')
$PYTHON $TOOLS/jsonl.py $TMP/access.log --where request_id=$id --check 'method == "POST"' --check 'status == 200'

=== access-log: stderr writes the JSON lines to stderr
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
access-log: stderr
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/to-stderr
--- status: 200
--- log ~ ^\{.*"request_id": ?"${header:x-edgefn-request-id}".*\}$

=== access-log: off logs nothing
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
access-log: off
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/not-logged
sleep 1.5
--- status: 200
--- log !~ ${header:x-edgefn-request-id}
--- log !~ not-logged

=== strings are escaped as JSON: quotes, backslashes and control characters escaped, UTF-8 kept, a stray byte U+FFFD
--- run
curl -sS -o /dev/null -H $'User-Agent: a "quoted" \\back\\slash\ttab and caf\xc3\xa9 plus a stray \xff byte, long enough for words' \
    -H 'Referer: short"q' http://127.0.0.1:$PORT/echo/escapes
$PYTHON $TOOLS/jsonl.py $TMP/access.log --where uri=/echo/escapes > rec.json
$PYTHON -c '
import json
r = json.load(open("rec.json"))
print(repr(r["user_agent"]))
print(repr(r["referer"]))'
--- stdout
'a "quoted" \\back\\slash\ttab and café plus a stray � byte, long enough for words'
'short"q'

=== a request with very long fields is logged as one valid JSON line of at most 16 KB, its strings cut short
--- run
$PYTHON - <<'PY'
import os, socket
s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])))
req = ("GET /echo/" + "a" * 16000 + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: " + "U" * 60000 +
       "\r\nReferer: " + "R" * 60000 + "\r\nConnection: close\r\n\r\n")
s.sendall(req.encode())
print(s.recv(12).decode())
PY
curl -sS -o /dev/null -w '%{http_code}\n' http://127.0.0.1:$PORT/echo/after-the-long-one
$PYTHON $TOOLS/jsonl.py $TMP/access.log --where uri=/echo/after-the-long-one --check 'status == 200' > /dev/null && echo "still logging"
$PYTHON - <<'PY'
import json, os
for line in open(os.environ["TMP"] + "/access.log"):
    r = json.loads(line)
    if r["uri"].startswith("/echo/aaaa"):
        print(len(line.encode()) <= 16 * 1024, r["status"], 15000 < len(r["uri"]) < 16006, repr(r["user_agent"]), repr(r["referer"]))
PY
--- stdout
HTTP/1.1 200
200
still logging
True 200 True '' ''
