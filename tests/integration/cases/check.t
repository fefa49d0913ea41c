# check.t: `edgefn check` validates a config without serving. A bad config gives one
# `FILE:LINE:COLUMN: message` line per error on stderr (all of them, in position
# order) and exit 2. FILE is the path as given to -c; LINE and COLUMN are 1-based and
# point at the offending key or value. Messages are asserted by position and key
# words only; their exact wording is not part of the contract.

=== a config that uses every key passes
--- run
mkdir -p www && echo hi > www/index.html && echo s3cret > admin.token
cat > full.yaml <<'YAML'
threads: 2
listen:
  - port: $PORT
    address: 127.0.0.1
  - port: $TLS_PORT
    address: 127.0.0.1
    tls: { certificate: $CERT, key: $KEY }
origins:
  app:
    url: "http://127.0.0.1:$ORIGIN_PORT/prefix"
    connect-timeout: 2s
    timeout: 30s
    keepalive-timeout: 5s
    keepalive-connections: 16
    preserve-host: true
  site: { directory: www }
behaviors:
  - path: /api/*
    origin: app
  - path: /*
    origin: site
access-log: access.log
admin:
  listen: "127.0.0.1:$ADMIN_PORT"
  token-file: admin.token
drain-timeout: 5s
max-request-body: 10MB
YAML
$EDGEFN check -c full.yaml
--- exit: 0

=== threads: auto, access-log: off and a bare url pass
--- run
cat > auto.yaml <<'YAML'
threads: auto
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
access-log: off
YAML
$EDGEFN check -c auto.yaml
--- exit: 0

=== check does not bind: a port in use does not fail it
--- run
cat > busy.yaml <<'YAML'
listen:
  - port: $ORIGIN_PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
YAML
timeout 10 $EDGEFN check -c busy.yaml
--- exit: 0

=== relative paths resolve against the config file's directory, not the cwd
--- run
mkdir -p conf-dir/www && echo hi > conf-dir/www/index.html
cat > conf-dir/rel.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  site: { directory: www }
behaviors:
  - path: /*
    origin: site
YAML
cd / && $EDGEFN check -c $TMP/conf-dir/rel.yaml
--- exit: 0

=== an unknown key (a typo) is reported at the key
--- run
cat > typo.yaml <<'YAML'
listen:
  - port: $PORT
    adress: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c typo.yaml
--- exit: 2
--- stderr ~ (?m)^typo\.yaml:3:5: .*adress

=== an unknown top-level key is reported at the key
--- run
cat > toplevel.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviours:
  - path: /*
    origin: app
YAML
$EDGEFN check -c toplevel.yaml
--- exit: 2
--- stderr ~ (?m)^toplevel\.yaml:6:1: .*behaviours

=== bad durations are reported at the value, each of them
--- run
cat > duration.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app:
    url: "http://127.0.0.1:$ORIGIN_PORT"
    timeout: 5 seconds
    connect-timeout: 1.5s
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c duration.yaml
--- exit: 2
--- stderr ~ (?m)^duration\.yaml:7:14: .*(?i:duration)
--- stderr ~ (?m)^duration\.yaml:8:22: .*(?i:duration)

=== a port out of range is reported at the value
--- run
cat > port.yaml <<'YAML'
listen:
  - port: 70000
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c port.yaml
--- exit: 2
--- stderr ~ (?m)^port\.yaml:2:11: .*(?i:port|range|65535)

=== a missing certificate file is reported, naming the file
--- run
cat > nocert.yaml <<'YAML'
listen:
  - port: $TLS_PORT
    address: 127.0.0.1
    tls:
      certificate: missing.crt
      key: $KEY
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c nocert.yaml
--- exit: 2
--- stderr ~ (?m)^nocert\.yaml:[45]:\d+: .*missing\.crt
--- stderr ~ (?i)no such file|not found|does not exist|cannot|can't|unable

=== a certificate that does not match its key is reported at the tls section
--- run
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out other.key 2>/dev/null
cat > mismatch.yaml <<'YAML'
listen:
  - port: $TLS_PORT
    address: 127.0.0.1
    tls:
      certificate: $CERT
      key: other.key
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c mismatch.yaml
--- exit: 2
--- stderr ~ (?m)^mismatch\.yaml:[456]:\d+: .*(?i:match|key)

=== a behavior naming an undefined origin is reported at the name
--- run
cat > undefined.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: nowhere
YAML
$EDGEFN check -c undefined.yaml
--- exit: 2
--- stderr ~ (?m)^undefined\.yaml:8:13: .*nowhere

=== a directory origin that does not exist is reported at the path
--- run
cat > nodir.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  site: { directory: no-such-dir }
behaviors:
  - path: /*
    origin: site
YAML
$EDGEFN check -c nodir.yaml
--- exit: 2
--- stderr ~ (?m)^nodir\.yaml:5:22: .*no-such-dir

=== a value of the wrong kind says what was expected
--- run
cat > kind.yaml <<'YAML'
listen: 8080
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c kind.yaml
--- exit: 2
--- stderr ~ (?m)^kind\.yaml:1:9: .*(?i:expect)

=== a YAML syntax error is reported with its position
--- run
cat > syntax.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT"
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check -c syntax.yaml
--- exit: 2
--- stderr ~ (?m)^syntax\.yaml:\d+:\d+: \S

=== several errors in one file are all reported, in position order
--- run
cat > multi.yaml <<'YAML'
threads: many
listen:
  - port: 99999
    address: 127.0.0.1
origins:
  app:
    url: "http://127.0.0.1:$ORIGIN_PORT"
    keepalive-timeout: soon
behaviors:
  - path: /*
    origin: ghost
max-request-body: 10 MB
YAML
$EDGEFN check -c multi.yaml
--- exit: 2
--- stderr ~ (?m)^multi\.yaml:1:10: .*(?i:many|auto|thread|number|integer)
--- stderr ~ (?m)^multi\.yaml:3:11: .*(?i:port|range|65535)
--- stderr ~ (?m)^multi\.yaml:8:24: .*(?i:duration)
--- stderr ~ (?m)^multi\.yaml:11:13: .*ghost
--- stderr ~ (?m)^multi\.yaml:12:19: .*(?i:size)
--- stderr ~ (?s)multi\.yaml:1:10:.*multi\.yaml:3:11:.*multi\.yaml:8:24:.*multi\.yaml:11:13:.*multi\.yaml:12:19:

=== every conf/examples/*.yaml passes edgefn check
--- run
shopt -s nullglob
files=($SRC/conf/examples/*.yaml)
if [ ${#files[@]} -eq 0 ]; then echo "no conf/examples/*.yaml in $SRC" >&2; exit 1; fi
rc=0
for f in "${files[@]}"; do
    if $EDGEFN check -c "$f"; then echo "ok $f"; else echo "FAILED $f"; rc=1; fi
done
exit $rc
--- stdout !~ FAILED

=== a cache at the top level and on a behavior, with every key, passes
--- run
cat > cache.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
cache:
  memory: 64MB
  max-object-size: 1MB
behaviors:
  - path: /img/*
    origin: app
    cache:
      default-ttl: 60s
      min-ttl: 0
      max-ttl: 1d
      key:
        query: [w, h]
        headers: [accept-language, X-Device]
        cookies: [session]
  - path: /static/*
    origin: app
    cache: {}
  - path: /*
    origin: app
    cache: { key: { query: all } }
YAML
$EDGEFN check -c cache.yaml
--- exit: 0
--- stdout ~ cache\.yaml: ok
--- stderr !~ warn

=== cache ttls out of order are reported at the value, naming both
--- run
cat > ttl.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /img/*
    origin: app
    cache:
      default-ttl: 10m
      min-ttl: 1h
  - path: /*
    origin: app
    cache:
      max-ttl: 1h
YAML
$EDGEFN check -c ttl.yaml
--- exit: 2
--- stderr ~ (?m)^ttl\.yaml:11:16: cache\.min-ttl: 1h .*default-ttl.* 10m
--- stderr ~ (?m)^ttl\.yaml:15:16: cache\.max-ttl: 1h .*default-ttl.* 1d \(the default\)

=== a max-object-size above the cache memory is reported at the value
--- run
cat > objsize.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
    cache: {}
cache:
  memory: 8MB
  max-object-size: 16MB
YAML
$EDGEFN check -c objsize.yaml
--- exit: 2
--- stderr ~ (?m)^objsize\.yaml:12:20: cache\.max-object-size: 16MB .*cache\.memory.* 8MB

=== bad cache key names are reported at each name, all of them
--- run
cat > cachekey.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
    cache:
      key:
        query: some
        headers: [X-Device, "user agent", x-device]
        cookies: [a, b, c, d, e, f, g, h, i, j, k]
        vary: [accept]
YAML
$EDGEFN check -c cachekey.yaml
--- exit: 2
--- stderr ~ (?m)^cachekey\.yaml:11:16: cache\.key\.query: .*"all".*"none".*"some"
--- stderr ~ (?m)^cachekey\.yaml:12:29: cache\.key\.headers: .*"user agent"
--- stderr ~ (?m)^cachekey\.yaml:12:43: cache\.key\.headers: (?i:duplicate).*"x-device"
--- stderr ~ (?m)^cachekey\.yaml:13:18: cache\.key\.cookies: .*10
--- stderr ~ (?m)^cachekey\.yaml:14:9: .*"vary"
