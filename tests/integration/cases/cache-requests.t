# cache-requests.t: the edge cache's keys and requests, as curl sees them: the query
# (none, all, a list; order does not matter), key headers and cookies, the host,
# Vary; 304s answered from the cache; the viewer's validators kept from the origin on
# a miss; HEAD from a cached GET; byte ranges cut from a cached object; POST and
# Authorization are Pass. The origin's
# /cacheable/... endpoint and the ./get and ./hits helpers are those of cache.t.
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
behaviors:
  - path: /cacheable/query-all/*
    origin: app
    cache: { key: { query: all } }
  - path: /cacheable/query-list/*
    origin: app
    cache: { key: { query: [v] } }
  - path: /cacheable/key-header/*
    origin: app
    cache: { key: { headers: [x-tenant] } }
  - path: /cacheable/key-cookie/*
    origin: app
    cache: { key: { cookies: [session] } }
  - path: /cacheable/key-auth/*
    origin: app
    cache: { key: { headers: [authorization] } }
  - path: /cacheable/*
    origin: app
    cache: {}

=== query: none (the default): the query is not in the key, ?x=1 and ?x=2 are one object
--- run
./get '/cacheable/query-none?x=1'
curl -sS -i 'http://127.0.0.1:$PORT/cacheable/query-none?x=2' > last.txt
./hits /cacheable/query-none
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/query-none #1\norigin asked 1 times\n
--- header: x-cache: Hit
--- body ~ \A/cacheable/query-none #1\n\Z

=== query: all: ?b=2&a=1 then ?a=1&b=2 is a hit; another value is another object
--- run
./get '/cacheable/query-all/x?b=2&a=1'
./get '/cacheable/query-all/x?a=1&b=3'
curl -sS -i 'http://127.0.0.1:$PORT/cacheable/query-all/x?a=1&b=2' > last.txt
./hits /cacheable/query-all/x
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/query-all/x #1\n200 Miss age=\S+ /cacheable/query-all/x #1\norigin asked 2 times\n
--- header: x-cache: Hit
--- body ~ \A/cacheable/query-all/x #1\n\Z

=== query: [v]: only v is in the key, in any order among the others
--- run
./get '/cacheable/query-list/x?v=1&utm=a'
./get '/cacheable/query-list/x?utm=b&v=1'
./get '/cacheable/query-list/x?v=2&utm=a'
./get '/cacheable/query-list/x'
./hits /cacheable/query-list/x
--- stdout ~ \A200 Miss age=\S+ /cacheable/query-list/x #1\n200 Hit age=0 /cacheable/query-list/x #1\n200 Miss age=\S+ /cacheable/query-list/x #1\n200 Miss age=\S+ /cacheable/query-list/x #1\norigin asked 3 times\n\Z

=== key headers [x-tenant]: one object per tenant, the header's name in any case
--- run
U=/cacheable/key-header/x
./get $U -H 'x-tenant: a'
./get $U -H 'X-Tenant: b'
./get $U
./get $U -H 'X-TENANT: b'
curl -sS -i http://127.0.0.1:$PORT$U -H 'x-tenant: a'
--- stdout ~ \A200 Miss age=\S+ /cacheable/key-header/x #1\n200 Miss age=\S+ /cacheable/key-header/x #2\n200 Miss age=\S+ /cacheable/key-header/x #3\n200 Hit age=0 /cacheable/key-header/x #2\n
--- header: x-cache: Hit
--- body ~ \A/cacheable/key-header/x #1\n\Z

=== key cookies [session]: one object per session, other cookies ignored
--- run
U=/cacheable/key-cookie/x
./get $U -b 'session=1'
./get $U -b 'session=2'
./get $U -b 'theme=dark; session=2'
curl -sS -i http://127.0.0.1:$PORT$U -b 'session=1; other=x'
--- stdout ~ \A200 Miss age=\S+ /cacheable/key-cookie/x #1\n200 Miss age=\S+ /cacheable/key-cookie/x #2\n200 Hit age=0 /cacheable/key-cookie/x #2\n
--- header: x-cache: Hit
--- body ~ \A/cacheable/key-cookie/x #1\n\Z

=== the host is in the key, lower-cased
--- run
U='/cacheable/host?h=cache-control:max-age=60'
./get "$U" -H 'Host: one.example'
./get "$U" -H 'Host: two.example'
./get "$U" -H 'Host: ONE.example'
--- stdout ~ \A200 Miss age=\S+ /cacheable/host #1\n200 Miss age=\S+ /cacheable/host #2\n200 Hit age=0 /cacheable/host #1\n\Z

=== Vary: accept-language: two languages, two objects, each one a hit
--- run
U='/cacheable/vary?h=cache-control:max-age=60&h=vary:accept-language'
./get "$U" -H 'Accept-Language: en'
./get "$U" -H 'Accept-Language: fr'
./get "$U" -H 'Accept-Language: fr'
curl -sS -i "http://127.0.0.1:$PORT$U" -H 'Accept-Language: en' > last.txt
./hits /cacheable/vary
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/vary #1\n200 Miss age=\S+ /cacheable/vary #2\n200 Hit age=0 /cacheable/vary #2\norigin asked 2 times\n
--- header: x-cache: Hit
--- header: vary: accept-language
--- body ~ \A/cacheable/vary #1\n\Z

=== Vary: * is not stored: Pass every time
--- run
U='/cacheable/vary-star?h=cache-control:max-age=60&h=vary:*'
./get "$U"
curl -sS -i "http://127.0.0.1:$PORT$U" > last.txt
./hits /cacheable/vary-star
cat last.txt
--- stdout ~ \A200 Pass age=\S+ /cacheable/vary-star #1\norigin asked 2 times\n
--- header: x-cache: Pass
--- body ~ \A/cacheable/vary-star #2\n\Z

=== on a hit, a matching If-None-Match (strong, weak or *) is a 304 from the cache
--- run
U='/cacheable/inm?h=cache-control:max-age=60&h=etag:%22e1%22'
./get "$U"
./get "$U" -H 'If-None-Match: W/"e1"'
./get "$U" -H 'If-None-Match: *'
./get "$U" -H 'If-None-Match: "other", "e1"'
./get "$U" -H 'If-None-Match: "other"'
curl -sS -i "http://127.0.0.1:$PORT$U" -H 'If-None-Match: "e1"' > last.txt
./hits /cacheable/inm
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/inm #1\n304 Hit age=0 -\n304 Hit age=0 -\n304 Hit age=0 -\n200 Hit age=0 /cacheable/inm #1\norigin asked 1 times\n
--- status: 304
--- header: x-cache: Hit
--- header: etag: "e1"
--- body ~ \A\Z

=== on a hit, If-Modified-Since at or after Last-Modified is a 304 from the cache; before it, the 200
--- run
U='/cacheable/ims?h=cache-control:max-age=60&h=last-modified:Mon,%2001%20Jan%202024%2000:00:00%20GMT'
./get "$U"
./get "$U" -H 'If-Modified-Since: Sun, 31 Dec 2023 23:59:59 GMT'
./get "$U" -H 'If-Modified-Since: Tue, 02 Jan 2024 00:00:00 GMT'
curl -sS -i "http://127.0.0.1:$PORT$U" -H 'If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT' > last.txt
./hits /cacheable/ims
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/ims #1\n200 Hit age=0 /cacheable/ims #1\n304 Hit age=0 -\norigin asked 1 times\n
--- status: 304
--- header: x-cache: Hit
--- header: last-modified: Mon, 01 Jan 2024 00:00:00 GMT
--- body ~ \A\Z

=== on a miss the viewer's If-None-Match and If-Modified-Since do not reach the origin: the viewer gets the 200, and it is stored
--- run
U='/cacheable/cond-miss?h=cache-control:max-age=60&h=etag:%22m1%22&h=last-modified:Mon,%2001%20Jan%202024%2000:00:00%20GMT'
curl -sS -i "http://127.0.0.1:$PORT$U" -H 'If-None-Match: "m1"' -H 'If-Modified-Since: Tue, 02 Jan 2024 00:00:00 GMT' > last.txt
./get "$U"
cat last.txt
--- stdout ~ \A200 Hit age=0 /cacheable/cond-miss #1\n
--- status: 200
--- header: x-cache: Miss
--- no-header: x-origin-saw-if-none-match
--- no-header: x-origin-saw-if-modified-since
--- body ~ \A/cacheable/cond-miss #1\n\Z

=== HEAD is served from a cached GET: a Hit, no body, the object's Content-Length
--- run
U='/cacheable/head?size=1234&h=cache-control:max-age=60'
./get "$U"
curl -sS -I "http://127.0.0.1:$PORT$U" > last.txt
./hits /cacheable/head
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/head #1\norigin asked 1 times\n
--- status: 200
--- header: x-cache: Hit
--- header: content-length: 1234
--- body ~ \A\Z

=== a HEAD miss goes to the origin as HEAD and is not stored: the next GET is a miss too
--- run
U='/cacheable/head-miss?h=cache-control:max-age=60'
curl -sS -I "http://127.0.0.1:$PORT$U" > head.txt
./get "$U"
./get "$U"
cat head.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/head-miss #2\n200 Hit age=0 /cacheable/head-miss #2\n
--- status: 200
--- header: x-cache: Miss
--- body ~ \A\Z

=== POST is Pass: it goes to the origin, and is not answered from a cached GET
--- run
U='/cacheable/post?h=cache-control:max-age=60'
./get "$U"
./get "$U" -d 'a=1'
curl -sS -i "http://127.0.0.1:$PORT$U" -d 'a=2' > last.txt
./hits /cacheable/post
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/post #1\n200 Pass age=\S+ /cacheable/post #2\norigin asked 3 times\n
--- header: x-cache: Pass
--- body ~ \A/cacheable/post #3\n\Z

=== a byte range of a cached 200 is cut from it: 206 with Content-Range, a Hit, the origin not asked again
--- run
# the body is "/cacheable/range #1\n", 20 bytes
U='/cacheable/range?h=cache-control:max-age=60&h=etag:%22g1%22'
./get "$U"
SHOW=content-range ./get "$U" -r -3
SHOW=content-range ./get "$U" -r 100-200
SHOW=content-range ./get "$U" -r 0-1,3-4
SHOW=content-range ./get "$U" -r 0-3 -H 'If-Range: "other"'
SHOW=content-range ./get "$U" -r 0-3 -H 'If-Range: "g1"'
curl -sS -i -r 0-3 "http://127.0.0.1:$PORT$U" > last.txt
./hits /cacheable/range
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/range #1\n206 Hit age=0 content-range=bytes 17-19/20 #1\n416 Hit age=0 content-range=bytes \*/20 -\n200 Hit age=0 content-range=- /cacheable/range #1\n200 Hit age=0 content-range=- /cacheable/range #1\n206 Hit age=0 content-range=bytes 0-3/20 /cac\norigin asked 1 times\n
--- status: 206
--- header: x-cache: Hit
--- header: content-range: bytes 0-3/20
--- header: content-length: 4
--- body: /cac

