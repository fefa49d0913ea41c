# examples.t: the example functions in conf/examples/functions/ do what their
# comments say, run from where they ship ($SRC/conf/examples/functions/), against the
# test origin. The origin `echo` prepends /echo to every path, so its JSON body shows
# the path and query the origin got; `raw` does not, for the origin's /headers and
# /status endpoints. The secrets are read from the example files, so a changed
# placeholder does not break the tests.
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
  - port: $TLS_PORT
    address: 127.0.0.1
    tls: { certificate: $CERT, key: $KEY }
origins:
  echo: { url: "http://127.0.0.1:$ORIGIN_PORT/echo" }
  raw: { url: "http://127.0.0.1:$ORIGIN_PORT" }
  dead: { url: "http://127.0.0.1:$DEAD_PORT" }
functions:
  security-headers: { runtime: lua, code: $SRC/conf/examples/functions/security-headers.lua }
  redirect-https-www: { runtime: lua, code: $SRC/conf/examples/functions/redirect-https-www.lua }
  index-rewrite: { runtime: lua, code: $SRC/conf/examples/functions/index-rewrite.lua }
  ab-testing: { runtime: lua, code: $SRC/conf/examples/functions/ab-testing.lua }
  basic-auth: { runtime: lua, code: $SRC/conf/examples/functions/basic-auth.lua }
  signed-url: { runtime: lua, code: $SRC/conf/examples/functions/signed-url.lua }
  querystring-normalize: { runtime: lua, code: $SRC/conf/examples/functions/querystring-normalize.lua }
