# process-test-command.t: `edgefn test FUNCTION --event HOOK` with process functions
# (nodejs, python): it starts an execution environment, runs the one event through the
# Runtime API, and prints the JSON report: the outcome ("request", "response", "error"
# for a 503, "invalid" for a 502), the request or response the function gave back, the
# error, the function's log lines framed by START, END and REPORT, the duration and the
# memory used. Exit 0 when the function ran, 1 when it failed. No server is started.

--- setup
mkdir -p nreq nres pfn nboom pboom nbad nslow
cat > nreq/index.js <<'JS'
exports.handler = async (event, context) => {
  const cf = event.Records[0].cf;
  const req = cf.request;
  console.log('node saw', req.method, req.uri, req.querystring);
  req.headers['x-node'] = [{ key: 'X-Node', value: cf.config.eventType + ' ' + context.functionName }];
  req.headers['x-seen-custom'] = [{ key: 'X-Seen-Custom', value: req.headers['x-custom'] ? req.headers['x-custom'][0].value : 'none' }];
  req.uri = '/v2' + req.uri;
  if (req.uri === '/v2/answer')
    return { status: '302', headers: { location: [{ key: 'Location', value: 'https://example.com/' }] } };
  return req;
};
JS
cat > nres/index.js <<'JS'
exports.handler = async (event) => {
  const res = event.Records[0].cf.response;
  console.log('origin said', res.status);
  res.headers['x-frame-options'] = [{ key: 'X-Frame-Options', value: 'DENY' }];
  res.status = '201';
  res.statusDescription = 'Created here';
  return res;
};
JS
cat > pfn/index.py <<'PY'
def handler(event, context):
    cf = event["Records"][0]["cf"]
    hook = cf["config"]["eventType"]
    print("python saw", hook, context.function_name)
    if hook == "origin-response":
        res = cf["response"]
        res["headers"]["x-python"] = [{"key": "X-Python", "value": "saw " + res["status"]}]
        return res
    req = cf["request"]
    req["headers"]["x-python"] = [{"key": "X-Python", "value": hook}]
    req["querystring"] = "from=python"
    return req
PY
cat > nboom/index.js <<'JS'
throw new Error('cannot load this module');
JS
cat > pboom/index.py <<'PY'
raise RuntimeError("python cannot load this module")

def handler(event, context):
    return None
PY
cat > nbad/index.js <<'JS'
exports.handler = async (event) => {
  if (event.Records[0].cf.request.uri === '/throw') throw new TypeError('thrown in the handler');
  return { status: '99' };
};
JS
cat > nslow/index.js <<'JS'
exports.handler = async (event) => new Promise((resolve) => setTimeout(() => resolve(event.Records[0].cf.request), 5000));
JS
cat > edgefn.yaml <<'YAML'
listen: [ { port: 1, address: 127.0.0.1 } ]
origins:
  app: { url: "http://127.0.0.1:1" }
functions:
  n-req: { runtime: nodejs, code: nreq/ }
  n-res: { runtime: nodejs, code: nres/, memory: 256MB }
  p-fn: { runtime: python, code: pfn/ }
  n-boom: { runtime: nodejs, code: nboom/ }
  p-boom: { runtime: python, code: pboom/ }
  n-bad: { runtime: nodejs, code: nbad/ }
  n-slow: { runtime: nodejs, code: nslow/, timeout: 300ms }
  n-prov: { runtime: nodejs, code: nreq/, concurrency: { provisioned: 1 } }
behaviors:
  - path: "*"
    origin: app
    viewer-request: n-req
YAML

=== node at viewer-request: outcome request, the request it changed, its log lines framed by START/END/REPORT, exit 0
--- run
$EDGEFN test n-req --event viewer-request --request 'POST /items?a=1' -H 'X-Custom: yes' > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py function eventType outcome request.method request.uri request.querystring.a.value \
    request.headers.x-node.value request.headers.x-seen-custom.value memoryLimitBytes < out.json
$PYTHON -c '
import json, re
r = json.load(open("out.json"))
logs = r["logs"]
rid = r["requestId"] + "-viewer-request"
print("\n".join(re.sub(r"\d+(\.\d+)?", "N", l.replace(r["requestId"], "ID")) for l in logs))
print("ids ok" if all(rid in l for l in logs if l.startswith(("START", "END", "REPORT"))) else logs)
print("duration ok" if 0 < r["durationMs"] < 5000 else r["durationMs"])
print("memory ok" if 0 < r["memoryUsedBytes"] < r["memoryLimitBytes"] else r["memoryUsedBytes"])
'
--- stdout
exit 0
n-req
viewer-request
request
POST
/v2/items
1
viewer-request n-req
yes
134217728
INIT_START Runtime Version: nodejs	Environment: N (on-demand)
START RequestId: ID-viewer-request Version: $LATEST
node saw POST /items a=N
END RequestId: ID-viewer-request
REPORT RequestId: ID-viewer-request	Duration: N ms	Billed Duration: N ms	Memory Size: N MB	Max Memory Used: N MB	Init Duration: N ms
ids ok
duration ok
memory ok

=== node at viewer-request answering with a response: outcome response
--- run
$EDGEFN test n-req --event viewer-request --request /answer > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome response.statusCode response.headers.location.value < out.json
--- stdout
exit 0
response
302
https://example.com/

