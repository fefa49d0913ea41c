# functions-errors.t: what a client and the logs see when a function fails. A runtime
# error or an exceeded budget (CPU, memory) is a 503; an invalid result is a 502. Each
# body is "<status> <reason>: function "NAME" (HOOK) ..." then "request id: ID", with
# ID equal to x-edgefn-request-id. The function's own log (here function-logs: flogs,
# so flogs/NAME-YYYY-MM-DD.log, $TODAY in the log paths below) gets the traceback or
# the reason; the error log (stderr) a [warn] line. A failure costs only its own
# request: the same function answers the next one, and a function that loops forever
# does not stop other requests.
--- setup
mkdir -p flogs
cat > boom.lua <<'LUA'
local function explode(what)
  error("kaboom at " .. what)
end

local function deeper(n)
  return deeper(n + 1) + 1
end

function handler(event)
  local request = event.request
  local q = request.querystring
  if q.ok ~= nil then
    request.uri = "/echo/after-boom"
    return request
  elseif q.table ~= nil then
    error({code = 42})
  elseif q.recurse ~= nil then
    deeper(1)
  end
  explode(request.uri)
end
LUA
cat > spin.lua <<'LUA'
function handler(event)
  local request = event.request
  local q = request.querystring
  if q.ok ~= nil then
    request.uri = "/echo/after-spin"
    return request
  elseif q.pcall ~= nil then
    while true do
      pcall(function() while true do end end)
    end
  elseif q.pattern ~= nil then
    string.rep("a", 20000):find(".-.-.-b")
  end
  local n = 0
  while true do
    n = n + 1
  end
