# cache.t: the edge cache (issue 5) as curl sees it: a miss then a hit with Age (also
# over HTTP/2); x-cache Pass for no-store, private and Set-Cookie, RefreshHit for
# no-cache; which statuses are stored; a behavior without cache: (Pass); edgefn's own
# errors (Error); request collapsing; the access log's "cache" field. The origin's
# /cacheable/... endpoint answers with the headers the query asks for and a body
# "PATH #N", N counting the origin's requests for that path and query, so a cached body
# is told from a fresh one; /__stats says how often the origin was asked. Every case
# uses its own path. Freshness and revalidation are in cache-freshness.t, the keys,
# Vary, conditional requests, methods and ranges in cache-requests.t, the memory bounds
# in cache-memory.t, the function hooks in cache-hooks.t.
--- setup
# ./get PATH [CURL ARGS]: one line about a response (STATUS X-CACHE age=AGE BODY); ./hits PATH: how often the origin
# was asked for it (see tools/cache-get and tools/origin-hits)
ln -s "$TOOLS/cache-get" get
ln -s "$TOOLS/origin-hits" hits
--- config
threads: 2
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
  dead: { url: "http://127.0.0.1:$DEAD_PORT" }
  slow: { url: "http://127.0.0.1:$ORIGIN_PORT", timeout: 1s }
