// bench/node.sh: the peer's hook, the way people run a Node.js hook beside nginx today:
// one process, node's own `http` module, answering nginx's auth_request subrequests.
// It does the edgefn function's work (bench/node/fn/index.js): look at the request's
// headers and say which request header to add (x-hook: 1), which nginx copies into the
// request it proxies (auth_request_set + proxy_set_header).
//
// Usage: node hook_server.js PORT   (listens on 127.0.0.1:PORT; prints "listening" when ready)
'use strict';
const http = require('http');

const port = Number(process.argv[2]);
const server = http.createServer((req, res) => {
    void req.headers; // builds the parsed request headers, as the Lambda@Edge event has them
    res.writeHead(200, { 'x-hook': '1', 'content-length': '0' });
    res.end();
});
server.keepAliveTimeout = 60000; // nginx keeps the upstream connections (keepalive 64)
server.listen(port, '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
