# functions.t: Lua functions on the four hooks, seen from curl, with CloudFront
# Functions semantics. A viewer-request function changes the request the origin gets
# (/echo shows what it got) or answers by itself: then the origin is not asked and no
# other function runs. An origin-request answer skips the origin and origin-response,
# but viewer-response runs. origin-response and viewer-response change the status,
# headers, cookies and the body (with a Content-Length that fits it). No function runs
# on edgefn's own errors. Also the event (cookies, query, context, viewer), require and
# crypto, and the function log lines.
--- setup
# viewer-request: a header added, one deleted, the uri rewritten; the query changed under /vr/qs
cat > rewrite.lua <<'LUA'
function handler(event)
  local request = event.request
  request.headers["x-added-by-edge"] = {value = "rewrite"}
  request.headers["x-secret"] = nil
  request.headers["x-multi"] = {value = "one", multiValue = {{value = "one"}, {value = "two"}}}
  if request.headers["user-agent"] ~= nil then
    request.headers["user-agent"].value = "edge-rewritten"
  end
  request.headers["x-method-seen"] = {value = request.method}
  request.uri = "/echo/rewritten" .. request.uri:sub(4)
  if request.uri:sub(1, 18) == "/echo/rewritten/qs" then
    local qs = request.querystring
    qs.lang = {value = "en"}
    qs.drop = nil
    qs.added = {value = "yes"}
    qs.tag = {value = "a", multiValue = {{value = "a"}, {value = "b"}}}
  end
  if request.uri == "/echo/rewritten/cookies" then
    local cookies = request.cookies
    cookies.tracking = nil
    cookies.edge = {value = "1"}
    cookies.theme = {value = "light"}
  end
  return request
end
LUA
# viewer-request: a redirect
cat > redirect.lua <<'LUA'
function handler(event)
  return {
    statusCode = 301,
    statusDescription = "Moved Permanently",
    headers = {location = {value = "https://www.example.com" .. event.request.uri}},
    cookies = {visited = {value = "yes", attributes = "Path=/; Max-Age=60"}},
  }
end
LUA
# viewer-request: basic auth answering 401, or the request goes on to /echo
cat > basic-auth.lua <<'LUA'
function handler(event)
  local request = event.request
  local auth = request.headers.authorization
  if auth == nil or auth.value ~= "Basic " .. base64.encode("user:pass") then
    return {
      statusCode = 401,
      statusDescription = "Unauthorized",
      headers = {
        ["www-authenticate"] = {value = 'Basic realm="edge"'},
        ["content-type"] = {value = "text/plain"},
      },
      body = "authentication required\n",
    }
  end
  request.uri = "/echo" .. request.uri
  return request
end
LUA
# origin-request: answers /oreq/answer itself; otherwise adds a header and goes to /echo
cat > origin-req.lua <<'LUA'
function handler(event)
  local request = event.request
  if request.uri == "/oreq/answer" then
    return {
      statusCode = 200,
      statusDescription = "OK",
      headers = {["content-type"] = {value = "text/plain"}, ["x-answered-at"] = {value = event.context.eventType}},
      body = "answered at origin-request\n",
    }
  end
  request.headers["x-from-origin-request"] = {value = event.context.eventType}
  request.uri = "/echo" .. request.uri
  return request
end
LUA
# origin-response: 404 -> 200 with a body, 200 -> 418, /bytes/*?replace=1 bodies replaced
cat > origin-res.lua <<'LUA'
function handler(event)
  local request, response = event.request, event.response
  response.headers["x-origin-status"] = {value = tostring(response.statusCode)}
  response.headers["x-internal"] = nil
  if response.statusCode == 404 then
    response.statusCode = 200
    response.statusDescription = "OK"
    response.body = "found after all\n"
  elseif request.uri == "/status/200" then
    response.statusCode = 418
    response.statusDescription = "I'm a teapot"
    response.body = {encoding = "text", data = "short and stout\n"}
  elseif request.uri:sub(1, 7) == "/bytes/" and request.querystring.replace ~= nil then
    response.body = {encoding = "base64", data = "cmVwbGFjZWQgYm9keQo="}
  end
  return response
