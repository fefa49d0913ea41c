# tls.t: a tls listener serves HTTP/1.1 and HTTP/2, chosen by ALPN, with the
# configured certificate; a plain listener runs beside it.
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
  - port: $TLS_PORT
    address: 127.0.0.1
    tls:
      certificate: $CERT
      key: $KEY
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app

=== HTTP/1.1 over TLS
--- run
curl -sS -i -k --http1.1 https://127.0.0.1:$TLS_PORT/echo/tls1
--- stdout ~ \AHTTP/1\.1 200
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- body ~ "path": "/echo/tls1"
--- body ~ "x-forwarded-proto": "https"

=== HTTP/2 over TLS
--- run
curl -sS -i -k --http2 https://127.0.0.1:$TLS_PORT/echo/tls2
--- stdout ~ \AHTTP/2 200
--- body ~ "path": "/echo/tls2"
--- body ~ "x-forwarded-proto": "https"

=== HTTP/1.1 over TLS without ALPN
--- run
curl -sS -i -k --http1.1 --no-alpn https://127.0.0.1:$TLS_PORT/echo/noalpn
--- stdout ~ \AHTTP/1\.1 200
--- body ~ "path": "/echo/noalpn"

=== the configured certificate is served (verified, no -k)
--- run
curl -sS -i --cacert $CERT --resolve localhost:$TLS_PORT:127.0.0.1 https://localhost:$TLS_PORT/echo/verified
--- status: 200
--- body ~ "path": "/echo/verified"

=== ALPN offers h2 and http/1.1
--- run
for proto in h2 http/1.1; do
    timeout 10 openssl s_client -connect 127.0.0.1:$TLS_PORT -servername localhost -alpn $proto < /dev/null 2>/dev/null \
        | grep -E '^ALPN protocol|^No ALPN'
done
--- stdout
ALPN protocol: h2
ALPN protocol: http/1.1

=== the plain listener still speaks plain HTTP
--- run
curl -sS -i http://127.0.0.1:$PORT/echo/plain
--- status: 200
--- body ~ "x-forwarded-proto": "http"

=== h2load over TLS: 100 requests, none fail
--- run
h2load -n 100 -c 2 -m 10 https://127.0.0.1:$TLS_PORT/echo/tlsload
--- stdout ~ Application protocol: h2
--- stdout ~ requests: 100 total, 100 started, 100 done, 100 succeeded, 0 failed, 0 errored, 0 timeout

=== a 20 MB body over TLS arrives byte-identical
--- run
direct=$(curl -sS http://127.0.0.1:$ORIGIN_PORT/bytes/20971520 | sha256sum | cut -c1-64)
proxied=$(curl -sS -k --http2 https://127.0.0.1:$TLS_PORT/bytes/20971520 | sha256sum | cut -c1-64)
echo "direct $direct proxied $proxied"
[ "$direct" = "$proxied" ] && echo identical
--- stdout ~ (?m)^identical$

=== plain HTTP sent to the TLS port fails fast instead of hanging
--- run
# either the connection fails, or a 400 says why; never a 200, never a hang (curl's 28)
curl -sS --max-time 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:$TLS_PORT/echo/x
echo " curl exit $?"
--- stdout ~ ^(000 curl exit (?!28$)\d+|400 curl exit 0)$
