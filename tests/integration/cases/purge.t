# purge.t: the cache's admin API and `edgefn purge`.
# POST /cache/invalidations {"paths": [...]} drops the cached objects each path matches
# (CloudFront's invalidation paths: exact, or a prefix ending in "*") and answers
# {"purged": N, "paths": [{"path": ..., "purged": n}, ...]}; GET /cache gives the store's
# size and counters. Errors are JSON {"error", "message"}. `edgefn purge PATH...` posts
# the same through the admin listener named in the config.
# The hit/miss cases watch x-cache and the origin's per-path counts (/__stats).
--- setup
printf 's3cret-token\n' > admin.token
printf 'wrong-token\n' > wrong.token
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
  token-file: admin.token
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /echo/*
    origin: app
    cache: { default-ttl: 60s }
  - path: /delay/*
    origin: app
    cache: { default-ttl: 60s }
cache: { memory: 64MB, max-object-size: 1MB }

=== without the token, an invalidation is a 401 and purges nothing
--- run
xc() { curl -sS -o /dev/null -w "%{http_code} %header{x-cache}\n" "http://127.0.0.1:$PORT$1"; }
xc /echo/unauth; xc /echo/unauth
curl -sS -o /dev/null -w "%{http_code} %header{www-authenticate}\n" --data '{"paths": ["/echo/unauth"]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
curl -sS -o /dev/null -w "%{http_code}\n" -H 'Authorization: Bearer wrong-token' --data '{"paths": ["/echo/*"]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
xc /echo/unauth
--- stdout
200 Miss
200 Hit
401 Bearer realm="edgefn"
401
200 Hit
--- log !~ invalidation

=== without the token, GET /cache is a 401
--- run
curl -sS -i http://127.0.0.1:$ADMIN_PORT/cache
--- status: 401
--- header: www-authenticate ~ ^Bearer
--- body !~ hits

=== GET /cache answers the configured sizes and the store's counters
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/cache
--- status: 200
--- header: content-type: application/json
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- body ~ \A\{"memory": 67108864, "max_object_size": 1048576, "objects": \d+, "bytes": \d+, "hits": \d+, "stale_hits": \d+, "misses": \d+, "inserts": \d+, "evictions": \d+, "purged": \d+, "refused": \d+\}\n\Z

=== GET /cache counts a miss, a hit, an insert and a purge
--- run
A=http://127.0.0.1:$ADMIN_PORT; T='Authorization: Bearer s3cret-token'
fields="objects hits misses inserts purged"
stats() { curl -sS -H "$T" $A/cache | $PYTHON $TOOLS/jget.py $fields | tr '\n' ' '; }
before=($(stats))
curl -sS -o /dev/null http://127.0.0.1:$PORT/echo/counted
curl -sS -o /dev/null http://127.0.0.1:$PORT/echo/counted
middle=($(stats))
curl -sS -o /dev/null -H "$T" --data '{"paths": ["/echo/counted"]}' $A/cache/invalidations
after=($(stats))
echo "before: ${before[*]} middle: ${middle[*]} after: ${after[*]}" >&2
i=0; for f in $fields; do
  printf '%s %+d then %+d\n' $f $((middle[i] - before[i])) $((after[i] - middle[i])); i=$((i + 1))
done
--- stdout
objects +1 then -1
hits +1 then +0
misses +1 then +0
inserts +1 then +0
purged +0 then +1

=== an invalidation drops the object: hit, purge, then a miss that reaches the origin
--- run
xc() { curl -sS -o /dev/null -w "%{http_code} %header{x-cache}\n" "http://127.0.0.1:$PORT$1"; }
seen() { echo "origin saw $(curl -sS http://127.0.0.1:$ORIGIN_PORT/__stats | $PYTHON $TOOLS/jget.py requests./echo/p1)"; }
xc /echo/p1; xc /echo/p1; seen
curl -sS -H 'Authorization: Bearer s3cret-token' -H 'content-type: application/json' \
  --data '{"paths": ["/echo/p1"]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
xc /echo/p1; seen
xc /echo/p1
--- stdout
200 Miss
200 Hit
origin saw 1
{"purged": 1, "paths": [{"path": "/echo/p1", "purged": 1}]}
200 Miss
origin saw 2
200 Hit
--- log ~ \[info\] cache: invalidation purged 1 object: /echo/p1 \(1\)$

=== the answer is JSON with the count per path, in the order given
--- run
curl -sS -o /dev/null http://127.0.0.1:$PORT/echo/order-b
curl -sS -i -H 'Authorization: Bearer s3cret-token' \
  --data '{"paths": ["/echo/order-a", "/echo/order-b", "/echo/order-b"]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
--- status: 200
--- header: content-type: application/json
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- body
{"purged": 1, "paths": [{"path": "/echo/order-a", "purged": 0}, {"path": "/echo/order-b", "purged": 1}, {"path": "/echo/order-b", "purged": 0}]}
--- log ~ \[info\] cache: invalidation purged 1 object: /echo/order-a \(0\), /echo/order-b \(1\), /echo/order-b \(0\)$

=== a path ending in * drops everything under it and leaves the rest
--- run
xc() { curl -sS -o /dev/null -w "%{http_code} %header{x-cache}\n" "http://127.0.0.1:$PORT$1"; }
paths="/echo/img/a.png /echo/img/b.png /echo/img/sub/c.png /echo/imgx /echo/other"
for p in $paths; do xc $p; done > /dev/null
for p in $paths; do echo "$p $(xc $p)"; done
curl -sS -H 'Authorization: Bearer s3cret-token' --data '{"paths": ["/echo/img/*"]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
for p in $paths; do echo "$p $(xc $p)"; done
--- stdout
/echo/img/a.png 200 Hit
/echo/img/b.png 200 Hit
/echo/img/sub/c.png 200 Hit
/echo/imgx 200 Hit
/echo/other 200 Hit
{"purged": 3, "paths": [{"path": "/echo/img/*", "purged": 3}]}
/echo/img/a.png 200 Miss
/echo/img/b.png 200 Miss
/echo/img/sub/c.png 200 Miss
/echo/imgx 200 Hit
/echo/other 200 Hit

=== a path drops its object whatever the query (query: none keys one object per path)
--- run
xc() { curl -sS -o /dev/null -w "%{http_code} %header{x-cache}\n" "http://127.0.0.1:$PORT$1"; }
xc '/echo/q?v=1'; xc '/echo/q?v=2'
curl -sS -H 'Authorization: Bearer s3cret-token' --data '{"paths": ["/echo/q"]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
xc '/echo/q?v=3'
--- stdout
200 Miss
200 Hit
{"purged": 1, "paths": [{"path": "/echo/q", "purged": 1}]}
200 Miss

=== edgefn purge drops the objects and says how many
--- run
xc() { curl -sS -o /dev/null -w "%{http_code} %header{x-cache}\n" "http://127.0.0.1:$PORT$1"; }
xc /echo/cli-1; xc /echo/cli-1; xc /echo/cli-dir/a; xc /echo/cli-dir/b
$EDGEFN purge -c edgefn.yaml /echo/cli-1 '/echo/cli-dir/*' /echo/never-cached
echo "exit $?"
xc /echo/cli-1; xc /echo/cli-dir/a
--- stdout
200 Miss
200 Hit
200 Miss
200 Miss
purged 3 objects: /echo/cli-1 (1), /echo/cli-dir/* (2), /echo/never-cached (0)
exit 0
200 Miss
200 Miss
--- log ~ \[info\] cache: invalidation purged 3 objects: /echo/cli-1 \(1\), /echo/cli-dir/\* \(2\), /echo/never-cached \(0\)$

=== edgefn purge of one object says "object"
--- run
curl -sS -o /dev/null http://127.0.0.1:$PORT/echo/cli-one
$EDGEFN purge -c edgefn.yaml /echo/cli-one
--- stdout
purged 1 object: /echo/cli-one (1)

=== edgefn purge with a wrong token: the 401, exit 1
--- run
sed 's/token-file: admin.token/token-file: wrong.token/' edgefn.yaml > wrong-token.yaml
$EDGEFN purge -c wrong-token.yaml /echo/x
--- exit: 1
--- stderr
edgefn purge: 401 Unauthorized: missing or invalid bearer token
--- stdout ~ \A\Z

# the errors of POST /cache/invalidations: JSON, with the status a client can act on

=== GET /cache/invalidations is a 405 that allows POST
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
--- status: 405
--- header: allow: POST
--- header: content-type: application/json
--- body
{"error":"MethodNotAllowed","message":"GET /cache/invalidations is not allowed; use POST"}

=== POST /cache is a 405 that allows GET
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' -X POST http://127.0.0.1:$ADMIN_PORT/cache
--- status: 405
--- header: allow: GET
--- header: content-type: application/json
--- body
{"error":"MethodNotAllowed","message":"POST /cache is not allowed; use GET"}

=== an invalidation without a body is a 400
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' -X POST http://127.0.0.1:$ADMIN_PORT/cache/invalidations
--- status: 400
--- header: content-type: application/json
--- body
{"error":"MissingBody","message":"the request has no body: expected JSON like {\"paths\": [\"/index.html\"]}"}

=== a body that is not JSON is a 400 that says where
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' --data '{"paths": [/echo/a]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
--- status: 400
--- header: content-type: application/json
--- body ~ \A\{"error":"MalformedInput","message":"the body is not JSON: [^"]+ \(line 1, column \d+\)"\}\n\Z

=== a body that is JSON but not an object is a 400
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' --data '["/echo/a"]' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
--- status: 400
--- body
{"error":"InvalidArgument","message":"the body is an array, not an object like {\"paths\": [\"/index.html\"]}"}

=== an object without "paths" is a 400
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' --data '{"Paths": {"Items": ["/echo/a"]}}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
--- status: 400
--- body
{"error":"InvalidArgument","message":"the body has no \"paths\": expected {\"paths\": [\"/index.html\"]}"}

=== "paths" that is not an array is a 400
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' --data '{"paths": "/echo/a"}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
--- status: 400
--- body
{"error":"InvalidArgument","message":"\"paths\" is a string, not an array of paths"}

=== an empty "paths" is a 400
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' --data '{"paths": []}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
--- status: 400
--- body
{"error":"InvalidArgument","message":"\"paths\" is empty: name at least one path"}

=== a path that is not a string is a 400 that says which
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' --data '{"paths": ["/echo/a", 7]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
--- status: 400
--- body
{"error":"InvalidArgument","message":"paths[1] is a number, not a string"}

=== a path without its leading / is a 400 that names it, and nothing is purged
--- run
curl -sS -o /dev/null http://127.0.0.1:$PORT/echo/kept
curl -sS -H 'Authorization: Bearer s3cret-token' --data '{"paths": ["/echo/kept", "echo/kept"]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
curl -sS -o /dev/null -w "%{http_code} %header{x-cache}\n" http://127.0.0.1:$PORT/echo/kept
--- stdout
{"error":"InvalidArgument","message":"paths[1] \"echo/kept\" must start with \"/\""}
200 Hit
--- log !~ invalidation

=== a * that is not the last character is a 400
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' --data '{"paths": ["/echo/*.png"]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
--- status: 400
--- body
{"error":"InvalidArgument","message":"paths[0] \"/echo/*.png\" has \"*\" before its end (\"*\" may only be the last character)"}

=== a path with a control character is a 400
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' --data '{"paths": ["/echo/a\nb"]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
--- status: 400
--- body
{"error":"InvalidArgument","message":"paths[0] \"/echo/a\nb\" has a control character (0x0a) at byte 7"}

=== a path of 4096 bytes is taken; one of 4097 is a 400 that quotes its start
--- run
for n in 4096 4097; do
  $PYTHON -c "import json; print(json.dumps({'paths': ['/' + 'a' * ($n - 1)]}))" |
    curl -sS -o out.json -w "%{http_code} " -H 'Authorization: Bearer s3cret-token' --data-binary @- http://127.0.0.1:$ADMIN_PORT/cache/invalidations
  $PYTHON -c "import json; d = json.load(open('out.json')); print(d.get('purged'), [len(p['path']) for p in d.get('paths', [])], d.get('message'))"
done
--- stdout
200 0 [4096] None
400 None [] paths[0] "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..." is 4097 bytes long, more than 4096

=== 3000 paths are taken; 3001 are a 400
--- run
for n in 3000 3001; do
  $PYTHON -c "import json; print(json.dumps({'paths': ['/echo/many-%d' % i for i in range($n)]}))" |
    curl -sS -o out.json -w "%{http_code} " -H 'Authorization: Bearer s3cret-token' --data-binary @- http://127.0.0.1:$ADMIN_PORT/cache/invalidations
  $PYTHON -c "import json; d = json.load(open('out.json')); print(d.get('purged'), len(d.get('paths', [])), d.get('message'))"
done
--- stdout
200 0 3000 None
400 None 0 "paths" has 3001 paths, more than 3000

=== edgefn --help lists purge
# from here: edgefn purge's own errors
--- run
$EDGEFN --help
--- stdout ~ (?m)^\s+edgefn purge \[-c FILE\] PATH\.\.\.$

=== edgefn purge without a path is a usage error, exit 2
--- run
$EDGEFN purge -c edgefn.yaml
--- exit: 2
--- stderr ~ \Aedgefn purge: which paths\?
--- stderr ~ (?m)^usage:$
--- stdout ~ \A\Z

=== edgefn purge checks the paths before sending anything: exit 2
--- run
$EDGEFN purge -c edgefn.yaml /echo/ok echo/no-slash; echo "exit $?"
$EDGEFN purge -c edgefn.yaml '/echo/*.png'; echo "exit $?"
--- stdout
exit 2
exit 2
--- stderr
edgefn purge: "echo/no-slash" must start with "/"
edgefn purge: "/echo/*.png" has "*" before its end ("*" may only be the last character)
--- log !~ invalidation

=== edgefn purge with an unknown option is a usage error, exit 2
--- run
$EDGEFN purge -c edgefn.yaml --force /echo/a
--- exit: 2
--- stderr ~ unknown option "--force"

=== edgefn purge with a config that has no admin: says so, exit 2
--- run
cat > no-admin.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /echo/*
    origin: app
    cache: { default-ttl: 60s }
YAML
$EDGEFN purge -c no-admin.yaml /echo/a
--- exit: 2
--- stderr ~ \Aedgefn purge: no-admin\.yaml has no admin: section
--- stdout ~ \A\Z

=== edgefn purge with a bad config prints its errors, exit 2
--- run
printf 'listen: [ { port: nope } ]\n' > bad.yaml
$EDGEFN purge -c bad.yaml /echo/a
--- exit: 2
--- stderr ~ (?m)^bad\.yaml:1:\d+: 

=== edgefn purge when edgefn is not running: connection refused, exit 1
--- run
cat > not-running.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$DEAD_PORT"
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /echo/*
    origin: app
    cache: { default-ttl: 60s }
YAML
$EDGEFN purge -c not-running.yaml /echo/a
--- exit: 1
--- stderr
edgefn purge: cannot reach the admin listener at http://127.0.0.1:$DEAD_PORT: Connection refused (is edgefn running?)
--- stdout ~ \A\Z

=== edgefn purge when something else answers on the admin port: its status and first line, exit 1
--- run
sed 's/127.0.0.1:$ADMIN_PORT/127.0.0.1:$ORIGIN_PORT/' edgefn.yaml > origin-as-admin.yaml
$EDGEFN purge -c origin-as-admin.yaml /echo/a
--- exit: 1
--- stderr ~ \Aedgefn purge: 404 Not Found: .+\n\Z
--- stdout ~ \A\Z

# without any cache: policy there is no cache to purge or describe

=== without a cache: policy, an invalidation and GET /cache are a 404 NoCache, and /health is still ok
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /echo/*
    origin: app
--- run
curl -sS -w ' %{http_code} %{content_type}\n' --data '{"paths": ["/echo/a"]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
curl -sS http://127.0.0.1:$ADMIN_PORT/health
$EDGEFN purge -c edgefn.yaml /echo/a; echo "purge exit $?"
curl -sS -i http://127.0.0.1:$ADMIN_PORT/cache
--- status: 404
--- body
{"error":"NoCache","message":"no behavior has a cache: policy, so there is no cache"}
--- stdout ~ \A\{"error":"NoCache","message":"no behavior has a cache: policy, so there is nothing to invalidate"\}\n 404 application/json\n\{"status":"ok"\}\npurge exit 1\n
--- stderr
edgefn purge: 404 Not Found: no behavior has a cache: policy, so there is nothing to invalidate

=== an invalidation larger than max-request-body is a 413; edgefn purge says so before sending
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /echo/*
    origin: app
    cache: { default-ttl: 60s }
max-request-body: 1KB
--- run
$EDGEFN purge -c edgefn.yaml $(seq -f '/echo/big-%g' 1 200); echo "purge exit $?"
$EDGEFN purge -c edgefn.yaml /echo/small; echo "purge exit $?"
$PYTHON -c "import json; print(json.dumps({'paths': ['/echo/big-%d' % i for i in range(200)]}))" |
  curl -sS -i --data-binary @- http://127.0.0.1:$ADMIN_PORT/cache/invalidations
--- status: 413
--- stdout ~ \Apurge exit 2\npurged 0 objects: /echo/small \(0\)\npurge exit 0\n
--- stderr ~ \Aedgefn purge: the request would be \d+ bytes, more than max-request-body \(1024 bytes\); purge fewer paths at a time\n\Z

=== an invalidation reaches a fetch already under way: what that fetch brings back is not stored
--- run
T='Authorization: Bearer s3cret-token'
curl -sS -o /dev/null -w '%{http_code} %header{x-cache}\n' http://127.0.0.1:$PORT/delay/800 > first.txt &
sleep 0.3
curl -sS -H "$T" --data '{"paths": ["/delay/*"]}' http://127.0.0.1:$ADMIN_PORT/cache/invalidations
wait
cat first.txt
curl -sS -o /dev/null -w '%{http_code} %header{x-cache}\n' http://127.0.0.1:$PORT/delay/800
curl -sS -o /dev/null -w '%{http_code} %header{x-cache}\n' http://127.0.0.1:$PORT/delay/800
--- stdout ~ \A\{"purged": 0, .*\n200 Miss\n200 Miss\n200 Hit\n\Z