end
LUA
# response hooks: say that the hook ran, and the status it saw
cat > mark.lua <<'LUA'
function handler(event)
  local response = event.response
  local hook = event.context.eventType
  response.headers["x-" .. hook .. "-ran"] = {value = "saw " .. response.statusCode}
  return response
end
LUA
# viewer-response: security headers, a cookie with attributes, a status change on demand
cat > security-headers.lua <<'LUA'
function handler(event)
  local response = event.response
  local headers = response.headers
  headers["strict-transport-security"] = {value = "max-age=63072000; includeSubDomains; preload"}
  headers["x-content-type-options"] = {value = "nosniff"}
  headers["x-frame-options"] = {value = "DENY"}
  headers["content-security-policy"] = {value = "default-src 'self'"}
  response.cookies["session"] = {value = "s3cr3t", attributes = "Secure; HttpOnly; Path=/; Max-Age=3600"}
  headers["x-multi"] = {value = "a", multiValue = {{value = "a"}, {value = "b"}}}
  if headers["x-replace-body"] ~= nil then
    headers["x-replace-body"] = nil
    response.body = "replaced by viewer-response\n"
  end
  local want = headers["x-set-status"]
  if want ~= nil then
    response.statusCode = tonumber(want.value)
    response.statusDescription = "Changed"
    headers["x-set-status"] = nil
  end
  return response
end
LUA
# all four hooks: each leaves its eventType and requestId where the client can see it
cat > every-hook.lua <<'LUA'
function handler(event)
  local hook, id = event.context.eventType, event.context.requestId
  if hook == "viewer-request" or hook == "origin-request" then
    local request = event.request
    request.headers["x-" .. hook .. "-type"] = {value = hook}
    request.headers["x-" .. hook .. "-id"] = {value = id}
    if hook == "viewer-request" then
      request.uri = "/echo" .. request.uri
    end
    return request
  end
  local response = event.response
  response.headers["x-" .. hook .. "-type"] = {value = hook}
  response.headers["x-" .. hook .. "-id"] = {value = id}
  return response
