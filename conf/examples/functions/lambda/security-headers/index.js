// Lambda@Edge, origin-response: security headers on every response, as in AWS's
// "Adding HTTP security headers" example. Runs unchanged on AWS and on edgefn
// (runtime: nodejs, code: functions/lambda/security-headers/).
'use strict';

const securityHeaders = {
    'strict-transport-security': 'max-age=63072000; includeSubdomains; preload',
    'content-security-policy': "default-src 'self'; img-src 'self' data:; object-src 'none'",
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
};

// Header keys as HTTP writes them: "X-Frame-Options"
const key = (name) => name.replace(/(^|-)([a-z])/g, (m, dash, c) => dash + c.toUpperCase());

exports.handler = async (event) => {
    const response = event.Records[0].cf.response;
    for (const [name, value] of Object.entries(securityHeaders))
        response.headers[name] = [{ key: key(name), value }];
    return response;
};
