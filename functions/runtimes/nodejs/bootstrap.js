// edgefn's Node.js runtime: the AWS Lambda Runtime API (2018-06-01) client loop and the
// Lambda handler conventions, so that unmodified Lambda@Edge functions run under edgefn.
// See ../README.md for the protocol, the conventions and where this differs from AWS.
//
// Run as `node [--max-old-space-size=N] bootstrap.js` with the Lambda environment variables
// set (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, ...). No dependencies: one raw
// TCP connection with hand-written HTTP/1.1, kept alive and pipelined (a handler's answer
// and the next long poll go out in one write).
'use strict';

const net = require('net');
const path = require('path');
const fs = require('fs');
const { isNativeError } = require('util').types;

const env = process.env;
const API = env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001';
const BASE = '/2018-06-01/runtime/';
const HOST = 'Host: ' + API + '\r\n';
const NEXT = 'GET ' + BASE + 'invocation/next HTTP/1.1\r\n' + HOST + '\r\n';
const CRLFCRLF = Buffer.from('\r\n\r\n');
const MAX_HEAD = 1 << 20;

function fatal(message) {
    process.stderr.write('edgefn runtime: ' + message + '\n');
    process.exit(1);
}

// One keep-alive connection to the Runtime API. Requests are pipelined; responses come back
// in order and each is handed to the callback given with its request. The server frames
// bodies with Content-Length; chunked bodies and bodies ended by close are accepted too.
// If the server closes the connection, the requests still unanswered are sent again on a
// new one (once; a second loss in a row is fatal).
class Connection {
    constructor(api) {
        const colon = api.lastIndexOf(':');
        this.host = api.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
        this.port = Number(api.slice(colon + 1));
        this.sock = null;
        this.sent = []; // [[text, cb]]: requests written and not answered yet
        this.retried = false;
        this.onLost = null; // when set, called instead of reconnecting
        this.resetParser();
    }

    resetParser() {
        this.head = null; // Buffer: the start of a head split across reads
        this.res = null; // the response whose body is being read
        this.body = null; // its body (Buffer of Content-Length bytes) or its parts
        this.got = 0;
    }

    open() {
        const sock = net.connect({
            host: this.host,
            port: this.port,
            onread: { buffer: Buffer.allocUnsafe(65536), callback: (n, buf) => this.feed(buf.subarray(0, n)) },
        });
        sock.setNoDelay(true);
        sock.on('error', (err) => (this.error = err));
        sock.on('close', () => this.onClose(sock));
        this.sock = sock;
        this.resetParser();
    }

    // Writes the requests in one write: reqs is [[text, cb], ...]; cb gets the response to text.
    send(reqs) {
        if (this.sock === null) this.open();
        let text = reqs[0][0];
        for (let i = 1; i < reqs.length; i++) text += reqs[i][0];
        for (let i = 0; i < reqs.length; i++) this.sent.push(reqs[i]);
        this.sock.write(text);
    }

    ref() {
        if (this.sock !== null) this.sock.ref();
    }

    unref() {
        if (this.sock !== null) this.sock.unref();
    }

    onClose(sock) {
        if (sock !== this.sock) return;
        if (this.res !== null && this.body !== null && this.res.untilClose) {
            const res = this.res;
            res.body = Buffer.concat(this.body);
            this.resetParser();
            this.deliver(res);
        }
        this.sock = null;
        if (this.sent.length === 0) return; // idle: reconnect on the next send
        if (this.onLost !== null) return this.onLost();
        if (this.retried)
            fatal('lost the connection to the Runtime API at ' + API + (this.error ? ': ' + this.error.message : ''));
        this.retried = true;
        const unanswered = this.sent;
        this.sent = [];
        this.send(unanswered);
    }

    deliver(res) {
        this.retried = false;
        const r = this.sent.shift();
        if (r === undefined) fatal('the Runtime API sent a response nobody asked for');
        r[1](res);
    }

