// bench/node.sh rtt: fn/index.js, timing itself. Every 1000 invocations it logs one line
//   HANDLER-TIME n=1000 median_us=... mean_us=...
// with the handler's own time per invocation: from its entry to its return (hrtime).
const N = 1000;
const times = new Float64Array(N);
let n = 0;

function record(t0) {
    times[n++] = Number(process.hrtime.bigint() - t0) / 1000;
    if (n === N) {
        const sorted = Array.from(times).sort((a, b) => a - b);
        let sum = 0;
        for (const t of times) sum += t;
        console.log('HANDLER-TIME n=' + N + ' median_us=' + sorted[N >> 1].toFixed(2) + ' mean_us=' + (sum / N).toFixed(2));
        n = 0;
    }
}

exports.handler = async (event) => {
    const t0 = process.hrtime.bigint();
    const request = event.Records[0].cf.request;
    request.headers['x-hook'] = [{ key: 'X-Hook', value: '1' }];
    record(t0);
    return request;
};