=== node at origin-response: outcome response, with the status and header it set
--- run
$EDGEFN test n-res --event origin-response > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome response.statusCode response.statusDescription response.headers.x-frame-options.value memoryLimitBytes < out.json
$PYTHON $TOOLS/jget.py logs < out.json | grep -o 'origin said 200'
$PYTHON $TOOLS/jget.py logs < out.json | grep -o 'Memory Size: 256 MB'
--- stdout
exit 0
response
201
Created here
DENY
268435456
origin said 200
Memory Size: 256 MB

=== python at viewer-request: outcome request, with its header and query, and its print in the logs
--- run
$EDGEFN test p-fn --event viewer-request --request '/p?x=1' > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome request.uri request.headers.x-python.value request.querystring.from.value < out.json
$PYTHON -c '
import json
r = json.load(open("out.json"))
for l in r["logs"]:
    print(l.split("RequestId")[0].split(" Runtime Version")[0].strip())
'
--- stdout
exit 0
request
/p
viewer-request
python
INIT_START
START
python saw viewer-request p-fn
END
REPORT

=== python at origin-response: outcome response, with the header it set
--- run
$EDGEFN test p-fn --event origin-response > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome response.statusCode response.headers.x-python.value < out.json
$PYTHON $TOOLS/jget.py logs < out.json | grep -o 'python saw origin-response p-fn'
--- stdout
exit 0
response
200
saw 200
python saw origin-response p-fn

=== a response event file gives the node origin-response function its status
--- run
cat > response.json <<'JSON'
{ "response": { "statusCode": 404, "statusDescription": "Not Found", "headers": { "content-type": { "value": "text/html" } } } }
JSON
$EDGEFN test n-res --event origin-response --event-file response.json > out.json
$PYTHON $TOOLS/jget.py response.statusCode response.headers.content-type.value < out.json
$PYTHON $TOOLS/jget.py logs < out.json | grep -o 'origin said 404'
--- stdout
201
text/html
origin said 404

=== a function with provisioned concurrency runs too, and its provisioned environment is started
--- run
$EDGEFN test n-prov --event viewer-request > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome < out.json
$PYTHON -c 'import json; print("\n".join(json.load(open("out.json"))["logs"]))' | grep -E '^INIT_START .*provisioned-concurrency' | head -1
--- stdout ~ \Aexit 0\nrequest\nINIT_START Runtime Version: nodejs\tEnvironment: \d+ \(provisioned-concurrency\)\n\Z

=== a node init error: outcome error, status 503, the init failure in the error and the logs, exit 1
--- run
$EDGEFN test n-boom --event viewer-request > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome status error < out.json
$PYTHON $TOOLS/jget.py logs < out.json | grep -oE 'INIT_REPORT .*Status: error.*cannot load this module' | head -1
--- stdout ~ \Aexit 1\nerror\n503\n[^\n]*initiali[sz][^\n]*\nINIT_REPORT [^\n]*Status: error[^\n]*cannot load this module\n\Z

=== a python init error: outcome error, status 503, exit 1
--- run
$EDGEFN test p-boom --event origin-request > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome status error < out.json
$PYTHON $TOOLS/jget.py logs < out.json | grep -oE 'INIT_REPORT .*Status: error.*python cannot load this module' | head -1
--- stdout ~ \Aexit 1\nerror\n503\n[^\n]*initiali[sz][^\n]*\nINIT_REPORT [^\n]*Status: error[^\n]*python cannot load this module\n\Z

=== a node function error: outcome error, status 503, the error in the logs, exit 1
--- run
$EDGEFN test n-bad --event viewer-request --request /throw > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome status < out.json
$PYTHON $TOOLS/jget.py logs < out.json | grep -c 'TypeError.*thrown in the handler'
--- stdout ~ \Aexit 1\nerror\n503\n[1-9]\n\Z

=== a node function's invalid result: outcome invalid, status 502, the reason, exit 1
--- run
$EDGEFN test n-bad --event viewer-request > out.json
echo "exit $?"
$PYTHON $TOOLS/jget.py outcome status error < out.json
--- stdout ~ \Aexit 1\ninvalid\n502\n[^\n]*\b99\b

=== a node function past its timeout: outcome error, 503, "Task timed out after 300 ms" in the logs, exit 1
--- run
start=$(date +%s%N)
$EDGEFN test n-slow --event viewer-request > out.json
echo "exit $?"
echo "took $(( ($(date +%s%N) - start) / 1000000 )) ms" >&2
$PYTHON $TOOLS/jget.py outcome status error < out.json
$PYTHON $TOOLS/jget.py logs < out.json | grep -o 'Task timed out after 300 ms'
--- stdout ~ \Aexit 1\nerror\n503\n[^\n]*300 ms[^\n]*\nTask timed out after 300 ms\n\Z
--- stderr ~ took ([3-9]\d\d|[1-3]\d\d\d) ms

=== the function's log lines go to the report, not to stderr; nothing is left running
--- run
$EDGEFN test n-req --event viewer-request > /dev/null
sleep 0.2
# a process whose cwd is a code dir here would be an environment left behind
for p in /proc/[0-9]*; do readlink $p/cwd; done 2>/dev/null | grep -c "^$TMP/" || true
--- stderr ~ \A\Z
--- stdout
0