    // `data` may be the socket's static read buffer: nothing kept past this call may point into it.
    feed(data) {
        let pos = 0;
        const n = data.length;
        if (this.head !== null) {
            data = Buffer.concat([this.head, data]);
            this.head = null;
            return this.feed(data);
        }
        while (pos < n) {
            if (this.res !== null) {
                pos = this.feedBody(data, pos);
                continue;
            }
            const end = data.indexOf(CRLFCRLF, pos);
            if (end < 0) {
                if (n - pos > MAX_HEAD) fatal('a Runtime API response head is over 1 MB');
                this.head = Buffer.from(data.subarray(pos));
                return;
            }
            const res = parseHead(data.toString('latin1', pos, end));
            pos = end + 4;
            if (res.status >= 100 && res.status < 200) continue; // interim response
            const te = res.headers['transfer-encoding'];
            const cl = res.headers['content-length'];
            if (te !== undefined && te.toLowerCase() !== 'identity') {
                res.chunked = true;
                this.body = [];
            } else if (cl !== undefined) {
                const len = /^\d+$/.test(cl) ? Number(cl) : NaN;
                if (!(len >= 0)) fatal('bad Content-Length in a Runtime API response: ' + cl);
                if (n - pos >= len) {
                    res.body = data.subarray(pos, pos + len);
                    pos += len;
                    this.deliver(res);
                    continue;
                }
                res.length = len;
                this.body = Buffer.allocUnsafe(len);
                this.got = 0;
            } else if (res.status === 204 || res.status === 304) {
                res.body = data.subarray(0, 0);
                this.deliver(res);
                continue;
            } else {
                res.untilClose = true;
                this.body = [];
            }
            this.res = res;
        }
    }

    feedBody(data, pos) {
        const res = this.res;
        if (res.untilClose) {
            this.body.push(Buffer.from(data.subarray(pos)));
            return data.length;
        }
        if (res.chunked) {
            this.body.push(Buffer.from(data.subarray(pos)));
            const raw = this.body.length === 1 ? this.body[0] : Buffer.concat(this.body);
            this.body = [raw];
            const done = dechunk(raw);
            if (done === null) return data.length;
            this.resetParser();
            res.body = done.body;
            this.deliver(res);
            if (done.end < raw.length) this.feed(raw.subarray(done.end));
            return data.length;
        }
        const take = Math.min(res.length - this.got, data.length - pos);
        data.copy(this.body, this.got, pos, pos + take);
        this.got += take;
        if (this.got === res.length) {
            res.body = this.body;
            this.resetParser();
            this.deliver(res);
        }
        return pos + take;
    }
}