end
LUA
cat > hog.lua <<'LUA'
function handler(event)
  local request = event.request
  local q = request.querystring
  if q.rep ~= nil then
    local s = string.rep("x", 1024 * 1024 * 1024)
    request.headers["x-size"] = {value = tostring(#s)}
  elseif q.table ~= nil then
    local t = {}
    for i = 1, 1e9 do
      t[i] = {i}
    end
  elseif q.concat ~= nil then
    local s = "x"
    while true do
      s = s .. s
    end
  end
  -- about 1 MB at most, under the 2 MB limit
  local parts = {}
  for i = 1, 500 do
    parts[i] = string.rep("y", 1000)
  end
  request.headers["x-fair-size"] = {value = tostring(#table.concat(parts))}
  request.uri = "/echo/after-hog"
  return request
end
LUA
cat > invalid.lua <<'LUA'
function handler(event)
  local request = event.request
  local what = request.uri
  if what == "/bad/status" then
    return {statusCode = 99}
  elseif what == "/bad/status-high" then
    return {statusCode = 600, body = "too high"}
  elseif what == "/bad/transfer-encoding" then
    request.headers["transfer-encoding"] = {value = "chunked"}
    return request
  elseif what == "/bad/connection" then
    return {statusCode = 200, headers = {connection = {value = "close"}}}
  elseif what == "/bad/proxy" then
    return {statusCode = 200, headers = {["proxy-authenticate"] = {value = "Basic"}}}
  elseif what == "/bad/own-header" then
    return {statusCode = 200, headers = {["x-edgefn-request-id"] = {value = "forged"}}}
  elseif what == "/bad/body-on-204" then
    return {statusCode = 204, body = "not allowed"}
  elseif what == "/bad/method" then
    request.method = "DELETE"
    return request
  elseif what == "/bad/nothing" then
    return nil
  elseif what == "/bad/string" then
    return "a string"
  end
  request.uri = "/echo/after-invalid"
  return request
end
LUA
cat > mark.lua <<'LUA'
function handler(event)
  local response = event.response
  response.headers["x-" .. event.context.eventType .. "-ran"] = {value = "yes"}
  return response
end
LUA
cat > bad-ores.lua <<'LUA'
function handler(event)
  local response = event.response
  local q = event.request.querystring
  if q.ok ~= nil then
    return response
  elseif q.request ~= nil then
    return event.request
  end
  response.headers["upgrade"] = {value = "h2c"}
  return response
end
LUA
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
function-logs: flogs
functions:
  boom: { runtime: lua, code: boom.lua }
  spin: { runtime: lua, code: spin.lua, timeout: 50ms }
  hog: { runtime: lua, code: hog.lua, timeout: 1s }
  invalid: { runtime: lua, code: invalid.lua }
  bad-ores: { runtime: lua, code: bad-ores.lua }
  mark: { runtime: lua, code: mark.lua }
behaviors:
  - path: /err/boom*
    origin: app
    viewer-request: boom
  - path: /err/spin*
    origin: app
    viewer-request: spin
  - path: /err/hog*
    origin: app
    viewer-request: hog
  - path: /bad/*
    origin: app
    viewer-request: invalid
  - path: /bytes/*
    origin: app
    origin-response: bad-ores
    viewer-response: mark
  - path: /echo/vres-boom
    origin: app
    viewer-response: boom
  - path: /echo*
    origin: app

=== a runtime error is a 503 naming the function, the hook and the request id
--- run
curl -sS -i 'http://127.0.0.1:$PORT/err/boom'
--- status: 503
--- header: content-type: text/plain; charset=utf-8
--- body ~ \A503 Service Unavailable: function "boom" \(viewer-request\) [^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/boom-$TODAY.log] ~ ^\S+ boom:\$LATEST viewer-request ${header:x-edgefn-request-id} .*boom\.lua:2: kaboom at /err/boom.*stack traceback
--- log ~ \[warn\] [^\n]*${header:x-edgefn-request-id}[^\n]*503[^\n]*function "boom"

=== the traceback goes to the function's log, not to the client
--- run
curl -sS -i 'http://127.0.0.1:$PORT/err/boom/secret-path'
--- status: 503
--- body !~ kaboom|secret-path|stack
--- log[flogs/boom-$TODAY.log] ~ kaboom at /err/boom/secret-path

=== an error with a table value is a 503 too
--- run
curl -sS -i 'http://127.0.0.1:$PORT/err/boom?table=1'
--- status: 503
--- body ~ \A503 Service Unavailable: function "boom" \(viewer-request\) [^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/boom-$TODAY.log] ~ ^\S+ boom:\$LATEST viewer-request ${header:x-edgefn-request-id} .*table value

=== endless recursion is a 503
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/err/boom?recurse=1'
--- status: 503
--- body ~ \A503 Service Unavailable: function "boom" \(viewer-request\) [^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== after a runtime error the same function answers its next request normally
--- run
curl -sS -o /dev/null -w '%{http_code}\n' 'http://127.0.0.1:$PORT/err/boom'
curl -sS -i 'http://127.0.0.1:$PORT/err/boom?ok=1'
--- stdout ~ \A503\n
--- status: 200
--- body ~ "path": "/echo/after-boom\?ok=1"

=== a runtime error at viewer-response names that hook
--- run
curl -sS -i 'http://127.0.0.1:$PORT/echo/vres-boom'
--- status: 503
--- body ~ \A503 Service Unavailable: function "boom" \(viewer-response\) [^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- no-header: x-echo-path
--- log[flogs/boom-$TODAY.log] ~ ^\S+ boom:\$LATEST viewer-response ${header:x-edgefn-request-id} .*kaboom at /echo/vres-boom

=== an infinite loop is a 503 naming the CPU budget
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/err/spin'
--- status: 503
--- body ~ \A503 Service Unavailable: function "spin" \(viewer-request\) [^\n]*CPU budget[^\n]*50ms[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/spin-$TODAY.log] ~ ^\S+ spin:\$LATEST viewer-request ${header:x-edgefn-request-id} .*CPU budget of 50ms exceeded
--- log ~ \[warn\] [^\n]*${header:x-edgefn-request-id}[^\n]*503[^\n]*CPU budget

=== pcall cannot catch the end of the CPU budget
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/err/spin?pcall=1'
--- status: 503
--- body ~ \A503 Service Unavailable: function "spin" \(viewer-request\) [^\n]*CPU budget[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== a pathological string pattern is stopped by the CPU budget
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/err/spin?pattern=1'
--- status: 503
--- body ~ \A503 Service Unavailable: function "spin" \(viewer-request\) [^\n]*CPU budget[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== after an infinite loop the same function answers its next request normally
--- run
curl -sS -o /dev/null -w '%{http_code}\n' --max-time 10 'http://127.0.0.1:$PORT/err/spin'
curl -sS -o /dev/null -w '%{http_code}\n' --max-time 10 'http://127.0.0.1:$PORT/err/spin?pcall=1'
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/err/spin?ok=1'
--- stdout ~ \A503\n503\n
--- status: 200
--- body ~ "path": "/echo/after-spin\?ok=1"

=== a string of a gigabyte is a 503 naming the memory limit
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/err/hog?rep=1'
--- status: 503
--- body ~ \A503 Service Unavailable: function "hog" \(viewer-request\) [^\n]*memory limit[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/hog-$TODAY.log] ~ ^\S+ hog:\$LATEST viewer-request ${header:x-edgefn-request-id} .*memory limit of 2048 KB exceeded

=== a table that grows without end is a 503 naming the memory limit
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/err/hog?table=1'
--- status: 503
--- body ~ \A503 Service Unavailable: function "hog" \(viewer-request\) [^\n]*memory limit[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== a string doubled without end is a 503 naming the memory limit
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/err/hog?concat=1'
--- status: 503
--- body ~ \A503 Service Unavailable: function "hog" \(viewer-request\) [^\n]*memory limit[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== after memory bombs the same function may still use most of its limit, again and again
--- run
for q in rep table concat; do curl -sS -o /dev/null -w '%{http_code}\n' --max-time 10 "http://127.0.0.1:$PORT/err/hog?$q=1"; done
for i in 1 2 3 4 5 6 7 8; do curl -sS -o /dev/null -w '%{http_code}\n' --max-time 10 'http://127.0.0.1:$PORT/err/hog'; done
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/err/hog'
--- stdout ~ \A503\n503\n503\n(200\n){8}HTTP
--- status: 200
--- body ~ "x-fair-size": "500000"

=== a status below 200 is a 502 naming the function, the hook and the reason
--- run
curl -sS -i 'http://127.0.0.1:$PORT/bad/status'
--- status: 502
--- header: content-type: text/plain; charset=utf-8
--- body ~ \A502 Bad Gateway: function "invalid" \(viewer-request\) [^\n]*\b99\b[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/invalid-$TODAY.log] ~ ^\S+ invalid:\$LATEST viewer-request ${header:x-edgefn-request-id} .*\b99\b
--- log ~ \[warn\] [^\n]*${header:x-edgefn-request-id}[^\n]*502[^\n]*function "invalid"

=== a status above 599 is a 502
--- run
curl -sS -i 'http://127.0.0.1:$PORT/bad/status-high'
--- status: 502
--- body ~ \A502 Bad Gateway: function "invalid" \(viewer-request\) [^\n]*\b600\b[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- body !~ too high

=== setting transfer-encoding on the request is a 502
--- run
curl -sS -i 'http://127.0.0.1:$PORT/bad/transfer-encoding'
--- status: 502
--- body ~ \A502 Bad Gateway: function "invalid" \(viewer-request\) [^\n]*transfer-encoding[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/invalid-$TODAY.log] ~ ^\S+ invalid:\$LATEST viewer-request ${header:x-edgefn-request-id} .*transfer-encoding

=== a generated response with connection is a 502
--- run
curl -sS -i 'http://127.0.0.1:$PORT/bad/connection'
--- status: 502
--- body ~ \A502 Bad Gateway: function "invalid" \(viewer-request\) [^\n]*connection[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== a generated response with a proxy-* header is a 502
--- run
curl -sS -i 'http://127.0.0.1:$PORT/bad/proxy'
--- status: 502
--- body ~ \A502 Bad Gateway: function "invalid" \(viewer-request\) [^\n]*proxy-authenticate[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== a function cannot forge x-edgefn-* headers: 502
--- run
curl -sS -i 'http://127.0.0.1:$PORT/bad/own-header'
--- status: 502
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- body ~ \A502 Bad Gateway: function "invalid" \(viewer-request\) [^\n]*x-edgefn-request-id[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== a body on a 204 is a 502
--- run
curl -sS -i 'http://127.0.0.1:$PORT/bad/body-on-204'
--- status: 502
--- body ~ \A502 Bad Gateway: function "invalid" \(viewer-request\) [^\n]*204[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/invalid-$TODAY.log] ~ ^\S+ invalid:\$LATEST viewer-request ${header:x-edgefn-request-id} .*204

=== changing the method is a 502
--- run
curl -sS -i 'http://127.0.0.1:$PORT/bad/method'
--- status: 502
--- body ~ \A502 Bad Gateway: function "invalid" \(viewer-request\) [^\n]*method[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/invalid-$TODAY.log] ~ ^\S+ invalid:\$LATEST viewer-request ${header:x-edgefn-request-id} .*method

=== returning nothing is a 502
--- run
curl -sS -i 'http://127.0.0.1:$PORT/bad/nothing'
--- status: 502
--- body ~ \A502 Bad Gateway: function "invalid" \(viewer-request\) [^\n]*\bnil\b[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== returning a string is a 502
--- run
curl -sS -i 'http://127.0.0.1:$PORT/bad/string'
--- status: 502
--- body ~ \A502 Bad Gateway: function "invalid" \(viewer-request\) [^\n]*\bstring\b[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== after invalid results the same function answers its next request normally
--- run
for p in status transfer-encoding method nothing; do curl -sS -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$PORT/bad/$p"; done
curl -sS -i 'http://127.0.0.1:$PORT/bad/fine'
--- stdout ~ \A502\n502\n502\n502\n
--- status: 200
--- body ~ "path": "/echo/after-invalid"

=== origin-response setting upgrade is a 502, and the origin's large body is not sent
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/bytes/2000000'
--- status: 502
--- body ~ \A502 Bad Gateway: function "bad-ores" \(origin-response\) [^\n]*upgrade[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z
--- log[flogs/bad-ores-$TODAY.log] ~ ^\S+ bad-ores:\$LATEST origin-response ${header:x-edgefn-request-id} .*upgrade

=== viewer-response does not run on the 502 of a failed origin-response function, but runs otherwise
--- run
curl -sS -o /dev/null -D - 'http://127.0.0.1:$PORT/bytes/10?ok=1' | grep -i '^x-viewer-response-ran' >&2
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/bytes/2000'
--- stderr ~ (?i)^x-viewer-response-ran: yes
--- status: 502
--- no-header: x-viewer-response-ran

=== origin-response returning the request is a 502
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/bytes/1000?request=1'
--- status: 502
--- body ~ \A502 Bad Gateway: function "bad-ores" \(origin-response\) [^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== HTTP/2: the 502 of an origin-response function, and a request on the same connection after it
--- run
# nghttp, not curl: curl 7.88 fails a second h2c request on a reused connection
timeout 10 nghttp -ns 'http://127.0.0.1:$PORT/bytes/2000000' 'http://127.0.0.1:$PORT/bytes/300000?ok=1'
--- stdout ~ (?m)^\s*\d+\s+\S+\s+\S+\s+\S+\s+502\s+\d+ /bytes/2000000$
--- stdout ~ (?m)^\s*\d+\s+\S+\s+\S+\s+\S+\s+200\s+292K /bytes/300000\?ok=1$

=== after origin-response's 502 on a large body, the next request is answered in full
--- run
curl -sS --max-time 10 -o /dev/null -w '%{http_code}\n' 'http://127.0.0.1:$PORT/bytes/2000000'
curl -sS --max-time 10 -o /dev/null -w '%{http_code} %{size_download}\n' 'http://127.0.0.1:$PORT/bytes/300000?ok=1'
--- stdout
502
200 300000

=== HTTP/1.1: the client connection stays usable after origin-response's 502
--- run
curl -sS --max-time 10 -w '%{http_code} %{num_connects}\n' -o first.out 'http://127.0.0.1:$PORT/bytes/2000000' \
  -o second.out 'http://127.0.0.1:$PORT/bytes/300000?ok=1'
echo "second body: $(wc -c < second.out) bytes"
--- stdout
502 1
200 0
second body: 300000 bytes

=== HTTP/2: a runtime error and a CPU budget are 503s with the same bodies
--- run
curl -sS -i --http2-prior-knowledge --max-time 10 'http://127.0.0.1:$PORT/err/boom' >&2
curl -sS -i --http2-prior-knowledge --max-time 10 'http://127.0.0.1:$PORT/err/spin'
--- stderr ~ \AHTTP/2 503
--- stderr ~ 503 Service Unavailable: function "boom" \(viewer-request\)
--- stdout ~ \AHTTP/2 503
--- body ~ \A503 Service Unavailable: function "spin" \(viewer-request\) [^\n]*CPU budget[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== while a function loops on every request, requests to another behavior keep being answered
--- timeout: 60
--- run
url=http://127.0.0.1:$PORT
# 4 clients, each sending 10 requests to the looping function (50ms of CPU each)
for c in 1 2 3 4; do
  (for i in $(seq 10); do curl -sS -o /dev/null -w '%{http_code}\n' --max-time 10 $url/err/spin; done > looped.$c) &
done
sleep 0.2
for i in $(seq 20); do curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 10 $url/echo/other; done > other.txt
wait
echo "looping: $(cat looped.* | sort | uniq -c | xargs)"
echo "others: $(cut -d' ' -f1 other.txt | sort | uniq -c | xargs)"
slowest=$(cut -d' ' -f2 other.txt | sort -n | tail -1)
echo "the slowest other request took ${slowest}s"
awk -v t=$slowest 'BEGIN { exit !(t < 2.0) }' && echo "under 2s"
--- stdout ~ looping: 40 503\n
--- stdout ~ others: 20 200\n
--- stdout ~ under 2s

=== with threads: 2, many looping requests in parallel do not stop others
--- timeout: 60
--- config
threads: 2
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
function-logs: flogs
functions:
  spin: { runtime: lua, code: spin.lua, timeout: 50ms }
behaviors:
  - path: /err/spin*
    origin: app
    viewer-request: spin
  - path: /echo*
    origin: app
--- run
url=http://127.0.0.1:$PORT
# 8 clients, each sending 8 requests to the looping function
for c in 1 2 3 4 5 6 7 8; do
  (for i in $(seq 8); do curl -sS -o /dev/null -w '%{http_code}\n' --max-time 10 $url/err/spin; done > looped2.$c) &
done
sleep 0.2
for i in $(seq 20); do curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 10 $url/echo/other2; done > other2.txt
wait
echo "looping: $(cat looped2.* | sort | uniq -c | xargs)"
echo "others: $(cut -d' ' -f1 other2.txt | sort | uniq -c | xargs)"
slowest=$(cut -d' ' -f2 other2.txt | sort -n | tail -1)
echo "the slowest other request took ${slowest}s"
awk -v t=$slowest 'BEGIN { exit !(t < 2.0) }' && echo "under 2s"
curl -sS -i --max-time 10 $url/err/spin?ok=1
--- stdout ~ looping: 64 503\n
--- stdout ~ others: 20 200\n
--- stdout ~ under 2s
--- status: 200
--- body ~ "path": "/echo/after-spin\?ok=1"
