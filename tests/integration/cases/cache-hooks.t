# cache-hooks.t: the edge cache and the four function hooks, as on CloudFront.
# viewer-request runs before the lookup, so what it changes (uri, headers) makes the
# key; origin-request and origin-response run only on a miss (their log lines prove it);
# a revalidation runs origin-request but not origin-response on the origin's 304; what
# origin-response changed is what is stored; viewer-response runs on every response,
# hits included; a response generated at origin-request is cached like the origin's;
# one generated at viewer-request is x-cache: FunctionGeneratedResponse. The function
# logs are flogs/NAME-$TODAY.log, written before the response is sent. The ./get and
# ./hits helpers are those of cache.t.
--- setup
# ./get PATH [CURL ARGS]: one line about a response (STATUS X-CACHE age=AGE BODY); ./hits PATH: how often the origin
# was asked for it (see tools/cache-get and tools/origin-hits)
ln -s "$TOOLS/cache-get" get
ln -s "$TOOLS/origin-hits" hits
mkdir -p flogs
# origin-request / origin-response: a log line with the hook and the uri
cat > log.lua <<'LUA'
function handler(event)
  console.log(event.context.eventType .. " " .. event.request.uri)
  if event.context.eventType == "origin-response" then
    return event.response
  end
  return event.request
end
LUA
# viewer-response: a header on every response, and a log line
cat > mark.lua <<'LUA'
function handler(event)
  console.log("viewer-response " .. event.request.uri)
  event.response.headers["x-viewer-response"] = {value = "ran"}
  return event.response
end
LUA
# origin-response: a header; under .../body, a new body too
cat > ores-change.lua <<'LUA'
function handler(event)
  console.log("origin-response " .. event.request.uri)
  local response = event.response
  response.headers["x-origin-response"] = {value = "added"}
  if event.request.uri:sub(-5) == "/body" then
    response.body = "replaced at origin-response\n"
  end
  return response
end
LUA
# viewer-request: /vr/SEGMENT/anything -> /cacheable/vr/SEGMENT
cat > rewrite.lua <<'LUA'
function handler(event)
  local request = event.request
  local segment = request.uri:match("^/vr/([^/]+)") or "none"
  request.uri = "/cacheable/vr/" .. segment
  return request
end
LUA
# viewer-request: x-variant from the user-agent (a key header)
cat > variant.lua <<'LUA'
function handler(event)
  local request = event.request
  local ua = request.headers["user-agent"]
  local mobile = ua ~= nil and ua.value:find("Mobile", 1, true) ~= nil
  request.headers["x-variant"] = {value = mobile and "mobile" or "desktop"}
  return request
end
LUA
# origin-request: answers by itself
cat > generate.lua <<'LUA'
function handler(event)
  console.log("generating " .. event.request.uri)
  return {
    statusCode = 200,
    statusDescription = "OK",
    headers = {["content-type"] = {value = "text/plain"}, ["cache-control"] = {value = "max-age=60"}},
    body = "generated at origin-request\n",
  }
end
LUA
# viewer-request: answers by itself
cat > answer.lua <<'LUA'
function handler(event)
  console.log("answering " .. event.request.uri)
  return {
    statusCode = 200,
    statusDescription = "OK",
    headers = {["content-type"] = {value = "text/plain"}, ["cache-control"] = {value = "max-age=60"}},
    body = "answered at viewer-request\n",
  }
end
LUA
# viewer-response: replaces the body when the query has "replace"
cat > vr-replace.lua <<'LUA'
function handler(event)
  if event.request.querystring.replace then
    return {statusCode = 200, body = "replaced at viewer-response\n"}
  end
  return event.response
end
LUA
# viewer-request: raises an error (edgefn answers 503)
cat > boom.lua <<'LUA'
function handler(event)
  error("boom")