function parseHead(head) {
    const lines = head.split('\r\n');
    const m = /^HTTP\/\d+\.\d+ +(\d{3})/.exec(lines[0]);
    if (m === null) fatal('bad status line from the Runtime API: ' + JSON.stringify(lines[0]));
    const headers = {};
    for (let i = 1; i < lines.length; i++) {
        const line = lines[i];
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { status: Number(m[1]), headers, body: null };
}

// Decodes a complete chunked body at the start of `raw`: {body, end} or null if incomplete.
function dechunk(raw) {
    const parts = [];
    let pos = 0;
    for (;;) {
        const eol = raw.indexOf('\r\n', pos);
        if (eol < 0) return null;
        const size = parseInt(raw.toString('latin1', pos, eol), 16);
        if (!(size >= 0)) fatal('bad chunk size in a Runtime API response');
        if (size === 0) {
            const end = raw.indexOf(CRLFCRLF, eol - 2); // trailers end with an empty line
            if (end < 0) return null;
            return { body: Buffer.concat(parts), end: end + 4 };
        }
        if (raw.length < eol + 2 + size + 2) return null;
        parts.push(raw.subarray(eol + 2, eol + 2 + size));
        pos = eol + 2 + size + 2;
    }
}

const conn = new Connection(API);

// ---- errors, as AWS's runtime interface client shapes them

function toRapid(err) {
    try {
        if (
            isNativeError(err) ||
            (err && typeof err.name === 'string' && typeof err.message === 'string' && typeof err.stack === 'string')
        )
            return { errorType: err.name, errorMessage: err.message, trace: String(err.stack).split('\n') };
        return { errorType: typeof err, errorMessage: String(err), trace: [] };
    } catch (_) {
        return {
            errorType: 'handled',
            errorMessage:
                'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
            trace: [],
        };
    }
}

function runtimeError(kind, message, cause) {
    const e = new Error(message);
    e.name = 'Runtime.' + kind;
    if (cause !== undefined && cause !== null && typeof cause.stack === 'string') e.stack = cause.stack;
    else e.stack = e.name + ': ' + message;
    return e;
}

// Logs the error as AWS does ("ERROR\t<label>\t{json}") and posts it to `where`
// ("invocation/ID/error" or "init/error"), followed by the requests in `more` ([[text, cb]]).
function postError(where, err, label, onAnswer, more) {
    const r = toRapid(err);
    process.stderr.write(
        'ERROR\t' + label + '\t' + JSON.stringify({ errorType: r.errorType, errorMessage: r.errorMessage, stack: r.trace }) + '\n'
    );
    const body = JSON.stringify({ errorMessage: r.errorMessage, errorType: r.errorType, stackTrace: r.trace });
    const type = String(r.errorType).replace(/[^\x20-\x7e]/g, '');
    const post =
        'POST ' + BASE + where + ' HTTP/1.1\r\n' + HOST + 'Content-Type: application/json\r\nLambda-Runtime-Function-Error-Type: ' +
        type + '\r\nContent-Length: ' + Buffer.byteLength(body) + '\r\n\r\n' + body;
    conn.send([[post, onAnswer], ...more]);
}

function onPosted(res) {
    if (res.status !== 202)
        process.stderr.write('edgefn runtime: the Runtime API answered ' + res.status + ': ' + res.body.toString('utf8') + '\n');
}

// ---- invocations

let handler = null;
let current = null; // the invocation running
let waiting = null; // a finished-looking invocation waiting for the event loop to empty
let initializing = true;
let dying = false;
let lastTrace;

const FUNCTION_NAME = env.AWS_LAMBDA_FUNCTION_NAME;
const FUNCTION_VERSION = env.AWS_LAMBDA_FUNCTION_VERSION;
const MEMORY = env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
const LOG_GROUP = env.AWS_LAMBDA_LOG_GROUP_NAME;
const LOG_STREAM = env.AWS_LAMBDA_LOG_STREAM_NAME;

class Context {
    #deadline;
    #done = false;
    constructor(id, deadline, arn, clientContext, identity) {
        this.callbackWaitsForEmptyEventLoop = true;
        this.functionVersion = FUNCTION_VERSION;
        this.functionName = FUNCTION_NAME;
        this.memoryLimitInMB = MEMORY;
        this.logGroupName = LOG_GROUP;
        this.logStreamName = LOG_STREAM;
        this.clientContext = clientContext;
        this.identity = identity;
        this.invokedFunctionArn = arn;
        this.awsRequestId = id;
        this.#deadline = deadline;
    }
    getRemainingTimeInMillis() {
        return this.#deadline - Date.now();
    }
    done(err, result) {
        this.finish(err, result);
    }
    succeed(result) {
        this.finish(null, result);
    }
    fail(err) {
        this.finish(err === undefined || err === null ? 'handled' : err);
    }
    // Completes the invocation once; later calls are ignored.
    finish(err, result) {
        if (this.#done) return;
        this.#done = true;
        if (current === this) current = null;
        if (waiting === this) {
            waiting = null;
            conn.ref();
        }
        if (err !== undefined && err !== null) {
            postError('invocation/' + this.awsRequestId + '/error', err, 'Invoke Error', onPosted, [[NEXT, onNext]]);
            return;
        }
        let body;
        try {
            body = JSON.stringify(result === undefined ? null : result);
        } catch (e) {
            this.#done = false;
            return this.finish(runtimeError('MarshalError', 'Unable to stringify response body: ' + e.message));
        }
        if (body === undefined) body = 'null';
        const post =
            'POST ' + BASE + 'invocation/' + this.awsRequestId + '/response HTTP/1.1\r\n' + HOST +
            'Content-Type: application/json\r\nContent-Length: ' + Buffer.byteLength(body) + '\r\n\r\n' + body;
        conn.send([
            [post, onPosted],
            [NEXT, onNext],
        ]);
    }
    get finished() {
        return this.#done;
    }
    // Marks the invocation answered without answering it (the runtime is about to exit).
    abandon() {
        this.#done = true;
    }
}

function parseOptionalJson(text) {
    if (text === undefined || text === '') return undefined;
    try {
        return JSON.parse(text);
    } catch (_) {
        return undefined;
    }
}

function onNext(res) {
    if (res.status !== 200)
        fatal('GET invocation/next answered ' + res.status + ': ' + res.body.toString('utf8'));
    const h = res.headers;
    const id = h['lambda-runtime-aws-request-id'];
    if (id === undefined) fatal('GET invocation/next answered without Lambda-Runtime-Aws-Request-Id');
    const trace = h['lambda-runtime-trace-id'];
    if (trace !== lastTrace) {
        if (trace === undefined) delete env._X_AMZN_TRACE_ID;
        else env._X_AMZN_TRACE_ID = trace;
        lastTrace = trace;
    }
    const ctx = new Context(
        id,
        Number(h['lambda-runtime-deadline-ms']),
        h['lambda-runtime-invoked-function-arn'],
        parseOptionalJson(h['lambda-runtime-client-context']),
        parseOptionalJson(h['lambda-runtime-cognito-identity'])
    );
    current = ctx;
    let ret;
    try {
        const event = JSON.parse(res.body.toString('utf8'));
        ret = handler(event, ctx, (err, result) => ctx.finish(err, result));
    } catch (e) {
        return ctx.finish(e);
    }
    if (ret !== null && (typeof ret === 'object' || typeof ret === 'function') && typeof ret.then === 'function') {
        // Even when the callback already answered: a rejection left unhandled would kill the process.
        try {
            ret.then(
                (result) => ctx.finish(null, result),
                (err) => ctx.finish(err === undefined || err === null ? 'handled' : err)
            );
        } catch (e) {
            ctx.finish(e);
        }
    } else if (ctx.finished) {
        return;
    } else if (ret !== undefined && handler.length < 3) {
        ctx.finish(null, ret);
    } else {
        // Callback style (or legacy context.done): wait for it, and answer null if the event loop
        // empties first, as AWS does.
        waiting = ctx;
        conn.unref();
    }
}

process.on('beforeExit', () => {
    if (waiting !== null) waiting.finish(null, null);
});

// Errors outside any handler's reach: report them for the invocation running (or as the init
// error) and exit, as AWS's client does (128 for a rejection, 129 for an exception).
function onUserFatal(err, label, code) {
    if (dying) return;
    dying = true;
    const exit = () => process.exit(code);
    conn.onLost = exit;
    if (initializing) return postError('init/error', err, label, exit, []);
    if (waiting !== null) {
        waiting = null;
        conn.ref();
    }
    if (current !== null) {
        const id = current.awsRequestId;
        current.abandon();
        current = null;
        return postError('invocation/' + id + '/error', err, label, exit, []);
    }
    const r = toRapid(err);
    process.stderr.write(
        'ERROR\t' + label + '\t' + JSON.stringify({ errorType: r.errorType, errorMessage: r.errorMessage, stack: r.trace }) + '\n'
    );
    exit();
}

process.on('uncaughtException', (err) => onUserFatal(err, 'Uncaught Exception', 129));
process.on('unhandledRejection', (reason) => {
    const e = new Error(isNativeError(reason) ? reason.name + ': ' + reason.message : String(reason));
    e.name = 'Runtime.UnhandledPromiseRejection';
    if (isNativeError(reason)) e.stack = reason.stack;
    onUserFatal(e, 'Unhandled Promise Rejection', 128);
});

// ---- loading the handler, as AWS's client resolves it

// Whether the nearest package.json above `dir` says "type": "module" (Node's package scope).
function inModulePackage(dir) {
    for (;;) {
        if (dir.endsWith('/node_modules')) return false;
        const pj = path.join(dir, 'package.json');
        if (fs.existsSync(pj)) {
            try {
                return JSON.parse(fs.readFileSync(pj, 'utf8')).type === 'module';
            } catch (_) {
                return false;
            }
        }
        const up = path.dirname(dir);
        if (up === dir) return false;
        dir = up;
    }
}

// {exports} for a CommonJS module, or null when it must be loaded with import() (an ES module).
function loadModuleSync(file) {
    if (file.endsWith('.mjs') || (file.endsWith('.js') && inModulePackage(path.dirname(file)))) return null;
    try {
        return { exports: require(file) };
    } catch (e) {
        if (e && (e.code === 'ERR_REQUIRE_ESM' || e.code === 'ERR_REQUIRE_ASYNC_MODULE')) return null;
        throw e;
    }
}

function classifyLoadError(e) {
    if (e instanceof SyntaxError) return runtimeError('UserCodeSyntaxError', String(e), e);
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND'))
        return runtimeError('ImportModuleError', String(e), e);
    return e;
}

function resolveHandler(exports, full, handlerPath) {
    let fn = exports;
    for (const key of handlerPath.split('.')) {
        if (fn === undefined || fn === null) break;
        fn = fn[key];
    }
    if (fn === undefined || fn === null) throw runtimeError('HandlerNotFound', full + ' is undefined or not exported');
    if (typeof fn !== 'function') throw runtimeError('HandlerNotFound', full + ' is not a function');
    return fn;
}

// Returns the handler, or a promise of it when the module is an ES module.
function loadHandler() {
    const full = env._HANDLER || '';
    const root = env.LAMBDA_TASK_ROOT || process.cwd();
    if (full.includes('..'))
        throw runtimeError(
            'MalformedHandlerName',
            "'../' is not a valid handler name. Use absolute paths when specifying root directories in handler names."
        );
    const base = path.basename(full);
    const moduleRoot = full.slice(0, full.length - base.length);
    const m = /^([^.]*)\.(.*)$/.exec(base);
    if (m === null || m[2] === '') throw runtimeError('MalformedHandlerName', 'Bad handler ' + full);
    const stem = path.resolve(root, moduleRoot, m[1]);
    let file = null;
    for (const ext of ['.js', '.mjs', '.cjs']) {
        if (fs.existsSync(stem + ext)) {
            file = stem + ext;
            break;
        }
    }
    if (file === null)
        throw runtimeError('ImportModuleError', "Error: Cannot find module '" + m[1] + "'\nRequire stack:\n- " + __filename);
    let loaded;
    try {
        loaded = loadModuleSync(file);
    } catch (e) {
        throw classifyLoadError(e);
    }
    if (loaded !== null) return resolveHandler(loaded.exports, full, m[2]);
    return import(require('url').pathToFileURL(file).href).then(
        (ns) => resolveHandler(ns, full, m[2]),
        (e) => {
            throw classifyLoadError(e);
        }
    );
}

function start(fn) {
    handler = fn;
    initializing = false;
    conn.send([[NEXT, onNext]]);
}

function initFailed(err) {
    if (dying) return;
    dying = true;
    conn.onLost = () => process.exit(1);
    postError('init/error', err, 'Uncaught Exception', () => process.exit(1), []);
}

let loaded;
try {
    loaded = loadHandler();
} catch (e) {
    loaded = undefined;
    initFailed(e);
}
if (typeof loaded === 'function') start(loaded);
else if (loaded !== undefined) loaded.then(start, initFailed);