function-logs: stderr
behaviors:
  - path: /private/*
    origin: echo
    viewer-request: basic-auth
  - path: /signed/*
    origin: echo
    viewer-request: signed-url
  - path: /ab/*
    origin: echo
    viewer-request: ab-testing
    viewer-response: ab-testing
  - path: /redirect/*
    origin: echo
    viewer-request: redirect-https-www
  - path: /qs/*
    origin: echo
    viewer-request: querystring-normalize
  - path: /index/*
    origin: echo
    viewer-request: index-rewrite
  - path: /headers*
    origin: raw
    viewer-response: security-headers
  - path: /status/*
    origin: raw
    viewer-response: security-headers
  - path: /dead/*
    origin: dead
    viewer-response: security-headers
  - path: "*"
    origin: echo
    viewer-response: security-headers


=== the shipped conf/examples/functions.yaml passes edgefn check
--- run
$EDGEFN check -c $SRC/conf/examples/functions.yaml
--- exit: 0
--- stdout ~ functions\.yaml: ok

=== the shipped config serves each example from its demo pages
--- timeout: 20
--- run
# the shipped file, on test ports, with its relative paths made absolute
sed -e "s/port: 8080/port: $PORT2/" -e "s/127.0.0.1:9180/127.0.0.1:$ADMIN_PORT/" \
    -e "s#directory: demo-site#directory: $SRC/conf/examples/demo-site#" \
    -e "s#functions/#$SRC/conf/examples/functions/#g" \
    -e "s/^threads: auto/threads: 1/" -e "s/^access-log: stderr/access-log: off/" \
    $SRC/conf/examples/functions.yaml > shipped.yaml
grep -q "port: $PORT2" shipped.yaml || { echo "no port: 8080 line in functions.yaml" >&2; exit 3; }
$EDGEFN -c shipped.yaml 2> shipped.stderr &
pid=$!
for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$PORT2/ && break; sleep 0.1; done
url=http://127.0.0.1:$PORT2
code() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }
secret=$(sed -n 's/^local SECRET = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/signed-url.lua)
user=$(sed -n 's/^local USERNAME = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/basic-auth.lua)
pass=$(sed -n 's/^local PASSWORD = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/basic-auth.lua)
p=/signed/report.txt e=$(( $(date +%s) + 3600 ))
s=$(printf '%s' "$p?expires=$e" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
echo "private: $(code $url/private/) $(code -u "$user:$pass" $url/private/)"
echo "signed: $(code $url$p) $(code "$url$p?expires=$e&sig=$s")"
echo "ab: $(curl -sS $url/ab/ | grep -o '<h1>Variant [AB]</h1>')"
echo "docs: $(code $url/docs) $(curl -sS -D - -o /dev/null $url/ | grep -ic '^x-frame-options: DENY')"
echo "redirect: $(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: example.com:8080' "$url/redirect/x?a=1")"
kill -TERM $pid
wait $pid
rc=$?
cat shipped.stderr >&2 # a sanitizer build's reports, if any, fail the case
exit $rc
--- stdout ~
\Aprivate: 401 200
signed: 403 200
ab: <h1>Variant [AB]</h1>
docs: 200 1
redirect: 301 https://www\.example\.com:8443/redirect/x\?a=1
\Z


=== security-headers: adds all five headers to an origin's response
--- run
curl -sS -i http://127.0.0.1:$PORT/page
--- status: 200
--- header: strict-transport-security: max-age=63072000; includeSubDomains; preload
--- header: x-content-type-options: nosniff
--- header: x-frame-options: DENY
--- header: referrer-policy: strict-origin-when-cross-origin
--- header: content-security-policy ~ ^default-src 'self'; .*frame-ancestors 'none'$
--- body ~ "path": "/echo/page"

=== security-headers: a header the origin set is left as the origin set it
--- run
curl -sS -i "http://127.0.0.1:$PORT/headers?x-frame-options=SAMEORIGIN&content-security-policy=default-src+https:"
--- status: 200
--- header: x-frame-options: SAMEORIGIN
--- header: content-security-policy: default-src https:
--- header: x-content-type-options: nosniff
--- header: strict-transport-security ~ ^max-age=63072000
--- body: ok

=== security-headers: the origin's error pages get them too
--- run
curl -sS -i http://127.0.0.1:$PORT/status/404
--- status: 404
--- header: x-content-type-options: nosniff
--- header: x-frame-options: DENY

=== security-headers: edgefn's own error responses do not (viewer-response does not run)
--- run
curl -sS -i --max-time 10 http://127.0.0.1:$PORT/dead/x
--- status: 502
--- no-header: strict-transport-security
--- no-header: x-frame-options
--- body ~ ^502 Bad Gateway: origin "dead" refused the connection


=== redirect-https-www: plain http on 8080 goes to https on 8443 and to www, keeping path and query
--- run
curl -sS -i -H 'Host: example.com:8080' 'http://127.0.0.1:$PORT/redirect/a/b.html?x=1'
--- status: 301
--- header: location: https://www.example.com:8443/redirect/a/b.html?x=1
--- body ~ \A\Z

=== redirect-https-www: www over plain http only needs https
--- run
curl -sS -i -H 'Host: www.example.com:8080' 'http://127.0.0.1:$PORT/redirect/p'
--- status: 301
--- header: location: https://www.example.com:8443/redirect/p

=== redirect-https-www: plain http on an unlisted port goes to https on 443, and to www
--- run
curl -sS -i -H 'Host: Example.COM' 'http://127.0.0.1:$PORT/redirect/p?b=2&a=1&a=0'
--- status: 301
--- header: location: https://www.example.com/redirect/p?a=1&a=0&b=2

=== redirect-https-www: https on another port gets www and keeps its port
--- run
curl -sS -i -k -H 'Host: example.com:8443' 'https://127.0.0.1:$TLS_PORT/redirect/p'
--- status: 301
--- header: location: https://www.example.com:8443/redirect/p

=== redirect-https-www: a viewer's own cloudfront-forwarded-proto does not stop the https redirect
--- run
curl -sS -i -H 'Host: www.example.com' -H 'CloudFront-Forwarded-Proto: https' 'http://127.0.0.1:$PORT/redirect/p'
--- status: 301
--- header: location: https://www.example.com/redirect/p

=== redirect-https-www: localhost over plain http gets https, not www
--- run
curl -sS -i -H 'Host: localhost:8080' 'http://127.0.0.1:$PORT/redirect/p'
--- status: 301
--- header: location: https://localhost:8443/redirect/p

=== redirect-https-www: over HTTP/2 too (the host comes from :authority)
--- run
curl -sS -i --http2-prior-knowledge -H 'Host: example.com:8080' 'http://127.0.0.1:$PORT/redirect/h2'
--- status: 301
--- header: location: https://www.example.com:8443/redirect/h2

=== redirect-https-www: the canonical host over https reaches the origin
--- run
curl -sS -i -k -H 'Host: www.example.com' 'https://127.0.0.1:$TLS_PORT/redirect/p?x=1'
--- status: 200
--- body ~ "path": "/echo/redirect/p\?x=1"

=== redirect-https-www: an IP address over https is left alone
--- run
curl -sS -i -k 'https://127.0.0.1:$TLS_PORT/redirect/p'
--- status: 200
--- body ~ "path": "/echo/redirect/p"

=== index-rewrite: /dir/ reaches the origin as /dir/index.html
--- run
curl -sS -i 'http://127.0.0.1:$PORT/index/dir/'
--- status: 200
--- body ~ "path": "/echo/index/dir/index\.html"

=== index-rewrite: /dir without an extension reaches the origin as /dir/index.html, query kept
--- run
curl -sS -i 'http://127.0.0.1:$PORT/index/dir?q=1'
--- status: 200
--- body ~ "path": "/echo/index/dir/index\.html\?q=1"

=== index-rewrite: a file name is left as it is
--- run
curl -sS -i 'http://127.0.0.1:$PORT/index/style.css'
--- status: 200
--- body ~ "path": "/echo/index/style\.css"

=== index-rewrite: a dot in a directory name does not stop the rewrite
--- run
curl -sS -i 'http://127.0.0.1:$PORT/index/v1.2/guide'
--- status: 200
--- body ~ "path": "/echo/index/v1\.2/guide/index\.html"


=== ab-testing: a new viewer gets a variant, its URI, and a cookie naming that variant
--- run
curl -sS -i 'http://127.0.0.1:$PORT/ab/pricing.html'
--- status: 200
--- header: set-cookie ~ ^ab-variant=[ab]; Path=/; Max-Age=2592000; SameSite=Lax$
--- body ~ "path": "/echo/[ab]/pricing\.html"

=== ab-testing: over 30 new viewers, the cookie always matches the URI and both variants occur
--- run
for i in $(seq 30); do
  out=$(curl -sS -i 'http://127.0.0.1:$PORT/ab/x')
  c=$(printf '%s' "$out" | sed -n 's/^set-cookie: ab-variant=\([ab]\);.*/\1/p')
  u=$(printf '%s' "$out" | sed -n 's/.*"path": "\/echo\/\([ab]\)\/x".*/\1/p')
  echo "cookie=$c uri=$u"
