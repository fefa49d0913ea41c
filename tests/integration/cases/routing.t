# routing.t: behaviors are tried in order and the first whose path pattern matches
# wins. Patterns follow CloudFront: `*` matches any run of characters (slashes
# included), `?` exactly one, everything else literally and case-sensitively. They are
# matched against the path without the query. Each origin prefixes a different
# /echo/X path, so the echoed path shows which behavior matched.
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  a: { url: "http://127.0.0.1:$ORIGIN_PORT/echo/a" }
  b: { url: "http://127.0.0.1:$ORIGIN_PORT/echo/b" }
  c: { url: "http://127.0.0.1:$ORIGIN_PORT/echo/c" }
  d: { url: "http://127.0.0.1:$ORIGIN_PORT/echo/d" }
  e: { url: "http://127.0.0.1:$ORIGIN_PORT/echo/e" }
behaviors:
  - path: /api/special/*
    origin: b
  - path: /api/*
    origin: a
  - path: /api/never
    origin: e
  - path: /img/*.jpg
    origin: c
  - path: /v?/x
    origin: d
  - path: /exact
    origin: e

=== /api/* matches a path below /api/
--- run
curl -sS -i http://127.0.0.1:$PORT/api/users/1
--- status: 200
--- body ~ "path": "/echo/a/api/users/1"

=== an earlier, more specific behavior wins
--- run
curl -sS -i http://127.0.0.1:$PORT/api/special/x
--- status: 200
--- body ~ "path": "/echo/b/api/special/x"

=== a later behavior never sees what an earlier one matched
--- run
curl -sS -i http://127.0.0.1:$PORT/api/never
--- status: 200
--- body ~ "path": "/echo/a/api/never"

=== * matches across slashes
--- run
curl -sS -i http://127.0.0.1:$PORT/img/2024/01/cat.jpg
--- status: 200
--- body ~ "path": "/echo/c/img/2024/01/cat\.jpg"

=== a pattern with a suffix does not match another suffix
--- run
curl -sS -i http://127.0.0.1:$PORT/img/cat.png
--- status: 404
--- body ~ no behavior matches /img/cat\.png

=== ? matches exactly one character
--- run
for p in /v1/x /v10/x /v/x; do
    printf '%s %s\n' $p "$(curl -sS -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT$p)"
done
--- stdout
/v1/x 200
/v10/x 404
/v/x 404

=== an exact pattern matches only that path, whatever the query
--- run
for p in '/exact' '/exact?q=1' '/exact/more' '/exactly'; do
    printf '%s %s\n' "$p" "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$p")"
done
curl -sS -i 'http://127.0.0.1:$PORT/exact?q=/api/x'
--- stdout ~ \A/exact 200\n/exact\?q=1 200\n/exact/more 404\n/exactly 404\n
--- status: 200
--- body ~ "path": "/echo/e/exact\?q=/api/x"

=== the query string is not part of the match
--- run
curl -sS -i 'http://127.0.0.1:$PORT/nothing?path=/api/x'
--- status: 404

=== patterns are case-sensitive
--- run
curl -sS -i http://127.0.0.1:$PORT/API/users
--- status: 404
--- body ~ no behavior matches /API/users

=== /api/* does not match /apix
--- run
curl -sS -i http://127.0.0.1:$PORT/apix
--- status: 404

=== a * behavior catches everything the others did not
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  a: { url: "http://127.0.0.1:$ORIGIN_PORT/echo/a" }
  e: { url: "http://127.0.0.1:$ORIGIN_PORT/echo/e" }
behaviors:
  - path: /only/*
    origin: a
  - path: "*"
    origin: e
--- run
curl -sS -o /dev/null -w '%{http_code}\n' http://127.0.0.1:$PORT/only/x
curl -sS -i http://127.0.0.1:$PORT/anything/else
--- stdout ~ \A200\n
--- status: 200
--- body ~ "path": "/echo/e/anything/else"
