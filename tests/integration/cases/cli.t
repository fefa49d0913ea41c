# cli.t: edgefn's command line. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or
# bad config. No file-level config: each case runs $EDGEFN itself, in $TMP.

=== --version prints the version on stdout and exits 0
--- run
$EDGEFN --version
--- stdout
edgefn 0.1.0

=== --help prints usage on stdout and exits 0
--- run
$EDGEFN --help
--- stdout ~ (?i)usage
--- stdout ~ \bcheck\b
--- stdout ~ -c

=== an unknown option prints usage on stderr and exits 2
--- run
$EDGEFN --no-such-option
--- exit: 2
--- stderr ~ no-such-option
--- stderr ~ (?i)usage
--- stdout ~ \A\Z

=== an unknown verb prints usage on stderr and exits 2
--- run
$EDGEFN frobnicate
--- exit: 2
--- stderr ~ frobnicate
--- stderr ~ (?i)usage

=== -c without a file name exits 2
--- run
$EDGEFN check -c
--- exit: 2
--- stderr ~ (?i)usage|argument|requires|missing

=== serving with a config file that does not exist says so and exits 2
--- run
timeout 10 $EDGEFN -c $TMP/does-not-exist.yaml
--- exit: 2
--- stderr ~ does-not-exist\.yaml
--- stderr ~ (?i)no such file|not found|does not exist|cannot open|can't open|unable to open

=== check with a config file that does not exist says so and exits 2
--- run
$EDGEFN check -c $TMP/does-not-exist.yaml
--- exit: 2
--- stderr ~ does-not-exist\.yaml
--- stderr ~ (?i)no such file|not found|does not exist|cannot open|can't open|unable to open

=== without -c, check reads ./edgefn.yaml and says so when it is missing
--- run
mkdir -p $TMP/no-config && cd $TMP/no-config
$EDGEFN check
--- exit: 2
--- stderr ~ edgefn\.yaml

=== without -c, check validates ./edgefn.yaml
--- run
mkdir -p $TMP/with-config && cd $TMP/with-config
cat > edgefn.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN check
--- exit: 0

=== without -c, edgefn serves ./edgefn.yaml, and exits 0 on SIGTERM
--- run
mkdir -p $TMP/serve && cd $TMP/serve
cat > edgefn.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
YAML
$EDGEFN 2> serve.stderr &
pid=$!
for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$PORT/ && break; sleep 0.1; done
curl -sS -i http://127.0.0.1:$PORT/echo/default-config
kill -TERM $pid
wait $pid
echo "edgefn exit $?" >&2
--- status: 200
--- body ~ "path": "/echo/default-config"
--- stderr ~ edgefn exit 0

=== serving a bad config prints the error, exits 2 and never listens
--- run
cat > bad.yaml <<'YAML'
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: nowhere
YAML
timeout 10 $EDGEFN -c bad.yaml
echo "edgefn exit $?"
curl -sS --max-time 2 -o /dev/null http://127.0.0.1:$PORT/
echo "curl exit $?"
--- stdout ~ (?m)^edgefn exit 2$
--- stdout ~ (?m)^curl exit 7$
--- stderr ~ (?m)^bad\.yaml:8:13: .*nowhere

=== a listen port that is already taken is a runtime failure: exit 1
--- run
# the test origin holds $ORIGIN_PORT on 127.0.0.1 (without SO_REUSEPORT)
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
timeout 10 $EDGEFN -c busy.yaml
--- exit: 1
--- stderr ~ $ORIGIN_PORT
--- stderr ~ (?i)in use