done > pairs.txt
cat pairs.txt >&2
echo "mismatched: $(grep -vc -E '^cookie=(a uri=a|b uri=b)$' pairs.txt)"
echo "a: $(grep -c '^cookie=a' pairs.txt | sed 's/^[1-9][0-9]*$/some/')"
echo "b: $(grep -c '^cookie=b' pairs.txt | sed 's/^[1-9][0-9]*$/some/')"
--- stdout
mismatched: 0
a: some
b: some

=== ab-testing: a returning viewer keeps their variant and gets no new cookie
--- run
for v in a b; do
  for i in $(seq 10); do
    curl -sS -D - -H "Cookie: other=1; ab-variant=$v" 'http://127.0.0.1:$PORT/ab/x' | grep -ic '^set-cookie' >&2
    curl -sS -H "Cookie: ab-variant=$v" 'http://127.0.0.1:$PORT/ab/x'
    echo
  done | grep -o '"path": "[^"]*"' | sort | uniq -c
done
--- stdout
     10 "path": "/echo/a/x"
     10 "path": "/echo/b/x"
--- stderr !~ [1-9]

=== ab-testing: a cookie with another value counts as none: a new variant and cookie
--- run
curl -sS -i -H 'Cookie: ab-variant=c' 'http://127.0.0.1:$PORT/ab/'
--- status: 200
--- header: set-cookie ~ ^ab-variant=[ab];
--- body ~ "path": "/echo/[ab]/"


