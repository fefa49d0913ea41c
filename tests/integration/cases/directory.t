# directory.t: a directory origin serves files like an S3 bucket behind CloudFront:
# content-type by extension, index.html for paths ending in /, a 301 to add the slash
# to a directory, 404 for what is missing, validators with 304, HEAD, one byte
# range, and 405 for methods other than GET and HEAD. The directory is given
# relative to the config file.
--- setup
mkdir -p www/sub www/empty-dir
printf '<h1>home</h1>\n' > www/index.html
printf '<h1>sub</h1>\n' > www/sub/index.html
printf 'hello, world\n' > www/hello.txt
printf 'body { color: red }\n' > www/style.css
printf 'console.log(1)\n' > www/app.js
printf '{"a": 1}\n' > www/data.json
printf '\x89PNG\r\n\x1a\n' > www/pic.png
printf '<svg xmlns="http://www.w3.org/2000/svg"/>\n' > www/pic.svg
printf 'spaced\n' > 'www/with space.txt'
head -c 300000 /dev/urandom > www/blob.bin
touch -d '2024-01-02 03:04:05 UTC' www/hello.txt
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  site: { directory: www }
behaviors:
  - path: /*
    origin: site

=== a file is served with its type, length, validators and request id
--- run
curl -sS -i http://127.0.0.1:$PORT/hello.txt
--- status: 200
--- header: content-type ~ ^text/plain
--- header: content-length: 13
--- header: etag ~ .
--- header: last-modified: Tue, 02 Jan 2024 03:04:05 GMT
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- body
hello, world

=== content-type follows the extension
--- run
for f in index.html style.css app.js data.json pic.png pic.svg blob.bin; do
    printf '%s %s\n' $f "$(curl -sS -o /dev/null -w '%{content_type}' http://127.0.0.1:$PORT/$f)"
done
--- stdout ~ (?m)^index\.html text/html
--- stdout ~ (?m)^style\.css text/css
--- stdout ~ (?m)^app\.js (application|text)/javascript
--- stdout ~ (?m)^data\.json application/json
--- stdout ~ (?m)^pic\.png image/png$
--- stdout ~ (?m)^pic\.svg image/svg\+xml
--- stdout ~ (?m)^blob\.bin application/octet-stream$

=== a binary file arrives byte-identical
--- run
curl -sS -o got.bin http://127.0.0.1:$PORT/blob.bin
cmp got.bin www/blob.bin && echo identical
--- stdout ~ (?m)^identical$

=== / serves index.html
--- run
curl -sS -i http://127.0.0.1:$PORT/
--- status: 200
--- header: content-type ~ ^text/html
--- body
<h1>home</h1>

=== a path ending in / serves that directory's index.html
--- run
curl -sS -i http://127.0.0.1:$PORT/sub/
--- status: 200
--- body
<h1>sub</h1>

=== a directory without the slash is a 301 to the path with it
--- run
curl -sS -i http://127.0.0.1:$PORT/sub
--- status: 301
--- header: location ~ ^(http://127\.0\.0\.1:$PORT)?/sub/$

=== a missing file is a 404
--- run
curl -sS -i http://127.0.0.1:$PORT/no-such-file.txt
--- status: 404
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$
--- body ~ \A404 Not Found[^\n]*\nrequest id: ${header:x-edgefn-request-id}\n\Z

=== a directory without index.html is not listed
--- run
curl -sS -i http://127.0.0.1:$PORT/empty-dir/
--- status ~ ^40[34]$
--- body !~ (?i)index of

=== the query string is ignored
--- run
curl -sS -i 'http://127.0.0.1:$PORT/hello.txt?v=123'
--- status: 200
--- body
hello, world

=== a percent-encoded path names the decoded file
--- run
curl -sS -i 'http://127.0.0.1:$PORT/with%20space.txt'
--- status: 200
--- body
spaced

=== If-None-Match with the current ETag is a 304 without a body
--- run
etag=$(curl -sS -D - -o /dev/null http://127.0.0.1:$PORT/hello.txt | tr -d '\r' | sed -n 's/^etag: *//Ip')
echo "etag: $etag" >&2
curl -sS -i -H "If-None-Match: $etag" http://127.0.0.1:$PORT/hello.txt
--- stderr ~ etag: \S
--- status: 304
--- body ~ \A\Z

=== If-None-Match with another ETag is a 200
--- run
curl -sS -i -H 'If-None-Match: "not-the-etag"' http://127.0.0.1:$PORT/hello.txt
--- status: 200
--- body
hello, world

=== If-Modified-Since at the file's time is a 304
--- run
curl -sS -i -H 'If-Modified-Since: Tue, 02 Jan 2024 03:04:05 GMT' http://127.0.0.1:$PORT/hello.txt
--- status: 304
--- body ~ \A\Z

=== If-Modified-Since before the file's time is a 200
--- run
curl -sS -i -H 'If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT' http://127.0.0.1:$PORT/hello.txt
--- status: 200
--- body
hello, world

=== HEAD has the headers and no body
--- run
curl -sS -I http://127.0.0.1:$PORT/hello.txt
--- status: 200
--- header: content-length: 13
--- header: content-type ~ ^text/plain
--- body ~ \A\Z

=== a byte range is a 206 with content-range
--- run
curl -sS -i -H 'Range: bytes=0-4' http://127.0.0.1:$PORT/hello.txt
--- status: 206
--- header: content-range: bytes 0-4/13
--- header: content-length: 5
--- body: hello

=== an open-ended byte range runs to the end of the file
--- run
curl -sS -i -H 'Range: bytes=7-' http://127.0.0.1:$PORT/hello.txt
--- status: 206
--- header: content-range: bytes 7-12/13
--- body
world

=== POST is a 405
--- run
curl -sS -i -X POST -d x=1 http://127.0.0.1:$PORT/hello.txt
--- status: 405
--- header: x-edgefn-request-id ~ ^[0-9a-f]{20}$

=== .. cannot leave the directory
--- run
curl -sS -i --path-as-is http://127.0.0.1:$PORT/../../../../../../etc/passwd
--- status ~ ^4\d\d$
--- body !~ root:

=== percent-encoded .. cannot leave the directory
--- run
curl -sS -i --path-as-is 'http://127.0.0.1:$PORT/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd'
--- status ~ ^4\d\d$
--- body !~ root:
