# shutdown.t: SIGTERM stops accepting at once, lets requests in flight finish (up to
# drain-timeout), closes idle keep-alive connections, and exits 0. Each case ends
# edgefn; the next case gets a fresh one.
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
drain-timeout: 5s

=== an HTTP/1.1 request in flight completes, new connections are refused, exit 0
--- run
curl -sS -i --max-time 10 http://127.0.0.1:$PORT/delay/1500 > inflight.txt 2>&1 &
sleep 0.5
kill -TERM $EDGEFN_PID
sleep 0.3
curl -sS --max-time 3 -o /dev/null http://127.0.0.1:$PORT/echo/late
echo "new connection after SIGTERM: curl exit $?" >&2
wait
cat inflight.txt
--- stderr ~ new connection after SIGTERM: curl exit 7
--- status: 200
--- body: done
--- edgefn-exit: 0

=== an HTTP/2 request in flight completes, exit 0
--- run
curl -sS -i --max-time 10 --http2-prior-knowledge http://127.0.0.1:$PORT/delay/1500 > inflight.txt 2>&1 &
sleep 0.5
kill -TERM $EDGEFN_PID
wait
cat inflight.txt
--- stdout ~ \AHTTP/2 200
--- body: done
--- edgefn-exit: 0

=== an idle keep-alive connection is closed
--- run
exec 3<>/dev/tcp/127.0.0.1/$PORT
printf 'GET /echo/idle HTTP/1.1\r\nHost: x\r\n\r\n' >&3
sleep 0.5
kill -TERM $EDGEFN_PID
# cat ends when edgefn closes the connection; timeout's 124 means it stayed open
timeout 3 cat <&3 > idle.txt
echo "cat exit $?"
head -c 200 idle.txt >&2
--- stdout ~ (?m)^cat exit [01]$
--- stderr ~ \AHTTP/1\.1 200
--- edgefn-exit: 0

=== an idle edgefn exits at once, without waiting for drain-timeout
--- run
start=$(date +%s%N)
kill -TERM $EDGEFN_PID
# edgefn is the harness's child, so it stays a zombie until the harness reaps it
while [ -e /proc/$EDGEFN_PID ] && ! grep -q '^[0-9]* (.*) Z' /proc/$EDGEFN_PID/stat 2>/dev/null; do sleep 0.02; done
echo "exited after $(( ($(date +%s%N) - start) / 1000000 )) ms"
--- stdout ~ ^exited after (\d{1,3}|1\d{3}) ms$
--- edgefn-exit: 0

=== a request still running at drain-timeout does not hold edgefn up
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
behaviors:
  - path: /*
    origin: app
drain-timeout: 1s
--- run
curl -sS --max-time 20 -o /dev/null http://127.0.0.1:$PORT/stall 2>/dev/null &
sleep 0.5
start=$(date +%s%N)
kill -TERM $EDGEFN_PID
while [ -e /proc/$EDGEFN_PID ] && ! grep -q '^[0-9]* (.*) Z' /proc/$EDGEFN_PID/stat 2>/dev/null; do sleep 0.02; done
echo "exited after $(( ($(date +%s%N) - start) / 1000000 )) ms"
--- stdout ~ ^exited after (9\d\d|[12]\d{3}) ms$
--- edgefn-exit: 0

=== a request in flight in a Node.js function completes, the environment is stopped, exit 0
--- setup
mkdir -p slowfn
cat > slowfn/index.js <<'JS'
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  request.headers['x-slow'] = [{ key: 'X-Slow', value: 'done' }];
  return request;
};
JS
--- config
listen:
  - port: $PORT
    address: 127.0.0.1
origins:
  app: { url: "http://127.0.0.1:$ORIGIN_PORT" }
functions:
  slow: { runtime: nodejs, code: slowfn/, concurrency: { provisioned: 1 } }
behaviors:
  - path: /*
    origin: app
    viewer-request: slow
drain-timeout: 5s
--- run
curl -sS -i --max-time 10 http://127.0.0.1:$PORT/echo/slow > inflight.txt 2>&1 &
sleep 0.5
node=$(pgrep -P $EDGEFN_PID node)
kill -TERM $EDGEFN_PID
wait
cat inflight.txt
# the environment went with edgefn
sleep 0.5
test -n "$node" && ! kill -0 $node 2>/dev/null && echo "environment gone" >&2
--- status: 200
--- body ~ "x-slow": "done"
--- stderr ~ environment gone
--- log ~ slow:\$LATEST - - Environment 1 ended: the server is shutting down
--- edgefn-exit: 0