=== basic-auth: no Authorization header gets 401 with WWW-Authenticate, and no origin
--- run
curl -sS -i 'http://127.0.0.1:$PORT/private/x'
--- status: 401
--- header: www-authenticate: Basic realm="private", charset="UTF-8"
--- body ~ \A\Z

=== basic-auth: a wrong password gets 401
--- run
user=$(sed -n 's/^local USERNAME = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/basic-auth.lua)
curl -sS -i -u "$user:wrong" 'http://127.0.0.1:$PORT/private/x'
--- status: 401
--- header: www-authenticate ~ ^Basic realm=

=== basic-auth: the right credentials under another scheme get 401
--- run
user=$(sed -n 's/^local USERNAME = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/basic-auth.lua)
pass=$(sed -n 's/^local PASSWORD = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/basic-auth.lua)
curl -sS -i -H "Authorization: Bearer $(printf '%s' "$user:$pass" | base64)" 'http://127.0.0.1:$PORT/private/x'
--- status: 401

=== basic-auth: the right credentials reach the origin
--- run
user=$(sed -n 's/^local USERNAME = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/basic-auth.lua)
pass=$(sed -n 's/^local PASSWORD = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/basic-auth.lua)
test -n "$user" && test -n "$pass" || exit 3
curl -sS -i -u "$user:$pass" 'http://127.0.0.1:$PORT/private/x'
--- status: 200
--- no-header: www-authenticate
--- body ~ "path": "/echo/private/x"

=== basic-auth: the scheme is case-insensitive
--- run
user=$(sed -n 's/^local USERNAME = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/basic-auth.lua)
pass=$(sed -n 's/^local PASSWORD = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/basic-auth.lua)
curl -sS -i -H "Authorization: basic $(printf '%s' "$user:$pass" | base64)" 'http://127.0.0.1:$PORT/private/x'
--- status: 200
--- body ~ "path": "/echo/private/x"


=== signed-url: a valid signature reaches the origin, without expires and sig
--- run
secret=$(sed -n 's/^local SECRET = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/signed-url.lua)
test -n "$secret" || exit 3
p=/signed/report.txt e=$(( $(date +%s) + 3600 ))
s=$(printf '%s' "$p?expires=$e" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
curl -sS -i "http://127.0.0.1:$PORT$p?expires=$e&keep=1&sig=$s"
--- status: 200
--- body ~ "path": "/echo/signed/report\.txt\?keep=1"
--- body !~ sig=|expires=

=== signed-url: a signature computed by Python's hmac, in uppercase hex, is valid too
--- run
secret=$(sed -n 's/^local SECRET = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/signed-url.lua)
p=/signed/a%20b.txt e=$(( $(date +%s) + 60 ))
s=$($PYTHON -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest().upper())' "$secret" "$p?expires=$e")
curl -sS -i "http://127.0.0.1:$PORT$p?expires=$e&sig=$s"
--- status: 200
--- body ~ "path": "/echo/signed/a%20b\.txt"

=== signed-url: a signature for another path gets 403
--- run
secret=$(sed -n 's/^local SECRET = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/signed-url.lua)
e=$(( $(date +%s) + 3600 ))
s=$(printf '%s' "/signed/report.txt?expires=$e" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
curl -sS -i "http://127.0.0.1:$PORT/signed/other.txt?expires=$e&sig=$s"
--- status: 403
--- body
403 Forbidden: the signature is not valid

=== signed-url: a tampered signature gets 403
--- run
secret=$(sed -n 's/^local SECRET = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/signed-url.lua)
p=/signed/report.txt e=$(( $(date +%s) + 3600 ))
s=$(printf '%s' "$p?expires=$e" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
# change its last hex digit
last=${s: -1}; if [ "$last" = 0 ]; then s=${s%?}1; else s=${s%?}0; fi
curl -sS -i "http://127.0.0.1:$PORT$p?expires=$e&sig=$s"
--- status: 403
--- header: content-type: text/plain; charset=utf-8
--- body
403 Forbidden: the signature is not valid

=== signed-url: a later expiry with the same signature gets 403
--- run
secret=$(sed -n 's/^local SECRET = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/signed-url.lua)
p=/signed/report.txt e=$(( $(date +%s) + 60 ))
s=$(printf '%s' "$p?expires=$e" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
curl -sS -i "http://127.0.0.1:$PORT$p?expires=$(( e + 86400 ))&sig=$s"
--- status: 403
--- body
403 Forbidden: the signature is not valid

=== signed-url: a signature made with another key gets 403
--- run
p=/signed/report.txt e=$(( $(date +%s) + 3600 ))
s=$(printf '%s' "$p?expires=$e" | openssl dgst -sha256 -hmac "not-the-secret" -r | cut -d' ' -f1)
curl -sS -i "http://127.0.0.1:$PORT$p?expires=$e&sig=$s"
--- status: 403
--- body
403 Forbidden: the signature is not valid

=== signed-url: a valid signature past its expiry gets 403
--- run
secret=$(sed -n 's/^local SECRET = "\(.*\)".*/\1/p' $SRC/conf/examples/functions/signed-url.lua)
p=/signed/report.txt e=$(( $(date +%s) - 10 ))
s=$(printf '%s' "$p?expires=$e" | openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)
curl -sS -i "http://127.0.0.1:$PORT$p?expires=$e&sig=$s"
--- status: 403
--- body
403 Forbidden: this URL has expired

=== signed-url: an unsigned URL gets 403, and the origin never sees it
--- run
before=$(curl -sS http://127.0.0.1:$ORIGIN_PORT/__stats | $PYTHON $TOOLS/jget.py total_requests)
curl -sS -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$PORT/signed/report.txt"
curl -sS -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$PORT/signed/report.txt?expires=99999999999"
curl -sS -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$PORT/signed/report.txt?expires=soon&sig=00"
after=$(curl -sS http://127.0.0.1:$ORIGIN_PORT/__stats | $PYTHON $TOOLS/jget.py total_requests)
echo "origin requests: $(( after - before ))"
--- stdout
403
403
403
origin requests: 0


=== querystring-normalize: tracking parameters go, names are lowercased and sorted
--- run
curl -sS -i 'http://127.0.0.1:$PORT/qs/list?utm_source=news&Sort=price&page=2&fbclid=x&utm_campaign=y&gclid=z'
--- status: 200
--- body ~ "path": "/echo/qs/list\?page=2&sort=price"

=== querystring-normalize: repeated names merge and sort, values keep their case and escapes
--- run
curl -sS -i 'http://127.0.0.1:$PORT/qs/list?b=2&A=3&a=1&q=Hello%20World&flag'
--- status: 200
--- body ~ "path": "/echo/qs/list\?a=1&a=3&b=2&flag=&q=Hello%20World"

=== querystring-normalize: two spellings of one query reach the origin as one
--- run
curl -sS 'http://127.0.0.1:$PORT/qs/x?b=1&a=2&utm_medium=mail' | grep -o '"path": "[^"]*"'
curl -sS 'http://127.0.0.1:$PORT/qs/x?A=2&gclid=abc&B=1' | grep -o '"path": "[^"]*"'
--- stdout
"path": "/echo/qs/x?a=2&b=1"
"path": "/echo/qs/x?a=2&b=1"

=== querystring-normalize: a query of tracking parameters only is removed
--- run
curl -sS -i 'http://127.0.0.1:$PORT/qs/list?utm_medium=x&gclid=y'
--- status: 200
--- body ~ "path": "/echo/qs/list"