=== a range request that misses goes to the origin: its 206 is not stored, its 200 is
--- run
A='/cacheable/range-miss-206?status=206&h=content-range:bytes%200-3/20&body=/cac'
B='/cacheable/range-miss-200?h=cache-control:max-age=60'
SHOW=content-range ./get "$A" -r 0-3
./get "$A"
./get "$B" -r 0-3
./get "$B"
--- stdout ~ \A206 (Miss|Pass) age=\S+ content-range=bytes 0-3/20 /cac\n206 (Miss|Pass) age=\S+ /cac\n200 Miss age=\S+ /cacheable/range-miss-200 #1\n200 Hit age=0 /cacheable/range-miss-200 #1\n\Z

=== a request with Authorization is Pass, even when the origin says public
--- run
U='/cacheable/auth?h=cache-control:public,%20max-age=60'
./get "$U" -H 'Authorization: Bearer one'
curl -sS -i "http://127.0.0.1:$PORT$U" -H 'Authorization: Bearer one' > last.txt
./hits /cacheable/auth
cat last.txt
--- stdout ~ \A200 Pass age=\S+ /cacheable/auth #1\norigin asked 2 times\n
--- header: x-cache: Pass
--- body ~ \A/cacheable/auth #2\n\Z

=== with authorization among the key's headers, responses are cached per Authorization
--- run
U='/cacheable/key-auth/x?h=cache-control:public,%20max-age=60'
./get "$U" -H 'Authorization: Bearer one'
./get "$U" -H 'Authorization: Bearer two'
./get "$U" -H 'Authorization: Bearer two'
curl -sS -i "http://127.0.0.1:$PORT$U" -H 'Authorization: Bearer one'
--- stdout ~ \A200 Miss age=\S+ /cacheable/key-auth/x #1\n200 Miss age=\S+ /cacheable/key-auth/x #2\n200 Hit age=0 /cacheable/key-auth/x #2\n
--- header: x-cache: Hit
--- body ~ \A/cacheable/key-auth/x #1\n\Z