access-log: access.log
behaviors:
  - path: /cacheable/nocache/*
    origin: app
  - path: /cacheable/slow/*
    origin: slow
    cache: {}
  - path: /cacheable/*
    origin: app
    cache: {}
  - path: /dead/*
    origin: dead
    cache: {}

=== a miss, then a hit with Age: the origin is asked once
--- run
U='/cacheable/basic?h=cache-control:max-age=60'
./get "$U"
sleep 1.1
curl -sS -i "http://127.0.0.1:$PORT$U" > last.txt
./hits /cacheable/basic
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/basic #1\norigin asked 1 times\n
--- status: 200
--- header: x-cache: Hit
--- header: age ~ ^[12]$
--- header: cache-control: max-age=60
--- body ~ \A/cacheable/basic #1\n\Z

=== without Cache-Control the behavior's default-ttl (24h) applies: a hit
--- run
./get /cacheable/default-ttl
curl -sS -i http://127.0.0.1:$PORT/cacheable/default-ttl
--- stdout ~ \A200 Miss age=\S+ /cacheable/default-ttl #1\n
--- header: x-cache: Hit
--- body ~ \A/cacheable/default-ttl #1\n\Z

=== the origin's own Age is added to the Age of a hit
--- run
U='/cacheable/origin-age?h=cache-control:max-age=600&h=age:100'
./get "$U"
curl -sS -i "http://127.0.0.1:$PORT$U"
--- stdout ~ \A200 Miss
--- header: x-cache: Hit
--- header: age ~ ^10[01]$
--- body ~ \A/cacheable/origin-age #1\n\Z

=== a hit over HTTP/2 has the same body, x-cache and Age
--- run
U='/cacheable/h2?h=cache-control:max-age=60&size=3000'
./get "$U"
curl -sS -i --http2-prior-knowledge "http://127.0.0.1:$PORT$U" > last.txt
./hits /cacheable/h2
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/h2 #1\norigin asked 1 times\nHTTP/2 200
--- header: x-cache: Hit
--- header: age: 0
--- header: content-length: 3000
--- body ~ \A/cacheable/h2 #1\n\.{2983}\Z

=== no-store: Pass, and the origin is asked every time
--- run
U='/cacheable/no-store?h=cache-control:no-store'
./get "$U"
./get "$U"
curl -sS -i "http://127.0.0.1:$PORT$U" > last.txt
./hits /cacheable/no-store
cat last.txt
--- stdout ~ \A200 Pass age=\S+ /cacheable/no-store #1\n200 Pass age=\S+ /cacheable/no-store #2\norigin asked 3 times\n
--- header: x-cache: Pass
--- header: cache-control: no-store
--- no-header: age
--- body ~ \A/cacheable/no-store #3\n\Z

=== private: Pass, and the origin is asked every time
--- run
U='/cacheable/private?h=cache-control:private,%20max-age=600'
./get "$U"
curl -sS -i "http://127.0.0.1:$PORT$U" > last.txt
./hits /cacheable/private
cat last.txt
--- stdout ~ \A200 Pass age=\S+ /cacheable/private #1\norigin asked 2 times\n
--- header: x-cache: Pass
--- body ~ \A/cacheable/private #2\n\Z

=== no-cache with an ETag: stored, but a RefreshHit every time (the origin says 304 each time)
--- run
U='/cacheable/no-cache?h=cache-control:no-cache&h=etag:%22n1%22'
./get "$U"
./get "$U"
curl -sS -i "http://127.0.0.1:$PORT$U" > last.txt
./hits /cacheable/no-cache
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/no-cache #1\n200 RefreshHit age=0 /cacheable/no-cache #1\norigin asked 3 times\n
--- header: x-cache: RefreshHit
--- header: age: 0
--- body ~ \A/cacheable/no-cache #1\n\Z

=== a response with Set-Cookie is not stored: Pass, and the viewer still gets its cookie
--- run
U='/cacheable/set-cookie?h=cache-control:max-age=600&h=set-cookie:visit=1;%20Path=/'
./get "$U"
curl -sS -i "http://127.0.0.1:$PORT$U" > last.txt
./hits /cacheable/set-cookie
cat last.txt
--- stdout ~ \A200 Pass age=\S+ /cacheable/set-cookie #1\norigin asked 2 times\n
--- header: x-cache: Pass
--- header: set-cookie: visit=1; Path=/
--- body ~ \A/cacheable/set-cookie #2\n\Z

=== statuses stored without explicit freshness: 404, 301, 410 and 204 are hits
--- run
for s in 404 301 410; do
  ./get "/cacheable/status-$s?status=$s"
  ./get "/cacheable/status-$s?status=$s"
done
./get '/cacheable/status-204?status=204'
curl -sS -i 'http://127.0.0.1:$PORT/cacheable/status-204?status=204'
--- stdout ~ \A404 Miss age=\S+ /cacheable/status-404 #1\n404 Hit age=0 /cacheable/status-404 #1\n301 Miss age=\S+ /cacheable/status-301 #1\n301 Hit age=0 /cacheable/status-301 #1\n410 Miss age=\S+ /cacheable/status-410 #1\n410 Hit age=0 /cacheable/status-410 #1\n204 Miss age=\S+ -\n
--- status: 204
--- header: x-cache: Hit
--- body ~ \A\Z

=== statuses not stored without explicit freshness: 500, 502, 302 and 307 are Pass
--- run
for s in 500 502 302 307; do
  ./get "/cacheable/status-$s?status=$s"
  ./get "/cacheable/status-$s?status=$s"
done
--- stdout ~ \A500 Pass age=\S+ /cacheable/status-500 #1\n500 Pass age=\S+ /cacheable/status-500 #2\n502 Pass age=\S+ /cacheable/status-502 #1\n502 Pass age=\S+ /cacheable/status-502 #2\n302 Pass age=\S+ /cacheable/status-302 #1\n302 Pass age=\S+ /cacheable/status-302 #2\n307 Pass age=\S+ /cacheable/status-307 #1\n307 Pass age=\S+ /cacheable/status-307 #2\n\Z

=== a 302 with Expires is stored; a 206 never is, even with max-age
--- run
./get '/cacheable/status-302-expires?status=302&expires_in=60'
./get '/cacheable/status-302-expires?status=302&expires_in=60'
./get '/cacheable/status-206?status=206&h=cache-control:max-age=60'
./get '/cacheable/status-206?status=206&h=cache-control:max-age=60'
--- stdout ~ \A302 Miss age=\S+ /cacheable/status-302-expires #1\n302 Hit age=0 /cacheable/status-302-expires #1\n206 Pass age=\S+ /cacheable/status-206 #1\n206 Pass age=\S+ /cacheable/status-206 #2\n\Z

=== a 500 or a 503 with max-age is stored (explicit freshness makes any status cacheable but 206)
--- run
./get '/cacheable/status-500-maxage?status=500&h=cache-control:max-age=60'
./get '/cacheable/status-500-maxage?status=500&h=cache-control:max-age=60'
./get '/cacheable/status-503-smaxage?status=503&h=cache-control:s-maxage=60'
./get '/cacheable/status-503-smaxage?status=503&h=cache-control:s-maxage=60'
--- stdout ~ \A500 Miss age=\S+ /cacheable/status-500-maxage #1\n500 Hit age=0 /cacheable/status-500-maxage #1\n503 Miss age=\S+ /cacheable/status-503-smaxage #1\n503 Hit age=0 /cacheable/status-503-smaxage #1\n\Z

=== a behavior without cache: is Pass, and the origin is asked every time
--- run
./get '/cacheable/nocache/x?h=cache-control:max-age=600'
curl -sS -i 'http://127.0.0.1:$PORT/cacheable/nocache/x?h=cache-control:max-age=600' > last.txt
./hits /cacheable/nocache/x
cat last.txt
--- stdout ~ \A200 Pass age=- /cacheable/nocache/x #1\norigin asked 2 times\n
--- header: x-cache: Pass
--- no-header: age
--- body ~ \A/cacheable/nocache/x #2\n\Z

=== edgefn's own 502 (the origin refuses) is x-cache: Error, and is not cached
--- run
./get /dead/x
curl -sS -i http://127.0.0.1:$PORT/dead/x
--- stdout ~ \A502 Error age=- 502 Bad Gateway
--- status: 502
--- header: x-cache: Error
--- body ~ \A502 Bad Gateway: .*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== edgefn's own 504 (the origin answers too late) is x-cache: Error
--- run
curl -sS -i 'http://127.0.0.1:$PORT/cacheable/slow/x?delay=1500'
--- status: 504
--- header: x-cache: Error
--- body ~ \A504 Gateway Timeout: .*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== collapsing: 20 parallel requests for a cold URL (origin takes 500 ms) -> one origin request, every body right
--- timeout: 20
--- run
U='/cacheable/collapse?delay=500&h=cache-control:max-age=60'
for i in $(seq 1 20); do ./get "$U" > out.$i & done
wait
cat out.* | sort | uniq -c | sed 's/^ *//' | sort -n
./hits "$U"
--- stdout ~ \A1 200 Miss age=\S+ /cacheable/collapse #1\n19 200 Hit age=0 /cacheable/collapse #1\norigin asked 1 times\n\Z