end
LUA
--- config
threads: 2
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
function-logs: flogs
functions:
  oreq-log: { runtime: lua, code: log.lua }
  ores-log: { runtime: lua, code: log.lua }
  reval-oreq: { runtime: lua, code: log.lua }
  reval-ores: { runtime: lua, code: log.lua }
  mark: { runtime: lua, code: mark.lua }
  ores-change: { runtime: lua, code: ores-change.lua }
  rewrite: { runtime: lua, code: rewrite.lua }
  variant: { runtime: lua, code: variant.lua }
  generate: { runtime: lua, code: generate.lua }
  answer: { runtime: lua, code: answer.lua }
  boom: { runtime: lua, code: boom.lua }
  vr-replace: { runtime: lua, code: vr-replace.lua }
behaviors:
  - path: /cacheable/hooks/*
    origin: app
    origin-request: oreq-log
    origin-response: ores-log
    viewer-response: mark
    cache: {}
  - path: /cacheable/revalidate/*
    origin: app
    origin-request: reval-oreq
    origin-response: reval-ores
    cache: {}
  - path: /cacheable/ores-change/*
    origin: app
    origin-response: ores-change
    cache: {}
  - path: /vr/*
    origin: app
    viewer-request: rewrite
    cache: {}
  - path: /cacheable/variant/*
    origin: app
    viewer-request: variant
    cache: { key: { headers: [x-variant] } }
  - path: /gen/*
    origin: app
    origin-request: generate
    cache: {}
  - path: /cacheable/boom/*
    origin: app
    viewer-request: boom
    cache: {}
  - path: /answer/*
    origin: app
    viewer-request: answer
    viewer-response: mark
    cache: {}
  - path: /cacheable/vr-replace/*
    origin: app
    viewer-response: vr-replace
    cache: {}
cache: { max-object-size: 2MB }

=== origin-request and origin-response run on the miss, not on the hit
--- run
U='/cacheable/hooks/a?h=cache-control:max-age=60'
./get "$U"
curl -sS -i "http://127.0.0.1:$PORT$U" > last.txt
echo "origin-request ran $(grep -c ' origin-request /cacheable/hooks/a$' flogs/oreq-log-$TODAY.log) times"
echo "origin-response ran $(grep -c ' origin-response /cacheable/hooks/a$' flogs/ores-log-$TODAY.log) times"
./hits /cacheable/hooks/a
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/hooks/a #1\norigin-request ran 1 times\norigin-response ran 1 times\norigin asked 1 times\n
--- header: x-cache: Hit
--- body ~ \A/cacheable/hooks/a #1\n\Z
--- log[flogs/oreq-log-$TODAY.log] !~ ${header:x-edgefn-request-id}
--- log[flogs/ores-log-$TODAY.log] !~ ${header:x-edgefn-request-id}

=== viewer-response runs on every response: the miss and the hits
--- run
U='/cacheable/hooks/b?h=cache-control:max-age=60'
SHOW=x-viewer-response ./get "$U"
SHOW=x-viewer-response ./get "$U"
curl -sS -i "http://127.0.0.1:$PORT$U"
--- stdout ~ \A200 Miss age=\S+ x-viewer-response=ran /cacheable/hooks/b #1\n200 Hit age=0 x-viewer-response=ran /cacheable/hooks/b #1\n
--- header: x-cache: Hit
--- header: x-viewer-response: ran
--- log[flogs/mark-$TODAY.log] ~ ^\S+ mark:\$LATEST viewer-response ${header:x-edgefn-request-id} viewer-response /cacheable/hooks/b$

=== a revalidation runs origin-request, but origin-response does not run on the origin's 304
--- run
U='/cacheable/revalidate/x?h=cache-control:max-age=1&h=etag:%22rv%22'
./get "$U"
sleep 1.3
curl -sS -i "http://127.0.0.1:$PORT$U" > last.txt
echo "origin-request ran $(grep -c ' origin-request /cacheable/revalidate/x$' flogs/reval-oreq-$TODAY.log) times"
echo "origin-response ran $(grep -c ' origin-response /cacheable/revalidate/x$' flogs/reval-ores-$TODAY.log) times"
cat last.txt
--- stdout ~ \A200 Miss age=\S+ /cacheable/revalidate/x #1\norigin-request ran 2 times\norigin-response ran 1 times\n
--- header: x-cache: RefreshHit
--- body ~ \A/cacheable/revalidate/x #1\n\Z

=== what origin-response changed is what is stored: its header and its body are in the hit
--- run
U='/cacheable/ores-change/body?h=cache-control:max-age=60'
SHOW=x-origin-response ./get "$U"
curl -sS -i "http://127.0.0.1:$PORT$U" > last.txt
echo "origin-response ran $(grep -c ' origin-response /cacheable/ores-change/body$' flogs/ores-change-$TODAY.log) times"
cat last.txt
--- stdout ~ \A200 Miss age=\S+ x-origin-response=added replaced at origin-response\norigin-response ran 1 times\n
--- header: x-cache: Hit
--- header: x-origin-response: added
--- body ~ \Areplaced at origin-response\n\Z

=== a viewer-request function's uri makes the key: /vr/a/1 and /vr/a/2 are one object, /vr/b/1 another
--- run
./get /vr/a/1
./get /vr/a/2
./get /vr/b/1
./hits /cacheable/vr/a
--- stdout ~ \A200 Miss age=\S+ /cacheable/vr/a #1\n200 Hit age=0 /cacheable/vr/a #1\n200 Miss age=\S+ /cacheable/vr/b #1\norigin asked 1 times\n\Z

=== a header set by a viewer-request function makes the key: one object per x-variant
--- run
U=/cacheable/variant/page
./get $U -A 'Phone Mobile A'
./get $U -A 'Tablet Mobile B'
./get $U -A 'Desktop C'
./get $U -A 'Desktop D'
./hits $U
--- stdout ~ \A200 Miss age=\S+ /cacheable/variant/page #1\n200 Hit age=0 /cacheable/variant/page #1\n200 Miss age=\S+ /cacheable/variant/page #2\n200 Hit age=0 /cacheable/variant/page #2\norigin asked 2 times\n\Z

=== a response generated at origin-request is cached: the next request is a Hit, the function ran once
--- run
./get /gen/x
curl -sS -i http://127.0.0.1:$PORT/gen/x > last.txt
echo "the function ran $(grep -c ' generating /gen/x$' flogs/generate-$TODAY.log) times"
./hits /gen/x
cat last.txt
--- stdout ~ \A200 Miss age=\S+ generated at origin-request\nthe function ran 1 times\norigin asked 0 times\n
--- header: x-cache: Hit
--- body ~ \Agenerated at origin-request\n\Z

=== a response generated at viewer-request is FunctionGeneratedResponse, never cached
--- run
SHOW=x-viewer-response ./get /answer/x
curl -sS -i http://127.0.0.1:$PORT/answer/x > last.txt
echo "the function ran $(grep -c ' answering /answer/x$' flogs/answer-$TODAY.log) times"
cat last.txt
--- stdout ~ \A200 FunctionGeneratedResponse age=- x-viewer-response=- answered at viewer-request\nthe function ran 2 times\n
--- header: x-cache: FunctionGeneratedResponse
--- no-header: age
--- body ~ \Aanswered at viewer-request\n\Z

=== a function's error is edgefn's own 503: x-cache: Error, and the origin is not asked
--- run
curl -sS -i 'http://127.0.0.1:$PORT/cacheable/boom/x' > last.txt
./hits /cacheable/boom/x
cat last.txt
--- stdout ~ \Aorigin asked 0 times\n
--- status: 503
--- header: x-cache: Error
--- body ~ \A503 Service Unavailable: function "boom" \(viewer-request\).*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== a viewer-response function that replaces the body does not keep the origin's response out of the cache
--- run
# 1.5 MB from the origin: the function's body goes to the viewer once the origin's is stored (query: none, one object)
./get '/cacheable/vr-replace/big?size=1500000&replace=1'
./get '/cacheable/vr-replace/big?size=1500000' | cut -d' ' -f1,2
curl -sS -o body.out -w '%{size_download}\n' 'http://127.0.0.1:$PORT/cacheable/vr-replace/big'
./hits /cacheable/vr-replace/big
--- stdout ~ \A200 Miss age=\S+ replaced at viewer-response\n200 Hit\n1500000\norigin asked 1 times\n\Z
