# examples-lambda.t: the Lambda@Edge examples in conf/examples/functions/lambda/ do what
# their comments say, run from where they ship, with conf/examples/lambda-edge.yaml's
# settings, against the demo site (a directory origin) as that config serves it.
--- config
threads: 1
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  site: { directory: $SRC/conf/examples/demo-site }
functions:
  redirects:
    runtime: python
    code: $SRC/conf/examples/functions/lambda/redirects/
    handler: index.handler
    timeout: 5s
  security-headers:
    runtime: nodejs
    code: $SRC/conf/examples/functions/lambda/security-headers/
    memory: 128MB
    concurrency: { provisioned: 1 }
function-logs: stderr
behaviors:
  - path: "*"
    origin: site
    viewer-request: redirects
    origin-response: security-headers

=== security-headers (node, origin-response): the page comes with the five headers
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/'
--- status: 200
--- header: strict-transport-security: max-age=63072000; includeSubdomains; preload
--- header: content-security-policy: default-src 'self'; img-src 'self' data:; object-src 'none'
--- header: x-content-type-options: nosniff
--- header: x-frame-options: DENY
--- header: referrer-policy: same-origin
--- body ~ <html

=== redirects (python, viewer-request): a path in the table is a 301 to its new place, with the query kept
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/docs/v1/?lang=fr'
--- status: 301
--- header: location: /docs/?lang=fr
--- header: cache-control: max-age=3600

=== redirects: the redirect comes from the edge, so origin-response adds nothing to it
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/old-blog'
--- status: 301
--- header: location: /blog/
--- no-header: x-frame-options

=== redirects: a path not in the table goes on to the site
--- run
curl -sS -i --max-time 10 'http://127.0.0.1:$PORT/docs/'
--- status: 200
--- header: x-frame-options: DENY