=== collapsing: a viewer that stops reading while it leads the fetch does not hold up the requests waiting for it
--- timeout: 20
--- run
# the leader asks for 8 MB with a small receive buffer and then reads nothing; the origin sends it all at once, and the
# waiters get it from the cache (were the origin read at the leader's pace, they would wait until it gave up)
U='/cacheable/stalled-leader?delay=1000&size=8000000&h=cache-control:max-age=60'
$PYTHON - "$PORT" "$U" <<'PY' & leader=$!
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(("GET %s HTTP/1.1\r\nhost: 127.0.0.1:%s\r\n\r\n" % (sys.argv[2], sys.argv[1])).encode())
s.recv(1024)
time.sleep(15)
PY
# the waiters come once the origin has the leader's request (it answers a second later)
for i in $(seq 1 50); do [ "$(./hits "$U")" = "origin asked 1 times" ] && break; sleep 0.05; done
for i in 1 2 3; do
  curl -s -o /dev/null --max-time 5 -w '%{http_code} %header{x-cache} %{size_download}\n' "http://127.0.0.1:$PORT$U" > w.$i &
done
wait $(jobs -p | grep -vx "$leader")
kill $leader
cat w.*
./hits "$U"
--- stdout ~ \A200 Hit 8000000\n200 Hit 8000000\n200 Hit 8000000\norigin asked 1 times\n\Z

=== collapsing: a leader that goes away hands the fetch on: its six waiters still make one origin fetch between them
--- timeout: 20
--- run
U='/cacheable/leader-gone?delay=1500&h=cache-control:max-age=60'
# the leader resets its HTTP/2 stream after 0.5 s, while the origin takes 1.5 s
curl -s --http2-prior-knowledge --max-time 0.5 -o /dev/null "http://127.0.0.1:$PORT$U" &
sleep 0.2
for i in 1 2 3 4 5 6; do ./get "$U" > gone.$i & done
wait
cat gone.* | cut -d' ' -f1,2 | sort | uniq -c | sed 's/^ *//' | sort -n
./hits "$U"
--- stdout ~ \A1 200 Miss\n5 200 Hit\norigin asked 2 times\n\Z

=== collapsing when the response is not cacheable (no-store): every waiter gets its own 200 from the origin
--- timeout: 20
--- run
U='/cacheable/collapse-no-store?delay=500&h=cache-control:no-store'
for i in $(seq 1 20); do ./get "$U" > ns.$i & done
wait
cat ns.* > all.txt
echo "$(grep -cE '^200 (Pass|Miss) age=\S+ /cacheable/collapse-no-store #[0-9]+$' all.txt) answered 200 with a body"
echo "$(cut -d'#' -f2 all.txt | sort -u | wc -l) distinct bodies"
./hits "$U"
cat all.txt
--- stdout ~ \A20 answered 200 with a body\n20 distinct bodies\norigin asked 20 times\n

=== the access log says "cache":"Miss", then "cache":"Hit"
--- run
U='/cacheable/access-log?h=cache-control:max-age=60'
for n in 1 2; do
  curl -sS -D h$n.txt -o /dev/null "http://127.0.0.1:$PORT$U"
  id=$(tr -d '\r' < h$n.txt | sed -n 's/^x-edgefn-request-id: *//Ip')
  $PYTHON $TOOLS/jsonl.py $TMP/access.log --where request_id=$id --require cache > rec$n.json && \
    echo "request $n: cache $($PYTHON $TOOLS/jget.py cache < rec$n.json)"
done
--- stdout
request 1: cache Miss
request 2: cache Hit
