# functions-viewer.t: what functions see of the viewer beyond the request line: the
# host header (h2o keeps Host and :authority apart from the other headers), and the
# scheme as cloudfront-forwarded-proto, which viewers cannot forge and origins never
# get. A function that changes the host changes what a preserve-host origin is sent.

--- setup
mkdir -p fn
cat > fn/viewer.lua <<'LUA'
function handler(event)
    local h = event.request.headers
    return {
        statusCode = 200,
        headers = {
            ["x-host"] = { value = h.host and h.host.value or "(none)" },
            ["x-proto"] = { value = h["cloudfront-forwarded-proto"] and h["cloudfront-forwarded-proto"].value or "(none)" },
        },
    }
end
LUA
cat > fn/rehost.lua <<'LUA'
function handler(event)
    local req = event.request
    req.headers.host = { value = "rewritten.example" }
    return req
end
LUA
cat > fn/touch.lua <<'LUA'
function handler(event)
    event.request.headers["x-touched"] = { value = "yes" }
    return event.request
end
LUA
cat > fn/seed.lua <<'LUA'
function handler(event)
    if event.request.uri == "/seed" then
        math.randomseed(42)
    end
    return { statusCode = 200, body = tostring(math.random(1000000000)) }
end
LUA

--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
  - port: $TLS_PORT
    address: 127.0.0.1
    tls: { certificate: $CERT, key: $KEY }
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT/echo" }
  kept: { url: "http://127.0.0.1:$ORIGIN_PORT/echo", preserve-host: true }
functions:
  viewer: { runtime: lua, code: fn/viewer.lua }
  rehost: { runtime: lua, code: fn/rehost.lua }
  touch: { runtime: lua, code: fn/touch.lua }
  seed: { runtime: lua, code: fn/seed.lua }
behaviors:
  - path: /viewer/*
    origin: app
    viewer-request: viewer
  - path: /kept/*
    origin: kept
    viewer-request: rehost
  - path: /touched/*
    origin: app
    origin-request: touch
  - path: /seed*
    origin: app
    viewer-request: seed
  - path: /*
    origin: app

=== a function sees the viewer's Host as the host header (HTTP/1.1)
--- run
curl -sS -i http://127.0.0.1:$PORT/viewer/x -H 'Host: shop.example'
--- status: 200
--- header: x-host: shop.example
--- header: x-proto: http

=== a function sees :authority as the host header (HTTP/2)
--- run
curl -sS -i --http2-prior-knowledge http://127.0.0.1:$PORT/viewer/x
--- status: 200
--- header: x-host: 127.0.0.1:$PORT

=== over TLS the scheme is https
--- run
curl -sS -i -k https://127.0.0.1:$TLS_PORT/viewer/x
--- status: 200
--- header: x-proto: https

=== a viewer cannot forge cloudfront-forwarded-proto
--- run
curl -sS -i http://127.0.0.1:$PORT/viewer/x -H 'CloudFront-Forwarded-Proto: https'
--- status: 200
--- header: x-proto: http

=== the origin gets neither edgefn's cloudfront-forwarded-proto nor a second host
--- run
curl -sS -i http://127.0.0.1:$PORT/touched/echo -H 'CloudFront-Forwarded-Proto: https'
--- status: 200
--- body ~ "x-touched": "yes"
--- body !~ (?i)cloudfront-forwarded-proto
--- body ~ "host": "127\.0\.0\.1:$ORIGIN_PORT"

=== a changed host header is what a preserve-host origin is sent
--- run
curl -sS -i http://127.0.0.1:$PORT/kept/echo -H 'Host: original.example'
--- status: 200
--- body ~ "host": "rewritten\.example"

=== math.randomseed in one request does not make the next requests' numbers predictable
--- run
a=$(curl -sS http://127.0.0.1:$PORT/seed; echo; curl -sS http://127.0.0.1:$PORT/seed2)
b=$(curl -sS http://127.0.0.1:$PORT/seed; echo; curl -sS http://127.0.0.1:$PORT/seed2)
echo "$a" | tr '\n' ' '; echo
echo "$b" | tr '\n' ' '; echo
[ "$a" != "$b" ] && echo differ
--- stdout ~ (?m)^differ$
