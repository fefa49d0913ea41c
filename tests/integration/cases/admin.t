# admin.t: the admin listener. GET /health answers {"status":"ok"}. With a
# token-file, requests need `Authorization: Bearer <token>` (the file's content
# without its trailing newline); otherwise they get a 401 with a www-authenticate
# Bearer challenge.
--- setup
printf 's3cret-token\n' > admin.token
--- config
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

=== /health with the right token is a 200 with status ok
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/health
--- status: 200
--- header: content-type ~ ^application/json
--- body ~ \A\{\s*"status"\s*:\s*"ok"\s*\}\s*\Z

=== /health without a token is a 401 with a Bearer challenge
--- run
curl -sS -i http://127.0.0.1:$ADMIN_PORT/health
--- status: 401
--- header: www-authenticate ~ ^Bearer
--- body !~ "ok"

=== /health with a wrong token is a 401
--- run
curl -sS -i -H 'Authorization: Bearer wrong-token' http://127.0.0.1:$ADMIN_PORT/health
--- status: 401
--- header: www-authenticate ~ ^Bearer

=== a token that is only a prefix of the right one is a 401
--- run
curl -sS -i -H 'Authorization: Bearer s3cret' http://127.0.0.1:$ADMIN_PORT/health
--- status: 401

=== the token under another scheme is a 401
--- run
curl -sS -i -H 'Authorization: Basic s3cret-token' http://127.0.0.1:$ADMIN_PORT/health
--- status: 401

=== an unknown admin path is a 404
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$ADMIN_PORT/no-such-endpoint
--- status: 404

=== the admin endpoints are not on the public listener
--- run
curl -sS -i -H 'Authorization: Bearer s3cret-token' http://127.0.0.1:$PORT/health
--- status: 404
--- body ~ no behavior matches /health

=== the public listener still proxies
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/public
--- status: 200
--- body ~ "path": "/echo/public"

=== without token-file, /health needs no token
--- config
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
curl -sS -i http://127.0.0.1:$ADMIN_PORT/health
--- status: 200
--- body ~ \A\{\s*"status"\s*:\s*"ok"\s*\}\s*\Z
