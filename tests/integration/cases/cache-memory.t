# cache-memory.t: the edge cache's bounds, as curl sees them. A response larger than
# cache.max-object-size is passed through and not stored (Pass when its
# Content-Length says so), and the origin is asked every time; the objects together
# stay within cache.memory: after many distinct URLs the early ones are misses again
# and the last one is a hit, and the admin's GET /cache reports bytes <= memory.
# The ./get and ./hits helpers are those of cache.t.
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
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /bytes/*
    origin: app
    cache: {}
  - path: /cacheable/*
    origin: app
    cache: {}
cache: { memory: 1MB, max-object-size: 100KB }

=== 200 distinct 20 KB objects in 1 MB: the first ones are evicted, the last one is a hit
--- timeout: 40
--- run
for i in $(seq 1 200); do
  printf 'url = "http://127.0.0.1:%s/cacheable/fill/%d?size=20000"\noutput = "/dev/null"\n' $PORT $i
done > urls.txt
curl -sS --max-time 30 -K urls.txt
./get '/cacheable/fill/1?size=20000'
./get '/cacheable/fill/2?size=20000'
./get '/cacheable/fill/200?size=20000'
--- stdout ~ \A200 Miss age=\S+ /cacheable/fill/1 #2\n200 Miss age=\S+ /cacheable/fill/2 #2\n200 Hit age=\d+ /cacheable/fill/200 #1\n\Z

=== after 200 distinct 20 KB objects, GET /cache says the objects take at most cache.memory
--- run
for i in $(seq 1 200); do
  printf 'url = "http://127.0.0.1:%s/cacheable/stats/%d?size=20000"\noutput = "/dev/null"\n' $PORT $i
done > urls.txt
curl -sS --max-time 30 -K urls.txt
curl -sS -i http://127.0.0.1:$ADMIN_PORT/cache > last.txt
tr -d '\r' < last.txt | sed '1,/^$/d' > stats.json
read -r bytes memory objects <<< "$($PYTHON $TOOLS/jget.py bytes memory objects < stats.json | tr '\n' ' ')"
echo "bytes $bytes, memory $memory, objects $objects"
test "$memory" = 1048576 && echo "memory is 1MB"
test "$bytes" -gt 0 -a "$bytes" -le "$memory" && echo "0 < bytes <= memory"
test "$objects" -ge 1 -a "$objects" -le 52 && echo "between 1 and 52 objects"
cat last.txt
--- stdout ~ memory is 1MB\n0 < bytes <= memory\nbetween 1 and 52 objects\n
--- status: 200
--- header: content-type ~ ^application/json

=== a response above max-object-size with a Content-Length is Pass, and the origin is asked every time
--- config
threads: 2
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /bytes/*
    origin: app
    cache: {}
  - path: /cacheable/*
    origin: app
    cache: {}
cache: { max-object-size: 10KB, memory: 1MB }
--- run
want=$(curl -sS http://127.0.0.1:$ORIGIN_PORT/bytes/20000 | sha256sum | cut -c1-64)
for n in 1 2 3; do
  curl -sS -D h.txt -o body.bin http://127.0.0.1:$PORT/bytes/20000
  echo "$n: $(head -n 1 h.txt | cut -d' ' -f2) $(tr -d '\r' < h.txt | sed -n 's/^x-cache: *//Ip') $(test "$(sha256sum < body.bin | cut -c1-64)" = "$want" && echo 'the right 20000 bytes')"
done
./hits /bytes/20000
./get '/cacheable/big?size=20000'
./get '/cacheable/big?size=20000'
./get '/cacheable/small?size=5000'
./get '/cacheable/small?size=5000'
--- stdout ~ \A1: 200 Pass the right 20000 bytes\n2: 200 Pass the right 20000 bytes\n3: 200 Pass the right 20000 bytes\norigin asked 4 times\n200 Pass age=\S+ /cacheable/big #1\n200 Pass age=\S+ /cacheable/big #2\n200 Miss age=\S+ /cacheable/small #1\n200 Hit age=0 /cacheable/small #1\n\Z

=== a chunked response that grows above max-object-size is not stored: the origin is asked every time
--- config
threads: 2
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /bytes/*
    origin: app
    cache: {}
cache: { max-object-size: 10KB, memory: 1MB }
--- run
want=$(curl -sS 'http://127.0.0.1:$ORIGIN_PORT/bytes/20001?chunked=1' | sha256sum | cut -c1-64)
for n in 1 2 3; do
  curl -sS -D h.txt -o body.bin 'http://127.0.0.1:$PORT/bytes/20001?chunked=1'
  echo "$n: $(head -n 1 h.txt | cut -d' ' -f2) $(tr -d '\r' < h.txt | sed -n 's/^x-cache: *//Ip') $(test "$(sha256sum < body.bin | cut -c1-64)" = "$want" && echo 'the right 20001 bytes')"
done
./hits /bytes/20001
--- stdout ~ \A1: 200 (Miss|Pass) the right 20001 bytes\n2: 200 (Miss|Pass) the right 20001 bytes\n3: 200 (Miss|Pass) the right 20001 bytes\norigin asked 4 times\n\Z

=== a chunked response far above max-object-size streams through without edgefn holding it: 200 MB, peak memory well below
--- timeout: 60
--- run
# under AddressSanitizer freed memory sits in its quarantine (256 MB), so the peak says nothing there
asan=$(ldd "$EDGEFN" | grep -c libasan)
before=$(awk '/VmHWM/{print $2}' /proc/$EDGEFN_PID/status)
curl -sS -o /dev/null -w '%{http_code} %{size_download}\n' "http://127.0.0.1:$PORT/bytes/200000000?chunked=1"
after=$(awk '/VmHWM/{print $2}' /proc/$EDGEFN_PID/status)
echo "peak grew by $(( (after - before) / 1024 )) MB" >&2
[ $(( (after - before) / 1024 )) -lt 50 -o "$asan" != 0 ] && echo "peak grew by less than 50 MB"
--- stdout ~ \A200 200000000\npeak grew by less than 50 MB\n\Z