end
LUA
# viewer-request: answers with what it read from the event
cat > inspect.lua <<'LUA'
function handler(event)
  local request = event.request
  local qs, cookies = request.querystring, request.cookies
  local tags = {}
  if qs.tag ~= nil then
    if qs.tag.multiValue ~= nil then
      for _, v in ipairs(qs.tag.multiValue) do
        tags[#tags + 1] = v.value
      end
    else
      tags[1] = qs.tag.value
    end
  end
  return {
    statusCode = 200,
    headers = {
      ["content-type"] = {value = "text/plain"},
      ["x-event-type"] = {value = event.context.eventType},
      ["x-request-id-seen"] = {value = event.context.requestId},
      ["x-viewer-ip"] = {value = event.viewer.ip},
      ["x-method"] = {value = request.method},
      ["x-session"] = {value = cookies.session ~= nil and cookies.session.value or "none"},
      ["x-theme"] = {value = cookies.theme ~= nil and cookies.theme.value or "none"},
      ["x-lang"] = {value = qs.lang ~= nil and qs.lang.value or "none"},
      ["x-tags"] = {value = table.concat(tags, ",")},
    },
    body = "inspected\n",
  }
end
LUA
# a code directory: index.lua requires verify.lua, which checks an HMAC-signed URL
mkdir -p signed
cat > signed/index.lua <<'LUA'
local verify = require("verify")

function handler(event)
  local request = event.request
  local ok, why = verify.check(request.uri, request.querystring)
  if not ok then
    return {
      statusCode = 403,
      statusDescription = "Forbidden",
      headers = {["content-type"] = {value = "text/plain"}},
      body = why .. "\n",
    }
  end
  request.uri = "/echo" .. request.uri
  request.querystring = {}
  return request
end
LUA
cat > signed/verify.lua <<'LUA'
local M = {}
local KEY = "edge-secret"

function M.check(uri, qs)
  if qs.expires == nil or qs.sig == nil then
    return false, "missing signature"
  end
  local expires = tonumber(qs.expires.value)
  if expires == nil or expires < now() then
    return false, "link expired"
  end
  local want = crypto.hmac("sha256", KEY, uri .. "?expires=" .. qs.expires.value, "hex")
  if not crypto.equals(want, qs.sig.value) then
    return false, "bad signature"
  end
  return true
end

return M
LUA
# logs
cat > logger.lua <<'LUA'
function handler(event)
  console.log("hello from logger")
  print("uri", event.request.uri)
  event.request.uri = "/echo" .. event.request.uri
  return event.request
end
LUA
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
  dead: { url: "http://127.0.0.1:$DEAD_PORT", connect-timeout: 2s }
functions:
  rewrite: { runtime: lua, code: rewrite.lua }
  redirect: { runtime: lua, code: redirect.lua }
  basic-auth: { runtime: lua, code: basic-auth.lua }
  origin-req: { runtime: lua, code: origin-req.lua }
  origin-res: { runtime: lua, code: origin-res.lua }
  mark-ores: { runtime: lua, code: mark.lua }
  mark-vres: { runtime: lua, code: mark.lua }
  security-headers: { runtime: lua, code: security-headers.lua }
  every-hook: { runtime: lua, code: every-hook.lua }
  inspect: { runtime: lua, code: inspect.lua }
  signed: { runtime: lua, code: signed/ }
  logger: { runtime: lua, code: logger.lua }
behaviors:
  - path: /vr/*
    origin: app
    viewer-request: rewrite
  - path: /redirect/*
    origin: app
    viewer-request: redirect
    origin-response: mark-ores
    viewer-response: mark-vres
  - path: /private/*
    origin: app
    viewer-request: basic-auth
    origin-response: mark-ores
    viewer-response: mark-vres
  - path: /oreq/*
    origin: app
    origin-request: origin-req
    origin-response: mark-ores
    viewer-response: mark-vres
  - path: /status/*
    origin: app
    origin-response: origin-res
    viewer-response: mark-vres
  - path: /bytes/*
    origin: app
    origin-response: origin-res
    viewer-response: mark-vres
  - path: /headers
    origin: app
    viewer-response: security-headers
  - path: /dead/*
    origin: dead
    origin-response: mark-ores
    viewer-response: mark-vres
  - path: /hooks/*
    origin: app
    viewer-request: every-hook
    origin-request: every-hook
    origin-response: every-hook
    viewer-response: every-hook
  - path: /inspect/*
    origin: app
    viewer-request: inspect
  - path: /signed/*
    origin: app
    viewer-request: signed
  - path: /log/*
    origin: app
    viewer-request: logger

=== viewer-request adds a request header that the origin sees
--- run
curl -sS -i 'http://127.0.0.1:$PORT/vr/page'
--- status: 200
--- body ~ "x-added-by-edge": "rewrite"

=== viewer-request sets a header with several values: the origin gets them all
--- run
curl -sS -i 'http://127.0.0.1:$PORT/vr/page'
--- status: 200
--- body ~ "x-multi": "one, two"

=== viewer-request changes the value of a header the viewer sent
--- run
curl -sS -i -A 'curl-original' 'http://127.0.0.1:$PORT/vr/page'
--- status: 200
--- body ~ "user-agent": "edge-rewritten"
--- body !~ curl-original

=== a POST body passes a viewer-request function untouched, and the function sees the method
--- run
head -c 200000 /dev/urandom > post.bin
want=$(sha256sum < post.bin | cut -c1-64)
curl -sS -o post.json --data-binary @post.bin 'http://127.0.0.1:$PORT/vr/post'
got=$($PYTHON $TOOLS/jget.py method body_length body_sha256 headers.x-method-seen < post.json | tr '\n' ' ')
echo "$got"
test "$got" = "POST 200000 $want POST " && echo same
--- stdout ~ same

=== viewer-request deletes a request header before the origin sees it, and keeps the others
--- run
curl -sS -i -H 'X-Secret: s3cret' -H 'X-Keep: kept' 'http://127.0.0.1:$PORT/vr/page'
--- status: 200
--- body ~ "x-keep": "kept"
--- body !~ x-secret
--- body !~ s3cret

=== viewer-request rewrites the uri: the origin gets the new path with the query kept
--- run
curl -sS -i 'http://127.0.0.1:$PORT/vr/some/page?a=1&b=two'
--- status: 200
--- header: x-echo-path: /echo/rewritten/some/page?a=1&b=two
--- body ~ "path": "/echo/rewritten/some/page\?a=1&b=two"

=== viewer-request changes the querystring: a value changed, one deleted, one added, one repeated
--- run
curl -sS -i 'http://127.0.0.1:$PORT/vr/qs?lang=fr&drop=1&keep=k'
--- status: 200
--- header: x-echo-path ~ ^/echo/rewritten/qs\?[^?]+$
--- header: x-echo-path ~ [?&]lang=en(&|$)
--- header: x-echo-path ~ [?&]keep=k(&|$)
--- header: x-echo-path ~ [?&]added=yes(&|$)
--- header: x-echo-path ~ [?&]tag=a&tag=b(&|$)
--- header: x-echo-path !~ drop|lang=fr

=== viewer-request changes the request's cookies: one deleted, one added, one changed
--- run
curl -sS -i -b 'session=abc; tracking=xyz; theme=dark' 'http://127.0.0.1:$PORT/vr/cookies'
--- status: 200
--- body ~ "cookie": "[^"]*\bsession=abc\b
--- body ~ "cookie": "[^"]*\bedge=1\b
--- body ~ "cookie": "[^"]*\btheme=light\b
--- body !~ tracking|xyz|dark

=== viewer-request answers with a 301: the origin is not asked and no other function runs
--- run
asked() { curl -sS http://127.0.0.1:$ORIGIN_PORT/__stats | $PYTHON $TOOLS/jget.py total_requests; }
before=$(asked)
curl -sS -i 'http://127.0.0.1:$PORT/redirect/old/page?x=1' > out.txt
after=$(asked)
echo "the origin was asked $((after - before)) times"
cat out.txt
--- stdout ~ the origin was asked 0 times
--- status: 301
--- header: location: https://www.example.com/redirect/old/page
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- no-header: x-viewer-response-ran
--- no-header: x-origin-response-ran
--- header: set-cookie: visited=yes; Path=/; Max-Age=60
--- body ~ \A\Z

=== viewer-request answers with a 401, a body and www-authenticate; the origin is not asked
--- run
asked() { curl -sS http://127.0.0.1:$ORIGIN_PORT/__stats | $PYTHON $TOOLS/jget.py total_requests; }
before=$(asked)
curl -sS -i 'http://127.0.0.1:$PORT/private/report' > out.txt
after=$(asked)
echo "the origin was asked $((after - before)) times"
cat out.txt
--- stdout ~ the origin was asked 0 times
--- status: 401
--- header: www-authenticate: Basic realm="edge"
--- header: content-type: text/plain
--- header: content-length: 24
--- no-header: x-viewer-response-ran
--- body
authentication required

=== with the right credentials the same function lets the request through
--- run
curl -sS -i -u user:pass 'http://127.0.0.1:$PORT/private/report'
--- status: 200
--- body ~ "path": "/echo/private/report"
--- header: x-origin-response-ran: saw 200
--- header: x-viewer-response-ran: saw 200

=== origin-request adds a request header that the origin sees
--- run
curl -sS -i 'http://127.0.0.1:$PORT/oreq/pass?x=1'
--- status: 200
--- body ~ "path": "/echo/oreq/pass\?x=1"
--- body ~ "x-from-origin-request": "origin-request"
--- header: x-origin-response-ran: saw 200
--- header: x-viewer-response-ran: saw 200

=== origin-request answers: no origin, no origin-response, but viewer-response runs
--- run
asked() { curl -sS http://127.0.0.1:$ORIGIN_PORT/__stats | $PYTHON $TOOLS/jget.py total_requests; }
before=$(asked)
curl -sS -i 'http://127.0.0.1:$PORT/oreq/answer' > out.txt
after=$(asked)
echo "the origin was asked $((after - before)) times"
cat out.txt
--- stdout ~ the origin was asked 0 times
--- status: 200
--- header: x-answered-at: origin-request
--- header: x-viewer-response-ran: saw 200
--- no-header: x-origin-response-ran
--- header: content-length: 27
--- body
answered at origin-request

=== origin-response turns the origin's 404 into a 200 with a new body and a Content-Length that fits
--- run
curl -sS -i --http1.1 'http://127.0.0.1:$PORT/status/404'
--- status: 200
--- header: x-origin-status: 404
--- header: content-length: 16
--- body
found after all

=== viewer-response sees what origin-response made of the response
--- run
curl -sS -i 'http://127.0.0.1:$PORT/status/404'
--- status: 200
--- header: x-viewer-response-ran: saw 200

=== origin-response turns a 200 into a 418 with a new body
--- run
curl -sS -i 'http://127.0.0.1:$PORT/status/200'
--- status: 418
--- header: x-origin-status: 200
--- header: content-length: 16
--- header: x-viewer-response-ran: saw 418
--- body
short and stout

=== origin-response leaves the status alone when it does not change it, adds a header, deletes one
--- run
curl -sS -i 'http://127.0.0.1:$PORT/status/201?x-internal=secret&x-public=shown'
--- status: 201
--- header: x-origin-status: 201
--- header: x-public: shown
--- no-header: x-internal
--- header: content-length: 10
--- body: status 201

=== origin-response replaces a large chunked body; the client gets the new body with its Content-Length
--- run
curl -sS -i --http1.1 'http://127.0.0.1:$PORT/bytes/300000?chunked=1&replace=1'
--- status: 200
--- header: content-length: 14
--- no-header: transfer-encoding
--- header: content-type: application/octet-stream
--- body
replaced body

=== the connection stays usable after a replaced body (keep-alive, the next request answered)
--- run
curl -sS -o /dev/null -o /dev/null -w '%{http_code} %{size_download} %{num_connects}\n' \
  'http://127.0.0.1:$PORT/bytes/300000?replace=1' 'http://127.0.0.1:$PORT/status/201'
--- stdout
200 14 1
201 10 0

=== a large body that the response functions do not replace streams through intact
--- run
want=$(curl -sS 'http://127.0.0.1:$ORIGIN_PORT/bytes/3000000' | sha256sum | cut -c1-64)
got=$(curl -sS -D headers.txt 'http://127.0.0.1:$PORT/bytes/3000000' | sha256sum | cut -c1-64)
got2=$(curl -sS --http2-prior-knowledge 'http://127.0.0.1:$PORT/bytes/3000000?chunked=1' | sha256sum | cut -c1-64)
echo "origin $want, HTTP/1.1 $got, HTTP/2 $got2"
test "$want" = "$got" && test "$want" = "$got2" && echo same
cat headers.txt
--- stdout ~ same
--- header: x-origin-status: 200
--- header: x-viewer-response-ran: saw 200
--- header: content-length: 3000000

=== a 204 passes the response functions without a body
--- run
curl -sS -i 'http://127.0.0.1:$PORT/status/204'
--- status: 204
--- header: x-origin-status: 204
--- header: x-viewer-response-ran: saw 204
--- body ~ \A\Z

=== origin-response's replaced body over HTTP/2 has a content-length that fits
--- run
curl -sS -i --http2-prior-knowledge 'http://127.0.0.1:$PORT/bytes/300000?replace=1'
--- stdout ~ \AHTTP/2 200
--- header: content-length: 14
--- body
replaced body

=== HEAD: origin-response's replaced body is not sent, its length is
--- run
curl -sS -I 'http://127.0.0.1:$PORT/bytes/300000?replace=1'
--- status: 200
--- header: content-length: 14
--- body ~ \A\Z

=== HEAD over HTTP/2: no body either
--- run
curl -sS -I --http2-prior-knowledge 'http://127.0.0.1:$PORT/status/404'
--- stdout ~ \AHTTP/2 200
--- header: content-length: 16
--- body ~ \A\Z

=== viewer-response adds security headers
--- run
curl -sS -i 'http://127.0.0.1:$PORT/headers'
--- status: 200
--- header: strict-transport-security: max-age=63072000; includeSubDomains; preload
--- header: x-content-type-options: nosniff
--- header: x-frame-options: DENY
--- header: content-security-policy: default-src 'self'
--- body: ok

=== viewer-response sets a cookie with attributes, and the origin's cookie stays
--- run
curl -sS -i 'http://127.0.0.1:$PORT/headers?set-cookie=theme%3Ddark'
--- status: 200
--- stdout ~ (?mi)^set-cookie: session=s3cr3t; Secure; HttpOnly; Path=/; Max-Age=3600\r?$
--- stdout ~ (?mi)^set-cookie: theme=dark\r?$

=== viewer-response sets a header with several values
--- run
curl -sS -i 'http://127.0.0.1:$PORT/headers'
--- status: 200
--- stdout ~ (?mis)^x-multi: a\r?$.*^x-multi: b\r?$

=== viewer-response replaces the body, with a Content-Length that fits
--- run
curl -sS -i 'http://127.0.0.1:$PORT/headers?x-replace-body=1'
--- status: 200
--- header: content-length: 28
--- no-header: x-replace-body
--- body
replaced by viewer-response

=== viewer-response changes the status
--- run
curl -sS -i --http1.1 'http://127.0.0.1:$PORT/headers?x-set-status=299'
--- status: 299
--- stdout ~ \AHTTP/1\.1 299 Changed\r\n
--- no-header: x-set-status
--- header: x-frame-options: DENY

=== viewer-response runs on an origin's own 503 (it is not edgefn's error)
--- run
curl -sS -i 'http://127.0.0.1:$PORT/status/503'
--- status: 503
--- header: x-origin-status: 503
--- header: x-viewer-response-ran: saw 503
--- body: status 503

=== no function runs on edgefn's own 502 (a dead origin)
--- run
curl -sS -i 'http://127.0.0.1:$PORT/dead/x'
--- status: 502
--- no-header: x-viewer-response-ran
--- no-header: x-origin-response-ran
--- body ~ \A502 Bad Gateway: [^\n]*refused[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== no function runs on edgefn's own 404 (no behavior matches)
--- run
curl -sS -i 'http://127.0.0.1:$PORT/nothing/here'
--- status: 404
--- no-header: x-viewer-response-ran
--- body ~ \A404 Not Found: [^\n]*no behavior matches /nothing/here[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== each hook sees its own eventType, and the request id of the response
--- run
curl -sS -i 'http://127.0.0.1:$PORT/hooks/x'
--- status: 200
--- body ~ "path": "/echo/hooks/x"
--- body ~ "x-viewer-request-type": "viewer-request"
--- body ~ "x-origin-request-type": "origin-request"
--- body ~ "x-viewer-request-id": "${header:x-edgefn-request-id}"
--- body ~ "x-origin-request-id": "${header:x-edgefn-request-id}"
--- header: x-origin-response-type: origin-response
--- header: x-viewer-response-type: viewer-response
--- header: x-origin-response-id: ${header:x-edgefn-request-id}
--- header: x-viewer-response-id: ${header:x-edgefn-request-id}

=== request cookies, query values (multiValue), method, viewer ip and requestId in the event
--- run
curl -sS -i -b 'session=abc123; theme=dark' 'http://127.0.0.1:$PORT/inspect/x?tag=red&lang=en&tag=blue'
--- status: 200
--- header: x-event-type: viewer-request
--- header: x-request-id-seen: ${header:x-edgefn-request-id}
--- header: x-viewer-ip: 127.0.0.1
--- header: x-method: GET
--- header: x-session: abc123
--- header: x-theme: dark
--- header: x-lang: en
--- header: x-tags: red,blue
--- body
inspected

=== a single query value has no multiValue
--- run
curl -sS -i 'http://127.0.0.1:$PORT/inspect/x?tag=solo'
--- status: 200
--- header: x-tags: solo
--- header: x-session: none

=== HEAD reaches a function as HEAD
--- run
curl -sS -I 'http://127.0.0.1:$PORT/inspect/x'
--- status: 200
--- header: x-method: HEAD
--- header: content-length: 10
--- body ~ \A\Z

=== a signed URL (HMAC-SHA256, checked by a required module) is let through, without its signature
--- run
sig=$(printf '%s' '/signed/file.txt?expires=4102444800' | openssl dgst -sha256 -hmac edge-secret | sed 's/^.*= //')
curl -sS -i "http://127.0.0.1:$PORT/signed/file.txt?expires=4102444800&sig=$sig"
--- status: 200
--- body ~ "path": "/echo/signed/file\.txt"

=== a signed URL with a tampered path is refused
--- run
sig=$(printf '%s' '/signed/file.txt?expires=4102444800' | openssl dgst -sha256 -hmac edge-secret | sed 's/^.*= //')
curl -sS -i "http://127.0.0.1:$PORT/signed/other.txt?expires=4102444800&sig=$sig"
--- status: 403
--- body
bad signature

=== an expired signed URL is refused
--- run
sig=$(printf '%s' '/signed/file.txt?expires=1000000000' | openssl dgst -sha256 -hmac edge-secret | sed 's/^.*= //')
curl -sS -i "http://127.0.0.1:$PORT/signed/file.txt?expires=1000000000&sig=$sig"
--- status: 403
--- body
link expired

=== an unsigned URL is refused
--- run
curl -sS -i "http://127.0.0.1:$PORT/signed/file.txt"
--- status: 403
--- body
missing signature

=== HTTP/2: viewer-request's header changes and uri rewrite reach the origin
--- run
curl -sS -i --http2-prior-knowledge -H 'X-Secret: s3cret' 'http://127.0.0.1:$PORT/vr/h2?q=1'
--- stdout ~ \AHTTP/2 200
--- body ~ "path": "/echo/rewritten/h2\?q=1"
--- body ~ "x-added-by-edge": "rewrite"
--- body !~ x-secret

=== HTTP/2: viewer-request's redirect
--- run
curl -sS -i --http2-prior-knowledge 'http://127.0.0.1:$PORT/redirect/h2'
--- stdout ~ \AHTTP/2 301
--- header: location: https://www.example.com/redirect/h2
--- no-header: x-viewer-response-ran

=== HTTP/2: viewer-request's 401 with its body
--- run
curl -sS -i --http2-prior-knowledge 'http://127.0.0.1:$PORT/private/h2'
--- stdout ~ \AHTTP/2 401
--- header: www-authenticate: Basic realm="edge"
--- header: content-length: 24
--- body
authentication required

=== HTTP/2: origin-request's answer, with viewer-response run on it
--- run
curl -sS -i --http2-prior-knowledge 'http://127.0.0.1:$PORT/oreq/answer'
--- stdout ~ \AHTTP/2 200
--- header: x-viewer-response-ran: saw 200
--- no-header: x-origin-response-ran
--- header: content-length: 27
--- body
answered at origin-request

=== HTTP/2: viewer-response's security headers
--- run
curl -sS -i --http2-prior-knowledge 'http://127.0.0.1:$PORT/headers'
--- stdout ~ \AHTTP/2 200
--- header: x-frame-options: DENY
--- header: strict-transport-security ~ ^max-age=63072000

=== console.log and print write lines with time, function, hook and request id to stderr by default
--- run
curl -sS -i 'http://127.0.0.1:$PORT/log/one'
--- status: 200
--- body ~ "path": "/echo/log/one"
--- log ~ ^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z logger:\$LATEST viewer-request ${header:x-edgefn-request-id} hello from logger$
--- log ~ ^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z logger:\$LATEST viewer-request ${header:x-edgefn-request-id} uri\s+/log/one$

=== with function-logs: DIR the lines go to DIR/NAME-YYYY-MM-DD.log, not to stderr
--- setup
mkdir -p flogs
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
function-logs: flogs
functions:
  logger: { runtime: lua, code: logger.lua }
behaviors:
  - path: /log/*
    origin: app
    viewer-request: logger
--- run
curl -sS -i 'http://127.0.0.1:$PORT/log/two'
--- status: 200
--- log[flogs/logger-$TODAY.log] ~ ^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z logger:\$LATEST viewer-request ${header:x-edgefn-request-id} hello from logger$
--- log[flogs/logger-$TODAY.log] ~ ^\S+ logger:\$LATEST viewer-request ${header:x-edgefn-request-id} uri\s+/log/two$
--- log !~ hello from logger
