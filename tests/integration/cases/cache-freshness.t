# cache-freshness.t: how long the edge cache keeps an object, as curl sees it:
# s-maxage, else max-age, else Expires minus Date, else default-ttl, clamped to
# [min-ttl, max-ttl]; a TTL of 0; a stale object revalidated with its ETag or
# Last-Modified (RefreshHit on the origin's 304, Age 0; Miss when the origin sends a new
# one), or served stale when the origin fails. TTLs are 1-2 s, so cases sleep. The
# origin's /cacheable/... endpoint and the ./get and ./hits helpers are those of cache.t.
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
  slow: { url: "http://127.0.0.1:$ORIGIN_PORT", timeout: 1s }
behaviors:
  - path: /cacheable/min-ttl/*
    origin: app
    cache: { min-ttl: 60s }
  - path: /cacheable/max-ttl/*
    origin: app
    cache: { default-ttl: 1s, max-ttl: 1s }
  - path: /cacheable/ttl0/*
    origin: app
    cache: { default-ttl: 0 }
  - path: /cacheable/slow/*
    origin: slow
    cache: {}
  - path: /cacheable/*
    origin: app
    cache: {}

=== max-age=1 without validators: a hit at once, a miss after 1.3 s with a new body
--- run
U='/cacheable/expiry?h=cache-control:max-age=1'
./get "$U"
./get "$U"
sleep 1.3
curl -sS -i "http://127.0.0.1:$PORT$U" > last.txt
./get "$U"
./hits /cacheable/expiry
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/expiry #1\n200 Hit age=0 /cacheable/expiry #1\n200 Hit age=0 /cacheable/expiry #2\norigin asked 2 times\n
--- header: x-cache: Miss
--- body ~ \A/cacheable/expiry #2\n\Z

=== a stale object with an ETag is revalidated: the origin's 304 makes a RefreshHit with Age 0
--- run
U='/cacheable/refresh-etag?h=cache-control:max-age=1&h=etag:%22r1%22'
./get "$U"
sleep 1.3
curl -sS -i "http://127.0.0.1:$PORT$U" > last.txt
# freshness renewed: a plain hit again
./get "$U"
./hits /cacheable/refresh-etag
cat last.txt
# the origin answers 304 only to an If-None-Match matching "r1" (this URL has no
# Last-Modified), and the stored headers are updated with its 304's, which echo it
--- stdout ~ \A200 Miss age=\S+ /cacheable/refresh-etag #1\n200 Hit age=[01] /cacheable/refresh-etag #1\norigin asked 2 times\n
--- status: 200
--- header: x-cache: RefreshHit
--- header: age: 0
--- header: etag: "r1"
--- header: x-origin-saw-if-none-match: "r1"
--- body ~ \A/cacheable/refresh-etag #1\n\Z

=== a stale object with only Last-Modified is revalidated with If-Modified-Since: RefreshHit
--- run
U='/cacheable/refresh-lm?h=cache-control:max-age=1&h=last-modified:Mon,%2001%20Jan%202024%2000:00:00%20GMT'
./get "$U"
sleep 1.3
curl -sS -i "http://127.0.0.1:$PORT$U" > last.txt
./hits /cacheable/refresh-lm
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/refresh-lm #1\norigin asked 2 times\n
--- header: x-cache: RefreshHit
--- header: age: 0
--- header: last-modified: Mon, 01 Jan 2024 00:00:00 GMT
--- header: x-origin-saw-if-modified-since: Mon, 01 Jan 2024 00:00:00 GMT
--- no-header: x-origin-saw-if-none-match
--- body ~ \A/cacheable/refresh-lm #1\n\Z

=== a stale object whose ETag changed: the origin's 200 replaces it (Miss, the new body)
--- run
# query: none, so both URLs are one object; the second one's origin answers "new" with
# etag "c2", and a 200 to If-None-Match: "c1"
./get '/cacheable/refresh-changed?body=old&h=cache-control:max-age=1&h=etag:%22c1%22'
sleep 1.3
curl -sS -i 'http://127.0.0.1:$PORT/cacheable/refresh-changed?body=new&h=cache-control:max-age=60&h=etag:%22c2%22' > last.txt
./get '/cacheable/refresh-changed?anything'
cat last.txt
--- stdout ~ \A200 Miss age=\S+ old\n200 Hit age=0 new\n
--- header: x-cache: Miss
--- header: etag: "c2"
--- body: new

=== a stale object and a viewer's matching If-None-Match: revalidated with the origin, then a 304 to the viewer
--- run
U='/cacheable/refresh-inm?h=cache-control:max-age=1&h=etag:%22ri%22'
./get "$U"
sleep 1.3
curl -sS -i "http://127.0.0.1:$PORT$U" -H 'If-None-Match: "ri"' > last.txt
./hits /cacheable/refresh-inm
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/refresh-inm #1\norigin asked 2 times\n
--- status: 304
--- header: x-cache ~ ^(Hit|RefreshHit)$
--- header: etag: "ri"
--- body ~ \A\Z

=== the origin fails a revalidation with a 5xx: the stale object is served (RefreshHit)
--- run
# query: none, so both URLs are one object; the second one's origin answers 500
./get '/cacheable/stale-5xx?body=old&h=cache-control:max-age=1&h=etag:%22s5%22'
sleep 1.3
curl -sS -i 'http://127.0.0.1:$PORT/cacheable/stale-5xx?status=500' > last.txt
./hits '/cacheable/stale-5xx?status=500'
cat last.txt
--- stdout ~ \A200 Miss age=\S+ old\norigin asked 1 times\n
--- status: 200
--- header: x-cache: RefreshHit
--- body: old

=== an object that must be revalidated is not served stale when the origin fails: its error goes through (RFC 9111 5.2.2)
--- run
./get '/cacheable/mr-5xx?body=old&h=cache-control:max-age=1,must-revalidate&h=etag:%22m5%22'
./get '/cacheable/nc-5xx?body=old&h=cache-control:no-cache&h=etag:%22n5%22'
./get '/cacheable/sm-5xx?body=old&h=cache-control:s-maxage=1&h=etag:%22s5%22'
sleep 1.3
./get '/cacheable/mr-5xx?status=503'
./get '/cacheable/nc-5xx?status=500'
./get '/cacheable/sm-5xx?status=502'
--- stdout ~ \A200 Miss age=\S+ old\n200 Miss age=\S+ old\n200 Miss age=\S+ old\n503 Pass age=- /cacheable/mr-5xx #1\n500 Pass age=- /cacheable/nc-5xx #1\n502 Pass age=- /cacheable/sm-5xx #1\n\Z

=== the origin times out on a revalidation: the stale object is served (RefreshHit), and the error log says so
--- run
./get '/cacheable/slow/stale?body=old&h=cache-control:max-age=1&h=etag:%22st%22'
sleep 1.3
curl -sS -i 'http://127.0.0.1:$PORT/cacheable/slow/stale?delay=1500'
--- stdout ~ \A200 Miss age=\S+ old\n
--- status: 200
--- header: x-cache: RefreshHit
--- body: old
--- log ~ request ${header:x-edgefn-request-id}: 504: .*the stale cached object was served

=== s-maxage wins over max-age, both ways
--- run
A='/cacheable/smaxage-short?h=cache-control:max-age=600,s-maxage=1'
B='/cacheable/smaxage-long?h=cache-control:max-age=1,%20s-maxage=600'
./get "$A"
./get "$B"
sleep 1.3
./get "$A"
./get "$B"
--- stdout ~ \A200 Miss age=\S+ /cacheable/smaxage-short #1\n200 Miss age=\S+ /cacheable/smaxage-long #1\n200 Miss age=\S+ /cacheable/smaxage-short #2\n200 Hit age=[12] /cacheable/smaxage-long #1\n\Z

=== Expires (minus Date) sets the freshness without Cache-Control; max-age wins over it
--- run
A='/cacheable/expires?expires_in=2'
B='/cacheable/expires-maxage?expires_in=1&h=cache-control:max-age=600'
./get "$A"
./get "$A"
./get "$B"
sleep 2.3
./get "$A"
./get "$B"
--- stdout ~ \A200 Miss age=\S+ /cacheable/expires #1\n200 Hit age=0 /cacheable/expires #1\n200 Miss age=\S+ /cacheable/expires-maxage #1\n200 Miss age=\S+ /cacheable/expires #2\n200 Hit age=[23] /cacheable/expires-maxage #1\n\Z

=== an Expires in the past, without validators: a TTL of 0, not stored (Pass)
--- run
U='/cacheable/expired?expires_in=-60'
./get "$U"
curl -sS -i "http://127.0.0.1:$PORT$U"
--- stdout ~ \A200 Pass age=\S+ /cacheable/expired #1\n
--- header: x-cache: Pass
--- body ~ \A/cacheable/expired #2\n\Z

=== min-ttl clamps a short max-age up, and stores even no-store for min-ttl
--- run
A='/cacheable/min-ttl/short?h=cache-control:max-age=1'
B='/cacheable/min-ttl/no-store?h=cache-control:no-store'
./get "$A"
./get "$B"
./get "$B"
sleep 1.3
./get "$A"
--- stdout ~ \A200 Miss age=\S+ /cacheable/min-ttl/short #1\n200 Miss age=\S+ /cacheable/min-ttl/no-store #1\n200 Hit age=0 /cacheable/min-ttl/no-store #1\n200 Hit age=[12] /cacheable/min-ttl/short #1\n\Z

=== max-ttl clamps a long max-age down: a miss after 1.3 s
--- run
U='/cacheable/max-ttl/long?h=cache-control:max-age=600'
./get "$U"
./get "$U"
sleep 1.3
./get "$U"
--- stdout ~ \A200 Miss age=\S+ /cacheable/max-ttl/long #1\n200 Hit age=0 /cacheable/max-ttl/long #1\n200 Miss age=\S+ /cacheable/max-ttl/long #2\n\Z

=== default-ttl 0 and no validator: not stored, Pass every time
--- run
./get /cacheable/ttl0/plain
./get /cacheable/ttl0/plain
./hits /cacheable/ttl0/plain
--- stdout ~ \A200 Pass age=\S+ /cacheable/ttl0/plain #1\n200 Pass age=\S+ /cacheable/ttl0/plain #2\norigin asked 2 times\n\Z

=== default-ttl 0 with an ETag: stored, and revalidated every time (RefreshHit)
--- run
U='/cacheable/ttl0/etag?h=etag:%22z1%22'
./get "$U"
./get "$U"
./get "$U"
./hits /cacheable/ttl0/etag
--- stdout ~ \A200 Miss age=\S+ /cacheable/ttl0/etag #1\n200 RefreshHit age=0 /cacheable/ttl0/etag #1\n200 RefreshHit age=0 /cacheable/ttl0/etag #1\norigin asked 3 times\n\Z

